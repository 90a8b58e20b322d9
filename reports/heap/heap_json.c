/* The JSON report's "heap" member and the heap's part of a crash (text
 * and JSON). */
#include <gelf.h>
#include <inttypes.h>
#include <signal.h>
#include "symbolize/fileutil.h"
#include "heap_int.h"
#include "runner/preload/checks.h"

/* ---- JSON ----------------------------------------------------------------------------------------- */

static void json_sum(struct strbuf *sb, const char *name, uint64_t bytes, uint64_t blocks, bool comma)
{
	sb_printf(sb, "%s\"%s\":{\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 "}", comma ? "," : "", name, bytes, blocks);
}

static void json_error(const struct et_model *m, struct heap_error *e, struct strbuf *sb)
{
	struct et_heap *H = m->heap;
	heap_resolve_error_stacks(H, e);
	sb_puts(sb, "{\"kind\":");
	sb_json_str(sb, heap_error_kind_name(e->kind));
	sb_printf(sb, ",\"pid\":%d,\"tid\":%d,\"t_ms\":%.3f,\"address\":\"0x%" PRIx64 "\",\"function\":", e->pid, e->tid,
		  model_rel_ms(m, e->ts), e->addr);
	sb_json_str(sb, heap_op_name(e->op));
	struct strbuf msg = STRBUF_INIT;
	heap_error_message(m, e, &msg);
	sb_puts(sb, ",\"message\":");
	sb_json_str(sb, sb_str(&msg));
	sb_free(&msg);
	static const char *const details[] = { NULL, "interior pointer", "stack address", "allocator aborted",
					       "allocator faulted", "at exit" };
	sb_puts(sb, ",\"detail\":");
	sb_json_str(sb, details[e->detail]);
	if (e->kind == HEAP_ERR_UAF_WRITE)
		sb_printf(sb, ",\"changed\":{\"first\":%" PRIu64 ",\"bytes\":%" PRIu32 "}", e->past_first, e->past_bytes);
	if (e->kind == HEAP_ERR_OVERFLOW)
		sb_printf(sb, ",\"past_end\":{\"first\":%" PRIu64 ",\"bytes\":%" PRIu32 "}", e->past_first, e->past_bytes);
	sb_puts(sb, ",\"stack\":");
	heap_json_stack(sb, e->sym[0]);
	sb_printf(sb, ",\"stack_cut\":%s,\"block\":", e->sym[0] && e->sym[0]->cut ? "true" : "false");
	if (!e->has_block) {
		sb_puts(sb, "null}");
		return;
	}
	sb_printf(sb, "{\"address\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",\"function\":", e->block_addr, e->block_size);
	sb_json_str(sb, heap_op_name(e->block_op));
	sb_puts(sb, ",\"alloc_stack\":");
	heap_json_stack(sb, e->sym[1]);
	sb_puts(sb, ",\"free_stack\":");
	if (e->block_freed) {
		heap_json_stack(sb, e->sym[2]);
		sb_printf(sb, ",\"free_tid\":%d,\"free_function\":", e->free_tid);
		sb_json_str(sb, heap_op_name(e->free_op));
		sb_printf(sb, ",\"free_t_ms\":%.3f}}", model_rel_ms(m, e->free_ts));
	} else {
		sb_puts(sb, "null,\"free_tid\":null,\"free_function\":null,\"free_t_ms\":null}}");
	}
}

static void s_checks_json(struct strbuf *sb, const struct heap_preload_info *pi)
{
	static const char *const modes[] = { "off", "default", "all" };
	sb_printf(sb, ",\"checks\":{\"mode\":\"%s\",\"redzones\":%s,\"quarantine_bytes\":%" PRIu64
		      ",\"quarantine_one_in\":%u,\"guard_rate\":%" PRIu32 "}",
		  modes[pi->check_mode >= 0 && pi->check_mode <= 2 ? pi->check_mode : 0],
		  pi->check_mode ? "true" : "false", pi->quarantine, pi->quarantine_one_in,
		  pi->guard_rate);
}

void heap_render_json(const struct et_model *m, struct strbuf *sb)
{
	if (!heap_enabled(m))
		return;
	struct et_heap *H = m->heap;
	heap_derive_aborts(m);
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
		      ",\"unknown_frees\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"own_new_delete\":%" PRIu64 "}",
		  allocs, frees, bytes, H->unknown_frees, errors, H->own_newdel);
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
			      ",\"unrecorded\":%" PRIu64 ",\"rejected\":%" PRIu64,
			  pi->rings, pi->records, pi->lost, pi->invalid, pi->full_waits, (double)pi->full_wait_ns / 1e6,
			  pi->stacks_full, pi->unrecorded, pi->rejected);
		s_checks_json(sb, pi);
		sb_puts(sb, "}");
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
		sb_json_str(sb, heap_untraced_why(m, hp));
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
		struct group_ref *refs = heap_leak_list(m, &n);
		sb_puts(sb, ",\"leaks\":[");
		for (size_t k = 0; k < n && k < JSON_LEAKS_LISTED; k++) {
			const struct leak_group *g = refs[k].g;
			struct symstack *ss = group_sym(H, refs[k].hp, refs[k].g);
			sb_printf(sb, "%s{\"pid\":%d,\"kind\":\"%s\",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64
				      ",\"indirect_bytes\":%" PRIu64 ",\"indirect_blocks\":%" PRIu64 ",\"addresses\":[",
				  k ? "," : "", refs[k].hp->proc->pid, heap_kind_name(g->kind), g->bytes, g->blocks, g->ind_bytes,
				  g->ind_blocks);
			for (size_t a = 0; a < g->naddrs; a++)
				sb_printf(sb, "%s\"0x%" PRIx64 "\"", a ? "," : "", g->addrs[a]);
			sb_puts(sb, "],\"function\":");
			sb_json_str(sb, heap_op_name(g->op));
			sb_puts(sb, ",\"stack\":");
			heap_json_stack(sb, ss);
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
			heap_proc_summary(H, hp, &s);
			heap_sum_add(&all, &s);
		}
		sb_puts(sb, ",\"summary\":{");
		json_sum(sb, "definitely_lost", all.def_bytes, all.def_blocks, false);
		json_sum(sb, "indirectly_lost", all.ind_bytes, all.ind_blocks, true);
		json_sum(sb, "possibly_lost", all.poss_bytes, all.poss_blocks, true);
		json_sum(sb, "still_reachable", all.reach_bytes, all.reach_blocks, true);
		json_sum(sb, "suppressed", all.supp_bytes, all.supp_blocks, true);
		json_sum(sb, "not_scanned", all.unscanned_bytes, all.unscanned_blocks, true);
		json_sum(sb, "inherited_at_fork", all.inh_bytes, all.inh_blocks, true);
		sb_putc(sb, '}');
	}

	sb_puts(sb, ",\"errors\":[");
	for (size_t i = 0; i < H->nerrors; i++) {
		if (i)
			sb_putc(sb, ',');
		json_error(m, &H->errors[i], sb);
	}
	sb_printf(sb, "],\"errors_not_listed\":%" PRIu64 ",\"errors_suppressed\":%" PRIu64 ",\"lost_events\":%" PRIu64
		      ",\"lost_holds\":%" PRIu64 "}",
		  errors > H->nerrors ? errors - H->nerrors : 0, H->errors_suppressed, m->lost[ET_EV_HEAP],
		  m->lost[ET_EV_HEAP_HOLD]);
	heap_close_sessions(H);
}

/* ---- crash section ----------------------------------------------------------------------------- */

static bool fault_with_address(const struct et_crash *c)
{
	return (c->sig == SIGSEGV || c->sig == SIGBUS) && c->code > 0 && c->addr;
}

/* ASan's headline: "heap-use-after-free READ of size 1 at main uaf.c:8"
 * (the access as the faulting instruction made it, where it was made). A
 * fault inside a live block is no heap error: its kind alone. */
static void crash_summary(const struct et_crash *c, const struct heap_crash_info *ci, struct strbuf *sb)
{
	if (!ci->freed && ci->inside) {
		sb_puts(sb, ci->kind);
		return;
	}
	sb_puts(sb, ci->freed ? "heap-use-after-free" : "heap-buffer-overflow");
	if (c->access_known) {
		sb_printf(sb, " %s", c->access_write ? "WRITE" : "READ");
		if (c->access_size)
			sb_printf(sb, " of size %u", c->access_size);
	}
	/* the program's frame: past the C library's copy loops (memcpy) */
	const struct sym_frame *f = NULL;
	for (size_t i = 0; i < c->bt.nframes && !f; i++) {
		const char *mod = c->bt.frames[i].module;
		if (!mod || (strncmp(mod, "libc.so", 7) != 0 && strncmp(mod, "ld-linux", 8) != 0))
			f = &c->bt.frames[i];
	}
	if (f && f->function) {
		sb_printf(sb, " at %s", f->function);
		if (f->file && f->line)
			sb_printf(sb, " %s:%d", path_base(f->file), f->line);
	}
}

/* Whether the fault was one of the preload's guard pages (#11): checks
 * made guard pages, the page was there but inaccessible, and the block
 * ends where a page ends (right-aligned to 16 bytes, 8 for 8 or less, as
 * runner/preload/guard.c places them). */
static bool crash_on_guard(const struct et_model *m, const struct et_crash *c, const struct heap_crash_info *ci)
{
	const struct heap_preload_info *pi = &m->heap->preload;
	uint64_t al = ci->block_size <= 8 ? 8 : 16;
	uint64_t len = ci->block_size ? (ci->block_size + al - 1) & ~(al - 1) : 8;
	return pi->library && pi->guard_rate && c->sig == SIGSEGV && c->code == SEGV_ACCERR &&
	       ((ci->block_address + len) & 4095) == 0 && !(!ci->freed && ci->inside);
}

/* A fault whose address, or a register, holds the fill of the heap checks
 * (runner/preload/checks.h): a pointer the program read from a block
 * nothing wrote (new blocks' fill, --heap-check=all) or from a block it had
 * freed (the quarantine's fill). The address first (the kernel's, or the
 * one the faulting instruction computes for a general protection fault:
 * the patterns are not canonical), then the general registers. */
struct fill_hint {
	const char *looks_like;   /* NULL: none */
	unsigned byte;
	const char *in;           /* "address" or a register's name */
	uint64_t value;
};

static const char *const gpr_names[] = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
					 "r9",  "r8",  "rax", "rcx", "rdx", "rsi", "rdi" };

static struct fill_hint crash_fill_hint(const struct et_model *m, const struct et_crash *c)
{
	struct fill_hint h = { 0 };
	const struct heap_preload_info *pi = heap_get_preload(m);
	if (!c || !pi || pi->check_mode == HEAP_CHECK_OFF || c->group_exit || (c->sig != SIGSEGV && c->sig != SIGBUS))
		return h;
	struct { unsigned byte; const char *what; bool on; } pats[] = {
		{ HEAP_NEW_BYTE, "uninitialized heap memory", pi->check_mode == HEAP_CHECK_ALL },
		{ HEAP_FREED_BYTE, "freed heap memory", pi->quarantine_one_in != 0 },
	};
	uint64_t addr = c->operand_known ? c->operand_addr : c->code > 0 && c->code != SI_KERNEL ? c->addr : 0;
	for (int where = 0; where <= (int)(sizeof(gpr_names) / sizeof(gpr_names[0])) && !h.looks_like; where++) {
		uint64_t v = where == 0 ? addr : c->regs[where - 1];
		for (size_t k = 0; k < sizeof(pats) / sizeof(pats[0]); k++)
			if (pats[k].on && heap_fill_pointer(v, pats[k].byte)) {
				h = (struct fill_hint){ pats[k].what, pats[k].byte, where ? gpr_names[where - 1] : "address", v };
				break;
			}
	}
	return h;
}

static void fill_hint_text(const struct fill_hint *h, struct strbuf *sb)
{
	if (!strcmp(h->in, "address"))
		sb_printf(sb, "the address 0x%" PRIx64 " looks like %s", h->value, h->looks_like);
	else
		sb_printf(sb, "register %s holds 0x%" PRIx64 ", which looks like %s", h->in, h->value, h->looks_like);
	if (h->byte == HEAP_NEW_BYTE)
		sb_printf(sb, ": etrace fills new blocks with 0x%02x (--heap-check=all), so a pointer read from a block "
			      "before anything was written there is 0x%02x%02x...", h->byte, h->byte, h->byte);
	else
		sb_printf(sb, ": etrace fills the freed blocks its quarantine holds with 0x%02x, so a pointer read from a "
			      "block after its free is 0x%02x%02x...", h->byte, h->byte, h->byte);
}

/* The fill hint's line of the crash section (any fatal fault, with or
 * without a heap block at its address). */
void heap_crash_fill_text(const struct et_model *m, const struct et_crash *c, FILE *out)
{
	struct fill_hint h = crash_fill_hint(m, c);
	if (!h.looks_like)
		return;
	struct strbuf sb = STRBUF_INIT;
	fill_hint_text(&h, &sb);
	fprintf(out, "  %s\n", sb_str(&sb));
	sb_free(&sb);
}

void heap_crash_fill_json(const struct et_model *m, const struct et_crash *c, struct strbuf *sb)
{
	struct fill_hint h = crash_fill_hint(m, c);
	if (!h.looks_like) {
		sb_puts(sb, ",\"heap_fill\":null");
		return;
	}
	struct strbuf msg = STRBUF_INIT;
	fill_hint_text(&h, &msg);
	sb_puts(sb, ",\"heap_fill\":{\"looks_like\":");
	sb_json_str(sb, h.looks_like);
	sb_printf(sb, ",\"byte\":\"0x%02x\",\"in\":\"%s\",\"value\":\"0x%" PRIx64 "\",\"message\":", h.byte, h.in,
		  h.value);
	sb_json_str(sb, sb_str(&msg));
	sb_putc(sb, '}');
	sb_free(&msg);
}

void heap_crash_text(const struct et_model *m, const struct et_process *p, const struct et_crash *c, FILE *out)
{
	struct heap_crash_info ci;
	if (!c || !fault_with_address(c) || !heap_crash_context(m, p, c->addr, c->ts, &ci))
		return;
	struct et_heap *H = m->heap;
	struct strbuf sb = STRBUF_INIT, head = STRBUF_INIT;
	heap_crash_message(m, p, &ci, c->ts, &sb);
	crash_summary(c, &ci, &head);
	fprintf(out, "  heap: %s: %s\n", sb_str(&head), sb_str(&sb));
	sb_free(&head);
	if (crash_on_guard(m, c, &ci))
		fprintf(out, "  a guard page of etrace's heap checks (--heap-check) made this access fault at once: without "
			"it the program may have gone on silently; this SIGSEGV is what the check does\n");
	if (ci.freed) {
		fprintf(out, "  freed by %s at:\n", heap_op_name(ci.free_op));
		heap_print_stack(out, symstack_get(H, p->heap, ci.free_stack));
		fprintf(out, "  previously allocated by %s at:\n", heap_op_name(ci.alloc_op));
	} else {
		fprintf(out, "  allocated by %s at:\n", heap_op_name(ci.alloc_op));
	}
	heap_print_stack(out, symstack_get(H, p->heap, ci.alloc_stack));
	sb_free(&sb);
	heap_close_sessions(H);
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
	crash_summary(c, &ci, &msg);
	sb_puts(sb, ",\"summary\":");
	sb_json_str(sb, sb_str(&msg));
	sb_free(&msg);
	if (c->access_known)
		sb_printf(sb, ",\"access\":\"%s\",\"access_size\":%u", c->access_write ? "WRITE" : "READ", c->access_size);
	else
		sb_puts(sb, ",\"access\":null,\"access_size\":null");
	sb_printf(sb, ",\"guard_page\":%s", crash_on_guard(m, c, &ci) ? "true" : "false");
	heap_crash_message(m, p, &ci, c->ts, &msg);
	sb_puts(sb, ",\"message\":");
	sb_json_str(sb, sb_str(&msg));
	sb_free(&msg);
	struct symstack *as = symstack_get(H, p->heap, ci.alloc_stack);
	sb_puts(sb, ",\"alloc_stack\":");
	heap_json_stack(sb, as);
	sb_printf(sb, ",\"alloc_stack_cut\":%s,\"free_stack\":", as->cut ? "true" : "false");
	if (ci.freed) {
		struct symstack *fs = symstack_get(H, p->heap, ci.free_stack);
		heap_json_stack(sb, fs);
		sb_printf(sb, ",\"free_stack_cut\":%s,\"free_tid\":%d,\"free_function\":", fs->cut ? "true" : "false",
			  ci.free_tid);
		sb_json_str(sb, heap_op_name(ci.free_op));
		sb_printf(sb, ",\"freed_ms_before\":%.3f}", c->ts >= ci.free_ts ? (double)(c->ts - ci.free_ts) / 1e6 : 0.0);
	} else {
		sb_puts(sb, "null,\"free_stack_cut\":null,\"free_tid\":null,\"free_function\":null,\"freed_ms_before\":null}");
	}
	heap_close_sessions(H);
}
