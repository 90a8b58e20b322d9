/* cfiwalk: unwinding a copy of this test's own stack through functions
 * built without frame pointers (this file is compiled -O2; the three below
 * are forced to omit them), as the heap records are unwound. */
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/cfiwalk.h"
#include "unit.h"

static char self_path[4096];
static uint64_t self_bias;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	/* the first object is the executable */
	self_bias = info->dlpi_addr;
	return 1;
}

extern char __executable_start[], etext[];

static int module_of(void *ctx, uint64_t pc, const char **path, uint64_t *bias)
{
	(void)ctx;
	if (pc < (uint64_t)(uintptr_t)__executable_start || pc >= (uint64_t)(uintptr_t)etext)
		return -1;
	*path = self_path;
	*bias = self_bias;
	return 0;
}

struct capture {
	uint64_t pc, sp, rbp, win_addr;
	uint8_t win[512];
};

/* Reads the raw stack as the BPF side does (outside any object: ASan would
 * call it an underflow). */
__attribute__((no_sanitize_address, noinline)) static void copy_stack(uint8_t *dst, uint64_t from, size_t n)
{
	const volatile uint8_t *src = (const volatile uint8_t *)(uintptr_t)from;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
}

/* What the BPF side records at a uretprobe: the return address into the
 * caller, the caller's stack pointer after the call, its rbp, the stack. */
__attribute__((noinline, optimize("omit-frame-pointer"))) static void leaf(struct capture *c)
{
	c->pc = (uint64_t)(uintptr_t)__builtin_return_address(0);
	c->sp = (uint64_t)(uintptr_t)__builtin_dwarf_cfa();
	uint64_t rbp;
	__asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
	c->rbp = rbp;
	c->win_addr = c->sp;
	copy_stack(c->win, c->sp, sizeof(c->win));
}

__attribute__((noinline, optimize("omit-frame-pointer"))) static int middle(struct capture *c, int k)
{
	volatile char pad[40];
	pad[0] = (char)k;
	leaf(c);
	return pad[0] + 1;
}

__attribute__((noinline, optimize("omit-frame-pointer"))) static int outer(struct capture *c, int k)
{
	volatile long pad[9];
	pad[3] = k;
	int r = middle(c, k + 1);
	return r + (int)pad[3];
}

/* the function containing pc, by address order of the three */
static int in_function(uint64_t pc, void *fn, size_t maxlen)
{
	uint64_t a = (uint64_t)(uintptr_t)fn;
	return pc > a && pc < a + maxlen;
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	CHECK(n > 0);
	if (n > 0)
		self_path[n] = 0;
	dl_iterate_phdr(find_self, NULL);

	struct capture c;
	memset(&c, 0, sizeof(c));
	int r = outer(&c, 5);
	CHECK(r == 12);

	struct cfi_walker *w = cfiw_new();
	CHECK(w != NULL);
	uint64_t out[16];
	size_t got = cfiw_unwind(w, c.pc, c.sp, c.rbp, c.win, c.win_addr, sizeof(c.win), module_of, NULL, out, 16);
	/* middle (where leaf returns to), outer, main at least */
	CHECK(got >= 3);
	CHECK(in_function(out[0], (void *)middle, 256));
	CHECK(got >= 2 && in_function(out[1], (void *)outer, 256));
	CHECK(got >= 3 && in_function(out[2], (void *)main, 4096));

	/* the same again: the rules now come from the cache */
	uint64_t out2[16];
	size_t got2 = cfiw_unwind(w, c.pc, c.sp, c.rbp, c.win, c.win_addr, sizeof(c.win), module_of, NULL, out2, 16);
	CHECK(got2 == got && memcmp(out, out2, got * sizeof(out[0])) == 0);

	/* a copy too short for the caller's frame: stops, keeps what it had */
	got2 = cfiw_unwind(w, c.pc, c.sp, c.rbp, c.win, c.win_addr, 8, module_of, NULL, out2, 16);
	CHECK(got2 == 1 && out2[0] == c.pc);

	/* an address in no module: the return address alone */
	got2 = cfiw_unwind(w, 0x1000, c.sp, c.rbp, c.win, c.win_addr, sizeof(c.win), module_of, NULL, out2, 16);
	CHECK(got2 == 1);

	/* max 1: only pc */
	got2 = cfiw_unwind(w, c.pc, c.sp, c.rbp, c.win, c.win_addr, sizeof(c.win), module_of, NULL, out2, 1);
	CHECK(got2 == 1);

	cfiw_free(w);
	cfiw_free(NULL);
	return unit_done();
}
