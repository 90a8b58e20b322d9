/* lastwords: the tail of a process's stdout and stderr. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "reports/process/lastwords.h"

int main(void)
{
	struct lastwords *lw = NULL;
	const struct lastwords_stream *s;
	const char *line;
	size_t n;
	int fd = 0;
	CHECK(lastwords_pick(lw, &fd) == NULL);
	lastwords_add(&lw, 3, "not stdio\n", 10, 10);
	CHECK(lw == NULL);
	lastwords_add(&lw, 1, "progress 1\nprogress 2\n", 22, 22);
	s = lastwords_pick(lw, &fd);
	CHECK(s && fd == 1 && lastwords_last_line(s, &line, &n) && n == 10 && memcmp(line, "progress 2", 10) == 0);
	/* stderr, once written, is what tells */
	lastwords_add(&lw, 2, "error: bad input\n\n", 18, 18);
	s = lastwords_pick(lw, &fd);
	CHECK(s && fd == 2 && lastwords_last_line(s, &line, &n) && n == 16 && memcmp(line, "error: bad input", 16) == 0);
	/* a write whose data was not captured: marked, never taken as words */
	lastwords_add(&lw, 2, "partial", 7, 1007);
	CHECK(s->not_captured == 1000 && s->written == 18 + 1007 && s->writes == 2);
	CHECK(lastwords_last_line(s, &line, &n) && n == 7 && memcmp(line, "partial", 7) == 0);
	CHECK(strstr(s->buf, LASTWORDS_GAP "1000 bytes not captured]\n") != NULL);
	/* bounded: the newest LASTWORDS_KEEP bytes */
	char big[LASTWORDS_KEEP + 100];
	memset(big, 'x', sizeof(big));
	memcpy(big + sizeof(big) - 5, "end\n", 4);
	big[sizeof(big) - 1] = '\n';
	lastwords_add(&lw, 2, big, sizeof(big), sizeof(big));
	CHECK(s->len == LASTWORDS_KEEP && memcmp(s->buf + LASTWORDS_KEEP - 5, "end\n\n", 5) == 0);
	lastwords_free(lw);

	/* a long write's start and end: the gap between them marked, the tail's
	 * partial first line dropped, the last line the tail's */
	lw = NULL;
	lastwords_add_ends(&lw, 2, "head line\nhead", 14, "ial line\nthe reason\n", 20, 1000);
	s = lastwords_pick(lw, &fd);
	CHECK(s && fd == 2 && s->written == 1000 && s->not_captured == 1000 - 14 - 11);
	CHECK(lastwords_last_line(s, &line, &n) && n == 10 && memcmp(line, "the reason", 10) == 0);
	CHECK_STR(s->buf, "head line\nhead\n" LASTWORDS_GAP "975 bytes not captured]\nthe reason\n");
	/* a tail that would overlap the start is not used */
	lastwords_add_ends(&lw, 1, "abc\n", 4, "bc\n", 3, 5);
	s = &lw->s[0];
	CHECK(s->not_captured == 1 && strstr(s->buf, "abc\n" LASTWORDS_GAP "1 bytes not captured]\n") == s->buf);
	/* a tail with no newline: all of it is a partial line */
	lastwords_add_ends(&lw, 1, "x\n", 2, "no newline", 10, 100);
	CHECK(s->not_captured == 1 + 98 && strstr(s->buf, "no newline") == NULL);
	lastwords_free(lw);

	/* the message: a runtime's headline when the tail has one */
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "a\nlast line\n", "last line" },
		{ "thread 'main' panicked at src/x.rs:4:8:\nindex out of bounds\nstack backtrace:\n  0: f\nnote: x\n",
		  "thread 'main' panicked at src/x.rs:4:8: index out of bounds" },
		{ "thread 'main' (7) panicked at 'boom', x.rs:1:2\nnote: y\n", "thread 'main' (7) panicked at 'boom', x.rs:1:2" },
		{ "panic: one\n\ngoroutine 1 [running]:\nmain.main()\n", "panic: one" },
		{ "terminate called after throwing an instance of 'E'\n  what():  bad\n",
		  "terminate called after throwing an instance of 'E' what():  bad" },
		{ "FAILED t.py::a - X\nFAILED t.py::b - Y\n2 failed\n", "FAILED t.py::b - Y" },
		/* Go's testing: the failed test and t.Errorf's line; a subtest indented */
		{ "--- FAIL: TestAdd (0.00s)\n    a_test.go:7: got -1\nFAIL\n", "--- FAIL: TestAdd (0.00s) a_test.go:7: got -1" },
		{ "--- FAIL: TestA (0.00s)\n    --- FAIL: TestA/b (0.00s)\n        a_test.go:9: bad\nFAIL\n",
		  "--- FAIL: TestA/b (0.00s) a_test.go:9: bad" },
		{ "--- FAIL: not a test result\nFAIL\n", "FAIL" },
		{ "x.c:1:2: error: first\nx.c:3:4: error: second\ncollect2: error: ld returned 1 exit status\n",
		  "x.c:1:2: error: first" },
		/* a first-wins headline stays against later ones of any kind */
		{ "x.c:1:2: error: first\npanic: later\n", "x.c:1:2: error: first" },
		/* a headline whose continuation is missing: the line alone */
		{ "thread 'main' panicked at x.rs:1:1:", "thread 'main' panicked at x.rs:1:1:" },
		{ "terminate called after throwing an instance of 'E'\n", "terminate called after throwing an instance of 'E'" },
		/* Node.js: the exception's line, then its stack and the version */
		{ "/t/x.js:1\nf()\n^\n\nTypeError: Cannot read properties of undefined (reading 'y')\n    at f (/t/x.js:1:31)\n\n"
		  "Node.js v20.20.2\n",
		  "TypeError: Cannot read properties of undefined (reading 'y')" },
		{ "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n1 !== 2\n\n    at x\n\nNode.js v20\n",
		  "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:" },
		/* Python: a chained exception, the last one wins */
		{ "Traceback (most recent call last):\nKeyError: 'k'\n\nDuring handling\nTraceback\n  File \"a.py\"\n"
		  "mod.ConfigError: no key\n", "mod.ConfigError: no key" },
		/* Java: the first line, not its frames or its causes */
		{ "Exception in thread \"main\" java.lang.RuntimeException: wrap\n\tat X.main(X.java:1)\n"
		  "Caused by: java.lang.NumberFormatException: For input string: \"q\"\n\tat X.main(X.java:1)\n\t... 5 more\n",
		  "Exception in thread \"main\" java.lang.RuntimeException: wrap" },
		/* not exception lines: no colon after the name, a name in a sentence */
		{ "Error handling done\nsaw a ValueError: ignored\nlast\n", "last" },
		{ "TypeError [broken\nlast\n", "last" },
		{ "\n\n", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lastwords *w = NULL;
		lastwords_add(&w, 2, cases[i].text, strlen(cases[i].text), strlen(cases[i].text));
		char *got = lastwords_message(lastwords_pick(w, NULL));
		if (cases[i].want)
			CHECK_STR(got, cases[i].want);
		else
			CHECK(got == NULL);
		free(got);
		lastwords_free(w);
	}
	CHECK(lastwords_message(NULL) == NULL);

	/* what a process writes is untrusted: random lines made of headline
	 * pieces, newlines and bytes, any length, never read out of bounds
	 * (make asan-check runs this under AddressSanitizer) */
	static const char *const pieces[] = { "thread '", "' panicked at ", ":", "\n", "panic: ", "terminate called after throwing",
					      "Exception in thread \"", "Error", "Exception", " [", "]", "x.",
					      "FAILED ", "::", "FAIL: ", " (", ")", ": error: ", "error[E", " ", "\r", "x",
					      "--- FAIL: ", "    " };
	srand(7);
	for (int round = 0; round < 2000; round++) {
		char buf[256];
		size_t len = 0;
		int k = rand() % 12;
		for (int j = 0; j < k; j++) {
			const char *pc = pieces[rand() % (int)(sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(pc);
			if (len + pl >= sizeof(buf))
				break;
			memcpy(buf + len, pc, pl);
			len += pl;
		}
		struct lastwords *w = NULL;
		lastwords_add(&w, 1, buf, len, len ? len : 1);
		const struct lastwords_stream *ws = lastwords_pick(w, NULL);
		char *got = lastwords_message(ws);
		size_t hs, he;
		if (ws && lastwords_headline(ws, &hs, &he))
			CHECK(hs <= he && he <= ws->len);
		if (got)
			CHECK(strlen(got) <= len + 1);
		free(got);
		lastwords_free(w);
	}
	return unit_done();
}
