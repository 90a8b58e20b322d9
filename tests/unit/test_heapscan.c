/*
 * Unit tests of the leak classifier: heapscan_classify on a simulated
 * address space (reachable, interior pointers, lost chains, lost cycles,
 * pointers one past the end, live blocks inside a root region, unreadable
 * memory, a million blocks), then heapscan_process on a real stopped
 * process (build/testprogs/heapscan_target).
 */
#include "unit.h"
#include "reports/heap/heapscan.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a fake address space ------------------------------------------------ */

struct seg {
	uint64_t addr;
	size_t len;
	unsigned char *data;
};

struct fakemem {
	struct seg seg[8];
	int n;
	uint64_t reads;
};

static struct seg *fm_add(struct fakemem *fm, uint64_t addr, size_t len)
{
	struct seg *s = &fm->seg[fm->n++];
	s->addr = addr;
	s->len = len;
	s->data = calloc(1, len);
	return s;
}

static void fm_free(struct fakemem *fm)
{
	for (int i = 0; i < fm->n; i++)
		free(fm->seg[i].data);
}

/* Stores the u64 v at address a (which must be in a segment). */
static void fm_put(struct fakemem *fm, uint64_t a, uint64_t v)
{
	for (int i = 0; i < fm->n; i++) {
		struct seg *s = &fm->seg[i];
		if (a >= s->addr && a + 8 <= s->addr + s->len) {
			memcpy(s->data + (a - s->addr), &v, 8);
			return;
		}
	}
	fprintf(stderr, "fm_put: %#llx not mapped\n", (unsigned long long)a);
	abort();
}

static long fm_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fakemem *fm = ctx;
	fm->reads++;
	for (int i = 0; i < fm->n; i++) {
		struct seg *s = &fm->seg[i];
		if (addr >= s->addr && addr < s->addr + s->len) {
			size_t n = s->addr + s->len - addr;
			if (n > len)
				n = len;
			memcpy(buf, s->data + (addr - s->addr), n);
			return (long)n;
		}
	}
	return -1;
}

/* ---- the classification rules ------------------------------------------- */

#define HS_TEST_PAGE 4096ull
#define ROOT 0x10000ull     /* a root ("data"): one readable page of a two-page region */
#define HEAP 0x100000ull    /* the heap: not a root, except the "tls" part below */
#define ANON 0x200000ull    /* an anonymous mapping that is not a root */

enum { A, B, C, D, D2, E, F, G, P, S, T, V, W, R, UA, Q1, Q2, Q3, M, N, N2, Z0, NB };

static const uint64_t addr_of[NB] = {
	[A] = HEAP + 0x000, [B] = HEAP + 0x100, [C] = HEAP + 0x200, [D] = HEAP + 0x300,
	[D2] = HEAP + 0x340, [E] = HEAP + 0x400, [F] = HEAP + 0x500, [G] = HEAP + 0x600,
	[P] = HEAP + 0x700, [S] = HEAP + 0x800, [T] = HEAP + 0x900, [V] = HEAP + 0xb00,
	[W] = HEAP + 0xc00, [R] = HEAP + 0xd00, [UA] = HEAP + 0xe00, [Q1] = HEAP + 0x1100,
	[Q2] = HEAP + 0x1200, [Q3] = HEAP + 0x1000, [M] = HEAP + 0x1400, [N] = HEAP + 0x1300,
	[N2] = HEAP + 0x1380, [Z0] = HEAP + 0x1500,
};
static const uint64_t size_of[NB] = {
	[A] = 64, [B] = 48, [C] = 32, [D] = 32, [D2] = 40, [E] = 32, [F] = 24, [G] = 32,
	[P] = 32, [S] = 32, [T] = 64, [V] = 32, [W] = 32, [R] = 32, [UA] = 32, [Q1] = 32,
	[Q2] = 32, [Q3] = 16, [M] = 32, [N] = 32, [N2] = 16, [Z0] = 0,
};

static void test_rules(void)
{
	struct fakemem fm = { .n = 0 };
	fm_add(&fm, ROOT, 4096);
	fm_add(&fm, HEAP, 0x2000);
	fm_add(&fm, ANON, 4096);

	/* roots -> A; A -> B+8 (interior); B -> R+31 (last byte) */
	fm_put(&fm, ROOT + 0x10, addr_of[A]);
	fm_put(&fm, addr_of[A] + 8, addr_of[B] + 8);
	fm_put(&fm, addr_of[B] + 40, addr_of[R] + 31);
	/* C -> D -> D2 (a lost list), C also points into reachable A */
	fm_put(&fm, addr_of[C], addr_of[D]);
	fm_put(&fm, addr_of[C] + 8, addr_of[A]);
	fm_put(&fm, addr_of[D] + 24, addr_of[D2] + 39);
	/* E <-> F: a lost cycle */
	fm_put(&fm, addr_of[E], addr_of[F]);
	fm_put(&fm, addr_of[F] + 16, addr_of[E] + 4 * 4);
	/* G: pointed to only from a mapping that is not a root */
	fm_put(&fm, ANON + 64, addr_of[G]);
	/* P: the root holds P + size (one past the end) only */
	fm_put(&fm, ROOT + 0x18, addr_of[P] + size_of[P]);
	/* S: points to itself only */
	fm_put(&fm, addr_of[S] + 8, addr_of[S]);
	/* T: a live block inside a root region ("tls in the heap"): its bytes
	 * are not a root, so T -> V does not make V reachable; the root bytes
	 * around T point to W */
	fm_put(&fm, addr_of[T] + 8, addr_of[V]);
	fm_put(&fm, addr_of[T] + 0x60, addr_of[W]);
	/* UA: a pointer at an unaligned root address does not count */
	{
		uint64_t v = addr_of[UA];
		memcpy(fm.seg[0].data + 0x23, &v, 8);
	}
	/* Q1 <-> Q2 -> Q3 with Q3 lowest: the cycle's lowest member is DEFINITE */
	fm_put(&fm, addr_of[Q1], addr_of[Q2]);
	fm_put(&fm, addr_of[Q2], addr_of[Q1]);
	fm_put(&fm, addr_of[Q2] + 8, addr_of[Q3]);
	/* M -> N -> N2 with N lower than M: N is met first, then joins M */
	fm_put(&fm, addr_of[M], addr_of[N] + 16);
	fm_put(&fm, addr_of[N], addr_of[N2]);
	/* Z0: a zero-size block, its address held by the root */
	fm_put(&fm, ROOT + 0x30, addr_of[Z0]);

	/* the blocks in a scrambled order */
	static const int order[NB] = { Q3, M, A, Z0, N2, G, B, UA, S, C, Q2, W, D, F, P, D2, E, T, V, N, R, Q1 };
	struct hs_block blk[NB];
	memset(blk, 0, sizeof(blk));
	int at[NB];
	for (int i = 0; i < NB; i++) {
		blk[i].addr = addr_of[order[i]];
		blk[i].size = size_of[order[i]];
		blk[i].state = 0xee;
		blk[i].indirect_bytes = 77;
		at[order[i]] = i;
	}
	struct hs_region roots[] = {
		{ ROOT, ROOT + 0x2000, "data (second page unreadable)" },
		{ addr_of[T] - 0x40, addr_of[T] + 0x100, "tls in the heap" },
	};
	uint64_t regs[] = { 0, 42, addr_of[Z0] + 1 };
	struct hs_stats st;
	CHECK(heapscan_classify(blk, NB, roots, 2, regs, 3, fm_read, &fm, &st) == 0);

#define STATE(x) (blk[at[x]].state)
	CHECK(STATE(A) == HS_REACHABLE);
	/* reached only through interior pointers: valgrind's "possibly lost" */
	CHECK(STATE(B) == HS_POSSIBLE);
	CHECK(STATE(R) == HS_POSSIBLE);
	CHECK(STATE(W) == HS_REACHABLE);
	CHECK(STATE(Z0) == HS_REACHABLE);
	CHECK(STATE(C) == HS_DEFINITE);
	CHECK(STATE(D) == HS_INDIRECT);
	CHECK(STATE(D2) == HS_INDIRECT);
	CHECK(blk[at[C]].indirect_blocks == 2 && blk[at[C]].indirect_bytes == 32 + 40);
	CHECK(STATE(E) == HS_DEFINITE);
	CHECK(STATE(F) == HS_INDIRECT);
	CHECK(blk[at[E]].indirect_blocks == 1 && blk[at[E]].indirect_bytes == 24);
	CHECK(STATE(G) == HS_DEFINITE && blk[at[G]].indirect_blocks == 0);
	CHECK(STATE(P) == HS_DEFINITE);
	CHECK(STATE(S) == HS_DEFINITE && blk[at[S]].indirect_blocks == 0);
	CHECK(STATE(T) == HS_DEFINITE);
	CHECK(STATE(V) == HS_INDIRECT);
	CHECK(blk[at[T]].indirect_blocks == 1 && blk[at[T]].indirect_bytes == 32);
	CHECK(STATE(UA) == HS_DEFINITE);
	CHECK(STATE(Q1) == HS_DEFINITE);
	CHECK(STATE(Q2) == HS_INDIRECT);
	CHECK(STATE(Q3) == HS_INDIRECT);
	CHECK(blk[at[Q1]].indirect_blocks == 2 && blk[at[Q1]].indirect_bytes == 48);
	CHECK(STATE(M) == HS_DEFINITE);
	CHECK(STATE(N) == HS_INDIRECT);
	CHECK(STATE(N2) == HS_INDIRECT);
	CHECK(blk[at[M]].indirect_blocks == 2 && blk[at[M]].indirect_bytes == 48);
	CHECK(blk[at[N]].indirect_blocks == 0 && blk[at[N]].indirect_bytes == 0);
	CHECK(blk[at[A]].indirect_bytes == 0);   /* reset for non-DEFINITE blocks */
	/* the input order is kept */
	for (int i = 0; i < NB; i++)
		CHECK(blk[i].addr == addr_of[order[i]]);
	/* totals: every INDIRECT block counted once */
	uint64_t ind = 0, held = 0;
	for (int i = 0; i < NB; i++) {
		if (blk[i].state == HS_INDIRECT)
			ind++;
		held += blk[i].indirect_blocks;
	}
	CHECK(ind == held);
	CHECK(st.reachable == 3 && st.possible == 2 && st.indirect == ind && st.definite == NB - 5 - ind);
	CHECK(st.regions == 2);
	CHECK(st.unreadable_bytes == 4096);
	CHECK(st.root_bytes == 4096 + (0x140 - 64));
#undef STATE
	fm_free(&fm);
}

/* Degenerate inputs: no blocks, no roots, an unreadable block. */
static void test_edges(void)
{
	struct fakemem fm = { .n = 0 };
	fm_add(&fm, ROOT, 4096);
	struct hs_stats st;
	CHECK(heapscan_classify(NULL, 0, NULL, 0, NULL, 0, fm_read, &fm, &st) == 0);
	CHECK(st.definite == 0 && st.reachable == 0);

	struct hs_block b[2] = { { .addr = 0x900000, .size = 4096 }, { .addr = 0x901000, .size = 64 } };
	uint64_t reg = 0x900010;
	CHECK(heapscan_classify(b, 2, NULL, 0, &reg, 1, fm_read, &fm, &st) == 0);
	CHECK(b[0].state == HS_POSSIBLE && b[1].state == HS_DEFINITE);   /* an interior register value */
	reg = 0x900000;
	CHECK(heapscan_classify(b, 2, NULL, 0, &reg, 1, fm_read, &fm, &st) == 0);
	CHECK(b[0].state == HS_REACHABLE && b[1].state == HS_DEFINITE);
	CHECK(st.unreadable_bytes == 4096 + 64);
	CHECK(heapscan_classify(b, 2, NULL, 0, NULL, 0, NULL, NULL, &st) == -1 && errno == EINVAL);
	CHECK(strcmp(hs_state_name(HS_INDIRECT), "indirect") == 0);
	CHECK(strcmp(hs_state_name(HS_POSSIBLE), "possible") == 0);
	fm_free(&fm);
}

/* Blocks far apart, as glibc's heap and its chunks mmapped alone are: only
 * words on a page holding a block are looked up (the page bitmap), and
 * each kind of block is still found: one spanning pages (a pointer into its
 * last page), a zero-size one (a pointer at its start), one a bitmap span
 * away from another (the same bit), one of more pages than the bitmap has
 * bits (every bit). Words between them on no block's page find nothing. */
static void test_far_apart(void)
{
	enum { BIG, SPAN, ZERO, ALIAS, LOST, HUGE, NF };
	const uint64_t far = 0x7f0000000000ull;
	struct fakemem fm = { .n = 0 };
	fm_add(&fm, ROOT, 4096);
	fm_add(&fm, HEAP, 0x1000);
	fm_add(&fm, far, 0x5000);
	struct hs_block b[NF] = {
		[BIG] = { .addr = far + 0x10, .size = 0x4000 },       /* pages far .. far+0x4000 */
		[SPAN] = { .addr = HEAP + 0x100, .size = 64 },
		[ZERO] = { .addr = HEAP + 0x200, .size = 0 },
		/* 2^21 pages (the bitmap's most bits) above HEAP + 0x300 */
		[ALIAS] = { .addr = HEAP + 0x300 + (1ull << 33), .size = 32 },
		[HUGE] = { .addr = far + 0x1000000000ull, .size = 1ull << 34 },
		[LOST] = { .addr = HEAP + 0x400, .size = 32 },
	};
	fm_put(&fm, ROOT + 0x00, far + 0x10 + 0x3ff8);      /* BIG's last page: interior */
	fm_put(&fm, ROOT + 0x08, HEAP + 0x100);
	fm_put(&fm, ROOT + 0x10, HEAP + 0x200);
	fm_put(&fm, ROOT + 0x18, HEAP + 0x300 + (1ull << 33));
	fm_put(&fm, ROOT + 0x20, far + 0x1000000000ull + (1ull << 33));
	/* in range, on no block's page: nothing */
	fm_put(&fm, ROOT + 0x28, far - 0x100000);
	fm_put(&fm, ROOT + 0x30, HEAP + 0x400 - 0x10000);
	struct hs_region root = { ROOT, ROOT + 4096, "data" };
	struct hs_stats st;
	/* without HUGE (a small bitmap), then with it */
	for (size_t nb = NF - 1; nb <= NF; nb++) {
		CHECK(heapscan_classify(b, nb, &root, 1, NULL, 0, fm_read, &fm, &st) == 0);
		CHECK(b[BIG].state == HS_POSSIBLE);
		CHECK(b[SPAN].state == HS_REACHABLE && b[ZERO].state == HS_REACHABLE && b[ALIAS].state == HS_REACHABLE);
		CHECK(b[LOST].state == HS_DEFINITE);
	}
	CHECK(b[HUGE].state == HS_POSSIBLE);
	fm_free(&fm);
}

/* Roots of several MiB, read ahead on a second thread (heapscan_ahead.c):
 * the same results as the reads in line, in the same order, with an
 * unreadable hole, live blocks inside a root and pointers in a root's
 * first and last words and across the pieces' edges. */
static void test_big_roots(void)
{
	const uint64_t big = 0x40000000ull, mib = 1ull << 20;
	struct fakemem fm = { .n = 0 };
	fm_add(&fm, big, 3 * mib);                   /* readable */
	fm_add(&fm, big + 3 * mib + 2 * HS_TEST_PAGE, 3 * mib);   /* after a 2-page hole */
	fm_add(&fm, HEAP, 0x1000);
	enum { FIRST, LAST, EDGE, INROOT, HELD, LOST, NBR };
	struct hs_block b[NBR] = {
		[FIRST] = { .addr = HEAP + 0x000, .size = 32 },
		[LAST] = { .addr = HEAP + 0x100, .size = 32 },
		[EDGE] = { .addr = HEAP + 0x200, .size = 32 },
		/* a live block inside the root region: not a root itself */
		[INROOT] = { .addr = big + 2 * mib + 64, .size = 64 },
		[HELD] = { .addr = HEAP + 0x300, .size = 32 },
		[LOST] = { .addr = HEAP + 0x400, .size = 32 },
	};
	uint64_t end = big + 6 * mib + 2 * HS_TEST_PAGE;
	fm_put(&fm, big, HEAP + 0x000);
	fm_put(&fm, end - 8, HEAP + 0x100 + 8);
	fm_put(&fm, big + mib - 8, HEAP + 0x200);        /* the last word of the first piece */
	fm_put(&fm, big + 2 * mib + 64 + 8, HEAP + 0x400);   /* only inside INROOT, which nothing points to */
	fm_put(&fm, HEAP + 0x000 + 8, HEAP + 0x300);
	struct hs_region root = { big, end, "big" };
	struct hs_stats st;
	CHECK(heapscan_classify(b, NBR, &root, 1, NULL, 0, fm_read, &fm, &st) == 0);
	CHECK(b[FIRST].state == HS_REACHABLE && b[EDGE].state == HS_REACHABLE && b[HELD].state == HS_REACHABLE);
	CHECK(b[LAST].state == HS_POSSIBLE);
	CHECK(b[INROOT].state == HS_DEFINITE && b[LOST].state == HS_INDIRECT);
	CHECK(st.unreadable_bytes == 2 * HS_TEST_PAGE);
	CHECK(st.root_bytes == 6 * mib - 64);
	CHECK(st.regions == 1);
	fm_free(&fm);
}

/* A million 32-byte blocks: half a list from a root (each also pointing to
 * a random block of that half), half lost as 50000 lists of 10. */
static void test_million(void)
{
	const size_t n = 1000000, half = n / 2, bs = 32;
	struct fakemem fm = { .n = 0 };
	fm_add(&fm, ROOT, 4096);
	struct seg *h = fm_add(&fm, HEAP, n * bs);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = HEAP + i * bs, w[4] = { 0, 0, i, 0x1234 };
		if (i < half) {
			if (i + 1 < half)
				w[0] = a + bs;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			w[1] = HEAP + (x % half) * bs + (x >> 60);
		} else if ((i - half) % 10 != 9) {
			w[0] = a + bs;
		}
		memcpy(h->data + i * bs, w, sizeof(w));
	}
	fm_put(&fm, ROOT, HEAP);
	struct hs_block *blk = calloc(n, sizeof(*blk));
	/* reversed: the classifier has to sort */
	for (size_t i = 0; i < n; i++) {
		blk[i].addr = HEAP + (n - 1 - i) * bs;
		blk[i].size = bs;
	}
	struct hs_region root = { ROOT, ROOT + 4096, "data" };
	struct hs_stats st;
	CHECK(heapscan_classify(blk, n, &root, 1, NULL, 0, fm_read, &fm, &st) == 0);
	CHECK(st.reachable == half && st.definite == half / 10 && st.indirect == half - half / 10);
	int ok = 1;
	for (size_t i = 0; i < n; i++) {
		size_t k = n - 1 - i;   /* block number */
		if (k >= half && (k - half) % 10 == 0)
			ok &= blk[i].state == HS_DEFINITE && blk[i].indirect_blocks == 9 &&
			      blk[i].indirect_bytes == 9 * bs;
	}
	CHECK(ok);
	printf("1M blocks (32 MiB): %.1f ms, %.0f MB/s, %llu reads\n", st.ms,
	       st.bytes_scanned / 1e6 / (st.ms / 1e3), (unsigned long long)st.reads);
	free(blk);
	fm_free(&fm);
}

/* ---- a real process --------------------------------------------------------- */

enum { M_GLOBAL, M_LOCAL, M_THREAD, M_TLS_MAIN, M_TLS_THREAD, M_LEAK, M_HEAD, M_N1, M_N2,
       M_FSBASE, M_COUNT };

static int target_path(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t r = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (r > 0) {
		self[r] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';   /* build/tests */
			snprintf(out, len, "%s/../testprogs/heapscan_target", self);
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "build/testprogs/heapscan_target");
	return access(out, X_OK);
}

static int read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static void test_process(void)
{
	char path[PATH_MAX + 64];
	if (target_path(path, sizeof(path)) != 0) {
		fprintf(stderr, "FAIL: %s missing (make testprogs)\n", path);
		CHECK(0);
		return;
	}
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", p[1]);
		execl(path, path, fd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	uint64_t m[M_COUNT];
	int ok = read_all(p[0], m, sizeof(m)) == 0;
	close(p[0]);
	CHECK(ok);
	int status = 0;
	if (ok) {
		while (waitpid(pid, &status, WUNTRACED) < 0 && errno == EINTR)
			;
		ok = WIFSTOPPED(status);
		CHECK(ok);
	}
	if (!ok) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return;
	}
	static const uint64_t sizes[M_FSBASE] = {
		[M_GLOBAL] = 96, [M_LOCAL] = 112, [M_THREAD] = 304, [M_TLS_MAIN] = 128,
		[M_TLS_THREAD] = 208, [M_LEAK] = 160, [M_HEAD] = 48, [M_N1] = 48, [M_N2] = 48,
	};
	static const char *const names[M_FSBASE] = {
		"global", "main local", "thread local", "main __thread", "thread __thread",
		"leak", "list head", "list n1", "list n2",
	};
	struct hs_block blk[M_FSBASE];
	memset(blk, 0, sizeof(blk));
	for (int i = 0; i < M_FSBASE; i++) {
		blk[i].addr = m[i];
		blk[i].size = sizes[i];
	}

	struct hs_region *roots = NULL;
	size_t nroots = 0;
	char err[256] = "";
	CHECK(heapscan_roots(pid, m[M_FSBASE], &roots, &nroots, err, sizeof(err)) == 0);
	int nstack = 0, ndata = 0, ntls = 0;
	uint64_t stack_end = 0;
	for (size_t i = 0; i < nroots; i++) {
		if (strstr(roots[i].what, "(main)"))
			stack_end = roots[i].end;
		nstack += strncmp(roots[i].what, "stack of ", 9) == 0;
		ndata += strncmp(roots[i].what, "data of ", 8) == 0;
		ntls += strncmp(roots[i].what, "tls", 3) == 0;
		if (getenv("HS_VERBOSE"))
			printf("  root %#llx-%#llx %s\n", (unsigned long long)roots[i].start,
			       (unsigned long long)roots[i].end, roots[i].what);
	}
	CHECK(nstack == 2);
	CHECK(ndata >= 3);   /* the program, libc, ld.so */
	CHECK(ntls == 1);
	free(roots);

	struct hs_stats st;
	CHECK(heapscan_process(pid, m[M_FSBASE], NULL, 0, blk, M_FSBASE, &st, err, sizeof(err)) == 0);
	if (err[0])
		fprintf(stderr, "heapscan_process: %s\n", err);
	static const uint8_t want[M_FSBASE] = {
		[M_GLOBAL] = HS_REACHABLE, [M_LOCAL] = HS_REACHABLE, [M_THREAD] = HS_REACHABLE,
		[M_TLS_MAIN] = HS_REACHABLE, [M_TLS_THREAD] = HS_REACHABLE, [M_LEAK] = HS_DEFINITE,
		[M_HEAD] = HS_DEFINITE, [M_N1] = HS_INDIRECT, [M_N2] = HS_INDIRECT,
	};
	for (int i = 0; i < M_FSBASE; i++) {
		if (blk[i].state != want[i])
			fprintf(stderr, "FAIL: %s block %#llx is %s, want %s\n", names[i],
				(unsigned long long)blk[i].addr, hs_state_name(blk[i].state),
				hs_state_name(want[i]));
		CHECK(blk[i].state == want[i]);
	}
	CHECK(blk[M_HEAD].indirect_blocks == 2 && blk[M_HEAD].indirect_bytes == 96);
	CHECK(blk[M_LEAK].indirect_blocks == 0);
	CHECK(st.regions >= 6 && st.bytes_scanned > 0);
	printf("process: %llu roots, %.1f MB scanned (%.1f MB roots), %llu unreadable, %.2f ms\n",
	       (unsigned long long)st.regions, st.bytes_scanned / 1e6, st.root_bytes / 1e6,
	       (unsigned long long)st.unreadable_bytes, st.ms);

	/* without the fs base the main thread's __thread block is still found:
	 * the static TLS is in memory ld.so mapped, and every readable and
	 * writable mapping that is not the allocator's is a root */
	CHECK(heapscan_process(pid, 0, NULL, 0, blk, M_FSBASE, &st, err, sizeof(err)) == 0);
	CHECK(blk[M_TLS_MAIN].state == HS_REACHABLE);
	CHECK(blk[M_LEAK].state == HS_DEFINITE && blk[M_HEAD].state == HS_DEFINITE);
	CHECK(blk[M_TLS_THREAD].state == HS_REACHABLE);

	/* the stateless reader */
	int cpid = pid;
	uint64_t w = 0;
	CHECK(heapscan_read_process(&cpid, blk[M_HEAD].addr, &w, 8) == 8 && w == blk[M_N1].addr);
	CHECK(heapscan_read_process(&cpid, 8, &w, 8) < 0);
	uint64_t two[2];   /* across the end of [stack]: the readable part */
	CHECK(stack_end && heapscan_read_process(&cpid, stack_end - 8, two, 16) == 8);

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	/* a process that is gone */
	CHECK(heapscan_roots(pid, 0, &roots, &nroots, err, sizeof(err)) == -1 && err[0]);
}

int main(void)
{
	test_rules();
	test_edges();
	test_far_apart();
	test_big_roots();
	test_million();
	test_process();
	return unit_done();
}
