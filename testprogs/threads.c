/* Four threads, each opening its own (missing) file and writing to
 * /dev/null a known number of times. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define NTHREADS 4
#define WRITES 25

static void *worker(void *arg)
{
	long id = (long)arg;
	char path[64];
	snprintf(path, sizeof(path), "/nonexistent/thread-%ld", id);
	int fd = open(path, O_RDONLY);
	if (fd >= 0)
		close(fd);
	int null = open("/dev/null", O_WRONLY);
	for (int i = 0; i < WRITES; i++)
		if (write(null, "x", 1) != 1)
			break;
	close(null);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	puts("threads done");
	return 0;
}
