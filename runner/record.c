#include "record.h"
#include "reports/net/netstate.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "funcs.h"
#include "invoker.h"
#include "run.h"
#include "reports/crash/crash.h"
#include "reports/core/hostfacts.h"
#include "reports/heap/heap.h"
#include "reports/render/render.h"
#include "../reports/render/html.h"
#include "../symbolize/ksyms.h"
#include "reports/core/error.h"

struct recorder {
	FILE *f;
	char *path;
	int failed;   /* a write failed: said once, at the end */
	int saved_errno;
};

static void put_frame(struct recorder *r, uint32_t kind, const void *a, size_t alen, const void *b, size_t blen)
{
	struct rec_frame fr = { kind, (uint32_t)(alen + blen) };
	if (r->failed)
		return;
	if (alen + blen > REC_MAX_FRAME) {
		/* the reader would refuse it: say so now, not at replay */
		r->failed = 1;
		r->saved_errno = EFBIG;
		return;
	}
	if (fwrite(&fr, sizeof(fr), 1, r->f) != 1 || (alen && fwrite(a, alen, 1, r->f) != 1) ||
	    (blen && fwrite(b, blen, 1, r->f) != 1)) {
		r->failed = 1;
		r->saved_errno = errno;
	}
}

struct recorder *recorder_open(const char *path, const struct et_model *m, char *const argv[], char *err,
			       size_t errlen)
{
	struct recorder *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->f = invoker_fopen(path, "we");
	if (!r->f) {
		snprintf(err, errlen, "cannot write the recording %s: %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	r->path = strdup(path);
	struct strbuf sb = STRBUF_INIT;
	uint32_t argc = 0;
	for (; argv[argc]; argc++)
		sb_putn(&sb, argv[argc], strlen(argv[argc]) + 1);
	if (sb.len + sizeof(struct rec_run) + 3 * 4096 > REC_MAX_FRAME || argc > REC_MAX_ARGC) {
		snprintf(err, errlen, "cannot record %s: the command line (%u arguments, %zu bytes) is more than a recording holds (%u arguments, %u MiB)",
			 path, argc, sb.len, REC_MAX_ARGC, REC_MAX_FRAME >> 20);
		sb_free(&sb);
		fclose(r->f);
		free(r->path);
		free(r);
		return NULL;
	}
	/* what fds 0-2 were: the replayed fd table starts from them */
	const struct et_process *root = NULL;
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->pid == m->root_pid)
			root = m->procs[i];
	for (int fd = 0; fd <= 2; fd++) {
		struct fd_desc *d = root && root->fds ? fdt_get(root->fds, fd) : NULL;
		const char *text = d ? d->text : "";
		sb_putn(&sb, text, strlen(text) + 1);
	}
	/* relative paths the program maps are resolved against it at replay */
	sb_putn(&sb, m->start_cwd ? m->start_cwd : "", strlen(m->start_cwd ? m->start_cwd : "") + 1);
	/* memset: the 4 bytes of tail padding are written to the file too */
	struct rec_run run;
	memset(&run, 0, sizeof(run));
	run.start_ts = m->start_ts;
	run.start_wall = m->start_wall;
	run.root_pid = m->root_pid;
	run.root_ppid = root ? root->ppid : 0;
	run.argc = argc;
	run.last_n = (uint32_t)m->last_n;
	run.str_max = (uint32_t)m->str_max;
	struct rec_file head = { .version = REC_VERSION };
	if (fwrite(REC_MAGIC, 8, 1, r->f) != 1 || fwrite(&head, sizeof(head), 1, r->f) != 1) {
		r->failed = 1;
		r->saved_errno = errno;
	}
	put_frame(r, REC_RUN, &run, sizeof(run), sb.buf, sb.len);
	sb_free(&sb);
	return r;
}

void recorder_funcs(struct recorder *r, const char *path, const char *shown, const char *const *patterns,
		    size_t n, bool force)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t head[2] = { force, (uint32_t)n };
	sb_putn(&sb, (const char *)head, sizeof(head));
	sb_putn(&sb, path, strlen(path) + 1);
	sb_putn(&sb, shown, strlen(shown) + 1);
	for (size_t i = 0; i < n; i++)
		sb_putn(&sb, patterns[i], strlen(patterns[i]) + 1);
	put_frame(r, REC_FUNCS, sb.buf, sb.len, NULL, 0);
	sb_free(&sb);
}

void recorder_fact(void *ctx, int kind, int pid, const char *key, const void *value, size_t len)
{
	struct recorder *r = ctx;
	struct fact_head h = { .kind = (uint32_t)kind, .pid = pid, .keylen = (uint32_t)strlen(key), .vallen = (uint32_t)len };
	struct strbuf sb = STRBUF_INIT;
	sb_putn(&sb, (const char *)&h, sizeof(h));
	sb_putn(&sb, key, h.keylen);
	put_frame(r, REC_FACT, sb.buf, sb.len, value, len);
	sb_free(&sb);
}

void recorder_event(void *ctx, const void *data, size_t size)
{
	struct recorder *r = ctx;
	const struct ev_header *h = data;
	/* a record's own size: a crash record is reserved whole */
	size_t len = size >= sizeof(*h) && h->size <= size ? h->size : size;
	put_frame(r, REC_EVENT, data, len, NULL, 0);
}

int recorder_close(struct recorder *r, const struct et_model *m, int wait_status, int exit_code)
{
	if (!r)
		return 0;
	struct rec_end end = { .end_ts = m->end_ts, .wait_status = wait_status, .exit_code = exit_code,
			       .capture_faults = m->capture_faults, .ntotals = (uint32_t)m->ntotals };
	/* the losses by record type, only the types that lost something */
	struct strbuf tail = STRBUF_INIT;
	for (uint32_t type = 0; type < ET_EV_TYPE_MAX; type++) {
		if (!m->lost[type])
			continue;
		struct rec_lost l = { .type = type, .count = m->lost[type] };
		sb_putn(&tail, (const char *)&l, sizeof(l));
		end.nlost++;
	}
	sb_putn(&tail, (const char *)m->totals, m->ntotals * sizeof(*m->totals));
	if (m->net->skbs.enabled) {
		/* the kernel's packet counters and how packets were followed */
		struct strbuf sb = STRBUF_INIT;
		uint64_t head[3] = { m->net->skbs.followed, m->net->skbs.filtered, m->net->skbs.nfuncs };
		sb_putn(&sb, (const char *)head, sizeof(head));
		const char *b = m->net->skbs.backend ? m->net->skbs.backend : "", *f = m->net->skbs.filter ? m->net->skbs.filter : "";
		sb_putn(&sb, b, strlen(b) + 1);
		sb_putn(&sb, f, strlen(f) + 1);
		put_frame(r, REC_SKB, sb.buf, sb.len, NULL, 0);
		sb_free(&sb);
	}
	if (m->kernel_release[0] || m->nkernel_gaps) {
		/* the kernel it ran on, what it lacked and what that cost this run */
		struct strbuf sb = STRBUF_INIT;
		sb_putn(&sb, m->kernel_release, strlen(m->kernel_release) + 1);
		for (size_t i = 0; i < m->nkernel_gaps; i++) {
			sb_putn(&sb, m->kernel_gaps[i].what, strlen(m->kernel_gaps[i].what) + 1);
			sb_putn(&sb, m->kernel_gaps[i].cost, strlen(m->kernel_gaps[i].cost) + 1);
		}
		put_frame(r, REC_KERNEL, sb.buf, sb.len, NULL, 0);
		sb_free(&sb);
	}
	const struct heap_preload_info *pi = heap_get_preload(m);
	if (pi) {
		/* how the heap was recorded and checked: the preload: and checks: lines */
		struct rec_heap h = { pi->rings, pi->records, pi->lost, pi->invalid, pi->full_waits, pi->full_wait_ns,
				      pi->stacks_full, pi->unrecorded, pi->rejected, pi->quarantine, pi->check_mode,
				      pi->guard_rate, pi->quarantine_one_in, 0 };
		struct strbuf sb = STRBUF_INIT;
		const char *v = pi->ld_preload ? pi->ld_preload : "";
		sb_putn(&sb, pi->library, strlen(pi->library) + 1);
		sb_putn(&sb, v, strlen(v) + 1);
		put_frame(r, REC_HEAP, &h, sizeof(h), sb.buf, sb.len);
		sb_free(&sb);
	}
	/* which backend recorded each process's heap, and why */
	struct strbuf bk = STRBUF_INIT;
	for (size_t i = 0; i < m->nprocs; i++) {
		const char *backend, *why;
		if (!heap_backend_of(m->procs[i], &backend, &why))
			continue;
		struct rec_backend e = { m->procs[i]->start_ts, m->procs[i]->pid, 0 };
		sb_putn(&bk, (const char *)&e, sizeof(e));
		sb_putn(&bk, backend, strlen(backend) + 1);
		sb_putn(&bk, why, strlen(why) + 1);
	}
	if (bk.len && bk.len <= REC_MAX_FRAME)
		put_frame(r, REC_HEAP_BACKENDS, bk.buf, bk.len, NULL, 0);
	sb_free(&bk);
	put_frame(r, REC_END, &end, sizeof(end), tail.buf, tail.len);
	sb_free(&tail);
	int rc = 0;
	if (fclose(r->f) != 0 && !r->failed) {
		r->failed = 1;
		r->saved_errno = errno;
	}
	if (r->failed) {
		et_error("the recording %s is incomplete: %s", r->path, strerror(r->saved_errno));
		rc = -1;
	}
	free(r->path);
	free(r);
	return rc;
}
