// SPDX-License-Identifier: GPL-2.0
/*
 * The hang snapshot: every thread of the traced tree as it is now, read by
 * BPF iterators without stopping or ptracing anything (the program may be
 * under a debugger, or use ptrace itself).
 *
 * A separate object, loaded only when a snapshot is taken (a --timeout, a
 * signal to etrace): it costs a run nothing until then. Its `tasks` map is
 * etrace.bpf.c's (the fd is reused before load), so it sees the same tree.
 *
 * et_snap_task (a sleepable task iterator, so it may fault user pages in):
 * per traced thread its state, CPU time and switches, user registers
 * (bpf_task_pt_regs), a copy of the top of its user stack
 * (bpf_copy_from_user_task, bounded by the stack's mapping), the words at
 * the futex address it waits on, and the syscall record in flight from its
 * task storage (arguments and entry captures, decoded like any other).
 * et_snap_file: the pipes and sockets the tree's processes hold, so that a
 * reader is shown the processes at the other end.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 nr_futex = 202;

/* etrace.bpf.c's map (bpf_map__reuse_fd): the same definition */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct et_task);
} tasks SEC(".maps");

struct snap_buf {
	struct ev_snap_thread rec;
	__u8 stack[ET_SNAP_STACK_MAX];
	struct ev_syscall sys;
	__u8 area[ET_CAP_AREA + ET_CAP_MAX_ONE];
	struct ev_snap_file file;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snap_buf);
} snap_bufs SEC(".maps");

struct stack_end {
	__u64 sp, end;
};

static long stack_end_cb(struct task_struct *task, struct vm_area_struct *vma, struct stack_end *cx)
{
	cx->end = vma->vm_end;
	return 0;
}

/* task->__state since 5.14, task->state before */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return (__u32)BPF_CORE_READ((struct task_struct___old *)task, state);
}

SEC("iter.s/task")
int et_snap_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	if (!task)
		return 0;
	struct et_task *t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!t || !t->traced)
		return 0;
	__u32 zero = 0;
	struct snap_buf *b = bpf_map_lookup_elem(&snap_bufs, &zero);
	if (!b)
		return 0;
	struct ev_snap_thread *e = &b->rec;
	e->h.type = ET_EV_SNAP_THREAD;
	e->h.ts = bpf_ktime_get_ns();
	e->h.pid = BPF_CORE_READ(task, tgid);
	e->h.tid = BPF_CORE_READ(task, pid);
	e->state = task_state(task);
	e->flags = 0;
	if (BPF_CORE_READ(task, on_cpu))
		e->flags |= ET_SNAP_F_ON_CPU;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	e->utime_ns = BPF_CORE_READ(task, utime);
	e->stime_ns = BPF_CORE_READ(task, stime);
	e->nvcsw = BPF_CORE_READ(task, nvcsw);
	e->nivcsw = BPF_CORE_READ(task, nivcsw);
	e->run_delay_ns = BPF_CORE_READ(task, sched_info.run_delay);
	e->last_arrival_ns = BPF_CORE_READ(task, sched_info.last_arrival);
	e->syscall_nr = -1;
	e->words_addr = 0;
	e->stack_addr = 0;
	e->stack_len = 0;
	e->sys_len = 0;
	__builtin_memset(e->words, 0, sizeof(e->words));
	__builtin_memset(e->regs, 0, sizeof(e->regs));

	/* a kernel thread has no user state; a privileged process shows none */
	bool user = !(BPF_CORE_READ(task, flags) & 0x00200000 /* PF_KTHREAD */) && BPF_CORE_READ(task, mm);
	if (t->redacted) {
		e->flags |= ET_SNAP_F_REDACTED;
		user = false;
	}
	struct pt_regs *regs = user ? (struct pt_regs *)bpf_task_pt_regs(task) : 0;
	if (regs && bpf_probe_read_kernel(e->regs, sizeof(e->regs), regs) == 0) {
		e->flags |= ET_SNAP_F_REGS;
		e->syscall_nr = (__s64)e->regs[15]; /* orig_ax */
		__u64 sp = e->regs[19];
		struct stack_end cx = { .sp = sp, .end = 0 };
		__u64 len = ET_SNAP_STACK_MAX;
		if (bpf_find_vma(task, sp, stack_end_cb, &cx, 0) == 0 && cx.end > sp && cx.end - sp < len)
			len = cx.end - sp;
		len &= ~7ULL;
		if (len > ET_SNAP_STACK_MAX)
			len = ET_SNAP_STACK_MAX;
		if (len && bpf_copy_from_user_task(b->stack, len, (void *)sp, task, 0) == 0) {
			e->stack_addr = sp;
			e->stack_len = len;
		}
		if (e->syscall_nr == nr_futex) {
			__u64 addr = e->regs[14]; /* rdi: the futex word */
			e->words_addr = addr;
			if (bpf_copy_from_user_task(e->words, sizeof(e->words), (void *)addr, task, 0) == 0 ||
			    bpf_copy_from_user_task(e->words, 8, (void *)addr, task, 0) == 0)
				e->flags |= ET_SNAP_F_WORDS;
		}
	}
	/* the record sys_enter is filling: arguments and entry captures */
	if (t->in_flight && !t->redacted && !t->wait_exec) {
		if (bpf_probe_read_kernel(&b->sys, sizeof(b->sys), &t->rec) == 0) {
			__u32 cap = b->sys.cap_len;
			if (cap > ET_CAP_AREA)
				cap = 0;
			b->sys.cap_len = cap;
			if (cap && bpf_probe_read_kernel(b->area, cap, t->area))
				cap = b->sys.cap_len = 0, b->sys.ncap = 0;
			b->sys.h.type = ET_EV_SYSCALL;
			b->sys.h.size = sizeof(b->sys) + cap;
			b->sys.h.ts = b->sys.enter_ts;
			b->sys.ret = 0;
			e->sys_len = sizeof(b->sys) + cap;
			e->flags |= ET_SNAP_F_SYSCALL;
		}
	}
	e->h.size = sizeof(*e) + e->stack_len + e->sys_len;
	bpf_seq_write(seq, e, sizeof(*e));
	__u32 sl = e->stack_len;
	if (sl > ET_SNAP_STACK_MAX)
		sl = ET_SNAP_STACK_MAX;
	if (sl)
		bpf_seq_write(seq, b->stack, sl);
	__u32 yl = e->sys_len;
	if (yl > sizeof(b->sys) + ET_CAP_AREA)
		yl = sizeof(b->sys) + ET_CAP_AREA;
	if (yl)
		bpf_seq_write(seq, &b->sys, yl);
	return 0;
}

/* S_IFMT bits */
#define ET_S_IFMT 0170000
#define ET_S_IFIFO 0010000
#define ET_S_IFSOCK 0140000

SEC("iter/task_file")
int et_snap_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	if (!task || !file)
		return 0;
	struct et_task *t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!t || !t->traced || t->redacted)
		return 0;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u32 mode = BPF_CORE_READ(inode, i_mode);
	__u32 fmt = mode & ET_S_IFMT;
	if (fmt != ET_S_IFIFO && fmt != ET_S_IFSOCK)
		return 0;
	__u32 zero = 0;
	struct snap_buf *b = bpf_map_lookup_elem(&snap_bufs, &zero);
	if (!b)
		return 0;
	struct ev_snap_file *e = &b->file;
	__builtin_memset(e, 0, sizeof(*e));
	e->h.type = ET_EV_SNAP_FILE;
	e->h.size = sizeof(*e);
	e->h.ts = bpf_ktime_get_ns();
	e->h.pid = BPF_CORE_READ(task, tgid);
	e->h.tid = BPF_CORE_READ(task, pid);
	e->fd = ctx->fd;
	e->i_mode = mode;
	e->f_mode = BPF_CORE_READ(file, f_mode);
	e->ino = BPF_CORE_READ(inode, i_ino);
	if (fmt == ET_S_IFIFO) {
		struct pipe_inode_info *pipe = BPF_CORE_READ(file, private_data);
		if (pipe) {
			e->readers = BPF_CORE_READ(pipe, readers);
			e->writers = BPF_CORE_READ(pipe, writers);
		}
	} else {
		struct socket *sock = BPF_CORE_READ(file, private_data);
		struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : 0;
		e->type = sock ? BPF_CORE_READ(sock, type) : 0;
		if (sk) {
			e->sk = (__u64)sk;
			e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
			e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
			e->protocol = BPF_CORE_READ(sk, sk_protocol);
			e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
			e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
			if (e->family == 2 /* AF_INET */) {
				BPF_CORE_READ_INTO(e->saddr, sk, __sk_common.skc_rcv_saddr);
				BPF_CORE_READ_INTO(e->daddr, sk, __sk_common.skc_daddr);
			} else if (e->family == 10 /* AF_INET6 */) {
				BPF_CORE_READ_INTO(e->saddr, sk, __sk_common.skc_v6_rcv_saddr);
				BPF_CORE_READ_INTO(e->daddr, sk, __sk_common.skc_v6_daddr);
			}
		}
	}
	bpf_seq_write(seq, e, sizeof(*e));
	return 0;
}
