/* Shared by the heap analysis's files (heap.c: processes, settings, names,
 * stacks, fork/exec/exit; heap_table.c: the live block tables;
 * heap_ingest.c: allocations, frees and their errors; heap_sym.c:
 * symbolization and suppressions; heap_leaks.c: the leak scan and its
 * results; heap_text.c, heap_json.c: the report). Not for use outside
 * reports/heap. */
#ifndef ETRACE_HEAP_INT_H
#define ETRACE_HEAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "heap.h"
#include "heapscan.h"
#include "reports/core/strbuf.h"
#include "reports/core/u64map.h"
#include "reports/suppress/supp.h"
#include "symbolize/cfiwalk.h"
#include "symbolize/unwind.h"


#define LINE_SHIFT 7                 /* home slot: hash of addr >> 7 */
#define GRAN_SHIFT 16                /* 64 KiB granules */
#define NEAR_BYTES 64                /* "just past the end" for a fault address: this far, */
#define PAGE_BYTES 4096ull           /* or into the page after the block's last one */
#define SIZE_MASK ((1ull << 48) - 1)
#define UNKNOWN_KEPT 8               /* frees of unknown pointers remembered per process */
#define JSON_LEAKS_LISTED 1000

/* ---- the live block table -------------------------------------------------------- */

struct heap_block {
	uint64_t addr;          /* 0: empty slot */
	uint64_t meta;          /* size (48 bits) | op << 48 */
	uint64_t ts;
	uint32_t stack;
	int32_t tid;
};

static inline uint64_t blk_size(const struct heap_block *b)
{
	return b->meta & SIZE_MASK;
}

static inline int blk_op(const struct heap_block *b)
{
	return (int)((b->meta >> 48) & 0xff);
}

struct btab {
	struct heap_block *s;
	size_t cap, count;
};

/* ---- big blocks by granule (a multimap: granule -> block address) ------------------- */

struct gent {
	uint64_t g1;            /* granule + 1; 0: empty slot */
	uint64_t addr;
};

struct gtab {
	struct gent *s;
	size_t cap, count;
};

/* ---- per-process state ------------------------------------------------------------- */

struct heap_freed {
	uint64_t addr;          /* 0: gone (reallocated) */
	uint64_t size;
	uint64_t ts;            /* of the free */
	uint32_t alloc_stack, free_stack;
	int32_t tid;            /* who freed it */
	uint8_t op, free_op;
};

struct unknown_free {
	uint64_t addr, ts;
	uint32_t stack;
	int tid, op;
	bool followed;          /* the thread made another allocator call after it */
};

#define GROUP_ADDRS 4   /* block addresses kept per group: its lowest */

struct leak_group {
	uint32_t stack;
	uint8_t kind;           /* HS_DEFINITE, HS_INDIRECT, HS_POSSIBLE or HS_REACHABLE */
	uint8_t op;
	uint8_t naddrs;
	uint8_t quick;          /* heap_sym.c's quick suppression answer + 2 (0: not asked): the
				   report asks once per part and closes the sessions between */
	uint64_t bytes, blocks, ind_bytes, ind_blocks;
	uint64_t addrs[GROUP_ADDRS];   /* sorted: what identifies the blocks (LSan prints them) */
	struct symstack *sym;
};

struct heap_proc {
	struct et_process *proc;
	struct btab live;
	struct gtab big;
	struct heap_freed *freed;      /* ring: the first fcount slots, oldest at fhead once full */
	size_t fkeep, fcap, fhead, fcount;
	struct u64map fidx;            /* addr -> slot */
	uint64_t allocations, frees, bytes_allocated, live_blocks, live_bytes, peak_bytes;
	uint64_t unknown_frees, failed, replaced;
	uint64_t runtime_refrees;      /* frees by the C runtime of blocks the program freed */
	uint64_t errors[HEAP_ERR_KINDS];
	struct unknown_free unk[UNKNOWN_KEPT];
	size_t nunk, unk_head, unk_pending;
	bool abort_done;               /* the "allocator aborted" check was made */
	bool held;                     /* stopped at _exit for the scan */
	uint8_t exit_hold_why;         /* not stopped at _exit: enum et_hold_why */
	uint8_t attach_hold_why;       /* not stopped until its probes were attached */
	bool static_image;             /* its image is statically linked (nothing to preload into) */
	bool tables_gone;              /* let go at exit */
	const char *backend, *backend_why; /* which heap backend recorded it and why (static strings) */
	/* the leak scan */
	bool scan_done;
	char *scan_error;
	struct hs_stats scan;
	struct leak_group *groups;
	size_t ngroups;
	uint64_t reach_bytes, reach_blocks, unscanned_bytes, unscanned_blocks;
	uint64_t inherit_bytes, inherit_blocks;  /* the fork parent's blocks this child no longer reaches */
	/* symbolization */
	struct u64map syms;            /* stack id + 1 -> struct symstack * */
	struct sym_session *sess;
	bool sess_tried;
};

/* A stack as a report shows it. */
struct symstack {
	struct sym_frame *frames;      /* the kept return addresses, inline chains expanded */
	size_t nframes;
	size_t nraw;                   /* return addresses kept */
	bool cut;                      /* a frame-pointer frame after the last kept one was not valid */
	int8_t supp;                   /* suppressed: -1 not decided yet */
};

struct stack_ent {
	uint64_t hash;
	uint32_t off, n;
};

struct alloc_fn {
	char *name;
	uint64_t offset;
	int emulated;
};

struct allocator {
	char *path;
	struct alloc_fn *fns;
	size_t nfns;
};

struct codeseg {
	uint64_t vaddr, size;
	const uint8_t *data;
};

/* The executable code of a module file, for "is this return address after a call". */
/* A module's own copy of operator new or delete (a library linked with a
 * static libstdc++, a program that replaces them): not the one the
 * preload or the probes see, so it shows as the malloc or free it calls. */
struct newdel_fn {
	uint64_t lo, hi;     /* [lo, hi) in the file's addresses */
	bool is_new;
};

struct codefile {
	char *path;
	int fd;
	Elf *elf;
	struct codeseg seg[8];
	size_t nseg;
	struct newdel_fn *newdel;   /* read on first need */
	size_t nnewdel;
	bool newdel_read;
};

struct et_heap {
	struct cfi_walker *cfiw;        /* unwinds the stack copies of callers without frame pointers */
	bool enabled;
	size_t freed_keep;
	int leaks_mode;
	bool show_reachable;            /* list still reachable blocks with their stacks */
	struct supp_set *supp;          /* --suppressions (reports/suppress) */
	struct allocator *allocs;
	size_t nallocs;
	/* stacks */
	struct stack_ent *stacks;
	size_t nstacks, cap_stacks;
	uint64_t *pool;
	size_t npool, cap_pool;
	uint32_t *stab;                /* id + 1; 0: empty */
	size_t stab_cap;
	/* errors */
	struct heap_error *errors;
	size_t nerrors, cap_errors;
	uint64_t err_total[HEAP_ERR_KINDS];
	size_t errors_checked;         /* errors[0..) already matched against the suppressions */
	uint64_t errors_suppressed;
	uint64_t unknown_frees;
	uint64_t unknown_erred;        /* of those, the ones the allocator aborted or faulted on: errors */
	uint64_t own_newdel;           /* malloc/delete or new/free pairs made by a module's own new or delete */
	/* symbolization */
	struct symstack **syms;
	size_t nsyms, cap_syms;
	struct codefile *codefiles;
	size_t ncodefiles;
	struct heap_proc **open;       /* processes with a symbolization session open */
	size_t nopen, cap_open;
	/* the preload backend's counters (heap_set_preload) */
	struct heap_preload_info preload;
	/* the process of the last record */
	struct et_process *last_proc;
	size_t last_nprocs;
};

enum { FAM_NONE = 0, FAM_MALLOC, FAM_NEW, FAM_NEW_ARRAY };

struct leak_sum {
	uint64_t def_bytes, def_blocks, ind_bytes, ind_blocks, poss_bytes, poss_blocks, reach_bytes, reach_blocks;
	uint64_t supp_bytes, supp_blocks, unscanned_bytes, unscanned_blocks;
	uint64_t inh_bytes, inh_blocks;
};

/* Leak groups of all processes, for sorting. */
struct group_ref {
	struct heap_proc *hp;
	struct leak_group *g;
};

size_t line_home(size_t cap, uint64_t line);
struct heap_block *btab_find(const struct btab *t, uint64_t addr);
void btab_insert(struct btab *t, const struct heap_block *b);
void btab_remove(struct btab *t, struct heap_block *b);
void btab_copy(struct btab *to, const struct btab *from);
size_t gtab_home(size_t cap, uint64_t g1);
uint64_t heap_near_limit(uint64_t a, uint64_t size);
void big_add(struct gtab *t, uint64_t addr, uint64_t size);
void big_del(struct gtab *t, uint64_t addr, uint64_t size);
void group_add_addr(struct leak_group *g, uint64_t addr);
const char *heap_kind_name(int kind);
int alloc_family(int op);
int free_family(int op);
bool heap_is_realloc(int op);
uint32_t heap_stack_intern(struct et_heap *H, const uint64_t *f, size_t n);
struct heap_proc *hp_new(struct et_heap *H, struct et_process *p);
void hp_drop_tables(struct heap_proc *hp);
struct et_process *heap_proc_for(struct et_model *m, const struct ev_header *h);
/* The latest free of addr, unless addr was allocated again since. */
struct heap_freed *freed_find(const struct heap_proc *hp, uint64_t addr);
/* Whether the free in slot is still the block at its address: no later
 * free of the address, no block live there. */
bool freed_current(const struct heap_proc *hp, size_t slot);
void freed_forget(struct heap_proc *hp, uint64_t addr);
void freed_add(struct heap_proc *hp, const struct heap_freed *f);
void heap_resolve_error_stacks(struct et_heap *H, struct heap_error *e);
struct heap_error *heap_add_error(struct et_heap *H, struct heap_proc *hp, int kind, int detail, const struct ev_heap *e, uint64_t addr, int op, uint32_t stack);
int heap_relation(uint64_t addr, uint64_t a, uint64_t size, uint64_t *dist);
struct heap_block *heap_live_around(const struct heap_proc *hp, uint64_t addr, bool near);
const struct et_module *heap_code_module(struct et_heap *H, const struct et_process *p, uint64_t addr);
bool heap_caller_in_runtime(struct et_heap *H, const struct et_process *p, uint32_t stack);
bool heap_caller_is_newdel(struct et_heap *H, const struct et_process *p, uint32_t stack, bool is_new);
void heap_close_sessions(struct et_heap *H);
struct symstack *symstack_get(struct et_heap *H, struct heap_proc *hp, uint32_t id);
void symstack_free(struct symstack *ss);
struct symstack *group_sym(struct et_heap *H, struct heap_proc *hp, struct leak_group *g);
bool group_suppressed(struct et_heap *H, struct heap_proc *hp, struct leak_group *g);
void heap_derive_aborts(const struct et_model *m);
void heap_proc_summary(struct et_heap *H, struct heap_proc *hp, struct leak_sum *s);
void heap_sum_add(struct leak_sum *t, const struct leak_sum *s);
const char *heap_plural(uint64_t n, const char *one, const char *many);
const char *heap_untraced_why(const struct et_model *m, const struct heap_proc *hp);
void heap_print_stack(FILE *out, const struct symstack *ss);
void heap_json_stack(struct strbuf *sb, const struct symstack *ss);
void heap_error_message(const struct et_model *m, const struct heap_error *e, struct strbuf *sb);
void heap_crash_message(const struct et_model *m, const struct et_process *p, const struct heap_crash_info *ci, uint64_t crash_ts, struct strbuf *sb);
struct group_ref *heap_leak_list(const struct et_model *m, size_t *n);
void heap_render_text(const struct et_model *m, FILE *out);
void heap_render_json(const struct et_model *m, struct strbuf *sb);

#endif
