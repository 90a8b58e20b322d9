/* Redzones of live blocks at exit (rzexit.h). The layout is the library's
 * (runner/preload/redzone.c): 16 bytes of 0xfb right past the block, and
 * at the end of the allocator's usable size a trailer {size, size ^ address
 * ^ key}. The usable size is glibc's, from the chunk header before the
 * block (malloc_usable_size's rule). */
#include "rzexit.h"
#include "reports/heap/heapscan.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RZ 16
#define RZ_BYTE 0xfb
#define MAX_BLOCK (64u << 10)     /* bigger blocks: not read (rare, and costly) */

struct cand {
	uint64_t addr, size, key;
	uint8_t zone[RZ];
};

static int read_at(int fd, uint64_t addr, void *buf, size_t len)
{
	return pread(fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
}

/* The block's trailer and redzone: 0 with c filled, -1 when it has none. */
static int candidate(int fd, const struct hs_block *b, struct cand *c, uint8_t *buf)
{
	if (b->addr & 15 || b->size > MAX_BLOCK || b->addr < 16)
		return -1;
	uint64_t hdr;
	if (read_at(fd, b->addr - 8, &hdr, sizeof(hdr)) < 0)
		return -1;
	uint64_t csz = hdr & ~7ull;
	if (csz < 32 || csz > MAX_BLOCK + 64 || hdr & 2)   /* mmapped chunks are over 64 KiB */
		return -1;
	uint64_t usable = csz - 8;
	if (usable < b->size + RZ + 16)
		return -1;
	uint64_t pos = (usable - 16) & ~7ull;
	if (read_at(fd, b->addr + b->size, buf, pos + 16 - b->size) < 0)
		return -1;
	uint64_t t[2];
	memcpy(t, buf + (pos - b->size), sizeof(t));
	if (t[0] != b->size)
		return -1;
	c->addr = b->addr;
	c->size = b->size;
	c->key = t[1] ^ t[0] ^ b->addr;
	memcpy(c->zone, buf, RZ);
	return 0;
}

static int by_key(const void *a, const void *b)
{
	uint64_t x = ((const struct cand *)a)->key, y = ((const struct cand *)b)->key;
	return x < y ? -1 : x > y;
}

size_t rz_exit_check(int pid, const struct hs_block *b, size_t n, struct rz_exit_finding *out, size_t max)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct cand *c = calloc(n ? n : 1, sizeof(*c));
	uint8_t *buf = malloc(MAX_BLOCK + 128);
	size_t nc = 0;
	for (size_t i = 0; c && buf && i < n; i++)
		if (candidate(fd, &b[i], &c[nc], buf) == 0)
			nc++;
	close(fd);
	free(buf);
	size_t found = 0;
	if (c && nc >= 2) {
		/* the key most candidates give is the library's */
		qsort(c, nc, sizeof(*c), by_key);
		uint64_t key = 0;
		size_t best = 0;
		for (size_t i = 0, j; i < nc; i = j) {
			for (j = i; j < nc && c[j].key == c[i].key; j++)
				;
			if (j - i > best)
				best = j - i, key = c[i].key;
		}
		for (size_t i = 0; best >= 2 && i < nc && found < max; i++) {
			if (c[i].key != key)
				continue;
			uint32_t count = 0;
			uint64_t first = 0;
			for (unsigned k = 0; k < RZ; k++)
				if (c[i].zone[k] != RZ_BYTE && count++ == 0)
					first = k;
			if (count)
				out[found++] = (struct rz_exit_finding){ c[i].addr, first, count };
		}
	}
	free(c);
	return found;
}
