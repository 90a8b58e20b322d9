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
 * Fast first. libgcc decodes the unwind tables again for every frame of
 * every call (~1 us a stack here, most of a record's cost). cfi.c reads a
 * PC's rule once and keeps it; the walk here follows those rules, a
 * lookup and two loads a frame, and gives the same return addresses
 * libgcc would (it stops where libgcc stops: an undefined return address,
 * a PC without tables). A rule it does not follow (a signal frame, a
 * DWARF expression) sends the whole stack to libgcc. Its reads are those
 * libgcc's would be (the tables say where the frames are; with an unknown
 * stack libgcc trusts them too), checked to climb the stack and, for the
 * initial thread, to stay below its top. */
#include "stackwalk.h"
#include "heapring.h"
#include "cfi.h"
#include "sites.h"
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
static __thread int t_asked HR_TLS;  /* whether this is the initial thread was asked (pthread_self) */
static int cfi_ready;               /* the constructor's first unwind is done */
static int rules_off;               /* ETRACE_HEAP_WALK=libgcc: every stack by libgcc (the
				       tests compare the two walks) */

struct unwinding {
	uint64_t *out;
	uint32_t n, max, skipped;
	uint64_t ra;
	int found;
};

static _Unwind_Reason_Code one_frame(struct _Unwind_Context *c, void *arg)
{
	struct unwinding *u = arg;
	int before = 0;
	uint64_t ip = (uint64_t)_Unwind_GetIPInfo(c, &before);
	(void)before;
	if (!ip)
		return _URC_END_OF_STACK;
	if (!u->found) {
		/* the library's own frames first, up to the hook's return */
		if (ip != u->ra)
			return ++u->skipped > 8 ? _URC_END_OF_STACK : _URC_NO_REASON;
		u->found = 1;
	}
	u->out[u->n++] = ip;
	return u->n < u->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

static uint32_t cfi_walk(uint64_t *out, uint32_t max, void *ra)
{
	struct unwinding u = { .out = out, .max = max, .ra = (uint64_t)(uintptr_t)ra };
	_Unwind_Backtrace(one_frame, &u);
	return u.found ? u.n : 0;
}

void hr_stack_init(void)
{
	static char buf[65536];
	main_thread = pthread_self();
	/* the first unwind sets up libgcc's tables (it may allocate) */
	uint64_t none[2];
	cfi_walk(none, 2, NULL);
	const char *w = getenv("ETRACE_HEAP_WALK");
	rules_off = w && strcmp(w, "libgcc") == 0;
	hr_sites_init();
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
	hr_sites_new_process();
	t_known = 0;
	t_asked = 0;
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

/* This thread's call sites (sites.h: a block outside TLS), by the return
 * address and the hook's frame (the same caller at another depth is
 * another entry), four ways a set, the least recently used way replaced.
 * A site may hold more than one way: the same call at the same depth
 * reached through different callers (libfribidi's run lists from two
 * functions of the test: with one entry a site, each call walked again
 * and interned the stack the other had replaced, a third of its 3.4 M
 * calls; cc1 found its site in 43% of 211 k calls with 16 sets of 2, 60%
 * with 32 sets of 4; 64 sets since, sites.h). A walk through an entry reuses the rule of every
 * frame whose pc is the one kept at that depth (a rule is a function of
 * the pc, for one generation of cfi.c's table) instead of looking it up,
 * and the recorder reuses the entry's stack id when every frame is the
 * same: each return address is still read from the stack and compared, so
 * a different stack is never given a cached id (a site taken over by
 * another call site keeps its frames and rules: they are only what the
 * walk compares with). Only the owning thread touches its entries, and
 * never from a signal handler that interrupted it in the library (hr_busy:
 * such a call is not recorded). A thread without a block (ending) walks
 * into one scratch entry, remembered for its next call only. */
static __thread struct hr_site t_scratch HR_TLS;

static unsigned set_of(uint64_t ra, uint64_t fp)
{
	return (unsigned)(((ra ^ (fp << 16) ^ (fp >> 4)) * 0x9e3779b97f4a7c15ull) >> (64 - __builtin_ctz(HR_SITE_SETS)));
}

/* Whether e is the site (ra, fp) walked before against the bound hi, by
 * rules of generation gen, and every word its walk read, read again in
 * the same order, still holds what it held: the walk is a function of
 * them (see rule_walk), it would find e's frames again. Each address is
 * read only after every word before it matched, so it is an address the
 * walk itself would read now. */
static inline int still_holds(const struct hr_site *e, uint64_t ra, uint64_t fp, uint64_t hi, uint64_t gen)
{
	if (e->ra != ra || e->fp != fp || !e->nrd || e->hi != hi || e->gen != gen)
		return 0;
	uint32_t k = 0;
	while (k < e->nrd && *(const uint64_t *)(uintptr_t)e->rda[k] == e->rdv[k])
		k++;
	return k == e->nrd;
}

/* e made the entry of the site (ra, fp), for a walk by rules of
 * generation gen. */
static struct hr_site *site_take(struct hr_site *e, uint64_t ra, uint64_t fp, uint64_t gen)
{
	if (e->gen != gen) {
		/* a library went away: none of the kept rules may be trusted */
		memset(e, 0, sizeof(*e));
		e->gen = gen;
	}
	if (e->ra != ra || e->fp != fp) {
		/* another site's: its reads and frames say nothing of this one
		 * (its pcs and their rules stay, for the walk to compare) */
		e->ra = ra;
		e->fp = fp;
		e->nrd = 0;
		e->n = 0;
		e->id = 0;
	}
	return e;
}

/* The entry a new walk of the site (ra, fp) goes into: the set's least
 * recently used way (another stack of the same site stays in its way). */
static struct hr_site *site_for_walk(struct hr_sites *S, unsigned set, uint64_t ra, uint64_t fp, uint64_t gen)
{
	unsigned way = 0;
	for (unsigned i = 1; i < HR_SITE_WAYS; i++)
		if ((int32_t)(S->used[set][i] - S->used[set][way]) < 0)
			way = i;
	S->used[set][way] = ++S->clock;
	return site_take(&S->e[set][way], ra, fp, gen);
}

/* The walk by cfi.c's rules, into e (the call site's entry). The hook's
 * caller runs at ra with sp = fp + 16 and rbp = *fp (the hook saved it
 * there). 0: a frame the rules do not follow, or a frame that does not
 * climb the stack. The frames go to e->pc (its id dropped unless they are
 * the same as before).
 *
 * The walk is a function of ra, fp, the bound hi (the stack's top: fp
 * is below it, checked by the caller) and the words it reads (the rules
 * are the pcs'): it keeps those reads in e, and a later call whose reads
 * all still hold (still_holds) is not walked again. rbp's value matters
 * only where a CFA is rbp-based (code without frame pointers keeps
 * anything in rbp): its read is kept then, after the reads its own
 * address came from. */
static uint32_t rule_walk(uint32_t max, void *ra, void *fp, uint64_t hi, struct hr_site *e)
{
#if defined(__x86_64__)
	uint64_t f = (uint64_t)(uintptr_t)fp;
	uint32_t nrd = 0;
	e->hi = hi;
	uint64_t pc = (uint64_t)(uintptr_t)ra, sp = f + 16, bpa = f, bp = *(const uint64_t *)(uintptr_t)f;
	int bp_kept = 0;
	uint32_t n = 1;
	int same = e->pc[0] == pc;
	if (!same) {
		e->pc[0] = pc;
		e->n = 0;              /* different frames: the id goes below */
	}
	for (;;) {
		/* pc is e->pc[n - 1]: its rule, kept or looked up */
		uint64_t r = e->rule[n - 1];
		if (!same || !r) {
			r = hr_cfi_rule(pc - 1);
			e->rule[n - 1] = r;
		}
		if (n >= max || (r & HR_CFI_END))
			break;
		if (!(r & HR_CFI_STEP))
			goto unfollowed;
		if ((r & HR_CFI_CFA_RBP) && !bp_kept) {
			e->rda[nrd] = bpa;
			e->rdv[nrd++] = bp;
			bp_kept = 1;
		}
		uint64_t base = (r & HR_CFI_CFA_RBP) ? bp : sp;
		uint64_t cfa = base + (uint64_t)(int64_t)hr_cfi_cfa_off(r);
		/* the return address is the word below the CFA: inside
		 * [sp, hi), above every word read before */
		if (cfa < base || cfa - 8 < sp || cfa > hi || (cfa & 7))
			goto unfollowed;
		if (r & HR_CFI_RBP_SAVED) {
			uint64_t a = cfa + (uint64_t)(int64_t)hr_cfi_rbp_off(r);
			if (a < sp || a > cfa - 8 || (a & 7))
				goto unfollowed;
			bpa = a;
			bp = *(const uint64_t *)(uintptr_t)a;
			bp_kept = 0;
		}
		pc = *(const uint64_t *)(uintptr_t)(cfa - 8);
		e->rda[nrd] = cfa - 8;
		e->rdv[nrd++] = pc;
		sp = cfa;
		if (!pc)
			break;
		/* the rule kept at this depth is this pc's only if the pc is */
		same = e->pc[n] == pc;
		if (!same) {
			e->pc[n] = pc;
			e->n = 0;      /* different frames: the id goes below */
		}
		n++;
	}
	if (n != e->n) {
		e->n = n;
		e->id = 0;
	}
	e->nrd = nrd;
	return n;
unfollowed:
	e->n = 0;
	e->id = 0;
	e->nrd = 0;
	return 0;
#else
	(void)max, (void)ra, (void)fp, (void)hi, (void)e;
	return 0;
#endif
}

/* Whether a walk from the hook's frame fp may use the rules and the call
 * sites: 0 when not (then libgcc, or the frame-pointer chain), else 1
 * with the bound hi of the stack fp is on. */
static inline int walk_bounds(void *fp, uint64_t *hi)
{
	if (!__atomic_load_n(&cfi_ready, __ATOMIC_ACQUIRE))
		return 0;
	/* the initial thread's bounds cost nothing to learn (asked once per
	 * thread: not a call per record) */
	if (__builtin_expect(!t_asked, 0)) {
		t_asked = 1;
		if (!t_known && pthread_equal(pthread_self(), main_thread))
			learn_stack();
	}
	uint64_t f = (uint64_t)(uintptr_t)fp;
	*hi = UINT64_MAX;
	if (t_known && t_hi && f >= t_lo && f < t_hi)
		*hi = t_hi;
	return !rules_off && !(f & 7) && f <= *hi - 16;
}

struct hr_site *hr_walk_known(void *ra, void *fp)
{
	uint64_t hi;
	if (!walk_bounds(fp, &hi))
		return NULL;
	uint64_t a = (uint64_t)(uintptr_t)ra, f = (uint64_t)(uintptr_t)fp;
	uint64_t gen = __atomic_load_n(&hr_cfi_generation, __ATOMIC_ACQUIRE);
	struct hr_sites *S = hr_sites_mine();
	if (!S)
		return still_holds(&t_scratch, a, f, hi, gen) ? &t_scratch : NULL;
	unsigned set = set_of(a, f);
	for (unsigned i = 0; i < HR_SITE_WAYS; i++) {
		struct hr_site *e = &S->e[set][i];
		if (still_holds(e, a, f, hi, gen)) {
			S->used[set][i] = ++S->clock;
			return e;
		}
	}
	return NULL;
}

uint32_t hr_walk(uint64_t *out, uint32_t max, void *ra, void *fp, struct hr_site **site)
{
	*site = NULL;
	if (__atomic_load_n(&cfi_ready, __ATOMIC_ACQUIRE)) {
		uint64_t hi;
		if (walk_bounds(fp, &hi)) {
			/* no entry of the site still holds (hr_walk_known):
			 * walked again into the set's least recently used way */
			uint64_t a = (uint64_t)(uintptr_t)ra, f = (uint64_t)(uintptr_t)fp;
			uint64_t gen = __atomic_load_n(&hr_cfi_generation, __ATOMIC_ACQUIRE);
			struct hr_sites *S = hr_sites_mine();
			struct hr_site *e;
			if (S)
				e = site_for_walk(S, set_of(a, f), a, f, gen);
			else
				e = site_take(&t_scratch, a, f, gen);
			uint32_t k = rule_walk(max, ra, fp, hi, e);
			if (k >= 2) {
				*site = e;
				return k;
			}
		}
		uint32_t k = cfi_walk(out, max, ra);
		if (k >= 2)
			return k;
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
