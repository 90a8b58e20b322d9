/* Renderers of the model: text for people, JSON for machines, and the
 * JSON Lines event stream (--events). */
#ifndef ETRACE_RENDER_H
#define ETRACE_RENDER_H

#include <stdio.h>
#include "reports/core/model.h"

#define ETRACE_SCHEMA "etrace-report/1"
#define ETRACE_EVENTS_SCHEMA "etrace-events/1"

struct render_opts {
	int exit_code;          /* what etrace exits with */
	const char *exit_reason; /* NULL, or why etrace failed */
	int color;              /* reserved */
};

void render_text(const struct et_model *m, const struct render_opts *o, FILE *out);
void render_json(const struct et_model *m, const struct render_opts *o, FILE *out);

/* One JSON object per line for a record just ingested. */
void render_event_line(const struct et_model *m, const struct ev_header *h,
		       const struct et_record *r, FILE *out);

/* The --events line of each record type (the table in evtypes.c names them). */
#define EVLINE(name) void evline_##name(const struct et_model *m, const struct ev_header *h, \
					const struct et_record *r, double wall, struct strbuf *sb)
EVLINE(syscall);
EVLINE(fork);
EVLINE(exec);
EVLINE(exit);
EVLINE(signal);
EVLINE(siggen);
EVLINE(crash);
EVLINE(sock);
EVLINE(func);
#undef EVLINE

/* Shared by the renderers: "killed by SIGSEGV" etc. as a JSON object. */
void json_wait_status(int status, struct strbuf *out);

#endif
