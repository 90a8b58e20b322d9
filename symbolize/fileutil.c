#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int read_whole_file(const char *path, size_t guess, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : guess < 2 ? 2 : guess, n = 0;
	char *b = malloc(cap);
	if (!b)
		goto fail;
	for (;;) {
		if (cap - n < 2) {
			char *nb = realloc(b, cap * 2);
			if (!nb)
				goto fail;
			b = nb;
			cap *= 2;
		}
		/* procfs hands out a page a call anyway; asking for less keeps
		 * valgrind from checking the whole free space on every call */
		size_t want = cap - n - 1 < 65536 ? cap - n - 1 : 65536;
		ssize_t r = read(fd, b + n, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
fail:;
	int e = errno;
	free(b);
	close(fd);
	errno = e;
	return -1;
}
