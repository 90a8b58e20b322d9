/* Test names (testname.h). Two runners say which test a process runs:
 *   ctest writes "    Start 2: failing" to its stdout right before it
 *   spawns that test's command (with -j too: one Start line, one spawn),
 *   so the child ctest forks takes the name its last line announced;
 *   automake's test-driver has it in its own argv (--test-name NAME).
 * A process inherits its parent's test: the test's command may be a
 * script whose child is the one that fails. meson prints a test's name
 * only when it has finished: its result line names the child that just
 * failed with that status (mesontest.c). pytest runs tests in one process:
 * no process is named, its summary's failed tests are kept with it
 * (pytesttest.c); so are unittest's (unittesttest.c). */
#include "testname.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reports/core/analysis.h"
#include "reports/core/xalloc.h"
#include "symbolize/fileutil.h"
#include "reports/syscalls/syscall_table.h"
#include "lastwords.h"
#include "mesontest.h"
#include "pytesttest.h"
#include "unittesttest.h"

#define TEST_NAME_MAX 200

const struct et_analysis testname_analysis;

static bool is_ctest(const struct et_process *p)
{
	const char *prog = p->exe ? p->exe : p->argv ? p->argv[0] : NULL;
	return prog && strcmp(path_base(prog), "ctest") == 0;
}

/* "    Start 12: name" as the last line of ctest's stdout: the name. */
static char *ctest_announced(const struct et_process *p)
{
	if (!p->words)
		return NULL;
	const char *line;
	size_t n;
	if (!lastwords_last_line(&p->words->s[0], &line, &n))
		return NULL;
	size_t i = 0;
	while (i < n && line[i] == ' ')
		i++;
	if (n - i < 6 || memcmp(line + i, "Start ", 6) != 0)
		return NULL;
	i += 6;
	while (i < n && line[i] == ' ')
		i++;
	size_t digits = i;
	while (i < n && isdigit((unsigned char)line[i]))
		i++;
	if (i == digits || i + 2 > n || line[i] != ':' || line[i + 1] != ' ')
		return NULL;
	i += 2;
	size_t len = n - i;
	while (len && (line[i + len - 1] == ' ' || line[i + len - 1] == '\r'))
		len--;
	if (!len || len > TEST_NAME_MAX)
		return NULL;
	return x_checked(strndup(line + i, len));
}

static void testname_on_fork(struct et_model *m, struct et_process *parent, struct et_process *child)
{
	(void)m;
	if (parent->test_name)
		child->test_name = xstrdup(parent->test_name);
	else if (is_ctest(parent))
		child->test_name = ctest_announced(parent);
}

/* automake's "test-driver --test-name NAME --log-file ... -- ./prog" */
static const char *driver_name(const struct et_process *p)
{
	if (!p->argv)
		return NULL;
	bool driver = false;
	for (size_t i = 0; p->argv[i]; i++) {
		if (strcmp(p->argv[i], "--") == 0)
			return NULL;
		const char *base = path_base(p->argv[i]);
		if (strcmp(base, "test-driver") == 0)
			driver = true;
		else if (driver && strcmp(p->argv[i], "--test-name") == 0 && p->argv[i + 1] && p->argv[i + 1][0] &&
			 strlen(p->argv[i + 1]) <= TEST_NAME_MAX)
			return p->argv[i + 1];
	}
	return NULL;
}

const char *process_test_name(const struct et_model *m, const struct et_process *p)
{
	/* up the tree to the test's process or its driver: a bounded walk (a
	 * forged recording's ppids may loop). An ancestor's name may have come
	 * after its children were forked (meson names a test when it ended). */
	for (int depth = 0; p && depth < 64; depth++) {
		if (p->test_name)
			return p->test_name;
		const char *name = driver_name(p);
		if (name)
			return name;
		p = model_parent(m, p);
	}
	return NULL;
}

bool process_expected_fail(const struct et_model *m, const struct et_process *p)
{
	for (int depth = 0; p && depth < 64; depth++) {
		if (p->test_name)
			return p->expected_fail;
		p = model_parent(m, p);
	}
	return false;
}

/* a write to stdout: meson's result lines name its failed children, pytest's
 * summary its failed tests; to stderr: unittest's failures */
static void testname_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r)
{
	const struct ev_syscall *ev = &r->ev;
	if ((long)ev->ret <= 0 || (ev->args[0] != 1 && ev->args[0] != 2) || !p->words)
		return;
	const struct syscall_sig *sig = syscall_sig_by_nr(ev->nr);
	if (!sig || strncmp(sig->name, "write", 5) != 0)
		return;
	if (ev->args[0] == 2) {
		unittesttest_on_stderr(p);
		return;
	}
	struct meson_runs *runs = analysis_state(m, &testname_analysis);
	mesontest_on_stdout(m, &runs, p);
	analysis_set_state(m, &testname_analysis, runs);
	pytesttest_on_stdout(p);
}

/* a new image: whether it is `meson test` or pytest is asked again */
static void testname_on_exec_begin(struct et_model *m, struct et_process *p)
{
	(void)m;
	p->meson_test = 0;
	p->pytest = 0;
	failed_tests_free(p->failed_tests);
	p->failed_tests = NULL;
}

static void testname_free(struct et_model *m)
{
	mesontest_free(analysis_state(m, &testname_analysis));
	analysis_set_state(m, &testname_analysis, NULL);
	for (size_t i = 0; i < m->nprocs; i++) {
		free(m->procs[i]->test_name);
		m->procs[i]->test_name = NULL;
		failed_tests_free(m->procs[i]->failed_tests);
		m->procs[i]->failed_tests = NULL;
	}
}

/* no section of its own: the verdict and the JUnit report name the test */
const struct et_analysis testname_analysis = {
	.name = "testname",
	.on_fork = testname_on_fork,
	.on_exec_begin = testname_on_exec_begin,
	.on_syscall = testname_on_syscall,
	.free = testname_free,
};
