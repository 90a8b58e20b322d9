/* A forked child crashes; the parent reports it and exits 0. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void child_work(void)
{
	volatile int *p = (int *)8;
	*p = 1;
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		child_work();
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exited", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return 0;
}
