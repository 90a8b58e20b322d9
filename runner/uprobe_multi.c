/* uprobe_multi links: see uprobe_multi.h. */
#include "uprobe_multi.h"

#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernelfit.h"

/* the layout of bpf_attr.link_create for them (the installed uapi
 * headers predate it) */
struct et_uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;           /* 0: every process that maps the file */
	__u32 pad;
};

/* The kernel knows the attach type when its BTF has the enumerator.
 * ETRACE_FUNC_LEGACY=1 forces the per-probe links (to test that path). */
bool uprobe_multi_supported(void)
{
	const char *force = getenv("ETRACE_FUNC_LEGACY");
	if (force && *force && strcmp(force, "0") != 0)
		return false;
	const struct btf *btf = kernelfit_vmlinux();
	if (!btf)
		return false;
	bool found = false;
	int id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (t) {
		const struct btf_enum *e = btf_enum(t);
		for (int i = 0; i < btf_vlen(t); i++)
			if (strcmp(btf__name_by_offset(btf, e[i].name_off), "BPF_TRACE_UPROBE_MULTI") == 0)
				found = e[i].val == ET_BPF_TRACE_UPROBE_MULTI;
	}
	return found;
}

/* pid 0: every process that maps the file; else that process only (the
 * kernel writes breakpoints into its memory alone). */
int link_uprobe_multi(struct bpf_program *prog, const char *path, const __u64 *offsets,
		      const __u64 *cookies, size_t cnt, bool ret, int pid)
{
	struct et_uprobe_multi_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_fd = (__u32)bpf_program__fd(prog);
	a.attach_type = ET_BPF_TRACE_UPROBE_MULTI;
	a.path = (__u64)(unsigned long)path;
	a.offsets = (__u64)(unsigned long)offsets;
	a.cookies = (__u64)(unsigned long)cookies;
	a.cnt = (__u32)cnt;
	a.multi_flags = ret ? ET_BPF_F_UPROBE_MULTI_RETURN : 0;
	a.pid = (__u32)pid;
	return (int)syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}
