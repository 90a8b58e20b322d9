/* Live heap bytes over time (see heapseries.h). */
#include "heapseries.h"

#include <stdbool.h>
#include <stdlib.h>

#include "heap.h"
#include "reports/core/analysis.h"
#include "reports/core/model.h"

#define HEAPSERIES_FIRST_STEP_NS 100000ull /* 0.1 ms: fine enough for a short test */

/* ts falls in the last bucket: it takes the sample. */
static bool fold(struct heapseries *s, uint64_t ts, uint64_t bytes)
{
	if (!s->n)
		return false;
	struct heapseries_point *last = &s->pts[s->n - 1];
	if (ts >= last->ts + s->step_ns)
		return false;
	if (bytes > last->bytes)
		last->bytes = bytes;
	last->last = bytes;
	return true;
}

static void add(struct heapseries *s, uint64_t ts, uint64_t bytes)
{
	if (fold(s, ts, bytes))
		return;
	if (s->n == HEAPSERIES_MAX) {
		/* merge pairs: half the points, twice the step */
		size_t j = 0;
		for (size_t i = 0; i < s->n; i += 2, j++) {
			struct heapseries_point p = s->pts[i];
			if (i + 1 < s->n) {
				if (s->pts[i + 1].bytes > p.bytes)
					p.bytes = s->pts[i + 1].bytes;
				p.last = s->pts[i + 1].last;
			}
			s->pts[j] = p;
		}
		s->n = j;
		s->step_ns *= 2;
		if (fold(s, ts, bytes))
			return;
	}
	s->pts[s->n++] = (struct heapseries_point){ ts, bytes, bytes };
}

void heapseries_on_record(struct et_model *m, const struct ev_header *h)
{
	uint64_t live;
	struct et_process *p;
	if (heap_live_bytes(m, (int)h->pid, &p, &live) < 0)
		return;
	if (!p->heap_series) {
		p->heap_series = calloc(1, sizeof(*p->heap_series));
		if (!p->heap_series)
			return; /* a graph less, never a failed run */
		p->heap_series->step_ns = HEAPSERIES_FIRST_STEP_NS;
	}
	p->heap_series->samples++;
	add(p->heap_series, h->ts, live);
}

void heapseries_free(struct heapseries *s)
{
	free(s);
}

static void heapseries_analysis_free(struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		heapseries_free(m->procs[i]->heap_series);
		m->procs[i]->heap_series = NULL;
	}
}

/* no section of its own: the HTML page and the Perfetto trace draw it */
const struct et_analysis heapseries_analysis = {
	.name = "heapseries",
	.free = heapseries_analysis_free,
};
