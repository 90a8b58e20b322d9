/* The quarantine of libetrace_heap.so (quarantine.h): one FIFO per thread,
 * so that a free takes no lock. A global FIFO under a lock cost an atomic
 * exchange per free (a tenth of the recorder's whole cost on heap_churn),
 * and under contention a thread that found it taken freed directly.
 *
 * A ring is used only by its thread while the thread lives: the hooks
 * never re-enter it (hr_busy), so its head and counts are plain variables.
 * When the thread ends its ring is left as it is, blocks and all, for the
 * next new thread to take over: a block freed by a thread that has ended
 * and written by another afterwards is still caught when it leaves (or at
 * exit). Nothing is checked at a thread's end: the write may come after.
 *
 * A quarantined block is marked in its last 8 usable bytes (redzone.c)
 * with its ring and slot, so a second free of it, from any thread, finds
 * it without a search and takes it out with a compare-and-swap on the
 * slot.
 * That free racing with the owner's eviction of the same block can free
 * it twice: only a program that frees a block twice gets there, and
 * glibc aborts on it as it would have without etrace.
 *
 * At exit (hr_q_flush) every ring is checked and emptied. Threads still
 * running are kept out first: a flag they read at each put, made visible
 * to them with membarrier(2) (the asymmetric fence liburcu uses: nothing
 * to pay on the free path), then a bounded wait for each ring's in_op to
 * be 0. Without membarrier, rings of threads still running are left
 * unchecked.
 *
 * Blocks over 4 KiB are not held: only a sampled block's first 64 bytes
 * are checked (every byte of those a ring holds while it holds every
 * free: fill_of), and holding large blocks back made the allocator split and
 * fetch fresh memory (a 256K quarantine cost 10 ns an allocation on
 * heap_churn holding blocks up to 64 KiB, about nothing up to 4 KiB). A
 * use after free of a large block is left to the guard pages. */
#include "quarantine.h"
#include "redzone.h"
#include "sys.h"
#include "checks.h"
#include "../../bpf/events.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define Q_SLOTS 1024u             /* per ring */
#define Q_RINGS 4096u             /* ring ids: 12 bits of the trailer's mark */
#define Q_MAX_BLOCK 4096u
#define Q_BYTE HEAP_FREED_BYTE
/* Bytes of a sampled block filled and checked: its first cache line,
 * where a stale pointer's fields mostly are (a write further in is
 * missed). Filling and checking whole blocks at every held free cost 12%
 * over the recorder alone on heap_churn, mostly reading back memory freed
 * long before: whole blocks only while a ring holds every free (fill_of). */
#define Q_FILL 64u
#define Q_WORD (HEAP_FREED_BYTE * 0x0101010101010101ull)
/* Sampled (one in rate), a ring still holds every one of its first frees
 * (checks.h) */
#define Q_ALL_FIRST HEAP_QUARANTINE_ALL_FIRST

enum { R_FREE, R_OWNED, R_FLUSHED };

struct qent {
	void *p;           /* NULL once a second free took it out (atomic) */
	size_t n;          /* the allocator's usable size: its mark in the last 8 */
	size_t filled;     /* bytes filled from its start */
};

struct qring {
	struct qent q[Q_SLOTS];
	uint32_t head, count;   /* oldest at head */
	size_t held;
	unsigned skip;          /* frees to pass before the next one held */
	unsigned puts;          /* frees held, up to Q_ALL_FIRST */
	uint32_t id;
	int in_op;              /* the owner is inside hr_q_put (exit waits) */
	int state;              /* R_*, atomic */
};

static void (*free_fn)(void *);
static size_t limit;
static unsigned rate;            /* one free in rate held */
static struct qring *rings[Q_RINGS];
static uint32_t nrings;         /* atomic */
static int closing;             /* exit: no more puts (atomic) */
static int fenced;              /* membarrier registered */
static pthread_key_t end_key;
static int have_key;

/* the first ring (the main thread's, mostly) is static: a mapping made
 * for it would move where the program's own mappings go */
static struct qring first_ring;

static __thread struct qring *mine HR_TLS;
static __thread int ended HR_TLS;   /* this thread's ring was given up */

/* At a thread's end (a pthread key's destructor): its ring is left for
 * the next thread, its blocks still held. */
static void thread_ended(void *r)
{
	ended = 1;
	mine = NULL;
	__atomic_store_n(&((struct qring *)r)->state, R_FREE, __ATOMIC_RELEASE);
}

void hr_q_init(void (*real_free)(void *), size_t bytes, unsigned one_in)
{
	free_fn = real_free;
	limit = real_free ? bytes : 0;
	rate = one_in ? one_in : 1;
	if (!limit)
		return;
	have_key = pthread_key_create(&end_key, thread_ended) == 0;
	fenced = hr_sys1(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

/* This thread's ring: one a thread that ended left, or a new one. NULL
 * when none can be had (all ids used, no memory): free directly. */
static struct qring *my_ring(void)
{
	if (mine || ended || !have_key)
		return mine;
	uint32_t n = __atomic_load_n(&nrings, __ATOMIC_ACQUIRE);
	struct qring *r = NULL;
	for (uint32_t i = 0; i < n && !r; i++) {
		int f = R_FREE;
		struct qring *c = __atomic_load_n(&rings[i], __ATOMIC_ACQUIRE);
		if (c && __atomic_compare_exchange_n(&c->state, &f, R_OWNED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			r = c;
	}
	if (!r) {
		uint32_t id = __atomic_fetch_add(&nrings, 1, __ATOMIC_ACQ_REL);
		if (id >= Q_RINGS)
			return NULL;   /* nrings stays past the end */
		if (id == 0) {
			r = &first_ring;
		} else {
			long a = hr_sys6(SYS_mmap, 0, sizeof(struct qring), PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (a < 0 && a > -4096)
				return NULL;   /* the id stays unused */
			r = (struct qring *)a;
		}
		r->id = id;
		r->state = R_OWNED;
		__atomic_store_n(&rings[id], r, __ATOMIC_RELEASE);
	}
	if (pthread_setspecific(end_key, r) != 0) {
		__atomic_store_n(&r->state, R_FREE, __ATOMIC_RELEASE);
		return NULL;
	}
	return mine = r;
}

/* Bytes of a held block of u usable bytes filled: all of it up to its
 * mark while the ring holds every free (a thread's first Q_ALL_FIRST, or
 * --heap-check=all: a short run, where a bug is reproduced, has a write
 * anywhere in a block caught, at a cost bounded by those frees), the first
 * Q_FILL bytes of the sampled frees after that. */
static inline size_t fill_of(size_t u, int whole)
{
	return whole || u - 8 < Q_FILL ? u - 8 : Q_FILL;
}

/* The oldest block of r leaves: its pattern checked, then freed. */
static void evict(struct qring *r)
{
	struct qent *e = &r->q[r->head];
	r->head = (r->head + 1) % Q_SLOTS;
	r->count--;
	r->held -= e->n;
	/* a plain load and store, not an exchange: a locked instruction per
	 * free is what the ring per thread saves (see the race above) */
	void *p = __atomic_load_n(&e->p, __ATOMIC_ACQUIRE);
	__atomic_store_n(&e->p, NULL, __ATOMIC_RELAXED);
	if (!p)
		return;   /* taken out by a second free */
	/* its mark is left: a stale one is harmless (a slot that holds p
	 * again has p's current mark, hr_q_take); it is checked with the fill
	 * when it is on the fill's cache lines */
	size_t filled = e->filled;
	const unsigned char *b = p;
	uint32_t changed = 0;
	uint64_t first = 0;
	size_t i = 0;
	/* word by word while the fill is intact (the common case), byte by
	 * byte from the first changed word on */
	for (uint64_t w; i + 8 <= filled; i += 8) {
		memcpy(&w, b + i, 8);
		if (w != Q_WORD)
			break;
	}
	for (; i < filled; i++)
		if (b[i] != Q_BYTE && changed++ == 0)
			first = i;
	if (filled + 8 == e->n) {
		uint64_t want = hr_rz_qmark(p, (uint32_t)(e - r->q) + r->id * Q_SLOTS), have;
		memcpy(&have, b + e->n - 8, 8);
		for (unsigned k = 0; have != want && k < 8; k++)
			if ((uint8_t)(have >> 8 * k) != (uint8_t)(want >> 8 * k) && changed++ == 0)
				first = e->n - 8 + k;
	}
	if (changed && hr_ready())
		hr_put(ET_HEAP_UAF_WRITE, (uint64_t)(uintptr_t)p, first, changed, NULL, NULL);
	free_fn(p);
}

int hr_q_put(void *p, size_t n)
{
	if (!limit || n > Q_MAX_BLOCK + HR_SLACK_SHORT || n > limit || n < HR_SLACK_SHORT)
		return 0;
	struct qring *r = my_ring();
	if (!r)
		return 0;
	if (r->skip) {
		r->skip--;
		return 0;
	}
	int whole = r->puts < Q_ALL_FIRST || rate == 1;
	if (r->puts < Q_ALL_FIRST)
		r->puts++;
	else
		r->skip = rate - 1;
	r->in_op = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* ordered against exit's reads by its membarrier */
	int ok = 0;
	if (!__atomic_load_n(&closing, __ATOMIC_RELAXED)) {
		while (r->count && (r->count == Q_SLOTS || r->held + n > limit))
			evict(r);
		uint32_t slot = (r->head + r->count) % Q_SLOTS;
		size_t filled = fill_of(n, whole);
		memset(p, Q_BYTE, filled);
		uint64_t mark = hr_rz_qmark(p, r->id * Q_SLOTS + slot);
		memcpy((char *)p + n - 8, &mark, 8);
		r->q[slot].n = n;
		r->q[slot].filled = filled;
		__atomic_store_n(&r->q[slot].p, p, __ATOMIC_RELEASE);
		r->count++;
		r->held += n;
		ok = 1;
		/* the block the next put evicts first, and the entry after
		 * it, asked for now: freed long ago, its lines are out of
		 * the cache, and its check waited for them (two thirds of
		 * evict's time) */
		struct qent *next = &r->q[r->head];
		__builtin_prefetch(&r->q[(r->head + 2) % Q_SLOTS]);
		void *np = __atomic_load_n(&next->p, __ATOMIC_RELAXED);
		if (np)
			__builtin_prefetch(np);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&r->in_op, 0, __ATOMIC_RELEASE);
	return ok;
}

int hr_q_take(void *p, size_t u)
{
	uint32_t mark;
	if (!limit || !hr_rz_qmarked(p, u, &mark))
		return 0;
	uint32_t id = mark / Q_SLOTS, slot = mark % Q_SLOTS;
	struct qring *r = id < Q_RINGS ? __atomic_load_n(&rings[id], __ATOMIC_ACQUIRE) : NULL;
	if (!r)
		return 0;
	struct qent *e = &r->q[slot];
	void *want = p;
	return __atomic_compare_exchange_n(&e->p, &want, NULL, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Empties r (not in use by a thread now). */
static void drain(struct qring *r)
{
	while (r->count)
		evict(r);
}

void hr_q_flush(void)
{
	if (!limit || __atomic_exchange_n(&closing, 1, __ATOMIC_SEQ_CST))
		return;
	/* every running thread's next read of closing sees it, and its
	 * in_op store before that read is seen here */
	if (fenced && hr_sys1(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		fenced = 0;
	uint32_t n = __atomic_load_n(&nrings, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < Q_RINGS; i++) {
		struct qring *r = __atomic_load_n(&rings[i], __ATOMIC_ACQUIRE);
		if (!r)
			continue;
		int f = R_FREE;
		if (__atomic_compare_exchange_n(&r->state, &f, R_FLUSHED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			drain(r);   /* a thread that ended left it */
			continue;
		}
		if (f != R_OWNED || (r != mine && !fenced) || (r == mine && r->in_op))
			continue;   /* this thread's, interrupted by a signal inside a put: left */
		/* a running thread's: wait a little for it to leave the put */
		for (int spin = 0; spin < 1000 && __atomic_load_n(&r->in_op, __ATOMIC_ACQUIRE); spin++)
			hr_sys0(SYS_sched_yield);
		if (!__atomic_load_n(&r->in_op, __ATOMIC_ACQUIRE))
			drain(r);
	}
}
