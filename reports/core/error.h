/* etrace's own messages (git's error()/warning()): one line on stderr that
 * starts with "etrace: ", written in one call so that it is not interleaved
 * with the traced program's output. Everything etrace says about itself goes
 * through these; the report goes to its own output. */
#ifndef ETRACE_ERROR_H
#define ETRACE_ERROR_H

#include <stdarg.h>

/* "etrace: <message>\n"; returns -1, for `return et_error(...)`. */
int et_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int et_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* The same line for what is not a failure (a fallback taken, a count of
 * what was attached): etrace goes on. */
void et_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Out of memory: the line, then abort (xalloc.h, strbuf.c). */
void et_oom(void) __attribute__((noreturn));

#endif
