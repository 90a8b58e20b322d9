/* Fitting the BPF object to the running kernel (see kernelfit.h). The
 * check is the one libbpf-tools makes: a tracepoint a tp_btf program can
 * attach to has a `btf_trace_<name>` typedef in the kernel's BTF. */
#include "kernelfit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* The tracepoints etrace cannot do without (syscalls, processes, signals). */
static const char *const required_tps[] = {
	"sys_enter", "sys_exit", "sched_process_fork", "sched_process_exec", "sched_process_exit",
	"signal_deliver", "signal_generate",
};

/* What the optional tracepoints give; their absence costs that. */
static const struct {
	const char *tp;
	const char *what;
	const char *cost;
} optional_tps[] = {
	{ "sock_send_length", "sock_send_length/sock_recv_length tracepoints (Linux 6.3)",
	  "no UDP flows, no DNS lookups, no TCP byte counts (they come from these tracepoints)" },
	{ "sock_recv_length", "sock_send_length/sock_recv_length tracepoints (Linux 6.3)",
	  "no UDP flows, no DNS lookups, no TCP byte counts (they come from these tracepoints)" },
	{ "inet_sock_set_state", "inet_sock_set_state tracepoint (Linux 4.16)", "no TCP connections" },
	{ "tcp_receive_reset", "tcp_receive_reset tracepoint (Linux 4.16)", "resets received are not seen" },
	{ "tcp_send_reset", "tcp_send_reset tracepoint", "resets sent are not seen" },
	{ "fib_table_lookup", "fib_table_lookup tracepoint", "--skb lists no IPv4 route lookups" },
	{ "fib6_table_lookup", "fib6_table_lookup tracepoint", "--skb lists no IPv6 route lookups" },
};

const struct btf *kernelfit_vmlinux(void)
{
	static struct btf *vmlinux;
	static int err;
	if (!vmlinux && !err) {
		vmlinux = btf__load_vmlinux_btf();
		if (!vmlinux)
			err = errno ? errno : ENOENT;
	}
	if (!vmlinux)
		errno = err;
	return vmlinux;
}

void kernelfit_note(struct et_model *m, const char *what, const char *cost)
{
	for (size_t i = 0; i < m->nkernel_gaps; i++)
		if (strcmp(m->kernel_gaps[i].what, what) == 0 && strcmp(m->kernel_gaps[i].cost, cost) == 0)
			return;
	if (m->nkernel_gaps < ET_KERNEL_GAPS_MAX) {
		m->kernel_gaps[m->nkernel_gaps].what = what;
		m->kernel_gaps[m->nkernel_gaps].cost = cost;
		m->nkernel_gaps++;
	}
}

/* The number of arguments of tracepoint tp (0: not in this kernel):
 * btf_trace_<tp> is a pointer to a prototype whose first parameter is the
 * context the tracepoint passes before its own arguments. */
static int tp_nargs(const struct btf *btf, const char *tp)
{
	char name[128];
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return 0;
	const struct btf_type *t = btf__type_by_id(btf, (__u32)id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return 0;
	return btf_vlen(t) > 0 ? btf_vlen(t) - 1 : 0;
}

void kernelfit_tp_args(const struct btf *vmlinux, struct kernel_tp_args *a)
{
	a->kfree_skb = tp_nargs(vmlinux, "kfree_skb");
	a->consume_skb = tp_nargs(vmlinux, "consume_skb");
	a->tcp_send_reset = tp_nargs(vmlinux, "tcp_send_reset");
	a->tcp_retransmit_skb = tp_nargs(vmlinux, "tcp_retransmit_skb");
	a->skb_consumed = false;
	int id = btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(vmlinux, (__u32)id);
	for (int i = 0; t && i < btf_vlen(t) && !a->skb_consumed; i++)
		a->skb_consumed = strcmp(btf__name_by_offset(vmlinux, btf_enum(t)[i].name_off), "SKB_CONSUMED") == 0;
}

bool kernelfit_has_kfunc(const struct btf *vmlinux, const char *name)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
}

int kernelfit_tracepoints(struct bpf_object *obj, const struct btf *vmlinux, struct et_model *m, char *err,
			  size_t errlen)
{
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		const char *sec = bpf_program__section_name(p);
		if (!bpf_program__autoload(p) || strncmp(sec, "tp_btf/", 7) != 0)
			continue;
		const char *tp = sec + 7;
		char name[128];
		snprintf(name, sizeof(name), "btf_trace_%s", tp);
		if (btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) >= 0)
			continue;
		for (size_t i = 0; i < sizeof(required_tps) / sizeof(required_tps[0]); i++)
			if (strcmp(tp, required_tps[i]) == 0) {
				snprintf(err, errlen, "this kernel has no %s tracepoint, which etrace needs", tp);
				return -1;
			}
		bpf_program__set_autoload(p, false);
		const char *what = NULL, *cost = "its events are not recorded";
		for (size_t i = 0; i < sizeof(optional_tps) / sizeof(optional_tps[0]); i++)
			if (strcmp(tp, optional_tps[i].tp) == 0) {
				what = optional_tps[i].what;
				cost = optional_tps[i].cost;
			}
		if (!what) {
			/* a tracepoint without an entry above: named as it is (the
			 * string must outlive the object, so a small static pool) */
			static char pool[8][64];
			static int used;
			char mine[64];
			snprintf(mine, sizeof(mine), "%s tracepoint", tp);
			for (int i = 0; i < used && !what; i++)
				if (strcmp(pool[i], mine) == 0)
					what = pool[i];
			if (!what && used == 8)
				continue;
			if (!what) {
				memcpy(pool[used], mine, sizeof(mine));
				what = pool[used++];
			}
		}
		kernelfit_note(m, what, cost);
	}
	return 0;
}
