/* The parent frees a block, forks and exits at once without waiting; the
 * child frees the same block again and dies of glibc's abort. Everything
 * the child did happens after the root exited: the report must still have
 * it (a double free, a crash by SIGABRT), every run. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char *volatile p = malloc(64); /* volatile: the double free is on purpose */
	memset(p, 'x', 64);
	free(p);
	if (fork() == 0) {
		usleep(50000); /* well after the parent's exit */
		free(p);
		_exit(0);
	}
	return 0;
}
