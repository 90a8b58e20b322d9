/*
 * Heap analysis (see heap.h): live blocks, recent frees, errors, the leak
 * scan's result, and their rendering.
 *
 * Tables
 * ------
 * Live blocks: one open-addressing table per process (linear probing,
 * backward-shift deletion), 32 bytes a slot. The home slot of a block is the
 * hash of its 128-byte line (addr >> 7), not of its address: every block
 * starting in one line sits in the probe run of that line's home slot, so
 * "which block contains address p" (an interior free, a fault address) is
 * answered by scanning the runs of the few lines before p. Blocks larger
 * than 4 KiB are also entered, once per 64 KiB granule they cover, in a
 * second table, so that a pointer deep inside a big block finds it too.
 *
 * Recent frees: a ring of the last freed_keep frees per process (oldest
 * evicted first) with an address index; a block allocated again at the same
 * address leaves it.
 *
 * Stacks: frames[0..n) interned in one table for all processes (an id per
 * distinct stack); symbolized per process when a report shows them.
 */
#include "heap.h"
#include "reports/core/analysis.h"
#include "reports/verdict/verdict.h"
#include "reports/core/xalloc.h"
#include "reports/core/u64map.h"
#include "reports/suppress/supp.h"
#include "symbolize/cfiwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/crash/crash.h"
#include "symbolize/frame_print.h"
#include "reports/syscalls/decode.h"
#include "heapscan.h"
#include "symbolize/unwind.h"

#define LINE_SHIFT 7                 /* home slot: hash of addr >> 7 */
#define SMALL_MAX 4096               /* larger blocks also go in the granule table */
#define GRAN_SHIFT 16                /* 64 KiB granules */
#define GRAN_MAX_PER_BLOCK (1u << 14) /* 1 GiB: a fault further inside is not matched to the block */
#define GRAN_INDEX_MAX (1u << 20)     /* granule entries in all: past it (64 GiB of big blocks, or a
				       * forged recording) a block is not indexed, which only costs
				       * the "inside a block" wording of a fault */
#define NEAR_BYTES 64                /* "just past the end" for a fault address: this far, */
#define PAGE_BYTES 4096ull           /* or into the page after the block's last one */
#define STACK_RANGE (8ull << 20)     /* a freed pointer this close above sp is on the stack */
#define SIZE_MASK ((1ull << 48) - 1)
#define UNKNOWN_KEPT 8               /* frees of unknown pointers remembered per process */
#define UNKNOWN_SEARCHED 100000      /* unknown frees checked for being an interior pointer */
#define SYM_INLINE_MAX 8             /* frames per address (inline chain) */
#define TEXT_ERRORS_SHOWN 50
#define TEXT_LEAKS_SHOWN 50
#define TEXT_SUMMARIES_SHOWN 20
#define JSON_LEAKS_LISTED 1000

/* ---- the live block table -------------------------------------------------------- */

struct heap_block {
	uint64_t addr;          /* 0: empty slot */
	uint64_t meta;          /* size (48 bits) | op << 48 */
	uint64_t ts;
	uint32_t stack;
	int32_t tid;
};

static inline uint64_t blk_size(const struct heap_block *b)
{
	return b->meta & SIZE_MASK;
}

static inline int blk_op(const struct heap_block *b)
{
	return (int)((b->meta >> 48) & 0xff);
}

struct btab {
	struct heap_block *s;
	size_t cap, count;
};

static size_t line_home(size_t cap, uint64_t line)
{
	return mix64(line) & (cap - 1);
}

static struct heap_block *btab_find(const struct btab *t, uint64_t addr)
{
	if (!t->cap || !addr)
		return NULL;
	for (size_t i = line_home(t->cap, addr >> LINE_SHIFT); t->s[i].addr; i = (i + 1) & (t->cap - 1))
		if (t->s[i].addr == addr)
			return &t->s[i];
	return NULL;
}

static void btab_place(struct btab *t, const struct heap_block *b)
{
	size_t i = line_home(t->cap, b->addr >> LINE_SHIFT);
	while (t->s[i].addr)
		i = (i + 1) & (t->cap - 1);
	t->s[i] = *b;
	t->count++;
}

/* Adds b (its address is not in the table). */
static void btab_insert(struct btab *t, const struct heap_block *b)
{
	if ((t->count + 1) * 8 > t->cap * 5) {
		struct heap_block *old = t->s;
		size_t oldcap = t->cap;
		t->cap = oldcap ? oldcap * 2 : 1024;
		t->s = xcalloc(t->cap, sizeof(*t->s));
		t->count = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].addr)
				btab_place(t, &old[i]);
		free(old);
	}
	btab_place(t, b);
}

static void btab_remove(struct btab *t, struct heap_block *b)
{
	size_t mask = t->cap - 1, i = (size_t)(b - t->s);
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!t->s[j].addr)
			break;
		if (shift_ok(i, j, line_home(t->cap, t->s[j].addr >> LINE_SHIFT))) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].addr = 0;
	t->count--;
}

static void btab_copy(struct btab *to, const struct btab *from)
{
	*to = *from;
	if (from->cap) {
		to->s = xcalloc(from->cap, sizeof(*to->s));
		memcpy(to->s, from->s, from->cap * sizeof(*to->s));
	}
}

/* ---- big blocks by granule (a multimap: granule -> block address) ------------------- */

struct gent {
	uint64_t g1;            /* granule + 1; 0: empty slot */
	uint64_t addr;
};

struct gtab {
	struct gent *s;
	size_t cap, count;
};

static size_t gtab_home(size_t cap, uint64_t g1)
{
	return mix64(g1) & (cap - 1);
}

static void gtab_place(struct gtab *t, uint64_t g1, uint64_t addr)
{
	size_t i = gtab_home(t->cap, g1);
	while (t->s[i].g1)
		i = (i + 1) & (t->cap - 1);
	t->s[i] = (struct gent){ g1, addr };
	t->count++;
}

static void gtab_add(struct gtab *t, uint64_t g1, uint64_t addr)
{
	if ((t->count + 1) * 4 > t->cap * 3) {
		struct gent *old = t->s;
		size_t oldcap = t->cap;
		t->cap = oldcap ? oldcap * 2 : 256;
		t->s = xcalloc(t->cap, sizeof(*t->s));
		t->count = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].g1)
				gtab_place(t, old[i].g1, old[i].addr);
		free(old);
	}
	gtab_place(t, g1, addr);
}

static void gtab_del(struct gtab *t, uint64_t g1, uint64_t addr)
{
	if (!t->cap)
		return;
	size_t mask = t->cap - 1, i = gtab_home(t->cap, g1);
	while (t->s[i].g1 && !(t->s[i].g1 == g1 && t->s[i].addr == addr))
		i = (i + 1) & mask;
	if (!t->s[i].g1)
		return;
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!t->s[j].g1)
			break;
		if (shift_ok(i, j, gtab_home(t->cap, t->s[j].g1))) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].g1 = 0;
	t->count--;
}

/* Where "just past the end" of [a, a + size) ends: NEAR_BYTES past it, or
 * NEAR_BYTES into the next page (a block ending a mapping, as glibc's
 * mmapped chunks do, overflows into a fault at the next page). */
static uint64_t near_limit(uint64_t a, uint64_t size)
{
	uint64_t end = a + size;
	if (end < a)
		return UINT64_MAX;
	uint64_t page_end = (end + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
	uint64_t limit = (page_end < end ? UINT64_MAX : page_end) + NEAR_BYTES;
	if (limit < end + NEAR_BYTES)
		limit = end + NEAR_BYTES;
	return limit < end ? UINT64_MAX : limit;
}

/* The granules a block is entered in: [addr, near_limit). */
static void granules(uint64_t addr, uint64_t size, uint64_t *first, uint64_t *last)
{
	uint64_t end = near_limit(addr, size) - 1;
	*first = addr >> GRAN_SHIFT;
	*last = end >> GRAN_SHIFT;
	if (*last - *first >= GRAN_MAX_PER_BLOCK)
		*last = *first + GRAN_MAX_PER_BLOCK - 1;
}

static void big_add(struct gtab *t, uint64_t addr, uint64_t size)
{
	uint64_t g, last;
	granules(addr, size, &g, &last);
	if (t->count + (last - g + 1) > GRAN_INDEX_MAX)
		return;
	for (; g <= last; g++)
		gtab_add(t, g + 1, addr);
}

static void big_del(struct gtab *t, uint64_t addr, uint64_t size)
{
	uint64_t g, last;
	granules(addr, size, &g, &last);
	for (; g <= last; g++)
		gtab_del(t, g + 1, addr);
}

/* ---- per-process state ------------------------------------------------------------- */

struct heap_freed {
	uint64_t addr;          /* 0: gone (reallocated) */
	uint64_t size;
	uint64_t ts;            /* of the free */
	uint32_t alloc_stack, free_stack;
	int32_t tid;            /* who freed it */
	uint8_t op, free_op;
};

struct unknown_free {
	uint64_t addr, ts;
	uint32_t stack;
	int tid, op;
	bool followed;          /* the thread made another allocator call after it */
};

#define GROUP_ADDRS 4   /* block addresses kept per group: its lowest */

struct leak_group {
	uint32_t stack;
	uint8_t kind;           /* HS_DEFINITE, HS_INDIRECT, HS_POSSIBLE or HS_REACHABLE */
	uint8_t op;
	uint8_t naddrs;
	uint64_t bytes, blocks, ind_bytes, ind_blocks;
	uint64_t addrs[GROUP_ADDRS];   /* sorted: what identifies the blocks (LSan prints them) */
	struct symstack *sym;
};

/* The group keeps its GROUP_ADDRS lowest block addresses. */
static void group_add_addr(struct leak_group *g, uint64_t addr)
{
	size_t n = g->naddrs;
	if (n == GROUP_ADDRS) {
		if (addr >= g->addrs[n - 1])
			return;
		n--;
	}
	size_t i = n;
	for (; i > 0 && g->addrs[i - 1] > addr; i--)
		g->addrs[i] = g->addrs[i - 1];
	g->addrs[i] = addr;
	g->naddrs = (uint8_t)(n + 1);
}

static const char *kind_name(int kind)
{
	switch (kind) {
	case HS_DEFINITE: return "definitely lost";
	case HS_INDIRECT: return "indirectly lost";
	case HS_POSSIBLE: return "possibly lost";
	default: return "still reachable";
	}
}

struct heap_proc {
	struct et_process *proc;
	struct btab live;
	struct gtab big;
	struct heap_freed *freed;      /* ring: the first fcount slots, oldest at fhead once full */
	size_t fkeep, fcap, fhead, fcount;
	struct u64map fidx;            /* addr -> slot */
	uint64_t allocations, frees, bytes_allocated, live_blocks, live_bytes, peak_bytes;
	uint64_t unknown_frees, failed, replaced;
	uint64_t runtime_refrees;      /* frees by the C runtime of blocks the program freed */
	uint64_t errors[HEAP_ERR_KINDS];
	struct unknown_free unk[UNKNOWN_KEPT];
	size_t nunk, unk_head, unk_pending;
	bool abort_done;               /* the "allocator aborted" check was made */
	bool held;                     /* stopped at _exit for the scan */
	uint8_t exit_hold_why;         /* not stopped at _exit: enum et_hold_why */
	uint8_t attach_hold_why;       /* not stopped until its probes were attached */
	bool static_untraced;          /* exec'd a static binary the probes do not cover */
	bool tables_gone;              /* let go at exit */
	const char *backend, *backend_why; /* which heap backend recorded it and why (static strings) */
	/* the leak scan */
	bool scan_done;
	char *scan_error;
	struct hs_stats scan;
	struct leak_group *groups;
	size_t ngroups;
	uint64_t reach_bytes, reach_blocks, unscanned_bytes, unscanned_blocks;
	/* symbolization */
	struct u64map syms;            /* stack id + 1 -> struct symstack * */
	struct sym_session *sess;
	bool sess_tried;
};

/* A stack as a report shows it. */
struct symstack {
	struct sym_frame *frames;      /* the kept return addresses, inline chains expanded */
	size_t nframes;
	size_t nraw;                   /* return addresses kept */
	bool cut;                      /* a frame-pointer frame after the last kept one was not valid */
	int8_t supp;                   /* suppressed: -1 not decided yet */
};

struct stack_ent {
	uint64_t hash;
	uint32_t off, n;
};

struct alloc_fn {
	char *name;
	uint64_t offset;
	int emulated;
};

struct allocator {
	char *path;
	struct alloc_fn *fns;
	size_t nfns;
};

struct codeseg {
	uint64_t vaddr, size;
	const uint8_t *data;
};

/* The executable code of a module file, for "is this return address after a call". */
struct codefile {
	char *path;
	int fd;
	Elf *elf;
	struct codeseg seg[8];
	size_t nseg;
};

struct et_heap {
	struct cfi_walker *cfiw;        /* unwinds the stack copies of callers without frame pointers */
	bool enabled;
	size_t freed_keep;
	int leaks_mode;
	bool show_reachable;            /* list still reachable blocks with their stacks */
	struct supp_set *supp;          /* --suppressions (reports/suppress) */
	struct allocator *allocs;
	size_t nallocs;
	/* stacks */
	struct stack_ent *stacks;
	size_t nstacks, cap_stacks;
	uint64_t *pool;
	size_t npool, cap_pool;
	uint32_t *stab;                /* id + 1; 0: empty */
	size_t stab_cap;
	/* errors */
	struct heap_error *errors;
	size_t nerrors, cap_errors;
	uint64_t err_total[HEAP_ERR_KINDS];
	uint64_t unknown_frees;
	uint64_t unknown_erred;        /* of those, the ones the allocator aborted or faulted on: errors */
	/* symbolization */
	struct symstack **syms;
	size_t nsyms, cap_syms;
	struct codefile *codefiles;
	size_t ncodefiles;
	struct heap_proc **open;       /* processes with a symbolization session open */
	size_t nopen, cap_open;
	/* the preload backend's counters (heap_set_preload) */
	struct heap_preload_info preload;
	/* the process of the last record */
	struct et_process *last_proc;
	size_t last_nprocs;
};

/* ---- settings -------------------------------------------------------------------- */

static struct et_heap *heap_get(struct et_model *m)
{
	if (!m->heap) {
		m->heap = xcalloc(1, sizeof(*m->heap));
		m->heap->freed_keep = HEAP_FREED_KEEP_DEFAULT;
		m->heap->leaks_mode = HEAP_LEAKS_FULL;
	}
	return m->heap;
}

void heap_enable(struct et_model *m)
{
	heap_get(m)->enabled = true;
}

bool heap_enabled(const struct et_model *m)
{
	return m->heap && m->heap->enabled;
}

void heap_set_freed_keep(struct et_model *m, size_t n)
{
	heap_get(m)->freed_keep = n;
}

int heap_set_leaks_mode(struct et_model *m, const char *mode)
{
	if (strcmp(mode, "full") == 0)
		heap_get(m)->leaks_mode = HEAP_LEAKS_FULL;
	else if (strcmp(mode, "none") == 0)
		heap_get(m)->leaks_mode = HEAP_LEAKS_NONE;
	else
		return -1;
	return 0;
}

void heap_set_show_reachable(struct et_model *m, bool on)
{
	heap_get(m)->show_reachable = on;
}

void heap_configure(struct et_model *m, size_t freed_keep, bool leaks)
{
	heap_set_freed_keep(m, freed_keep);
	heap_get(m)->leaks_mode = leaks ? HEAP_LEAKS_FULL : HEAP_LEAKS_NONE;
}


int heap_load_suppressions(struct et_model *m, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = heap_read_suppressions(m, f, path, err, errlen);
	fclose(f);
	return rc;
}

int heap_read_suppressions(struct et_model *m, FILE *f, const char *path, char *err, size_t errlen)
{
	struct et_heap *H = heap_get(m);
	if (!H->supp)
		H->supp = supp_set_new();
	size_t before = supp_count(H->supp);
	int rc = supp_read(H->supp, f, path, err, errlen);
	if (rc == 0 && supp_count(H->supp) != before)
		for (size_t i = 0; i < H->nsyms; i++)   /* decisions made before these rules are void */
			H->syms[i]->supp = -1;
	return rc;
}

void heap_add_allocator(struct et_model *m, const char *path, const char *name, uint64_t offset, int emulated)
{
	struct et_heap *H = heap_get(m);
	struct allocator *a = NULL;
	for (size_t i = 0; i < H->nallocs; i++)
		if (strcmp(H->allocs[i].path, path) == 0)
			a = &H->allocs[i];
	if (!a) {
		H->allocs = xrealloc(H->allocs, (H->nallocs + 1) * sizeof(*H->allocs));
		a = &H->allocs[H->nallocs++];
		*a = (struct allocator){ xstrdup(path), NULL, 0 };
	}
	a->fns = xrealloc(a->fns, (a->nfns + 1) * sizeof(*a->fns));
	a->fns[a->nfns++] = (struct alloc_fn){ xstrdup(name), offset, emulated ? 1 : 0 };
}

/* ---- names ----------------------------------------------------------------------- */

const char *heap_op_name(int op)
{
	static const char *const names[ET_HEAP_OP_MAX] = {
		[ET_HEAP_MALLOC] = "malloc",
		[ET_HEAP_CALLOC] = "calloc",
		[ET_HEAP_REALLOC] = "realloc",
		[ET_HEAP_REALLOCARRAY] = "reallocarray",
		[ET_HEAP_MEMALIGN] = "memalign",
		[ET_HEAP_POSIX_MEMALIGN] = "posix_memalign",
		[ET_HEAP_NEW] = "operator new",
		[ET_HEAP_NEW_ARRAY] = "operator new[]",
		[ET_HEAP_FREE] = "free",
		[ET_HEAP_DELETE] = "operator delete",
		[ET_HEAP_DELETE_ARRAY] = "operator delete[]",
		[ET_HEAP_EXIT] = "_exit",
		[ET_HEAP_OVERFLOW] = "redzone check",
		[ET_HEAP_UAF_WRITE] = "quarantine check",
	};
	if (op <= 0 || op >= ET_HEAP_OP_MAX || !names[op])
		return "?";
	return names[op];
}

const char *heap_error_kind_name(int kind)
{
	static const char *const names[HEAP_ERR_KINDS] = { "double free", "invalid free", "mismatched free",
							   "realloc of freed pointer", "heap-buffer-overflow",
							   "heap-use-after-free write" };
	return kind >= 0 && kind < HEAP_ERR_KINDS ? names[kind] : "?";
}

enum { FAM_NONE = 0, FAM_MALLOC, FAM_NEW, FAM_NEW_ARRAY };

static int alloc_family(int op)
{
	switch (op) {
	case ET_HEAP_MALLOC:
	case ET_HEAP_CALLOC:
	case ET_HEAP_REALLOC:
	case ET_HEAP_REALLOCARRAY:
	case ET_HEAP_MEMALIGN:
	case ET_HEAP_POSIX_MEMALIGN:
		return FAM_MALLOC;
	case ET_HEAP_NEW:
		return FAM_NEW;
	case ET_HEAP_NEW_ARRAY:
		return FAM_NEW_ARRAY;
	}
	return FAM_NONE;
}

static int free_family(int op)
{
	switch (op) {
	case ET_HEAP_FREE:
	case ET_HEAP_REALLOC:
	case ET_HEAP_REALLOCARRAY:
		return FAM_MALLOC;
	case ET_HEAP_DELETE:
		return FAM_NEW;
	case ET_HEAP_DELETE_ARRAY:
		return FAM_NEW_ARRAY;
	}
	return FAM_NONE;
}

static bool is_realloc(int op)
{
	return op == ET_HEAP_REALLOC || op == ET_HEAP_REALLOCARRAY;
}

/* ---- stacks ---------------------------------------------------------------------- */

static uint64_t stack_hash(const uint64_t *f, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	for (size_t i = 0; i < n; i++)
		h = mix64(h ^ f[i]) + i;
	return h ? h : 1;
}

static void stab_place(struct et_heap *H, uint32_t id)
{
	size_t i = H->stacks[id].hash & (H->stab_cap - 1);
	while (H->stab[i])
		i = (i + 1) & (H->stab_cap - 1);
	H->stab[i] = id + 1;
}

static uint32_t stack_intern(struct et_heap *H, const uint64_t *f, size_t n)
{
	uint64_t h = stack_hash(f, n);
	if (H->stab_cap) {
		for (size_t i = h & (H->stab_cap - 1); H->stab[i]; i = (i + 1) & (H->stab_cap - 1)) {
			const struct stack_ent *s = &H->stacks[H->stab[i] - 1];
			if (s->hash == h && s->n == n && memcmp(H->pool + s->off, f, n * sizeof(*f)) == 0)
				return H->stab[i] - 1;
		}
	}
	if ((H->nstacks + 1) * 2 > H->stab_cap) {
		free(H->stab);
		H->stab_cap = H->stab_cap ? H->stab_cap * 2 : 1024;
		H->stab = xcalloc(H->stab_cap, sizeof(*H->stab));
		for (uint32_t id = 0; id < H->nstacks; id++)
			stab_place(H, id);
	}
	if (H->nstacks == H->cap_stacks) {
		H->cap_stacks = H->cap_stacks ? H->cap_stacks * 2 : 512;
		H->stacks = xrealloc(H->stacks, H->cap_stacks * sizeof(*H->stacks));
	}
	while (H->npool + n > H->cap_pool) {
		H->cap_pool = H->cap_pool ? H->cap_pool * 2 : 4096;
		H->pool = xrealloc(H->pool, H->cap_pool * sizeof(*H->pool));
	}
	uint32_t id = (uint32_t)H->nstacks++;
	H->stacks[id] = (struct stack_ent){ h, (uint32_t)H->npool, (uint32_t)n };
	memcpy(H->pool + H->npool, f, n * sizeof(*f));
	H->npool += n;
	stab_place(H, id);
	return id;
}

const uint64_t *heap_stack(const struct et_model *m, uint32_t id, size_t *nframes)
{
	const struct et_heap *H = m->heap;
	if (!H || id >= H->nstacks) {
		*nframes = 0;
		return NULL;
	}
	*nframes = H->stacks[id].n;
	return H->pool + H->stacks[id].off;
}

/* ---- processes ------------------------------------------------------------------- */

static struct heap_proc *hp_new(struct et_heap *H, struct et_process *p)
{
	struct heap_proc *hp = xcalloc(1, sizeof(*hp));
	hp->proc = p;
	hp->fkeep = H->freed_keep;
	p->heap = hp;
	return hp;
}

static void hp_drop_tables(struct heap_proc *hp)
{
	free(hp->live.s);
	memset(&hp->live, 0, sizeof(hp->live));
	free(hp->big.s);
	memset(&hp->big, 0, sizeof(hp->big));
	free(hp->freed);
	hp->freed = NULL;
	hp->fcap = hp->fhead = hp->fcount = 0;
	map_clear(&hp->fidx);
}

static void hp_free(struct heap_proc *hp)
{
	if (!hp)
		return;
	hp_drop_tables(hp);
	map_clear(&hp->syms);
	if (hp->sess)
		sym_close(hp->sess);
	free(hp->scan_error);
	free(hp->groups);
	free(hp);
}

/* The process of a record: the cached one while no process was added and it
 * did not exit, else the model's (created when missing). */
void heap_set_backend(struct et_model *m, int pid, const char *backend, const char *why)
{
	if (!heap_enabled(m))
		return;
	struct et_process *p = model_process(m, pid);
	if (!p)
		return;
	struct heap_proc *hp = p->heap ? p->heap : hp_new(m->heap, p);
	hp->backend = backend;
	hp->backend_why = why;
}

void heap_set_preload(struct et_model *m, const struct heap_preload_info *info)
{
	if (heap_enabled(m))
		m->heap->preload = *info;
}

static struct et_process *proc_for(struct et_model *m, const struct ev_header *h)
{
	struct et_heap *H = m->heap;
	struct et_process *p = H->last_proc;
	if (p && p->pid == (int)h->pid && !p->exited && H->last_nprocs == m->nprocs)
		return p;
	p = model_process_for(m, (int)h->pid, (int)h->tid, h->ts);
	H->last_proc = p;
	H->last_nprocs = m->nprocs;
	return p;
}

/* ---- recent frees ------------------------------------------------------------------ */

static struct heap_freed *freed_find(const struct heap_proc *hp, uint64_t addr)
{
	uint64_t slot;
	if (!map_get(&hp->fidx, addr, &slot))
		return NULL;
	return &hp->freed[slot];
}

static void freed_forget(struct heap_proc *hp, uint64_t addr)
{
	uint64_t slot;
	if (!hp->fidx.count || !map_get(&hp->fidx, addr, &slot))
		return;
	hp->freed[slot].addr = 0;
	map_del(&hp->fidx, addr);
}

/* f->addr is not in the record: it was a live block until now, and an
 * allocation takes its address out of the record (live_add). */
static void freed_add(struct heap_proc *hp, const struct heap_freed *f)
{
	if (!hp->fkeep)
		return;
	size_t slot;
	if (hp->fcount < hp->fkeep) {
		/* still growing: the ring is not wrapped yet */
		if (hp->fcount == hp->fcap) {
			hp->fcap = hp->fcap ? hp->fcap * 2 : 256;
			if (hp->fcap > hp->fkeep)
				hp->fcap = hp->fkeep;
			hp->freed = xrealloc(hp->freed, hp->fcap * sizeof(*hp->freed));
		}
		slot = hp->fcount++;
	} else {
		slot = hp->fhead;
		hp->fhead = (hp->fhead + 1) % hp->fkeep;
		if (hp->freed[slot].addr)
			map_del_if(&hp->fidx, hp->freed[slot].addr, slot, false);
	}
	hp->freed[slot] = *f;
	map_put(&hp->fidx, f->addr, slot);
}

/* ---- fork, exec, exit ------------------------------------------------------------------ */

void heap_on_fork(struct et_model *m, struct et_process *parent, struct et_process *child)
{
	if (!m->heap || !parent->heap || child->heap)
		return;
	struct heap_proc *pp = parent->heap;
	struct heap_proc *c = hp_new(m->heap, child);
	if (pp->tables_gone)
		return;
	btab_copy(&c->live, &pp->live);
	c->big = pp->big;
	if (pp->big.cap) {
		c->big.s = xcalloc(pp->big.cap, sizeof(*c->big.s));
		memcpy(c->big.s, pp->big.s, pp->big.cap * sizeof(*c->big.s));
	}
	c->fkeep = pp->fkeep;
	c->fcap = pp->fcap;
	c->fhead = pp->fhead;
	c->fcount = pp->fcount;
	if (pp->fcap) {
		c->freed = xcalloc(pp->fcap, sizeof(*c->freed));
		memcpy(c->freed, pp->freed, pp->fcap * sizeof(*c->freed));
	}
	map_copy(&c->fidx, &pp->fidx);
	c->live_blocks = pp->live_blocks;
	c->live_bytes = pp->live_bytes;
	c->peak_bytes = pp->live_bytes;
}

static struct symstack *symstack_get(struct et_heap *H, struct heap_proc *hp, uint32_t id);
static void close_sessions(struct et_heap *H);

static void resolve_error_stacks(struct et_heap *H, struct heap_error *e)
{
	struct heap_proc *hp = e->proc ? e->proc->heap : NULL;
	if (!hp)
		return;
	if (!e->sym[0])
		e->sym[0] = symstack_get(H, hp, e->stack);
	if (e->has_block && !e->sym[1])
		e->sym[1] = symstack_get(H, hp, e->alloc_stack);
	if (e->has_block && e->block_freed && !e->sym[2])
		e->sym[2] = symstack_get(H, hp, e->free_stack);
}

void heap_on_exec(struct et_model *m, struct et_process *p)
{
	struct et_heap *H = m->heap;
	struct heap_proc *hp = p->heap;
	if (!H || !hp)
		return;
	/* the stacks of its errors mean something only with the modules it had */
	for (size_t i = 0; i < H->nerrors; i++)
		if (H->errors[i].proc == p)
			resolve_error_stacks(H, &H->errors[i]);
	close_sessions(H);
	map_clear(&hp->syms);
	hp_drop_tables(hp);
	hp->tables_gone = false;
	hp->fkeep = H->freed_keep;
	hp->live_blocks = hp->live_bytes = 0;
	hp->nunk = hp->unk_head = hp->unk_pending = 0;
	hp->abort_done = false;
	hp->held = false;
	hp->scan_done = false;
	free(hp->scan_error);
	hp->scan_error = NULL;
	free(hp->groups);
	hp->groups = NULL;
	hp->ngroups = 0;
	hp->reach_bytes = hp->reach_blocks = hp->unscanned_bytes = hp->unscanned_blocks = 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (strcmp(a, b) == 0)
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void heap_exec_image(struct et_model *m, struct et_process *p, bool is_static)
{
	struct et_heap *H = m->heap;
	if (!H || !H->nallocs)
		return;   /* heap tracing is off, or a recording without the probe list */
	struct heap_proc *hp = p->heap ? p->heap : hp_new(H, p);
	hp->static_untraced = false;
	if (!is_static || !p->exe_path)
		return;
	/* the probes are on the allocator libraries (and the root's own file
	 * when it is static): a static binary has its own allocator inside */
	for (size_t i = 0; i < H->nallocs; i++)
		if (same_file(H->allocs[i].path, p->exe_path))
			return;
	hp->static_untraced = true;
}

void heap_on_exit(struct et_model *m, struct et_process *p)
{
	struct heap_proc *hp = p->heap;
	if (!m->heap || !hp || p->crash)
		return; /* a crashed process keeps its heap for the crash section */
	hp_drop_tables(hp);
	hp->tables_gone = true;
}

/* ---- errors ------------------------------------------------------------------------ */

static struct heap_error *add_error(struct et_heap *H, struct heap_proc *hp, int kind, int detail,
				    const struct ev_heap *e, uint64_t addr, int op, uint32_t stack)
{
	hp->errors[kind]++;
	H->err_total[kind]++;
	if (H->nerrors >= HEAP_ERRORS_KEPT)
		return NULL;
	if (H->nerrors == H->cap_errors) {
		H->cap_errors = H->cap_errors ? H->cap_errors * 2 : 16;
		H->errors = xrealloc(H->errors, H->cap_errors * sizeof(*H->errors));
	}
	struct heap_error *er = &H->errors[H->nerrors++];
	memset(er, 0, sizeof(*er));
	er->kind = kind;
	er->detail = detail;
	er->pid = hp->proc->pid;
	er->tid = e ? (int)e->h.tid : 0;
	er->ts = e ? e->h.ts : 0;
	er->addr = addr;
	er->op = op;
	er->stack = stack;
	er->proc = hp->proc;
	return er;
}

static void error_block_live(struct heap_error *er, const struct heap_block *b)
{
	if (!er)
		return;
	er->has_block = true;
	er->block_addr = b->addr;
	er->block_size = blk_size(b);
	er->block_op = blk_op(b);
	er->alloc_stack = b->stack;
}

static void error_block_freed(struct heap_error *er, const struct heap_freed *f)
{
	if (!er)
		return;
	er->has_block = true;
	er->block_addr = f->addr;
	er->block_size = f->size;
	er->block_op = f->op;
	er->alloc_stack = f->alloc_stack;
	er->block_freed = true;
	er->free_stack = f->free_stack;
	er->free_tid = f->tid;
	er->free_op = f->free_op;
	er->free_ts = f->ts;
}

/* ---- finding the block around an address --------------------------------------------- */

/* How addr relates to [a, a + size): 2 inside, 1 just past the end (see
 * near_limit), 0 neither. *dist: bytes from the start (inside) or the end. */
static int relation(uint64_t addr, uint64_t a, uint64_t size, uint64_t *dist)
{
	if (addr < a)
		return 0;
	if (addr - a < size) {
		*dist = addr - a;
		return 2;
	}
	if (addr < near_limit(a, size)) {
		*dist = addr - a - size;
		return 1;
	}
	return 0;
}

/* The live block containing addr (or, with near, ending at most NEAR_BYTES
 * before it); inside beats near, then the closest. */
static struct heap_block *live_around(const struct heap_proc *hp, uint64_t addr, bool near)
{
	const struct btab *t = &hp->live;
	struct heap_block *best = NULL;
	int best_rel = 0;
	uint64_t best_dist = UINT64_MAX;
	if (!t->cap)
		return NULL;
	/* a small block starts at most this far before: its size (and for
	 * near: the rest of its last page and NEAR_BYTES) */
	uint64_t reach = near ? SMALL_MAX + PAGE_BYTES + NEAR_BYTES : SMALL_MAX;
	uint64_t lo = addr >= reach ? addr - reach : 0;
	for (uint64_t line = addr >> LINE_SHIFT;; line--) {
		for (size_t i = line_home(t->cap, line); t->s[i].addr; i = (i + 1) & (t->cap - 1)) {
			struct heap_block *b = &t->s[i];
			if (b->addr >> LINE_SHIFT != line)
				continue;
			uint64_t dist = 0;
			int rel = relation(addr, b->addr, blk_size(b), &dist);
			if (!rel || (rel == 1 && !near))
				continue;
			if (rel > best_rel || (rel == best_rel && dist < best_dist)) {
				best = b;
				best_rel = rel;
				best_dist = dist;
			}
		}
		if (line == 0 || line <= lo >> LINE_SHIFT)
			break;
	}
	if (best_rel == 2)
		return best;
	/* blocks over SMALL_MAX: by granule */
	const struct gtab *g = &hp->big;
	if (g->cap) {
		uint64_t g1 = (addr >> GRAN_SHIFT) + 1;
		for (size_t i = gtab_home(g->cap, g1); g->s[i].g1; i = (i + 1) & (g->cap - 1)) {
			if (g->s[i].g1 != g1)
				continue;
			struct heap_block *b = btab_find(t, g->s[i].addr);
			if (!b)
				continue;
			uint64_t dist = 0;
			int rel = relation(addr, b->addr, blk_size(b), &dist);
			if (!rel || (rel == 1 && !near))
				continue;
			if (rel > best_rel || (rel == best_rel && dist < best_dist)) {
				best = b;
				best_rel = rel;
				best_dist = dist;
			}
		}
	}
	return best;
}

/* ---- allocations and frees ---------------------------------------------------------- */

static void live_add(struct heap_proc *hp, const struct ev_heap *e, uint64_t ptr, uint64_t size, int op,
		     uint32_t stack)
{
	struct heap_block *old = btab_find(&hp->live, ptr);
	if (old) {
		/* its free was not seen (a lost record): the new block replaces it */
		uint64_t osize = blk_size(old);
		if (osize > SMALL_MAX)
			big_del(&hp->big, ptr, osize);
		hp->live_bytes -= osize;
		hp->live_blocks--;
		hp->replaced++;
		btab_remove(&hp->live, old);
	}
	freed_forget(hp, ptr);
	if (size > SIZE_MASK)
		size = SIZE_MASK;
	struct heap_block b = { ptr, size | ((uint64_t)op << 48), e->h.ts, stack, (int32_t)e->h.tid };
	btab_insert(&hp->live, &b);
	if (size > SMALL_MAX)
		big_add(&hp->big, ptr, size);
	hp->allocations++;
	hp->bytes_allocated += size;
	hp->live_blocks++;
	hp->live_bytes += size;
	if (hp->live_bytes > hp->peak_bytes)
		hp->peak_bytes = hp->live_bytes;
}

static void note_unknown(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint64_t ptr, int op,
			 uint32_t stack)
{
	hp->unknown_frees++;
	H->unknown_frees++;
	struct unknown_free *u;
	if (hp->nunk < UNKNOWN_KEPT) {
		u = &hp->unk[hp->nunk++];
	} else {
		u = &hp->unk[hp->unk_head];
		hp->unk_head = (hp->unk_head + 1) % UNKNOWN_KEPT;
		if (!u->followed)
			hp->unk_pending--;
	}
	*u = (struct unknown_free){ ptr, e->h.ts, stack, (int)e->h.tid, op, false };
	hp->unk_pending++;
}

/* The thread made an allocator call: an unknown free it made before returned. */
static void note_followed(struct heap_proc *hp, int tid)
{
	if (!hp->unk_pending)
		return;
	for (size_t i = 0; i < hp->nunk; i++)
		if (!hp->unk[i].followed && hp->unk[i].tid == tid) {
			hp->unk[i].followed = true;
			hp->unk_pending--;
		}
}

static bool caller_in_runtime(struct et_heap *H, const struct et_process *p, uint32_t stack);

/* ptr given to a function that frees (free, delete, realloc): releases the
 * block, or reports what is wrong with the pointer. */
static void release(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint64_t ptr, int op,
		    uint32_t stack)
{
	struct heap_block *b = btab_find(&hp->live, ptr);
	if (b) {
		int fam = alloc_family(blk_op(b));
		if (fam != FAM_NONE && fam != free_family(op))
			error_block_live(add_error(H, hp, HEAP_ERR_MISMATCHED_FREE, HEAP_DETAIL_NONE, e, ptr, op, stack), b);
		uint64_t size = blk_size(b);
		struct heap_freed f = { ptr, size, e->h.ts, b->stack, stack, (int32_t)e->h.tid, (uint8_t)blk_op(b), (uint8_t)op };
		if (size > SMALL_MAX)
			big_del(&hp->big, ptr, size);
		btab_remove(&hp->live, b);
		hp->frees++;
		hp->live_blocks--;
		hp->live_bytes -= size;
		freed_add(hp, &f);
		return;
	}
	const struct heap_freed *f = freed_find(hp, ptr);
	if (caller_in_runtime(H, hp->proc, stack)) {
		/* the C library returning what it cached: glibc's tcache hands
		 * its chunks back to the arena at thread exit, those the program
		 * freed and those the allocator moved there itself (and the
		 * tcache, which it allocated without going through malloc) */
		hp->runtime_refrees++;
		return;
	}
	if (f && f->ts < hp->proc->vm_lent_ts) {
		/* freed before a vfork child ran in this memory: the child may
		 * have allocated it again (a shell's stack block, then freed by
		 * the parent after the child's exec), unseen by our probes */
		freed_forget(hp, ptr);
		f = NULL;
	}
	if (f) {
		int kind = is_realloc(op) ? HEAP_ERR_REALLOC_FREED : HEAP_ERR_DOUBLE_FREE;
		error_block_freed(add_error(H, hp, kind, HEAP_DETAIL_NONE, e, ptr, op, stack), f);
		return;
	}
	if (e->sp && ptr >= e->sp && ptr - e->sp < STACK_RANGE) {
		add_error(H, hp, HEAP_ERR_INVALID_FREE, HEAP_DETAIL_STACK, e, ptr, op, stack);
		return;
	}
	/* (after very many unknown frees, records are being lost: the ~30
	 * probes of this search per free are not worth it any more) */
	b = hp->unknown_frees < UNKNOWN_SEARCHED ? live_around(hp, ptr, false) : NULL;
	if (b) {
		error_block_live(add_error(H, hp, HEAP_ERR_INVALID_FREE, HEAP_DETAIL_INTERIOR, e, ptr, op, stack), b);
		return;
	}
	note_unknown(H, hp, e, ptr, op, stack);
}

/* The preload found a block's redzone changed when the block was freed or
 * reallocated: a write past its end. Found at realloc, the block is still
 * live here; at free, the free's record came first. */
static void overflow_found(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint32_t stack)
{
	int op = (int)(e->align >> 32);
	if (op <= 0 || op >= ET_HEAP_OP_MAX)
		op = ET_HEAP_FREE;
	struct heap_error *er = add_error(H, hp, HEAP_ERR_OVERFLOW, HEAP_DETAIL_NONE, e, e->ptr, op, stack);
	if (!er)
		return;
	const struct heap_block *b = btab_find(&hp->live, e->ptr);
	const struct heap_freed *f = b ? NULL : freed_find(hp, e->ptr);
	if (b) {
		error_block_live(er, b);
	} else if (f) {
		er->has_block = true;
		er->block_addr = f->addr;
		er->block_size = f->size;
		er->block_op = f->op;
		er->alloc_stack = f->alloc_stack;
	}
	er->past_first = e->size;
	er->past_bytes = (uint32_t)e->align;
}

/* A block left the preload's quarantine with its fill changed: written
 * after it was freed. */
static void uaf_write_found(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint32_t stack)
{
	struct heap_error *er = add_error(H, hp, HEAP_ERR_UAF_WRITE, HEAP_DETAIL_NONE, e, e->ptr, ET_HEAP_UAF_WRITE, stack);
	if (!er)
		return;
	const struct heap_freed *f = freed_find(hp, e->ptr);
	if (f)
		error_block_freed(er, f);
	er->past_first = e->size;
	er->past_bytes = (uint32_t)e->align;
}

static const struct et_module *code_module(struct et_heap *H, const struct et_process *p, uint64_t addr);

struct cfi_ctx {
	struct et_heap *H;
	const struct et_process *p;
};

static int cfi_module(void *ctx, uint64_t pc, const char **path, uint64_t *bias)
{
	struct cfi_ctx *cx = ctx;
	const struct et_module *mod = code_module(cx->H, cx->p, pc);
	if (!mod)
		return -1;
	*path = mod->path;
	*bias = mod->bias;
	return 0;
}

static int on_heap(struct et_model *m, const struct ev_heap *e, size_t size)
{
	struct et_heap *H = m->heap;
	size_t nf = e->nframes < ET_HEAP_FRAMES ? e->nframes : ET_HEAP_FRAMES;
	size_t room = (size - offsetof(struct ev_heap, frames)) / sizeof(e->frames[0]);
	if (nf > room)
		nf = room;
	int op = (int)e->op;
	if (op <= 0 || op >= ET_HEAP_OP_MAX)
		return -1;
	struct et_process *p = proc_for(m, &e->h);
	/* a vfork child allocates and frees in its parent's memory: a block it
	 * makes there may be freed by the parent after the child exec'd */
	if (p->vm_parent && !p->vm_parent->exited)
		p = p->vm_parent;
	struct heap_proc *hp = p->heap ? p->heap : hp_new(H, p);
	if (hp->tables_gone)
		hp->tables_gone = false; /* records after its exit: a reused pid's leftovers */
	note_followed(hp, (int)e->h.tid);
	if (op == ET_HEAP_EXIT)
		return 0;
	const uint64_t *frames = e->frames;
	uint64_t unwound[ET_HEAP_FRAMES];
	if (size >= sizeof(struct ev_heap_win) && e->window_len && e->window_len <= ET_HEAP_WINDOW && nf) {
		/* the caller has no frame pointer: its callers come from CFI */
		const struct ev_heap_win *w = (const struct ev_heap_win *)e;
		if (!H->cfiw)
			H->cfiw = cfiw_new();
		struct cfi_ctx cx = { H, p };
		size_t n = cfiw_unwind(H->cfiw, e->frames[0], e->window_addr, e->rbp, w->window, e->window_addr,
				       e->window_len, cfi_module, &cx, unwound, ET_HEAP_FRAMES);
		if (n > nf) {
			frames = unwound;
			nf = n;
		}
	}
	uint32_t stack = stack_intern(H, frames, nf);
	switch (op) {
	case ET_HEAP_MALLOC:
	case ET_HEAP_CALLOC:
	case ET_HEAP_MEMALIGN:
	case ET_HEAP_POSIX_MEMALIGN:
	case ET_HEAP_NEW:
	case ET_HEAP_NEW_ARRAY:
		if (e->ptr)
			live_add(hp, e, e->ptr, e->size, op, stack);
		else
			hp->failed++;
		break;
	case ET_HEAP_REALLOC:
	case ET_HEAP_REALLOCARRAY:
		if (!e->old_ptr) {
			if (e->ptr)
				live_add(hp, e, e->ptr, e->size, op, stack);
			else
				hp->failed++;
			break;
		}
		if (!e->ptr && e->size) {
			/* failed: the old block stays, unless it was no block at all */
			hp->failed++;
			if (!btab_find(&hp->live, e->old_ptr))
				release(H, hp, e, e->old_ptr, op, stack);
			break;
		}
		if (e->ptr == e->old_ptr) {
			struct heap_block *b = btab_find(&hp->live, e->ptr);
			if (b && alloc_family(blk_op(b)) == FAM_MALLOC) {
				/* resized in place: one block throughout */
				uint64_t osize = blk_size(b), nsize = e->size > SIZE_MASK ? SIZE_MASK : e->size;
				if (osize > SMALL_MAX)
					big_del(&hp->big, b->addr, osize);
				b->meta = nsize | ((uint64_t)op << 48);
				b->stack = stack;
				b->ts = e->h.ts;
				b->tid = (int32_t)e->h.tid;
				if (nsize > SMALL_MAX)
					big_add(&hp->big, b->addr, nsize);
				hp->allocations++;
				hp->frees++;
				hp->bytes_allocated += nsize;
				hp->live_bytes = hp->live_bytes - osize + nsize;
				if (hp->live_bytes > hp->peak_bytes)
					hp->peak_bytes = hp->live_bytes;
				break;
			}
		}
		release(H, hp, e, e->old_ptr, op, stack);
		if (e->ptr)
			live_add(hp, e, e->ptr, e->size, op, stack);
		break;
	case ET_HEAP_FREE:
	case ET_HEAP_DELETE:
	case ET_HEAP_DELETE_ARRAY:
		if (e->ptr)
			release(H, hp, e, e->ptr, op, stack);
		break;
	case ET_HEAP_OVERFLOW:
		overflow_found(H, hp, e, stack);
		break;
	case ET_HEAP_UAF_WRITE:
		uaf_write_found(H, hp, e, stack);
		break;
	}
	return 0;
}

int heap_ingest(struct et_model *m, const void *data, size_t size)
{
	const struct ev_header *h = data;
	if (size < sizeof(*h))
		return -1;
	if (h->type == ET_EV_HEAP_HOLD) {
		if (size < sizeof(struct ev_heap_hold))
			return -1;
		heap_enable(m);
		struct et_process *p = proc_for(m, h);
		struct heap_proc *hp = p->heap ? p->heap : hp_new(m->heap, p);
		const struct ev_heap_hold *e = data;
		hp->held = !e->skipped;
		hp->exit_hold_why = (uint8_t)e->skipped;
		return 0;
	}
	if (h->type == ET_EV_HEAP_ATTACH) {
		if (size < sizeof(struct ev_heap_attach))
			return -1;
		const struct ev_heap_attach *e = data;
		/* a preloaded process is never held: nothing was late */
		if (e->held || !m->heap || e->reason == ET_HEAP_WHY_PRELOAD)
			return 0;
		struct et_process *p = proc_for(m, h);
		struct heap_proc *hp = p->heap ? p->heap : hp_new(m->heap, p);
		hp->attach_hold_why = (uint8_t)(e->why ? e->why : ET_HOLD_FAILED);
		/* it ran before its probes were attached: a free of a block it
		 * inherited may have been missed, so those blocks are not
		 * followed (never reported as leaks) */
		if (!hp->allocations && !hp->frees) {
			hp_drop_tables(hp);
			hp->live_blocks = hp->live_bytes = 0;
		}
		return 0;
	}
	if (h->type != ET_EV_HEAP || size < offsetof(struct ev_heap, frames))
		return -1;
	heap_enable(m);
	return on_heap(m, data, size);
}

/* ---- symbolization --------------------------------------------------------------------- */

static struct codefile *codefile_get(struct et_heap *H, const char *path)
{
	for (size_t i = 0; i < H->ncodefiles; i++)
		if (strcmp(H->codefiles[i].path, path) == 0)
			return H->codefiles[i].nseg ? &H->codefiles[i] : NULL;
	H->codefiles = xrealloc(H->codefiles, (H->ncodefiles + 1) * sizeof(*H->codefiles));
	struct codefile *cf = &H->codefiles[H->ncodefiles++];
	memset(cf, 0, sizeof(*cf));
	cf->path = xstrdup(path);
	cf->fd = -1;
	elf_version(EV_CURRENT);
	cf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (cf->fd < 0)
		return NULL;
	cf->elf = elf_begin(cf->fd, ELF_C_READ_MMAP, NULL);
	size_t phnum = 0;
	if (!cf->elf || elf_kind(cf->elf) != ELF_K_ELF || elf_getphdrnum(cf->elf, &phnum) != 0)
		return NULL;
	for (size_t i = 0; i < phnum && cf->nseg < sizeof(cf->seg) / sizeof(cf->seg[0]); i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(cf->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || !ph.p_filesz)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(cf->elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (!d || !d->d_buf)
			continue;
		cf->seg[cf->nseg++] = (struct codeseg){ ph.p_vaddr, d->d_size, d->d_buf };
	}
	return cf->nseg ? cf : NULL;
}

/* Whether the bytes before offset off are a call: e8 rel32, or ff /2 in
 * any addressing form (with a REX prefix, notrack or a segment override). */
static bool after_call(const uint8_t *d, uint64_t off)
{
	if (off >= 5 && d[off - 5] == 0xe8)
		return true;
	const uint8_t *end = d + off;
	for (unsigned k = 2; k <= 9 && k <= off; k++) {
		const uint8_t *q = end - k;
		if (*q == 0x3e || *q == 0x2e || *q == 0x64 || *q == 0x65)
			q++;
		if (q < end && (*q & 0xf0) == 0x40)
			q++;
		if (q + 1 >= end || *q != 0xff)
			continue;
		uint8_t modrm = q[1];
		q += 2;
		if (((modrm >> 3) & 7) != 2)
			continue;
		unsigned mod = modrm >> 6, rm = modrm & 7;
		size_t disp = 0;
		if (mod != 3 && rm == 4) {
			if (q >= end)
				continue;
			uint8_t sib = *q++;
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
		}
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || (mod == 0 && rm == 5))
			disp = 4;
		if (q + disp == end)
			return true;
	}
	return false;
}

/* A frame-pointer frame is believed when its return address is in the code
 * of a module of the process, right after a call instruction. */
static bool frame_valid(struct et_heap *H, const struct et_process *p, uint64_t ra)
{
	for (size_t i = 0; i < p->nmodules; i++) {
		struct codefile *cf = module_file(&p->modules[i]) ? codefile_get(H, p->modules[i].path) : NULL;
		if (!cf)
			continue;
		uint64_t v = ra - p->modules[i].bias;
		for (size_t s = 0; s < cf->nseg; s++) {
			const struct codeseg *sg = &cf->seg[s];
			if (v > sg->vaddr && v - sg->vaddr <= sg->size)
				return after_call(sg->data, v - sg->vaddr);
		}
	}
	return false;
}

/* The module of p whose code contains addr, or NULL. */
static const struct et_module *code_module(struct et_heap *H, const struct et_process *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nmodules; i++) {
		struct codefile *cf = module_file(&p->modules[i]) ? codefile_get(H, p->modules[i].path) : NULL;
		if (!cf)
			continue;
		uint64_t v = addr - p->modules[i].bias;
		for (size_t s = 0; s < cf->nseg; s++)
			if (v > cf->seg[s].vaddr && v - cf->seg[s].vaddr <= cf->seg[s].size)
				return &p->modules[i];
	}
	return NULL;
}

static bool runtime_module(const char *mod);

/* Whether the call was made by the C runtime itself (its caller, frames[0],
 * is in ld.so, libc, libstdc++, ...). */
static bool caller_in_runtime(struct et_heap *H, const struct et_process *p, uint32_t stack)
{
	if (stack >= H->nstacks || !H->stacks[stack].n)
		return false;
	const struct et_module *mod = code_module(H, p, H->pool[H->stacks[stack].off]);
	if (!mod)
		return false;
	const char *base = strrchr(mod->path, '/');
	return runtime_module(base ? base + 1 : mod->path);
}

static struct sym_session *hp_session(struct et_heap *H, struct heap_proc *hp)
{
	if (hp->sess_tried)
		return hp->sess;
	const struct et_process *p = hp->proc;
	struct sym_module *mods = xcalloc(p->nmodules ? p->nmodules : 1, sizeof(*mods));
	size_t n = 0;
	for (size_t i = 0; i < p->nmodules; i++)
		if (module_file(&p->modules[i]))   /* never another file's symbols */
			mods[n++] = (struct sym_module){ .path = p->modules[i].path, .bias = p->modules[i].bias };
	hp->sess = sym_open(mods, n);
	hp->sess_tried = true;
	free(mods);
	if (H->nopen == H->cap_open) {
		H->cap_open = H->cap_open ? H->cap_open * 2 : 8;
		H->open = xrealloc(H->open, H->cap_open * sizeof(*H->open));
	}
	H->open[H->nopen++] = hp;
	return hp->sess;
}

/* Sessions hold files open: closed after each report part. */
static void close_sessions(struct et_heap *H)
{
	for (size_t i = 0; i < H->nopen; i++) {
		sym_close(H->open[i]->sess);
		H->open[i]->sess = NULL;
		H->open[i]->sess_tried = false;
	}
	H->nopen = 0;
}

static struct symstack *symstack_get(struct et_heap *H, struct heap_proc *hp, uint32_t id)
{
	uint64_t v;
	if (map_get(&hp->syms, (uint64_t)id + 1, &v))
		return (struct symstack *)(uintptr_t)v;
	struct symstack *ss = xcalloc(1, sizeof(*ss));
	ss->supp = -1;
	size_t n = 0;
	const uint64_t *f = NULL;
	if (id < H->nstacks) {
		n = H->stacks[id].n;
		f = H->pool + H->stacks[id].off;
	}
	size_t keep = n ? 1 : 0; /* frames[0] is exact */
	for (size_t i = 1; i < n; i++) {
		if (!frame_valid(H, hp->proc, f[i])) {
			ss->cut = true;
			break;
		}
		keep++;
	}
	/* the caller alone: neither its frame pointer nor its CFI led further */
	if (n == 1)
		ss->cut = true;
	ss->nraw = keep;
	ss->frames = xcalloc(keep * SYM_INLINE_MAX, sizeof(*ss->frames));
	struct sym_session *s = keep ? hp_session(H, hp) : NULL;
	for (size_t i = 0; i < keep; i++) {
		size_t got = s ? sym_address(s, f[i], 1, ss->frames + ss->nframes, SYM_INLINE_MAX) : 0;
		if (!got)
			ss->frames[ss->nframes].pc = f[i];
		ss->nframes += got ? got : 1;
	}
	if (H->nsyms == H->cap_syms) {
		H->cap_syms = H->cap_syms ? H->cap_syms * 2 : 64;
		H->syms = xrealloc(H->syms, H->cap_syms * sizeof(*H->syms));
	}
	H->syms[H->nsyms++] = ss;
	map_put(&hp->syms, (uint64_t)id + 1, (uint64_t)(uintptr_t)ss);
	return ss;
}

static void symstack_free(struct symstack *ss)
{
	sym_frames_free(ss->frames, ss->nframes);
	free(ss->frames);
	free(ss);
}

/* ---- suppressions ------------------------------------------------------------------------ */

/* The C runtime: what it allocates for itself is not the program's leak. */
static bool runtime_module(const char *mod)
{
	static const char *const pats[] = { "ld-linux*", "ld-*.so*", "libc.so*", "libc-*.so", "libstdc++.so*",
					    "libgcc_s*", "libm.so*", "libm-*.so" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], mod, 0) == 0)
			return true;
	return false;
}

/* glibc's internal functions, for a static executable (the C library is
 * inside it): the loader's (_dl_*), libc's (__libc_*), stdio's (_IO_*),
 * locale (_nl_*) and iconv (__gconv*) machinery. */
static bool runtime_function(const char *fn)
{
	static const char *const pats[] = { "_dl_*", "__libc_*", "_IO_*", "_nl_*", "__gconv*", "__GI_*", "tcache_*",
					    "_start", "call_init", "_init" };
	for (size_t i = 0; fn && i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], fn, 0) == 0)
			return true;
	return false;
}

static bool symstack_suppressed(const struct et_heap *H, struct symstack *ss)
{
	if (ss->supp >= 0)
		return ss->supp;
	bool runtime = ss->nframes > 0, user = false;
	for (size_t i = 0; i < ss->nframes; i++) {
		const struct sym_frame *f = &ss->frames[i];
		if (!(f->module && runtime_module(f->module)) && !runtime_function(f->function))
			runtime = false;
	}
	user = supp_match_lsan(H->supp, ss->frames, ss->nframes);
	ss->supp = runtime || user;
	return ss->supp;
}

static struct symstack *group_sym(struct et_heap *H, struct heap_proc *hp, struct leak_group *g)
{
	if (!g->sym)
		g->sym = symstack_get(H, hp, g->stack);
	return g->sym;
}

static unsigned supp_kind(int hs)
{
	return hs == HS_DEFINITE ? SUPP_DEFINITE : hs == HS_INDIRECT ? SUPP_INDIRECT : hs == HS_POSSIBLE ? SUPP_POSSIBLE
											  : SUPP_REACHABLE;
}

/* The runtime's own, an LSan rule for the stack, or a valgrind entry for
 * the stack, its allocating function and its kind of leak. */
static bool group_suppressed(struct et_heap *H, struct heap_proc *hp, struct leak_group *g)
{
	struct symstack *ss = group_sym(H, hp, g);
	if (symstack_suppressed(H, ss))
		return true;
	return supp_match_leak(H->supp, heap_op_name(g->op), ss->frames, ss->nframes, supp_kind(g->kind));
}

/* ---- the leak scan --------------------------------------------------------------------------- */

int heap_wants_scan(const struct et_model *m)
{
	return heap_enabled(m) && m->heap->leaks_mode == HEAP_LEAKS_FULL;
}

static const struct et_process *newest_proc(const struct et_model *m, int pid)
{
	for (size_t i = m->nprocs; i-- > 0;)
		if (m->procs[i]->pid == pid)
			return m->procs[i];
	return NULL;
}

static struct heap_proc *hp_by_pid(const struct et_model *m, int pid)
{
	const struct et_process *p = newest_proc(m, pid);
	return p ? p->heap : NULL;
}

int heap_scan_blocks(struct et_model *m, int pid, struct hs_block **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct heap_proc *hp = m->heap ? hp_by_pid(m, pid) : NULL;
	if (!hp || !hp->live.count)
		return 0;
	struct hs_block *b = calloc(hp->live.count, sizeof(*b));
	if (!b)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < hp->live.cap; i++) {
		const struct heap_block *s = &hp->live.s[i];
		if (!s->addr)
			continue;
		b[k].addr = s->addr;
		b[k].size = blk_size(s);
		b[k].state = HS_UNKNOWN;
		k++;
	}
	*out = b;
	*n = k;
	return 0;
}

void heap_scan_result(struct et_model *m, int pid, const struct hs_block *b, size_t n, const struct hs_stats *st,
		      const char *error)
{
	struct heap_proc *hp = m->heap ? hp_by_pid(m, pid) : NULL;
	if (!hp)
		return;
	free(hp->groups);
	hp->groups = NULL;
	hp->ngroups = 0;
	free(hp->scan_error);
	hp->scan_error = NULL;
	hp->reach_bytes = hp->reach_blocks = 0;
	if (st)
		hp->scan = *st;
	else
		memset(&hp->scan, 0, sizeof(hp->scan));
	if (error) {
		hp->scan_done = false;
		hp->scan_error = xstrdup(error);
		return;
	}
	hp->scan_done = true;
	struct u64map index = { 0 };
	size_t cap = 0;
	uint64_t done_blocks = 0, done_bytes = 0;
	for (size_t i = 0; b && i < n; i++) {
		const struct heap_block *blk = btab_find(&hp->live, b[i].addr);
		if (!blk)
			continue;
		uint64_t size = blk_size(blk);
		uint8_t state = b[i].state;
		/* the C runtime's own blocks are reached through interior pointers
		 * by design (glibc's TLS vector: the thread descriptor points past
		 * its length slot): what the runtime allocated for itself and
		 * still points into is its, not possibly lost */
		if (state == HS_POSSIBLE && caller_in_runtime(m->heap, hp->proc, blk->stack))
			state = HS_REACHABLE;
		if (state == HS_REACHABLE) {
			hp->reach_bytes += size;
			hp->reach_blocks++;
		}
		if (state == HS_DEFINITE || state == HS_INDIRECT || state == HS_POSSIBLE ||
		    state == HS_REACHABLE) {
			uint64_t key = ((uint64_t)blk->stack << 16 | (uint64_t)state << 8 | (uint64_t)blk_op(blk)) + 1, gi;
			if (!map_get(&index, key, &gi)) {
				if (hp->ngroups == cap) {
					cap = cap ? cap * 2 : 16;
					hp->groups = xrealloc(hp->groups, cap * sizeof(*hp->groups));
				}
				gi = hp->ngroups++;
				hp->groups[gi] = (struct leak_group){ .stack = blk->stack, .kind = state, .op = (uint8_t)blk_op(blk) };
				map_put(&index, key, gi);
			}
			struct leak_group *g = &hp->groups[gi];
			g->bytes += size;
			g->blocks++;
			group_add_addr(g, b[i].addr);
			if (state == HS_DEFINITE) {
				g->ind_bytes += b[i].indirect_bytes;
				g->ind_blocks += b[i].indirect_blocks;
			}
		} else {
			continue;
		}
		done_blocks++;
		done_bytes += size;
	}
	map_clear(&index);
	hp->unscanned_blocks = hp->live_blocks > done_blocks ? hp->live_blocks - done_blocks : 0;
	hp->unscanned_bytes = hp->live_bytes > done_bytes ? hp->live_bytes - done_bytes : 0;
}

/* ---- results ------------------------------------------------------------------------------------- */

/* A crash inside the free: the thread's last call was that free (no
 * syscall since its entry) and the fault is at the pointer's chunk header
 * (or the kernel gave no address: a non-canonical pointer). */
static bool faulted_in_free(const struct et_model *m, const struct et_crash *c, const struct unknown_free *u)
{
	if (c->sig != SIGSEGV && c->sig != SIGBUS)
		return false;
	const struct et_thread *t = model_thread((struct et_model *)m, c->tid);
	const struct et_record *last = t && t->ring_count ? thread_record(t, t->ring_count - 1) : NULL;
	if (last && last->ev.enter_ts > u->ts && last->ev.enter_ts <= c->ts)
		return false;
	if (c->code == SI_KERNEL)
		return true;
	return c->addr + 4096 > u->addr && c->addr < u->addr + 4096;
}

/* A process that died of SIGABRT right after freeing a pointer nobody saw
 * allocated: the allocator rejected it (glibc's "free(): invalid pointer");
 * or of SIGSEGV inside that free (glibc read the chunk header of a wild
 * pointer before it could check it). */
static void derive_aborts(const struct et_model *m)
{
	struct et_heap *H = m->heap;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct et_process *p = m->procs[i];
		struct heap_proc *hp = p->heap;
		if (!hp || hp->abort_done || !p->crash)
			continue;
		hp->abort_done = true;
		const struct et_crash *c = p->crash;
		if (c->sig != SIGABRT && c->sig != SIGSEGV && c->sig != SIGBUS)
			continue;
		const struct unknown_free *last = NULL;
		for (size_t k = 0; k < hp->nunk; k++) {
			const struct unknown_free *u = &hp->unk[k];
			if (u->tid == c->tid && !u->followed && u->ts <= c->ts && (!last || u->ts >= last->ts))
				last = u;
		}
		if (!last || (c->sig != SIGABRT && !faulted_in_free(m, c, last)))
			continue;
		int detail = c->sig == SIGABRT ? HEAP_DETAIL_ABORTED : HEAP_DETAIL_FAULTED;
		struct heap_error *er = add_error(H, hp, HEAP_ERR_INVALID_FREE, detail, NULL, last->addr,
						  last->op, last->stack);
		H->unknown_erred++;
		if (er) {
			er->tid = last->tid;
			er->ts = last->ts;
		}
	}
}

int heap_process_stats(const struct et_model *m, int pid, struct heap_proc_stats *out)
{
	memset(out, 0, sizeof(*out));
	const struct heap_proc *hp = m->heap ? hp_by_pid(m, pid) : NULL;
	if (!hp)
		return -1;
	out->allocations = hp->allocations;
	out->frees = hp->frees;
	out->bytes_allocated = hp->bytes_allocated;
	out->peak_bytes = hp->peak_bytes;
	out->live_blocks = hp->live_blocks;
	out->live_bytes = hp->live_bytes;
	out->unknown_frees = hp->unknown_frees;
	out->failed_allocations = hp->failed;
	memcpy(out->errors, hp->errors, sizeof(out->errors));
	out->scanned = hp->scan_done;
	return 0;
}

int heap_live_bytes(const struct et_model *m, int pid, uint64_t *out)
{
	const struct heap_proc *hp = m->heap ? hp_by_pid(m, pid) : NULL;
	if (!hp)
		return -1;
	*out = hp->live_bytes;
	return 0;
}

size_t heap_nerrors(const struct et_model *m)
{
	if (!m->heap)
		return 0;
	derive_aborts(m);
	return m->heap->nerrors;
}

const struct heap_error *heap_error_get(const struct et_model *m, size_t i)
{
	return m->heap && i < m->heap->nerrors ? &m->heap->errors[i] : NULL;
}

int heap_error_count(const struct et_model *m)
{
	if (!heap_enabled(m))
		return 0;
	derive_aborts(m);
	uint64_t n = 0;
	for (int k = 0; k < HEAP_ERR_KINDS; k++)
		n += m->heap->err_total[k];
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

struct leak_sum {
	uint64_t def_bytes, def_blocks, ind_bytes, ind_blocks, poss_bytes, poss_blocks, reach_bytes, reach_blocks;
	uint64_t supp_bytes, supp_blocks, unscanned_bytes, unscanned_blocks;
};

static void proc_summary(struct et_heap *H, struct heap_proc *hp, struct leak_sum *s)
{
	memset(s, 0, sizeof(*s));
	if (!hp->scan_done) {
		s->unscanned_bytes = hp->live_bytes;
		s->unscanned_blocks = hp->live_blocks;
		return;
	}
	for (size_t i = 0; i < hp->ngroups; i++) {
		struct leak_group *g = &hp->groups[i];
		if (g->kind == HS_REACHABLE) {
			continue;   /* counted below, never suppressed */
		} else if (group_suppressed(H, hp, g)) {
			s->supp_bytes += g->bytes;
			s->supp_blocks += g->blocks;
		} else if (g->kind == HS_DEFINITE) {
			s->def_bytes += g->bytes;
			s->def_blocks += g->blocks;
		} else if (g->kind == HS_POSSIBLE) {
			s->poss_bytes += g->bytes;
			s->poss_blocks += g->blocks;
		} else {
			s->ind_bytes += g->bytes;
			s->ind_blocks += g->blocks;
		}
	}
	s->reach_bytes = hp->reach_bytes;
	s->reach_blocks = hp->reach_blocks;
	s->unscanned_bytes = hp->unscanned_bytes;
	s->unscanned_blocks = hp->unscanned_blocks;
}

static void sum_add(struct leak_sum *t, const struct leak_sum *s)
{
	t->def_bytes += s->def_bytes;
	t->def_blocks += s->def_blocks;
	t->ind_bytes += s->ind_bytes;
	t->ind_blocks += s->ind_blocks;
	t->poss_bytes += s->poss_bytes;
	t->poss_blocks += s->poss_blocks;
	t->reach_bytes += s->reach_bytes;
	t->reach_blocks += s->reach_blocks;
	t->supp_bytes += s->supp_bytes;
	t->supp_blocks += s->supp_blocks;
	t->unscanned_bytes += s->unscanned_bytes;
	t->unscanned_blocks += s->unscanned_blocks;
}

uint64_t heap_leaked_blocks(const struct et_model *m)
{
	if (!heap_enabled(m) || m->heap->leaks_mode == HEAP_LEAKS_NONE)
		return 0;
	uint64_t n = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct heap_proc *hp = m->procs[i]->heap;
		if (!hp || !hp->scan_done)
			continue;
		struct leak_sum s;
		proc_summary(m->heap, hp, &s);
		n += s.def_blocks + s.ind_blocks;
	}
	close_sessions(m->heap);
	return n;
}

/* ---- the crash meets the heap ------------------------------------------------------------------ */

int heap_crash_context(const struct et_model *m, const struct et_process *p, uint64_t addr, uint64_t ts,
		       struct heap_crash_info *out)
{
	memset(out, 0, sizeof(*out));
	const struct heap_proc *hp = p ? p->heap : NULL;
	if (!heap_enabled(m) || !hp || !addr)
		return 0;
	/* recently freed blocks: inside beats just past, then the latest free */
	const struct heap_freed *fb = NULL;
	int frel = 0;
	uint64_t fdist = 0;
	for (size_t i = 0; i < hp->fcount; i++) {
		const struct heap_freed *f = &hp->freed[i];
		uint64_t dist = 0;
		int rel;
		if (!f->addr || f->ts > ts || !(rel = relation(addr, f->addr, f->size, &dist)))
			continue;
		if (rel > frel || (rel == frel && f->ts > fb->ts)) {
			fb = f;
			frel = rel;
			fdist = dist;
		}
	}
	const struct heap_block *lb = live_around(hp, addr, true);
	uint64_t ldist = 0;
	int lrel = lb ? relation(addr, lb->addr, blk_size(lb), &ldist) : 0;
	if (lb && lb->ts > ts) {
		lb = NULL; /* allocated after the crash: not what was there */
		lrel = 0;
	}
	/* the freed block, unless the memory was given out again since */
	bool use_freed = fb && !(lrel >= frel && lb->ts > fb->ts);
	if (!use_freed && !lb)
		return 0;
	out->address = addr;
	if (use_freed) {
		out->kind = "use-after-free";
		out->block_address = fb->addr;
		out->block_size = fb->size;
		out->inside = frel == 2;
		out->offset = (int64_t)(addr - fb->addr);
		out->alloc_op = fb->op;
		out->alloc_stack = fb->alloc_stack;
		out->freed = true;
		out->free_op = fb->free_op;
		out->free_tid = fb->tid;
		out->free_stack = fb->free_stack;
		out->free_ts = fb->ts;
		(void)fdist;
	} else {
		out->kind = lrel == 2 ? "inside a live block" : "heap-buffer-overflow";
		out->block_address = lb->addr;
		out->block_size = blk_size(lb);
		out->inside = lrel == 2;
		out->offset = (int64_t)(addr - lb->addr);
		out->alloc_op = blk_op(lb);
		out->alloc_stack = lb->stack;
		out->alloc_ts = lb->ts;
		out->alloc_tid = lb->tid;
		(void)ldist;
	}
	return 1;
}

/* ---- rendering helpers ---------------------------------------------------------------------------- */

static const char *thread_comm(const struct et_model *m, const struct et_process *p, int tid)
{
	for (size_t j = p ? p->nthreads : 0; j-- > 0;)
		if (p->threads[j]->tid == tid && p->threads[j]->comm[0])
			return p->threads[j]->comm;
	for (size_t i = m->nprocs; i-- > 0;)
		for (size_t j = m->procs[i]->nthreads; j-- > 0;)
			if (m->procs[i]->threads[j]->tid == tid && m->procs[i]->threads[j]->comm[0])
				return m->procs[i]->threads[j]->comm;
	return NULL;
}

/* "thread 1234 (name)", or "thread 1234" when its name is unknown. */
static void thread_text(const struct et_model *m, const struct et_process *p, int tid, struct strbuf *sb)
{
	const char *comm = thread_comm(m, p, tid);
	sb_printf(sb, "thread %d", tid);
	if (comm) {
		sb_puts(sb, " (");
		sb_escape(sb, comm);
		sb_putc(sb, ')');
	}
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void print_stack(FILE *out, const struct symstack *ss)
{
	if (!ss || !ss->nframes) {
		fputs("    (no stack)\n", out);
		return;
	}
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < ss->nframes; i++) {
		sb_reset(&sb);
		sym_frame_text(&ss->frames[i], (int)i, &sb);
		fprintf(out, "%s\n", sb_str(&sb));
	}
	if (ss->cut)
		fputs("    (stack cut: frame pointers end here)\n", out);
	sb_free(&sb);
}

static void json_stack(struct strbuf *sb, const struct symstack *ss)
{
	sb_putc(sb, '[');
	for (size_t i = 0; ss && i < ss->nframes; i++) {
		if (i)
			sb_putc(sb, ',');
		sym_frame_json(&ss->frames[i], sb);
	}
	sb_putc(sb, ']');
}

static void error_message(const struct et_model *m, const struct heap_error *e, struct strbuf *sb)
{
	const char *with = e->op != ET_HEAP_FREE ? heap_op_name(e->op) : NULL;
	if (e->kind == HEAP_ERR_OVERFLOW) {
		sb_printf(sb, "heap-buffer-overflow: %" PRIu32 " %s changed past the end of ", e->past_bytes,
			  e->past_bytes == 1 ? "byte" : "bytes");
		if (e->has_block)
			sb_printf(sb, "a %" PRIu64 "-byte block 0x%" PRIx64 " from %s", e->block_size, e->addr,
				  heap_op_name(e->block_op));
		else
			sb_printf(sb, "the block 0x%" PRIx64, e->addr);
		sb_printf(sb, ", from %" PRIu64 " %s after it; found at %s by ", e->past_first,
			  e->past_first == 1 ? "byte" : "bytes", heap_op_name(e->op));
		thread_text(m, e->proc, e->tid, sb);
		return;
	}
	if (e->kind == HEAP_ERR_UAF_WRITE) {
		sb_printf(sb, "heap-use-after-free WRITE: %" PRIu32 " %s changed in ", e->past_bytes,
			  e->past_bytes == 1 ? "byte" : "bytes");
		if (e->has_block) {
			sb_printf(sb, "a %" PRIu64 "-byte block 0x%" PRIx64 " from %s freed by ", e->block_size, e->addr,
				  heap_op_name(e->block_op));
			thread_text(m, e->proc, e->free_tid, sb);
		} else {
			sb_printf(sb, "the freed block 0x%" PRIx64, e->addr);
		}
		sb_printf(sb, ", from byte %" PRIu64 "; found when it left the quarantine", e->past_first);
		return;
	}
	if (e->kind == HEAP_ERR_REALLOC_FREED)
		sb_printf(sb, "realloc of freed pointer 0x%" PRIx64 " (", e->addr);
	else
		sb_printf(sb, "%s of 0x%" PRIx64 " (", heap_error_kind_name(e->kind), e->addr);
	switch (e->kind) {
	case HEAP_ERR_MISMATCHED_FREE:
		sb_printf(sb, "%" PRIu64 "-byte block from %s, released with %s", e->block_size, heap_op_name(e->block_op),
			  heap_op_name(e->op));
		with = NULL;
		break;
	case HEAP_ERR_INVALID_FREE:
		if (e->detail == HEAP_DETAIL_INTERIOR)
			sb_printf(sb, "%" PRIu64 " bytes inside a %" PRIu64 "-byte block from %s", e->addr - e->block_addr,
				  e->block_size, heap_op_name(e->block_op));
		else if (e->detail == HEAP_DETAIL_STACK)
			sb_puts(sb, "an address on the caller's stack");
		else if (e->detail == HEAP_DETAIL_FAULTED)
			sb_puts(sb, "a pointer no allocation returned: the allocator faulted reading it");
		else
			sb_puts(sb, "a pointer no allocation returned: the allocator aborted");
		break;
	default:
		sb_printf(sb, "%" PRIu64 "-byte block from %s", e->block_size, heap_op_name(e->block_op));
	}
	sb_putc(sb, ')');
	if (with && e->kind != HEAP_ERR_REALLOC_FREED)
		sb_printf(sb, " with %s", with);
	sb_puts(sb, " by ");
	thread_text(m, e->proc, e->tid, sb);
}

static void crash_message(const struct et_model *m, const struct et_process *p, const struct heap_crash_info *ci,
			  uint64_t crash_ts, struct strbuf *sb)
{
	sb_printf(sb, "address 0x%" PRIx64 " is ", ci->address);
	if (ci->inside)
		sb_printf(sb, "%" PRId64 " bytes inside a ", ci->offset);
	else
		sb_printf(sb, "%" PRIu64 " bytes after a ", (uint64_t)ci->offset - ci->block_size);
	if (ci->freed) {
		sb_printf(sb, "%" PRIu64 "-byte region freed by ", ci->block_size);
		thread_text(m, p, ci->free_tid, sb);
		sb_printf(sb, " %.3f ms before the crash",
			  crash_ts >= ci->free_ts ? (double)(crash_ts - ci->free_ts) / 1e6 : 0.0);
	} else
		sb_printf(sb, "%s%" PRIu64 "-byte block allocated by %s", ci->inside ? "live " : "", ci->block_size,
			  heap_op_name(ci->alloc_op));
}

static void heading(FILE *out, const char *title)
{
	fprintf(out, "\n-- %s", title);
	if (strlen(title) + 8 <= 72) {
		fputc(' ', out);
		for (size_t n = strlen(title) + 4; n < 72; n++)
			fputc('-', out);
	}
	fputc('\n', out);
}

/* Leak groups of all processes, for sorting. */
struct group_ref {
	struct heap_proc *hp;
	struct leak_group *g;
};

/* definitely, indirectly, possibly lost, still reachable: valgrind's order */
static int kind_rank(int kind)
{
	return kind == HS_DEFINITE ? 0 : kind == HS_INDIRECT ? 1 : kind == HS_POSSIBLE ? 2 : 3;
}

static int group_cmp(const void *a, const void *b)
{
	const struct group_ref *x = a, *y = b;
	if (x->g->kind != y->g->kind)
		return kind_rank(x->g->kind) - kind_rank(y->g->kind);
	if (x->g->bytes != y->g->bytes)
		return x->g->bytes > y->g->bytes ? -1 : 1;
	if (x->g->blocks != y->g->blocks)
		return x->g->blocks > y->g->blocks ? -1 : 1;
	if (x->hp->proc->pid != y->hp->proc->pid)
		return x->hp->proc->pid < y->hp->proc->pid ? -1 : 1;
	return x->g->stack < y->g->stack ? -1 : x->g->stack > y->g->stack;
}

/* The leak groups to report: not suppressed, definite first, by bytes;
 * still reachable ones only with --show-reachable. */
static struct group_ref *leak_list(const struct et_model *m, size_t *n)
{
	struct et_heap *H = m->heap;
	size_t total = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->heap && m->procs[i]->heap->scan_done)
			total += m->procs[i]->heap->ngroups;
	struct group_ref *refs = xcalloc(total, sizeof(*refs));
	size_t k = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct heap_proc *hp = m->procs[i]->heap;
		if (!hp || !hp->scan_done)
			continue;
		for (size_t j = 0; j < hp->ngroups; j++) {
			struct leak_group *g = &hp->groups[j];
			if (g->kind == HS_REACHABLE ? H->show_reachable : !group_suppressed(H, hp, g))
				refs[k++] = (struct group_ref){ hp, g };
		}
	}
	qsort(refs, k, sizeof(*refs), group_cmp);
	*n = k;
	return refs;
}

const char *heap_hold_why_text(int why)
{
	switch (why) {
	case ET_HOLD_WOULD_SHOW:
		return "a stop would have been seen by a tracer or by its parent";
	case ET_HOLD_ENDING:
		return "etrace was ending";
	case ET_HOLD_NO_KERNEL:
		return "the kernel cannot stop a new child from BPF (Linux 6.13+)";
	default:
		return "the kernel could not stop it";
	}
}

/* Why a process's blocks were not classified. */
static void not_scanned_reason(const struct heap_proc *hp, struct strbuf *sb)
{
	const struct et_process *p = hp->proc;
	if (hp->scan_error)
		sb_printf(sb, "the scan failed: %s", hp->scan_error);
	else if (p->crash)
		sb_printf(sb, "it died of %s", decode_signal_name(p->crash->sig) ? decode_signal_name(p->crash->sig) : "a signal");
	else if (!p->exited)
		sb_puts(sb, "still running at the end");
	else if (p->wait_status & 0x7f)
		describe_wait_status(p->wait_status, sb);
	else if (hp->held)
		sb_puts(sb, "stopped at _exit but not scanned");
	else if (hp->exit_hold_why)
		sb_printf(sb, "not stopped at _exit: %s", heap_hold_why_text(hp->exit_hold_why));
	else
		sb_puts(sb, "it exited without stopping at _exit (exit_group called directly, or the hold was not possible)");
}

static bool proc_has_heap(const struct heap_proc *hp)
{
	return hp->allocations || hp->frees || hp->live_blocks || hp->scan_done || hp->scan_error || hp->unknown_frees;
}

/* ---- text ----------------------------------------------------------------------------------------- */

/* Findings of system programs are counted, not listed, without
 * --system-findings (reports/verdict/verdict.c has the rule). */
static bool hidden_proc(const struct et_model *m, const struct et_process *p)
{
	return p && !m->system_findings && verdict_system_program(m, p);
}

/* Whether the uprobe backend traced a process (or no process says which
 * backend traced it): the probes are worth a line only then. */
static bool probes_used(const struct et_model *m)
{
	bool said = false;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (hp && hp->backend) {
			said = true;
			if (strcmp(hp->backend, "uprobe") == 0)
				return true;
		}
	}
	return !said;
}

/* Which backend recorded which process, and the preload's counters. */
static bool backend_matches(const struct heap_proc *a, const struct heap_proc *b)
{
	return b->backend && strcmp(a->backend, b->backend) == 0 &&
	       strcmp(a->backend_why ? a->backend_why : "", b->backend_why ? b->backend_why : "") == 0;
}

/* True when no earlier process had the same backend and reason as process i. */
static bool first_of_its_backend(const struct et_model *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (m->procs[j]->heap && backend_matches(m->procs[i]->heap, m->procs[j]->heap))
			return false;
	return true;
}

static void text_backends(const struct et_model *m, FILE *out)
{
	const struct heap_preload_info *pi = &m->heap->preload;
	if (pi->library && pi->rings) {
		fprintf(out, "preload: LD_PRELOAD=%s: %" PRIu64 " %s, %" PRIu64 " records", pi->ld_preload, pi->rings,
			plural(pi->rings, "ring", "rings"), pi->records);
		if (pi->full_waits)
			fprintf(out, ", %" PRIu64 " waits for a full ring (%.1f ms)", pi->full_waits,
				(double)pi->full_wait_ns / 1e6);
		if (pi->lost || pi->invalid)
			fprintf(out, ", %" PRIu64 " lost, %" PRIu64 " invalid", pi->lost, pi->invalid);
		if (pi->stacks_full)
			fprintf(out, ", %" PRIu64 " stacks not kept (table full)", pi->stacks_full);
		if (pi->rejected)
			fprintf(out, ", %" PRIu64 " hand-overs refused (not a process of the run, or a library of another "
				"etrace version): those processes are not traced", pi->rejected);
		fputc('\n', out);
	}
	/* one line per backend and reason: a suite's hundred processes traced
	 * the same way are one line, not a hundred */
	size_t shown = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (!hp || !hp->backend || !first_of_its_backend(m, i))
			continue;
		if (shown++ == 20) {
			fputs("(more backends: the JSON report lists every process's)\n", out);
			break;
		}
		size_t more = 0;
		for (size_t k = i + 1; k < m->nprocs; k++)
			more += m->procs[k]->heap && backend_matches(hp, m->procs[k]->heap);
		fprintf(out, "backend (pid %d", hp->proc->pid);
		if (more)
			fprintf(out, " and %zu more process%s", more, more == 1 ? "" : "es");
		fprintf(out, "): %s: %s\n", hp->backend, hp->backend_why);
	}
}

static void text_errors(const struct et_model *m, FILE *out)
{
	struct et_heap *H = m->heap;
	struct strbuf sb = STRBUF_INIT;
	if (!H->nerrors)
		fputs("no heap errors found (double, invalid or mismatched frees)\n", out);
	size_t shown = 0, sys = 0;
	for (size_t i = 0; i < H->nerrors; i++) {
		struct heap_error *e = &H->errors[i];
		if (hidden_proc(m, e->proc)) {
			sys++;
			continue;
		}
		if (shown >= TEXT_ERRORS_SHOWN)
			continue;
		shown++;
		resolve_error_stacks(H, e);
		sb_reset(&sb);
		error_message(m, e, &sb);
		fprintf(out, "ERROR %s:\n", sb_str(&sb));
		if (e->kind != HEAP_ERR_UAF_WRITE)
			print_stack(out, e->sym[0]);
		if (e->has_block && e->block_freed) {
			fprintf(out, "  freed before by thread %d at:\n", e->free_tid);
			print_stack(out, e->sym[2]);
		}
		if (e->has_block) {
			fputs("  allocated at:\n", out);
			print_stack(out, e->sym[1]);
		}
	}
	uint64_t total = 0;
	for (int k = 0; k < HEAP_ERR_KINDS; k++)
		total += H->err_total[k];
	if (total > shown) {
		fprintf(out, "(%" PRIu64 " more heap errors not shown", total - shown);
		if (sys)
			fprintf(out, ", %zu of them in system programs (--system-findings lists them)", sys);
		fprintf(out, "%s)\n", total > H->nerrors ? "; the first 1000 are in the JSON report" : ": the JSON report has them");
	}
	sb_free(&sb);
}

static void text_leaks(const struct et_model *m, FILE *out)
{
	struct et_heap *H = m->heap;
	size_t n;
	struct group_ref *refs = leak_list(m, &n);
	size_t procs_with_leaks = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		for (size_t k = 0; k < n; k++)
			if (refs[k].hp == hp) {
				procs_with_leaks++;
				break;
			}
	}
	size_t shown = 0, sys = 0;
	for (size_t k = 0; k < n; k++) {
		const struct leak_group *g = refs[k].g;
		if (hidden_proc(m, refs[k].hp->proc)) {
			sys++;
			continue;
		}
		if (shown >= TEXT_LEAKS_SHOWN)
			continue;
		shown++;
		fprintf(out, "%s %" PRIu64 " bytes in %" PRIu64 " %s %s, allocated by %s at:\n",
			g->kind == HS_REACHABLE ? "REACHABLE" : "LEAK", g->bytes, g->blocks,
			plural(g->blocks, "block", "blocks"), kind_name(g->kind), heap_op_name(g->op));
		print_stack(out, group_sym(H, refs[k].hp, refs[k].g));
		fprintf(out, "  %s at", g->blocks > 1 ? "blocks" : "block");
		for (size_t a = 0; a < g->naddrs; a++)
			fprintf(out, "%s 0x%" PRIx64, a ? "," : "", g->addrs[a]);
		if (g->blocks > g->naddrs)
			fprintf(out, " and %" PRIu64 " more", g->blocks - g->naddrs);
		fputc('\n', out);
		if (g->kind == HS_POSSIBLE)
			fprintf(out, "  only pointers into %s middle were found, none to %s start\n",
				g->blocks > 1 ? "their" : "its", g->blocks > 1 ? "their" : "its");
		if (g->kind == HS_DEFINITE && g->ind_blocks)
			fprintf(out, "  they hold the only pointers to %" PRIu64 " bytes in %" PRIu64 " more %s (indirectly lost)\n",
				g->ind_bytes, g->ind_blocks, plural(g->ind_blocks, "block", "blocks"));
		if (procs_with_leaks > 1)
			fprintf(out, "  (pid %d)\n", refs[k].hp->proc->pid);
	}
	if (n > shown) {
		fprintf(out, "(%zu more leak stacks not shown", n - shown);
		if (sys)
			fprintf(out, ", %zu of them in system programs (--system-findings lists them)", sys);
		fprintf(out, ": the JSON report has %s)\n", n > JSON_LEAKS_LISTED ? "the first 1000" : "them");
	}
	free(refs);
}

static void text_summaries(const struct et_model *m, FILE *out)
{
	struct et_heap *H = m->heap;
	size_t shown = 0, hidden = 0, nprocs = 0;
	struct leak_sum all;
	memset(&all, 0, sizeof(all));
	struct strbuf why = STRBUF_INIT;
	size_t with_heap = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		with_heap += m->procs[i]->heap && proc_has_heap(m->procs[i]->heap);
	for (size_t i = 0; i < m->nprocs; i++) {
		struct heap_proc *hp = m->procs[i]->heap;
		if (!hp || !proc_has_heap(hp))
			continue;
		struct leak_sum s;
		proc_summary(H, hp, &s);
		sum_add(&all, &s);
		nprocs++;
		if (!hp->live_blocks && hp->proc->pid != m->root_pid)
			continue; /* nothing outstanding, nothing to say (the root always has its line) */
		/* in a tree (a suite), a line only for the root and the processes
		 * that lost something, or were not scanned, and are not system programs */
		if (with_heap > 1 && hp->proc->pid != m->root_pid &&
		    ((hp->scan_done && !s.def_blocks && !s.ind_blocks && !s.poss_blocks) || hidden_proc(m, hp->proc)))
			continue;
		if (shown >= TEXT_SUMMARIES_SHOWN) {
			hidden++;
			continue;
		}
		shown++;
		if (!hp->scan_done) {
			sb_reset(&why);
			not_scanned_reason(hp, &why);
			fprintf(out, "leak summary (pid %d): not scanned (%s): %" PRIu64 " bytes in %" PRIu64 " %s outstanding\n",
				hp->proc->pid, sb_str(&why), s.unscanned_bytes, s.unscanned_blocks,
				plural(s.unscanned_blocks, "block", "blocks"));
			continue;
		}
		fprintf(out,
			"leak summary (pid %d): definitely lost %" PRIu64 " bytes in %" PRIu64 " %s, indirectly lost %" PRIu64
			" bytes in %" PRIu64 " %s, possibly lost %" PRIu64 " bytes in %" PRIu64 " %s, still reachable %" PRIu64
			" bytes in %" PRIu64 " %s, suppressed %" PRIu64 " bytes in %" PRIu64 " %s",
			hp->proc->pid, s.def_bytes, s.def_blocks, plural(s.def_blocks, "block", "blocks"), s.ind_bytes,
			s.ind_blocks, plural(s.ind_blocks, "block", "blocks"), s.poss_bytes, s.poss_blocks,
			plural(s.poss_blocks, "block", "blocks"), s.reach_bytes, s.reach_blocks,
			plural(s.reach_blocks, "block", "blocks"), s.supp_bytes, s.supp_blocks,
			plural(s.supp_blocks, "block", "blocks"));
		if (s.unscanned_blocks)
			fprintf(out, ", not scanned %" PRIu64 " bytes in %" PRIu64 " %s", s.unscanned_bytes, s.unscanned_blocks,
				plural(s.unscanned_blocks, "block", "blocks"));
		fputc('\n', out);
	}
	if (hidden)
		fprintf(out, "(%zu more processes with blocks outstanding at exit: the JSON report has their counts)\n", hidden);
	if (shown > 1 || hidden || with_heap > 1)
		fprintf(out,
			"leak summary (all %zu processes): definitely lost %" PRIu64 " bytes in %" PRIu64 " %s, indirectly lost %" PRIu64
			" bytes in %" PRIu64 " %s, possibly lost %" PRIu64 " bytes in %" PRIu64 " %s, still reachable %" PRIu64
			" bytes in %" PRIu64 " %s, suppressed %" PRIu64 " bytes in %" PRIu64 " %s, not scanned %" PRIu64
			" bytes in %" PRIu64 " %s\n",
			nprocs, all.def_bytes, all.def_blocks, plural(all.def_blocks, "block", "blocks"), all.ind_bytes,
			all.ind_blocks, plural(all.ind_blocks, "block", "blocks"), all.poss_bytes, all.poss_blocks,
			plural(all.poss_blocks, "block", "blocks"), all.reach_bytes, all.reach_blocks,
			plural(all.reach_blocks, "block", "blocks"), all.supp_bytes, all.supp_blocks,
			plural(all.supp_blocks, "block", "blocks"), all.unscanned_bytes, all.unscanned_blocks,
			plural(all.unscanned_blocks, "block", "blocks"));
	sb_free(&why);
	/* processes whose allocator has no probes at all */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (hp && hp->static_untraced) {
			struct strbuf sb = STRBUF_INIT;
			sb_escape(&sb, hp->proc->exe_path);
			fprintf(out, "heap of pid %d not traced: %s is statically linked, its allocator has no probes\n",
				hp->proc->pid, sb_str(&sb));
			sb_free(&sb);
		}
	}
	/* processes that ran a moment before their probes were attached */
	size_t late = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (!hp || !hp->attach_hold_why)
			continue;
		if (late++ < TEXT_SUMMARIES_SHOWN)
			fprintf(out, "heap probes of pid %d attached after it started (not stopped: %s): its first allocations were not seen\n",
				hp->proc->pid, heap_hold_why_text(hp->attach_hold_why));
	}
	if (late > TEXT_SUMMARIES_SHOWN)
		fprintf(out, "(%zu more processes whose heap probes came after they started: the JSON report lists them)\n",
			late - TEXT_SUMMARIES_SHOWN);
}

static void heap_render_text(const struct et_model *m, FILE *out)
{
	if (!heap_enabled(m))
		return;
	struct et_heap *H = m->heap;
	derive_aborts(m);
	uint64_t allocs = 0, frees = 0, live = 0, live_bytes = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (!hp)
			continue;
		allocs += hp->allocations;
		frees += hp->frees;
		live += hp->live_blocks;
		live_bytes += hp->live_bytes;
	}
	char title[160];
	snprintf(title, sizeof(title),
		 "heap: %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s (%" PRIu64 " bytes) outstanding at exit", allocs,
		 plural(allocs, "allocation", "allocations"), frees, plural(frees, "free", "frees"), live,
		 plural(live, "block", "blocks"), live_bytes);
	heading(out, title);
	for (size_t i = 0; probes_used(m) && i < H->nallocs; i++) {
		const struct allocator *a = &H->allocs[i];
		size_t stepped = 0;
		for (size_t j = 0; j < a->nfns; j++)
			stepped += !a->fns[j].emulated;
		struct strbuf esc = STRBUF_INIT;
		fprintf(out, "probes: %s: %zu %s", sb_escaped(&esc, a->path), a->nfns, plural(a->nfns, "function", "functions"));
		sb_free(&esc);
		if (stepped)
			fprintf(out, " (%zu on single-stepped instructions: slower)", stepped);
		fputc('\n', out);
	}
	text_backends(m, out);
	if (m->lost[ET_EV_HEAP])
		fprintf(out, "%" PRIu64 " heap records lost: leak and error results are incomplete (try --buffer-size)\n",
			m->lost[ET_EV_HEAP]);
	if (m->lost[ET_EV_HEAP_HOLD])
		fprintf(out, "%" PRIu64 " exit holds lost: those processes were not scanned for leaks\n",
			m->lost[ET_EV_HEAP_HOLD]);
	uint64_t harmless = H->unknown_frees - (H->unknown_erred < H->unknown_frees ? H->unknown_erred : H->unknown_frees);
	if (harmless)
		fprintf(out,
			"%" PRIu64 " %s of pointers no probe saw allocated (made before tracing started, by the C library "
			"for itself, or a lost record): not errors\n",
			harmless, plural(harmless, "free", "frees"));
	text_errors(m, out);
	if (H->leaks_mode == HEAP_LEAKS_FULL) {
		text_leaks(m, out);
		text_summaries(m, out);
	}
	close_sessions(H);
}

/* ---- JSON ----------------------------------------------------------------------------------------- */

static void json_sum(struct strbuf *sb, const char *name, uint64_t bytes, uint64_t blocks, bool comma)
{
	sb_printf(sb, "%s\"%s\":{\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 "}", comma ? "," : "", name, bytes, blocks);
}

static void json_error(const struct et_model *m, struct heap_error *e, struct strbuf *sb)
{
	struct et_heap *H = m->heap;
	resolve_error_stacks(H, e);
	sb_puts(sb, "{\"kind\":");
	sb_json_str(sb, heap_error_kind_name(e->kind));
	sb_printf(sb, ",\"pid\":%d,\"tid\":%d,\"t_ms\":%.3f,\"address\":\"0x%" PRIx64 "\",\"function\":", e->pid, e->tid,
		  model_rel_ms(m, e->ts), e->addr);
	sb_json_str(sb, heap_op_name(e->op));
	struct strbuf msg = STRBUF_INIT;
	error_message(m, e, &msg);
	sb_puts(sb, ",\"message\":");
	sb_json_str(sb, sb_str(&msg));
	sb_free(&msg);
	static const char *const details[] = { NULL, "interior pointer", "stack address", "allocator aborted",
					       "allocator faulted" };
	sb_puts(sb, ",\"detail\":");
	sb_json_str(sb, details[e->detail]);
	if (e->kind == HEAP_ERR_UAF_WRITE)
		sb_printf(sb, ",\"changed\":{\"first\":%" PRIu64 ",\"bytes\":%" PRIu32 "}", e->past_first, e->past_bytes);
	if (e->kind == HEAP_ERR_OVERFLOW)
		sb_printf(sb, ",\"past_end\":{\"first\":%" PRIu64 ",\"bytes\":%" PRIu32 "}", e->past_first, e->past_bytes);
	sb_puts(sb, ",\"stack\":");
	json_stack(sb, e->sym[0]);
	sb_printf(sb, ",\"stack_cut\":%s,\"block\":", e->sym[0] && e->sym[0]->cut ? "true" : "false");
	if (!e->has_block) {
		sb_puts(sb, "null}");
		return;
	}
	sb_printf(sb, "{\"address\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",\"function\":", e->block_addr, e->block_size);
	sb_json_str(sb, heap_op_name(e->block_op));
	sb_puts(sb, ",\"alloc_stack\":");
	json_stack(sb, e->sym[1]);
	sb_puts(sb, ",\"free_stack\":");
	if (e->block_freed) {
		json_stack(sb, e->sym[2]);
		sb_printf(sb, ",\"free_tid\":%d,\"free_function\":", e->free_tid);
		sb_json_str(sb, heap_op_name(e->free_op));
		sb_printf(sb, ",\"free_t_ms\":%.3f}}", model_rel_ms(m, e->free_ts));
	} else {
		sb_puts(sb, "null,\"free_tid\":null,\"free_function\":null,\"free_t_ms\":null}}");
	}
}

static void heap_render_json(const struct et_model *m, struct strbuf *sb)
{
	if (!heap_enabled(m))
		return;
	struct et_heap *H = m->heap;
	derive_aborts(m);
	sb_printf(sb, ",\"heap\":{\"enabled\":true,\"settings\":{\"freed_keep\":%zu,\"leaks_mode\":\"%s\",\"suppression_rules\":%zu"
		      ",\"show_reachable\":%s}",
		  H->freed_keep, H->leaks_mode == HEAP_LEAKS_FULL ? "full" : "none", supp_count(H->supp),
		  H->show_reachable ? "true" : "false");
	sb_puts(sb, ",\"allocators\":[");
	for (size_t i = 0; i < H->nallocs; i++) {
		const struct allocator *a = &H->allocs[i];
		sb_puts(sb, i ? ",{\"path\":" : "{\"path\":");
		sb_json_str(sb, a->path);
		sb_puts(sb, ",\"functions\":[");
		for (size_t j = 0; j < a->nfns; j++) {
			sb_puts(sb, j ? ",{\"name\":" : "{\"name\":");
			sb_json_str(sb, a->fns[j].name);
			sb_printf(sb, ",\"offset\":%" PRIu64 ",\"emulated\":%s}", a->fns[j].offset,
				  a->fns[j].emulated ? "true" : "false");
		}
		sb_puts(sb, "]}");
	}
	uint64_t allocs = 0, frees = 0, bytes = 0, errors = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (hp) {
			allocs += hp->allocations;
			frees += hp->frees;
			bytes += hp->bytes_allocated;
		}
	}
	for (int k = 0; k < HEAP_ERR_KINDS; k++)
		errors += H->err_total[k];
	sb_printf(sb, "],\"totals\":{\"allocations\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes_allocated\":%" PRIu64
		      ",\"unknown_frees\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
		  allocs, frees, bytes, H->unknown_frees, errors);
	const struct heap_preload_info *pi = &H->preload;
	sb_puts(sb, ",\"preload\":");
	if (!pi->library) {
		sb_puts(sb, "null");
	} else {
		sb_puts(sb, "{\"library\":");
		sb_json_str(sb, pi->library);
		sb_puts(sb, ",\"ld_preload\":");
		sb_json_str(sb, pi->ld_preload);
		sb_printf(sb, ",\"rings\":%" PRIu64 ",\"records\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"invalid\":%" PRIu64
			      ",\"full_waits\":%" PRIu64 ",\"full_wait_ms\":%.3f,\"stacks_not_interned\":%" PRIu64
			      ",\"unrecorded\":%" PRIu64 ",\"rejected\":%" PRIu64 "}",
			  pi->rings, pi->records, pi->lost, pi->invalid, pi->full_waits, (double)pi->full_wait_ns / 1e6,
			  pi->stacks_full, pi->unrecorded, pi->rejected);
	}

	sb_puts(sb, ",\"processes\":[");
	bool first = true;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (!hp)
			continue;
		sb_printf(sb, "%s{\"pid\":%d,\"allocations\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes_allocated\":%" PRIu64
			      ",\"peak_bytes\":%" PRIu64 ",\"live_blocks\":%" PRIu64 ",\"live_bytes\":%" PRIu64
			      ",\"unknown_frees\":%" PRIu64 ",\"failed_allocations\":%" PRIu64,
			  first ? "" : ",", hp->proc->pid, hp->allocations, hp->frees, hp->bytes_allocated, hp->peak_bytes,
			  hp->live_blocks, hp->live_bytes, hp->unknown_frees, hp->failed);
		first = false;
		sb_puts(sb, ",\"not_traced\":");
		sb_json_str(sb, hp->static_untraced ? "statically linked: its allocator has no probes" : NULL);
		sb_puts(sb, ",\"probes_late\":");
		sb_json_str(sb, hp->attach_hold_why ? heap_hold_why_text(hp->attach_hold_why) : NULL);
		sb_puts(sb, ",\"exit_not_held\":");
		sb_json_str(sb, hp->exit_hold_why ? heap_hold_why_text(hp->exit_hold_why) : NULL);
		sb_puts(sb, ",\"backend\":");
		sb_json_str(sb, hp->backend);
		sb_puts(sb, ",\"backend_why\":");
		sb_json_str(sb, hp->backend_why);
		sb_printf(sb, ",\"scan\":{\"done\":%s,\"held\":%s,\"error\":", hp->scan_done ? "true" : "false",
			  hp->held ? "true" : "false");
		sb_json_str(sb, hp->scan_error);
		sb_printf(sb, ",\"ms\":%.3f,\"bytes_scanned\":%" PRIu64 ",\"regions\":%" PRIu64 ",\"unreadable_bytes\":%" PRIu64 "}}",
			  hp->scan.ms, hp->scan.bytes_scanned, hp->scan.regions, hp->scan.unreadable_bytes);
	}
	sb_puts(sb, "]");

	if (H->leaks_mode == HEAP_LEAKS_FULL) {
		size_t n;
		struct group_ref *refs = leak_list(m, &n);
		sb_puts(sb, ",\"leaks\":[");
		for (size_t k = 0; k < n && k < JSON_LEAKS_LISTED; k++) {
			const struct leak_group *g = refs[k].g;
			struct symstack *ss = group_sym(H, refs[k].hp, refs[k].g);
			sb_printf(sb, "%s{\"pid\":%d,\"kind\":\"%s\",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64
				      ",\"indirect_bytes\":%" PRIu64 ",\"indirect_blocks\":%" PRIu64 ",\"addresses\":[",
				  k ? "," : "", refs[k].hp->proc->pid, kind_name(g->kind), g->bytes, g->blocks, g->ind_bytes,
				  g->ind_blocks);
			for (size_t a = 0; a < g->naddrs; a++)
				sb_printf(sb, "%s\"0x%" PRIx64 "\"", a ? "," : "", g->addrs[a]);
			sb_puts(sb, "],\"function\":");
			sb_json_str(sb, heap_op_name(g->op));
			sb_puts(sb, ",\"stack\":");
			json_stack(sb, ss);
			sb_printf(sb, ",\"stack_cut\":%s}", ss->cut ? "true" : "false");
		}
		sb_printf(sb, "],\"leaks_not_listed\":%zu", n > JSON_LEAKS_LISTED ? n - JSON_LEAKS_LISTED : 0);
		free(refs);
		struct leak_sum all;
		memset(&all, 0, sizeof(all));
		for (size_t i = 0; i < m->nprocs; i++) {
			struct heap_proc *hp = m->procs[i]->heap;
			if (!hp)
				continue;
			struct leak_sum s;
			proc_summary(H, hp, &s);
			sum_add(&all, &s);
		}
		sb_puts(sb, ",\"summary\":{");
		json_sum(sb, "definitely_lost", all.def_bytes, all.def_blocks, false);
		json_sum(sb, "indirectly_lost", all.ind_bytes, all.ind_blocks, true);
		json_sum(sb, "possibly_lost", all.poss_bytes, all.poss_blocks, true);
		json_sum(sb, "still_reachable", all.reach_bytes, all.reach_blocks, true);
		json_sum(sb, "suppressed", all.supp_bytes, all.supp_blocks, true);
		json_sum(sb, "not_scanned", all.unscanned_bytes, all.unscanned_blocks, true);
		sb_putc(sb, '}');
	}

	sb_puts(sb, ",\"errors\":[");
	for (size_t i = 0; i < H->nerrors; i++) {
		if (i)
			sb_putc(sb, ',');
		json_error(m, &H->errors[i], sb);
	}
	sb_printf(sb, "],\"errors_not_listed\":%" PRIu64 ",\"lost_events\":%" PRIu64 ",\"lost_holds\":%" PRIu64 "}",
		  errors > H->nerrors ? errors - H->nerrors : 0, m->lost[ET_EV_HEAP], m->lost[ET_EV_HEAP_HOLD]);
	close_sessions(H);
}

/* ---- crash section ----------------------------------------------------------------------------- */

static bool fault_with_address(const struct et_crash *c)
{
	return (c->sig == SIGSEGV || c->sig == SIGBUS) && c->code > 0 && c->addr;
}

void heap_crash_text(const struct et_model *m, const struct et_process *p, const struct et_crash *c, FILE *out)
{
	struct heap_crash_info ci;
	if (!c || !fault_with_address(c) || !heap_crash_context(m, p, c->addr, c->ts, &ci))
		return;
	struct et_heap *H = m->heap;
	struct strbuf sb = STRBUF_INIT;
	crash_message(m, p, &ci, c->ts, &sb);
	fprintf(out, "  heap: %s: %s\n", ci.kind, sb_str(&sb));
	if (ci.freed) {
		fprintf(out, "  freed by %s at:\n", heap_op_name(ci.free_op));
		print_stack(out, symstack_get(H, p->heap, ci.free_stack));
		fprintf(out, "  previously allocated by %s at:\n", heap_op_name(ci.alloc_op));
	} else {
		fprintf(out, "  allocated by %s at:\n", heap_op_name(ci.alloc_op));
	}
	print_stack(out, symstack_get(H, p->heap, ci.alloc_stack));
	sb_free(&sb);
	close_sessions(H);
}

void heap_crash_json(const struct et_model *m, const struct et_process *p, const struct et_crash *c,
		     struct strbuf *sb)
{
	struct heap_crash_info ci;
	if (!c || !fault_with_address(c) || !heap_crash_context(m, p, c->addr, c->ts, &ci)) {
		sb_puts(sb, ",\"heap\":null");
		return;
	}
	struct et_heap *H = m->heap;
	sb_puts(sb, ",\"heap\":{\"kind\":");
	sb_json_str(sb, ci.kind);
	sb_printf(sb, ",\"address\":\"0x%" PRIx64 "\",\"block_address\":\"0x%" PRIx64 "\",\"block_size\":%" PRIu64
		      ",\"offset\":%" PRId64 ",\"inside\":%s,\"function\":",
		  ci.address, ci.block_address, ci.block_size, ci.offset, ci.inside ? "true" : "false");
	sb_json_str(sb, heap_op_name(ci.alloc_op));
	struct strbuf msg = STRBUF_INIT;
	crash_message(m, p, &ci, c->ts, &msg);
	sb_puts(sb, ",\"message\":");
	sb_json_str(sb, sb_str(&msg));
	sb_free(&msg);
	struct symstack *as = symstack_get(H, p->heap, ci.alloc_stack);
	sb_puts(sb, ",\"alloc_stack\":");
	json_stack(sb, as);
	sb_printf(sb, ",\"alloc_stack_cut\":%s,\"free_stack\":", as->cut ? "true" : "false");
	if (ci.freed) {
		struct symstack *fs = symstack_get(H, p->heap, ci.free_stack);
		json_stack(sb, fs);
		sb_printf(sb, ",\"free_stack_cut\":%s,\"free_tid\":%d,\"free_function\":", fs->cut ? "true" : "false",
			  ci.free_tid);
		sb_json_str(sb, heap_op_name(ci.free_op));
		sb_printf(sb, ",\"freed_ms_before\":%.3f}", c->ts >= ci.free_ts ? (double)(c->ts - ci.free_ts) / 1e6 : 0.0);
	} else {
		sb_puts(sb, "null,\"free_stack_cut\":null,\"free_tid\":null,\"free_function\":null,\"freed_ms_before\":null}");
	}
	close_sessions(H);
}

/* ---- freeing ------------------------------------------------------------------------------------ */

void heap_free(struct et_model *m)
{
	struct et_heap *H = m->heap;
	if (!H)
		return;
	close_sessions(H);
	cfiw_free(H->cfiw);
	for (size_t i = 0; i < m->nprocs; i++) {
		hp_free(m->procs[i]->heap);
		m->procs[i]->heap = NULL;
	}
	supp_set_free(H->supp);
	for (size_t i = 0; i < H->nallocs; i++) {
		for (size_t j = 0; j < H->allocs[i].nfns; j++)
			free(H->allocs[i].fns[j].name);
		free(H->allocs[i].fns);
		free(H->allocs[i].path);
	}
	free(H->allocs);
	free(H->stacks);
	free(H->pool);
	free(H->stab);
	free(H->errors);
	for (size_t i = 0; i < H->nsyms; i++)
		symstack_free(H->syms[i]);
	free(H->syms);
	for (size_t i = 0; i < H->ncodefiles; i++) {
		if (H->codefiles[i].elf)
			elf_end(H->codefiles[i].elf);
		if (H->codefiles[i].fd >= 0)
			close(H->codefiles[i].fd);
		free(H->codefiles[i].path);
	}
	free(H->codefiles);
	free(H->open);
	free(H);
	m->heap = NULL;
}

/* ---- the verdict's view (reports/verdict/verdict.c) -------------------------------------------- */

size_t heap_findings(const struct et_model *m, struct heap_finding **out)
{
	*out = NULL;
	if (!heap_enabled(m))
		return 0;
	struct et_heap *H = m->heap;
	size_t nleaks = 0;
	struct group_ref *refs = H->leaks_mode == HEAP_LEAKS_FULL ? leak_list(m, &nleaks) : NULL;
	struct heap_finding *f = xcalloc(H->nerrors + nleaks + 1, sizeof(*f));
	size_t n = 0;
	for (size_t i = 0; i < H->nerrors; i++) {
		struct heap_error *e = &H->errors[i];
		resolve_error_stacks(H, e);
		struct strbuf sb = STRBUF_INIT;
		error_message(m, e, &sb);
		f[n++] = (struct heap_finding){ .leak = false, .proc = e->proc, .pid = e->pid, .text = sb_detach(&sb),
						.frames = e->sym[0] ? e->sym[0]->frames : NULL,
						.nframes = e->sym[0] ? e->sym[0]->nframes : 0 };
	}
	for (size_t k = 0; k < nleaks; k++) {
		const struct leak_group *g = refs[k].g;
		if (g->kind == HS_REACHABLE)
			continue;   /* --show-reachable lists them; not a finding */
		const struct symstack *ss = group_sym(H, refs[k].hp, refs[k].g);
		struct strbuf sb = STRBUF_INIT;
		sb_printf(&sb, "%" PRIu64 " bytes in %" PRIu64 " %s %s, allocated by %s", g->bytes, g->blocks,
			  plural(g->blocks, "block", "blocks"), kind_name(g->kind), heap_op_name(g->op));
		f[n++] = (struct heap_finding){ .leak = true, .proc = refs[k].hp->proc, .pid = refs[k].hp->proc->pid,
						.text = sb_detach(&sb), .bytes = g->bytes, .blocks = g->blocks,
						.definite = g->kind == HS_DEFINITE,
						.possible = g->kind == HS_POSSIBLE, .alloc_fn = heap_op_name(g->op),
						.frames = ss ? ss->frames : NULL, .nframes = ss ? ss->nframes : 0 };
	}
	free(refs);
	close_sessions(H);
	*out = f;
	return n;
}

void heap_findings_free(struct heap_finding *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].text);
	free(f);
}

/* ---- the analysis (reports/core/analyses.c) ------------------------------------ */

static void heap_fork_op(struct et_model *m, struct et_process *parent, struct et_process *child)
{
	if (!child->vm_parent)   /* a vfork child allocates in its parent's heap */
		heap_on_fork(m, parent, child);
}

const struct et_analysis heap_analysis = {
	.name = "heap",
	.text_at = ET_AT_FAILURES + 40,
	.json_at = ET_AT_FAILURES + 20,
	.render_text = heap_render_text,
	.render_json = heap_render_json,
	.on_fork = heap_fork_op,
	.on_exec_begin = heap_on_exec,
	.on_exec_image = heap_exec_image,
	.on_exit = heap_on_exit,
	.free = heap_free,
};
