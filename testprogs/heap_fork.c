/* A forked child inherits its parent's heap: freeing the parent's blocks
 * there is no error, and a leak in the child is the child's.
 * Usage: heap_fork [MODE]
 *   frees           (default) make_blocks: the parent mallocs 10 blocks of
 *                   16, 32, ... 160 bytes and forks; the child frees all 10
 *                   and exits 0; the parent waits, frees its own copies,
 *                   exits 0. No errors, no leaks in either process.
 *   child_leaks     the same, and the child also leaks a 99-byte block of
 *                   its own (child_leak) before it exits: a leak of the
 *                   child's pid only
 *   inherited_leak  the child frees the first 9 blocks and drops the last
 *                   (160 bytes, allocated by the parent in make_blocks
 *                   before the fork): the parent's block, not a leak of
 *                   the child (counted as dropped at fork); the parent
 *                   frees all 10.
 *   rawclone        child_leaks, the child made by clone() itself (no
 *                   CLONE_VM: a process, but no pthread_atfork handler
 *                   runs in it), running on a stack of its own
 * The parent prints "child PID" and "child status N" after the wait
 * (nothing before the fork: no stdio buffer is inherited). Pointers to the
 * leaked blocks are cleared and the dead stack scrubbed before exit. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scrub.h"

#define NBLOCKS 10

static char *blocks[NBLOCKS];

__attribute__((noinline)) static void make_blocks(void)
{
	for (int i = 0; i < NBLOCKS; i++) {
		blocks[i] = malloc(16 * (size_t)(i + 1)); /* @alloc parent */
		memset(blocks[i], 'a' + i, 16 * (size_t)(i + 1));
	}
}

__attribute__((noinline)) static void free_blocks(int n)
{
	for (int i = 0; i < n; i++)
		free(blocks[i]); /* @free */
	for (int i = 0; i < NBLOCKS; i++)
		blocks[i] = NULL;
}

__attribute__((noinline)) static void child_leak(void)
{
	char *p = malloc(99); /* @alloc child */
	memset(p, 'c', 99);
}

__attribute__((noinline)) static void child(const char *mode)
{
	if (strcmp(mode, "inherited_leak") == 0) {
		free_blocks(NBLOCKS - 1);
	} else {
		free_blocks(NBLOCKS);
		if (strcmp(mode, "child_leaks") == 0)
			child_leak();
	}
}

static int cloned(void *arg)
{
	(void)arg;
	child("child_leaks");
	scrub();
	exit(0);
}

static char clone_stack[256 * 1024] __attribute__((aligned(16)));

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "frees";
	if (strcmp(mode, "frees") != 0 && strcmp(mode, "child_leaks") != 0 &&
	    strcmp(mode, "inherited_leak") != 0 && strcmp(mode, "rawclone") != 0) {
		fprintf(stderr, "usage: heap_fork [frees|child_leaks|inherited_leak|rawclone]\n");
		return 2;
	}
	make_blocks();
	int raw = strcmp(mode, "rawclone") == 0;
	pid_t pid = raw ? clone(cloned, clone_stack + sizeof(clone_stack), SIGCHLD, NULL) : fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		child(mode);
		scrub();
		exit(0);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	free_blocks(NBLOCKS);
	printf("child %d\nchild status %d\n", (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
