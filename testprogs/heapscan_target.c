/*
 * A target for the leak classifier test (tests/unit/test_heapscan.c): blocks
 * held in a global, in a local of main, in a local of a second thread, in
 * __thread variables of both threads, one leaked block and a leaked list
 * (head -> n1 -> n2). Writes the addresses and its fs base (10 u64) to the
 * fd given as argv[1], then stops itself (SIGSTOP) with the thread blocked.
 * All sizes are multiples of 16 so glibc's pointers to the next chunk's
 * header (main_arena.top, bins) are one past a block's end.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { M_GLOBAL, M_LOCAL, M_THREAD, M_TLS_MAIN, M_TLS_THREAD, M_LEAK, M_HEAD, M_N1, M_N2,
       M_FSBASE, M_COUNT };

struct node {
	struct node *next;
	char pad[40];
};

void *g_keep;
static __thread void *t_keep;
static int block_fds[2], ready_fds[2];

static void *thread_main(void *arg)
{
	uint64_t *m = arg;
	void *volatile local = malloc(304);
	t_keep = malloc(208);
	m[M_THREAD] = (uintptr_t)local;
	m[M_TLS_THREAD] = (uintptr_t)t_keep;
	char c = 1;
	if (write(ready_fds[1], &c, 1) != 1)
		return NULL;
	while (read(block_fds[0], &c, 1) < 0)   /* blocks until the end */
		;
	return (void *)local;
}

static __attribute__((noinline)) void make_leaks(uint64_t *m)
{
	void *volatile p = malloc(160);
	m[M_LEAK] = (uintptr_t)p;
	p = NULL;
	struct node *volatile head = malloc(sizeof(struct node));
	struct node *volatile n1 = malloc(sizeof(struct node));
	struct node *volatile n2 = malloc(sizeof(struct node));
	head->next = n1;
	n1->next = n2;
	n2->next = NULL;
	m[M_HEAD] = (uintptr_t)head;
	m[M_N1] = (uintptr_t)n1;
	m[M_N2] = (uintptr_t)n2;
	head = n1 = n2 = NULL;
}

/* Clears the stack below the caller, where stale copies of pointers
 * (make_leaks's frame, write's arguments) would stay. */
static __attribute__((noinline)) void scrub(void)
{
	volatile char buf[65536];
	memset((char *)buf, 0, sizeof(buf));
}

static uint64_t fs_base(void)
{
	void *tp = NULL;
#if defined(__x86_64__)
	__asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
#elif defined(__aarch64__)
	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
#endif
	return (uintptr_t)tp;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int fd = atoi(argv[1]);
	uint64_t *m = calloc(M_COUNT, sizeof(*m));   /* freed before the stop */
	if (!m || pipe(block_fds) < 0 || pipe(ready_fds) < 0)
		return 1;
	g_keep = malloc(96);
	void *volatile local = malloc(112);
	t_keep = malloc(128);
	m[M_GLOBAL] = (uintptr_t)g_keep;
	m[M_LOCAL] = (uintptr_t)local;
	m[M_TLS_MAIN] = (uintptr_t)t_keep;
	m[M_FSBASE] = fs_base();

	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, m) != 0)
		return 1;
	char c;
	if (read(ready_fds[0], &c, 1) != 1)
		return 1;
	make_leaks(m);
	if (write(fd, m, M_COUNT * sizeof(*m)) != (ssize_t)(M_COUNT * sizeof(*m)))
		return 1;
	memset(m, 0, M_COUNT * sizeof(*m));
	free(m);
	m = NULL;
	scrub();
	kill(getpid(), SIGSTOP);
	return local == NULL;
}
