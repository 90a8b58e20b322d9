/* --trace-func's programs (bpf/funcs.bpf.c) and their probes: loaded after
 * the core, attached to the program's file, detached at the end. */
#include "runner/tracer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "funcs.skel.h"
#include "runner/concern.h"
#include "runner/uprobe_multi.h"
#include "reports/core/error.h"

/* A uprobe at each function's entry and a uretprobe at its return, except
 * the ELF entry point, which is jumped to with argc where a return address
 * would be. The cookie is the function's index in m->funcs. */
static int attach_funcs(struct tracer *t, const char *path, char *err, size_t errlen)
{
	const struct et_model *m = t->m;
	double t0 = tr_now_ms();
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
			t->func_multi ? "uprobe_multi" : "perf links", tr_now_ms() - t0);
out:
	free(offs);
	return rc;
}

void tr_funcs_detach(struct tracer *t)
{
	double t0 = tr_now_ms();
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
		et_warning("%zu function probe links detached in %.1f ms", n, tr_now_ms() - t0);
}

int tr_funcs_open(struct tracer *t, const char *path, char *err, size_t errlen)
{
	t->funcs = funcs_bpf__open();
	if (!t->funcs) {
		snprintf(err, errlen, "cannot open the function probes' BPF object: %s", strerror(errno));
		return -1;
	}
	t->funcs->rodata->shared_cfg = t->shared;
	if (t->func_multi) {
		bpf_program__set_expected_attach_type(t->funcs->progs.et_func_entry, ET_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(t->funcs->progs.et_func_return, ET_BPF_TRACE_UPROBE_MULTI);
	}
	if (concern_load(t->funcs->obj, &t->skel->obj, 1, "funcs", err, errlen) < 0)
		return -1;
	return attach_funcs(t, path, err, errlen);
}
