/* The list of analyses: see analysis.h. A new analysis is its own files
 * and one line here. */
#include "analysis.h"
#include "model.h"

#include <stddef.h>

/* One line per analysis, in the order of their hooks (fork, exec, exit,
 * syscall, free); where their sections go in the report is each one's
 * text_at and json_at. */
#define ANALYSES(X)                                                            \
	X(crash_analysis)       /* reports/crash: fatal signals */             \
	X(hang_analysis)        /* reports/hang: the --timeout snapshot */     \
	X(termination_analysis) /* reports/process: non-crash endings */       \
	X(time_analysis)        /* reports/hang: --sched time per thread */    \
	X(tcp_analysis)         /* reports/net: TCP connections */             \
	X(heap_analysis)        /* reports/heap: blocks, heap errors, leaks */ \
	X(udp_analysis)         /* reports/net: UDP flows and DNS lookups */   \
	X(skb_analysis)         /* reports/net: --skb packets and routes */    \
	X(funcs_analysis)       /* reports/funcs: --trace-func */              \
	X(lastwords_analysis)   /* reports/process: stdout/stderr tails */     \
	X(testname_analysis)    /* reports/process: tests runners named */    \
	X(heapseries_analysis)  /* reports/heap: live bytes over time */      \
	/* a new analysis: one line above this one */

#define DECLARE(a) extern const struct et_analysis a;
ANALYSES(DECLARE)

#define ENTRY(a) &a,
const struct et_analysis *const et_analyses[] = { ANALYSES(ENTRY) NULL };

#define COUNT(a) +1
_Static_assert(0 ANALYSES(COUNT) <= ET_ANALYSES_MAX, "more analyses than ET_ANALYSES_MAX (reports/core/model.h)");

static size_t index_of(const struct et_analysis *a)
{
	size_t i = 0;
	while (et_analyses[i] && et_analyses[i] != a)
		i++;
	return i;   /* ET_ANALYSES_MAX at most: one not in the list has no state */
}

void *analysis_state(const struct et_model *m, const struct et_analysis *a)
{
	size_t i = index_of(a);
	return i < ET_ANALYSES_MAX ? m->analysis_states[i] : NULL;
}

void analysis_set_state(struct et_model *m, const struct et_analysis *a, void *state)
{
	size_t i = index_of(a);
	if (i < ET_ANALYSES_MAX)
		m->analysis_states[i] = state;
}

#define EACH(op, ...)                                                   \
	for (const struct et_analysis *const *a = et_analyses; *a; a++) \
		if ((*a)->op)                                           \
			(*a)->op(__VA_ARGS__)

void analyses_init(struct et_model *m)
{
	EACH(init, m);
}

void analyses_on_fork(struct et_model *m, struct et_process *parent, struct et_process *child)
{
	EACH(on_fork, m, parent, child);
}

void analyses_on_exec_begin(struct et_model *m, struct et_process *p)
{
	EACH(on_exec_begin, m, p);
}

void analyses_on_exec_image(struct et_model *m, struct et_process *p, bool is_static)
{
	EACH(on_exec_image, m, p, is_static);
}

void analyses_on_exit(struct et_model *m, struct et_process *p)
{
	EACH(on_exit, m, p);
}

void analyses_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r)
{
	for (const struct et_analysis *const *a = et_analyses; *a; a++)
		if ((*a)->on_syscall)
			(*a)->on_syscall(m, p, r);
}

/* The analyses placed in (after, upto], by position, ties in the list's
 * order: a few entries, an insertion sort. */
static size_t placed(int after, int upto, int json, const struct et_analysis **out, size_t cap)
{
	size_t n = 0;
	for (const struct et_analysis *const *a = et_analyses; *a && n < cap; a++) {
		int at = json ? (*a)->json_at : (*a)->text_at;
		if (at <= after || at > upto || !(json ? (*a)->render_json != NULL : (*a)->render_text != NULL))
			continue;
		size_t j = n++;
		while (j > 0 && (json ? out[j - 1]->json_at : out[j - 1]->text_at) > at) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = *a;
	}
	return n;
}

#define MAX_ANALYSES 64

void analyses_render_text(const struct et_model *m, int after, int upto, FILE *out)
{
	const struct et_analysis *list[MAX_ANALYSES];
	size_t n = placed(after, upto, 0, list, MAX_ANALYSES);
	for (size_t i = 0; i < n; i++)
		list[i]->render_text(m, out);
}

void analyses_render_json(const struct et_model *m, int after, int upto, struct strbuf *sb)
{
	const struct et_analysis *list[MAX_ANALYSES];
	size_t n = placed(after, upto, 1, list, MAX_ANALYSES);
	for (size_t i = 0; i < n; i++) {
		if (list[i]->json_key)
			sb_printf(sb, ",\"%s\":", list[i]->json_key);
		list[i]->render_json(m, sb);
	}
}

void analyses_free(struct et_model *m)
{
	for (const struct et_analysis *const *a = et_analyses; *a; a++)
		if ((*a)->free)
			(*a)->free(m);
}
