/*
 * Unit tests of symbolize/probeplace.c: which instructions the kernel's x86
 * uprobes emulate (per kernel version), where the probe goes in synthetic
 * prologues (glibc free and malloc, endbr64, argument and rsp writes,
 * memory accesses, jumps back into the prologue, uretprobes and pushes),
 * and the points chosen in this machine's libc.so.6 and libstdc++.so.6,
 * each checked to lie on an instruction boundary.
 */
#include "unit.h"
#include "../../symbolize/probeplace.h"
#include "../../symbolize/elfsyms.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

/* A function of len bytes: the prologue, nops, a ret at the end. */
static uint8_t *func(const uint8_t *pro, size_t plen, size_t len)
{
	static uint8_t buf[4096];
	memset(buf, 0x90, len);
	memcpy(buf, pro, plen);
	buf[len - 1] = 0xc3;
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_kinds(void)
{
	probe_place_kernel(6, 18);
	CHECK(probe_insn_emulated(BYTES(0x55)));                          /* push %rbp */
	CHECK(probe_insn_emulated(BYTES(0x41, 0x54)));                    /* push %r12 */
	CHECK(probe_insn_emulated(BYTES(0x57)));                          /* push %rdi */
	CHECK(!probe_insn_emulated(BYTES(0x48, 0x53)));                   /* REX.W push: stepped */
	CHECK(!probe_insn_emulated(BYTES(0x66, 0x53)));                   /* push %bx */
	CHECK(!probe_insn_emulated(BYTES(0x48, 0x85, 0xff)));             /* test %rdi,%rdi */
	CHECK(!probe_insn_emulated(BYTES(0xf3, 0x0f, 0x1e, 0xfa)));       /* endbr64 */
	CHECK(!probe_insn_emulated(BYTES(0x48, 0x83, 0xec, 0x10)));       /* sub $0x10,%rsp */
	CHECK(probe_insn_emulated(BYTES(0x0f, 0x84, 0xbf, 0, 0, 0)));     /* je rel32 */
	CHECK(probe_insn_emulated(BYTES(0x74, 0x05)));                    /* je rel8 */
	CHECK(probe_insn_emulated(BYTES(0x7f, 0x05)));                    /* jg rel8 */
	CHECK(probe_insn_emulated(BYTES(0xeb, 0x05)));                    /* jmp rel8 */
	CHECK(probe_insn_emulated(BYTES(0xe9, 1, 0, 0, 0)));              /* jmp rel32 */
	CHECK(probe_insn_emulated(BYTES(0xe8, 1, 0, 0, 0)));              /* call rel32 */
	CHECK(probe_insn_emulated(BYTES(0xf2, 0xe9, 1, 0, 0, 0)));        /* bnd jmp */
	CHECK(!probe_insn_emulated(BYTES(0xff, 0xe0)));                   /* jmp *%rax */
	CHECK(!probe_insn_emulated(BYTES(0xc3)));                         /* ret */
	CHECK(probe_insn_kind(BYTES(0x66, 0x74, 0x05)) == PROBE_INSN_REJECTED);    /* 66 jcc */
	CHECK(probe_insn_kind(BYTES(0x3e, 0xff, 0xe0)) == PROBE_INSN_REJECTED);    /* notrack jmp */
	CHECK(probe_insn_kind(BYTES(0xf0, 0x48, 0x0f, 0xb1, 0x16)) == PROBE_INSN_REJECTED); /* lock cmpxchg */
	CHECK(probe_insn_kind(BYTES(0x48, 0x85, 0xff)) == PROBE_INSN_STEPPED);
	CHECK(probe_insn_kind(BYTES(0xff, 0xff)) == PROBE_INSN_INVALID);
	CHECK(probe_insn_kind(NULL, 0) == PROBE_INSN_INVALID);
	/* only the first instruction counts */
	CHECK(probe_insn_emulated(BYTES(0x55, 0x48, 0x85, 0xff)));

	/* nops: 6.16..6.18 emulate the kernel's own nop strings */
	CHECK(probe_insn_emulated(BYTES(0x90)));
	CHECK(probe_insn_emulated(BYTES(0x66, 0x90)));
	CHECK(probe_insn_emulated(BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00)));
	CHECK(probe_insn_emulated(BYTES(0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0)));
	CHECK(!probe_insn_emulated(BYTES(0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0)));   /* not a kernel nop */
	CHECK(probe_insn_kind(BYTES(0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0)) == PROBE_INSN_REJECTED);
	CHECK(probe_insn_kind(BYTES(0x41, 0x90)) == PROBE_INSN_REJECTED);  /* xchg %eax,%r8d */
	CHECK(probe_insn_emulated(BYTES(0xf3, 0x90)));                     /* pause, as a nop */
	CHECK(!probe_insn_emulated(BYTES(0x48, 0x89, 0xc0)));              /* mov %rax,%rax */

	/* before 6.16: only opcode 90 */
	probe_place_kernel(6, 12);
	CHECK(probe_insn_emulated(BYTES(0x90)));
	CHECK(!probe_insn_emulated(BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00)));
	CHECK(!probe_insn_emulated(BYTES(0x66, 0x90)));
	CHECK(probe_insn_emulated(BYTES(0x41, 0x54)));

	/* 6.19: insn_is_nop() */
	probe_place_kernel(6, 19);
	CHECK(probe_insn_emulated(BYTES(0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0)));
	CHECK(probe_insn_emulated(BYTES(0x0f, 0x1f, 0x00)));
	CHECK(probe_insn_emulated(BYTES(0x48, 0x89, 0xc0)));              /* mov %rax,%rax */
	CHECK(!probe_insn_emulated(BYTES(0x89, 0xc0)));                   /* mov %eax,%eax zero-extends */
	CHECK(!probe_insn_emulated(BYTES(0x48, 0x89, 0xc3)));             /* mov %rax,%rbx */
	CHECK(probe_insn_emulated(BYTES(0x48, 0x8d, 0x5b, 0x00)));        /* lea 0x0(%rbx),%rbx */
	CHECK(!probe_insn_emulated(BYTES(0x48, 0x8d, 0x5b, 0x08)));       /* lea 0x8(%rbx),%rbx */
	CHECK(probe_insn_emulated(BYTES(0x48, 0x8d, 0x74, 0x26, 0x00)));  /* lea 0x0(%rsi,%riz,1),%rsi */
	CHECK(!probe_insn_emulated(BYTES(0xf3, 0x90)));                   /* pause */
	CHECK(probe_insn_kind(BYTES(0x41, 0x90)) == PROBE_INSN_STEPPED);
	CHECK(probe_insn_emulated(BYTES(0x66, 0x90)));
	CHECK(probe_insn_emulated(BYTES(0x41, 0x54)));
	probe_place_kernel(6, 18);
}

static void test_synthetic(void)
{
	struct probe_place o;

	/* glibc 2.36 free: test %rdi,%rdi; je +200; push %rbp; lea -0x10(%rdi),%rsi; push %rbx; sub */
	const uint8_t free_pro[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55,
				     0x48, 0x8d, 0x77, 0xf0, 0x53, 0x48, 0x83, 0xec, 0x18 };
	uint8_t *f = func(free_pro, sizeof(free_pro), 210);
	CHECK(probe_place(f, 210, 0, &o) == 0);
	CHECK(o.offset == 3 && o.sp_delta == 0 && o.emulated == 1);
	CHECK(starts(o.insn, "je"));
	printf("free prologue: +%llu sp+%d %s [%s] %s\n", (unsigned long long)o.offset, o.sp_delta,
	       o.emulated ? "emulated" : "stepped", o.insn, o.why);
	CHECK(probe_place(f, 210, 1, &o) == 0);       /* uretprobe too: sp_delta 0 there */
	CHECK(o.offset == 3 && o.sp_delta == 0 && o.emulated == 1);

	/* glibc 2.36 malloc: push %r12; push %rbp; push %rbx; mov %rdi,%rbx; sub $0x10,%rsp */
	const uint8_t malloc_pro[] = { 0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb, 0x48, 0x83, 0xec, 0x10 };
	f = func(malloc_pro, sizeof(malloc_pro), 64);
	CHECK(probe_place(f, 64, 0, &o) == 0);
	CHECK(o.offset == 0 && o.sp_delta == 0 && o.emulated == 1);
	CHECK(starts(o.insn, "push") && strstr(o.insn, "r12"));
	CHECK(probe_place(f, 64, 1, &o) == 0 && o.offset == 0 && o.emulated);

	/* mov %rsi,%rdi writes an argument: the push after it cannot be used */
	f = func(BYTES(0x48, 0x89, 0xf7, 0x55), 32);
	CHECK(probe_place(f, 32, 0, &o) == 0);
	CHECK(o.offset == 0 && o.emulated == 0 && o.sp_delta == 0);
	CHECK(starts(o.why, "fallback") && strstr(o.why, "argument"));
	CHECK(starts(o.insn, "mov"));
	printf("mov %%rsi,%%rdi: +%llu [%s] %s\n", (unsigned long long)o.offset, o.insn, o.why);
	/* 32-bit and 8-bit writes count too */
	f = func(BYTES(0x31, 0xd2, 0x55), 32);                   /* xor %edx,%edx */
	CHECK(probe_place(f, 32, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	f = func(BYTES(0x40, 0xb6, 0x01, 0x55), 32);             /* mov $1,%sil */
	CHECK(probe_place(f, 32, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	/* ...but not when the caller keeps only rdi */
	CHECK(probe_place_args(f, 32, 0, 1, &o) == 0 && o.offset == 3 && o.emulated);
	/* mov %rdi,%rbx reads an argument, writes rbx: fine */
	f = func(BYTES(0x48, 0x89, 0xfb, 0x55), 32);
	CHECK(probe_place(f, 32, 0, &o) == 0 && o.offset == 3 && o.emulated && o.sp_delta == 0);

	/* a jump back into the prologue, to the probe point or before it */
	uint8_t pro[40];
	memset(pro, 0x90, sizeof(pro));
	memcpy(pro, (const uint8_t[]){ 0x48, 0x85, 0xff, 0x55, 0x53 }, 5); /* test; push %rbp (+3); push %rbx */
	pro[20] = 0xeb;                                          /* +20: jmp +3 */
	pro[21] = (uint8_t)(3 - 22);
	f = func(pro, 22, 40);
	CHECK(probe_place(f, 40, 0, &o) == 0);
	CHECK(o.offset == 0 && !o.emulated && starts(o.why, "fallback") && strstr(o.why, "+20 jumps to +3"));
	printf("jump back: +%llu [%s] %s\n", (unsigned long long)o.offset, o.insn, o.why);
	pro[21] = (uint8_t)(2 - 22);                             /* jmp +2: mid-instruction, inside */
	f = func(pro, 22, 40);
	CHECK(probe_place(f, 40, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	pro[21] = (uint8_t)(0 - 22);                             /* jmp +0: a new call, fine */
	f = func(pro, 22, 40);
	CHECK(probe_place(f, 40, 0, &o) == 0 && o.offset == 3 && o.emulated);
	pro[21] = (uint8_t)(4 - 22);                             /* jmp +4: after the point, fine */
	f = func(pro, 22, 40);
	CHECK(probe_place(f, 40, 0, &o) == 0 && o.offset == 3 && o.emulated);
	/* a call or a conditional jump into the prologue counts too */
	memset(pro + 20, 0x90, 2);
	pro[20] = 0x75;                                          /* jne +1 */
	pro[21] = (uint8_t)(1 - 22);
	f = func(pro, 22, 40);
	CHECK(probe_place(f, 40, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	memset(pro + 20, 0x90, 2);
	pro[20] = 0xe8;                                          /* call +3 */
	int32_t rel = 3 - 25;
	memcpy(pro + 21, &rel, 4);
	f = func(pro, 25, 40);
	CHECK(probe_place(f, 40, 0, &o) == 0 && o.offset == 0 && !o.emulated);

	/* endbr64; push %rbx */
	f = func(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x53), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0);
	CHECK(o.offset == 4 && o.sp_delta == 0 && o.emulated && starts(o.insn, "push") && strstr(o.insn, "rbx"));
	CHECK(probe_place(f, 16, 1, &o) == 0 && o.offset == 4 && o.sp_delta == 0);
	/* endbr64; jmp (libstdc++ operator delete) */
	f = func(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0xe9, 0x87, 0x2f, 0xff, 0xff), 9);
	CHECK(probe_place(f, 9, 1, &o) == 0 && o.offset == 4 && o.emulated && starts(o.insn, "jmp"));

	/* sub $0x10,%rsp before the first emulated instruction: stop */
	f = func(BYTES(0x48, 0x83, 0xec, 0x10, 0x55), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0);
	CHECK(o.offset == 0 && !o.emulated && strstr(o.why, "rsp"));
	printf("sub rsp: +%llu [%s] %s\n", (unsigned long long)o.offset, o.insn, o.why);

	/* a push the kernel single-steps (REX.W), then je: sp_delta 8 */
	f = func(BYTES(0x48, 0x85, 0xff, 0x48, 0x53, 0x74, 0x02), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0);
	CHECK(o.offset == 5 && o.sp_delta == 8 && o.emulated && starts(o.insn, "je"));
	CHECK(probe_place(f, 16, 1, &o) == 0);       /* a uretprobe there would miss the return address */
	CHECK(o.offset == 0 && !o.emulated && o.sp_delta == 0 && strstr(o.why, "sp_delta"));
	printf("need_return after a push: +%llu [%s] %s\n", (unsigned long long)o.offset, o.insn, o.why);
	/* push $imm counts as well */
	f = func(BYTES(0x6a, 0x01, 0x74, 0x02), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 2 && o.sp_delta == 8);
	/* an emulated push at the point is not executed yet: sp_delta 0 */
	f = func(BYTES(0x48, 0x85, 0xff, 0x53, 0x55), 16);
	CHECK(probe_place(f, 16, 1, &o) == 0 && o.offset == 3 && o.sp_delta == 0 && o.emulated);

	/* memory: a store, a load through an argument, a rip-relative load */
	f = func(BYTES(0x48, 0x89, 0x7c, 0x24, 0x08, 0x55), 16);   /* mov %rdi,0x8(%rsp) */
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 0 && !o.emulated && strstr(o.why, "memory"));
	f = func(BYTES(0x48, 0x8b, 0x47, 0xf8, 0x55), 16);         /* mov -0x8(%rdi),%rax */
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 0 && !o.emulated && strstr(o.why, "memory"));
	f = func(BYTES(0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54), 16); /* cmpb $0,x(%rip) */
	CHECK(probe_place(f, 16, 1, &o) == 0 && o.offset == 7 && o.emulated && o.sp_delta == 0);
	f = func(BYTES(0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, 0x55), 16); /* mov %fs:0x28,%rax */
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 9 && o.emulated);

	/* control transfer before any emulated instruction */
	f = func(BYTES(0xff, 0xe0), 8);                           /* jmp *%rax */
	CHECK(probe_place(f, 8, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	f = func(BYTES(0xc3), 1);                                 /* ret */
	CHECK(probe_place(f, 1, 0, &o) == 0 && o.offset == 0 && !o.emulated);

	/* the kernel refuses a probe on a lock or notrack prefix: said so */
	f = func(BYTES(0xf0, 0x48, 0x0f, 0xb1, 0x16), 16);        /* lock cmpxchg %rdx,(%rsi) */
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 0 && !o.emulated && strstr(o.why, "refuses"));

	/* a 5-byte nop first: emulated from 6.16, a harmless step before */
	f = func(BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 0 && o.emulated);
	probe_place_kernel(6, 12);
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 5 && o.emulated && o.sp_delta == 0);
	probe_place_kernel(6, 18);

	/* a function that does not decode completely */
	f = func(BYTES(0x48, 0x85, 0xff, 0x74, 0x02, 0x90, 0xff, 0xff), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 0 && !o.emulated && strstr(o.why, "decode"));
	printf("undecodable: +%llu [%s] %s\n", (unsigned long long)o.offset, o.insn, o.why);
	/* ...whose first instruction is emulated anyway */
	f = func(BYTES(0x55, 0x48, 0x85, 0xff, 0xff, 0xff), 16);
	CHECK(probe_place(f, 16, 0, &o) == 0 && o.offset == 0 && o.emulated);
	/* truncated in the middle of an instruction */
	CHECK(probe_place(BYTES(0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf), 0, &o) == 0 && o.offset == 0 && !o.emulated);

	/* glibc _exit: loads r8, esi, edx, then jmp: only with nargs 1 */
	const uint8_t exit_pro[] = { 0x4c, 0x8b, 0x05, 0xf9, 0xe9, 0x0f, 0x00, 0xbe, 0xe7, 0x00, 0x00, 0x00,
				     0xba, 0x3c, 0x00, 0x00, 0x00, 0xeb, 0x12 };
	f = func(exit_pro, sizeof(exit_pro), 40);
	CHECK(probe_place(f, 40, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	CHECK(probe_place_args(f, 40, 0, 1, &o) == 0 && o.offset == 17 && o.emulated && starts(o.insn, "jmp"));

	/* bad arguments and the empty function */
	CHECK(probe_place(NULL, 5, 0, &o) == -1 && errno == EINVAL);
	CHECK(probe_place(f, 5, 0, NULL) == -1);
	CHECK(probe_place_args(f, 5, 0, 7, &o) == -1);
	CHECK(probe_place(NULL, 0, 0, &o) == 0 && o.offset == 0 && !o.emulated);
	CHECK(probe_place_file("/nonexistent/x", 0, 16, 0, &o) == -1 && errno == ENOENT);
	CHECK(probe_place_file("/proc/self/exe", (uint64_t)1 << 40, 16, 0, &o) == -1 && errno == EIO);
}

/* Whether off is where an instruction starts, decoding from 0. */
static bool on_boundary(const uint8_t *code, size_t len, uint64_t off)
{
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return false;
	cs_insn *in = cs_malloc(h);
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = 0;
	bool ok = off == 0;
	while (!ok && left && addr < off && cs_disasm_iter(h, &p, &left, &addr, in))
		ok = addr == off;
	cs_free(in, 1);
	cs_close(&h);
	return ok;
}

static const struct elfsym_func *find(const struct elfsyms *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->funcs[i].name, name) == 0)
			return &s->funcs[i];
		for (char **a = s->funcs[i].aliases; a && *a; a++)
			if (strcmp(*a, name) == 0)
				return &s->funcs[i];
	}
	return NULL;
}

static uint8_t *read_at(const char *path, uint64_t off, uint64_t size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = malloc(size ? size : 1);
	if (!fp || !buf || fseeko(fp, (off_t)off, SEEK_SET) || fread(buf, 1, size, fp) != size) {
		if (fp)
			fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	return buf;
}

/* Places probes in the named functions of a real library; returns the
 * offsets chosen (need_return 0) in offs[]. */
static void real_file(const char *path, const char *const *names, size_t n, uint64_t *offs)
{
	struct elfsyms s;
	char err[256];
	if (access(path, R_OK) != 0) {
		printf("%s: absent, skipped\n", path);
		for (size_t i = 0; i < n; i++)
			offs[i] = UINT64_MAX;
		return;
	}
	CHECK(elfsyms_read(path, &s, err, sizeof(err)) == 0);
	for (size_t i = 0; i < n; i++) {
		offs[i] = UINT64_MAX;
		const struct elfsym_func *f = find(&s, names[i]);
		CHECK(f != NULL);
		if (!f)
			continue;
		uint8_t *code = read_at(path, f->file_offset, f->size);
		CHECK(code != NULL);
		for (int ret = 0; ret <= 1; ret++) {
			struct probe_place o, o2;
			CHECK(probe_place_file(path, f->file_offset, f->size, ret, &o) == 0);
			printf("%-16s need_return=%d: +%-3llu sp+%d %-8s [%s] %s\n", names[i], ret,
			       (unsigned long long)o.offset, o.sp_delta, o.emulated ? "emulated" : "stepped", o.insn,
			       o.why);
			if (!code)
				continue;
			CHECK(probe_place(code, f->size, ret, &o2) == 0);
			CHECK(o2.offset == o.offset && o2.sp_delta == o.sp_delta && o2.emulated == o.emulated);
			CHECK(o.offset < f->size || f->size == 0);
			CHECK(on_boundary(code, f->size, o.offset));
			CHECK(probe_insn_emulated(code + o.offset, f->size - o.offset) == o.emulated);
			CHECK(o.emulated || starts(o.why, "fallback"));
			if (ret)
				CHECK(o.sp_delta == 0);
			if (!ret)
				offs[i] = o.offset;
			if (ret) {
				struct probe_place a;
				CHECK(probe_place_file_args(path, f->file_offset, f->size, 0, 1, &a) == 0);
				printf("%-16s nargs=1:        +%-3llu sp+%d %-8s [%s] %s\n", names[i],
				       (unsigned long long)a.offset, a.sp_delta, a.emulated ? "emulated" : "stepped",
				       a.insn, a.why);
				CHECK(on_boundary(code, f->size, a.offset));
			}
		}
		free(code);
	}
	elfsyms_free(&s);
}

static void test_real(void)
{
	probe_place_kernel(0, 0); /* this machine's rules */
	static const char *const libc_names[] = { "malloc", "free", "calloc", "realloc", "posix_memalign",
						  "aligned_alloc", "_exit" };
	uint64_t offs[7];
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	real_file(libc, libc_names, 7, offs);
	if (offs[0] != UINT64_MAX) {
		CHECK(offs[0] == 0);                  /* malloc: push %r12 */
		CHECK(offs[1] == 3 || offs[1] == 9);  /* free: je after test %rdi,%rdi, or the push */
	}
	static const char *const cxx_names[] = { "_Znwm", "_ZdlPv", "_ZdlPvm", "_Znam", "_ZdaPv" };
	real_file("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", cxx_names, 5, offs);
}

int main(void)
{
	test_kinds();
	test_synthetic();
	test_real();
	return unit_done();
}
