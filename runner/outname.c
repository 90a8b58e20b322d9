/* Output file names: %p, %n, %q{VAR}, %% (see outname.h). */
#include "outname.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/core/strbuf.h"

#define OUTNAME_MAX_SEQ 100000

/* The pattern with %n as seq; false (with err) on a bad conversion. */
static bool expand_with(const char *pat, unsigned seq, bool *has_n, struct strbuf *out, char *err, size_t errlen)
{
	for (const char *s = pat; *s; s++) {
		if (*s != '%') {
			sb_putc(out, *s);
			continue;
		}
		switch (s[1]) {
		case '%':
			sb_putc(out, '%');
			s++;
			break;
		case 'p':
			sb_printf(out, "%d", (int)getpid());
			s++;
			break;
		case 'n':
			sb_printf(out, "%u", seq);
			*has_n = true;
			s++;
			break;
		case 'q': {
			const char *close = s[2] == '{' ? strchr(s + 3, '}') : NULL;
			if (!close || close == s + 3) {
				snprintf(err, errlen, "'%s': %%q takes a variable name in braces: %%q{VAR}", pat);
				return false;
			}
			char name[256];
			size_t n = (size_t)(close - (s + 3));
			if (n >= sizeof(name)) {
				snprintf(err, errlen, "'%s': the variable name in %%q{...} is too long", pat);
				return false;
			}
			memcpy(name, s + 3, n);
			name[n] = '\0';
			const char *v = getenv(name);
			sb_puts(out, v ? v : "");
			s = close;
			break;
		}
		default:
			snprintf(err, errlen, "'%s': unknown conversion %%%c (use %%p, %%n, %%q{VAR} or %%%%)", pat,
				 s[1] ? s[1] : '?');
			return false;
		}
	}
	return true;
}

char *outname_expand(const char *pattern, char *err, size_t errlen)
{
	if (!strchr(pattern, '%'))
		return strdup(pattern);
	for (unsigned seq = 1; seq <= OUTNAME_MAX_SEQ; seq++) {
		struct strbuf sb = STRBUF_INIT;
		bool has_n = false;
		if (!expand_with(pattern, seq, &has_n, &sb, err, errlen)) {
			sb_free(&sb);
			return NULL;
		}
		struct stat st;
		if (!sb.len) {
			sb_free(&sb);
			snprintf(err, errlen, "'%s' expands to an empty name", pattern);
			return NULL;
		}
		if (!has_n || lstat(sb_str(&sb), &st) != 0)
			return sb_detach(&sb);
		sb_free(&sb);
	}
	snprintf(err, errlen, "'%s': every %%n up to %d is taken", pattern, OUTNAME_MAX_SEQ);
	return NULL;
}
