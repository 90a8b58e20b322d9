/*
 * Heap analysis: the model of every traced process's heap, built from the
 * allocator records (struct ev_heap) the BPF side emits.
 *
 * Per process: the live blocks (address -> size, allocating function,
 * allocation stack, thread, time), a bounded record of recent frees (for
 * double frees and use after free at a crash), counters, and after the leak
 * scan at _exit the lost blocks grouped by allocation stack. Stacks are
 * interned once for all processes; they are symbolized only when a report
 * shows them, with the modules of the process that made them.
 *
 * Errors are found while the records arrive: double free, invalid free (an
 * interior pointer, a stack address, or a pointer the allocator rejected by
 * aborting), mismatched free (malloc/delete, new/free, new[]/delete), realloc
 * of a freed pointer. A free of a pointer no probe saw allocated is not an
 * error (the dynamic loader allocates before the probes see anything).
 */
#ifndef ETRACE_HEAP_H
#define ETRACE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "reports/core/model.h"
#include "reports/core/strbuf.h"

struct hs_block;
struct hs_stats;

/* ---- settings ---------------------------------------------------------------- */

#define HEAP_FREED_KEEP_DEFAULT 65536

enum heap_leaks_mode {
	HEAP_LEAKS_FULL = 0,   /* scan at exit, report lost blocks */
	HEAP_LEAKS_NONE = 1,   /* no scan, no leak section */
};

/* Turns heap analysis on (the "heap" report sections appear). Idempotent.
 * The setters below may be called before or after it. */
void heap_enable(struct et_model *m);
bool heap_enabled(const struct et_model *m);
/* Frees remembered per process (0: none: no double free or use after free
 * detection). Applies to processes created after the call. */
void heap_set_freed_keep(struct et_model *m, size_t n);
/* "full" or "none"; returns -1 for anything else. */
int heap_set_leaks_mode(struct et_model *m, const char *mode);
/* List still reachable blocks, grouped by stack like leaks (--show-reachable). */
void heap_set_show_reachable(struct et_model *m, bool on);
/* Both settings at once (what the runner's options give): leaks true = full. */
void heap_configure(struct et_model *m, size_t freed_keep, bool leaks);
/* Adds the rules of a suppressions file: lines "leak:GLOB" (fnmatch against
 * each frame's function name, also without its "(args)", and its module's
 * basename), "#" comments, blank lines. May be called for several files.
 * Returns 0, or -1 with one line "FILE:LINE: what is wrong" (or "FILE: errno
 * text") in err; the file's rules are then not added. */
int heap_load_suppressions(struct et_model *m, const char *path, char *err, size_t errlen);
/* The same from an open file (path names it in messages). */
int heap_read_suppressions(struct et_model *m, FILE *f, const char *path, char *err, size_t errlen);
/* A probed allocator function, for the report: the file, the function, the
 * probe's offset in the function and whether the kernel emulates the
 * instruction there (else it is single-stepped, slower). */
void heap_add_allocator(struct et_model *m, const char *path, const char *name, uint64_t offset, int emulated);

/* Which heap backend records process pid (its newest process), and why,
 * for the report: backend "preload" or "uprobe", why one line. Static
 * strings. Nothing when the model has no such process yet. */
void heap_set_backend(struct et_model *m, int pid, const char *backend, const char *why);
/* The same for process p itself (a replay: the strings are the caller's and
 * must outlive the model). */
void heap_set_backend_of(struct et_model *m, struct et_process *p, const char *backend, const char *why);
/* Which backend recorded p's heap and why; false when none was decided. */
bool heap_backend_of(const struct et_process *p, const char **backend, const char **why);

/* The preload backend's run (runner/heap/heaprec.c): library, LD_PRELOAD given
 * to the root, rings handed over, records read, and what went wrong. */
struct heap_preload_info {
	const char *library;        /* NULL: the preload backend was not used */
	const char *ld_preload;
	uint64_t rings, records, lost, invalid, full_waits, full_wait_ns, stacks_full, unrecorded, rejected;
	/* the memory checks asked of it (#11): enum heap_check
	 * (runner/preload/checks.h), quarantine bytes, one allocation in
	 * guard_rate against a guard page (0: none) */
	int check_mode;
	uint64_t quarantine;
	uint32_t guard_rate;
	uint32_t quarantine_one_in;   /* which frees it held: one in this many (0: none) */
};
void heap_set_preload(struct et_model *m, const struct heap_preload_info *info);
/* What heap_set_preload was given; NULL when the preload backend was not
 * used (a recording keeps it, runner/record.c). */
const struct heap_preload_info *heap_get_preload(const struct et_model *m);

/* ---- hooks called by the model (model.c) -------------------------------------- */

/* An ET_EV_HEAP or ET_EV_HEAP_HOLD record; returns 0, or -1 when malformed.
 * Heap records turn heap analysis on (a replayed recording of a heap run). */
int heap_ingest(struct et_model *m, const void *data, size_t size);
/* The preload backend's fast path (runner/heap/heaprec.c): a stack interned
 * once per ring stack id (heap_intern, an id of the model's), then its
 * records taken with that id; the frames of e are not read. */
uint32_t heap_intern(struct et_model *m, const uint64_t *frames, size_t n);
int heap_ingest_interned(struct et_model *m, const struct ev_heap *e, uint32_t stack);
/* A hint, no effect on the model: a record of pid's about addr comes
 * soon (the preload's drain reads ahead in the ring), so the cache lines
 * of the tables it will look addr up in are asked for now, and their
 * misses overlap the records before it. freed: the record frees addr (it
 * goes into the recent frees; an allocation does not look there). */
void heap_prefetch(struct et_model *m, int pid, uint64_t addr, bool freed);
/* A new process (not a thread): the child starts with a copy of the parent's
 * live blocks and recent frees. */
void heap_on_fork(struct et_model *m, struct et_process *parent, struct et_process *child);
/* Before the process's modules are replaced: the heap starts empty (error
 * stacks seen so far are symbolized with the old modules first). */
void heap_on_exec(struct et_model *m, struct et_process *p);
/* The last thread of p exited: what only later checks need is let go (the
 * counts, errors and the leak scan's result stay). */
void heap_on_exit(struct et_model *m, struct et_process *p);
/* After an exec: is_static (no interpreter) and not covered by the probes
 * means its heap is not traced, which the report says. */
void heap_exec_image(struct et_model *m, struct et_process *p, bool is_static);
void heap_free(struct et_model *m);
/* Why a process was not stopped for heap tracing (enum et_hold_why), in words. */
const char *heap_hold_why_text(int why);

/* ---- the leak scan (the runner, with reports/heap/heapscan.h) ------------------------- */

/* Whether processes should be held and scanned at _exit (heap on, leaks full). */
int heap_wants_scan(const struct et_model *m);
/* The live blocks of pid (its newest process) as an array for the scanner
 * (state HS_UNKNOWN); caller frees *out with free(). Returns 0 (also for a
 * pid with no heap: *n 0), -1 when out of memory. */
int heap_scan_blocks(struct et_model *m, int pid, struct hs_block **out, size_t *n);
/* The scanner's classification of those blocks (b may be in any order; only
 * addr, state and indirect_* are read). error non-NULL: the scan failed
 * (why, one line); the blocks then count as not scanned. st may be NULL. */
void heap_scan_result(struct et_model *m, int pid, const struct hs_block *b, size_t n,
		      const struct hs_stats *st, const char *error);
/* A recorded scan (a FACT_HEAP_SCAN value, written by heap_scan_result when
 * the run is recorded) given to the replayed model at the same place in the
 * stream: the live table is the same there. -1 when the value is malformed
 * (a recording is untrusted input). */
int heap_scan_replay(struct et_model *m, int pid, const void *value, size_t len);

/* ---- results ------------------------------------------------------------------ */

enum heap_error_kind {
	HEAP_ERR_DOUBLE_FREE = 0,
	HEAP_ERR_INVALID_FREE,
	HEAP_ERR_MISMATCHED_FREE,
	HEAP_ERR_REALLOC_FREED,
	HEAP_ERR_OVERFLOW,          /* a write past a block's end (its redzone changed) */
	HEAP_ERR_UAF_WRITE,         /* a write into a freed block (its quarantine fill changed) */
	HEAP_ERR_KINDS,
};

/* Why an invalid free is invalid. */
enum heap_error_detail {
	HEAP_DETAIL_NONE = 0,
	HEAP_DETAIL_INTERIOR,   /* inside a live block */
	HEAP_DETAIL_STACK,      /* an address on the calling thread's stack */
	HEAP_DETAIL_ABORTED,    /* never seen allocated, and the allocator aborted the process */
	HEAP_DETAIL_FAULTED,    /* never seen allocated, and the allocator faulted on it (SIGSEGV inside free) */
	HEAP_DETAIL_AT_EXIT,    /* an overflow found in a live block's redzone at its process's exit */
};

struct symstack;
struct heap_proc;

/* One error, as found. Stacks are interned stack ids (see heap_stack). */
struct heap_error {
	int kind;                   /* enum heap_error_kind */
	int detail;                 /* enum heap_error_detail */
	int pid, tid;
	uint64_t ts;
	uint64_t addr;              /* the pointer passed */
	int op;                     /* enum et_heap_op: the function that got it (free, realloc, delete) */
	uint32_t stack;             /* where that call was made */
	/* the block involved (not for stack addresses and aborted frees) */
	bool has_block;
	uint64_t block_addr, block_size;
	int block_op;               /* the function that allocated it */
	uint32_t alloc_stack;
	bool block_freed;           /* the block was freed before (double free, realloc of freed) */
	uint64_t past_first;        /* HEAP_ERR_OVERFLOW: the first changed byte, bytes past the end;
				       HEAP_ERR_UAF_WRITE: its offset in the block */
	uint32_t past_bytes;        /* how many bytes changed */
	uint32_t free_stack;
	int free_tid, free_op;
	uint64_t free_ts;
	/* report time */
	struct et_process *proc;
	struct symstack *sym[3];    /* stack, alloc_stack, free_stack symbolized (NULL until needed) */
};

/* Counters of one process (pid: its newest process). Returns -1 when the
 * pid has no heap. live_* are the blocks outstanding now (at exit: at exit). */
struct heap_proc_stats {
	uint64_t allocations, frees, bytes_allocated, peak_bytes;
	uint64_t live_blocks, live_bytes;
	uint64_t unknown_frees;     /* frees of pointers never seen allocated */
	uint64_t failed_allocations;
	uint64_t errors[HEAP_ERR_KINDS];
	bool scanned;
};
int heap_process_stats(const struct et_model *m, int pid, struct heap_proc_stats *out);
/* live_bytes alone, for a caller on every heap record (heapseries.c): of
 * the process the latest heap record went to when it is pid's (no lookup),
 * else of pid's newest process; *proc says which. */
int heap_live_bytes(const struct et_model *m, int pid, struct et_process **proc, uint64_t *out);

/* Errors kept (the first HEAP_ERRORS_KEPT, in the order found). */
#define HEAP_ERRORS_KEPT 1000
size_t heap_nerrors(const struct et_model *m);
const struct heap_error *heap_error_get(const struct et_model *m, size_t i);
const char *heap_error_kind_name(int kind);    /* "double free", "invalid free", ... */
const char *heap_op_name(int op);              /* "malloc", "operator new[]", "free", ... */

/* All errors found (kept or not), for --error-exitcode. */
int heap_error_count(const struct et_model *m);
/* Blocks definitely or indirectly lost and not suppressed, all processes. */
uint64_t heap_leaked_blocks(const struct et_model *m);

/* The frames of an interned stack (frames[0] the exact caller). */
const uint64_t *heap_stack(const struct et_model *m, uint32_t id, size_t *nframes);

/* ---- the crash meets the heap ---------------------------------------------------- */

struct heap_crash_info {
	const char *kind;           /* "use-after-free", "heap-buffer-overflow", "inside a live block" */
	uint64_t address;           /* the fault address */
	uint64_t block_address, block_size;
	int64_t offset;             /* address - block_address (>= block_size: past its end) */
	bool inside;                /* offset < block_size */
	int alloc_op;               /* enum et_heap_op */
	uint32_t alloc_stack;
	uint64_t alloc_ts;          /* 0 for a freed block (not kept) */
	int alloc_tid;              /* 0 for a freed block */
	bool freed;
	int free_op, free_tid;
	uint32_t free_stack;
	uint64_t free_ts;
};

/* What the heap knows about address addr of process p at time ts: inside or
 * up to 64 bytes past a recently freed block (preferred, unless a block
 * allocated after that free covers the address), inside or up to 64 bytes
 * past a live block. Returns 1 and fills out, or 0. */
int heap_crash_context(const struct et_model *m, const struct et_process *p, uint64_t addr, uint64_t ts,
		       struct heap_crash_info *out);

/* The crash section's heap part: nothing when the crash is not a fault at a
 * heap address (text), ',"heap":null' (JSON) then. */
void heap_crash_text(const struct et_model *m, const struct et_process *p, const struct et_crash *c, FILE *out);
/* A crash whose address or registers hold a fill of the heap checks (a
 * pointer read from a block nothing wrote, or from a freed one): a line of
 * the crash section, and its JSON member "heap_fill" (null when none). */
void heap_crash_fill_text(const struct et_model *m, const struct et_crash *c, FILE *out);
void heap_crash_fill_json(const struct et_model *m, const struct et_crash *c, struct strbuf *sb);
void heap_crash_json(const struct et_model *m, const struct et_process *p, const struct et_crash *c,
		     struct strbuf *sb);

/* ---- the verdict ----------------------------------------------------------------- */

/* A heap error or a leak group (not suppressed, not still reachable) as one finding: errors in
 * the order found, then leaks, definite first, by bytes. The frames are the
 * error's call stack or the leak's allocation stack (owned by the heap). */
struct heap_finding {
	bool leak;
	const struct et_process *proc;
	int pid;
	char *text;                 /* "double free of 0x... (...)", "24 bytes in 1 block definitely lost, allocated by malloc" */
	uint64_t bytes, blocks;     /* leaks */
	bool definite;
	bool possible;              /* possibly lost: listed, not counted by --error-exitcode */
	const char *alloc_fn;       /* leaks: the allocating function ("malloc", "operator new"...) */
	const struct sym_frame *frames;
	size_t nframes;
};
size_t heap_findings(const struct et_model *m, struct heap_finding **out);
void heap_findings_free(struct heap_finding *f, size_t n);

/* ---- report --------------------------------------------------------------------- */

/* The "-- heap" section and the JSON "heap" member are heap_analysis's
 * (nothing when heap analysis is off). */

#endif
