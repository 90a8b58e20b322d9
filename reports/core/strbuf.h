/* Growable string buffer used by the decoders and renderers. */
#ifndef ETRACE_STRBUF_H
#define ETRACE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;   /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
/* Returns the text, "" for an empty buffer; valid until the next change. */
const char *sb_str(const struct strbuf *sb);
/* Takes ownership of the text (caller frees); the buffer is left empty. */
char *sb_detach(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* C-style quoted string, strace style: "a\nb\x01", at most max bytes of
 * data shown, "..." appended when truncated is set or data was cut. */
void sb_quote(struct strbuf *sb, const char *data, size_t n, size_t max, int truncated);
/* Text that came from the traced program, for a terminal (the text
 * report): control characters, DEL, C1 controls, bidirectional overrides and
 * invalid UTF-8 as \xNN (\n \t \r as such), a backslash doubled; valid
 * UTF-8 kept. Without it an argument with a newline forged report lines and
 * escape sequences reached the reader's terminal. */
void sb_escapen(struct strbuf *sb, const char *s, size_t n);
void sb_escape(struct strbuf *sb, const char *s);
/* sb emptied, then s escaped: for one %s of a printf. */
const char *sb_escaped(struct strbuf *sb, const char *s);
/* JSON string literal with quotes and escapes (invalid UTF-8 bytes as \u00XX). */
void sb_json_str(struct strbuf *sb, const char *s);
void sb_json_strn(struct strbuf *sb, const char *s, size_t n);

#endif
