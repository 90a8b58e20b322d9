/*
 * The kernel functions a packet can be followed through (pwru-style): those
 * whose BTF prototype takes a `struct sk_buff *` among the first five
 * arguments (PT_REGS_PARM1..5: what libbpf's bpf_tracing.h reads from a
 * kprobe's registers; it has no PARM6). Only the pointer itself counts:
 * `struct sk_buff **` (a list head or an out parameter) does not, since
 * reading it as an skb would follow the wrong object.
 */
#ifndef ETRACE_SKBFUNCS_H
#define ETRACE_SKBFUNCS_H

#include <stddef.h>

struct btf;

#define SKB_FUNCS_MAX_ARG 5

struct skb_func {
	char *name;
	int arg;              /* 1..5: which argument is the skb */
};

struct skb_funcs {
	struct skb_func *v;   /* sorted by name, one per name */
	size_t n;
	/* BTF FUNC entries that share a name with another one (static
	 * functions of several files; a kprobe by name cannot choose). When
	 * all copies have the skb at the same argument they are folded into
	 * one entry (folded counts the extra copies); when they disagree the
	 * name is left out (conflicts counts those names). */
	size_t folded;
	size_t conflicts;
};

/* btf: kernel BTF (the caller owns it). allow: a list of the functions that
 * can be probed, one per line, an optional " [module]" suffix, as in
 * /sys/kernel/tracing/available_filter_functions; NULL: no restriction.
 * deny: a list like /sys/kernel/debug/kprobes/blacklist ("0xSTART-0xEND\tname"
 * lines); NULL or a missing file: none. glob: fnmatch(3) pattern on the names,
 * NULL: all. Returns 0 (out filled), or -1 with one line in err (an allow list
 * that cannot be read is an error: the path and strerror). */
int skb_funcs_scan(const struct btf *btf, const char *allow, const char *deny, const char *glob,
		   struct skb_funcs *out, char *err, size_t errlen);
void skb_funcs_free(struct skb_funcs *f);

#endif
