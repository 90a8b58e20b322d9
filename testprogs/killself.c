/* Dies of the signal given as its argument (default SIGUSR1). */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int sig = argc > 1 ? atoi(argv[1]) : SIGUSR1;
	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	pause();
	return 0;
}
