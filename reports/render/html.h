/* The self-contained HTML report (--html) and the Chrome trace-event JSON
 * that ui.perfetto.dev and chrome://tracing open (--perfetto). */
#ifndef ETRACE_RENDER_HTML_H
#define ETRACE_RENDER_HTML_H

#include <stdio.h>
#include <sys/types.h>

#include "reports/core/model.h"
#include "render.h"

struct html_opts {
	/* Opens a source file for reading with the rights of the user who
	 * asked for the report (etrace runs as root: a file they cannot read
	 * is never embedded). Returns an fd or -1. NULL: no sources. */
	int (*open_source)(const char *path, int flags, mode_t mode);
};

/* The page: the JSON report, the timeline's extra data and the viewer's
 * script and style, all inline (no network). */
void render_html(const struct et_model *m, const struct render_opts *o, const struct html_opts *ho, FILE *out);

/* Writes s (JSON text) so that it cannot end the <script> element it sits
 * in: '<', '>' and '&' become \u003c, \u003e, \u0026. They only occur inside
 * JSON strings, where those escapes mean the same characters. */
void html_put_json(const char *s, size_t n, FILE *out);

void render_perfetto(const struct et_model *m, const struct render_opts *o, FILE *out);

#endif
