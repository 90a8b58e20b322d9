/* meson's test names (mesontest.h). `meson test` prints a test's name only
 * once the test has finished, one line a result:
 *     " 2/3 parse_numbers      FAIL     0.06s   killed by signal 6 SIGABRT"
 * and it spawns each test's command as its own child. So a failed child of
 * meson takes the name of the first result line written after it exited
 * that reports its status ("exit status N", "killed by signal N ...",
 * "(exit status N or signal ...)"). When two exited children wait with the
 * same status, the line could be either's: neither is named, and as many
 * lines of that status are passed over (a wrong name costs more than none).
 * Passing tests are not named: they exit 0 like meson's other children
 * (ninja, the compiler probes). A test meson expected to fail
 * (should_fail: EXPECTEDFAIL) is marked: its crash is no finding. */
#include "mesontest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "reports/core/xalloc.h"
#include "symbolize/fileutil.h"
#include "lastwords.h"

#define MESON_LINE_MAX 512
#define MESON_NAME_MAX 200

struct meson_skip {
	int code;                   /* the status, as meson writes it (negative: a signal) */
	size_t lines;               /* result lines of that status still to pass over */
};

struct meson_run {
	struct et_process *p;       /* the `meson test` process */
	uint64_t seen;              /* stdout bytes already looked at */
	struct et_process **used;   /* its children a result line was matched to */
	size_t nused;
	struct meson_skip *skips;
	size_t nskips;
};

struct meson_runs {
	struct meson_run *v;
	size_t n;
};

/* python3 /usr/bin/meson test ..., meson test, meson.py test */
static bool is_meson_test(const struct et_process *p)
{
	if (!p->argv)
		return false;
	bool meson = false;
	for (size_t i = 0; p->argv[i] && i < 4; i++) {
		const char *base = path_base(p->argv[i]);
		if (!meson && (strcmp(base, "meson") == 0 || strcmp(base, "meson.py") == 0))
			meson = true;
		else if (meson)
			return strcmp(p->argv[i], "test") == 0;
	}
	return false;
}

/* The status meson writes for a child's wait status (mtest's returncode:
 * negative for a signal). */
static int meson_code(int wait_status)
{
	if (WIFSIGNALED(wait_status))
		return -WTERMSIG(wait_status);
	return WEXITSTATUS(wait_status);
}

static bool parse_int(const char **s, int *out)
{
	const char *q = *s;
	long v = 0;
	if (!isdigit((unsigned char)*q))
		return false;
	while (isdigit((unsigned char)*q)) {
		v = v * 10 + (*q - '0');
		if (v > 1000000)
			return false;
		q++;
	}
	*s = q;
	*out = (int)v;
	return true;
}

/* The status in a result line's details, false when it has none (a passing
 * test, a TAP test's "3/5 subtests passed"). */
static bool details_code(const char *d, int *code)
{
	int v;
	if (strncmp(d, "killed by signal ", 17) == 0) {
		d += 17;
		if (!parse_int(&d, &v) || *d != ' ')
			return false;
		*code = -v;
		return true;
	}
	if (*d == '(')
		d++;
	if (strncmp(d, "exit status ", 12) != 0)
		return false;
	d += 12;
	if (!parse_int(&d, &v) || (*d != '\0' && *d != ' '))
		return false;
	*code = v;
	return true;
}

static const char *const results[] = { "FAIL", "ERROR", "TIMEOUT", "EXPECTEDFAIL", "UNEXPECTEDPASS",
				       "INTERRUPT", "OK", "SKIP" };

/* "N/M name<spaces>RESULT<spaces>1.23s[   details]": the name (allocated)
 * and the status, false for any other line or a result without a status. */
static bool parse_result(const char *line, char **name, int *code, bool *expected)
{
	const char *s = line;
	int n;
	while (*s == ' ')
		s++;
	if (!parse_int(&s, &n) || *s++ != '/' || !parse_int(&s, &n) || *s++ != ' ')
		return false;
	const char *name_start = s;
	for (const char *q = s + 1; *q; q++) {
		if (q[-1] != ' ')
			continue;
		for (size_t k = 0; k < sizeof(results) / sizeof(results[0]); k++) {
			size_t rl = strlen(results[k]);
			if (strncmp(q, results[k], rl) != 0 || q[rl] != ' ')
				continue;
			const char *t = q + rl;
			while (*t == ' ')
				t++;
			if (!isdigit((unsigned char)*t))
				continue;
			while (isdigit((unsigned char)*t) || *t == '.')
				t++;
			if (*t++ != 's' || (*t != '\0' && *t != ' '))
				continue;
			while (*t == ' ')
				t++;
			if (!details_code(t, code))
				return false;
			const char *e = q;
			while (e > name_start && e[-1] == ' ')
				e--;
			if (e == name_start || (size_t)(e - name_start) > MESON_NAME_MAX)
				return false;
			*name = x_checked(strndup(name_start, (size_t)(e - name_start)));
			*expected = strcmp(results[k], "EXPECTEDFAIL") == 0;
			return true;
		}
	}
	return false;
}

static bool used(const struct meson_run *r, const struct et_process *c)
{
	for (size_t i = 0; i < r->nused; i++)
		if (r->used[i] == c)
			return true;
	return false;
}

static void use(struct meson_run *r, struct et_process *c)
{
	r->used = xrealloc(r->used, (r->nused + 1) * sizeof(*r->used));
	r->used[r->nused++] = c;
}

static struct meson_skip *skip_of(struct meson_run *r, int code)
{
	for (size_t i = 0; i < r->nskips; i++)
		if (r->skips[i].code == code)
			return &r->skips[i];
	r->skips = xrealloc(r->skips, (r->nskips + 1) * sizeof(*r->skips));
	r->skips[r->nskips] = (struct meson_skip){ .code = code };
	return &r->skips[r->nskips++];
}

/* A result line: the exited, failed, not yet matched children of meson with
 * its status. */
static void on_result(struct et_model *m, struct meson_run *r, char *name, int code, bool expected)
{
	struct meson_skip *skip = skip_of(r, code);
	if (skip->lines) {
		skip->lines--;
		free(name);
		return;
	}
	struct et_process *match = NULL;
	size_t candidates = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct et_process *c = m->procs[i];
		if (c->ppid != r->p->pid || c == r->p || !c->exited || !c->wait_status ||
		    meson_code(c->wait_status) != code || used(r, c))
			continue;
		candidates++;
		match = c;
		use(r, c);
	}
	if (candidates == 1 && !match->test_name) {
		match->test_name = name;
		match->expected_fail = expected;
	} else {
		free(name);
	}
	if (candidates > 1)
		skip->lines = candidates - 1;
}

/* p's run when p is `meson test`. Whether it is, is decided once per image
 * (p->meson_test, reset at exec): every process's stdout writes come here. */
static struct meson_run *run_of(struct meson_runs *runs, struct et_process *p)
{
	if (!p->meson_test)
		p->meson_test = is_meson_test(p) ? 1 : -1;
	if (p->meson_test < 0)
		return NULL;
	for (size_t i = 0; i < runs->n; i++)
		if (runs->v[i].p == p)
			return &runs->v[i];
	runs->v = xrealloc(runs->v, (runs->n + 1) * sizeof(*runs->v));
	runs->v[runs->n] = (struct meson_run){ .p = p };
	return &runs->v[runs->n++];
}

struct result_ctx {
	struct et_model *m;
	struct meson_run *r;
};

static void result_line(const char *line, void *arg)
{
	struct result_ctx *c = arg;
	char *name;
	int code;
	bool expected;
	if (!parse_result(line, &name, &code, &expected))
		return;
	if (code)
		on_result(c->m, c->r, name, code, expected);
	else
		free(name);
}

void mesontest_on_stdout(struct et_model *m, struct meson_runs **runsp, struct et_process *p)
{
	if (!p->words || p->words->s[0].kept == 0)
		return;
	if (!*runsp)
		*runsp = xcalloc(1, sizeof(**runsp));
	struct meson_run *r = run_of(*runsp, p);
	if (!r)
		return;
	struct result_ctx ctx = { m, r };
	lastwords_new_lines(&p->words->s[0], &r->seen, 8, MESON_LINE_MAX, result_line, &ctx);
}

void mesontest_free(struct meson_runs *runs)
{
	if (!runs)
		return;
	for (size_t i = 0; i < runs->n; i++) {
		free(runs->v[i].used);
		free(runs->v[i].skips);
	}
	free(runs->v);
	free(runs);
}
