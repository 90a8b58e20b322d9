/* Redzones of live blocks at exit (rzexit.h). The layout is the library's
 * (runner/preload/slack.h): the pattern in glibc's slack between the
 * block's end and the end of its usable size, whose last byte (the tag) is
 * the slack's length. The usable size is glibc's, from the chunk header
 * before the block (malloc_usable_size's rule); the block's size is the
 * one etrace recorded. */
#include "rzexit.h"
#include "reports/heap/heapscan.h"
#include "runner/preload/slack.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BLOCK (64u << 10)     /* bigger blocks: not read (rare, and costly) */

static int read_at(int fd, uint64_t addr, void *buf, size_t len)
{
	return pread(fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
}

/* The short-form slack of block b judged: 1 with f filled. */
static int check_block(int fd, const struct hs_block *b, struct rz_exit_finding *f)
{
	if (b->addr & 15 || b->size > MAX_BLOCK || b->addr < 16)
		return 0;
	uint64_t hdr;
	if (read_at(fd, b->addr - 8, &hdr, sizeof(hdr)) < 0)
		return 0;
	uint64_t csz = hdr & ~7ull;
	if (csz < 32 || csz > MAX_BLOCK + 64 || hdr & 2)   /* mmapped chunks are over 64 KiB */
		return 0;
	uint64_t usable = csz - 8;
	if (usable <= b->size || usable - b->size > HR_SLACK_SHORT)
		return 0;   /* no slack, or the long form (checked at free only) */
	uint8_t z[HR_SLACK_SHORT];
	uint32_t s = (uint32_t)(usable - b->size);
	if (read_at(fd, b->addr + b->size, z, s) < 0)
		return 0;
	f->addr = b->addr;
	return hr_slack_read(z, s, &f->first, &f->count);
}

size_t rz_exit_check(int pid, const struct hs_block *b, size_t n, struct rz_exit_finding *out, size_t max)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t found = 0;
	for (size_t i = 0; i < n && found < max; i++)
		if (check_block(fd, &b[i], &out[found]))
			found++;
	close(fd);
	return found;
}
