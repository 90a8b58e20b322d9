#include "strbuf.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

static void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(sb->buf, cap);
	if (!p) {
		et_oom();
	}
	sb->buf = p;
	sb->cap = cap;
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *sb_detach(struct strbuf *sb)
{
	char *s = sb->buf ? sb->buf : strdup("");
	sb_init(sb);
	return s;
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_putc(struct strbuf *sb, char c)
{
	sb_putn(sb, &c, 1);
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n <= 0)
		return;
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void sb_quote(struct strbuf *sb, const char *data, size_t n, size_t max, int truncated)
{
	size_t shown = n < max ? n : max;
	sb_putc(sb, '"');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)data[i];
		switch (c) {
		case '"': sb_puts(sb, "\\\""); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '\n': sb_puts(sb, "\\n"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				sb_printf(sb, "\\x%02x", c);
			else
				sb_putc(sb, (char)c);
		}
	}
	sb_putc(sb, '"');
	if (truncated || shown < n)
		sb_puts(sb, "...");
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		len = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A backslash, newline, tab or carriage return as JSON and C write them. */
static bool put_named_escape(struct strbuf *sb, unsigned char c)
{
	static const char named[] = { '\\', '\\', '\n', 'n', '\t', 't', '\r', 'r' };
	for (size_t k = 0; k < sizeof(named); k += 2)
		if (c == (unsigned char)named[k]) {
			sb_putc(sb, '\\');
			sb_putc(sb, named[k + 1]);
			return true;
		}
	return false;
}

/* The code point of a valid sequence of len bytes at s; overlong forms and
 * surrogates give -1. */
static long utf8_decode(const unsigned char *s, size_t len)
{
	static const unsigned char mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	static const long least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	long cp = s[0] & mask[len];
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return cp;
}

void sb_json_strn(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	sb_putc(sb, '"');
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c == '"') {
			sb_puts(sb, "\\\"");
		} else if (put_named_escape(sb, c)) {
			/* done */
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(sb, "\\u%04x", c);
		} else if (c >= 0x80) {
			/* overlong forms and surrogates are not UTF-8 either: JSON
			 * readers reject them (data a program wrote, cut anywhere) */
			size_t len = utf8_seq_len(p + i, n - i);
			if (len == 0 || utf8_decode(p + i, len) < 0) {
				sb_printf(sb, "\\u%04x", c);
			} else {
				sb_putn(sb, (const char *)p + i, len);
				i += len;
				continue;
			}
		} else {
			sb_putc(sb, (char)c);
		}
		i++;
	}
	sb_putc(sb, '"');
}

void sb_json_str(struct strbuf *sb, const char *s)
{
	if (!s) {
		sb_puts(sb, "null");
		return;
	}
	sb_json_strn(sb, s, strlen(s));
}

void sb_escapen(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (put_named_escape(sb, c)) {
			/* done */
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(sb, "\\x%02x", c);
		} else if (c >= 0x80) {
			size_t len = utf8_seq_len(p + i, n - i);
			long cp = len ? utf8_decode(p + i, len) : -1;
			/* C1 controls (U+0080-U+009F: 0x9b is a CSI) and the
			 * bidirectional overrides that reorder what is shown */
			bool shown = cp >= 0xa0 && !(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069);
			if (shown) {
				sb_putn(sb, (const char *)p + i, len);
				i += len;
				continue;
			}
			for (size_t k = 0; k < (len ? len : 1); k++)
				sb_printf(sb, "\\x%02x", p[i + k]);
			i += len ? len : 1;
			continue;
		} else {
			sb_putc(sb, (char)c);
		}
		i++;
	}
}

void sb_escape(struct strbuf *sb, const char *s)
{
	if (s)
		sb_escapen(sb, s, strlen(s));
}

const char *sb_escaped(struct strbuf *sb, const char *s)
{
	sb_reset(sb);
	sb_escape(sb, s);
	return sb_str(sb);
}
