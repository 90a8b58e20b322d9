/* The leak scan's run on each process before it goes, its results grouped
 * by allocation stack, and what the heap knows about a crash's address. */
#include <gelf.h>
#include <signal.h>
#include "heap_int.h"
#include "reports/core/hostfacts.h"

/* ---- the leak scan --------------------------------------------------------------------------- */

int heap_wants_scan(const struct et_model *m)
{
	return heap_enabled(m) && m->heap->leaks_mode == HEAP_LEAKS_FULL;
}

static const struct et_process *newest_proc(const struct et_model *m, int pid)
{
	return model_process((struct et_model *)m, pid);
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

/* The FACT_HEAP_SCAN value: a head, the error (errlen bytes, no NUL), then
 * one entry per block the scan did not find reachable; a block of the live
 * table not listed was reachable. Reachable blocks are most of a heap: the
 * rest is small enough for one frame of a recording. */
struct scan_fact_head {
	uint32_t nblocks, errlen;
	uint64_t bytes_scanned, regions, unreadable_bytes, root_bytes, reads, reachable, indirect, definite, possible;
	double ms;
};
struct scan_fact_block {
	uint64_t addr, indirect_bytes, indirect_blocks;
	uint8_t state, pad[7];
};
#define SCAN_FACT_MAX (15u << 20)   /* under a recording's frame limit (16 MiB) */

static void scan_fact(struct et_model *m, int pid, const struct hs_block *b, size_t n, const struct hs_stats *st,
		      const char *error)
{
	struct scan_fact_head h;
	memset(&h, 0, sizeof(h));
	if (st)
		h = (struct scan_fact_head){ 0, 0, st->bytes_scanned, st->regions, st->unreadable_bytes, st->root_bytes,
					     st->reads, st->reachable, st->indirect, st->definite, st->possible, st->ms };
	size_t listed = 0;
	for (size_t i = 0; !error && b && i < n; i++)
		listed += b[i].state != HS_REACHABLE;
	if (!error && sizeof(h) + listed * sizeof(struct scan_fact_block) > SCAN_FACT_MAX)
		error = "the scan's result was too large for the recording";
	struct strbuf sb = STRBUF_INIT;
	h.errlen = error ? (uint32_t)strlen(error) : 0;
	h.nblocks = error ? 0 : (uint32_t)listed;
	sb_putn(&sb, (const char *)&h, sizeof(h));
	if (error)
		sb_putn(&sb, error, h.errlen);
	for (size_t i = 0; !error && b && i < n; i++) {
		if (b[i].state == HS_REACHABLE)
			continue;
		struct scan_fact_block fb;
		memset(&fb, 0, sizeof(fb));
		fb.addr = b[i].addr;
		fb.indirect_bytes = b[i].indirect_bytes;
		fb.indirect_blocks = b[i].indirect_blocks;
		fb.state = b[i].state;
		sb_putn(&sb, (const char *)&fb, sizeof(fb));
	}
	m->fact_sink(m->fact_sink_ctx, FACT_HEAP_SCAN, pid, "", sb.buf, sb.len);
	sb_free(&sb);
}

static int cmp_hs_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct hs_block *)a)->addr, y = ((const struct hs_block *)b)->addr;
	return x < y ? -1 : x > y;
}

int heap_scan_replay(struct et_model *m, int pid, const void *value, size_t len)
{
	struct scan_fact_head h;
	if (len < sizeof(h))
		return -1;
	memcpy(&h, value, sizeof(h));
	if (h.errlen > len - sizeof(h) ||
	    (len - sizeof(h) - h.errlen) != (size_t)h.nblocks * sizeof(struct scan_fact_block))
		return -1;
	struct hs_stats st = { .bytes_scanned = h.bytes_scanned, .regions = h.regions,
			       .unreadable_bytes = h.unreadable_bytes, .ms = h.ms, .root_bytes = h.root_bytes,
			       .reads = h.reads, .reachable = h.reachable, .indirect = h.indirect,
			       .definite = h.definite, .possible = h.possible };
	const char *p = (const char *)value + sizeof(h);
	if (h.errlen) {
		char *error = xcalloc(1, (size_t)h.errlen + 1);
		memcpy(error, p, h.errlen);
		heap_scan_result(m, pid, NULL, 0, &st, error[0] ? error : "the scan failed");
		free(error);
		return 0;
	}
	struct hs_block *b = NULL;
	size_t n = 0;
	if (heap_scan_blocks(m, pid, &b, &n) < 0)
		return 0;   /* out of memory: the blocks count as not scanned */
	if (n)
		qsort(b, n, sizeof(*b), cmp_hs_addr);
	for (size_t i = 0; i < n; i++)
		b[i].state = HS_REACHABLE;
	p += h.errlen;
	for (uint32_t i = 0; i < h.nblocks; i++, p += sizeof(struct scan_fact_block)) {
		struct scan_fact_block fb;
		memcpy(&fb, p, sizeof(fb));
		struct hs_block key = { .addr = fb.addr };
		struct hs_block *x = n ? bsearch(&key, b, n, sizeof(*b), cmp_hs_addr) : NULL;
		if (!x)
			continue;   /* not live here: a recording that does not match its records */
		x->state = fb.state;
		x->indirect_bytes = fb.indirect_bytes;
		x->indirect_blocks = fb.indirect_blocks;
	}
	heap_scan_result(m, pid, b, n, &st, NULL);
	free(b);
	return 0;
}

void heap_scan_result(struct et_model *m, int pid, const struct hs_block *b, size_t n, const struct hs_stats *st,
		      const char *error)
{
	struct heap_proc *hp = m->heap ? hp_by_pid(m, pid) : NULL;
	if (!hp)
		return;
	/* first: what the grouping below asks the machine follows it in the recording */
	if (m->host_mode == HOST_LIVE && m->fact_sink)
		scan_fact(m, pid, b, n, st, error);
	free(hp->groups);
	hp->groups = NULL;
	hp->ngroups = 0;
	free(hp->scan_error);
	hp->scan_error = NULL;
	hp->reach_bytes = hp->reach_blocks = 0;
	hp->inherit_bytes = hp->inherit_blocks = 0;
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
		if (state == HS_POSSIBLE && heap_caller_in_runtime(m->heap, hp->proc, blk->stack))
			state = HS_REACHABLE;
		/* a fork child's blocks from before its fork are its parent's: a
		 * pointer to them that only the parent's other threads held
		 * (registers, stacks) is gone in the child, and runtimes drop
		 * them on purpose (CPython's _PyThread_at_fork_reinit leaks every
		 * lock a thread held rather than free one in an unknown state).
		 * Not the child's leak; the parent's own scan judges them. An
		 * exec empties the table: only a fork copy is older. */
		if (state != HS_REACHABLE && hp->proc && blk->ts < hp->proc->start_ts) {
			hp->inherit_bytes += size;
			hp->inherit_blocks++;
			done_blocks++;
			done_bytes += size;
			continue;
		}
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
static bool frames_suppressed(const struct et_heap *H, unsigned kind, const struct symstack *ss)
{
	return ss && supp_match_error(H->supp, kind, ss->frames, ss->nframes);
}

/* Overflow and write-after-free errors a suppression file names
 * (heap-buffer-overflow:GLOB, heap-use-after-free:GLOB against any frame of
 * the detection, allocation or free stack): out of the list and the
 * counts, like suppressed leaks, and counted apart. Run with the aborted
 * frees, before anything reads the errors. */
static void suppress_errors(struct et_heap *H)
{
	size_t keep = H->errors_checked;
	for (size_t i = H->errors_checked; i < H->nerrors; i++) {
		struct heap_error *e = &H->errors[i];
		unsigned kind = e->kind == HEAP_ERR_OVERFLOW ? SUPP_ERR_OVERFLOW : e->kind == HEAP_ERR_UAF_WRITE ? SUPP_ERR_UAF : 0;
		bool supp = false;
		if (kind && H->supp) {
			heap_resolve_error_stacks(H, e);
			if (e->has_block && e->kind == HEAP_ERR_UAF_WRITE && !e->sym[2] && e->proc && e->proc->heap)
				e->sym[2] = symstack_get(H, e->proc->heap, e->free_stack);
			supp = frames_suppressed(H, kind, e->sym[0]) || frames_suppressed(H, kind, e->sym[1]) ||
			       frames_suppressed(H, kind, e->sym[2]);
		}
		if (supp) {
			H->err_total[e->kind]--;
			if (e->proc && e->proc->heap)
				e->proc->heap->errors[e->kind]--;
			H->errors_suppressed++;
			continue;
		}
		if (keep != i)
			H->errors[keep] = *e;
		keep++;
	}
	H->nerrors = keep;
	H->errors_checked = keep;
}

void heap_derive_aborts(const struct et_model *m)
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
		struct heap_error *er = heap_add_error(H, hp, HEAP_ERR_INVALID_FREE, detail, NULL, last->addr,
						  last->op, last->stack);
		H->unknown_erred++;
		if (er) {
			er->tid = last->tid;
			er->ts = last->ts;
		}
	}
	if (H)
		suppress_errors(H);
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

int heap_live_bytes(const struct et_model *m, int pid, struct et_process **proc, uint64_t *out)
{
	if (!m->heap)
		return -1;
	struct et_process *p = m->heap->last_proc;
	if (!p || p->pid != pid || m->heap->last_nprocs != m->nprocs)
		p = model_process((struct et_model *)m, pid);
	if (!p || !p->heap)
		return -1;
	*proc = p;
	*out = p->heap->live_bytes;
	return 0;
}

size_t heap_nerrors(const struct et_model *m)
{
	if (!m->heap)
		return 0;
	heap_derive_aborts(m);
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
	heap_derive_aborts(m);
	uint64_t n = 0;
	for (int k = 0; k < HEAP_ERR_KINDS; k++)
		n += m->heap->err_total[k];
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

void heap_proc_summary(struct et_heap *H, struct heap_proc *hp, struct leak_sum *s)
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
	s->inh_bytes = hp->inherit_bytes;
	s->inh_blocks = hp->inherit_blocks;
	s->unscanned_blocks = hp->unscanned_blocks;
}

void heap_sum_add(struct leak_sum *t, const struct leak_sum *s)
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
	t->inh_bytes += s->inh_bytes;
	t->inh_blocks += s->inh_blocks;
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
		heap_proc_summary(m->heap, hp, &s);
		n += s.def_blocks + s.ind_blocks;
	}
	heap_close_sessions(m->heap);
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
		if (!f->addr || f->ts > ts || !(rel = heap_relation(addr, f->addr, f->size, &dist)) ||
		    !freed_current(hp, i))
			continue;
		if (rel > frel || (rel == frel && f->ts > fb->ts)) {
			fb = f;
			frel = rel;
			fdist = dist;
		}
	}
	const struct heap_block *lb = heap_live_around(hp, addr, true);
	uint64_t ldist = 0;
	int lrel = lb ? heap_relation(addr, lb->addr, blk_size(lb), &ldist) : 0;
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
