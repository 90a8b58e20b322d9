/* The JSON report (schema in docs/report-schema.md) and the JSON Lines
 * event stream. */
#include "render.h"
#include "reports/net/netstate.h"
#include "reports/core/analysis.h"
#include "reports/core/evtypes.h"

#include <string.h>

#include "reports/crash/crash.h"
#include "reports/syscalls/decode.h"
#include "reports/heap/heap.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/process/termination.h"
#include "reports/verdict/verdict.h"
#include "reports/hang/hang.h"
#include "reports/net/tcp.h"

void json_wait_status(int status, struct strbuf *out)
{
	int sig = status & 0x7f;
	if (sig == 0) {
		sb_printf(out, "{\"kind\":\"exited\",\"code\":%d}", (status >> 8) & 0xff);
		return;
	}
	const char *name = decode_signal_name(sig);
	sb_printf(out, "{\"kind\":\"signaled\",\"signal\":%d,\"signal_name\":", sig);
	sb_json_str(out, name ? name : "?");
	sb_printf(out, ",\"core_dumped\":%s}", (status & 0x80) ? "true" : "false");
}

static void json_argv(struct strbuf *sb, char *const *argv)
{
	sb_putc(sb, '[');
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			sb_putc(sb, ',');
		sb_json_str(sb, argv[i]);
	}
	sb_putc(sb, ']');
}

/* --trace-func: one entry or return as a JSON object. */
static void json_func_event(const struct et_model *m, const struct et_func_event *e, struct strbuf *sb)
{
	const struct elfsym_func *f = e->func < m->nfuncs ? &m->funcs[e->func].f : NULL;
	char val[64];
	sb_printf(sb, "{\"t_ms\":%.3f,\"kind\":\"%s\",\"function\":", model_rel_ms(m, e->ts),
		  e->kind == ET_FUNC_ENTRY ? "entry" : "return");
	sb_json_str(sb, f ? f->name : NULL);
	if (e->kind == ET_FUNC_ENTRY) {
		sb_puts(sb, ",\"args\":[");
		for (int i = 0; f && i < elfsym_nargs(f); i++) {
			elfsym_arg(f, e->v, i, val, sizeof(val));
			if (i)
				sb_putc(sb, ',');
			sb_json_str(sb, val);
		}
		sb_puts(sb, "],\"arg_regs\":[");
		for (int i = 0; i < ET_FUNC_NARGS; i++)
			sb_printf(sb, "%s%lu", i ? "," : "", (unsigned long)e->v[i]);
		sb_puts(sb, "]");
	} else {
		sb_puts(sb, ",\"ret\":");
		if (f && f->proto.known && f->proto.ret.kind == ELFSYM_VOID) {
			sb_puts(sb, "null");
		} else {
			struct elfsym_type t = { ELFSYM_UNKNOWN, 0 };
			elfsym_format_value(f && f->proto.known ? f->proto.ret : t, e->v[0], val, sizeof(val));
			sb_json_str(sb, val);
		}
		sb_printf(sb, ",\"ret_reg\":%lu", (unsigned long)e->v[0]);
	}
	struct strbuf txt = STRBUF_INIT;
	model_func_event_text(m, e, &txt);
	sb_puts(sb, ",\"text\":");
	sb_json_str(sb, sb_str(&txt));
	sb_free(&txt);
	sb_putc(sb, '}');
}

/* One syscall as a JSON object (without the trailing newline). */
static void json_syscall(const struct et_model *m, const struct et_record *r, struct strbuf *sb,
			 int with_time)
{
	const struct ev_syscall *ev = &r->ev;
	struct strbuf tmp = STRBUF_INIT;
	bool returned = !(ev->flags & ET_SC_F_NORETURN);
	long ret = (long)ev->ret;

	sb_printf(sb, "{\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"name\":", model_rel_ms(m, ev->enter_ts),
		  ev->h.pid, ev->h.tid);
	sb_json_str(sb, syscall_name((int)ev->nr));
	sb_printf(sb, ",\"nr\":%u,\"args\":[", ev->nr);
	int n = decode_nargs(ev);
	for (int i = 0; i < n; i++) {
		sb_reset(&tmp);
		model_record_arg(m, r, i, &tmp);
		if (i)
			sb_putc(sb, ',');
		sb_json_str(sb, sb_str(&tmp));
	}
	sb_puts(sb, "]");
	if (returned) {
		sb_printf(sb, ",\"ret\":%ld", ret);
		if (ret < 0 && ret >= -4095) {
			const char *en = decode_errno_name((int)-ret);
			sb_puts(sb, ",\"errno\":");
			sb_json_str(sb, en ? en : "?");
		}
		sb_printf(sb, ",\"duration_us\":%.3f", (double)(ev->h.ts - ev->enter_ts) / 1e3);
	} else {
		sb_puts(sb, ",\"ret\":null");
	}
	sb_reset(&tmp);
	model_record_call(m, r, &tmp);
	sb_puts(sb, ",\"text\":");
	sb_json_str(sb, sb_str(&tmp));
	if (with_time)
		sb_printf(sb, ",\"wall\":%.6f", m->start_wall + model_rel_ms(m, ev->enter_ts) / 1e3);
	sb_putc(sb, '}');
	sb_free(&tmp);
}

static void json_process(const struct et_model *m, const struct et_process *p, struct strbuf *sb)
{
	sb_printf(sb, "{\"pid\":%d,\"ppid\":%d,\"argv\":", p->pid, p->ppid);
	json_argv(sb, p->argv);
	sb_puts(sb, ",\"exe\":");
	sb_json_str(sb, p->exe);
	if (p->privileged)
		sb_puts(sb, ",\"privileged\":true");
	sb_printf(sb, ",\"start_ms\":%.3f", model_rel_ms(m, p->start_ts));
	if (p->exited) {
		sb_printf(sb, ",\"end_ms\":%.3f,\"duration_ms\":%.3f,\"exit\":", model_rel_ms(m, p->end_ts),
			  (double)(p->end_ts - p->start_ts) / 1e6);
		json_wait_status(p->wait_status, sb);
	} else {
		sb_puts(sb, ",\"end_ms\":null,\"duration_ms\":null,\"exit\":null");
	}
	sb_printf(sb, ",\"reaped_by\":%d,\"last_words\":", p->reaped_by);
	verdict_last_words_json(p, sb);
	sb_printf(sb, ",\"syscalls\":%lu,\"threads\":[", (unsigned long)p->nsyscalls);
	for (size_t i = 0; i < p->nthreads; i++) {
		const struct et_thread *t = p->threads[i];
		if (i)
			sb_putc(sb, ',');
		sb_printf(sb, "{\"tid\":%d,\"comm\":", t->tid);
		sb_json_str(sb, t->comm);
		sb_printf(sb, ",\"syscalls\":%lu,\"exited\":%s,\"last_syscalls\":[", (unsigned long)t->nsyscalls,
			  t->exited ? "true" : "false");
		for (size_t j = 0; j < t->ring_count; j++) {
			if (j)
				sb_putc(sb, ',');
			json_syscall(m, thread_record(t, j), sb, 0);
		}
		sb_printf(sb, "],\"function_calls\":%lu,\"last_function_events\":[", (unsigned long)t->nfunc_calls);
		for (size_t j = 0; j < t->fring_count; j++) {
			if (j)
				sb_putc(sb, ',');
			json_func_event(m, thread_func_event(t, j), sb);
		}
		sb_puts(sb, "]}");
	}
	sb_puts(sb, "]}");
}

void render_json(const struct et_model *m, const struct render_opts *o, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "{\"schema\":\"%s\",\"etrace_version\":\"%s\",\"command\":", ETRACE_SCHEMA,
		  ETRACE_VERSION);
	json_argv(&sb, m->command);
	sb_printf(&sb, ",\"start_wall\":%.6f,\"duration_ms\":%.3f,\"root_pid\":%d", m->start_wall,
		  (double)(m->end_ts - m->start_ts) / 1e6, m->root_pid);
	const struct et_process *root = NULL;
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->pid == m->root_pid) {
			root = m->procs[i];
			break;
		}
	sb_puts(&sb, ",\"exit\":");
	if (root && root->exited)
		json_wait_status(root->wait_status, &sb);
	else
		sb_puts(&sb, "null");
	sb_printf(&sb, ",\"etrace_exit_code\":%d,\"etrace_error\":", o->exit_code);
	sb_json_str(&sb, o->exit_reason);
	sb_puts(&sb, ",\"backends\":{\"syscalls\":");
	sb_json_str(&sb, m->backend);
	sb_puts(&sb, ",\"functions\":");
	sb_json_str(&sb, m->nfuncs ? m->funcs_backend : NULL);
	sb_puts(&sb, ",\"network\":");
	sb_json_str(&sb, m->net->backend);
	sb_puts(&sb, ",\"network_reason\":");
	sb_json_str(&sb, m->net->backend_why);
	sb_puts(&sb, "}");
	if (m->nreplay_notes) {
		/* a replay that could not show everything as the run had it */
		sb_puts(&sb, ",\"replay_notes\":[");
		for (size_t i = 0; i < m->nreplay_notes; i++) {
			if (i)
				sb_putc(&sb, ',');
			sb_json_str(&sb, m->replay_notes[i]);
		}
		sb_putc(&sb, ']');
	}
	sb_puts(&sb, ",\"kernel\":{\"release\":");
	sb_json_str(&sb, m->kernel_release[0] ? m->kernel_release : NULL);
	sb_puts(&sb, ",\"missing\":[");
	for (size_t i = 0; i < m->nkernel_gaps; i++) {
		sb_puts(&sb, i ? ",{\"what\":" : "{\"what\":");
		sb_json_str(&sb, m->kernel_gaps[i].what);
		sb_puts(&sb, ",\"cost\":");
		sb_json_str(&sb, m->kernel_gaps[i].cost);
		sb_putc(&sb, '}');
	}
	sb_puts(&sb, "]},\"settings\":{");
	sb_printf(&sb, "\"last_syscalls_per_thread\":%zu,\"string_limit\":%zu}", m->last_n, m->str_max);
	struct verdict v;
	verdict_build(m, &v);
	verdict_render_json(m, &v, &sb);
	verdict_free(&v);

	sb_puts(&sb, ",\"processes\":[");
	for (size_t i = 0; i < m->nprocs; i++) {
		if (i)
			sb_putc(&sb, ',');
		json_process(m, m->procs[i], &sb);
	}
	sb_puts(&sb, "]");

	analyses_render_json(m, ET_AT_PROCESSES, ET_AT_FAILURES, &sb);
	sb_puts(&sb, ",\"failed_syscalls\":[");
	for (size_t i = 0; i < m->nfailures; i++) {
		const struct et_failure *f = &m->failures[i];
		const char *en = decode_errno_name(f->err);
		if (i)
			sb_putc(&sb, ',');
		sb_printf(&sb, "{\"t_ms\":%.3f,\"pid\":%d,\"tid\":%d,\"name\":", model_rel_ms(m, f->first_ts),
			  f->pid, f->tid);
		sb_json_str(&sb, syscall_name(f->nr));
		sb_puts(&sb, ",\"errno\":");
		sb_json_str(&sb, en ? en : "?");
		sb_puts(&sb, ",\"error\":");
		sb_json_str(&sb, strerror(f->err));
		sb_printf(&sb, ",\"count\":%lu,\"routine\":", (unsigned long)f->count);
		sb_json_str(&sb, f->expected);
		sb_printf(&sb, ",\"named_in_last_words\":%s", f->named ? "true" : "false");
		sb_puts(&sb, ",\"text\":");
		sb_json_str(&sb, f->call);
		sb_putc(&sb, '}');
	}
	sb_printf(&sb, "],\"failed_syscalls_not_listed\":%lu", (unsigned long)m->failures_dropped);

	analyses_render_json(m, ET_AT_FAILURES, ET_AT_SUMMARY, &sb);

	sb_puts(&sb, ",\"syscall_summary\":[");
	for (size_t i = 0; i < m->ntotals; i++) {
		const struct et_syscall_total *t = &m->totals[i];
		if (i)
			sb_putc(&sb, ',');
		sb_puts(&sb, "{\"name\":");
		sb_json_str(&sb, syscall_name(t->nr));
		sb_printf(&sb, ",\"nr\":%d,\"calls\":%lu,\"errors\":%lu,\"total_us\":%.3f,\"max_us\":%.3f,\"avg_us\":%.3f}",
			  t->nr, (unsigned long)t->calls, (unsigned long)t->errors, (double)t->total_ns / 1e3,
			  (double)t->max_ns / 1e3, t->calls ? (double)t->total_ns / 1e3 / (double)t->calls : 0.0);
	}
	sb_puts(&sb, "]");

	analyses_render_json(m, ET_AT_SUMMARY, ET_AT_EVENTS, &sb);

	sb_printf(&sb, ",\"events\":{\"received\":%lu,\"trimmed\":%lu,\"malformed\":%lu,\"capture_faults\":%lu,\"lost\":{\"total\":%lu",
		  (unsigned long)m->records, (unsigned long)m->trimmed_records, (unsigned long)m->bad_records,
		  (unsigned long)m->capture_faults, (unsigned long)events_lost_total(m));
	events_lost_list(m, 0, &sb);
	sb_puts(&sb, "}}");
	sb_puts(&sb, "}\n");
	fputs(sb_str(&sb), out);
	sb_free(&sb);
}

/* ---- the --events lines, one function per record type (evtypes.c) ---- */

void evline_syscall(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)h;
	(void)wall;
	if (!r)
		return;
	sb_puts(sb, "{\"type\":\"syscall\",\"data\":");
	json_syscall(m, r, sb, 1);
	sb_puts(sb, "}\n");
	udp_render_event_lines(m, r, sb);  /* the DNS messages it carried */
}

void evline_fork(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_fork *e = (const void *)h;
	sb_printf(sb, "{\"type\":\"%s\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"child_pid\":%u,\"child_tid\":%u}\n",
		  e->is_thread ? "thread" : "fork", wall, model_rel_ms(m, h->ts), h->pid, h->tid, e->child_pid,
		  e->child_tid);
}

void evline_exec(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_exec *e = (const void *)h;
	sb_printf(sb, "{\"type\":\"exec\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"filename\":", wall,
		  model_rel_ms(m, h->ts), h->pid, h->tid);
	sb_json_strn(sb, e->filename, strnlen(e->filename, sizeof(e->filename)));
	sb_puts(sb, "}\n");
}

void evline_signal(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_signal *e = (const void *)h;
	const char *name = decode_signal_name((int)e->sig);
	sb_printf(sb, "{\"type\":\"signal\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"signal\":", wall,
		  model_rel_ms(m, h->ts), h->pid, h->tid);
	sb_json_str(sb, name ? name : "?");
	static const char *const causes[] = { "sent", "group_exit", "exec", "group_signal", "oom_killer" };
	sb_printf(sb, ",\"si_code\":%d,\"handler\":\"%s\",\"fatal\":%s,\"cause\":\"%s\"}\n", e->code,
		  e->handler == ET_SIG_HANDLER_DFL ? "default" : e->handler == ET_SIG_HANDLER_IGN ? "ignore" : "handler",
		  e->fatal ? "true" : "false", e->cause < 5 ? causes[e->cause] : "?");
}

void evline_siggen(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_siggen *e = (const void *)h;
	const char *name = decode_signal_name((int)e->sig);
	sb_printf(sb, "{\"type\":\"signal_sent\",\"wall\":%.6f,\"t_ms\":%.3f,\"sender_pid\":%u,\"sender_comm\":", wall,
		  model_rel_ms(m, h->ts), h->pid);
	sb_json_strn(sb, e->sender_comm, strnlen(e->sender_comm, sizeof(e->sender_comm)));
	sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"signal\":", e->target_pid, e->target_tid);
	sb_json_str(sb, name ? name : "?");
	sb_printf(sb, ",\"si_code\":%d,\"sender_tid\":%u,\"sender_syscall\":", e->code, h->tid);
	sb_json_str(sb, e->sender_nr >= 0 ? syscall_name(e->sender_nr) : NULL);
	sb_printf(sb, ",\"by_kernel\":%s}\n",
		  (e->sender_flags & (ET_SIGGEN_F_PRIV | ET_SIGGEN_F_KTHREAD)) ? "true" : "false");
}

void evline_crash(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_crash *e = (const void *)h;
	sb_printf(sb, "{\"type\":\"crash_state\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"rip\":\"0x%lx\",\"rsp\":\"0x%lx\",\"stack_bytes\":%u}\n",
		  wall, model_rel_ms(m, h->ts), h->pid, h->tid, (unsigned long)e->regs[16], (unsigned long)e->regs[19],
		  e->stack_len);
}

void evline_sock(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_sock *e = (const void *)h;
	static const char *const kinds[] = { "?", "state", "rst_sent", "rst_received", "retransmit", "drop" };
	sb_printf(sb, "{\"type\":\"tcp\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"event\":\"%s\"",
		  wall, model_rel_ms(m, h->ts), h->pid, h->tid, kinds[e->kind < 6 ? e->kind : 0]);
	if (e->kind == ET_SK_STATE)
		sb_printf(sb, ",\"from\":\"%s\",\"to\":\"%s\"", tcp_state_name(e->oldstate),
			  tcp_state_name(e->newstate));
	if (e->kind == ET_SK_DROP) {
		const char *rn = skb_drop_reason_name(e->reason);
		if (rn)
			sb_printf(sb, ",\"reason\":\"%s\"", rn);
		else
			sb_printf(sb, ",\"reason\":\"%u\"", e->reason);
	}
	sb_puts(sb, "}\n");
}

void evline_func(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_func *e = (const void *)h;
	struct et_func_event fe = { .ts = h->ts, .func = e->func, .kind = e->kind };
	if (e->kind == ET_FUNC_ENTRY)
		memcpy(fe.v, e->args, sizeof(fe.v));
	else
		fe.v[0] = e->ret;
	sb_printf(sb, "{\"type\":\"function\",\"wall\":%.6f,\"pid\":%u,\"tid\":%u,\"data\":", wall, h->pid, h->tid);
	json_func_event(m, &fe, sb);
	sb_puts(sb, "}\n");
}

void evline_exit(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		    struct strbuf *sb)
{
	(void)r;  /* a syscall's only */
	const struct ev_exit *e = (const void *)h;
	sb_printf(sb, "{\"type\":\"exit\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"process_exit\":%s", wall,
		  model_rel_ms(m, h->ts), h->pid, h->tid, e->group_dead ? "true" : "false");
	if (e->group_dead) {
		sb_puts(sb, ",\"status\":");
		json_wait_status((int)e->exit_code, sb);
	}
	sb_puts(sb, "}\n");
}

void render_event_line(const struct et_model *m, const struct ev_header *h, const struct et_record *r,
		       FILE *out)
{
	const struct et_record_type *t = record_type(h->type);
	if (!t || !t->event_line)
		return;
	struct strbuf sb = STRBUF_INIT;
	t->event_line(m, h, r, m->start_wall + model_rel_ms(m, h->ts) / 1e3, &sb);
	fputs(sb_str(&sb), out);
	sb_free(&sb);
}
