/* Last words of each process (see lastwords.h). */
#include "lastwords.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/core/analysis.h"
#include "reports/core/model.h"
#include "reports/core/strbuf.h"
#include "reports/core/xalloc.h"
#include "reports/syscalls/decode.h"
#include "reports/syscalls/syscall_table.h"

static void keep(struct lastwords_stream *s, const char *data, size_t n)
{
	s->kept += n;
	if (!s->buf)
		s->buf = xcalloc(1, LASTWORDS_KEEP);
	if (n >= LASTWORDS_KEEP) {
		memcpy(s->buf, data + n - LASTWORDS_KEEP, LASTWORDS_KEEP);
		s->len = LASTWORDS_KEEP;
		return;
	}
	if (s->len + n > LASTWORDS_KEEP) {
		size_t drop = s->len + n - LASTWORDS_KEEP;
		memmove(s->buf, s->buf + drop, s->len - drop);
		s->len -= drop;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
}

void lastwords_add(struct lastwords **lw, int fd, const char *data, size_t n, uint64_t written)
{
	lastwords_add_ends(lw, fd, data, n, NULL, 0, written);
}

void lastwords_add_ends(struct lastwords **lw, int fd, const char *data, size_t n, const char *tail, size_t tn,
			uint64_t written)
{
	if ((fd != 1 && fd != 2) || !written)
		return;
	if (!*lw)
		*lw = xcalloc(1, sizeof(**lw));
	struct lastwords_stream *s = &(*lw)->s[fd - 1];
	if (n > written)
		n = (size_t)written;
	if (!tail || tn > written - n)
		tn = 0;
	s->writes++;
	s->written += written;
	keep(s, data, n);
	if (written > n + tn) {
		/* the record kept only the start (and the end) of this write: say
		 * so where it happened. The tail starts mid-line: that partial
		 * line is not a line, and is not shown either. */
		if (tn) {
			const char *nl = memchr(tail, '\n', tn);
			size_t skip = nl ? (size_t)(nl - tail) + 1 : tn;
			tail += skip;
			tn -= skip;
		}
		uint64_t gap = written - n - tn;
		char mark[64];
		bool own_line = !s->len || s->buf[s->len - 1] == '\n';
		int k = snprintf(mark, sizeof(mark), "%s" LASTWORDS_GAP "%llu bytes not captured]\n", own_line ? "" : "\n",
				 (unsigned long long)gap);
		s->not_captured += gap;
		keep(s, mark, (size_t)k);
	}
	if (tn)
		keep(s, tail, tn);
}

void lastwords_free(struct lastwords *lw)
{
	if (!lw)
		return;
	free(lw->s[0].buf);
	free(lw->s[1].buf);
	free(lw);
}

const struct lastwords_stream *lastwords_pick(const struct lastwords *lw, int *fd)
{
	if (!lw)
		return NULL;
	int i = lw->s[1].written ? 1 : lw->s[0].written ? 0 : -1;
	if (i < 0)
		return NULL;
	if (fd)
		*fd = i + 1;
	return &lw->s[i];
}

bool lastwords_last_line(const struct lastwords_stream *s, const char **line, size_t *n)
{
	if (!s || !s->len)
		return false;
	size_t end = s->len;
	for (;;) {
		while (end > 0 && (s->buf[end - 1] == '\n' || s->buf[end - 1] == '\r' || s->buf[end - 1] == ' '))
			end--;
		if (!end)
			return false;
		size_t start = end;
		while (start > 0 && s->buf[start - 1] != '\n')
			start--;
		/* a gap mark is not something the process said */
		if (end - start >= strlen(LASTWORDS_GAP) && memcmp(s->buf + start, LASTWORDS_GAP, strlen(LASTWORDS_GAP)) == 0) {
			end = start;
			continue;
		}
		*line = s->buf + start;
		*n = end - start;
		return true;
	}
}

/* The line at [start, end) of s, and where the next one starts. */
static bool line_at(const struct lastwords_stream *s, size_t start, size_t *end, size_t *next)
{
	if (start >= s->len)
		return false;
	const char *nl = memchr(s->buf + start, '\n', s->len - start);
	*end = nl ? (size_t)(nl - s->buf) : s->len;
	*next = nl ? *end + 1 : s->len;
	while (*end > start && (s->buf[*end - 1] == '\r' || s->buf[*end - 1] == ' '))
		(*end)--;
	return true;
}

static bool starts(const char *line, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(line, prefix, k) == 0;
}

static bool has(const char *line, size_t n, const char *what)
{
	size_t k = strlen(what);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(line + i, what, k) == 0)
			return true;
	return false;
}

#define HEADLINE_FIRST 4   /* the first such line wins, not the last */

/* An exception's name and message, as Python and Node.js print the one
 * that ended the program ("ValueError: bad", "TypeError: Cannot read
 * properties of undefined", "AssertionError [ERR_ASSERTION]: ..."): a
 * dotted name that ends in Error or Exception, an optional [CODE], then a
 * colon. Node.js ends with its version line and the stack, so the last
 * line would not say it. */
static bool error_name_line(const char *line, size_t n)
{
	size_t i = 0;
	if (!n || !((line[0] >= 'A' && line[0] <= 'Z') || (line[0] >= 'a' && line[0] <= 'z')))
		return false;
	while (i < n && (line[i] == '_' || line[i] == '.' || line[i] == '$' || (line[i] >= '0' && line[i] <= '9') ||
			 (line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= 'a' && line[i] <= 'z')))
		i++;
	if (!((i >= 5 && memcmp(line + i - 5, "Error", 5) == 0) || (i >= 9 && memcmp(line + i - 9, "Exception", 9) == 0)))
		return false;
	if (i + 1 < n && line[i] == ' ' && line[i + 1] == '[') {
		const char *close = memchr(line + i, ']', n - i);
		if (!close)
			return false;
		i = (size_t)(close - line) + 1;
	}
	return i < n && line[i] == ':' && (i + 1 == n || line[i + 1] == ' ');
}

/* How a runtime announces that it is giving up, when the lines after it
 * (a backtrace, goroutine dumps) push it away from the end: Rust's panic
 * ("thread 'main' panicked at src/x.rs:4:8:", newer ones with the thread
 * id after the name, and the message on the next
 * line), Go's "panic: " and "fatal error: ", C++'s uncaught exception
 * ("terminate called after throwing ..." and its "  what():  ..."), Java's
 * "Exception in thread", Python's and Node.js's exception line. 0: not
 * a headline; 2: the next line belongs to it; | HEADLINE_FIRST: the first
 * one of the output is the one to quote. */
static int headline(const char *line, size_t n)
{
	if (starts(line, n, "thread '") && has(line, n, " panicked at "))
		return line[n - 1] == ':' ? 2 : 1;
	if (starts(line, n, "panic: ") || starts(line, n, "fatal error: "))
		return 1;
	if (starts(line, n, "terminate called after throwing"))
		return 2;
	/* Java's uncaught exception: its "\tat ..." frames and "Caused by:"
	 * chain follow */
	if (starts(line, n, "Exception in thread \""))
		return 1 | HEADLINE_FIRST;
	if (error_name_line(line, n))
		return 1;
	/* the failed test of a Python suite, whose counts end the output:
	 * pytest's "FAILED tests/x.py::test_y - AssertionError: ..." and
	 * unittest's "FAIL: test_y (x.TestX.test_y)" */
	if (starts(line, n, "FAILED ") && has(line, n, "::"))
		return 1;
	if ((starts(line, n, "FAIL: ") || starts(line, n, "ERROR: ")) && has(line, n, " (") && line[n - 1] == ')')
		return 1;
	/* Go's testing: "--- FAIL: TestAdd (0.00s)", a subtest's indented,
	 * and t.Errorf's "    add_test.go:7: got -1" on the next line */
	size_t lead = 0;
	while (lead < n && line[lead] == ' ')
		lead++;
	if (starts(line + lead, n - lead, "--- FAIL: ") && line[n - 1] == ')')
		return 2;
	/* a compiler's or linker's error: the first is the cause, the later
	 * ones (and "collect2: error: ld returned 1 exit status") follow */
	if (has(line, n, ": error: ") || has(line, n, ": fatal error: ") || starts(line, n, "error: ") ||
	    starts(line, n, "error[E") || has(line, n, "undefined reference to `"))
		return 1 | HEADLINE_FIRST;
	return 0;
}

/* The last headline of the tail: its line [*hs, *he) and, when the next
 * line belongs to it, that line's text [*cs, *ce) (else *cs == *ce). */
static bool find_headline(const struct lastwords_stream *s, size_t *hs, size_t *he, size_t *cs, size_t *ce)
{
	bool found = false, first = false;
	size_t start = 0, end, next;
	while (line_at(s, start, &end, &next)) {
		int kind = headline(s->buf + start, end - start);
		if (kind && !(found && first)) {
			found = true;
			first = kind & HEADLINE_FIRST;
			kind &= ~HEADLINE_FIRST;
			*hs = start;
			while (*hs < end && s->buf[*hs] == ' ')   /* a subtest's indentation */
				(*hs)++;
			*he = end;
			*cs = *ce = next;
			size_t cend, cnext;
			if (kind == 2 && line_at(s, next, &cend, &cnext)) {
				while (*cs < cend && s->buf[*cs] == ' ')
					(*cs)++;
				*ce = cend;
			}
		}
		start = next;
	}
	return found;
}

bool lastwords_headline(const struct lastwords_stream *s, size_t *start, size_t *end)
{
	size_t hs, he, cs, ce;
	if (!s || !s->len || !find_headline(s, &hs, &he, &cs, &ce))
		return false;
	*start = hs;
	*end = ce > cs ? ce : he;
	return true;
}

char *lastwords_message(const struct lastwords_stream *s)
{
	if (!s || !s->len)
		return NULL;
	size_t hs, he, cs, ce;
	if (!find_headline(s, &hs, &he, &cs, &ce)) {
		const char *line;
		size_t n;
		if (!lastwords_last_line(s, &line, &n))
			return NULL;
		char *last = xmalloc(n + 1);
		memcpy(last, line, n);
		last[n] = '\0';
		return last;
	}
	size_t a = he - hs, b = ce > cs ? ce - cs : 0;
	char *out = xmalloc(a + 1 + b + 1);
	memcpy(out, s->buf + hs, a);
	out[a] = '\0';
	if (b) {
		out[a] = ' ';
		memcpy(out + a + 1, s->buf + cs, b);
		out[a + 1 + b] = '\0';
	}
	return out;
}

/* A successful write to fd 1 or 2: its data joins the process's last words. */
static void lastwords_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r)
{
	(void)m;
	const struct ev_syscall *ev = &r->ev;
	const struct syscall_sig *sig = syscall_sig_by_nr(ev->nr);
	long ret = (long)ev->ret;
	if (!sig || (ev->flags & ET_SC_F_NORETURN))
		return;
	int fd = (int)ev->args[0];
	if (ret <= 0 || (fd != 1 && fd != 2))
		return;
	if (strcmp(sig->name, "write") == 0 || strcmp(sig->name, "pwrite64") == 0) {
		const struct ev_capture *c = ev_find_capture(ev, 1, 0);
		const struct ev_capture *t = ev_find_tail(ev, 1);
		lastwords_add_ends(&p->words, fd, c ? ev_capture_data(c) : "", c ? c->len : 0,
				   t ? ev_capture_data(t) : NULL, t ? t->len : 0, (uint64_t)ret);
	} else if (strcmp(sig->name, "writev") == 0 || strcmp(sig->name, "pwritev") == 0 ||
		   strcmp(sig->name, "pwritev2") == 0) {
		/* the iovecs' captured prefixes, in order, up to what was written */
		struct strbuf sb = STRBUF_INIT;
		for (int i = 0; i < ET_IOV_MAX && sb.len < (size_t)ret; i++) {
			const struct ev_capture *c = ev_find_capture(ev, 1, i);
			if (!c)
				break;
			size_t n = c->len < (size_t)ret - sb.len ? c->len : (size_t)ret - sb.len;
			sb_putn(&sb, ev_capture_data(c), n);
		}
		lastwords_add(&p->words, fd, sb.len ? sb.buf : "", sb.len, (uint64_t)ret);
		sb_free(&sb);
	}
}

/* The words belong to the image that wrote them: a wrapper's message before
 * it exec'd the real program (a pyenv shim's complaint, then python3
 * crashing) would be quoted as the program's reason. */
static void lastwords_on_exec_begin(struct et_model *m, struct et_process *p)
{
	(void)m;
	lastwords_free(p->words);
	p->words = NULL;
}

static void lastwords_analysis_free(struct et_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		lastwords_free(m->procs[i]->words);
		m->procs[i]->words = NULL;
	}
}

/* no section of its own: the verdict and the CI reports quote it */
const struct et_analysis lastwords_analysis = {
	.name = "lastwords",
	.on_exec_begin = lastwords_on_exec_begin,
	.on_syscall = lastwords_on_syscall,
	.free = lastwords_analysis_free,
};

/* The line as text: what follows its last carriage return (a terminal's
 * progress line rewritten in place), without escape sequences (colors). */
static void clean_line(const char *p, size_t n, char *out, size_t cap)
{
	for (size_t i = n; i > 0; i--)
		if (p[i - 1] == '\r') {
			p += i;
			n -= i;
			break;
		}
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (p[i] == '\x1b' && i + 1 < n && p[i + 1] == '[') {
			i += 2;
			while (i < n && !(p[i] >= 0x40 && p[i] <= 0x7e))
				i++;
			continue;
		}
		out[o++] = p[i];
	}
	out[o] = '\0';
}

void lastwords_new_lines(const struct lastwords_stream *s, uint64_t *seen, size_t min, size_t max,
			 void (*fn)(const char *line, void *arg), void *arg)
{
	uint64_t added = s->kept - *seen;
	*seen = s->kept;
	if (added > s->len)
		added = s->len;
	char *line = malloc(max);
	if (!line)
		return;
	for (size_t i = s->len - (size_t)added; i < s->len; i++) {
		if (s->buf[i] != '\n')
			continue;
		size_t b = i;
		while (b > 0 && s->buf[b - 1] != '\n')
			b--;
		if (i - b < min || i - b >= max)
			continue;
		clean_line(s->buf + b, i - b, line, max);
		fn(line, arg);
	}
	free(line);
}
