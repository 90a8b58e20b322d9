/*
 * Unit tests of symbolize/skbfuncs.c: a BTF built here (typedef and const
 * chains, struct sk_buff **, the sixth argument, extern functions, names
 * defined twice) and this machine's kernel BTF (well-known functions and
 * the argument their skb is, globs, allow and deny lists).
 */
#include "unit.h"
#include "../../symbolize/skbfuncs.h"

#include <bpf/btf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* The argument the skb is for a function in the result, 0 when absent. The
 * result must be sorted by name without repeats for bsearch to be right. */
static int arg_of(const struct skb_funcs *f, const char *name)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(f->v[mid].name, name);
		if (c == 0)
			return f->v[mid].arg;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static bool sorted_unique(const struct skb_funcs *f)
{
	for (size_t i = 1; i < f->n; i++)
		if (strcmp(f->v[i - 1].name, f->v[i].name) >= 0)
			return false;
	return true;
}

static bool args_in_range(const struct skb_funcs *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].arg < 1 || f->v[i].arg > SKB_FUNCS_MAX_ARG)
			return false;
	return true;
}

/* Writes text to a new temporary file; the caller unlinks path. */
static void write_tmp(char *path, const char *text)
{
	strcpy(path, "/tmp/etrace-skbfuncs-XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	size_t len = strlen(text);
	CHECK(write(fd, text, len) == (ssize_t)len);
	close(fd);
}

/* ---- a BTF built here ------------------------------------------------------ */

static int add_func(struct btf *b, const char *name, int linkage, int nparams, const int *types)
{
	int proto = btf__add_func_proto(b, 0);
	CHECK(proto > 0);
	for (int i = 0; i < nparams; i++)
		CHECK(btf__add_func_param(b, types[i] ? "p" : NULL, types[i]) == 0);
	int id = btf__add_func(b, name, linkage, proto);
	CHECK(id > 0);
	return id;
}

#define FUNC(b, name, linkage, ...) \
	add_func(b, name, linkage, (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)), (int[]){ __VA_ARGS__ })

static void test_synthetic(void)
{
	struct btf *b = btf__new_empty();
	CHECK(b != NULL);
	if (!b)
		return;
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int skb = btf__add_struct(b, "sk_buff", 232);
	int sock = btf__add_struct(b, "sock", 64);
	int head = btf__add_struct(b, "sk_buff_head", 24);
	int skb_p = btf__add_ptr(b, skb);                        /* struct sk_buff * */
	int skb_pp = btf__add_ptr(b, skb_p);                     /* struct sk_buff ** */
	int cskb_p = btf__add_ptr(b, btf__add_const(b, skb));    /* const struct sk_buff * */
	int td = btf__add_typedef(b, "skb_t", skb);
	int td_p = btf__add_ptr(b, btf__add_const(b, td));       /* const skb_t * */
	int tdp = btf__add_typedef(b, "skbp_t", skb_p);          /* typedef struct sk_buff *skbp_t */
	int ctdp = btf__add_const(b, tdp);                       /* const skbp_t */
	int vol_p = btf__add_volatile(b, btf__add_restrict(b, skb_p));
	int tdtd_pp = btf__add_typedef(b, "skbpp_t", skb_pp);    /* a typedef of struct sk_buff ** */
	int sock_p = btf__add_ptr(b, sock);
	int head_p = btf__add_ptr(b, head);
	int fwd_p = btf__add_ptr(b, btf__add_fwd(b, "sk_buff", BTF_FWD_STRUCT));
	int ufwd_p = btf__add_ptr(b, btf__add_fwd(b, "sk_buff", BTF_FWD_UNION));
	CHECK(i32 > 0 && skb_p > 0 && ctdp > 0 && vol_p > 0 && fwd_p > 0 && ufwd_p > 0);

	FUNC(b, "f_plain", BTF_FUNC_STATIC, skb_p);
	FUNC(b, "f_global", BTF_FUNC_GLOBAL, sock_p, skb_p);
	FUNC(b, "f_const", BTF_FUNC_STATIC, i32, cskb_p);
	FUNC(b, "f_typedef", BTF_FUNC_STATIC, i32, i32, td_p);
	FUNC(b, "f_tdptr", BTF_FUNC_STATIC, sock_p, sock_p, sock_p, ctdp);
	FUNC(b, "f_fifth", BTF_FUNC_STATIC, i32, i32, i32, i32, vol_p);
	FUNC(b, "f_sixth", BTF_FUNC_STATIC, i32, i32, i32, i32, i32, skb_p);
	FUNC(b, "f_pp", BTF_FUNC_STATIC, skb_pp, i32);
	FUNC(b, "f_tdpp", BTF_FUNC_STATIC, tdtd_pp);
	FUNC(b, "f_pp_then_p", BTF_FUNC_STATIC, skb_pp, skb_p);
	FUNC(b, "f_two", BTF_FUNC_STATIC, skb_p, skb_p);
	FUNC(b, "f_extern", BTF_FUNC_EXTERN, skb_p);
	FUNC(b, "f_sock", BTF_FUNC_STATIC, sock_p);
	FUNC(b, "f_head", BTF_FUNC_STATIC, head_p);
	FUNC(b, "f_fwd", BTF_FUNC_STATIC, fwd_p);
	FUNC(b, "f_union_fwd", BTF_FUNC_STATIC, ufwd_p);
	FUNC(b, "f_var", BTF_FUNC_STATIC, skb_p, 0);        /* (struct sk_buff *, ...) */
	int none[1] = { 0 };
	add_func(b, "f_void", BTF_FUNC_STATIC, 0, none);
	/* static functions of the same name in several files */
	FUNC(b, "dup_same", BTF_FUNC_STATIC, skb_p);
	FUNC(b, "dup_same", BTF_FUNC_STATIC, td_p);
	FUNC(b, "dup_same", BTF_FUNC_STATIC, skb_p);
	FUNC(b, "dup_diff", BTF_FUNC_STATIC, skb_p);
	FUNC(b, "dup_diff", BTF_FUNC_STATIC, i32, skb_p);
	FUNC(b, "dup_noskb", BTF_FUNC_STATIC, skb_p);
	FUNC(b, "dup_noskb", BTF_FUNC_STATIC, sock_p);

	struct skb_funcs f;
	char err[256] = "";
	CHECK(skb_funcs_scan(b, NULL, NULL, NULL, &f, err, sizeof(err)) == 0);
	static const struct {
		const char *name;
		int arg;
	} want[] = {
		{ "dup_same", 1 }, { "f_const", 2 }, { "f_fifth", 5 }, { "f_fwd", 1 }, { "f_global", 2 },
		{ "f_plain", 1 }, { "f_pp_then_p", 2 }, { "f_tdptr", 4 }, { "f_two", 1 }, { "f_typedef", 3 },
		{ "f_var", 1 },
	};
	size_t nwant = sizeof(want) / sizeof(want[0]);
	CHECK(f.n == nwant);
	for (size_t i = 0; i < nwant && i < f.n; i++) {
		CHECK_STR(f.v[i].name, want[i].name);
		CHECK(f.v[i].arg == want[i].arg);
	}
	CHECK(f.folded == 2);
	CHECK(f.conflicts == 2);
	CHECK(arg_of(&f, "f_sixth") == 0);
	CHECK(arg_of(&f, "f_pp") == 0);
	CHECK(arg_of(&f, "f_tdpp") == 0);
	CHECK(arg_of(&f, "f_extern") == 0);
	CHECK(arg_of(&f, "f_head") == 0);
	skb_funcs_free(&f);
	CHECK(f.v == NULL && f.n == 0);

	/* the name filters apply before duplicates are looked at */
	CHECK(skb_funcs_scan(b, NULL, NULL, "dup_*", &f, err, sizeof(err)) == 0);
	CHECK(f.n == 1 && f.n && strcmp(f.v[0].name, "dup_same") == 0);
	CHECK(f.folded == 2 && f.conflicts == 2);
	skb_funcs_free(&f);

	/* an empty glob result is not an error */
	CHECK(skb_funcs_scan(b, NULL, NULL, "nothing_*", &f, err, sizeof(err)) == 0);
	CHECK(f.n == 0);
	skb_funcs_free(&f);

	char allow[64], deny[64];
	write_tmp(allow, "f_plain\nf_fifth [mod]\nf_sixth\nnot_in_btf\n\n");
	write_tmp(deny, "0xffffffff81000000-0xffffffff81000040\tf_fifth\n");
	CHECK(skb_funcs_scan(b, allow, NULL, NULL, &f, err, sizeof(err)) == 0);
	CHECK(f.n == 2 && arg_of(&f, "f_plain") == 1 && arg_of(&f, "f_fifth") == 5);
	skb_funcs_free(&f);
	CHECK(skb_funcs_scan(b, allow, deny, NULL, &f, err, sizeof(err)) == 0);
	CHECK(f.n == 1 && arg_of(&f, "f_plain") == 1);
	skb_funcs_free(&f);
	unlink(allow);
	unlink(deny);

	CHECK(skb_funcs_scan(NULL, NULL, NULL, NULL, &f, err, sizeof(err)) == -1);
	CHECK(f.n == 0 && f.v == NULL);
	btf__free(b);
}

/* ---- this machine's kernel ------------------------------------------------- */

static void test_kernel(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	CHECK(btf != NULL);
	if (!btf) {
		fprintf(stderr, "no kernel BTF: %s\n", strerror(errno));
		return;
	}
	struct skb_funcs all;
	char err[512] = "";
	CHECK(skb_funcs_scan(btf, NULL, NULL, NULL, &all, err, sizeof(err)) == 0);
	printf("this kernel: %zu functions take an skb in their first 5 arguments "
	       "(%zu duplicate BTF entries folded, %zu ambiguous names left out)\n",
	       all.n, all.folded, all.conflicts);
	CHECK(all.n > 500);
	CHECK(sorted_unique(&all));
	CHECK(args_in_range(&all));
	CHECK(arg_of(&all, "ip_rcv") == 1);
	CHECK(arg_of(&all, "__dev_queue_xmit") == 1);
	CHECK(arg_of(&all, "tcp_v4_rcv") == 1);
	/* ip_finish_output2(struct net *, struct sock *, struct sk_buff *) */
	CHECK(arg_of(&all, "ip_finish_output2") == 3);
	/* since 6.11 kfree_skb_reason() is an inline wrapper of
	 * sk_skb_reason_drop(struct sock *, struct sk_buff *, reason) */
	if (btf__find_by_name_kind(btf, "kfree_skb_reason", BTF_KIND_FUNC) > 0)
		CHECK(arg_of(&all, "kfree_skb_reason") == 1);
	else
		CHECK(arg_of(&all, "kfree_skb_reason") == 0);
	if (btf__find_by_name_kind(btf, "sk_skb_reason_drop", BTF_KIND_FUNC) > 0)
		CHECK(arg_of(&all, "sk_skb_reason_drop") == 2);
	CHECK(arg_of(&all, "kfree_skb_reason") == 1 || arg_of(&all, "sk_skb_reason_drop") == 2);
	/* in BTF, but without an skb */
	CHECK(btf__find_by_name_kind(btf, "do_nanosleep", BTF_KIND_FUNC) > 0);
	CHECK(arg_of(&all, "do_nanosleep") == 0);
	/* struct sk_buff **pskb: the receive path's core and rx handlers */
	if (btf__find_by_name_kind(btf, "__netif_receive_skb_core", BTF_KIND_FUNC) > 0)
		CHECK(arg_of(&all, "__netif_receive_skb_core") == 0);
	/* ip_generic_getfrag(void *from, char *to, int offset, int len, int odd, struct sk_buff *skb) */
	if (btf__find_by_name_kind(btf, "ip_generic_getfrag", BTF_KIND_FUNC) > 0)
		CHECK(arg_of(&all, "ip_generic_getfrag") == 0);

	struct skb_funcs f;
	CHECK(skb_funcs_scan(btf, NULL, NULL, "tcp_v4_*", &f, err, sizeof(err)) == 0);
	CHECK(f.n > 0);
	bool prefixed = true;
	for (size_t i = 0; i < f.n; i++)
		prefixed &= strncmp(f.v[i].name, "tcp_v4_", 7) == 0;
	CHECK(prefixed);
	CHECK(arg_of(&f, "tcp_v4_rcv") == 1);
	size_t tcp_v4_all = 0;
	for (size_t i = 0; i < all.n; i++)
		tcp_v4_all += strncmp(all.v[i].name, "tcp_v4_", 7) == 0;
	CHECK(f.n == tcp_v4_all);
	skb_funcs_free(&f);
	/* several globs, comma separated: exactly the two named */
	CHECK(skb_funcs_scan(btf, NULL, NULL, "ip_rcv,tcp_v4_rcv,", &f, err, sizeof(err)) == 0);
	CHECK(f.n == 2 && arg_of(&f, "ip_rcv") == 1 && arg_of(&f, "tcp_v4_rcv") == 1);
	skb_funcs_free(&f);

	/* an allow list in available_filter_functions' format */
	char allow[64], deny[64];
	write_tmp(allow, "ip_rcv\ntcp_v4_rcv [kernel]\ndo_nanosleep\nno_such_function_xyz\n");
	CHECK(skb_funcs_scan(btf, allow, NULL, NULL, &f, err, sizeof(err)) == 0);
	CHECK(f.n == 2);
	CHECK(arg_of(&f, "ip_rcv") == 1 && arg_of(&f, "tcp_v4_rcv") == 1);
	skb_funcs_free(&f);

	/* a deny list in the kprobe blacklist's format */
	write_tmp(deny, "0xffffffff81a00000-0xffffffff81a00100\tip_rcv\n"
			"0xffffffff81b00000-0xffffffff81b00040\t__dev_queue_xmit\n"
			"0xffffffffc0a00000-0xffffffffc0a00010\tsome_module_function [some_module]\n");
	CHECK(skb_funcs_scan(btf, NULL, deny, NULL, &f, err, sizeof(err)) == 0);
	CHECK(f.n == all.n - 2);
	CHECK(arg_of(&f, "ip_rcv") == 0 && arg_of(&f, "__dev_queue_xmit") == 0);
	CHECK(arg_of(&f, "tcp_v4_rcv") == 1);
	skb_funcs_free(&f);
	CHECK(skb_funcs_scan(btf, allow, deny, NULL, &f, err, sizeof(err)) == 0);
	CHECK(f.n == 1 && arg_of(&f, "tcp_v4_rcv") == 1);
	skb_funcs_free(&f);
	unlink(allow);
	unlink(deny);

	/* a missing deny list (debugfs not mounted) is no restriction */
	CHECK(skb_funcs_scan(btf, NULL, "/nonexistent/kprobes/blacklist", NULL, &f, err, sizeof(err)) == 0);
	CHECK(f.n == all.n);
	skb_funcs_free(&f);

	/* a missing allow list (tracefs not mounted) is an error naming it */
	err[0] = '\0';
	CHECK(skb_funcs_scan(btf, "/nonexistent/tracing/available_filter_functions", NULL, NULL, &f, err,
			     sizeof(err)) == -1);
	CHECK(strstr(err, "/nonexistent/tracing/available_filter_functions") != NULL);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	CHECK(f.n == 0 && f.v == NULL);
	printf("missing allow list: %s\n", err);

	/* the real list, when this kernel lets it be read */
	const char *aff = "/sys/kernel/tracing/available_filter_functions";
	if (skb_funcs_scan(btf, aff, NULL, NULL, &f, err, sizeof(err)) == 0) {
		printf("probe-able per %s: %zu\n", aff, f.n);
		CHECK(f.n <= all.n);
		skb_funcs_free(&f);
	} else {
		printf("(skipped the real allow list: %s)\n", err);
	}

	skb_funcs_free(&all);
	btf__free(btf);
}

int main(void)
{
	test_synthetic();
	test_kernel();
	return unit_done();
}
