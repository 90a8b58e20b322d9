/*
 * Unit tests of symbolize/elfsyms.c on this test's own binary: the function
 * symbols (aliases merged, the entry point marked), the file offset of a
 * function's first instruction (checked against the code mapped in memory),
 * globs, the signatures DWARF gives (types, names, void, variadic), how
 * argument registers and return values are shown, a stripped copy (only
 * .dynsym), and files that are not ELF.
 */
#include "unit.h"
#include "../../symbolize/elfsyms.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Functions with known signatures; noinline and global, so that they keep
 * their own symbol and code. */
__attribute__((noinline)) int ut_add(int a, int b)
{
	return a + b;
}
int ut_alias(int a, int b) __attribute__((alias("ut_add")));

__attribute__((noinline)) void ut_void(const char *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

__attribute__((noinline)) double ut_dbl(double x, long n)
{
	return x * (double)n;
}

__attribute__((noinline)) int ut_var(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	int v = va_arg(ap, int);
	va_end(ap);
	return v + n;
}

struct ut_pair {
	long a, b;
};

__attribute__((noinline)) bool ut_struct(struct ut_pair p, unsigned short k, char *s)
{
	return p.a + k + (s != NULL) > 0;
}

static char exe[4096];

static const struct elfsym_func *find(const struct elfsyms *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->funcs[i].name, name) == 0)
			return &s->funcs[i];
	return NULL;
}

static size_t count_sel(const struct elfsyms *s, const unsigned char *sel)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += sel[i];
	return n;
}

/* The bytes at the function's file offset are its code as mapped. */
static bool offset_is_code(const struct elfsym_func *f, const void *code)
{
	unsigned char buf[16];
	int fd = open(exe, O_RDONLY);
	if (fd < 0)
		return false;
	bool ok = pread(fd, buf, sizeof(buf), (off_t)f->file_offset) == (ssize_t)sizeof(buf) &&
		  memcmp(buf, code, sizeof(buf)) == 0;
	close(fd);
	return ok;
}

static void test_symbols(void)
{
	struct elfsyms s;
	char err[256] = "";
	CHECK(elfsyms_read(exe, &s, err, sizeof(err)) == 0);
	CHECK_STR(s.table, ".symtab");
	CHECK(s.n > 10);
	for (size_t i = 1; i < s.n; i++)
		CHECK(s.funcs[i - 1].addr < s.funcs[i].addr);

	/* ut_add and ut_alias: one function under its preferred (shorter) name */
	const struct elfsym_func *add = find(&s, "ut_add");
	CHECK(add != NULL);
	CHECK(find(&s, "ut_alias") == NULL);
	if (add) {
		CHECK(add->aliases && add->aliases[0] && strcmp(add->aliases[0], "ut_alias") == 0);
		CHECK(add->size > 0 && !add->is_entry);
		CHECK(offset_is_code(add, (const void *)ut_add));
	}
	const struct elfsym_func *dbl = find(&s, "ut_dbl");
	CHECK(dbl && offset_is_code(dbl, (const void *)ut_dbl));
	const struct elfsym_func *start = find(&s, "_start");
	CHECK(start && start->is_entry);

	/* globs match any name of a function, each function once */
	unsigned char *sel = calloc(s.n, 1);
	CHECK(elfsyms_glob(&s, "ut_*", sel) == 5);
	CHECK(count_sel(&s, sel) == 5);
	memset(sel, 0, s.n);
	CHECK(elfsyms_glob(&s, "ut_alias", sel) == 1);
	CHECK(add && sel[add - s.funcs] == 1);
	CHECK(elfsyms_glob(&s, "ut_[ad]*", sel) == 2);
	CHECK(count_sel(&s, sel) == 2);
	CHECK(elfsyms_glob(&s, "no_such_function_*", sel) == 0);
	CHECK(elfsyms_glob(&s, "*", sel) == s.n);

	/* signatures, for the selected functions only */
	memset(sel, 0, s.n);
	elfsyms_glob(&s, "ut_*", sel);
	CHECK(elfsyms_protos(exe, &s, sel) == 5);
	const struct elfsym_func *m = find(&s, "main");
	CHECK(m && !m->proto.known);
	if (add) {
		const struct elfsym_proto *p = &add->proto;
		CHECK(p->known && p->nparams == 2 && !p->variadic);
		CHECK_STR(p->names[0], "a");
		CHECK_STR(p->names[1], "b");
		CHECK(p->params[0].kind == ELFSYM_SIGNED && p->params[0].size == 4);
		CHECK(p->ret.kind == ELFSYM_SIGNED);
		uint64_t regs[4] = { 0xffffffffu, 2, 0, 0 };
		char buf[256];
		elfsym_format_entry(add, regs, buf, sizeof(buf));
		CHECK_STR(buf, "ut_add(a=-1, b=2)");
		elfsym_format_return(add, 0x100000005ull, buf, sizeof(buf));
		CHECK_STR(buf, "ut_add = 5");
		CHECK(elfsym_nargs(add) == 2);
		CHECK_STR(elfsym_arg(add, regs, 1, buf, sizeof(buf)), "b");
		CHECK_STR(buf, "2");
	}
	const struct elfsym_func *v = find(&s, "ut_void");
	if (v) {
		char buf[256];
		uint64_t regs[4] = { 0, 0, 0, 0 };
		CHECK(v->proto.ret.kind == ELFSYM_VOID && v->proto.params[0].kind == ELFSYM_POINTER);
		elfsym_format_entry(v, regs, buf, sizeof(buf));
		CHECK_STR(buf, "ut_void(p=NULL)");
		elfsym_format_return(v, 123, buf, sizeof(buf));
		CHECK_STR(buf, "ut_void");
	}
	if (dbl) {
		/* the double takes xmm0: n is the first integer register */
		char buf[256];
		uint64_t regs[4] = { 5, 9, 9, 9 };
		CHECK(dbl->proto.params[0].kind == ELFSYM_FLOAT && dbl->proto.params[1].size == 8);
		elfsym_format_entry(dbl, regs, buf, sizeof(buf));
		CHECK_STR(buf, "ut_dbl(x=?, n=5)");
		elfsym_format_return(dbl, 0, buf, sizeof(buf));
		CHECK_STR(buf, "ut_dbl = ?");
	}
	const struct elfsym_func *var = find(&s, "ut_var");
	if (var) {
		char buf[256];
		uint64_t regs[4] = { 3, 4, 0, 0 };
		CHECK(var->proto.variadic && var->proto.nparams == 1);
		elfsym_format_entry(var, regs, buf, sizeof(buf));
		CHECK_STR(buf, "ut_var(n=3, ...)");
	}
	const struct elfsym_func *st = find(&s, "ut_struct");
	if (st) {
		/* after a struct by value the registers are not guessed */
		char buf[256];
		uint64_t regs[4] = { 1, 2, 3, 4 };
		CHECK(st->proto.params[0].kind == ELFSYM_OTHER && st->proto.ret.kind == ELFSYM_BOOL);
		elfsym_format_entry(st, regs, buf, sizeof(buf));
		CHECK_STR(buf, "ut_struct(p=?, k=?, s=?)");
		elfsym_format_return(st, 0x100, buf, sizeof(buf));
		CHECK_STR(buf, "ut_struct = false");
	}
	free(sel);
	elfsyms_free(&s);
	CHECK(s.funcs == NULL && s.n == 0);
	/* keep the test functions called, so nothing drops them */
	struct ut_pair pr = { 1, 2 };
	CHECK(ut_add(1, 2) == 3 && ut_alias(2, 2) == 4 && ut_dbl(1.5, 2) == 3.0 && ut_var(1, 2) == 3 &&
	      ut_struct(pr, 1, exe));
	ut_void(exe);
}

static void test_values(void)
{
	char buf[64];
	struct elfsym_type unknown = { ELFSYM_UNKNOWN, 0 };
	elfsym_format_value(unknown, 3, buf, sizeof(buf));
	CHECK_STR(buf, "3");
	elfsym_format_value(unknown, (uint64_t)-2, buf, sizeof(buf));
	CHECK_STR(buf, "-2");
	elfsym_format_value(unknown, 0xfffffffeu, buf, sizeof(buf));
	CHECK_STR(buf, "-2");
	elfsym_format_value(unknown, 0x7ffd1234, buf, sizeof(buf));
	CHECK_STR(buf, "0x7ffd1234");
	elfsym_format_value((struct elfsym_type){ ELFSYM_SIGNED, 1 }, 0x1ff, buf, sizeof(buf));
	CHECK_STR(buf, "-1");
	elfsym_format_value((struct elfsym_type){ ELFSYM_UNSIGNED, 2 }, 0xfffff, buf, sizeof(buf));
	CHECK_STR(buf, "65535");
	elfsym_format_value((struct elfsym_type){ ELFSYM_UNSIGNED, 8 }, (uint64_t)-1, buf, sizeof(buf));
	CHECK_STR(buf, "18446744073709551615");
	elfsym_format_value((struct elfsym_type){ ELFSYM_BOOL, 1 }, 0x201, buf, sizeof(buf));
	CHECK_STR(buf, "true");
	elfsym_format_value((struct elfsym_type){ ELFSYM_POINTER, 8 }, 0x55aa, buf, sizeof(buf));
	CHECK_STR(buf, "0x55aa");
	/* truncation keeps a terminated string */
	char small[4];
	elfsym_format_value((struct elfsym_type){ ELFSYM_POINTER, 8 }, 0x123456, small, sizeof(small));
	CHECK(strlen(small) == 3);
}

static void test_not_elf_and_stripped(void)
{
	struct elfsyms s;
	char err[256] = "";
	char path[] = "/tmp/etrace-elfsyms-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, "#!/bin/sh\necho hi\n", 18) == 18);
		close(fd);
		CHECK(elfsyms_read(path, &s, err, sizeof(err)) == -1);
		CHECK(strstr(err, "not an ELF file") != NULL);
		unlink(path);
	}
	CHECK(elfsyms_read("/nonexistent/etrace", &s, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot open") != NULL);

	/* a stripped copy: only the dynamic symbols */
	char copy[] = "/tmp/etrace-elfsyms-stripped-XXXXXX";
	fd = mkstemp(copy);
	if (fd < 0)
		return;
	close(fd);
	char *argv[] = { "strip", "-o", copy, exe, NULL };
	pid_t pid;
	int status = -1;
	if (posix_spawnp(&pid, "strip", NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0 ||
	    status != 0) {
		printf("stripped binary: skipped (no strip)\n");
		unlink(copy);
		return;
	}
	CHECK(elfsyms_read(copy, &s, err, sizeof(err)) == 0);
	CHECK(s.table && strcmp(s.table, ".dynsym") == 0);
	CHECK(find(&s, "ut_add") == NULL);
	elfsyms_free(&s);
	unlink(copy);
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 1;
	exe[n] = '\0';
	test_symbols();
	test_values();
	test_not_elf_and_stripped();
	return unit_done();
}
