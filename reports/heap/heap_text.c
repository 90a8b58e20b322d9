/* The "-- heap" section of the text report and the words it shares with
 * the JSON report and the crash section. */
#include "reports/process/sysprog.h"
#include "reports/verdict/verdict.h"
#include <gelf.h>
#include <inttypes.h>
#include "symbolize/frame_print.h"
#include "reports/syscalls/decode.h"
#include "heap_int.h"
#include "runner/preload/checks.h"

#define TEXT_ERRORS_SHOWN 50
#define TEXT_LEAKS_SHOWN 50
#define TEXT_SUMMARIES_SHOWN 20

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

const char *heap_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void heap_print_stack(FILE *out, const struct symstack *ss)
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

void heap_json_stack(struct strbuf *sb, const struct symstack *ss)
{
	sb_putc(sb, '[');
	for (size_t i = 0; ss && i < ss->nframes; i++) {
		if (i)
			sb_putc(sb, ',');
		sym_frame_json(&ss->frames[i], sb);
	}
	sb_putc(sb, ']');
}

void heap_error_message(const struct et_model *m, const struct heap_error *e, struct strbuf *sb)
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
		if (e->detail == HEAP_DETAIL_AT_EXIT) {
			sb_printf(sb, ", from %" PRIu64 " %s after it; found at exit (the block was never freed)",
				  e->past_first, e->past_first == 1 ? "byte" : "bytes");
			return;
		}
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

void heap_crash_message(const struct et_model *m, const struct et_process *p, const struct heap_crash_info *ci,
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
struct group_ref *heap_leak_list(const struct et_model *m, size_t *n)
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
	return p && !m->system_findings && sysprog_program(m, p);
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

/* The memory checks the preload made (#11), and what a guard page does
 * to the program: its silent bug becomes a SIGSEGV. */
static void text_checks(const struct heap_preload_info *pi, FILE *out)
{
	if (pi->check_mode == 0) {
		fprintf(out, "checks: off (--heap-check=off): overflows and uses after free that do not crash are not "
			"found\n");
		return;
	}
	fprintf(out, "checks: redzones (checked at free, realloc and exit)");
	unsigned one_in = pi->quarantine_one_in;
	if (one_in == 1)
		fprintf(out, ", a %" PRIu64 "-byte quarantine of freed blocks per thread (every free)", pi->quarantine);
	else if (one_in)
		fprintf(out, ", a %" PRIu64 "-byte quarantine of freed blocks per thread (each thread's first %u frees, "
			"then 1 in %u)", pi->quarantine, HEAP_QUARANTINE_ALL_FIRST, one_in);
	if (pi->guard_rate == 1)
		fprintf(out, ", every allocation against a guard page (--heap-check=all)");
	else if (pi->guard_rate)
		fprintf(out, ", 1 allocation in %" PRIu32 " against a guard page", pi->guard_rate);
	if (pi->guard_rate)
		fprintf(out, ": an access past such a block or into it after its free is a SIGSEGV at the access "
			"(the program dies where it would have gone on silently)");
	fputc('\n', out);
}

static void text_backends(const struct et_model *m, FILE *out)
{
	const struct heap_preload_info *pi = &m->heap->preload;
	if (pi->library && pi->rings) {
		fprintf(out, "preload: LD_PRELOAD=%s: %" PRIu64 " %s, %" PRIu64 " records", pi->ld_preload, pi->rings,
			heap_plural(pi->rings, "ring", "rings"), pi->records);
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
	if (pi->library && pi->rings)
		text_checks(pi, out);
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
		heap_resolve_error_stacks(H, e);
		sb_reset(&sb);
		heap_error_message(m, e, &sb);
		fprintf(out, "ERROR %s:\n", sb_str(&sb));
		if (e->kind != HEAP_ERR_UAF_WRITE)
			heap_print_stack(out, e->sym[0]);
		if (e->has_block && e->block_freed) {
			fprintf(out, "  freed before by thread %d at:\n", e->free_tid);
			heap_print_stack(out, e->sym[2]);
		}
		if (e->has_block) {
			fputs("  allocated at:\n", out);
			heap_print_stack(out, e->sym[1]);
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
	struct group_ref *refs = heap_leak_list(m, &n);
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
			heap_plural(g->blocks, "block", "blocks"), heap_kind_name(g->kind), heap_op_name(g->op));
		heap_print_stack(out, group_sym(H, refs[k].hp, refs[k].g));
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
				g->ind_bytes, g->ind_blocks, heap_plural(g->ind_blocks, "block", "blocks"));
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

/* ", its parent's from before the fork N bytes in M blocks" when a fork
 * child dropped some of what it inherited (heap_scan_result), else "" */
static const char *inherited_text(const struct leak_sum *s, struct strbuf *sb)
{
	sb_reset(sb);
	if (s->inh_blocks)
		sb_printf(sb, ", its parent's from before the fork %" PRIu64 " bytes in %" PRIu64 " %s", s->inh_bytes,
			  s->inh_blocks, heap_plural(s->inh_blocks, "block", "blocks"));
	return sb_str(sb);
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
		heap_proc_summary(H, hp, &s);
		heap_sum_add(&all, &s);
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
				heap_plural(s.unscanned_blocks, "block", "blocks"));
			continue;
		}
		fprintf(out,
			"leak summary (pid %d): definitely lost %" PRIu64 " bytes in %" PRIu64 " %s, indirectly lost %" PRIu64
			" bytes in %" PRIu64 " %s, possibly lost %" PRIu64 " bytes in %" PRIu64 " %s, still reachable %" PRIu64
			" bytes in %" PRIu64 " %s, suppressed %" PRIu64 " bytes in %" PRIu64 " %s",
			hp->proc->pid, s.def_bytes, s.def_blocks, heap_plural(s.def_blocks, "block", "blocks"), s.ind_bytes,
			s.ind_blocks, heap_plural(s.ind_blocks, "block", "blocks"), s.poss_bytes, s.poss_blocks,
			heap_plural(s.poss_blocks, "block", "blocks"), s.reach_bytes, s.reach_blocks,
			heap_plural(s.reach_blocks, "block", "blocks"), s.supp_bytes, s.supp_blocks,
			heap_plural(s.supp_blocks, "block", "blocks"));
		if (s.unscanned_blocks)
			fprintf(out, ", not scanned %" PRIu64 " bytes in %" PRIu64 " %s", s.unscanned_bytes, s.unscanned_blocks,
				heap_plural(s.unscanned_blocks, "block", "blocks"));
		fprintf(out, "%s\n", inherited_text(&s, &why));
	}
	if (hidden)
		fprintf(out, "(%zu more processes with blocks outstanding at exit: the JSON report has their counts)\n", hidden);
	if (shown > 1 || hidden || with_heap > 1)
		fprintf(out,
			"leak summary (all %zu processes): definitely lost %" PRIu64 " bytes in %" PRIu64 " %s, indirectly lost %" PRIu64
			" bytes in %" PRIu64 " %s, possibly lost %" PRIu64 " bytes in %" PRIu64 " %s, still reachable %" PRIu64
			" bytes in %" PRIu64 " %s, suppressed %" PRIu64 " bytes in %" PRIu64 " %s, not scanned %" PRIu64
			" bytes in %" PRIu64 " %s%s\n",
			nprocs, all.def_bytes, all.def_blocks, heap_plural(all.def_blocks, "block", "blocks"), all.ind_bytes,
			all.ind_blocks, heap_plural(all.ind_blocks, "block", "blocks"), all.poss_bytes, all.poss_blocks,
			heap_plural(all.poss_blocks, "block", "blocks"), all.reach_bytes, all.reach_blocks,
			heap_plural(all.reach_blocks, "block", "blocks"), all.supp_bytes, all.supp_blocks,
			heap_plural(all.supp_blocks, "block", "blocks"), all.unscanned_bytes, all.unscanned_blocks,
			heap_plural(all.unscanned_blocks, "block", "blocks"), inherited_text(&all, &why));
	sb_free(&why);
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

/* Processes whose allocator has no probes at all: said first, so that the
 * counts below are not read as "this program allocated nothing". */
static size_t text_untraced(const struct et_model *m, FILE *out)
{
	size_t untraced = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		const char *untraced_why = hp ? heap_untraced_why(m, hp) : NULL;
		if (untraced_why && untraced++ < TEXT_SUMMARIES_SHOWN) {
			struct strbuf sb = STRBUF_INIT;
			sb_escape(&sb, hp->proc->exe_path);
			fprintf(out, "heap of pid %d not traced: %s is %s\n", hp->proc->pid, sb_str(&sb), untraced_why);
			sb_free(&sb);
		}
	}
	if (untraced > TEXT_SUMMARIES_SHOWN)
		fprintf(out, "(%zu more processes whose heap was not traced: the JSON report lists them)\n",
			untraced - TEXT_SUMMARIES_SHOWN);
	return untraced;
}

void heap_render_text(const struct et_model *m, FILE *out)
{
	if (!heap_enabled(m))
		return;
	struct et_heap *H = m->heap;
	heap_derive_aborts(m);
	uint64_t allocs = 0, frees = 0, live = 0, live_bytes = 0;
	size_t untraced = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct heap_proc *hp = m->procs[i]->heap;
		if (!hp)
			continue;
		untraced += heap_untraced_why(m, hp) != NULL;
		allocs += hp->allocations;
		frees += hp->frees;
		live += hp->live_blocks;
		live_bytes += hp->live_bytes;
	}
	char title[160];
	snprintf(title, sizeof(title),
		 "heap: %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s (%" PRIu64 " bytes) outstanding at exit", allocs,
		 heap_plural(allocs, "allocation", "allocations"), frees, heap_plural(frees, "free", "frees"), live,
		 heap_plural(live, "block", "blocks"), live_bytes);
	bool untraced_only = untraced && !allocs && !frees && !m->lost[ET_EV_HEAP];
	heading(out, untraced_only ? "heap: not traced" : title);
	text_untraced(m, out);
	if (untraced_only) {
		heap_close_sessions(H);
		return;
	}
	for (size_t i = 0; probes_used(m) && i < H->nallocs; i++) {
		const struct allocator *a = &H->allocs[i];
		size_t stepped = 0;
		for (size_t j = 0; j < a->nfns; j++)
			stepped += !a->fns[j].emulated;
		struct strbuf esc = STRBUF_INIT;
		fprintf(out, "probes: %s: %zu %s", sb_escaped(&esc, a->path), a->nfns, heap_plural(a->nfns, "function", "functions"));
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
			harmless, heap_plural(harmless, "free", "frees"));
	if (H->own_newdel)
		fprintf(out,
			"%" PRIu64 " %s made by a module's own operator new or delete (which calls malloc or free, what etrace "
			"sees): matched pairs, not mismatched frees\n",
			H->own_newdel, heap_plural(H->own_newdel, "free", "frees"));
	text_errors(m, out);
	if (H->leaks_mode == HEAP_LEAKS_FULL) {
		text_leaks(m, out);
		text_summaries(m, out);
	}
	heap_close_sessions(H);
}
