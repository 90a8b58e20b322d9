/* The tracer's core: opens the core BPF object and the concerns a run
 * needs, reads the ring buffer and hands each record to the model (and the
 * concern that asked for it), releases what it holds and detaches it all
 * at the end. Each concern's loading is in its folder (tracer_int.h). */
#include "tracer_int.h"
#include "invoker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <semaphore.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "heap.skel.h"
#include "funcs.skel.h"
#include "net.skel.h"
#include "bpf/cbpf.h"
#include "skb.skel.h"
#include "sched.skel.h"
#include "reports/syscalls/syscall_table.h"
#include "runner/hang/hangsnap.h"
#include "runner/heap/heapprobe.h"
#include "runner/heap/rzexit.h"
#include "kernelfit.h"
#include "corebtf.h"
#include "runner/net/skbtrace.h"
#include "runner/uprobe_multi.h"
#include "startup.h"
#include "reports/heap/heap.h"
#include "reports/core/error.h"

void tracer_set_raw_sink(struct tracer *t, void (*fn)(void *ctx, const void *data, size_t size), void *ctx)
{
	t->raw = fn;
	t->raw_ctx = ctx;
}

const char *tracer_backend(void)
{
	return "tp_btf (raw syscall tracepoints with BTF), scoped by task storage";
}

/* A process of the tree needs the network's programs (its first inet
 * socket): loaded while it is held, then it goes on. A failure is said
 * once, on etrace's stderr: the run goes on without the network. */
static void concern_needed(struct tracer *t, const struct ev_concern *e)
{
	char err[512];
	if (e->need == ET_NEED_NET && !t->net_failed && tr_net_load(t, err, sizeof(err)) < 0)
		et_warning("%s; the network is not traced", err);
	if (e->held) {
		kill((pid_t)e->h.pid, SIGCONT);
		__u32 key = e->h.pid;
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.heap_held_pids), &key);
	}
}

int tr_on_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	if (size >= sizeof(struct ev_concern) && ((const struct ev_header *)data)->type == ET_EV_CONCERN) {
		concern_needed(t, data);   /* etrace's own business: not a record of the run */
		return 0;
	}
	if (t->hr)
		tr_preload_sync(t, data, size);
	if (t->raw)
		t->raw(t->raw_ctx, data, size);
	const struct ev_header *h = data;
	if (size >= sizeof(struct ev_heap_attach) && h->type == ET_EV_HEAP_ATTACH) {
		tr_heap_attach_record(t, data);
		model_ingest(t->m, data, size);   /* whether it was held, for the report */
		return 0;
	}
	model_ingest(t->m, data, size);
	if (size >= sizeof(struct ev_exit) && h->type == ET_EV_EXIT && ((const struct ev_exit *)data)->group_dead &&
	    t->nheap_procs)
		tr_heap_process_gone(t, (int)h->pid);
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

/* Every process etrace still holds goes on (SIGCONT), and its entry goes. */
void tr_release_held(struct tracer *t)
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
void tr_close_gate(struct tracer *t)
{
	__u32 zero = 0, one = 1;
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.hold_gate), &zero, &one, BPF_ANY);
}

void tracer_end_holds(struct tracer *t)
{
	if (!t)
		return;
	tr_close_gate(t);
	tracer_drain(t);
	tr_release_held(t);
}

/* ETRACE_COREBTF_CHECK=1 (tests): the core object loaded a second time,
 * relocated against the kernel's whole BTF, with the same settings and
 * maps: its programs must be the same instructions. */
static int corebtf_compare(struct tracer *t, char *err, size_t errlen)
{
	struct etrace_bpf *whole = etrace_bpf__open();
	if (!whole) {
		snprintf(err, errlen, "CO-RE check: cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	memcpy(whole->rodata, t->skel->rodata, sizeof(*whole->rodata));
	struct bpf_program *p;
	bpf_object__for_each_program(p, whole->obj) {
		struct bpf_program *mine = bpf_object__find_program_by_name(t->skel->obj, bpf_program__name(p));
		bpf_program__set_autoload(p, mine && bpf_program__autoload(mine));
	}
	struct bpf_map *map;
	bpf_object__for_each_map(map, whole->obj) {
		struct bpf_map *mine = bpf_object__find_map_by_name(t->skel->obj, bpf_map__name(map));
		if (!bpf_map__is_internal(map) && mine)
			bpf_map__reuse_fd(map, bpf_map__fd(mine));
	}
	int rc = etrace_bpf__load(whole);
	int n = rc ? -1 : corebtf_check(t->skel->obj, whole->obj, err, errlen);
	if (rc)
		snprintf(err, errlen, "CO-RE check: cannot load the BPF object: %s", strerror(-rc));
	else if (n >= 0)
		fprintf(stderr, "etrace: CO-RE check: %d programs relocated alike against the small and the whole BTF\n", n);
	etrace_bpf__destroy(whole);
	return n < 0 ? -1 : 0;
}

struct tracer *tracer_new(struct et_model *m)
{
	struct tracer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->m = m;
	t->func_links[0] = t->func_links[1] = -1;
	t->watch.fd = -1;
	t->events_fd = -1;
	return t;
}

/* The kernel's BTF parsed on a thread (kernelfit_vmlinux: once, under a
 * pthread_once, so a caller that needs it first waits for it). */
static void *parse_vmlinux(void *unused)
{
	(void)unused;
	if (kernelfit_vmlinux())
		vmlinuxbtf_index();   /* while the main thread goes on */
	return NULL;
}

/* The ring buffer made and mapped on a thread, while the object is opened
 * and loaded: the kernel zeroes and maps its pages one by one (16 MiB:
 * ~5 ms to make, ~2 ms to map here). The load waits only for the map
 * (ring_made), reused in place of the one libbpf would make. */
struct ring_job {
	struct tracer *t;
	size_t bytes;
	int fd;
	struct ring_buffer *rb;
	sem_t made;
	bool net_caps;   /* then the end-of-run note's probe of --skb's backends */
	struct caps caps;
};

static void *make_ring(void *arg)
{
	struct ring_job *j = arg;
	j->fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, (__u32)j->bytes, NULL);
	sem_post(&j->made);
	if (j->fd >= 0)
		j->rb = ring_buffer__new(j->fd, tr_on_record, j->t, NULL);
	if (j->net_caps)
		caps_detect_net(&j->caps);
	return NULL;
}

bool tracer_net_caps(struct tracer *t, struct caps *k)
{
	if (!t->net_caps_done)
		return false;
	*k = t->net_caps;
	return true;
}

int tracer_load(struct tracer *t, const struct tracer_opts *o, char *err, size_t errlen)
{
	struct et_model *m = t->m;
	libbpf_set_print(quiet_libbpf);
	if (syscall_table_init() < 0) {
		snprintf(err, errlen, "cannot resolve syscall names (libseccomp)");
		return -1;
	}
	int corefd = -1;   /* the small BTF for CO-RE (corebtf.h), until the load */
	/* an allocation-heavy target sends ~100 MB/s of heap records through
	 * it with --heap-backend=uprobe; the preload library's records go
	 * through its own rings, and the ring's pages cost start-up and exit
	 * time (zeroed at creation, mapped, unmapped: ~6 ms more for 32M) */
	size_t rb = round_pow2(o->buffer_bytes ? o->buffer_bytes
				: o->heap && o->heap_backend == HEAP_BACKEND_UPROBE ? 32u << 20 : 16u << 20);
	/* Threads only now: the target was forked before (glibc's first
	 * pthread_create installs its handler of signal 33, which a child
	 * forked later would inherit in place of an ignored one). */
	pthread_t btf_thread, ring_thread;
	bool btf_threaded = pthread_create(&btf_thread, NULL, parse_vmlinux, NULL) == 0;
	/* without --skb or --net-backend the report says what --skb could
	 * use: probed here, not after the run */
	struct ring_job ring = { .t = t, .bytes = rb, .fd = -1, .net_caps = !o->skb || !o->skb->why };
	sem_init(&ring.made, 0, 0);
	bool ring_threaded = pthread_create(&ring_thread, NULL, make_ring, &ring) == 0;
	if (!ring_threaded)
		sem_post(&ring.made);   /* libbpf makes the map, the ring is mapped after the load */
	/* CO-RE against a small BTF written for the object (corebtf.h) */
	char corepath[64];
	corefd = corebtf_reserve(corepath, sizeof(corepath));
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = corefd >= 0 ? corepath : NULL);
	t->skel = etrace_bpf__open_opts(&oo);
	if (!t->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	/* the network's object too (tr_net_open), while the BTF thread works */
	t->net = net_bpf__open();
	startup_mark("the BPF objects opened");
	/* what this kernel has: programs whose tracepoint it lacks are left
	 * out (the gaps go to the report), the others are told the argument
	 * count of the tracepoints whose signature changed */
	const struct btf *vmlinux = kernelfit_vmlinux();
	if (!vmlinux) {
		snprintf(err, errlen, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; run 'etrace doctor'",
			 strerror(errno));
		goto fail;
	}
	startup_mark("the kernel's BTF parsed");
	size_t elf_size;
	const void *elf = etrace_bpf__elf_bytes(&elf_size);
	if (corefd >= 0 && corebtf_fill(corefd, t->skel->obj, elf, elf_size, vmlinux) < 0) {
		/* nothing for libbpf to read: the object as usual */
		etrace_bpf__destroy(t->skel);
		close(corefd);
		corefd = -1;
		if (!(t->skel = etrace_bpf__open())) {
			snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
			goto fail;
		}
	}
	/* the names looked up from here on are in the BTF thread's table:
	 * waiting for its last ~1 ms is less than the passes it spares */
	if (btf_threaded) {
		pthread_join(btf_thread, NULL);
		btf_threaded = false;
	}
	startup_mark("the small CO-RE BTF written");
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
	t->heap_hold = o->heap && o->heap_hold;
	t->skel->rodata->etrace_tgid = (__u32)getpid();
	t->shared.wakeup_bytes = rb / 2;
	t->shared.heap_preload = o->heap && o->heap_backend != HEAP_BACKEND_UPROBE;
	t->skel->rodata->shared_cfg = t->shared;
	bpf_map__set_max_entries(t->skel->maps.events, rb);

	int task_id = btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT);
	t->shared.task_btf_id = task_id > 0 ? (__u32)task_id : 0;
	t->skel->rodata->shared_cfg = t->shared;
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
	if (tr_net_open(t, &tpa, err, errlen) < 0)
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
	bool heap = o->heap && o->heap_backend != HEAP_BACKEND_PRELOAD;
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
	/* the heap backends' process tables, one entry when their backend is
	 * not used (a 65,536-entry table's buckets took ~2.5 ms to make) */
	if (!heap)
		bpf_map__set_max_entries(t->skel->maps.heap_scoped, 1);
	if (!t->shared.heap_preload)
		bpf_map__set_max_entries(t->skel->maps.heap_preload_pids, 1);

	t->skb = o->skb && o->skb->on ? o->skb : NULL;
	if (o->skb && o->skb->on && strcmp(o->skb->backend, "tracepoint") == 0 && tpa.tcp_send_reset < 3)
		kernelfit_note(m, "tcp_send_reset tracepoint for resets sent without a socket (Linux 6.10)",
			       "--skb via tracepoints does not show the RST answering a packet to a closed port "
			       "(a function backend does: tcp_v4_send_reset)");

	/* where time went (--sched): the switch programs only when asked */
	t->skel->rodata->timeacct_on = o->timeacct;
	if (!o->timeacct)
		bpf_map__set_max_entries(t->skel->maps.futex_waits, 1);   /* preallocated: ~1.5 ms */

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
	bool lazy_net = !t->skb && !tr_net_inherited_socket() && !getenv("ETRACE_NET_EAGER");
	t->skel->rodata->net_lazy = lazy_net;
	/* a process held at its socket() is resumed by the watcher as well */
	t->need_watch = t->need_watch || (lazy_net && !release_kfuncs);
	startup_mark("the programs picked");
	startup_verifier_prepare(t->skel->obj, "etrace");
	sem_wait(&ring.made);
	if (ring.fd >= 0 && bpf_map__reuse_fd(t->skel->maps.events, ring.fd) == 0) {
		t->events_fd = ring.fd;
		ring.fd = -1;
	}
	int rc = etrace_bpf__load(t->skel);
	startup_verifier_collect(t->skel->obj, "etrace");
	if (corefd >= 0)
		close(corefd);   /* read by the load */
	bool core_small = corefd >= 0;
	corefd = -1;
	if (btf_threaded) {
		pthread_join(btf_thread, NULL);
		btf_threaded = false;
	}
	/* joined before the hold watcher is forked (no thread of etrace's
	 * is then half-way through malloc or libbpf) */
	if (ring_threaded) {
		pthread_join(ring_thread, NULL);
		ring_threaded = false;
		if (t->events_fd >= 0)
			t->rb = ring.rb;     /* the map the load used */
		else
			ring_buffer__free(ring.rb);
		ring.rb = NULL;
		t->net_caps = ring.caps;
		t->net_caps_done = ring.net_caps;
	}
	vmlinuxbtf_index_report();
	startup_mark("the BPF programs loaded (verified)");
	if (!rc && core_small && getenv("ETRACE_COREBTF_CHECK") && corebtf_compare(t, err, errlen) < 0)
		goto fail;
	if (rc) {
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (needs root or CAP_BPF+CAP_PERFMON, a kernel with BTF, "
			 "task storage and ring buffers; run 'etrace doctor'; ETRACE_DEBUG=1 shows the verifier log)",
			 strerror(-rc));
		goto fail;
	}
	rc = tr_specs_fill(t);
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
	if (!lazy_net && tr_net_load(t, err, errlen) < 0)
		goto fail;
	if (t->skb && tr_skb_open(t, &tpa, err, errlen) < 0)
		goto fail;
	if (o->timeacct && tr_sched_open(t, err, errlen) < 0)
		goto fail;
	if (heap) {
		t->heap_probes = true;
		t->heap_exe = strdup(o->heap_exe ? o->heap_exe : "");
		t->planner = heap_planner_new();
		if (!t->heap_exe || !t->planner) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (m->nfuncs && tr_funcs_open(t, o->func_binary, err, errlen) < 0)
		goto fail;
	if (!t->rb)
		t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), tr_on_record, t, NULL);
	if (!t->rb) {
		snprintf(err, errlen, "cannot map the ring buffer: %s", strerror(errno));
		goto fail;
	}
	sem_destroy(&ring.made);
	startup_mark("the function and --skb probes attached, the ring buffer mapped");
	return 0;
fail:
	if (corefd >= 0)
		close(corefd);
	if (btf_threaded)
		pthread_join(btf_thread, NULL);
	if (ring_threaded) {
		pthread_join(ring_thread, NULL);
		ring_buffer__free(ring.rb);
	}
	if (ring.fd >= 0)
		close(ring.fd);
	sem_destroy(&ring.made);
	return -1;
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
		if (heaprec_exits_after(t->hr, upto)) {
			/* a process waits at its exit, its message sent after the
			 * kernel's records were read: read them again now rather
			 * than keep it waiting for the next tick (up to 10 ms a
			 * process) */
			upto = mono_now_ns();
			int more = ring_buffer__consume(t->rb);
			n = n < 0 ? more : more < 0 ? n : n + more;
			heaprec_poll(t->hr);
		}
		heaprec_drain(t->hr, 0, upto);
		heaprec_exits(t->hr, upto);
	}
	return n;
}

static void snap_sink(void *ctx, const void *data, size_t size)
{
	tr_on_record(ctx, (void *)data, size);
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
	tr_on_record(t, &s, sizeof(s));
	return n;
}

static void *free_ring(void *rb)
{
	ring_buffer__free(rb);
	return NULL;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	startup_mark("(before the detach)");
	/* the ring's mapping (two views of 16 MiB) goes on a thread while
	 * the programs are detached */
	pthread_t unmap;
	bool unmapping = t->rb && pthread_create(&unmap, NULL, free_ring, t->rb) == 0;
	if (!unmapping)
		ring_buffer__free(t->rb);
	t->rb = NULL;
	hangsnap_free(t->hs);
	/* no stop outlives etrace: none started from here on, none left
	 * (no object when opening it failed: nothing was loaded then) */
	if (t->skel)
		tr_close_gate(t);
	if (t->skel)
		tr_release_held(t);
	heaprec_close(t->hr);
	tr_heap_detach(t);
	startup_mark("the heap probes detached");
	tr_funcs_detach(t);
	if (t->skb)
		skb_plan_detach(t->skb);
	skb_bpf__destroy(t->skbo);
	net_bpf__destroy(t->net);
	sched_bpf__destroy(t->sched);
	startup_mark("the function and --skb probes detached");
	if (t->skel) {
		etrace_bpf__detach(t->skel);
		startup_mark("the tracepoints detached");
		tr_release_held(t);   /* a stop sent while the programs were detached */
	}
	holdwatch_end(&t->watch);
	heap_bpf__destroy(t->heap);
	heap_planner_free(t->planner);
	free(t->heap_exe);
	funcs_bpf__destroy(t->funcs);
	etrace_bpf__destroy(t->skel);
	if (unmapping)
		pthread_join(unmap, NULL);
	if (t->events_fd >= 0)
		close(t->events_fd);
	startup_mark("the BPF object closed");
	free(t);
}
