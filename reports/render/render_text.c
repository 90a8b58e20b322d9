/* The text report: what a person reads at the end of a run. */
#include "render.h"
#include "reports/net/netstate.h"
#include "reports/suppress/gen.h"
#include "reports/core/analysis.h"
#include "reports/core/heading.h"
#include "reports/core/evtypes.h"

#include <stdlib.h>
#include <string.h>

#include "reports/crash/crash.h"
#include "reports/syscalls/decode.h"
#include "reports/heap/heap.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/process/termination.h"
#include "reports/verdict/verdict.h"
#include "reports/hang/hang.h"
#include "reports/net/tcp.h"

/* Every string that came from the traced program (argv, comm, paths,
 * symbol names) goes through sb_escape before it reaches the report. */
static void put_escaped(FILE *out, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	fputs(sb_escaped(&sb, s), out);
	sb_free(&sb);
}

static void print_argv(FILE *out, char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			fputc(' ', out);
		put_escaped(out, argv[i]);
	}
}

/* The process list's command: a linker's or a compiler driver's runs to
 * kilobytes (rustc's cc and rust-lld: 4 KB each, a screen apiece), so
 * past PROC_CMD_SHOWN bytes its words are counted; the JSON has all that
 * etrace has (a command known only in part ends with a "..." entry,
 * model.c: not counted as an argument). */
#define PROC_CMD_SHOWN 240

static void print_argv_cut(FILE *out, char *const *argv)
{
	size_t shown = 0, i = 0;
	for (; argv && argv[i] && shown < PROC_CMD_SHOWN; i++) {
		if (i)
			fputc(' ', out);
		put_escaped(out, argv[i]);
		shown += strlen(argv[i]) + 1;
	}
	size_t more = 0;
	while (argv && argv[i + more])
		more++;
	bool cut = more && strcmp(argv[i + more - 1], "...") == 0;
	if (cut)
		more--;
	if (more)
		fprintf(out, " ... (%zu more argument%s%s)", more, more == 1 ? "" : "s", cut ? ", then what was not captured" : "");
}

static const struct et_process *find_root(const struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->pid == m->root_pid)
			return m->procs[i];
	return NULL;
}

static void print_processes(const struct et_model *m, FILE *out)
{
	char title[64];
	snprintf(title, sizeof(title), "processes (%zu)", m->nprocs);
	report_heading(out, title);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		sb_reset(&sb);
		if (p->exited)
			describe_wait_status(p->wait_status, &sb);
		else
			sb_puts(&sb, "still running at the end");
		fprintf(out, "  pid %-7d ppid %-7d %-26s", p->pid, p->ppid, sb_str(&sb));
		if (p->exited)
			fprintf(out, " %9.3f ms", (double)(p->end_ts - p->start_ts) / 1e6);
		else
			fprintf(out, " %12s", "");
		fprintf(out, "  %zu thread%s, %lu syscalls  ", p->nthreads, p->nthreads == 1 ? "" : "s",
			(unsigned long)p->nsyscalls);
		if (p->argv)
			print_argv_cut(out, p->argv);
		else if (p->exe)
			put_escaped(out, p->exe);
		fputc('\n', out);
		if (p->privileged)
			fputs("             (privileged: it ran a setuid/setgid/capability program, so only that it ran and "
			      "how it ended is recorded)\n",
			      out);
		sb_reset(&sb);
		if (termination_text(m, p, &sb))
			fprintf(out, "      %s\n", sb_str(&sb));
	}
	sb_free(&sb);
}

static void print_failures(const struct et_model *m, FILE *out)
{
	size_t shown = 0, routine = 0;
	uint64_t routine_calls = 0;
	for (size_t i = 0; i < m->nfailures; i++) {
		if (m->failures[i].expected) {
			routine++;
			routine_calls += m->failures[i].count;
		} else {
			shown++;
		}
	}
	char title[96];
	snprintf(title, sizeof(title), "failed syscalls (%zu)", shown);
	report_heading(out, title);
	if (!shown)
		fputs("  none\n", out);
	for (size_t i = 0; i < m->nfailures; i++) {
		const struct et_failure *f = &m->failures[i];
		if (f->expected)
			continue;
		if (f->tid != f->pid)
			fprintf(out, "  %+10.3f ms  pid %d tid %d  %s", model_rel_ms(m, f->first_ts), f->pid, f->tid,
				f->call);
		else
			fprintf(out, "  %+10.3f ms  pid %-7d %s", model_rel_ms(m, f->first_ts), f->pid, f->call);
		if (f->count > 1)
			fprintf(out, "   (x%lu)", (unsigned long)f->count);
		if (f->named)
			fputs("   <- its last words name this path", out);
		fputc('\n', out);
	}
	if (routine) {
		/* the kinds of routine failure left out, each with its count */
		const char *kinds[16];
		uint64_t counts[16];
		size_t nk = 0;
		for (size_t i = 0; i < m->nfailures; i++) {
			const char *e = m->failures[i].expected;
			if (!e)
				continue;
			size_t k = 0;
			while (k < nk && strcmp(kinds[k], e) != 0)
				k++;
			if (k == nk && nk < 16) {
				kinds[nk] = e;
				counts[nk++] = 0;
			}
			if (k < nk)
				counts[k] += m->failures[i].count;
		}
		fprintf(out, "  (%lu routine failure%s not listed:", (unsigned long)routine_calls, routine_calls == 1 ? "" : "s");
		for (size_t k = 0; k < nk; k++)
			fprintf(out, "%s %s %lu", k ? "," : "", kinds[k], (unsigned long)counts[k]);
		fputs("; the JSON report has them)\n", out);
	}
	if (m->failures_dropped)
		fprintf(out, "  (%lu more distinct failures not kept)\n", (unsigned long)m->failures_dropped);
}

#define SUMMARY_SHOWN 10

static void print_summary(const struct et_model *m, FILE *out)
{
	report_heading(out, "syscall summary");
	uint64_t all_ns = 0, all_calls = 0, all_err = 0;
	for (size_t i = 0; i < m->ntotals; i++) {
		all_ns += m->totals[i].total_ns;
		all_calls += m->totals[i].calls;
		all_err += m->totals[i].errors;
	}
	fprintf(out, "  %6s %11s %11s %11s %9s %7s  %s\n", "% time", "seconds", "usecs/call", "max usecs",
		"calls", "errors", "syscall");
	/* the most time first: the rest are in the total line and the JSON */
	size_t shown = m->ntotals > SUMMARY_SHOWN ? SUMMARY_SHOWN : m->ntotals;
	for (size_t i = 0; i < shown; i++) {
		const struct et_syscall_total *t = &m->totals[i];
		char errs[24] = "";
		if (t->errors)
			snprintf(errs, sizeof(errs), "%lu", (unsigned long)t->errors);
		fprintf(out, "  %6.2f %11.6f %11.1f %11.1f %9lu %7s  %s\n",
			all_ns ? 100.0 * (double)t->total_ns / (double)all_ns : 0.0, (double)t->total_ns / 1e9,
			t->calls ? (double)t->total_ns / 1e3 / (double)t->calls : 0.0, (double)t->max_ns / 1e3,
			(unsigned long)t->calls, errs, syscall_name(t->nr));
	}
	if (shown < m->ntotals)
		fprintf(out, "  (%zu more syscalls with less time: the JSON report has them)\n", m->ntotals - shown);
	fprintf(out, "  %6s %11.6f %11s %11s %9lu %7lu  total\n", "100.00", (double)all_ns / 1e9, "", "",
		(unsigned long)all_calls, (unsigned long)all_err);
}

static void print_thread(const struct et_model *m, const struct et_thread *t, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	fprintf(out, "  pid %d tid %d (%s): ", t->pid, t->tid, t->comm[0] ? sb_escaped(&sb, t->comm) : "?");
	if (t->ring_count == t->nsyscalls)
		fprintf(out, "all %lu syscalls\n", (unsigned long)t->nsyscalls);
	else
		fprintf(out, "last %zu of %lu syscalls\n", t->ring_count, (unsigned long)t->nsyscalls);
	for (size_t i = 0; i < t->ring_count; i++) {
		const struct et_record *r = thread_record(t, i);
		sb_reset(&sb);
		model_record_call(m, r, &sb);
		if (r->ev.flags & ET_SC_F_NORETURN)
			fprintf(out, "    %+10.3f ms %12s  %s\n", model_rel_ms(m, r->ev.enter_ts), "", sb_str(&sb));
		else
			fprintf(out, "    %+10.3f ms <%8.3f ms>  %s\n", model_rel_ms(m, r->ev.enter_ts),
				(double)(r->ev.h.ts - r->ev.enter_ts) / 1e6, sb_str(&sb));
	}
	sb_free(&sb);
}

static void print_sequences(const struct et_model *m, const struct verdict *v, FILE *out)
{
	if (m->show_syscalls == ET_SHOW_NONE)
		return;
	char title[96];
	if (m->last_n)
		snprintf(title, sizeof(title), "syscall sequence (last %zu per thread)", m->last_n);
	else
		snprintf(title, sizeof(title), "syscall sequence (all)");
	report_heading(out, title);
	/* In a tree (a whole test suite) the processes that exited 0, and
	 * those whose failure their parent handled, are rarely the story: by
	 * default only the ones the verdict names (or that did not finish); a
	 * lone program's sequence is always shown. */
	size_t hidden = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		bool failed = !p->exited || verdict_names(v, p);
		if (m->show_syscalls == ET_SHOW_FAILING && m->nprocs > 1 && !failed) {
			hidden++;
			continue;
		}
		for (size_t j = 0; j < p->nthreads; j++)
			print_thread(m, p->threads[j], out);
	}
	if (hidden)
		fprintf(out, "  (%zu processes the verdict does not name not shown: --syscalls=all shows them, the JSON report has them)\n",
			hidden);
}

static void print_losses(const struct et_model *m, FILE *out)
{
	uint64_t total = events_lost_total(m);
	report_heading(out, "events");
	fprintf(out, "  received %lu", (unsigned long)m->records);
	if (!total && !m->bad_records) {
		fputs(", lost none\n", out);
	} else {
		struct strbuf each = STRBUF_INIT;
		events_lost_list(m, 1, &each);
		fprintf(out, ", LOST %lu (%s): the ring buffer was full;\n"
			     "  the summary above is exact, the sequences have gaps (try --buffer-size)\n",
			(unsigned long)total, sb_str(&each));
		sb_free(&each);
		if (m->bad_records)
			fprintf(out, "  %lu malformed records ignored\n", (unsigned long)m->bad_records);
	}
	if (m->trimmed_records)
		fprintf(out, "  %lu older syscalls of exited threads were let go to keep etrace's memory under its cap\n",
			(unsigned long)m->trimmed_records);
	if (m->capture_faults)
		fprintf(out, "  %lu arguments could not be read from the target's memory (shown as addresses)\n",
			(unsigned long)m->capture_faults);
}

void render_text(const struct et_model *m, const struct render_opts *o, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	const struct et_process *root = find_root(m);
	fputs("== etrace report ======================================================\n", out);
	fputs("command:  ", out);
	print_argv(out, m->command);
	fputc('\n', out);
	if (root && root->exited)
		describe_wait_status(root->wait_status, &sb);
	else
		sb_puts(&sb, "did not finish");
	fprintf(out, "result:   %s (pid %d) after %.3f ms; etrace exits with %d\n", sb_str(&sb), m->root_pid,
		(double)(m->end_ts - m->start_ts) / 1e6, o->exit_code);
	if (o->exit_reason)
		fprintf(out, "error:    %s\n", o->exit_reason);
	fprintf(out, "tracing:  syscalls via %s", m->backend ? m->backend : "?");
	if (m->net->backend)
		fprintf(out, "; network path via %s%s%s%s", m->net->backend, m->net->backend_why ? " (" : "",
			m->net->backend_why ? m->net->backend_why : "", m->net->backend_why ? ")" : "");
	fputc('\n', out);
	for (size_t i = 0; i < m->nreplay_notes; i++)
		fprintf(out, "replay:   %s\n", m->replay_notes[i]);
	/* what this kernel lacks, and what that costs: said before any section
	 * that is thinner for it. One gap fits the header; several (Debian
	 * 12's 6.1 lacks five) would push the verdict off the first screen:
	 * the header counts them and a section after the verdict lists them. */
	const char *linux_ = m->kernel_release[0] ? "Linux " : "";
	if (m->nkernel_gaps == 1)
		fprintf(out, "kernel:   %s%s has no %s: %s\n", linux_, m->kernel_release, m->kernel_gaps[0].what,
			m->kernel_gaps[0].cost);
	else if (m->nkernel_gaps > 1)
		fprintf(out, "kernel:   %s%s lacks %zu features etrace can use: what that costs is listed after the verdict\n",
			linux_, m->kernel_release, m->nkernel_gaps);
	if (m->nfuncs)
		fprintf(out, "          %zu function%s of %s via %s\n", m->nfuncs, m->nfuncs == 1 ? "" : "s",
			m->funcs_exe ? sb_escaped(&sb, m->funcs_exe) : "the program", m->funcs_backend ? m->funcs_backend : "?");
	struct verdict v;
	verdict_build(m, &v);
	verdict_render_text(m, &v, out);
	if (m->nkernel_gaps > 1) {
		report_heading(out, "kernel");
		for (size_t i = 0; i < m->nkernel_gaps; i++)
			fprintf(out, "  %s%s has no %s: %s\n", linux_, m->kernel_release, m->kernel_gaps[i].what,
				m->kernel_gaps[i].cost);
	}

	/* the report's own sections, the analyses' between them (analysis.h) */
	analyses_render_text(m, ET_AT_START, ET_AT_PROCESSES, out);
	print_processes(m, out);
	analyses_render_text(m, ET_AT_PROCESSES, ET_AT_FAILURES, out);
	print_failures(m, out);
	analyses_render_text(m, ET_AT_FAILURES, ET_AT_SUMMARY, out);
	print_summary(m, out);
	analyses_render_text(m, ET_AT_SUMMARY, ET_AT_SEQUENCES, out);
	print_sequences(m, &v, out);
	analyses_render_text(m, ET_AT_SEQUENCES, ET_AT_EVENTS, out);
	print_losses(m, out);
	if (m->gen_suppressions)
		supp_gen_render_text(m, &v, out);
	fputs("== end of etrace report ===============================================\n", out);
	sb_reset(&sb);
	verdict_summary(m, &v, &sb);
	if (m->color)   /* bold: the line a reader looks for */
		fprintf(out, "\033[1m%s\033[0m\n", sb_str(&sb));
	else
		fprintf(out, "%s\n", sb_str(&sb));
	sb_free(&sb);
	verdict_free(&v);
}
