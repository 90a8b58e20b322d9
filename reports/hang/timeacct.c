/* Where time went (--sched): per thread, the totals its exit record
 * brought (bpf/timeacct.h), per process the peak RSS and bytes read and
 * written, and the contended futex words. */
#include "hang.h"

#include <stdlib.h>
#include <string.h>

#include "reports/core/xalloc.h"
#include "../../symbolize/datasym.h"
#include "reports/core/analysis.h"

#define TIME_PROCS_SHOWN 5
#define TIME_THREADS_SHOWN 8
#define TIME_FUTEXES_SHOWN 5

static const char *const off_names[ET_OFF_MAX] = { "lock", "io", "poll", "sleep", "child", "fault", "other" };

void timeacct_enable(struct et_model *m)
{
	hang_of(m)->timeacct = true;
}

int timeacct_ingest(struct et_model *m, const void *data, size_t size)
{
	const struct ev_header *h = data;
	struct et_hang *H = hang_of(m);
	if (h->type == ET_EV_TASKSTAT) {
		if (size < sizeof(struct ev_taskstat))
			return -1;
		if (H->ntimes == H->cap_times) {
			H->cap_times = H->cap_times ? H->cap_times * 2 : 16;
			H->times = xrealloc(H->times, H->cap_times * sizeof(*H->times));
		}
		struct time_thread *t = &H->times[H->ntimes++];
		t->pid = (int)h->pid;
		t->tid = (int)h->tid;
		t->st = *(const struct ev_taskstat *)data;
		H->timeacct = true;
		return 0;
	}
	if (size < sizeof(struct ev_futexstat))
		return -1;
	if (H->nfutexes == H->cap_futexes) {
		H->cap_futexes = H->cap_futexes ? H->cap_futexes * 2 : 16;
		H->futexes = xrealloc(H->futexes, H->cap_futexes * sizeof(*H->futexes));
	}
	H->futexes[H->nfutexes++] = *(const struct ev_futexstat *)data;
	H->timeacct = true;
	return 0;
}

static uint64_t off_total(const struct ev_taskstat *s)
{
	uint64_t n = 0;
	for (int i = 0; i < ET_OFF_MAX; i++)
		n += s->off_ns[i];
	return n;
}

/* The kernel's user/system split is sampled at ticks: the precise
 * runtime is split in its proportion (as the kernel's cputime_adjust). */
static void user_sys(const struct ev_taskstat *s, double *user, double *sys)
{
	double rt = (double)s->runtime_ns, u = (double)s->utime_ns, k = (double)s->stime_ns;
	*user = u + k > 0 ? rt * u / (u + k) : 0;
	*sys = u + k > 0 ? rt * k / (u + k) : rt;
}

struct proc_time {
	const struct et_process *p;
	uint64_t runtime, off, runq, rchar, wchar, maxrss_pages;
	size_t nthreads;
};

static int by_weight(const void *a, const void *b)
{
	const struct proc_time *x = a, *y = b;
	uint64_t wx = x->runtime + x->off, wy = y->runtime + y->off;
	return wx > wy ? -1 : wx < wy;
}

static size_t proc_times(const struct et_model *m, struct proc_time **out)
{
	const struct et_hang *H = m->hang;
	struct proc_time *pt = xcalloc(m->nprocs ? m->nprocs : 1, sizeof(*pt));
	size_t n = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct proc_time x = { .p = m->procs[i] };
		for (size_t k = 0; k < H->ntimes; k++) {
			const struct time_thread *t = &H->times[k];
			if (t->pid != x.p->pid)
				continue;
			x.nthreads++;
			x.runtime += t->st.runtime_ns;
			x.off += off_total(&t->st);
			x.runq += t->st.runq_ns;
			x.rchar += t->st.rchar;
			x.wchar += t->st.wchar;
			if (t->st.maxrss_pages > x.maxrss_pages)
				x.maxrss_pages = t->st.maxrss_pages;
		}
		if (x.nthreads)
			pt[n++] = x;
	}
	/* the root first, then the processes that took the most time */
	qsort(pt, n, sizeof(*pt), by_weight);
	for (size_t i = 0; i < n; i++)
		if (pt[i].p->pid == m->root_pid && i) {
			struct proc_time r = pt[i];
			memmove(pt + 1, pt, i * sizeof(*pt));
			pt[0] = r;
		}
	*out = pt;
	return n;
}

static void bytes_text(uint64_t b, struct strbuf *sb)
{
	if (b >= 10ull << 20)
		sb_printf(sb, "%.1f MB", (double)b / (1 << 20));
	else if (b >= 10ull << 10)
		sb_printf(sb, "%.1f KB", (double)b / 1024);
	else
		sb_printf(sb, "%lu B", (unsigned long)b);
}

static int thread_weight_cmp(const void *a, const void *b)
{
	const struct time_thread *x = *(const struct time_thread *const *)a, *y = *(const struct time_thread *const *)b;
	uint64_t wx = x->st.runtime_ns + off_total(&x->st), wy = y->st.runtime_ns + off_total(&y->st);
	return wx > wy ? -1 : wx < wy;
}

static char *futex_name(const struct et_model *m, const struct ev_futexstat *f)
{
	const struct et_process *p = model_process((struct et_model *)m, (int)f->h.pid);
	struct strbuf sb = STRBUF_INIT;
	if (p && p->nmodules) {
		struct sym_session *s = hang_session(p);
		struct sym_data d;
		if (sym_data_at(s, f->addr, &d) == 0 && d.name) {
			sb_escape(&sb, d.name);
			if (d.offset)
				sb_printf(&sb, "+%lu", (unsigned long)d.offset);
			sb_printf(&sb, " (%s+0x%lx)", d.module ? d.module : "?", (unsigned long)d.module_offset);
		}
		sym_data_free(&d);
		sym_close(s);
	}
	if (!sb.len)
		sb_printf(&sb, "the futex word at 0x%lx", (unsigned long)f->addr);
	return sb_detach(&sb);
}

static int futex_cmp(const void *a, const void *b)
{
	const struct ev_futexstat *x = a, *y = b;
	return x->st.total_ns > y->st.total_ns ? -1 : x->st.total_ns < y->st.total_ns;
}

static void timeacct_render_text(const struct et_model *m, FILE *out)
{
	const struct et_hang *H = m->hang;
	if (!H || !H->timeacct)
		return;
	fprintf(out, "\n-- time (per thread, counted in the kernel) ");
	for (int k = 44; k < 72; k++)
		fputc('-', out);
	fputc('\n', out);
	struct proc_time *pt;
	size_t n = proc_times(m, &pt);
	struct strbuf sb = STRBUF_INIT;
	if (!n)
		fprintf(out, "  no thread of the tree ended while traced\n");
	for (size_t i = 0; i < n && i < TIME_PROCS_SHOWN; i++) {
		const struct proc_time *x = &pt[i];
		sb_reset(&sb);
		sb_escape(&sb, x->p->argv && x->p->argv[0] ? x->p->argv[0] : "?");
		fprintf(out, "  pid %d (%s): on a CPU %.3f ms, off %.3f ms, waiting for a CPU %.3f ms", x->p->pid,
			sb_str(&sb), (double)x->runtime / 1e6, (double)x->off / 1e6, (double)x->runq / 1e6);
		sb_reset(&sb);
		if (x->maxrss_pages) {
			sb_puts(&sb, "; peak RSS ");
			bytes_text(x->maxrss_pages * 4096, &sb);
		}
		sb_puts(&sb, "; read ");
		bytes_text(x->rchar, &sb);
		sb_puts(&sb, ", written ");
		bytes_text(x->wchar, &sb);
		fprintf(out, "%s\n", sb_str(&sb));
		fprintf(out, "    %7s %-15s %9s %9s", "tid", "name", "user ms", "sys ms");
		for (int r = 0; r < ET_OFF_MAX; r++)
			fprintf(out, " %8s", off_names[r]);
		fprintf(out, " %8s %6s %6s\n", "runq ms", "vol", "invol");
		const struct time_thread **ts = xcalloc(x->nthreads, sizeof(*ts));
		size_t nt = 0;
		for (size_t k = 0; k < H->ntimes; k++)
			if (H->times[k].pid == x->p->pid)
				ts[nt++] = &H->times[k];
		qsort(ts, nt, sizeof(*ts), thread_weight_cmp);
		for (size_t k = 0; k < nt && k < TIME_THREADS_SHOWN; k++) {
			const struct time_thread *t = ts[k];
			const struct et_thread *mt = model_thread((struct et_model *)m, t->tid);
			double u, s;
			user_sys(&t->st, &u, &s);
			sb_reset(&sb);
			sb_escape(&sb, mt && mt->comm[0] ? mt->comm : "?");
			fprintf(out, "    %7d %-15.15s %9.3f %9.3f", t->tid, sb_str(&sb), u / 1e6, s / 1e6);
			for (int r = 0; r < ET_OFF_MAX; r++)
				fprintf(out, " %8.3f", (double)t->st.off_ns[r] / 1e6);
			fprintf(out, " %8.3f %6lu %6lu\n", (double)t->st.runq_ns / 1e6, (unsigned long)t->st.nvcsw,
				(unsigned long)t->st.nivcsw);
		}
		if (nt > TIME_THREADS_SHOWN)
			fprintf(out, "    (%zu more threads: the JSON report has them)\n", nt - TIME_THREADS_SHOWN);
		free(ts);
	}
	if (n > TIME_PROCS_SHOWN)
		fprintf(out, "  (%zu more processes: the JSON report has them)\n", n - TIME_PROCS_SHOWN);
	free(pt);
	if (H->nfutexes) {
		struct ev_futexstat *fs = xmalloc(H->nfutexes * sizeof(*fs));
		memcpy(fs, H->futexes, H->nfutexes * sizeof(*fs));
		qsort(fs, H->nfutexes, sizeof(*fs), futex_cmp);
		fprintf(out, "  contended locks (waits on a locked mutex's futex word):\n");
		for (size_t i = 0; i < H->nfutexes && i < TIME_FUTEXES_SHOWN; i++) {
			char *name = futex_name(m, &fs[i]);
			fprintf(out, "    %s in pid %u: %lu wait%s, %.3f ms in all, the longest %.3f ms (thread %u)\n", name,
				fs[i].h.pid, (unsigned long)fs[i].st.waits, fs[i].st.waits == 1 ? "" : "s",
				(double)fs[i].st.total_ns / 1e6, (double)fs[i].st.max_ns / 1e6, fs[i].st.max_tid);
			free(name);
		}
		if (H->nfutexes > TIME_FUTEXES_SHOWN)
			fprintf(out, "    (%zu more: the JSON report has them)\n", H->nfutexes - TIME_FUTEXES_SHOWN);
		free(fs);
	}
	if (m->lost[ET_EV_FUTEXSTAT])
		fprintf(out, "  %lu contended futex waits not counted (more than 4096 words)\n",
			(unsigned long)m->lost[ET_EV_FUTEXSTAT]);
	sb_free(&sb);
}

static void timeacct_render_json(const struct et_model *m, struct strbuf *sb)
{
	const struct et_hang *H = m->hang;
	if (!H || !H->timeacct) {
		sb_puts(sb, "null");
		return;
	}
	struct proc_time *pt;
	size_t n = proc_times(m, &pt);
	sb_puts(sb, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		const struct proc_time *x = &pt[i];
		sb_printf(sb, "%s{\"pid\":%d,\"on_cpu_ns\":%lu,\"off_cpu_ns\":%lu,\"run_queue_ns\":%lu,\"peak_rss_bytes\":",
			  i ? "," : "", x->p->pid, (unsigned long)x->runtime, (unsigned long)x->off, (unsigned long)x->runq);
		if (x->maxrss_pages)
			sb_printf(sb, "%lu", (unsigned long)(x->maxrss_pages * 4096));
		else
			sb_puts(sb, "null");
		sb_printf(sb, ",\"bytes_read\":%lu,\"bytes_written\":%lu,\"threads\":[", (unsigned long)x->rchar,
			  (unsigned long)x->wchar);
		bool first = true;
		for (size_t k = 0; k < H->ntimes; k++) {
			const struct time_thread *t = &H->times[k];
			if (t->pid != x->p->pid)
				continue;
			double u, s;
			user_sys(&t->st, &u, &s);
			sb_printf(sb, "%s{\"tid\":%d,\"on_cpu_ns\":%lu,\"user_ns\":%.0f,\"system_ns\":%.0f,\"off_cpu_ns\":{",
				  first ? "" : ",", t->tid, (unsigned long)t->st.runtime_ns, u, s);
			first = false;
			for (int r = 0; r < ET_OFF_MAX; r++)
				sb_printf(sb, "%s\"%s\":%lu", r ? "," : "", off_names[r], (unsigned long)t->st.off_ns[r]);
			sb_printf(sb, "},\"run_queue_ns\":%lu,\"run_queue_max_ns\":%lu,\"voluntary_switches\":%lu,"
				  "\"involuntary_switches\":%lu,\"bytes_read\":%lu,\"bytes_written\":%lu,"
				  "\"storage_read_bytes\":%lu,\"storage_write_bytes\":%lu}",
				  (unsigned long)t->st.runq_ns, (unsigned long)t->st.runq_max_ns, (unsigned long)t->st.nvcsw,
				  (unsigned long)t->st.nivcsw, (unsigned long)t->st.rchar, (unsigned long)t->st.wchar,
				  (unsigned long)t->st.read_bytes, (unsigned long)t->st.write_bytes);
		}
		sb_puts(sb, "]}");
	}
	free(pt);
	sb_puts(sb, "],\"contended_futexes\":[");
	for (size_t i = 0; i < H->nfutexes; i++) {
		const struct ev_futexstat *f = &H->futexes[i];
		char *name = futex_name(m, f);
		sb_printf(sb, "%s{\"pid\":%u,\"address\":\"0x%lx\",\"name\":", i ? "," : "", f->h.pid, (unsigned long)f->addr);
		sb_json_str(sb, name);
		sb_printf(sb, ",\"waits\":%lu,\"total_wait_ns\":%lu,\"longest_wait_ns\":%lu,\"longest_tid\":%u}",
			  (unsigned long)f->st.waits, (unsigned long)f->st.total_ns, (unsigned long)f->st.max_ns,
			  f->st.max_tid);
		free(name);
	}
	sb_printf(sb, "],\"futex_waits_not_counted\":%lu}", (unsigned long)m->lost[ET_EV_FUTEXSTAT]);
}

const struct et_analysis time_analysis = {
	.name = "time",
	.text_at = ET_AT_SUMMARY + 10,
	.json_at = ET_AT_PROCESSES + 40,
	.render_text = timeacct_render_text,
	.render_json = timeacct_render_json,
	.json_key = "time",
};
