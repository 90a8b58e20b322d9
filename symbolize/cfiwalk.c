#include "cfiwalk.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DWREG_RBP 6
#define DWREG_RSP 7

/* How to get from a frame to its caller, at one code address. */
struct cfi_rule {
	uint8_t ok;        /* 0: no rule we can follow */
	uint8_t cfa_rbp;   /* CFA = rbp + cfa_off (else rsp + cfa_off) */
	uint8_t rbp_saved; /* rbp saved at CFA + rbp_off (else unchanged) */
	uint8_t outermost; /* the return address is undefined: _start, a thread's start */
	int32_t cfa_off;
	int32_t rbp_off;
};

struct cfi_file {
	char *path;
	int fd;
	Elf *elf;
	Dwarf_CFI *cfi;
};

struct rule_slot {
	uint64_t key;      /* file index + 1 in the top 16 bits, vaddr below; 0: empty */
	struct cfi_rule r;
};

struct cfi_walker {
	struct cfi_file *files;
	size_t nfiles;
	struct rule_slot *slots;
	size_t cap, used;
};

struct cfi_walker *cfiw_new(void)
{
	struct cfi_walker *w = calloc(1, sizeof(*w));
	if (w)
		elf_version(EV_CURRENT);
	return w;
}

void cfiw_free(struct cfi_walker *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nfiles; i++) {
		if (w->files[i].cfi)
			dwarf_cfi_end(w->files[i].cfi);
		if (w->files[i].elf)
			elf_end(w->files[i].elf);
		if (w->files[i].fd >= 0)
			close(w->files[i].fd);
		free(w->files[i].path);
	}
	free(w->files);
	free(w->slots);
	free(w);
}

static long file_index(struct cfi_walker *w, const char *path)
{
	for (size_t i = 0; i < w->nfiles; i++)
		if (strcmp(w->files[i].path, path) == 0)
			return (long)i;
	if (w->nfiles >= 0xfffe)
		return -1;
	struct cfi_file *v = realloc(w->files, (w->nfiles + 1) * sizeof(*v));
	if (!v)
		return -1;
	w->files = v;
	struct cfi_file *f = &w->files[w->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd >= 0)
		f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (f->elf)
		f->cfi = dwarf_getcfi_elf(f->elf);
	return (long)w->nfiles++;
}

/* The offset N of a register saved at CFA + N, from libdw's location
 * expression for it: DW_OP_call_frame_cfa followed by an addition. */
static int saved_at_cfa(const Dwarf_Op *ops, size_t n, int32_t *off)
{
	if (n < 1 || ops[0].atom != DW_OP_call_frame_cfa)
		return 0;
	if (n == 1) {
		*off = 0;
		return 1;
	}
	if (n == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int32_t)ops[1].number;
		return 1;
	}
	if (n == 3 && (ops[1].atom == DW_OP_consts || ops[1].atom == DW_OP_constu) && ops[2].atom == DW_OP_plus) {
		*off = (int32_t)(int64_t)ops[1].number;
		return 1;
	}
	return 0;
}

static struct cfi_rule compute_rule(struct cfi_file *f, uint64_t vaddr)
{
	struct cfi_rule r = { 0 };
	Dwarf_Frame *fr = NULL;
	if (!f->cfi || dwarf_cfi_addrframe(f->cfi, vaddr, &fr) != 0 || !fr)
		return r;
	Dwarf_Op *ops;
	size_t n;
	if (dwarf_frame_cfa(fr, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_bregx &&
	    (ops[0].number == DWREG_RSP || ops[0].number == DWREG_RBP)) {
		r.cfa_rbp = ops[0].number == DWREG_RBP;
		r.cfa_off = (int32_t)(int64_t)ops[0].number2;
		r.ok = 1;
	}
	Dwarf_Op mem[3];
	ops = NULL;
	n = 0;
	if (r.ok && dwarf_frame_register(fr, DWREG_RBP, mem, &ops, &n) == 0 && ops && n > 0) {
		if (saved_at_cfa(ops, n, &r.rbp_off))
			r.rbp_saved = 1;
		else
			r.ok = 0; /* rbp computed some other way: not followed */
	}
	/* DWARF register 16 is the return address: undefined in the outermost frame
	 * (libdw gives no location for it, and no expression) */
	ops = NULL;
	n = 0;
	if (r.ok && dwarf_frame_register(fr, 16, mem, &ops, &n) == 0 && n == 0)
		r.outermost = 1;
	free(fr);
	return r;
}

static int rule_for(struct cfi_walker *w, long fi, uint64_t vaddr, struct cfi_rule *out)
{
	uint64_t key = ((uint64_t)(fi + 1) << 48) | (vaddr & 0xffffffffffffULL);
	if (w->used * 2 >= w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct rule_slot *s = calloc(cap, sizeof(*s));
		if (!s)
			return -1;
		for (size_t i = 0; i < w->cap; i++) {
			if (!w->slots[i].key)
				continue;
			size_t j = (size_t)(w->slots[i].key * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
			while (s[j].key)
				j = (j + 1) & (cap - 1);
			s[j] = w->slots[i];
		}
		free(w->slots);
		w->slots = s;
		w->cap = cap;
	}
	size_t j = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 20) & (w->cap - 1);
	while (w->slots[j].key && w->slots[j].key != key)
		j = (j + 1) & (w->cap - 1);
	if (!w->slots[j].key) {
		w->slots[j].key = key;
		w->slots[j].r = compute_rule(&w->files[fi], vaddr);
		w->used++;
	}
	*out = w->slots[j].r;
	return 0;
}

static int read_word(const uint8_t *win, uint64_t win_addr, size_t win_len, uint64_t addr, uint64_t *v)
{
	if (addr < win_addr || addr - win_addr > win_len || win_len - (addr - win_addr) < 8)
		return -1;
	memcpy(v, win + (addr - win_addr), 8);
	return 0;
}

size_t cfiw_unwind(struct cfi_walker *w, uint64_t pc, uint64_t sp, uint64_t rbp, const uint8_t *win,
		   uint64_t win_addr, size_t win_len, cfiw_module_fn mod, void *ctx, uint64_t *out, size_t max)
{
	size_t n = 0;
	if (!w || !max)
		return 0;
	out[n++] = pc;
	while (n < max) {
		const char *path;
		uint64_t bias;
		if (pc < 4096 || mod(ctx, pc, &path, &bias) < 0)
			break;
		long fi = file_index(w, path);
		struct cfi_rule r;
		/* pc is a return address: the call instruction is just before it */
		if (fi < 0 || rule_for(w, fi, pc - 1 - bias, &r) < 0 || !r.ok || r.outermost)
			break;
		uint64_t cfa = (r.cfa_rbp ? rbp : sp) + (uint64_t)(int64_t)r.cfa_off;
		uint64_t ra;
		if (cfa <= sp || read_word(win, win_addr, win_len, cfa - 8, &ra) < 0)
			break;
		if (r.rbp_saved && read_word(win, win_addr, win_len, cfa + (uint64_t)(int64_t)r.rbp_off, &rbp) < 0)
			break;
		sp = cfa;
		pc = ra;
		if (pc < 4096)
			break;
		out[n++] = pc;
	}
	return n;
}
