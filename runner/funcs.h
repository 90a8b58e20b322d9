/* --trace-func: which functions of the target executable get probes. */
#ifndef ETRACE_FUNCS_H
#define ETRACE_FUNCS_H

#include <stdbool.h>
#include <stddef.h>
#include "reports/core/model.h"

/* More matches than this are refused unless forced: each is a uprobe and a
 * uretprobe, paid by every process that runs the file. */
#define ETRACE_MAX_TRACED_FUNCS 1000

/* Globs the patterns over the function symbols of the executable at path
 * (shown as `shown` in messages) and adds the matches, with what DWARF says
 * of their signatures, to m->funcs. Returns 0, or -1 with a one-line
 * message in err: a pattern that matches nothing, too many matches, a file
 * that is not ELF. */
int funcs_plan(struct et_model *m, const char *path, const char *shown, const char *const *patterns,
	       size_t npatterns, bool force, char *err, size_t errlen);

#endif
