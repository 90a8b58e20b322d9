/* The heap's uprobe programs (bpf/heap.bpf.c) and their links, per
 * process of the tree: loaded when a process first needs them, attached
 * for that process, closed when it exits. */
#include "runner/tracer_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "heap.skel.h"
#include "runner/concern.h"
#include "runner/invoker.h"
#include "runner/startup.h"
#include "runner/uprobe_multi.h"
#include "runner/heap/heapprobe.h"
#include "runner/heap/heaprec.h"
#include "reports/heap/heap.h"
#include "reports/core/error.h"

/* Per process of the tree, for each allocator file an entry link (every
 * probe; the cookie says which function) and a return link (the functions
 * that return a block), with the process's pid as filter: the kernel puts
 * breakpoints only into that process's memory, so other processes mapping
 * the same libc run at full speed. The root's links are attached before
 * its exec; the BPF side asks for the others (and holds an exec'd process
 * until they are in place). Links are closed when their process exits. */
struct heap_links {
	int pid;
	int n;
	/* kernels before 6.6: a perf-event uprobe per probe, same pid filter */
	struct bpf_link **plinks;
	int np;
	int fd[];
};

static void *close_one(void *arg)
{
	close((int)(long)arg);
	return NULL;
}

/* A share of a process's per-probe links, destroyed by one thread. */
struct plink_share {
	struct bpf_link **v;
	int n;
};

static void *destroy_share(void *arg)
{
	struct plink_share *s = arg;
	for (int i = 0; i < s->n; i++)
		bpf_link__destroy(s->v[i]);
	return NULL;
}

/* Each detach waits for the uprobe's readers: 16 threads share them. */
static void destroy_plinks(struct heap_links *l)
{
	struct plink_share share[16];
	pthread_t th[16];
	int per = (l->np + 15) / 16, started = 0;
	for (int i = 0; i < 16 && per > 0; i++) {
		int from = i * per;
		share[i].v = l->plinks + from;
		share[i].n = from >= l->np ? 0 : (l->np - from < per ? l->np - from : per);
		if (!share[i].n)
			break;
		if (pthread_create(&th[started], NULL, destroy_share, &share[i]) == 0)
			started++;
		else
			destroy_share(&share[i]);
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(l->plinks);
}

/* Each close waits on its own (the waits overlap). */
static void *close_links(void *arg)
{
	struct heap_links *l = arg;
	pthread_t th[16];
	int started = 0;
	for (int i = 0; i < l->n; i++) {
		if (i + 1 < l->n && started < 16 && pthread_create(&th[started], NULL, close_one, (void *)(long)l->fd[i]) == 0)
			started++;
		else
			close(l->fd[i]);
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	destroy_plinks(l);
	free(l);
	return NULL;
}

/* Closing a uprobe link waits for the probes' readers (tens of ms on
 * these machines): a thread closes them, so the event loop goes on. */
static void detach_heap_async(struct tracer *t, struct heap_links *l)
{
	if (t->nclosers < sizeof(t->closers) / sizeof(t->closers[0]) &&
	    pthread_create(&t->closers[t->nclosers], NULL, close_links, l) == 0) {
		t->nclosers++;
		return;
	}
	/* too many in flight: wait for them first */
	for (size_t i = 0; i < t->nclosers; i++)
		pthread_join(t->closers[i], NULL);
	t->nclosers = 0;
	if (pthread_create(&t->closers[t->nclosers], NULL, close_links, l) == 0)
		t->nclosers++;
	else
		close_links(l);
}

/* Kernels before 6.6 (no uprobe_multi): one perf-event uprobe per probe,
 * with the same pid filter and the same cookies. */
static int attach_heap_legacy(struct tracer *t, struct heap_links *l, const char *path, const __u64 *offs,
			      const __u64 *cookies, size_t n, const __u64 *roffs, const __u64 *rcookies, size_t nret,
			      int pid)
{
	struct bpf_link **v = realloc(l->plinks, (l->np + n + nret) * sizeof(*v));
	if (!v)
		return -1;
	l->plinks = v;
	for (size_t i = 0; i < n + nret; i++) {
		bool ret = i >= n;
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret, .bpf_cookie = ret ? rcookies[i - n] : cookies[i]);
		struct bpf_link *lk = bpf_program__attach_uprobe_opts(ret ? t->heap->progs.et_heap_return
									  : t->heap->progs.et_heap_enter,
								      pid, path, ret ? roffs[i - n] : offs[i], &uo);
		if (!lk)
			return -1;
		l->plinks[l->np++] = lk;
	}
	return 0;
}

/* The heap's uprobe programs (bpf/heap.bpf.c), loaded the first time a
 * process needs probes: with the preload backend serving every dynamically
 * linked process, most runs never do. That process waits meanwhile: the
 * root before its exec, any other held by the fork or exec hold. */
static int heap_concern_load(struct tracer *t, char *err, size_t errlen)
{
	if (t->heap)
		return 0;
	if (t->heap_load_failed) {
		snprintf(err, errlen, "the heap probes' programs could not be loaded");
		return -1;
	}
	double t0 = tr_now_ms();
	struct heap_bpf *h = heap_bpf__open();
	if (!h) {
		snprintf(err, errlen, "cannot open the heap probes' BPF object: %s", strerror(errno));
		t->heap_load_failed = true;
		return -1;
	}
	h->rodata->shared_cfg = t->shared;
	h->rodata->heap_hold = t->heap_hold;
	h->rodata->heap_stack = getenv("ETRACE_HEAP_NOSTACK") ? 0 : 1;
	if (t->heap_multi) {
		bpf_program__set_expected_attach_type(h->progs.et_heap_enter, ET_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(h->progs.et_heap_return, ET_BPF_TRACE_UPROBE_MULTI);
	}
	if (concern_load(h->obj, &t->skel->obj, 1, "heap", err, errlen) < 0) {
		heap_bpf__destroy(h);
		t->heap_load_failed = true;
		return -1;
	}
	t->heap = h;
	startup_mark("the heap probes' programs loaded (a process needed them)");
	if (getenv("ETRACE_DEBUG"))
		et_warning("the heap probes' programs loaded in %.1f ms", tr_now_ms() - t0);
	return 0;
}

/* The plan of the program pid runs (exe NULL) or will run (exe), read with
 * the invoking user's rights as every file the program names is. */
static const struct heap_plan *plan_for(struct tracer *t, int pid, const char *exe, char *err, size_t errlen)
{
	char self[4096];
	if (!exe) {
		char link[64];
		snprintf(link, sizeof(link), "/proc/%d/exe", pid);
		ssize_t n = readlink(link, self, sizeof(self) - 1);
		if (n <= 0) {
			snprintf(err, errlen, "cannot read %s: %s", link, strerror(errno));
			return NULL;
		}
		self[n] = 0;
		exe = self;
	}
	struct invoker_saved as_user;
	if (invoker_enter(&as_user) < 0) {
		snprintf(err, errlen, "cannot take the invoking user's rights: %s", strerror(errno));
		return NULL;
	}
	double t0 = tr_now_ms();
	bool made = false;
	const struct heap_plan *plan = heap_planner_get(t->planner, exe, t->m, &made);
	invoker_leave(&as_user);
	if (!plan)
		snprintf(err, errlen, "out of memory");
	t->heap_plan_ms += tr_now_ms() - t0;
	if (made)
		startup_mark("a heap probes' plan (ELF symbols: a process needed probes)");
	return plan;
}

int tracer_heap_attach(struct tracer *t, int pid, const char *exe, char *err, size_t errlen)
{
	if (!t->heap_probes)
		return 0;
	const struct heap_plan *plan = plan_for(t, pid, exe, err, errlen);
	if (!plan)
		return -1;
	if (heap_concern_load(t, err, errlen) < 0)
		return -1;
	double t0 = tr_now_ms();
	struct heap_links *l = calloc(1, sizeof(*l) + 2 * (plan->nfiles + 1) * sizeof(int));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->pid = pid;
	int rc = 0;
	for (size_t i = 0; i < plan->nfiles && rc == 0; i++) {
		const struct heap_file *f = plan->files[i];
		__u64 *v = calloc(4 * f->nprobes + 1, sizeof(*v));
		if (!v) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		__u64 *offs = v, *cookies = v + f->nprobes, *roffs = v + 2 * f->nprobes, *rcookies = v + 3 * f->nprobes;
		size_t nret = 0;
		for (size_t j = 0; j < f->nprobes; j++) {
			offs[j] = f->probes[j].file_offset;
			cookies[j] = f->probes[j].cookie;
			if (f->probes[j].need_return) {
				roffs[nret] = f->probes[j].file_offset;
				rcookies[nret++] = f->probes[j].cookie;
			}
		}
		if (!t->heap_multi) {
			if (attach_heap_legacy(t, l, f->path, offs, cookies, f->nprobes, roffs, rcookies, nret, pid) < 0) {
				snprintf(err, errlen, "cannot attach the heap probes to %s for pid %d: %s", f->path, pid,
					 strerror(errno));
				rc = -1;
			}
			free(v);
			continue;
		}
		int fd = link_uprobe_multi(t->heap->progs.et_heap_enter, f->path, offs, cookies, f->nprobes, false,
					       pid);
		if (fd >= 0)
			l->fd[l->n++] = fd;
		int rfd = fd < 0 || !nret ? 0
					  : link_uprobe_multi(t->heap->progs.et_heap_return, f->path, roffs, rcookies,
								  nret, true, pid);
		if (rfd > 0)
			l->fd[l->n++] = rfd;
		if (fd < 0 || rfd < 0) {
			snprintf(err, errlen, "cannot attach the heap probes to %s for pid %d: %s", f->path, pid,
				 strerror(errno));
			rc = -1;
		}
		free(v);
	}
	if (rc < 0) {
		close_links(l);
		return -1;
	}
	struct heap_links **v = realloc(t->heap_procs, (t->nheap_procs + 1) * sizeof(*v));
	if (!v) {
		close_links(l);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->heap_procs = v;
	t->heap_procs[t->nheap_procs++] = l;
	__u32 key = (__u32)pid, one = 1;
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.heap_scoped), &key, &one, BPF_ANY);
	t->heap_attach_ms += tr_now_ms() - t0;
	t->heap_attaches++;
	return 0;
}

/* The process exited: its links go, and a new process with its pid will
 * ask again. */
void tr_heap_process_gone(struct tracer *t, int pid)
{
	for (size_t i = 0; i < t->nheap_procs; i++) {
		if (t->heap_procs[i]->pid != pid)
			continue;
		__u32 key = (__u32)pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_scoped), &key);
		detach_heap_async(t, t->heap_procs[i]);
		t->heap_procs[i] = t->heap_procs[--t->nheap_procs];
		return;
	}
}

/* The request's process was stopped for it (bpf: hold_process): it goes on. */
static void release_hold(struct tracer *t, const struct ev_heap_attach *e)
{
	if (!e->held)
		return;
	kill((pid_t)e->h.pid, SIGCONT);
	__u32 key = e->h.pid;
	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_held_pids), &key);
}

/* A process of the tree asked for its heap probes (struct ev_heap_attach). */
void tr_heap_attach_record(struct tracer *t, const struct ev_heap_attach *e)
{
	char err[512];
	int pid = (int)e->h.pid;
	bool have = false;
	for (size_t i = 0; i < t->nheap_procs && !have; i++)
		have = t->heap_procs[i]->pid == pid;
	static const char *const why[] = {
		[ET_HEAP_WHY_EXEC] = "probes attached at exec (--heap-backend=uprobe)",
		[ET_HEAP_WHY_FORK] = "probes attached at fork",
		[ET_HEAP_WHY_PRELOAD] = "",
		[ET_HEAP_WHY_STATIC] = "statically linked: nothing to preload into, probes attached at exec",
		[ET_HEAP_WHY_SECURE] = "setuid, setgid or file capabilities: the loader ignores LD_PRELOAD, probes "
				       "attached at exec",
	};
	const char *reason = e->reason < sizeof(why) / sizeof(why[0]) ? why[e->reason] : why[0];
	if (e->reason == ET_HEAP_WHY_PRELOAD) {
		/* a process already gone cannot be probed: what it handed over is all */
		int env = t->hr ? heaprec_env_has_lib(t->hr, pid) : 0;
		bool ring = t->hr && heaprec_has(t->hr, pid, e->h.ts);
		if (env != 0 || ring) {
			/* probes left from an earlier image: the library records it now */
			if (have)
				tr_heap_process_gone(t, pid);
			heap_set_backend(t->m, pid, "preload",
					 env > 0 || ring ? "dynamically linked, LD_PRELOAD names the library"
							 : "dynamically linked; it ended before etrace read its environment: "
							   "what a preloaded library handed over is all there is");
			release_hold(t, e);
			return;
		}
		/* its environment lost LD_PRELOAD: probes, from now on */
		__u32 key = (__u32)pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_preload_pids), &key);
		/* held at its exec when its environment had no LD_PRELOAD at all
		 * (env -i): probes before its first instruction */
		reason = e->held ? "the environment it was started with has no LD_PRELOAD (env -i, or a program that "
				   "cleared it): probes attached at exec"
				 : "the environment it was started with has no LD_PRELOAD for the library: probes attached "
				   "after it started (its first allocations are not seen)";
	}
	if (!have && tracer_heap_attach(t, pid, NULL, err, sizeof(err)) == 0)
		heap_set_backend(t->m, pid, "uprobe", reason);
	else if (!have && errno != ESRCH) {
		t->heap_attach_failures++;
		if (getenv("ETRACE_DEBUG"))
			et_warning("%s", err);
	}
	release_hold(t, e);
}

void tr_heap_detach(struct tracer *t)
{
	double t0 = tr_now_ms();
	size_t n = t->nheap_procs;
	for (size_t i = 0; i < t->nheap_procs; i++)
		detach_heap_async(t, t->heap_procs[i]);
	for (size_t i = 0; i < t->nclosers; i++)
		pthread_join(t->closers[i], NULL);
	t->nclosers = 0;
	free(t->heap_procs);
	t->heap_procs = NULL;
	t->nheap_procs = 0;
	if (getenv("ETRACE_DEBUG") && (n || t->heap_attaches))
		et_warning("heap probes attached for %zu processes (%.1f ms, and %.1f ms reading the allocators' "
			   "ELF symbols), the last %zu detached in %.1f ms",
			t->heap_attaches, t->heap_attach_ms, t->heap_plan_ms, n, tr_now_ms() - t0);
}
