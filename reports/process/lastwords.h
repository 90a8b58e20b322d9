/* Last words: the tail of what each process wrote to its stdout and stderr,
 * built from the write records' data as they arrive, so that a failed
 * test's message (an assertion, a traceback, a panic) can be shown after
 * the process is gone. Bounded per process; what was not kept is counted. */
#ifndef ETRACE_LASTWORDS_H
#define ETRACE_LASTWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LASTWORDS_KEEP 4096     /* bytes kept per stream and process */
/* starts the line that marks a write whose data the record did not carry
 * (longer than ET_STDERR_MAX, or not readable: never paged in) */
#define LASTWORDS_GAP "[etrace: "

struct lastwords_stream {
	char *buf;                  /* the last len bytes kept, oldest first (gap marks included) */
	size_t len;
	uint64_t written;           /* bytes the process wrote (successful writes) */
	uint64_t not_captured;      /* of which the record carried no data (a write longer than its capture) */
	uint64_t writes;
	uint64_t kept;              /* bytes appended to buf, gap marks included (the end's offset) */
};

struct lastwords {
	struct lastwords_stream s[2]; /* [0] stdout (fd 1), [1] stderr (fd 2) */
};

/* Appends a successful write of `written` bytes to fd 1 or 2 of which the
 * first `n` are in data. A gap (written > n) is marked in the text. */
void lastwords_add(struct lastwords **lw, int fd, const char *data, size_t n, uint64_t written);
/* The same with the write's last tn bytes (tail, NULL: none) captured too:
 * the gap is between them, and the tail's first partial line is dropped. */
void lastwords_add_ends(struct lastwords **lw, int fd, const char *data, size_t n, const char *tail, size_t tn,
			uint64_t written);
void lastwords_free(struct lastwords *lw);

/* The stream that tells: stderr when the process wrote to it, else stdout;
 * NULL when it wrote to neither. */
const struct lastwords_stream *lastwords_pick(const struct lastwords *lw, int *fd);
/* The last non-empty line of the stream (without its newline): where n bytes
 * start in *line. false when there is none. */
bool lastwords_last_line(const struct lastwords_stream *s, const char **line, size_t *n);
/* Each line of s completed since *seen (then set to s->kept), as text: what
 * follows its last carriage return (a progress line rewritten in place),
 * without escape sequences (colours), NUL-terminated. Lines shorter than
 * min or of max bytes or more are passed over. Runners' result lines are
 * read so, write by write. */
void lastwords_new_lines(const struct lastwords_stream *s, uint64_t *seen, size_t min, size_t max,
			 void (*fn)(const char *line, void *arg), void *arg);
/* The line that says why the process gave up (allocated): a runtime's
 * failure headline when the tail has one (a Rust panic and its message, Go's
 * "panic: ", C++'s uncaught exception and its what()), else the last line.
 * NULL when the stream is empty. */
char *lastwords_message(const struct lastwords_stream *s);
/* Where that headline's lines are in s->buf: [*start, *end). false when the
 * tail has none. */
bool lastwords_headline(const struct lastwords_stream *s, size_t *start, size_t *end);

#endif
