/* Decodes the faulting instruction (capstone) from the module's file: the
 * process is gone when the report is written, its code is not. */
#include "faultaddr.h"

#include <capstone/capstone.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* pt_regs index of a 64-bit general register, -1 if none */
static int reg_index(x86_reg r)
{
	switch (r) {
	case X86_REG_R15: return 0;
	case X86_REG_R14: return 1;
	case X86_REG_R13: return 2;
	case X86_REG_R12: return 3;
	case X86_REG_RBP: return 4;
	case X86_REG_RBX: return 5;
	case X86_REG_R11: return 6;
	case X86_REG_R10: return 7;
	case X86_REG_R9: return 8;
	case X86_REG_R8: return 9;
	case X86_REG_RAX: return 10;
	case X86_REG_RCX: return 11;
	case X86_REG_RDX: return 12;
	case X86_REG_RSI: return 13;
	case X86_REG_RDI: return 14;
	case X86_REG_RIP: return 16;
	case X86_REG_RSP: return 19;
	default: return -1;
	}
}

/* Up to len bytes of the file at virtual address vaddr (an executable
 * PT_LOAD segment). Returns the bytes read, 0 if none. */
static size_t read_code(const char *path, uint64_t vaddr, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t got = 0;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	size_t n = 0;
	if (e && elf_getphdrnum(e, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
				continue;
			if (vaddr < ph.p_vaddr || vaddr >= ph.p_vaddr + ph.p_filesz)
				continue;
			uint64_t avail = ph.p_vaddr + ph.p_filesz - vaddr;
			size_t want = avail < len ? (size_t)avail : len;
			ssize_t r = pread(fd, buf, want, (off_t)(ph.p_offset + (vaddr - ph.p_vaddr)));
			got = r > 0 ? (size_t)r : 0;
			break;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return got;
}

int fault_operand_address(const char *path, uint64_t bias, uint64_t rip, const uint64_t regs[21],
			  struct fault_operand *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t code[16];
	size_t len = rip >= bias ? read_code(path, rip - bias, code, sizeof(code)) : 0;
	if (!len)
		return -1;
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *in = NULL;
	int rc = -1;
	if (cs_disasm(h, code, len, rip, 1, &in) == 1) {
		const cs_x86 *x = &in->detail->x86;
		for (int i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			if (op->type != X86_OP_MEM)
				continue;
			if (op->mem.segment != X86_REG_INVALID)
				break; /* fs:/gs: bases are not in pt_regs */
			int b = op->mem.base == X86_REG_INVALID ? -2 : reg_index(op->mem.base);
			int ix = op->mem.index == X86_REG_INVALID ? -2 : reg_index(op->mem.index);
			if (b == -1 || ix == -1)
				break;
			uint64_t a = (uint64_t)op->mem.disp;
			if (b == 16)
				a += rip + in->size; /* rip-relative: from the next instruction */
			else if (b >= 0)
				a += regs[b];
			if (ix >= 0)
				a += regs[ix] * (uint64_t)op->mem.scale;
			out->address = a;
			out->write = (op->access & CS_AC_WRITE) != 0;
			out->size = op->size;
			snprintf(out->insn, sizeof(out->insn), "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "",
				 in->op_str);
			rc = 0;
			break;
		}
		cs_free(in, 1);
	}
	cs_close(&h);
	return rc;
}
