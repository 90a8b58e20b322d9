/* Last words of each process (see lastwords.h). */
#include "lastwords.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void keep(struct lastwords_stream *s, const char *data, size_t n)
{
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
	if ((fd != 1 && fd != 2) || !written)
		return;
	if (!*lw)
		*lw = xcalloc(1, sizeof(**lw));
	struct lastwords_stream *s = &(*lw)->s[fd - 1];
	if (n > written)
		n = (size_t)written;
	s->writes++;
	s->written += written;
	keep(s, data, n);
	if (written > n) {
		/* the record kept only the start of this write: say so where it happened */
		char mark[64];
		bool own_line = !s->len || s->buf[s->len - 1] == '\n';
		int k = snprintf(mark, sizeof(mark), "%s" LASTWORDS_GAP "%llu bytes not captured]\n", own_line ? "" : "\n",
				 (unsigned long long)(written - n));
		s->not_captured += written - n;
		keep(s, mark, (size_t)k);
	}
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
