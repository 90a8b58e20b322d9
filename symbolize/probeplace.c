/*
 * Choosing a uprobe point the kernel emulates: see probeplace.h.
 *
 * What the x86 kernel emulates (arch/x86/kernel/uprobes.c). When a uprobe is
 * registered, arch_uprobe_analyze_insn() first validates the instruction
 * (uprobe_init_insn(): is_prefix_bad() refuses the ES, CS, SS and DS segment
 * prefixes 26/2e/36/3e and LOCK f0, plus opcodes outside the good_insns_64 /
 * good_2byte_insns tables), then tries, in order:
 *
 *   branch_setup_xol_ops()   -> branch_emulate_op(): emulated
 *     e8 rel32               call (return address pushed by the kernel)
 *     e9 rel32, eb rel8      jmp
 *     70..7f rel8            jcc
 *     0f 80..8f rel32        jcc
 *     any of these with a 66 prefix: -ENOTSUPP, the probe cannot be placed
 *     NOPs, treated as "jmp +0":
 *       before 6.16          opcode 90 with any prefixes ("case 0x90"), but a
 *                            66 prefix is refused like the branches; REX.B 90
 *                            (xchg %r8,%rax) is wrongly treated as a nop and
 *                            f3 90 (pause) as well
 *       6.16 .. 6.18         also the exact byte strings of the kernel's own
 *                            x86_nops[len] (commit 610f6e14c29d "uprobes/x86:
 *                            Add support to emulate NOP instructions"):
 *                            90 | 66 90 | 0f 1f 00 | 0f 1f 40 00 |
 *                            0f 1f 44 00 00 | 66 0f 1f 44 00 00 |
 *                            0f 1f 80 0*4 | 0f 1f 84 00 0*4; NOP9..NOP11
 *                            start with 2e, refused by is_prefix_bad()
 *       6.19 and later       insn_is_nop() of arch/x86/lib/insn-eval.c
 *                            (commit 8a5c6cbfe4a3 "x86/insn,uprobes,
 *                            alternative: Unify insn_is_nop()"): 90 without
 *                            REX.B and without f3 (pause); 0f 1f /0 in any
 *                            form; 64-bit mov %r,%r to itself; 64-bit
 *                            lea 0(%r),%r; jmp +0. The special "case 0x90" is
 *                            gone, so pause and REX.B 90 are single-stepped.
 *   push_setup_xol_ops()     -> push_emulate_op(): emulated
 *     50..57                 push %rax..%rdi (one byte)
 *     41 50..57              push %r8..%r15 (two bytes, REX exactly 0x41;
 *                            48 50 or 66 50 are single-stepped)
 *   anything else            default_xol_ops: copied to the XOL slot and
 *                            single-stepped (includes endbr64 f3 0f 1e fa,
 *                            test, cmp, mov, sub, lea...: nothing treats
 *                            endbr64 specially)
 *
 * Recent kernels (the uprobe-syscall series, 6.18 as far as the tip-tree
 * history shows) also turn a uprobe on a 5-byte nop into a call to a
 * trampoline (can_optimize()), faster still; that does not change which
 * instructions are emulated. The versions come from the tip-tree commit
 * notices; the rules are written from reading those kernel functions, not
 * copied. Where unsure (several 66 prefixes on 90 in 6.16..6.18), an
 * instruction counts as not emulated, which costs speed, never correctness.
 */
#include "probeplace.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- the kernel's rules ---- */

/* major * 1000 + minor of the kernel whose rules apply; -1: not known yet */
static int kver = -1;

void probe_place_kernel(int major, int minor)
{
	int v = major == 0 && minor == 0 ? -1 : major * 1000 + minor;
	__atomic_store_n(&kver, v, __ATOMIC_RELAXED);
}

static int kernel_version(void)
{
	int v = __atomic_load_n(&kver, __ATOMIC_RELAXED);
	if (v >= 0)
		return v;
	struct utsname u;
	int major, minor;
	v = 0; /* unknown: the oldest rules, the fewest emulated nops */
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2)
		v = major * 1000 + minor;
	__atomic_store_n(&kver, v, __ATOMIC_RELAXED);
	return v;
}

#define KV_NOPS_TABLE 6016   /* x86_nops[len] emulated from 6.16 */
#define KV_INSN_IS_NOP 6019  /* insn_is_nop() from 6.19 */

/* arch/x86/include/asm/nops.h, 64-bit: BYTES_NOP1..BYTES_NOP8 */
static const uint8_t kernel_nops[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

/* One instruction's encoding, as far as the rules need it. */
struct raw {
	uint8_t pfx[16];
	unsigned npfx;
	uint8_t rex;          /* 0: none */
	unsigned op;          /* index of the first opcode byte */
	uint8_t op1, op2;     /* op2: second byte after 0f */
	bool vex;             /* VEX/EVEX/XOP encoded */
	bool has_modrm;
	uint8_t mod, reg, rm; /* reg and rm without the REX bits */
	bool has_sib;
	uint8_t scale, index, base;
	int64_t disp;
	int64_t imm;          /* rel8/rel32 of e9/eb */
};

static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	}
	return false;
}

static bool raw_has(const struct raw *r, uint8_t p)
{
	for (unsigned i = 0; i < r->npfx; i++)
		if (r->pfx[i] == p)
			return true;
	return false;
}

static int64_t le_signed(const uint8_t *p, unsigned n)
{
	if (n == 1)
		return (int8_t)p[0];
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (int32_t)v;
}

/* Parses what the rules look at; n is the instruction's length. Returns
 * false when the bytes end too early. */
static bool raw_parse(const uint8_t *p, size_t n, struct raw *r)
{
	memset(r, 0, sizeof(*r));
	size_t i = 0;
	while (i < n && legacy_prefix(p[i]) && r->npfx < sizeof(r->pfx))
		r->pfx[r->npfx++] = p[i++];
	if (i < n && (p[i] & 0xf0) == 0x40)
		r->rex = p[i++];
	if (i >= n)
		return false;
	r->op = (unsigned)i;
	r->op1 = p[i++];
	if (r->op1 == 0xc4 || r->op1 == 0xc5 || r->op1 == 0x62 || (r->op1 == 0x8f && i < n && (p[i] & 0x38))) {
		r->vex = true;
		return true;
	}
	if (r->op1 == 0x0f) {
		if (i >= n)
			return false;
		r->op2 = p[i++];
	}
	bool modrm = (r->op1 == 0x0f && r->op2 == 0x1f) || r->op1 == 0x89 || r->op1 == 0x8d;
	if (modrm) {
		if (i >= n)
			return false;
		r->has_modrm = true;
		r->mod = p[i] >> 6;
		r->reg = (p[i] >> 3) & 7;
		r->rm = p[i] & 7;
		i++;
		unsigned dsize = r->mod == 1 ? 1 : r->mod == 2 ? 4 : 0;
		if (r->mod != 3 && r->rm == 4) {
			if (i >= n)
				return false;
			r->has_sib = true;
			r->scale = p[i] >> 6;
			r->index = (p[i] >> 3) & 7;
			r->base = p[i] & 7;
			i++;
			if (r->mod == 0 && r->base == 5)
				dsize = 4;
		} else if (r->mod == 0 && r->rm == 5) {
			dsize = 4; /* rip-relative */
		}
		if (dsize) {
			if (i + dsize > n)
				return false;
			r->disp = le_signed(p + i, dsize);
		}
	} else if (r->op1 == 0xeb || r->op1 == 0xe9) {
		unsigned isize = r->op1 == 0xeb ? 1 : 4;
		if (i + isize > n)
			return false;
		r->imm = le_signed(p + i, isize);
	}
	return true;
}

/* insn_is_nop() of 6.19: the nops it recognises (it must have no false
 * positives: the kernel skips the instruction). */
static bool is_nop_619(const struct raw *r)
{
	if (r->vex)
		return false;
	unsigned rr = r->reg + ((r->rex & 4) ? 8 : 0);
	unsigned rx = r->index + ((r->rex & 2) ? 8 : 0);
	unsigned rb = (r->has_sib ? r->base : r->rm) + ((r->rex & 1) ? 8 : 0);
	bool w64 = r->rex & 8;
	switch (r->op1) {
	case 0x0f:
		return r->op2 == 0x1f && r->has_modrm && rr == 0;   /* nopl */
	case 0x89:                                              /* mov %r,%r */
		return r->mod == 3 && w64 && rr == rb;
	case 0x8d:                                              /* lea 0(%r),%r */
		if (r->mod != 1 && r->mod != 2)
			return false;
		if (!w64 || r->disp != 0 || r->npfx)
			return false;
		if (r->has_sib && (r->scale != 0 || rx != 4))
			return false;
		return rr == rb;
	case 0x90:
		return !(r->rex & 1) && !raw_has(r, 0xf3);
	case 0xe9:
	case 0xeb:
		return r->imm == 0;
	}
	return false;
}

/* The kernel's verdict on one instruction of n bytes at p. */
static enum probe_insn_kind classify(const uint8_t *p, size_t n, int kv)
{
	struct raw r;
	if (!raw_parse(p, n, &r))
		return PROBE_INSN_INVALID;
	/* uprobe_init_insn() -> is_prefix_bad() */
	for (unsigned i = 0; i < r.npfx; i++)
		if (r.pfx[i] == 0x26 || r.pfx[i] == 0x2e || r.pfx[i] == 0x36 || r.pfx[i] == 0x3e ||
		    r.pfx[i] == 0xf0)
			return PROBE_INSN_REJECTED;
	if (r.vex)
		return PROBE_INSN_STEPPED;
	bool p66 = raw_has(&r, 0x66);

	/* branch_setup_xol_ops(): nops first */
	if (kv >= KV_INSN_IS_NOP) {
		if (is_nop_619(&r))
			return PROBE_INSN_EMULATED;
	} else {
		if (kv >= KV_NOPS_TABLE && n <= 8 && n >= 1 && memcmp(p, kernel_nops[n], n) == 0)
			return PROBE_INSN_EMULATED;
		if (r.op1 == 0x90) {
			if (r.rex & 1)      /* xchg %r8,%rax: the kernel would skip it */
				return PROBE_INSN_REJECTED;
			if (p66)            /* refused before 6.16; unsure after: not chosen */
				return PROBE_INSN_REJECTED;
			return PROBE_INSN_EMULATED;
		}
	}
	/* branch_setup_xol_ops(): call, jmp, jcc */
	bool branch = r.op1 == 0xe8 || r.op1 == 0xe9 || r.op1 == 0xeb || (r.op1 >= 0x70 && r.op1 <= 0x7f) ||
		      (r.op1 == 0x0f && r.op2 >= 0x80 && r.op2 <= 0x8f);
	if (branch)
		return p66 ? PROBE_INSN_REJECTED : PROBE_INSN_EMULATED;
	/* push_setup_xol_ops() */
	if (r.op1 >= 0x50 && r.op1 <= 0x57) {
		if (n == 1)
			return PROBE_INSN_EMULATED;
		if (n == 2 && p[0] == 0x41)
			return PROBE_INSN_EMULATED;
	}
	return PROBE_INSN_STEPPED;
}

/* ---- decoding ---- */

static bool cs_setup(csh *h)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return false;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return true;
}

/* "mnemonic operands", cut to len - 1 characters */
static void insn_text(const cs_insn *in, char *buf, size_t len)
{
	size_t k = 0;
	for (const char *s = in->mnemonic; *s && k + 1 < len; s++)
		buf[k++] = *s;
	if (in->op_str[0] && k + 1 < len)
		buf[k++] = ' ';
	for (const char *s = in->op_str; *s && k + 1 < len; s++)
		buf[k++] = *s;
	buf[k] = 0;
}

enum probe_insn_kind probe_insn_kind(const uint8_t *code, size_t len)
{
	if (!code || !len)
		return PROBE_INSN_INVALID;
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return PROBE_INSN_INVALID;
	cs_insn *in = NULL;
	size_t n = cs_disasm(h, code, len, 0, 1, &in);
	enum probe_insn_kind k = PROBE_INSN_INVALID;
	if (n == 1)
		k = classify(code, in[0].size, kernel_version());
	if (in)
		cs_free(in, n);
	cs_close(&h);
	return k;
}

int probe_insn_emulated(const uint8_t *code, size_t len)
{
	return probe_insn_kind(code, len) == PROBE_INSN_EMULATED;
}

/* 0..5 for the argument registers rdi, rsi, rdx, rcx, r8, r9 (any width), else -1 */
static int arg_index(x86_reg r)
{
	switch (r) {
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return 0;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return 1;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH:
		return 2;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH:
		return 3;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B:
		return 4;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B:
		return 5;
	default:
		return -1;
	}
}

static bool is_sp(x86_reg r)
{
	return r == X86_REG_RSP || r == X86_REG_ESP || r == X86_REG_SP || r == X86_REG_SPL;
}

static bool is_ip(x86_reg r)
{
	return r == X86_REG_RIP || r == X86_REG_EIP || r == X86_REG_IP;
}

/* Instructions that, operands permitting, do nothing but compute into
 * registers and flags: no control transfer, no implicit memory access, no
 * implicit write of rdx and the like (one-operand mul/imul/div, cqo are
 * left out). */
static bool plain_insn(const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_ENDBR64: case X86_INS_ENDBR32: case X86_INS_NOP: case X86_INS_PAUSE:
	case X86_INS_TEST: case X86_INS_CMP: case X86_INS_BT:
	case X86_INS_MOV: case X86_INS_MOVABS: case X86_INS_MOVZX: case X86_INS_MOVSX: case X86_INS_MOVSXD:
	case X86_INS_LEA: case X86_INS_XOR: case X86_INS_AND: case X86_INS_OR: case X86_INS_ADD:
	case X86_INS_SUB: case X86_INS_ADC: case X86_INS_SBB: case X86_INS_INC: case X86_INS_DEC:
	case X86_INS_NEG: case X86_INS_NOT: case X86_INS_SHL: case X86_INS_SHR: case X86_INS_SAR:
	case X86_INS_ROL: case X86_INS_ROR: case X86_INS_BSWAP: case X86_INS_XCHG:
	case X86_INS_CMOVA: case X86_INS_CMOVAE: case X86_INS_CMOVB: case X86_INS_CMOVBE:
	case X86_INS_CMOVE: case X86_INS_CMOVG: case X86_INS_CMOVGE: case X86_INS_CMOVL:
	case X86_INS_CMOVLE: case X86_INS_CMOVNE: case X86_INS_CMOVNO: case X86_INS_CMOVNP:
	case X86_INS_CMOVNS: case X86_INS_CMOVO: case X86_INS_CMOVP: case X86_INS_CMOVS:
	case X86_INS_SETAE: case X86_INS_SETA: case X86_INS_SETBE: case X86_INS_SETB:
	case X86_INS_SETE: case X86_INS_SETGE: case X86_INS_SETG: case X86_INS_SETLE:
	case X86_INS_SETL: case X86_INS_SETNE: case X86_INS_SETNO: case X86_INS_SETNP:
	case X86_INS_SETNS: case X86_INS_SETO: case X86_INS_SETP: case X86_INS_SETS:
	case X86_INS_MOVD: case X86_INS_MOVQ: case X86_INS_MOVAPS: case X86_INS_MOVUPS:
	case X86_INS_MOVDQA: case X86_INS_MOVDQU: case X86_INS_PXOR: case X86_INS_XORPS:
		return true;
	case X86_INS_IMUL:
		return in->detail->x86.op_count >= 2;
	}
	return false;
}

static const char *const arg_writes[6] = {
	"writes argument register rdi", "writes argument register rsi", "writes argument register rdx",
	"writes argument register rcx", "writes argument register r8", "writes argument register r9",
};

/* Whether executing in before the probe keeps the arguments, the stack
 * and memory as they were at entry (pushes aside, counted in *push). On
 * false, *reason says why. */
static bool harmless(csh h, const cs_insn *in, int nargs, int *push, const char **reason)
{
	const cs_x86 *x = &in->detail->x86;
	*push = 0;
	if (cs_insn_group(h, in, X86_GRP_JUMP) || cs_insn_group(h, in, X86_GRP_CALL) ||
	    cs_insn_group(h, in, X86_GRP_RET) || cs_insn_group(h, in, X86_GRP_INT) ||
	    cs_insn_group(h, in, X86_GRP_IRET) || cs_insn_group(h, in, X86_GRP_BRANCH_RELATIVE)) {
		*reason = "can transfer control";
		return false;
	}
	if (in->id == X86_INS_PUSH) {
		for (int i = 0; i < 4; i++)
			if (x->prefix[i] == 0x66) {
				*reason = "is a 16-bit push";
				return false;
			}
		if (x->op_count != 1 || (x->operands[0].type != X86_OP_REG && x->operands[0].type != X86_OP_IMM)) {
			*reason = "pushes from memory";
			return false;
		}
		*push = 8;
		return true;
	}
	if (!plain_insn(in)) {
		*reason = "is not known to be harmless";
		return false;
	}
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE)) {
			int a = arg_index(op->reg);
			if (a >= 0 && a < nargs) {
				*reason = arg_writes[a];
				return false;
			}
		}
		if (op->type != X86_OP_MEM || in->id == X86_INS_LEA || in->id == X86_INS_NOP)
			continue;
		if ((op->access & CS_AC_WRITE) || !(op->access & CS_AC_READ)) {
			*reason = "writes memory";
			return false;
		}
		bool fixed = op->mem.index == X86_REG_INVALID &&
			     (op->mem.base == X86_REG_RIP || op->mem.base == X86_REG_INVALID);
		if (!fixed) {
			*reason = "reads memory through a register (may fault before the probe)";
			return false;
		}
	}
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		*reason = "has unknown register effects";
		return false;
	}
	for (int i = 0; i < nwr; i++) {
		x86_reg r = (x86_reg)wr[i];
		int a = arg_index(r);
		if (a >= 0 && a < nargs) {
			*reason = arg_writes[a];
			return false;
		}
		if (is_sp(r)) {
			*reason = "changes rsp";
			return false;
		}
		if (is_ip(r)) {
			*reason = "writes rip";
			return false;
		}
	}
	return true;
}

/* A relative branch target of in (an offset, base 0), or -1 */
static int64_t direct_target(csh h, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	bool rel = cs_insn_group(h, in, X86_GRP_JUMP) || cs_insn_group(h, in, X86_GRP_CALL) ||
		   cs_insn_group(h, in, X86_GRP_BRANCH_RELATIVE) || in->id == X86_INS_XBEGIN ||
		   in->id == X86_INS_LOOP || in->id == X86_INS_LOOPE || in->id == X86_INS_LOOPNE ||
		   in->id == X86_INS_JRCXZ || in->id == X86_INS_JECXZ;
	if (!rel)
		return -1;
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_IMM)
			return x->operands[i].imm;
	return -1;
}

/* Offset 0, whatever is there. */
static void fallback(const uint8_t *code, size_t len, int kv, struct probe_place *out, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void fallback(const uint8_t *code, size_t len, int kv, struct probe_place *out, const char *fmt, ...)
{
	out->offset = 0;
	out->sp_delta = 0;
	out->emulated = 0;
	bool rejected = false;
	snprintf(out->insn, sizeof(out->insn), "(undecodable)");
	csh h;
	if (len && cs_open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK) {
		cs_insn *in = NULL;
		size_t n = cs_disasm(h, code, len, 0, 1, &in);
		if (n == 1) {
			insn_text(&in[0], out->insn, sizeof(out->insn));
			enum probe_insn_kind k0 = classify(code, in[0].size, kv);
			out->emulated = k0 == PROBE_INSN_EMULATED;
			rejected = k0 == PROBE_INSN_REJECTED;
		}
		if (in)
			cs_free(in, n);
		cs_close(&h);
	} else if (!len) {
		out->insn[0] = 0;
	}
	int k = snprintf(out->why, sizeof(out->why), "fallback +0: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->why + k, sizeof(out->why) - (size_t)k, fmt, ap);
	va_end(ap);
	if (rejected) {
		size_t w = strlen(out->why);
		snprintf(out->why + w, sizeof(out->why) - w, "; the kernel refuses a probe at +0");
	}
}

static int place(const uint8_t *code, size_t len, int truncated, int need_return, int nargs,
		 struct probe_place *out)
{
	int kv = kernel_version();
	memset(out, 0, sizeof(*out));
	if (len == 0) {
		fallback(code, len, kv, out, "empty function");
		return 0;
	}
	if (truncated) {
		fallback(code, len, kv, out, "function too large to decode");
		return 0;
	}
	csh h;
	if (!cs_setup(&h)) {
		fallback(code, len, kv, out, "capstone unavailable");
		return 0;
	}
	cs_insn *in = cs_malloc(h);
	if (!in) {
		cs_close(&h);
		fallback(code, len, kv, out, "out of memory");
		return 0;
	}

	/* Pass 1: the whole function decodes; the lowest direct branch target
	 * above 0 (a probe at or past it could be skipped or hit twice). */
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = 0;
	uint64_t low_target = UINT64_MAX, low_from = 0;
	while (left) {
		uint64_t at = addr;
		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			char hex[3 * 6 + 1] = "";
			for (size_t i = 0; i < 6 && at + i < len; i++)
				snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", code[at + i]);
			cs_free(in, 1);
			cs_close(&h);
			fallback(code, len, kv, out, "cannot decode +%llu (%.*s), function size %zu",
				 (unsigned long long)at, hex[0] ? (int)strlen(hex) - 1 : 0, hex, len);
			return 0;
		}
		int64_t t = direct_target(h, in);
		if (t > 0 && (uint64_t)t < low_target) {
			low_target = (uint64_t)t;
			low_from = at;
		}
	}

	/* Pass 2: walk from the start to the first emulated instruction. */
	p = code;
	left = len;
	addr = 0;
	int sp = 0, before = 0;
	int done = 0;
	while (left && !done) {
		uint64_t at = addr;
		if (!cs_disasm_iter(h, &p, &left, &addr, in))
			break; /* cannot happen: pass 1 decoded it */
		char text[48];
		insn_text(in, text, sizeof(text));
		enum probe_insn_kind k = classify(code + at, in->size, kv);
		if (k == PROBE_INSN_EMULATED) {
			if (at > 0 && low_target <= at) {
				fallback(code, len, kv, out, "+%llu jumps to +%llu, at or before the first emulated +%llu '%s'",
					 (unsigned long long)low_from, (unsigned long long)low_target,
					 (unsigned long long)at, text);
			} else if (need_return && sp != 0) {
				fallback(code, len, kv, out,
					 "first emulated +%llu '%s' is after %d pushed bytes; a uretprobe needs sp_delta 0",
					 (unsigned long long)at, text, sp);
			} else {
				out->offset = at;
				out->sp_delta = sp;
				out->emulated = 1;
				snprintf(out->insn, sizeof(out->insn), "%s", text);
				if (at == 0)
					snprintf(out->why, sizeof(out->why), "+0 '%s' is emulated", text);
				else
					snprintf(out->why, sizeof(out->why),
						 "+%llu '%s' is the first emulated instruction; the %d before it are harmless%s",
						 (unsigned long long)at, text, before, sp ? " (and push)" : "");
			}
			done = 1;
			break;
		}
		int push = 0;
		const char *reason = "";
		if (!harmless(h, in, nargs, &push, &reason)) {
			fallback(code, len, kv, out, "+%llu '%s' %s before any emulated instruction",
				 (unsigned long long)at, text, reason);
			done = 1;
			break;
		}
		sp += push;
		before++;
	}
	if (!done)
		fallback(code, len, kv, out, "no emulated instruction reachable from the start");
	cs_free(in, 1);
	cs_close(&h);
	return 0;
}

int probe_place_args(const uint8_t *code, size_t len, int need_return, int nargs, struct probe_place *out)
{
	if (!out || (!code && len) || nargs < 0 || nargs > 6) {
		errno = EINVAL;
		return -1;
	}
	return place(code, len, 0, need_return, nargs, out);
}

int probe_place(const uint8_t *code, size_t len, int need_return, struct probe_place *out)
{
	return probe_place_args(code, len, need_return, 6, out);
}

/* Larger than any function worth decoding at attach time. */
#define PROBE_MAX_FUNC (16u << 20)

int probe_place_file_args(const char *path, uint64_t file_offset, uint64_t size, int need_return, int nargs,
			  struct probe_place *out)
{
	if (!path || !out || nargs < 0 || nargs > 6) {
		errno = EINVAL;
		return -1;
	}
	int truncated = size > PROBE_MAX_FUNC;
	size_t want = truncated ? 16 : (size_t)size;
	uint8_t *buf = malloc(want ? want : 1);
	if (!buf)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)(file_offset + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			close(fd);
			free(buf);
			errno = e;
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	int rc = place(buf, want, truncated, need_return, nargs, out);
	free(buf);
	return rc;
}

int probe_place_file(const char *path, uint64_t file_offset, uint64_t size, int need_return,
		     struct probe_place *out)
{
	return probe_place_file_args(path, file_offset, size, need_return, 6, out);
}
