/* The README's demo: a program that looks for its configuration in three
 * places (none exists), starts a helper shell command, writes a log line,
 * and fails with exit status 1 - a typical failing test. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	const char *places[] = { "./demo.conf", "/etc/etrace-demo/demo.conf", "/usr/share/etrace-demo/demo.conf" };
	int fd = -1;
	for (int i = 0; i < 3 && fd < 0; i++)
		fd = open(places[i], O_RDONLY | O_CLOEXEC);
	int status = system("echo 'demo: helper ran' >/dev/null");
	printf("demo: helper exited %d\n", WEXITSTATUS(status));
	if (fd < 0) {
		fprintf(stderr, "demo: no configuration file found\n");
		return 1;
	}
	close(fd);
	return 0;
}
