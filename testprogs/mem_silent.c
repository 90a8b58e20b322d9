/* Memory errors that do not crash (#11), the silent cases of valgrind's
 * memcheck tests and LLVM's ASan tests: each goes on as if nothing were
 * wrong without etrace's checks.
 * Usage: mem_silent MODE
 *   issue       issue #11's program: a 16-byte block read after its free
 *               (the byte printed), then 12 bytes written into an 8-byte
 *               block (4 past its end), freed
 *   uaf_write   malloc(48), freed, 4 bytes written at [8..11]
 *   uaf_read    malloc(24), freed, a byte read at [3] (printed)
 *   onepast     malloc(16), one byte written at [16], freed
 *   thread_uaf  a thread frees a 64-byte block main allocated; main then
 *               writes a byte at [0] after the join
 *   running_uaf a thread frees a 40-byte block main allocated and stays
 *               blocked; main writes a byte at [2] and returns with the
 *               thread still running (its quarantine is checked at exit)
 *   double_free malloc(24) freed twice (glibc aborts; so does a guarded block)
 *   aligned F   4096 bytes aligned to a page from F (memalign,
 *               posix_memalign, aligned_alloc, valloc), one byte written
 *               at [4096], freed (exits 3 when the block is not aligned)
 *   uninit_ptr  a node from malloc whose next pointer was never written:
 *               next->v read (crashes with --heap-check=all, whose fill
 *               of new blocks makes that pointer 0xbebebebebebebebe)
 *   freed_ptr   a node freed, then its next pointer followed (the
 *               quarantine's fill makes it 0xfdfdfdfdfdfdfdfd)
 *   uaf_far     malloc(1000), freed, 2 bytes written at [900..901]
 *   clean       blocks used exactly to their ends, reallocs, strdup: no error
 * Prints "done" and exits 0 (unless a guard page stops it first). */
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Warray-bounds"
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void issue(void)
{
	char *buf = malloc(16); /* @alloc issue_uaf */
	strcpy(buf, "hello");
	free(buf); /* @free issue_uaf */
	printf("%c\n", ((volatile char *)buf)[0]); /* @read issue_uaf */
	char *b2 = malloc(8); /* @alloc issue_ovf */
	memset(b2, 'x', 12); /* @write issue_ovf */
	free(b2); /* @free issue_ovf */
}

__attribute__((noinline)) static void uaf_write(void)
{
	char *volatile b = malloc(48); /* @alloc uaf_write */
	free(b); /* @free uaf_write */
	memcpy(b + 8, "abcd", 4); /* @write uaf_write */
}

__attribute__((noinline)) static void uaf_read(void)
{
	char *volatile b = malloc(24); /* @alloc uaf_read */
	memset(b, 'r', 24);
	free(b); /* @free uaf_read */
	printf("%d\n", ((volatile char *)b)[3] != 0); /* @read uaf_read */
}

__attribute__((noinline)) static void onepast(void)
{
	char *volatile b = malloc(16); /* @alloc onepast */
	memset(b, 'o', 16);
	((volatile char *)b)[16] = 0; /* @write onepast */
	free(b); /* @free onepast */
}

static void *dropper(void *arg)
{
	free(arg); /* @free thread_uaf */
	return NULL;
}

__attribute__((noinline)) static void thread_uaf(void)
{
	char *b = malloc(64); /* @alloc thread_uaf */
	pthread_t t;
	pthread_create(&t, NULL, dropper, b);
	pthread_join(t, NULL);
	((volatile char *)b)[0] = 'T'; /* @write thread_uaf */
}

__attribute__((noinline)) static void release_twice(char *b)
{
	free(b); /* @free1 double_free */
	free(b); /* @free2 double_free */
}

__attribute__((noinline)) static void double_free(void)
{
	char *b = malloc(24); /* @alloc double_free */
	b[0] = 'd';
	release_twice(b);
}

__attribute__((noinline)) static void past_page(char *p)
{
	((volatile char *)p)[4096] = 'A'; /* @write aligned */
}

__attribute__((noinline)) static int aligned(const char *f)
{
	char *p = NULL;
	if (!strcmp(f, "memalign"))
		p = memalign(4096, 4096); /* @alloc memalign */
	else if (!strcmp(f, "posix_memalign") && posix_memalign((void **)&p, 4096, 4096) != 0) /* @alloc posix_memalign */
		p = NULL;
	else if (!strcmp(f, "aligned_alloc"))
		p = aligned_alloc(4096, 4096); /* @alloc aligned_alloc */
	else if (!strcmp(f, "valloc"))
		p = valloc(4096); /* @alloc valloc */
	if (!p || (uintptr_t)p % 4096)
		return 3;
	memset(p, 'a', 4096);
	past_page(p);
	free(p);
	return 0;
}

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t freed = PTHREAD_MUTEX_INITIALIZER;

static void *holder(void *arg)
{
	free(arg); /* @free running_uaf */
	pthread_mutex_unlock(&freed);
	pthread_mutex_lock(&hold);   /* never unlocked: still running at exit */
	return NULL;
}

__attribute__((noinline)) static void running_uaf(void)
{
	char *b = malloc(40); /* @alloc running_uaf */
	pthread_t t;
	pthread_mutex_lock(&hold);
	pthread_mutex_lock(&freed);
	pthread_create(&t, NULL, holder, b);
	pthread_mutex_lock(&freed);   /* the thread has freed b */
	((volatile char *)b)[2] = 'R'; /* @write running_uaf */
}

__attribute__((noinline)) static void clean(void)
{
	for (size_t n = 1; n < 200; n += 5) {
		char *b = malloc(n);
		memset(b, 'c', n);
		b = realloc(b, n * 2);
		memset(b, 'd', n * 2);
		free(b);
	}
	char *s = strdup("nothing wrong here");
	printf("%zu\n", strlen(s));
	free(s);
	char *z = calloc(5, 7);
	memset(z, 1, 35);
	free(z);
}

__attribute__((noinline)) static void uaf_far(void)
{
	char *volatile b = malloc(1000); /* @alloc uaf_far */
	free(b); /* @free uaf_far */
	memcpy(b + 900, "zz", 2); /* @write uaf_far */
}

struct node {
	struct node *next;
	int v;
};

static struct node last = { NULL, 7 };

__attribute__((noinline)) static void uninit_ptr(void)
{
	struct node *volatile n = malloc(sizeof(*n)); /* @alloc uninit_ptr */
	n->v = 1;
	printf("%d\n", n->next->v); /* @read uninit_ptr */
	free(n);
}

__attribute__((noinline)) static void freed_ptr(void)
{
	struct node *volatile n = malloc(sizeof(*n)); /* @alloc freed_ptr */
	n->next = &last;
	free(n); /* @free freed_ptr */
	printf("%d\n", n->next->v); /* @read freed_ptr */
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "clean";
	if (!strcmp(m, "issue"))
		issue();
	else if (!strcmp(m, "uaf_write"))
		uaf_write();
	else if (!strcmp(m, "uaf_read"))
		uaf_read();
	else if (!strcmp(m, "onepast"))
		onepast();
	else if (!strcmp(m, "thread_uaf"))
		thread_uaf();
	else if (!strcmp(m, "aligned") && argc > 2) {
		if (aligned(argv[2]))
			return 3;
	} else if (!strcmp(m, "double_free"))
		double_free();
	else if (!strcmp(m, "running_uaf"))
		running_uaf();
	else if (!strcmp(m, "uaf_far"))
		uaf_far();
	else if (!strcmp(m, "uninit_ptr"))
		uninit_ptr();
	else if (!strcmp(m, "freed_ptr"))
		freed_ptr();
	else if (!strcmp(m, "clean"))
		clean();
	else
		return 2;
	puts("done");
	return 0;
}
