/* --junit=FILE: the run as a JUnit XML report, the file CI dashboards
 * (Jenkins, GitLab, GitHub test reporters) read. The test cases are the
 * project's programs the run started: every process that is not a system
 * program (the verdict's rule: make, sh, python3 running the system's
 * scripts are the suite's machinery) and exec'd a program of its own (a
 * fork of a test without an exec is part of that test). A run of system
 * programs only is one test case, the command itself. A test case fails
 * when its process failed (exit status, crash, signal) or the verdict lists
 * a finding of it that --error-exitcode counts (a heap error, a leak
 * definitely or indirectly lost); the failure's message is the verdict's
 * line, its body every finding of the process and its last words. */
#include "ci.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reports/process/sysprog.h"
#include "reports/process/lastwords.h"
#include "reports/process/testname.h"
#include "reports/verdict/verdict.h"
#include "reports/core/xalloc.h"

#define NAME_MAX_SHOWN 200   /* characters of a command line in a test case's name */

/* Text as XML character data or an attribute value: what sb_escapen shows
 * for a terminal (control characters and invalid UTF-8 as \xNN: XML 1.0
 * forbids most control characters outright), then the markup characters
 * as entities. Newlines are kept when keep_newlines. */
static void xml_text(struct strbuf *out, const char *s, size_t n, bool keep_newlines, bool escaped)
{
	struct strbuf esc = STRBUF_INIT;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !(keep_newlines && s[j] == '\n'))
			j++;
		sb_reset(&esc);
		if (escaped)
			sb_putn(&esc, s + i, j - i);
		else
			sb_escapen(&esc, s + i, j - i);
		for (const char *c = sb_str(&esc); *c; c++) {
			switch (*c) {
			case '&': sb_puts(out, "&amp;"); break;
			case '<': sb_puts(out, "&lt;"); break;
			case '>': sb_puts(out, "&gt;"); break;
			case '"': sb_puts(out, "&quot;"); break;
			case '\'': sb_puts(out, "&apos;"); break;
			default: sb_putc(out, *c);
			}
		}
		if (j < n)
			sb_putc(out, '\n');
		i = j + 1;
	}
	sb_free(&esc);
}

static void xml_str(struct strbuf *out, const char *s)
{
	if (s)
		xml_text(out, s, strlen(s), false, false);
}

/* one of the verdict's lines, already escaped for a terminal */
static void xml_line(struct strbuf *out, const struct strbuf *line, bool keep_newlines)
{
	xml_text(out, line->buf ? line->buf : "", line->len, keep_newlines, true);
}

static bool same_argv(char **a, char **b)
{
	if (!a || !b)
		return a == b;
	size_t i = 0;
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return !a[i] && !b[i];
}

/* A test case: a project program that is not a mere fork of its parent. */
static bool is_test(const struct et_model *m, const struct et_process *p)
{
	if (sysprog_program(m, p))
		return false;
	const struct et_process *parent = model_parent(m, p);
	if (parent && !sysprog_program(m, parent) && parent->exe && p->exe && strcmp(parent->exe, p->exe) == 0 &&
	    same_argv(parent->argv, p->argv))
		return false;
	return true;
}

static double seconds(const struct et_model *m, uint64_t from, uint64_t to)
{
	if (!to)
		to = m->end_ts;
	return to > from ? (double)(to - from) / 1e9 : 0;
}

/* The findings that fail p's test case: what --error-exitcode counts, and
 * the failures the verdict names. */
static bool failing_item(const struct verdict_item *it)
{
	return it->kind != VERDICT_NET && !(it->kind == VERDICT_LEAK && it->possible);
}

static void testcase(const struct et_model *m, const struct verdict *v, const struct et_process *p, struct strbuf *sb,
		     size_t *failures)
{
	struct strbuf name = STRBUF_INIT, line = STRBUF_INIT;
	/* the runner's name for it (ctest's), else its command line */
	const char *test = process_test_name(m, p);
	if (test)
		sb_puts(&name, test);
	for (size_t i = 0; !test && p->argv && p->argv[i] && name.len < NAME_MAX_SHOWN; i++) {
		if (i)
			sb_putc(&name, ' ');
		sb_puts(&name, p->argv[i]);
	}
	if (!name.len)
		sb_puts(&name, verdict_program(p));
	size_t shown = name.len > NAME_MAX_SHOWN ? NAME_MAX_SHOWN : name.len;
	sb_puts(sb, "    <testcase name=\"");
	xml_text(sb, name.buf, shown, false, false);
	sb_puts(sb, "\" classname=\"");
	xml_str(sb, verdict_program(p));
	sb_printf(sb, "\" time=\"%.3f\">\n", seconds(m, p->start_ts, p->end_ts));

	/* the first finding of p that fails it gives the message and type */
	const struct verdict_item *first = NULL;
	for (size_t i = 0; i < v->nitems && !first; i++)
		if (v->items[i].proc == p && failing_item(&v->items[i]))
			first = &v->items[i];
	/* a failure its runner or parent expected (meson's should_fail, a
	 * death test) passes, as there */
	bool failed = (verdict_process_failed(p) && !verdict_failure_expected(m, p)) || first;
	if (failed) {
		(*failures)++;
		if (first) {
			verdict_item_text(first, true, &line);
		} else {
			sb_escape(&line, verdict_program(p));
			sb_printf(&line, " (pid %d) ", p->pid);
			describe_wait_status(p->wait_status, &line);
		}
		sb_puts(sb, "      <failure type=\"");
		xml_str(sb, first ? verdict_kind_name(first->kind) : "failed");
		sb_puts(sb, "\" message=\"");
		xml_line(sb, &line, false);
		sb_puts(sb, "\">");
		for (size_t i = 0; i < v->nitems; i++) {
			const struct verdict_item *it = &v->items[i];
			if (it->proc != p)
				continue;
			sb_reset(&line);
			sb_printf(&line, "%s: ", verdict_kind_name(it->kind));
			verdict_item_text(it, true, &line);
			sb_putc(&line, '\n');
			xml_line(sb, &line, true);
		}
		if (!first) {
			xml_line(sb, &line, true);
			sb_putc(sb, '\n');
		}
		sb_puts(sb, "</failure>\n");
	}
	/* what it last wrote, as the dashboards show a test's output */
	static const char *const tags[2] = { "system-out", "system-err" };
	for (int s = 0; s < 2; s++) {
		const struct lastwords_stream *ls = p->words ? &p->words->s[s] : NULL;
		if (!ls || !ls->len)
			continue;
		sb_printf(sb, "      <%s>", tags[s]);
		if (ls->written > ls->len)
			sb_printf(sb, "[etrace: the last %zu of %" PRIu64 " bytes]\n", ls->len, ls->written);
		xml_text(sb, ls->buf, ls->len, true, false);
		sb_printf(sb, "</%s>\n", tags[s]);
	}
	sb_puts(sb, "    </testcase>\n");
	sb_free(&name);
	sb_free(&line);
}

void junit_render(const struct et_model *m, const struct ci_opts *o, FILE *out)
{
	struct verdict v;
	verdict_build(m, &v);
	struct strbuf cases = STRBUF_INIT, sb = STRBUF_INIT, cmd = STRBUF_INIT;
	size_t tests = 0, failures = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		if (is_test(m, m->procs[i])) {
			testcase(m, &v, m->procs[i], &cases, &failures);
			tests++;
		}
	if (!tests) {
		/* only system programs: the command is the test */
		for (size_t i = 0; i < m->nprocs; i++)
			if (m->procs[i]->pid == m->root_pid) {
				testcase(m, &v, m->procs[i], &cases, &failures);
				tests++;
				break;
			}
	}
	ci_command_line(m, &cmd);
	char stamp[32] = "1970-01-01T00:00:00";
	time_t t = (time_t)m->start_wall;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	char host[256] = "localhost";
	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	double total = seconds(m, m->start_ts, m->end_ts);
	sb_puts(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"etrace\"");
	sb_printf(&sb, " tests=\"%zu\" failures=\"%zu\" errors=\"%d\" time=\"%.3f\">\n", tests, failures,
		  o->exit_reason ? 1 : 0, total);
	sb_puts(&sb, "  <testsuite name=\"");
	xml_str(&sb, sb_str(&cmd));
	sb_printf(&sb, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" skipped=\"0\" time=\"%.3f\" timestamp=\"%s\" hostname=\"",
		  tests, failures, o->exit_reason ? 1 : 0, total, stamp);
	xml_str(&sb, host);
	sb_puts(&sb, "\">\n    <properties>\n      <property name=\"etrace.exit_code\" value=\"");
	sb_printf(&sb, "%d\"/>\n      <property name=\"etrace.summary\" value=\"", o->exit_code);
	struct strbuf sum = STRBUF_INIT;
	verdict_summary(m, &v, &sum);
	xml_line(&sb, &sum, false);
	sb_puts(&sb, "\"/>\n");
	if (o->exit_reason) {
		sb_puts(&sb, "      <property name=\"etrace.error\" value=\"");
		xml_str(&sb, o->exit_reason);
		sb_puts(&sb, "\"/>\n");
	}
	sb_puts(&sb, "    </properties>\n");
	sb_putn(&sb, cases.buf ? cases.buf : "", cases.len);
	sb_puts(&sb, "  </testsuite>\n</testsuites>\n");
	fwrite(sb.buf, 1, sb.len, out);
	sb_free(&sum);
	sb_free(&cases);
	sb_free(&cmd);
	sb_free(&sb);
	verdict_free(&v);
}
