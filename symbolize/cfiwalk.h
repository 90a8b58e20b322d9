/*
 * A small unwinder for the heap records: from a return address, the stack
 * pointer and frame pointer the caller had, and a copy of the top of its
 * stack, it finds the callers above by each one's call frame information
 * (.eh_frame, read with libdw). It handles what compilers emit for x86-64
 * code: a CFA of rsp + N or rbp + N, rbp saved at CFA + N. The rule of each
 * code address is looked up once and cached: a hot allocation site costs a
 * few table lookups.
 */
#ifndef ETRACE_CFIWALK_H
#define ETRACE_CFIWALK_H

#include <stddef.h>
#include <stdint.h>

struct cfi_walker;

/* Which module holds a code address: its file and load bias (runtime
 * address = ELF vaddr + bias). Returns 0, or -1 when no module does. */
typedef int (*cfiw_module_fn)(void *ctx, uint64_t pc, const char **path, uint64_t *bias);

struct cfi_walker *cfiw_new(void);
void cfiw_free(struct cfi_walker *w);

/* out[0] = pc (a return address into the caller, whose stack pointer after
 * the call was sp and frame pointer rbp); then each caller's return
 * address, read from win (a copy of the stack at win_addr, win_len bytes).
 * Stops at max, at an address without a module or CFI, at a rule it does
 * not handle, or at the end of the copy. Returns the number of frames. */
size_t cfiw_unwind(struct cfi_walker *w, uint64_t pc, uint64_t sp, uint64_t rbp, const uint8_t *win,
		   uint64_t win_addr, size_t win_len, cfiw_module_fn mod, void *ctx, uint64_t *out, size_t max);

#endif
