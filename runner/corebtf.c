/* A small BTF for libbpf's CO-RE relocations of the core object (see
 * corebtf.h).
 *
 * For each kernel type a program reads through CO-RE (a "root": struct
 * task_struct, mm_struct___old...), libbpf 1.1 looks for candidates among
 * every type of the BTF it relocates against, one by one: with the
 * kernel's ~125,000 types, ~1 ms a root and ~20 roots in the core object,
 * the largest part of its load after the verifier. Given a BTF file for
 * CO-RE (btf_custom_path) it searches that one instead.
 *
 * So etrace writes one with what those relocations can look at: every
 * kernel type whose name (without a ___flavor suffix) is a root's, and,
 * from there, the types of their members, array elements, typedefs and
 * modifiers, each with its real layout (sizes, offsets, bit fields, enum
 * values). A relocation resolves a path of members inside one object
 * (embedded structs and unions, arrays); it never follows a pointer (each
 * dereference is a relocation of its own, rooted at the pointed-to type),
 * and a pointer member is only checked to be a pointer. So pointers are
 * written as pointers to void: the closure stays a few thousand types, not
 * most of the kernel. The relocations come out the same;
 * ETRACE_COREBTF_CHECK=1 loads the object a second time against the whole
 * kernel BTF and compares every program's instructions (tests do, on each
 * kernel of the matrix).
 *
 * Left to libbpf: a root the kernel's BTF lacks is not looked for in the
 * modules' BTF with a BTF given for CO-RE (the core object reads no
 * module's type), and the kernel type ids a program is given
 * (bpf_core_type_id_kernel) would be this file's: the core object takes
 * task_struct's id from its settings instead (bpf/shared.h). */
#include "corebtf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <gelf.h>
#include <libelf.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* .BTF.ext's header and its CO-RE records (the kernel's and libbpf's
 * layout, documented in Documentation/bpf/btf.rst) */
struct ext_header {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len;
	__u32 line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len;
};

struct core_relo {
	__u32 insn_off;
	__u32 type_id;
	__u32 access_str_off;
	__u32 kind;
};

struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

/* libbpf's "essential" name: up to the last ___flavor separator */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);
	for (long i = (long)n - 5; i >= 0; i--)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' &&
		    name[i + 4] != '_')
			return (size_t)i + 1;
	return n;
}

/* The .BTF.ext section of the object's ELF image. */
static const void *btf_ext_of(const void *elf_bytes, size_t elf_size, size_t *size)
{
	const void *found = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	Elf *e = elf_memory((char *)elf_bytes, elf_size);
	size_t shstrndx;
	if (!e || elf_getshdrstrndx(e, &shstrndx) != 0)
		goto out;
	for (Elf_Scn *s = elf_nextscn(e, NULL); s && !found; s = elf_nextscn(e, s)) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(s, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)) || strcmp(name, ".BTF.ext"))
			continue;
		if (sh.sh_offset + sh.sh_size <= elf_size) {
			found = (const char *)elf_bytes + sh.sh_offset;
			*size = sh.sh_size;
		}
	}
out:
	elf_end(e);
	return found;
}

struct roots {
	char **names;   /* essential names, no duplicates */
	size_t *lens;
	size_t n;
	/* the names' first two bytes, for most kernel names to be passed
	 * over without reading the rest */
	unsigned char head[65536 / 8];
};

static unsigned head_of(const char *name)
{
	return (unsigned char)name[0] | (name[0] ? (unsigned)(unsigned char)name[1] << 8 : 0);
}

static int add_root(struct roots *r, const char *name)
{
	size_t len = essential_len(name);
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->names[i]) == len && strncmp(r->names[i], name, len) == 0)
			return 0;
	char **v = realloc(r->names, (r->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	r->names = v;
	size_t *l = realloc(r->lens, (r->n + 1) * sizeof(*l));
	if (!l)
		return -1;
	r->lens = l;
	if (!(r->names[r->n] = strndup(name, len)))
		return -1;
	r->lens[r->n++] = len;
	unsigned h = head_of(r->names[r->n - 1]);
	r->head[h / 8] |= (unsigned char)(1u << (h % 8));
	return 0;
}

/* The local types the CO-RE records name, as essential names. */
static int find_roots(const void *ext, size_t size, const struct btf *local, struct roots *r)
{
	const struct ext_header *h = ext;
	if (size < sizeof(*h) || h->magic != 0xeB9F || h->hdr_len < sizeof(*h) || h->hdr_len > size)
		return -1;
	const char *base = (const char *)ext + h->hdr_len;
	size_t avail = size - h->hdr_len;
	if (!h->core_relo_len)
		return 0;
	if (h->core_relo_off > avail || h->core_relo_len > avail - h->core_relo_off || h->core_relo_len < 4)
		return -1;
	const char *p = base + h->core_relo_off, *end = p + h->core_relo_len;
	__u32 rec_size;
	memcpy(&rec_size, p, 4);
	p += 4;
	if (rec_size < sizeof(struct core_relo))
		return -1;
	while (p + 8 <= end) {
		__u32 sec[2];
		memcpy(sec, p, 8);
		p += 8;
		if ((size_t)(end - p) / rec_size < sec[1])
			return -1;
		for (__u32 i = 0; i < sec[1]; i++, p += rec_size) {
			struct core_relo rel;
			memcpy(&rel, p, sizeof(rel));
			const struct btf_type *t = btf__type_by_id(local, rel.type_id);
			const char *name = t ? btf__name_by_offset(local, t->name_off) : NULL;
			if (!name || !*name)
				return -1;   /* libbpf refuses those too */
			if (add_root(r, name) < 0)
				return -1;
		}
	}
	return 0;
}

static bool is_root(const struct roots *r, const char *name)
{
	unsigned h = head_of(name);
	if (!(r->head[h / 8] & (1u << (h % 8))))
		return false;
	size_t len = essential_len(name);
	for (size_t i = 0; i < r->n; i++)
		if (r->lens[i] == len && memcmp(r->names[i], name, len) == 0)
			return true;
	return false;
}

struct closure {
	const struct btf *k;
	__u32 *newid;     /* kernel id -> id in the small BTF (0: not in it) */
	__u32 *order;     /* kernel ids in the small BTF's order */
	__u32 n;
};

static int want(struct closure *c, __u32 id)
{
	if (id == 0 || c->newid[id])
		return 0;
	const struct btf_type *t = btf__type_by_id(c->k, id);
	if (!t)
		return -1;
	switch (btf_kind(t)) {
	case BTF_KIND_INT: case BTF_KIND_FLOAT: case BTF_KIND_FWD: case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
	case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG: case BTF_KIND_ARRAY: case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		break;
	default:
		return -1;   /* not reachable from a member but through a pointer */
	}
	c->order[c->n] = id;
	c->newid[id] = ++c->n;
	return 0;
}

/* Adds what type id's layout depends on (not what it points to). */
static int follow(struct closure *c, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(c->k, id);
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return want(c, t->type);
	case BTF_KIND_ARRAY:
		return want(c, btf_array(t)->type) < 0 ? -1 : want(c, btf_array(t)->index_type);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		for (int i = 0; i < btf_vlen(t); i++)
			if (want(c, btf_members(t)[i].type) < 0)
				return -1;
		return 0;
	default:
		return 0;
	}
}

static __u32 add_str(struct buf *strs, const struct btf *k, __u32 off)
{
	const char *s = btf__str_by_offset(k, off);
	if (!s || !*s)
		return 0;
	__u32 at = (__u32)strs->len;
	return put(strs, s, strlen(s) + 1) < 0 ? (__u32)-1 : at;
}

/* Writes type kid as the small BTF has it: names copied, ids mapped,
 * pointers to void. */
static int emit(struct closure *c, __u32 kid, struct buf *types, struct buf *strs)
{
	const struct btf_type *t = btf__type_by_id(c->k, kid);
	struct btf_type out = *t;
	if ((out.name_off = add_str(strs, c->k, t->name_off)) == (__u32)-1)
		return -1;
	int kind = btf_kind(t);
	if (kind == BTF_KIND_PTR)
		out.type = 0;
	else if (kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST ||
		 kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG)
		out.type = c->newid[t->type];
	if (put(types, &out, sizeof(out)) < 0)
		return -1;
	switch (kind) {
	case BTF_KIND_INT:
		return put(types, t + 1, 4);
	case BTF_KIND_ARRAY: {
		struct btf_array a = *btf_array(t);
		a.type = c->newid[a.type];
		a.index_type = c->newid[a.index_type];
		return put(types, &a, sizeof(a));
	}
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		for (int i = 0; i < btf_vlen(t); i++) {
			struct btf_member m = btf_members(t)[i];
			m.type = c->newid[m.type];
			if ((m.name_off = add_str(strs, c->k, m.name_off)) == (__u32)-1 || put(types, &m, sizeof(m)) < 0)
				return -1;
		}
		return 0;
	case BTF_KIND_ENUM:
		for (int i = 0; i < btf_vlen(t); i++) {
			struct btf_enum v = btf_enum(t)[i];
			if ((v.name_off = add_str(strs, c->k, v.name_off)) == (__u32)-1 || put(types, &v, sizeof(v)) < 0)
				return -1;
		}
		return 0;
	case BTF_KIND_ENUM64:
		for (int i = 0; i < btf_vlen(t); i++) {
			struct btf_enum64 v = btf_enum64(t)[i];
			if ((v.name_off = add_str(strs, c->k, v.name_off)) == (__u32)-1 || put(types, &v, sizeof(v)) < 0)
				return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static int build(const struct btf *k, const struct roots *r, struct buf *out)
{
	__u32 cnt = btf__type_cnt(k);
	struct closure c = { .k = k, .newid = calloc(cnt, sizeof(__u32)), .order = calloc(cnt, sizeof(__u32)) };
	struct buf types = { 0 }, strs = { 0 };
	int rc = -1;
	if (!c.newid || !c.order || put(&strs, "", 1) < 0)
		goto out;
	for (__u32 id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(k, id);
		int kind = btf_kind(t);
		if (!t->name_off || (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION && kind != BTF_KIND_ENUM &&
				     kind != BTF_KIND_ENUM64 && kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_FWD &&
				     kind != BTF_KIND_INT && kind != BTF_KIND_FLOAT))
			continue;
		if (is_root(r, btf__name_by_offset(k, t->name_off)) && want(&c, id) < 0)
			goto out;
	}
	for (__u32 i = 0; i < c.n; i++)   /* c.n grows as it goes */
		if (follow(&c, c.order[i]) < 0)
			goto out;
	for (__u32 i = 0; i < c.n; i++)
		if (emit(&c, c.order[i], &types, &strs) < 0)
			goto out;
	struct btf_header h = { .magic = 0xeB9F, .version = 1, .hdr_len = sizeof(h), .type_off = 0,
				.type_len = (__u32)types.len, .str_off = (__u32)types.len, .str_len = (__u32)strs.len };
	if (put(out, &h, sizeof(h)) < 0 || put(out, types.p, types.len) < 0 || put(out, strs.p, strs.len) < 0)
		goto out;
	rc = 0;
out:
	free(c.newid);
	free(c.order);
	free(types.p);
	free(strs.p);
	return rc;
}

int corebtf_reserve(char *path, size_t pathlen)
{
	if (getenv("ETRACE_NO_COREBTF"))
		return -1;
	int fd = memfd_create("etrace-core-btf", MFD_CLOEXEC);
	if (fd >= 0)
		snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int corebtf_fill(int fd, struct bpf_object *obj, const void *elf_bytes, size_t elf_size, const struct btf *vmlinux)
{
	static struct roots r;   /* 8 KiB of head bits: not on the stack */
	struct buf out = { 0 };
	memset(&r, 0, sizeof(r));
	size_t ext_size = 0;
	const void *ext = btf_ext_of(elf_bytes, elf_size, &ext_size);
	const struct btf *local = bpf_object__btf(obj);
	int rc = -1;
	if (ext && local && find_roots(ext, ext_size, local, &r) == 0 && build(vmlinux, &r, &out) == 0)
		rc = write_all(fd, out.p, out.len);
	if (rc < 0) {
		/* the whole kernel BTF: what libbpf would have used */
		__u32 size;
		const void *raw = btf__raw_data(vmlinux, &size);
		if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 && raw)
			rc = write_all(fd, raw, size);
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.names[i]);
	free(r.names);
	free(r.lens);
	free(out.p);
	return rc;
}

/* Two instructions alike but for the map descriptors an ld_imm64 holds
 * (each instance has its own descriptors of the same maps). */
static bool same_insns(const struct bpf_insn *a, const struct bpf_insn *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bpf_insn x = a[i], y = b[i];
		if (x.code == (BPF_LD | BPF_IMM | BPF_DW) && x.src_reg == y.src_reg &&
		    (x.src_reg == BPF_PSEUDO_MAP_FD || x.src_reg == BPF_PSEUDO_MAP_VALUE))
			x.imm = y.imm = 0;
		if (memcmp(&x, &y, sizeof(x)) != 0)
			return false;
	}
	return true;
}

int corebtf_check(struct bpf_object *small, struct bpf_object *whole, char *err, size_t errlen)
{
	struct bpf_program *p;
	int n = 0;
	bpf_object__for_each_program(p, small) {
		if (bpf_program__fd(p) < 0)
			continue;
		struct bpf_program *q = bpf_object__find_program_by_name(whole, bpf_program__name(p));
		if (!q || bpf_program__insn_cnt(p) != bpf_program__insn_cnt(q) ||
		    !same_insns(bpf_program__insns(p), bpf_program__insns(q), bpf_program__insn_cnt(p))) {
			snprintf(err, errlen, "CO-RE check: %s relocated against the small BTF differs from the kernel's",
				 bpf_program__name(p));
			return -1;
		}
		n++;
	}
	return n;
}
