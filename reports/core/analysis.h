/*
 * One shape for every analysis (Redis' dictType): a table of operations,
 * registered once in reports/core/analyses.c. The model core and the renderers
 * call the list, never an analysis by name; an analysis reaches the model
 * through these operations and the record types it takes (evtypes.c).
 * Every operation is optional (NULL).
 */
#ifndef ETRACE_ANALYSIS_H
#define ETRACE_ANALYSIS_H

#include <stdbool.h>
#include <stdio.h>
#include "strbuf.h"

struct et_model;
struct et_process;
struct et_record;

/* The report's order. The renderers' own sections stand at these
 * positions; an analysis places its text section and its JSON members at
 * the position it names (text_at, json_at), between two of them; ties keep
 * the list's order. A placement per output: the text and the JSON report
 * do not list everything in the same order. */
enum et_report_at {
	ET_AT_START = 0,
	ET_AT_PROCESSES = 100,  /* the process tree */
	ET_AT_FAILURES = 200,   /* failed syscalls */
	ET_AT_SUMMARY = 500,    /* the syscall summary */
	ET_AT_SEQUENCES = 600,  /* text: the last syscalls of each thread */
	ET_AT_EVENTS = 700,     /* events received and lost */
};

struct et_analysis {
	const char *name;
	int text_at, json_at;   /* enum et_report_at: after which section */
	/* makes what it keeps in the model (model_init) */
	void (*init)(struct et_model *m);
	/* a new process (not a thread): child starts as a copy of parent; a
	 * vfork child shares its parent's memory (child->vm_parent is set) */
	void (*on_fork)(struct et_model *m, struct et_process *parent, struct et_process *child);
	/* an exec, before the process's modules are replaced */
	void (*on_exec_begin)(struct et_model *m, struct et_process *p);
	/* an exec's new image is known (its modules; is_static: no
	 * interpreter); not called for a privileged image, of which nothing is
	 * recorded */
	void (*on_exec_image)(struct et_model *m, struct et_process *p, bool is_static);
	/* the last thread of p exited */
	void (*on_exit)(struct et_model *m, struct et_process *p);
	/* a syscall the model just took (r: as stored, with its fds) */
	void (*on_syscall)(struct et_model *m, struct et_process *p, const struct et_record *r);
	/* its section(s) of the text report */
	void (*render_text)(const struct et_model *m, FILE *out);
	/* its members of the JSON report: ,"key":value...; with json_key set,
	 * the list writes ,"json_key": and render_json the one value */
	void (*render_json)(const struct et_model *m, struct strbuf *sb);
	const char *json_key;
	/* lets go of what it keeps in the model */
	void (*free)(struct et_model *m);
};

/* The analyses, in the order their sections are rendered. */
extern const struct et_analysis *const et_analyses[];

/* An analysis' own state in the model (NULL until it sets one): what it
 * keeps, without a field of its own in struct et_model. Its free op lets
 * go of it. */
void *analysis_state(const struct et_model *m, const struct et_analysis *a);
void analysis_set_state(struct et_model *m, const struct et_analysis *a, void *state);

void analyses_init(struct et_model *m);
void analyses_on_fork(struct et_model *m, struct et_process *parent, struct et_process *child);
void analyses_on_exec_begin(struct et_model *m, struct et_process *p);
void analyses_on_exec_image(struct et_model *m, struct et_process *p, bool is_static);
void analyses_on_exit(struct et_model *m, struct et_process *p);
void analyses_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r);
/* The sections of the analyses placed in (after, upto]: */
void analyses_render_text(const struct et_model *m, int after, int upto, FILE *out);
void analyses_render_json(const struct et_model *m, int after, int upto, struct strbuf *sb);
void analyses_free(struct et_model *m);

#endif
