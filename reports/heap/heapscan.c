/*
 * The leak classifier: a conservative mark phase over the live blocks of a
 * stopped process (see heapscan.h for the rules).
 *
 * Blocks are copied to arrays sorted by address (start, end, original
 * index). A word is a candidate when it falls between the lowest start and
 * the highest end and on a page that holds a block (a bitmap of pages,
 * hashed by page number: a page that shares a bit with a block's page only
 * costs a look-up); candidates are looked up 16 at a time (a binary search
 * over every 16th start, done in lockstep for the 16 so the cache misses
 * overlap, then a count over one run of 16 starts). Marking uses a FIFO
 * work list processed layer by layer, each layer sorted by address, so that
 * block contents are read in address order and small blocks mostly come
 * from a direct-mapped cache of 16 KiB chunks of the target's memory (one
 * read serves many blocks). Roots and big blocks are read directly, 256
 * KiB at a time; the roots on a second thread, ahead of the look-ups
 * (heapscan_ahead.c: four such buffers, the 1 MiB one read had before).
 * Nothing recurses.
 */
#include "heapscan.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "heapscan_int.h"

#define DIRECT_BUF     (256u << 10)        /* roots and big blocks: 256 KiB reads */
#define CHUNK_SHIFT    14
#define CHUNK          (1u << CHUNK_SHIFT) /* cache line of target memory: 16 KiB */
#define NCHUNKS        256                 /* 4 MiB of cache */
#define CACHED_MAX     (64u << 10)         /* bigger blocks bypass the cache */
#define SAMPLE         16                  /* find(): one start in SAMPLE indexed */
#define BATCH          16                  /* candidate pointers looked up together */
#define PAGE_SHIFT     12
#define PAGEBITS_MIN   (1u << 12)
#define PAGEBITS_MAX   (1u << 21)          /* 256 KiB */

/* ---- sorting ------------------------------------------------------------ */

struct pair {
	uint64_t key;
	uint64_t idx;
};

/* ---- the scan state ----------------------------------------------------- */

struct chunk {
	uint64_t base;
	uint32_t valid;           /* readable bytes from base */
	int used;
};

struct scan {
	struct hs_block *blocks;
	size_t n;
	uint64_t *start, *end;    /* sorted by start; end = start + size */
	uint32_t *orig;           /* index into blocks */
	uint8_t *state;
	uint64_t lo, hi;          /* lowest start, highest end (>= lo + 1) */
	uint64_t *pagebits;       /* bit (page & pagemask): a block is on a page with that bit */
	uint64_t pagemask;
	uint64_t *sample;         /* start[0], start[SAMPLE], start[2 * SAMPLE], ... */
	size_t nsample;
	uint32_t *queue, *tmp;    /* work list (each block enters once), sort room */
	size_t head, tail;
	int phase2;
	uint32_t leader;
	uint64_t cand[BATCH];     /* candidate pointers waiting for find_batch */
	size_t ncand;
	hs_read_fn rd;
	void *ctx;
	unsigned char *buf;       /* HS_AHEAD_SLOTS * DIRECT_BUF */
	unsigned char *cdata;     /* NCHUNKS * CHUNK, allocated on first use */
	int cache_failed;
	struct chunk cmeta[NCHUNKS];
	struct hs_stats st;
};

double hs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *hs_state_name(int state)
{
	switch (state) {
	case HS_REACHABLE: return "reachable";
	case HS_INDIRECT: return "indirect";
	case HS_DEFINITE: return "definite";
	case HS_POSSIBLE: return "possible";
	default: return "unknown";
	}
}

static int cmp_pair(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	return a->key < b->key ? -1 : a->key > b->key;
}

/* LSD radix sort of pairs by key, 11 bits a pass; passes whose digit is the
 * same for every key are skipped (the high bits of addresses). */
static void sort_pairs(struct pair *a, struct pair *tmp, size_t n)
{
	enum { BITS = 11, NB = 1 << BITS };
	static const uint64_t mask = NB - 1;
	size_t *cnt = malloc(NB * sizeof(*cnt));
	uint64_t differ = 0;
	if (!cnt) {   /* no room for the counts: the slower qsort */
		qsort(a, n, sizeof(*a), cmp_pair);
		return;
	}
	for (size_t i = 1; i < n; i++)
		differ |= a[i].key ^ a[0].key;
	for (int shift = 0; shift < 64; shift += BITS) {
		if (!((differ >> shift) & mask))
			continue;
		memset(cnt, 0, NB * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].key >> shift) & mask]++;
		size_t pos = 0;
		for (size_t d = 0; d < NB; d++) {
			size_t c = cnt[d];
			cnt[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i].key >> shift) & mask]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(cnt);
}

/* Sorts a[0..n) (tmp has room for n). */
static void sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
	size_t i;
	for (i = 1; i < n && a[i - 1] <= a[i]; i++)
		;
	if (i >= n)
		return;
	if (n <= 32) {
		for (i = 1; i < n; i++) {
			uint32_t v = a[i];
			size_t j = i;
			for (; j > 0 && a[j - 1] > v; j--)
				a[j] = a[j - 1];
			a[j] = v;
		}
		return;
	}
	size_t cnt[256];
	for (int shift = 0; shift < 32; shift += 8) {
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(a[i] >> shift) & 255]++;
		if (cnt[(a[0] >> shift) & 255] == n)
			continue;
		size_t pos = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = cnt[d];
			cnt[d] = pos;
			pos += c;
		}
		for (i = 0; i < n; i++)
			tmp[cnt[(a[i] >> shift) & 255]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

/* Index of the last start <= v in a[0..len) (a[0] <= v). */
static inline size_t last_le(const uint64_t *a, size_t len, uint64_t v)
{
	const uint64_t *base = a;
	while (len > 1) {
		size_t half = len / 2;
		base = base[half] <= v ? base + half : base;
		len -= half;
	}
	return (size_t)(base - a);
}

/* v points into sorted block i (interior: not at its start). */
static void reach(struct scan *s, uint32_t i, int interior)
{
	uint8_t *st = &s->state[i];
	if (!s->phase2) {
		if (*st == HS_UNKNOWN) {
			*st = interior ? HS_POSSIBLE : HS_REACHABLE;
			s->queue[s->tail++] = i;
		} else if (*st == HS_POSSIBLE && !interior) {
			*st = HS_REACHABLE;   /* already queued: scanned once */
		}
		return;
	}
	if (i == s->leader)
		return;
	if (*st == HS_UNKNOWN) {
		struct hs_block *L = &s->blocks[s->orig[s->leader]];
		*st = HS_INDIRECT;
		L->indirect_bytes += s->blocks[s->orig[i]].size;
		L->indirect_blocks++;
		s->queue[s->tail++] = i;
	} else if (*st == HS_DEFINITE) {
		/* an earlier leader, pointed to from this group: it joins it */
		struct hs_block *L = &s->blocks[s->orig[s->leader]];
		struct hs_block *b = &s->blocks[s->orig[i]];
		*st = HS_INDIRECT;
		L->indirect_bytes += b->size + b->indirect_bytes;
		L->indirect_blocks += 1 + b->indirect_blocks;
		b->indirect_bytes = b->indirect_blocks = 0;
	}
}

/* glibc malloc puts the next chunk's header right after a block, inside
 * the block's last word when its size is 1..8 mod 16 (the chunk holds
 * size + 8 bytes rounded up to 16, at least 32, from 16 bytes before the
 * block), and main_arena's top and bins point at such headers: a value
 * that is exactly there is the allocator's pointer, not the program's. */
static inline int malloc_header_ptr(uint64_t start, uint64_t end, uint64_t v)
{
	uint64_t cs = (end - start + 8 + 15) & ~(uint64_t)15;
	if (cs < 32)
		cs = 32;
	return v != start && v == start - 16 + cs;
}

/* Looks up m candidate values at once: the binary searches run in lockstep
 * so their cache misses overlap (a lone search waits for each miss). */
static void find_batch(struct scan *s, const uint64_t *v, size_t m)
{
	const uint64_t *b[BATCH];
	for (size_t j = 0; j < m; j++)
		b[j] = s->sample;
	for (size_t len = s->nsample; len > 1;) {
		size_t half = len / 2;
		for (size_t j = 0; j < m; j++)
			b[j] += (size_t)(b[j][half] <= v[j]) * half;   /* no branch */
		len -= half;
	}
	/* the runs: start[] is padded with UINT64_MAX to nsample * SAMPLE; a
	 * branchless count reads the run's few cache lines in parallel */
	for (size_t j = 0; j < m; j++) {
		const uint64_t *run = s->start + (size_t)(b[j] - s->sample) * SAMPLE;
		size_t c = 0;
		for (size_t k = 1; k < SAMPLE; k++)
			c += run[k] <= v[j];
		b[j] = run + c;
	}
	for (size_t j = 0; j < m; j++) {
		size_t i = (size_t)(b[j] - s->start);
		if ((v[j] < s->end[i] || v[j] == s->start[i]) && !malloc_header_ptr(s->start[i], s->end[i], v[j]))
			reach(s, (uint32_t)i, v[j] != s->start[i]);
	}
}

static void flush(struct scan *s)
{
	if (s->ncand)
		find_batch(s, s->cand, s->ncand);
	s->ncand = 0;
}

/* Candidates are collected across blocks and looked up BATCH at a time.
 * Most words in range are not (the range of a process whose allocator
 * also maps chunks alone spans its libraries and its own mappings: cc1's
 * roots gave ~520,000 words in range, each a look-up). */
static void scan_words(struct scan *s, const unsigned char *p, size_t nwords)
{
	const uint64_t lo = s->lo, span = s->hi - s->lo, mask = s->pagemask;
	const uint64_t *bits = s->pagebits;
	for (size_t k = 0; k < nwords; k++) {
		uint64_t v;
		memcpy(&v, p + 8 * k, 8);
		if (v - lo >= span)
			continue;
		uint64_t pg = (v >> PAGE_SHIFT) & mask;
		if (!((bits[pg >> 6] >> (pg & 63)) & 1))
			continue;
		s->cand[s->ncand++] = v;
		if (s->ncand == BATCH)
			flush(s);
	}
}

/* [a, e), both 8-aligned, read straight into buf. */
static void scan_direct(struct scan *s, uint64_t a, uint64_t e)
{
	while (a < e) {
		size_t len = e - a > DIRECT_BUF ? DIRECT_BUF : (size_t)(e - a);
		long r = s->rd(s->ctx, a, s->buf, len);
		s->st.reads++;
		if (r >= 8) {
			size_t got = (size_t)r > len ? len : (size_t)r;
			got &= ~(size_t)7;
			scan_words(s, s->buf, got / 8);
			s->st.bytes_scanned += got;
			a += got;
			continue;
		}
		/* unreadable here: skip to the next page */
		uint64_t next = (a | (HS_PAGE - 1)) + 1;
		if (next > e || next <= a)
			next = e;
		s->st.unreadable_bytes += next - a;
		a = next;
	}
}

static struct chunk *chunk_get(struct scan *s, uint64_t base)
{
	if (!s->cdata) {
		if (s->cache_failed)
			return NULL;
		s->cdata = malloc((size_t)NCHUNKS * CHUNK);
		if (!s->cdata) {
			s->cache_failed = 1;
			return NULL;
		}
	}
	size_t slot = (size_t)(base >> CHUNK_SHIFT) & (NCHUNKS - 1);
	struct chunk *c = &s->cmeta[slot];
	if (c->used && c->base == base)
		return c;
	long r = s->rd(s->ctx, base, s->cdata + slot * CHUNK, CHUNK);
	s->st.reads++;
	c->used = 1;
	c->base = base;
	c->valid = r > 0 ? (uint32_t)((size_t)r > CHUNK ? CHUNK : (size_t)r) & ~7u : 0;
	return c;
}

/* [a, e), both 8-aligned, through the chunk cache. */
static void scan_cached(struct scan *s, uint64_t a, uint64_t e)
{
	while (a < e) {
		uint64_t base = a & ~(uint64_t)(CHUNK - 1);
		uint64_t pe = e - base > CHUNK ? base + CHUNK : e;
		struct chunk *c = chunk_get(s, base);
		if (c && base + c->valid >= pe) {
			scan_words(s, s->cdata + (size_t)(c - s->cmeta) * CHUNK + (a - base),
				   (size_t)(pe - a) / 8);
			s->st.bytes_scanned += pe - a;
		} else {
			scan_direct(s, a, pe);
		}
		a = pe;
	}
}

static inline uint64_t align_up8(uint64_t v)
{
	return v > UINT64_MAX - 7 ? UINT64_MAX & ~(uint64_t)7 : (v + 7) & ~(uint64_t)7;
}

static void scan_block(struct scan *s, uint32_t i)
{
	uint64_t a = align_up8(s->start[i]), e = s->end[i] & ~(uint64_t)7;
	if (a >= e)
		return;
	if (e - a <= CACHED_MAX)
		scan_cached(s, a, e);
	else
		scan_direct(s, a, e);
}

struct spans {
	struct hs_span *v;
	size_t n, cap;
	int oom;
};

static void span_add(struct spans *l, uint64_t a, uint64_t e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct hs_span *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = 1;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].start = a;
	l->v[l->n].end = e;
	l->n++;
}

/* A root region, minus the bytes of live blocks: its spans, to read. */
static void root_spans(struct scan *s, const struct hs_region *r, struct spans *out)
{
	uint64_t cur = align_up8(r->start), e = r->end & ~(uint64_t)7;
	if (cur >= e)
		return;
	/* first block ending after cur */
	size_t j = 0;
	if (s->n && cur >= s->lo) {
		j = last_le(s->start, s->n, cur);
		if (s->end[j] <= cur)
			j++;
	}
	while (cur < e) {
		uint64_t gap_end = e;
		if (j < s->n && s->start[j] < e)
			gap_end = s->start[j] & ~(uint64_t)7;
		if (gap_end > cur)
			span_add(out, cur, gap_end);
		if (j >= s->n || s->start[j] >= e)
			break;
		uint64_t be = align_up8(s->end[j]);
		if (be > cur)
			cur = be;
		j++;
	}
}

/* A piece of the roots, read (hs_read_ahead). */
static void use_root(void *ctx, uint64_t addr, const unsigned char *data, size_t len)
{
	struct scan *s = ctx;
	(void)addr;
	if (!data) {
		s->st.unreadable_bytes += len;
		return;
	}
	scan_words(s, data, len / 8);
	s->st.bytes_scanned += len;
}

static void drain(struct scan *s)
{
	for (;;) {
		while (s->head < s->tail) {
			size_t layer_end = s->tail;
			sort_u32(s->queue + s->head, s->tmp, layer_end - s->head);
			while (s->head < layer_end)
				scan_block(s, s->queue[s->head++]);
		}
		flush(s);
		if (s->head == s->tail)
			break;
	}
}

/* The pages each block covers (a block of size 0: the page of its start,
 * which a pointer to it is on), in a bitmap of about 64 bits a page set:
 * few words on other pages pass. Pages are hashed by their low bits, so
 * pages less than the bitmap's span apart never share a bit. */
static int pages_map(struct scan *s)
{
	uint64_t npages = 0;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t top = s->end[i] > s->start[i] ? s->end[i] - 1 : s->start[i];
		npages += (top >> PAGE_SHIFT) - (s->start[i] >> PAGE_SHIFT) + 1;
		if (npages >= PAGEBITS_MAX)
			break;
	}
	uint64_t nbits = PAGEBITS_MIN;
	while (nbits < PAGEBITS_MAX && nbits < 64 * npages)
		nbits *= 2;
	s->pagemask = nbits - 1;
	s->pagebits = calloc(nbits / 64, sizeof(*s->pagebits));
	if (!s->pagebits)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t top = s->end[i] > s->start[i] ? s->end[i] - 1 : s->start[i];
		uint64_t first = s->start[i] >> PAGE_SHIFT, last = top >> PAGE_SHIFT;
		if (last - first >= nbits) {   /* every bit */
			memset(s->pagebits, 0xff, nbits / 8);
			break;
		}
		for (uint64_t pg = first; pg <= last; pg++) {
			uint64_t b = pg & s->pagemask;
			s->pagebits[b >> 6] |= 1ull << (b & 63);
		}
	}
	return 0;
}

static void scan_free(struct scan *s)
{
	free(s->start);
	free(s->end);
	free(s->sample);
	free(s->orig);
	free(s->state);
	free(s->queue);
	free(s->tmp);
	free(s->buf);
	free(s->cdata);
	free(s->pagebits);
}

int heapscan_classify(struct hs_block *blocks, size_t n,
		      const struct hs_region *roots, size_t nroots,
		      const uint64_t *regs, size_t nregs,
		      hs_read_fn rd, void *ctx, struct hs_stats *st)
{
	double t0 = hs_now_ms();
	if ((n && !blocks) || (nroots && !roots) || (nregs && !regs) || !rd ||
	    (uint64_t)n >= UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	struct scan *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->blocks = blocks;
	s->n = n;
	s->rd = rd;
	s->ctx = ctx;
	for (size_t i = 0; i < n; i++) {
		blocks[i].state = HS_UNKNOWN;
		blocks[i].indirect_bytes = blocks[i].indirect_blocks = 0;
	}
	/* sort by address (the pairs first: the other arrays are allocated
	 * after they are freed, to keep the peak lower) */
	size_t nn = n ? n : 1;
	s->nsample = (n + SAMPLE - 1) / SAMPLE;
	s->start = malloc((s->nsample * SAMPLE + 1) * sizeof(*s->start));
	s->orig = malloc(nn * sizeof(*s->orig));
	if (!s->start || !s->orig)
		goto nomem;
	int sorted = 1;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = blocks[i - 1].addr <= blocks[i].addr;
	if (sorted) {
		for (size_t i = 0; i < n; i++) {
			s->start[i] = blocks[i].addr;
			s->orig[i] = (uint32_t)i;
		}
	} else {
		struct pair *p = malloc(n * sizeof(*p)), *t = malloc(n * sizeof(*t));
		if (!p || !t) {
			free(p);
			free(t);
			goto nomem;
		}
		for (size_t i = 0; i < n; i++) {
			p[i].key = blocks[i].addr;
			p[i].idx = i;
		}
		sort_pairs(p, t, n);
		for (size_t i = 0; i < n; i++) {
			s->start[i] = p[i].key;
			s->orig[i] = (uint32_t)p[i].idx;
		}
		free(p);
		free(t);
	}
	s->end = malloc(nn * sizeof(*s->end));
	s->state = calloc(nn, 1);
	s->queue = malloc(nn * sizeof(*s->queue));
	s->tmp = malloc(nn * sizeof(*s->tmp));
	s->buf = malloc((size_t)HS_AHEAD_SLOTS * DIRECT_BUF);
	s->sample = malloc((s->nsample ? s->nsample : 1) * sizeof(*s->sample));
	if (!s->sample || !s->end || !s->state || !s->queue || !s->tmp || !s->buf)
		goto nomem;
	for (size_t k = n; k < s->nsample * SAMPLE; k++)
		s->start[k] = UINT64_MAX;
	for (size_t k = 0; k < s->nsample; k++)
		s->sample[k] = s->start[k * SAMPLE];
	s->lo = n ? s->start[0] : 1;
	s->hi = s->lo;
	for (size_t i = 0; i < n; i++) {
		uint64_t sz = blocks[s->orig[i]].size;
		s->end[i] = sz > UINT64_MAX - s->start[i] ? UINT64_MAX : s->start[i] + sz;
		uint64_t top = s->end[i] > s->start[i] ? s->end[i] : s->start[i] + 1;
		if (top > s->hi)
			s->hi = top;
	}

	if (pages_map(s) < 0)
		goto nomem;

	/* phase 1: flood fill from the roots (read ahead on another thread) */
	struct spans sp = { 0 };
	for (size_t r = 0; r < nroots; r++) {
		root_spans(s, &roots[r], &sp);
		s->st.regions++;
	}
	if (sp.oom) {
		free(sp.v);
		goto nomem;
	}
	s->st.reads += hs_read_ahead(sp.v, sp.n, s->rd, s->ctx, s->buf, DIRECT_BUF, use_root, s);
	s->st.root_bytes = s->st.bytes_scanned;
	free(sp.v);
	for (size_t r = 0; r < nregs; r++) {
		if (regs[r] - s->lo < s->hi - s->lo) {
			s->cand[s->ncand++] = regs[r];
			if (s->ncand == BATCH)
				flush(s);
		}
	}
	drain(s);

	/* phase 2: the unreachable blocks, lowest address first */
	s->phase2 = 1;
	for (size_t i = 0; i < n; i++) {
		if (s->state[i] != HS_UNKNOWN)
			continue;
		s->state[i] = HS_DEFINITE;
		s->leader = (uint32_t)i;
		s->head = s->tail = 0;
		s->queue[s->tail++] = (uint32_t)i;
		drain(s);
	}

	for (size_t i = 0; i < n; i++) {
		uint8_t v = s->state[i];
		blocks[s->orig[i]].state = v;
		if (v == HS_REACHABLE)
			s->st.reachable++;
		else if (v == HS_INDIRECT)
			s->st.indirect++;
		else if (v == HS_DEFINITE)
			s->st.definite++;
		else if (v == HS_POSSIBLE)
			s->st.possible++;
	}
	s->st.ms = hs_now_ms() - t0;
	if (st)
		*st = s->st;
	scan_free(s);
	free(s);
	return 0;

nomem:
	scan_free(s);
	free(s);
	errno = ENOMEM;
	return -1;
}
