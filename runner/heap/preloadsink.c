/* The preload backend's side of the tracer (runner/heap/heaprec.c reads
 * the library's rings): its records go into the model in order with the
 * kernel's, its counts into the report. */
#include "runner/tracer_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "runner/heap/heaprec.h"
#include "runner/heap/rzexit.h"
#include "runner/heap/heapprobe.h"
#include "reports/heap/heap.h"
#include "reports/core/evtypes.h"

/* Before the model sees a process event, the preload rings' records from
 * before it: the live blocks a fork copies, the heap an exec ends, the
 * frees a crash is explained with. */
void tr_preload_sync(struct tracer *t, const void *data, size_t size)
{
	const struct ev_header *h = data;
	/* a process may have handed its ring over and forked or ended since
	 * the last look: take the ring before that is processed (exits wait
	 * for heaprec_exits, rings are read only from here on). An exec too:
	 * the old image's ring, handed over just before (sh -c 'exec cat'),
	 * must be drained and let go now, or its blocks would become the new
	 * image's (false leaks of cat) */
	if (h->type == ET_EV_FORK || h->type == ET_EV_EXEC || h->type == ET_EV_EXIT || h->type == ET_EV_CRASH)
		heaprec_poll(t->hr);
	switch (h->type) {
	case ET_EV_FORK:
		if (size >= sizeof(struct ev_fork) && !((const struct ev_fork *)data)->is_thread)
			heaprec_fork(t->hr, (int)h->pid);
		break;
	case ET_EV_EXEC:
		heaprec_exec(t->hr, (int)h->pid, h->ts);
		break;
	case ET_EV_EXIT:
		if (size >= sizeof(struct ev_exit) && ((const struct ev_exit *)data)->group_dead) {
			heaprec_gone(t->hr, (int)h->pid);
			__u32 key = h->pid;
			bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_preload_pids), &key);
		}
		break;
	case ET_EV_CRASH:
		/* the process is dying: all it recorded came before */
		heaprec_drain(t->hr, (int)h->pid, UINT64_MAX);
		break;
	}
}

static void preload_record(void *ctx, const void *data, size_t size)
{
	struct tracer *t = ctx;
	if (t->raw)
		t->raw(t->raw_ctx, data, size);
	model_ingest(t->m, data, size);
}

/* The fast path: a ring's stack interned once, its records taken with the
 * model's id (the frames are copied into the record only for a recording) */
static uint32_t preload_intern(void *ctx, const uint64_t *frames, size_t n)
{
	struct tracer *t = ctx;
	return heap_intern(t->m, frames, n);
}

static void preload_heap(void *ctx, const void *data, size_t size, uint32_t stack)
{
	struct tracer *t = ctx;
	if (t->raw)
		t->raw(t->raw_ctx, data, size);
	model_ingest_heap(t->m, data, stack);
}

static void preload_prefetch(void *ctx, int pid, uint64_t addr, int freed)
{
	heap_prefetch(((struct tracer *)ctx)->m, pid, addr, freed != 0);
}

static int preload_want_frames(void *ctx)
{
	return ((struct tracer *)ctx)->raw != NULL;
}

/* The redzones of pid's blocks still live (it waits at its exit): the
 * library checked only the blocks freed or reallocated (#11). Many blocks
 * are checked on a thread while the leak scan runs (cc1's 5,400: ~2 ms of
 * its wait); the findings are recorded after the scan, as before. */
#define RZ_THREAD_MIN 2048

struct rz_job {
	int pid;
	struct hs_block *b;
	size_t n, k;
	struct rz_exit_finding f[64];
	pthread_t th;
	int threaded;
};

static void *rz_run(void *arg)
{
	struct rz_job *j = arg;
	j->k = rz_exit_check(j->pid, j->b, j->n, j->f, sizeof(j->f) / sizeof(j->f[0]));
	return NULL;
}

/* 1: a job to finish (exit_redzones_end) */
static int exit_redzones_start(struct tracer *t, int pid, struct rz_job *j)
{
	memset(j, 0, sizeof(*j));
	j->pid = pid;
	if (t->checks.mode == HEAP_CHECK_OFF)
		return 0;
	if (heap_scan_blocks(t->m, pid, &j->b, &j->n) < 0 || !j->n) {
		free(j->b);
		return 0;
	}
	j->threaded = j->n >= RZ_THREAD_MIN && pthread_create(&j->th, NULL, rz_run, j) == 0;
	return 1;
}

static void exit_redzones_end(struct tracer *t, struct rz_job *j)
{
	if (j->threaded)
		pthread_join(j->th, NULL);
	else
		rz_run(j);
	int pid = j->pid;
	size_t k = j->k;
	const struct rz_exit_finding *f = j->f;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < k; i++) {
		/* the library's overflow record, as if the exit had found it:
		 * a recording holds it, so a replay shows it too */
		struct ev_heap e;
		memset(&e, 0, sizeof(e));
		e.h.type = ET_EV_HEAP;
		e.h.size = sizeof(e);
		e.h.ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		e.h.pid = e.h.tid = (uint32_t)pid;
		e.enter_ts = e.h.ts;
		e.op = ET_HEAP_OVERFLOW;
		e.ptr = f[i].addr;
		e.size = f[i].first;
		e.align = (uint64_t)ET_HEAP_EXIT << 32 | f[i].count;
		preload_record(t, &e, sizeof(e));
	}
	free(j->b);
}

static void preload_exit_scan(void *ctx, int pid, const void *hold)
{
	struct tracer *t = ctx;
	heap_set_backend(t->m, pid, "preload", "dynamically linked, LD_PRELOAD names the library");
	struct rz_job j;
	int rz = exit_redzones_start(t, pid, &j);
	heap_exit_scan(t->m, hold);
	if (rz)
		exit_redzones_end(t, &j);
}

static int preload_may_record(void *ctx, int pid)
{
	struct tracer *t = ctx;
	__u32 key = (__u32)pid, v;
	return bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.heap_preload_pids), &key, &v) == 0;
}

int tracer_preload_open(struct tracer *t, const char *lib, uid_t uid, gid_t gid, const char *leaf, char *err,
			size_t errlen)
{
	struct heaprec_sink sink = { .ctx = t, .record = preload_record, .exit_scan = preload_exit_scan,
				     .may_record = preload_may_record, .intern = preload_intern, .heap = preload_heap,
				     .prefetch = preload_prefetch,
				     .want_frames = preload_want_frames };
	snprintf(t->preload_lib, sizeof(t->preload_lib), "%s", lib);
	t->hr = heaprec_open(lib, uid, gid, leaf, &sink, err, errlen);
	return t->hr ? 0 : -1;
}

void tracer_preload_checks(struct tracer *t, int mode, size_t quarantine, unsigned guard_rate)
{
	t->checks = (struct hr_checks){ mode, mode == HEAP_CHECK_OFF ? 0 : quarantine,
					mode == HEAP_CHECK_OFF ? 0 : mode == HEAP_CHECK_ALL ? 1 : guard_rate };
	if (t->hr)
		heaprec_set_checks(t->hr, &t->checks);
}

char **tracer_preload_env(struct tracer *t, char *const envp[])
{
	return t->hr ? heaprec_env(t->hr, envp) : NULL;
}

int tracer_preload_fd(struct tracer *t)
{
	return t->hr ? heaprec_fd(t->hr) : -1;
}

void tr_preload_collect(struct tracer *t)
{
	if (!t->hr)
		return;
	heaprec_poll(t->hr);
	heaprec_drain(t->hr, 0, UINT64_MAX);
	heaprec_exits(t->hr, UINT64_MAX);
	struct heaprec_stats st;
	heaprec_stats(t->hr, &st);
	/* the model keeps pointers: copies that outlive the tracer */
	static char lib[4096], value[8192];
	snprintf(lib, sizeof(lib), "%s", t->preload_lib);
	snprintf(value, sizeof(value), "%s", heaprec_preload_value(t->hr));
	struct heap_preload_info pi = { .library = lib, .ld_preload = value, .rings = st.rings, .records = st.records,
					.lost = st.lost, .invalid = st.invalid, .full_waits = st.full_waits,
					.full_wait_ns = st.full_wait_ns, .stacks_full = st.stacks_full,
					.unrecorded = st.unrecorded, .rejected = st.rejected,
					.check_mode = t->checks.mode, .quarantine = t->checks.quarantine,
					.guard_rate = t->checks.guard_rate,
					.quarantine_one_in = heap_quarantine_one_in(t->checks.mode, t->checks.quarantine) };
	heap_set_preload(t->m, &pi);
	t->preload_lost = st.lost;
}
