/* Fitting etrace's BPF object to the running kernel: which of its
 * programs the kernel can load (a tracepoint it lacks leaves that program
 * out, never the whole object), how many arguments the tracepoints whose
 * signature changed have here, and what each missing piece costs the user.
 * `etrace run` applies it before loading; the report and `etrace doctor`
 * list the gaps. */
#ifndef ETRACE_KERNELFIT_H
#define ETRACE_KERNELFIT_H

#include <stdbool.h>
#include <stddef.h>

#include "reports/core/model.h"

struct bpf_object;
struct btf;

/* Arguments of the tracepoints whose signature grew over the versions
 * (0: the tracepoint is not there). */
struct kernel_tp_args {
	int kfree_skb;    /* 3 up to 6.9, 4 (rx_sk) since */
	int consume_skb;  /* 1 up to 6.2, 2 (location) since */
	int tcp_send_reset; /* 2 up to 6.9; 3 (reason) since 6.10, which also
			     * fires it for a reset sent without a socket */
	int tcp_retransmit_skb; /* 2 up to 6.16: fired only for a retransmit that
				 * went out; 3 (err) since, fired for every one */
	bool skb_consumed;  /* enum skb_drop_reason has SKB_CONSUMED (6.3): before
			     * it, TCP freed packets it had handled with kfree_skb
			     * and no reason (an ACK in FIN_WAIT1) */
};

/* The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once per
 * etrace process and shared: each parse took 50-100 ms here, and a run
 * made four. Never freed by callers. NULL (errno set) when the kernel has
 * none. */
const struct btf *kernelfit_vmlinux(void);

/* Indexes the names etrace and libbpf look up in the kernel's BTF at
 * each start (runner/vmlinuxbtf.c): after kernelfit_vmlinux, on any
 * thread; lookups before it is done scan as before. */
void vmlinuxbtf_index(void);
/* ETRACE_BTFINDEX_CHECK=1: every answer of the index is compared with
 * libbpf's pass (a difference is printed); the count is printed after the
 * load. */
bool vmlinuxbtf_index_check(void);
void vmlinuxbtf_index_report(void);

/* Reads the arguments of the tracepoints above from the kernel's BTF. */
void kernelfit_tp_args(const struct btf *vmlinux, struct kernel_tp_args *a);

/* Leaves out every tp_btf program of obj whose tracepoint this kernel has
 * not, noting each gap (once per tracepoint) in m. Returns 0, or -1 with a
 * message in err when a tracepoint etrace cannot work without is missing. */
int kernelfit_tracepoints(struct bpf_object *obj, const struct btf *vmlinux, struct et_model *m, char *err,
			  size_t errlen);

/* Notes a gap: what the kernel lacks and what it costs (static strings). */
void kernelfit_note(struct et_model *m, const char *what, const char *cost);

/* Whether the kernel's BTF has kfunc name (a function etrace's BPF code
 * calls only where it exists). */
bool kernelfit_has_kfunc(const struct btf *vmlinux, const char *name);

#endif
