#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "invoker.h"
#include "reports/core/error.h"

int outfile_open(struct outfile *o, const char *path, const char *what, char *err, size_t errlen)
{
	o->path = path;
	o->what = what;
	o->fd = -1;
	o->created = false;
	if (!path)
		return 0;
	/* an existing file (or /dev/stdout, a fifo) is opened as it is;
	 * a new one is created, owned by the invoking user */
	o->fd = invoker_open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (o->fd < 0 && errno == ENOENT) {
		o->fd = invoker_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
		o->created = o->fd >= 0;
	}
	if (o->fd < 0) {
		snprintf(err, errlen, "cannot write %s to %s: %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

FILE *outfile_begin(struct outfile *o)
{
	if (o->fd < 0)
		return NULL;
	/* a regular file loses what it had; ftruncate fails harmlessly on
	 * anything else (a tty, a pipe, /dev/null) */
	if (ftruncate(o->fd, 0) < 0 && errno != EINVAL && errno != EBADF) {
		et_error("cannot write %s to %s: %s", o->what, o->path, strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(o->fd, "w");
	if (!f) {
		et_error("cannot write %s to %s: %s", o->what, o->path, strerror(errno));
		return NULL;
	}
	o->fd = -1;   /* the stream owns it */
	o->created = false;
	return f;
}

int outfile_finish(FILE *f, const char *what, const char *path)
{
	/* fclose does not report a write that failed before its own flush
	 * (a JSON report cut at 8 KB on ENOSPC closed "fine"): ferror does */
	errno = 0;
	int bad = fflush(f) != 0;
	int err = errno;
	if (ferror(f)) {
		bad = 1;
		/* the failed write's errno is long gone: one more byte, in a
		 * stream that already lost data, says why (ENOSPC, EPIPE...) */
		if (!err && write(fileno(f), "\n", 1) < 0)
			err = errno;
	}
	if (f != stderr && f != stdout) {
		errno = 0;
		if (fclose(f) != 0) {
			bad = 1;
			if (!err)
				err = errno;
		}
	}
	if (bad)
		et_error("cannot write %s to %s: %s", what, path, strerror(err ? err : EIO));
	return bad ? -1 : 0;
}

void outfile_discard(struct outfile *o)
{
	if (o->fd < 0)
		return;
	close(o->fd);
	o->fd = -1;
	if (o->created) {
		struct invoker_saved s;
		if (invoker_enter(&s) == 0) {
			unlink(o->path);
			invoker_leave(&s);
		}
	}
}
