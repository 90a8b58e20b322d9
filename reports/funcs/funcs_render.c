/* The traced-functions analysis (--trace-func): the functions that were
 * called, most calls first, and the last entries and returns of each thread
 * that made any; the JSON report's "traced_functions". The model core keeps
 * the calls (model_on_func). */
#include <stdio.h>
#include <stdlib.h>

#include "reports/core/analysis.h"
#include "reports/core/heading.h"
#include "reports/core/model.h"
#include "reports/core/strbuf.h"

/* a function's name came from the traced program's ELF file */
static void put_escaped(FILE *out, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	fputs(sb_escaped(&sb, s), out);
	sb_free(&sb);
}

#define FUNC_EVENTS_SHOWN 12
#define FUNC_THREADS_SHOWN 8

static void funcs_render_text(const struct et_model *m, FILE *out)
{
	if (!m->nfuncs)
		return;
	char title[96];
	snprintf(title, sizeof(title), "traced functions (%zu)", m->nfuncs);
	report_heading(out, title);
	size_t *order = calloc(m->nfuncs, sizeof(*order)), n = 0;
	if (!order)
		return;
	for (size_t i = 0; i < m->nfuncs; i++) {
		if (!m->funcs[i].calls)
			continue;
		size_t j = n++;
		while (j > 0 && m->funcs[order[j - 1]].calls < m->funcs[i].calls) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	fprintf(out, "  %9s %9s  %s\n", "calls", "returns", "function");
	for (size_t k = 0; k < n; k++) {
		const struct et_traced_func *f = &m->funcs[order[k]];
		fprintf(out, "  %9lu %9lu  ", (unsigned long)f->calls, (unsigned long)f->returns);
		put_escaped(out, f->f.name);
		fputc('\n', out);
	}
	if (n < m->nfuncs)
		fprintf(out, "  (%zu traced function%s not called)\n", m->nfuncs - n, m->nfuncs - n == 1 ? "" : "s");
	free(order);

	struct strbuf sb = STRBUF_INIT;
	size_t threads = 0, more = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		for (size_t j = 0; j < m->procs[i]->nthreads; j++) {
			const struct et_thread *t = m->procs[i]->threads[j];
			if (!t->fring_count)
				continue;
			if (threads++ >= FUNC_THREADS_SHOWN) {
				more++;
				continue;
			}
			size_t first = t->fring_count > FUNC_EVENTS_SHOWN ? t->fring_count - FUNC_EVENTS_SHOWN : 0;
			fprintf(out, "  pid %d tid %d (%s): %lu call%s, the last %zu entries and returns:\n", t->pid, t->tid,
				t->comm[0] ? sb_escaped(&sb, t->comm) : "?", (unsigned long)t->nfunc_calls, t->nfunc_calls == 1 ? "" : "s",
				t->fring_count - first);
			for (size_t k = first; k < t->fring_count; k++) {
				const struct et_func_event *e = thread_func_event(t, k);
				sb_reset(&sb);
				model_func_event_text(m, e, &sb);
				fprintf(out, "    %+10.3f ms  %s\n", model_rel_ms(m, e->ts), sb_str(&sb));
			}
		}
	}
	if (more)
		fprintf(out, "  (%zu more threads made calls: the JSON report has them)\n", more);
	sb_free(&sb);
}

static void funcs_render_json(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, ",\"traced_functions\":[");
	for (size_t i = 0; i < m->nfuncs; i++) {
		const struct et_traced_func *tf = &m->funcs[i];
		if (i)
			sb_putc(sb, ',');
		sb_puts(sb, "{\"name\":");
		sb_json_str(sb, tf->f.name);
		sb_printf(sb, ",\"address\":\"0x%lx\",\"calls\":%lu,\"returns\":%lu,\"return_probe\":%s,\"params\":",
			  (unsigned long)tf->f.addr, (unsigned long)tf->calls, (unsigned long)tf->returns,
			  tf->f.is_entry ? "false" : "true");
		if (tf->f.proto.known) {
			sb_putc(sb, '[');
			for (int k = 0; k < tf->f.proto.nparams && k < ELFSYM_PARAMS; k++) {
				if (k)
					sb_putc(sb, ',');
				sb_json_str(sb, tf->f.proto.names[k]);
			}
			sb_putc(sb, ']');
		} else {
			sb_puts(sb, "null");
		}
		sb_putc(sb, '}');
	}
	sb_puts(sb, "]");
}

const struct et_analysis funcs_analysis = {
	.name = "funcs",
	.text_at = ET_AT_SUMMARY + 20,
	.json_at = ET_AT_SUMMARY + 10,
	.render_text = funcs_render_text,
	.render_json = funcs_render_json,
};
