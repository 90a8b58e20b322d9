/* Heap tracing, user-space half: which files hold the target's allocator,
 * where in each allocator function the probe goes, and the leak scan of a
 * process that the BPF side stopped at _exit. */
#ifndef ETRACE_HEAPPROBE_H
#define ETRACE_HEAPPROBE_H

#include <stdbool.h>
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
	bool described;         /* told to the model (heap_planner_get) */
};

/* The allocator files of one executable. */
struct heap_plan {
	struct heap_file **files;  /* the planner's, shared between plans */
	size_t nfiles;
	char *resolver_error;   /* the library list could not be read (why), or NULL */
};

/* The plans of a run, made when a process first needs probes (a static
 * or setuid program, --heap-backend=uprobe): with the preload library
 * serving every process, none is made and no ELF file is read. One plan
 * per executable; each library's probes are read once. */
struct heap_planner;
struct heap_planner *heap_planner_new(void);
void heap_planner_free(struct heap_planner *pl);
/* The plan of the program at exe: in the executable itself (static), the
 * libraries its dynamic loader resolves (LD_PRELOAD from etrace's
 * environment included), and libstdc++ when the system has one (a child
 * may load it). The files it names for the first time are added to the
 * model's list of probed allocators. Read with the caller's rights; never
 * runs anything. made: this call read the files. NULL only when out of
 * memory. */
const struct heap_plan *heap_planner_get(struct heap_planner *pl, const char *exe, struct et_model *m, bool *made);

/* A process stopped at _exit (struct ev_heap_hold): waits until it is
 * stopped, classifies its live blocks by scanning its memory, then lets
 * it go on (SIGCONT). Never leaves it stopped. */
void heap_hold_scan(struct et_model *m, const void *hold_record);
/* The same scan for a process that is not stopped: the preload library's
 * exiting thread waits in the hand-over (runner/heap/heaprec.h) meanwhile. */
void heap_exit_scan(struct et_model *m, const void *hold_record);

#endif
