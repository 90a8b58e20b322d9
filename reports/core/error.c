/* etrace's own messages: see error.h. */
#include "error.h"

#include <stdio.h>
#include <stdlib.h>

/* one write: the prefix, the message and the newline together */
static void say(const char *fmt, va_list ap)
{
	char *msg = NULL;
	va_list copy;
	va_copy(copy, ap);
	if (vasprintf(&msg, fmt, copy) < 0) {
		msg = NULL;
		fputs("etrace: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		fprintf(stderr, "etrace: %s\n", msg);
	}
	va_end(copy);
	free(msg);
}

int et_verror(const char *fmt, va_list ap)
{
	say(fmt, ap);
	return -1;
}

int et_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return -1;
}

void et_warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void et_oom(void)
{
	fputs("etrace: out of memory\n", stderr);
	abort();
}
