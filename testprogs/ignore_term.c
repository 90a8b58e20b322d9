/* Ignores SIGTERM; on SIGINT exits 3. Prints "ready" when its handlers are
 * in place, then waits at most a few seconds (bounded) and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t got_int;

static void on_int(int sig)
{
	(void)sig;
	got_int = 1;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 3;
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, on_int);
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < seconds * 20 && !got_int; i++)
		usleep(50 * 1000);
	if (got_int) {
		printf("got SIGINT\n");
		return 3;
	}
	printf("timeout\n");
	return 0;
}
