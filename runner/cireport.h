/* The CI outputs of a run (reports/render/ci.h): --sarif=FILE,
 * --junit=FILE, and GitHub Actions annotations on stderr (--github-
 * annotations, or when GITHUB_ACTIONS=true). Opened with the report files,
 * before the program starts; written after the report. */
#ifndef ETRACE_CIREPORT_H
#define ETRACE_CIREPORT_H

#include <stddef.h>

#include "outfile.h"
#include "run.h"
#include "reports/core/model.h"

struct ci_outputs {
	struct outfile sarif, junit;
	char *source_root;
	int annotations;     /* 1: write them */
	int newline_first;   /* the program's output may be the last on stderr: start a line */
};

/* Returns 0, or -1 with a one-line message in err. */
int ci_outputs_open(struct ci_outputs *c, const struct run_opts *o, char *err, size_t errlen);
/* Writes every output asked for; a failed write is said, never fatal. */
void ci_outputs_write(struct ci_outputs *c, const struct et_model *m, int exit_code, const char *exit_reason);
/* Frees; files created and not written are removed. */
void ci_outputs_close(struct ci_outputs *c);

/* The absolute, lexically normalized path of dir (relative to the working
 * directory); NULL when it cannot be made (no working directory). */
char *ci_normalize_dir(const char *dir);

#endif
