/* --perfetto: the run as a Chrome trace-event JSON file, the format
 * ui.perfetto.dev and chrome://tracing open.
 *
 * A track per thread (named by metadata events) with its kept syscalls as
 * complete slices (ph X, microseconds), the processes' notes (threads and
 * children started, exec, signals) and crashes as thread instants (ph i),
 * each process's lifetime as an async slice (ph b/e), its live heap bytes as
 * a counter (ph C), and a flow from the parent to each child it forked
 * (bind_id with flow_out/flow_in on two zero-length marker slices, so the
 * arrow never depends on which slice encloses a timestamp). */
#include "html.h"

#include <string.h>

#include "reports/syscalls/decode.h"
#include "reports/heap/heapseries.h"
#include "reports/syscalls/syscall_table.h"

static double us(const struct et_model *m, uint64_t ts)
{
	return model_rel_ms(m, ts) * 1e3;
}

static void ev_begin(struct strbuf *sb, bool *first, const char *ph, const char *name, int pid, int tid, double ts)
{
	sb_puts(sb, *first ? "\n" : ",\n");
	*first = false;
	sb_printf(sb, "{\"ph\":\"%s\",\"name\":", ph);
	sb_json_str(sb, name);
	sb_printf(sb, ",\"pid\":%d,\"tid\":%d,\"ts\":%.3f", pid, tid, ts < 0 ? 0 : ts);
}

static void process_label(const struct et_process *p, struct strbuf *out)
{
	sb_printf(out, "pid %d", p->pid);
	for (size_t i = 0; p->argv && p->argv[i] && out->len < 120; i++) {
		sb_putc(out, ' ');
		sb_puts(out, p->argv[i]);
	}
	if ((!p->argv || !p->argv[0]) && p->exe) {
		sb_putc(out, ' ');
		sb_puts(out, p->exe);
	}
}

/* The thread of ppid that forked p, from the parent's note, else its leader. */
static int forking_tid(const struct et_process *parent, const struct et_process *child)
{
	char want[48];
	snprintf(want, sizeof(want), "child process %d started", child->pid);
	for (size_t i = 0; i < parent->notes_count; i++) {
		const struct et_note *n = process_note(parent, i);
		if (n->text && strcmp(n->text, want) == 0)
			return n->tid;
	}
	return parent->pid;
}

static void syscall_slices(const struct et_model *m, const struct et_thread *t, struct strbuf *sb, bool *first)
{
	struct strbuf txt = STRBUF_INIT;
	for (size_t j = 0; j < t->ring_count; j++) {
		const struct et_record *r = thread_record(t, j);
		const struct ev_syscall *ev = &r->ev;
		const char *name = syscall_name((int)ev->nr);
		bool returned = !(ev->flags & ET_SC_F_NORETURN);
		ev_begin(sb, first, returned ? "X" : "i", name ? name : "syscall", t->pid, t->tid, us(m, ev->enter_ts));
		sb_puts(sb, ",\"cat\":\"syscall\"");
		if (returned)
			sb_printf(sb, ",\"dur\":%.3f", (double)(ev->h.ts - ev->enter_ts) / 1e3);
		else
			sb_puts(sb, ",\"s\":\"t\"");
		sb_reset(&txt);
		model_record_call(m, r, &txt);
		sb_puts(sb, ",\"args\":{\"call\":");
		sb_json_str(sb, sb_str(&txt));
		long ret = (long)ev->ret;
		if (returned && ret < 0 && ret >= -4095) {
			const char *en = decode_errno_name((int)-ret);
			sb_puts(sb, ",\"errno\":");
			sb_json_str(sb, en ? en : "?");
		}
		sb_puts(sb, "}}");
	}
	sb_free(&txt);
}

void render_perfetto(const struct et_model *m, const struct render_opts *o, FILE *out)
{
	struct strbuf sb = STRBUF_INIT, tmp = STRBUF_INIT;
	bool first = true;
	sb_puts(&sb, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"etrace " ETRACE_VERSION "\",\"command\":");
	sb_reset(&tmp);
	for (size_t i = 0; m->command && m->command[i]; i++)
		sb_printf(&tmp, "%s%s", i ? " " : "", m->command[i]);
	sb_json_str(&sb, sb_str(&tmp));
	sb_printf(&sb, ",\"etrace_exit_code\":%d,\"start_wall\":%.6f},\"traceEvents\":[", o->exit_code, m->start_wall);

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		sb_reset(&tmp);
		process_label(p, &tmp);
		ev_begin(&sb, &first, "M", "process_name", p->pid, p->pid, 0);
		sb_puts(&sb, ",\"args\":{\"name\":");
		sb_json_str(&sb, sb_str(&tmp));
		sb_puts(&sb, "}}");
		/* its lifetime, an async slice of the process (id: its index, a pid may be reused) */
		ev_begin(&sb, &first, "b", "lifetime", p->pid, p->pid, us(m, p->start_ts));
		sb_printf(&sb, ",\"cat\":\"process\",\"id\":\"0x%zx\",\"args\":{\"command\":", i + 1);
		sb_json_str(&sb, sb_str(&tmp));
		sb_puts(&sb, "}}");
		uint64_t end = p->exited ? p->end_ts : m->end_ts;
		if (end < p->start_ts)
			end = p->start_ts;
		ev_begin(&sb, &first, "e", "lifetime", p->pid, p->pid, us(m, end));
		sb_printf(&sb, ",\"cat\":\"process\",\"id\":\"0x%zx\",\"args\":{\"end\":", i + 1);
		sb_reset(&tmp);
		if (p->exited)
			describe_wait_status(p->wait_status, &tmp);
		else
			sb_puts(&tmp, "still running at the end of the run");
		sb_json_str(&sb, sb_str(&tmp));
		sb_puts(&sb, "}}");

		for (size_t j = 0; j < p->nthreads; j++) {
			const struct et_thread *t = p->threads[j];
			ev_begin(&sb, &first, "M", "thread_name", p->pid, t->tid, 0);
			sb_puts(&sb, ",\"args\":{\"name\":");
			sb_json_str(&sb, t->comm);
			sb_puts(&sb, "}}");
			syscall_slices(m, t, &sb, &first);
		}
		for (size_t j = 0; j < p->notes_count; j++) {
			const struct et_note *n = process_note(p, j);
			if (n->kind != ET_NOTE_EVENT)
				continue;
			ev_begin(&sb, &first, "i", n->text, p->pid, n->tid, us(m, n->ts));
			sb_puts(&sb, ",\"cat\":\"process\",\"s\":\"t\"}");
		}
		for (const struct et_crash *c = p->crash; c; c = c->next) {
			const char *sig = decode_signal_name(c->sig);
			sb_reset(&tmp);
			sb_printf(&tmp, "CRASH %s", sig ? sig : "signal");
			const struct sym_frame *top = c->analyzed && c->bt.nframes ? &c->bt.frames[0] : NULL;
			if (top && top->function)
				sb_printf(&tmp, " in %s", top->function);
			if (top && top->file)
				sb_printf(&tmp, " at %s:%d", top->file, top->line);
			ev_begin(&sb, &first, "i", sb_str(&tmp), p->pid, c->tid, us(m, c->ts));
			sb_printf(&sb, ",\"cat\":\"crash\",\"s\":\"p\",\"args\":{\"address\":\"0x%lx\"}}", (unsigned long)c->addr);
		}
		const struct heapseries *hs = p->heap_series;
		for (size_t k = 0; hs && k < hs->n; k++) {
			ev_begin(&sb, &first, "C", "live heap bytes", p->pid, p->pid, us(m, hs->pts[k].ts));
			sb_printf(&sb, ",\"cat\":\"heap\",\"args\":{\"bytes\":%lu}}", (unsigned long)hs->pts[k].bytes);
		}
	}
	/* fork flows: from a marker on the parent's forking thread to one on the child */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *c = m->procs[i];
		const struct et_process *parent = NULL;
		for (size_t k = 0; k < m->nprocs && !parent; k++)
			if (m->procs[k]->pid == c->ppid && m->procs[k]->start_ts <= c->start_ts &&
			    (!m->procs[k]->exited || m->procs[k]->end_ts >= c->start_ts))
				parent = m->procs[k];
		if (!parent)
			continue;
		sb_reset(&tmp);
		sb_printf(&tmp, "fork: pid %d", c->pid);
		ev_begin(&sb, &first, "X", sb_str(&tmp), parent->pid, forking_tid(parent, c), us(m, c->start_ts));
		sb_printf(&sb, ",\"cat\":\"fork\",\"dur\":0,\"bind_id\":\"0x%zx\",\"flow_out\":true}", i + 1);
		sb_reset(&tmp);
		sb_printf(&tmp, "forked by pid %d", parent->pid);
		ev_begin(&sb, &first, "X", sb_str(&tmp), c->pid, c->pid, us(m, c->start_ts));
		sb_printf(&sb, ",\"cat\":\"fork\",\"dur\":0,\"bind_id\":\"0x%zx\",\"flow_in\":true}", i + 1);
	}
	sb_puts(&sb, "\n]}\n");
	fputs(sb_str(&sb), out);
	sb_free(&sb);
	sb_free(&tmp);
}
