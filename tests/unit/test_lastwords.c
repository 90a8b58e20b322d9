/* lastwords: the tail of a process's stdout and stderr. */
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
	return unit_done();
}
