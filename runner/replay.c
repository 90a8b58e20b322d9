/* Reading a recording: the replay into a model, `etrace report FILE`
 * (text, JSON, HTML, Perfetto) and the fuzzer's record_render. */
#include "record.h"
#include "replay.h"
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

/* Reads a recording into a model; keep_all keeps every syscall. Returns 0 or
 * an exit code after printing a one-line message. */
static int replay_read(FILE *f, const char *path, struct replay *rp, int keep_all);

int replay_load(const char *path, struct replay *rp, int keep_all)
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

/* How the run's heap was recorded and checked (REC_HEAP): struct
 * rec_heap, then the library and LD_PRELOAD, each NUL-terminated. A
 * recording whose processes left no heap record has no heap section to
 * show them in: the frame is read and not used. */
static int replay_heap(struct replay *rp, const unsigned char *buf, uint32_t len)
{
	struct rec_heap h;
	if (len < sizeof(h) + 2 || buf[len - 1] != 0)
		return -1;
	memcpy(&h, buf, sizeof(h));
	size_t slen = len - sizeof(h);
	rp->heap_strs = xmalloc(slen);
	memcpy(rp->heap_strs, buf + sizeof(h), slen);
	const char *lib = rp->heap_strs, *end = rp->heap_strs + slen;
	const char *value = lib + strlen(lib) + 1;
	if (value >= end)
		return -1;
	struct heap_preload_info pi = { .library = lib, .ld_preload = value, .rings = h.rings, .records = h.records,
					.lost = h.lost, .invalid = h.invalid, .full_waits = h.full_waits,
					.full_wait_ns = h.full_wait_ns, .stacks_full = h.stacks_full,
					.unrecorded = h.unrecorded, .rejected = h.rejected, .check_mode = h.check_mode,
					.quarantine = h.quarantine, .guard_rate = h.guard_rate,
					.quarantine_one_in = h.quarantine_one_in };
	heap_set_preload(&rp->m, &pi);
	return 0;
}

/* Which backend recorded each process's heap (REC_HEAP_BACKENDS): entries
 * of struct rec_backend and two NUL-terminated strings. Untrusted: an entry
 * that runs past the frame ends the list; a process that is not in the
 * model (that pid at that start) is skipped. */
static int replay_backends(struct replay *rp, const unsigned char *buf, uint32_t len)
{
	rp->backend_strs = xmalloc(len ? len : 1);
	memcpy(rp->backend_strs, buf, len);
	const char *p = rp->backend_strs, *end = rp->backend_strs + len;
	while ((size_t)(end - p) >= sizeof(struct rec_backend)) {
		struct rec_backend e;
		memcpy(&e, p, sizeof(e));
		p += sizeof(e);
		const char *backend = p, *nul = memchr(p, 0, (size_t)(end - p));
		if (!nul)
			return -1;
		const char *why = nul + 1;
		nul = why < end ? memchr(why, 0, (size_t)(end - why)) : NULL;
		if (!nul)
			return -1;
		p = nul + 1;
		for (size_t i = 0; i < rp->m.nprocs; i++) {
			struct et_process *q = rp->m.procs[i];
			if (q->pid == e.pid && q->start_ts == e.start_ts) {
				heap_set_backend_of(&rp->m, q, backend, why);
				break;
			}
		}
	}
	return p == end ? 0 : -1;
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
		} else if (fr.kind == REC_HEAP && have_run && version >= 4 && !rp->heap_strs) {
			if (replay_heap(rp, buf, fr.len) < 0) {
				rc = bad_file(path, "corrupt recording (a bad heap frame)");
				goto out;
			}
		} else if (fr.kind == REC_HEAP_BACKENDS && have_run && version >= 4 && !rp->backend_strs) {
			if (replay_backends(rp, buf, fr.len) < 0) {
				rc = bad_file(path, "corrupt recording (a bad heap backend frame)");
				goto out;
			}
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

void replay_free(struct replay *rp)
{
	host_facts_free(rp->m.host_facts);
	rp->m.host_facts = NULL;
	free(rp->pending);
	model_free(&rp->m);
	free(rp->skb_backend);
	free(rp->skb_filter);
	free(rp->kernel_strs);
	free(rp->heap_strs);
	free(rp->backend_strs);
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
