/* libetrace_heap.so, the interposed allocator API: each function calls
 * the next definition (libc's, or an allocator the user preloaded after
 * this library) and records the call (recorder.h). Calls made while the
 * real functions are being looked up (dlsym may allocate) are served from
 * a static buffer that is never freed. Built with -fexceptions: operator
 * new may throw through these frames, and hr_busy is reset on the way. */
#include "recorder.h"
#include "redzone.h"
#include "quarantine.h"
#include "checks.h"
#include "guard.h"
#include "sys.h"
#include "../../bpf/events.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef void *(*fn_malloc)(size_t);
typedef void (*fn_free)(void *);
typedef void *(*fn_calloc)(size_t, size_t);
typedef void *(*fn_realloc)(void *, size_t);
typedef void *(*fn_reallocarray)(void *, size_t, size_t);
typedef void *(*fn_memalign)(size_t, size_t);
typedef int (*fn_posix_memalign)(void **, size_t, size_t);
typedef void *(*fn_new_nt)(size_t, const void *);
typedef void *(*fn_new_al)(size_t, size_t);
typedef void *(*fn_new_al_nt)(size_t, size_t, const void *);
typedef void (*fn_del_sz)(void *, size_t);
typedef void (*fn_del_nt)(void *, const void *);
typedef void (*fn_del_al_nt)(void *, size_t, const void *);
typedef void (*fn_del_sz_al)(void *, size_t, size_t);
typedef void (*fn_exit)(int);

static struct {
	fn_malloc malloc;
	fn_free free;
	fn_calloc calloc;
	fn_realloc realloc;
	fn_reallocarray reallocarray;
	fn_memalign memalign, aligned_alloc;
	fn_malloc valloc, pvalloc;
	fn_posix_memalign posix_memalign;
	size_t (*usable)(void *);
} real;

/* Bytes of a new block filled (--heap-check=all, checks.h): 0 none. */
static size_t fill_new;

/* ---- the bootstrap buffer --------------------------------------------------- */

static _Alignas(64) char boot[64 * 1024];
static size_t boot_used;   /* atomic */
static int resolving;

static int is_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

static void *boot_alloc(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	size_t need = (n + 16 + align - 1) & ~(align - 1);
	size_t at = __atomic_fetch_add(&boot_used, need + align, __ATOMIC_RELAXED);
	if (at + need + align > sizeof(boot))
		return NULL;
	uintptr_t p = ((uintptr_t)(boot + at) + 16 + align - 1) & ~(uintptr_t)(align - 1);
	((size_t *)p)[-1] = n;
	return (void *)p;   /* zeroed: static storage, never reused */
}

static void resolve(void)
{
	if (real.malloc && real.free)
		return;
	resolving = 1;
	real.calloc = (fn_calloc)dlsym(RTLD_NEXT, "calloc");
	real.free = (fn_free)dlsym(RTLD_NEXT, "free");
	real.realloc = (fn_realloc)dlsym(RTLD_NEXT, "realloc");
	real.reallocarray = (fn_reallocarray)dlsym(RTLD_NEXT, "reallocarray");
	real.memalign = (fn_memalign)dlsym(RTLD_NEXT, "memalign");
	real.aligned_alloc = (fn_memalign)dlsym(RTLD_NEXT, "aligned_alloc");
	real.valloc = (fn_malloc)dlsym(RTLD_NEXT, "valloc");
	real.pvalloc = (fn_malloc)dlsym(RTLD_NEXT, "pvalloc");
	real.posix_memalign = (fn_posix_memalign)dlsym(RTLD_NEXT, "posix_memalign");
	real.usable = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	fn_malloc m = (fn_malloc)dlsym(RTLD_NEXT, "malloc");
	/* redzones with glibc's allocator only: the plausibility test of a
	 * freed pointer (rz_plausible) reads its chunk header */
	Dl_info di;
	int glibc = m && dladdr((void *)m, &di) && di.dli_fname && strstr(di.dli_fname, "/libc.so.");
	/* what etrace asked for (--heap-check): none without it */
	struct hr_checks ck = hr_checks_parse(getenv(HR_ENV_CHECK));
	hr_rz_init(glibc && ck.mode != HEAP_CHECK_OFF ? real.usable : NULL);
	/* the quarantine marks its blocks in their redzone trailers */
	hr_q_init(hr_rz_on ? real.free : NULL, ck.quarantine, heap_quarantine_one_in(ck.mode, ck.quarantine));
	hr_guard_init(hr_rz_on ? ck.guard_rate : 0);
	fill_new = hr_rz_on && ck.mode == HEAP_CHECK_ALL ? HEAP_NEW_FILL : 0;
	__atomic_store_n(&real.malloc, m, __ATOMIC_RELEASE);
	resolving = 0;
}

/* p, a new block of n bytes nothing wrote yet: filled, so that what the
 * program reads from it before writing is the pattern. */
static inline void new_filled(void *p, size_t n)
{
	if (fill_new && p)
		memset(p, HEAP_NEW_BYTE, n < fill_new ? n : fill_new);
}

/* ---- record or not ----------------------------------------------------------- */

static void unbusy(int *owned)
{
	if (*owned)
		hr_busy = 0;
}

/* A hook's frame: records when this thread is not already inside the
 * library. The cleanup runs on a normal return and when an exception
 * from operator new unwinds through. */
#define ENTER(rec)                                                        \
	int rec = !hr_busy;                                               \
	int guard_ __attribute__((cleanup(unbusy), unused)) = rec;        \
	if (rec)                                                          \
		hr_busy = 1

#define PUT(rec, op, ptr, size, arg)                                                                              \
	do {                                                                                                      \
		if (rec && hr_ready())                                                                            \
			hr_put(op, (uint64_t)(uintptr_t)(ptr), (uint64_t)(size), (uint64_t)(arg),                 \
			       __builtin_return_address(0), __builtin_frame_address(0));                          \
		else if (rec)                                                                                     \
			hr_unrecorded();                                                                          \
	} while (0)


/* ---- redzones -------------------------------------------------------------------- */

/* Bytes to ask the allocator for n: n, or one more where glibc would
 * leave no slack for the redzone (slack.h). */
static inline size_t rz_size(size_t n)
{
	return hr_rz_ask(n);
}

static inline void note_marked(const void *p, size_t n);

static inline void rz_mark_as(void *p, size_t n, enum hr_rz_have have)
{
	if (p && hr_rz_on) {
		note_marked(p, n);
		hr_rz_mark(p, n, have);
	}
}

/* a new block, nothing in it yet */
static inline void rz_mark(void *p, size_t n)
{
	rz_mark_as(p, n, HR_RZ_FRESH);
}

/* The span of the blocks the hooks marked: a pointer outside it is none of
 * ours, and its memory is not read (a wild pointer given to free must
 * fault, or be refused, in the allocator as it would without etrace).
 * Kept as page numbers: an address here would be a pointer to the lowest
 * block, and the leak scan would find that block reachable. */
static uintptr_t marked_lo = UINTPTR_MAX, marked_hi;

static inline void note_marked(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p >> 12, e = (((uintptr_t)p + n + HR_SLACK_SHORT) >> 12) + 1;
	if (e < a)
		e = UINTPTR_MAX;
	uintptr_t lo = __atomic_load_n(&marked_lo, __ATOMIC_RELAXED);
	while (a < lo && !__atomic_compare_exchange_n(&marked_lo, &lo, a, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	uintptr_t hi = __atomic_load_n(&marked_hi, __ATOMIC_RELAXED);
	while (e > hi && !__atomic_compare_exchange_n(&marked_hi, &hi, e, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Whether p can be one of our glibc chunks at all: inside the span of
 * marked blocks, aligned, and a chunk header whose size is sane (so that
 * malloc_usable_size does not read far away). */
static inline int rz_plausible(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	if (a & 15 || (a >> 12) < __atomic_load_n(&marked_lo, __ATOMIC_RELAXED) ||
	    (a >> 12) >= __atomic_load_n(&marked_hi, __ATOMIC_RELAXED))
		return 0;
	size_t sz = ((const size_t *)p)[-1];
	size_t csz = sz & ~(size_t)7;
	if (csz < 32 || csz & 15)
		return 0;
	if (sz & 2)   /* mmapped: whole pages */
		return (csz & 4095) == 0;
	return csz <= (64u << 20);
}

/* The redzone of p (u usable bytes), about to go back: a changed one is
 * an overflow record (op: the function that found it; ra, fp: its
 * caller), put when rec. The long form's finding says which bytes
 * changed; the short form's, what the slack holds, for the model to judge
 * with the block's size (slack.h). */
static inline void rz_found(void *p, size_t u, int rec, unsigned op, void *ra, void *fp)
{
	uint64_t a, b;
	enum hr_rz_state st = hr_rz_check(p, u, &a, &b);
	if ((st == HR_RZ_EVIDENCE || st == HR_RZ_CHANGED) && rec && hr_ready())
		hr_put(ET_HEAP_OVERFLOW, (uintptr_t)p, a, ((uint64_t)op << 32) | b, ra, fp);
}

/* p about to be reallocated or freed by realloc (op): its redzone checked,
 * and a block the quarantine holds (a free of it before) taken out and
 * freed first, as the allocator would have had it. */
static inline void rz_before_realloc(void *p, unsigned op, void *ra, void *fp)
{
	if (!hr_rz_on || !rz_plausible(p))
		return;
	size_t u = hr_rz_usable(p);
	if (hr_q_take(p, u))
		real.free(p);
	else
		rz_found(p, u, 1, op, ra, fp);
}

/* ---- guard pages and the checked release ---------------------------------------- */

/* A block of n bytes for the program: against a guard page when this
 * allocation is sampled, else from the allocator with its redzone. */
static inline void *block_alloc(size_t n)
{
	void *p;
	if (hr_guard_sample() && (p = hr_guard_alloc(n, 0))) {
		new_filled(p, n);
		return p;
	}
	p = real.malloc(rz_size(n));
	rz_mark(p, n);
	new_filled(p, n);
	return p;
}

/* A second free of a guarded block (or a pointer into the pool that is no
 * block's start): glibc aborts on a double free, and so does the program
 * here, as it would have without etrace; its free was recorded first, so
 * the report names both frees. */
static __attribute__((noreturn, noinline)) void guard_abort(void)
{
	static const char msg[] = "free(): double free detected (a block under an etrace guard page)\n";
	hr_sys3(SYS_write, 2, msg, sizeof(msg) - 1);
	abort();
}

/* p (not NULL, not the bootstrap buffer's) goes back, its call already
 * recorded unless rec is 0: the guarded block's pages made inaccessible,
 * or its redzone checked and the block quarantined or freed. A changed
 * byte is an overflow record (op: the function that found it; ra, fp: its
 * caller). */
static void release(void *p, int rec, unsigned op, void *ra, void *fp)
{
	if (hr_guard_owns(p)) {
		size_t n = 0;
		uint64_t f = 0;
		uint32_t c = 0;
		if (!hr_guard_free(p, &n, &f, &c))
			guard_abort();   /* freed before (the free is recorded) */
		if (c && rec && hr_ready())
			hr_put(ET_HEAP_OVERFLOW, (uintptr_t)p, f, ((uint64_t)op << 32) | c, ra, fp);
		return;
	}
	if (!hr_rz_on || !rz_plausible(p)) {
		real.free(p);
		return;
	}
	size_t u = hr_rz_usable(p);
	/* a block the quarantine holds has its mark where the tag was: the
	 * common case, an intact slack, is not a block it holds. A second
	 * free of a held block: the free the program made first is done now,
	 * then this one, as they would have been without the quarantine
	 * (glibc may abort on it) */
	if (u < HR_SLACK_SHORT || !hr_rz_intact(p, u)) {
		if (hr_q_take(p, u)) {
			real.free(p);
			real.free(p);
			return;
		}
		rz_found(p, u, rec, op, ra, fp);
	}
	if (!(rec && hr_q_put(p, u)))
		real.free(p);
}

/* realloc of a guarded block: a new block (guarded if sampled), the
 * contents copied, the old one released. */
static void *guard_realloc(void *old, size_t n, int rec, unsigned op, void *ra, void *fp)
{
	int live;
	size_t had = hr_guard_size(old, &live);
	if (!live) {
		errno = EINVAL;   /* freed before: glibc would abort or fail */
		return NULL;
	}
	if (!n) {
		release(old, rec, op, ra, fp);
		return NULL;
	}
	void *p = block_alloc(n);
	if (p) {
		memcpy(p, old, had < n ? had : n);
		release(old, rec, op, ra, fp);
	}
	return p;
}

/* ---- C ------------------------------------------------------------------------ */

EXPORT void *malloc(size_t n)
{
	if (!real.malloc) {
		if (resolving)
			return boot_alloc(n, 16);
		resolve();
		if (!real.malloc)
			return boot_alloc(n, 16);
	}
	if (hr_busy) {
		/* inside the library, or a signal handler inside a hook: not
		 * recorded, but marked, so that its free finds its redzone */
		void *p = real.malloc(rz_size(n));
		rz_mark(p, n);
		return p;
	}
	hr_busy = 1;
	void *p = block_alloc(n);
	int e = errno;
	PUT(1, ET_HEAP_MALLOC, p, n, 0);
	errno = e;
	hr_busy = 0;
	return p;
}

EXPORT void free(void *p)
{
	if (!p || is_boot(p))
		return;
	if (!real.free)
		resolve();
	if (hr_busy) {
		release(p, 0, ET_HEAP_FREE, NULL, NULL);
		return;
	}
	hr_busy = 1;
	int e = errno;
	/* recorded before the block goes back: another thread may get the
	 * same address from its next malloc, and its record must come after;
	 * and before its memory is read, so that a wild pointer that faults
	 * was seen given to free */
	PUT(1, ET_HEAP_FREE, p, 0, (uintptr_t)__builtin_frame_address(0));
	release(p, 1, ET_HEAP_FREE, __builtin_return_address(0), __builtin_frame_address(0));
	errno = e;
	hr_busy = 0;
}

EXPORT void *calloc(size_t n, size_t sz)
{
	if (!real.calloc) {
		if (resolving) {
			if (sz && n > (size_t)-1 / sz)
				return NULL;
			return boot_alloc(n * sz, 16);
		}
		resolve();
	}
	int fits = !sz || n <= (SIZE_MAX - 1) / sz;
	if (hr_busy) {
		void *p = fits ? real.calloc(rz_size(n * sz), 1) : real.calloc(n, sz);
		if (fits)
			rz_mark_as(p, n * sz, HR_RZ_ZEROS);
		return p;
	}
	hr_busy = 1;
	void *p;
	if (hr_rz_on && fits && hr_guard_sample() && (p = hr_guard_alloc(n * sz, 0))) {
		/* its pages are new: zeroed */
	} else if (hr_rz_on && fits) {
		p = real.calloc(rz_size(n * sz), 1);
		rz_mark_as(p, n * sz, HR_RZ_ZEROS);
	} else {
		p = real.calloc(n, sz);
	}
	int e = errno;
	PUT(1, ET_HEAP_CALLOC, p, n * sz, 0);
	errno = e;
	hr_busy = 0;
	return p;
}

static void *grow_boot(void *old, size_t n)
{
	/* a block of the bootstrap buffer moves to the real allocator */
	size_t had = ((size_t *)old)[-1];
	void *p = malloc(n);
	if (p)
		memcpy(p, old, had < n ? had : n);
	return p;
}

EXPORT void *realloc(void *old, size_t n)
{
	if (old && is_boot(old))
		return grow_boot(old, n);
	if (!real.realloc) {
		if (resolving)
			return boot_alloc(n, 16);
		resolve();
	}
	if (old && hr_guard_owns(old)) {
		int rec = !hr_busy;
		hr_busy = 1;
		void *p = guard_realloc(old, n, rec, ET_HEAP_REALLOC, __builtin_return_address(0),
					__builtin_frame_address(0));
		int e = errno;
		PUT(rec, ET_HEAP_REALLOC, p, n, (uintptr_t)old);
		errno = e;
		if (rec)
			hr_busy = 0;
		return p;
	}
	if (hr_busy) {
		void *p = real.realloc(old, n ? rz_size(n) : 0);
		if (n)
			rz_mark_as(p, n, HR_RZ_KEEP);
		return p;
	}
	hr_busy = 1;
	void *p;
	if (old)
		rz_before_realloc(old, ET_HEAP_REALLOC, __builtin_return_address(0), __builtin_frame_address(0));
	if (old && !n) {
		p = real.realloc(old, 0);   /* frees it */
	} else {
		/* failed, old keeps its slack as it is: still the program's */
		p = real.realloc(old, rz_size(n));
		rz_mark_as(p, n, HR_RZ_KEEP);
	}
	int e = errno;
	PUT(1, ET_HEAP_REALLOC, p, n, (uintptr_t)old);
	errno = e;
	hr_busy = 0;
	return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t sz)
{
	if (old && is_boot(old)) {
		if (sz && n > (size_t)-1 / sz) {
			errno = ENOMEM;
			return NULL;
		}
		return grow_boot(old, n * sz);
	}
	resolve();
	if (old && hr_guard_owns(old)) {
		if (sz && n > SIZE_MAX / sz) {
			errno = ENOMEM;
			return NULL;
		}
		return realloc(old, n * sz);
	}
	if (hr_busy || !real.reallocarray) {
		return real.reallocarray ? real.reallocarray(old, n, sz) : NULL;
	}
	hr_busy = 1;
	void *p;
	if (old)
		rz_before_realloc(old, ET_HEAP_REALLOCARRAY, __builtin_return_address(0), __builtin_frame_address(0));
	if (hr_rz_on && (!sz || n <= (SIZE_MAX - 1) / sz)) {
		/* reallocarray is realloc with the product checked: the new
		 * block marked as realloc's */
		p = real.realloc(old, rz_size(n * sz));
		rz_mark_as(p, n * sz, HR_RZ_KEEP);
	} else {
		p = real.reallocarray(old, n, sz);
	}
	int e = errno;
	PUT(1, ET_HEAP_REALLOCARRAY, p, n * sz, (uintptr_t)old);
	errno = e;
	hr_busy = 0;
	return p;
}

/* A sampled aligned allocation against a guard page (alignments up to a
 * page), or NULL: allocate as usual. */
static inline void *guarded_aligned(int rec, size_t n, size_t align)
{
	if (!rec || !hr_rz_on || !align || (align & (align - 1)) || align > 4096 || !hr_guard_sample())
		return NULL;
	return hr_guard_alloc(n, align);
}

static __attribute__((noinline)) void *aligned(fn_memalign f, unsigned op, size_t align, size_t n, void *ra, void *fp)
{
	int rec = !hr_busy;
	if (rec)
		hr_busy = 1;
	void *p = guarded_aligned(rec, n, align);
	if (!p) {
		/* marked also inside the library: aligned operator new comes
		 * here through libstdc++ */
		p = f ? f(align, rz_size(n)) : NULL;
		rz_mark(p, n);
	}
	new_filled(p, n);
	int e = errno;
	if (rec && hr_ready())
		hr_put(op, (uintptr_t)p, n, align, ra, fp);
	else if (rec)
		hr_unrecorded();
	errno = e;
	if (rec)
		hr_busy = 0;
	return p;
}

EXPORT __attribute__((noinline)) void *memalign(size_t align, size_t n)
{
	if (resolving)
		return boot_alloc(n, align);
	resolve();
	return aligned(real.memalign, ET_HEAP_MEMALIGN, align, n, __builtin_return_address(0), __builtin_frame_address(0));
}

EXPORT __attribute__((noinline)) void *aligned_alloc(size_t align, size_t n)
{
	if (resolving)
		return boot_alloc(n, align);
	resolve();
	return aligned(real.aligned_alloc, ET_HEAP_ALIGNED_ALLOC, align, n, __builtin_return_address(0),
		       __builtin_frame_address(0));
}

static __attribute__((noinline)) void *page_aligned(fn_malloc f, unsigned op, size_t n, size_t guard_n, void *ra, void *fp)
{
	int rec = !hr_busy;
	if (rec)
		hr_busy = 1;
	void *p = guarded_aligned(rec, guard_n, 4096);
	if (!p) {
		p = f ? f(rz_size(n)) : NULL;
		rz_mark(p, n);
	}
	new_filled(p, n);
	int e = errno;
	if (rec && hr_ready())
		hr_put(op, (uintptr_t)p, n, (uint64_t)sysconf(_SC_PAGESIZE), ra, fp);
	else if (rec)
		hr_unrecorded();
	errno = e;
	if (rec)
		hr_busy = 0;
	return p;
}

EXPORT __attribute__((noinline)) void *valloc(size_t n)
{
	resolve();
	return page_aligned(real.valloc, ET_HEAP_VALLOC, n, n, __builtin_return_address(0), __builtin_frame_address(0));
}

EXPORT __attribute__((noinline)) void *pvalloc(size_t n)
{
	resolve();
	/* pvalloc gives whole pages (one for 0 bytes) */
	size_t whole = n ? (n <= SIZE_MAX - 4095 ? (n + 4095) & ~(size_t)4095 : 0) : 4096;
	return page_aligned(real.pvalloc, ET_HEAP_PVALLOC, n, whole, __builtin_return_address(0),
			    __builtin_frame_address(0));
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (resolving) {
		*out = boot_alloc(n, align);
		return *out ? 0 : ENOMEM;
	}
	resolve();
	if (hr_busy || !real.posix_memalign) {
		int rc = real.posix_memalign ? real.posix_memalign(out, align, rz_size(n)) : ENOMEM;
		if (rc == 0)
			rz_mark(*out, n);
		return rc;
	}
	hr_busy = 1;
	int rc = 0;
	void *g = align % sizeof(void *) == 0 ? guarded_aligned(1, n, align) : NULL;
	if (g) {
		*out = g;
	} else {
		rc = real.posix_memalign(out, align, rz_size(n));
		if (rc == 0)
			rz_mark(*out, n);
	}
	if (rc == 0)
		new_filled(*out, n);
	int e = errno;
	PUT(1, ET_HEAP_POSIX_MEMALIGN, rc == 0 ? *out : NULL, n, align);
	errno = e;
	hr_busy = 0;
	return rc;
}

/* What the program may use of a block: what it asked for (the redzone past
 * it is not the program's). */
EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p))
		return ((size_t *)p)[-1];
	if (!real.usable)
		resolve();
	size_t n;
	int live;
	if (hr_guard_owns(p))
		return hr_guard_size(p, &live);
	if (hr_rz_on && rz_plausible(p) && hr_rz_size(p, hr_rz_usable(p), &n))
		return n;
	return real.usable ? real.usable(p) : 0;
}

/* ---- exit -------------------------------------------------------------------------- */

/* The program's own _exit (a forked child, a fast exit): hand over for the
 * leak scan first. exit() reaches the library's destructor instead. */
EXPORT void _exit(int status)
{
	hr_busy = 1;
	hr_exiting();
	fn_exit f = (fn_exit)dlsym(RTLD_NEXT, "_exit");
	if (f)
		f(status);
	for (;;)
		syscall(231 /* exit_group */, status);
}

EXPORT void _Exit(int status)
{
	_exit(status);
}

/* ---- C++ ------------------------------------------------------------------------------ */

/* The next definition of a C++ operator, looked up on first use (libstdc++
 * may be loaded later, by dlopen). */
static void *next_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		int was = hr_busy;
		hr_busy = 1;
		f = dlsym(RTLD_NEXT, name);
		hr_busy = was;
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

#define NEW1(sym, op)                                                     \
	EXPORT void *sym(size_t n)                                        \
	{                                                                 \
		static void *next;                                        \
		fn_malloc f = (fn_malloc)next_fn(&next, #sym);            \
		ENTER(rec);                                               \
		void *p = rec && hr_rz_on ? block_alloc(n) : NULL;        \
		if (!p)                                                   \
			p = f ? f(n) : malloc(n);                         \
		PUT(rec, op, p, n, 0);                                    \
		return p;                                                 \
	}

#define NEW_NT(sym, op)                                                   \
	EXPORT void *sym(size_t n, const void *nt)                        \
	{                                                                 \
		static void *next;                                        \
		fn_new_nt f = (fn_new_nt)next_fn(&next, #sym);            \
		ENTER(rec);                                               \
		void *p = rec && hr_rz_on ? block_alloc(n) : NULL;        \
		if (!p)                                                   \
			p = f ? f(n, nt) : malloc(n);                     \
		PUT(rec, op, p, n, 0);                                    \
		return p;                                                 \
	}

#define NEW_AL(sym, op)                                                   \
	EXPORT void *sym(size_t n, size_t al)                             \
	{                                                                 \
		static void *next;                                        \
		fn_new_al f = (fn_new_al)next_fn(&next, #sym);            \
		ENTER(rec);                                               \
		void *p = guarded_aligned(rec, n, al);                    \
		if (p)                                                    \
			new_filled(p, n);                                 \
		else                                                      \
			p = f ? f(n, al) : aligned_alloc(al, n);          \
		PUT(rec, op, p, n, al);                                   \
		return p;                                                 \
	}

#define NEW_AL_NT(sym, op)                                                \
	EXPORT void *sym(size_t n, size_t al, const void *nt)             \
	{                                                                 \
		static void *next;                                        \
		fn_new_al_nt f = (fn_new_al_nt)next_fn(&next, #sym);      \
		ENTER(rec);                                               \
		void *p = guarded_aligned(rec, n, al);                    \
		if (p)                                                    \
			new_filled(p, n);                                 \
		else                                                      \
			p = f ? f(n, al, nt) : aligned_alloc(al, n);      \
		PUT(rec, op, p, n, al);                                   \
		return p;                                                 \
	}

NEW1(_Znwm, ET_HEAP_NEW)
NEW1(_Znam, ET_HEAP_NEW_ARRAY)
NEW_NT(_ZnwmRKSt9nothrow_t, ET_HEAP_NEW)
NEW_NT(_ZnamRKSt9nothrow_t, ET_HEAP_NEW_ARRAY)
NEW_AL(_ZnwmSt11align_val_t, ET_HEAP_NEW)
NEW_AL(_ZnamSt11align_val_t, ET_HEAP_NEW_ARRAY)
NEW_AL_NT(_ZnwmSt11align_val_tRKSt9nothrow_t, ET_HEAP_NEW)
NEW_AL_NT(_ZnamSt11align_val_tRKSt9nothrow_t, ET_HEAP_NEW_ARRAY)

/* delete: recorded before the block goes back (see free). With the
 * checks on (glibc's allocator, whose operator delete calls free), the
 * block is released here as free would: the delete found an overflow, and
 * a deleted block goes into the quarantine. */
#define DEL(sym, op, params, args)                                        \
	EXPORT void sym params                                            \
	{                                                                 \
		static void *next;                                        \
		void (*f) params = (void(*) params)next_fn(&next, #sym);  \
		if (p && hr_rz_on && !is_boot(p)) {                       \
			ENTER(rec);                                       \
			PUT(rec, op, p, 0, (uintptr_t)__builtin_frame_address(0)); \
			release(p, rec, op, __builtin_return_address(0), __builtin_frame_address(0)); \
			return;                                           \
		}                                                         \
		if (p) {                                                  \
			ENTER(rec);                                       \
			PUT(rec, op, p, 0, (uintptr_t)__builtin_frame_address(0)); \
		}                                                         \
		if (f) {                                                  \
			hr_busy++;                                        \
			f args;                                           \
			hr_busy--;                                        \
		} else {                                                  \
			free(p);                                          \
		}                                                         \
	}

DEL(_ZdlPv, ET_HEAP_DELETE, (void *p), (p))
DEL(_ZdaPv, ET_HEAP_DELETE_ARRAY, (void *p), (p))
DEL(_ZdlPvm, ET_HEAP_DELETE, (void *p, size_t s), (p, s))
DEL(_ZdaPvm, ET_HEAP_DELETE_ARRAY, (void *p, size_t s), (p, s))
DEL(_ZdlPvSt11align_val_t, ET_HEAP_DELETE, (void *p, size_t al), (p, al))
DEL(_ZdaPvSt11align_val_t, ET_HEAP_DELETE_ARRAY, (void *p, size_t al), (p, al))
DEL(_ZdlPvmSt11align_val_t, ET_HEAP_DELETE, (void *p, size_t s, size_t al), (p, s, al))
DEL(_ZdaPvmSt11align_val_t, ET_HEAP_DELETE_ARRAY, (void *p, size_t s, size_t al), (p, s, al))
DEL(_ZdlPvRKSt9nothrow_t, ET_HEAP_DELETE, (void *p, const void *nt), (p, nt))
DEL(_ZdaPvRKSt9nothrow_t, ET_HEAP_DELETE_ARRAY, (void *p, const void *nt), (p, nt))
DEL(_ZdlPvSt11align_val_tRKSt9nothrow_t, ET_HEAP_DELETE, (void *p, size_t al, const void *nt), (p, al, nt))
DEL(_ZdaPvSt11align_val_tRKSt9nothrow_t, ET_HEAP_DELETE_ARRAY, (void *p, size_t al, const void *nt), (p, al, nt))
