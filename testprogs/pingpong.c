/* Two threads pass a byte back and forth through two pipes N times (argv[1],
 * default 20000): a context switch per pass. Prints the elapsed time. For
 * the cost of the scheduler accounting (make bench) and its test. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ping[2], pong[2];
static long rounds = 20000;

static void *echo(void *arg)
{
	(void)arg;
	char c;
	for (long i = 0; i < rounds; i++) {
		if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atol(argv[1]);
	if (pipe(ping) < 0 || pipe(pong) < 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, echo, NULL);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	char c = 'x';
	for (long i = 0; i < rounds; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(t, NULL);
	printf("%ld round trips in %.3f ms\n", rounds, ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e6);
	return 0;
}
