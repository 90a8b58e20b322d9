/*
 * Where to put a uprobe in an x86-64 function so that the kernel emulates
 * the probed instruction instead of single-stepping it out of line (about
 * 0.45 us against 15.7 us per hit), without changing what the probe sees.
 *
 * The function's instructions are decoded (capstone) from its start. The
 * probe goes on the first instruction the kernel emulates, provided every
 * instruction before it is executed by every call and is harmless: it does
 * not transfer control, write an argument register (rdi, rsi, rdx, rcx, r8,
 * r9), write memory, read memory through a register (a bad pointer would
 * fault before the probe and the call would go unrecorded), or change rsp
 * except by push (the bytes pushed are counted: sp_delta). Nothing in the
 * function may branch directly into (0, offset]. With need_return (a
 * uretprobe too, which the kernel installs by overwriting *sp at the probe)
 * the point must also have sp_delta == 0. Otherwise, or when the function
 * cannot be decoded completely, the probe stays at offset 0, which is
 * always correct.
 *
 * Not checked (cannot be, from one function's bytes): indirect jumps back
 * into the prologue, and jumps into it from other functions (GCC's .cold
 * fragments jump back into the body, in practice never into the few
 * instructions before the first push).
 */
#ifndef ETRACE_PROBEPLACE_H
#define ETRACE_PROBEPLACE_H

#include <stddef.h>
#include <stdint.h>

struct probe_place {
	uint64_t offset;     /* bytes from the function's start where the probe goes */
	int sp_delta;        /* bytes pushed before that point: return address at sp + sp_delta */
	int emulated;        /* 1: the kernel emulates the instruction there (no single-step) */
	char insn[48];       /* the instruction at the probe point, as text ("push r12") */
	char why[160];       /* one line: why this point (or why the fallback to 0) */
};

/* code: the function's bytes (len = its st_size); need_return: the function
 * also gets a uretprobe (the point must have sp_delta 0). All six argument
 * registers are kept intact up to the probe. Returns 0 (out filled; never
 * fails for valid input: fallback 0), -1 on bad arguments (errno EINVAL).
 * On the fallback, emulated is 0 unless the instruction at 0 happens to be
 * emulated anyway (a function that starts with a push but does not decode
 * completely), and why starts with "fallback". */
int probe_place(const uint8_t *code, size_t len, int need_return, struct probe_place *out);

/* The same, keeping only the first nargs (0..6) argument registers intact
 * (rdi, rsi, rdx, rcx, r8, r9 in that order): for a caller that records
 * only those, e.g. nargs 1 for _exit, whose glibc prologue loads r8, esi
 * and edx before its first emulated instruction. */
int probe_place_args(const uint8_t *code, size_t len, int need_return, int nargs, struct probe_place *out);

/* Convenience: reads the bytes of the function at file offset `file_offset`
 * (size bytes) from the ELF file path and calls probe_place (nargs: as in
 * probe_place_args; 6 for all). Returns -1 with errno on I/O error (EIO when
 * the file is shorter than file_offset + size). */
int probe_place_file(const char *path, uint64_t file_offset, uint64_t size, int need_return,
		     struct probe_place *out);
int probe_place_file_args(const char *path, uint64_t file_offset, uint64_t size, int need_return, int nargs,
			  struct probe_place *out);

/* How the kernel's x86 uprobes handle one instruction. */
enum probe_insn_kind {
	PROBE_INSN_STEPPED = 0,   /* copied and single-stepped out of line (slow) */
	PROBE_INSN_EMULATED = 1,  /* emulated in the int3 handler (fast) */
	PROBE_INSN_REJECTED = 2,  /* the kernel refuses the probe (bad prefix), or would
				   * emulate it wrongly (REX.B 0x90 is xchg, not nop) */
	PROBE_INSN_INVALID = 3,   /* not decodable */
};

/* What the kernel does with the instruction at code[0..len) (only its
 * first instruction counts). */
enum probe_insn_kind probe_insn_kind(const uint8_t *code, size_t len);

/* Whether the instruction at code[0..len) is emulated by the kernel's x86
 * uprobes (exposed for tests): 1 or 0. */
int probe_insn_emulated(const uint8_t *code, size_t len);

/* The kernel whose emulation rules apply (they changed for NOPs in 6.16 and
 * 6.19, see probeplace.c). 0, 0: the running kernel's, from uname(2), the
 * default. Set it before calling the functions above from several threads. */
void probe_place_kernel(int major, int minor);

#endif
