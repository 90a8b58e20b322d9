/* The frame-pointer walk of libetrace_heap.so (stackwalk.h).
 *
 * Bounds. A frame is read only when it lies wholly inside the calling
 * thread's stack, between the hook's own frame and the stack's top; every
 * comparison is written so that it cannot wrap (cc1, built without frame
 * pointers, leaves rbp = -8: "f + 16 <= top" wrapped to true and the read
 * faulted). The stack is known per thread and cached in TLS:
 *  - the initial thread: the kernel's [stack] mapping, its top read from
 *    /proc/self/maps at start; it grows down on demand, so everything
 *    between the current sp and the top is mapped. It is trusted for sp
 *    within 128 MiB of the top: the kernel keeps at least that gap
 *    between the stack's top and the mmap area.
 *  - other threads: pthread_getattr_np (the thread's stack block, also a
 *    stack the program gave with pthread_attr_setstack), asked once per
 *    thread, outside the hot path.
 * An sp outside the thread's stack (a signal stack, a coroutine, a raw
 * clone() thread running on a stack glibc does not know) gets the caller
 * only.
 *
 * CFI first. Distribution code is built without frame pointers (glibc,
 * libstdc++, libffi, cc1, Rust's default): the chain past such a caller is
 * garbage. The callers come from the unwind tables through libgcc's
 * _Unwind_Backtrace, which finds a PC's tables with glibc's lock-free,
 * signal-safe _dl_find_object (glibc 2.35, GCC 12): ~100 ns for 5 frames
 * here. The frame-pointer chain is the fallback: before the constructor
 * ran (the first unwind may load what it needs), or where CFI ends at the
 * caller (code without unwind tables).
 *
 * Cached per call site. A thread calling from the same return address with
 * the same frame address (so the same stack pointer in its caller) and the
 * same return addresses still in the same stack slots is on the same call
 * path: each caller's frame follows from the return address and the frame
 * below it. A small per-thread table keyed by the return address keeps
 * the last walk from each site (the slots where CFI found each return
 * address, and the interned stack id): a hit costs a few loads instead of
 * an unwind (~1 us from a deep stack). Signal frames are never cached (the
 * return address there is not in a slot). */
#include "stackwalk.h"
#include "heapring.h"
#include "sys.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#define MAIN_STACK_SPAN (128ull << 20)

static uintptr_t main_top;          /* the initial thread's [stack] top */
static pthread_t main_thread;       /* the initial thread's descriptor */

/* this thread's stack, [t_lo, t_hi); t_known: asked already (0 none found) */
static __thread uintptr_t t_lo HR_TLS, t_hi HR_TLS;
static __thread int t_known HR_TLS;
static int cfi_ready;               /* the constructor's first unwind is done */

#define SITES 16                    /* cached call sites per thread, a power of two */
struct site {
	uint64_t ra, fp, caller_fp, gen;
	uint32_t id, n;                 /* the stack id; frames (1: nothing to check) */
	uint64_t slot[HR_FRAMES];       /* where frames[i] was read, i >= 1 */
	uint64_t val[HR_FRAMES];
};
static __thread struct site t_sites[SITES] HR_TLS;
/* the slots of this thread's last walk (0: not cacheable) */
static __thread uint64_t t_slot[HR_FRAMES] HR_TLS;
static __thread int t_cacheable HR_TLS;

struct unwinding {
	uint64_t *out;
	uint32_t n, max, skipped;
	uint64_t ra, prev_cfa;
	int found, signal;
};

static _Unwind_Reason_Code one_frame(struct _Unwind_Context *c, void *arg)
{
	struct unwinding *u = arg;
	int before = 0;
	uint64_t ip = (uint64_t)_Unwind_GetIPInfo(c, &before);
	uint64_t cfa = (uint64_t)_Unwind_GetCFA(c), prev = u->prev_cfa;
	u->prev_cfa = cfa;
	if (!ip)
		return _URC_END_OF_STACK;
	if (before)
		u->signal = 1;
	if (!u->found) {
		/* the library's own frames first, up to the hook's return */
		if (ip != u->ra)
			return ++u->skipped > 8 ? _URC_END_OF_STACK : _URC_NO_REASON;
		u->found = 1;
	}
	/* x86-64: a return address is the word below its callee's CFA */
	t_slot[u->n] = prev >= 8 ? prev - 8 : 0;
	u->out[u->n++] = ip;
	return u->n < u->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

static uint32_t cfi_walk(uint64_t *out, uint32_t max, void *ra)
{
	struct unwinding u = { .out = out, .max = max, .ra = (uint64_t)(uintptr_t)ra };
	_Unwind_Backtrace(one_frame, &u);
	t_cacheable = u.found && !u.signal;
	return u.found ? u.n : 0;
}

void hr_stack_init(void)
{
	static char buf[65536];
	main_thread = pthread_self();
	/* the first unwind sets up libgcc's tables (it may allocate) */
	uint64_t none[2];
	cfi_walk(none, 2, NULL);
	__atomic_store_n(&cfi_ready, 1, __ATOMIC_RELEASE);
	int fd = (int)hr_sys3(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	size_t n = 0;
	long r;
	while (n < sizeof(buf) - 1 && (r = hr_sys3(SYS_read, fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	hr_sys1(SYS_close, fd);
	buf[n] = 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strstr(line, "[stack]")) {
			char *dash;
			uintptr_t lo = (uintptr_t)strtoull(line, &dash, 16);
			uintptr_t hi = *dash == '-' ? (uintptr_t)strtoull(dash + 1, NULL, 16) : 0;
			if (lo < hi && hi > MAIN_STACK_SPAN)
				main_top = hi;
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
}

void hr_stack_forget(void)
{
	t_known = 0;
}

static void learn_stack(void)
{
	t_known = 1;
	t_lo = t_hi = 0;
	if (pthread_equal(pthread_self(), main_thread)) {
		if (main_top) {
			t_lo = main_top - MAIN_STACK_SPAN;
			t_hi = main_top;
		}
		return;
	}
	pthread_attr_t a;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	void *addr;
	size_t size;
	if (pthread_attr_getstack(&a, &addr, &size) == 0 && addr && size && (uintptr_t)addr + size > (uintptr_t)addr) {
		t_lo = (uintptr_t)addr;
		t_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&a);
}

uint32_t hr_walk(uint64_t *out, uint32_t max, void *ra, void *fp)
{
	t_cacheable = 0;
	if (__atomic_load_n(&cfi_ready, __ATOMIC_ACQUIRE)) {
		uint32_t k = cfi_walk(out, max, ra);
		if (k >= 2)
			return k;
		t_cacheable = 0;
	}
	uint32_t n = 0;
	out[n++] = (uint64_t)(uintptr_t)ra;
	if (!t_known)
		learn_stack();
	uintptr_t f = (uintptr_t)fp, lo = t_lo, hi = t_hi;
	/* a frame is two words, both below hi: f <= hi - 16, written without
	 * an addition that could wrap */
	if (hi - lo < 16 || f < lo || f > hi - 16 || (f & 7))
		return n;
	/* fp is the hook's own frame: [fp] is its caller's frame pointer */
	uintptr_t below = f;
	f = *(const uintptr_t *)f;
	while (n < max && f > below && f <= hi - 16 && !(f & 7)) {
		uintptr_t r = ((const uintptr_t *)f)[1];
		if (r < 4096)
			break;
		out[n++] = r;
		below = f;
		f = ((const uintptr_t *)f)[0];
	}
	return n;
}

/* Whether a word of this thread's stack can be read: between the frame
 * fp (the hook's, on this stack) and the stack's top. */
static inline int on_stack(uint64_t a, uint64_t fp)
{
	return a >= fp && a <= (uint64_t)t_hi - 8 && !(a & 7);
}

static inline struct site *site_of(void *ra)
{
	uint64_t h = (uint64_t)(uintptr_t)ra;
	h ^= h >> 17;
	return &t_sites[(h * 0x9e3779b97f4a7c15ull) >> 60 & (SITES - 1)];
}

uint32_t hr_walk_cached(void *ra, void *fp, uint64_t gen)
{
#if defined(__x86_64__)
	struct site *s = site_of(ra);
	uint64_t f = (uint64_t)(uintptr_t)fp;
	if (s->ra != (uint64_t)(uintptr_t)ra || s->fp != f || s->gen != gen || !s->id || !t_known ||
	    !on_stack(f, f) || s->caller_fp != *(const uint64_t *)fp)
		return 0;
	for (uint32_t i = 1; i < s->n; i++)
		if (*(const uint64_t *)(uintptr_t)s->slot[i] != s->val[i])
			return 0;
	return s->id;
#else
	(void)ra, (void)fp, (void)gen;
	return 0;
#endif
}

void hr_walk_remember(void *ra, void *fp, uint64_t gen, const uint64_t *frames, uint32_t n, uint32_t id)
{
#if defined(__x86_64__)
	uint64_t f = (uint64_t)(uintptr_t)fp;
	if (!t_cacheable || !id || !t_known || !on_stack(f, f))
		return;
	for (uint32_t i = 1; i < n; i++)
		if (!on_stack(t_slot[i], f) || *(const uint64_t *)(uintptr_t)t_slot[i] != frames[i])
			return;
	struct site *s = site_of(ra);
	s->ra = (uint64_t)(uintptr_t)ra;
	s->fp = f;
	s->caller_fp = *(const uint64_t *)fp;
	s->gen = gen;
	s->id = id;
	s->n = n;
	for (uint32_t i = 1; i < n; i++) {
		s->slot[i] = t_slot[i];
		s->val[i] = frames[i];
	}
#else
	(void)ra, (void)fp, (void)gen, (void)frames, (void)n, (void)id;
#endif
}
