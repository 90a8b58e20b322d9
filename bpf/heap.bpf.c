// SPDX-License-Identifier: GPL-2.0
/*
 * The heap's uprobe backend: a uprobe at the entry of every allocator
 * function and a uretprobe at the return of those that make a block, per
 * process (runner/heap/heaplinks.c attaches them with the process's pid as filter).
 * A concern of its own: the preload recorder (runner/preload) serves every
 * dynamically linked process, so this object is loaded only when a process
 * needs probes (static, setuid, --heap-backend=uprobe), at that moment,
 * while etrace holds that process (the fork and exec holds of the core
 * object). Its maps are the core object's (bpf/shared.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "shared.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space: stop a process at _exit for the leak scan. */
const volatile __u32 heap_hold = 0;
/* Frame-pointer walk of the user stack at each allocation and free (the
 * exact caller is always recorded): set to 0 for the caller alone. */
const volatile __u32 heap_stack = 1;

/* The exact return address into the caller: at the probe, sp_delta bytes
 * were pushed since the call. */
static __always_inline __u64 heap_caller(struct pt_regs *ctx, __u32 spd)
{
	__u64 ra = 0;
	bpf_probe_read_user(&ra, sizeof(ra), (void *)(PT_REGS_SP(ctx) + spd));
	return ra;
}

/* The callers above frames[0] by the frame-pointer chain, from the rbp the
 * caller had: [rbp] is its caller's rbp, [rbp + 8] its return address.
 * Cheaper than bpf_get_stack (perf's callchain machinery costs ~1 us per
 * call here); stops where the chain does not go up the stack. */
static __always_inline __u32 heap_walk(__u64 bp, __u64 *frames)
{
	__u32 n = 1;
#pragma unroll
	for (int i = 0; i < ET_HEAP_FRAMES - 1; i++) {
		__u64 fr[2];
		if (!bp || (bp & 7) || bpf_probe_read_user(fr, sizeof(fr), (void *)bp))
			break;
		if (fr[1] < 4096)
			break;
		frames[n & (ET_HEAP_FRAMES - 1)] = fr[1];
		n++;
		if (fr[0] <= bp || fr[0] - bp > (8 << 20))
			break;
		bp = fr[0];
	}
	return n;
}

/* Sends a heap record whose fields the caller filled in rec (frames are in
 * t->heap_frames, n of them). When the frame-pointer chain ended at once, a
 * copy of the caller's stack goes with it for user space to unwind. */
static __always_inline void heap_emit(struct et_task *t, const struct ev_heap *rec, __u32 n, __u64 caller_sp,
				      __u64 rbp)
{
	if (n < 3 && heap_stack) {
		struct ev_heap_win *w = bpf_ringbuf_reserve(&events, sizeof(*w), 0);
		if (!w) {
			count(ET_CNT_LOST_HEAP);
			return;
		}
		__builtin_memcpy(&w->e, rec, sizeof(*rec));
		__builtin_memcpy(w->e.frames, t->heap_frames, sizeof(w->e.frames));
		w->e.h.size = sizeof(*w);
		w->e.nframes = n;
		w->e.window_addr = caller_sp;
		w->e.rbp = rbp;
		w->e.window_len = 0;
		if (bpf_probe_read_user(w->window, ET_HEAP_WINDOW, (void *)caller_sp) == 0)
			w->e.window_len = ET_HEAP_WINDOW;
		else if (bpf_probe_read_user(w->window, ET_HEAP_WINDOW / 4, (void *)caller_sp) == 0)
			w->e.window_len = ET_HEAP_WINDOW / 4;
		bpf_ringbuf_submit(w, BPF_RB_NO_WAKEUP);
		return;
	}
	struct ev_heap *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(ET_CNT_LOST_HEAP);
		return;
	}
	__builtin_memcpy(e, rec, sizeof(*rec));
	__builtin_memcpy(e->frames, t->heap_frames, sizeof(e->frames));
	e->nframes = n;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* Entry of every allocator function (one program for all: the cookie says
 * which operation, where its arguments are, and how much the prologue
 * pushed before the probe). Allocations are recorded at their return (the
 * uretprobe below); frees and _exit here. An allocator call made inside
 * another (realloc(NULL, n) calling malloc, free inside realloc, malloc
 * inside operator new) is not a second event: the outermost call is the
 * one the program made. */
SEC("uprobe")
int et_heap_enter(struct pt_regs *ctx)
{
	struct et_task *t = traced_task();
	if (!t || t->wait_exec || t->redacted)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (shared_cfg.heap_preload && bpf_map_lookup_elem(&heap_preload_pids, &tgid))
		return 0; /* the library records this process: probes left from an earlier image */
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 op = ET_HEAP_COOKIE_OP(cookie), args = ET_HEAP_COOKIE_ARGS(cookie);
	__u32 spd = ET_HEAP_COOKIE_SPD(cookie);
	__u64 sp = PT_REGS_SP(ctx) + spd;
	__u64 a0 = PT_REGS_PARM1(ctx), a1 = PT_REGS_PARM2(ctx), a2 = PT_REGS_PARM3(ctx);

	if (t->heap_depth) {
		bool dealloc = op == ET_HEAP_FREE || op == ET_HEAP_DELETE || op == ET_HEAP_DELETE_ARRAY ||
			       op == ET_HEAP_EXIT;
		/* inside the call in progress: deeper on the stack, or at the
		 * same depth for an allocation (a tail call: operator new[]
		 * jumps to operator new) */
		if (sp < t->heap_sp || (sp == t->heap_sp && !dealloc)) {
			if (!dealloc)
				t->heap_depth++;
			count(ET_CNT_HEAP_NESTED);
			return 0;
		}
		/* the outer call never returned through its uretprobe (longjmp,
		 * an exception): start over */
		t->heap_depth = 0;
	}

	if (op == ET_HEAP_EXIT) {
		if (!heap_hold || t->heap_held)
			return 0;
		struct ev_heap_hold *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(ET_CNT_LOST_HOLD);
			return 0;   /* nobody would resume it: do not stop */
		}
		fill_header(&e->h, ET_EV_HEAP_HOLD, sizeof(*e));
		struct task_struct *task = bpf_get_current_task_btf();
		e->fsbase = BPF_CORE_READ(task, thread.fsbase);
		bpf_probe_read_kernel(e->regs, sizeof(e->regs), ctx);
		e->status = (__u32)a0;
		t->heap_held = 1;
		/* the whole group stops before the syscall; the stop goes before
		 * the record, so user space's SIGCONT always comes after it */
		e->skipped = hold_process(NULL, e->h.pid, false);
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		return 0;
	}

	if (op == ET_HEAP_FREE || op == ET_HEAP_DELETE || op == ET_HEAP_DELETE_ARRAY) {
		if (!a0)
			return 0;
		if (t->heap_skip_free == a0) {
			/* operator delete's own call down to free() */
			if (op == ET_HEAP_FREE)
				t->heap_skip_free = 0;
			return 0;
		}
		if (op != ET_HEAP_FREE)
			t->heap_skip_free = a0;
		struct ev_heap rec;
		fill_header(&rec.h, ET_EV_HEAP, sizeof(rec));
		rec.op = op;
		rec.nframes = 0;
		rec.ptr = a0;
		rec.old_ptr = 0;
		rec.size = 0;
		rec.align = 0;
		rec.sp = sp;
		rec.enter_ts = rec.h.ts;
		rec.window_addr = 0;
		rec.rbp = 0;
		rec.window_len = 0;
		rec.pad = 0;
		t->heap_frames[0] = heap_caller(ctx, spd);
		__u32 n = heap_stack ? heap_walk(PT_REGS_FP(ctx), t->heap_frames) : 1;
		heap_emit(t, &rec, n, sp + 8, PT_REGS_FP(ctx));
		return 0;
	}

	/* an allocation: arguments now, the result at the return */
	t->heap_depth = 1;
	t->heap_sp = sp;
	t->heap_op = op;
	t->heap_ts = bpf_ktime_get_ns();
	t->heap_old = 0;
	t->heap_align = 0;
	t->heap_memptr = 0;
	switch (args) {
	case ET_HARGS_CALLOC:
		t->heap_size = a0 * a1;
		break;
	case ET_HARGS_REALLOC:
		t->heap_old = a0;
		t->heap_size = a1;
		break;
	case ET_HARGS_REALLOCARRAY:
		t->heap_old = a0;
		t->heap_size = a1 * a2;
		break;
	case ET_HARGS_ALIGN_SIZE:
		t->heap_align = a0;
		t->heap_size = a1;
		break;
	case ET_HARGS_SIZE_ALIGN:
		t->heap_size = a0;
		t->heap_align = a1;
		break;
	case ET_HARGS_POSIX:
		t->heap_memptr = a0;
		t->heap_align = a1;
		t->heap_size = a2;
		break;
	default:
		t->heap_size = a0;
	}
	return 0;
}

/* Return of an allocation function: the block it made. At a uretprobe the
 * registers are the caller's, the instruction pointer its return address,
 * so the user stack walk starts at the exact caller. */
SEC("uretprobe")
int et_heap_return(struct pt_regs *ctx)
{
	struct et_task *t = traced_task();
	if (!t || !t->heap_depth)
		return 0;
	if (t->heap_depth > 1) {
		t->heap_depth--;
		return 0;
	}
	t->heap_depth = 0;
	__u64 ptr = PT_REGS_RC(ctx);
	if (t->heap_op == ET_HEAP_POSIX_MEMALIGN) {
		__u64 p = 0;
		if ((int)ptr == 0 && t->heap_memptr)
			bpf_probe_read_user(&p, sizeof(p), (void *)t->heap_memptr);
		ptr = p;
	}
	/* a new block at an address operator delete just freed */
	if (ptr && ptr == t->heap_skip_free)
		t->heap_skip_free = 0;
	struct ev_heap rec;
	fill_header(&rec.h, ET_EV_HEAP, sizeof(rec));
	rec.op = t->heap_op;
	rec.nframes = 0;
	rec.ptr = ptr;
	rec.old_ptr = t->heap_old;
	rec.size = t->heap_size;
	rec.align = t->heap_align;
	rec.sp = t->heap_sp;
	rec.enter_ts = t->heap_ts;
	rec.window_addr = 0;
	rec.rbp = 0;
	rec.window_len = 0;
	rec.pad = 0;
	/* at a uretprobe the instruction pointer is already the return
	 * address, the stack pointer the caller's after the call */
	t->heap_frames[0] = PT_REGS_IP(ctx);
	__u32 n = heap_stack ? heap_walk(PT_REGS_FP(ctx), t->heap_frames) : 1;
	heap_emit(t, &rec, n, PT_REGS_SP(ctx), PT_REGS_FP(ctx));
	return 0;
}
