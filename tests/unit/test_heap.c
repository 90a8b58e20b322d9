/*
 * Unit tests of the heap model (reports/heap/heap.c): synthetic allocator records
 * fed through model_ingest, with fork/exec/exit/crash records around them,
 * and a fake leak scan result. One part uses this test's own process image
 * (its real return addresses and modules) to check symbolization, the stack
 * cut and suppressions.
 */
#include "unit.h"
#include "reports/core/analysis.h"
#include "reports/crash/crash.h"
#include "reports/heap/heap.h"
#include "reports/heap/heapscan.h"
#include "reports/core/model.h"
#include "reports/render/render.h"

#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

static uint64_t now_ts = 1000000000ull;

static uint64_t tick(void)
{
	now_ts += 1000;
	return now_ts;
}

static void hdr(struct ev_header *h, int type, size_t size, int pid, int tid)
{
	h->type = (et_u32)type;
	h->size = (et_u32)size;
	h->ts = tick();
	h->pid = (et_u32)pid;
	h->tid = (et_u32)tid;
}

static void fork_rec(struct et_model *m, int parent, int child)
{
	struct ev_fork e;
	memset(&e, 0, sizeof(e));
	hdr(&e.h, ET_EV_FORK, sizeof(e), parent, parent);
	e.child_pid = (et_u32)child;
	e.child_tid = (et_u32)child;
	snprintf(e.comm, sizeof(e.comm), "child%d", child);
	CHECK(model_ingest(m, &e, sizeof(e)) == 0);
}

static void exec_rec(struct et_model *m, int pid, const char *file, uint64_t entry, uint64_t base)
{
	struct ev_exec e;
	memset(&e, 0, sizeof(e));
	hdr(&e.h, ET_EV_EXEC, sizeof(e), pid, pid);
	e.at_entry = entry;
	e.at_base = base;
	snprintf(e.comm, sizeof(e.comm), "prog%d", pid);
	snprintf(e.filename, sizeof(e.filename), "%s", file);
	CHECK(model_ingest(m, &e, sizeof(e)) == 0);
}

static void exit_rec(struct et_model *m, int pid, int code)
{
	struct ev_exit e;
	memset(&e, 0, sizeof(e));
	hdr(&e.h, ET_EV_EXIT, sizeof(e), pid, pid);
	e.exit_code = (et_u32)(code << 8);
	e.group_dead = 1;
	CHECK(model_ingest(m, &e, sizeof(e)) == 0);
}

static void crash_rec(struct et_model *m, int pid, int tid, int sig, int code, uint64_t addr)
{
	size_t size = sizeof(struct ev_crash) - ET_STACK_MAX;
	struct ev_crash *e = calloc(1, sizeof(*e));
	hdr(&e->h, ET_EV_CRASH, size, pid, tid);
	e->sig = (et_u32)sig;
	e->code = code;
	e->addr = addr;
	CHECK(model_ingest(m, e, size) == 0);
	free(e);
}

static const uint64_t STACK_A[] = { 0x401100, 0x401200 };
static const uint64_t STACK_B[] = { 0x402100 };
static const uint64_t STACK_C[] = { 0x403100, 0x403200, 0x403300 };
static const uint64_t STACK_D[] = { 0x404100 };

#define NF(a) (sizeof(a) / sizeof((a)[0]))

static size_t ingest_failures;

static void heap_full(struct et_model *m, int pid, int tid, int op, uint64_t ptr, uint64_t old, uint64_t size,
		      uint64_t sp, const uint64_t *frames, size_t nf)
{
	struct ev_heap e;
	memset(&e, 0, sizeof(e));
	hdr(&e.h, ET_EV_HEAP, sizeof(e), pid, tid);
	e.op = (et_u32)op;
	e.ptr = ptr;
	e.old_ptr = old;
	e.size = size;
	e.sp = sp;
	e.enter_ts = e.h.ts;
	e.nframes = (et_u32)nf;
	memcpy(e.frames, frames, nf * sizeof(*frames));
	if (model_ingest(m, &e, sizeof(e)) != 0)
		ingest_failures++;
}

static void alloc_op(struct et_model *m, int pid, int op, uint64_t ptr, uint64_t size, const uint64_t *f, size_t nf)
{
	heap_full(m, pid, pid, op, ptr, 0, size, 0x7ffd00000000ull, f, nf);
}

static void free_op(struct et_model *m, int pid, int op, uint64_t ptr, const uint64_t *f, size_t nf)
{
	heap_full(m, pid, pid, op, ptr, 0, 0, 0x7ffd00000000ull, f, nf);
}

static void realloc_op(struct et_model *m, int pid, uint64_t old, uint64_t size, uint64_t ptr, const uint64_t *f,
		       size_t nf)
{
	heap_full(m, pid, pid, ET_HEAP_REALLOC, ptr, old, size, 0x7ffd00000000ull, f, nf);
}

static bool same_stack(const struct et_model *m, uint32_t id, const uint64_t *f, size_t nf)
{
	size_t n;
	const uint64_t *s = heap_stack(m, id, &n);
	return s && n == nf && memcmp(s, f, nf * sizeof(*f)) == 0;
}

static struct heap_proc_stats stats_of(const struct et_model *m, int pid)
{
	struct heap_proc_stats st;
	CHECK(heap_process_stats(m, pid, &st) == 0);
	return st;
}

/* HEAP_TEST_DUMP=1: every report rendered goes to stderr too (to look at). */
static void dump(const char *s)
{
	if (getenv("HEAP_TEST_DUMP"))
		fprintf(stderr, "%s\n", s);
}

/* The analyses under test, as the renderers reach them (reports/core/analyses.c). */
extern const struct et_analysis heap_analysis, crash_analysis;

/* Renders into a string (caller frees). */
static char *text_of(const struct et_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	heap_analysis.render_text(m, f);
	fclose(f);
	dump(buf);
	return buf;
}

static char *json_of(const struct et_model *m)
{
	struct strbuf sb = STRBUF_INIT;
	heap_analysis.render_json(m, &sb);
	dump(sb_str(&sb));
	return sb_detach(&sb);
}

static void init(struct et_model *m)
{
	model_init(m);
	heap_enable(m);
}

/* ---- accounting and realloc ---------------------------------------------------------- */

static void test_accounting(void)
{
	struct et_model m;
	init(&m);
	alloc_op(&m, 100, ET_HEAP_MALLOC, 0x10000, 100, STACK_A, NF(STACK_A));
	alloc_op(&m, 100, ET_HEAP_CALLOC, 0x10100, 200, STACK_B, NF(STACK_B));
	alloc_op(&m, 100, ET_HEAP_MALLOC, 0x10400, 300, STACK_A, NF(STACK_A));
	alloc_op(&m, 100, ET_HEAP_MALLOC, 0, 1ull << 50, STACK_A, NF(STACK_A)); /* failed */
	free_op(&m, 100, ET_HEAP_FREE, 0x10100, STACK_C, NF(STACK_C));
	struct heap_proc_stats st = stats_of(&m, 100);
	CHECK(st.allocations == 3);
	CHECK(st.frees == 1);
	CHECK(st.bytes_allocated == 600);
	CHECK(st.peak_bytes == 600);
	CHECK(st.live_blocks == 2);
	CHECK(st.live_bytes == 400);
	CHECK(st.failed_allocations == 1);
	CHECK(heap_error_count(&m) == 0);
	m.lost[ET_EV_HEAP] = 5;
	char *t = text_of(&m);
	CHECK(strstr(t, "5 heap records lost: leak and error results are incomplete") != NULL);
	free(t);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"lost_events\":5,\"lost_holds\":0}") != NULL);
	free(j);
	/* frees of NULL are nothing */
	free_op(&m, 100, ET_HEAP_FREE, 0, STACK_C, NF(STACK_C));
	CHECK(stats_of(&m, 100).frees == 1);
	CHECK(stats_of(&m, 100).unknown_frees == 0);
	/* an unknown pid has no heap; an unknown op is malformed */
	struct heap_proc_stats none;
	CHECK(heap_process_stats(&m, 999, &none) == -1);
	struct ev_heap bad;
	memset(&bad, 0, sizeof(bad));
	hdr(&bad.h, ET_EV_HEAP, sizeof(bad), 100, 100);
	bad.op = 99;
	CHECK(model_ingest(&m, &bad, sizeof(bad)) == -1);
	model_free(&m);
}

static void test_realloc(void)
{
	struct et_model m;
	init(&m);
	int pid = 110;
	realloc_op(&m, pid, 0, 100, 0x20000, STACK_A, NF(STACK_A));     /* realloc(NULL, 100): malloc */
	struct heap_proc_stats st = stats_of(&m, pid);
	CHECK(st.allocations == 1 && st.live_blocks == 1 && st.live_bytes == 100);
	realloc_op(&m, pid, 0x20000, 160, 0x20000, STACK_B, NF(STACK_B)); /* grown in place */
	st = stats_of(&m, pid);
	CHECK(st.live_blocks == 1 && st.live_bytes == 160 && st.peak_bytes == 160);
	realloc_op(&m, pid, 0x20000, 5000, 0x30000, STACK_C, NF(STACK_C)); /* moved */
	st = stats_of(&m, pid);
	CHECK(st.live_blocks == 1 && st.live_bytes == 5000);
	realloc_op(&m, pid, 0x30000, 9000, 0, STACK_C, NF(STACK_C));   /* failed: the block stays */
	st = stats_of(&m, pid);
	CHECK(st.live_blocks == 1 && st.live_bytes == 5000 && st.failed_allocations == 1);
	CHECK(heap_error_count(&m) == 0);
	realloc_op(&m, pid, 0x30000, 0, 0, STACK_D, NF(STACK_D));      /* realloc(p, 0): a free */
	st = stats_of(&m, pid);
	CHECK(st.live_blocks == 0 && st.live_bytes == 0);
	CHECK(heap_error_count(&m) == 0);
	/* realloc of the block freed by the move */
	realloc_op(&m, pid, 0x20000, 64, 0x40000, STACK_D, NF(STACK_D));
	CHECK(heap_error_count(&m) == 1);
	const struct heap_error *e = heap_error_get(&m, 0);
	CHECK(e && e->kind == HEAP_ERR_REALLOC_FREED);
	CHECK(e && e->has_block && e->block_freed && e->block_size == 160);
	CHECK(e && same_stack(&m, e->alloc_stack, STACK_B, NF(STACK_B)));
	CHECK(e && same_stack(&m, e->free_stack, STACK_C, NF(STACK_C)));
	CHECK_STR(heap_error_kind_name(HEAP_ERR_REALLOC_FREED), "realloc of freed pointer");
	char *t = text_of(&m);
	CHECK(strstr(t, "ERROR realloc of freed pointer 0x20000 (160-byte block from realloc) by thread 110:\n") != NULL);
	free(t);
	model_free(&m);
}

/* ---- errors -------------------------------------------------------------------------- */

static void test_double_free(void)
{
	struct et_model m;
	init(&m);
	int pid = 120;
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x55d0c3a2b2a0, 64, STACK_A, NF(STACK_A));
	heap_full(&m, pid, 121, ET_HEAP_FREE, 0x55d0c3a2b2a0, 0, 0, 0x7ffd00000000ull, STACK_B, NF(STACK_B));
	CHECK(heap_error_count(&m) == 0);
	free_op(&m, pid, ET_HEAP_FREE, 0x55d0c3a2b2a0, STACK_C, NF(STACK_C));
	CHECK(heap_error_count(&m) == 1);
	CHECK(heap_nerrors(&m) == 1);
	const struct heap_error *e = heap_error_get(&m, 0);
	CHECK(e && e->kind == HEAP_ERR_DOUBLE_FREE);
	CHECK(e && e->tid == pid && e->addr == 0x55d0c3a2b2a0);
	CHECK(e && same_stack(&m, e->stack, STACK_C, NF(STACK_C)));
	CHECK(e && same_stack(&m, e->alloc_stack, STACK_A, NF(STACK_A)));
	CHECK(e && e->block_freed && e->free_tid == 121);
	CHECK(e && same_stack(&m, e->free_stack, STACK_B, NF(STACK_B)));
	CHECK(stats_of(&m, pid).errors[HEAP_ERR_DOUBLE_FREE] == 1);
	char *t = text_of(&m);
	CHECK(strstr(t, "ERROR double free of 0x55d0c3a2b2a0 (64-byte block from malloc) by thread 120") != NULL);
	CHECK(strstr(t, "  freed before by thread 121 at:\n") != NULL);
	CHECK(strstr(t, "  allocated at:\n") != NULL);
	CHECK(strstr(t, "(stack cut: frame pointers end here)") != NULL); /* no modules: frames[1..] not believed */
	free(t);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"kind\":\"double free\",\"pid\":120,\"tid\":120") != NULL);
	CHECK(strstr(j, "\"free_tid\":121") != NULL);
	CHECK(strstr(j, "\"function\":\"free\"") != NULL);
	free(j);
	model_free(&m);
}

static void test_invalid_free(void)
{
	struct et_model m;
	init(&m);
	int pid = 130;
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x60000, 64, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_FREE, 0x60010, STACK_B, NF(STACK_B)); /* 16 bytes inside */
	CHECK(heap_error_count(&m) == 1);
	const struct heap_error *e = heap_error_get(&m, 0);
	CHECK(e && e->kind == HEAP_ERR_INVALID_FREE && e->detail == HEAP_DETAIL_INTERIOR);
	CHECK(e && e->has_block && !e->block_freed && e->block_addr == 0x60000 && e->block_size == 64);
	CHECK(stats_of(&m, pid).live_blocks == 1); /* the block is still there */
	/* deep inside a big block */
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x7f0000000010, 1 << 20, STACK_C, NF(STACK_C));
	free_op(&m, pid, ET_HEAP_FREE, 0x7f0000000010 + 500000, STACK_B, NF(STACK_B));
	CHECK(heap_error_count(&m) == 2);
	e = heap_error_get(&m, 1);
	CHECK(e && e->detail == HEAP_DETAIL_INTERIOR && e->block_addr == 0x7f0000000010 && e->block_size == 1 << 20);
	/* one past the end is not inside: an unknown pointer */
	free_op(&m, pid, ET_HEAP_FREE, 0x60040, STACK_B, NF(STACK_B));
	CHECK(heap_error_count(&m) == 2);
	CHECK(stats_of(&m, pid).unknown_frees == 1);
	/* an address on the caller's stack */
	uint64_t sp = 0x7ffe12340000ull;
	heap_full(&m, pid, pid, ET_HEAP_FREE, sp + 0x40, 0, 0, sp, STACK_D, NF(STACK_D));
	CHECK(heap_error_count(&m) == 3);
	e = heap_error_get(&m, 2);
	CHECK(e && e->kind == HEAP_ERR_INVALID_FREE && e->detail == HEAP_DETAIL_STACK && !e->has_block);
	char *t = text_of(&m);
	CHECK(strstr(t, "ERROR invalid free of 0x60010 (16 bytes inside a 64-byte block from malloc) by thread 130") != NULL);
	CHECK(strstr(t, "ERROR invalid free of 0x7ffe12340040 (an address on the caller's stack)") != NULL);
	free(t);
	model_free(&m);
}

static void test_mismatched(void)
{
	struct et_model m;
	init(&m);
	int pid = 140;
	alloc_op(&m, pid, ET_HEAP_NEW, 0x70000, 24, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_FREE, 0x70000, STACK_B, NF(STACK_B));
	alloc_op(&m, pid, ET_HEAP_NEW_ARRAY, 0x70100, 40, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_DELETE, 0x70100, STACK_B, NF(STACK_B));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x70200, 8, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_DELETE_ARRAY, 0x70200, STACK_B, NF(STACK_B));
	alloc_op(&m, pid, ET_HEAP_NEW, 0x70300, 8, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_DELETE, 0x70300, STACK_B, NF(STACK_B));        /* fine */
	alloc_op(&m, pid, ET_HEAP_NEW_ARRAY, 0x70400, 8, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_DELETE_ARRAY, 0x70400, STACK_B, NF(STACK_B));  /* fine */
	alloc_op(&m, pid, ET_HEAP_POSIX_MEMALIGN, 0x70500, 8, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_FREE, 0x70500, STACK_B, NF(STACK_B));          /* fine */
	CHECK(heap_error_count(&m) == 3);
	for (size_t i = 0; i < 3; i++) {
		const struct heap_error *e = heap_error_get(&m, i);
		CHECK(e && e->kind == HEAP_ERR_MISMATCHED_FREE && e->has_block && !e->block_freed);
	}
	CHECK(heap_error_get(&m, 0)->block_op == ET_HEAP_NEW && heap_error_get(&m, 0)->op == ET_HEAP_FREE);
	/* the blocks are freed all the same */
	struct heap_proc_stats st = stats_of(&m, pid);
	CHECK(st.live_blocks == 0 && st.frees == 6);
	char *t = text_of(&m);
	CHECK(strstr(t, "ERROR mismatched free of 0x70000 (24-byte block from operator new, released with free) by thread 140") != NULL);
	CHECK(strstr(t, "(40-byte block from operator new[], released with operator delete)") != NULL);
	free(t);
	model_free(&m);
}

/* ---- processes ------------------------------------------------------------------------ */

static void test_fork_exec(void)
{
	struct et_model m;
	init(&m);
	alloc_op(&m, 200, ET_HEAP_MALLOC, 0x80000, 48, STACK_A, NF(STACK_A));
	alloc_op(&m, 200, ET_HEAP_MALLOC, 0x80100, 48, STACK_A, NF(STACK_A));
	alloc_op(&m, 200, ET_HEAP_MALLOC, 0x80200, 48, STACK_A, NF(STACK_A));
	free_op(&m, 200, ET_HEAP_FREE, 0x80200, STACK_B, NF(STACK_B));
	fork_rec(&m, 200, 201);
	struct heap_proc_stats st = stats_of(&m, 201);
	CHECK(st.live_blocks == 2 && st.live_bytes == 96 && st.allocations == 0);
	/* the child frees its parent's block: fine; the parent's copy stays */
	free_op(&m, 201, ET_HEAP_FREE, 0x80000, STACK_B, NF(STACK_B));
	CHECK(heap_error_count(&m) == 0);
	CHECK(stats_of(&m, 201).frees == 1 && stats_of(&m, 201).live_blocks == 1);
	CHECK(stats_of(&m, 200).live_blocks == 2);
	/* a block the parent freed before the fork is freed in the child too */
	free_op(&m, 201, ET_HEAP_FREE, 0x80200, STACK_C, NF(STACK_C));
	CHECK(heap_error_count(&m) == 1 && heap_error_get(&m, 0)->kind == HEAP_ERR_DOUBLE_FREE);
	CHECK(heap_error_get(&m, 0)->pid == 201);

	/* exec: a fresh heap */
	exec_rec(&m, 201, "/bin/true", 0, 0);
	st = stats_of(&m, 201);
	CHECK(st.live_blocks == 0 && st.live_bytes == 0);
	free_op(&m, 201, ET_HEAP_FREE, 0x80100, STACK_B, NF(STACK_B)); /* from before the exec: unknown */
	CHECK(heap_error_count(&m) == 1);
	CHECK(stats_of(&m, 201).unknown_frees == 1);

	/* a thread is not a process: same heap */
	struct ev_fork e;
	memset(&e, 0, sizeof(e));
	hdr(&e.h, ET_EV_FORK, sizeof(e), 200, 200);
	e.child_pid = 200;
	e.child_tid = 202;
	e.is_thread = 1;
	CHECK(model_ingest(&m, &e, sizeof(e)) == 0);
	heap_full(&m, 200, 202, ET_HEAP_FREE, 0x80100, 0, 0, 0, STACK_B, NF(STACK_B));
	CHECK(stats_of(&m, 200).live_blocks == 1 && heap_error_count(&m) == 1);
	model_free(&m);
}

static void test_unknown_and_abort(void)
{
	struct et_model m;
	init(&m);
	/* a free of a pointer never seen is not an error... */
	free_op(&m, 300, ET_HEAP_FREE, 0x90000, STACK_A, NF(STACK_A));
	free_op(&m, 300, ET_HEAP_FREE, 0x90100, STACK_B, NF(STACK_B));
	CHECK(stats_of(&m, 300).unknown_frees == 2);
	CHECK(heap_error_count(&m) == 0);
	/* ...unless the allocator then aborts the process */
	crash_rec(&m, 300, 300, SIGABRT, -6, 0);
	CHECK(heap_error_count(&m) == 1);
	const struct heap_error *e = heap_error_get(&m, 0);
	CHECK(e && e->kind == HEAP_ERR_INVALID_FREE && e->detail == HEAP_DETAIL_ABORTED && e->addr == 0x90100);
	CHECK(e && same_stack(&m, e->stack, STACK_B, NF(STACK_B)));
	CHECK(heap_error_count(&m) == 1); /* decided once */
	char *t = text_of(&m);
	/* the one the allocator rejected is an error, not among the harmless */
	CHECK(strstr(t, "1 free of pointers no probe saw allocated") != NULL);
	CHECK(strstr(t, "ERROR invalid free of 0x90100 (a pointer no allocation returned: the allocator aborted)") != NULL);
	free(t);

	/* the free returned (the thread went on allocating): the abort is something else */
	free_op(&m, 310, ET_HEAP_FREE, 0x91000, STACK_A, NF(STACK_A));
	alloc_op(&m, 310, ET_HEAP_MALLOC, 0x92000, 10, STACK_A, NF(STACK_A));
	crash_rec(&m, 310, 310, SIGABRT, -6, 0);
	CHECK(heap_error_count(&m) == 1);
	/* another thread's unknown free is not this thread's abort */
	heap_full(&m, 320, 321, ET_HEAP_FREE, 0x93000, 0, 0, 0, STACK_A, NF(STACK_A));
	crash_rec(&m, 320, 320, SIGABRT, -6, 0);
	CHECK(heap_error_count(&m) == 1);
	model_free(&m);
}

static void test_freed_eviction(void)
{
	struct et_model m;
	init(&m);
	heap_set_freed_keep(&m, 4);
	int pid = 400;
	for (uint64_t i = 0; i < 6; i++) {
		alloc_op(&m, pid, ET_HEAP_MALLOC, 0xa0000 + i * 0x100, 32, STACK_A, NF(STACK_A));
		free_op(&m, pid, ET_HEAP_FREE, 0xa0000 + i * 0x100, STACK_B, NF(STACK_B));
	}
	/* the first two frees were forgotten: not a double free any more */
	free_op(&m, pid, ET_HEAP_FREE, 0xa0000, STACK_C, NF(STACK_C));
	free_op(&m, pid, ET_HEAP_FREE, 0xa0100, STACK_C, NF(STACK_C));
	CHECK(heap_error_count(&m) == 0);
	CHECK(stats_of(&m, pid).unknown_frees == 2);
	/* the last four are remembered */
	free_op(&m, pid, ET_HEAP_FREE, 0xa0200, STACK_C, NF(STACK_C));
	free_op(&m, pid, ET_HEAP_FREE, 0xa0500, STACK_C, NF(STACK_C));
	CHECK(heap_error_count(&m) == 2);
	/* a block allocated again at a freed address leaves the record */
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0xa0300, 32, STACK_D, NF(STACK_D));
	free_op(&m, pid, ET_HEAP_FREE, 0xa0300, STACK_B, NF(STACK_B));
	CHECK(heap_error_count(&m) == 2);
	free_op(&m, pid, ET_HEAP_FREE, 0xa0300, STACK_C, NF(STACK_C));
	CHECK(heap_error_count(&m) == 3);
	CHECK(same_stack(&m, heap_error_get(&m, 2)->alloc_stack, STACK_D, NF(STACK_D)));
	/* keep 0: no record at all */
	heap_set_freed_keep(&m, 0);
	alloc_op(&m, 410, ET_HEAP_MALLOC, 0xb0000, 32, STACK_A, NF(STACK_A));
	free_op(&m, 410, ET_HEAP_FREE, 0xb0000, STACK_B, NF(STACK_B));
	free_op(&m, 410, ET_HEAP_FREE, 0xb0000, STACK_B, NF(STACK_B));
	CHECK(heap_error_count(&m) == 3);
	model_free(&m);
}

/* Many blocks: the tables grow, lookups stay right. */
static void test_many_blocks(void)
{
	struct et_model m;
	init(&m);
	int pid = 450;
	const size_t n = 200000;
	for (size_t i = 0; i < n; i++)
		alloc_op(&m, pid, ET_HEAP_MALLOC, 0x10000000 + i * 32, 24, STACK_A, NF(STACK_A));
	for (size_t i = 0; i < n; i += 2)
		free_op(&m, pid, ET_HEAP_FREE, 0x10000000 + i * 32, STACK_B, NF(STACK_B));
	struct heap_proc_stats st = stats_of(&m, pid);
	CHECK(st.live_blocks == n / 2 && st.live_bytes == (n / 2) * 24);
	CHECK(heap_error_count(&m) == 0);
	/* interior of a remaining block; and a double free of a removed one */
	free_op(&m, pid, ET_HEAP_FREE, 0x10000000 + 1001 * 32 + 8, STACK_C, NF(STACK_C));
	free_op(&m, pid, ET_HEAP_FREE, 0x10000000 + (n - 2) * 32, STACK_C, NF(STACK_C));
	CHECK(heap_error_count(&m) == 2);
	CHECK(heap_error_get(&m, 0)->detail == HEAP_DETAIL_INTERIOR && heap_error_get(&m, 0)->block_addr == 0x10000000 + 1001 * 32);
	CHECK(heap_error_get(&m, 1)->kind == HEAP_ERR_DOUBLE_FREE);
	for (size_t i = 1; i < n; i += 2)
		free_op(&m, pid, ET_HEAP_FREE, 0x10000000 + i * 32, STACK_B, NF(STACK_B));
	CHECK(stats_of(&m, pid).live_blocks == 0 && heap_error_count(&m) == 2);
	model_free(&m);
}

/* ---- the crash ------------------------------------------------------------------------- */

static void test_crash_context(void)
{
	struct et_model m;
	init(&m);
	int pid = 500;
	uint64_t live = 0x7f1000000010ull, freed = 0x7f2000000010ull;
	alloc_op(&m, pid, ET_HEAP_MALLOC, live, 200000, STACK_A, NF(STACK_A));
	alloc_op(&m, pid, ET_HEAP_MALLOC, freed, 262144, STACK_B, NF(STACK_B));
	heap_full(&m, pid, 501, ET_HEAP_FREE, freed, 0, 0, 0, STACK_C, NF(STACK_C));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x5000080, 40, STACK_D, NF(STACK_D));
	struct et_process *p = model_process(&m, pid);
	struct heap_crash_info ci;
	uint64_t ts = tick();

	CHECK(heap_crash_context(&m, p, freed + 16, ts, &ci) == 1);
	CHECK_STR(ci.kind, "use-after-free");
	CHECK(ci.inside && ci.offset == 16 && ci.block_address == freed && ci.block_size == 262144);
	CHECK(ci.freed && ci.free_tid == 501 && ci.alloc_op == ET_HEAP_MALLOC && ci.free_op == ET_HEAP_FREE);
	CHECK(same_stack(&m, ci.free_stack, STACK_C, NF(STACK_C)) && same_stack(&m, ci.alloc_stack, STACK_B, NF(STACK_B)));

	/* glibc's mapping of a 200000-byte block ends 688 bytes past it */
	CHECK(heap_crash_context(&m, p, live + 200000 + 688, ts, &ci) == 1);
	CHECK_STR(ci.kind, "heap-buffer-overflow");
	CHECK(!ci.inside && ci.offset == 200688 && !ci.freed && ci.block_address == live);
	CHECK(heap_crash_context(&m, p, live + 100, ts, &ci) == 1);
	CHECK_STR(ci.kind, "inside a live block");
	CHECK(ci.offset == 100);
	/* a small block: 8 bytes past its end */
	CHECK(heap_crash_context(&m, p, 0x5000080 + 48, ts, &ci) == 1);
	CHECK_STR(ci.kind, "heap-buffer-overflow");
	CHECK(ci.offset == 48 && ci.block_size == 40);
	/* far from everything */
	CHECK(heap_crash_context(&m, p, 0x100, ts, &ci) == 0);
	CHECK(heap_crash_context(&m, p, live + 200000 + 5000, ts, &ci) == 0);

	/* a freed region partly given out again: the newer block wins where it is */
	uint64_t r = 0x6000000;
	alloc_op(&m, pid, ET_HEAP_MALLOC, r, 256, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_FREE, r, STACK_B, NF(STACK_B));
	alloc_op(&m, pid, ET_HEAP_MALLOC, r + 64, 32, STACK_C, NF(STACK_C));
	ts = tick();
	CHECK(heap_crash_context(&m, p, r + 70, ts, &ci) == 1);
	CHECK_STR(ci.kind, "inside a live block");
	CHECK(heap_crash_context(&m, p, r + 10, ts, &ci) == 1);
	CHECK_STR(ci.kind, "use-after-free");
	/* both match, the freed one is newer: it is preferred */
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x6100000, 64, STACK_A, NF(STACK_A));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x6100040, 64, STACK_A, NF(STACK_A));
	free_op(&m, pid, ET_HEAP_FREE, 0x6100040, STACK_B, NF(STACK_B));
	CHECK(heap_crash_context(&m, p, 0x6100040 + 64 + 4, tick(), &ci) == 1);
	CHECK_STR(ci.kind, "use-after-free");
	CHECK(!ci.inside);

	/* the crash section shows it */
	crash_rec(&m, pid, pid, SIGSEGV, 1 /* SEGV_MAPERR */, freed + 16);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	crash_analysis.render_text(&m, f);
	fclose(f);
	dump(buf);
	CHECK(strstr(buf, "  heap: heap-use-after-free: address 0x7f2000000020 is 16 bytes inside a 262144-byte region freed by thread 501") != NULL);
	CHECK(strstr(buf, "ms before the crash\n  freed by free at:\n") != NULL);
	CHECK(strstr(buf, "  previously allocated by malloc at:\n") != NULL);
	free(buf);
	struct strbuf sb = STRBUF_INIT;
	crash_analysis.render_json(&m, &sb);  /* the value of "crashes" */
	dump(sb_str(&sb));
	CHECK(strstr(sb_str(&sb), "\"heap\":{\"kind\":\"use-after-free\",\"address\":\"0x7f2000000020\",\"block_address\":\"0x7f2000000010\",\"block_size\":262144,\"offset\":16") != NULL);
	CHECK(strstr(sb_str(&sb), "\"free_tid\":501") != NULL);
	sb_free(&sb);

	/* a process that exited normally lets its tables go */
	alloc_op(&m, 510, ET_HEAP_MALLOC, 0x7000000, 64, STACK_A, NF(STACK_A));
	exit_rec(&m, 510, 0);
	CHECK(heap_crash_context(&m, model_process(&m, 510), 0x7000008, tick(), &ci) == 0);
	CHECK(stats_of(&m, 510).live_blocks == 1);
	model_free(&m);
}

/* ---- leaks ------------------------------------------------------------------------------- */

static void set_state(struct hs_block *b, size_t n, uint64_t lo, uint64_t hi, int state)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].addr >= lo && b[i].addr < hi)
			b[i].state = (uint8_t)state;
}

static void test_leaks(void)
{
	struct et_model m;
	init(&m);
	int pid = 600;
	for (uint64_t i = 0; i < 10; i++)
		alloc_op(&m, pid, ET_HEAP_MALLOC, 0x100000 + i * 0x40, 40, STACK_A, NF(STACK_A));
	alloc_op(&m, pid, ET_HEAP_CALLOC, 0x200000, 1000, STACK_B, NF(STACK_B));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x300000, 32, STACK_C, NF(STACK_C));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x300040, 32, STACK_C, NF(STACK_C));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x400000, 1024, STACK_D, NF(STACK_D));
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x500000, 8, STACK_D, NF(STACK_D)); /* left unclassified */
	CHECK(heap_wants_scan(&m));

	struct hs_block *b = NULL;
	size_t n = 0;
	CHECK(heap_scan_blocks(&m, pid, &b, &n) == 0);
	CHECK(n == 15);
	set_state(b, n, 0x100000, 0x200000, HS_DEFINITE);
	set_state(b, n, 0x200000, 0x300000, HS_DEFINITE);
	set_state(b, n, 0x300000, 0x400000, HS_INDIRECT);
	set_state(b, n, 0x400000, 0x500000, HS_REACHABLE);
	for (size_t i = 0; i < n; i++)
		if (b[i].addr == 0x100000) {
			b[i].indirect_bytes = 64;
			b[i].indirect_blocks = 2;
		}
	/* the scanner may hand the array back in another order */
	for (size_t i = 0; i < n / 2; i++) {
		struct hs_block t = b[i];
		b[i] = b[n - 1 - i];
		b[n - 1 - i] = t;
	}
	struct hs_stats st;
	memset(&st, 0, sizeof(st));
	st.ms = 1.5;
	st.bytes_scanned = 4096;
	heap_scan_result(&m, pid, b, n, &st, NULL);
	free(b);
	exit_rec(&m, pid, 0);

	CHECK(heap_leaked_blocks(&m) == 13);
	char *t = text_of(&m);
	const char *big = strstr(t, "LEAK 1000 bytes in 1 block definitely lost, allocated by calloc at:\n");
	const char *loop = strstr(t, "LEAK 400 bytes in 10 blocks definitely lost, allocated by malloc at:\n");
	const char *ind = strstr(t, "LEAK 64 bytes in 2 blocks indirectly lost, allocated by malloc at:\n");
	CHECK(big && loop && ind && big < loop && loop < ind);
	CHECK(strstr(t, "  they hold the only pointers to 64 bytes in 2 more blocks (indirectly lost)") != NULL);
	CHECK(strstr(t, "leak summary (pid 600): definitely lost 1400 bytes in 11 blocks, indirectly lost 64 bytes in 2 blocks, "
			"possibly lost 0 bytes in 0 blocks, still reachable 1024 bytes in 1 block, suppressed 0 bytes in 0 blocks, "
			"not scanned 8 bytes in 1 block\n") != NULL);
	/* each group names its lowest block addresses */
	CHECK(loop && strstr(loop, "  blocks at 0x100000, 0x100040, 0x100080, 0x1000c0 and 6 more\n") != NULL);
	CHECK(big && strstr(big, "  block at 0x200000\n") != NULL);
	CHECK(strstr(t, "REACHABLE") == NULL);   /* not listed without --show-reachable */
	CHECK(strstr(t, "-- heap: 15 allocations, 0 frees, 15 blocks (2496 bytes) outstanding at exit") != NULL);
	free(t);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"summary\":{\"definitely_lost\":{\"bytes\":1400,\"blocks\":11},\"indirectly_lost\":{\"bytes\":64,\"blocks\":2},"
			"\"possibly_lost\":{\"bytes\":0,\"blocks\":0},\"still_reachable\":{\"bytes\":1024,\"blocks\":1},\"suppressed\":{\"bytes\":0,\"blocks\":0},"
			"\"not_scanned\":{\"bytes\":8,\"blocks\":1},\"inherited_at_fork\":{\"bytes\":0,\"blocks\":0}}") != NULL);
	CHECK(strstr(j, "{\"pid\":600,\"kind\":\"definitely lost\",\"bytes\":400,\"blocks\":10,\"indirect_bytes\":64,"
			"\"indirect_blocks\":2,\"addresses\":[\"0x100000\",\"0x100040\",\"0x100080\",\"0x1000c0\"],"
			"\"function\":\"malloc\",\"stack\":[") != NULL);
	CHECK(strstr(j, "\"scan\":{\"done\":true,\"held\":false,\"error\":null,\"ms\":1.500,\"bytes_scanned\":4096") != NULL);
	free(j);

	/* a process that was never scanned: its blocks are not leaks */
	alloc_op(&m, 610, ET_HEAP_MALLOC, 0x900000, 96, STACK_A, NF(STACK_A));
	crash_rec(&m, 610, 610, SIGSEGV, 1, 0x10);
	exit_rec(&m, 610, 0);
	/* one whose scan failed */
	alloc_op(&m, 620, ET_HEAP_MALLOC, 0x900000, 16, STACK_A, NF(STACK_A));
	heap_scan_result(&m, 620, NULL, 0, NULL, "the process was gone before the scan");
	CHECK(heap_leaked_blocks(&m) == 13);
	t = text_of(&m);
	CHECK(strstr(t, "leak summary (pid 610): not scanned (it died of SIGSEGV): 96 bytes in 1 block outstanding") != NULL);
	CHECK(strstr(t, "leak summary (pid 620): not scanned (the scan failed: the process was gone before the scan)") != NULL);
	CHECK(strstr(t, "leak summary (all 3 processes):") != NULL);
	free(t);

	/* --leaks=none: no leak section */
	CHECK(heap_set_leaks_mode(&m, "none") == 0);
	CHECK(heap_set_leaks_mode(&m, "some") == -1);
	CHECK(!heap_wants_scan(&m));
	CHECK(heap_leaked_blocks(&m) == 0);
	t = text_of(&m);
	CHECK(strstr(t, "LEAK") == NULL && strstr(t, "leak summary") == NULL);
	free(t);
	j = json_of(&m);
	CHECK(strstr(j, "\"leaks\"") == NULL);
	free(j);
	model_free(&m);
}

/* ---- suppressions --------------------------------------------------------------------------- */

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/etrace-supp-XXXXXX");
	int fd = mkstemp(path);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
	return path;
}

static void test_suppressions_file(void)
{
	struct et_model m;
	init(&m);
	char err[256];
	char *good = write_file("# my rules\n\n  leak:leaky_*  \nleak:libfoo.so*\r\n\t# indented comment\n");
	CHECK(heap_load_suppressions(&m, good, err, sizeof(err)) == 0);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"suppression_rules\":2") != NULL);
	free(j);

	char *bad_type = write_file("leak:x\nrace:y\n");
	CHECK(heap_load_suppressions(&m, bad_type, err, sizeof(err)) == -1);
	char want[512];
	snprintf(want, sizeof(want), "%s:2: unknown suppression type 'race' (leak:, heap-buffer-overflow: and heap-use-after-free: PATTERN lines and valgrind's { ... } entries are supported)", bad_type);
	CHECK_STR(err, want);
	char *no_colon = write_file("# fine\nmy_function\n");
	CHECK(heap_load_suppressions(&m, no_colon, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:2: expected leak:PATTERN or a valgrind entry ('{'), not 'my_function'", no_colon);
	CHECK_STR(err, want);
	char *empty = write_file("leak:   \n");
	CHECK(heap_load_suppressions(&m, empty, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:1: empty pattern after 'leak:'", empty);
	CHECK_STR(err, want);
	CHECK(heap_load_suppressions(&m, "/nonexistent/supp", err, sizeof(err)) == -1);
	CHECK_STR(err, "/nonexistent/supp: No such file or directory");
	/* the failed files added nothing */
	j = json_of(&m);
	CHECK(strstr(j, "\"suppression_rules\":2") != NULL);
	free(j);
	unlink(good);
	unlink(bad_type);
	unlink(no_colon);
	unlink(empty);
	free(good);
	free(bad_type);
	free(no_colon);
	free(empty);
	model_free(&m);
}

/* ---- this process: symbolization, the stack cut, suppressions ------------------------------- */

static uint64_t a_global;

__attribute__((noinline)) static void capture(uint64_t *f)
{
	f[0] = (uint64_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void leaky_function(uint64_t *f)
{
	capture(f);
	f[1] = (uint64_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

/* An address in the code of the dynamic loader of this process. */
static int find_loader_code(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "ld-linux"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
			*(uint64_t *)data = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + 0x40;
			return 1;
		}
	return 0;
}

static void test_self(void)
{
	struct et_model m;
	init(&m);
	int pid = (int)getpid();
	exec_rec(&m, pid, "/proc/self/exe", getauxval(AT_ENTRY), getauxval(AT_BASE));
	uint64_t f[3];
	leaky_function(f);
	f[2] = (uint64_t)(uintptr_t)&a_global; /* data, not code: the walk went wrong here */
	uint64_t user = 0x7e0000000000ull, loader = 0x7e0000001000ull;
	alloc_op(&m, pid, ET_HEAP_MALLOC, user, 100, f, 3);
	/* a block the dynamic loader allocated for itself */
	uint64_t in_ld = 0;
	dl_iterate_phdr(find_loader_code, &in_ld);
	CHECK(in_ld != 0);
	uint64_t ld[1] = { in_ld };
	alloc_op(&m, pid, ET_HEAP_MALLOC, loader, 50, ld, 1);
	/* the loader's frame with a user caller above it is not the loader's own */
	uint64_t mixed[2] = { ld[0], f[1] };
	alloc_op(&m, pid, ET_HEAP_MALLOC, loader + 0x100, 30, mixed, 2);

	struct hs_block *b;
	size_t n;
	CHECK(heap_scan_blocks(&m, pid, &b, &n) == 0 && n == 3);
	for (size_t i = 0; i < n; i++)
		b[i].state = HS_DEFINITE;
	heap_scan_result(&m, pid, b, n, NULL, NULL);
	free(b);

	char *t = text_of(&m);
	const char *leak = strstr(t, "LEAK 100 bytes in 1 block definitely lost, allocated by malloc at:\n");
	CHECK(leak != NULL);
	CHECK(leak && strstr(leak, " in leaky_function at ") != NULL);
	CHECK(leak && strstr(leak, " in test_self at ") != NULL);
	CHECK(leak && strstr(leak, "test_heap.c:") != NULL);
	CHECK(leak && strstr(leak, "(stack cut: frame pointers end here)") != NULL);
	CHECK(strstr(t, "LEAK 30 bytes") != NULL);
	CHECK(strstr(t, "LEAK 50 bytes") == NULL);
	CHECK(strstr(t, "suppressed 50 bytes in 1 block") != NULL);
	free(t);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"function\":\"leaky_function\"") != NULL);
	CHECK(strstr(j, "\"bytes\":100,\"blocks\":1,\"indirect_bytes\":0,\"indirect_blocks\":0,\"addresses\":[\"0x") != NULL);
	CHECK(strstr(j, "\"],\"function\":\"malloc\",\"stack\":[") != NULL);
	CHECK(strstr(j, "\"stack_cut\":true") != NULL);
	free(j);
	CHECK(heap_leaked_blocks(&m) == 2);

	/* the C runtime freeing again what the program freed (glibc's tcache at
	 * thread exit) is not a double free; the program doing it is */
	alloc_op(&m, pid, ET_HEAP_MALLOC, 0x7e0000002000ull, 16, f, 2);
	free_op(&m, pid, ET_HEAP_FREE, 0x7e0000002000ull, f, 2);
	free_op(&m, pid, ET_HEAP_FREE, 0x7e0000002000ull, ld, 1);
	CHECK(heap_error_count(&m) == 0);
	free_op(&m, pid, ET_HEAP_FREE, 0x7e0000002000ull, f, 2);
	CHECK(heap_error_count(&m) == 1);

	/* a user rule by function name hides the first */
	char err[256];
	char *rules = write_file("leak:leaky_func*\n");
	CHECK(heap_load_suppressions(&m, rules, err, sizeof(err)) == 0);
	CHECK(heap_leaked_blocks(&m) == 1);
	/* and by module name, any frame: the mixed stack has the loader in it */
	char *rules2 = write_file("leak:ld-linux*\n");
	CHECK(heap_load_suppressions(&m, rules2, err, sizeof(err)) == 0);
	CHECK(heap_leaked_blocks(&m) == 0);
	t = text_of(&m);
	CHECK(strstr(t, "suppressed 180 bytes in 3 blocks") != NULL);
	free(t);
	unlink(rules);
	unlink(rules2);
	free(rules);
	free(rules2);
	model_free(&m);
}

int main(void)
{
	test_accounting();
	test_realloc();
	test_double_free();
	test_invalid_free();
	test_mismatched();
	test_fork_exec();
	test_unknown_and_abort();
	test_freed_eviction();
	test_many_blocks();
	test_crash_context();
	test_leaks();
	test_suppressions_file();
	test_self();
	CHECK(ingest_failures == 0);
	return unit_done();
}
