/* The list of analyses: see analysis.h. A new analysis is its own files
 * and one line here. */
#include "analysis.h"

#include <stddef.h>

extern const struct et_analysis heap_analysis;  /* reports/heap/heap.c: blocks, heap errors, leaks */
extern const struct et_analysis udp_analysis;   /* reports/net/udp.c: UDP flows and DNS lookups */
extern const struct et_analysis skb_analysis;   /* reports/net/skb.c: --skb packets and route lookups */

const struct et_analysis *const et_analyses[] = {
	&heap_analysis,
	&udp_analysis,
	&skb_analysis,
	NULL,
};

#define EACH(op, ...)                                                   \
	for (const struct et_analysis *const *a = et_analyses; *a; a++) \
		if ((*a)->op)                                           \
			(*a)->op(__VA_ARGS__)

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

void analyses_render_text(const struct et_model *m, FILE *out)
{
	for (const struct et_analysis *const *a = et_analyses; *a; a++)
		if ((*a)->render_text)
			(*a)->render_text(m, out);
}

void analyses_render_json(const struct et_model *m, struct strbuf *sb)
{
	for (const struct et_analysis *const *a = et_analyses; *a; a++)
		if ((*a)->render_json)
			(*a)->render_json(m, sb);
}

void analyses_free(struct et_model *m)
{
	for (const struct et_analysis *const *a = et_analyses; *a; a++)
		if ((*a)->free)
			(*a)->free(m);
}
