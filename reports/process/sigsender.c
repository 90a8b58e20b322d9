/* Who sent a signal: the sender the kernel saw at signal_generate (the
 * current task, its syscall, whether the kernel sent it on its own behalf),
 * put in words, with the syscall record when the sender is traced. */
#include "sigsender.h"

#include <signal.h>
#include <string.h>

#include "reports/syscalls/decode.h"
#include "reports/syscalls/syscall_table.h"

bool signal_is_crash(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGABRT:
	case SIGTRAP:
	case SIGSYS:
		return true;
	}
	return false;
}

/* The sender's syscall record that was in flight when it sent the signal. */
static const struct et_record *sender_record(const struct et_model *m, const struct et_sent *st)
{
	if (st->nr < 0)
		return NULL;
	const struct et_thread *t = model_thread((struct et_model *)m, st->tid);
	for (size_t i = t ? t->ring_count : 0; i-- > 0;) {
		const struct et_record *r = thread_record(t, i);
		if ((int)r->ev.nr == st->nr && r->ev.enter_ts <= st->ts && r->ev.h.ts >= st->ts)
			return r;
		if (r->ev.h.ts < st->ts)
			break;
	}
	return NULL;
}

static void sender_call(const struct et_model *m, const struct et_sent *st, struct strbuf *sb)
{
	const struct et_record *r = sender_record(m, st);
	if (r)
		model_record_call(m, r, sb);
	else
		sb_printf(sb, "%s()", syscall_name(st->nr));
}

static bool fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
}

/* "name)": a process name is the program's to choose (prctl): escaped */
static void put_comm(struct strbuf *sb, const char *comm)
{
	if (comm[0])
		sb_escape(sb, comm);
	else
		sb_putc(sb, '?');
	sb_putc(sb, ')');
}

/* "thread 7" in the target itself, else "pid 12 (bash) thread 12" */
static void put_task(struct strbuf *sb, const struct et_sent *st, bool self)
{
	if (!self) {
		sb_printf(sb, "pid %d (", st->pid);
		put_comm(sb, st->comm);
		sb_putc(sb, ' ');
	}
	sb_printf(sb, "thread %d", st->tid);
}

void signal_sender_text(const struct et_model *m, const struct et_process *target, const struct et_sent *st,
			struct strbuf *sb)
{
	bool self = target && st->pid == target->pid;
	if (st->flags & ET_SIGGEN_F_PRIV) {
		/* SEND_SIG_PRIV: the kernel on its own behalf */
		if (st->sig == SIGALRM || st->sig == SIGVTALRM || st->sig == SIGPROF)
			sb_puts(sb, "the kernel (a timer the process set expired)");
		else if (st->sig == SIGXCPU)
			sb_puts(sb, "the kernel (the CPU time limit was reached)");
		else
			sb_puts(sb, "the kernel");
		return;
	}
	if (st->code > 0 && st->code != SI_KERNEL && fault_signal(st->sig)) {
		sb_printf(sb, "the kernel: a fault in thread %d", st->target_tid);
		return;
	}
	if (st->code == SI_KERNEL && fault_signal(st->sig)) {
		sb_printf(sb, "the kernel: a general protection fault in thread %d", st->target_tid);
		return;
	}
	if (st->code == SI_KERNEL || (st->flags & ET_SIGGEN_F_KTHREAD)) {
		sb_puts(sb, "the kernel");
		return;
	}
	if (m->etrace_pid && st->pid == m->etrace_pid) {
		if (m->forwarded_sig == st->sig && m->forwarded_from) {
			sb_printf(sb, "etrace, passing on the %s it got from pid %d (", decode_signal_name(st->sig),
				  m->forwarded_from);
			put_comm(sb, m->forwarded_comm);
		} else {
			sb_printf(sb, "etrace (pid %d)", st->pid);
		}
		return;
	}
	const char *nr = st->nr >= 0 ? syscall_name(st->nr) : NULL;
	bool sends = nr && (strcmp(nr, "kill") == 0 || strcmp(nr, "tkill") == 0 || strcmp(nr, "tgkill") == 0 ||
			    strcmp(nr, "rt_sigqueueinfo") == 0 || strcmp(nr, "rt_tgsigqueueinfo") == 0 ||
			    strcmp(nr, "pidfd_send_signal") == 0);
	if ((st->flags & ET_SIGGEN_F_NOINFO) && nr && !sends) {
		/* send_sig() inside another syscall: the kernel raised it as that
		 * call's outcome (a write to a pipe nobody reads: SIGPIPE) */
		sb_puts(sb, "the kernel, in ");
		put_task(sb, st, self);
		sb_puts(sb, ": ");
		sender_call(m, st, sb);
		if (st->sig == SIGPIPE)
			sb_puts(sb, ": nobody reads that pipe or socket");
		return;
	}
	if (self)
		sb_puts(sb, "the process itself: ");
	put_task(sb, st, self);
	if (nr) {
		sb_puts(sb, " with ");
		sender_call(m, st, sb);
	}
}
