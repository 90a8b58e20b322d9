/* ET_EV_CRASH records: a fatal signal's registers, stack and code bytes,
 * kept per process for the crash analysis (crash.c). */
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include "reports/core/model_int.h"
#include "reports/core/xalloc.h"

/* --trace-func: a uretprobe replaced the return address of each probed call
 * in progress with its trampoline; put the originals back in the copy, so
 * that the unwinder sees the real callers. */
static void restore_return_addresses(struct et_crash *c, const struct ev_crash *e)
{
	if (!c->stack || c->stack_len < 8 || !e->uret_trampoline)
		return;
	for (uint32_t i = 0; i < e->nuret && i < ET_URET_MAX; i++) {
		uint64_t slot = e->uret[i][0], v;
		if (slot < c->stack_addr || slot - c->stack_addr > c->stack_len - 8)
			continue;
		memcpy(&v, c->stack + (slot - c->stack_addr), sizeof(v));
		if (v == e->uret_trampoline)
			memcpy(c->stack + (slot - c->stack_addr), &e->uret[i][1], sizeof(v));
	}
}

int model_on_crash(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_crash *e = rec;
	if (size < sizeof(*e) - ET_STACK_MAX || e->stack_len > ET_STACK_MAX)
		return -1;
	struct et_thread *t = model_thread_for(m, e->h.pid, e->h.tid, e->h.ts);
	struct et_process *p = model_process(m, e->h.pid);
	struct et_crash *c = xcalloc(1, sizeof(*c));
	c->tid = e->h.tid;
	memcpy(c->comm, t->comm, sizeof(c->comm));
	c->ts = e->h.ts;
	c->sig = (int)e->sig;
	c->code = e->code;
	c->addr = e->addr;
	memcpy(c->regs, e->regs, sizeof(c->regs));
	c->stack_addr = e->stack_addr;
	c->stack_len = e->stack_len;
	if (e->stack_len) {
		c->stack = xcalloc(1, e->stack_len);
		memcpy(c->stack, e->stack, e->stack_len);
		restore_return_addresses(c, e);
	}
	/* a SIGKILL without siginfo: the group dies of the signal in
	 * group_code (a SIGTERM, another thread's fault) or of the OOM killer */
	if (t->last_sig == c->sig) {
		c->cause = t->last_sig_cause;
		if (c->cause == ET_SIG_CAUSE_GROUP_SIGNAL || c->cause == ET_SIG_CAUSE_OOM) {
			c->group_exit = 1;
			if (t->last_sig_group_code & 0x7f)
				c->sig = t->last_sig_group_code & 0x7f;
			c->code = SI_KERNEL;
		}
	}
	const struct et_sent *st = process_signal_source(p, c->sig, c->group_exit ? 0 : c->tid);
	if (st && c->cause != ET_SIG_CAUSE_OOM) {
		c->sender = *st;
		c->code = st->code;
		if (st->pid != p->pid) {
			c->sender_pid = st->pid;
			memcpy(c->sender_comm, st->comm, sizeof(c->sender_comm));
		}
	}
	/* the first fatal signal is the crash; the rest follow it */
	struct et_crash **tail = &p->crash;
	while (*tail)
		tail = &(*tail)->next;
	*tail = c;
	return 0;
}
