/* SIGBUS: touches a page of a file mapping beyond the end of the file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	char path[] = "/tmp/etrace-bus-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	unlink(path);
	if (ftruncate(fd, 100) < 0)
		return 1;
	volatile char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	p[0] = 1;     /* inside the file */
	p[4096] = 1;  /* the second page is beyond the end of the file: SIGBUS */
	return 0;
}
