/* `etrace run`: start the held target, trace it, pass signals through,
 * collect, report, clean up, and exit with the target's own status. */
#include "symbolize/fileutil.h"
#include "run.h"
#include "reports/net/netstate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "doctor.h"
#include "funcs.h"
#include "launch.h"
#include "cireport.h"
#include "outfile.h"
#include "record.h"
#include "tracer.h"
#include "runner/heap/heapprobe.h"
#include "startup.h"
#include "heaptune.h"
#include "runner/heap/heaprec.h"
#include "invoker.h"
#include "runner/net/skbtrace.h"
#include "reports/heap/heap.h"
#include "reports/crash/crash.h"
#include "reports/syscalls/decode.h"
#include "reports/core/model.h"
#include "reports/render/render.h"
#include "../reports/render/html.h"
#include "reports/verdict/verdict.h"
#include "reports/core/error.h"
#include "../reports/hang/hang.h"

#define DRAIN_INTERVAL_MS 10
/* How long descendants still running when the root exits get to finish
 * (the cgroup to empty) before the report, and --orphans, applies: a child
 * that its parent did not wait for usually ends within milliseconds. */
#define DESCENDANT_GRACE_MS 1000
/* After --timeout's SIGTERM, how long the tree has before the SIGKILL. */
#define TIMEOUT_GRACE_MS 1000

static uint64_t mono_ns(void);

/* The hang report's part of the event loop: the --timeout deadline, and
 * the snapshot taken once, at that deadline or at a signal that asks
 * etrace to stop (before the signal is passed on). */
struct hang_watch {
	uint64_t deadline;      /* --timeout's, monotonic ns (0: none) */
	uint64_t kill_at;       /* the SIGKILL after the SIGTERM (0: not yet) */
	bool snapshot_taken;
	bool timed_out;
	const struct et_cgroup *cg;
};

/* SIGTERM to every process of the tree (timeout(1) signals its child's
 * process group; etrace's tree is its cgroup). */
static void signal_tree(const struct et_cgroup *cg, int sig)
{
	int pids[4096];
	int n = cgroup_pids(cg, pids, 4096);
	for (int i = 0; i < n; i++)
		kill(pids[i], sig);
}

static void hang_snapshot(struct tracer *tr, struct hang_watch *hw, uint32_t reason, int sig, int sender,
			  uint64_t timeout_ns)
{
	if (hw->snapshot_taken)
		return;
	hw->snapshot_taken = true;
	tracer_snapshot(tr, reason, sig, sender, timeout_ns);
}

static void hang_tick(struct tracer *tr, struct hang_watch *hw, uint64_t timeout_ns)
{
	uint64_t now = mono_ns();
	if (hw->deadline && !hw->timed_out && now >= hw->deadline) {
		hw->timed_out = true;
		hang_snapshot(tr, hw, ET_SNAP_TIMEOUT, 0, 0, timeout_ns);
		signal_tree(hw->cg, SIGTERM);
		hw->kill_at = mono_ns() + TIMEOUT_GRACE_MS * 1000000ull;
	} else if (hw->kill_at && now >= hw->kill_at) {
		hw->kill_at = 0;
		cgroup_kill_all(hw->cg);
	}
}

/* Every signal whose default action ends a process is passed to the target
 * (a signal etrace did not forward, SIGUSR1, once ended etrace without a
 * report and left the target running), except the faults of etrace's own
 * code (SEGV, BUS, FPE, ILL, TRAP, SYS), SIGPIPE (ignored: etrace's writes
 * to a closed pipe fail with EPIPE instead) and glibc's two internal
 * real-time signals. Job control (TSTP, TTIN, TTOU, CONT) keeps its
 * default: etrace stops with its program, as the shell expects. */
static bool is_forwarded(int sig)
{
	switch (sig) {
	case SIGHUP: case SIGINT: case SIGQUIT: case SIGABRT: case SIGUSR1: case SIGUSR2:
	case SIGALRM: case SIGTERM: case SIGSTKFLT: case SIGXCPU: case SIGXFSZ: case SIGVTALRM:
	case SIGPROF: case SIGIO: case SIGPWR:
		return true;
	}
	return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exit_code_for(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return ETRACE_EXIT_FAILURE;
}

/* waitid() status to the wait(2) layout the model uses. */
static int wait_status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	default:
		return si->si_status & 0x7f;
	}
}

struct events_sink {
	FILE *f;
};

static void events_sink(void *ctx, const struct et_model *m, const struct ev_header *h, const struct et_record *r)
{
	struct events_sink *s = ctx;
	render_event_line(m, h, r, s->f);
}

/* Blocks the forwarded signals into a signalfd and ignores SIGPIPE; what
 * they were goes to ls, for the target. */
static int setup_signals(struct launch_signals *ls)
{
	sigset_t set;
	sigemptyset(&set);
	for (int s = 1; s < NSIG; s++)
		if (is_forwarded(s))
			sigaddset(&set, s);
	memset(ls->changed, 0, sizeof(ls->changed));
	sigprocmask(SIG_BLOCK, &set, &ls->mask);
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, &ls->orig[SIGPIPE]) == 0)
		ls->changed[SIGPIPE] = true;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* A signal for etrace goes to the target too, unless the target already
 * got it: from the terminal (si_code SI_KERNEL, sent to the whole foreground
 * process group) or from the same sender a moment ago (kill of the process
 * group), which the signal_generate records show. */
static void forward_signal(struct tracer *tr, struct et_model *m, const struct target *t,
			   const struct signalfd_siginfo *si)
{
	if (si->ssi_code == SI_KERNEL && getpgid(t->pid) == getpgrp())
		return;
	tracer_drain(tr);
	const struct et_process *root = model_process(m, t->pid);
	uint64_t now = mono_ns();
	if (root && process_sender(root, (int)si->ssi_signo, (int)si->ssi_pid, now > 1000000000ull ? now - 1000000000ull : 0))
		return;
	m->forwarded_sig = (int)si->ssi_signo;
	m->forwarded_from = (int)si->ssi_pid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)si->ssi_pid);
	FILE *f = fopen(path, "re");
	m->forwarded_comm[0] = '\0';
	if (f) {
		if (fgets(m->forwarded_comm, sizeof(m->forwarded_comm), f))
			m->forwarded_comm[strcspn(m->forwarded_comm, "\n")] = '\0';
		fclose(f);
	}
	if (syscall(SYS_pidfd_send_signal, t->pidfd, si->ssi_signo, NULL, 0) < 0 && errno == ENOSYS)
		kill(t->pid, si->ssi_signo);   /* valgrind 3.19 has no pidfd_send_signal; not reaped yet */
}

/* The target inherits etrace's stdin, stdout and stderr. */
static void inherit_fds(struct fdtable *fds)
{
	for (int fd = 0; fd <= 2; fd++) {
		char path[64], target[512];
		int flags = fcntl(fd, F_GETFD);
		if (flags < 0 || (flags & FD_CLOEXEC))
			continue;   /* closed at start (launch_guard_std_fds): closed for the target */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		struct fd_desc *d = fd_desc_new(target, 0);
		fdt_set(fds, fd, d);
		fd_desc_unref(d);
	}
}

static bool should_report(const struct run_opts *o, int code)
{
	switch (o->when) {
	case REPORT_NEVER:
		return false;
	case REPORT_ON_FAILURE:
		return code != 0;
	default:
		return true;
	}
}

/* The HTML page and the Perfetto trace (reports/render/), when asked for:
 * always written, like --json; source lines read with the invoker's rights. */
static int write_visual(const struct run_opts *o, const struct et_model *m, const struct render_opts *ro,
			struct outfile *html, struct outfile *perfetto)
{
	int rc = 0;
	if (o->html_output) {
		FILE *f = outfile_begin(html);
		if (!f)
			return -1;
		struct html_opts ho = { .open_source = invoker_open };
		render_html(m, ro, &ho, f);
		if (outfile_finish(f, "the HTML report", o->html_output) < 0)
			rc = -1;
	}
	if (o->perfetto_output) {
		FILE *f = outfile_begin(perfetto);
		if (!f)
			return -1;
		render_perfetto(m, ro, f);
		if (outfile_finish(f, "the Perfetto trace", o->perfetto_output) < 0)
			rc = -1;
	}
	return rc;
}

static int write_report(const struct run_opts *o, const struct et_model *m, const struct render_opts *ro,
			struct outfile *text, struct outfile *json)
{
	int rc = 0;
	if (should_report(o, ro->exit_code)) {
		FILE *out = o->output ? outfile_begin(text) : stderr;
		if (!out)
			return -1;
		if (o->format == FORMAT_JSON)
			render_json(m, ro, out);
		else
			render_text(m, ro, out);
		if (outfile_finish(out, o->format == FORMAT_JSON ? "the JSON report" : "the report",
				   o->output ? o->output : "stderr") < 0)
			rc = -1;
	} else {
		outfile_discard(text);
	}
	if (o->json_output) {
		FILE *jf = outfile_begin(json);
		if (!jf)
			return -1;
		render_json(m, ro, jf);
		if (outfile_finish(jf, "the JSON report", o->json_output) < 0)
			rc = -1;
	}
	return rc;
}

/* Waits for the target, draining the ring buffer on a timer and passing
 * signals through. Returns the root's wait status. */
static int event_loop(struct tracer *tr, struct et_model *m, struct target *t, int sigfd, struct hang_watch *hw,
		      uint64_t timeout_ns)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		et_error("epoll_create1: %s: draining on a plain timer", strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.u32 = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, tracer_fd(tr), &ev);
	ev.data.u32 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, t->pidfd, &ev);
	/* a preloaded process waits at its exit for the leak scan: answer at once */
	ev.data.u32 = 3;
	if (tracer_preload_fd(tr) >= 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, tracer_preload_fd(tr), &ev);

	int status = -1;
	for (;;) {
		struct epoll_event got[4];
		int n = ep >= 0 ? epoll_wait(ep, got, 4, DRAIN_INTERVAL_MS) : (poll(NULL, 0, DRAIN_INTERVAL_MS), 0);
		tracer_drain(tr);
		bool signalled = ep < 0; /* without epoll, look every time */
		for (int i = 0; i < n; i++)
			if (got[i].data.u32 == 1)
				signalled = true;
		if (signalled) {
			struct signalfd_siginfo ssi;
			while (read(sigfd, &ssi, sizeof(ssi)) == sizeof(ssi)) {
				/* asked to stop: where everything was, before the signal moves it */
				if (ssi.ssi_signo == SIGINT || ssi.ssi_signo == SIGTERM || ssi.ssi_signo == SIGQUIT)
					hang_snapshot(tr, hw, ET_SNAP_SIGNAL, (int)ssi.ssi_signo, (int)ssi.ssi_pid, 0);
				forward_signal(tr, m, t, &ssi);
			}
		}
		hang_tick(tr, hw, timeout_ns);
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
			status = wait_status_of(&si);
			startup_mark("the target's run, until its exit was seen");
			break;
		}
	}
	if (ep >= 0)
		close(ep);
	/* everything the target did was committed before it became a zombie */
	tracer_drain(tr);
	return status;
}

/* The root exited: give the processes still in the cgroup a bounded grace
 * to finish, draining their records as they come, so that what the tree
 * did before the report is written is in it. A signal for etrace ends the
 * wait (it is not forwarded: the root is gone). */
static void wait_descendants(struct tracer *tr, const struct et_cgroup *cg, int sigfd)
{
	uint64_t deadline = mono_ns() + DESCENDANT_GRACE_MS * 1000000ull;
	int pid;
	while (cgroup_pids(cg, &pid, 1) > 0 && mono_ns() < deadline) {
		struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
		int n = poll(&pfd, sigfd >= 0 ? 1 : 0, DRAIN_INTERVAL_MS);
		tracer_drain(tr);
		if (n > 0) {
			struct signalfd_siginfo ssi;
			while (read(sigfd, &ssi, sizeof(ssi)) == sizeof(ssi))
				;
			break;
		}
	}
	tracer_drain(tr);
}

static void handle_orphans(const struct run_opts *o, struct et_cgroup *cg)
{
	int pids[16];
	if (cgroup_pids(cg, pids, 16) == 0)
		return;
	if (o->orphans == ORPHANS_KILL) {
		cgroup_kill_all(cg);
	} else {
		int n = cgroup_release_all(cg);
		if (n)
			et_error("%d process%s of the target still running, left running untraced (--orphans=kill ends them)",
			       n, n == 1 ? "" : "es");
	}
}

/* The preload library: next to the etrace binary (build/), or in
 * ../lib/etrace/ of an installed one. NULL with the path in lib, or why not. */
static const char *preload_library(char *lib, size_t len, const struct run_user *u)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return "cannot find etrace's own directory";
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return "cannot find etrace's own directory";
	*slash = 0;
	static const char *const where[] = { "%s/libetrace_heap.so", "%s/../lib/etrace/libetrace_heap.so" };
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(lib, len, where[i], self);
		struct stat st;
		/* root's or the target user's file, not writable by others: it
		 * runs inside every traced process */
		if (stat(lib, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 0022) &&
		    (st.st_uid == 0 || (u->set && st.st_uid == u->uid) || st.st_uid == getuid()))
			return NULL;
	}
	return "libetrace_heap.so not found next to etrace (make builds build/libetrace_heap.so)";
}

/* What is read before the target starts, with the invoker's rights (the
 * caller switched them): the functions --trace-func names, the suppressions.
 * The allocators' files are read only if a process needs probes
 * (runner/heap/heaplinks.c). */
static int early_plans(const struct run_opts *o, struct et_model *m, const char *path, char *err, size_t errlen)
{
	if (o->ntrace_funcs && funcs_plan(m, path, o->argv[0], o->trace_funcs, o->ntrace_funcs, o->trace_func_force,
					  err, errlen) < 0)
		return -1;
	if (!o->heap)
		return 0;
	heap_enable(m);
	heap_configure(m, o->heap_freed, o->leaks);
	heap_set_show_reachable(m, o->show_reachable);
	if (o->suppressions && heap_load_suppressions(m, o->suppressions, err, errlen) < 0)
		return -1;
	return 0;
}

void run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = FORMAT_TEXT;
	o->when = REPORT_ALWAYS;
	o->orphans = ORPHANS_LEAVE;
	o->last_n = 50;
	o->str_max = 32;
	o->rewind_n = 50;
	o->max_records = 200000;
	o->buffer_bytes = 0; /* 16M, 32M with --heap-backend=uprobe */
	o->heap = true;
	o->leaks = true;
	o->heap_freed = 65536;
	/* the in-process recorder where it can be preloaded, probes elsewhere */
	o->heap_backend = HEAP_BACKEND_AUTO;
	/* memory errors that do not crash (#11): on, at a cost measured
	 * within 10% of the recorder alone */
	o->heap_check = HEAP_CHECK_DEFAULT;
	o->heap_quarantine = HEAP_QUARANTINE_DEFAULT;
	o->heap_guard_rate = HEAP_GUARD_RATE_DEFAULT;
}

static void fill_probe(struct run_probe *p, const struct et_model *m, const struct skb_plan *skb)
{
	p->loaded = true;
	snprintf(p->net_backend, sizeof(p->net_backend), "%s", skb->backend ? skb->backend : "tracepoint");
	snprintf(p->net_why, sizeof(p->net_why), "%s", skb->why ? skb->why : "");
	p->ngaps = 0;
	for (size_t i = 0; i < m->nkernel_gaps && p->ngaps < sizeof(p->gaps) / sizeof(p->gaps[0]); i++) {
		p->gaps[p->ngaps].what = m->kernel_gaps[i].what;
		p->gaps[p->ngaps].cost = m->kernel_gaps[i].cost;
		p->ngaps++;
	}
}

int run_main(const struct run_opts *o)
{
	char err[512] = "";
	char path[4096];
	startup_on();
	heaptune_start();
	/* the program, its libraries and the files named on the command line
	 * are looked up and read with the invoking user's rights (invoker.h) */
	struct invoker_saved as_user;
	if (invoker_enter(&as_user) < 0) {
		et_error("cannot take the invoking user's rights: %s", strerror(errno));
		return ETRACE_EXIT_FAILURE;
	}
	int code = launch_resolve(o->argv[0], path, sizeof(path), err, sizeof(err));
	invoker_leave(&as_user);
	if (code) {
		et_error("%s", err);
		return code;
	}
	struct run_user user;
	if (launch_pick_user(o->user, &user, err, sizeof(err)) < 0) {
		et_error("%s", err);
		return ETRACE_EXIT_FAILURE;
	}
	if (geteuid() != 0) {
		et_error("tracing needs root (BPF programs and a cgroup of its own): run it with sudo; "
		       "the target then runs as you");
		return ETRACE_EXIT_FAILURE;
	}

	/* --skb and --net-backend: checked (the filter compiled, the kernel's
	 * skb functions found) before anything starts; without them auto's
	 * reason is looked up after the run, to keep the probing of the kernel
	 * off the target's start */
	startup_mark("the program looked up");
	struct skb_plan skb;
	if (skb_plan_make(o, &skb, err, sizeof(err)) < 0) {
		et_error("%s", err);
		skb_plan_free(&skb);
		return ETRACE_EXIT_FAILURE;
	}
	startup_mark("the --skb plan");

	/* failures before the target starts: one exit, early_fail */
	struct events_sink sink = { NULL };
	struct outfile text_out = { .fd = -1 }, json_out = { .fd = -1 };
	struct outfile html_out = { .fd = -1 }, perfetto_out = { .fd = -1 };
	struct ci_outputs ci = { .sarif.fd = -1, .junit.fd = -1 };
	struct tracer *tr = NULL;
	struct et_model m;
	model_init(&m);
	m.net->skbs.enabled = skb.on;
	m.net->skbs.filter = o->skb_filter;
	m.net->skbs.ksyms = skb.ksyms;   /* the model frees it */
	skb.ksyms = NULL;
	m.last_n = o->last_n;
	m.str_max = o->str_max;
	m.system_findings = o->system_findings;
	m.gen_suppressions = o->gen_suppressions;
	/* colours: asked for, or the report goes to a terminal and NO_COLOR
	 * (no-color.org) is unset or empty */
	const char *no_color = getenv("NO_COLOR");
	m.color = o->color == ET_ANNOTATIONS_ALWAYS ||
		  (o->color == ET_ANNOTATIONS_AUTO && !o->output && isatty(STDERR_FILENO) && !(no_color && no_color[0]));
	m.show_syscalls = o->show_syscalls;
	m.rewind_n = o->rewind_n;
	m.rewind_ns = o->rewind_ns;
	m.max_records = o->max_records;
	m.command = o->argv;
	if (o->sched)
		timeacct_enable(&m);
	m.backend = tracer_backend();
	if (invoker_enter(&as_user) < 0) {
		et_error("cannot take the invoking user's rights: %s", strerror(errno));
		goto early_fail;
	}
	int planned = early_plans(o, &m, path, err, sizeof(err));
	invoker_leave(&as_user);
	startup_mark("the --trace-func plan (ELF symbols) and the suppressions");
	if (planned < 0) {
		et_error("%s", err);
		goto early_fail;
	}
	/* every output is checked (and created) before the program starts */
	if (outfile_open(&text_out, o->output, "the report", err, sizeof(err)) < 0 ||
	    outfile_open(&json_out, o->json_output, "the JSON report", err, sizeof(err)) < 0 ||
	    outfile_open(&html_out, o->html_output, "the HTML report", err, sizeof(err)) < 0 ||
	    outfile_open(&perfetto_out, o->perfetto_output, "the Perfetto trace", err, sizeof(err)) < 0 ||
	    ci_outputs_open(&ci, o, err, sizeof(err)) < 0) {
		et_error("%s", err);
		goto early_fail;
	}
	if (o->events) {
		sink.f = invoker_fopen(o->events, "we");
		if (!sink.f) {
			et_error("cannot write events to %s: %s", o->events, strerror(errno));
			goto early_fail;
		}
		m.sink = events_sink;
		m.sink_ctx = &sink;
	}

	struct tracer_opts to = { .data_max = o->str_max < ET_DATA_DEFAULT ? ET_DATA_DEFAULT : o->str_max,
				  .buffer_bytes = o->buffer_bytes, .func_binary = path,
				  .heap = o->heap, .heap_exe = path, .heap_hold = o->heap && o->leaks,
				  .heap_backend = o->heap_backend,
				  .skb = &skb, .timeacct = o->sched };
	if (to.data_max > ET_CAP_MAX_ONE - 8)
		to.data_max = ET_CAP_MAX_ONE - 8;
	startup_mark("the outputs opened");
	/* The target is forked (and held) before the BPF programs are loaded:
	 * the fork copies less (no ring buffer mapped yet, no parsed BTF), and
	 * the load may then use threads (tracer_load). */
	tr = tracer_new(&m);
	if (!tr) {
		et_error("out of memory");
		goto early_fail;
	}

	struct et_cgroup cg;
	if (cgroup_create(&cg, err, sizeof(err)) < 0) {
		et_error("%s", err);
		goto early_fail;
	}
	startup_mark("the cgroup created");

	/* the preload backend: its socket, and the target's environment */
	char **env = NULL;
	bool preload_root = false;
	if (o->heap && o->heap_backend != HEAP_BACKEND_UPROBE) {
		char lib[4096];
		const char *why = preload_library(lib, sizeof(lib), &user);
		if (!why) {
			if (tracer_preload_open(tr, lib, user.set ? user.uid : getuid(), user.set ? user.gid : getgid(),
						path_base(cg.path), err, sizeof(err)) < 0)
				why = err;
			else if (tracer_preload_checks(tr, o->heap_check, o->heap_quarantine, o->heap_guard_rate),
				 !(env = tracer_preload_env(tr, environ)))
				why = "out of memory";
		}
		if (why && o->heap_backend == HEAP_BACKEND_PRELOAD) {
			et_error("--heap-backend=preload: %s", why);
			cgroup_remove(&cg);
			goto early_fail;
		}
		if (why)
			et_error("heap: the preload backend is not available (%s): probes trace every process", why);
		/* the exec decides: preload for a dynamically linked program */
		preload_root = env != NULL;
		launch_set_env(env);
	}

	static struct launch_signals sigs;
	int sigfd = setup_signals(&sigs);
	struct target t;
	struct recorder *rec = NULL;
	int status = -1, rc = 0;
	const char *failure = NULL;
	startup_mark("the preload socket and the signals");
	if (launch_start(&t, path, o->argv, &user, &cg, &sigs, err, sizeof(err)) < 0) {
		et_error("%s", err);
		rc = ETRACE_EXIT_FAILURE;
		goto cleanup;
	}
	startup_mark("the target forked and held");
	if (tracer_load(tr, &to, err, sizeof(err)) < 0) {
		struct caps k;
		caps_detect(&k);
		const struct capability *miss = caps_first_missing_required(&k);
		if (miss)
			et_error("this kernel lacks %s: %s (etrace doctor shows all)", miss->name, miss->detail);
		else
			et_error("%s", err);
		launch_abort(&t);
		rc = ETRACE_EXIT_FAILURE;
		goto cleanup;
	}
	/* after the load: an auto-picked function backend may have fallen
	 * back to tracepoints */
	m.net->backend = m.net->skbs.backend = skb.backend;
	m.net->backend_why = skb.why;
	m.net->skbs.nfuncs = skb.funcs.n;
	if (o->probe)
		fill_probe(o->probe, &m, &skb);
	if (tracer_scope_task(tr, t.pidfd, err, sizeof(err)) < 0 ||
	    (!preload_root && tracer_heap_attach(tr, t.pid, path, err, sizeof(err)) < 0)) {
		et_error("%s", err);
		launch_abort(&t);
		rc = ETRACE_EXIT_FAILURE;
		goto cleanup;
	}
	startup_mark("the target scoped, its heap probes attached");
	struct et_process *root = model_add_process(&m, t.pid, (int)getpid(), 0);
	if (o->heap && !preload_root)
		heap_set_backend(&m, t.pid, "uprobe",
				 o->heap_backend == HEAP_BACKEND_UPROBE ? "--heap-backend=uprobe" : "the preload backend is not available");
	root->fds = fdt_new();
	inherit_fds(root->fds);
	m.root_pid = t.pid;
	m.etrace_pid = (int)getpid();
	m.start_ts = mono_ns();
	m.start_wall = wall_now();
	root->start_ts = m.start_ts;
	if (o->record) {
		rec = recorder_open(o->record, &m, o->argv, err, sizeof(err));
		if (!rec) {
			et_error("%s", err);
			launch_abort(&t);
			rc = ETRACE_EXIT_FAILURE;
			goto cleanup;
		}
		if (o->ntrace_funcs)
			recorder_funcs(rec, path, o->argv[0], o->trace_funcs, o->ntrace_funcs, o->trace_func_force);
		tracer_set_raw_sink(tr, recorder_event, rec);
		m.fact_sink = recorder_fact;
		m.fact_sink_ctx = rec;
	}

	if (o->timeout_ns)
		tracer_snapshot_prepare(tr);   /* ready when the deadline comes */
	code = launch_release(&t, err, sizeof(err));
	launch_set_env(NULL);
	if (code) {
		/* the exec failed: the child already exited */
		et_error("%s", err);
		launch_abort(&t);
		rc = code;
		goto cleanup;
	}
	startup_mark("the target released");
	struct hang_watch hw = { .cg = &cg };
	if (o->timeout_ns)
		hw.deadline = m.start_ts + o->timeout_ns;
	status = event_loop(tr, &m, &t, sigfd, &hw, o->timeout_ns);
	startup_mark("the last records read");
	/* what is left of the tree runs on untraced: none of it may stay stopped */
	tracer_end_holds(tr);
	m.end_ts = mono_ns();
	wait_descendants(tr, &cg, sigfd);
	handle_orphans(o, &cg);
	startup_mark("the holds ended, the descendants waited for");
	tracer_collect(tr);
	startup_mark("the kernel's totals read");
	static char net_why[320];
	if (!m.net->backend_why) {
		struct caps k;
		const char *w;
		if (!tracer_net_caps(tr, &k))
			caps_detect_net(&k);
		const char *best = caps_net_backend(&k, &w);
		snprintf(net_why, sizeof(net_why), "connections by their tracepoints; --skb would follow packets by %s: %s",
			 best, w);
		m.net->backend = "tracepoint";
		m.net->backend_why = net_why;
	}
	startup_mark("the --skb backend the kernel would allow");
	/* the root's status from waitid is authoritative (its exit record may be lost) */
	root = model_process(&m, t.pid);
	if (root && status >= 0) {
		root->exited = true;
		root->wait_status = status;
		if (!root->end_ts)
			root->end_ts = m.end_ts;
	}
	rc = hw.timed_out ? ETRACE_EXIT_TIMEOUT : exit_code_for(status);
	/* valgrind's convention: the program succeeded, its heap did not */
	if (rc == 0 && o->error_exitcode && o->heap && verdict_heap_findings(&m) > 0)
		rc = o->error_exitcode;
	close(t.pidfd);
	m.fact_sink = NULL;
	recorder_close(rec, &m, status, rc);
	rec = NULL;
	crash_analyze(&m);
	startup_mark("the recording closed, the crash analysed");

cleanup:
	m.fact_sink = NULL;
	if (rec)
		recorder_close(rec, &m, status, rc);
	tracer_close(tr);
	heaprec_env_free(env);
	if (cgroup_remove(&cg) < 0)
		et_error("could not remove cgroup %s: %s", cg.path, strerror(errno));
	startup_mark("the cgroup removed");
	if (status >= 0) {
		struct render_opts ro = { .exit_code = rc, .exit_reason = failure };
		/* a report that cannot be written is said, but never changes the target's status */
		write_report(o, &m, &ro, &text_out, &json_out);
		write_visual(o, &m, &ro, &html_out, &perfetto_out);
		ci_outputs_write(&ci, &m, rc, failure);
	}
	startup_mark("the report written");
	outfile_discard(&text_out);
	outfile_discard(&json_out);
	outfile_discard(&html_out);
	outfile_discard(&perfetto_out);
	ci_outputs_close(&ci);
	/* still blocked while the report is written: a late signal cannot cut it */
	if (sigfd >= 0)
		close(sigfd);
	sigprocmask(SIG_SETMASK, &sigs.mask, NULL);
	if (sink.f)
		outfile_finish(sink.f, "the events", o->events);
	skb_plan_free(&skb);
	model_free(&m);
	startup_mark("the model freed");
	startup_report();
	return rc;

early_fail:
	tracer_close(tr);
	if (sink.f)
		fclose(sink.f);
	outfile_discard(&text_out);
	outfile_discard(&json_out);
	outfile_discard(&html_out);
	outfile_discard(&perfetto_out);
	ci_outputs_close(&ci);
	skb_plan_free(&skb);
	model_free(&m);
	return ETRACE_EXIT_FAILURE;
}
