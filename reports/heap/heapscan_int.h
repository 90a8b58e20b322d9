/* Shared by the leak classifier's files (heapscan.c: the mark phase;
 * heaproots.c: reading a stopped process and its roots). Not for use outside
 * reports/heap. */
#ifndef ETRACE_HEAPSCAN_INT_H
#define ETRACE_HEAPSCAN_INT_H

#include <stddef.h>
#include <stdint.h>
#include "heapscan.h"

#define HS_PAGE        4096u

double hs_now_ms(void);

/* heapscan_ahead.c: reads spans[0..n) in order, a piece of at most chunk
 * bytes a read, and gives each piece to use() on the calling thread, in
 * order: data the bytes read (whole words), or NULL when len bytes from
 * addr could not be read (to the next page). With 4 MiB or more to read
 * the reads run on a second thread, ahead of use(). buf: HS_AHEAD_SLOTS *
 * chunk bytes. The reads made. */
#define HS_AHEAD_SLOTS 4
struct hs_span {
	uint64_t start, end;
};
typedef void (*hs_use_fn)(void *ctx, uint64_t addr, const unsigned char *data, size_t len);
uint64_t hs_read_ahead(const struct hs_span *spans, size_t n, hs_read_fn rd, void *rctx, unsigned char *buf,
		       size_t chunk, hs_use_fn use, void *uctx);

#endif
