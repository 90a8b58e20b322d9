/* The verdict (see verdict.h): every finding of the analyses as one line,
 * the chain of parents a failure went up through, and the last words. */
#include "verdict.h"
#include "reports/net/netstate.h"
#include "symbolize/fileutil.h"
#include "reports/hang/hang.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reports/crash/crash.h"
#include "reports/syscalls/decode.h"
#include "reports/heap/heap.h"
#include "reports/process/lastwords.h"
#include "reports/process/failedtests.h"
#include "reports/process/sysprog.h"
#include "reports/process/testname.h"
#include "reports/render/render.h"
#include "reports/process/termination.h"
#include "reports/core/xalloc.h"
#include "reports/net/tcp.h"

#define TEXT_ITEMS_PER_KIND 8   /* findings of one kind listed in the text verdict */
#define TEXT_WORDS_LINES 8      /* lines of last words shown in the text verdict */
#define VERDICT_TESTS_NAMED 4   /* failed tests of a runner named on its line */
#define CMD_SHOWN 48            /* characters of a command line in the chain */

static const char *const kind_label[VERDICT_KINDS] = { "CRASH", "HEAP", "FAILED", "KILLED", "LEAK", "NET" };
static void item_line(const struct verdict_item *it, bool with_words, struct strbuf *out);

static const char *const kind_json[VERDICT_KINDS] = { "crash", "heap_error", "failed", "killed", "leak", "network" };

bool verdict_process_failed(const struct et_process *p)
{
	if (p->crash && process_crashed(p))
		return true;
	return p->exited && p->wait_status != 0;
}

static const char *program_of(const struct et_process *p)
{
	if (p->exe)
		return path_base(p->exe);
	if (p->argv && p->argv[0])
		return path_base(p->argv[0]);
	return p->nthreads && p->threads[0]->comm[0] ? p->threads[0]->comm : "?";
}

const char *verdict_program(const struct et_process *p)
{
	return program_of(p);
}

/* The frame to name: the first in a module of the process that is not a
 * system file (the program's own code), else the first with a source file,
 * else the first. */
static const struct sym_frame *own_frame(const struct et_process *p, const struct sym_frame *f, size_t n)
{
	const struct sym_frame *with_file = NULL;
	for (size_t i = 0; i < n; i++) {
		/* etrace's heap recorder, preloaded, is never the program's code
		 * (a free that aborts is called from its hook) */
		if (f[i].module && strcmp(f[i].module, "libetrace_heap.so") == 0)
			continue;
		if (!with_file && f[i].file)
			with_file = &f[i];
		if (!f[i].module)
			continue;
		for (size_t k = 0; k < p->nmodules; k++) {
			const char *path = p->modules[k].path;
			if (path && strcmp(path_base(path), f[i].module) == 0 && !sysprog_file(path))
				return &f[i];
		}
	}
	return with_file ? with_file : n ? &f[0] : NULL;
}

static struct verdict_item *add_item(const struct et_model *m, struct verdict *v, int kind, const struct et_process *p)
{
	v->items = xrealloc(v->items, (v->nitems + 1) * sizeof(*v->items));
	struct verdict_item *it = &v->items[v->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->proc = p;
	it->nprocs = 1;
	it->program = strdup(program_of(p));
	/* a runner's name for the test, when it says more than the program's */
	const char *test = process_test_name(m, p);
	it->test = test && strcmp(test, it->program) != 0 ? strdup(test) : NULL;
	return it;
}

static void set_where(struct verdict_item *it, const struct sym_frame *f)
{
	if (!f)
		return;
	it->function = f->function ? strdup(f->function) : NULL;
	it->file = f->file ? strdup(f->file) : NULL;
	it->module = f->module ? strdup(f->module) : NULL;
	it->comp_dir = f->comp_dir ? strdup(f->comp_dir) : NULL;
	it->line = f->line;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* An identical finding of the same program already listed: count it there. */
static bool merge_into(struct verdict *v, struct verdict_item *it)
{
	for (size_t i = 0; i + 1 < v->nitems; i++) {
		struct verdict_item *o = &v->items[i];
		if (o->kind != it->kind || o->possible != it->possible || strcmp(o->program, it->program) != 0 || !same_str(o->test, it->test) ||
		    !same_str(o->function, it->function) ||
		    !same_str(o->file, it->file) || o->line != it->line)
			continue;
		/* leaks of different sizes, errors at different addresses, from
		 * one place are still one finding */
		if (it->kind != VERDICT_LEAK && it->kind != VERDICT_HEAP_ERROR && !same_str(o->what, it->what))
			continue;
		if (o->proc != it->proc)
			o->nprocs++;
		o->bytes += it->bytes;
		o->blocks += it->blocks;
		return true;
	}
	return false;
}

static void drop_last(struct verdict *v)
{
	struct verdict_item *it = &v->items[--v->nitems];
	free(it->program);
	free(it->test);
	free(it->what);
	free(it->function);
	free(it->file);
	free(it->module);
	free(it->comp_dir);
	free(it->words);
}

static char *last_line(const struct et_process *p)
{
	return lastwords_message(lastwords_pick(p->words, NULL));
}

/* p printed what child c said last: a runner showing a failed helper's
 * stderr (CPython's assert_python_ok, ctest --output-on-failure). Only a
 * line long enough to be its own (16 bytes). */
static bool quotes(const struct et_process *p, const struct et_process *c)
{
	const struct lastwords_stream *ps = lastwords_pick(p->words, NULL);
	if (!ps || !ps->len)
		return false;
	char *said = last_line(c);
	bool found = said && strlen(said) >= 16 && memmem(ps->buf, ps->len, said, strlen(said));
	free(said);
	return found;
}

/* The failed child whose failure p saw last before it ended (by the wait
 * that collected it; by its end when no wait was seen): p's failure is
 * taken to be that one going up. A failed child whose last words p
 * printed comes first: a test suite's children fail on purpose (a test
 * that expects exit 10), and the runner quotes the one that failed it. One
 * its runner said was expected to fail did not fail the run. */
static const struct et_process *cause_of(const struct et_model *m, const struct et_process *p)
{
	const struct et_process *best = NULL;
	uint64_t best_ts = 0;
	bool best_quoted = false;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *c = m->procs[i];
		if (c == p || c->ppid != p->pid || c->start_ts < p->start_ts || !verdict_process_failed(c) ||
		    termination_cleanup(m, c) || process_expected_fail(m, c))
			continue;
		if (c->reaped_by && c->reaped_by != p->pid)
			continue;
		uint64_t ts = c->reaped_ts ? c->reaped_ts : c->end_ts;
		if (p->exited && p->end_ts && ts > p->end_ts)
			continue;
		bool quoted = quotes(p, c);
		if (!best || (quoted && !best_quoted) || (quoted == best_quoted && ts >= best_ts)) {
			best = c;
			best_ts = ts;
			best_quoted = quoted;
		}
	}
	return best;
}

static const struct et_process *root_of(const struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->pid == m->root_pid)
			return m->procs[i];
	return NULL;
}

static bool in_list(const struct et_process *const *list, size_t n, const struct et_process *p)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == p)
			return true;
	return false;
}

static bool on_chain(const struct verdict *v, const struct et_process *p)
{
	return in_list(v->chain, v->nchain, p);
}

static void build_chain(const struct et_model *m, struct verdict *v)
{
	const struct et_process *p = root_of(m);
	if (!p || !verdict_process_failed(p))
		return;
	v->failed = true;
	v->chain = xcalloc(m->nprocs + 1, sizeof(*v->chain));
	while (p && v->nchain < m->nprocs && !on_chain(v, p)) {
		v->chain[v->nchain++] = p;
		/* pytest said which of its tests failed: they are the cause, not
		 * the last child that failed under one of them (a test's `cat`
		 * of a missing file), which is counted as handled */
		if (p->failed_tests && p->failed_tests->total)
			break;
		p = cause_of(m, p);
	}
	v->handled = xcalloc(m->nprocs + 1, sizeof(*v->handled));
}

bool verdict_failure_expected(const struct et_model *m, const struct et_process *p)
{
	return process_expected_fail(m, p) || crash_handled(m, p);
}

/* p failed as its runner expected: counted once, not a finding */
static bool expected_failure(const struct et_model *m, struct verdict *v, const struct et_process *p)
{
	if (!process_expected_fail(m, p))
		return false;
	if (!in_list(v->expected, v->nexpected, p))
		v->expected[v->nexpected++] = p;
	return true;
}

static void add_crashes(const struct et_model *m, struct verdict *v)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		if (!process_crashed(p) || expected_failure(m, v, p))
			continue;
		if (crash_handled(m, p)) {
			v->handled_crashes[v->nhandled_crashes++] = p;
			continue;
		}
		const struct et_crash *c = p->crash;
		struct verdict_item *it = add_item(m, v, VERDICT_CRASH, p);
		const char *name = decode_signal_name(c->sig);
		const char *code = si_code_name(c->sig, c->code);
		sb_reset(&sb);
		sb_puts(&sb, name ? name : "signal");
		if (code)
			sb_printf(&sb, " (%s)", code);
		if (c->sig == 11 || c->sig == 7 || c->sig == 4 || c->sig == 8)
			sb_printf(&sb, " at address 0x%" PRIx64, c->addr);
		it->what = strdup(sb_str(&sb));
		if (c->analyzed) {
			set_where(it, own_frame(p, c->bt.frames, c->bt.nframes));
			it->frames = c->bt.frames;
			it->nframes = c->bt.nframes;
		}
		char *msg = crash_abort_message(m, p, c);
		if (msg) {
			/* an uncaught C++ exception: its type and what() are two lines */
			struct lastwords_stream said = { .buf = msg, .len = strlen(msg) };
			size_t hs, he;
			if (lastwords_headline(&said, &hs, &he)) {
				char *h = lastwords_message(&said);
				free(msg);
				msg = h;
			}
		}
		it->words = msg ? msg : last_line(p);
		if (it->words) {
			/* one line: an abort message may have several */
			char *nl;
			while ((nl = strrchr(it->words, '\n')) && !nl[1])
				*nl = '\0';
			if ((nl = strrchr(it->words, '\n')))
				memmove(it->words, nl + 1, strlen(nl + 1) + 1);
		}
		it->on_chain = on_chain(v, p);
		if (merge_into(v, it))
			drop_last(v);
	}
	sb_free(&sb);
}

static void add_heap(const struct et_model *m, struct verdict *v, bool leaks)
{
	struct heap_finding *f;
	size_t n = heap_findings(m, &f);
	for (size_t i = 0; i < n; i++) {
		if (f[i].leak != leaks || !f[i].proc)
			continue;
		if (!m->system_findings && sysprog_program(m, f[i].proc)) {
			/* the suite's tools, not the project: counted, not listed */
			v->nsystem[leaks]++;
			if (v->nsystem_procs < m->nprocs && !in_list(v->system_procs, v->nsystem_procs, f[i].proc))
				v->system_procs[v->nsystem_procs++] = f[i].proc;
			continue;
		}
		struct verdict_item *it = add_item(m, v, leaks ? VERDICT_LEAK : VERDICT_HEAP_ERROR, f[i].proc);
		it->what = strdup(f[i].text);
		it->bytes = f[i].bytes;
		it->blocks = f[i].blocks;
		it->possible = f[i].possible;
		it->definite = f[i].definite;
		it->alloc_fn = f[i].alloc_fn;
		set_where(it, own_frame(f[i].proc, f[i].frames, f[i].nframes));
		it->frames = f[i].frames;
		it->nframes = f[i].nframes;
		if (merge_into(v, it))
			drop_last(v);
	}
	heap_findings_free(f, n);
}

size_t verdict_heap_findings(const struct et_model *m)
{
	struct verdict v;
	verdict_build(m, &v);
	size_t n = 0;
	for (size_t i = 0; i < v.nitems; i++)
		n += v.items[i].kind == VERDICT_HEAP_ERROR || (v.items[i].kind == VERDICT_LEAK && !v.items[i].possible);
	verdict_free(&v);
	return n;
}

static bool listed(const struct verdict *v, const struct et_process *p, int kind)
{
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i].proc == p && v->items[i].kind == kind)
			return true;
	return false;
}

/* The chain stops at a runner that named its failed tests; the child that
 * failed last under it (the program a test ran, whose own message says
 * why) is listed after it, not counted as handled. A crash is listed as
 * one already. */
static void add_test_evidence(const struct et_model *m, struct verdict *v, const struct et_process *runner)
{
	const struct et_process *c = cause_of(m, runner);
	if (!c || process_crashed(c) || termination_failed_run(m, c))
		return;
	struct strbuf sb = STRBUF_INIT;
	describe_wait_status(c->wait_status, &sb);
	struct verdict_item *it = add_item(m, v, VERDICT_FAILED, c);
	it->what = sb_detach(&sb);
	it->words = last_line(c);
}

static void add_failed(const struct et_model *m, struct verdict *v)
{
	if (!v->nchain)
		return;
	const struct et_process *o = v->chain[v->nchain - 1];
	if (process_crashed(o))
		return;   /* the crash is the finding; the chain is shown with it */
	struct strbuf sb = STRBUF_INIT;
	bool killed = termination_text(m, o, &sb);
	if (!killed) {
		sb_reset(&sb);
		describe_wait_status(o->wait_status, &sb);
	}
	struct verdict_item *it = add_item(m, v, killed ? VERDICT_KILLED : VERDICT_FAILED, o);
	it->words = last_line(o);
	const struct failed_tests *ft = o->failed_tests;
	if (ft && ft->total) {
		/* the names on the first line (the quoted line is one test's
		 * summary line at most; the others are in the last words shown
		 * under it) */
		it->failed_tests = ft;
		bool names_one = false;
		for (size_t i = 0; i < ft->n && it->words; i++)
			names_one |= strstr(it->words, ft->name[i]) != NULL;
		if (!names_one && ft->n && ft->why[0]) {
			/* the count line says less than the first test's own line */
			free(it->words);
			it->words = NULL;
			if (asprintf(&it->words, "%s - %s", ft->name[0], ft->why[0]) < 0)
				it->words = NULL;
		}
		bool quoted = ft->total == 1 && ft->n == 1 && it->words && strstr(it->words, ft->name[0]);
		if (!quoted) {
			sb_printf(&sb, ", %zu %s %s: ", ft->total, ft->total == 1 ? "test" : "tests",
				  !ft->errors ? "failed" : ft->errors == ft->total ? "errored" : "failed or errored");
			for (size_t i = 0; i < ft->n && i < VERDICT_TESTS_NAMED; i++)
				sb_printf(&sb, "%s%s", i ? ", " : "", ft->name[i]);
			size_t named = ft->n < VERDICT_TESTS_NAMED ? ft->n : VERDICT_TESTS_NAMED;
			if (ft->total > named)
				sb_printf(&sb, "%s%zu more", named ? " and " : "", ft->total - named);
		}
	}
	it->what = sb_detach(&sb);
	it->on_chain = true;
	if (ft && ft->total)
		add_test_evidence(m, v, o);
}

/* Other terminations that failed the run (a runner killing a test at its
 * timeout), not already the chain's origin. */
static void add_killed(const struct et_model *m, struct verdict *v)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		if ((v->nchain && p == v->chain[v->nchain - 1]) || !termination_failed_run(m, p) ||
		    expected_failure(m, v, p))
			continue;
		sb_reset(&sb);
		termination_text(m, p, &sb);
		struct verdict_item *it = add_item(m, v, VERDICT_KILLED, p);
		it->what = sb_detach(&sb);
		it->words = last_line(p);
		it->on_chain = on_chain(v, p);
	}
	sb_free(&sb);
}

static void add_net(const struct et_model *m, struct verdict *v)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < m->net->nconns; i++) {
		const struct et_conn *c = &m->net->conns[i];
		if (!conn_connect_errno(m, c) && !c->rst_recv)
			continue;
		const struct et_process *p = model_process((struct et_model *)m, c->pid);
		if (!p)
			continue;
		sb_reset(&sb);
		conn_outcome(m, c, &sb);
		struct verdict_item *it = add_item(m, v, VERDICT_NET, p);
		it->what = sb_detach(&sb);
		if (merge_into(v, it))
			drop_last(v);
	}
	sb_free(&sb);
}

static void find_handled(const struct et_model *m, struct verdict *v)
{
	if (!v->handled)
		v->handled = xcalloc(m->nprocs + 1, sizeof(*v->handled));
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *p = m->procs[i];
		if (p->pid != m->root_pid && verdict_process_failed(p) && !on_chain(v, p) && !process_crashed(p) &&
		    !termination_failed_run(m, p) && !expected_failure(m, v, p) && !listed(v, p, VERDICT_FAILED))
			v->handled[v->nhandled++] = p;
	}
}

/* A failed run's cause goes first: the chain's crash, failure or kill,
 * then the other findings in their order (a test subprocess that aborts on
 * purpose in a suite that failed for another test is not the first line). */
static void chain_first(struct verdict *v)
{
	size_t k = 0;
	for (size_t i = 0; i < v->nitems; i++) {
		struct verdict_item *it = &v->items[i];
		if (!it->on_chain ||
		    (it->kind != VERDICT_CRASH && it->kind != VERDICT_FAILED && it->kind != VERDICT_KILLED))
			continue;
		struct verdict_item keep = *it;
		memmove(&v->items[k + 1], &v->items[k], (i - k) * sizeof(*it));
		v->items[k++] = keep;
	}
}

void verdict_build(const struct et_model *m, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->system_procs = xcalloc(m->nprocs + 1, sizeof(*v->system_procs));
	v->expected = xcalloc(m->nprocs + 1, sizeof(*v->expected));
	v->handled_crashes = xcalloc(m->nprocs + 1, sizeof(*v->handled_crashes));
	build_chain(m, v);
	add_crashes(m, v);
	add_heap(m, v, false);
	add_failed(m, v);
	add_killed(m, v);
	add_heap(m, v, true);
	add_net(m, v);
	find_handled(m, v);
	chain_first(v);
}

const char *verdict_kind_name(int kind)
{
	return kind >= 0 && kind < VERDICT_KINDS ? kind_json[kind] : "?";
}

void verdict_item_text(const struct verdict_item *it, bool with_words, struct strbuf *out)
{
	item_line(it, with_words, out);
}

bool verdict_names(const struct verdict *v, const struct et_process *p)
{
	if (on_chain(v, p))
		return true;
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i].proc == p &&
		    (v->items[i].kind == VERDICT_CRASH || v->items[i].kind == VERDICT_FAILED || v->items[i].kind == VERDICT_KILLED))
			return true;
	return false;
}

void verdict_free(struct verdict *v)
{
	while (v->nitems)
		drop_last(v);
	free(v->items);
	free(v->chain);
	free(v->handled);
	free(v->expected);
	free(v->handled_crashes);
	free(v->system_procs);
	memset(v, 0, sizeof(*v));
}

/* ---- text ---------------------------------------------------------------------------- */

/* A command line on one line, escaped, cut to CMD_SHOWN characters. */
static void short_command(const struct et_process *p, struct strbuf *out)
{
	struct strbuf raw = STRBUF_INIT, esc = STRBUF_INIT;
	if (p->argv)
		for (size_t i = 0; p->argv[i]; i++) {
			if (i)
				sb_putc(&raw, ' ');
			sb_puts(&raw, p->argv[i]);
		}
	else
		sb_puts(&raw, program_of(p));
	/* a shell script's lines and indentation as single spaces */
	struct strbuf flat = STRBUF_INIT;
	for (size_t i = 0; i < raw.len; i++) {
		char c = raw.buf[i];
		if (c == '\n' || c == '\t' || c == '\\')
			c = ' ';
		if (c == ' ' && flat.len && flat.buf[flat.len - 1] == ' ')
			continue;
		sb_putc(&flat, c);
	}
	size_t n = flat.len > CMD_SHOWN ? CMD_SHOWN : flat.len;
	sb_escapen(&esc, flat.len ? flat.buf : "", n);
	sb_puts(out, sb_str(&esc));
	if (flat.len > CMD_SHOWN)
		sb_puts(out, "...");
	sb_free(&raw);
	sb_free(&flat);
	sb_free(&esc);
}

static void status_text(const struct et_process *p, struct strbuf *out)
{
	if (!p->exited) {
		sb_puts(out, "did not finish");
		return;
	}
	int sig = p->wait_status & 0x7f;
	if (sig) {
		const char *name = decode_signal_name(sig);
		sb_printf(out, "killed by %s", name ? name : "a signal");
	} else {
		sb_printf(out, "exited %d", (p->wait_status >> 8) & 0xff);
	}
}

static void chain_text(const struct verdict *v, struct strbuf *out)
{
	for (size_t i = 0; i < v->nchain; i++) {
		if (i)
			sb_puts(out, " <- ");
		short_command(v->chain[i], out);
		sb_putc(out, ' ');
		status_text(v->chain[i], out);
	}
}

/* "test-version (pid 12) exited with 3 at x.c:3: "message"" */
static void item_line(const struct verdict_item *it, bool with_words, struct strbuf *out)
{
	struct strbuf esc = STRBUF_INIT;
	if (it->test)
		sb_printf(out, "test \"%s\": ", sb_escaped(&esc, it->test));
	sb_printf(out, "%s (pid %d", sb_escaped(&esc, it->program), it->proc->pid);
	if (it->nprocs > 1)
		sb_printf(out, " and %zu more processes of it", it->nprocs - 1);
	sb_puts(out, ") ");
	if (it->kind == VERDICT_LEAK && it->nprocs > 1)
		sb_printf(out, "%" PRIu64 " bytes in %" PRIu64 " blocks lost in all; the first: ", it->bytes, it->blocks);
	sb_puts(out, sb_escaped(&esc, it->what));
	if (it->function || it->file) {
		sb_puts(out, " in ");
		if (it->function)
			sb_puts(out, sb_escaped(&esc, it->function));
		if (it->file)
			sb_printf(out, "%s%s:%d", it->function ? " at " : "", sb_escaped(&esc, it->file), it->line);
	} else if (it->module) {
		sb_printf(out, " in %s", sb_escaped(&esc, it->module));
	}
	if (with_words && it->words && it->words[0])
		sb_printf(out, ": \"%s\"", sb_escaped(&esc, it->words));
	sb_free(&esc);
}

static void words_lines(const struct lastwords_stream *s, size_t start, size_t end, struct strbuf *esc, FILE *out)
{
	for (size_t i = start; i < end;) {
		size_t j = i;
		while (j < end && s->buf[j] != '\n')
			j++;
		sb_reset(esc);
		sb_escapen(esc, s->buf + i, j - i);
		fprintf(out, "          | %s\n", sb_str(esc));
		i = j + 1;
	}
}

/* The last lines p wrote, each prefixed by "  | ". */
static void words_block(const struct et_process *p, FILE *out)
{
	int fd;
	const struct lastwords_stream *s = lastwords_pick(p->words, &fd);
	if (!s || !s->len)
		return;
	size_t end = s->len, start = end, lines = 0;
	while (end && s->buf[end - 1] == '\n')
		end--;
	start = end;
	while (start > 0 && lines < TEXT_WORDS_LINES) {
		start--;
		if (s->buf[start] == '\n' && ++lines == TEXT_WORDS_LINES) {
			start++;
			break;
		}
	}
	struct strbuf esc = STRBUF_INIT;
	uint64_t hidden = s->written > s->len ? s->written - s->len : 0;
	fprintf(out, "        its last words on %s (%" PRIu64 " bytes written", fd == 2 ? "stderr" : "stdout", s->written);
	if (start > 0 || hidden)
		fprintf(out, "; the last lines");
	fputs("):\n", out);
	/* a runtime's headline (a panic) pushed out of view by its backtrace:
	 * shown first, then the last lines */
	size_t hs, he;
	if (lastwords_headline(s, &hs, &he) && hs < start) {
		words_lines(s, hs, he, &esc, out);
		fputs("          | ...\n", out);
		for (size_t k = 0; k < 3 && start < end; start++)
			if (s->buf[start] == '\n')
				k++;
	}
	words_lines(s, start, end, &esc, out);
	sb_free(&esc);
}

/* The failed calls of p whose path its last words name (routine.c): the
 * system's side of the message ("Cannot stat" was this newfstatat). */
#define TEXT_NAMED_CALLS 3

static void named_calls(const struct et_model *m, const struct et_process *p, FILE *out)
{
	size_t shown = 0, more = 0;
	for (size_t i = 0; i < m->nfailures; i++) {
		const struct et_failure *f = &m->failures[i];
		if (!f->named || f->pid != p->pid)
			continue;
		if (shown++ < TEXT_NAMED_CALLS)
			fprintf(out, "        the failed call it names: %s (%+.3f ms)\n", f->call, model_rel_ms(m, f->first_ts));
		else
			more++;
	}
	if (more)
		fprintf(out, "        (%zu more failed calls it names: failed syscalls below)\n", more);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "grep x2, test x2" */
static void programs_text(const struct et_process *const *list, size_t count, struct strbuf *out)
{
	bool *done = xcalloc(count + 1, sizeof(*done));
	struct strbuf esc = STRBUF_INIT;
	for (size_t i = 0; i < count; i++) {
		if (done[i])
			continue;
		const char *name = program_of(list[i]);
		size_t n = 0;
		for (size_t j = i; j < count; j++)
			if (!done[j] && strcmp(program_of(list[j]), name) == 0) {
				done[j] = true;
				n++;
			}
		sb_printf(out, "%s%s", out->len ? ", " : "", sb_escaped(&esc, name));
		if (n > 1)
			sb_printf(out, " x%zu", n);
	}
	sb_free(&esc);
	free(done);
}

/* Colours on a terminal (m->color, see --color): red for what failed
 * the run, yellow for leaks and network failures, green for OK. */
static const char *color_on(const struct et_model *m, int kind)
{
	if (!m->color)
		return "";
	if (kind < 0)
		return "\033[1;32m";
	return kind == VERDICT_LEAK || kind == VERDICT_NET ? "\033[1;33m" : "\033[1;31m";
}

static const char *color_off(const struct et_model *m)
{
	return m->color ? "\033[0m" : "";
}

void verdict_render_text(const struct et_model *m, const struct verdict *v, FILE *out)
{
	fputs("\n-- verdict ", out);
	for (size_t n = 11; n < 72; n++)
		fputc('-', out);
	fputc('\n', out);
	struct strbuf sb = STRBUF_INIT;
	size_t shown[VERDICT_KINDS] = { 0 }, more[VERDICT_KINDS] = { 0 };
	bool chain_shown = false;
	/* a run cut short: where it hung comes first */
	const char *hang = hang_verdict_line(m, &sb);
	if (hang)
		fprintf(out, "%-7s %s\n", hang, sb_str(&sb));
	for (size_t i = 0; i < v->nitems; i++) {
		const struct verdict_item *it = &v->items[i];
		if (shown[it->kind] >= TEXT_ITEMS_PER_KIND && !it->on_chain) {
			more[it->kind]++;
			continue;
		}
		shown[it->kind]++;
		sb_reset(&sb);
		item_line(it, true, &sb);
		fprintf(out, "%s%-7s%s %s\n", color_on(m, it->kind), kind_label[it->kind], color_off(m), sb_str(&sb));
		if (it->on_chain && !chain_shown && v->nchain > 1) {
			sb_reset(&sb);
			chain_text(v, &sb);
			fprintf(out, "        the run's status came up: %s\n", sb_str(&sb));
			chain_shown = true;
		}
		if (it->kind == VERDICT_FAILED || it->kind == VERDICT_KILLED) {
			words_block(it->proc, out);
			named_calls(m, it->proc, out);
		}
	}
	for (int k = 0; k < VERDICT_KINDS; k++)
		if (more[k])
			fprintf(out, "        (%zu more %s findings: the sections below and the JSON report have them)\n",
				more[k], kind_label[k]);
	if (v->failed && !chain_shown && v->nchain > 1) {
		sb_reset(&sb);
		chain_text(v, &sb);
		fprintf(out, "%sFAILED%s  %s\n", color_on(m, VERDICT_FAILED), color_off(m), sb_str(&sb));
	}
	if (!v->nitems) {
		sb_reset(&sb);
		const struct et_process *root = root_of(m);
		if (root)
			short_command(root, &sb);
		fprintf(out, "%sOK%s      %s %s: no %scrash, heap error, failure or network error found\n", color_on(m, -1), color_off(m), sb_str(&sb),
			v->failed ? "failed" : "exited 0", v->nhandled_crashes || v->nexpected ? "unhandled " : "");
	}
	if (v->nsystem[0] || v->nsystem[1]) {
		sb_reset(&sb);
		programs_text(v->system_procs, v->nsystem_procs, &sb);
		fprintf(out, "        (%zu heap error%s and %zu leak%s in system programs not listed: %s;"
			" --system-findings lists them)\n", v->nsystem[0], plural(v->nsystem[0], "", "s"), v->nsystem[1],
			plural(v->nsystem[1], "", "s"), sb_str(&sb));
	}
	if (v->nhandled) {
		sb_reset(&sb);
		programs_text(v->handled, v->nhandled, &sb);
		fprintf(out, "        (%zu other %s exited non-zero and %s parent%s went on: %s)\n", v->nhandled,
			plural(v->nhandled, "process", "processes"), plural(v->nhandled, "its", "their"),
			plural(v->nhandled, "", "s"), sb_str(&sb));
	}
	if (v->nhandled_crashes) {
		sb_reset(&sb);
		programs_text(v->handled_crashes, v->nhandled_crashes, &sb);
		fprintf(out, "        (%zu %s crashed and %s parent%s collected it and exited 0: %s; see the crash section)\n",
			v->nhandled_crashes, plural(v->nhandled_crashes, "process", "processes"),
			plural(v->nhandled_crashes, "its", "their"), plural(v->nhandled_crashes, "", "s"), sb_str(&sb));
	}
	if (v->nexpected) {
		sb_reset(&sb);
		struct strbuf esc = STRBUF_INIT;
		for (size_t i = 0; i < v->nexpected; i++) {
			const char *test = process_test_name(m, v->expected[i]);
			sb_printf(&sb, "%s%s", i ? ", " : "", sb_escaped(&esc, test ? test : program_of(v->expected[i])));
			if (i == 7 && v->nexpected > 8) {
				sb_printf(&sb, " and %zu more", v->nexpected - 8);
				break;
			}
		}
		sb_free(&esc);
		fprintf(out, "        (%zu %s failed as %s runner expected: %s)\n", v->nexpected,
			plural(v->nexpected, "process", "processes"), plural(v->nexpected, "its", "their"), sb_str(&sb));
	}
	sb_free(&sb);
}

void verdict_summary(const struct et_model *m, const struct verdict *v, struct strbuf *sb)
{
	size_t count[VERDICT_KINDS] = { 0 };
	for (size_t i = 0; i < v->nitems; i++)
		count[v->items[i].kind]++;
	sb_puts(sb, "SUMMARY: etrace: ");
	struct strbuf hs = STRBUF_INIT;
	const char *hang = hang_verdict_line(m, &hs);
	if (hang)
		sb_printf(sb, "%s %s; ", hang, sb_str(&hs));
	sb_free(&hs);
	const struct et_process *root = root_of(m);
	if (root)
		short_command(root, sb);
	sb_putc(sb, ' ');
	if (root)
		status_text(root, sb);
	else
		sb_puts(sb, "did not start");
	if (!v->nitems) {
		sb_puts(sb, "; no findings");
		return;
	}
	/* the finding that explains the result: the chain's, else the first */
	const struct verdict_item *top = &v->items[0];
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i].on_chain) {
			top = &v->items[i];
			break;
		}
	sb_printf(sb, "; %s ", kind_label[top->kind]);
	item_line(top, true, sb);
	bool first = true;
	for (int k = 0; k < VERDICT_KINDS; k++) {
		size_t n = count[k] - (k == top->kind);
		if (!n)
			continue;
		sb_printf(sb, "%s%s %zu", first ? "; other findings: " : ", ", kind_json[k], n);
		first = false;
	}
}

/* ---- JSON ---------------------------------------------------------------------------- */

void verdict_last_words_json(const struct et_process *p, struct strbuf *sb)
{
	int fd;
	const struct lastwords_stream *s = lastwords_pick(p->words, &fd);
	if (!s) {
		sb_puts(sb, "null");
		return;
	}
	sb_printf(sb, "{\"stream\":\"%s\",\"text\":", fd == 2 ? "stderr" : "stdout");
	sb_json_strn(sb, s->buf ? s->buf : "", s->len);
	sb_printf(sb, ",\"bytes_written\":%" PRIu64 ",\"bytes_kept\":%zu,\"bytes_not_captured\":%" PRIu64 ",\"writes\":%" PRIu64 "}",
		  s->written, s->len, s->not_captured, s->writes);
}

static void json_proc_ref(const struct et_process *p, struct strbuf *sb)
{
	sb_printf(sb, "{\"pid\":%d,\"ppid\":%d,\"program\":", p->pid, p->ppid);
	sb_json_str(sb, program_of(p));
	sb_puts(sb, ",\"command\":[");
	for (size_t i = 0; p->argv && p->argv[i]; i++) {
		if (i)
			sb_putc(sb, ',');
		sb_json_str(sb, p->argv[i]);
	}
	sb_puts(sb, "],\"status\":");
	if (p->exited)
		json_wait_status(p->wait_status, sb);
	else
		sb_puts(sb, "null");
	sb_printf(sb, ",\"reaped_by\":%d}", p->reaped_by);
}

/* ,"key":[process refs] */
static void json_proc_list(struct strbuf *sb, const char *key, const struct et_process *const *list, size_t n)
{
	sb_printf(sb, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(sb, ',');
		json_proc_ref(list[i], sb);
	}
	sb_putc(sb, ']');
}

void verdict_render_json(const struct et_model *m, const struct verdict *v, struct strbuf *sb)
{
	sb_printf(sb, ",\"verdict\":{\"result\":\"%s\",\"summary\":", v->failed ? "failed" : "ok");
	struct strbuf s = STRBUF_INIT;
	verdict_summary(m, v, &s);
	sb_json_str(sb, sb_str(&s));
	sb_free(&s);
	sb_puts(sb, ",\"findings\":[");
	for (size_t i = 0; i < v->nitems; i++) {
		const struct verdict_item *it = &v->items[i];
		sb_printf(sb, "%s{\"kind\":\"%s\",\"pid\":%d,\"processes\":%zu,\"program\":", i ? "," : "", kind_json[it->kind],
			  it->proc->pid, it->nprocs);
		sb_json_str(sb, it->program);
		sb_puts(sb, ",\"test\":");
		sb_json_str(sb, it->test);
		sb_puts(sb, ",\"what\":");
		sb_json_str(sb, it->what);
		sb_puts(sb, ",\"where\":");
		if (it->function || it->file || it->module) {
			sb_puts(sb, "{\"function\":");
			sb_json_str(sb, it->function);
			sb_puts(sb, ",\"file\":");
			sb_json_str(sb, it->file);
			sb_printf(sb, ",\"line\":%d,\"module\":", it->line);
			sb_json_str(sb, it->module);
			sb_putc(sb, '}');
		} else {
			sb_puts(sb, "null");
		}
		sb_puts(sb, ",\"last_line\":");
		sb_json_str(sb, it->words);
		if (it->failed_tests) {
			const struct failed_tests *ft = it->failed_tests;
			sb_printf(sb, ",\"failed_tests_total\":%zu,\"failed_tests\":[", ft->total);
			for (size_t k = 0; k < ft->n; k++) {
				sb_puts(sb, k ? ",{\"name\":" : "{\"name\":");
				sb_json_str(sb, ft->name[k]);
				sb_puts(sb, ",\"message\":");
				sb_json_str(sb, ft->why[k]);
				sb_putc(sb, '}');
			}
			sb_putc(sb, ']');
		}
		if (it->kind == VERDICT_LEAK)
			sb_printf(sb, ",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64, it->bytes, it->blocks);
		sb_printf(sb, ",\"on_chain\":%s}", it->on_chain ? "true" : "false");
	}
	sb_puts(sb, "],\"chain\":[");
	for (size_t i = 0; i < v->nchain; i++) {
		if (i)
			sb_putc(sb, ',');
		json_proc_ref(v->chain[i], sb);
	}
	sb_printf(sb, "],\"system_heap_errors\":%zu,\"system_leaks\":%zu,\"system_processes\":[", v->nsystem[0],
		  v->nsystem[1]);
	for (size_t i = 0; i < v->nsystem_procs; i++)
		sb_printf(sb, "%s%d", i ? "," : "", v->system_procs[i]->pid);
	sb_putc(sb, ']');
	json_proc_list(sb, "handled_failures", v->handled, v->nhandled);
	json_proc_list(sb, "handled_crashes", v->handled_crashes, v->nhandled_crashes);
	json_proc_list(sb, "expected_failures", v->expected, v->nexpected);
	sb_putc(sb, '}');
}
