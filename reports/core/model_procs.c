/* Process records: fork, exec, exit, signals delivered and generated (see
 * ingest.h). */
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "reports/core/xalloc.h"
#include "reports/syscalls/decode.h"
#include "reports/process/sigsender.h"
#include "reports/syscalls/routine.h"
#include "model_int.h"

/* ---- process records ----------------------------------------------------- */

int model_on_fork(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_fork *e = rec;
	(void)size;
	struct et_thread *parent = model_thread_for(m, e->h.pid, e->h.tid, e->h.ts);
	struct et_process *pp = model_process(m, e->h.pid);
	struct et_thread *t;
	if (e->is_thread) {
		t = model_add_thread(m, pp, e->child_tid, e->h.ts);
	} else {
		struct et_process *c = model_add_process(m, e->child_pid, e->h.pid, e->h.ts);
		c->fds = fdt_clone(pp->fds);
		if (pp->argv) {
			size_t n = 0;
			while (pp->argv[n])
				n++;
			c->argv = xcalloc(n + 1, sizeof(char *));
			for (size_t i = 0; i < n; i++)
				c->argv[i] = strdup(pp->argv[i]);
		}
		if (pp->exe)
			c->exe = strdup(pp->exe);
		if (pp->exe_path)
			c->exe_path = strdup(pp->exe_path);
		if (pp->cwd)
			c->cwd = strdup(pp->cwd);
		model_copy_modules(c, pp);
		if (e->shares_vm) {
			c->vm_parent = pp;
			pp->vm_lent_ts = e->h.ts;
		}
		analyses_on_fork(m, pp, c);
		t = model_add_thread(m, c, e->child_tid, e->h.ts);
	}
	char *text = NULL;
	if (asprintf(&text, e->is_thread ? "thread %u started" : "child process %u started", e->child_tid) > 0)
		model_note(pp, e->h.ts, e->h.tid, text);
	(void)parent;
	memcpy(t->comm, e->comm, ET_COMM_LEN);
	t->comm[ET_COMM_LEN - 1] = '\0';
	return 0;
}

const struct et_process *model_parent(const struct et_model *m, const struct et_process *p)
{
	/* the newest process of that pid, when it started before p (no pid
	 * reuse since): one lookup, not a pass over every process (JUnit asks
	 * for each test case's ancestors) */
	uint64_t i;
	if (map_get(&m->pindex, (uint64_t)(uint32_t)p->ppid + 1, &i) && i >= 1 && i <= m->nprocs) {
		const struct et_process *q = m->procs[i - 1];
		if (q != p && q->start_ts <= p->start_ts)
			return q;
	}
	const struct et_process *best = NULL;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *q = m->procs[i];
		if (q->pid == p->ppid && q != p && q->start_ts <= p->start_ts)
			best = q;
	}
	return best;
}

int model_on_exec(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_exec *e = rec;
	(void)size;
	struct et_process *p = model_process(m, e->h.pid);
	if (!p) {
		p = model_add_process(m, e->h.pid, 0, e->h.ts);
		p->fds = fdt_new();
	}
	/* a non-leader thread that exec'd takes over the leader's tid; the
	 * other threads are gone */
	for (size_t i = 0; i < p->nthreads; i++) {
		struct et_thread *t = p->threads[i];
		if (!t->exited && t->tid != (int)e->h.tid) {
			t->exited = true;
			t->end_ts = e->h.ts;
		}
	}
	struct et_thread *t = model_thread_for(m, e->h.pid, e->h.tid, e->h.ts);
	memcpy(t->comm, e->comm, ET_COMM_LEN);
	t->comm[ET_COMM_LEN - 1] = '\0';
	free(p->exe);
	p->exe = strndup(e->filename, sizeof(e->filename));
	fdt_exec(p->fds);
	p->vm_parent = NULL;   /* a memory of its own from now on */
	analyses_on_exec_begin(m, p);
	if (e->redacted) {
		p->privileged = true;
		model_clear_modules(p);   /* nothing of its image is recorded: no addresses to place */
	} else {
		model_modules_at_exec(m, p, e);
		analyses_on_exec_image(m, p, e->at_base == 0);
	}
	/* notes are prose for the text report: the program's path escaped */
	struct strbuf sb = STRBUF_INIT;
	sb_puts(&sb, "exec ");
	sb_escape(&sb, p->exe);
	model_note(p, e->h.ts, e->h.tid, sb_detach(&sb));
	return 0;
}

int model_on_exit(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_exit *e = rec;
	(void)size;
	struct et_thread *t = model_thread_for(m, e->h.pid, e->h.tid, e->h.ts);
	t->exited = true;
	t->end_ts = e->h.ts;
	if (!t->comm[0]) {
		memcpy(t->comm, e->comm, ET_COMM_LEN);
		t->comm[ET_COMM_LEN - 1] = '\0';
	}
	if (e->group_dead) {
		struct et_process *p = model_process(m, e->h.pid);
		p->exited = true;
		p->end_ts = e->h.ts;
		p->wait_status = (int)e->exit_code;
		p->vm_parent = NULL;
		analyses_on_exit(m, p);
		routine_on_exit(m, p);
	}
	return 0;
}


/* Why a thread's SIGKILL without siginfo came (bpf: signal_deliver). */
static const char *cause_text(int cause)
{
	switch (cause) {
	case ET_SIG_CAUSE_GROUP_EXIT:
		return "the process exited: the kernel ends its other threads";
	case ET_SIG_CAUSE_EXEC:
		return "another thread called execve: the kernel ends the other threads";
	case ET_SIG_CAUSE_GROUP_SIGNAL:
		return "the process dies of a fatal signal: the kernel ends every thread";
	case ET_SIG_CAUSE_OOM:
		return "the OOM killer chose this process";
	}
	return NULL;
}

int model_on_signal(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_signal *e = rec;
	(void)size;
	struct et_thread *t = model_thread_for(m, e->h.pid, e->h.tid, e->h.ts);
	struct et_process *p = model_process(m, e->h.pid);
	t->last_sig = (int)e->sig;
	t->last_sig_cause = (int)e->cause;
	t->last_sig_group_code = e->group_code;
	const char *name = decode_signal_name((int)e->sig);
	char *text = NULL;
	const char *what = e->handler == ET_SIG_HANDLER_DFL ? (e->fatal ? "default action: ends the process" : "default action")
			   : e->handler == ET_SIG_HANDLER_IGN ? "ignored" : "caught by a handler";
	const char *why = cause_text((int)e->cause);
	if (why)
		what = why;
	if (asprintf(&text, "%s delivered (%s)", name ? name : "signal", what) > 0)
		model_note(p, e->h.ts, e->h.tid, text);
	return 0;
}

int model_on_siggen(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_siggen *e = rec;
	(void)size;
	struct et_process *p = model_process(m, (int)e->target_pid);
	if (!p)
		return 0;
	const char *name = decode_signal_name((int)e->sig);
	char comm[ET_COMM_LEN + 1];
	memcpy(comm, e->sender_comm, ET_COMM_LEN);
	comm[ET_COMM_LEN] = '\0';
	struct et_sent sent = {
		.pid = (int)e->h.pid, .tid = (int)e->h.tid, .sig = (int)e->sig, .code = e->code,
		.target_tid = (int)e->target_tid, .group = e->group != 0, .nr = e->sender_nr, .flags = e->sender_flags, .ts = e->h.ts,
	};
	memcpy(sent.comm, comm, sizeof(sent.comm));
	struct strbuf who = STRBUF_INIT;
	signal_sender_text(m, p, &sent, &who);
	char *text = NULL;
	if (asprintf(&text, "%s sent to thread %u by %s", name ? name : "signal", e->target_tid, sb_str(&who)) > 0)
		model_note(p, e->h.ts, (int)e->target_tid, text);
	sb_free(&who);
	/* remember the sender for the crash section */
	for (struct et_crash *c = p->crash; c; c = c->next)
		if (c->tid == (int)e->target_tid && c->sig == (int)e->sig && !c->sender.sig) {
			c->sender = sent;
			if (sent.pid != p->pid) {
				c->sender_pid = sent.pid;
				memcpy(c->sender_comm, sent.comm, sizeof(c->sender_comm));
			}
		}
	if (p->nsenders == ET_SENDERS_KEPT) {
		memmove(p->senders, p->senders + 1, (ET_SENDERS_KEPT - 1) * sizeof(p->senders[0]));
		p->nsenders--;
	}
	p->senders[p->nsenders++] = sent;
	return 0;
}
