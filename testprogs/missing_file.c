/* Opens a configuration file that does not exist, says so, exits 1:
 * the most common reason a test fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/nonexistent/etrace-test/app.conf";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "missing_file: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
