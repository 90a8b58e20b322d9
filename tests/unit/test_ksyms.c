/*
 * Unit tests of symbolize/ksyms.c: a kallsyms file written here (lines out
 * of order, modules, data symbols, several names at one address, a last
 * line without a newline), files that must be refused (every address 0,
 * missing, no text symbol), and this machine's /proc/kallsyms (how long it
 * takes to load, ip_rcv found both ways).
 */
#include "unit.h"
#include "../../symbolize/ksyms.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void write_tmp(char *path, const char *text)
{
	strcpy(path, "/tmp/etrace-ksyms-XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	size_t len = strlen(text);
	CHECK(write(fd, text, len) == (ssize_t)len);
	close(fd);
}

/* The symbol at addr as "name+0xoff [module]", or "(null)". */
static const char *at(const struct ksyms *k, uint64_t addr)
{
	static char buf[256];
	uint64_t off = 12345;
	const char *mod = "unset";
	const char *name = ksyms_lookup(k, addr, &off, &mod);
	if (!name)
		return "(null)";
	snprintf(buf, sizeof(buf), "%s+0x%llx%s%s%s", name, (unsigned long long)off, mod ? " [" : "",
		 mod ? mod : "", mod ? "]" : "");
	return buf;
}

static const char synthetic[] =
	"ffffffff81000200 T func_b\n"
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 t _text_alias\n"
	"ffffffff81000000 t a_local_alias\n"
	"ffffffff81000100 t func_a\n"
	"ffffffff81002000 D some_data\n"
	"ffffffff81000300 W weak_fn\n"
	"ffffffffc0001000 t mod_fn1\t[mymod]\n"
	"ffffffffc0000000 T mod_init\t[othermod]\n"
	"ffffffffc0000800 t mod_fn0\t[mymod]\n"
	"ffffffff81000400 r rodata_x\n"
	"ffffffff81000200 t __func_b_alias\n"
	"this is not a kallsyms line\n"
	"\n"
	"ffffffff81000180 t func_a\n"
	"ffffffffc0002000 T mod_last\t[othermod]";

static void test_synthetic(void)
{
	char path[64], err[256] = "";
	write_tmp(path, synthetic);
	struct ksyms *k = ksyms_load(path, err, sizeof(err));
	CHECK(k != NULL);
	if (!k) {
		fprintf(stderr, "%s\n", err);
		unlink(path);
		return;
	}
	/* 12 text symbols; D, r and the malformed lines are left out */
	CHECK(ksyms_count(k) == 12);

	/* below the first symbol, in the first, at the start of each */
	CHECK_STR(at(k, 0xffffffff80ffffffull), "(null)");
	CHECK_STR(at(k, 0), "(null)");
	/* several names at one address: T first, else no leading underscore */
	CHECK_STR(at(k, 0xffffffff81000000ull), "_stext+0x0");
	CHECK_STR(at(k, 0xffffffff810000ffull), "_stext+0xff");
	CHECK_STR(at(k, 0xffffffff81000100ull), "func_a+0x0");
	CHECK_STR(at(k, 0xffffffff81000150ull), "func_a+0x50");
	/* the second func_a (another file's static function) */
	CHECK_STR(at(k, 0xffffffff81000181ull), "func_a+0x1");
	CHECK_STR(at(k, 0xffffffff81000200ull), "func_b+0x0");
	CHECK_STR(at(k, 0xffffffff81000300ull), "weak_fn+0x0");
	/* data symbols are not kept: their addresses fall in the text before */
	CHECK_STR(at(k, 0xffffffff81002000ull), "weak_fn+0x1d00");
	CHECK_STR(at(k, 0xffffffff81000300ull + KSYMS_MAX_GAP), "weak_fn+0x100000");
	/* between the kernel and the modules */
	CHECK_STR(at(k, 0xffffffff81000301ull + KSYMS_MAX_GAP), "(null)");
	CHECK_STR(at(k, 0xffffffffa0000000ull), "(null)");
	/* modules */
	CHECK_STR(at(k, 0xffffffffc0000000ull), "mod_init+0x0 [othermod]");
	CHECK_STR(at(k, 0xffffffffc0000004ull), "mod_init+0x4 [othermod]");
	CHECK_STR(at(k, 0xffffffffc0000810ull), "mod_fn0+0x10 [mymod]");
	CHECK_STR(at(k, 0xffffffffc0001fffull), "mod_fn1+0xfff [mymod]");
	/* the last symbol (its line had no newline) and past it */
	CHECK_STR(at(k, 0xffffffffc0002000ull), "mod_last+0x0 [othermod]");
	CHECK_STR(at(k, 0xffffffffc0002000ull + 0x1234), "mod_last+0x1234 [othermod]");
	CHECK_STR(at(k, 0xffffffffc0002000ull + KSYMS_MAX_GAP + 1), "(null)");
	CHECK_STR(at(k, UINT64_MAX), "(null)");
	/* off and module may be NULL */
	CHECK_STR(ksyms_lookup(k, 0xffffffff81000201ull, NULL, NULL), "func_b");

	/* by name: the lowest address of a repeated name */
	CHECK(ksyms_addr(k, "func_a") == 0xffffffff81000100ull);
	CHECK(ksyms_addr(k, "_stext") == 0xffffffff81000000ull);
	CHECK(ksyms_addr(k, "a_local_alias") == 0xffffffff81000000ull);
	CHECK(ksyms_addr(k, "__func_b_alias") == 0xffffffff81000200ull);
	CHECK(ksyms_addr(k, "weak_fn") == 0xffffffff81000300ull);
	CHECK(ksyms_addr(k, "mod_fn1") == 0xffffffffc0001000ull);
	CHECK(ksyms_addr(k, "mod_last") == 0xffffffffc0002000ull);
	CHECK(ksyms_addr(k, "some_data") == 0);
	CHECK(ksyms_addr(k, "rodata_x") == 0);
	CHECK(ksyms_addr(k, "func") == 0);
	CHECK(ksyms_addr(k, "") == 0);
	ksyms_free(k);
	unlink(path);

	/* NULL tolerated like free(NULL) */
	ksyms_free(NULL);
	CHECK(ksyms_count(NULL) == 0);
}

static void test_refused(void)
{
	char path[64], err[256] = "";

	/* what an unprivileged reader sees with kptr_restrict */
	write_tmp(path, "0000000000000000 T _stext\n0000000000000000 t func_a\n"
			"0000000000000000 D data\t[mod]\n");
	CHECK(ksyms_load(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, "kptr_restrict") != NULL);
	printf("all zero: %s\n", err);
	unlink(path);

	/* data only: nothing to look up */
	err[0] = '\0';
	write_tmp(path, "ffffffff82000000 D some_data\nffffffff82000010 b bss\n");
	CHECK(ksyms_load(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no kernel text symbols") != NULL);
	unlink(path);

	/* empty */
	err[0] = '\0';
	write_tmp(path, "");
	CHECK(ksyms_load(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no kernel text symbols") != NULL);
	unlink(path);

	err[0] = '\0';
	CHECK(ksyms_load("/nonexistent/kallsyms", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/kallsyms") != NULL);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	printf("missing: %s\n", err);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_kernel(void)
{
	if (geteuid() != 0) {
		printf("(not root: /proc/kallsyms shows no addresses, skipped)\n");
		return;
	}
	char err[256] = "";
	struct ksyms *k = NULL;
	double best = 1e9, first = 0;
	for (int i = 0; i < 5; i++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct ksyms *k2 = ksyms_load("/proc/kallsyms", err, sizeof(err));
		double ms = ms_since(&t0);
		if (i == 0)
			first = ms;
		if (ms < best)
			best = ms;
		CHECK(k2 != NULL);
		if (!k2) {
			fprintf(stderr, "%s\n", err);
			ksyms_free(k);
			return;
		}
		ksyms_free(k);
		k = k2;
	}
	printf("/proc/kallsyms: %zu text symbols, loaded in %.1f ms (first), %.1f ms (best of 5)\n",
	       ksyms_count(k), first, best);
	CHECK(ksyms_count(k) > 10000);

	uint64_t a = ksyms_addr(k, "ip_rcv"), off = 99;
	const char *mod = "unset";
	CHECK(a != 0);
	CHECK(a >= 0xffff000000000000ull);
	CHECK_STR(ksyms_lookup(k, a + 1, &off, &mod), "ip_rcv");
	CHECK(off == 1);
	CHECK(mod == NULL);
	CHECK_STR(ksyms_lookup(k, a, &off, NULL), "ip_rcv");
	CHECK(off == 0);
	uint64_t t = ksyms_addr(k, "tcp_v4_rcv");
	CHECK(t != 0 && t != a);
	CHECK_STR(ksyms_lookup(k, t + 0x10, &off, NULL), "tcp_v4_rcv");
	CHECK(off == 0x10);
	CHECK(ksyms_addr(k, "no_such_kernel_function_xyz") == 0);

	/* 200k lookups, to see they are cheap */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t found = 0;
	for (uint64_t i = 0; i < 200000; i++)
		found += ksyms_lookup(k, a + (i & 0xff), NULL, NULL) != NULL;
	printf("200000 lookups: %.1f ms\n", ms_since(&t0));
	CHECK(found == 200000);
	ksyms_free(k);
}

int main(void)
{
	test_synthetic();
	test_refused();
	test_kernel();
	return unit_done();
}
