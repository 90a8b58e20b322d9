/* The CI outputs of a run (see cireport.h). */
#include "cireport.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../reports/render/ci.h"
#include "reports/core/xalloc.h"

char *ci_normalize_dir(const char *dir)
{
	if (dir[0] == '/')
		return ci_normalize(dir);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	size_t n = strlen(cwd) + strlen(dir) + 2;
	char *joined = xmalloc(n);
	snprintf(joined, n, "%s/%s", cwd, dir);
	free(cwd);
	char *out = ci_normalize(joined);
	free(joined);
	return out;
}

int ci_outputs_open(struct ci_outputs *c, const struct run_opts *o, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->sarif.fd = c->junit.fd = -1;
	const char *gha = getenv("GITHUB_ACTIONS");
	c->annotations = o->github_annotations == ET_ANNOTATIONS_ALWAYS ||
			 (o->github_annotations == ET_ANNOTATIONS_AUTO && gha && strcmp(gha, "true") == 0);
	c->newline_first = o->output || o->when != REPORT_ALWAYS;
	if (!o->sarif && !o->junit && !c->annotations)
		return 0;
	/* the root files are named from: --source-root, else the checkout a
	 * GitHub job runs in, else the working directory */
	const char *root = o->source_root ? o->source_root : getenv("GITHUB_WORKSPACE");
	if (!root || !root[0])
		root = ".";
	c->source_root = ci_normalize_dir(root);
	if (!c->source_root) {
		snprintf(err, errlen, "cannot name the source root %s: no working directory", root);
		return -1;
	}
	if (outfile_open(&c->sarif, o->sarif, "the SARIF report", err, errlen) < 0 ||
	    outfile_open(&c->junit, o->junit, "the JUnit report", err, errlen) < 0)
		return -1;
	return 0;
}

void ci_outputs_write(struct ci_outputs *c, const struct et_model *m, int exit_code, const char *exit_reason)
{
	struct ci_opts co = { .source_root = c->source_root, .exit_code = exit_code, .exit_reason = exit_reason };
	FILE *f;
	if (c->sarif.path && (f = outfile_begin(&c->sarif))) {
		sarif_render(m, &co, f);
		outfile_finish(f, "the SARIF report", c->sarif.path);
	}
	if (c->junit.path && (f = outfile_begin(&c->junit))) {
		junit_render(m, &co, f);
		outfile_finish(f, "the JUnit report", c->junit.path);
	}
	if (c->annotations) {
		if (c->newline_first)
			fputc('\n', stderr);
		annotations_render(m, &co, stderr);
		fflush(stderr);
	}
}

void ci_outputs_close(struct ci_outputs *c)
{
	outfile_discard(&c->sarif);
	outfile_discard(&c->junit);
	free(c->source_root);
	c->source_root = NULL;
}
