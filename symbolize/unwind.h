/*
 * Symbolization and DWARF unwinding after the fact, from state captured by
 * the BPF side at a fatal signal: the user registers and a copy of the top of
 * the user stack. The process is usually gone by then, so the modules come
 * from the model (path and load bias), not from /proc.
 */
#ifndef ETRACE_UNWIND_H
#define ETRACE_UNWIND_H

#include <stddef.h>
#include <stdint.h>

/* One mapped ELF file of the process. */
struct sym_module {
	const char *path;     /* file on disk ("/usr/lib/x86_64-linux-gnu/libc.so.6") */
	uint64_t bias;        /* load bias: runtime address = ELF vaddr + bias */
	/* Optional, 0/0 when unknown: the mapped range [start, end). Used only
	 * when the file cannot be opened (deleted, replaced, no permission), so
	 * that addresses in it still show "name+0xoffset" (offset from start). */
	uint64_t start, end;
};

/* x86_64 user registers, in struct pt_regs field terms. */
struct sym_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	uint64_t rip, rsp, eflags;
};

struct sym_frame {
	uint64_t pc;              /* address (for callers: the return address - 1 is looked up) */
	char *module;             /* basename of the module, or NULL when no module covers pc */
	uint64_t module_offset;   /* pc - module load address (its lowest PT_LOAD, page aligned), like
	                           * perf/ASan "+0x1234"; when that PT_LOAD is at 0 (shared objects,
	                           * PIEs) this is the ELF virtual address, what addr2line -e FILE wants */
	char *function;           /* symbol name, or NULL: the public alias when several names mark the
	                           * function (getpid, not __getpid), without a symbol version
	                           * ("@@GLIBC_2.34"), demangled for C++ */
	uint64_t function_offset; /* pc - symbol start (0 for inlined frames) */
	char *file;               /* source file as the line table names it (absolute, or relative to
	                           * the build directory as in glibc's), or NULL */
	int line;                 /* 0 when unknown */
	int column;
	char *comp_dir;           /* the compilation directory a relative file is named from (DWARF's
	                           * DW_AT_comp_dir), or NULL */
	int inlined;              /* 1: an inlined call inside the next (outer) frame at the same pc */
};

struct sym_backtrace {
	struct sym_frame *frames;
	size_t nframes;
	int truncated;            /* stopped at the frame limit or the end of the stack copy */
	char *error;              /* why unwinding stopped early, or NULL */
};

struct sym_session;

/* A session for one process image: modules are reported once, then any
 * number of addresses or backtraces can be resolved. Modules whose file
 * cannot be opened are skipped (see sym_module.start). Returns NULL only when
 * out of memory. A session is not thread safe. Separate debug files are found
 * by build-id and .gnu_debuglink under /usr/lib/debug; debuginfod is asked
 * (and its client library loaded) only when DEBUGINFOD_URLS is set
 * (debugfile.h). */
struct sym_session *sym_open(const struct sym_module *mods, size_t nmods);
void sym_close(struct sym_session *s);

/* Symbolizes one address (is_return_address: look up pc-1). Fills frames for
 * the address and the inline chain at it (innermost first); returns how many
 * (at least 1 when max > 0; when the chain is longer than max, the innermost
 * max). The strings in the frames are malloc'd: free them with sym_frames_free. */
size_t sym_address(struct sym_session *s, uint64_t pc, int is_return_address, struct sym_frame *out,
		   size_t max);
/* The module and the function at an address from the symbol tables alone:
 * no line table and no inline chain, so no debug information is read or
 * inflated (a decision that needs names, not positions). *module is the
 * module's name or NULL; both strings are the session's, valid until
 * sym_close. NULL when no symbol covers the address. */
const char *sym_function_name(struct sym_session *s, uint64_t pc, int is_return_address, const char **module);
/* Frees the strings of frames[0..n) (not the array) and clears them. */
void sym_frames_free(struct sym_frame *frames, size_t n);

/* Unwinds with DWARF CFI (and frame pointers as fallback) from regs, reading
 * stack memory only from the copy [stack_addr, stack_addr + stack_len).
 * The first frame is regs->rip itself; callers are return addresses. When
 * rip is in no module (a call through a bad function pointer) and the word at
 * rsp points into one, that word is taken as the caller's return address.
 * When DWARF stops after the first frame, the rbp chain is followed (error
 * then says so). out->frames holds at most max_frames entries, inlined frames
 * included (max_frames 0: 256); truncated is set when more frames followed
 * or the stack copy ended before the outermost frame. Returns 0 when at
 * least the first frame was produced, -1 on bad arguments or out of memory.
 * Always free out with sym_backtrace_free (also after -1); the backtrace
 * does not depend on the session. */
int sym_unwind(struct sym_session *s, const struct sym_regs *regs, const void *stack, size_t stack_len,
	       uint64_t stack_addr, size_t max_frames, struct sym_backtrace *out);
void sym_backtrace_free(struct sym_backtrace *bt);

/* Demangles a C++ (Itanium ABI, "_Z...") or Rust (legacy "_ZN...17h<hash>E",
 * v0 "_R...") name with libiberty's cplus_demangle (parameters shown, Rust
 * hashes hidden). Returns a malloc'd string: the demangled name, or a copy
 * of name when it is not mangled. */
char *sym_demangle(const char *name);

#endif
