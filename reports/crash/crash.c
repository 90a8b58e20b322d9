#include "crash.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "reports/syscalls/decode.h"
#include "symbolize/frame_print.h"
#include "reports/heap/heap.h"
#include "reports/hang/hang.h"
#include "reports/process/sigsender.h"
#include "reports/process/testname.h"
#include "symbolize/faultaddr.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/core/analysis.h"

struct code_name {
	int sig;        /* 0: any signal */
	int code;
	const char *name;
	const char *text;
};

/* si_code values from <signal.h>; meanings as the kernel documents them. */
static const struct code_name codes[] = {
	{ SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR", "address not mapped to object" },
	{ SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR", "invalid permissions for mapped object" },
	{ SIGSEGV, SEGV_BNDERR, "SEGV_BNDERR", "failed address bound checks" },
	{ SIGSEGV, SEGV_PKUERR, "SEGV_PKUERR", "access denied by memory protection keys" },
	{ SIGBUS, BUS_ADRALN, "BUS_ADRALN", "invalid address alignment" },
	{ SIGBUS, BUS_ADRERR, "BUS_ADRERR", "nonexistent physical address (e.g. beyond the end of a mapped file)" },
	{ SIGBUS, BUS_OBJERR, "BUS_OBJERR", "object-specific hardware error" },
	{ SIGBUS, BUS_MCEERR_AR, "BUS_MCEERR_AR", "hardware memory error consumed" },
	{ SIGFPE, FPE_INTDIV, "FPE_INTDIV", "integer divide by zero" },
	{ SIGFPE, FPE_INTOVF, "FPE_INTOVF", "integer overflow" },
	{ SIGFPE, FPE_FLTDIV, "FPE_FLTDIV", "floating-point divide by zero" },
	{ SIGFPE, FPE_FLTOVF, "FPE_FLTOVF", "floating-point overflow" },
	{ SIGFPE, FPE_FLTUND, "FPE_FLTUND", "floating-point underflow" },
	{ SIGFPE, FPE_FLTRES, "FPE_FLTRES", "floating-point inexact result" },
	{ SIGFPE, FPE_FLTINV, "FPE_FLTINV", "invalid floating-point operation" },
	{ SIGFPE, FPE_FLTSUB, "FPE_FLTSUB", "subscript out of range" },
	{ SIGILL, ILL_ILLOPC, "ILL_ILLOPC", "illegal opcode" },
	{ SIGILL, ILL_ILLOPN, "ILL_ILLOPN", "illegal operand" },
	{ SIGILL, ILL_ILLADR, "ILL_ILLADR", "illegal addressing mode" },
	{ SIGILL, ILL_ILLTRP, "ILL_ILLTRP", "illegal trap" },
	{ SIGILL, ILL_PRVOPC, "ILL_PRVOPC", "privileged opcode" },
	{ SIGILL, ILL_PRVREG, "ILL_PRVREG", "privileged register" },
	{ SIGILL, ILL_COPROC, "ILL_COPROC", "coprocessor error" },
	{ SIGILL, ILL_BADSTK, "ILL_BADSTK", "internal stack error" },
	{ SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT", "process breakpoint" },
	{ SIGTRAP, TRAP_TRACE, "TRAP_TRACE", "process trace trap" },
	{ 0, SI_USER, "SI_USER", "sent by kill()" },
	{ 0, SI_KERNEL, "SI_KERNEL", "sent by the kernel" },
	{ 0, SI_QUEUE, "SI_QUEUE", "sent by sigqueue()" },
	{ 0, SI_TIMER, "SI_TIMER", "POSIX timer expired" },
	{ 0, SI_MESGQ, "SI_MESGQ", "message queue state changed" },
	{ 0, SI_ASYNCIO, "SI_ASYNCIO", "AIO completed" },
	{ 0, SI_SIGIO, "SI_SIGIO", "queued SIGIO" },
	{ 0, SI_TKILL, "SI_TKILL", "sent by tkill()/tgkill() (raise(), abort())" },
};

static const struct code_name *find_code(int sig, int code)
{
	/* positive codes are per signal for the fault signals; the rest are generic */
	bool fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i].code != code)
			continue;
		if (codes[i].sig == sig && fault && code > 0)
			return &codes[i];
		if (codes[i].sig == 0 && (code <= 0 || code == SI_KERNEL))
			return &codes[i];
	}
	return NULL;
}

const char *si_code_name(int sig, int code)
{
	const struct code_name *c = find_code(sig, code);
	return c ? c->name : NULL;
}

const char *si_code_text(int sig, int code)
{
	const struct code_name *c = find_code(sig, code);
	return c ? c->text : NULL;
}

static bool has_fault_address(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
}

/* ---- analysis ------------------------------------------------------------ */

static void analyze_one(const struct et_process *p, struct et_crash *c)
{
	struct sym_module *mods = calloc(p->nmodules ? p->nmodules : 1, sizeof(*mods));
	if (!mods)
		return;
	size_t n = 0;
	for (size_t i = 0; i < p->nmodules; i++)
		if (module_file(&p->modules[i]))   /* never another file's symbols */
			mods[n++] = (struct sym_module){ .path = p->modules[i].path, .bias = p->modules[i].bias };
	struct sym_session *s = sym_open(mods, n);
	if (s) {
		const uint64_t *r = c->regs;
		struct sym_regs regs = {
			.r15 = r[0], .r14 = r[1], .r13 = r[2], .r12 = r[3], .rbp = r[4], .rbx = r[5],
			.r11 = r[6], .r10 = r[7], .r9 = r[8], .r8 = r[9], .rax = r[10], .rcx = r[11],
			.rdx = r[12], .rsi = r[13], .rdi = r[14], .rip = r[16], .rsp = r[19], .eflags = r[18],
		};
		memset(&c->bt, 0, sizeof(c->bt));
		sym_unwind(s, &regs, c->stack, c->stack_len, c->stack_addr, 256, &c->bt);
		c->analyzed = 1;
		sym_close(s);
	}
	free(mods);
	/* what the faulting instruction did (read or write, how many bytes) */
	if (has_fault_address(c->sig) && !c->group_exit) {
		for (size_t i = 0; i < p->nmodules && !c->access_known; i++) {
			struct fault_operand fo;
			if (module_file(&p->modules[i]) &&
			    fault_operand_address(p->modules[i].path, p->modules[i].bias, c->regs[16], c->regs, &fo) == 0) {
				c->access_known = 1;
				c->access_write = fo.write;
				c->access_size = fo.size;
			}
		}
	}
	/* no address from the kernel: compute it from the instruction */
	if (has_fault_address(c->sig) && c->code == SI_KERNEL && !c->group_exit) {
		for (size_t i = 0; i < p->nmodules && !c->operand_known; i++) {
			struct fault_operand fo;
			if (module_file(&p->modules[i]) &&
			    fault_operand_address(p->modules[i].path, p->modules[i].bias, c->regs[16], c->regs, &fo) == 0) {
				c->operand_known = 1;
				c->operand_addr = fo.address;
				snprintf(c->operand_insn, sizeof(c->operand_insn), "%s", fo.insn);
			}
		}
	}
}

/* A fatal signal (SIGTERM, a timeout's SIGINT) reaches the process as the
 * SIGKILL of a group exit; the exit status says which signal it was. */
static void name_group_exit(struct et_process *p)
{
	struct et_crash *c = p->crash;
	int termsig = p->wait_status & 0x7f;
	if (!c || c->sig != SIGKILL || !p->exited || !termsig || termsig == SIGKILL)
		return;
	c->sig = termsig;
	c->group_exit = 1;
	const struct et_sent *st = process_sender(p, termsig, 0, 0);
	c->code = st ? SI_USER : SI_KERNEL;
	if (st) {
		c->sender_pid = st->pid;
		memcpy(c->sender_comm, st->comm, sizeof(c->sender_comm));
	}
}

int process_death_signal(const struct et_process *p)
{
	if (p->exited)
		return p->wait_status & 0x7f;
	return p->crash ? p->crash->sig : 0;
}

/* p crashed, and its parent collected the crash (a wait that returned it)
 * and still exited 0: the parent expected it (a death test) or went on
 * (a shell script's next command). */
bool crash_handled(const struct et_model *m, const struct et_process *p)
{
	if (!process_crashed(p) || !p->reaped_by)
		return false;
	const struct et_process *parent = model_parent(m, p);
	return parent && parent->pid == p->reaped_by && parent->exited && parent->wait_status == 0;
}

bool process_crashed(const struct et_process *p)
{
	return p->crash && signal_is_crash(process_death_signal(p));
}

void crash_sender_text(const struct et_model *m, const struct et_process *p, const struct et_crash *c,
		       struct strbuf *sb)
{
	if (c->cause == ET_SIG_CAUSE_OOM)
		sb_puts(sb, "the kernel: the OOM killer chose this process");
	else if (c->sender.sig)
		signal_sender_text(m, p, &c->sender, sb);
	else if (c->code > 0 && c->code != SI_KERNEL && has_fault_address(c->sig))
		sb_printf(sb, "the kernel: a fault in thread %d", c->tid);
	else
		sb_puts(sb, "not seen (the record of its sending was lost)");
}

void crash_analyze(struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct et_process *p = m->procs[i];
		name_group_exit(p);
		for (struct et_crash *c = p->crash; c; c = c->next)
			if (!c->analyzed)
				analyze_one(p, c);
	}
	/* the hang report reuses these backtraces */
	hang_analyze(m);
}

/* ---- rewind ---------------------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
	const struct rewind_item *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

size_t crash_rewind(const struct et_process *p, uint64_t ts, size_t n, struct rewind_item **out)
{
	size_t total = p->notes_count;
	for (size_t i = 0; i < p->nthreads; i++)
		total += p->threads[i]->ring_count;
	struct rewind_item *items = calloc(total ? total : 1, sizeof(*items));
	size_t k = 0;
	if (!items) {
		*out = NULL;
		return 0;
	}
	for (size_t i = 0; i < p->nthreads; i++) {
		const struct et_thread *t = p->threads[i];
		for (size_t j = 0; j < t->ring_count; j++) {
			const struct et_record *r = thread_record(t, j);
			if (r->ev.enter_ts <= ts)
				items[k++] = (struct rewind_item){ r->ev.enter_ts, t->tid, r, NULL };
		}
	}
	for (size_t j = 0; j < p->notes_count; j++) {
		const struct et_note *nt = process_note(p, j);
		if (nt->ts <= ts)
			items[k++] = (struct rewind_item){ nt->ts, nt->tid, NULL, nt };
	}
	qsort(items, k, sizeof(*items), item_cmp);
	if (k > n) {
		memmove(items, items + (k - n), n * sizeof(*items));
		k = n;
	}
	*out = items;
	return k;
}

/* The syscalls abort() and the code that prints its message make after the
 * message: assert and __libc_message allocate (mmap/brk), libstdc++'s
 * terminate handler demangles (malloc), abort unblocks SIGABRT and raises it
 * (rt_sigprocmask, gettid, getpid, tgkill), and raises it again after a
 * handler returned (rt_sigaction, rt_sigreturn). Anything else between the
 * last write to stderr and the abort means that write was not its message. */
/* What may come between the message and the abort: abort()'s own calls,
 * the allocator's, and a read of the clock (the heap recorder's time stamp
 * when the TSC is not usable and the clock has no vDSO path, as in Debian
 * 12's 6.1 under QEMU: a clock_gettime call between the assert's write and
 * its abort hid the message). */
static bool abort_path_syscall(const char *name)
{
	static const char *const names[] = { "rt_sigprocmask", "gettid", "getpid", "tgkill", "tkill", "kill",
					     "rt_sigaction", "rt_sigreturn", "mmap", "munmap", "brk",
					     "clock_gettime", "gettimeofday", "time" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

size_t crash_rewind_for(const struct et_model *m, const struct et_process *p, uint64_t ts,
			struct rewind_item **out)
{
	if (!m->rewind_ns)
		return crash_rewind(p, ts, m->rewind_n, out);
	size_t n = crash_rewind(p, ts, (size_t)-1, out);
	size_t first = 0;
	while (first < n && (*out)[first].ts + m->rewind_ns < ts)
		first++;
	memmove(*out, *out + first, (n - first) * sizeof(**out));
	return n - first;
}

char *crash_abort_message(const struct et_model *m, const struct et_process *p, const struct et_crash *c)
{
	(void)m;
	const struct et_thread *t = NULL;
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i]->tid == c->tid)
			t = p->threads[i];
	if (!t || c->sig != SIGABRT)
		return NULL;
	/* the writes to fd 2 right before the abort (assert, glibc's messages,
	 * libstdc++'s terminate handler, which writes its message in pieces) */
	struct strbuf sb = STRBUF_INIT;
	size_t first = t->ring_count;
	for (size_t j = t->ring_count; j-- > 0;) {
		const struct et_record *r = thread_record(t, j);
		const char *name = syscall_name((int)r->ev.nr);
		if (r->ev.enter_ts > c->ts)
			continue;
		bool is_write = strcmp(name, "write") == 0 || strcmp(name, "writev") == 0;
		if (is_write && (int)r->ev.args[0] == 2)
			first = j;
		else if (!abort_path_syscall(name))
			break;
	}
	for (size_t j = first; j < t->ring_count; j++) {
		const struct et_record *r = thread_record(t, j);
		if ((int)r->ev.args[0] != 2 || r->ev.enter_ts > c->ts)
			continue;
		const char *name = syscall_name((int)r->ev.nr);
		if (strcmp(name, "writev") == 0) {
			/* glibc's fatal messages ("free(): invalid pointer") use writev */
			size_t got = 0;
			for (int k = 0; k < 8; k++) {
				const struct ev_capture *cap = ev_find_capture(&r->ev, 1, k);
				if (cap && cap->kind == ET_CAP_IOV_IN) {
					sb_putn(&sb, ev_capture_data(cap), cap->len);
					got += cap->len;
				}
			}
			if (!got && (long)r->ev.ret > 0)
				sb_printf(&sb, "[%ld bytes written with writev, not captured]\n", (long)r->ev.ret);
			continue;
		}
		if (strcmp(name, "write") != 0)
			continue;
		const struct ev_capture *cap = ev_find_capture(&r->ev, 1, 0);
		if (cap)
			sb_putn(&sb, ev_capture_data(cap), cap->len);
	}
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	while (sb.len && (sb.buf[sb.len - 1] == '\n'))
		sb.buf[--sb.len] = '\0';
	return sb_detach(&sb);
}

/* ---- text ------------------------------------------------------------------ */


static void describe_signal(const struct et_crash *c, struct strbuf *sb)
{
	const char *name = decode_signal_name(c->sig);
	const char *code = si_code_name(c->sig, c->code);
	const char *text = si_code_text(c->sig, c->code);
	sb_printf(sb, "%s", name ? name : "signal");
	if (has_fault_address(c->sig) && c->code == SI_KERNEL && !c->group_exit)
		sb_puts(sb, " (SI_KERNEL)");
	else if (code)
		sb_printf(sb, " (%s: %s)", code, text);
	else
		sb_printf(sb, " (si_code %d)", c->code);
	if (has_fault_address(c->sig) && c->code == SI_KERNEL && !c->group_exit) {
		sb_puts(sb, ": a general protection fault, the kernel gives no address");
	} else if (has_fault_address(c->sig) && c->code > 0) {
		sb_printf(sb, " at address 0x%lx", (unsigned long)c->addr);
	}
}

static const struct et_thread *find_thread(const struct et_process *p, int tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i]->tid == tid)
			return p->threads[i];
	return NULL;
}

/* "blocked in read(3<pipe:[r]>, 0x7f.., 1)" for a thread the crash interrupted. */
void crash_thread_state(const struct et_model *m, const struct et_thread *t, const struct et_crash *c,
				  struct strbuf *sb)
{
	const struct et_record *last = t->ring_count ? thread_record(t, t->ring_count - 1) : NULL;
	if (t->exited && t->end_ts && t->end_ts < c->ts) {
		sb_puts(sb, "had exited");
		return;
	}
	if (!last) {
		sb_puts(sb, "no syscalls seen");
		return;
	}
	long ret = (long)last->ev.ret;
	if (ret <= -512 && ret >= -516) {
		/* ERESTART*: the syscall was interrupted by the fatal signal */
		sb_printf(sb, "blocked in %s(", syscall_name((int)last->ev.nr));
		struct strbuf args = STRBUF_INIT;
		int n = decode_nargs(&last->ev);
		for (int i = 0; i < n; i++) {
			if (i)
				sb_puts(&args, ", ");
			model_record_arg(m, last, i, &args);
		}
		sb_printf(sb, "%s) since %+.3f ms", sb_str(&args), ((double)last->ev.enter_ts - (double)c->ts) / 1e6);
		sb_free(&args);
		return;
	}
	sb_puts(sb, "running; its last syscall: ");
	model_record_call(m, last, sb);
}

static void render_one(const struct et_model *m, const struct et_process *p, FILE *out)
{
	const struct et_crash *c = p->crash;
	struct strbuf sb = STRBUF_INIT, esc = STRBUF_INIT;
	describe_wait_status(p->wait_status, &sb);
	fprintf(out, "  pid %d (%s) %s\n", p->pid, p->argv && p->argv[0] ? sb_escaped(&esc, p->argv[0]) : "?",
		p->exited ? sb_str(&sb) : "died");
	if (process_expected_fail(m, p)) {
		fprintf(out, "  expected: its runner expected test \"%s\" to fail\n",
			sb_escaped(&esc, process_test_name(m, p)));
	} else if (crash_handled(m, p)) {
		const struct et_process *parent = model_parent(m, p);
		fprintf(out, "  handled: its parent (pid %d) collected it and exited 0\n", parent ? parent->pid : p->ppid);
	}
	sb_reset(&sb);
	describe_signal(c, &sb);
	fprintf(out, "  %s\n", sb_str(&sb));
	if (c->operand_known)
		fprintf(out, "  the faulting instruction `%s` addresses 0x%lx%s\n", c->operand_insn,
			(unsigned long)c->operand_addr,
			(c->operand_addr >> 47) && (c->operand_addr >> 47) != 0x1ffff ? " (non-canonical)" : "");
	heap_crash_fill_text(m, c, out);
	fprintf(out, "  in thread %d (%s) at %+.3f ms\n", c->tid, c->comm[0] ? sb_escaped(&esc, c->comm) : "?", model_rel_ms(m, c->ts));
	sb_reset(&sb);
	crash_sender_text(m, p, c, &sb);
	fprintf(out, "  sent by %s\n", sb_str(&sb));

	char *msg = crash_abort_message(m, p, c);
	if (msg) {
		fprintf(out, "  message written to stderr before the abort:\n");
		for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(out, "    | %s\n", sb_escaped(&esc, line));
		free(msg);
	}

	const uint64_t *r = c->regs;
	fprintf(out, "  registers:\n");
	fprintf(out, "    rip 0x%016lx  rsp 0x%016lx  rbp 0x%016lx  eflags 0x%lx\n", (unsigned long)r[16],
		(unsigned long)r[19], (unsigned long)r[4], (unsigned long)r[18]);
	fprintf(out, "    rax 0x%016lx  rbx 0x%016lx  rcx 0x%016lx  rdx 0x%016lx\n", (unsigned long)r[10],
		(unsigned long)r[5], (unsigned long)r[11], (unsigned long)r[12]);
	fprintf(out, "    rsi 0x%016lx  rdi 0x%016lx  r8  0x%016lx  r9  0x%016lx\n", (unsigned long)r[13],
		(unsigned long)r[14], (unsigned long)r[9], (unsigned long)r[8]);
	fprintf(out, "    r10 0x%016lx  r11 0x%016lx  r12 0x%016lx  r13 0x%016lx\n", (unsigned long)r[7],
		(unsigned long)r[6], (unsigned long)r[3], (unsigned long)r[2]);
	fprintf(out, "    r14 0x%016lx  r15 0x%016lx\n", (unsigned long)r[1], (unsigned long)r[0]);

	fprintf(out, "  backtrace (DWARF CFI from the registers and %u bytes of stack):\n", c->stack_len);
	if (c->analyzed) {
		for (size_t i = 0; i < c->bt.nframes; i++) {
			sb_reset(&sb);
			/* summarise runs of a repeated frame (deep recursion) */
			size_t run = 1;
			while (i + run < c->bt.nframes && c->bt.frames[i + run].pc == c->bt.frames[i].pc &&
			       !c->bt.frames[i].inlined)
				run++;
			sym_frame_text(&c->bt.frames[i], (int)i, &sb);
			fprintf(out, "%s\n", sb_str(&sb));
			if (run > 2) {
				fprintf(out, "    ... the same frame %zu more times\n", run - 1);
				i += run - 1;
			}
		}
		if (c->bt.truncated)
			fprintf(out, "    ... (more frames not shown)\n");
		if (c->bt.error)
			fprintf(out, "    (unwinding stopped: %s)\n", c->bt.error);
	} else {
		fprintf(out, "    (not available)\n");
	}
	heap_crash_text(m, p, c, out);

	/* the other threads: what each was doing */
	if (p->nthreads > 1) {
		fprintf(out, "  other threads:\n");
		for (size_t i = 0; i < p->nthreads; i++) {
			const struct et_thread *t = p->threads[i];
			if (t->tid == c->tid)
				continue;
			fprintf(out, "    tid %d (%s): ", t->tid, t->comm[0] ? sb_escaped(&esc, t->comm) : "?");
			sb_reset(&sb);
			crash_thread_state(m, t, c, &sb);
			fprintf(out, "%s\n", sb_str(&sb));
		}
	}

	struct rewind_item *items;
	size_t n = crash_rewind_for(m, p, c->ts, &items);
	if (m->rewind_ns)
		fprintf(out, "  rewind: the %zu events of pid %d in the %.3f ms before the crash (* the crashing thread)\n", n,
			p->pid, (double)m->rewind_ns / 1e6);
	else
		fprintf(out, "  rewind: the last %zu events of pid %d before the crash (* the crashing thread)\n", n, p->pid);
	for (size_t i = 0; i < n; i++) {
		const struct rewind_item *it = &items[i];
		sb_reset(&sb);
		if (it->rec)
			model_record_call(m, it->rec, &sb);
		else
			sb_puts(&sb, it->note->text);
		fprintf(out, "   %c%+11.3f ms  tid %-7d %s\n", it->tid == c->tid ? '*' : ' ',
			((double)it->ts - (double)c->ts) / 1e6, it->tid, sb_str(&sb));
	}
	free(items);
	(void)find_thread;
	sb_free(&sb);
	sb_free(&esc);
}

static void crash_render_text(const struct et_model *m, FILE *out)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		if (!process_crashed(p))
			continue;
		fprintf(out, "\n-- crash ");
		for (int k = 9; k < 72; k++)
			fputc('-', out);
		fputc('\n', out);
		render_one(m, p, out);
	}
}

/* ---- JSON ------------------------------------------------------------------ */


void crash_sender_json(const struct et_model *m, const struct et_process *p, const struct et_crash *c,
		       struct strbuf *sb)
{
	const struct et_sent *st = c->sender.sig ? &c->sender : NULL;
	bool kernel = c->cause == ET_SIG_CAUSE_OOM || !st || (st->flags & (ET_SIGGEN_F_PRIV | ET_SIGGEN_F_KTHREAD)) ||
		      st->code == SI_KERNEL || (st->code > 0 && has_fault_address(st->sig));
	if (!st && !kernel) {
		sb_puts(sb, "null");
		return;
	}
	if (st && c->cause != ET_SIG_CAUSE_OOM) {
		sb_printf(sb, "{\"pid\":%d,\"tid\":%d,\"comm\":", st->pid, st->tid);
		sb_json_str(sb, st->comm);
		sb_printf(sb, ",\"itself\":%s,\"syscall\":", st->pid == p->pid ? "true" : "false");
		sb_json_str(sb, st->nr >= 0 ? syscall_name(st->nr) : NULL);
		/* the kernel raised it inside the sender's syscall (SIGPIPE) */
		bool raised = (st->flags & ET_SIGGEN_F_NOINFO) && st->nr >= 0 && st->sig == SIGPIPE;
		sb_printf(sb, ",\"by_kernel\":%s", kernel || raised ? "true" : "false");
		if (st->pid == m->etrace_pid && m->forwarded_sig == st->sig) {
			sb_printf(sb, ",\"forwarded_from\":{\"pid\":%d,\"comm\":", m->forwarded_from);
			sb_json_str(sb, m->forwarded_comm);
			sb_putc(sb, '}');
		}
	} else {
		sb_puts(sb, "{\"pid\":null,\"tid\":null,\"comm\":null,\"itself\":false,\"syscall\":null,\"by_kernel\":true");
	}
	sb_printf(sb, ",\"oom_killer\":%s,\"text\":", c->cause == ET_SIG_CAUSE_OOM ? "true" : "false");
	struct strbuf txt = STRBUF_INIT;
	crash_sender_text(m, p, c, &txt);
	sb_json_str(sb, sb_str(&txt));
	sb_free(&txt);
	sb_putc(sb, '}');
}

static void crash_render_json(const struct et_model *m, struct strbuf *sb)
{
	static const char *regnames[ET_NREGS] = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11",
						  "r10", "r9",  "r8",  "rax", "rcx", "rdx", "rsi",
						  "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss" };
	sb_puts(sb, "[");
	bool first = true;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		const struct et_crash *c = p->crash;
		if (!process_crashed(p))
			continue;
		if (!first)
			sb_putc(sb, ',');
		first = false;
		const char *sname = decode_signal_name(c->sig);
		sb_printf(sb, "{\"pid\":%d,\"tid\":%d,\"thread_name\":", p->pid, c->tid);
		sb_json_str(sb, c->comm);
		sb_printf(sb, ",\"t_ms\":%.3f,\"signal\":%d,\"signal_name\":", model_rel_ms(m, c->ts), c->sig);
		sb_json_str(sb, sname ? sname : "?");
		sb_printf(sb, ",\"group_exit\":%s,\"si_code\":%d,\"si_code_name\":", c->group_exit ? "true" : "false",
			  c->code);
		sb_json_str(sb, si_code_name(c->sig, c->code));
		sb_puts(sb, ",\"si_code_text\":");
		sb_json_str(sb, si_code_text(c->sig, c->code));
		if (has_fault_address(c->sig) && c->code > 0 && c->code != SI_KERNEL)
			sb_printf(sb, ",\"fault_address\":\"0x%lx\"", (unsigned long)c->addr);
		else
			sb_puts(sb, ",\"fault_address\":null");
		if (c->operand_known) {
			sb_printf(sb, ",\"computed_address\":\"0x%lx\",\"faulting_instruction\":", (unsigned long)c->operand_addr);
			sb_json_str(sb, c->operand_insn);
		} else {
			sb_puts(sb, ",\"computed_address\":null,\"faulting_instruction\":null");
		}
		heap_crash_fill_json(m, c, sb);
		sb_puts(sb, ",\"sender\":");
		crash_sender_json(m, p, c, sb);
		char *msg = crash_abort_message(m, p, c);
		sb_puts(sb, ",\"abort_message\":");
		sb_json_str(sb, msg);
		free(msg);
		sb_puts(sb, ",\"registers\":{");
		for (int r = 0; r < ET_NREGS; r++)
			sb_printf(sb, "%s\"%s\":\"0x%lx\"", r ? "," : "", regnames[r], (unsigned long)c->regs[r]);
		sb_printf(sb, "},\"stack_addr\":\"0x%lx\",\"stack_bytes\":%u,\"backtrace\":[", (unsigned long)c->stack_addr, c->stack_len);
		for (size_t f = 0; c->analyzed && f < c->bt.nframes; f++) {
			if (f)
				sb_putc(sb, ',');
			sym_frame_json(&c->bt.frames[f], sb);
		}
		sb_printf(sb, "],\"backtrace_truncated\":%s,\"backtrace_error\":",
			  c->analyzed && c->bt.truncated ? "true" : "false");
		sb_json_str(sb, c->analyzed ? c->bt.error : "not symbolized");
		heap_crash_json(m, p, c, sb);

		sb_puts(sb, ",\"threads\":[");
		bool tf = true;
		for (size_t t = 0; t < p->nthreads; t++) {
			const struct et_thread *th = p->threads[t];
			if (th->tid == c->tid)
				continue;
			if (!tf)
				sb_putc(sb, ',');
			tf = false;
			sb_printf(sb, "{\"tid\":%d,\"comm\":", th->tid);
			sb_json_str(sb, th->comm);
			sb_puts(sb, ",\"state\":");
			struct strbuf state = STRBUF_INIT;
			crash_thread_state(m, th, c, &state);
			sb_json_str(sb, sb_str(&state));
			sb_free(&state);
			sb_putc(sb, '}');
		}
		sb_puts(sb, "],\"rewind\":[");
		struct rewind_item *items;
		size_t n = crash_rewind_for(m, p, c->ts, &items);
		for (size_t k = 0; k < n; k++) {
			struct strbuf txt = STRBUF_INIT;
			if (items[k].rec)
				model_record_call(m, items[k].rec, &txt);
			else
				sb_puts(&txt, items[k].note->text);
			if (k)
				sb_putc(sb, ',');
			sb_printf(sb, "{\"rel_ms\":%.3f,\"tid\":%d,\"crashing_thread\":%s,\"kind\":\"%s\",\"text\":",
				  ((double)items[k].ts - (double)c->ts) / 1e6, items[k].tid,
				  items[k].tid == c->tid ? "true" : "false",
				  items[k].rec ? "syscall" : items[k].note->kind == ET_NOTE_FUNC ? "function" : "event");
			sb_json_str(sb, sb_str(&txt));
			sb_putc(sb, '}');
			sb_free(&txt);
		}
		free(items);
		sb_puts(sb, "]}");
	}
	sb_puts(sb, "]");
}

static void crash_free(struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct et_process *p = m->procs[i];
		while (p->crash) {
			struct et_crash *c = p->crash;
			p->crash = c->next;
			if (c->analyzed)
				sym_backtrace_free(&c->bt);
			free(c->stack);
			free(c);
		}
	}
}

const struct et_analysis crash_analysis = {
	.name = "crash",
	.text_at = ET_AT_PROCESSES + 10,
	.json_at = ET_AT_PROCESSES + 10,
	.render_text = crash_render_text,
	.render_json = crash_render_json,
	.json_key = "crashes",
	.free = crash_free,
};
