/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Records of the hang snapshot (bpf/hang.bpf.c, runner/hang/hangsnap.c,
 * reports/hang/): every thread of the tree as it is at a --timeout or a
 * signal to etrace, its open pipes and sockets, and the futex word a thread
 * waited on when a fatal signal ended it. Included by events.h.
 */
#ifndef ETRACE_HANG_EVENTS_H
#define ETRACE_HANG_EVENTS_H

#define ET_SNAP_STACK_MAX 16384  /* bytes of user stack copied per thread */
#define ET_SNAP_WORDS 4          /* u64s read at the futex address (a glibc mutex: __lock, __count, __owner, ...) */

#define ET_SNAP_F_ON_CPU 1       /* running on a CPU: its registers are from its last kernel entry */
#define ET_SNAP_F_REGS 2         /* regs[] hold its user registers */
#define ET_SNAP_F_WORDS 4        /* words[] were read at words_addr */
#define ET_SNAP_F_REDACTED 8     /* more rights than the invoking user: state only */
#define ET_SNAP_F_SYSCALL 16     /* a traced syscall in flight: an ev_syscall follows the stack */

/* ET_EV_SNAP_THREAD: one thread, from a BPF task iterator. Followed by
 * stack_len bytes of stack (from stack_addr, padded to 8), then sys_len
 * bytes: the in-flight syscall as a struct ev_syscall with its captures
 * (ret 0, h.ts = its entry). */
struct ev_snap_thread {
	struct ev_header h;       /* h.ts: when the snapshot read it */
	et_u32 state;             /* task->__state: 0 running, 1 sleeping, 2 disk sleep, 4 stopped, 8 traced, ... */
	et_u32 flags;             /* ET_SNAP_F_* */
	char comm[ET_COMM_LEN];
	et_u64 utime_ns, stime_ns;/* CPU time in user and kernel mode */
	et_u64 nvcsw, nivcsw;     /* voluntary and involuntary context switches */
	et_u64 run_delay_ns;      /* time spent waiting on a run queue (sched_info) */
	et_u64 last_arrival_ns;   /* when it last got a CPU (sched_info.last_arrival) */
	et_s64 syscall_nr;        /* orig_ax of its user registers; -1: not in a syscall */
	et_u64 regs[ET_NREGS];
	et_u64 words_addr;
	et_u64 words[ET_SNAP_WORDS];
	et_u64 stack_addr;
	et_u32 stack_len;
	et_u32 sys_len;
};

/* ET_EV_SNAP_FILE: an open pipe or socket of a process in the snapshot
 * (a BPF task_file iterator; one record per process and descriptor). */
struct ev_snap_file {
	struct ev_header h;
	et_s32 fd;
	et_u32 i_mode;            /* S_IFIFO, S_IFSOCK, ... */
	et_u32 f_mode;            /* FMODE_READ 1, FMODE_WRITE 2 */
	et_u32 readers, writers;  /* a pipe's: how many opened it for each end */
	et_u64 ino;
	et_u64 sk;                /* a socket's struct sock (its identity in ET_EV_SOCK) */
	et_u16 family, protocol, type, state;
	et_u16 sport, dport;      /* host order */
	et_u32 pad;
	et_u8 saddr[16], daddr[16];
};

/* ET_EV_SNAP: a snapshot was taken (written by etrace itself, so that a
 * recording holds it): why, and when. */
#define ET_SNAP_TIMEOUT 1        /* --timeout expired */
#define ET_SNAP_SIGNAL 2         /* etrace got SIGINT, SIGTERM or SIGQUIT */
struct ev_snap {
	struct ev_header h;       /* pid: the root; tid: 0 */
	et_u32 reason;            /* ET_SNAP_* */
	et_u32 sig;               /* the signal etrace got (ET_SNAP_SIGNAL) */
	et_u32 sender_pid;        /* who sent it */
	et_u32 threads;           /* ET_EV_SNAP_THREAD records that follow */
	et_u64 timeout_ns;        /* the --timeout */
	char error[96];           /* why no snapshot could be taken ("" when it was) */
};

/* ET_EV_WAITWORD: a fatal signal came to a thread blocked in futex():
 * the words at its address then, read at the delivery (the mutex's owner). */
struct ev_waitword {
	struct ev_header h;
	et_u64 addr;
	et_u64 words[ET_SNAP_WORDS];
	et_u32 ok;                /* the words could be read */
	et_u32 pad;
};

/* ---- where time went (bpf/timeacct.h) ---------------------------------- */

/* Why a thread was off a CPU, from the syscall it slept in. */
enum et_off_reason {
	ET_OFF_LOCK = 0,         /* futex: a lock, a condition, a join */
	ET_OFF_IO,               /* read, write, send, recv, fsync, open... */
	ET_OFF_POLL,             /* poll, select, epoll_wait */
	ET_OFF_SLEEP,            /* nanosleep, pause, sigsuspend */
	ET_OFF_CHILD,            /* wait4, waitid */
	ET_OFF_FAULT,            /* no syscall, uninterruptible: a page fault's I/O */
	ET_OFF_OTHER,            /* another syscall, or none */
	ET_OFF_MAX,
};

/* Per thread, in its task storage (struct et_task): no record per switch. */
struct et_sched {
	et_u64 off_ts;            /* when it left a CPU to sleep (0: on a CPU or runnable) */
	et_u64 wake_ts;           /* since when it is runnable: woken, or preempted */
	et_u32 off_reason;        /* enum et_off_reason of the sleep in progress */
	et_u32 pad;
	et_u64 off_ns[ET_OFF_MAX];
	et_u64 runq_ns, runq_max_ns; /* runnable but not running */
	et_u64 vol, invol;        /* switches: it slept; it was preempted */
	et_u64 peak_pages;        /* its memory's peak RSS when it last exited or got a fatal signal */
};

/* ET_EV_TASKSTAT: a thread's totals at its exit (sched_process_exit). */
struct ev_taskstat {
	struct ev_header h;
	et_u32 group_dead;        /* the process's last thread */
	et_u32 sched_on;          /* the sched_switch counters were kept */
	et_u64 runtime_ns;        /* se.sum_exec_runtime: on a CPU */
	et_u64 utime_ns, stime_ns;/* the kernel's split (tick-sampled) */
	et_u64 nvcsw, nivcsw;
	et_u64 rchar, wchar;      /* bytes read and written by syscalls (ioac) */
	et_u64 read_bytes, write_bytes; /* storage I/O */
	et_u64 maxrss_pages;      /* peak RSS (max of hiwater_rss and rss) at its exit or fatal
				   signal, in pages (0: not seen); not signal->maxrss, which
				   counts the pre-exec image (etrace's own fork) */
	et_u64 off_ns[ET_OFF_MAX];
	et_u64 runq_ns, runq_max_ns;
};

/* A contended lock: futex waits on one word (FUTEX_WAIT with glibc's
 * "contended" value 2, or a PI lock), per process, counted at sys_exit. */
struct et_futex_key {
	et_u32 pid;
	et_u32 pad;
	et_u64 addr;
};

struct et_futex_stat {
	et_u64 waits, total_ns, max_ns;
	et_u32 max_tid;
	et_u32 pad;
};

/* ET_EV_FUTEXSTAT: one contended futex word, read from the map at the end. */
struct ev_futexstat {
	struct ev_header h;       /* pid: the process */
	et_u64 addr;
	struct et_futex_stat st;
};

#endif
