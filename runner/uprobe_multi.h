/* uprobe_multi links (Linux 6.6), spelled out for libbpf 1.1: used by the
 * --trace-func probes and the heap's. */
#ifndef ETRACE_UPROBE_MULTI_H
#define ETRACE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct bpf_program;

/* uprobe_multi links (Linux 6.6) attach a program to many offsets of a file
 * with one syscall, and detach them with one wait for the probes' readers
 * to finish. Per-probe perf links wait once per probe: ~130 ms each on the
 * development VMs, 27 s for 100 functions. libbpf 1.1 and the installed
 * uapi headers predate them: the attach type, the flag and the layout of
 * bpf_attr.link_create for them are spelled out here. */
#define ET_BPF_TRACE_UPROBE_MULTI 48
#define ET_BPF_F_UPROBE_MULTI_RETURN 1U

/* The kernel knows the attach type when its BTF has the enumerator.
 * ETRACE_FUNC_LEGACY=1 forces the per-probe links (to test that path). */
bool uprobe_multi_supported(void);
/* A link of prog at offsets of path (cookies per offset; ret: a
 * uretprobe); pid 0: every process that maps the file, else that process
 * only. The link's fd, or -1 with errno. */
int link_uprobe_multi(struct bpf_program *prog, const char *path, const __u64 *offsets, const __u64 *cookies,
		      size_t cnt, bool ret, int pid);

#endif
