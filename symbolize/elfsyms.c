/* Function symbols and signatures of an ELF executable: see elfsyms.h. */
#include "elfsyms.h"
#include "fileutil.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One symbol before aliases are merged. */
struct raw_sym {
	const char *name;     /* in the ELF string table, valid while it is open */
	uint64_t addr, size, file_offset;
	int rank;             /* 0 global, 1 weak, 2 local: which alias names the function */
};

static int bind_rank(unsigned char bind)
{
	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

/* Address order; at one address the preferred name first: global before
 * weak before local, then names without a leading underscore, then the
 * shorter (getpid before __getpid). */
static int raw_cmp(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	bool ux = x->name[0] == '_', uy = y->name[0] == '_';
	if (ux != uy)
		return ux ? 1 : -1;
	size_t lx = strlen(x->name), ly = strlen(y->name);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool is_cold_fragment(const char *name)
{
	const char *c = strstr(name, ".cold");
	return c && (c[5] == '\0' || c[5] == '.');
}

static Elf_Scn *find_symtab(Elf *e, GElf_Word type)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type && sh.sh_entsize)
			return scn;
	}
	return NULL;
}

/* Collects the function symbols of one table. Returns how many, or -1 when out of memory. */
static ssize_t collect(Elf *e, Elf_Scn *scn, struct raw_sym **out)
{
	GElf_Shdr sh;
	Elf_Data *data = elf_getdata(scn, NULL);
	*out = NULL;
	if (!gelf_getshdr(scn, &sh) || !data)
		return 0;
	size_t count = sh.sh_size / sh.sh_entsize, n = 0;
	struct raw_sym *v = calloc(count ? count : 1, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0 || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= SHN_LORESERVE)
			continue;
		const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
		if (!name || !name[0] || is_cold_fragment(name))
			continue;
		GElf_Shdr text;
		Elf_Scn *ts = elf_getscn(e, sym.st_shndx);
		if (!ts || !gelf_getshdr(ts, &text) || text.sh_type != SHT_PROGBITS || !(text.sh_flags & SHF_EXECINSTR) ||
		    sym.st_value < text.sh_addr || sym.st_value - text.sh_addr >= text.sh_size)
			continue;
		v[n++] = (struct raw_sym){
			.name = name,
			.addr = sym.st_value,
			.size = sym.st_size,
			.file_offset = sym.st_value - text.sh_addr + text.sh_offset,
			.rank = bind_rank(GELF_ST_BIND(sym.st_info)),
		};
	}
	*out = v;
	return (ssize_t)n;
}

int elfsyms_read(const char *path, struct elfsyms *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = -1;
	struct raw_sym *raw = NULL;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		set_err(err, errlen, "%s is not an ELF file (a script?)", path);
		goto out;
	}
	Elf_Scn *scn = find_symtab(e, SHT_SYMTAB);
	out->table = ".symtab";
	if (!scn) {
		scn = find_symtab(e, SHT_DYNSYM);
		out->table = ".dynsym";
	}
	if (!scn) {
		out->table = NULL;
		rc = 0;
		goto out;
	}
	ssize_t n = collect(e, scn, &raw);
	if (n < 0)
		goto oom;
	qsort(raw, (size_t)n, sizeof(*raw), raw_cmp);
	out->funcs = calloc(n ? (size_t)n : 1, sizeof(*out->funcs));
	if (!out->funcs)
		goto oom;
	for (ssize_t i = 0; i < n;) {
		ssize_t j = i + 1;
		while (j < n && raw[j].addr == raw[i].addr)
			j++;
		struct elfsym_func *f = &out->funcs[out->n++];
		f->name = strdup(raw[i].name);
		f->addr = raw[i].addr;
		f->size = raw[i].size;
		f->file_offset = raw[i].file_offset;
		f->is_entry = raw[i].addr == eh.e_entry;
		if (!f->name)
			goto oom;
		if (j - i > 1) {
			f->aliases = calloc((size_t)(j - i), sizeof(char *));
			if (!f->aliases)
				goto oom;
			for (ssize_t k = i + 1; k < j; k++)
				if (!(f->aliases[k - i - 1] = strdup(raw[k].name)))
					goto oom;
		}
		i = j;
	}
	rc = 0;
	goto out;
oom:
	set_err(err, errlen, "out of memory reading the symbols of %s", path);
	elfsyms_free(out);
out:
	free(raw);
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

size_t elfsyms_glob(const struct elfsyms *s, const char *pattern, unsigned char *sel)
{
	size_t matched = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct elfsym_func *f = &s->funcs[i];
		bool hit = fnmatch(pattern, f->name, 0) == 0;
		for (char **a = f->aliases; !hit && a && *a; a++)
			hit = fnmatch(pattern, *a, 0) == 0;
		if (hit) {
			sel[i] = 1;
			matched++;
		}
	}
	return matched;
}

/* ---- signatures from DWARF ------------------------------------------------ */

static struct elfsym_type classify(Dwarf_Die *type)
{
	struct elfsym_type t = { ELFSYM_UNKNOWN, 0 };
	Dwarf_Die peeled;
	if (dwarf_peel_type(type, &peeled) != 0)
		return t;
	Dwarf_Attribute attr;
	Dwarf_Word enc = 0;
	int size = dwarf_bytesize(&peeled);
	switch (dwarf_tag(&peeled)) {
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
		t.kind = ELFSYM_POINTER;
		t.size = 8;
		break;
	case DW_TAG_enumeration_type:
		/* DWARF 5 names the underlying type; an unsigned one shows as unsigned */
		t.kind = ELFSYM_SIGNED;
		if (dwarf_attr_integrate(&peeled, DW_AT_type, &attr)) {
			Dwarf_Die under;
			if (dwarf_formref_die(&attr, &under)) {
				struct elfsym_type u = classify(&under);
				if (u.kind == ELFSYM_UNSIGNED)
					t.kind = ELFSYM_UNSIGNED;
			}
		}
		t.size = size > 0 && size <= 8 ? (uint8_t)size : 4;
		break;
	case DW_TAG_base_type:
		if (!dwarf_attr_integrate(&peeled, DW_AT_encoding, &attr) || dwarf_formudata(&attr, &enc) != 0)
			break;
		if (size <= 0 || size > 8) {
			t.kind = ELFSYM_OTHER; /* __int128, long double: not one register */
			break;
		}
		t.size = (uint8_t)size;
		switch (enc) {
		case DW_ATE_signed:
		case DW_ATE_signed_char:
			t.kind = ELFSYM_SIGNED;
			break;
		case DW_ATE_unsigned:
		case DW_ATE_unsigned_char:
		case DW_ATE_UTF:
			t.kind = ELFSYM_UNSIGNED;
			break;
		case DW_ATE_boolean:
			t.kind = ELFSYM_BOOL;
			break;
		case DW_ATE_float:
		case DW_ATE_complex_float:
			t.kind = ELFSYM_FLOAT;
			break;
		default:
			t.kind = ELFSYM_OTHER;
		}
		break;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_array_type:
		t.kind = ELFSYM_OTHER;
		break;
	}
	return t;
}

static struct elfsym_type type_of(Dwarf_Die *die, uint8_t none)
{
	Dwarf_Attribute attr;
	Dwarf_Die type;
	if (!dwarf_attr_integrate(die, DW_AT_type, &attr))
		return (struct elfsym_type){ none, 0 };
	if (!dwarf_formref_die(&attr, &type))
		return (struct elfsym_type){ ELFSYM_UNKNOWN, 0 };
	return classify(&type);
}

static void fill_proto(Dwarf_Die *sub, struct elfsym_proto *p)
{
	p->ret = type_of(sub, ELFSYM_VOID);
	Dwarf_Die child;
	if (dwarf_child(sub, &child) == 0) {
		do {
			int tag = dwarf_tag(&child);
			if (tag == DW_TAG_unspecified_parameters) {
				p->variadic = 1;
			} else if (tag == DW_TAG_formal_parameter) {
				int i = p->nparams++;
				if (i >= ELFSYM_PARAMS)
					continue;
				const char *name = dwarf_diename(&child);
				p->names[i] = name ? strdup(name) : NULL;
				p->params[i] = type_of(&child, ELFSYM_UNKNOWN);
			}
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	p->known = 1;
}

static struct elfsym_func *find_addr(struct elfsyms *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->funcs[mid].addr == addr)
			return &s->funcs[mid];
		if (s->funcs[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Subprograms with code among the children of a unit or namespace. */
static size_t walk(Dwarf_Die *parent, struct elfsyms *s, const unsigned char *sel)
{
	size_t found = 0;
	Dwarf_Die die;
	if (dwarf_child(parent, &die) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&die);
		if (tag == DW_TAG_namespace) {
			found += walk(&die, s, sel);
			continue;
		}
		Dwarf_Addr pc;
		if (tag != DW_TAG_subprogram || dwarf_lowpc(&die, &pc) != 0)
			continue;
		struct elfsym_func *f = find_addr(s, pc);
		if (!f || f->proto.known || (sel && !sel[f - s->funcs]))
			continue;
		/* a compiler clone (foo.isra.0, foo.constprop.0) may take other
		 * arguments than the DWARF of foo declares */
		if (strchr(f->name, '.'))
			continue;
		fill_proto(&die, &f->proto);
		found++;
	} while (dwarf_siblingof(&die, &die) == 0);
	return found;
}

size_t elfsyms_protos(const char *path, struct elfsyms *s, const unsigned char *sel)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t found = 0;
	Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
	if (dw) {
		Dwarf_Off off = 0, next;
		size_t hsize;
		while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			Dwarf_Die cu;
			if (dwarf_offdie(dw, off + hsize, &cu))
				found += walk(&cu, s, sel);
			off = next;
		}
		dwarf_end(dw);
	}
	close(fd);
	return found;
}

/* ---- freeing -------------------------------------------------------------- */

void elfsym_func_free(struct elfsym_func *f)
{
	free(f->name);
	for (char **a = f->aliases; a && *a; a++)
		free(*a);
	free(f->aliases);
	for (int i = 0; i < ELFSYM_PARAMS; i++)
		free(f->proto.names[i]);
	memset(f, 0, sizeof(*f));
}

void elfsyms_free(struct elfsyms *s)
{
	for (size_t i = 0; i < s->n; i++)
		elfsym_func_free(&s->funcs[i]);
	free(s->funcs);
	memset(s, 0, sizeof(*s));
}

/* ---- formatting ----------------------------------------------------------- */

void elfsym_format_value(struct elfsym_type t, uint64_t v, char *buf, size_t len)
{
	unsigned bits = t.size ? t.size * 8u : 64;
	switch (t.kind) {
	case ELFSYM_SIGNED:
		if (bits < 64) {
			uint64_t sign = 1ull << (bits - 1), mask = (1ull << bits) - 1;
			v &= mask;
			if (v & sign)
				v |= ~mask;
		}
		snprintf(buf, len, "%" PRId64, (int64_t)v);
		return;
	case ELFSYM_UNSIGNED:
		if (bits < 64)
			v &= (1ull << bits) - 1;
		snprintf(buf, len, "%" PRIu64, v);
		return;
	case ELFSYM_BOOL:
		snprintf(buf, len, "%s", (v & 0xff) ? "true" : "false");
		return;
	case ELFSYM_POINTER:
		if (v)
			snprintf(buf, len, "0x%" PRIx64, v);
		else
			snprintf(buf, len, "NULL");
		return;
	case ELFSYM_FLOAT:
	case ELFSYM_OTHER:
		snprintf(buf, len, "?");
		return;
	case ELFSYM_VOID:
		if (len)
			buf[0] = '\0';
		return;
	}
	/* unknown: a guess */
	int64_t s64 = (int64_t)v;
	int32_t s32 = (int32_t)(uint32_t)v;
	if (v <= 0xffff)
		snprintf(buf, len, "%" PRIu64, v);
	else if (s64 < 0 && s64 >= -0xffff)
		snprintf(buf, len, "%" PRId64, s64);
	else if ((v >> 32) == 0 && s32 < 0 && s32 >= -0xffff)
		snprintf(buf, len, "%" PRId32, s32);
	else
		snprintf(buf, len, "0x%" PRIx64, v);
}

/* Appends to buf at *pos, truncating at len. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	if (*pos >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos = *pos + (size_t)n < len ? *pos + (size_t)n : len;
}

int elfsym_nargs(const struct elfsym_func *f)
{
	if (!f->proto.known)
		return ELFSYM_ARG_REGS;
	return f->proto.nparams < ELFSYM_PARAMS ? f->proto.nparams : ELFSYM_PARAMS;
}

const char *elfsym_arg(const struct elfsym_func *f, const uint64_t regs[ELFSYM_ARG_REGS], int i, char *buf,
		       size_t len)
{
	const struct elfsym_proto *p = &f->proto;
	snprintf(buf, len, "?");
	if (i < 0 || i >= elfsym_nargs(f))
		return NULL;
	if (!p->known) {
		elfsym_format_value((struct elfsym_type){ ELFSYM_UNKNOWN, 0 }, regs[i], buf, len);
		return NULL;
	}
	/* x86_64 SysV: integer and pointer arguments take rdi, rsi, rdx, rcx in
	 * order, floating-point ones SSE registers; after a struct by value
	 * (which may take two registers, or none) the rest is not guessed */
	int reg = 0;
	for (int j = 0; j < i; j++) {
		uint8_t k = p->params[j].kind;
		if (k == ELFSYM_UNKNOWN || k == ELFSYM_OTHER)
			return p->names[i];
		if (k != ELFSYM_FLOAT)
			reg++;
	}
	uint8_t k = p->params[i].kind;
	if (k != ELFSYM_UNKNOWN && k != ELFSYM_OTHER && k != ELFSYM_FLOAT && reg < ELFSYM_ARG_REGS)
		elfsym_format_value(p->params[i], regs[reg], buf, len);
	return p->names[i];
}

void elfsym_format_entry(const struct elfsym_func *f, const uint64_t regs[ELFSYM_ARG_REGS], char *buf, size_t len)
{
	size_t pos = 0;
	char val[32];
	if (len)
		buf[0] = '\0';
	put(buf, len, &pos, "%s(", f->name);
	int n = elfsym_nargs(f);
	for (int i = 0; i < n; i++) {
		const char *name = elfsym_arg(f, regs, i, val, sizeof(val));
		if (name)
			put(buf, len, &pos, "%s%s=%s", i ? ", " : "", name, val);
		else
			put(buf, len, &pos, "%s%s", i ? ", " : "", val);
	}
	if (f->proto.known && (f->proto.nparams > n || f->proto.variadic))
		put(buf, len, &pos, "%s...", n ? ", " : "");
	put(buf, len, &pos, ")");
}

void elfsym_format_return(const struct elfsym_func *f, uint64_t ret, char *buf, size_t len)
{
	char val[32];
	if (f->proto.known && f->proto.ret.kind == ELFSYM_VOID) {
		snprintf(buf, len, "%s", f->name);
		return;
	}
	elfsym_format_value(f->proto.known ? f->proto.ret : (struct elfsym_type){ ELFSYM_UNKNOWN, 0 }, ret, val,
			    sizeof(val));
	snprintf(buf, len, "%s = %s", f->name, val);
}
