/* A tree that keeps forking, for the tests of etrace's heap holds (a
 * forked child is stopped until its heap probes are attached).
 * Usage: forkloop N [detach]
 *   Forks N children one after the other (N = 0: until killed); each
 *   mallocs and frees a block and exits 0; the parent waits for each.
 *   detach: the loop runs in a forked child and the root exits at once
 *   (printing the loop's pid), so the loop outlives the traced root.
 * SIGCHLD keeps its default: nothing here watches its children's stops,
 * so etrace holds each child. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void loop(long n)
{
	for (long i = 0; n == 0 || i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			exit(1);
		}
		if (pid == 0) {
			char *volatile p = malloc(64);
			free(p);
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "child %d: status %#x\n", (int)pid, st);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10;
	if (argc > 2) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			printf("%d\n", (int)pid);
			return 0;
		}
		fclose(stdout);
	}
	loop(n);
	return 0;
}
