/* The BPF side as user space sees it: load, attach, scope a task, drain
 * the ring buffer, read the in-kernel totals, detach. */
#ifndef ETRACE_TRACER_H
#define ETRACE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "reports/core/model.h"
#include "runner/preload/checks.h"

struct skb_plan;

struct tracer;

enum heap_backend {
	HEAP_BACKEND_AUTO = 0,    /* preload for dynamically linked processes, probes for the others */
	HEAP_BACKEND_PRELOAD = 1, /* the preload library only */
	HEAP_BACKEND_UPROBE = 2,  /* probes only */
};

struct tracer_opts {
	size_t data_max;       /* bytes of buffers captured per argument */
	size_t buffer_bytes;   /* ring buffer size (power of two) */
	const char *func_binary; /* --trace-func: the file of the model's functions (m->funcs) */
	int heap;              /* heap tracing */
	const char *heap_exe;  /* the program run: its allocator files are read if a process needs probes */
	int heap_hold;         /* stop processes at _exit for the leak scan */
	int heap_backend;      /* enum heap_backend */
	struct skb_plan *skb;  /* --skb (NULL: off); its links are the tracer's until tracer_close */
	int timeacct;          /* --sched=on: where time went, from sched_switch (bpf/timeacct.h) */
};

/* A tracer with nothing loaded yet (NULL: out of memory): the preload
 * backend can be opened and the target forked before tracer_load. */
struct tracer *tracer_new(struct et_model *m);
/* Loads and attaches every program. Returns 0, or -1 with a message in
 * err (then only tracer_close). Starts threads: the target must have been
 * forked before. */
int tracer_load(struct tracer *t, const struct tracer_opts *o, char *err, size_t errlen);
/* Every record as it arrives, before the model sees it (--record). */
void tracer_set_raw_sink(struct tracer *t, void (*fn)(void *ctx, const void *data, size_t size), void *ctx);
/* Marks a task (through its pidfd) as traced, waiting for its execve. */
int tracer_scope_task(struct tracer *t, int pidfd, char *err, size_t errlen);
/* Attaches the heap probes for one process (the root, before its exec;
 * the BPF side asks for the others) on the allocators of exe (NULL: the
 * file the process runs now). Returns 0, or -1 with err. */
int tracer_heap_attach(struct tracer *t, int pid, const char *exe, char *err, size_t errlen);
/* The preload backend (runner/heap/heaprec.h): the run's socket, owned by
 * uid/gid; leaf: the basename of the run's cgroup. 0, or -1 with err. */
int tracer_preload_open(struct tracer *t, const char *lib, uid_t uid, gid_t gid, const char *leaf, char *err,
			size_t errlen);
/* The target's environment with the preload (NULL: not used or no memory). */
char **tracer_preload_env(struct tracer *t, char *const envp[]);
/* The memory checks (enum heap_check, quarantine bytes, guard rate) the
 * library is told to make; before tracer_preload_env. */
void tracer_preload_checks(struct tracer *t, int mode, size_t quarantine, unsigned guard_rate);
/* The socket to poll (the exit hand-overs wait for it), or -1. */
int tracer_preload_fd(struct tracer *t);
/* fd to poll for readability (ring buffer wake-ups). */
int tracer_fd(struct tracer *t);
/* Reads everything in the ring buffer into the model. Returns records read or -1. */
int tracer_drain(struct tracer *t);
/* The run is ending: no process is stopped for heap tracing any more, the
 * last records are read, and every process still held goes on. */
void tracer_end_holds(struct tracer *t);
/* The hang snapshot (runner/hang/hangsnap.c): every thread of the tree now,
 * its pipes and sockets, and why (ET_SNAP_*), into the model and the
 * recording. Returns the threads read, or -1 (the model says why). */
int tracer_snapshot(struct tracer *t, uint32_t reason, int sig, int sender, uint64_t timeout_ns);
/* Loads the snapshot's programs in the background now (--timeout). */
void tracer_snapshot_prepare(struct tracer *t);
/* What caps_detect_net() finds (true), if the load probed it on a thread
 * (without --skb or --net-backend); false: the caller probes. */
struct caps;
bool tracer_net_caps(struct tracer *t, struct caps *k);
/* Copies the in-kernel per-syscall totals and loss counters into the model. */
void tracer_collect(struct tracer *t);
/* Detaches and frees everything. */
void tracer_close(struct tracer *t);
/* Name of the syscall backend, for reports and doctor. */
const char *tracer_backend(void);

#endif
