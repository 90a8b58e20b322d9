/* Allocator records taken in (see heap.h): allocations and frees checked
 * against the live blocks and the recent frees, and the heap errors they
 * reveal (double free, invalid free, mismatched free, use after free). */
#include <gelf.h>
#include "heap_int.h"
#include "runner/preload/slack.h"

#define SMALL_MAX 4096               /* larger blocks also go in the granule table */
#define STACK_RANGE (8ull << 20)     /* a freed pointer this close above sp is on the stack */
#define UNKNOWN_SEARCHED 100000      /* unknown frees checked for being an interior pointer */

struct cfi_ctx {
	struct et_heap *H;
	const struct et_process *p;
};

/* ---- errors ------------------------------------------------------------------------ */

struct heap_error *heap_add_error(struct et_heap *H, struct heap_proc *hp, int kind, int detail,
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
 * heap_near_limit), 0 neither. *dist: bytes from the start (inside) or the end. */
int heap_relation(uint64_t addr, uint64_t a, uint64_t size, uint64_t *dist)
{
	if (addr < a)
		return 0;
	if (addr - a < size) {
		*dist = addr - a;
		return 2;
	}
	if (addr < heap_near_limit(a, size)) {
		*dist = addr - a - size;
		return 1;
	}
	return 0;
}

/* The best block for heap_live_around so far: inside beats near, then the
 * closest. */
struct around {
	struct heap_block *b;
	int rel;
	uint64_t dist;
};

static void consider(struct heap_block *b, uint64_t addr, bool near, struct around *best)
{
	uint64_t dist = 0;
	int rel = heap_relation(addr, b->addr, blk_size(b), &dist);
	if (!rel || (rel == 1 && !near))
		return;
	if (rel > best->rel || (rel == best->rel && dist < best->dist))
		*best = (struct around){ b, rel, dist };
}

/* The live block containing addr (or, with near, ending at most NEAR_BYTES
 * before it); inside beats near, then the closest. */
struct heap_block *heap_live_around(const struct heap_proc *hp, uint64_t addr, bool near)
{
	const struct btab *t = &hp->live;
	struct around best = { NULL, 0, UINT64_MAX };
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
			consider(b, addr, near, &best);
		}
		if (line == 0 || line <= lo >> LINE_SHIFT)
			break;
	}
	if (best.rel == 2)
		return best.b;
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
			consider(b, addr, near, &best);
		}
	}
	return best.b;
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
	/* its earlier frees stay in the record, stale (heap.c) */
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

/* ptr given to a function that frees (free, delete, realloc): releases the
 * block, or reports what is wrong with the pointer. */
static void release(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint64_t ptr, int op,
		    uint32_t stack)
{
	struct heap_block *b = btab_find(&hp->live, ptr);
	if (b) {
		int fam = alloc_family(blk_op(b)), ffam = free_family(op);
		if (fam != FAM_NONE && fam != ffam) {
			/* malloc from a module's own operator new given to delete, or
			 * new given to free by its own operator delete: each is a
			 * matched pair in that module, not an error (LLVM's libraries
			 * in rustup's toolchain: thousands of them) */
			if ((fam == FAM_MALLOC && ffam != FAM_MALLOC && heap_caller_is_newdel(H, hp->proc, b->stack, true)) ||
			    (fam != FAM_MALLOC && ffam == FAM_MALLOC && heap_caller_is_newdel(H, hp->proc, stack, false)))
				H->own_newdel++;
			else
				error_block_live(heap_add_error(H, hp, HEAP_ERR_MISMATCHED_FREE, HEAP_DETAIL_NONE, e, ptr, op,
								stack), b);
		}
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
	if (heap_caller_in_runtime(H, hp->proc, stack)) {
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
		int kind = heap_is_realloc(op) ? HEAP_ERR_REALLOC_FREED : HEAP_ERR_DOUBLE_FREE;
		error_block_freed(heap_add_error(H, hp, kind, HEAP_DETAIL_NONE, e, ptr, op, stack), f);
		return;
	}
	if (e->sp && ptr >= e->sp && ptr - e->sp < STACK_RANGE) {
		heap_add_error(H, hp, HEAP_ERR_INVALID_FREE, HEAP_DETAIL_STACK, e, ptr, op, stack);
		return;
	}
	/* (after very many unknown frees, records are being lost: the ~30
	 * probes of this search per free are not worth it any more) */
	b = hp->unknown_frees < UNKNOWN_SEARCHED ? heap_live_around(hp, ptr, false) : NULL;
	if (b) {
		error_block_live(heap_add_error(H, hp, HEAP_ERR_INVALID_FREE, HEAP_DETAIL_INTERIOR, e, ptr, op, stack), b);
		return;
	}
	note_unknown(H, hp, e, ptr, op, stack);
}

/* The preload found a block's redzone changed when the block was freed or
 * reallocated: a write past its end. Found at realloc, the block is still
 * live here; at free, the free's record came first. */
/* A live block's redzone found changed at exit (runner/heap/preloadsink.c
 * reads them while the process waits for its scan, and records what it
 * finds as an overflow record whose detecting op is ET_HEAP_EXIT). */
static void exit_overflow(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e)
{
	const struct et_process *p = hp->proc;
	const struct heap_block *b = btab_find(&hp->live, e->ptr);
	if (!b)
		return;
	/* found by no call of the program's: an empty stack, as the quarantine's */
	static const uint64_t none[1];
	struct heap_error *er = heap_add_error(H, hp, HEAP_ERR_OVERFLOW, HEAP_DETAIL_AT_EXIT, NULL, e->ptr,
					       ET_HEAP_OVERFLOW, heap_stack_intern(H, none, 0));
	if (!er)
		return;
	er->tid = p->pid;
	er->ts = p->end_ts ? p->end_ts : b->ts;
	error_block_live(er, b);
	er->past_first = e->size;
	er->past_bytes = (uint32_t)e->align;
}

static void overflow_found(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint32_t stack)
{
	int op = (int)(e->align >> 32);
	if (op == ET_HEAP_EXIT) {
		exit_overflow(H, hp, e);
		return;
	}
	if (op <= 0 || op >= ET_HEAP_OP_MAX)
		op = ET_HEAP_FREE;
	const struct heap_block *b = btab_find(&hp->live, e->ptr);
	const struct heap_freed *f = b ? NULL : freed_find(hp, e->ptr);
	uint64_t first = e->size;
	uint32_t count = (uint32_t)e->align;
	if (count & HR_SLACK_EVIDENCE) {
		/* what the library saw in a slack it could not read (its tag
		 * changed): judged with the size recorded for the block; a
		 * block the model does not know, or whose slack the evidence
		 * does not fit, is no finding (runner/preload/slack.h) */
		if (f && f->tid != (int32_t)e->h.tid)
			f = NULL;   /* the free just before is this thread's */
		uint64_t n = b ? blk_size(b) : f ? f->size : 0;
		if ((!b && !f) || !hr_slack_judge(n, e->size, count, &first, &count))
			return;
	}
	struct heap_error *er = heap_add_error(H, hp, HEAP_ERR_OVERFLOW, HEAP_DETAIL_NONE, e, e->ptr, op, stack);
	if (!er)
		return;
	if (b) {
		error_block_live(er, b);
	} else if (f) {
		er->has_block = true;
		er->block_addr = f->addr;
		er->block_size = f->size;
		er->block_op = f->op;
		er->alloc_stack = f->alloc_stack;
	}
	er->past_first = first;
	er->past_bytes = count;
}

/* A block left the preload's quarantine with its fill changed: written
 * after it was freed. */
static void uaf_write_found(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint32_t stack)
{
	struct heap_error *er = heap_add_error(H, hp, HEAP_ERR_UAF_WRITE, HEAP_DETAIL_NONE, e, e->ptr, ET_HEAP_UAF_WRITE, stack);
	if (!er)
		return;
	const struct heap_freed *f = freed_find(hp, e->ptr);
	if (f)
		error_block_freed(er, f);
	er->past_first = e->size;
	er->past_bytes = (uint32_t)e->align;
}

static int cfi_module(void *ctx, uint64_t pc, const char **path, uint64_t *bias)
{
	struct cfi_ctx *cx = ctx;
	const struct et_module *mod = heap_code_module(cx->H, cx->p, pc);
	if (!mod)
		return -1;
	*path = mod->path;
	*bias = mod->bias;
	return 0;
}

static int apply(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint32_t stack);

/* The heap tables of the process of e (its vfork parent's while it runs in
 * the parent's memory). */
static struct heap_proc *proc_of(struct et_model *m, const struct ev_heap *e)
{
	struct et_process *p = heap_proc_for(m, &e->h);
	/* a vfork child allocates and frees in its parent's memory: a block it
	 * makes there may be freed by the parent after the child exec'd */
	if (p->vm_parent && !p->vm_parent->exited)
		p = p->vm_parent;
	struct heap_proc *hp = p->heap ? p->heap : hp_new(m->heap, p);
	if (hp->tables_gone)
		hp->tables_gone = false; /* records after its exit: a reused pid's leftovers */
	note_followed(hp, (int)e->h.tid);
	return hp;
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
	struct heap_proc *hp = proc_of(m, e);
	struct et_process *p = hp->proc;
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
	return apply(H, hp, e, heap_stack_intern(H, frames, nf));
}

/* The record e of hp with its stack interned already. */
static int apply(struct et_heap *H, struct heap_proc *hp, const struct ev_heap *e, uint32_t stack)
{
	int op = (int)e->op;
	switch (op) {
	case ET_HEAP_MALLOC:
	case ET_HEAP_CALLOC:
	case ET_HEAP_MEMALIGN:
	case ET_HEAP_ALIGNED_ALLOC:
	case ET_HEAP_VALLOC:
	case ET_HEAP_PVALLOC:
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
		struct et_process *p = heap_proc_for(m, h);
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
		struct et_process *p = heap_proc_for(m, h);
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

uint32_t heap_intern(struct et_model *m, const uint64_t *frames, size_t n)
{
	heap_enable(m);
	return heap_stack_intern(m->heap, frames, n < ET_HEAP_FRAMES ? n : ET_HEAP_FRAMES);
}

int heap_ingest_interned(struct et_model *m, const struct ev_heap *e, uint32_t stack)
{
	heap_enable(m);
	struct et_heap *H = m->heap;
	int op = (int)e->op;
	if (op <= 0 || op >= ET_HEAP_OP_MAX || stack >= H->nstacks)
		return -1;
	struct heap_proc *hp = proc_of(m, e);
	if (op == ET_HEAP_EXIT)
		return 0;
	return apply(H, hp, e, stack);
}
