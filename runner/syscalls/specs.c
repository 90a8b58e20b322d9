/* The syscalls' maps of the core object: the capture plan per syscall
 * (reports/syscalls/syscall_table.c says what each argument is), filled
 * before the run; the per-syscall totals the kernel added up, read after. */
#include "runner/tracer_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "reports/syscalls/syscall_table.h"

int tr_specs_fill(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.specs);
	static __u32 keys[ET_MAX_SYSCALLS];
	static struct et_syscall_spec specs[ET_MAX_SYSCALLS];
	for (int nr = 0; nr < ET_MAX_SYSCALLS; nr++) {
		struct et_syscall_spec sp;
		syscall_spec_for(nr, &sp);
		/* tell the BPF side which syscalls need the capture loops at all */
		sp.at_enter = sp.at_exit = 0;
		for (int i = 0; i < 6; i++) {
			switch (sp.kind[i]) {
			case ET_CAP_STR:
			case ET_CAP_BUF_IN:
			case ET_CAP_SOCKADDR_IN:
			case ET_CAP_ARGV:
				sp.at_enter = 1;
				break;
			case ET_CAP_BUF_OUT:
			case ET_CAP_SOCKADDR_OUT:
			case ET_CAP_FDPAIR_OUT:
			case ET_CAP_SOCK_IN:
			case ET_CAP_MSG:
			case ET_CAP_MMSG:
				sp.at_exit = 1;
				break;
			}
		}
		keys[nr] = (__u32)nr;
		specs[nr] = sp;
	}
	/* one call for the whole table (each update is a syscall: 512 of
	 * them were ~1 ms of start-up), one by one if the kernel says no */
	__u32 n = ET_MAX_SYSCALLS;
	if (bpf_map_update_batch(fd, keys, specs, &n, NULL) == 0 && n == ET_MAX_SYSCALLS)
		return 0;
	for (int nr = 0; nr < ET_MAX_SYSCALLS; nr++)
		if (bpf_map_update_elem(fd, &keys[nr], &specs[nr], BPF_ANY) < 0)
			return -errno;
	return 0;
}

/* Every element of the per-CPU array fd (n keys, value_size bytes a CPU)
 * into values (n * ncpu values): one batch call where the kernel allows
 * it, else one lookup a key. An element that cannot be read is zeros. */
static void percpu_read_all(int fd, __u32 n, size_t value_size, int ncpu, void *values)
{
	size_t row = value_size * (size_t)ncpu;
	__u32 *keys = calloc(n, sizeof(*keys));
	__u32 out = 0, got = n;
	memset(values, 0, row * n);
	if (keys && (bpf_map_lookup_batch(fd, NULL, &out, keys, values, &got, NULL) == 0 || errno == ENOENT) &&
	    got == n) {
		/* an array's batch comes in key order, from key 0 */
		free(keys);
		return;
	}
	free(keys);
	memset(values, 0, row * n);
	for (__u32 k = 0; k < n; k++)
		bpf_map_lookup_elem(fd, &k, (char *)values + row * k);
}

void tr_totals_collect(struct tracer *t, int ncpu)
{
	struct et_model *m = t->m;
	struct et_syscall_stat *all = calloc((size_t)ncpu * ET_MAX_SYSCALLS, sizeof(*all));
	if (!all)
		return;
	free(m->totals);
	m->totals = calloc(ET_MAX_SYSCALLS, sizeof(*m->totals));
	m->ntotals = 0;
	percpu_read_all(bpf_map__fd(t->skel->maps.stats), ET_MAX_SYSCALLS, sizeof(*all), ncpu, all);
	for (__u32 nr = 0; nr < ET_MAX_SYSCALLS && m->totals; nr++) {
		const struct et_syscall_stat *per = &all[(size_t)nr * (size_t)ncpu];
		struct et_syscall_total tot = { .nr = (int)nr };
		for (int c = 0; c < ncpu; c++) {
			tot.calls += per[c].calls;
			tot.errors += per[c].errors;
			tot.total_ns += per[c].total_ns;
			if (per[c].max_ns > tot.max_ns)
				tot.max_ns = per[c].max_ns;
		}
		if (tot.calls)
			m->totals[m->ntotals++] = tot;
	}
	/* sort by total time, then calls (insertion sort: at most a few hundred) */
	for (size_t i = 1; i < m->ntotals; i++) {
		struct et_syscall_total x = m->totals[i];
		size_t j = i;
		while (j > 0 && (m->totals[j - 1].total_ns < x.total_ns ||
				 (m->totals[j - 1].total_ns == x.total_ns && m->totals[j - 1].calls < x.calls))) {
			m->totals[j] = m->totals[j - 1];
			j--;
		}
		m->totals[j] = x;
	}
	free(all);
}
