/* A tight loop of a cheap syscall (getppid), N times (default 1000000):
 * the benchmark workload and the concurrent "other process". */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long sum = 0;
	for (long i = 0; i < n; i++)
		sum += syscall(SYS_getppid);
	return sum == 0 ? 1 : 0;
}
