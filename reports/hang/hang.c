/* The hang report's model: the snapshot's records, the threads a fatal
 * signal from outside ended, their stacks, and what each waits for. */
#include "symbolize/fileutil.h"
#include "hang.h"
#include "reports/net/netstate.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "reports/process/sysprog.h"
#include "reports/crash/crash.h"
#include "reports/process/sigsender.h"
#include "reports/heap/heap.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/verdict/verdict.h"
#include "reports/core/xalloc.h"
#include "../../symbolize/datasym.h"
#include "reports/net/tcp.h"

struct et_hang *hang_of(struct et_model *m)
{
	if (!m->hang)
		m->hang = xcalloc(1, sizeof(*m->hang));
	return m->hang;
}

static struct hang_thread *add_thread(struct et_hang *H)
{
	if (H->nthreads == H->cap) {
		H->cap = H->cap ? H->cap * 2 : 16;
		H->threads = xrealloc(H->threads, H->cap * sizeof(*H->threads));
	}
	struct hang_thread *t = &H->threads[H->nthreads++];
	memset(t, 0, sizeof(*t));
	t->nr = -1;
	return t;
}

static int on_snap_thread(struct et_model *m, const struct ev_snap_thread *e, size_t size)
{
	if (size < sizeof(*e) || e->stack_len > ET_SNAP_STACK_MAX || e->sys_len > size - sizeof(*e) - e->stack_len ||
	    (size_t)e->stack_len > size - sizeof(*e))
		return -1;
	const uint8_t *stack = (const uint8_t *)(e + 1);
	const struct ev_syscall *sys = e->sys_len >= sizeof(*sys) ? (const void *)(stack + e->stack_len) : NULL;
	if (sys && (sys->cap_len > e->sys_len - sizeof(*sys) || sys->h.pid != e->h.pid || sys->h.tid != e->h.tid))
		sys = NULL;
	struct et_hang *H = hang_of(m);
	struct hang_thread *t = add_thread(H);
	t->pid = (int)e->h.pid;
	t->tid = (int)e->h.tid;
	memcpy(t->comm, e->comm, sizeof(t->comm));
	t->comm[sizeof(t->comm) - 1] = 0;
	t->ts = e->h.ts;
	t->from_snapshot = true;
	t->state = e->state;
	t->flags = e->flags;
	t->nr = e->syscall_nr;
	if (e->flags & ET_SNAP_F_REGS) {
		memcpy(t->regs, e->regs, sizeof(t->regs));
		t->regs_ok = true;
	}
	if (e->stack_len) {
		t->stack = xmalloc(e->stack_len);
		memcpy(t->stack, stack, e->stack_len);
		t->stack_len = e->stack_len;
		t->stack_addr = e->stack_addr;
	}
	t->words_addr = e->words_addr;
	if (e->flags & ET_SNAP_F_WORDS) {
		memcpy(t->words, e->words, sizeof(t->words));
		t->words_ok = true;
	}
	t->utime_ns = e->utime_ns;
	t->stime_ns = e->stime_ns;
	t->nvcsw = e->nvcsw;
	t->nivcsw = e->nivcsw;
	t->run_delay_ns = e->run_delay_ns;
	if (sys) {
		struct et_process *p = model_process(m, t->pid);
		if (p)
			t->own_sys = model_make_record(m, p, sys);
		/* not returned: shown like a call a signal interrupted (an
		 * output buffer as its address, not as the 0 bytes read) */
		if (t->own_sys)
			t->own_sys->ev.ret = -512;
		t->sys = t->own_sys;
	}
	/* the model knows the thread (a comm it had not seen) */
	struct et_thread *mt = model_thread(m, t->tid);
	if (mt && !mt->comm[0])
		memcpy(mt->comm, t->comm, sizeof(mt->comm));
	return 0;
}

static int on_snap_file(struct et_model *m, const struct ev_snap_file *e)
{
	struct et_hang *H = hang_of(m);
	if (H->nfiles == H->cap_files) {
		H->cap_files = H->cap_files ? H->cap_files * 2 : 16;
		H->files = xrealloc(H->files, H->cap_files * sizeof(*H->files));
	}
	H->files[H->nfiles++] = *e;
	return 0;
}

static int on_waitword(struct et_model *m, const struct ev_waitword *e)
{
	struct et_hang *H = hang_of(m);
	if (H->nwords == H->cap_words) {
		H->cap_words = H->cap_words ? H->cap_words * 2 : 8;
		H->words = xrealloc(H->words, H->cap_words * sizeof(*H->words));
	}
	H->words[H->nwords++] = *e;
	return 0;
}

int hang_ingest(struct et_model *m, const void *data, size_t size)
{
	const struct ev_header *h = data;
	switch (h->type) {
	case ET_EV_SNAP_THREAD:
		return on_snap_thread(m, data, size);
	case ET_EV_SNAP_FILE:
		if (size < sizeof(struct ev_snap_file))
			return -1;
		return on_snap_file(m, data);
	case ET_EV_SNAP:
		if (size < sizeof(struct ev_snap))
			return -1;
		if (!hang_of(m)->taken) {   /* the first one is the one that counts */
			m->hang->taken = true;
			m->hang->info = *(const struct ev_snap *)data;
			m->hang->info.error[sizeof(m->hang->info.error) - 1] = 0;
		}
		return 0;
	case ET_EV_WAITWORD:
		if (size < sizeof(struct ev_waitword))
			return -1;
		return on_waitword(m, data);
	case ET_EV_TASKSTAT:
	case ET_EV_FUTEXSTAT:
		return timeacct_ingest(m, data, size);
	}
	return -1;
}

void hang_free(struct et_model *m)
{
	struct et_hang *H = m->hang;
	if (!H)
		return;
	for (size_t i = 0; i < H->nthreads; i++) {
		struct hang_thread *t = &H->threads[i];
		free(t->stack);
		if (t->own_sys) {
			for (int k = 0; k < 6; k++)
				fd_desc_unref(t->own_sys->fds[k]);
			free(t->own_sys);
		}
		sym_backtrace_free(&t->bt);
		free(t->object);
		free(t->object_short);
		free(t->detail);
	}
	free(H->threads);
	free(H->times);
	free(H->futexes);
	free(H->files);
	free(H->words);
	free(H);
	m->hang = NULL;
}

const struct hang_thread *hang_thread_of(const struct et_model *m, int tid)
{
	if (!m->hang)
		return NULL;
	for (size_t i = 0; i < m->hang->nthreads; i++)
		if (m->hang->threads[i].tid == tid)
			return &m->hang->threads[i];
	return NULL;
}

/* ---- threads a fatal signal from outside ended ---------------------------- */

/* Killed by a signal nobody of the tree sent (a test runner's timeout, the
 * user): where its threads were is the hang report's question too. */
static bool killed_from_outside(const struct et_model *m, const struct et_process *p)
{
	int sig = process_death_signal(p);
	if (!sig || signal_is_crash(sig) || !p->crash)
		return false;
	const struct et_sent *st = process_signal_source(p, sig, 0);
	if (!st || (st->flags & 0x3 /* ET_SIGGEN_F_PRIV | KTHREAD: the kernel's */))
		return false;
	if (st->pid == m->etrace_pid)
		return true;   /* forwarded from outside */
	return !model_process((struct et_model *)m, st->pid);
}

/* The syscall the thread was in when the signal was sent (sent: its
 * time; 0: unknown): the one the signal interrupted (ERESTART*), or one
 * that returned after it was sent (a pthread_join's futex returns 0 when
 * the thread it joins is killed first). */
static const struct et_record *interrupted_call(const struct et_thread *t, uint64_t before, uint64_t sent)
{
	if (!t->ring_count)
		return NULL;
	const struct et_record *r = thread_record(t, t->ring_count - 1);
	long ret = (long)r->ev.ret;
	if (r->ev.enter_ts > before || (r->ev.flags & ET_SC_F_NORETURN))
		return NULL;
	if (ret <= -512 && ret >= -516)
		return r;
	if (sent && r->ev.enter_ts <= sent && r->ev.h.ts >= sent)
		return r;
	return NULL;
}

static void add_delivered(struct et_model *m, struct et_process *p)
{
	struct et_hang *H = hang_of(m);
	for (const struct et_crash *c = p->crash; c; c = c->next) {
		const struct hang_thread *known = hang_thread_of(m, c->tid);
		if (known && (known->regs_ok || (known->flags & ET_SNAP_F_REDACTED)))
			continue;
		/* the snapshot came too late for it (the same signal was
		 * killing it): the state at the delivery stands instead */
		struct hang_thread *t = known ? (struct hang_thread *)known : add_thread(H);
		if (known) {
			free(t->stack);
			if (t->own_sys) {
				for (int k = 0; k < 6; k++)
					fd_desc_unref(t->own_sys->fds[k]);
				free(t->own_sys);
			}
			memset(t, 0, sizeof(*t));
			t->nr = -1;
		}
		t->pid = p->pid;
		t->tid = c->tid;
		memcpy(t->comm, c->comm, sizeof(t->comm));
		t->ts = c->ts;
		t->crash = c;
		t->state = 1;
		const struct et_thread *mt = model_thread(m, c->tid);
		const struct et_sent *st = process_signal_source(p, process_death_signal(p), 0);
		t->sys = mt ? interrupted_call(mt, c->ts, st ? st->ts : 0) : NULL;
		t->nr = t->sys ? (int64_t)t->sys->ev.nr : -1;
		if (!t->sys)
			t->state = 0;
		memcpy(t->regs, c->regs, sizeof(t->regs));
		t->regs_ok = true;
		for (size_t k = H->nwords; k-- > 0;)
			if ((int)H->words[k].h.tid == c->tid && H->words[k].ok) {
				t->words_addr = H->words[k].addr;
				memcpy(t->words, H->words[k].words, sizeof(t->words));
				t->words_ok = true;
				break;
			}
	}
}

/* ---- naming what a thread waits for --------------------------------------- */

static bool is_call(const struct hang_thread *t, const char *name)
{
	return t->nr >= 0 && strcmp(syscall_name((int)t->nr), name) == 0;
}

static uint64_t arg_of(const struct hang_thread *t, int i)
{
	if (t->sys)
		return t->sys->ev.args[i];
	static const int reg[6] = { 14, 13, 12, 7, 9, 8 }; /* rdi rsi rdx r10 r8 r9 */
	return t->regs_ok ? t->regs[reg[i]] : 0;
}

static bool thread_of_process(const struct et_model *m, int pid, int tid)
{
	const struct hang_thread *h = hang_thread_of(m, tid);
	if (h)
		return h->pid == pid;
	struct et_thread *t = model_thread((struct et_model *)m, tid);
	return t && t->pid == pid && !t->exited;
}

struct sym_session *hang_session(const struct et_process *p)
{
	struct sym_module *mods = calloc(p->nmodules ? p->nmodules : 1, sizeof(*mods));
	if (!mods)
		return NULL;
	for (size_t i = 0; i < p->nmodules; i++) {
		mods[i].path = p->modules[i].path;
		mods[i].bias = p->modules[i].bias;
	}
	struct sym_session *s = sym_open(mods, p->nmodules);
	free(mods);
	return s;
}

/* " at fn (file:line)" of the first frame of the program's own code. */
static void alloc_site(struct et_model *m, const struct et_process *p, struct sym_session *s, uint32_t stack,
		       struct strbuf *sb)
{
	size_t n = 0;
	const uint64_t *pcs = heap_stack(m, stack, &n);
	struct sym_frame fr[8];
	for (size_t i = 0; i < n; i++) {
		size_t k = sym_address(s, pcs[i], i > 0, fr, 8);
		bool own = false;
		for (size_t j = 0; j < p->nmodules && k; j++) {
			const char *path = p->modules[j].path;
			if (fr[k - 1].module && path && strcmp(path_base(path), fr[k - 1].module) == 0 &&
			    !sysprog_file(path))
				own = true;
		}
		if (own || i + 1 == n) {
			const struct sym_frame *f = &fr[k ? k - 1 : 0];
			sb_printf(sb, " allocated at %s", f->function ? f->function : "??");
			if (f->file)
				sb_printf(sb, " (%s:%d)", path_base(f->file), f->line);
			sym_frames_free(fr, k);
			return;
		}
		sym_frames_free(fr, k);
	}
}

/* The futex word as the variable it is, else the heap block it is in:
 * t->object (in full) and t->object_short (the name alone). */
static void name_object(struct et_model *m, const struct et_process *p, struct sym_session *s, uint64_t addr,
			struct hang_thread *t)
{
	struct strbuf sb = STRBUF_INIT;
	struct sym_data d;
	if (sym_data_at(s, addr, &d) == 0 && d.name) {
		sb_puts(&sb, d.name);
		if (d.offset)
			sb_printf(&sb, "+%lu", (unsigned long)d.offset);
		t->object_short = xstrdup(sb_str(&sb));
		sb_printf(&sb, " (%s+0x%lx)", d.module ? d.module : "?", (unsigned long)d.module_offset);
		sym_data_free(&d);
		t->object = sb_detach(&sb);
		return;
	}
	sym_data_free(&d);
	struct heap_crash_info hi;
	if (m->heap && heap_crash_context(m, p, addr, t->ts, &hi) == 1 && hi.inside && !hi.freed) {
		sb_printf(&sb, "heap block 0x%lx", (unsigned long)hi.block_address);
		if (hi.offset)
			sb_printf(&sb, "+%ld", (long)hi.offset);
		t->object_short = xstrdup(sb_str(&sb));
		sb_printf(&sb, " (%lu bytes)", (unsigned long)hi.block_size);
		alloc_site(m, p, s, hi.alloc_stack, &sb);
		t->object = sb_detach(&sb);
		return;
	}
	sb_free(&sb);
}

static const struct ev_snap_file *file_of(const struct et_hang *H, int pid, int fd)
{
	for (size_t i = 0; H && i < H->nfiles; i++)
		if ((int)H->files[i].h.pid == pid && H->files[i].fd == fd)
			return &H->files[i];
	return NULL;
}

static const char *argv0(const struct et_model *m, int pid)
{
	const struct et_process *p = model_process((struct et_model *)m, pid);
	return p && p->argv && p->argv[0] ? p->argv[0] : "?";
}

/* "pipe:[1234]: its write end is held by pid 12 (writer) fd 4" */
static void pipe_text(const struct et_model *m, const struct hang_thread *t, const struct ev_snap_file *f, bool reading,
		      struct strbuf *sb)
{
	const struct et_hang *H = m->hang;
	unsigned want = reading ? 2 /* FMODE_WRITE */ : 1 /* FMODE_READ */;
	sb_printf(sb, "pipe:[%lu]: its %s end is held by ", (unsigned long)f->ino, reading ? "write" : "read");
	unsigned seen = 0;
	for (size_t i = 0; i < H->nfiles; i++) {
		const struct ev_snap_file *o = &H->files[i];
		if (o->ino != f->ino || !(o->f_mode & want) || (o->i_mode & 0170000) != 0010000)
			continue;
		if (seen++)
			sb_puts(sb, ", ");
		if ((int)o->h.pid == t->pid)
			sb_printf(sb, "this process itself (fd %d)", o->fd);
		else
			sb_printf(sb, "pid %u (", o->h.pid), sb_escape(sb, argv0(m, (int)o->h.pid)),
				sb_printf(sb, ") fd %d", o->fd);
	}
	unsigned total = reading ? f->writers : f->readers;
	if (!seen)
		sb_puts(sb, total ? "" : "nobody");
	if (total > seen)
		sb_printf(sb, "%s%u descriptor%s outside the traced tree", seen ? " and " : "", total - seen,
			  total - seen == 1 ? "" : "s");
}

static void socket_text(const struct et_model *m, const struct ev_snap_file *f, struct strbuf *sb)
{
	const char *proto = f->protocol == 6 ? "TCP" : f->protocol == 17 ? "UDP" : f->family == 1 ? "unix" : "socket";
	sb_printf(sb, "%s socket", proto);
	if (f->family == 2) {
		const uint8_t *a = f->saddr, *b = f->daddr;
		sb_printf(sb, " %u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], f->sport);
		if (f->dport)
			sb_printf(sb, " -> %u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], f->dport);
	} else if (f->family == 10) {
		sb_printf(sb, " port %u", f->sport);
		if (f->dport)
			sb_printf(sb, " -> port %u", f->dport);
	}
	if (f->protocol == 6) {
		sb_printf(sb, ", %s", tcp_state_name(f->state));
		for (size_t i = m->net->nconns; i-- > 0;) {
			const struct et_conn *c = &m->net->conns[i];
			if (c->sk != f->sk)
				continue;
			uint64_t since = c->nstates ? c->states[c->nstates - 1].ts : c->first_ts;
			if (m->hang && m->hang->info.h.ts > since)
				sb_printf(sb, " for %.3f s", (double)(m->hang->info.h.ts - since) / 1e9);
			if (c->retrans)
				sb_printf(sb, " after %lu retransmit%s", (unsigned long)c->retrans, c->retrans == 1 ? "" : "s");
			break;
		}
	}
}

static bool fd_call(const struct hang_thread *t, bool *reading)
{
	static const char *const rd[] = { "read", "readv", "pread64", "recvfrom", "recvmsg", "accept", "accept4", "connect" };
	static const char *const wr[] = { "write", "writev", "pwrite64", "sendto", "sendmsg" };
	for (size_t i = 0; i < sizeof(rd) / sizeof(rd[0]); i++)
		if (is_call(t, rd[i]))
			return *reading = true;
	for (size_t i = 0; i < sizeof(wr) / sizeof(wr[0]); i++)
		if (is_call(t, wr[i])) {
			*reading = false;
			return true;
		}
	return false;
}

static void children_text(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb)
{
	long want = (long)(int)arg_of(t, 0);
	if (is_call(t, "waitid"))
		want = arg_of(t, 0) == 1 /* P_PID */ ? (long)(int)arg_of(t, 1) : -1;
	size_t n = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *c = m->procs[i];
		/* its children then (they may have ended since: the SIGTERM after a --timeout) */
		bool alive = c->start_ts <= t->ts && (!c->exited || !c->end_ts || c->end_ts > t->ts);
		if (c->ppid != t->pid || !alive || (want > 0 && c->pid != want))
			continue;
		sb_printf(sb, "%schild %d (", n++ ? ", " : "", c->pid);
		sb_escape(sb, c->argv && c->argv[0] ? c->argv[0] : "?");
		sb_putc(sb, ')');
		const struct hang_thread *ct = hang_thread_of(m, c->pid);
		if (ct && ct->nr >= 0)
			sb_printf(sb, " in %s()", syscall_name((int)ct->nr));
		else if (ct)
			sb_puts(sb, " running");
	}
	if (!n)
		sb_puts(sb, want > 0 ? "a child that is not running" : "no child running");
}

static void classify(struct et_model *m, struct hang_thread *t, struct sym_session *s, const struct et_process *p)
{
	t->wait = t->nr >= 0 ? HANG_WAIT_SYSCALL : HANG_WAIT_NONE;
	if (t->nr < 0)
		return;
	const char *name = syscall_name((int)t->nr);
	if (strcmp(name, "futex") == 0) {
		uint64_t addr = arg_of(t, 0);
		int cmd = (int)(arg_of(t, 1) & 0x7f);
		uint32_t val = (uint32_t)arg_of(t, 2);
		t->wait = HANG_WAIT_FUTEX;
		name_object(m, p, s, addr, t);
		if (!t->words_ok || t->words_addr != addr)
			return;
		uint32_t lock = (uint32_t)t->words[0];
		uint32_t owner = (uint32_t)t->words[1];   /* glibc's __owner, at offset 8 */
		bool waiting = cmd == 0 /* FUTEX_WAIT */ || cmd == 9 /* FUTEX_WAIT_BITSET */;
		/* at a delivery the joined thread may be gone already (its tid word cleared) */
		bool joined = val == lock || (lock == 0 && !t->from_snapshot);
		if (waiting && joined && (int)val > 0 && val != (uint32_t)t->tid && thread_of_process(m, t->pid, (int)val)) {
			/* pthread_join: glibc waits on the thread's tid word until the kernel clears it */
			t->wait = HANG_WAIT_JOIN;
			t->owner_tid = (int)val;
		} else if ((cmd == 6 || cmd == 13) /* FUTEX_LOCK_PI(2) */ && thread_of_process(m, t->pid, (int)(lock & 0x3fffffff))) {
			t->wait = HANG_WAIT_MUTEX;
			t->owner_tid = (int)(lock & 0x3fffffff);
		} else if (waiting && (lock == 1 || lock == 2) && owner && thread_of_process(m, t->pid, (int)owner)) {
			t->wait = HANG_WAIT_MUTEX;
			t->owner_tid = (int)owner;
		}
		return;
	}
	if (strcmp(name, "wait4") == 0 || strcmp(name, "waitid") == 0) {
		t->wait = HANG_WAIT_CHILD;
		struct strbuf sb = STRBUF_INIT;
		children_text(m, t, &sb);
		t->detail = sb_detach(&sb);
		return;
	}
	if (strcmp(name, "nanosleep") == 0 || strcmp(name, "clock_nanosleep") == 0 || strcmp(name, "pause") == 0) {
		t->wait = HANG_WAIT_SLEEP;
		return;
	}
	if (strstr(name, "poll") || strstr(name, "select") || strncmp(name, "epoll_wait", 10) == 0) {
		t->wait = HANG_WAIT_POLL;
		return;
	}
	bool reading = false;
	if (fd_call(t, &reading)) {
		const struct ev_snap_file *f = file_of(m->hang, t->pid, (int)arg_of(t, 0));
		if (!f)
			return;
		struct strbuf sb = STRBUF_INIT;
		if ((f->i_mode & 0170000) == 0010000) {
			t->wait = HANG_WAIT_PIPE;
			pipe_text(m, t, f, reading, &sb);
		} else {
			t->wait = HANG_WAIT_SOCKET;
			socket_text(m, f, &sb);
		}
		t->detail = sb_detach(&sb);
	}
}

static void unwind_one(const struct et_process *p, struct sym_session *s, struct hang_thread *t)
{
	if (t->crash) {
		/* crash_analyze unwound the delivery capture */
		return;
	}
	if (!t->regs_ok || !s)
		return;
	const uint64_t *r = t->regs;
	struct sym_regs regs = {
		.r15 = r[0], .r14 = r[1], .r13 = r[2], .r12 = r[3], .rbp = r[4], .rbx = r[5],
		.r11 = r[6], .r10 = r[7], .r9 = r[8], .r8 = r[9], .rax = r[10], .rcx = r[11],
		.rdx = r[12], .rsi = r[13], .rdi = r[14], .rip = r[16], .rsp = r[19], .eflags = r[18],
	};
	(void)p;
	sym_unwind(s, &regs, t->stack, t->stack_len, t->stack_addr, 256, &t->bt);
	t->analyzed = true;
}

static int by_tid(const void *a, const void *b)
{
	const struct hang_thread *x = a, *y = b;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void hang_analyze(struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (killed_from_outside(m, m->procs[i]))
			add_delivered(m, m->procs[i]);
	struct et_hang *H = m->hang;
	if (!H || H->built)
		return;
	H->built = true;
	if (H->nthreads)   /* none captured: threads is NULL, which qsort may not be given */
		qsort(H->threads, H->nthreads, sizeof(*H->threads), by_tid);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		struct sym_session *s = NULL;
		for (size_t k = 0; k < H->nthreads; k++) {
			struct hang_thread *t = &H->threads[k];
			if (t->pid != p->pid)
				continue;
			if (!s)
				s = hang_session(p);
			unwind_one(p, s, t);
			classify(m, t, s, p);
		}
		sym_close(s);
	}
}
