// SPDX-License-Identifier: GPL-2.0
/*
 * Traced functions (--trace-func): loaded only with that option, attached
 * by runner/funcs/funcprobes.c (uprobe_multi links, or a perf link per probe on
 * kernels before 6.6). Its maps are the core object's (bpf/shared.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shared.h"

char LICENSE[] SEC("license") = "GPL";

/* A uprobe at the first instruction of each function the patterns chose and
 * a uretprobe at its return, attached to the executable's file without a pid
 * filter (the tree's children run it too): every process that runs the file
 * hits them, and the task storage check below drops the untraced ones. The
 * attach cookie is the function's index in the model's table. */
static __always_inline int func_event(struct pt_regs *ctx, __u32 kind)
{
	struct et_task *t = traced_task();
	if (!t || t->wait_exec || t->redacted)
		return 0;
	struct ev_func e;
	fill_header(&e.h, ET_EV_FUNC, sizeof(e));
	e.func = (__u32)bpf_get_attach_cookie(ctx);
	e.kind = kind;
	if (kind == ET_FUNC_ENTRY) {
		e.args[0] = PT_REGS_PARM1(ctx);
		e.args[1] = PT_REGS_PARM2(ctx);
		e.args[2] = PT_REGS_PARM3(ctx);
		e.args[3] = PT_REGS_PARM4(ctx);
		e.ret = 0;
	} else {
		e.args[0] = e.args[1] = e.args[2] = e.args[3] = 0;
		e.ret = PT_REGS_RC(ctx);
	}
	emit(&e, sizeof(e), ET_CNT_LOST_FUNC);
	return 0;
}

SEC("uprobe")
int et_func_entry(struct pt_regs *ctx)
{
	return func_event(ctx, ET_FUNC_ENTRY);
}

SEC("uretprobe")
int et_func_return(struct pt_regs *ctx)
{
	return func_event(ctx, ET_FUNC_RETURN);
}
