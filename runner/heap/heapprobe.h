/* Heap tracing, user-space half: which files hold the target's allocator,
 * where in each allocator function the probe goes, and the leak scan of a
 * process that the BPF side stopped at _exit. */
#ifndef ETRACE_HEAPPROBE_H
#define ETRACE_HEAPPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "reports/core/model.h"

struct heap_probe {
	const char *name;       /* symbol, e.g. "malloc", "_Znwm" */
	uint64_t file_offset;   /* where the uprobe goes: function start + placement */
	uint64_t placed;        /* bytes past the function's start */
	uint64_t cookie;        /* ET_HEAP_COOKIE(op, args, sp_delta) */
	int emulated;           /* the kernel emulates the instruction there */
	int need_return;        /* a uretprobe at the same offset too */
};

struct heap_file {
	char *path;
	struct heap_probe *probes;
	size_t nprobes;
};

struct heap_plan {
	struct heap_file *files;
	size_t nfiles;
	char *resolver_error;   /* the library list could not be read (why), or NULL */
};

/* Finds the allocator functions the program at exe will call: in the
 * executable itself (static), the libraries its dynamic loader resolves
 * (LD_PRELOAD from the environment included), and libstdc++ when the
 * system has one (a child may load it). Returns 0, or -1 with err. */
int heap_plan_make(const char *exe, struct heap_plan *plan, char *err, size_t errlen);
void heap_plan_free(struct heap_plan *plan);
/* Tells the model which functions are probed where (the report lists them). */
void heap_plan_describe(const struct heap_plan *plan, struct et_model *m);

/* A process stopped at _exit (struct ev_heap_hold): waits until it is
 * stopped, classifies its live blocks by scanning its memory, then lets
 * it go on (SIGCONT). Never leaves it stopped. */
void heap_hold_scan(struct et_model *m, const void *hold_record);
/* The same scan for a process that is not stopped: the preload library's
 * exiting thread waits in the hand-over (runner/heap/heaprec.h) meanwhile. */
void heap_exit_scan(struct et_model *m, const void *hold_record);

#endif
