/* Kernel functions that take an skb, from BTF: see skbfuncs.h. */
#include "skbfuncs.h"
#include "fileutil.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* A set of names: the lines of a file cut in place, sorted for bsearch. */
struct name_set {
	char *buf;
	char **v;
	size_t n;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keeps from each line the field after the first tab (the deny list:
 * "0xSTART-0xEND\tname") or the first field (the allow list), in both cases
 * up to the next blank, which drops a " [module]" suffix. */
static int name_set_load(struct name_set *s, const char *path, bool after_tab)
{
	size_t len;
	memset(s, 0, sizeof(*s));
	if (read_whole_file(path, 65536, &s->buf, &len) < 0)
		return -1;
	size_t lines = 1;
	for (const char *p = s->buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	s->v = malloc(lines * sizeof(*s->v));
	if (!s->v) {
		free(s->buf);
		s->buf = NULL;
		errno = ENOMEM;
		return -1;
	}
	for (char *line = s->buf; *line;) {
		char *nl = strchr(line, '\n'), *next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		char *name = line;
		if (after_tab) {
			char *tab = strchr(line, '\t');
			name = tab ? tab + 1 : NULL;
		}
		if (name) {
			name += strspn(name, " \t");
			name[strcspn(name, " \t\r")] = '\0';
			if (*name && *name != '#')
				s->v[s->n++] = name;
		}
		line = next;
	}
	qsort(s->v, s->n, sizeof(*s->v), str_cmp);
	return 0;
}

static bool name_set_has(const struct name_set *s, const char *name)
{
	return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), str_cmp) != NULL;
}

static void name_set_free(struct name_set *s)
{
	free(s->v);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* Follows typedefs and const/volatile/restrict/type-tag modifiers. The
 * bound stops a reference cycle in malformed BTF. */
static const struct btf_type *skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	for (int i = 0; t && i < 64 && (btf_is_mod(t) || btf_is_typedef(t)); i++)
		t = btf__type_by_id(btf, t->type);
	return t && !btf_is_mod(t) && !btf_is_typedef(t) ? t : NULL;
}

/* A pointer to struct sk_buff (a forward declaration counts: a split BTF
 * may only declare it). struct sk_buff ** is a pointer to a pointer: no. */
static bool is_skb_ptr(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = skip_mods(btf, id);
	if (!t || !btf_is_ptr(t))
		return false;
	t = skip_mods(btf, t->type);
	if (!t || !(btf_is_struct(t) || (btf_is_fwd(t) && !btf_kflag(t))))
		return false;
	const char *name = btf__name_by_offset(btf, t->name_off);
	return name && strcmp(name, "sk_buff") == 0;
}

/* Which of the first five parameters is the skb (1-based), 0 if none. */
static int skb_arg(const struct btf *btf, const struct btf_type *func)
{
	const struct btf_type *proto = btf__type_by_id(btf, func->type);
	if (!proto || !btf_is_func_proto(proto))
		return 0;
	const struct btf_param *p = btf_params(proto);
	int n = btf_vlen(proto);
	for (int i = 0; i < n && i < SKB_FUNCS_MAX_ARG; i++)
		if (is_skb_ptr(btf, p[i].type))
			return i + 1;
	return 0;
}

struct cand {
	const char *name;     /* in the BTF string table */
	int arg;              /* 0: this copy takes no skb */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->arg - y->arg;
}

/* glob is one pattern or several separated by commas (kernel function
 * names have none). */
static bool glob_match(const char *glob, const char *name)
{
	while (glob && *glob) {
		char one[256];
		size_t n = strcspn(glob, ",");
		if (n < sizeof(one)) {
			memcpy(one, glob, n);
			one[n] = '\0';
			if (n && fnmatch(one, name, 0) == 0)
				return true;
		}
		glob += n + (glob[n] == ',');
	}
	return false;
}

int skb_funcs_scan(const struct btf *btf, const char *allow, const char *deny, const char *glob,
		   struct skb_funcs *out, char *err, size_t errlen)
{
	struct name_set allow_set = { 0 }, deny_set = { 0 };
	struct cand *c = NULL;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (!btf) {
		set_err(err, errlen, "no kernel BTF");
		return -1;
	}
	if (allow && name_set_load(&allow_set, allow, false) < 0) {
		set_err(err, errlen, "cannot read %s: %s", allow, strerror(errno));
		return -1;
	}
	/* the kprobe blacklist is in debugfs, often not mounted: then none */
	if (deny && name_set_load(&deny_set, deny, true) < 0 && errno != ENOENT) {
		set_err(err, errlen, "cannot read %s: %s", deny, strerror(errno));
		goto out;
	}

	/* Every function that passes the name filters, with or without an skb:
	 * a copy without one makes its name ambiguous too. */
	__u32 cnt = btf__type_cnt(btf), nc = 0;
	c = malloc((cnt ? cnt : 1) * sizeof(*c));
	if (!c)
		goto oom;
	for (__u32 id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t || !btf_is_func(t))
			continue;
		/* a FUNC's vlen is its linkage; extern ones are declarations */
		int linkage = btf_vlen(t);
		if (linkage != BTF_FUNC_STATIC && linkage != BTF_FUNC_GLOBAL)
			continue;
		const char *name = btf__name_by_offset(btf, t->name_off);
		if (!name || !*name || (glob && !glob_match(glob, name)))
			continue;
		if ((allow && !name_set_has(&allow_set, name)) || name_set_has(&deny_set, name))
			continue;
		c[nc++] = (struct cand){ .name = name, .arg = skb_arg(btf, t) };
	}
	qsort(c, nc, sizeof(*c), cand_cmp);

	size_t keep = 0;
	for (__u32 i = 0; i < nc; i++)
		keep += c[i].arg != 0;
	out->v = calloc(keep ? keep : 1, sizeof(*out->v));
	if (!out->v)
		goto oom;
	for (__u32 i = 0, j; i < nc; i = j) {
		for (j = i + 1; j < nc && strcmp(c[j].name, c[i].name) == 0;)
			j++;
		/* sorted by arg within a name: the first and the last agree when all do */
		if (c[i].arg != c[j - 1].arg) {
			out->conflicts++;
			continue;
		}
		if (!c[i].arg)
			continue;
		out->folded += j - i - 1;
		struct skb_func *f = &out->v[out->n++];
		f->arg = c[i].arg;
		if (!(f->name = strdup(c[i].name)))
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	set_err(err, errlen, "out of memory scanning BTF for skb functions");
	skb_funcs_free(out);
out:
	free(c);
	name_set_free(&allow_set);
	name_set_free(&deny_set);
	return rc;
}

void skb_funcs_free(struct skb_funcs *f)
{
	for (size_t i = 0; f->v && i < f->n; i++)
		free(f->v[i].name);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
