/* One allocation call site reached through two callers at the same depth:
 * the malloc in leaf() has the same return address and the same frame
 * for both, only the caller's frame differs. The recorder keeps each
 * thread's last walk of a call site and reuses its stack when the frames
 * read again are the same: these stacks must never be taken for each
 * other. Usage: heap_sites [MODE]
 *   mixed  (default) 30 blocks of 24 bytes leaked in the order a b b a b
 *          b ...: via_a's 10 (240 bytes) and via_b's 20 (480 bytes), two
 *          leaks with their own stacks
 *   fork   mixed, with a fork after the 29th block (via_b's): the child
 *          goes on with the same loop, first through via_b again (the
 *          same frames as the parent's last call, but its own ring: a
 *          stack id kept from the parent's ring means nothing there, and
 *          a malloc+free of its own comes first, so that the child's ids
 *          are not the parent's by chance), to 36
 *          blocks: it inherited 10 + 19 (its parent's, not its leaks)
 *          and leaks 2 + 5 of its own (48 bytes in 2 blocks through
 *          via_a, 120 in 5 through via_b); the parent waits and prints
 *          "child PID"
 *   many   40 call sites in one function (many, its block K asking for
 *          8 K bytes, K = 1 .. 40: the same frame and callers, only the
 *          return address differs), in turn 3 times: more sites than a
 *          thread's memory of them holds, so they keep taking each
 *          other's entries; each leaks 3 blocks through its own stack
 *   signals  one thread, malloc+free pairs in a loop while a profiling
 *          timer's handler makes malloc+free pairs of its own (often
 *          inside a hook: those go unrecorded; outside, the handler is a
 *          second writer of the ring in a process with one thread); no
 *          leak, no error; prints "handled N"
 * Pointers to the leaked blocks are not kept; the stack is scrubbed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scrub.h"

__attribute__((noinline)) static char *leaf(void)
{
	char *p = malloc(24); /* @alloc leaf */
	memset(p, 's', 24);
	return p;
}

/* the same frame size: the hook sees the same frame pointer for both */
__attribute__((noinline)) static char *via_a(void)
{
	char *p = leaf(); /* @call a */
	return p;
}

__attribute__((noinline)) static char *via_b(void)
{
	char *p = leaf(); /* @call b */
	return p;
}

#define SITE(k) (p = malloc(8 * (k)), p[0] = (char)(k));

__attribute__((noinline)) static void many(void)
{
	char *p;
	for (int round = 0; round < 3; round++) {
		SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7) SITE(8)
		SITE(9) SITE(10) SITE(11) SITE(12) SITE(13) SITE(14) SITE(15) SITE(16)
		SITE(17) SITE(18) SITE(19) SITE(20) SITE(21) SITE(22) SITE(23) SITE(24)
		SITE(25) SITE(26) SITE(27) SITE(28) SITE(29) SITE(30) SITE(31) SITE(32)
		SITE(33) SITE(34) SITE(35) SITE(36) SITE(37) SITE(38) SITE(39) SITE(40)
	}
}

static volatile sig_atomic_t handled;

static void on_prof(int sig)
{
	(void)sig;
	for (int i = 0; i < 4; i++) {
		char *p = malloc(16 + 8 * i);
		p[0] = (char)i;
		free(p);
	}
	handled++;
}

__attribute__((noinline)) static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_prof };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_PROF, &it, NULL);
	for (int i = 0; i < 100000 || handled < 5; i++) {
		char *p = malloc(1 + i % 200);
		p[0] = (char)i;
		free(p);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	printf("handled %d\n", (int)handled);
}

static pid_t child = -1;

/* 0 in a forked child */
__attribute__((noinline)) static int mixed(int fork_after)
{
	int n = 30;
	for (int i = 0; i < n; i++) {
		char *p = i % 3 == 0 ? via_a() : via_b();
		p[0] = (char)i;
		if (i == fork_after) {
			child = fork();
			if (child < 0)
				exit(1);
			if (child == 0) {
				/* a stack of the child's own first: its ids are
				 * not its parent's */
				free(malloc(8));
				n = 36;
			}
		}
	}
	return child != 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mixed";
	if (strcmp(mode, "signals") == 0) {
		signals();
		exit(0);
	}
	if (strcmp(mode, "many") == 0) {
		many();
		scrub();
		exit(0);
	}
	int parent = mixed(strcmp(mode, "fork") == 0 ? 28 : -1);
	scrub();
	/* exit() here, not a return through the C runtime's frames (a copy
	 * of the last block's pointer survived there) */
	if (!parent || child < 0)
		exit(0);
	int st;
	waitpid(child, &st, 0);
	printf("child %d\n", (int)child);
	exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1);
}
