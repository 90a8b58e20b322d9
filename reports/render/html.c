/* The HTML report: one file that opens in any browser without a network.
 *
 * The page is the JSON report (the same one --json writes) plus what the
 * timeline needs beyond it (thread lifetimes, the processes' notes, live
 * heap bytes over time, the verdict as the text report words it, source
 * lines around the crash frames), each in a <script type="application/json">
 * element, and the viewer (reports/render/html/page.js, page.css) inline.
 * Everything the traced program chose (argv, output, paths) reaches the page
 * only inside those JSON strings, escaped so it cannot end the element. */
#include "html.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/heap/heapseries.h"
#include "reports/verdict/verdict.h"
#include "html_assets.h"
#include "reports/core/error.h"

/* Source snippets: lines around each crash frame, at most this many frames
 * and this many bytes a line (a minified file is not the page's content). */
#define SRC_FRAMES_MAX 64
#define SRC_CONTEXT 4
#define SRC_LINE_MAX 400
#define SRC_FILE_MAX (64u << 20)

void html_put_json(const char *s, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '<')
			fputs("\\u003c", out);
		else if (c == '>')
			fputs("\\u003e", out);
		else if (c == '&')
			fputs("\\u0026", out);
		else
			fputc(c, out);
	}
}

static void put_script_json(const char *id, const char *json, size_t n, FILE *out)
{
	fprintf(out, "<script type=\"application/json\" id=\"%s\">", id);
	html_put_json(json, n, out);
	fputs("</script>\n", out);
}

/* ---- the extra data ------------------------------------------------------------------- */

static void json_ms_or_null(const struct et_model *m, struct strbuf *sb, uint64_t ts)
{
	if (ts)
		sb_printf(sb, "%.3f", model_rel_ms(m, ts));
	else
		sb_puts(sb, "null");
}

static void extra_threads(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, "\"threads\":[");
	bool first = true;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		for (size_t j = 0; j < p->nthreads; j++) {
			const struct et_thread *t = p->threads[j];
			sb_printf(sb, "%s{\"pid\":%d,\"proc\":%zu,\"tid\":%d,\"comm\":", first ? "" : ",", p->pid, i, t->tid);
			sb_json_str(sb, t->comm);
			sb_puts(sb, ",\"start_ms\":");
			json_ms_or_null(m, sb, t->start_ts);
			sb_puts(sb, ",\"end_ms\":");
			json_ms_or_null(m, sb, t->exited ? t->end_ts : 0);
			sb_printf(sb, ",\"syscalls\":%lu}", (unsigned long)t->nsyscalls);
			first = false;
		}
	}
	sb_puts(sb, "]");
}

static void extra_notes(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, ",\"notes\":[");
	bool first = true;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		for (size_t j = 0; j < p->notes_count; j++) {
			const struct et_note *n = process_note(p, j);
			if (n->kind != ET_NOTE_EVENT)
				continue;
			sb_printf(sb, "%s{\"pid\":%d,\"proc\":%zu,\"tid\":%d,\"t_ms\":%.3f,\"text\":", first ? "" : ",", p->pid, i,
				  n->tid, model_rel_ms(m, n->ts));
			sb_json_str(sb, n->text);
			sb_putc(sb, '}');
			first = false;
		}
	}
	sb_puts(sb, "]");
}

static void extra_heap_series(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, ",\"heap_series\":[");
	bool first = true;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		const struct heapseries *s = p->heap_series;
		if (!s || !s->n)
			continue;
		sb_printf(sb, "%s{\"pid\":%d,\"proc\":%zu,\"step_ms\":%.3f,\"samples\":%lu,\"points\":[", first ? "" : ",",
			  p->pid, i, (double)s->step_ns / 1e6, (unsigned long)s->samples);
		for (size_t k = 0; k < s->n; k++)
			sb_printf(sb, "%s[%.3f,%lu,%lu]", k ? "," : "", model_rel_ms(m, s->pts[k].ts),
				  (unsigned long)s->pts[k].bytes, (unsigned long)s->pts[k].last);
		sb_puts(sb, "]}");
		first = false;
	}
	sb_puts(sb, "]");
}

/* ---- source lines --------------------------------------------------------------------- */

struct src_want {
	const char *file;   /* as the frame names it */
	int line;
};

/* Reads lines [from, to] of an open file into a JSON array. Returns the
 * number of lines found (0: the file is shorter). */
static int read_lines(int fd, int from, int to, struct strbuf *sb)
{
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int no = 0, found = 0;
	sb_putc(sb, '[');
	while (no < to && (len = getline(&line, &cap, f)) >= 0) {
		no++;
		if (no < from)
			continue;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > SRC_LINE_MAX)
			len = SRC_LINE_MAX;
		if (found++)
			sb_putc(sb, ',');
		sb_json_strn(sb, line, (size_t)len);
	}
	sb_putc(sb, ']');
	free(line);
	fclose(f);
	return found;
}

/* Opens a frame's source file as the invoking user: absolute, or relative
 * to the directory the program started in (where a build's relative names
 * usually point). Only a regular file, without blocking on a FIFO. */
static int open_source(const struct et_model *m, const struct html_opts *ho, const char *file, struct strbuf *path)
{
	sb_reset(path);
	if (file[0] == '/')
		sb_puts(path, file);
	else if (m->start_cwd)
		sb_printf(path, "%s/%s", m->start_cwd, file);
	else
		return -1;
	int fd = ho->open_source(sb_str(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size > SRC_FILE_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

static void collect_frames(const struct sym_backtrace *bt, struct src_want *w, size_t *n)
{
	for (size_t i = 0; i < bt->nframes && *n < SRC_FRAMES_MAX; i++) {
		const struct sym_frame *f = &bt->frames[i];
		if (!f->file || f->line <= 0)
			continue;
		bool dup = false;
		for (size_t k = 0; k < *n && !dup; k++)
			dup = w[k].line == f->line && strcmp(w[k].file, f->file) == 0;
		if (!dup)
			w[(*n)++] = (struct src_want){ f->file, f->line };
	}
}

static void extra_sources(const struct et_model *m, const struct html_opts *ho, struct strbuf *sb)
{
	struct src_want want[SRC_FRAMES_MAX];
	size_t n = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		for (const struct et_crash *c = m->procs[i]->crash; c; c = c->next)
			if (c->analyzed)
				collect_frames(&c->bt, want, &n);
	sb_puts(sb, ",\"sources\":[");
	struct strbuf path = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		int from = want[i].line > SRC_CONTEXT ? want[i].line - SRC_CONTEXT : 1;
		sb_puts(sb, i ? ",{\"file\":" : "{\"file\":");
		sb_json_str(sb, want[i].file);
		sb_printf(sb, ",\"line\":%d,\"first\":%d,\"lines\":", want[i].line, from);
		int fd = ho && ho->open_source ? open_source(m, ho, want[i].file, &path) : -1;
		if (fd < 0 || read_lines(fd, from, want[i].line + SRC_CONTEXT, sb) == 0) {
			if (fd < 0)
				sb_puts(sb, "null");
			sb_puts(sb, ",\"why\":\"not found, or not readable by the user who asked for the report\"}");
			continue;
		}
		sb_puts(sb, "}");
	}
	sb_free(&path);
	sb_puts(sb, "]");
}

static void extra_verdict(const struct et_model *m, struct strbuf *sb)
{
	struct verdict v;
	verdict_build(m, &v);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		verdict_render_text(m, &v, f);
		fclose(f);
	}
	sb_puts(sb, ",\"verdict_text\":");
	sb_json_str(sb, text);
	free(text);
	struct strbuf sum = STRBUF_INIT;
	verdict_summary(m, &v, &sum);
	sb_puts(sb, ",\"summary\":");
	sb_json_str(sb, sb_str(&sum));
	sb_free(&sum);
	verdict_free(&v);
}

void render_html(const struct et_model *m, const struct render_opts *o, const struct html_opts *ho, FILE *out)
{
	char *json = NULL;
	size_t json_len = 0;
	FILE *jf = open_memstream(&json, &json_len);
	if (!jf) {
		et_error("out of memory");
		return;
	}
	render_json(m, o, jf);
	fclose(jf);

	struct strbuf extra = STRBUF_INIT;
	sb_puts(&extra, "{\"schema\":\"etrace-html/1\",");
	extra_threads(m, &extra);
	extra_notes(m, &extra);
	extra_heap_series(m, &extra);
	extra_sources(m, ho, &extra);
	extra_verdict(m, &extra);
	sb_puts(&extra, "}");

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>etrace report</title>\n<style>\n", out);
	fwrite(html_asset_css, 1, html_asset_css_len, out);
	fputs("</style></head>\n<body>\n"
	      "<noscript><p>This etrace report draws itself with JavaScript; the data is in the "
	      "etrace-report element of this file (the JSON report).</p></noscript>\n"
	      "<div id=\"app\"></div>\n", out);
	put_script_json("etrace-report", json, json_len, out);
	put_script_json("etrace-extra", sb_str(&extra), strlen(sb_str(&extra)), out);
	fputs("<script>\n", out);
	fwrite(html_asset_js, 1, html_asset_js_len, out);
	fputs("</script>\n</body></html>\n", out);
	sb_free(&extra);
	free(json);
}
