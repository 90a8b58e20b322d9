/* Leaves a child running after it exits: the child sleeps SECONDS (default 2)
 * then exits. Prints the child's pid. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 2;
	pid_t pid = fork();
	if (pid == 0) {
		sleep((unsigned)seconds);
		_exit(0);
	}
	printf("%d\n", (int)pid);
	return 0;
}
