/* A tree that keeps forking, for the tests of etrace's heap holds (a
 * forked child is stopped until its heap probes are attached).
 * Usage: forkloop N [detach]
 *   Forks N children one after the other (N = 0: until killed); each
 *   mallocs and frees a block and exits 0; the parent waits for each.
 *   detach: the loop runs in a forked child and the root exits at once
 *   (printing the loop's pid), so the loop outlives the traced root.
 *   watch: the parent waits with WUNTRACED (without a SIGCHLD handler, the
 *   case a hold's stop could not be hidden from) and every other child
 *   execs /bin/true; it counts the stops it saw, resumes each, and prints
 *   "stops N" at the end.
 * SIGCHLD keeps its default: nothing here watches its children's stops,
 * so etrace holds each child. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static long stops;

static void loop(long n, int watch)
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
			if (watch && i % 2)
				execl("/bin/true", "true", (char *)NULL);
			_exit(0);
		}
		int st;
		while (watch && waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st)) {
			stops++;
			kill(pid, SIGCONT);
		}
		if ((!watch && waitpid(pid, &st, 0) < 0) || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "child %d: status %#x\n", (int)pid, st);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10;
	int watch = argc > 2 && strcmp(argv[2], "watch") == 0;
	if (argc > 2 && !watch) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			printf("%d\n", (int)pid);
			return 0;
		}
		fclose(stdout);
	}
	loop(n, watch);
	if (watch)
		printf("stops %ld\n", stops);
	return 0;
}
