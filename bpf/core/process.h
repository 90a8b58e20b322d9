// SPDX-License-Identifier: GPL-2.0
/*
 * Processes and threads: fork copies the scope to the child, exec records
 * the new image (argv, auxv, whether it is privileged), exit records how
 * a thread or process ended.
 * A part of the core object (bpf/etrace.bpf.c includes it once, after
 * the parts before it): one object, so one skeleton and one set of maps.
 */
#ifndef ETRACE_CORE_PROCESS_H
#define ETRACE_CORE_PROCESS_H

SEC("tp_btf/sched_process_fork")
int BPF_PROG(et_fork, struct task_struct *parent, struct task_struct *child)
{
	struct et_task *pt = task_traced(parent);
	if (!pt)
		return 0;
	struct et_task *ct = bpf_task_storage_get(&tasks, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct)
		return 0;
	ct->traced = 1;
	ct->wait_exec = 0;
	ct->in_flight = 0;
	ct->redacted = pt->redacted;

	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_fork *e = &s->fork;
	fill_header(&e->h, ET_EV_FORK, sizeof(*e));
	e->h.pid = BPF_CORE_READ(parent, tgid);
	e->h.tid = BPF_CORE_READ(parent, pid);
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->child_tid = BPF_CORE_READ(child, pid);
	e->is_thread = e->child_pid == e->h.pid;
	e->shares_vm = !e->is_thread && BPF_CORE_READ(child, mm) == BPF_CORE_READ(parent, mm);
	BPF_CORE_READ_STR_INTO(&e->comm, child, comm);
	emit(e, sizeof(*e), ET_CNT_LOST_FORK);
	/* a forked child (not a thread, nor a vfork child sharing the
	 * parent's memory) is stopped before it runs, when the kernel can
	 * signal it from here, until its heap probes are attached */
	if (!e->is_thread && !e->shares_vm) {
		__u32 one = 1, ppid = e->h.pid, cpid = e->child_pid;
		if (shared_cfg.heap_preload && bpf_map_lookup_elem(&heap_preload_pids, &ppid))
			/* the library is in the child too: it starts a ring of its own */
			bpf_map_update_elem(&heap_preload_pids, &cpid, &one, BPF_ANY);
		else
			/* a child of a tracer (strace's own child before it attaches) is
			 * watched by it: strace waits for the child's own SIGSTOP */
			heap_attach_request(e->child_pid, e->child_tid, bpf_send_signal_task && !no_signal_task, child,
					    pt->ptracer, ET_HEAP_WHY_FORK);
	}
	return 0;
}

/* argv of the new image: NUL-separated strings between mm->arg_start and
 * arg_end, written by the kernel a moment ago, so always present. */
struct exec_argv_ctx {
	struct et_task *t;
	__u64 p, end;
	__u32 off;
	__u8 arg;
};

static long exec_argv_cb(__u32 i, struct exec_argv_ctx *cx)
{
	if (i >= ET_ARGV_MAX || cx->p >= cx->end)
		return 1;
	__u32 before = cx->off;
	cx->off = put_capture(cx->t, cx->off, cx->arg, ET_CAP_ARGV, i, (void *)cx->p, ET_ARGV_STR_MAX, true);
	if (cx->off == before)
		return 1;
	struct ev_capture *c = (void *)&cx->t->area[before & CAP_MASK];
	if (c->truncated)
		return 1;
	cx->p += c->len + 1;
	return 0;
}

/* The execve record's path and argv were in the old image, whose pages a
 * forked child may not have present (fork does not copy file-backed page
 * tables): take them from the kernel's copy instead. */
static __always_inline void exec_recapture(struct et_task *t, struct linux_binprm *bprm)
{
	if (!t->in_flight || (t->rec.nr != nr_execve && t->rec.nr != nr_execveat))
		return;
	__u8 patharg = t->rec.nr == nr_execve ? 0 : 1;
	t->rec.ncap = 0;
	t->rec.flags &= ~ET_SC_F_FAULT;
	t->retry = 0;
	const char *fn = BPF_CORE_READ(bprm, filename);
	__u32 off = put_capture_from(t, 0, patharg, ET_CAP_STR, 0, fn, ET_STR_MAX, true, true);
	struct mm_struct *mm = BPF_CORE_READ(bpf_get_current_task_btf(), mm);
	struct exec_argv_ctx cx = {
		.t = t,
		.p = BPF_CORE_READ(mm, arg_start),
		.end = BPF_CORE_READ(mm, arg_end),
		.off = off,
		.arg = patharg + 1,
	};
	bpf_loop(ET_ARGV_MAX, exec_argv_cb, &cx, 0);
	t->rec.cap_len = cx.off;
}

/* Where the new image was loaded, from the auxiliary vector the kernel
 * just built: symbolization needs it after the process is gone. */
struct auxv_ctx {
	unsigned long *auxv;
	struct ev_exec *e;
	__u64 secure;
};

static long auxv_cb(__u32 i, struct auxv_ctx *cx)
{
	__u64 pair[2];
	if (i >= 28 || bpf_probe_read_kernel(pair, sizeof(pair), &cx->auxv[i * 2]))
		return 1;
	switch (pair[0]) {
	case 0: /* AT_NULL */
		return 1;
	case 3: /* AT_PHDR */
		cx->e->at_phdr = pair[1];
		break;
	case 7: /* AT_BASE */
		cx->e->at_base = pair[1];
		break;
	case 9: /* AT_ENTRY */
		cx->e->at_entry = pair[1];
		break;
	case 23: /* AT_SECURE: setuid, setgid, file capabilities: the loader ignores LD_PRELOAD */
		cx->secure = pair[1];
		break;
	case 33: /* AT_SYSINFO_EHDR */
		cx->e->at_vdso = pair[1];
		break;
	}
	return 0;
}

/* Returns AT_SECURE. */
static __always_inline __u64 read_auxv(struct ev_exec *e)
{
	struct mm_struct *mm = untrusted_task(bpf_get_current_task_btf())->mm;
	e->at_phdr = e->at_entry = e->at_base = e->at_vdso = 0;
	if (!mm)
		return 0;
	struct auxv_ctx cx = { .auxv = mm->saved_auxv, .e = e };
	bpf_loop(28, auxv_cb, &cx, 0);
	return cx.secure;
}

/* The new image runs with more than the invoking user has: the kernel's
 * secureexec (AT_SECURE: setuid, setgid, file capabilities, an LSM
 * transition), or any id or capability that is not the invoker's. */
static __always_inline bool exec_privileged(struct task_struct *p, struct linux_binprm *bprm)
{
	if (BPF_CORE_READ_BITFIELD(bprm, secureexec))
		return true;
	const struct cred *c = p->cred;
	__u32 u = invoker_uid, g = invoker_gid;
	if (c->uid.val != u || c->euid.val != u || c->suid.val != u || c->fsuid.val != u)
		return true;
	if (c->gid.val != g || c->egid.val != g || c->sgid.val != g || c->fsgid.val != g)
		return true;
	/* kernel_cap_t is a u64 since 6.3, two u32 before: 8 bytes either way */
	__u64 eff = 0, perm = 0;
	bpf_probe_read_kernel(&eff, sizeof(eff), (const char *)c + bpf_core_field_offset(struct cred, cap_effective));
	bpf_probe_read_kernel(&perm, sizeof(perm), (const char *)c + bpf_core_field_offset(struct cred, cap_permitted));
	return eff != 0 || perm != 0;
}

/* Does the new image's environment have an LD_PRELOAD at all? Read from
 * mm->env_start, written by the kernel a moment ago. A program started with
 * `env -i` or an emptied environment has none: the library cannot be in
 * it, so it is held at its exec until its probes are attached, instead of
 * losing its first allocations (a harness that rewrote LD_PRELOAD is
 * still found by user space, from /proc, without a stop). */
#define ENV_CHUNK 4096

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[ENV_CHUNK]);
} env_scratch SEC(".maps");

struct env_scan_ctx {
	__u64 p, end;
	char *buf;
	bool at_start;
	int found;      /* 1: there is one; 0: none; -1: could not tell */
};

static long env_scan_cb(__u32 i, struct env_scan_ctx *cx)
{
	if (cx->p >= cx->end) {
		cx->found = 0;
		return 1;
	}
	long n = bpf_probe_read_user_str(cx->buf, ENV_CHUNK, (void *)cx->p);
	if (n <= 0)
		return 1;
	if (cx->at_start && n > 11 && cx->buf[0] == 'L' && cx->buf[1] == 'D' && cx->buf[2] == '_' && cx->buf[3] == 'P' &&
	    cx->buf[4] == 'R' && cx->buf[5] == 'E' && cx->buf[6] == 'L' && cx->buf[7] == 'O' && cx->buf[8] == 'A' &&
	    cx->buf[9] == 'D' && cx->buf[10] == '=') {
		cx->found = 1;
		return 1;
	}
	/* a string longer than the buffer goes on in the next read */
	if (n == ENV_CHUNK) {
		cx->p += ENV_CHUNK - 1;
		cx->at_start = false;
	} else {
		cx->p += n;
		cx->at_start = true;
	}
	return 0;
}

static __always_inline int env_has_preload(void)
{
	__u32 zero = 0;
	char *buf = bpf_map_lookup_elem(&env_scratch, &zero);
	if (!buf)
		return -1;
	struct mm_struct *mm = BPF_CORE_READ(bpf_get_current_task_btf(), mm);
	struct env_scan_ctx cx = {
		.p = BPF_CORE_READ(mm, env_start),
		.end = BPF_CORE_READ(mm, env_end),
		.buf = buf,
		.at_start = true,
		.found = -1,
	};
	bpf_loop(2048, env_scan_cb, &cx, 0);
	return cx.found;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(et_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct et_task *t = task_traced(p);
	if (!t)
		return 0;
	/* argv is rebuilt from the new image: what the caller passed */
	exec_recapture(t, bprm);
	t->redacted = redact_on && exec_privileged(p, bprm);
	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_exec *e = &s->exec;
	fill_header(&e->h, ET_EV_EXEC, sizeof(*e));
	e->old_tid = old_pid;
	e->redacted = t->redacted;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	const char *fn = BPF_CORE_READ(bprm, filename);
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), fn);
	e->at_phdr = e->at_entry = e->at_base = e->at_vdso = 0;
	__u64 secure = 0;
	if (!t->redacted)
		secure = read_auxv(e);   /* (its layout is the privileged process's) */
	__u32 pid = e->h.pid, tid = e->h.tid, one = 1, reason = ET_HEAP_WHY_EXEC;
	/* an interpreter (AT_BASE) loads LD_PRELOAD unless the exec is secure */
	bool dynamic = e->at_base != 0;
	emit(e, sizeof(*e), ET_CNT_LOST_EXEC);
	if (t->redacted) {
		/* a privileged process: its ring would not be taken either */
		bpf_map_delete_elem(&heap_preload_pids, &pid);
		return 0;
	}
	if (shared_cfg.heap_preload) {
		if (dynamic && !secure) {
			/* no stop: user space checks that the environment still
			 * names the library, and falls back to probes if not;
			 * an environment with no LD_PRELOAD at all is held */
			bpf_map_update_elem(&heap_preload_pids, &pid, &one, BPF_ANY);
			heap_attach_request(pid, tid, env_has_preload() == 0, NULL, false, ET_HEAP_WHY_PRELOAD);
			return 0;
		}
		bpf_map_delete_elem(&heap_preload_pids, &pid);
		reason = secure ? ET_HEAP_WHY_SECURE : ET_HEAP_WHY_STATIC;
	}
	heap_attach_request(pid, tid, true, NULL, false, reason);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(et_exit, struct task_struct *p)
{
	if (p->tgid == etrace_tgid && etrace_tgid && untrusted_task(p)->signal->live.counter == 0) {
		release_all_holds();
		return 0;
	}
	struct et_task *t = task_traced(p);
	if (!t)
		return 0;
	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_exit *e = &s->exit;
	fill_header(&e->h, ET_EV_EXIT, sizeof(*e));
	e->h.pid = BPF_CORE_READ(p, tgid);
	e->h.tid = BPF_CORE_READ(p, pid);
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	int live = BPF_CORE_READ(sig, live.counter);
	e->group_dead = live == 0;
	__u32 code = BPF_CORE_READ(p, exit_code);
	/* a group exit or a fatal signal sets the group's code for all threads */
	if (BPF_CORE_READ(sig, flags) & 0x4 /* SIGNAL_GROUP_EXIT */)
		code = BPF_CORE_READ(sig, group_exit_code);
	e->exit_code = code;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	emit(e, sizeof(*e), ET_CNT_LOST_EXIT);
	timeacct_exit(p, t, live == 0);
	return 0;
}

#endif
