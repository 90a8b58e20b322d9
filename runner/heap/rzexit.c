/* Redzones of live blocks at exit (rzexit.h). The layout is the library's
 * (runner/preload/slack.h): the pattern in glibc's slack between the
 * block's end and the end of its usable size, whose last byte (the tag) is
 * the slack's length. The usable size is glibc's, from the chunk header
 * before the block (malloc_usable_size's rule); the block's size is the
 * one etrace recorded. */
#include "rzexit.h"
#include "reports/heap/heapscan.h"
#include "runner/preload/slack.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
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

/* Reads remote[i] into local[i] for i < n, ok[i] saying which came whole.
 * process_vm_readv stops at the first iovec it cannot read: the reads go on
 * after it. -1 when the call is not allowed here (the caller reads block by
 * block through /proc/PID/mem). */
#define RZ_BATCH 512

static int read_many(int pid, struct iovec *local, struct iovec *remote, size_t n, unsigned char *ok)
{
	size_t i = 0;
	while (i < n) {
		ssize_t got = process_vm_readv(pid, local + i, n - i, remote + i, n - i, 0);
		if (got < 0) {
			if (errno != EFAULT && errno != EIO)
				return -1;
			ok[i++] = 0;
			continue;
		}
		size_t k = i, left = (size_t)got;
		while (k < n && left >= remote[k].iov_len) {
			left -= remote[k].iov_len;
			ok[k++] = 1;
		}
		if (k < n)
			ok[k++] = 0;   /* the one it stopped at */
		i = k;
	}
	return 0;
}

/* Blocks b[0..n) (n <= RZ_BATCH) in two batched reads: the chunk headers,
 * then the slacks they give (~40 KiB of stack). -1: not allowed, nothing
 * judged. */
static int check_batch(int pid, const struct hs_block *b, size_t n, struct rz_exit_finding *out, size_t max,
		       size_t *found)
{
	uint64_t hdr[RZ_BATCH];
	uint8_t z[RZ_BATCH][HR_SLACK_SHORT];
	struct iovec l[RZ_BATCH], r[RZ_BATCH];
	unsigned char ok[RZ_BATCH];
	size_t which[RZ_BATCH];
	uint32_t slack[RZ_BATCH];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i].addr & 15 || b[i].size > MAX_BLOCK || b[i].addr < 16)
			continue;
		l[m] = (struct iovec){ &hdr[m], sizeof(hdr[m]) };
		r[m] = (struct iovec){ (void *)(uintptr_t)(b[i].addr - 8), sizeof(hdr[m]) };
		which[m++] = i;
	}
	if (read_many(pid, l, r, m, ok) < 0)
		return -1;
	size_t k = 0;
	for (size_t j = 0; j < m; j++) {
		if (!ok[j])
			continue;
		const struct hs_block *bb = &b[which[j]];
		uint64_t csz = hdr[j] & ~7ull;
		if (csz < 32 || csz > MAX_BLOCK + 64 || hdr[j] & 2)   /* mmapped chunks are over 64 KiB */
			continue;
		uint64_t usable = csz - 8;
		if (usable <= bb->size || usable - bb->size > HR_SLACK_SHORT)
			continue;   /* no slack, or the long form (checked at free only) */
		slack[k] = (uint32_t)(usable - bb->size);
		l[k] = (struct iovec){ z[k], slack[k] };
		r[k] = (struct iovec){ (void *)(uintptr_t)(bb->addr + bb->size), slack[k] };
		which[k++] = which[j];
	}
	if (read_many(pid, l, r, k, ok) < 0)
		return -1;
	for (size_t j = 0; j < k && *found < max; j++) {
		struct rz_exit_finding *f = &out[*found];
		if (ok[j] && hr_slack_read(z[j], slack[j], &f->first, &f->count)) {
			f->addr = b[which[j]].addr;
			(*found)++;
		}
	}
	return 0;
}

size_t rz_exit_check(int pid, const struct hs_block *b, size_t n, struct rz_exit_finding *out, size_t max)
{
	/* a few thousand live blocks at a compiler's exit: two reads a batch,
	 * not two preads a block (cc1: ~6,900 blocks, ~14,000 calls) */
	size_t found = 0, done = 0;
	while (done < n && found < max) {
		size_t m = n - done < RZ_BATCH ? n - done : RZ_BATCH;
		if (check_batch(pid, b + done, m, out, max, &found) < 0)
			break;
		done += m;
	}
	if (done >= n || found >= max)
		return found;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return found;
	for (size_t i = done; i < n && found < max; i++)
		if (check_block(fd, &b[i], &out[found]))
			found++;
	close(fd);
	return found;
}
