/* The record types: see evtypes.h. */
#include "evtypes.h"

#include <string.h>

#include "reports/heap/heap.h"
#include "reports/heap/heapseries.h"
#include "reports/hang/hang.h"
#include "ingest.h"
#include "model.h"
#include "reports/render/render.h"
#include "reports/net/skb.h"
#include "reports/net/tcp.h"

static int ingest_sock(struct et_model *m, const void *rec, size_t size)
{
	(void)size;
	return model_on_sock(m, rec);
}

/* heap records also feed the live bytes over time (reports/heap/heapseries.c) */
static int ingest_heap(struct et_model *m, const void *rec, size_t size)
{
	int rc = heap_ingest(m, rec, size);
	if (rc == 0)
		heapseries_on_record(m, rec);
	return rc;
}

int model_ingest_heap(struct et_model *m, const struct ev_heap *e, uint32_t stack)
{
	m->records++;
	if (e->h.type != ET_EV_HEAP || heap_ingest_interned(m, e, stack) != 0) {
		m->bad_records++;
		return -1;
	}
	heapseries_on_record(m, &e->h);
	if (m->sink)
		m->sink(m->sink_ctx, m, &e->h, NULL);
	return 0;
}

static int ingest_skb(struct et_model *m, const void *rec, size_t size)
{
	return skb_on_record(m, rec, size);
}

static int ingest_route(struct et_model *m, const void *rec, size_t size)
{
	(void)size;
	return skb_on_route(m, rec);
}

static void skb_line(const struct et_model *m, const struct ev_header *h, const struct et_record *r, double wall,
		     struct strbuf *sb)
{
	(void)r;
	skb_render_event(m, h, wall, sb);
}

const struct et_record_type et_record_types[] = {
	{ ET_EV_SYSCALL, "syscall", 0, ET_CNT_LOST_SYSCALL, "syscall", "syscall", model_on_syscall, evline_syscall },
	{ ET_EV_FORK, "fork", sizeof(struct ev_fork), ET_CNT_LOST_FORK, "fork", "fork", model_on_fork, evline_fork },
	{ ET_EV_EXEC, "exec", sizeof(struct ev_exec), ET_CNT_LOST_EXEC, "exec", "exec", model_on_exec, evline_exec },
	{ ET_EV_EXIT, "exit", sizeof(struct ev_exit), ET_CNT_LOST_EXIT, "exit", "exit", model_on_exit, evline_exit },
	{ ET_EV_FUNC, "function", sizeof(struct ev_func), ET_CNT_LOST_FUNC, "function", "function", model_on_func,
	  evline_func },
	{ ET_EV_SOCK, "tcp", sizeof(struct ev_sock), ET_CNT_LOST_SOCK, "socket", "socket", ingest_sock, evline_sock },
	{ ET_EV_HEAP, "heap", 0, ET_CNT_LOST_HEAP, "heap", "heap", ingest_heap, NULL },
	{ ET_EV_SIGNAL, "signal", sizeof(struct ev_signal), ET_CNT_LOST_SIGNAL, "signal", "signal", model_on_signal,
	  evline_signal },
	{ ET_EV_SIGGEN, "signal_sent", sizeof(struct ev_siggen), ET_CNT_LOST_SIGGEN, "signal", "signal",
	  model_on_siggen, evline_siggen },
	{ ET_EV_CRASH, "crash_state", 0, ET_CNT_LOST_CRASH, "crash", "crash", model_on_crash, evline_crash },
	{ ET_EV_HEAP_HOLD, "heap_hold", 0, ET_CNT_LOST_HOLD, "heap_hold", "heap hold", heap_ingest, NULL },
	{ ET_EV_HEAP_ATTACH, "heap_attach", 0, -1, NULL, NULL, heap_ingest, NULL },
	{ ET_EV_SKB, "packet", 0, ET_CNT_LOST_SKB, "packet", "packet", ingest_skb, skb_line },
	{ ET_EV_ROUTE, "route", sizeof(struct ev_route), ET_CNT_LOST_ROUTE, "route", "route", ingest_route, skb_line },
	/* the hang snapshot (written by etrace itself: never lost) and the
	 * futex words read at a fatal signal (lost with the signals' counter) */
	{ ET_EV_SNAP_THREAD, "snapshot_thread", 0, -1, NULL, NULL, hang_ingest, NULL },
	{ ET_EV_SNAP_FILE, "snapshot_file", sizeof(struct ev_snap_file), -1, NULL, NULL, hang_ingest, NULL },
	{ ET_EV_SNAP, "snapshot", sizeof(struct ev_snap), -1, NULL, NULL, hang_ingest, NULL },
	{ ET_EV_WAITWORD, "wait_word", sizeof(struct ev_waitword), -1, NULL, NULL, hang_ingest, NULL },
	/* --sched: a thread's totals at its exit (lost with the exits' counter, in
	 * the kernel), the contended futex words (the map's overflow is its own
	 * counter, shown in the time section) */
	{ ET_EV_TASKSTAT, "thread_times", sizeof(struct ev_taskstat), -1, NULL, NULL, hang_ingest, NULL },
	{ ET_EV_FUTEXSTAT, "contended_futex", sizeof(struct ev_futexstat), -1, NULL, NULL, hang_ingest, NULL },
};
const size_t et_n_record_types = sizeof(et_record_types) / sizeof(et_record_types[0]);

const struct et_record_type *record_type(uint32_t type)
{
	for (size_t i = 0; i < et_n_record_types; i++)
		if (et_record_types[i].type == type)
			return &et_record_types[i];
	return NULL;
}

uint64_t events_lost_total(const struct et_model *m)
{
	uint64_t total = 0;
	for (int i = 0; i < ET_EV_TYPE_MAX; i++)
		total += m->lost[i];
	return total;
}

void events_lost_list(const struct et_model *m, int text, struct strbuf *out)
{
	for (size_t i = 0; i < et_n_record_types; i++) {
		const struct et_record_type *t = &et_record_types[i];
		if (!t->lost_key || (i > 0 && et_record_types[i - 1].lost_key &&
				     strcmp(et_record_types[i - 1].lost_key, t->lost_key) == 0))
			continue;
		uint64_t n = 0;
		for (size_t j = i; j < et_n_record_types && et_record_types[j].lost_key &&
				   strcmp(et_record_types[j].lost_key, t->lost_key) == 0; j++)
			n += m->lost[et_record_types[j].type];
		if (text)
			sb_printf(out, "%s%s %lu", i ? ", " : "", t->lost_label, (unsigned long)n);
		else
			sb_printf(out, ",\"%s\":%lu", t->lost_key, (unsigned long)n);
	}
}
