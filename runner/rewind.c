/* `etrace rewind FILE --at T`: the events of every thread around a moment
 * of a recorded run, in time order. */
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
