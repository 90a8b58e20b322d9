/* A data address named as the variable it is: the ELF symbol (an object in
 * .data or .bss, a TLS variable) that contains it. */
#ifndef ETRACE_DATASYM_H
#define ETRACE_DATASYM_H

#include <stddef.h>
#include <stdint.h>
#include "unwind.h"

struct sym_data {
	char *name;             /* the variable ("accounts"), demangled; NULL: no symbol contains it */
	uint64_t offset;        /* addr - the variable's start */
	uint64_t size;          /* the variable's size */
	char *module;           /* basename of the module, NULL when no module covers addr */
	uint64_t module_offset;
};

/* Fills out for addr (free with sym_data_free). Returns 0 when a module
 * covers addr (with or without a symbol), -1 otherwise. */
int sym_data_at(struct sym_session *s, uint64_t addr, struct sym_data *out);
void sym_data_free(struct sym_data *d);

#endif
