/* Small helpers the symbolize/ readers share. */
#ifndef ETRACE_FILEUTIL_H
#define ETRACE_FILEUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The file name of a path: what follows its last '/' (NULL for NULL). */
static inline const char *path_base(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/* A one-line error into err (printf-checked). */
static inline void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The whole file in a NUL-terminated buffer (*buf, *len without the NUL).
 * procfs, tracefs and debugfs files report size 0: it reads until EOF,
 * starting with guess bytes. Returns 0, or -1 with errno. */
int read_whole_file(const char *path, size_t guess, char **buf, size_t *len);

#endif
