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

struct et_analysis {
	const char *name;
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
	/* its members of the JSON report: ,"key":value... */
	void (*render_json)(const struct et_model *m, struct strbuf *sb);
	/* lets go of what it keeps in the model */
	void (*free)(struct et_model *m);
};

/* The analyses, in the order their sections are rendered. */
extern const struct et_analysis *const et_analyses[];

void analyses_on_fork(struct et_model *m, struct et_process *parent, struct et_process *child);
void analyses_on_exec_begin(struct et_model *m, struct et_process *p);
void analyses_on_exec_image(struct et_model *m, struct et_process *p, bool is_static);
void analyses_on_exit(struct et_model *m, struct et_process *p);
void analyses_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r);
void analyses_render_text(const struct et_model *m, FILE *out);
void analyses_render_json(const struct et_model *m, struct strbuf *sb);
void analyses_free(struct et_model *m);

#endif
