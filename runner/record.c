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


const char *record_kallsyms = "/proc/kallsyms";

static int bad_file(const char *path, const char *why)
{
	et_error("%s: %s", path, why);
	return ETRACE_EXIT_FAILURE;
}

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

/* Plans the recorded --trace-func functions again, so replayed entries and
 * returns have names and signatures. */
static int replay_funcs(struct et_model *m, const unsigned char *buf, uint32_t len, const char *file)
{
	uint32_t head[2];
	if (len < sizeof(head))
		return bad_file(file, "corrupt function frame");
	memcpy(head, buf, sizeof(head));
	const char *p = (const char *)buf + sizeof(head), *end = (const char *)buf + len;
	const char *strs[2 + 256];
	size_t n = 0;
	while (p < end && n < 2 + 256 && n < 2 + head[1]) {
		size_t l = strnlen(p, (size_t)(end - p));
		if (p + l >= end)
			break;
		strs[n++] = p;
		p += l + 1;
	}
	if (n < 3)
		return bad_file(file, "corrupt function frame");
	char err[512];
	if (funcs_plan(m, strs[0], strs[1], strs + 2, n - 2, head[0] != 0, err, sizeof(err)) < 0)
		et_warning("%s: traced functions shown by number: %s", file, err);
	return 0;
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

/* ---- reading ---------------------------------------------------------------- */

struct replay {
	struct et_model m;
	/* a record waits for the REC_FACT frames after it (what the model
	 * asked the machine when it took it live) before it is taken */
	unsigned char *pending;
	size_t pending_len, pending_cap;
	bool pending_scan;   /* pending is a FACT_HEAP_SCAN frame, not a record */
	bool bad_scan;       /* a FACT_HEAP_SCAN frame was malformed */
	char *skb_backend, *skb_filter;  /* REC_SKB: the model points at them */
	char *kernel_strs;               /* REC_KERNEL's bytes: the model's kernel gaps point into them */
	char **argv;
	int exit_code;
	int have_end;
};


/* Reads a recording into a model; keep_all keeps every syscall. Returns 0 or
 * an exit code after printing a one-line message. */
static int replay_read(FILE *f, const char *path, struct replay *rp, int keep_all);

static int replay_load(const char *path, struct replay *rp, int keep_all)
{
	memset(rp, 0, sizeof(*rp));
	model_init(&rp->m);
	FILE *f = fopen(path, "re");
	if (!f) {
		et_error("cannot read %s: %s", path, strerror(errno));
		return ETRACE_EXIT_FAILURE;
	}
	int rc = replay_read(f, path, rp, keep_all);
	fclose(f);
	return rc;
}

/* The end frame of either version: the run's end, the losses into m, and
 * where the totals are. -1 when it is corrupt. */
static int read_end(struct et_model *m, const unsigned char *buf, uint32_t len, uint32_t version,
		    struct rec_end *end, const unsigned char **totals)
{
	size_t off;
	if (version == 1) {
		struct rec_end_v1 v1;
		if (len < sizeof(v1))
			return -1;
		memcpy(&v1, buf, sizeof(v1));
		*end = (struct rec_end){ .end_ts = v1.end_ts, .wait_status = v1.wait_status, .exit_code = v1.exit_code,
					 .capture_faults = v1.capture_faults, .ntotals = v1.ntotals };
		for (uint32_t type = 0; type < REC_V1_TYPES; type++)
			m->lost[type < ET_EV_TYPE_MAX ? type : 0] += v1.lost[type];
		off = sizeof(v1);
	} else {
		if (len < sizeof(*end))
			return -1;
		memcpy(end, buf, sizeof(*end));
		if (end->nlost > (len - sizeof(*end)) / sizeof(struct rec_lost))
			return -1;
		off = sizeof(*end);
		for (uint32_t i = 0; i < end->nlost; i++, off += sizeof(struct rec_lost)) {
			struct rec_lost l;
			memcpy(&l, buf + off, sizeof(l));
			/* a type this etrace does not know: counted in the total */
			m->lost[l.type < ET_EV_TYPE_MAX ? l.type : 0] += l.count;
		}
	}
	if (end->ntotals > ET_MAX_SYSCALLS || len - off < end->ntotals * sizeof(struct et_syscall_total))
		return -1;
	*totals = buf + off;
	return 0;
}

/* Takes the record that waited for its facts, then forgets them. */
static void flush_pending(struct replay *rp)
{
	if (rp->pending_len && rp->pending_scan) {
		struct fact_head fh;
		memcpy(&fh, rp->pending, sizeof(fh));   /* its size was checked when it was held */
		if (heap_scan_replay(&rp->m, fh.pid, rp->pending + sizeof(fh) + fh.keylen, fh.vallen) < 0)
			rp->bad_scan = true;
	} else if (rp->pending_len) {
		model_ingest(&rp->m, rp->pending, rp->pending_len);
	}
	rp->pending_len = 0;
	rp->pending_scan = false;
	host_facts_clear(rp->m.host_facts);
}

static void hold_pending(struct replay *rp, const unsigned char *buf, size_t len, bool scan)
{
	flush_pending(rp);
	rp->pending_scan = scan;
	if (len > rp->pending_cap) {
		free(rp->pending);
		rp->pending = xmalloc(len);
		rp->pending_cap = len;
	}
	if (len)   /* an empty record: rp->pending may still be NULL */
		memcpy(rp->pending, buf, len);
	rp->pending_len = len;
}

/* The kernel's gaps the run had (REC_KERNEL): release, then what/cost
 * pairs, each NUL-terminated. */
static int replay_kernel(struct replay *rp, const unsigned char *buf, uint32_t len)
{
	if (!len || buf[len - 1] != 0)
		return -1;
	rp->kernel_strs = xmalloc(len);
	memcpy(rp->kernel_strs, buf, len);
	const char *p = rp->kernel_strs, *end = rp->kernel_strs + len;
	snprintf(rp->m.kernel_release, sizeof(rp->m.kernel_release), "%s", p);
	p += strlen(p) + 1;
	rp->m.nkernel_gaps = 0;
	while (p < end) {
		const char *what = p;
		p += strlen(p) + 1;
		if (p >= end)
			return -1;   /* a what without its cost */
		const char *cost = p;
		p += strlen(p) + 1;
		if (rp->m.nkernel_gaps < ET_KERNEL_GAPS_MAX) {
			rp->m.kernel_gaps[rp->m.nkernel_gaps].what = what;
			rp->m.kernel_gaps[rp->m.nkernel_gaps].cost = cost;
			rp->m.nkernel_gaps++;
		}
	}
	return 0;
}

/* The parser proper: a recording is untrusted input (tests/fuzz). */
static int replay_read(FILE *f, const char *path, struct replay *rp, int keep_all)
{
	char magic[8];
	int rc = 0;
	size_t cap = 1 << 16;
	unsigned char *buf = malloc(cap);
	if (!buf) {
		return bad_file(path, "out of memory");
	}
	uint32_t version = 0;
	bool have_magic = fread(magic, 8, 1, f) == 1;
	if (have_magic && memcmp(magic, REC_MAGIC_V1, 8) == 0) {
		version = 1;
	} else if (have_magic && memcmp(magic, REC_MAGIC, 8) == 0) {
		struct rec_file head;
		if (fread(&head, sizeof(head), 1, f) != 1) {
			rc = bad_file(path, "truncated or corrupt recording");
			goto out;
		}
		version = head.version;
		if (version > REC_VERSION) {
			char why[160];
			snprintf(why, sizeof(why), "recording format version %u is newer than this etrace reads (1 to %u): replay it with a newer etrace",
				 version, REC_VERSION);
			rc = bad_file(path, why);
			goto out;
		}
	}
	if (version < 1) {
		rc = bad_file(path, "not an etrace recording (made with etrace run --record=FILE)");
		goto out;
	}
	/* format 1 holds no facts: its replay reads the files (never /proc) */
	rp->m.host_mode = version == 1 ? HOST_FILES : HOST_RECORDED;
	rp->m.host_facts = host_facts_new();
	int have_run = 0;
	struct rec_frame fr;
	size_t got;
	while ((got = fread(&fr, 1, sizeof(fr), f)) == sizeof(fr)) {
		if (rp->bad_scan) {
			rc = bad_file(path, "corrupt recording (a bad leak scan frame)");
			goto out;
		}
		if (fr.len > REC_MAX_FRAME) {
			rc = bad_file(path, "corrupt recording: a frame larger than a recording holds (16 MiB)");
			goto out;
		}
		if (fr.len > cap) {
			unsigned char *nb = realloc(buf, fr.len);
			if (!nb) {
				rc = bad_file(path, "out of memory");
				goto out;
			}
			buf = nb;
			cap = fr.len;
		}
		if (fread(buf, 1, fr.len, f) != fr.len) {
			rc = bad_file(path, "truncated or corrupt recording");
			goto out;
		}
		struct fact_head fh = { 0 };
		if (fr.kind == REC_FACT && fr.len >= sizeof(fh))
			memcpy(&fh, buf, sizeof(fh));
		if (fr.kind == REC_FACT && have_run && version >= 3 && fh.kind == FACT_HEAP_SCAN) {
			/* a result: taken after the record before it, with the facts
			 * that follow it (what its grouping asked) */
			if (fh.keylen > fr.len - sizeof(fh) || fh.vallen != fr.len - sizeof(fh) - fh.keylen) {
				rc = bad_file(path, "corrupt recording (a bad fact frame)");
				goto out;
			}
			hold_pending(rp, buf, fr.len, true);
			continue;
		}
		if (fr.kind == REC_FACT && have_run && version >= 2) {
			if (host_facts_add(rp->m.host_facts, buf, fr.len) < 0) {
				rc = bad_file(path, "corrupt recording (a bad fact frame)");
				goto out;
			}
			continue;
		}
		flush_pending(rp);
		if (fr.kind == REC_RUN && fr.len >= sizeof(struct rec_run) && !have_run) {
			struct rec_run run;
			memcpy(&run, buf, sizeof(run));
			rp->m.start_ts = run.start_ts;
			rp->m.start_wall = run.start_wall;
			rp->m.root_pid = run.root_pid;
			rp->m.last_n = keep_all ? 0 : run.last_n;
			rp->m.str_max = run.str_max;
			rp->m.backend = "recording";
			const char *p = (const char *)buf + sizeof(run), *end = (const char *)buf + fr.len;
			if (run.argc > REC_MAX_ARGC) {
				rc = bad_file(path, "corrupt run header");
				goto out;
			}
			rp->argv = calloc(run.argc + 1, sizeof(char *));
			for (uint32_t i = 0; i < run.argc && p < end; i++) {
				size_t n = strnlen(p, (size_t)(end - p));
				rp->argv[i] = strndup(p, n);
				p += n + 1;
			}
			rp->m.command = rp->argv;
			struct et_process *root = model_add_process(&rp->m, run.root_pid, run.root_ppid, run.start_ts);
			root->fds = fdt_new();
			for (int fd = 0; fd <= 2 && p < end; fd++) {
				size_t n = strnlen(p, (size_t)(end - p));
				if (n) {
					char *text = strndup(p, n);
					struct fd_desc *d = fd_desc_new(text, 0);
					fdt_set(root->fds, fd, d);
					fd_desc_unref(d);
					free(text);
				}
				p += n + 1;
			}
			if (version >= 2) {
				/* the directory it started in, not the replay's */
				free(rp->m.start_cwd);
				rp->m.start_cwd = NULL;
				if (p < end) {
					size_t n = strnlen(p, (size_t)(end - p));
					if (n)
						rp->m.start_cwd = strndup(p, n);
				}
			}
			have_run = 1;
		} else if (fr.kind == REC_FUNCS && have_run) {
			rc = replay_funcs(&rp->m, buf, fr.len, path);
			if (rc)
				goto out;
		} else if (fr.kind == REC_SKB && have_run && fr.len > 3 * sizeof(uint64_t) && !rp->skb_backend) {
			uint64_t head[3];
			memcpy(head, buf, sizeof(head));
			const char *p = (const char *)buf + sizeof(head), *end = (const char *)buf + fr.len;
			size_t n = strnlen(p, (size_t)(end - p));
			rp->skb_backend = strndup(p, n);
			p += n + 1;
			if (p < end) {
				n = strnlen(p, (size_t)(end - p));
				if (n)
					rp->skb_filter = strndup(p, n);
			}
			rp->m.net->skbs.enabled = true;
			rp->m.net->skbs.followed = head[0];
			rp->m.net->skbs.filtered = head[1];
			rp->m.net->skbs.nfuncs = (size_t)head[2];
			rp->m.net->skbs.backend = rp->skb_backend;
			rp->m.net->skbs.filter = rp->skb_filter;
			/* kernel names from this machine's symbols (a replay of another boot shows wrong names) */
			char kerr[256];
			if (!rp->m.net->skbs.ksyms)
				rp->m.net->skbs.ksyms = ksyms_load(record_kallsyms, kerr, sizeof(kerr));
		} else if (fr.kind == REC_KERNEL && have_run && version >= 3 && !rp->kernel_strs) {
			if (replay_kernel(rp, buf, fr.len) < 0) {
				rc = bad_file(path, "corrupt recording (a bad kernel frame)");
				goto out;
			}
		} else if (fr.kind == REC_EVENT && have_run) {
			hold_pending(rp, buf, fr.len, false);
		} else if (fr.kind == REC_END && have_run && !rp->have_end) {
			struct rec_end end;
			const unsigned char *totals;
			if (read_end(&rp->m, buf, fr.len, version, &end, &totals) < 0) {
				rc = bad_file(path, "corrupt end frame");
				goto out;
			}
			rp->m.end_ts = end.end_ts;
			rp->m.capture_faults = end.capture_faults;
			rp->m.totals = calloc(end.ntotals ? end.ntotals : 1, sizeof(*rp->m.totals));
			memcpy(rp->m.totals, totals, end.ntotals * sizeof(*rp->m.totals));
			rp->m.ntotals = end.ntotals;
			rp->exit_code = end.exit_code;
			struct et_process *root = model_process(&rp->m, rp->m.root_pid);
			if (root && end.wait_status >= 0) {
				root->exited = true;
				root->wait_status = end.wait_status;
				if (!root->end_ts)
					root->end_ts = end.end_ts;
			}
			rp->have_end = 1;
		} else {
			rc = bad_file(path, "corrupt recording (unexpected frame)");
			goto out;
		}
	}
	/* a frame header cut short is as truncated as a frame's body cut short
	 * (the end at a frame boundary is a run whose etrace was killed) */
	if (got) {
		rc = bad_file(path, "truncated or corrupt recording");
		goto out;
	}
	flush_pending(rp);
	if (rp->bad_scan) {
		rc = bad_file(path, "corrupt recording (a bad leak scan frame)");
		goto out;
	}
	if (!have_run)
		rc = bad_file(path, "empty recording");
out:
	free(buf);
	return rc;
}

static void replay_free(struct replay *rp)
{
	host_facts_free(rp->m.host_facts);
	rp->m.host_facts = NULL;
	free(rp->pending);
	model_free(&rp->m);
	free(rp->skb_backend);
	free(rp->skb_filter);
	free(rp->kernel_strs);
	if (rp->argv) {
		for (char **a = rp->argv; *a; a++)
			free(*a);
		free(rp->argv);
	}
}

static void render_replay(struct replay *rp, FILE *out, int json)
{
	struct render_opts ro = { .exit_code = rp->exit_code,
				  .exit_reason = rp->have_end ? NULL : "the recording ends early (etrace was killed?)" };
	if (json == RECORD_RENDER_HTML) {
		struct html_opts ho = { .open_source = NULL };   /* the fuzzer's: no source files */
		render_html(&rp->m, &ro, &ho, out);
	} else if (json == RECORD_RENDER_PERFETTO) {
		render_perfetto(&rp->m, &ro, out);
	} else if (json) {
		render_json(&rp->m, &ro, out);
	} else {
		render_text(&rp->m, &ro, out);
	}
}

int record_render(FILE *in, const char *name, FILE *out, int json)
{
	struct replay rp;
	memset(&rp, 0, sizeof(rp));
	model_init(&rp.m);
	int rc = replay_read(in, name, &rp, 0);
	if (rc == 0) {
		crash_analyze(&rp.m);
		render_replay(&rp, out, json);
	}
	replay_free(&rp);
	return rc;
}

/* etrace report runs as the invoking user for good (main.c): a plain open
 * reads sources with their rights. */
static int open_as_is(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

/* --html and --perfetto of a recording. */
static int report_visual(struct replay *rp, const char *html, const char *perfetto)
{
	struct render_opts ro = { .exit_code = rp->exit_code,
				  .exit_reason = rp->have_end ? NULL : "the recording ends early (etrace was killed?)" };
	const char *paths[2] = { html, perfetto };
	for (int i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		FILE *f = fopen(paths[i], "we");
		if (!f) {
			et_error("cannot write %s: %s", paths[i], strerror(errno));
			return ETRACE_EXIT_FAILURE;
		}
		if (i == 0) {
			struct html_opts ho = { .open_source = open_as_is };
			render_html(&rp->m, &ro, &ho, f);
		} else {
			render_perfetto(&rp->m, &ro, f);
		}
		if (ferror(f) | (fclose(f) != 0)) {
			et_error("cannot write %s: %s", paths[i], strerror(errno));
			return ETRACE_EXIT_FAILURE;
		}
	}
	return 0;
}

int report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "rewind", required_argument, NULL, 'r' },
		{ "html", required_argument, NULL, 'H' },
		{ "perfetto", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *html = NULL, *perfetto = NULL;
	int json = 0, format_given = 0;
	long rewind_n = 0;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:f:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		case 'P':
			perfetto = optarg;
			break;
		case 'f':
			format_given = 1;
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") != 0) {
				et_error("unknown format '%s': use text or json", optarg);
				return ETRACE_EXIT_FAILURE;
			}
			break;
		case 'r': {
			char *end;
			errno = 0;
			rewind_n = isdigit((unsigned char)optarg[0]) ? strtol(optarg, &end, 10) : 0;
			if (rewind_n <= 0 || errno || *end || rewind_n > 100000) {
				et_error("--rewind takes a number from 1 to 100000, not '%s'", optarg);
				return ETRACE_EXIT_FAILURE;
			}
			break;
		}
		default:
			et_error("usage: etrace report FILE [-f text|json] [-o OUT] [--rewind=N] [--html=FILE] [--perfetto=FILE]");
			return ETRACE_EXIT_FAILURE;
		}
	}
	if (optind != argc - 1) {
		et_error("usage: etrace report FILE [-f text|json] [-o OUT] [--rewind=N] [--html=FILE] [--perfetto=FILE]");
		return ETRACE_EXIT_FAILURE;
	}
	struct replay rp;
	int rc = replay_load(argv[optind], &rp, 0);
	if (rc) {
		replay_free(&rp);
		return rc;
	}
	if (rewind_n)
		rp.m.rewind_n = (size_t)rewind_n;
	crash_analyze(&rp.m);
	/* --html and --perfetto alone replace the text on stdout; with -o or -f it is written too */
	if ((html || perfetto) && !output && !format_given) {
		rc = report_visual(&rp, html, perfetto);
		replay_free(&rp);
		return rc;
	}
	FILE *out = stdout;
	if (output && !(out = fopen(output, "we"))) {
		et_error("cannot write %s: %s", output, strerror(errno));
		replay_free(&rp);
		return ETRACE_EXIT_FAILURE;
	}
	render_replay(&rp, out, json);
	if (out != stdout && fclose(out) != 0) {
		et_error("cannot write %s: %s", output, strerror(errno));
		rc = ETRACE_EXIT_FAILURE;
	}
	if (rc == 0)
		rc = report_visual(&rp, html, perfetto);
	replay_free(&rp);
	return rc;
}

/* "12.5", "12.5ms", "2s", "500us" -> nanoseconds; a leading sign is allowed,
 * nothing else before the digits (strtod also takes blanks, nan, inf, hex). */
static int parse_duration(const char *s, int64_t *ns)
{
	char *end;
	const char *d = s + (*s == '-' || *s == '+');
	if (!isdigit((unsigned char)d[0]) || (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -1;
	double scale = 1e6; /* milliseconds by default */
	if (strcmp(end, "s") == 0)
		scale = 1e9;
	else if (strcmp(end, "ms") == 0 || *end == '\0')
		scale = 1e6;
	else if (strcmp(end, "us") == 0)
		scale = 1e3;
	else if (strcmp(end, "ns") == 0)
		scale = 1;
	else
		return -1;
	if (fabs(v * scale) > 9e18)
		return -1;
	*ns = (int64_t)(v * scale);
	return 0;
}

struct line {
	uint64_t ts;
	int pid, tid;
	const struct et_record *rec;
	const char *note;
};

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

int rewind_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *at = NULL, *window = "10ms";
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'a')
			at = optarg;
		else if (c == 'w')
			window = optarg;
		else {
			et_error("usage: etrace rewind FILE --at TIME|crash [--window DURATION]");
			return ETRACE_EXIT_FAILURE;
		}
	}
	if (optind != argc - 1 || !at) {
		et_error("usage: etrace rewind FILE --at TIME|crash [--window DURATION]");
		return ETRACE_EXIT_FAILURE;
	}
	int64_t win;
	const char *w = window[0] == '+' && window[1] == '-' ? window + 2 : window;
	if (strncmp(w, "±", strlen("±")) == 0)
		w += strlen("±");
	if (parse_duration(w, &win) < 0 || win < 0) {
		et_error("--window takes a duration like 5ms, 2s or 500us, not '%s'", window);
		return ETRACE_EXIT_FAILURE;
	}
	struct replay rp;
	int rc = replay_load(argv[optind], &rp, 1);
	if (rc) {
		replay_free(&rp);
		return rc;
	}
	struct et_model *m = &rp.m;
	uint64_t center = 0;
	if (strcmp(at, "crash") == 0) {
		for (size_t i = 0; i < m->nprocs && !center; i++)
			if (m->procs[i]->crash)
				center = m->procs[i]->crash->ts;
		if (!center) {
			et_error("%s: no crash in this recording", argv[optind]);
			replay_free(&rp);
			return ETRACE_EXIT_FAILURE;
		}
	} else {
		int64_t t;
		if (parse_duration(at, &t) < 0) {
			et_error("--at takes a time since the start like 12.5ms or 1.2s, or 'crash', not '%s'",
				at);
			replay_free(&rp);
			return ETRACE_EXIT_FAILURE;
		}
		center = (uint64_t)((int64_t)m->start_ts + t);
	}
	uint64_t lo = center > (uint64_t)win ? center - (uint64_t)win : 0, hi = center + (uint64_t)win;

	size_t n = 0, cap = 64;
	struct line *lines = malloc(cap * sizeof(*lines));
	for (size_t i = 0; i < m->nprocs && lines; i++) {
		const struct et_process *p = m->procs[i];
		for (size_t j = 0; j < p->nthreads; j++) {
			const struct et_thread *t = p->threads[j];
			for (size_t k = 0; k < t->ring_count; k++) {
				const struct et_record *r = thread_record(t, k);
				if (r->ev.enter_ts < lo || r->ev.enter_ts > hi)
					continue;
				if (n == cap)
					lines = realloc(lines, (cap *= 2) * sizeof(*lines));
				lines[n++] = (struct line){ r->ev.enter_ts, p->pid, t->tid, r, NULL };
			}
		}
		for (size_t k = 0; k < p->notes_count; k++) {
			const struct et_note *nt = process_note(p, k);
			if (nt->ts < lo || nt->ts > hi)
				continue;
			if (n == cap)
				lines = realloc(lines, (cap *= 2) * sizeof(*lines));
			lines[n++] = (struct line){ nt->ts, p->pid, nt->tid, NULL, nt->text };
		}
	}
	if (lines)
		qsort(lines, n, sizeof(*lines), line_cmp);
	printf("etrace rewind: %zu events from %+.3f ms to %+.3f ms (at %+.3f ms, window %.3f ms each way)\n", n,
	       model_rel_ms(m, lo), model_rel_ms(m, hi), model_rel_ms(m, center), (double)win / 1e6);
	struct strbuf sb = STRBUF_INIT;
	int marked = 0;
	for (size_t i = 0; i < n; i++) {
		if (!marked && lines[i].ts >= center) {
			printf("  ---------- %+.3f ms ----------\n", model_rel_ms(m, center));
			marked = 1;
		}
		sb_reset(&sb);
		if (lines[i].rec)
			model_record_call(m, lines[i].rec, &sb);
		else
			sb_puts(&sb, lines[i].note);
		printf("  %+10.3f ms  (%+10.3f)  pid %-7d tid %-7d %s\n", model_rel_ms(m, lines[i].ts),
		       ((double)lines[i].ts - (double)center) / 1e6, lines[i].pid, lines[i].tid, sb_str(&sb));
	}
	if (!marked)
		printf("  ---------- %+.3f ms ----------\n", model_rel_ms(m, center));
	sb_free(&sb);
	free(lines);
	replay_free(&rp);
	return 0;
}
