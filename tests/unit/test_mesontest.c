/* mesontest: `meson test`'s result lines name its failed children, and
 * never wrongly: two children waiting with the status a line reports are
 * left unnamed. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "reports/core/model.h"
#include "reports/core/xalloc.h"
#include "reports/process/lastwords.h"
#include "reports/process/mesontest.h"

static char **argv_of(const char *a, const char *b, const char *c)
{
	char **v = xcalloc(4, sizeof(char *));
	v[0] = xstrdup(a);
	v[1] = xstrdup(b);
	v[2] = c ? xstrdup(c) : NULL;
	return v;
}

/* a child of meson that ended with wait status ws */
static struct et_process *child(struct et_model *m, int pid, int ws)
{
	struct et_process *c = model_add_process(m, pid, 100, 1);
	c->exited = true;
	c->wait_status = ws;
	return c;
}

static void say(struct et_model *m, struct meson_runs **runs, struct et_process *meson, const char *text)
{
	lastwords_add(&meson->words, 1, text, strlen(text), strlen(text));
	mesontest_on_stdout(m, runs, meson);
}

int main(void)
{
	struct et_model m;
	model_init(&m);
	struct meson_runs *runs = NULL;
	struct et_process *meson = model_add_process(&m, 100, 1, 0);
	meson->argv = argv_of("/usr/bin/python3", "/usr/bin/meson", "test");

	/* a signal, written as meson writes it: the line, then its newline */
	struct et_process *a = child(&m, 101, 6);
	say(&m, &runs, meson, "1/6 demo:unit / parse numbers   FAIL            0.06s   killed by signal 6 SIGABRT");
	CHECK(a->test_name == NULL);
	say(&m, &runs, meson, "\n");
	CHECK_STR(a->test_name, "demo:unit / parse numbers");

	/* an exit status; a passing test's line names nobody */
	struct et_process *ok = child(&m, 102, 0);
	struct et_process *b = child(&m, 103, 3 << 8);
	say(&m, &runs, meson, "2/6 passing        OK              0.01s\n3/6 exits_three   FAIL            0.02s   exit status 3\n");
	CHECK(ok->test_name == NULL);
	CHECK_STR(b->test_name, "exits_three");

	/* colors and a progress line rewritten in place (a terminal) */
	struct et_process *c = child(&m, 104, 77 << 8);
	say(&m, &runs, meson, "[2/3] progress\r\x1b[K4/6 colored        \x1b[1;31mERROR\x1b[0m           0.01s   exit status 77\n");
	CHECK_STR(c->test_name, "colored");

	/* two children waiting with the same status: the line could be either's */
	struct et_process *d = child(&m, 105, 1 << 8);
	struct et_process *e = child(&m, 106, 1 << 8);
	say(&m, &runs, meson, "5/6 first   FAIL   0.01s   exit status 1\n");
	say(&m, &runs, meson, "6/6 second  FAIL   0.01s   exit status 1\n");
	CHECK(d->test_name == NULL && e->test_name == NULL);

	/* a line before its child's exit was seen, a line with no child left, and
	 * a shell's 128+N: nobody named */
	struct et_process *f = model_add_process(&m, 107, 100, 1);
	f->wait_status = 2 << 8;
	say(&m, &runs, meson, "1/1 early   FAIL   0.01s   exit status 2\n");
	CHECK(f->test_name == NULL);
	struct et_process *g = child(&m, 108, 134 << 8);
	say(&m, &runs, meson, "1/1 shell   FAIL   0.01s   (exit status 134 or signal 6 SIGABRT)\n");
	CHECK_STR(g->test_name, "shell");
	say(&m, &runs, meson, "1/1 again   FAIL   0.01s   exit status 3\n");
	CHECK_STR(b->test_name, "exits_three");

	/* lines that are not results */
	struct et_process *h = child(&m, 109, 4 << 8);
	say(&m, &runs, meson, "Ok:                 1\nFail:               1\n1/1 x FAIL\n1/ y FAIL 0.01s exit status 4\n"
			       "1/1  FAIL   0.01s   exit status 4\n1/1 z   FAIL   abc   exit status 4\n");
	CHECK(h->test_name == NULL);

	/* another process's identical line names nobody */
	struct et_process *other = model_add_process(&m, 200, 1, 0);
	other->argv = argv_of("/usr/bin/python3", "script.py", NULL);
	struct et_process *i = model_add_process(&m, 201, 200, 1);
	i->exited = true;
	i->wait_status = 5 << 8;
	lastwords_add(&other->words, 1, "1/1 t   FAIL   0.01s   exit status 5\n", 37, 37);
	mesontest_on_stdout(&m, &runs, other);
	CHECK(i->test_name == NULL);

	mesontest_free(runs);
	model_free(&m);
	return unit_done();
}
