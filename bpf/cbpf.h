/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A classic BPF (cBPF: the program format pcap_compile() produces) interpreter
 * that runs inside an eBPF program, one instruction per call, from a
 * bpf_loop() callback, and identically in user space (for the unit tests).
 *
 * The packet the program sees starts at the IPv4/IPv6 header (DLT_RAW) and is
 * the first ET_CBPF_PKT bytes at most; BPF_LEN loads see the full length
 * (wirelen). Semantics follow libpcap's bpf_filter(): a load past the bytes
 * present, a division or modulo by zero, an unknown opcode, a scratch memory
 * index >= 16 or a program counter outside the program all end the program
 * with 0 (reject); a shift by 32 or more gives 0; multi-byte loads are
 * big-endian. Jumps are relative to the next instruction (BPF_JA's k is
 * added as a 32-bit value, so a "negative" k jumps backwards as in libpcap;
 * the caller's step budget ends a loop, and an unfinished program rejects).
 *
 * Verifier rules the step obeys: every array index is masked to the array
 * size even after the checks that reject, no loop, no pointer stored in the
 * state, no variable-length copy, divisors checked nonzero first.
 */
#ifndef ETRACE_CBPF_H
#define ETRACE_CBPF_H

#include "events.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

#define ET_CBPF_MAX 64     /* instructions of a program, at most (a power of two) */
#define ET_CBPF_PKT 256    /* packet bytes the program can read (a power of two) */
#define ET_CBPF_MEM 16     /* scratch memory words (BPF_MEMWORDS) */

/* The layout of libpcap's struct bpf_insn and the kernel's struct sock_filter. */
struct et_cbpf_insn {
	et_u16 code;
	et_u8 jt, jf;
	et_u32 k;
};

/* Opcode fields (the values of pcap/bpf.h and linux/filter.h). */
#define ET_CBPF_LD    0x00
#define ET_CBPF_LDX   0x01
#define ET_CBPF_ST    0x02
#define ET_CBPF_STX   0x03
#define ET_CBPF_ALU   0x04
#define ET_CBPF_JMP   0x05
#define ET_CBPF_RET   0x06
#define ET_CBPF_MISC  0x07
#define ET_CBPF_W     0x00
#define ET_CBPF_H     0x08
#define ET_CBPF_B     0x10
#define ET_CBPF_IMM   0x00
#define ET_CBPF_ABS   0x20
#define ET_CBPF_IND   0x40
#define ET_CBPF_MEMM  0x60   /* mode BPF_MEM */
#define ET_CBPF_LEN   0x80
#define ET_CBPF_MSH   0xa0
#define ET_CBPF_ADD   0x00
#define ET_CBPF_SUB   0x10
#define ET_CBPF_MUL   0x20
#define ET_CBPF_DIV   0x30
#define ET_CBPF_OR    0x40
#define ET_CBPF_AND   0x50
#define ET_CBPF_LSH   0x60
#define ET_CBPF_RSH   0x70
#define ET_CBPF_NEG   0x80
#define ET_CBPF_MOD   0x90
#define ET_CBPF_XOR   0xa0
#define ET_CBPF_JA    0x00
#define ET_CBPF_JEQ   0x10
#define ET_CBPF_JGT   0x20
#define ET_CBPF_JGE   0x30
#define ET_CBPF_JSET  0x40
#define ET_CBPF_K     0x00
#define ET_CBPF_X     0x08
#define ET_CBPF_A     0x10   /* BPF_RET source */
#define ET_CBPF_TAX   0x00
#define ET_CBPF_TXA   0x80

/* The interpreter's state; the caller fills pkt, pktlen and wirelen and
 * zeroes the rest (et_cbpf_run_all() does that part in user space). */
struct et_cbpf_run {
	et_u32 A, X;
	et_u32 M[ET_CBPF_MEM];
	et_u32 pc;          /* the next instruction */
	et_u32 done;        /* the program returned (or was stopped: result 0) */
	et_u32 result;      /* its return value: 0 rejects the packet */
	et_u32 pktlen;      /* bytes in pkt (<= ET_CBPF_PKT) */
	et_u32 wirelen;     /* the packet's full length, for BPF_LEN */
	et_u8 pkt[ET_CBPF_PKT];
};

#define ET_CBPF_LOAD_FAIL ((et_u64)1 << 32)

static __always_inline int et_cbpf_finish(struct et_cbpf_run *r, et_u32 result)
{
	r->done = 1;
	r->result = result;
	return 1;
}

/* size (1, 2 or 4) bytes at off, big-endian, or ET_CBPF_LOAD_FAIL when they
 * are not all in the packet. off is 64-bit: X + k cannot wrap around. */
static __always_inline et_u64 et_cbpf_load(const struct et_cbpf_run *r, et_u64 off, et_u32 size)
{
	et_u64 len = r->pktlen;
	et_u32 o, v;

	if (len > ET_CBPF_PKT)
		len = ET_CBPF_PKT;
	if (off >= len || len - off < size)
		return ET_CBPF_LOAD_FAIL;
	o = (et_u32)off;
	v = r->pkt[o & (ET_CBPF_PKT - 1)];
	if (size >= 2)
		v = (v << 8) | r->pkt[(o + 1) & (ET_CBPF_PKT - 1)];
	if (size == 4) {
		v = (v << 8) | r->pkt[(o + 2) & (ET_CBPF_PKT - 1)];
		v = (v << 8) | r->pkt[(o + 3) & (ET_CBPF_PKT - 1)];
	}
	return v;
}

/* Executes the instruction at r->pc. Returns 1 when the program has ended
 * (r->done is set, r->result holds the return value, 0 for a rejection),
 * 0 when there is more to run. */
static __always_inline int et_cbpf_step(struct et_cbpf_run *r, const struct et_cbpf_insn *prog,
					 et_u32 nprog)
{
	const struct et_cbpf_insn *in;
	et_u32 pc, code, k, A, X, cond;
	et_u64 v;

	if (r->done)
		return 1;
	pc = r->pc;
	if (nprog > ET_CBPF_MAX || pc >= nprog)
		return et_cbpf_finish(r, 0);
	in = &prog[pc & (ET_CBPF_MAX - 1)];
	code = in->code;
	k = in->k;
	A = r->A;
	X = r->X;
	cond = 0;
	r->pc = pc + 1;

	switch (code) {
	case ET_CBPF_RET | ET_CBPF_K:
		return et_cbpf_finish(r, k);
	case ET_CBPF_RET | ET_CBPF_A:
		return et_cbpf_finish(r, A);

	case ET_CBPF_LD | ET_CBPF_W | ET_CBPF_ABS:
		v = et_cbpf_load(r, k, 4);
		goto load_a;
	case ET_CBPF_LD | ET_CBPF_H | ET_CBPF_ABS:
		v = et_cbpf_load(r, k, 2);
		goto load_a;
	case ET_CBPF_LD | ET_CBPF_B | ET_CBPF_ABS:
		v = et_cbpf_load(r, k, 1);
		goto load_a;
	case ET_CBPF_LD | ET_CBPF_W | ET_CBPF_IND:
		v = et_cbpf_load(r, (et_u64)X + k, 4);
		goto load_a;
	case ET_CBPF_LD | ET_CBPF_H | ET_CBPF_IND:
		v = et_cbpf_load(r, (et_u64)X + k, 2);
		goto load_a;
	case ET_CBPF_LD | ET_CBPF_B | ET_CBPF_IND:
		v = et_cbpf_load(r, (et_u64)X + k, 1);
		goto load_a;
	case ET_CBPF_LDX | ET_CBPF_MSH | ET_CBPF_B:
		v = et_cbpf_load(r, k, 1);
		if (v == ET_CBPF_LOAD_FAIL)
			return et_cbpf_finish(r, 0);
		r->X = ((et_u32)v & 0xf) << 2;
		return 0;
	case ET_CBPF_LD | ET_CBPF_W | ET_CBPF_LEN:
		r->A = r->wirelen;
		return 0;
	case ET_CBPF_LDX | ET_CBPF_W | ET_CBPF_LEN:
		r->X = r->wirelen;
		return 0;
	case ET_CBPF_LD | ET_CBPF_IMM:
		r->A = k;
		return 0;
	case ET_CBPF_LDX | ET_CBPF_IMM:
		r->X = k;
		return 0;
	case ET_CBPF_LD | ET_CBPF_MEMM:
		if (k >= ET_CBPF_MEM)
			return et_cbpf_finish(r, 0);
		r->A = r->M[k & (ET_CBPF_MEM - 1)];
		return 0;
	case ET_CBPF_LDX | ET_CBPF_MEMM:
		if (k >= ET_CBPF_MEM)
			return et_cbpf_finish(r, 0);
		r->X = r->M[k & (ET_CBPF_MEM - 1)];
		return 0;
	case ET_CBPF_ST:
		if (k >= ET_CBPF_MEM)
			return et_cbpf_finish(r, 0);
		r->M[k & (ET_CBPF_MEM - 1)] = A;
		return 0;
	case ET_CBPF_STX:
		if (k >= ET_CBPF_MEM)
			return et_cbpf_finish(r, 0);
		r->M[k & (ET_CBPF_MEM - 1)] = X;
		return 0;

	case ET_CBPF_JMP | ET_CBPF_JA:
		r->pc = pc + 1 + k;   /* out of range: rejected at the next step */
		return 0;
	case ET_CBPF_JMP | ET_CBPF_JEQ | ET_CBPF_K:
		cond = A == k;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JGT | ET_CBPF_K:
		cond = A > k;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JGE | ET_CBPF_K:
		cond = A >= k;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JSET | ET_CBPF_K:
		cond = (A & k) != 0;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JEQ | ET_CBPF_X:
		cond = A == X;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JGT | ET_CBPF_X:
		cond = A > X;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JGE | ET_CBPF_X:
		cond = A >= X;
		goto jump;
	case ET_CBPF_JMP | ET_CBPF_JSET | ET_CBPF_X:
		cond = (A & X) != 0;
		goto jump;

	case ET_CBPF_ALU | ET_CBPF_ADD | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_ADD | ET_CBPF_K:
		r->A = A + k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_SUB | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_SUB | ET_CBPF_K:
		r->A = A - k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_MUL | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_MUL | ET_CBPF_K:
		r->A = A * k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_DIV | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_DIV | ET_CBPF_K:
		if (k == 0)
			return et_cbpf_finish(r, 0);
		r->A = A / k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_MOD | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_MOD | ET_CBPF_K:
		if (k == 0)
			return et_cbpf_finish(r, 0);
		r->A = A % k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_AND | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_AND | ET_CBPF_K:
		r->A = A & k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_OR | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_OR | ET_CBPF_K:
		r->A = A | k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_XOR | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_XOR | ET_CBPF_K:
		r->A = A ^ k;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_LSH | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_LSH | ET_CBPF_K:
		r->A = k < 32 ? A << (k & 31) : 0;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_RSH | ET_CBPF_X:
		k = X;
		/* fallthrough */
	case ET_CBPF_ALU | ET_CBPF_RSH | ET_CBPF_K:
		r->A = k < 32 ? A >> (k & 31) : 0;
		return 0;
	case ET_CBPF_ALU | ET_CBPF_NEG:
		r->A = 0U - A;
		return 0;

	case ET_CBPF_MISC | ET_CBPF_TAX:
		r->X = A;
		return 0;
	case ET_CBPF_MISC | ET_CBPF_TXA:
		r->A = X;
		return 0;

	default:
		return et_cbpf_finish(r, 0);
	}

load_a:
	if (v == ET_CBPF_LOAD_FAIL)
		return et_cbpf_finish(r, 0);
	r->A = (et_u32)v;
	return 0;

jump:
	/* a target past the end is rejected at the next step */
	r->pc = pc + 1 + (cond ? in->jt : in->jf);
	return 0;
}

#ifndef __bpf__
/* Runs prog over r->pkt (pktlen, wirelen set by the caller) from the start,
 * with the step budget the BPF side has; returns the program's result, 0 if
 * it did not finish. */
static inline et_u32 et_cbpf_run_all(struct et_cbpf_run *r, const struct et_cbpf_insn *prog,
				     et_u32 nprog)
{
	et_u32 i;

	r->A = r->X = 0;
	for (i = 0; i < ET_CBPF_MEM; i++)
		r->M[i] = 0;
	r->pc = r->done = r->result = 0;
	for (i = 0; i < ET_CBPF_MAX + 1; i++)
		if (et_cbpf_step(r, prog, nprog))
			return r->result;
	return 0;
}
#endif

#endif
