/* Writes past a block's end that do not crash (#11): the preload's
 * redzones find them when the block is freed or reallocated.
 * Usage: heap_overflow MODE
 *   past4     malloc(8), 12 bytes written (4 past the end), freed
 *   onepast   malloc(10), one byte written at [10], freed
 *   realloc   malloc(16), 2 bytes written at [16..17], then realloc'd to 64
 *   calloc    calloc(3, 5), 1 byte written at [15], freed
 *   thread    a thread writes 3 bytes past a 24-byte block main allocated;
 *             main frees it after the join
 *   uaf       malloc(32), freed, then 2 bytes written into it at [5..6]
 *             (a write after free: the quarantine's fill changed)
 *   uaf_thread  a thread writes 1 byte into a 40-byte block main freed
 *   live      malloc(24), 2 bytes written at [25..26], never freed (kept
 *             in a global): found at exit
 *   live_many 3000 blocks kept live, the 1701st (88 bytes) written 3 bytes
 *             past its end: found at exit among the others (etrace reads
 *             the redzones in batches)
 *   whole     malloc(10), 14 bytes written past its end (all of glibc's
 *             slack for it, the redzone's tag too), freed
 *   exact     malloc(40) (a size glibc's chunks fit exactly), one byte
 *             written at [40], freed
 *   big       malloc(300000) (a block glibc maps), 3 bytes written at
 *             [300000..300002], freed
 *   clean     every block written exactly to its end, a block grown to its
 *             malloc_usable_size and filled, strdup, realloc chains,
 *             posix_memalign and aligned_alloc blocks: no error
 * Prints "done" and exits 0. */
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wuse-after-free"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

__attribute__((noinline)) static void past4(void)
{
	char *b = malloc(8); /* @alloc past4 */
	memset(b, 'x', 12);
	free(b); /* @free past4 */
}

__attribute__((noinline)) static void onepast(void)
{
	char *b = malloc(10); /* @alloc onepast */
	memset(b, 'y', 10);
	b[10] = 0;
	free(b);
}

__attribute__((noinline)) static void grow(void)
{
	char *b = malloc(16); /* @alloc realloc */
	memset(b, 'z', 18);
	b = realloc(b, 64); /* @realloc */
	free(b);
}

__attribute__((noinline)) static void zeroed(void)
{
	char *b = calloc(3, 5); /* @alloc calloc */
	b[15] = 1;
	free(b);
}

static char *shared;

static void *writer(void *arg)
{
	(void)arg;
	memcpy(shared + 24, "abc", 3);
	return NULL;
}

__attribute__((noinline)) static void threaded(void)
{
	shared = malloc(24); /* @alloc thread */
	pthread_t t;
	pthread_create(&t, NULL, writer, NULL);
	pthread_join(t, NULL);
	free(shared); /* @free thread */
}

__attribute__((noinline)) static void uaf(void)
{
	char *volatile b = malloc(32); /* @alloc uaf */
	strcpy(b, "hello");
	free(b); /* @free uaf */
	b[5] = '!';
	b[6] = '?';
}

__attribute__((noinline)) static void whole(void)
{
	char *b = malloc(10); /* @alloc whole */
	memset(b, 'w', 24);
	free(b);
}

__attribute__((noinline)) static void exact(void)
{
	char *b = malloc(40); /* @alloc exact */
	memset(b, 'e', 41);
	free(b);
}

__attribute__((noinline)) static void big(void)
{
	char *b = malloc(300000); /* @alloc big */
	memset(b, 'b', 300003);
	free(b);
}

static char *kept;

__attribute__((noinline)) static void live(void)
{
	kept = malloc(24); /* @alloc live */
	kept[25] = 1;
	kept[26] = 2;
}

static char *many[3000];

__attribute__((noinline)) static void live_many(void)
{
	for (int i = 0; i < 3000; i++)
		many[i] = malloc(40 + (size_t)(i % 7) * 8); /* @alloc many */
	memset(many[1700], 'm', 88 + 3); /* 1700 % 7 == 6: an 88-byte block */
}

static void *late_writer(void *arg)
{
	((volatile char *)arg)[39] = 1;
	return NULL;
}

__attribute__((noinline)) static void uaf_thread(void)
{
	char *b = malloc(40); /* @alloc uaf_thread */
	free(b); /* @free uaf_thread */
	pthread_t t;
	pthread_create(&t, NULL, late_writer, b);
	pthread_join(t, NULL);
}

__attribute__((noinline)) static void clean(void)
{
	for (size_t n = 1; n < 300; n += 7) {
		char *b = malloc(n);
		memset(b, 'c', n);
		b = realloc(b, n * 3);
		memset(b, 'd', n * 3);
		free(b);
	}
	char *u = malloc(20);
	size_t un = malloc_usable_size(u);
	memset(u, 'u', un);   /* all the program was told it may use */
	free(u);
	char *s = strdup("a string of some length");
	free(s);
	void *a = NULL;
	if (posix_memalign(&a, 64, 100) == 0)
		memset(a, 1, 100);
	free(a);
	char *al = aligned_alloc(32, 64);
	memset(al, 2, 64);
	free(al);
	char *z = calloc(7, 9);
	memset(z, 3, 63);
	free(z);
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "clean";
	if (!strcmp(m, "past4"))
		past4();
	else if (!strcmp(m, "onepast"))
		onepast();
	else if (!strcmp(m, "realloc"))
		grow();
	else if (!strcmp(m, "calloc"))
		zeroed();
	else if (!strcmp(m, "thread"))
		threaded();
	else if (!strcmp(m, "uaf"))
		uaf();
	else if (!strcmp(m, "uaf_thread"))
		uaf_thread();
	else if (!strcmp(m, "live"))
		live();
	else if (!strcmp(m, "live_many"))
		live_many();
	else if (!strcmp(m, "whole"))
		whole();
	else if (!strcmp(m, "exact"))
		exact();
	else if (!strcmp(m, "big"))
		big();
	else if (!strcmp(m, "clean"))
		clean();
	else
		return 2;
	puts("done");
	return 0;
}
