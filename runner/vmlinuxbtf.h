/* The kernel's BTF, parsed once per etrace process and shared with libbpf
 * (runner/vmlinuxbtf.c defines libbpf's btf__load_vmlinux_btf and btf__free
 * for the whole process). */
#ifndef ETRACE_VMLINUXBTF_H
#define ETRACE_VMLINUXBTF_H

/* Starts the parse on a thread, for the first btf__load_vmlinux_btf to
 * find it done or under way (it then waits for it). */
void vmlinuxbtf_prefetch(void);

#endif
