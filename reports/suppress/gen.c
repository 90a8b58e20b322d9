/* --gen-suppressions: after the report's sections, a valgrind-format
 * entry for each leak the verdict lists, ready to paste into a file given
 * to --suppressions (which reads it back: tests/test_suppressions.py). */
#include "gen.h"

#include <string.h>

#include "reports/core/strbuf.h"
#include "supp.h"

/* "etrace-leak-prog-function": letters, digits and -_. only */
static void entry_name(struct strbuf *out, const struct verdict_item *it)
{
	const char *parts[] = { "etrace-leak", it->program, it->function ? it->function : it->module };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (!parts[i])
			continue;
		if (i)
			sb_putc(out, '-');
		for (const char *c = parts[i]; *c && c - parts[i] < 60; c++) {
			if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-_.", *c))
				sb_putc(out, *c);
			else if (*c == '(')
				break;
			else
				sb_putc(out, '_');
		}
	}
}

void supp_gen_render_text(const struct et_model *m, const struct verdict *v, FILE *out)
{
	(void)m;
	size_t n = 0;
	for (size_t i = 0; i < v->nitems; i++)
		n += v->items[i].kind == VERDICT_LEAK;
	fputs("\n-- suppressions (--gen-suppressions) ", out);
	for (size_t k = 37; k < 72; k++)
		fputc('-', out);
	fputc('\n', out);
	if (!n) {
		fputs("  no leak listed: nothing to suppress\n", out);
		return;
	}
	struct strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
	for (size_t i = 0; i < v->nitems; i++) {
		const struct verdict_item *it = &v->items[i];
		if (it->kind != VERDICT_LEAK)
			continue;
		sb_reset(&sb);
		sb_puts(&sb, "# ");
		verdict_item_text(it, false, &sb);
		sb_putc(&sb, '\n');
		sb_reset(&name);
		entry_name(&name, it);
		unsigned kind = it->possible ? SUPP_POSSIBLE : it->definite ? SUPP_DEFINITE : SUPP_INDIRECT;
		supp_generate_leak(&sb, sb_str(&name), it->alloc_fn, it->frames, it->nframes, kind);
		fputs(sb_str(&sb), out);
	}
	sb_free(&sb);
	sb_free(&name);
}
