/* Kernel capability detection: what this kernel offers etrace, which
 * backend each feature uses, and why. `etrace doctor` prints it; `etrace
 * run` uses it to name what is missing when it cannot start. */
#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "kernelfit.h"
#include "run.h"

static void set(struct capability *c, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set(struct capability *c, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	c->name = name;
	c->ok = ok;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	/* zeroed: valgrind 3.19 takes capget as writing one struct, not two */
	struct __user_cap_data_struct d[2] = { { 0 } };
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* "mov r0, 0; exit": enough to ask the verifier whether a program type
 * and attach point are allowed. */
static const struct bpf_insn ret0[] = {
	{ .code = 0xb7, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0 },
	{ .code = 0x95 },
};

static int load_tracing(const struct btf *vmlinux, const char *name, int kind, enum bpf_attach_type at)
{
	int id = btf__find_by_name_kind(vmlinux, name, kind);
	if (id < 0)
		return -ENOENT;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = at, .attach_btf_id = id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "etrace_probe", "GPL", ret0, 2, &o);
	if (fd < 0)
		return -errno;
	/* fentry: loading is not enough on some kernels (no trampolines,
	 * arm64 before 6.0); attach it too. A tp_btf program attaches to a
	 * tracepoint: harmless for the instant it is there. */
	int link = bpf_raw_tracepoint_open(NULL, fd);
	int rc = link < 0 ? -errno : 0;
	if (link >= 0)
		close(link);
	close(fd);
	return rc;
}

static int try_kprobe_multi(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_KPROBE_MULTI);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "etrace_probe", "GPL", ret0, 2, &o);
	if (fd < 0)
		return -errno;
	const char *syms[] = { "do_nanosleep" };
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	lo.kprobe_multi.syms = syms;
	lo.kprobe_multi.cnt = 1;
	int link = bpf_link_create(fd, 0, BPF_TRACE_KPROBE_MULTI, &lo);
	int rc = link < 0 ? -errno : 0;
	if (link >= 0)
		close(link);
	close(fd);
	return rc;
}

static bool pmu_exists(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", name);
	return access(path, R_OK) == 0;
}

void caps_detect(struct caps *k)
{
	memset(k, 0, sizeof(*k));
	bool root = geteuid() == 0;
	bool bpfcap = has_cap(39 /* CAP_BPF */) && has_cap(38 /* CAP_PERFMON */);
	set(&k->c[CAP_PRIV], "privileges", root || bpfcap, "%s",
	    root ? "running as root" : bpfcap ? "CAP_BPF and CAP_PERFMON" : "not root and no CAP_BPF+CAP_PERFMON: run etrace with sudo");

	const struct btf *vmlinux = kernelfit_vmlinux();
	set(&k->c[CAP_BTF], "kernel BTF", vmlinux != NULL, "%s",
	    vmlinux ? "/sys/kernel/btf/vmlinux" : "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y is needed)");

	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	set(&k->c[CAP_RINGBUF], "BPF ring buffer", r == 1, "%s", r == 1 ? "yes" : "no (Linux 5.8 or later is needed)");
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL);
	set(&k->c[CAP_TASK_STORAGE], "task local storage", r == 1, "%s",
	    r == 1 ? "yes" : "no (Linux 5.11 or later is needed)");

	if (vmlinux) {
		r = load_tracing(vmlinux, "btf_trace_sys_enter", BTF_KIND_TYPEDEF, BPF_TRACE_RAW_TP);
		set(&k->c[CAP_TP_BTF], "tp_btf tracepoints", r == 0, "%s",
		    r == 0 ? "yes" : strerror(-r));
		r = load_tracing(vmlinux, "do_nanosleep", BTF_KIND_FUNC, BPF_TRACE_FENTRY);
		set(&k->c[CAP_FENTRY], "fentry/fexit", r == 0, "%s",
		    r == 0 ? "yes" : r == -EPERM ? "load refused: Operation not permitted (lockdown or LSM policy)" : strerror(-r));
	} else {
		set(&k->c[CAP_TP_BTF], "tp_btf tracepoints", false, "needs kernel BTF");
		set(&k->c[CAP_FENTRY], "fentry/fexit", false, "needs kernel BTF");
	}
	r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL);
	set(&k->c[CAP_TRACEPOINT], "tracepoints", r == 1, "%s", r == 1 ? "yes" : "no");

	bool kp = pmu_exists("kprobe");
	set(&k->c[CAP_KPROBE], "kprobes", kp, "%s",
	    kp ? "yes" : "no kprobe PMU in /sys/bus/event_source/devices (CONFIG_KPROBES is off)");
	if (kp) {
		r = try_kprobe_multi();
		set(&k->c[CAP_KPROBE_MULTI], "kprobe_multi", r == 0, "%s", r == 0 ? "yes" : strerror(-r));
	} else {
		set(&k->c[CAP_KPROBE_MULTI], "kprobe_multi", false, "needs kprobes");
	}
	bool up = pmu_exists("uprobe");
	set(&k->c[CAP_UPROBE], "uprobes", up, "%s",
	    up ? "yes" : "no uprobe PMU (CONFIG_UPROBE_EVENTS is off)");

	char mnt[256], err[256];
	if (cgroup2_find_mount(mnt, sizeof(mnt), err, sizeof(err)) == 0)
		set(&k->c[CAP_CGROUP2], "cgroup v2", true, "mounted at %s", mnt);
	else
		set(&k->c[CAP_CGROUP2], "cgroup v2", false, "%s", err);
}

void caps_detect_net(struct caps *k)
{
	memset(k, 0, sizeof(*k));
	bool kp = pmu_exists("kprobe");
	k->c[CAP_KPROBE].ok = kp;
	if (kp && try_kprobe_multi() == 0) {
		k->c[CAP_KPROBE_MULTI].ok = true;
		return;
	}
	const struct btf *vmlinux = kernelfit_vmlinux();
	k->c[CAP_FENTRY].ok = vmlinux && load_tracing(vmlinux, "do_nanosleep", BTF_KIND_FUNC, BPF_TRACE_FENTRY) == 0;
}

const struct capability *caps_first_missing_required(const struct caps *k)
{
	static const int required[] = { CAP_PRIV, CAP_BTF, CAP_RINGBUF, CAP_TASK_STORAGE, CAP_TP_BTF, CAP_CGROUP2 };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!k->c[required[i]].ok)
			return &k->c[required[i]];
	return NULL;
}

const char *caps_net_backend(const struct caps *k, const char **why)
{
	if (k->c[CAP_KPROBE_MULTI].ok) {
		*why = "kprobe_multi attaches to many kernel functions at once";
		return "kprobe-multi";
	}
	if (k->c[CAP_FENTRY].ok) {
		*why = "no kprobe_multi; fentry is available";
		return "fentry";
	}
	if (k->c[CAP_KPROBE].ok) {
		*why = "no kprobe_multi or fentry; single kprobes are available";
		return "kprobe";
	}
	*why = "no kprobes and no fentry on this kernel: --skb follows packets through the tracepoints "
	       "(net, skb, tcp), not through every kernel function";
	return "tracepoint";
}

/* --net-backend=want, or auto (NULL): the best this kernel allows. */
const char *caps_pick_net_backend(const struct caps *k, const char *want, const char **why, char *err,
				  size_t errlen)
{
	static char reason[256];
	if (!want || strcmp(want, "auto") == 0) {
		const char *w;
		const char *best = caps_net_backend(k, &w);
		snprintf(reason, sizeof(reason), "auto: %s", w);
		*why = reason;
		return best;
	}
	if (strcmp(want, "tracepoint") == 0) {
		if (!k->c[CAP_TP_BTF].ok) {
			snprintf(err, errlen, "--net-backend=tracepoint: this kernel refuses tp_btf programs (%s)",
				 k->c[CAP_TP_BTF].detail);
			return NULL;
		}
		*why = "asked for with --net-backend=tracepoint";
		return "tracepoint";
	}
	const struct capability *c = NULL;
	const char *lacks = NULL;
	if (strcmp(want, "kprobe-multi") == 0) {
		c = &k->c[CAP_KPROBE_MULTI];
		lacks = "this kernel has no kprobe_multi links";
	} else if (strcmp(want, "fentry") == 0) {
		c = &k->c[CAP_FENTRY];
		lacks = "this kernel refuses fentry programs";
	} else if (strcmp(want, "kprobe") == 0) {
		c = &k->c[CAP_KPROBE];
		lacks = "this kernel has no kprobes";
	} else {
		snprintf(err, errlen, "--net-backend=%s: unknown backend; use auto, tracepoint, kprobe-multi, fentry or kprobe",
			 want);
		return NULL;
	}
	if (!c->ok) {
		const char *w;
		snprintf(err, errlen, "--net-backend=%s: %s (%s); available here: %s", want, lacks, c->detail,
			 caps_net_backend(k, &w));
		return NULL;
	}
	snprintf(reason, sizeof(reason), "asked for with --net-backend=%s", want);
	*why = reason;
	return want;
}

/* One trial of `etrace run -- /bin/true` with etrace's defaults (and
 * --skb, its functions limited to one so that a slow attach does not make
 * doctor slow): the load path a real run takes, so doctor cannot say yes
 * where a run would fail. etrace's messages go to msg, not the terminal. */
static int trial(bool skb, bool funcs, struct run_probe *probe, char *msg, size_t msglen)
{
	static char *const argv[] = { "/bin/true", NULL };
	struct run_opts o;
	run_opts_init(&o);
	o.argv = (char **)argv;
	o.when = REPORT_NEVER;
	o.probe = probe;
	if (skb) {
		o.skb = true;
		o.skb_funcs = funcs ? "tcp_v4_rcv" : NULL;
	}
	memset(probe, 0, sizeof(*probe));
	msg[0] = '\0';
	fflush(stderr);
	FILE *tmp = tmpfile();
	int saved = tmp ? dup(2) : -1;
	if (saved >= 0)
		dup2(fileno(tmp), 2);
	int rc = run_main(&o);
	if (saved >= 0) {
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		rewind(tmp);
		size_t n = fread(msg, 1, msglen - 1, tmp);
		msg[n] = '\0';
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
	}
	if (tmp)
		fclose(tmp);
	return rc;
}

int doctor_main(void)
{
	struct caps k;
	caps_detect(&k);
	printf("etrace %s doctor: what this kernel offers\n\n", ETRACE_VERSION);
	for (int i = 0; i < CAP_MAX; i++)
		printf("  %-20s %-4s %s\n", k.c[i].name, k.c[i].ok ? "ok" : "no", k.c[i].detail);

	printf("\nbackends\n");
	const struct capability *miss = caps_first_missing_required(&k);
	if (miss)
		printf("  %-20s unavailable: needs %s (%s)\n", "syscalls", miss->name, miss->detail);
	else
		printf("  %-20s tp_btf raw syscall tracepoints, scoped by task storage; cgroup v2 leaf per run\n",
		       "syscalls");
	printf("  %-20s %s\n", "processes",
	       k.c[CAP_TP_BTF].ok ? "tp_btf sched_process_fork/exec/exit" : "unavailable: needs tp_btf");
	const char *why;
	const char *net = caps_net_backend(&k, &why);
	printf("  %-20s %s (%s)\n", "packets (--skb)", net, why);
	printf("  %-20s %s\n", "user functions",
	       k.c[CAP_UPROBE].ok ? "uprobes (uprobe_multi links on Linux 6.6+)" : "unavailable: needs uprobes");
	printf("  %-20s %s\n", "heap",
	       k.c[CAP_UPROBE].ok ? "uprobes on the allocator API, one uprobe_multi link set per process "
				    "(pid filter), placed on instructions the kernel emulates"
				  : "unavailable: needs uprobes");

	/* what counts: a real run, loaded the way etrace run loads */
	struct run_probe run, skb;
	char msg[1024], skbmsg[1024];
	int rc = miss ? ETRACE_EXIT_FAILURE : trial(false, false, &run, msg, sizeof(msg));
	bool ok = !miss && rc == 0 && run.loaded;
	printf("\ntrial runs (the load path of etrace run)\n");
	if (miss)
		printf("  %-20s not tried: this kernel lacks %s\n", "etrace run", miss->name);
	else
		printf("  %-20s %s%s%s\n", "etrace run", ok ? "ok" : "failed",
		       ok ? "" : ": ", ok ? "" : msg[0] ? msg : "no message");
	if (ok) {
		int src = trial(true, strcmp(net, "tracepoint") != 0, &skb, skbmsg, sizeof(skbmsg));
		if (src == 0 && skb.loaded)
			printf("  %-20s ok, packets followed by %s (%s)\n", "etrace run --skb", skb.net_backend,
			       skb.net_why);
		else
			printf("  %-20s failed: %s\n", "etrace run --skb", skbmsg[0] ? skbmsg : "no message");
		if (run.ngaps) {
			printf("\nwhat this kernel lacks, and what that costs\n");
			for (size_t i = 0; i < run.ngaps; i++)
				printf("  no %s: %s\n", run.gaps[i].what, run.gaps[i].cost);
		}
	}
	printf("\n%s\n", ok ? (run.ngaps ? "etrace run can trace on this kernel, without what is listed above."
					  : "etrace run can trace on this kernel.")
			     : "etrace run cannot work here: see above.");
	return ok ? 0 : ETRACE_EXIT_FAILURE;
}
