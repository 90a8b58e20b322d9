/* The hang report as text and JSON, the verdict's line, and the deadlock
 * cycles: see hang.h. */
#include "symbolize/fileutil.h"
#include "hang.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "reports/process/sysprog.h"
#include "reports/syscalls/decode.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/verdict/verdict.h"
#include "reports/core/xalloc.h"
#include "../../symbolize/frame_print.h"
#include "reports/net/tcp.h"
#include "reports/core/analysis.h"

#define HANG_FRAMES_SHOWN 24

static const struct sym_backtrace *bt_of(const struct hang_thread *t)
{
	if (t->crash)
		return t->crash->analyzed ? &t->crash->bt : NULL;
	return t->analyzed ? &t->bt : NULL;
}

void hang_where(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb)
{
	const struct sym_backtrace *bt = bt_of(t);
	const struct et_process *p = model_process((struct et_model *)m, t->pid);
	const struct sym_frame *pick = NULL, *with_file = NULL;
	for (size_t i = 0; bt && p && i < bt->nframes && !pick; i++) {
		const struct sym_frame *f = &bt->frames[i];
		if (!with_file && f->file)
			with_file = f;
		for (size_t k = 0; f->module && k < p->nmodules; k++)
			if (p->modules[k].path && strcmp(path_base(p->modules[k].path), f->module) == 0 &&
			    !sysprog_file(p->modules[k].path))
				pick = f;
	}
	if (!pick)
		pick = with_file;
	if (!pick) {
		sb_puts(sb, "no stack");
		return;
	}
	sb_escape(sb, pick->function ? pick->function : "??");
	if (pick->file) {
		sb_puts(sb, " at ");
		sb_escape(sb, path_base(pick->file));
		sb_printf(sb, ":%d", pick->line);
	}
}

static const char *state_text(const struct hang_thread *t)
{
	if (!t->from_snapshot)
		return t->nr >= 0 ? "blocked" : "running";
	uint32_t s = t->state;
	if ((s & 0xb0) || !(t->flags & (ET_SNAP_F_REGS | ET_SNAP_F_REDACTED)))
		return "exiting";
	if (s & 0x8)
		return "stopped by a tracer";
	if (s & 0x4)
		return "stopped";
	if (s & 0x1)
		return "sleeping";
	if (s & 0x2)
		return "in uninterruptible sleep";
	return (t->flags & ET_SNAP_F_ON_CPU) ? "running on a CPU" : "runnable, waiting for a CPU";
}

static void call_text(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb)
{
	if (t->sys) {
		sb_printf(sb, "%s(", syscall_name((int)t->sys->ev.nr));
		int n = decode_nargs(&t->sys->ev);
		for (int i = 0; i < n; i++) {
			if (i)
				sb_puts(sb, ", ");
			model_record_arg(m, t->sys, i, sb);
		}
		sb_putc(sb, ')');
		return;
	}
	const char *name = t->nr >= 0 ? syscall_name((int)t->nr) : NULL;
	sb_printf(sb, "%s()", name ? name : "?");
}

static double since_s(const struct hang_thread *t)
{
	return t->sys && t->ts > t->sys->ev.enter_ts ? (double)(t->ts - t->sys->ev.enter_ts) / 1e9 : -1;
}

static void object_text(const struct hang_thread *t, struct strbuf *sb)
{
	if (t->object)
		sb_escape(sb, t->object);
	else
		sb_printf(sb, "the futex word at 0x%lx", (unsigned long)(t->sys ? t->sys->ev.args[0] : t->words_addr));
}

static void object_short(const struct hang_thread *t, struct strbuf *sb)
{
	if (t->object_short)
		sb_escape(sb, t->object_short);
	else
		sb_printf(sb, "the futex word at 0x%lx", (unsigned long)(t->sys ? t->sys->ev.args[0] : t->words_addr));
}

bool hang_wait_text(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb)
{
	const struct hang_thread *o;
	switch (t->wait) {
	case HANG_WAIT_MUTEX:
		sb_puts(sb, "waits for mutex ");
		object_text(t, sb);
		sb_printf(sb, ", held by thread %d", t->owner_tid);
		if ((o = hang_thread_of(m, t->owner_tid))) {
			sb_puts(sb, " (");
			hang_where(m, o, sb);
			sb_putc(sb, ')');
		}
		return true;
	case HANG_WAIT_JOIN:
		sb_printf(sb, "waits for thread %d to end (pthread_join)", t->owner_tid);
		if ((o = hang_thread_of(m, t->owner_tid))) {
			sb_puts(sb, ", which is at ");
			hang_where(m, o, sb);
		}
		return true;
	case HANG_WAIT_FUTEX:
		sb_puts(sb, "waits on ");
		object_text(t, sb);
		if (t->words_ok)
			sb_printf(sb, " (value %u)", (unsigned)(uint32_t)t->words[0]);
		return true;
	case HANG_WAIT_CHILD:
		sb_printf(sb, "waits for %s", t->detail ? t->detail : "a child");
		return true;
	case HANG_WAIT_PIPE:
	case HANG_WAIT_SOCKET:
		if (!t->detail)
			return false;
		sb_puts(sb, "on ");
		sb_puts(sb, t->detail);
		return true;
	case HANG_WAIT_SLEEP:
		sb_puts(sb, "sleeps");
		return true;
	case HANG_WAIT_POLL:
		sb_puts(sb, "waits for one of its descriptors (poll)");
		return true;
	}
	return false;
}

/* ---- deadlock cycles -------------------------------------------------------- */

static const struct hang_thread *next_in_chain(const struct et_model *m, const struct hang_thread *t)
{
	if (t->wait != HANG_WAIT_MUTEX && t->wait != HANG_WAIT_JOIN)
		return NULL;
	return hang_thread_of(m, t->owner_tid);
}

/* The members of the cycle t is on (t's tid the smallest), or 0. */
static size_t cycle_from(const struct et_model *m, const struct hang_thread *t, const struct hang_thread **out,
			 size_t max)
{
	size_t n = 0;
	const struct hang_thread *c = t;
	while (c && n < max) {
		if (c->tid < t->tid)
			return 0;   /* found from its smallest member only */
		out[n++] = c;
		c = next_in_chain(m, c);
		if (c == t)
			return n >= 2 || t->wait == HANG_WAIT_MUTEX ? n : 0;
	}
	return 0;
}

static void what_it_waits_for(const struct hang_thread *t, struct strbuf *sb)
{
	if (t->wait == HANG_WAIT_MUTEX)
		object_short(t, sb);
	else
		sb_printf(sb, "thread %d to end", t->owner_tid);
}

size_t hang_cycles_text(const struct et_model *m, struct strbuf **lines)
{
	*lines = NULL;
	const struct et_hang *H = m->hang;
	size_t nl = 0;
	for (size_t i = 0; H && i < H->nthreads; i++) {
		const struct hang_thread *members[64];
		size_t n = cycle_from(m, &H->threads[i], members, 64);
		if (!n)
			continue;
		*lines = xrealloc(*lines, (nl + 1) * sizeof(**lines));
		struct strbuf *sb = &(*lines)[nl++];
		*sb = (struct strbuf)STRBUF_INIT;
		sb_puts(sb, "deadlock: ");
		for (size_t k = 0; k < n; k++) {
			const struct hang_thread *t = members[k], *prev = members[(k + n - 1) % n];
			if (k)
				sb_puts(sb, "; ");
			sb_printf(sb, "thread %d (", t->tid);
			hang_where(m, t, sb);
			sb_puts(sb, ")");
			if (prev->wait == HANG_WAIT_MUTEX) {
				sb_puts(sb, " holds ");
				object_short(prev, sb);
				sb_puts(sb, " and");
			}
			sb_puts(sb, " waits for ");
			what_it_waits_for(t, sb);
		}
	}
	return nl;
}

static void free_lines(struct strbuf *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_free(&lines[i]);
	free(lines);
}

/* ---- the verdict -------------------------------------------------------- */

static void duration_text(uint64_t ns, struct strbuf *sb)
{
	if (ns % 1000000000ull == 0)
		sb_printf(sb, "%lus", (unsigned long)(ns / 1000000000ull));
	else
		sb_printf(sb, "%lums", (unsigned long)(ns / 1000000ull));
}

static void why_text(const struct et_model *m, struct strbuf *sb)
{
	const struct ev_snap *s = &m->hang->info;
	if (s->reason == ET_SNAP_TIMEOUT) {
		sb_puts(sb, "--timeout=");
		duration_text(s->timeout_ns, sb);
		sb_puts(sb, " expired");
	} else {
		const char *name = decode_signal_name((int)s->sig);
		sb_printf(sb, "etrace got %s", name ? name : "a signal");
		if (s->sender_pid)
			sb_printf(sb, " from pid %u", s->sender_pid);
	}
}

const char *hang_verdict_line(const struct et_model *m, struct strbuf *sb)
{
	const struct et_hang *H = m->hang;
	if (!H || (!H->taken && !H->nthreads))
		return NULL;
	struct strbuf *lines;
	size_t nl = hang_cycles_text(m, &lines);
	const struct et_process *root = model_process((struct et_model *)m, m->root_pid);
	if (H->taken) {
		sb_escape(sb, root && root->argv && root->argv[0] ? path_base(root->argv[0]) : "?");
		sb_printf(sb, " (pid %d) still running when ", m->root_pid);
		why_text(m, sb);
	} else if (nl) {
		sb_puts(sb, "when a signal from outside ended it");
	} else {
		free_lines(lines, nl);
		return NULL;
	}
	if (nl) {
		sb_puts(sb, ": ");
		sb_puts(sb, sb_str(&lines[0]));
		if (nl > 1)
			sb_printf(sb, " (and %zu more cycles)", nl - 1);
	} else if (H->taken) {
		/* the root's first thread: where the program itself was */
		const struct hang_thread *t = hang_thread_of(m, m->root_pid);
		if (t) {
			sb_puts(sb, ": its main thread ");
			if (!hang_wait_text(m, t, sb))
				sb_puts(sb, state_text(t));
			sb_puts(sb, " at ");
			hang_where(m, t, sb);
		}
	}
	free_lines(lines, nl);
	return H->taken && H->info.reason == ET_SNAP_TIMEOUT ? "TIMEOUT" : "HANG";
}

/* ---- text ------------------------------------------------------------------ */

static bool section_shown(const struct et_model *m)
{
	const struct et_hang *H = m->hang;
	if (!H || (!H->taken && !H->nthreads))
		return false;
	if (H->taken)
		return true;
	struct strbuf *lines;
	size_t nl = hang_cycles_text(m, &lines);
	free_lines(lines, nl);
	return nl > 0;
}

bool hang_shows_process(const struct et_model *m, int pid)
{
	if (!section_shown(m))
		return false;
	for (size_t i = 0; i < m->hang->nthreads; i++)
		if (m->hang->threads[i].pid == pid)
			return true;
	return false;
}

static void thread_text(const struct et_model *m, const struct hang_thread *t, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "    thread %d (", t->tid);
	sb_escape(&sb, t->comm[0] ? t->comm : "?");
	sb_printf(&sb, "): %s", state_text(t));
	if (t->flags & ET_SNAP_F_REDACTED) {
		fprintf(out, "%s (a privileged program: nothing else shown)\n", sb_str(&sb));
		sb_free(&sb);
		return;
	}
	if (t->nr >= 0) {
		sb_puts(&sb, " in ");
		call_text(m, t, &sb);
		double s = since_s(t);
		if (s >= 0)
			sb_printf(&sb, " for %.3f s", s);
	}
	fprintf(out, "%s\n", sb_str(&sb));
	sb_reset(&sb);
	if (hang_wait_text(m, t, &sb) && t->wait != HANG_WAIT_SLEEP)
		fprintf(out, "      %s\n", sb_str(&sb));
	if (t->from_snapshot)
		fprintf(out, "      cpu: %.3f s user, %.3f s system; %lu voluntary, %lu involuntary switches; %.3f ms waiting for a CPU\n",
			(double)t->utime_ns / 1e9, (double)t->stime_ns / 1e9, (unsigned long)t->nvcsw,
			(unsigned long)t->nivcsw, (double)t->run_delay_ns / 1e6);
	const struct sym_backtrace *bt = bt_of(t);
	if (!bt) {
		fprintf(out, "      (no stack: %s)\n", t->regs_ok ? "not symbolized" : "no registers");
	} else {
		for (size_t f = 0; f < bt->nframes && f < HANG_FRAMES_SHOWN; f++) {
			sb_reset(&sb);
			sym_frame_text(&bt->frames[f], (int)f, &sb);
			fprintf(out, "  %s\n", sb_str(&sb));
		}
		if (bt->nframes > HANG_FRAMES_SHOWN || bt->truncated)
			fprintf(out, "      ... (more frames in the JSON report)\n");
	}
	sb_free(&sb);
}

static void hang_render_text(const struct et_model *m, FILE *out)
{
	const struct et_hang *H = m->hang;
	if (!H || (!H->taken && !H->nthreads))
		return;
	struct strbuf *lines;
	size_t nl = hang_cycles_text(m, &lines);
	if (!H->taken && !nl) {
		/* a kill from outside without a cycle: the termination section has the stacks */
		free_lines(lines, nl);
		return;
	}
	fprintf(out, "\n-- hang ");
	for (int k = 8; k < 72; k++)
		fputc('-', out);
	fputc('\n', out);
	struct strbuf sb = STRBUF_INIT;
	if (H->taken) {
		why_text(m, &sb);
		fprintf(out, "  %s at %+.3f ms: every thread of the tree then (read from the kernel, no ptrace)\n",
			sb_str(&sb), model_rel_ms(m, H->info.h.ts));
		if (H->info.error[0])
			fprintf(out, "  no thread states: %s\n", H->info.error);
	} else {
		fprintf(out, "  a signal from outside the tree ended it: its threads when it came\n");
	}
	for (size_t i = 0; i < nl; i++)
		fprintf(out, "  %s\n", sb_str(&lines[i]));
	free_lines(lines, nl);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		size_t n = 0;
		for (size_t k = 0; k < H->nthreads; k++)
			n += H->threads[k].pid == p->pid;
		if (!n)
			continue;
		sb_reset(&sb);
		sb_escape(&sb, p->argv && p->argv[0] ? p->argv[0] : "?");
		fprintf(out, "  pid %d (%s): %zu thread%s\n", p->pid, sb_str(&sb), n, n == 1 ? "" : "s");
		for (size_t k = 0; k < H->nthreads; k++)
			if (H->threads[k].pid == p->pid)
				thread_text(m, &H->threads[k], out);
	}
	sb_free(&sb);
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *wait_name(int w)
{
	static const char *const names[] = { "none", "mutex", "join", "futex", "child", "pipe", "socket", "poll", "sleep", "syscall" };
	return w >= 0 && w < (int)(sizeof(names) / sizeof(names[0])) ? names[w] : "none";
}

static void thread_json(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb)
{
	sb_printf(sb, "{\"pid\":%d,\"tid\":%d,\"comm\":", t->pid, t->tid);
	sb_json_str(sb, t->comm);
	sb_puts(sb, ",\"source\":");
	sb_json_str(sb, t->from_snapshot ? "snapshot" : "signal delivery");
	sb_puts(sb, ",\"state\":");
	sb_json_str(sb, state_text(t));
	sb_printf(sb, ",\"task_state\":%u,\"on_cpu\":%s,\"syscall\":", t->state, (t->flags & ET_SNAP_F_ON_CPU) ? "true" : "false");
	sb_json_str(sb, t->nr >= 0 ? syscall_name((int)t->nr) : NULL);
	sb_puts(sb, ",\"call\":");
	if (t->nr >= 0) {
		struct strbuf c = STRBUF_INIT;
		call_text(m, t, &c);
		sb_json_str(sb, sb_str(&c));
		sb_free(&c);
	} else {
		sb_puts(sb, "null");
	}
	double s = since_s(t);
	if (s >= 0)
		sb_printf(sb, ",\"in_syscall_ms\":%.3f", s * 1e3);
	else
		sb_puts(sb, ",\"in_syscall_ms\":null");
	sb_puts(sb, ",\"wait\":{\"kind\":");
	sb_json_str(sb, wait_name(t->wait));
	sb_puts(sb, ",\"object\":");
	sb_json_str(sb, t->object);
	sb_puts(sb, ",\"owner_tid\":");
	if (t->wait == HANG_WAIT_MUTEX || t->wait == HANG_WAIT_JOIN)
		sb_printf(sb, "%d", t->owner_tid);
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"detail\":");
	sb_json_str(sb, t->detail);
	struct strbuf w = STRBUF_INIT;
	bool has = hang_wait_text(m, t, &w);
	sb_puts(sb, ",\"text\":");
	sb_json_str(sb, has ? sb_str(&w) : NULL);
	sb_free(&w);
	sb_puts(sb, "},\"where\":");
	struct strbuf wh = STRBUF_INIT;
	hang_where(m, t, &wh);
	sb_json_str(sb, sb_str(&wh));
	sb_free(&wh);
	if (t->from_snapshot)
		sb_printf(sb, ",\"cpu\":{\"user_ns\":%lu,\"system_ns\":%lu,\"voluntary_switches\":%lu,"
			  "\"involuntary_switches\":%lu,\"run_delay_ns\":%lu}",
			  (unsigned long)t->utime_ns, (unsigned long)t->stime_ns, (unsigned long)t->nvcsw,
			  (unsigned long)t->nivcsw, (unsigned long)t->run_delay_ns);
	else
		sb_puts(sb, ",\"cpu\":null");
	sb_puts(sb, ",\"backtrace\":[");
	const struct sym_backtrace *bt = bt_of(t);
	for (size_t f = 0; bt && f < bt->nframes; f++) {
		if (f)
			sb_putc(sb, ',');
		sym_frame_json(&bt->frames[f], sb);
	}
	sb_puts(sb, "],\"backtrace_error\":");
	sb_json_str(sb, bt ? bt->error : t->regs_ok ? "not symbolized" : "no registers");
	sb_putc(sb, '}');
}

static void hang_render_json(const struct et_model *m, struct strbuf *sb)
{
	const struct et_hang *H = m->hang;
	if (!H || (!H->taken && !H->nthreads)) {
		sb_puts(sb, "null");
		return;
	}
	sb_puts(sb, "{\"reason\":");
	sb_json_str(sb, !H->taken ? "killed from outside" : H->info.reason == ET_SNAP_TIMEOUT ? "timeout" : "signal");
	if (H->taken) {
		sb_printf(sb, ",\"t_ms\":%.3f,\"timeout_ms\":", model_rel_ms(m, H->info.h.ts));
		if (H->info.reason == ET_SNAP_TIMEOUT)
			sb_printf(sb, "%.3f", (double)H->info.timeout_ns / 1e6);
		else
			sb_puts(sb, "null");
		const char *sname = H->info.sig ? decode_signal_name((int)H->info.sig) : NULL;
		sb_puts(sb, ",\"signal\":");
		sb_json_str(sb, sname);
		sb_printf(sb, ",\"sender_pid\":%u,\"error\":", H->info.sender_pid);
		sb_json_str(sb, H->info.error[0] ? H->info.error : NULL);
	}
	sb_puts(sb, ",\"deadlocks\":[");
	struct strbuf *lines;
	size_t nl = hang_cycles_text(m, &lines);
	for (size_t i = 0; i < nl; i++) {
		if (i)
			sb_putc(sb, ',');
		sb_json_str(sb, sb_str(&lines[i]));
	}
	free_lines(lines, nl);
	sb_puts(sb, "],\"threads\":[");
	for (size_t i = 0; i < H->nthreads; i++) {
		if (i)
			sb_putc(sb, ',');
		thread_json(m, &H->threads[i], sb);
	}
	sb_puts(sb, "],\"files\":[");
	for (size_t i = 0; i < H->nfiles; i++) {
		const struct ev_snap_file *f = &H->files[i];
		sb_printf(sb, "%s{\"pid\":%u,\"fd\":%d,\"kind\":\"%s\",\"ino\":%lu,\"read\":%s,\"write\":%s", i ? "," : "",
			  f->h.pid, f->fd, (f->i_mode & 0170000) == 0010000 ? "pipe" : "socket", (unsigned long)f->ino,
			  (f->f_mode & 1) ? "true" : "false", (f->f_mode & 2) ? "true" : "false");
		if ((f->i_mode & 0170000) == 0010000)
			sb_printf(sb, ",\"readers\":%u,\"writers\":%u}", f->readers, f->writers);
		else
			sb_printf(sb, ",\"family\":%u,\"protocol\":%u,\"state\":\"%s\",\"sport\":%u,\"dport\":%u}", f->family,
				  f->protocol, f->protocol == 6 ? tcp_state_name(f->state) : "", f->sport, f->dport);
	}
	sb_puts(sb, "]}");
}

const struct et_analysis hang_analysis = {
	.name = "hang",
	.text_at = ET_AT_PROCESSES + 20,
	.json_at = ET_AT_PROCESSES + 30,
	.render_text = hang_render_text,
	.render_json = hang_render_json,
	.json_key = "hang",
	.free = hang_free,
};
