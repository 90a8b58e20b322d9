/* Writes a deterministic byte pattern of N bytes (default 4 MiB) to stdout
 * in odd-sized chunks, or with "cat" copies stdin to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "cat") == 0) {
		char buf[8192];
		ssize_t n;
		while ((n = read(0, buf, sizeof(buf))) > 0)
			if (write_all(buf, (size_t)n) < 0)
				return 1;
		return n < 0 ? 1 : 0;
	}
	size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 4u << 20;
	char buf[3001];
	size_t done = 0;
	unsigned x = 12345;
	while (done < total) {
		size_t n = sizeof(buf);
		if (n > total - done)
			n = total - done;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		if (write_all(buf, n) < 0)
			return 1;
		done += n;
	}
	return 0;
}
