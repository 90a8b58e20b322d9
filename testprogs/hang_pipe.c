/* A reader waits on a pipe whose write end only a sleeping child holds,
 * and the main thread waits for that child: for the hang report's naming
 * of a pipe's other end and of a child waited for. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fds[2];

static void *reader(void *arg)
{
	(void)arg;
	char c;
	ssize_t n = read(fds[0], &c, 1);
	printf("read %zd\n", n);
	return NULL;
}

int main(void)
{
	if (pipe(fds) < 0)
		return 1;
	pid_t child = fork();
	if (child == 0) {
		close(fds[0]);
		pause();   /* holds the write end, writes nothing */
		return 0;
	}
	close(fds[1]);
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	int status;
	waitpid(child, &status, 0);
	pthread_join(t, NULL);
	return 0;
}
