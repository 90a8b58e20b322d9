/* A termination is an ending, not a bug in the process: a signal sent to
 * it (SIGTERM, SIGINT, SIGKILL), or raised by the kernel as the outcome of
 * what it did (SIGPIPE after a write nobody reads). The report names the
 * sender and, for the ending that failed the run, shows where each thread
 * was (the stacks captured at the delivery), without calling it a crash. */
#include "termination.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reports/crash/crash.h"
#include "symbolize/frame_print.h"
#include "reports/syscalls/decode.h"
#include "sigsender.h"
#include "lastwords.h"
#include "reports/hang/hang.h"
#include "reports/core/analysis.h"

#define TERM_FRAMES_SHOWN 12

static bool terminated(const struct et_process *p)
{
	int sig = process_death_signal(p);
	return sig && !signal_is_crash(sig);
}

/* The captured state that says who sent it (the first thread that got it). */
static const struct et_crash *first_state(const struct et_process *p)
{
	return p->crash;
}

static void sender_of(const struct et_model *m, const struct et_process *p, struct strbuf *sb)
{
	const struct et_crash *c = first_state(p);
	int sig = process_death_signal(p);
	if (c && (c->sender.sig || c->cause == ET_SIG_CAUSE_OOM)) {
		crash_sender_text(m, p, c, sb);
		return;
	}
	const struct et_sent *st = process_signal_source(p, sig, 0);
	if (st)
		signal_sender_text(m, p, st, sb);
	else
		sb_puts(sb, "a sender not seen (its record was lost)");
}

bool termination_text(const struct et_model *m, const struct et_process *p, struct strbuf *sb)
{
	if (!terminated(p))
		return false;
	const char *name = decode_signal_name(process_death_signal(p));
	sb_printf(sb, "%s sent by ", name ? name : "signal");
	sender_of(m, p, sb);
	return true;
}

/* The process of the tree that sent p the signal that ended it, or NULL. */
static const struct et_process *killer_of(const struct et_model *m, const struct et_process *p)
{
	const struct et_sent *st = process_signal_source(p, process_death_signal(p), 0);
	if (!st || st->pid == p->pid || (st->flags & (ET_SIGGEN_F_PRIV | ET_SIGGEN_F_KTHREAD)))
		return NULL;
	return model_process((struct et_model *)m, st->pid);
}

bool termination_cleanup(const struct et_model *m, const struct et_process *p)
{
	if (!terminated(p))
		return false;
	const struct et_process *killer = killer_of(m, p);
	if (!killer || !killer->exited || !killer->wait_status)
		return false;
	const struct lastwords_stream *s = lastwords_pick(killer->words, NULL);
	size_t start, end;
	if (!s || !lastwords_headline(s, &start, &end))
		return false;
	/* a runner saying that it killed a test at its timeout
	 * (subprocess.TimeoutExpired: "... timed out after 1 seconds") */
	for (size_t i = start; i + 4 <= end; i++)
		if (strncasecmp(s->buf + i, "time", 4) == 0)
			return false;
	return true;
}

bool termination_failed_run(const struct et_model *m, const struct et_process *p)
{
	if (!terminated(p))
		return false;
	if (p->pid == m->root_pid)
		return true;
	const struct et_process *sender = killer_of(m, p);
	return sender && sender->exited && sender->wait_status != 0 && !termination_cleanup(m, p);
}

static const struct et_crash *state_of(const struct et_process *p, int tid)
{
	for (const struct et_crash *c = p->crash; c; c = c->next)
		if (c->tid == tid)
			return c;
	return NULL;
}

static void render_one(const struct et_model *m, const struct et_process *p, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	describe_wait_status(p->wait_status, &sb);
	fprintf(out, "  pid %d (%s) %s: a termination, not a crash\n", p->pid,
		p->argv && p->argv[0] ? p->argv[0] : "?", p->exited ? sb_str(&sb) : "died");
	sb_reset(&sb);
	sender_of(m, p, &sb);
	fprintf(out, "  sent by %s\n", sb_str(&sb));
	if (hang_shows_process(m, p->pid)) {
		fprintf(out, "  where its threads were: the hang section above\n");
		sb_free(&sb);
		return;
	}
	fprintf(out, "  where its threads were when it came:\n");
	const struct et_crash *first = first_state(p);
	for (size_t i = 0; i < p->nthreads; i++) {
		const struct et_thread *t = p->threads[i];
		const struct et_crash *c = state_of(p, t->tid);
		fprintf(out, "    thread %d (%s)", t->tid, t->comm[0] ? t->comm : "?");
		if (!c || !c->analyzed) {
			sb_reset(&sb);
			if (first)
				crash_thread_state(m, t, first, &sb);
			else
				sb_puts(&sb, "no state captured");
			fprintf(out, ": %s\n", sb_str(&sb));
			continue;
		}
		fprintf(out, ":\n");
		for (size_t f = 0; f < c->bt.nframes && f < TERM_FRAMES_SHOWN; f++) {
			sb_reset(&sb);
			sym_frame_text(&c->bt.frames[f], (int)f, &sb);
			fprintf(out, "  %s\n", sb_str(&sb));
		}
		if (c->bt.nframes > TERM_FRAMES_SHOWN || c->bt.truncated)
			fprintf(out, "      ... (more frames in the JSON report)\n");
	}
	sb_free(&sb);
}

static void termination_render_text(const struct et_model *m, FILE *out)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		if (!termination_failed_run(m, p))
			continue;
		fprintf(out, "\n-- termination ");
		for (int k = 15; k < 72; k++)
			fputc('-', out);
		fputc('\n', out);
		render_one(m, p, out);
	}
}

static void termination_render_json(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, "[");
	bool first = true;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		if (!terminated(p))
			continue;
		if (!first)
			sb_putc(sb, ',');
		first = false;
		int sig = process_death_signal(p);
		const char *name = decode_signal_name(sig);
		const struct et_crash *c0 = first_state(p);
		sb_printf(sb, "{\"pid\":%d,\"signal\":%d,\"signal_name\":", p->pid, sig);
		sb_json_str(sb, name ? name : "?");
		sb_printf(sb, ",\"group_exit\":%s,\"failed_run\":%s,\"sender\":",
			  c0 && c0->group_exit ? "true" : "false", termination_failed_run(m, p) ? "true" : "false");
		if (c0) {
			crash_sender_json(m, p, c0, sb);
		} else {
			struct strbuf txt = STRBUF_INIT;
			sender_of(m, p, &txt);
			sb_puts(sb, "{\"text\":");
			sb_json_str(sb, sb_str(&txt));
			sb_putc(sb, '}');
			sb_free(&txt);
		}
		struct strbuf txt = STRBUF_INIT;
		termination_text(m, p, &txt);
		sb_puts(sb, ",\"text\":");
		sb_json_str(sb, sb_str(&txt));
		sb_free(&txt);
		sb_puts(sb, ",\"threads\":[");
		for (size_t t = 0; t < p->nthreads; t++) {
			const struct et_thread *th = p->threads[t];
			const struct et_crash *c = state_of(p, th->tid);
			if (t)
				sb_putc(sb, ',');
			sb_printf(sb, "{\"tid\":%d,\"comm\":", th->tid);
			sb_json_str(sb, th->comm);
			sb_puts(sb, ",\"state\":");
			struct strbuf state = STRBUF_INIT;
			if (c0)
				crash_thread_state(m, th, c0, &state);
			sb_json_str(sb, c0 ? sb_str(&state) : NULL);
			sb_free(&state);
			sb_puts(sb, ",\"backtrace\":[");
			for (size_t f = 0; c && c->analyzed && f < c->bt.nframes; f++) {
				if (f)
					sb_putc(sb, ',');
				sym_frame_json(&c->bt.frames[f], sb);
			}
			sb_puts(sb, "],\"backtrace_error\":");
			sb_json_str(sb, !c ? "no state captured" : c->analyzed ? c->bt.error : "not symbolized");
			sb_putc(sb, '}');
		}
		sb_puts(sb, "]}");
	}
	sb_puts(sb, "]");
}

const struct et_analysis termination_analysis = {
	.name = "termination",
	.text_at = ET_AT_PROCESSES + 30,
	.json_at = ET_AT_PROCESSES + 20,
	.render_text = termination_render_text,
	.render_json = termination_render_json,
	.json_key = "terminations",
};
