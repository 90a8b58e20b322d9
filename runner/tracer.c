#include "tracer.h"
#include "holdwatch.h"
#include "invoker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../bpf/cbpf.h"
#include "etrace.skel.h"
#include "heap.skel.h"
#include "funcs.skel.h"
#include "net.skel.h"
#include "skb.skel.h"
#include "sched.skel.h"
#include "bpf/net.h"
#include "concern.h"
#include "reports/syscalls/syscall_table.h"
#include "runner/heap/heapprobe.h"
#include "runner/heap/heaprec.h"
#include "runner/hang/hangsnap.h"
#include "runner/heap/rzexit.h"
#include "kernelfit.h"
#include "runner/net/skbtrace.h"
#include "startup.h"
#include "reports/heap/heap.h"
#include "reports/core/evtypes.h"
#include "reports/net/tcp.h"
#include "reports/core/error.h"

#include <pthread.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

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
	const struct heap_plan *heap_plan;
	bool heap_multi;            /* uprobe_multi links (6.6), else one per probe */
	bool heap_hold;             /* the heap programs stop a process at _exit */
	struct heap_links **heap_procs;
	size_t nheap_procs;
	pthread_t closers[32];
	size_t nclosers;
	size_t heap_attaches, heap_attach_failures;
	double heap_attach_ms;
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

struct heap_links;

void tracer_set_raw_sink(struct tracer *t, void (*fn)(void *ctx, const void *data, size_t size), void *ctx)
{
	t->raw = fn;
	t->raw_ctx = ctx;
}

const char *tracer_backend(void)
{
	return "tp_btf (raw syscall tracepoints with BTF), scoped by task storage";
}

static void heap_attach_record(struct tracer *t, const struct ev_heap_attach *e);
static void heap_process_gone(struct tracer *t, int pid);

/* Before the model sees a process event, the preload rings' records from
 * before it: the live blocks a fork copies, the heap an exec ends, the
 * frees a crash is explained with. */
static void preload_sync(struct tracer *t, const void *data, size_t size)
{
	const struct ev_header *h = data;
	/* a process may have handed its ring over and forked or ended since
	 * the last look: take the ring before that is processed (exits wait
	 * for heaprec_exits, rings are read only from here on) */
	if (h->type == ET_EV_FORK || h->type == ET_EV_EXIT || h->type == ET_EV_CRASH)
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

static void concern_needed(struct tracer *t, const struct ev_concern *e);

static int on_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	if (size >= sizeof(struct ev_concern) && ((const struct ev_header *)data)->type == ET_EV_CONCERN) {
		concern_needed(t, data);   /* etrace's own business: not a record of the run */
		return 0;
	}
	if (t->hr)
		preload_sync(t, data, size);
	if (t->raw)
		t->raw(t->raw_ctx, data, size);
	const struct ev_header *h = data;
	if (size >= sizeof(struct ev_heap_attach) && h->type == ET_EV_HEAP_ATTACH) {
		heap_attach_record(t, data);
		model_ingest(t->m, data, size);   /* whether it was held, for the report */
		return 0;
	}
	model_ingest(t->m, data, size);
	if (size >= sizeof(struct ev_exit) && h->type == ET_EV_EXIT && ((const struct ev_exit *)data)->group_dead &&
	    t->nheap_procs)
		heap_process_gone(t, (int)h->pid);
	if (size >= sizeof(struct ev_heap_hold) && ((const struct ev_header *)data)->type == ET_EV_HEAP_HOLD &&
	    !((const struct ev_heap_hold *)data)->skipped) {
		/* scanned and resumed right away, in record order: every
		 * allocation before the _exit is in the model by now */
		heap_hold_scan(t->m, data);
		__u32 pid = ((const struct ev_header *)data)->pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_held_pids), &pid);
	}
	return 0;
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("ETRACE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG && getenv("ETRACE_DEBUG") && strcmp(getenv("ETRACE_DEBUG"), "2") == 0)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static size_t round_pow2(size_t n)
{
	size_t p = 4096;
	while (p < n && p < ((size_t)1 << 30))
		p <<= 1;
	return p;
}

static int fill_specs(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.specs);
	for (int nr = 0; nr < ET_MAX_SYSCALLS; nr++) {
		struct et_syscall_spec sp;
		syscall_spec_for(nr, &sp);
		/* tell the BPF side which syscalls need the capture loops at all */
		sp.at_enter = sp.at_exit = 0;
		for (int i = 0; i < 6; i++) {
			switch (sp.kind[i]) {
			case ET_CAP_STR:
			case ET_CAP_BUF_IN:
			case ET_CAP_SOCKADDR_IN:
			case ET_CAP_ARGV:
				sp.at_enter = 1;
				break;
			case ET_CAP_BUF_OUT:
			case ET_CAP_SOCKADDR_OUT:
			case ET_CAP_FDPAIR_OUT:
			case ET_CAP_SOCK_IN:
			case ET_CAP_MSG:
			case ET_CAP_MMSG:
				sp.at_exit = 1;
				break;
			}
		}
		__u32 key = nr;
		if (bpf_map_update_elem(fd, &key, &sp, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

/* What a thread sleeping in each syscall waits for (bpf/timeacct.h). */
static int fill_wait_classes(struct tracer *t)
{
	static const struct {
		int reason;
		const char *names;
	} classes[] = {
		{ ET_OFF_LOCK, "futex futex_waitv" },
		{ ET_OFF_IO, "read write pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2 sendfile splice tee "
			     "vmsplice fsync fdatasync sync_file_range syncfs sync recvfrom recvmsg recvmmsg sendto sendmsg "
			     "sendmmsg accept accept4 connect open openat openat2 io_uring_enter io_getevents "
			     "io_pgetevents flock fcntl msync" },
		{ ET_OFF_POLL, "poll ppoll select pselect6 epoll_wait epoll_pwait epoll_pwait2" },
		{ ET_OFF_SLEEP, "nanosleep clock_nanosleep pause rt_sigsuspend rt_sigtimedwait" },
		{ ET_OFF_CHILD, "wait4 waitid" },
	};
	int fd = bpf_map__fd(t->sched->maps.wait_class);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%s", classes[i].names);
		for (char *save, *n = strtok_r(buf, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
			int nr = syscall_nr(n);
			if (nr < 0 || nr >= ET_MAX_SYSCALLS)
				continue;
			__u32 key = (__u32)nr;
			__u8 v = (__u8)(classes[i].reason + 1);
			if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) < 0)
				return -errno;
		}
	}
	return 0;
}

/* The contended futex words (bpf/timeacct.h), as records: the model and a
 * recording see them. */
static void collect_futexes(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.futex_waits);
	struct et_futex_key k, next;
	void *prev = NULL;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct ev_futexstat e;
		memset(&e, 0, sizeof(e));
		if (bpf_map_lookup_elem(fd, &next, &e.st) == 0) {
			e.h.type = ET_EV_FUTEXSTAT;
			e.h.size = sizeof(e);
			e.h.ts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			e.h.pid = next.pid;
			e.h.tid = e.st.max_tid;
			e.addr = next.addr;
			on_record(t, &e, sizeof(e));
		}
		k = next;
		prev = &k;
	}
}

/* ---- --trace-func probes ---------------------------------------------------- */

/* uprobe_multi links (Linux 6.6) attach a program to many offsets of a file
 * with one syscall, and detach them with one wait for the probes' readers
 * to finish. Per-probe perf links wait once per probe: ~130 ms each on the
 * development VMs, 27 s for 100 functions. libbpf 1.1 and the installed
 * uapi headers predate them: the attach type, the flag and the layout of
 * bpf_attr.link_create for them are spelled out here. */
#define ET_BPF_TRACE_UPROBE_MULTI 48
#define ET_BPF_F_UPROBE_MULTI_RETURN 1U

struct et_uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;           /* 0: every process that maps the file */
	__u32 pad;
};

/* The kernel knows the attach type when its BTF has the enumerator.
 * ETRACE_FUNC_LEGACY=1 forces the per-probe links (to test that path). */
static bool uprobe_multi_supported(void)
{
	const char *force = getenv("ETRACE_FUNC_LEGACY");
	if (force && *force && strcmp(force, "0") != 0)
		return false;
	const struct btf *btf = kernelfit_vmlinux();
	if (!btf)
		return false;
	bool found = false;
	int id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (t) {
		const struct btf_enum *e = btf_enum(t);
		for (int i = 0; i < btf_vlen(t); i++)
			if (strcmp(btf__name_by_offset(btf, e[i].name_off), "BPF_TRACE_UPROBE_MULTI") == 0)
				found = e[i].val == ET_BPF_TRACE_UPROBE_MULTI;
	}
	return found;
}

/* pid 0: every process that maps the file; else that process only (the
 * kernel writes breakpoints into its memory alone). */
static int link_uprobe_multi(struct bpf_program *prog, const char *path, const __u64 *offsets,
			     const __u64 *cookies, size_t cnt, bool ret, int pid)
{
	struct et_uprobe_multi_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_fd = (__u32)bpf_program__fd(prog);
	a.attach_type = ET_BPF_TRACE_UPROBE_MULTI;
	a.path = (__u64)(unsigned long)path;
	a.offsets = (__u64)(unsigned long)offsets;
	a.cookies = (__u64)(unsigned long)cookies;
	a.cnt = (__u32)cnt;
	a.multi_flags = ret ? ET_BPF_F_UPROBE_MULTI_RETURN : 0;
	a.pid = (__u32)pid;
	return (int)syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A uprobe at each function's entry and a uretprobe at its return, except
 * the ELF entry point, which is jumped to with argc where a return address
 * would be. The cookie is the function's index in m->funcs. */
static int attach_funcs(struct tracer *t, const char *path, char *err, size_t errlen)
{
	const struct et_model *m = t->m;
	double t0 = now_ms();
	int rc = -1;
	__u64 *offs = calloc(m->nfuncs, sizeof(*offs) * 4);
	if (!offs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	__u64 *cookies = offs + m->nfuncs, *roffs = offs + 2 * m->nfuncs, *rcookies = offs + 3 * m->nfuncs;
	size_t nret = 0;
	for (size_t i = 0; i < m->nfuncs; i++) {
		offs[i] = m->funcs[i].f.file_offset;
		cookies[i] = i;
		if (!m->funcs[i].f.is_entry) {
			roffs[nret] = offs[i];
			rcookies[nret++] = i;
		}
	}
	struct bpf_program *entry = t->funcs->progs.et_func_entry, *ret = t->funcs->progs.et_func_return;
	if (t->func_multi) {
		t->func_links[0] = link_uprobe_multi(entry, path, offs, cookies, m->nfuncs, false, 0);
		if (t->func_links[0] >= 0 && nret)
			t->func_links[1] = link_uprobe_multi(ret, path, roffs, rcookies, nret, true, 0);
		if (t->func_links[0] < 0 || (nret && t->func_links[1] < 0)) {
			snprintf(err, errlen, "cannot attach uprobes to %s: %s", path, strerror(errno));
			goto out;
		}
	} else {
		t->func_plinks = calloc(m->nfuncs + nret, sizeof(*t->func_plinks));
		if (!t->func_plinks) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < m->nfuncs; i++) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = i);
			for (int r = 0; r < 2; r++) {
				if (r && m->funcs[i].f.is_entry)
					continue;
				uo.retprobe = r;
				struct bpf_link *l = bpf_program__attach_uprobe_opts(r ? ret : entry, -1, path,
										     (size_t)offs[i], &uo);
				if (!l) {
					snprintf(err, errlen, "cannot attach a %s to %s in %s: %s", r ? "uretprobe" : "uprobe",
						 m->funcs[i].f.name, path, strerror(errno));
					goto out;
				}
				t->func_plinks[t->nfunc_plinks++] = l;
			}
		}
	}
	rc = 0;
	t->m->funcs_backend = t->func_multi ? "uprobe_multi links (entries, returns), scoped by task storage"
					    : "a uprobe and a uretprobe per function (perf links), scoped by task storage";
	if (getenv("ETRACE_DEBUG"))
		et_warning("%zu functions of %s attached (%s) in %.1f ms", m->nfuncs, path,
			t->func_multi ? "uprobe_multi" : "perf links", now_ms() - t0);
out:
	free(offs);
	return rc;
}

static void detach_funcs(struct tracer *t)
{
	double t0 = now_ms();
	size_t n = t->nfunc_plinks;
	for (int i = 0; i < 2; i++) {
		if (t->func_links[i] >= 0) {
			close(t->func_links[i]);
			t->func_links[i] = -1;
			n++;
		}
	}
	for (size_t i = 0; i < t->nfunc_plinks; i++)
		bpf_link__destroy(t->func_plinks[i]);
	free(t->func_plinks);
	t->func_plinks = NULL;
	t->nfunc_plinks = 0;
	if (n && getenv("ETRACE_DEBUG"))
		et_warning("%zu function probe links detached in %.1f ms", n, now_ms() - t0);
}

/* ---- heap probes -------------------------------------------------------------- */

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
	double t0 = now_ms();
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
		et_warning("the heap probes' programs loaded in %.1f ms", now_ms() - t0);
	return 0;
}

int tracer_heap_attach(struct tracer *t, int pid, char *err, size_t errlen)
{
	const struct heap_plan *plan = t->heap_plan;
	if (!plan)
		return 0;
	if (heap_concern_load(t, err, errlen) < 0)
		return -1;
	double t0 = now_ms();
	struct heap_links *l = calloc(1, sizeof(*l) + 2 * (plan->nfiles + 1) * sizeof(int));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->pid = pid;
	int rc = 0;
	for (size_t i = 0; i < plan->nfiles && rc == 0; i++) {
		const struct heap_file *f = &plan->files[i];
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
	t->heap_attach_ms += now_ms() - t0;
	t->heap_attaches++;
	return 0;
}

/* The process exited: its links go, and a new process with its pid will
 * ask again. */
static void heap_process_gone(struct tracer *t, int pid)
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

/* A process of the tree asked for its heap probes (struct ev_heap_attach). */
static void heap_attach_record(struct tracer *t, const struct ev_heap_attach *e)
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
		if (t->hr && (heaprec_env_has_lib(t->hr, pid) != 0 || heaprec_has(t->hr, pid))) {
			/* probes left from an earlier image: the library records it now */
			if (have)
				heap_process_gone(t, pid);
			heap_set_backend(t->m, pid, "preload", "dynamically linked, LD_PRELOAD names the library");
			return;
		}
		/* its environment lost LD_PRELOAD: probes, from now on */
		__u32 key = (__u32)pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_preload_pids), &key);
		reason = "the environment it was started with has no LD_PRELOAD for the library: probes attached after "
			 "it started (its first allocations are not seen)";
	}
	if (!have && tracer_heap_attach(t, pid, err, sizeof(err)) == 0)
		heap_set_backend(t->m, pid, "uprobe", reason);
	else if (!have && errno != ESRCH) {
		t->heap_attach_failures++;
		if (getenv("ETRACE_DEBUG"))
			et_warning("%s", err);
	}
	if (e->held) {
		kill(pid, SIGCONT);
		__u32 key = (__u32)pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_held_pids), &key);
	}
}

/* Every process etrace still holds goes on (SIGCONT), and its entry goes. */
static void release_held(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.heap_held_pids);
	__u32 key, next;
	int n = 0;
	while (bpf_map_get_next_key(fd, NULL, &next) == 0 && n++ < 65536) {
		key = next;
		kill((pid_t)key, SIGCONT);
		bpf_map_delete_elem(fd, &key);
	}
}

/* No stop may be started from now on (bpf/shared.h's hold_gate). */
static void close_gate(struct tracer *t)
{
	__u32 zero = 0, one = 1;
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.hold_gate), &zero, &one, BPF_ANY);
}

void tracer_end_holds(struct tracer *t)
{
	if (!t)
		return;
	close_gate(t);
	tracer_drain(t);
	release_held(t);
}

static void detach_heap(struct tracer *t)
{
	double t0 = now_ms();
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
		et_warning("heap probes attached for %zu processes (%.1f ms in all), the last %zu detached in %.1f ms",
			t->heap_attaches, t->heap_attach_ms, n, now_ms() - t0);
}

/* The network's programs (bpf/net.bpf.c): opened at the start, the ones
 * whose tracepoint this kernel has (the gaps go to the report whether or
 * not they load), told the argument counts of the ones that changed. */
static int open_net(struct tracer *t, const struct kernel_tp_args *tpa, char *err, size_t errlen)
{
	t->net = net_bpf__open();
	if (!t->net) {
		snprintf(err, errlen, "cannot open the network's BPF object: %s", strerror(errno));
		return -1;
	}
	t->net->rodata->shared_cfg = t->shared;
	t->net->rodata->tp_kfree_skb_args = (__u32)tpa->kfree_skb;
	t->net->rodata->drop_unspecified = tpa->skb_consumed;
	return kernelfit_tracepoints(t->net->obj, kernelfit_vmlinux(), t->m, err, errlen);
}

/* ... loaded and attached: at the start, or when the tree first needs them
 * (bpf/etrace.bpf.c net_needed). */
static int load_net(struct tracer *t, char *err, size_t errlen)
{
	if (t->net_loaded)
		return 0;
	if (t->net_failed) {
		snprintf(err, errlen, "the network's programs could not be loaded");
		return -1;
	}
	t->net_failed = true;
	if (concern_load(t->net->obj, &t->skel->obj, 1, "net", err, errlen) < 0)
		return -1;
	int rc = net_bpf__attach(t->net);
	if (rc) {
		snprintf(err, errlen, "cannot attach the network's tracepoints: %s", strerror(-rc));
		return -1;
	}
	__u32 key = ET_GATE_NET_READY, one = 1;
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.hold_gate), &key, &one, BPF_ANY);
	t->net_failed = false;
	t->net_loaded = true;
	startup_mark("the network's programs loaded and attached");
	return 0;
}

/* A process of the tree needs the network's programs (its first inet
 * socket): loaded while it is held, then it goes on. A failure is said
 * once, on etrace's stderr: the run goes on without the network. */
static void concern_needed(struct tracer *t, const struct ev_concern *e)
{
	char err[512];
	if (e->need == ET_NEED_NET && !t->net_failed && load_net(t, err, sizeof(err)) < 0)
		et_warning("%s; the network is not traced", err);
	if (e->held) {
		kill((pid_t)e->h.pid, SIGCONT);
		__u32 key = e->h.pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_held_pids), &key);
	}
}

/* A socket etrace would hand down to the program (open, not
 * close-on-exec): the tree may use it without making one. */
static bool inherits_inet_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return true;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || fd == dirfd(d))
			continue;
		struct stat st;
		int domain = 0;
		socklen_t len = sizeof(domain);
		int flags = fcntl((int)fd, F_GETFD);
		found = flags >= 0 && !(flags & FD_CLOEXEC) && fstat((int)fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
			getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
			(domain == AF_INET || domain == AF_INET6);
	}
	closedir(d);
	return found;
}

/* --sched=on's programs (bpf/sched.bpf.c) and what each syscall waits for. */
static int open_sched(struct tracer *t, char *err, size_t errlen)
{
	t->sched = sched_bpf__open();
	if (!t->sched) {
		snprintf(err, errlen, "cannot open the --sched BPF object: %s", strerror(errno));
		return -1;
	}
	t->sched->rodata->shared_cfg = t->shared;
	if (kernelfit_tracepoints(t->sched->obj, kernelfit_vmlinux(), t->m, err, errlen) < 0 ||
	    concern_load(t->sched->obj, &t->skel->obj, 1, "sched", err, errlen) < 0)
		return -1;
	int rc = fill_wait_classes(t);
	if (rc) {
		snprintf(err, errlen, "cannot fill the wait classes' map: %s", strerror(-rc));
		return -1;
	}
	rc = sched_bpf__attach(t->sched);
	if (rc) {
		snprintf(err, errlen, "cannot attach the --sched tracepoints: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

/* --skb's programs (bpf/skb.bpf.c), with the maps of the core and the
 * network objects; a function backend picked by auto that the kernel
 * refuses falls back to the tracepoints. */
static int open_skb(struct tracer *t, const struct kernel_tp_args *tpa, char *err, size_t errlen)
{
	struct bpf_object *from[2] = { t->skel->obj, t->net->obj };
	for (;;) {
		t->skbo = skb_bpf__open();
		if (!t->skbo) {
			snprintf(err, errlen, "cannot open the --skb BPF object: %s", strerror(errno));
			return -1;
		}
		t->skbo->rodata->shared_cfg = t->shared;
		t->skbo->rodata->tp_consume_skb_args = (__u32)tpa->consume_skb;
		skb_plan_configure(t->skb, t->skbo);
		if (kernelfit_tracepoints(t->skbo->obj, kernelfit_vmlinux(), t->m, err, errlen) < 0)
			return -1;
		char lerr[256];
		if (concern_load(t->skbo->obj, from, 2, "skb", lerr, sizeof(lerr)) == 0)
			break;
		if (!t->skb->auto_picked || strcmp(t->skb->backend, "tracepoint") == 0) {
			snprintf(err, errlen, "%s", lerr);
			return -1;
		}
		/* the function backend the kernel seemed to allow was refused:
		 * a fresh object with the tracepoint programs only */
		skb_plan_fall_back(t->skb, lerr);
		skb_bpf__destroy(t->skbo);
		t->skbo = NULL;
	}
	int rc = skb_bpf__attach(t->skbo);
	if (rc) {
		snprintf(err, errlen, "cannot attach the --skb tracepoints: %s", strerror(-rc));
		return -1;
	}
	return skb_plan_attach(t->skb, t->skbo, err, errlen);
}

struct tracer *tracer_open(const struct tracer_opts *o, struct et_model *m, char *err, size_t errlen)
{
	libbpf_set_print(quiet_libbpf);
	if (syscall_table_init() < 0) {
		snprintf(err, errlen, "cannot resolve syscall names (libseccomp)");
		return NULL;
	}
	struct tracer *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->m = m;
	t->func_links[0] = t->func_links[1] = -1;
	t->watch.fd = -1;
	t->skel = etrace_bpf__open();
	if (!t->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	startup_mark("the BPF object opened");
	t->skel->rodata->data_max = o->data_max;
	const struct invoker *w = invoker_get();
	t->skel->rodata->redact_on = w->sudo;
	t->skel->rodata->invoker_uid = w->uid;
	t->skel->rodata->invoker_gid = w->gid;
	t->skel->rodata->nr_execve = syscall_nr("execve");
	t->skel->rodata->nr_execveat = syscall_nr("execveat");
	t->skel->rodata->nr_futex = syscall_nr("futex");
	t->skel->rodata->nr_writev = syscall_nr("writev");
	t->skel->rodata->nr_ptrace = syscall_nr("ptrace");
	t->skel->rodata->nr_connect = syscall_nr("connect");
	t->skel->rodata->nr_socket = syscall_nr("socket");
	int nr = syscall_nr("io_uring_setup");
	t->skel->rodata->nr_io_uring_setup = nr < 0 ? 0xffffffffu : (__u32)nr;
	nr = syscall_nr("pidfd_getfd");
	t->skel->rodata->nr_pidfd_getfd = nr < 0 ? 0xffffffffu : (__u32)nr;
	int nr_uret = syscall_nr("uretprobe");
#if defined(__x86_64__)
	if (nr_uret < 0)
		nr_uret = 335; /* Linux 6.11; libseccomp 2.5 predates it */
#endif
	t->skel->rodata->nr_uretprobe = nr_uret < 0 ? 0xffffffffu : (__u32)nr_uret;
	/* an allocation-heavy target sends ~100 MB/s of heap records */
	size_t rb = round_pow2(o->buffer_bytes ? o->buffer_bytes : o->heap ? 32u << 20 : 16u << 20);
	t->heap_hold = o->heap && o->heap_hold;
	t->skel->rodata->etrace_tgid = (__u32)getpid();
	t->shared.wakeup_bytes = rb / 2;
	t->shared.heap_preload = o->heap && o->heap_backend != HEAP_BACKEND_UPROBE;
	t->skel->rodata->shared_cfg = t->shared;
	bpf_map__set_max_entries(t->skel->maps.events, rb);

	/* what this kernel has: programs whose tracepoint it lacks are left
	 * out (the gaps go to the report), the others are told the argument
	 * count of the tracepoints whose signature changed */
	const struct btf *vmlinux = kernelfit_vmlinux();
	if (!vmlinux) {
		snprintf(err, errlen, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; run 'etrace doctor'",
			 strerror(errno));
		goto fail;
	}
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(m->kernel_release, sizeof(m->kernel_release), "%s", u.release);
	struct kernel_tp_args tpa;
	kernelfit_tp_args(vmlinux, &tpa);
	/* ETRACE_NO_SIGNAL_TASK=1: behave as on a kernel without it (tests) */
	bool signal_task = kernelfit_has_kfunc(vmlinux, "bpf_send_signal_task") && !getenv("ETRACE_NO_SIGNAL_TASK");
	t->skel->rodata->no_signal_task = !signal_task;
	bool release_kfuncs = signal_task && kernelfit_has_kfunc(vmlinux, "bpf_task_from_pid") &&
			      kernelfit_has_kfunc(vmlinux, "bpf_task_release");
	int fit = kernelfit_tracepoints(t->skel->obj, vmlinux, m, err, errlen);
	if (fit < 0)
		goto fail;
	/* the network's object is opened (its gaps noted) whether or not its
	 * programs are loaded later */
	if (open_net(t, &tpa, err, errlen) < 0)
		goto fail;

	/* the function probes (bpf/funcs.bpf.c) are loaded after the core
	 * for --trace-func only, and attached by attach_funcs() */
	if (m->nfuncs) {
		t->func_multi = uprobe_multi_supported();
		if (!t->func_multi)
			kernelfit_note(m, "uprobe_multi links (Linux 6.6)",
				       "--trace-func attaches one uprobe per function: detaching takes ~0.1 s a probe");
	}

	/* the heap's uprobe programs (bpf/heap.bpf.c) are loaded when the
	 * first process needs them: heap_concern_load() */
	bool heap = o->heap && o->heap->nfiles && o->heap_backend != HEAP_BACKEND_PRELOAD;
	t->heap_multi = heap && uprobe_multi_supported();
	if (heap && !t->heap_multi)
		kernelfit_note(m, "uprobe_multi links (Linux 6.6)",
			       "the heap probes are a uprobe per allocator function and process: "
			       "removing a process's probes takes seconds, not milliseconds");
	/* etrace's exit tracepoint resumes what it holds only with the
	 * kfuncs to signal another task: elsewhere a watcher process does */
	t->need_watch = o->heap && (heap || o->heap_hold) &&
			!release_kfuncs;
	if (heap && !signal_task)
		kernelfit_note(m, "bpf_send_signal_task kfunc (Linux 6.13)",
			       "a forked child is not held until its heap probes are attached: its first allocations are missed");
	/* a perf-event uprobe per probe: two descriptors each, past the usual
	 * soft limit of 1024 with many functions or processes (as skbtrace.c
	 * does for its kprobes) */
	struct rlimit rl;
	if (((m->nfuncs && !t->func_multi) || (heap && !t->heap_multi)) && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	t->skel->rodata->heap_per_process = heap;

	t->skb = o->skb && o->skb->on ? o->skb : NULL;
	if (o->skb && o->skb->on && strcmp(o->skb->backend, "tracepoint") == 0 && tpa.tcp_send_reset < 3)
		kernelfit_note(m, "tcp_send_reset tracepoint for resets sent without a socket (Linux 6.10)",
			       "--skb via tracepoints does not show the RST answering a packet to a closed port "
			       "(a function backend does: tcp_v4_send_reset)");

	/* where time went (--sched): the switch programs only when asked */
	t->skel->rodata->timeacct_on = o->timeacct;

	if (!tpa.skb_consumed)
		kernelfit_note(m, "SKB_CONSUMED drop reason (Linux 6.3)",
			       "a packet freed without a drop reason is not counted as dropped: "
			       "this kernel frees packets TCP has handled that way too");
	if (tpa.tcp_retransmit_skb > 0 && tpa.tcp_retransmit_skb < 3)
		kernelfit_note(m, "tcp_retransmit_skb tracepoint for retransmits that fail (Linux 6.17)",
			       "a retransmit the kernel could not send (dropped on output, e.g. by netfilter) "
			       "is not counted as a retransmit; its drop is");
	/* the network's programs wait for the tree's first inet socket,
	 * unless --skb (its programs use the network's maps) or a socket
	 * etrace passes down (ETRACE_NET_EAGER=1: at the start, for tests) */
	bool lazy_net = !t->skb && !inherits_inet_socket() && !getenv("ETRACE_NET_EAGER");
	t->skel->rodata->net_lazy = lazy_net;
	/* a process held at its socket() is resumed by the watcher as well */
	t->need_watch = t->need_watch || (lazy_net && !release_kfuncs);
	startup_mark("the kernel's BTF read, the programs picked");
	startup_verifier_prepare(t->skel->obj, "etrace");
	int rc = etrace_bpf__load(t->skel);
	startup_verifier_collect(t->skel->obj, "etrace");
	startup_mark("the BPF programs loaded (verified)");
	if (rc) {
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (needs root or CAP_BPF+CAP_PERFMON, a kernel with BTF, "
			 "task storage and ring buffers; run 'etrace doctor'; ETRACE_DEBUG=1 shows the verifier log)",
			 strerror(-rc));
		goto fail;
	}
	rc = fill_specs(t);
	if (rc) {
		snprintf(err, errlen, "cannot fill the capture plan map: %s", strerror(-rc));
		goto fail;
	}
	if (t->need_watch && holdwatch_start(&t->watch, bpf_map__fd(t->skel->maps.heap_held_pids)) < 0) {
		snprintf(err, errlen, "cannot start the process that resumes held processes: %s", strerror(errno));
		goto fail;
	}
	startup_mark("the syscall capture plan filled (and the hold watcher started)");
	rc = etrace_bpf__attach(t->skel);
	if (rc) {
		snprintf(err, errlen, "cannot attach the tracepoints: %s", strerror(-rc));
		goto fail;
	}
	startup_mark("the tracepoints attached");
	if (!lazy_net && load_net(t, err, errlen) < 0)
		goto fail;
	if (t->skb && open_skb(t, &tpa, err, errlen) < 0)
		goto fail;
	if (o->timeacct && open_sched(t, err, errlen) < 0)
		goto fail;
	if (heap)
		t->heap_plan = o->heap;
	if (m->nfuncs) {
		t->funcs = funcs_bpf__open();
		if (!t->funcs) {
			snprintf(err, errlen, "cannot open the function probes' BPF object: %s", strerror(errno));
			goto fail;
		}
		t->funcs->rodata->shared_cfg = t->shared;
		if (t->func_multi) {
			bpf_program__set_expected_attach_type(t->funcs->progs.et_func_entry, ET_BPF_TRACE_UPROBE_MULTI);
			bpf_program__set_expected_attach_type(t->funcs->progs.et_func_return, ET_BPF_TRACE_UPROBE_MULTI);
		}
		if (concern_load(t->funcs->obj, &t->skel->obj, 1, "funcs", err, errlen) < 0)
			goto fail;
		if (attach_funcs(t, o->func_binary, err, errlen) < 0)
			goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_record, t, NULL);
	if (!t->rb) {
		snprintf(err, errlen, "cannot map the ring buffer: %s", strerror(errno));
		goto fail;
	}
	startup_mark("the function and --skb probes attached, the ring buffer mapped");
	return t;
fail:
	tracer_close(t);
	return NULL;
}

int tracer_scope_task(struct tracer *t, int pidfd, char *err, size_t errlen)
{
	struct et_task *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v->traced = 1;
	v->wait_exec = 1;
	int rc = bpf_map_update_elem(bpf_map__fd(t->skel->maps.tasks), &pidfd, v, BPF_NOEXIST);
	free(v);
	if (rc < 0) {
		snprintf(err, errlen, "cannot mark the target as traced: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int tracer_fd(struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

static uint64_t mono_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int tracer_drain(struct tracer *t)
{
	/* the preload rings up to the moment the kernel's records were read
	 * up to: a record of the rings never goes before a process event
	 * that happened earlier */
	uint64_t upto = mono_now_ns();
	int n = ring_buffer__consume(t->rb);
	if (t->hr) {
		heaprec_poll(t->hr);
		heaprec_drain(t->hr, 0, upto);
		heaprec_exits(t->hr, upto);
	}
	return n;
}

/* ---- the preload backend --------------------------------------------------------- */

static void preload_record(void *ctx, const void *data, size_t size)
{
	struct tracer *t = ctx;
	if (t->raw)
		t->raw(t->raw_ctx, data, size);
	model_ingest(t->m, data, size);
}

/* The redzones of pid's blocks still live (it waits at its exit): the
 * library checked only the blocks freed or reallocated (#11). */
static void exit_redzones(struct tracer *t, int pid)
{
	if (t->checks.mode == HEAP_CHECK_OFF)
		return;
	struct hs_block *b = NULL;
	size_t n = 0;
	if (heap_scan_blocks(t->m, pid, &b, &n) < 0 || !n) {
		free(b);
		return;
	}
	struct rz_exit_finding f[64];
	size_t k = rz_exit_check(pid, b, n, f, sizeof(f) / sizeof(f[0]));
	for (size_t i = 0; i < k; i++)
		heap_exit_overflow(t->m, pid, f[i].addr, f[i].first, f[i].count);
	free(b);
}

static void preload_exit_scan(void *ctx, int pid, const void *hold)
{
	struct tracer *t = ctx;
	heap_set_backend(t->m, pid, "preload", "dynamically linked, LD_PRELOAD names the library");
	heap_exit_scan(t->m, hold);
	exit_redzones(t, pid);
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
				     .may_record = preload_may_record };
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

/* Sockets still open at the end: their byte counts since their last event
 * are in the owner map (bpf/net.h). */
static void collect_socket_bytes(struct tracer *t)
{
	struct et_owner o;
	__u64 key, next, *prev = NULL;
	if (!t->net_loaded)
		return;
	int fd = bpf_map__fd(t->net->maps.sk_owner);
	struct et_model *m = t->m;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &o) < 0)
			continue;
		for (size_t i = m->nconns; i-- > 0;) {
			struct et_conn *c = &m->conns[i];
			if (c->sk != key)
				continue;
			if (o.sent > c->bytes_sent)
				c->bytes_sent = o.sent;
			if (o.recv > c->bytes_recv)
				c->bytes_recv = o.recv;
			break;
		}
	}
}

/* The path of the connections' packets: counters per (socket, interface,
 * stage) the kernel added up (bpf/net.h). */
static void collect_net_path(struct tracer *t)
{
	struct et_path_key key, next, *prev = NULL;
	struct et_path_val v;
	if (!t->net_loaded)
		return;
	int fd = bpf_map__fd(t->net->maps.net_path);
	struct et_model *m = t->m;
	/* a per-CPU table: each CPU's counts, added up here */
	int ncpu = libbpf_num_possible_cpus();
	struct et_path_val *per = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*per)) : NULL;
	if (!per)
		return;
	for (size_t i = 0; i < m->nconns; i++)
		m->conns[i].npath = m->conns[i].path_not_listed = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, per) < 0)
			continue;
		memset(&v, 0, sizeof(v));
		for (int c = 0; c < ncpu; c++) {
			v.packets += per[c].packets;
			v.bytes += per[c].bytes;
			v.errors += per[c].errors;
			if (per[c].first_ts && (!v.first_ts || per[c].first_ts < v.first_ts))
				v.first_ts = per[c].first_ts;
			if (per[c].last_rc)
				v.last_rc = per[c].last_rc;
			if (!v.ifname[0] && per[c].ifname[0])
				memcpy(v.ifname, per[c].ifname, sizeof(v.ifname));
		}
		if (!v.packets)
			continue;
		/* the connection of that socket that had started by then */
		struct et_conn *c = NULL;
		for (size_t i = m->nconns; i-- > 0;) {
			if (m->conns[i].sk != key.sk)
				continue;
			if (!c)
				c = &m->conns[i];
			if (m->conns[i].first_ts <= v.first_ts) {
				c = &m->conns[i];
				break;
			}
		}
		if (!c)
			continue;
		if (c->npath == ET_CONN_PATH) {
			c->path_not_listed += v.packets;
			continue;
		}
		struct et_path_hop *h = &c->path[c->npath++];
		memset(h, 0, sizeof(*h));
		h->stage = (int)key.stage;
		h->ifindex = key.ifindex;
		h->netns = key.netns;
		memcpy(h->ifname, v.ifname, sizeof(h->ifname));
		h->ifname[sizeof(h->ifname) - 1] = 0;
		h->packets = v.packets;
		h->bytes = v.bytes;
		h->errors = v.errors;
		h->last_rc = v.last_rc;
		h->first_ts = v.first_ts;
	}
	free(per);
	/* in the order first seen, queue before xmit before receive on a tie */
	for (size_t i = 0; i < m->nconns; i++) {
		struct et_conn *c = &m->conns[i];
		for (size_t a = 1; a < c->npath; a++) {
			struct et_path_hop x = c->path[a];
			size_t b = a;
			while (b > 0 && (c->path[b - 1].first_ts > x.first_ts ||
					 (c->path[b - 1].first_ts == x.first_ts && c->path[b - 1].stage > x.stage))) {
				c->path[b] = c->path[b - 1];
				b--;
			}
			c->path[b] = x;
		}
	}
}

static void collect_preload(struct tracer *t)
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
					.guard_rate = t->checks.guard_rate };
	heap_set_preload(t->m, &pi);
	t->preload_lost = st.lost;
}

static void snap_sink(void *ctx, const void *data, size_t size)
{
	on_record(ctx, (void *)data, size);
}

void tracer_snapshot_prepare(struct tracer *t)
{
	if (!t->hs) {
		t->hs = hangsnap_new(bpf_map__fd(t->skel->maps.tasks), (uint32_t)syscall_nr("futex"));
		hangsnap_prepare(t->hs);
	}
}

int tracer_snapshot(struct tracer *t, uint32_t reason, int sig, int sender, uint64_t timeout_ns)
{
	/* what happened before comes first: the in-flight records are read
	 * against a model that has every fd the tree opened */
	tracer_drain(t);
	struct ev_snap s;
	memset(&s, 0, sizeof(s));
	tracer_snapshot_prepare(t);
	int n = hangsnap_take(t->hs, snap_sink, t, s.error, sizeof(s.error));
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s.h.type = ET_EV_SNAP;
	s.h.size = sizeof(s);
	s.h.ts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	s.h.pid = (uint32_t)t->m->root_pid;
	s.reason = reason;
	s.sig = (uint32_t)sig;
	s.sender_pid = (uint32_t)sender;
	s.threads = n > 0 ? (uint32_t)n : 0;
	s.timeout_ns = timeout_ns;
	on_record(t, &s, sizeof(s));
	return n;
}

void tracer_collect(struct tracer *t)
{
	collect_preload(t);
	collect_socket_bytes(t);
	collect_net_path(t);
	if (t->skel->rodata->timeacct_on)
		collect_futexes(t);
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	struct et_syscall_stat *per = calloc((size_t)ncpu, sizeof(*per));
	__u64 *cnt = calloc((size_t)ncpu, sizeof(*cnt));
	struct et_model *m = t->m;
	if (!per || !cnt)
		goto out;

	free(m->totals);
	m->totals = calloc(ET_MAX_SYSCALLS, sizeof(*m->totals));
	m->ntotals = 0;
	int sfd = bpf_map__fd(t->skel->maps.stats);
	for (__u32 nr = 0; nr < ET_MAX_SYSCALLS && m->totals; nr++) {
		if (bpf_map_lookup_elem(sfd, &nr, per) < 0)
			continue;
		struct et_syscall_total tot = { .nr = (int)nr };
		for (int c = 0; c < ncpu; c++) {
			tot.calls += per[c].calls;
			tot.errors += per[c].errors;
			tot.total_ns += per[c].total_ns;
			if (per[c].max_ns > tot.max_ns)
				tot.max_ns = per[c].max_ns;
		}
		if (tot.calls)
			m->totals[m->ntotals++] = tot;
	}
	/* sort by total time, then calls (insertion sort: at most a few hundred) */
	for (size_t i = 1; i < m->ntotals; i++) {
		struct et_syscall_total x = m->totals[i];
		size_t j = i;
		while (j > 0 && (m->totals[j - 1].total_ns < x.total_ns ||
				 (m->totals[j - 1].total_ns == x.total_ns && m->totals[j - 1].calls < x.calls))) {
			m->totals[j] = m->totals[j - 1];
			j--;
		}
		m->totals[j] = x;
	}

	int cfd = bpf_map__fd(t->skel->maps.counters);
	for (__u32 k = 0; k < ET_CNT_MAX; k++) {
		if (bpf_map_lookup_elem(cfd, &k, cnt) < 0)
			continue;
		__u64 sum = 0;
		for (int c = 0; c < ncpu; c++)
			sum += cnt[c];
		/* the record type this counter counts the losses of (reports/core/evtypes.c) */
		for (size_t i = 0; i < et_n_record_types; i++)
			if (et_record_types[i].lost_counter == (int)k)
				m->lost[et_record_types[i].type] = sum;
		if (k == ET_CNT_LOST_HEAP)
			m->lost[ET_EV_HEAP] += t->preload_lost;   /* the preload's ring was full */
		else if (k == ET_CNT_CAPTURE_FAULT)
			m->capture_faults = sum;
		else if (k == ET_CNT_LOST_FUTEX)
			m->lost[ET_EV_FUTEXSTAT] = sum;   /* shown in the time section */
		else if (k == ET_CNT_SKB_FILTERED)
			m->skbs.filtered = sum;
		else if (k == ET_CNT_SKB_TRACKED)
			m->skbs.followed = sum;
	}
out:
	free(per);
	free(cnt);
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	startup_mark("(before the detach)");
	ring_buffer__free(t->rb);
	hangsnap_free(t->hs);
	/* no stop outlives etrace: none started from here on, none left
	 * (no object when opening it failed: nothing was loaded then) */
	if (t->skel)
		close_gate(t);
	if (t->skel)
		release_held(t);
	heaprec_close(t->hr);
	detach_heap(t);
	startup_mark("the heap probes detached");
	detach_funcs(t);
	if (t->skb)
		skb_plan_detach(t->skb);
	skb_bpf__destroy(t->skbo);
	net_bpf__destroy(t->net);
	sched_bpf__destroy(t->sched);
	startup_mark("the function and --skb probes detached");
	if (t->skel) {
		etrace_bpf__detach(t->skel);
		startup_mark("the tracepoints detached");
		release_held(t);   /* a stop sent while the programs were detached */
	}
	holdwatch_end(&t->watch);
	heap_bpf__destroy(t->heap);
	funcs_bpf__destroy(t->funcs);
	etrace_bpf__destroy(t->skel);
	startup_mark("the BPF object closed");
	free(t);
}
