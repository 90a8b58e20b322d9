/* The CI formats of the verdict: SARIF 2.1.0 (code scanning), JUnit XML
 * (test dashboards) and GitHub Actions workflow commands (annotations in a
 * job's log and its pull request). All three are built from the verdict's
 * findings (reports/verdict/verdict.c), never from an analysis by name, so a new
 * kind of finding reaches them without a change here. */
#ifndef ETRACE_RENDER_CI_H
#define ETRACE_RENDER_CI_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/core/model.h"
#include "reports/core/strbuf.h"

struct ci_opts {
	/* absolute, without a trailing slash: source files under it are named
	 * relative to it (SARIF's %SRCROOT%, a GitHub annotation's file=) */
	const char *source_root;
	int exit_code;              /* what etrace exits with */
	const char *exit_reason;    /* NULL, or why etrace itself failed */
};

void sarif_render(const struct et_model *m, const struct ci_opts *o, FILE *out);
void junit_render(const struct et_model *m, const struct ci_opts *o, FILE *out);
/* One "::error file=...,line=...,title=...::message" line per finding. */
void annotations_render(const struct et_model *m, const struct ci_opts *o, FILE *out);

/* file relative to root when it is below it ("src/a.c"), else NULL. */
const char *ci_relative(const char *root, const char *file);
/* The absolute path of a source file: file itself, or named from the
 * compilation directory, "." and ".." resolved by name (meson compiles
 * "../src/a.c" from its build directory). Malloc'd; NULL when unknown. */
char *ci_source_path(const char *comp_dir, const char *file);
/* An absolute path with "." and ".." and repeated slashes resolved by name:
 * nothing is looked up. Malloc'd. */
char *ci_normalize(const char *path);
/* The model's command line (argv joined by spaces), into out. */
void ci_command_line(const struct et_model *m, struct strbuf *out);

#endif
