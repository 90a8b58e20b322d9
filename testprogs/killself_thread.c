/* Raises a signal (default SIGKILL) on one of its own threads with tgkill,
 * from a second thread: the report must name the process itself, its
 * thread and the tgkill, not the kernel. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sig = SIGKILL;

static void *killer(void *arg)
{
	pid_t main_tid = *(pid_t *)arg;
	usleep(20000); /* the main thread is in pause() by then */
	syscall(SYS_tgkill, getpid(), main_tid, sig);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		sig = atoi(argv[1]);
	pid_t me = (pid_t)syscall(SYS_gettid);
	pthread_t t;
	pthread_create(&t, NULL, killer, &me);
	for (;;)
		pause();
}
