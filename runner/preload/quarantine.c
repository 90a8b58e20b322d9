/* The quarantine of libetrace_heap.so (quarantine.h). One FIFO per
 * process under a try-lock: a thread that finds it taken (another thread,
 * or a signal handler that interrupted this one) frees the block directly,
 * so nothing ever waits here. A quarantined block is marked in its redzone
 * trailer (redzone.c) with its slot, so a second free of it is found
 * without a search. Blocks over 64 KiB are not held (filling and checking
 * them would cost more than the chance of catching a write is worth). */
#include "quarantine.h"
#include "redzone.h"
#include "../../bpf/events.h"

#include <string.h>

#define Q_SLOTS 4096
#define Q_MAX_BLOCK (64u << 10)
#define Q_BYTE 0xfd
/* Bytes of a block filled and checked: its first cache line, where a
 * stale pointer's fields mostly are (a write further in is missed).
 * Filling and checking whole blocks cost 12% over the recorder alone on
 * heap_churn, mostly reading back memory freed long before. */
#define Q_FILL 64u
#define Q_WORD 0xfdfdfdfdfdfdfdfdull

struct qent {
	void *p;
	size_t n;
	char *trailer;     /* its redzone trailer, marked with the slot */
};

static void (*free_fn)(void *);
static size_t limit, held;
static struct qent q[Q_SLOTS];
static uint32_t head, count;       /* oldest at head */
static int lock;

void hr_q_init(void (*real_free)(void *), size_t bytes)
{
	free_fn = real_free;
	limit = real_free ? bytes : 0;
}

static int take_lock(void)
{
	return !__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE);
}

static void drop_lock(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

/* The oldest block leaves: its pattern checked, then freed. */
static void evict(void)
{
	struct qent e = q[head];
	q[head].p = NULL;
	head = (head + 1) % Q_SLOTS;
	count--;
	if (!e.p)
		return;   /* taken out by a double free */
	held -= e.n;
	hr_rz_unquarantine(e.trailer);
	size_t filled = e.n < Q_FILL ? e.n : Q_FILL;
	const unsigned char *b = e.p;
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
	if (changed && hr_ready())
		hr_put(ET_HEAP_UAF_WRITE, (uint64_t)(uintptr_t)e.p, first, changed, NULL, NULL);
	free_fn(e.p);
}

int hr_q_put(void *p, size_t n, char *trailer)
{
	if (!limit || n > Q_MAX_BLOCK || n > limit || !take_lock())
		return 0;
	while (count && (count == Q_SLOTS || held + n > limit))
		evict();
	uint32_t slot = (head + count) % Q_SLOTS;
	memset(p, Q_BYTE, n < Q_FILL ? n : Q_FILL);
	if (!hr_rz_quarantine(trailer, p, n, slot)) {
		drop_lock();
		return 0;
	}
	q[slot] = (struct qent){ p, n, trailer };
	count++;
	held += n;
	drop_lock();
	return 1;
}

int hr_q_take(void *p)
{
	uint32_t slot;
	if (!limit || !hr_rz_quarantined(p, &slot) || slot >= Q_SLOTS || !take_lock())
		return 0;
	int found = q[slot].p == p;
	if (found) {
		held -= q[slot].n;
		q[slot].p = NULL;
		hr_rz_unquarantine(q[slot].trailer);
	}
	drop_lock();
	return found;
}

void hr_q_flush(void)
{
	if (!limit || !take_lock())
		return;
	while (count)
		evict();
	drop_lock();
}
