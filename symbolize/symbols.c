/*
 * Symbolization with libdwfl: one Dwfl per session with the process's modules
 * reported at their load bias, then address -> module+offset, symbol+offset
 * (.symtab, .dynsym, .gnu_debugdata), source file:line:column and the chain
 * of inlined calls at the address (DWARF scopes). Separate debug files are
 * found by build-id and .gnu_debuglink under /usr/lib/debug, and by
 * debuginfod only when DEBUGINFOD_URLS is set (debugfile.c).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <libiberty/demangle.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/debugfile.h"
#include "symbolize/fileutil.h"
#include "symbolize/sym_internal.h"

/* libdwfl keeps the pointer to the callbacks: they must outlive every Dwfl. */
static char *debuginfo_path; /* NULL: libdwfl's default ":.debug:/usr/lib/debug" */
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = sym_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

void sym_append_error(char **err, const char *fmt, ...)
{
	char *part = NULL, *joined = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&part, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (*err == NULL) {
		*err = part;
		return;
	}
	if (asprintf(&joined, "%s; %s", *err, part) >= 0) {
		free(*err);
		*err = joined;
	}
	free(part);
}

/* --- C++ and Rust demangling: libiberty (binutils' and gdb's demangler) -- */

char *sym_demangle(const char *name)
{
	if (name == NULL)
		return NULL;
	/* Itanium C++ and Rust legacy names start with _Z, Rust v0 with _R.
	 * DMGL_AUTO tries Rust first (a legacy Rust name is also a valid C++
	 * one, which would keep its hash and $LT$ escapes), then C++; clone
	 * suffixes (".cold", ".isra.0") are shown as "[clone .cold]". */
	if (name[0] == '_' && (name[1] == 'Z' || name[1] == 'R')) {
		char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
		if (d)
			return d;
	}
	return strdup(name);
}

/* --- session ------------------------------------------------------------ */

struct sym_session *sym_open(const struct sym_module *mods, size_t nmods)
{
	elf_version(EV_CURRENT);
	struct sym_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->dwfl = dwfl_begin(&offline_callbacks);
	if (s->dwfl == NULL) {
		free(s);
		return NULL;
	}
	dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < nmods && mods; i++) {
		if (mods[i].path == NULL || mods[i].path[0] == '\0')
			continue;
		const char *name = path_base(mods[i].path);
		/* add_p_vaddr true: the module is placed at p_vaddr + bias, which is
		 * what sym_module.bias means (with false, libdwfl would take the
		 * value as the address of the first segment instead). ET_EXEC
		 * files ignore it and sit at their link address. */
		Dwfl_Module *m = dwfl_report_elf(s->dwfl, name, mods[i].path, -1, mods[i].bias, true);
		if (m) {
			s->nmodules++;
			continue;
		}
		if (mods[i].end <= mods[i].start)
			continue; /* cannot open it and do not know where it was: skipped */
		struct sym_unopened *u = realloc(s->unopened, (s->nunopened + 1) * sizeof(*u));
		if (u == NULL)
			continue;
		s->unopened = u;
		u[s->nunopened].name = strdup(name);
		if (u[s->nunopened].name == NULL)
			continue;
		u[s->nunopened].start = mods[i].start;
		u[s->nunopened].end = mods[i].end;
		s->nunopened++;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	dwfl_errno(); /* a file that could not be opened is not an error of later calls */
	return s;
}

void sym_close(struct sym_session *s)
{
	if (s == NULL)
		return;
	dwfl_end(s->dwfl); /* also ends the attached unwinder state */
	if (s->arch_elf)
		elf_end(s->arch_elf);
	for (size_t i = 0; i < s->nunopened; i++)
		free(s->unopened[i].name);
	free(s->unopened);
	free(s->attach_error);
	free(s->raw);
	free(s);
}

static const struct sym_unopened *unopened_at(struct sym_session *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nunopened; i++)
		if (addr >= s->unopened[i].start && addr < s->unopened[i].end)
			return &s->unopened[i];
	return NULL;
}

const char *sym_module_name_at(struct sym_session *s, uint64_t addr)
{
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	if (mod)
		return dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	const struct sym_unopened *u = unopened_at(s, addr);
	return u ? u->name : NULL;
}

void sym_frames_free(struct sym_frame *frames, size_t n)
{
	for (size_t i = 0; frames && i < n; i++) {
		free(frames[i].module);
		free(frames[i].function);
		free(frames[i].file);
		free(frames[i].comp_dir);
		memset(&frames[i], 0, sizeof(frames[i]));
	}
}

/* --- address lookup ----------------------------------------------------- */

static int is_function_scope(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_entry_point;
}

/* The innermost subprogram or inlined instance below parent whose ranges
 * hold pc, looking into namespaces, classes and lexical blocks: what
 * dwarf_getscopes finds first, for the DWARF it cannot read. In code built
 * with gcc -flto an inlined instance's abstract origin is in another unit
 * (the early debug info), dwarf_getscopes looks for it in this one and
 * fails, and every inlined frame of such a program was lost. Bounded in
 * depth (the DWARF is the traced program's). */
static bool function_die_at(Dwarf_Die *parent, Dwarf_Addr pc, int depth, Dwarf_Die *out)
{
	Dwarf_Die child;
	if (depth > 64 || dwarf_child(parent, &child) != 0)
		return false;
	do {
		int tag = dwarf_tag(&child);
		bool ranged = is_function_scope(tag) || tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
			      tag == DW_TAG_catch_block;
		if (ranged && dwarf_haspc(&child, pc) == 1) {
			if (function_die_at(&child, pc, depth + 1, out))
				return true;
			if (!is_function_scope(tag))
				return false;   /* a block of the function above: it is the one */
			*out = child;
			return true;
		}
		bool holds = tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_class_type ||
			     tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
		if (holds && function_die_at(&child, pc, depth + 1, out))
			return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* The function's name as DWARF gives it (linkage name first, for C++),
 * following abstract origins and specifications; demangled. */
static char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (name == NULL)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (name == NULL)
		name = dwarf_diename(die);
	return name ? sym_demangle(name) : NULL;
}

/* The place an inlined instance was called from: its DW_AT_call_* attributes. */
static void call_site(Dwarf_Die *inlined, char **file, int *line, int *column)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;

	*file = NULL;
	*line = *column = 0;
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &v) == 0 &&
	    dwarf_diecu(inlined, &cu, NULL, NULL) != NULL && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 &&
	    v < nfiles) {
		const char *name = dwarf_filesrc(files, v, NULL, NULL);
		if (name)
			*file = strdup(name);
	}
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &v) == 0)
		*line = (int)v;
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_column, &attr), &v) == 0)
		*column = (int)v;
}

/* Symbol names as the symbol table has them can carry a version
 * ("__libc_start_main@@GLIBC_2.34"); the function is the part before '@'.
 * Returns a malloc'd, demangled name. */
static char *function_name(const char *symname)
{
	size_t n = strcspn(symname, "@");
	if (symname[n] == '\0')
		return sym_demangle(symname);
	char *plain = strndup(symname, n);
	char *d = sym_demangle(plain);
	free(plain);
	return d;
}

static int alias_score(const char *name, const GElf_Sym *sym)
{
	int underscores = 0;
	while (name[underscores] == '_')
		underscores++;
	int bind = GELF_ST_BIND(sym->st_info);
	int bind_rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
	return underscores * 4 + bind_rank;
}

/* Several names often mark the same function (glibc: __getpid and getpid,
 * raise and gsignal, __libc_start_main_impl and __libc_start_main@@...);
 * libdwfl returns one of them. Prefer the public one: fewest leading
 * underscores, then global over weak over local. Only names starting with
 * '_' (not C++ "_Z") are worth the scan of the symbol table. */
static const char *preferred_alias(Dwfl_Module *mod, const char *name, const GElf_Sym *sym, GElf_Addr addr)
{
	if (name[0] != '_' || name[1] == 'Z')
		return name;
	const char *best = name;
	int best_score = alias_score(name, sym);
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym other;
		GElf_Addr other_addr;
		const char *other_name = dwfl_module_getsym_info(mod, i, &other, &other_addr, NULL, NULL, NULL);
		if (other_name == NULL || other_name[0] == '\0' || other_addr != addr ||
		    other.st_size != sym->st_size || GELF_ST_TYPE(other.st_info) != GELF_ST_TYPE(sym->st_info))
			continue;
		int score = alias_score(other_name, &other);
		if (score < best_score || (score == best_score && strcmp(other_name, best) < 0)) {
			best = other_name;
			best_score = score;
		}
	}
	return best;
}

/* Module, offset and pc: the same for every frame of one address. */
static void fill_module(struct sym_session *s, Dwfl_Module *mod, uint64_t pc, uint64_t lookup,
			struct sym_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->pc = pc;
	if (mod) {
		Dwarf_Addr start = 0;
		const char *name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
		if (name)
			f->module = strdup(name);
		f->module_offset = pc - start;
		return;
	}
	const struct sym_unopened *u = unopened_at(s, lookup);
	if (u) {
		f->module = strdup(u->name);
		f->module_offset = pc - u->start;
	}
}

/* A frame at pc with its module and source position; takes over *file. */
static struct sym_frame *take_frame(struct sym_session *s, Dwfl_Module *mod, uint64_t pc, uint64_t lookup,
				    struct sym_frame *f, char **file, int line, int column)
{
	fill_module(s, mod, pc, lookup, f);
	f->file = *file;
	f->line = line;
	f->column = column;
	*file = NULL;
	return f;
}

const char *sym_function_name(struct sym_session *s, uint64_t pc, int is_return_address, const char **module)
{
	*module = NULL;
	if (s == NULL)
		return NULL;
	uint64_t lookup = is_return_address && pc > 0 ? pc - 1 : pc;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, lookup);
	if (mod == NULL) {
		const struct sym_unopened *u = unopened_at(s, lookup);
		if (u)
			*module = u->name;
		return NULL;
	}
	*module = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	GElf_Off sym_off = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, lookup, &sym_off, &sym, NULL, NULL, NULL);
	return name ? preferred_alias(mod, name, &sym, lookup - sym_off) : NULL;
}

size_t sym_address(struct sym_session *s, uint64_t pc, int is_return_address, struct sym_frame *out,
		   size_t max)
{
	if (s == NULL || out == NULL || max == 0)
		return 0;
	/* A return address points after the call; the call itself is at pc-1. */
	uint64_t lookup = is_return_address && pc > 0 ? pc - 1 : pc;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, lookup);

	if (mod == NULL) {
		fill_module(s, NULL, pc, lookup, &out[0]);
		return 1;
	}

	/* Symbol table: the name of the function the code belongs to. Sized
	 * symbols match only when they contain the address, so a stripped
	 * module gives a .dynsym name or none, never a neighbour's. */
	GElf_Off sym_off = 0;
	GElf_Sym sym;
	const char *symname = dwfl_module_addrinfo(mod, lookup, &sym_off, &sym, NULL, NULL, NULL);
	if (symname)
		symname = preferred_alias(mod, symname, &sym, lookup - sym_off);

	/* Source position at the address itself, from the line table. */
	char *file = NULL;
	int line = 0, column = 0;
	Dwfl_Line *dl = dwfl_module_getsrc(mod, lookup);
	if (dl) {
		const char *f = dwfl_lineinfo(dl, NULL, &line, &column, NULL, NULL);
		if (f)
			file = strdup(f);
	}

	/* DWARF scopes: the innermost function-like DIE at the address, then the
	 * concrete scopes containing it (dwarf_getscopes would continue into the
	 * abstract definition of an inline function instead). */
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, lookup, &bias);
	Dwarf_Die *scopes = NULL, *chain = NULL;
	int nscopes = cu ? dwarf_getscopes(cu, lookup - bias, &scopes) : 0;
	int nchain = 0;
	for (int i = 0; i < nscopes; i++) {
		if (is_function_scope(dwarf_tag(&scopes[i]))) {
			nchain = dwarf_getscopes_die(&scopes[i], &chain);
			break;
		}
	}
	free(scopes);
	Dwarf_Die fn;
	if (!nchain && cu && nscopes <= 0 && function_die_at(cu, lookup - bias, 0, &fn))
		nchain = dwarf_getscopes_die(&fn, &chain);

	size_t n = 0;
	int outer_done = 0;
	for (int i = 0; i < nchain && n < max; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (!is_function_scope(tag))
			continue;
		struct sym_frame *f = take_frame(s, mod, pc, lookup, &out[n++], &file, line, column);
		if (tag == DW_TAG_inlined_subroutine) {
			f->inlined = 1;
			f->function = die_function_name(&chain[i]);
			/* The next (outer) frame is at the call of this instance. */
			call_site(&chain[i], &file, &line, &column);
			continue;
		}
		/* The real function: the symbol table names the code (c.cold,
		 * foo.constprop.0), DWARF only when there is no symbol. */
		if (symname) {
			f->function = function_name(symname);
			f->function_offset = sym_off + (pc - lookup);
		} else {
			Dwarf_Addr low;
			f->function = die_function_name(&chain[i]);
			if (dwarf_lowpc(&chain[i], &low) == 0 && pc >= low + bias)
				f->function_offset = pc - (low + bias);
		}
		outer_done = 1;
		break;
	}
	free(chain);
	/* a relative file is named from the compilation directory (the CI
	 * formats need the whole path to name it from the source root) */
	Dwarf_Attribute cd_attr;
	const char *comp_dir = cu ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &cd_attr)) : NULL;

	if (!outer_done && n < max) {
		/* No DWARF, or inline frames without their containing function. */
		struct sym_frame *f = take_frame(s, mod, pc, lookup, &out[n++], &file, line, column);
		if (symname) {
			f->function = function_name(symname);
			f->function_offset = sym_off + (pc - lookup);
		}
	}
	free(file);
	for (size_t i = 0; comp_dir && i < n; i++)
		if (out[i].file && out[i].file[0] != '/')
			out[i].comp_dir = strdup(comp_dir);
	return n;
}
