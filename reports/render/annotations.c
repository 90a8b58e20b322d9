/* GitHub Actions annotations: one workflow command per verdict finding,
 * "::error file=F,line=L,title=T::message", which the runner shows in the
 * job's log, its summary and, for a file of the repository, on the pull
 * request's diff. Escaped as the runner unescapes (the rules of the
 * actions toolkit's command.ts): in the message '%', CR and LF as %25, %0D,
 * %0A; in a property also ':' and ',' as %3A, %2C. So a traced program's
 * text stays in its one line and cannot end the command or start another.
 * Before that, control characters and invalid UTF-8 become \xNN, as in the
 * text report. */
#include "ci.h"

#include <stdlib.h>
#include <string.h>

#include "reports/process/lastwords.h"
#include "reports/verdict/verdict.h"

#define WORDS_LINES 10   /* lines of a failed process's last words in its annotation */

/* escaped: s is already the text report's escaped text (the verdict's lines) */
static void escape(struct strbuf *out, const char *s, size_t n, bool property, bool escaped)
{
	struct strbuf esc = STRBUF_INIT;
	if (escaped)
		sb_putn(&esc, s, n);
	else
		sb_escapen(&esc, s, n);
	for (const char *c = sb_str(&esc); *c; c++) {
		if (*c == '%')
			sb_puts(out, "%25");
		else if (*c == '\r')
			sb_puts(out, "%0D");
		else if (*c == '\n')
			sb_puts(out, "%0A");
		else if (property && *c == ':')
			sb_puts(out, "%3A");
		else if (property && *c == ',')
			sb_puts(out, "%2C");
		else
			sb_putc(out, *c);
	}
	sb_free(&esc);
}

/* The last lines the process wrote, each as a line of the message. */
static void words(struct strbuf *out, const struct et_process *p)
{
	const struct lastwords_stream *s = lastwords_pick(p->words, NULL);
	if (!s || !s->len)
		return;
	size_t end = s->len, start;
	while (end && s->buf[end - 1] == '\n')
		end--;
	size_t lines = 0;
	for (start = end; start > 0; start--)
		if (s->buf[start - 1] == '\n' && ++lines == WORDS_LINES)
			break;
	for (size_t i = start; i < end;) {
		size_t j = i;
		while (j < end && s->buf[j] != '\n')
			j++;
		sb_puts(out, "%0A  | ");
		escape(out, s->buf + i, j - i, false, false);
		i = j + 1;
	}
}

void annotations_render(const struct et_model *m, const struct ci_opts *o, FILE *out)
{
	struct verdict v;
	verdict_build(m, &v);
	struct strbuf sb = STRBUF_INIT, text = STRBUF_INIT;
	for (size_t i = 0; i < v.nitems; i++) {
		const struct verdict_item *it = &v.items[i];
		const char *level = "error";
		if (it->kind == VERDICT_LEAK || it->kind == VERDICT_NET)
			level = it->possible ? "notice" : "warning";
		sb_reset(&sb);
		sb_printf(&sb, "::%s ", level);
		char *path = ci_source_path(it->comp_dir, it->file);
		const char *rel = ci_relative(o->source_root, path);
		if (rel) {
			sb_puts(&sb, "file=");
			escape(&sb, rel, strlen(rel), true, false);
			if (it->line > 0)
				sb_printf(&sb, ",line=%d", it->line);
			sb_putc(&sb, ',');
		}
		free(path);
		sb_reset(&text);
		sb_printf(&text, "etrace: %s in ", verdict_kind_name(it->kind));
		sb_escape(&text, it->program);
		sb_puts(&sb, "title=");
		escape(&sb, text.buf, text.len, true, true);
		sb_puts(&sb, "::");
		sb_reset(&text);
		verdict_item_text(it, true, &text);
		escape(&sb, text.buf, text.len, false, true);
		if (it->kind == VERDICT_FAILED || it->kind == VERDICT_KILLED)
			words(&sb, it->proc);
		sb_putc(&sb, '\n');
		fwrite(sb.buf, 1, sb.len, out);
	}
	if (!v.nitems && v.failed) {
		/* a failure with no finding to attach it to: still one line */
		sb_reset(&text);
		verdict_summary(m, &v, &text);
		sb_reset(&sb);
		sb_puts(&sb, "::error title=etrace::");
		escape(&sb, text.buf, text.len, false, true);
		sb_putc(&sb, '\n');
		fwrite(sb.buf, 1, sb.len, out);
	}
	sb_free(&sb);
	sb_free(&text);
	verdict_free(&v);
}
