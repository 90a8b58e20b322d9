/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Event records shared by the BPF programs (bpf/etrace.bpf.c) and user space.
 *
 * Every record starts with struct ev_header. Records are variable-sized:
 * header.size is the number of bytes that follow in the ring buffer entry.
 * A syscall record carries "captures": user memory the BPF side copied
 * (path strings, data written, socket addresses, argv), laid out one after
 * the other, each starting with struct ev_capture and padded to 8 bytes.
 */
#ifndef ETRACE_EVENTS_H
#define ETRACE_EVENTS_H

#ifdef __bpf__
typedef __u8 et_u8;
typedef __u16 et_u16;
typedef __u32 et_u32;
typedef __u64 et_u64;
typedef __s64 et_s64;
typedef __s32 et_s32;
#else
#include <stdint.h>
typedef uint8_t et_u8;
typedef uint16_t et_u16;
typedef uint32_t et_u32;
typedef uint64_t et_u64;
typedef int64_t et_s64;
typedef int32_t et_s32;
#endif

#define ET_MAX_SYSCALLS 512   /* syscall numbers below this are traced */
#define ET_COMM_LEN 16

/* Capture area of one syscall record: a power of two plus room for the
 * largest single copy, so that masked offsets keep the verifier happy. */
#define ET_CAP_AREA 2048
#define ET_CAP_MAX_ONE 512
#define ET_STR_MAX 256        /* one path or string argument */
#define ET_ARGV_MAX 16        /* execve argv entries captured */
#define ET_ARGV_STR_MAX 128   /* bytes per argv entry */
#define ET_SOCKADDR_MAX 128
#define ET_DATA_DEFAULT 64    /* default prefix of buffers captured */
#define ET_STDERR_MAX 480     /* prefix of data written to fd 1 or 2 (abort messages, last words) */
#define ET_DNS_MAX 1232       /* data of a datagram to or from port 53 (EDNS's usual size) */
#define ET_MSG_MAX 8          /* messages of a sendmmsg/recvmmsg captured */
#define ET_IOV_MAX 8          /* iovecs of a message followed */

enum et_event_type {
	ET_EV_SYSCALL = 1,
	ET_EV_FORK = 2,
	ET_EV_EXEC = 3,
	ET_EV_EXIT = 4,
	ET_EV_SIGNAL = 5,      /* a signal delivered to a traced thread */
	ET_EV_SIGGEN = 6,      /* a signal sent to a traced thread (by anyone) */
	ET_EV_CRASH = 7,       /* user registers and stack at a fatal signal */
	ET_EV_FUNC = 8,        /* entry to or return from a --trace-func function */
	ET_EV_SOCK = 9,        /* a TCP socket of the tree: state change, reset, retransmit, drop */
	ET_EV_HEAP = 10,       /* an allocation or a free by the allocator API */
	ET_EV_HEAP_HOLD = 11,  /* a process stopped at _exit for the leak scan */
	ET_EV_HEAP_ATTACH = 12,/* a new process of the tree needs its own heap probes */
	ET_EV_SKB = 13,        /* --skb: a packet of the tree passed a hook (tracepoint or kernel function) */
	ET_EV_ROUTE = 14,      /* a route lookup made by a traced task (fib tracepoints) */
	ET_EV_SNAP_THREAD = 15,/* hang snapshot: a thread's state, registers, stack (hang_events.h) */
	ET_EV_SNAP_FILE = 16,  /* hang snapshot: an open pipe or socket */
	ET_EV_SNAP = 17,       /* hang snapshot taken: why (written by etrace) */
	ET_EV_WAITWORD = 18,   /* the futex word of a thread a fatal signal ended */
	ET_EV_TASKSTAT = 19,   /* a thread's CPU, off-CPU, switches, I/O at its exit */
	ET_EV_FUTEXSTAT = 20,  /* a contended futex word's waits (collected at the end) */
	ET_EV_TYPE_MAX = 21,
};

/* What the BPF side copies for one syscall argument. */
enum et_capture_kind {
	ET_CAP_NONE = 0,
	ET_CAP_STR = 1,          /* NUL-terminated string, read at entry */
	ET_CAP_BUF_IN = 2,       /* buffer of length args[lenarg], read at entry */
	ET_CAP_BUF_OUT = 3,      /* buffer filled by the kernel: length = return value, read at exit */
	ET_CAP_SOCKADDR_IN = 4,  /* sockaddr of length args[lenarg], read at entry */
	ET_CAP_SOCKADDR_OUT = 5, /* sockaddr, length in *(int *)args[lenarg], read at exit */
	ET_CAP_ARGV = 6,         /* NULL-terminated array of strings, read at entry */
	ET_CAP_FDPAIR_OUT = 7,   /* int[2] filled by the kernel (pipe, socketpair), read at exit */
	ET_CAP_IOV_IN = 8,       /* writev to fd 2: the data of iovec number seq (abort messages) */
	ET_CAP_SOCK_IN = 9,      /* data a call that may send on a socket passes (sendto, write),
				    length args[lenarg]: read at exit, when the socket is known
				    (DNS gets more), also when the call failed; recorded as
				    ET_CAP_BUF_IN */
	ET_CAP_MSG = 10,         /* struct msghdr (sendmsg, recvmsg), read at exit: struct et_msg,
				    the address, then the data (the iovecs one after the other) */
	ET_CAP_MMSG = 11,        /* struct mmsghdr[] (sendmmsg, recvmmsg): recorded as one
				    ET_CAP_MSG per message, seq = its index */
	ET_CAP_SOCK_ENDS = 12,   /* recorded with arg 6: the UDP socket the call went through
				    (struct et_sock_ends) */
	ET_CAP_TAIL = 13,        /* write to fd 1 or 2 longer than its capture: the last bytes
				    written (up to ET_STDERR_MAX), ending at args[1] + ret */
	ET_CAP_KIND_MAX = 14,
};

/* et_syscall_spec.sock: a socket send or receive whose data captures are
 * sized at exit (DNS: ET_DNS_MAX); the value is 1 + the index of its peer
 * address argument (sendto, recvfrom), or ET_SOCK_NOADDR. */
#define ET_SOCK_NOADDR 7

/* Capture plan for one syscall number, written by user space into the
 * spec map from the decoder table (reports/syscalls/syscall_table.c). */
struct et_syscall_spec {
	et_u8 kind[6];    /* enum et_capture_kind per argument */
	et_u8 lenarg[6];  /* index of the argument holding the length, if any */
	et_u8 noreturn;   /* emit at entry: exit, exit_group */
	et_u8 at_enter;   /* some argument is captured at entry */
	et_u8 at_exit;    /* some argument is captured at exit */
	et_u8 sock;       /* socket I/O: see ET_SOCK_NOADDR */
};

struct ev_header {
	et_u32 type;      /* enum et_event_type */
	et_u32 size;      /* bytes in this record, header included */
	et_u64 ts;        /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns) */
	et_u32 pid;       /* thread group id */
	et_u32 tid;
};

/* One captured argument, followed by len bytes of data, padded to 8. */
struct ev_capture {
	et_u8 arg;        /* argument index; for ARGV the entry index is in seq */
	et_u8 kind;       /* enum et_capture_kind */
	et_u8 truncated;  /* the user data was longer than what was copied */
	et_u8 seq;        /* ARGV, IOV_IN: index of this entry */
	et_u16 len;       /* bytes of data that follow */
	et_u16 pad;
};

#define ET_SC_F_NORETURN 1  /* recorded at entry, the syscall never returned */
#define ET_SC_F_FAULT 2     /* some user memory could not be read */
#define ET_SC_F_UDP 4       /* went through a UDP socket: an ET_CAP_SOCK_ENDS capture says which */
#define ET_SC_F_DNS 8       /* port 53 at one end: data captured up to ET_DNS_MAX */
#define ET_SC_F_NONBLOCK 16 /* connect: the socket was non-blocking (O_NONBLOCK) */

struct ev_syscall {
	struct ev_header h;   /* h.ts: time of exit (or entry for NORETURN) */
	et_u64 enter_ts;
	et_u64 args[6];
	et_s64 ret;
	et_u32 nr;
	et_u16 ncap;          /* number of struct ev_capture that follow */
	et_u16 flags;         /* ET_SC_F_* */
	et_u32 cap_len;       /* bytes of capture area used */
	et_u32 pad;
	/* cap_len bytes of captures follow: see ev_syscall_caps() */
};

/* First byte of the captures that follow a syscall record. */
#define ev_syscall_caps(ev) ((const et_u8 *)(ev) + sizeof(struct ev_syscall))

/* ET_CAP_MSG data: this header, namelen bytes of the message's address
 * (msg_name), then the start of its data. */
struct et_msg {
	et_u32 len;           /* bytes the kernel moved: the return value, or msg_len */
	et_u16 namelen;       /* bytes of address that follow */
	et_u16 flags;         /* msg_flags as the kernel left them (MSG_TRUNC...), low 16 bits */
};

/* ET_CAP_SOCK_ENDS data: a UDP socket's ends as the kernel had them while
 * the call sent or received (sock_send_length, sock_recv_length), and the
 * datagrams it moved (sendmmsg and recvmmsg move several). */
#define ET_DIR_SENT 1
#define ET_DIR_RECV 2

struct et_sock_ends {
	et_u64 sk;            /* kernel address of the socket: an identity, nothing more */
	et_u16 family;        /* AF_INET, AF_INET6 */
	et_u16 lport, rport;  /* host order; rport 0: not connected */
	et_u8 dir;            /* ET_DIR_SENT or ET_DIR_RECV */
	et_u8 pad;
	et_u32 datagrams;
	et_u32 bytes;
	et_u8 laddr[16];      /* 4 bytes for AF_INET */
	et_u8 raddr[16];
};

struct ev_fork {
	struct ev_header h;   /* pid/tid: the parent */
	et_u32 child_pid;
	et_u32 child_tid;
	et_u32 is_thread;
	char comm[ET_COMM_LEN];
	/* a process sharing the parent's memory (vfork, clone(CLONE_VM)) until
	 * it execs or exits: its allocator calls change the parent's heap */
	et_u32 shares_vm;
};

struct ev_exec {
	struct ev_header h;
	et_u32 old_tid;       /* a non-leader thread that exec'd becomes the leader */
	et_u32 redacted;      /* a privileged image (setuid, setgid, file capabilities): nothing of it recorded */
	et_u64 at_phdr;       /* auxv: where the executable's program headers are mapped */
	et_u64 at_entry;      /* auxv: the executable's entry point (gives its load bias) */
	et_u64 at_base;       /* auxv: the dynamic loader's load address, 0 for static */
	et_u64 at_vdso;       /* auxv: AT_SYSINFO_EHDR */
	char comm[ET_COMM_LEN];
	char filename[ET_STR_MAX];
};

struct ev_exit {
	struct ev_header h;
	et_u32 exit_code;     /* wait status layout: (code << 8) | signal | 0x80 core */
	et_u32 group_dead;    /* last thread of the process */
	char comm[ET_COMM_LEN];
};

#define ET_SIG_HANDLER_DFL 0
#define ET_SIG_HANDLER_IGN 1

struct ev_signal {
	struct ev_header h;   /* the receiving thread */
	et_u32 sig;
	et_s32 code;          /* si_code */
	et_s32 err;           /* si_errno */
	et_u32 sender_pid;    /* si_pid for SI_USER, SI_TKILL, SI_QUEUE */
	et_u64 addr;          /* si_addr for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	et_u64 handler;       /* ET_SIG_HANDLER_DFL, _IGN, or the handler's address */
	et_u32 fatal;         /* default action that ends the process (a crash record follows) */
	et_u32 cause;         /* ET_SIG_CAUSE_*: why a SIGKILL without siginfo came */
	et_s32 group_code;    /* signal->group_exit_code for the group causes (wait status layout) */
	et_u32 pad;
};

/* A thread's SIGKILL without siginfo is how the kernel ends every other
 * thread of a process (get_signal sees the group marked for death): the
 * cause is read from the thread's signal_struct at delivery. */
#define ET_SIG_CAUSE_SENT 0         /* an ordinary delivery: the siginfo says who */
#define ET_SIG_CAUSE_GROUP_EXIT 1   /* another thread called exit_group (or returned from main) */
#define ET_SIG_CAUSE_EXEC 2         /* another thread called execve (de_thread) */
#define ET_SIG_CAUSE_GROUP_SIGNAL 3 /* the group dies of a fatal signal: group_code & 0x7f */
#define ET_SIG_CAUSE_OOM 4          /* the OOM killer chose the process (signal->oom_mm) */

struct ev_siggen {
	struct ev_header h;   /* the sender (current task, maybe not traced) */
	et_u32 target_pid;
	et_u32 target_tid;
	et_u32 sig;
	et_s32 code;
	et_s32 result;        /* TRACE_SIGNAL_DELIVERED, _IGNORED, _ALREADY_PENDING, ... */
	et_u32 group;
	char sender_comm[ET_COMM_LEN];
	et_s32 sender_nr;     /* the syscall the sender was in (orig_ax), -1: none */
	et_u32 sender_flags;  /* ET_SIGGEN_F_* */
};

#define ET_SIGGEN_F_KTHREAD 1 /* sent from a kernel thread */
#define ET_SIGGEN_F_PRIV 2    /* SEND_SIG_PRIV: the kernel's own (timers, OOM, rlimits) */
#define ET_SIGGEN_F_NOINFO 4  /* SEND_SIG_NOINFO: send_sig() inside a syscall (SIGPIPE) or kill() */

#define ET_STACK_MAX 32768
#define ET_STACK_CHUNK 1024
#define ET_URET_MAX 64        /* uretprobes nest at most 64 deep per thread (kernel limit) */
#define ET_NREGS 21           /* struct pt_regs, x86_64 order: r15 r14 r13 r12 bp bx r11 r10
				 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss */

struct ev_crash {
	struct ev_header h;
	et_u32 sig;
	et_s32 code;
	et_u64 addr;
	et_u64 regs[ET_NREGS];
	et_u64 stack_addr;    /* user address of stack[0] (the stack pointer) */
	et_u32 stack_len;     /* bytes of stack copied */
	et_u32 nuret;         /* uretprobe return addresses in uret[] */
	/* --trace-func: a uretprobe replaced the return address of each probed
	 * call in progress with uret_trampoline; uret[i] = { the stack slot,
	 * the original return address }, innermost first, to unwind through */
	et_u64 uret_trampoline;
	et_u64 uret[ET_URET_MAX][2];
	et_u8 stack[ET_STACK_MAX];
};

/* --trace-func: a uprobe at a function's first instruction, a uretprobe at
 * its return. The attach cookie is the function's index in the table user
 * space built (the model's traced functions). */
#define ET_FUNC_ENTRY 1
#define ET_FUNC_RETURN 2
#define ET_FUNC_NARGS 4       /* integer argument registers recorded at entry */

struct ev_func {
	struct ev_header h;
	et_u32 func;          /* index in the traced function table (attach cookie) */
	et_u32 kind;          /* ET_FUNC_ENTRY or ET_FUNC_RETURN */
	et_u64 args[ET_FUNC_NARGS]; /* entry: rdi rsi rdx rcx (x0..x3); return: 0 */
	et_u64 ret;           /* return: rax (x0); entry: 0 */
};

/* TCP sockets the tree owns. The BPF side keeps sk pointer -> owner for
 * the sockets a traced task connected or listened on, and for the ones
 * accepted on such a listener; h.pid/h.tid are that owner, not the task
 * that was running (softirq, or the peer's context on loopback). */
enum et_sock_kind {
	ET_SK_STATE = 1,      /* oldstate -> newstate (TCP_* numbering) */
	ET_SK_RST_SENT = 2,
	ET_SK_RST_RECV = 3,
	ET_SK_RETRANS = 4,
	ET_SK_DROP = 5,       /* a packet of the socket freed as a drop: reason (enum skb_drop_reason) */
};

struct ev_sock {
	struct ev_header h;   /* pid/tid: the socket's owner */
	et_u64 sk;            /* kernel address of the socket: an identity, nothing more */
	et_u32 kind;          /* enum et_sock_kind */
	et_u32 reason;        /* DROP: enum skb_drop_reason */
	et_s32 oldstate, newstate;
	et_u16 family;        /* AF_INET, AF_INET6 */
	et_u16 sport;         /* local port, host order */
	et_u16 dport;         /* remote port, host order */
	et_u16 pad;
	et_u8 saddr[16];      /* local address: 4 bytes for AF_INET */
	et_u8 daddr[16];      /* remote address */
	et_u64 bytes_sent;    /* payload the owner's sends and receives moved so far, */
	et_u64 bytes_recv;    /* counted in the kernel (sock_send/recv_length) */
};

/* ---- heap: the allocator API ------------------------------------------------
 * Uprobes at each allocator function (malloc, free, operator new, ...) of
 * the files that define them (libc, libstdc++, an LD_PRELOADed allocator, a
 * static executable). The probe sits at the first instruction of the function
 * the kernel emulates (no single-step) with the arguments still in their
 * registers; sp_delta bytes were pushed before it, so the return address is
 * at sp + sp_delta. Functions that return a pointer also get a uretprobe at
 * +0 (the probe offset must then be where nothing was pushed). The attach
 * cookie is ET_HEAP_COOKIE(op, sp_delta). */
enum et_heap_op {
	ET_HEAP_MALLOC = 1,
	ET_HEAP_CALLOC,        /* size = nmemb * size */
	ET_HEAP_REALLOC,       /* old_ptr -> ptr; size 0 with a pointer frees it */
	ET_HEAP_REALLOCARRAY,
	ET_HEAP_MEMALIGN,      /* memalign (recordings before #11 item 4: aligned_alloc, valloc,
				  pvalloc too): align in align */
	ET_HEAP_POSIX_MEMALIGN,/* pointer written through the first argument */
	ET_HEAP_NEW,           /* operator new and its nothrow/aligned variants */
	ET_HEAP_NEW_ARRAY,     /* operator new[] */
	ET_HEAP_FREE,
	ET_HEAP_DELETE,        /* operator delete, all variants */
	ET_HEAP_DELETE_ARRAY,  /* operator delete[] */
	ET_HEAP_EXIT,          /* _exit: hold the process for the leak scan */
	ET_HEAP_OVERFLOW,      /* the preload found a block's redzone changed (ptr: the block;
				  size: the first changed byte's offset past its end; align:
				  the detecting op << 32 | the count of changed bytes); after
				  the free's record, before the realloc's */
	ET_HEAP_UAF_WRITE,     /* a block left the preload's quarantine with its fill changed
				  (ptr: the block, freed before; size: the first changed
				  byte's offset; align: the count of changed bytes) */
	ET_HEAP_ALIGNED_ALLOC, /* as ET_HEAP_MEMALIGN, each function named as the program called it */
	ET_HEAP_VALLOC,
	ET_HEAP_PVALLOC,
	ET_HEAP_OP_MAX,
};

/* Where a function's arguments are (the cookie says it for each probe). */
enum et_heap_args {
	ET_HARGS_SIZE = 0,     /* size in arg 0: malloc, valloc, pvalloc, new */
	ET_HARGS_CALLOC,       /* nmemb, size */
	ET_HARGS_REALLOC,      /* ptr, size */
	ET_HARGS_REALLOCARRAY, /* ptr, nmemb, size */
	ET_HARGS_ALIGN_SIZE,   /* alignment, size: memalign, aligned_alloc */
	ET_HARGS_SIZE_ALIGN,   /* size, alignment: aligned operator new */
	ET_HARGS_POSIX,        /* void **memptr, alignment, size */
	ET_HARGS_PTR,          /* the pointer in arg 0: free, delete, _exit's status */
};

#define ET_HEAP_COOKIE(op, args, spd) (((et_u64)(args) << 16) | ((et_u64)(op) << 8) | (et_u64)(spd))
#define ET_HEAP_COOKIE_OP(c) ((et_u32)((c) >> 8) & 0xff)
#define ET_HEAP_COOKIE_ARGS(c) ((et_u32)((c) >> 16) & 0xff)
#define ET_HEAP_COOKIE_SPD(c) ((et_u32)(c) & 0xff)

#define ET_HEAP_FRAMES 16     /* return addresses kept per allocation or free */

struct ev_heap {
	struct ev_header h;
	et_u32 op;            /* enum et_heap_op */
	et_u32 nframes;       /* entries of frames[] used */
	et_u64 ptr;           /* the block returned, or freed */
	et_u64 old_ptr;       /* REALLOC(ARRAY): the block passed in */
	et_u64 size;          /* bytes asked for */
	et_u64 align;         /* MEMALIGN, POSIX_MEMALIGN, aligned new */
	et_u64 sp;            /* stack pointer at the call (for a free of a stack address) */
	et_u64 enter_ts;      /* entry time (ts is the return's) */
	/* frames[0] is the exact return address into the caller (read at the
	 * stack pointer at entry); frames[1..] come from the frame-pointer
	 * chain, which can be wrong where the caller has no frame pointer:
	 * user space checks each (in an executable mapping, after a call) */
	et_u64 frames[ET_HEAP_FRAMES];
	/* ET_EV_HEAP records of size sizeof(struct ev_heap_win) carry a copy
	 * of the caller's stack when the frame-pointer chain ended at once
	 * (a caller built without frame pointers): user space unwinds it with
	 * the callers' CFI. window_addr is the user address of window[0] (the
	 * caller's stack pointer after the call returns). */
	et_u64 window_addr;
	et_u64 rbp;           /* the caller's frame pointer register then */
	et_u32 window_len;
	et_u32 pad;
};

#define ET_HEAP_WINDOW 512

struct ev_heap_win {
	struct ev_heap e;
	et_u8 window[ET_HEAP_WINDOW];
};

/* Why a process was not stopped (held) where heap tracing wanted it. */
enum et_hold_why {
	ET_HOLD_DONE = 0,        /* it was stopped */
	ET_HOLD_WOULD_SHOW = 1,  /* a tracer (ptrace) or its parent (a SIGCHLD handler
				  * without SA_NOCLDSTOP: a job-control shell) would see it */
	ET_HOLD_FAILED = 2,      /* the kernel could not signal it */
	ET_HOLD_ENDING = 3,      /* etrace is ending: nobody would resume it */
	ET_HOLD_NO_KERNEL = 4,   /* no bpf_send_signal_task (Linux < 6.13) */
};

/* A process stopped (SIGSTOP) at _exit so user space can scan its memory
 * for pointers to live blocks; user space sends SIGCONT when done. With
 * skipped set (an et_hold_why) it was not stopped and is not scanned. */
struct ev_heap_hold {
	struct ev_header h;
	et_u64 fsbase;        /* thread pointer of the exiting thread (its TLS) */
	et_u64 regs[ET_NREGS];/* registers at _exit: roots too */
	et_u32 status;        /* the argument of _exit */
	et_u32 skipped;       /* 0: stopped; else why not (enum et_hold_why) */
};

/* Why a process of the tree is recorded by probes, or by the preload library. */
enum et_heap_why {
	ET_HEAP_WHY_EXEC = 0,     /* uprobe backend: an exec'd process */
	ET_HEAP_WHY_FORK = 1,     /* uprobe backend: a forked child */
	ET_HEAP_WHY_PRELOAD = 2,  /* dynamically linked: the preload library should be in it (no stop) */
	ET_HEAP_WHY_STATIC = 3,   /* no dynamic loader: nothing to preload into (probes) */
	ET_HEAP_WHY_SECURE = 4,   /* setuid/setgid/capabilities: the loader ignores LD_PRELOAD (probes) */
};

/* Heap probes are attached per process (a uprobe_multi link with a pid
 * filter: other processes that map the same libc get no breakpoint). A
 * forked child (from the fork tracepoint) and a process that exec'd are
 * stopped (SIGSTOP) until user space has attached its links and sends
 * SIGCONT, unless the stop would show (why says so): then it runs on, not
 * recorded until its links exist. */
struct ev_heap_attach {
	struct ev_header h;   /* pid: the process */
	et_u32 held;          /* stopped: user space must send SIGCONT */
	et_u32 why;           /* enum et_hold_why */
	et_u32 reason;        /* enum et_heap_why: why this process has probes, or none */
	et_u32 pad;
};

/* A process of the tree needs a concern's programs that are not loaded
 * yet (the network's, at its first inet socket: runner/net/netload.c), held
 * until they are attached when held is set. Read by the tracer alone: never
 * in the model, a recording or the --events stream. */
#define ET_EV_CONCERN 0x7e01
enum et_concern_need {
	ET_NEED_NET = 1,
};
struct ev_concern {
	struct ev_header h;   /* pid: the process */
	et_u32 need;          /* enum et_concern_need */
	et_u32 held;          /* stopped: user space must send SIGCONT */
	et_u32 why;           /* enum et_hold_why */
	et_u32 pad;
};

/* --skb: where a packet of the tree was seen. The tracepoint backend's
 * hooks have fixed ids; the function backends (kprobe-multi, fentry,
 * kprobe) report ET_SKB_FUNC with the kernel function's address. */
enum et_skb_hook {
	ET_SKB_DEV_QUEUE = 1,     /* net:net_dev_queue (handed to a device's queue) */
	ET_SKB_START_XMIT = 2,    /* net:net_dev_start_xmit (to the driver) */
	ET_SKB_XMIT = 3,          /* net:net_dev_xmit (driver returned; rc in reason) */
	ET_SKB_NETIF_RX = 4,      /* net:netif_rx (a device received it: lo, veth) */
	ET_SKB_GRO = 5,           /* net:napi_gro_receive_entry (a NIC received it) */
	ET_SKB_RECEIVE = 6,       /* net:netif_receive_skb (into the protocol stack) */
	ET_SKB_SEND_RESET = 7,    /* tcp:tcp_send_reset (this packet was answered with a RST) */
	ET_SKB_COPY_USER = 8,     /* skb:skb_copy_datagram_iovec (data copied to the program) */
	ET_SKB_KFREE = 9,         /* skb:kfree_skb (dropped; reason = enum skb_drop_reason) */
	ET_SKB_CONSUME = 10,      /* skb:consume_skb (freed after use) */
	ET_SKB_HOOK_MAX = 11,
	ET_SKB_FUNC = 100,        /* a kernel function: func is its address */
};

#define ET_SKB_STACK 16       /* kernel return addresses kept with --skb-stack */

struct ev_skb {
	struct ev_header h;   /* pid, tid: the owner of the packet's socket (a process of the tree) */
	et_u64 skb;           /* the sk_buff's address (reused after it is freed) */
	et_u64 sk;            /* the tree's socket it belongs to (0: matched by its UDP port) */
	et_u64 func;          /* ET_SKB_FUNC: the function; KFREE, CONSUME: the caller that freed it */
	et_u32 hook;          /* enum et_skb_hook */
	et_u32 reason;        /* KFREE: drop reason; XMIT: driver's return code */
	et_u32 ifindex;
	et_u32 netns;         /* inode number of the device's network namespace */
	et_u32 len;           /* skb->len at this hook */
	et_u32 cur_pid;       /* the task running when the hook fired (0: idle/softirq of none) */
	et_u8 saddr[16], daddr[16];
	et_u16 sport, dport;  /* host order */
	et_u8 ipver;          /* 4, 6; 0 when no IP header could be read */
	et_u8 proto;          /* IP protocol */
	et_u8 tcp_flags;      /* FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32 */
	et_u8 nstack;         /* kernel return addresses that follow the record */
	et_u32 first;         /* 1: the first hook this packet was seen at */
	et_u32 pad;
	char ifname[16];
	/* et_u64 stack[nstack] */
};

/* A route lookup (fib_table_lookup, fib6_table_lookup) made for a traced
 * task's own traffic (output lookups: connect, sendto). */
struct ev_route {
	struct ev_header h;
	et_u32 table;
	et_s32 err;           /* 0, or -ENETUNREACH, -EHOSTUNREACH, -EINVAL... */
	et_u32 oif;           /* output interface asked for (SO_BINDTODEVICE), 0 any */
	et_u32 netns;
	et_u8 saddr[16], daddr[16], gw[16];
	et_u16 sport, dport;
	et_u8 ipver, proto;
	et_u8 gw_family;      /* 0 no gateway (on-link), 4 or 6 */
	et_u8 pad;
	char dev[16];         /* the device of the chosen next hop */
};

/* Per-syscall totals kept in the kernel (exact even when records are lost). */
struct et_syscall_stat {
	et_u64 calls;
	et_u64 errors;
	et_u64 total_ns;
	et_u64 max_ns;
};

/* Counters in the per-CPU "counters" array. */
enum et_counter {
	ET_CNT_LOST_SYSCALL = 0,
	ET_CNT_LOST_FORK,
	ET_CNT_LOST_EXEC,
	ET_CNT_LOST_EXIT,
	ET_CNT_LOST_SIGNAL,
	ET_CNT_LOST_SIGGEN,
	ET_CNT_LOST_CRASH,
	ET_CNT_CAPTURE_FAULT,   /* user memory that could not be read */
	ET_CNT_WAKEUPS,         /* ring buffer more than half full: reader woken */
	ET_CNT_LOST_FUNC,       /* --trace-func entry/return records */
	ET_CNT_LOST_SOCK,       /* TCP socket records */
	ET_CNT_LOST_HEAP,       /* allocation and free records */
	ET_CNT_HEAP_NESTED,     /* allocator calls made inside another one (not recorded) */
	ET_CNT_LOST_HOLD,
	ET_CNT_LOST_SKB,        /* --skb records */
	ET_CNT_SKB_FILTERED,    /* packets of the tree the --skb-filter rejected */
	ET_CNT_SKB_TRACKED,     /* packets of the tree followed (first hook seen) */
	ET_CNT_LOST_ROUTE,
	ET_CNT_LOST_FUTEX,      /* contended futex words not counted (their map was full) */
	ET_CNT_MAX,
};

/* Per-thread state in task-local storage: the task is traced when this
 * exists with traced != 0. The in-flight syscall record is built here. */
/* the hang snapshot's and the time accounting's records */
#include "hang_events.h"

struct et_task {
	et_u32 traced;
	et_u32 wait_exec;     /* launcher's child: ignore syscalls until execve */
	et_u32 in_flight;     /* rec holds an entered syscall */
	et_u32 retry;         /* arguments to read again at exit (page not present at entry) */
	/* heap: the allocator call in progress (entry seen, return not yet) */
	et_u32 heap_depth;    /* allocator calls in progress, the outermost recorded */
	et_u32 heap_held;     /* stopped at _exit once already */
	et_u32 heap_op;
	et_u32 ptracer;       /* this thread called ptrace(): a tracer (strace, gdb) */
	et_u32 redacted;      /* its credentials exceed the invoking user's: it ran, its data is not recorded */
	et_u32 pad_r;         /* (the u64s below stay aligned) */
	et_u64 heap_sp;       /* stack pointer at the outermost call's entry */
	et_u64 heap_size, heap_old, heap_align, heap_memptr, heap_ts;
	et_u64 heap_skip_free;/* freed by operator delete: its inner free() is not another free */
	et_u64 heap_frames[ET_HEAP_FRAMES]; /* the walk, before the record's size is known */
	struct ev_syscall rec;
	et_u8 area[ET_CAP_AREA + ET_CAP_MAX_ONE];
	struct et_sched sched;  /* where its time went (bpf/timeacct.h) */
};

/* Settings every BPF object reads (bpf/shared.h), set by user space before
 * each object's load, the same in all (runner/concern.c). */
struct et_shared_cfg {
	et_u64 wakeup_bytes;  /* wake the reader past this much data */
	/* the preload backend (libetrace_heap.so in LD_PRELOAD) records the
	 * dynamically linked processes that are not secure-exec */
	et_u32 heap_preload;
	/* the kernel's BTF id of struct task_struct (bpf/shared.h's
	 * untrusted_task): a constant for the verifier, where a CO-RE
	 * relocation would look it up in the BTF given for CO-RE */
	et_u32 task_btf_id;
};

/* The words of bpf/shared.h's hold_gate map. */
enum et_gate {
	ET_GATE_HOLDS_OFF = 0,   /* no stop may be started any more */
	ET_GATE_NET_READY = 1,   /* the network's programs are attached */
};

#endif
