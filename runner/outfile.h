/* The report files named on the command line (-o, --json): opened (created
 * if need be) with the invoking user's rights before the program starts, so
 * a path that cannot be written is an error before the run, not after it;
 * written at the end, every write checked. */
#ifndef ETRACE_OUTFILE_H
#define ETRACE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct outfile {
	const char *path;   /* NULL: not asked for */
	const char *what;   /* "the report", "the JSON report": for messages */
	int fd;
	bool created;       /* it did not exist: removed again if never written */
};

/* Opens path for writing without truncating it yet. Returns 0, or -1 with
 * a one-line message in err. */
int outfile_open(struct outfile *o, const char *path, const char *what, char *err, size_t errlen);
/* Empties the file and gives a stream on it (NULL with a message said). */
FILE *outfile_begin(struct outfile *o);
/* Flushes and closes a stream, stderr included (only flushed). Any write
 * that failed on the way is said in one line. Returns 0 or -1. */
int outfile_finish(FILE *f, const char *what, const char *path);
/* Not written after all (--report=failure and the program succeeded): a
 * file etrace created is removed, one that existed is left as it was. */
void outfile_discard(struct outfile *o);

#endif
