/*
 * Unit tests of symbolize/: the test captures its own registers and a copy of
 * its own stack deep in a call chain (main -> chain_a -> chain_b -> chain_c,
 * with chain_inline inlined into chain_c), builds the module list from
 * /proc/self/maps as etrace's model would, and checks the unwound,
 * symbolized frames against what the program knows about itself (return
 * addresses from __builtin_return_address, source lines from __LINE__,
 * load addresses from dladdr). Also: address lookups in libc, a stripped
 * copy of this binary, a module that cannot be opened, an empty module list,
 * an empty or short stack copy, a call through a null function pointer, the
 * frame limit, and garbage registers.
 */
#include "unit.h"
#include "../../symbolize/unwind.h"
#include "../../symbolize/frame_print.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(a, n) ((void)(a), (void)(n))
#endif

extern char **environ;

/* ---- capturing our own state --------------------------------------------- */

/* capture_regs(r) stores the registers as they are in its caller right after
 * the call returns: rip = the return address, rsp = the caller's rsp; the
 * callee-saved registers are untouched by the call. Offsets are checked below. */
void capture_regs(struct sym_regs *r);
__asm__(".text\n"
	".globl capture_regs\n"
	".type capture_regs, @function\n"
	"capture_regs:\n"
	".cfi_startproc\n"
	"	movq %r15, 0(%rdi)\n"
	"	movq %r14, 8(%rdi)\n"
	"	movq %r13, 16(%rdi)\n"
	"	movq %r12, 24(%rdi)\n"
	"	movq %rbp, 32(%rdi)\n"
	"	movq %rbx, 40(%rdi)\n"
	"	movq %r11, 48(%rdi)\n"
	"	movq %r10, 56(%rdi)\n"
	"	movq %r9, 64(%rdi)\n"
	"	movq %r8, 72(%rdi)\n"
	"	movq %rax, 80(%rdi)\n"
	"	movq %rcx, 88(%rdi)\n"
	"	movq %rdx, 96(%rdi)\n"
	"	movq %rsi, 104(%rdi)\n"
	"	movq %rdi, 112(%rdi)\n"
	"	movq (%rsp), %rax\n"
	"	movq %rax, 120(%rdi)\n"
	"	leaq 8(%rsp), %rax\n"
	"	movq %rax, 128(%rdi)\n"
	"	movq $0, 136(%rdi)\n"
	"	ret\n"
	".cfi_endproc\n"
	".size capture_regs, .-capture_regs\n");

_Static_assert(offsetof(struct sym_regs, r15) == 0, "r15");
_Static_assert(offsetof(struct sym_regs, rbp) == 32, "rbp");
_Static_assert(offsetof(struct sym_regs, rdi) == 112, "rdi");
_Static_assert(offsetof(struct sym_regs, rip) == 120, "rip");
_Static_assert(offsetof(struct sym_regs, rsp) == 128, "rsp");
_Static_assert(offsetof(struct sym_regs, eflags) == 136, "eflags");

#define STACK_COPY (64 * 1024)

static struct {
	struct sym_regs regs;
	uint64_t stack_addr;
	size_t stack_len;
	uint64_t ret_into_b, ret_into_a, ret_into_main; /* __builtin_return_address of c, b, a */
} cap;
static uint64_t stack_copy[STACK_COPY / 8];
static uint64_t stack_end; /* end of the mapping holding main's stack */
static volatile int sink;
static int line_inline_call, line_c_call, line_b_call, line_a_call, line_main_call;

/* Copies [rsp, rsp + 64 KiB) of the live stack, bounded by the mapping's end.
 * Reads only above the captured rsp, which this function's frame is below. */
__attribute__((noipa, no_sanitize_address)) static void copy_stack(void)
{
	uint64_t from = cap.regs.rsp, to = from + STACK_COPY;
	if (to > stack_end)
		to = stack_end;
	const volatile uint64_t *src = (const volatile uint64_t *)(uintptr_t)from;
	for (size_t i = 0; i < (to - from) / 8; i++)
		stack_copy[i] = src[i];
	cap.stack_addr = from;
	cap.stack_len = to - from;
	/* Parts of a live stack were never written; the copy from BPF is all
	 * defined bytes, so tell memcheck this one is too. */
	VALGRIND_MAKE_MEM_DEFINED(stack_copy, cap.stack_len);
}

static inline __attribute__((always_inline)) int chain_inline(int x)
{
	line_inline_call = __LINE__, capture_regs(&cap.regs);
	sink = x; /* the captured pc (return address) is here, still inside the inlined code */
	return x + 1;
}

__attribute__((noipa)) static int chain_c(int x)
{
	cap.ret_into_b = (uint64_t)__builtin_return_address(0);
	int r = (line_c_call = __LINE__, chain_inline(x * 3));
	copy_stack();
	return r + sink;
}

__attribute__((noipa)) static int chain_b(int x)
{
	cap.ret_into_a = (uint64_t)__builtin_return_address(0);
	int r = (line_b_call = __LINE__, chain_c(x + 1));
	return r * 2 + 1;
}

__attribute__((noipa)) static int chain_a(int x)
{
	cap.ret_into_main = (uint64_t)__builtin_return_address(0);
	int r = (line_a_call = __LINE__, chain_b(x - 1));
	return r * 3 + 2;
}

/* ---- the module list from /proc/self/maps ---------------------------------- */

#define MAX_MODS 256
static struct sym_module mods[MAX_MODS];
static uint64_t mod_start[MAX_MODS]; /* address of the lowest (offset 0) mapping */
static size_t nmods;
static char exe_path[PATH_MAX];

/* Lowest PT_LOAD p_vaddr, page aligned; -1 when not an ELF file. */
static int elf_lowest_vaddr(const char *path, uint64_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf64_Ehdr eh;
	int ok = pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
		 eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr);
	uint64_t lowest = UINT64_MAX;
	for (unsigned i = 0; ok && i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != (ssize_t)sizeof(ph))
			ok = 0;
		else if (ph.p_type == PT_LOAD && ph.p_vaddr < lowest)
			lowest = ph.p_vaddr;
	}
	close(fd);
	if (!ok || lowest == UINT64_MAX)
		return -1;
	*out = lowest & ~((uint64_t)sysconf(_SC_PAGESIZE) - 1);
	return 0;
}

/* Modules: every file mapped at offset 0 that is an ELF file, bias = mapping
 * start - lowest PT_LOAD vaddr. Also finds the mapping holding stack_var. */
static void load_maps(const void *stack_var)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	while (f && fgets(line, sizeof(line), f)) {
		uint64_t start, end, off;
		char perms[8];
		int pos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &start, &end, perms, &off, &pos) < 4)
			continue;
		if ((uint64_t)(uintptr_t)stack_var >= start && (uint64_t)(uintptr_t)stack_var < end)
			stack_end = end;
		char *path = line + pos;
		path[strcspn(path, "\n")] = '\0';
		if (off != 0 || path[0] != '/' || nmods == MAX_MODS)
			continue;
		int dup = 0;
		for (size_t i = 0; i < nmods; i++)
			dup |= strcmp(mods[i].path, path) == 0;
		uint64_t vaddr;
		if (dup || elf_lowest_vaddr(path, &vaddr) != 0)
			continue;
		mods[nmods].path = strdup(path);
		mods[nmods].bias = start - vaddr;
		mod_start[nmods] = start;
		nmods++;
	}
	if (f)
		fclose(f);
}

static const struct sym_module *module_named(const char *path)
{
	for (size_t i = 0; i < nmods; i++)
		if (strcmp(mods[i].path, path) == 0)
			return &mods[i];
	return NULL;
}

static uint64_t exe_start(void)
{
	for (size_t i = 0; i < nmods; i++)
		if (strcmp(mods[i].path, exe_path) == 0)
			return mod_start[i];
	return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);
	return s && n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void print_backtrace(const char *title, const struct sym_backtrace *bt)
{
	printf("%s: %zu frames%s%s%s\n", title, bt->nframes, bt->truncated ? " (truncated)" : "",
	       bt->error ? ", error: " : "", bt->error ? bt->error : "");
	for (size_t i = 0; i < bt->nframes; i++) {
		const struct sym_frame *f = &bt->frames[i];
		printf("  #%-2zu 0x%016" PRIx64 " %s", i, f->pc, f->function ? f->function : "??");
		if (f->function && !f->inlined)
			printf("+0x%" PRIx64, f->function_offset);
		if (f->module)
			printf(" (%s+0x%" PRIx64 ")", f->module, f->module_offset);
		if (f->file)
			printf(" %s:%d:%d", base_name(f->file), f->line, f->column);
		if (f->inlined)
			printf(" [inlined]");
		printf("\n");
	}
}

static int find_function(const struct sym_backtrace *bt, const char *name)
{
	for (size_t i = 0; i < bt->nframes; i++)
		if (bt->frames[i].function && strcmp(bt->frames[i].function, name) == 0)
			return (int)i;
	return -1;
}

/* The frames of the captured chain, starting at index k (chain_inline). */
static void check_chain(const struct sym_backtrace *bt, size_t k, const char *module, uint64_t exe_base,
			int with_lines)
{
	const char *names[] = {"chain_inline", "chain_c", "chain_b", "chain_a", "main"};
	const int *lines[] = {&line_inline_call, &line_c_call, &line_b_call, &line_a_call, &line_main_call};
	const uint64_t pcs[] = {cap.regs.rip, cap.regs.rip, cap.ret_into_b, cap.ret_into_a, cap.ret_into_main};
	CHECK(bt->nframes >= k + 5);
	if (bt->nframes < k + 5)
		return;
	for (size_t i = 0; i < 5; i++) {
		const struct sym_frame *f = &bt->frames[k + i];
		if (with_lines)
			CHECK_STR(f->function, names[i]);
		else
			CHECK(f->function == NULL);
		CHECK(f->pc == pcs[i]);
		CHECK_STR(f->module, module);
		CHECK(f->module_offset == f->pc - exe_base);
		CHECK(f->inlined == (i == 0 && with_lines));
		if (!with_lines) {
			CHECK(f->file == NULL && f->line == 0);
			continue;
		}
		CHECK(ends_with(f->file, "tests/unit/test_unwind.c"));
		/* The inlined frame is at the captured pc: the line of the
		 * capture or the statement after it. The others are at calls. */
		if (i == 0)
			CHECK(f->line == *lines[i] || f->line == *lines[i] + 1);
		else
			CHECK(f->line == *lines[i]);
		CHECK(f->column > 0);
		if (i >= 1)
			CHECK(f->function_offset > 0 && f->function_offset < 0x400);
	}
}

/* strip a copy of this binary into dir; 0 on success */
static int make_stripped_copy(const char *out)
{
	char *argv[] = {"strip", "-o", (char *)out, exe_path, NULL};
	pid_t pid;
	int st;
	if (posix_spawnp(&pid, "strip", NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_full_unwind(struct sym_session *s)
{
	struct sym_backtrace bt;
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == 0);
	print_backtrace("captured chain", &bt);
	check_chain(&bt, 0, "test_unwind", exe_start(), 1);
	/* then libc's start code and _start, the outermost frame */
	int libc = find_function(&bt, "__libc_start_call_main");
	CHECK(libc == 5);
	if (libc >= 0)
		CHECK_STR(bt.frames[libc].module, "libc.so.6");
	CHECK(bt.nframes >= 1 && bt.frames[bt.nframes - 1].function &&
	      strcmp(bt.frames[bt.nframes - 1].function, "_start") == 0);
	CHECK(bt.error == NULL);
	CHECK(bt.truncated == 0);
	size_t n1 = bt.nframes;
	sym_backtrace_free(&bt);
	CHECK(bt.frames == NULL && bt.nframes == 0);

	/* The same session unwinds again (the unwinder is attached once). */
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == 0);
	CHECK(bt.nframes == n1);
	check_chain(&bt, 0, "test_unwind", exe_start(), 1);
	sym_backtrace_free(&bt);
}

static void test_limits(struct sym_session *s)
{
	struct sym_backtrace bt;
	/* frame limit: counts inlined frames too */
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 3, &bt) == 0);
	print_backtrace("max_frames 3", &bt);
	CHECK(bt.nframes == 3);
	CHECK(bt.truncated == 1);
	CHECK(bt.error == NULL);
	if (bt.nframes == 3)
		CHECK_STR(bt.frames[2].function, "chain_b");
	sym_backtrace_free(&bt);

	/* limit of exactly the physical frames: the limit is hit only if more follow */
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 5, &bt) == 0);
	CHECK(bt.nframes == 5 && bt.truncated == 1);
	sym_backtrace_free(&bt);

	/* empty stack copy: only the first frame (with its inline chain) */
	CHECK(sym_unwind(s, &cap.regs, stack_copy, 0, cap.stack_addr, 0, &bt) == 0);
	print_backtrace("empty stack copy", &bt);
	CHECK(bt.nframes == 2);
	if (bt.nframes == 2) {
		CHECK_STR(bt.frames[0].function, "chain_inline");
		CHECK_STR(bt.frames[1].function, "chain_c");
	}
	CHECK(bt.error != NULL);
	CHECK(bt.truncated == 1);
	sym_backtrace_free(&bt);
	CHECK(sym_unwind(s, &cap.regs, NULL, 0, 0, 0, &bt) == 0);
	CHECK(bt.nframes == 2 && bt.error != NULL);
	sym_backtrace_free(&bt);

	/* a copy that ends inside chain_a's frame: c and b unwound, then stop */
	size_t short_len = 0;
	for (size_t off = 0; off + 8 <= cap.stack_len; off += 8)
		if (stack_copy[off / 8] == cap.ret_into_a) {
			short_len = off + 8; /* the return address into chain_a is the last word */
			break;
		}
	CHECK(short_len > 0);
	CHECK(sym_unwind(s, &cap.regs, stack_copy, short_len, cap.stack_addr, 0, &bt) == 0);
	print_backtrace("short stack copy", &bt);
	CHECK(find_function(&bt, "chain_a") >= 0);
	CHECK(find_function(&bt, "main") < 0);
	CHECK(bt.truncated == 1);
	CHECK(bt.error != NULL && strstr(bt.error, "stack copy too short") != NULL);
	sym_backtrace_free(&bt);
}

static void test_bad_call(struct sym_session *s)
{
	/* As if chain_c had called a null function pointer at the capture:
	 * rip 0, the return address pushed below the captured rsp. */
	static uint64_t copy2[STACK_COPY / 8 + 1];
	copy2[0] = cap.regs.rip;
	memcpy(copy2 + 1, stack_copy, cap.stack_len);
	struct sym_regs r = cap.regs;
	r.rip = 0;
	r.rsp = cap.regs.rsp - 8;
	struct sym_backtrace bt;
	CHECK(sym_unwind(s, &r, copy2, cap.stack_len + 8, cap.stack_addr - 8, 0, &bt) == 0);
	print_backtrace("call through a null pointer", &bt);
	CHECK(bt.nframes >= 1 && bt.frames[0].pc == 0 && bt.frames[0].module == NULL &&
	      bt.frames[0].function == NULL);
	/* the caller is looked up at the call instruction, inside chain_inline */
	check_chain(&bt, 1, "test_unwind", exe_start(), 1);
	CHECK(bt.error == NULL);
	sym_backtrace_free(&bt);
}

static void test_no_modules(void)
{
	struct sym_session *s = sym_open(NULL, 0);
	CHECK(s != NULL);
	struct sym_backtrace bt;
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == 0);
	print_backtrace("no modules", &bt);
	CHECK(bt.nframes >= 1);
	for (size_t i = 0; i < bt.nframes; i++)
		CHECK(bt.frames[i].module == NULL && bt.frames[i].function == NULL && bt.frames[i].file == NULL);
	if (bt.nframes >= 1)
		CHECK(bt.frames[0].pc == cap.regs.rip);
	sym_backtrace_free(&bt);
	struct sym_frame f[4];
	CHECK(sym_address(s, (uint64_t)(uintptr_t)&chain_b, 0, f, 4) == 1);
	CHECK(f[0].module == NULL && f[0].function == NULL);
	sym_frames_free(f, 1);
	sym_close(s);
}

static void test_garbage(struct sym_session *s)
{
	struct sym_regs r;
	struct sym_backtrace bt;
	memset(&r, 0x41, sizeof(r));
	r.rsp = 0x4242424242424240ull;
	r.rbp = 0x4343434343434340ull;
	CHECK(sym_unwind(s, &r, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == 0);
	print_backtrace("garbage registers", &bt);
	CHECK(bt.nframes == 1);
	CHECK(bt.nframes >= 1 && bt.frames[0].pc == 0x4141414141414141ull && bt.frames[0].module == NULL);
	CHECK(bt.error != NULL);
	sym_backtrace_free(&bt);

	/* garbage pc, stack pointers inside random data */
	static uint64_t junk[4096];
	srand(1234);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		junk[i] = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 10) ^ (uint64_t)rand();
	/* some words that look like return addresses and frame pointers */
	for (size_t i = 0; i < 200; i++) {
		junk[rand() % 4096] = cap.ret_into_a + (uint64_t)(rand() % 64);
		junk[rand() % 4096] = 0x100000 + (uint64_t)(rand() % 4096) * 8;
	}
	int crashes = 0, bad = 0;
	for (int it = 0; it < 300; it++) {
		for (size_t k = 0; k < sizeof(r) / 8; k++)
			((uint64_t *)&r)[k] = junk[rand() % 4096];
		r.rsp = 0x100000 + (uint64_t)(rand() % 4096) * 8;
		r.rbp = 0x100000 + (uint64_t)(rand() % 4096) * 8;
		if (it % 3 == 0)
			r.rip = (uint64_t)(uintptr_t)&chain_b + (uint64_t)(rand() % 64);
		if (it % 3 == 1)
			r.rip = cap.ret_into_a;
		if (sym_unwind(s, &r, junk, sizeof(junk), 0x100000, 64, &bt) != 0)
			crashes++;
		else if (bt.nframes < 1 || bt.nframes > 64 || bt.frames[0].pc != r.rip)
			bad++;
		sym_backtrace_free(&bt);
	}
	CHECK(crashes == 0);
	CHECK(bad == 0);
}

static void test_addresses(struct sym_session *s)
{
	struct sym_frame f[8];
	size_t n;

	/* a libc function, through dlsym */
	void *gp = dlsym(RTLD_DEFAULT, "getpid");
	Dl_info di;
	CHECK(gp != NULL && dladdr(gp, &di) != 0);
	n = sym_address(s, (uint64_t)(uintptr_t)gp, 0, f, 8);
	CHECK(n == 1);
	if (n >= 1) {
		printf("getpid: %s %s+0x%" PRIx64 " %s:%d\n", f[n - 1].function, f[n - 1].module,
		       f[n - 1].module_offset, f[n - 1].file ? f[n - 1].file : "-", f[n - 1].line);
		CHECK_STR(f[n - 1].function, "getpid");
		CHECK_STR(f[n - 1].module, "libc.so.6");
		CHECK(f[n - 1].function_offset == 0);
		CHECK(f[n - 1].module_offset == (uint64_t)((uintptr_t)gp - (uintptr_t)di.dli_fbase));
	}
	sym_frames_free(f, n);

	/* a return address is looked up at pc-1 but reported as given */
	uint64_t pc = (uint64_t)(uintptr_t)&chain_b + 1;
	n = sym_address(s, pc, 1, f, 8);
	CHECK(n == 1);
	CHECK_STR(f[0].function, "chain_b");
	CHECK(f[0].pc == pc && f[0].function_offset == 1);
	CHECK(ends_with(f[0].file, "test_unwind.c") && f[0].line > 0);
	sym_frames_free(f, n);
	CHECK(f[0].function == NULL && f[0].module == NULL);

	/* the inline chain, and a max smaller than it keeps the innermost */
	n = sym_address(s, cap.regs.rip, 0, f, 8);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(f[0].function, "chain_inline");
		CHECK(f[0].inlined == 1 && f[0].function_offset == 0);
		CHECK_STR(f[1].function, "chain_c");
		CHECK(f[1].inlined == 0 && f[1].line == line_c_call);
	}
	sym_frames_free(f, n);
	n = sym_address(s, cap.regs.rip, 0, f, 1);
	CHECK(n == 1);
	CHECK_STR(f[0].function, "chain_inline");
	sym_frames_free(f, n);
	CHECK(sym_address(s, cap.regs.rip, 0, f, 0) == 0);
	CHECK(sym_address(NULL, cap.regs.rip, 0, f, 8) == 0);

	/* no module there */
	n = sym_address(s, 0x10, 0, f, 8);
	CHECK(n == 1 && f[0].module == NULL && f[0].function == NULL && f[0].pc == 0x10);
	sym_frames_free(f, n);
}

static void test_unopened_module(void)
{
	struct sym_module m[2] = {
		{.path = "/nonexistent/dir/libgone.so.1", .bias = 0x7f0000000000ull, .start = 0x7f0000000000ull,
		 .end = 0x7f0000010000ull},
		{.path = "/nonexistent/dir/libunknown.so", .bias = 0x7f1000000000ull},
	};
	struct sym_session *s = sym_open(m, 2);
	CHECK(s != NULL);
	struct sym_frame f[4];
	size_t n = sym_address(s, 0x7f0000001234ull, 0, f, 4);
	CHECK(n == 1);
	CHECK_STR(f[0].module, "libgone.so.1");
	CHECK(f[0].module_offset == 0x1234 && f[0].function == NULL);
	sym_frames_free(f, n);
	n = sym_address(s, 0x7f1000001234ull, 0, f, 4);
	CHECK(n == 1 && f[0].module == NULL);
	sym_frames_free(f, n);
	sym_close(s);
}

static void test_stripped(void)
{
	char dir[] = "/tmp/test_unwind.XXXXXX", path[sizeof(dir) + 32];
	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/test_unwind.stripped", dir);
	if (make_stripped_copy(path) != 0) {
		printf("stripped binary: skipped (no strip)\n");
		rmdir(dir);
		return;
	}
	/* the module list with the stripped copy in place of this binary */
	struct sym_module m[MAX_MODS];
	memcpy(m, mods, nmods * sizeof(m[0]));
	for (size_t i = 0; i < nmods; i++)
		if (strcmp(m[i].path, exe_path) == 0)
			m[i].path = path;
	struct sym_session *s = sym_open(m, nmods);
	struct sym_frame f[4];
	size_t n = sym_address(s, (uint64_t)(uintptr_t)&chain_b + 4, 0, f, 4);
	/* a static function of a stripped binary has no name: none is made up */
	CHECK(n == 1);
	CHECK_STR(f[0].module, "test_unwind.stripped");
	CHECK(f[0].function == NULL && f[0].file == NULL && f[0].line == 0);
	CHECK(f[0].module_offset == (uint64_t)(uintptr_t)&chain_b + 4 - exe_start());
	sym_frames_free(f, n);
	/* .eh_frame survives strip: the chain still unwinds, by address */
	struct sym_backtrace bt;
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == 0);
	print_backtrace("stripped binary", &bt);
	/* no DWARF, so no inline frame: the frames are c, b, a, main */
	CHECK(bt.nframes >= 4);
	if (bt.nframes >= 4) {
		CHECK(bt.frames[0].pc == cap.regs.rip && bt.frames[1].pc == cap.ret_into_b);
		CHECK(bt.frames[2].pc == cap.ret_into_a && bt.frames[3].pc == cap.ret_into_main);
		for (int i = 0; i < 4; i++) {
			CHECK(bt.frames[i].function == NULL && bt.frames[i].inlined == 0);
			CHECK_STR(bt.frames[i].module, "test_unwind.stripped");
		}
	}
	CHECK(find_function(&bt, "__libc_start_call_main") == 4);
	CHECK(bt.error == NULL);
	sym_backtrace_free(&bt);
	sym_close(s);
	unlink(path);
	rmdir(dir);
}

static void test_frame_print(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct sym_frame f = { .pc = 0x7f0000001139, .module = "libx.so", .module_offset = 0x1139,
			       .function = "work", .file = "x.c", .line = 12 };
	sym_frame_text(&f, 3, &sb);
	CHECK_STR(sb_str(&sb), "    #3  0x00007f0000001139 in work at x.c:12  (libx.so+0x1139)");
	sb_reset(&sb);
	f.function = NULL;
	f.file = NULL;
	sym_frame_text(&f, 0, &sb);   /* no symbol: still where it is */
	CHECK_STR(sb_str(&sb), "    #0  0x00007f0000001139 in ??  (libx.so+0x1139)");
	sb_reset(&sb);
	f.module = NULL;
	sym_frame_text(&f, 1, &sb);
	CHECK_STR(sb_str(&sb), "    #1  0x00007f0000001139 in ??  (no module)");
	sb_reset(&sb);
	f.module = "libx.so";
	f.function = "a\nb";
	sym_frame_json(&f, &sb);
	CHECK(strstr(sb_str(&sb), "\"module\":\"libx.so\",\"module_offset\":\"0x1139\",\"function\":\"a\\nb\"") != NULL);
	sb_free(&sb);
}

static void test_demangle(void)
{
	static const char *const cases[][2] = {
		{ "_ZN3foo3barEi", "foo::bar(int)" },
		{ "_ZN3foo3barEi.cold", "foo::bar(int) [clone .cold]" },
		/* Rust, legacy (hash hidden, $-escapes decoded) and v0 */
		{ "_ZN9rust_leak10make_table17hdd9d1b320bccd156E", "rust_leak::make_table" },
		{ "_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h7feb4e67792f359dE.llvm.15202831194550652854",
		  "std::rt::lang_start::{{closure}}" },
		{ "_RNvMs4_NtCslNYArtu3iFV_5alloc7raw_vecNtB5_11RawVecInner15try_allocate_inCsduwmD7cSIQq_5gimli",
		  "<alloc::raw_vec::RawVecInner>::try_allocate_in" },
		{ "_ZN9inventory4PoolINS_4ItemEE4growEm", "inventory::Pool<inventory::Item>::grow(unsigned long)" },
		{ "chain_b", "chain_b" },
		{ "_Znot a mangled name", "_Znot a mangled name" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = sym_demangle(cases[i][0]);
		CHECK_STR(d, cases[i][1]);
		free(d);
	}
	CHECK(sym_demangle(NULL) == NULL);
}

static void test_bad_args(struct sym_session *s)
{
	struct sym_backtrace bt;
	CHECK(sym_unwind(NULL, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == -1);
	CHECK(bt.nframes == 0 && bt.frames == NULL);
	CHECK(sym_unwind(s, NULL, stack_copy, cap.stack_len, cap.stack_addr, 0, &bt) == -1);
	CHECK(sym_unwind(s, &cap.regs, stack_copy, cap.stack_len, cap.stack_addr, 0, NULL) == -1);
	sym_backtrace_free(NULL);
	sym_backtrace_free(&bt);
	sym_close(NULL);
	sym_frames_free(NULL, 3);
}

int main(int argc, char **argv)
{
	(void)argv;
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	if (n > 0)
		exe_path[n] = '\0';
	int here;
	load_maps(&here);
	CHECK(nmods >= 2 && stack_end != 0 && module_named(exe_path) != NULL);

	int r = (line_main_call = __LINE__, chain_a(argc + 1));
	CHECK(r != 0);
	CHECK(cap.stack_len > 1024);

	struct sym_session *s = sym_open(mods, nmods);
	CHECK(s != NULL);
	if (s) {
		test_full_unwind(s);
		test_limits(s);
		test_bad_call(s);
		test_garbage(s);
		test_addresses(s);
		test_bad_args(s);
		sym_close(s);
	}
	test_no_modules();
	test_unopened_module();
	test_stripped();
	test_demangle();
	test_frame_print();

	for (size_t i = 0; i < nmods; i++)
		free((char *)mods[i].path);
	return unit_done();
}
