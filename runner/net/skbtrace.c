/*
 * --skb set-up: the backend, the filter, and for the function backends
 * (kprobe-multi, fentry, kprobe) the kernel functions taking an skb, found
 * in the kernel's BTF, and their links.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "skbtrace.h"
#include "runner/doctor.h"
#include "runner/kernelfit.h"
#include "runner/run.h"
#include "skb.skel.h"
#include "reports/net/pcapfilter.h"
#include "reports/core/xalloc.h"
#include "symbolize/ksyms.h"
#include "reports/core/error.h"
#include "reports/core/strbuf.h"

/* ftrace's list of the functions it can attach to (kprobe_multi and fentry
 * need ftrace; a plain kprobe does not, but the list keeps it off the
 * functions that are not meant to be probed) */
static const char *const filter_funcs[] = {
	"/sys/kernel/tracing/available_filter_functions",
	"/sys/kernel/debug/tracing/available_filter_functions",
};
static const char kprobe_blacklist[] = "/sys/kernel/debug/kprobes/blacklist";

static bool function_backend(const char *b)
{
	return strcmp(b, "tracepoint") != 0;
}

int skb_plan_make(const struct run_opts *o, struct skb_plan *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->backend = "tracepoint";
	bool explicit = o->net_backend && strcmp(o->net_backend, "auto") != 0;
	/* a function backend asked for by name means --skb */
	p->on = o->skb || (explicit && strcmp(o->net_backend, "tracepoint") != 0);
	p->stack = o->skb_stack;
	if (!p->on && !explicit)
		return 0;
	struct caps k;
	caps_detect(&k);
	const char *why = NULL;
	const char *b = caps_pick_net_backend(&k, explicit ? o->net_backend : NULL, &why, err, errlen);
	if (!b)
		return -1;
	p->backend = b;
	p->auto_picked = !explicit;
	snprintf(p->why_buf, sizeof(p->why_buf), "%s", why ? why : "");
	p->why = p->why_buf;
	if (!p->on)
		return 0;
	if (o->skb_filter && pcapfilter_compile(o->skb_filter, p->prog, ET_CBPF_MAX, &p->nprog, err, errlen) < 0)
		return -1;
	if (o->skb_funcs && !function_backend(p->backend)) {
		snprintf(err, errlen, "--skb-funcs: the %s backend follows packets through tracepoints, not functions (%s)",
			 p->backend, p->why);
		return -1;
	}
	char kerr[256];
	p->ksyms = ksyms_load("/proc/kallsyms", kerr, sizeof(kerr));
	if (!function_backend(p->backend))
		goto done;

	const struct btf *vmlinux = kernelfit_vmlinux();
	if (!vmlinux) {
		snprintf(err, errlen, "--net-backend=%s: cannot read the kernel's BTF: %s", p->backend, strerror(errno));
		return -1;
	}
	/* opened, not access()ed: a lockdown can refuse the open of a file
	 * that looks readable. Without the list, a function the kernel will
	 * not probe is found at attach time (and skipped). */
	const char *allow = NULL;
	for (size_t i = 0; i < sizeof(filter_funcs) / sizeof(filter_funcs[0]) && !allow; i++) {
		FILE *f = fopen(filter_funcs[i], "r");
		if (f) {
			allow = filter_funcs[i];
			fclose(f);
		}
	}
	FILE *bl = fopen(kprobe_blacklist, "r");
	if (bl)
		fclose(bl);
	int rc = skb_funcs_scan(vmlinux, allow, bl ? kprobe_blacklist : NULL, o->skb_funcs, &p->funcs, err, errlen);
	if (rc < 0)
		return -1;
	/* a function with no symbol of its name exists only as compiler clones
	 * (foo.constprop.0): nothing to attach to by name */
	if (p->ksyms) {
		size_t k = 0;
		for (size_t i = 0; i < p->funcs.n; i++) {
			if (ksyms_addr(p->ksyms, p->funcs.v[i].name))
				p->funcs.v[k++] = p->funcs.v[i];
			else
				free(p->funcs.v[i].name);
		}
		p->funcs.n = k;
	}
	if (!p->funcs.n) {
		snprintf(err, errlen, "--skb-funcs=%s: no kernel function taking an skb matches",
			 o->skb_funcs ? o->skb_funcs : "*");
		return -1;
	}
done:
	/* said once the plan holds (an error above is the only line) */
	if (!p->ksyms)
		et_warning("--skb: %s: kernel addresses are shown as numbers", kerr);
	return 0;
}

/* The per-function programs, by argument position (1..5). */
static struct bpf_program *func_prog(struct skb_bpf *s, const char *backend, int arg)
{
	struct bpf_program *kmulti[] = { s->progs.et_skb_kmulti1, s->progs.et_skb_kmulti2, s->progs.et_skb_kmulti3,
					 s->progs.et_skb_kmulti4, s->progs.et_skb_kmulti5 };
	struct bpf_program *kprobe[] = { s->progs.et_skb_kprobe1, s->progs.et_skb_kprobe2, s->progs.et_skb_kprobe3,
					 s->progs.et_skb_kprobe4, s->progs.et_skb_kprobe5 };
	struct bpf_program *fentry[] = { s->progs.et_skb_fentry1, s->progs.et_skb_fentry2, s->progs.et_skb_fentry3,
					 s->progs.et_skb_fentry4, s->progs.et_skb_fentry5 };
	if (arg < 1 || arg > SKB_FUNCS_MAX_ARG)
		return NULL;
	if (strcmp(backend, "kprobe-multi") == 0)
		return kmulti[arg - 1];
	if (strcmp(backend, "kprobe") == 0)
		return kprobe[arg - 1];
	if (strcmp(backend, "fentry") == 0)
		return fentry[arg - 1];
	return NULL;
}

static const struct skb_func *first_at(const struct skb_plan *p, int arg)
{
	for (size_t i = 0; i < p->funcs.n; i++)
		if (p->funcs.v[i].arg == arg)
			return &p->funcs.v[i];
	return NULL;
}

void skb_plan_configure(struct skb_plan *p, struct skb_bpf *skel)
{
	/* the object (bpf/skb.bpf.c) is opened for --skb only: its
	 * tracepoint programs go with every backend (they name the drops and
	 * the frees, which end a packet's journey, the route lookups and the
	 * softirq depth); of the per-function programs, the backend's kind */
	const char *backends[] = { "kprobe-multi", "kprobe", "fentry" };
	for (size_t b = 0; b < 3; b++)
		for (int arg = 1; arg <= SKB_FUNCS_MAX_ARG; arg++) {
			struct bpf_program *prog = func_prog(skel, backends[b], arg);
			bpf_program__set_autoattach(prog, false);
			bool load = p->on && strcmp(p->backend, backends[b]) == 0 && first_at(p, arg);
			bpf_program__set_autoload(prog, load);
			/* fentry: loaded against the first function; the others
			 * get copies of its final instructions (skb_plan_attach) */
			if (load && b == 2)
				bpf_program__set_attach_target(prog, 0, first_at(p, arg)->name);
		}
	skel->rodata->skb_trace = p->on;
	skel->rodata->skb_stack = p->on && p->stack;
	skel->rodata->skb_nprog = p->nprog;
	for (unsigned i = 0; i < p->nprog; i++)
		memcpy((void *)&skel->rodata->skb_prog[i], &p->prog[i], sizeof(p->prog[i]));
}

/* n functions from name on were refused with errno e */
static void refused(struct skb_plan *p, const char *name, int e, size_t n)
{
	p->attach_failed += n;
	size_t max = sizeof(p->refusals) / sizeof(p->refusals[0]);
	for (size_t i = 0; i < max; i++) {
		if (p->refusals[i].n && p->refusals[i].err != e)
			continue;
		if (!p->refusals[i].n) {
			p->refusals[i].err = e;
			p->refusals[i].example = name;
		}
		p->refusals[i].n += n;
		return;
	}
}

static void add_link(struct skb_plan *p, struct bpf_link *l)
{
	if (p->nlinks == p->cap_links) {
		p->cap_links = p->cap_links ? p->cap_links * 2 : 16;
		p->links = xrealloc(p->links, p->cap_links * sizeof(*p->links));
	}
	p->links[p->nlinks++] = l;
}

static void add_fd(struct skb_plan *p, int fd)
{
	if (p->nfds == p->cap_fds) {
		p->cap_fds = p->cap_fds ? p->cap_fds * 2 : 16;
		p->fds = xrealloc(p->fds, p->cap_fds * sizeof(*p->fds));
	}
	p->fds[p->nfds++] = fd;
}

/* kprobe_multi: one link for many functions; a function the kernel refuses
 * fails the whole link, so a refused batch is split until the culprits are
 * alone (and skipped). */
static void attach_multi(struct skb_plan *p, struct bpf_program *prog, const char **syms, size_t n)
{
	LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms, .cnt = n);
	struct bpf_link *l = bpf_program__attach_kprobe_multi_opts(prog, NULL, &opts);
	if (l) {
		add_link(p, l);
		p->attached += n;
		return;
	}
	/* a refusal of the whole kernel (EPERM, EMFILE, ENOMEM) is not split */
	int e = errno;
	if (n == 1 || (e != ESRCH && e != ENOENT && e != EINVAL && e != EBUSY)) {
		refused(p, syms[0], e, n);
		return;
	}
	attach_multi(p, prog, syms, n / 2);
	attach_multi(p, prog, syms + n / 2, n - n / 2);
}

/* fentry: one program per function, each a copy of the loaded one's final
 * instructions, loaded for that function's BTF id. */
static int attach_fentry_copy(struct skb_plan *p, struct bpf_program *prog, const struct btf *vmlinux,
			      const char *name)
{
	int id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC);
	if (id <= 0) {
		errno = ENOENT;
		return -1;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY, .attach_btf_id = id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "et_skb_fentry", "GPL", bpf_program__insns(prog),
			       bpf_program__insn_cnt(prog), &opts);
	if (fd < 0)
		return -1;
	int lfd = bpf_raw_tracepoint_open(NULL, fd);
	if (lfd < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	add_fd(p, fd);
	add_fd(p, lfd);
	return 0;
}

int skb_plan_attach(struct skb_plan *p, struct skb_bpf *skel, char *err, size_t errlen)
{
	if (!p->on || !function_backend(p->backend))
		return 0;
	/* a kprobe per function, or a program and a link (fentry): thousands
	 * of descriptors, past the usual soft limit of 1024 */
	struct rlimit rl;
	if (strcmp(p->backend, "kprobe-multi") != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	const char **syms = calloc(p->funcs.n ? p->funcs.n : 1, sizeof(*syms));
	if (!syms) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const struct btf *vmlinux = NULL;
	if (strcmp(p->backend, "fentry") == 0) {
		vmlinux = kernelfit_vmlinux();
		if (!vmlinux) {
			snprintf(err, errlen, "--net-backend=fentry: cannot read the kernel's BTF: %s", strerror(errno));
			free(syms);
			return -1;
		}
	}
	for (int arg = 1; arg <= SKB_FUNCS_MAX_ARG; arg++) {
		struct bpf_program *prog = func_prog(skel, p->backend, arg);
		size_t n = 0;
		for (size_t i = 0; i < p->funcs.n; i++)
			if (p->funcs.v[i].arg == arg)
				syms[n++] = p->funcs.v[i].name;
		if (!n)
			continue;
		if (strcmp(p->backend, "kprobe-multi") == 0) {
			attach_multi(p, prog, syms, n);
		} else if (strcmp(p->backend, "kprobe") == 0) {
			for (size_t i = 0; i < n; i++) {
				struct bpf_link *l = bpf_program__attach_kprobe(prog, false, syms[i]);
				if (l) {
					add_link(p, l);
					p->attached++;
				} else if (errno == EMFILE || errno == ENFILE) {
					refused(p, syms[i], errno, n - i);
					break;
				} else {
					refused(p, syms[i], errno, 1);
				}
			}
		} else {
			/* the loaded program is the first function's */
			struct bpf_link *l = bpf_program__attach_trace(prog);
			if (l) {
				add_link(p, l);
				p->attached++;
			} else {
				refused(p, syms[0], errno, 1);
			}
			for (size_t i = 1; i < n; i++) {
				if (attach_fentry_copy(p, prog, vmlinux, syms[i]) == 0)
					p->attached++;
				else
					refused(p, syms[i], errno, 1);
			}
		}
	}
	free(syms);
	if (!p->attached) {
		if (p->auto_picked) {
			/* the tracepoint programs are loaded and attached: go on with them */
			et_warning("--skb: none of the %zu kernel functions taking an skb could be probed by %s; "
					"following packets through tracepoints", p->funcs.n, p->backend);
			snprintf(p->why_buf, sizeof(p->why_buf), "auto: %s was refused at attach; tracepoints used",
				 p->backend);
			p->backend = "tracepoint";
			return 0;
		}
		snprintf(err, errlen, "--net-backend=%s: none of the %zu kernel functions taking an skb could be probed",
			 p->backend, p->funcs.n);
		return -1;
	}
	if (getenv("ETRACE_DEBUG") || p->attach_failed) {
		/* by errno: what the kernel said, and one function it said it of */
		struct strbuf why = STRBUF_INIT;
		for (size_t i = 0; i < sizeof(p->refusals) / sizeof(p->refusals[0]) && p->refusals[i].n; i++)
			sb_printf(&why, "%s %zu %s (%s...)", i ? "," : ":", p->refusals[i].n,
				  strerrorname_np(p->refusals[i].err) ? strerrorname_np(p->refusals[i].err) : "?",
				  p->refusals[i].example);
		et_warning("--skb: %zu kernel functions probed by %s, %zu refused%s", p->attached, p->backend,
			   p->attach_failed, why.buf ? why.buf : "");
		sb_free(&why);
	}
	return 0;
}

void skb_plan_detach(struct skb_plan *p)
{
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	p->links = NULL;
	p->nlinks = p->cap_links = 0;
	/* links before programs */
	for (size_t i = p->nfds; i-- > 0;)
		close(p->fds[i]);
	free(p->fds);
	p->fds = NULL;
	p->nfds = p->cap_fds = 0;
}

void skb_plan_free(struct skb_plan *p)
{
	skb_plan_detach(p);
	skb_funcs_free(&p->funcs);
	/* p->ksyms belongs to the model once the run started (run.c) */
}

void skb_plan_fall_back(struct skb_plan *p, const char *why)
{
	snprintf(p->why_buf, sizeof(p->why_buf), "auto: %s could not be loaded (%s); tracepoints used", p->backend, why);
	et_warning("--skb: the %s programs could not be loaded (%s); following packets through tracepoints",
		p->backend, why);
	p->backend = "tracepoint";
	p->why = p->why_buf;
	skb_funcs_free(&p->funcs);
}
