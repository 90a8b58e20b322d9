/* Exits with three threads still blocked in pause(): the kernel ends them
 * (zap_other_threads) as part of the process's exit, which is no crash.
 * With "exec", a thread calls execve instead: the kernel ends the others
 * (de_thread), the new program exits 0. With "hang", it never exits (for a
 * runner's timeout to end it). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t ready;

static void *parked(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&ready);
	for (;;)
		pause();
	return NULL;
}

static void *exec_true(void *arg)
{
	(void)arg;
	usleep(20000);
	execl("/bin/true", "true", (char *)NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		pthread_t e;
		pthread_create(&e, NULL, exec_true, NULL);
		for (;;)
			pause();
	}
	int code = argc > 1 ? atoi(argv[1]) : 0;
	pthread_t t[3];
	pthread_barrier_init(&ready, NULL, 4);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, parked, NULL);
	pthread_barrier_wait(&ready);
	usleep(20000);
	if (argc > 1 && strcmp(argv[1], "hang") == 0)
		for (;;)
			pause();
	printf("exiting with 3 threads in pause()\n");
	exit(code);
}
