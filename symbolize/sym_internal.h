/* Shared between symbolize/symbols.c (session, address lookup) and
 * symbolize/unwind.c (DWARF unwinding). Not part of the public interface. */
#ifndef ETRACE_SYM_INTERNAL_H
#define ETRACE_SYM_INTERNAL_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>

#include "symbolize/unwind.h"

/* A module whose file could not be opened but whose mapped range is known. */
struct sym_unopened {
	char *name;
	uint64_t start, end;
};

/* One physical frame found by the unwinder, before symbolization. */
struct sym_rawframe {
	uint64_t pc;
	int is_return; /* pc is a return address: look up pc-1 */
};

struct sym_session {
	Dwfl *dwfl;
	size_t nmodules;                 /* modules libdwfl could open */
	struct sym_unopened *unopened;
	size_t nunopened;

	/* dwfl_attach_state is done once, on the first sym_unwind. */
	int attach_state; /* 0 not tried, 1 attached, -1 failed */
	char *attach_error;
	Elf *arch_elf;                   /* an x86_64 ELF header for the unwinder when no module has one */
	Elf64_Ehdr arch_ehdr;            /* its bytes (elf_memory does not copy) */

	/* The state of the sym_unwind call in progress (read by the callbacks). */
	Dwarf_Word init_regs[17];        /* DWARF numbering, 16 = return address/rip */
	uint64_t init_pc;
	const unsigned char *stack;
	size_t stack_len;
	uint64_t stack_addr;
	int read_failed;                 /* a read outside the copy during the last unwind step */
	uint64_t read_fail_addr;
	int report_first_as_return;      /* pass 2: the first frame is a return address */
	size_t pass_frames;              /* frames seen by the current pass */
	struct sym_rawframe *raw;
	size_t nraw, rawcap, maxraw;
	int hit_limit;                   /* a frame arrived after maxraw were collected */
	int looped;
	uint64_t last_pc, last_sp;
	int have_last;
};

/* Reads 8 bytes at addr from the stack copy; false outside it. */
bool sym_stack_read(struct sym_session *s, uint64_t addr, uint64_t *val);

/* Name of the module containing addr ("libc.so.6"), or NULL. */
const char *sym_module_name_at(struct sym_session *s, uint64_t addr);

/* Appends to a malloc'd string a printf-formatted part ("; " between parts). */
void sym_append_error(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
