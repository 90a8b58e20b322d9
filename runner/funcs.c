/* --trace-func: the target's functions to probe; see funcs.h. */
#include "funcs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../symbolize/elfsyms.h"

int funcs_plan(struct et_model *m, const char *path, const char *shown, const char *const *patterns,
	       size_t npatterns, bool force, char *err, size_t errlen)
{
	struct elfsyms s;
	char why[400];
	if (elfsyms_read(path, &s, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--trace-func: %s; it probes the program's own functions", why);
		return -1;
	}
	int rc = -1;
	unsigned char *sel = calloc(s.n ? s.n : 1, 1);
	if (!sel) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	const char *hint = "";
	if (!s.table)
		hint = " (it has no symbol table)";
	else if (strcmp(s.table, ".dynsym") == 0)
		hint = " (it is stripped: only its exported functions are known)";
	for (size_t i = 0; i < npatterns; i++) {
		if (elfsyms_glob(&s, patterns[i], sel) == 0) {
			snprintf(err, errlen, "--trace-func '%s': no function of %s matches%s", patterns[i], shown, hint);
			goto out;
		}
	}
	size_t count = 0;
	for (size_t i = 0; i < s.n; i++)
		count += sel[i];
	if (count > ETRACE_MAX_TRACED_FUNCS && !force) {
		if (npatterns == 1)
			snprintf(err, errlen,
				 "--trace-func '%s' matches %zu functions of %s, more than %d (each is a uprobe and a "
				 "uretprobe): narrow the pattern, or add --trace-func-force",
				 patterns[0], count, shown, ETRACE_MAX_TRACED_FUNCS);
		else
			snprintf(err, errlen,
				 "the --trace-func patterns match %zu functions of %s, more than %d (each is a uprobe and "
				 "a uretprobe): narrow them, or add --trace-func-force",
				 count, shown, ETRACE_MAX_TRACED_FUNCS);
		goto out;
	}
	elfsyms_protos(path, &s, sel);
	for (size_t i = 0; i < s.n; i++)
		if (sel[i])
			model_add_traced_func(m, &s.funcs[i]);
	/* a copy: a replayed recording's path lives in a frame buffer that is reused */
	free(m->funcs_exe);
	m->funcs_exe = strdup(path);
	rc = 0;
out:
	free(sel);
	elfsyms_free(&s);
	return rc;
}
