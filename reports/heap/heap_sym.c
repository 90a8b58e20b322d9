/* Symbolization of the heap's stacks (one session per process and module
 * set) and the suppressions that match them. */
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include "symbolize/fileutil.h"
#include "heap_int.h"

#define SYM_INLINE_MAX 8             /* frames per address (inline chain) */

/* ---- symbolization --------------------------------------------------------------------- */

static struct codefile *codefile_get(struct et_heap *H, const char *path)
{
	for (size_t i = 0; i < H->ncodefiles; i++)
		if (strcmp(H->codefiles[i].path, path) == 0)
			return H->codefiles[i].nseg ? &H->codefiles[i] : NULL;
	H->codefiles = xrealloc(H->codefiles, (H->ncodefiles + 1) * sizeof(*H->codefiles));
	struct codefile *cf = &H->codefiles[H->ncodefiles++];
	memset(cf, 0, sizeof(*cf));
	cf->path = xstrdup(path);
	cf->fd = -1;
	elf_version(EV_CURRENT);
	cf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (cf->fd < 0)
		return NULL;
	cf->elf = elf_begin(cf->fd, ELF_C_READ_MMAP, NULL);
	size_t phnum = 0;
	if (!cf->elf || elf_kind(cf->elf) != ELF_K_ELF || elf_getphdrnum(cf->elf, &phnum) != 0)
		return NULL;
	for (size_t i = 0; i < phnum && cf->nseg < sizeof(cf->seg) / sizeof(cf->seg[0]); i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(cf->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || !ph.p_filesz)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(cf->elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (!d || !d->d_buf)
			continue;
		cf->seg[cf->nseg++] = (struct codeseg){ ph.p_vaddr, d->d_size, d->d_buf };
	}
	return cf->nseg ? cf : NULL;
}

/* Whether the bytes before offset off are a call: e8 rel32, or ff /2 in
 * any addressing form (with a REX prefix, notrack or a segment override). */
static bool after_call(const uint8_t *d, uint64_t off)
{
	if (off >= 5 && d[off - 5] == 0xe8)
		return true;
	const uint8_t *end = d + off;
	for (unsigned k = 2; k <= 9 && k <= off; k++) {
		const uint8_t *q = end - k;
		if (*q == 0x3e || *q == 0x2e || *q == 0x64 || *q == 0x65)
			q++;
		if (q < end && (*q & 0xf0) == 0x40)
			q++;
		if (q + 1 >= end || *q != 0xff)
			continue;
		uint8_t modrm = q[1];
		q += 2;
		if (((modrm >> 3) & 7) != 2)
			continue;
		unsigned mod = modrm >> 6, rm = modrm & 7;
		size_t disp = 0;
		if (mod != 3 && rm == 4) {
			if (q >= end)
				continue;
			uint8_t sib = *q++;
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
		}
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || (mod == 0 && rm == 5))
			disp = 4;
		if (q + disp == end)
			return true;
	}
	return false;
}

/* A frame-pointer frame is believed when its return address is in the code
 * of a module of the process, right after a call instruction. */
static bool frame_valid(struct et_heap *H, const struct et_process *p, uint64_t ra)
{
	for (size_t i = 0; i < p->nmodules; i++) {
		struct codefile *cf = module_file(&p->modules[i]) ? codefile_get(H, p->modules[i].path) : NULL;
		if (!cf)
			continue;
		uint64_t v = ra - p->modules[i].bias;
		for (size_t s = 0; s < cf->nseg; s++) {
			const struct codeseg *sg = &cf->seg[s];
			if (v > sg->vaddr && v - sg->vaddr <= sg->size)
				return after_call(sg->data, v - sg->vaddr);
		}
	}
	return false;
}

/* The module of p whose code contains addr, or NULL. */
const struct et_module *heap_code_module(struct et_heap *H, const struct et_process *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nmodules; i++) {
		struct codefile *cf = module_file(&p->modules[i]) ? codefile_get(H, p->modules[i].path) : NULL;
		if (!cf)
			continue;
		uint64_t v = addr - p->modules[i].bias;
		for (size_t s = 0; s < cf->nseg; s++)
			if (v > cf->seg[s].vaddr && v - cf->seg[s].vaddr <= cf->seg[s].size)
				return &p->modules[i];
	}
	return NULL;
}

static bool runtime_module(const char *mod);

/* The functions of cf named operator new or delete (_Znw*, _Zna*, _Zdl*,
 * _Zda*), from .symtab and .dynsym. */
static void read_newdel(struct codefile *cf)
{
	cf->newdel_read = true;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(cf->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n && cf->nnewdel < 64; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_size ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			const char *name = elf_strptr(cf->elf, sh.sh_link, sym.st_name);
			if (!name || strncmp(name, "_Z", 2) != 0)
				continue;
			bool is_new = strncmp(name + 2, "nw", 2) == 0 || strncmp(name + 2, "na", 2) == 0;
			if (!is_new && strncmp(name + 2, "dl", 2) != 0 && strncmp(name + 2, "da", 2) != 0)
				continue;
			bool dup = false;
			for (size_t k = 0; k < cf->nnewdel && !dup; k++)
				dup = cf->newdel[k].lo == sym.st_value;
			if (dup)
				continue;
			cf->newdel = xrealloc(cf->newdel, (cf->nnewdel + 1) * sizeof(*cf->newdel));
			cf->newdel[cf->nnewdel++] = (struct newdel_fn){ sym.st_value, sym.st_value + sym.st_size, is_new };
		}
	}
}

/* Whether the call was made from inside an operator new (is_new) or
 * delete of a module: its caller, frames[0], is in one. */
bool heap_caller_is_newdel(struct et_heap *H, const struct et_process *p, uint32_t stack, bool is_new)
{
	if (stack >= H->nstacks || !H->stacks[stack].n)
		return false;
	uint64_t ra = H->pool[H->stacks[stack].off];
	const struct et_module *mod = heap_code_module(H, p, ra);
	struct codefile *cf = mod ? codefile_get(H, mod->path) : NULL;
	if (!cf)
		return false;
	if (!cf->newdel_read)
		read_newdel(cf);
	uint64_t v = ra - mod->bias;
	for (size_t i = 0; i < cf->nnewdel; i++)
		if (cf->newdel[i].is_new == is_new && v > cf->newdel[i].lo && v <= cf->newdel[i].hi)
			return true;   /* a return address: after the call, up to the end */
	return false;
}

/* Whether the call was made by the C runtime itself (its caller, frames[0],
 * is in ld.so, libc, libstdc++, ...). */
bool heap_caller_in_runtime(struct et_heap *H, const struct et_process *p, uint32_t stack)
{
	if (stack >= H->nstacks || !H->stacks[stack].n)
		return false;
	const struct et_module *mod = heap_code_module(H, p, H->pool[H->stacks[stack].off]);
	if (!mod)
		return false;
	return runtime_module(path_base(mod->path));
}

static struct sym_session *hp_session(struct et_heap *H, struct heap_proc *hp)
{
	if (hp->sess_tried)
		return hp->sess;
	const struct et_process *p = hp->proc;
	struct sym_module *mods = xcalloc(p->nmodules ? p->nmodules : 1, sizeof(*mods));
	size_t n = 0;
	for (size_t i = 0; i < p->nmodules; i++)
		if (module_file(&p->modules[i]))   /* never another file's symbols */
			mods[n++] = (struct sym_module){ .path = p->modules[i].path, .bias = p->modules[i].bias };
	hp->sess = sym_open(mods, n);
	hp->sess_tried = true;
	free(mods);
	if (H->nopen == H->cap_open) {
		H->cap_open = H->cap_open ? H->cap_open * 2 : 8;
		H->open = xrealloc(H->open, H->cap_open * sizeof(*H->open));
	}
	H->open[H->nopen++] = hp;
	return hp->sess;
}

/* Sessions hold files open: closed after each report part. */
void heap_close_sessions(struct et_heap *H)
{
	for (size_t i = 0; i < H->nopen; i++) {
		sym_close(H->open[i]->sess);
		H->open[i]->sess = NULL;
		H->open[i]->sess_tried = false;
	}
	H->nopen = 0;
}

/* The return addresses of stack id worth symbolizing: up to the first that
 * follows no call (a frame walk gone astray); *cut when the walk stopped
 * early or found the caller alone. */
static size_t kept_frames(struct et_heap *H, struct heap_proc *hp, uint32_t id, const uint64_t **frames, bool *cut)
{
	size_t n = 0;
	const uint64_t *f = NULL;
	if (id < H->nstacks) {
		n = H->stacks[id].n;
		f = H->pool + H->stacks[id].off;
	}
	*frames = f;
	size_t keep = n ? 1 : 0; /* frames[0] is exact */
	for (size_t i = 1; i < n; i++) {
		if (!frame_valid(H, hp->proc, f[i])) {
			*cut = true;
			break;
		}
		keep++;
	}
	/* the caller alone: neither its frame pointer nor its CFI led further */
	if (n == 1)
		*cut = true;
	return keep;
}

struct symstack *symstack_get(struct et_heap *H, struct heap_proc *hp, uint32_t id)
{
	uint64_t v;
	if (map_get(&hp->syms, (uint64_t)id + 1, &v))
		return (struct symstack *)(uintptr_t)v;
	struct symstack *ss = xcalloc(1, sizeof(*ss));
	ss->supp = -1;
	const uint64_t *f = NULL;
	size_t keep = kept_frames(H, hp, id, &f, &ss->cut);
	ss->nraw = keep;
	ss->frames = xcalloc(keep * SYM_INLINE_MAX, sizeof(*ss->frames));
	struct sym_session *s = keep ? hp_session(H, hp) : NULL;
	for (size_t i = 0; i < keep; i++) {
		size_t got = s ? sym_address(s, f[i], 1, ss->frames + ss->nframes, SYM_INLINE_MAX) : 0;
		if (!got)
			ss->frames[ss->nframes].pc = f[i];
		ss->nframes += got ? got : 1;
	}
	if (H->nsyms == H->cap_syms) {
		H->cap_syms = H->cap_syms ? H->cap_syms * 2 : 64;
		H->syms = xrealloc(H->syms, H->cap_syms * sizeof(*H->syms));
	}
	H->syms[H->nsyms++] = ss;
	map_put(&hp->syms, (uint64_t)id + 1, (uint64_t)(uintptr_t)ss);
	return ss;
}

void symstack_free(struct symstack *ss)
{
	sym_frames_free(ss->frames, ss->nframes);
	free(ss->frames);
	free(ss);
}

/* ---- suppressions ------------------------------------------------------------------------ */

/* The C runtime: what it allocates for itself is not the program's leak,
 * and what it frees that is not live is its cache handed back (tcache at
 * thread exit), not an error. */
static bool runtime_module(const char *mod)
{
	static const char *const pats[] = { "ld-linux*", "ld-*.so*", "libc.so*", "libc-*.so", "libstdc++.so*",
					    "libgcc_s*", "libm.so*", "libm-*.so" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], mod, 0) == 0)
			return true;
	return false;
}

/* Leaks only: CPython's interpreter (its executable when built statically,
 * as pyenv's, or libpython) allocating for itself, with the C runtime's
 * frames. A stack with a frame anywhere else (an extension module, ctypes'
 * libffi) is not theirs alone. CPython frees little at exit and leaks on
 * purpose at fork and when a daemon thread meets finalization; a Python
 * program cannot fix either. Not for frees: a double free through
 * PyMem_Free from an extension must stay an error. */
static bool leak_owner_module(const char *mod)
{
	static const char *const pats[] = { "python[23]", "python[23].[0-9]*", "libpython[23].*.so*" };
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], mod, 0) == 0)
			return true;
	return runtime_module(mod);
}

/* glibc's internal functions, for a static executable (the C library is
 * inside it): the loader's (_dl_*), libc's (__libc_*), stdio's (_IO_*),
 * locale (_nl_*) and iconv (__gconv*) machinery. */
static bool runtime_function(const char *fn)
{
	static const char *const pats[] = { "_dl_*", "__libc_*", "_IO_*", "_nl_*", "__gconv*", "__GI_*", "tcache_*",
					    "_start", "call_init", "_init" };
	for (size_t i = 0; fn && i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], fn, 0) == 0)
			return true;
	return false;
}

static bool symstack_suppressed(const struct et_heap *H, struct symstack *ss)
{
	if (ss->supp >= 0)
		return ss->supp;
	bool runtime = ss->nframes > 0, user = false;
	for (size_t i = 0; i < ss->nframes; i++) {
		const struct sym_frame *f = &ss->frames[i];
		if (!(f->module && leak_owner_module(f->module)) && !runtime_function(f->function))
			runtime = false;
	}
	user = supp_match_lsan(H->supp, ss->frames, ss->nframes);
	ss->supp = runtime || user;
	return ss->supp;
}

struct symstack *group_sym(struct et_heap *H, struct heap_proc *hp, struct leak_group *g)
{
	if (!g->sym)
		g->sym = symstack_get(H, hp, g->stack);
	return g->sym;
}

static unsigned supp_kind(int hs)
{
	return hs == HS_DEFINITE ? SUPP_DEFINITE : hs == HS_INDIRECT ? SUPP_INDIRECT : hs == HS_POSSIBLE ? SUPP_POSSIBLE
											  : SUPP_REACHABLE;
}

/* The runtime rule decided from the symbol tables alone, when no
 * suppression file is loaded: 1 when every frame is in a runtime module, 0
 * at the first frame that is in none and whose function is no runtime
 * function, -1 when only the whole symbolization can tell (a runtime
 * function's name outside a runtime module, as in a static program: its
 * inline chain decides). A group judged so is not symbolized unless it is shown: gcc's
 * hundreds of leak groups in cc1 (counted as a system program's) cost the
 * inflating of libc's separate debug information, ~100 ms, for nothing. */
static int quick_suppressed(struct et_heap *H, struct heap_proc *hp, struct leak_group *g)
{
	if (g->sym || supp_count(H->supp))
		return -1;
	if (g->quick)
		return g->quick - 2;
	const uint64_t *f = NULL;
	bool cut = false;
	size_t keep = kept_frames(H, hp, g->stack, &f, &cut);
	struct sym_session *s = keep ? hp_session(H, hp) : NULL;
	if (!s)
		return -1;
	for (size_t i = 0; i < keep; i++) {
		const char *module = NULL;
		const char *fn = sym_function_name(s, f[i], 1, &module);
		if (module && leak_owner_module(module))
			continue;
		/* no name at all (a stripped program: Debian's cc1) is no
		 * runtime function either: a separate debug file would have
		 * given its symbol table */
		g->quick = fn && runtime_function(fn) ? 1 : 2;
		return g->quick - 2;
	}
	g->quick = 3;
	return 1;
}

/* The runtime's own, an LSan rule for the stack, or a valgrind entry for
 * the stack, its allocating function and its kind of leak. */
bool group_suppressed(struct et_heap *H, struct heap_proc *hp, struct leak_group *g)
{
	int quick = quick_suppressed(H, hp, g);
	if (quick >= 0)
		return quick;
	struct symstack *ss = group_sym(H, hp, g);
	if (symstack_suppressed(H, ss))
		return true;
	return supp_match_leak(H->supp, heap_op_name(g->op), ss->frames, ss->nframes, supp_kind(g->kind));
}
