/* What the kernel added up during the run, read into the model at its end:
 * each concern's maps, the per-syscall totals and the loss counters (every
 * dropped record is counted and shown). */
#include "runner/tracer_int.h"
#include "reports/net/netstate.h"

#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "reports/core/evtypes.h"

void tracer_collect(struct tracer *t)
{
	tr_preload_collect(t);
	tr_net_collect(t);
	if (t->skel->rodata->timeacct_on)
		tr_futexes_collect(t);
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	tr_totals_collect(t, ncpu);
	__u64 *cnt = calloc((size_t)ncpu, sizeof(*cnt));
	struct et_model *m = t->m;
	if (!cnt)
		return;
	int cfd = bpf_map__fd(t->skel->maps.counters);
	for (__u32 k = 0; k < ET_CNT_MAX; k++) {
		if (bpf_map_lookup_elem(cfd, &k, cnt) < 0)
			continue;
		__u64 sum = 0;
		for (int c = 0; c < ncpu; c++)
			sum += cnt[c];
		/* the record type this counter counts the losses of (reports/core/evtypes.c) */
		for (size_t i = 0; i < et_n_record_types; i++)
			if (et_record_types[i].lost_counter == (int)k)
				m->lost[et_record_types[i].type] = sum;
		if (k == ET_CNT_LOST_HEAP)
			m->lost[ET_EV_HEAP] += t->preload_lost;   /* the preload's ring was full */
		else if (k == ET_CNT_CAPTURE_FAULT)
			m->capture_faults = sum;
		else if (k == ET_CNT_LOST_FUTEX)
			m->lost[ET_EV_FUTEXSTAT] = sum;   /* shown in the time section */
		else if (k == ET_CNT_SKB_FILTERED)
			m->net->skbs.filtered = sum;
		else if (k == ET_CNT_SKB_TRACKED)
			m->net->skbs.followed = sum;
	}
	free(cnt);
}
