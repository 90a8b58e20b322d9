/* Heap leaks of known sizes from known functions, for the heap section's
 * leak report (what valgrind --leak-check=full reports for the same modes).
 * Usage: heap_leaks MODE [STATUS]     exits STATUS (default 0)
 *   simple     one 100-byte malloc leaked in leak_one
 *   stacks     111, 222 and 333 bytes leaked by leak_from_parser,
 *              leak_from_cache and leak_from_network (three stacks)
 *   loop       10 x 32 bytes leaked in a loop by leak_in_loop (one stack:
 *              320 bytes in 10 blocks)
 *   realloc    grow_buffer: malloc 10, realloc to 100, realloc to 1000; the
 *              1000-byte block leaked (allocated by realloc)
 *   calloc     calloc(10, 20) leaked in leak_zeroed (200 bytes)
 *   indirect   build_list: a 24-byte list head {first, last, count} holding
 *              two 40-byte nodes (allocated in list_push); the head pointer
 *              is lost: 24 bytes definitely lost, 80 bytes in 2 blocks
 *              indirectly lost
 *   reachable  keep_global: a 555-byte block kept in the global `kept`:
 *              still reachable, not a leak
 *   identify   the three classes, each block's address printed so the
 *              report can be checked to name it: "lost 0x..." a 100-byte
 *              block leaked in leak_identified (definitely lost), "middle
 *              0x..." a 64-byte block in interior_only that only the global
 *              `middle` points into, 24 bytes in (possibly lost), "kept
 *              0x..." keep_global's 555 bytes (still reachable)
 *   clean      every block freed, after a churn of 10000 allocations of
 *              varied sizes through the whole allocation API
 *   wait       prints "ready", reads stdin to its end, then leaks like simple
 * Lines marked "@alloc MODE" are the allocation calls the report must name.
 *
 * A leak is only a leak if no copy of the pointer survives where a leak scan
 * looks (globals, thread stacks, registers). Each leaking function is
 * noinline and keeps the pointer in its own frame only; it runs below
 * run_mode's frame, and after it returns main scrubs the dead stack below
 * (and the scratch registers), so nothing is left even at -O0. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scrub.h"

struct node {
	struct node *next;
	char payload[32];
};                                  /* 40 bytes */

struct list {
	struct node *first, *last;
	long count;
};                                  /* 24 bytes */

void *kept;                         /* the reachable block */
char *middle;                       /* points 24 bytes into a block */

/* The address as text, written with write(2): no copy of it stays in
 * stdio's buffers as a pointer. */
__attribute__((noinline)) static void say(const char *what, const void *p)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s %p\n", what, p);
	if (write(1, line, (size_t)n) != n)
		abort();
}

__attribute__((noinline)) static void leak_identified(void)
{
	char *p = malloc(100); /* @alloc identify */
	memset(p, 'i', 100);
	say("lost", p);
}

__attribute__((noinline)) static void interior_only(void)
{
	char *p = malloc(64); /* @alloc middle */
	memset(p, 'm', 64);
	middle = p + 24;
	say("middle", p);
}

__attribute__((noinline)) static void leak_one(void)
{
	char *p = malloc(100); /* @alloc simple */
	memset(p, 'a', 100);
}

__attribute__((noinline)) static void leak_from_parser(void)
{
	char *p = malloc(111); /* @alloc parser */
	memset(p, 'p', 111);
}

__attribute__((noinline)) static void leak_from_cache(void)
{
	char *p = malloc(222); /* @alloc cache */
	memset(p, 'c', 222);
}

__attribute__((noinline)) static void leak_from_network(void)
{
	char *p = malloc(333); /* @alloc network */
	memset(p, 'n', 333);
}

__attribute__((noinline)) static void leak_in_loop(void)
{
	for (int i = 0; i < 10; i++) {
		char *p = malloc(32); /* @alloc loop */
		memset(p, '0' + i, 32);
	}
}

__attribute__((noinline)) static void grow_buffer(void)
{
	char *p = malloc(10);
	memset(p, 'r', 10);
	p = realloc(p, 100);
	memset(p, 'r', 100);
	p = realloc(p, 1000); /* @alloc realloc */
	memset(p, 'r', 1000);
}

__attribute__((noinline)) static void leak_zeroed(void)
{
	char *p = calloc(10, 20); /* @alloc calloc */
	p[0] = 'z';
}

__attribute__((noinline)) static void list_push(struct list *l, char tag)
{
	struct node *n = malloc(sizeof(*n)); /* @alloc node */
	n->next = NULL;
	memset(n->payload, tag, sizeof(n->payload));
	if (l->last)
		l->last->next = n;
	else
		l->first = n;
	l->last = n;
	l->count++;
}

__attribute__((noinline)) static void build_list(void)
{
	struct list *l = malloc(sizeof(*l)); /* @alloc head */
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < 2; i++)  /* one call site: the nodes share a stack */
		list_push(l, (char)('x' + i));
}

__attribute__((noinline)) static void keep_global(void)
{
	kept = malloc(555); /* @alloc reachable */
	memset(kept, 'k', 555);
}

/* Allocates and frees through every function of the API, 10000 allocations
 * of 1 byte to 256 KiB (the large ones mmap'd by glibc); all freed. */
__attribute__((noinline)) static void churn(void)
{
	enum { SLOTS = 64, N = 10000 };
	void *slot[SLOTS] = { 0 };
	unsigned seed = 12345;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned r = seed >> 8;
		int k = (int)(r % SLOTS);
		size_t size = 1 + (r >> 6) % 2048;
		if (i % 1000 == 999)
			size = 256 * 1024;
		if (slot[k] && i % 7 == 3) {
			/* grow or shrink in place of an allocation */
			void *q = realloc(slot[k], size);
			if (!q)
				abort();
			slot[k] = q;
			memset(q, 1, size);
			continue;
		}
		free(slot[k]);
		void *p = NULL;
		switch (i % 10) {
		case 0: p = calloc(1, size); break;
		case 1: p = realloc(NULL, size); break;
		case 2: p = reallocarray(NULL, size, 2); size *= 2; break;
		case 3: if (posix_memalign(&p, 64, size)) p = NULL; break;
		case 4: p = aligned_alloc(32, (size + 31) & ~(size_t)31); break;
		case 5: p = memalign(128, size); break;
		case 6: p = valloc(size); break;
		default: p = malloc(size); break;
		}
		if (!p)
			abort();
		memset(p, 2, size);
		slot[k] = p;
	}
	for (int k = 0; k < SLOTS; k++)
		free(slot[k]);
	free(NULL);                 /* not an error */
	char *s = strdup("a string the C library allocates");
	free(s);
	void *z = malloc(64);
	if (realloc(z, 0) != NULL)  /* glibc: frees z, returns NULL */
		abort();
}

__attribute__((noinline)) static int run_mode(const char *mode)
{
	if (strcmp(mode, "simple") == 0) {
		leak_one();
	} else if (strcmp(mode, "stacks") == 0) {
		leak_from_parser();
		leak_from_cache();
		leak_from_network();
	} else if (strcmp(mode, "loop") == 0) {
		leak_in_loop();
	} else if (strcmp(mode, "realloc") == 0) {
		grow_buffer();
	} else if (strcmp(mode, "calloc") == 0) {
		leak_zeroed();
	} else if (strcmp(mode, "indirect") == 0) {
		build_list();
	} else if (strcmp(mode, "reachable") == 0) {
		keep_global();
	} else if (strcmp(mode, "identify") == 0) {
		leak_identified();
		interior_only();
		keep_global();
		say("kept", kept);
	} else if (strcmp(mode, "clean") == 0) {
		churn();
		char *p = malloc(100);
		memset(p, 'f', 100);
		free(p);
	} else if (strcmp(mode, "wait") == 0) {
		char buf[256];
		puts("ready");
		fflush(stdout);
		while (read(0, buf, sizeof(buf)) > 0)
			;
		leak_one();
	} else {
		fprintf(stderr, "heap_leaks: unknown mode %s\n", mode);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: heap_leaks simple|stacks|loop|realloc|calloc|indirect|reachable|identify|clean|wait [STATUS]\n");
		return 2;
	}
	if (run_mode(argv[1]) != 0)
		return 2;
	scrub();
	return argc > 2 ? atoi(argv[2]) : 0;
}
