/* Reading the roots of the leak scan ahead of the mark phase (see
 * heapscan_int.h): a second thread reads the next pieces of the target's
 * memory while the caller looks at the last ones, so the copy out of the
 * process (process_vm_readv, ~4 ms of cc1's ~13 MB of roots here) and the
 * look-ups (~4 ms) overlap instead of adding up while the process waits. */
#include <pthread.h>
#include <stdlib.h>
#include "heapscan_int.h"

#define SLOTS HS_AHEAD_SLOTS
#define AHEAD_MIN (4u << 20)

struct slot {
	uint64_t addr, len;    /* len bytes at addr: read (data) or unreadable */
	int readable;
	unsigned char *data;
};

struct ahead {
	const struct hs_span *spans;
	size_t nspans;
	hs_read_fn rd;
	void *rctx;
	size_t chunk;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slot[SLOTS];
	uint64_t made, used;   /* slots filled, slots given back (made - used <= SLOTS) */
	int done;
	uint64_t reads;
};

/* One read at a into buf: the piece it gives (as heapscan.c's direct
 * reads do: a short read is kept to its whole words, nothing readable
 * skips to the next page). */
static void read_piece(hs_read_fn rd, void *rctx, uint64_t a, uint64_t e, unsigned char *buf, size_t chunk,
		       struct slot *out)
{
	size_t len = e - a > chunk ? chunk : (size_t)(e - a);
	long r = rd(rctx, a, buf, len);
	out->addr = a;
	out->data = buf;
	if (r >= 8) {
		size_t got = (size_t)r > len ? len : (size_t)r;
		out->len = got & ~(size_t)7;
		out->readable = 1;
		return;
	}
	uint64_t next = (a | (HS_PAGE - 1)) + 1;
	if (next > e || next <= a)
		next = e;
	out->len = next - a;
	out->readable = 0;
}

static void *reader(void *arg)
{
	struct ahead *x = arg;
	for (size_t i = 0; i < x->nspans; i++) {
		uint64_t a = x->spans[i].start, e = x->spans[i].end;
		while (a < e) {
			pthread_mutex_lock(&x->mu);
			while (x->made - x->used == SLOTS)
				pthread_cond_wait(&x->cv, &x->mu);
			struct slot *s = &x->slot[x->made % SLOTS];
			pthread_mutex_unlock(&x->mu);
			/* this slot is the reader's until made moves */
			struct slot got;
			read_piece(x->rd, x->rctx, a, e, s->data, x->chunk, &got);
			x->reads++;
			a += got.len;
			pthread_mutex_lock(&x->mu);
			*s = got;
			x->made++;
			pthread_cond_broadcast(&x->cv);
			pthread_mutex_unlock(&x->mu);
		}
	}
	pthread_mutex_lock(&x->mu);
	x->done = 1;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

static uint64_t inline_reads(const struct hs_span *spans, size_t n, hs_read_fn rd, void *rctx, unsigned char *buf,
			     size_t chunk, hs_use_fn use, void *uctx)
{
	uint64_t reads = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = spans[i].start, e = spans[i].end;
		while (a < e) {
			struct slot got;
			read_piece(rd, rctx, a, e, buf, chunk, &got);
			reads++;
			use(uctx, got.addr, got.readable ? got.data : NULL, got.len);
			a += got.len;
		}
	}
	return reads;
}

uint64_t hs_read_ahead(const struct hs_span *spans, size_t n, hs_read_fn rd, void *rctx, unsigned char *buf,
		       size_t chunk, hs_use_fn use, void *uctx)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += spans[i].end - spans[i].start;
	/* less than AHEAD_MIN: the thread's start costs more than it overlaps
	 * (gcc's and as's 1.1 MB of roots scanned in 0.96 and 1.42 ms
	 * instead of 0.76 and 1.11, medians of 15) */
	struct ahead *x = total >= AHEAD_MIN ? calloc(1, sizeof(*x)) : NULL;
	pthread_t th;
	if (!x || pthread_mutex_init(&x->mu, NULL) != 0) {
		free(x);
		return inline_reads(spans, n, rd, rctx, buf, chunk, use, uctx);
	}
	if (pthread_cond_init(&x->cv, NULL) != 0) {
		pthread_mutex_destroy(&x->mu);
		free(x);
		return inline_reads(spans, n, rd, rctx, buf, chunk, use, uctx);
	}
	x->spans = spans;
	x->nspans = n;
	x->rd = rd;
	x->rctx = rctx;
	x->chunk = chunk;
	for (int i = 0; i < SLOTS; i++)
		x->slot[i].data = buf + (size_t)i * chunk;
	uint64_t reads;
	if (pthread_create(&th, NULL, reader, x) != 0) {
		reads = inline_reads(spans, n, rd, rctx, buf, chunk, use, uctx);
	} else {
		for (;;) {
			pthread_mutex_lock(&x->mu);
			while (x->used == x->made && !x->done)
				pthread_cond_wait(&x->cv, &x->mu);
			if (x->used == x->made) {   /* done, all used */
				pthread_mutex_unlock(&x->mu);
				break;
			}
			struct slot s = x->slot[x->used % SLOTS];
			pthread_mutex_unlock(&x->mu);
			use(uctx, s.addr, s.readable ? s.data : NULL, s.len);
			pthread_mutex_lock(&x->mu);
			x->used++;
			pthread_cond_broadcast(&x->cv);
			pthread_mutex_unlock(&x->mu);
		}
		pthread_join(th, NULL);
		reads = x->reads;
	}
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x);
	return reads;
}
