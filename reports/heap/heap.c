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
 * evicted first) with an address index to the latest free of each address.
 * A block allocated again at the same address makes the frees of that
 * address before it stale: they are not taken out then (a search of the
 * index on every allocation, a cache miss each in a table of megabytes:
 * a tenth of etrace's time draining a program that allocates 1.7 M small
 * blocks) but passed over where they are looked at (freed_find,
 * freed_current): a free whose address is live again, or that a later free
 * of the same address follows, is not the block that was there.
 *
 * Stacks: frames[0..n) interned in one table for all processes (an id per
 * distinct stack); symbolized per process when a report shows them.
 */
#include "reports/core/analysis.h"
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include "heap_int.h"
#include "reports/process/sysprog.h"

/* The group keeps its GROUP_ADDRS lowest block addresses. */
void group_add_addr(struct leak_group *g, uint64_t addr)
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

const char *heap_kind_name(int kind)
{
	switch (kind) {
	case HS_DEFINITE: return "definitely lost";
	case HS_INDIRECT: return "indirectly lost";
	case HS_POSSIBLE: return "possibly lost";
	default: return "still reachable";
	}
}

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
		[ET_HEAP_ALIGNED_ALLOC] = "aligned_alloc",
		[ET_HEAP_VALLOC] = "valloc",
		[ET_HEAP_PVALLOC] = "pvalloc",
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

int alloc_family(int op)
{
	switch (op) {
	case ET_HEAP_MALLOC:
	case ET_HEAP_CALLOC:
	case ET_HEAP_REALLOC:
	case ET_HEAP_REALLOCARRAY:
	case ET_HEAP_MEMALIGN:
	case ET_HEAP_ALIGNED_ALLOC:
	case ET_HEAP_VALLOC:
	case ET_HEAP_PVALLOC:
	case ET_HEAP_POSIX_MEMALIGN:
		return FAM_MALLOC;
	case ET_HEAP_NEW:
		return FAM_NEW;
	case ET_HEAP_NEW_ARRAY:
		return FAM_NEW_ARRAY;
	}
	return FAM_NONE;
}

int free_family(int op)
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

bool heap_is_realloc(int op)
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

uint32_t heap_stack_intern(struct et_heap *H, const uint64_t *f, size_t n)
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
	if (n)   /* an empty stack (a corrupt record): the pool may still be NULL */
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
	return *nframes ? H->pool + H->stacks[id].off : NULL;
}

/* ---- processes ------------------------------------------------------------------- */

struct heap_proc *hp_new(struct et_heap *H, struct et_process *p)
{
	struct heap_proc *hp = xcalloc(1, sizeof(*hp));
	hp->proc = p;
	hp->fkeep = H->freed_keep;
	p->heap = hp;
	return hp;
}

void hp_drop_tables(struct heap_proc *hp)
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
void heap_set_backend_of(struct et_model *m, struct et_process *p, const char *backend, const char *why)
{
	if (!heap_enabled(m) || !p)
		return;
	struct heap_proc *hp = p->heap ? p->heap : hp_new(m->heap, p);
	hp->backend = backend;
	hp->backend_why = why;
}

void heap_set_backend(struct et_model *m, int pid, const char *backend, const char *why)
{
	heap_set_backend_of(m, model_process(m, pid), backend, why);
}

bool heap_backend_of(const struct et_process *p, const char **backend, const char **why)
{
	if (!p->heap || !p->heap->backend)
		return false;
	*backend = p->heap->backend;
	*why = p->heap->backend_why ? p->heap->backend_why : "";
	return true;
}

void heap_set_preload(struct et_model *m, const struct heap_preload_info *info)
{
	if (heap_enabled(m))
		m->heap->preload = *info;
}

const struct heap_preload_info *heap_get_preload(const struct et_model *m)
{
	return heap_enabled(m) && m->heap->preload.library ? &m->heap->preload : NULL;
}

struct et_process *heap_proc_for(struct et_model *m, const struct ev_header *h)
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

void heap_prefetch(struct et_model *m, int pid, uint64_t addr, bool freed)
{
	struct et_heap *H = m->heap;
	struct et_process *p = H ? H->last_proc : NULL;
	if (!p || p->pid != pid || !p->heap || !addr)
		return;
	const struct heap_proc *hp = p->heap;
	if (hp->live.cap)
		__builtin_prefetch(&hp->live.s[line_home(hp->live.cap, addr >> LINE_SHIFT)]);
	if (freed && hp->fidx.cap) {
		/* a free puts addr into the recent frees and pushes out the
		 * oldest (a few frees from now) */
		__builtin_prefetch(&hp->fidx.e[map_home(&hp->fidx, addr)]);
		if (hp->fcount == hp->fkeep && hp->fkeep > 4) {
			size_t at = hp->fhead + 4;   /* fhead < fkeep: no division needed */
			if (at >= hp->fkeep)
				at -= hp->fkeep;
			uint64_t old = hp->freed[at].addr;
			if (old)
				__builtin_prefetch(&hp->fidx.e[map_home(&hp->fidx, old)]);
		}
	}
}

/* ---- recent frees ------------------------------------------------------------------ */

/* A block live at an address was allocated after every free of it the
 * record holds (a free takes a block out of the live table before it is
 * recorded): those frees are stale. */
struct heap_freed *freed_find(const struct heap_proc *hp, uint64_t addr)
{
	uint64_t slot;
	if (!map_get(&hp->fidx, addr, &slot) || btab_find(&hp->live, addr))
		return NULL;
	return &hp->freed[slot];
}

bool freed_current(const struct heap_proc *hp, size_t slot)
{
	const struct heap_freed *f = &hp->freed[slot];
	uint64_t latest;
	return f->addr && map_get(&hp->fidx, f->addr, &latest) && latest == slot && !btab_find(&hp->live, f->addr);
}

void freed_forget(struct heap_proc *hp, uint64_t addr)
{
	uint64_t slot;
	if (map_take(&hp->fidx, addr, &slot))
		hp->freed[slot].addr = 0;
}

/* f->addr is not in the record: it was a live block until now, and an
 * allocation takes its address out of the record (live_add). */
void freed_add(struct heap_proc *hp, const struct heap_freed *f)
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

void heap_resolve_error_stacks(struct et_heap *H, struct heap_error *e)
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
			heap_resolve_error_stacks(H, &H->errors[i]);
	heap_close_sessions(H);
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
	hp->inherit_bytes = hp->inherit_blocks = 0;
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
	if (!H || (!is_static && !p->heap))
		return;   /* heap tracing is off, or nothing to say of this image */
	struct heap_proc *hp = p->heap ? p->heap : hp_new(H, p);
	hp->static_image = is_static && p->exe_path;
}

/* Why the heap of a process was not traced, or NULL. A static image with no
 * probe on its own file has an allocator etrace cannot see (judged at the
 * end: the probes' plan of a static child is made after its exec record).
 * One that made no allocation and freed nothing at all (Go, or a static
 * program run from a recording, which has no probe list) is said to be
 * untraced too, since "0 allocations" would read as "nothing leaked". */
const char *heap_untraced_why(const struct et_model *m, const struct heap_proc *hp)
{
	const struct et_heap *H = m->heap;
	if (hp->static_image && H && H->nallocs) {
		bool covered = false;
		for (size_t i = 0; i < H->nallocs && !covered; i++)
			covered = same_file(H->allocs[i].path, hp->proc->exe_path);
		if (!covered)
			return "statically linked: its allocator has no probes";
	}
	if (hp->static_image && !hp->allocations && !hp->frees && !hp->unknown_frees && !hp->failed)
		return "statically linked and no C allocator call was seen (a Go program, or an allocator etrace "
		       "has no probes for, manages its own heap)";
	return NULL;
}

void heap_on_exit(struct et_model *m, struct et_process *p)
{
	struct heap_proc *hp = p->heap;
	if (!m->heap || !hp || p->crash)
		return; /* a crashed process keeps its heap for the crash section */
	hp_drop_tables(hp);
	hp->tables_gone = true;
}

/* ---- freeing ------------------------------------------------------------------------------------ */

void heap_free(struct et_model *m)
{
	struct et_heap *H = m->heap;
	if (!H)
		return;
	heap_close_sessions(H);
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
		free(H->codefiles[i].newdel);
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
	heap_derive_aborts(m);
	struct et_heap *H = m->heap;
	size_t nleaks = 0;
	struct group_ref *refs = H->leaks_mode == HEAP_LEAKS_FULL ? heap_leak_list(m, &nleaks) : NULL;
	struct heap_finding *f = xcalloc(H->nerrors + nleaks + 1, sizeof(*f));
	size_t n = 0;
	for (size_t i = 0; i < H->nerrors; i++) {
		struct heap_error *e = &H->errors[i];
		heap_resolve_error_stacks(H, e);
		struct strbuf sb = STRBUF_INIT;
		heap_error_message(m, e, &sb);
		f[n++] = (struct heap_finding){ .leak = false, .proc = e->proc, .pid = e->pid, .text = sb_detach(&sb),
						.frames = e->sym[0] ? e->sym[0]->frames : NULL,
						.nframes = e->sym[0] ? e->sym[0]->nframes : 0 };
	}
	for (size_t k = 0; k < nleaks; k++) {
		const struct leak_group *g = refs[k].g;
		if (g->kind == HS_REACHABLE)
			continue;   /* --show-reachable lists them; not a finding */
		/* a system program's leak is counted, not listed, without
		 * --system-findings (the verdict's rule): no stack needed */
		const struct et_process *p = refs[k].hp->proc;
		bool counted = !m->system_findings && sysprog_program(m, p);
		const struct symstack *ss = counted ? NULL : group_sym(H, refs[k].hp, refs[k].g);
		struct strbuf sb = STRBUF_INIT;
		sb_printf(&sb, "%" PRIu64 " bytes in %" PRIu64 " %s %s, allocated by %s", g->bytes, g->blocks,
			  heap_plural(g->blocks, "block", "blocks"), heap_kind_name(g->kind), heap_op_name(g->op));
		f[n++] = (struct heap_finding){ .leak = true, .proc = refs[k].hp->proc, .pid = refs[k].hp->proc->pid,
						.text = sb_detach(&sb), .bytes = g->bytes, .blocks = g->blocks,
						.definite = g->kind == HS_DEFINITE,
						.possible = g->kind == HS_POSSIBLE, .alloc_fn = heap_op_name(g->op),
						.frames = ss ? ss->frames : NULL, .nframes = ss ? ss->nframes : 0 };
	}
	free(refs);
	heap_close_sessions(H);
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
