/* The address a faulting x86-64 instruction used, computed from its memory
 * operand and the registers at the fault: for a general protection fault
 * (a non-canonical address) the kernel gives none (si_addr 0). */
#ifndef ETRACE_FAULTADDR_H
#define ETRACE_FAULTADDR_H

#include <stddef.h>
#include <stdint.h>

struct fault_operand {
	uint64_t address;    /* base + index * scale + displacement */
	char insn[192];      /* "mov rax, qword ptr [rdi - 8]" */
	int write;           /* the operand is written (else read) */
	unsigned size;       /* bytes accessed through it (0: unknown) */
};

/* path: the ELF file mapped at bias; rip: the faulting instruction;
 * regs: struct pt_regs in x86_64 order (r15 .. ss, as ev_crash has them).
 * Returns 0 with out filled, -1 when the instruction cannot be read or
 * decoded, has no memory operand, or uses fs/gs or a register not in
 * pt_regs. */
int fault_operand_address(const char *path, uint64_t bias, uint64_t rip, const uint64_t regs[21],
			  struct fault_operand *out);

#endif
