/* A secondary thread dereferences NULL while two others block in read() on
 * a pipe and the main thread waits in pthread_join. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];

static void *blocker(void *arg)
{
	(void)arg;
	char c;
	if (read(fds[0], &c, 1) < 0)
		perror("read");
	return NULL;
}

__attribute__((noinline)) static void *crasher(void *arg)
{
	(void)arg;
	usleep(50 * 1000); /* let the others block first */
	volatile int *p = NULL;
	*p = 42;
	return NULL;
}

int main(void)
{
	pthread_t a, b, c;
	if (pipe(fds) < 0)
		return 1;
	pthread_create(&a, NULL, blocker, NULL);
	pthread_create(&b, NULL, blocker, NULL);
	pthread_create(&c, NULL, crasher, NULL);
	pthread_join(c, NULL);
	return 0;
}
