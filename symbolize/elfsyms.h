/*
 * The functions an ELF executable defines, for --trace-func: their names
 * (from .symtab, else .dynsym), addresses, where their first instruction is
 * in the file (what a uprobe is attached at), and, when the file has DWARF,
 * their parameters and return type, so that the argument registers a uprobe
 * records can be shown as the source declares them.
 */
#ifndef ETRACE_ELFSYMS_H
#define ETRACE_ELFSYMS_H

#include <stddef.h>
#include <stdint.h>

enum elfsym_kind {
	ELFSYM_UNKNOWN = 0,   /* no DWARF: the value is shown by a guess */
	ELFSYM_VOID,          /* return type void: no value */
	ELFSYM_SIGNED,
	ELFSYM_UNSIGNED,
	ELFSYM_BOOL,
	ELFSYM_POINTER,
	ELFSYM_FLOAT,         /* passed in an SSE register: not recorded */
	ELFSYM_OTHER,         /* struct, union, array, __int128 by value: not recorded */
};

struct elfsym_type {
	uint8_t kind;         /* enum elfsym_kind */
	uint8_t size;         /* bytes, for SIGNED and UNSIGNED */
};

#define ELFSYM_PARAMS 8       /* parameters described; more are shown as "..." */
#define ELFSYM_ARG_REGS 4     /* integer argument registers a uprobe records */

/* What DWARF says of a function's signature. */
struct elfsym_proto {
	int known;            /* 0: nothing (no DWARF, or a compiler clone like foo.isra.0) */
	int nparams;          /* declared parameters (the fixed ones of a variadic function) */
	int variadic;
	char *names[ELFSYM_PARAMS];       /* NULL when unnamed */
	struct elfsym_type params[ELFSYM_PARAMS];
	struct elfsym_type ret;
};

struct elfsym_func {
	char *name;           /* the preferred name among the aliases at its address */
	char **aliases;       /* the other names at that address, NULL-terminated; or NULL */
	uint64_t addr;        /* st_value */
	uint64_t size;
	uint64_t file_offset; /* of the first instruction, what uprobes take */
	int is_entry;         /* the ELF entry point (_start): not called, no return address */
	struct elfsym_proto proto;
};

struct elfsyms {
	struct elfsym_func *funcs;  /* sorted by address, one per address */
	size_t n;
	const char *table;          /* ".symtab", ".dynsym", or NULL when the file has neither */
};

/* Reads the defined functions (STT_FUNC, size > 0) of an ELF file. GCC's
 * ".cold" fragments are left out: they are jumped to, not called, so a
 * uretprobe there would overwrite whatever is at the stack pointer. Returns
 * 0, or -1 with a message ("PATH: not an ELF file") in err. */
int elfsyms_read(const char *path, struct elfsyms *out, char *err, size_t errlen);

/* Marks sel[i] = 1 for each function a glob(7) pattern matches (any of its
 * names, fnmatch(3)). Returns how many it matched, marked before or not. */
size_t elfsyms_glob(const struct elfsyms *s, const char *pattern, unsigned char *sel);

/* Fills the proto of each function with sel[i] set (sel NULL: all) from the
 * file's own DWARF. Returns how many were described. */
size_t elfsyms_protos(const char *path, struct elfsyms *s, const unsigned char *sel);

/* Frees what one function owns (for a function moved out of the table). */
void elfsym_func_free(struct elfsym_func *f);
void elfsyms_free(struct elfsyms *s);

/* One value as its type says: "NULL", "0x7ffd1234", "-3", "42", "true", "?".
 * ELFSYM_UNKNOWN guesses: small numbers in decimal (negative ones too, as
 * 64- or 32-bit values), the rest in hex. */
void elfsym_format_value(struct elfsym_type t, uint64_t v, char *buf, size_t len);

/* How many arguments a call shows: the declared ones (at most
 * ELFSYM_PARAMS), or ELFSYM_ARG_REGS when the signature is unknown. */
int elfsym_nargs(const struct elfsym_func *f);
/* Argument i of a call as text in buf ("?" when its register was not
 * recorded: floating point, after a struct by value, past the fourth
 * integer register); returns its name, or NULL. */
const char *elfsym_arg(const struct elfsym_func *f, const uint64_t regs[ELFSYM_ARG_REGS], int i, char *buf,
		       size_t len);
/* "name(a=1, p=0x7ffd..., x=?)" from the argument registers at entry, or
 * "name(0x7ffd..., 3, 0, 0)" when the signature is unknown. */
void elfsym_format_entry(const struct elfsym_func *f, const uint64_t regs[ELFSYM_ARG_REGS], char *buf, size_t len);
/* "name = 1", or just "name" for a void function. */
void elfsym_format_return(const struct elfsym_func *f, uint64_t ret, char *buf, size_t len);

#endif
