/* The tracer's state and the calls between its files (runner/tracer.c,
 * runner/collect.c and each concern's part: runner/syscalls/specs.c,
 * runner/net/netload.c, runner/hang/schedload.c, runner/funcs/funcprobes.c,
 * runner/heap/heaplinks.c, runner/heap/preloadsink.c). Private to them:
 * the rest of etrace sees runner/tracer.h. */
#ifndef ETRACE_TRACER_INT_H
#define ETRACE_TRACER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "tracer.h"
#include "doctor.h"
#include "holdwatch.h"
#include "bpf/events.h"
#include "runner/heap/heaprec.h"
#include "runner/preload/checks.h"

struct kernel_tp_args;
struct ev_heap_attach;
struct heap_links;

struct tracer {
	struct etrace_bpf *skel;    /* the core: processes, syscalls, signals, network */
	struct net_bpf *net;        /* the network's programs (opened at the start) */
	bool net_loaded;            /* ... loaded and attached (at the first inet socket) */
	bool net_failed;
	struct skb_bpf *skbo;       /* --skb's programs (NULL without it) */
	struct funcs_bpf *funcs;    /* --trace-func's programs (NULL without it) */
	struct sched_bpf *sched;    /* --sched=on's programs (NULL without it) */
	struct heap_bpf *heap;      /* the heap's uprobes: NULL until a process needs them */
	struct et_shared_cfg shared; /* what every object is told (bpf/shared.h) */
	bool heap_load_failed;
	struct skb_plan *skb;       /* --skb: its function backend's links */
	struct ring_buffer *rb;
	int events_fd;              /* the ring buffer's map, made on a thread (-1: by libbpf) */
	struct caps net_caps;       /* what --skb could use, probed on that thread */
	bool net_caps_done;
	struct et_model *m;
	void (*raw)(void *ctx, const void *data, size_t size); /* --record */
	void *raw_ctx;
	/* --trace-func: two uprobe_multi links (entries, returns), or one
	 * perf-event link per probe on kernels before 6.6 */
	bool func_multi;
	int func_links[2];
	struct bpf_link **func_plinks;
	size_t nfunc_plinks;
	/* heap: per process, an entry and a return link per allocator file */
	bool heap_probes;           /* a process may get probes (not --heap-backend=preload) */
	char *heap_exe;             /* the program etrace runs (the root's plan before its exec) */
	struct heap_planner *planner; /* the allocators' files, read when a process first needs probes */
	bool heap_multi;            /* uprobe_multi links (6.6), else one per probe */
	bool heap_hold;             /* the heap programs stop a process at _exit */
	struct heap_links **heap_procs;
	size_t nheap_procs;
	pthread_t closers[32];
	size_t nclosers;
	size_t heap_attaches, heap_attach_failures;
	double heap_attach_ms, heap_plan_ms;
	/* the preload backend (NULL: not used) */
	struct heaprec *hr;
	char preload_lib[4096];
	struct hr_checks checks;
	uint64_t preload_lost;
	/* resumes held processes if etrace dies first, where BPF cannot */
	struct holdwatch watch;
	bool need_watch;
	/* the hang snapshot's iterators (NULL until asked for) */
	struct hangsnap *hs;
};

static inline double tr_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* runner/tracer.c: every record, read from the ring buffer or made by
 * etrace (futex totals, the hang snapshot), goes through here. */
int tr_on_record(void *ctx, void *data, size_t size);
/* ... no stop may start any more; every process still held goes on. */
void tr_close_gate(struct tracer *t);
void tr_release_held(struct tracer *t);

/* runner/syscalls/specs.c: the capture plan per syscall, in; the per-syscall
 * totals, out. */
int tr_specs_fill(struct tracer *t);
void tr_totals_collect(struct tracer *t, int ncpu);

/* runner/net/netload.c: the network's and --skb's objects. */
int tr_net_open(struct tracer *t, const struct kernel_tp_args *tpa, char *err, size_t errlen);
int tr_net_load(struct tracer *t, char *err, size_t errlen);
bool tr_net_inherited_socket(void);
int tr_skb_open(struct tracer *t, const struct kernel_tp_args *tpa, char *err, size_t errlen);
void tr_net_collect(struct tracer *t);

/* runner/hang/schedload.c: --sched=on's object, and the contended futexes. */
int tr_sched_open(struct tracer *t, char *err, size_t errlen);
void tr_futexes_collect(struct tracer *t);

/* runner/funcs/funcprobes.c: --trace-func's object and probes. */
int tr_funcs_open(struct tracer *t, const char *path, char *err, size_t errlen);
void tr_funcs_detach(struct tracer *t);

/* runner/heap/heaplinks.c: the heap's uprobes, per process. */
void tr_heap_attach_record(struct tracer *t, const struct ev_heap_attach *e);
void tr_heap_process_gone(struct tracer *t, int pid);
void tr_heap_detach(struct tracer *t);

/* runner/heap/preloadsink.c: the preload backend's records, in order with
 * the kernel's. */
void tr_preload_sync(struct tracer *t, const void *data, size_t size);
void tr_preload_collect(struct tracer *t);

#endif
