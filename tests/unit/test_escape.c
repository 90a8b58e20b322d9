/* sb_escape: what the text report does with strings from the traced program. */
#include "unit.h"
#include "reports/core/strbuf.h"

static const char *esc(struct strbuf *sb, const char *s)
{
	return sb_escaped(sb, s);
}

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	CHECK_STR(esc(&sb, "plain /path-ok"), "plain /path-ok");
	CHECK_STR(esc(&sb, "a\nresult: x"), "a\\nresult: x");
	CHECK_STR(esc(&sb, "\t\r\\"), "\\t\\r\\\\");
	CHECK_STR(esc(&sb, "\x1b[31m\x07\x7f"), "\\x1b[31m\\x07\\x7f");
	/* valid UTF-8 kept; C1 controls (CSI 0x9b), invalid bytes, overlong
	 * forms, surrogates and bidirectional overrides escaped */
	CHECK_STR(esc(&sb, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_STR(esc(&sb, "\xc2\x9b" "2J"), "\\xc2\\x9b2J");
	CHECK_STR(esc(&sb, "\xff\xfe"), "\\xff\\xfe");
	CHECK_STR(esc(&sb, "\xc0\xaf"), "\\xc0\\xaf");
	CHECK_STR(esc(&sb, "\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	CHECK_STR(esc(&sb, "\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CHECK_STR(esc(&sb, "a\xe2\x80\xae" "b"), "a\\xe2\\x80\\xaeb");
	CHECK_STR(esc(&sb, "cut \xe2\x82"), "cut \\xe2\\x82");
	sb_reset(&sb);
	sb_escapen(&sb, "a\0b", 3);
	CHECK_STR(sb_str(&sb), "a\\x00b");
	/* JSON: a surrogate or an overlong form (data a program wrote) is bytes */
	sb_reset(&sb);
	sb_json_strn(&sb, "\xed\xa0\x80 \xc0\xaf \xc3\xa9", 9);
	CHECK_STR(sb_str(&sb), "\"\\u00ed\\u00a0\\u0080 \\u00c0\\u00af \xc3\xa9\"");
	sb_free(&sb);
	return unit_done();
}
