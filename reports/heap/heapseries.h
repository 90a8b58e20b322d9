/* Live heap bytes over time, per process: a bounded series the HTML page
 * and the Perfetto trace draw (heaptrack's "consumed" graph). */
#ifndef ETRACE_HEAPSERIES_H
#define ETRACE_HEAPSERIES_H

#include <stddef.h>
#include <stdint.h>

struct et_model;
struct et_process;
struct ev_header;

/* At most this many points per process: when full, neighbouring buckets are
 * merged (the bucket keeps its highest value), so a long run keeps its shape
 * and its peaks at a coarser time step. */
#define HEAPSERIES_MAX 512

struct heapseries_point {
	uint64_t ts;       /* start of the bucket (monotonic ns) */
	uint64_t bytes;    /* the highest live byte count seen in it */
	uint64_t last;     /* the live byte count at its last record */
};

struct heapseries {
	struct heapseries_point pts[HEAPSERIES_MAX];
	size_t n;
	uint64_t step_ns;  /* bucket width; doubles each time the series fills */
	uint64_t samples;  /* heap records seen */
};

/* Called after a heap record was ingested: samples its process's live bytes. */
void heapseries_on_record(struct et_model *m, const struct ev_header *h);
void heapseries_free(struct heapseries *s);

#endif
