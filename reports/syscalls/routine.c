/* Which failed syscalls are routine (reports/syscalls/routine.h). Two kinds of rule:
 * those that know from the call alone (isatty's ENOTTY, the loader's
 * hardware directories), and searches, known only when the same process
 * later finds what it was after: a library in the next directory of its
 * path, json/__init__.py after json/__init__.abi3.so. */
#include "routine.h"

#include <signal.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"
#include "symbolize/fileutil.h"
#include "reports/process/lastwords.h"
#include "reports/process/sysprog.h"
#include "reports/core/model.h"
#include "syscall_table.h"
#include "reports/core/xalloc.h"

/* The searches still unexplained, oldest first; a bounded window, since a
 * search is resolved within a few calls of its last miss. */
#define SEARCHES_KEPT 512

struct search {
	int pid;
	size_t failure;   /* index into m->failures */
	char *path;
	size_t dir_len;   /* path[0..dir_len) is the directory, with its '/' */
	size_t stem_len;  /* the name up to its first '.' */
	bool probe;       /* a stat or access: it only asked whether the name is there */
	bool mkdir;       /* a mkdir whose parent was missing */
};

struct routine_searches {
	struct search s[SEARCHES_KEPT];
	size_t head, count;
};

/* The path captured for argument i, copied into buf as a C string. The
 * capture holds c->len bytes and no NUL: the BPF side's terminator is not
 * part of the record when len is a multiple of 8. */
static const char *arg_path(const struct ev_syscall *ev, int i, char *buf, size_t buflen)
{
	const struct ev_capture *c = ev_find_capture(ev, i, 0);
	if (!c || c->kind != ET_CAP_STR)
		return NULL;
	const char *d = ev_capture_data(c);
	snprintf(buf, buflen, "%.*s", (int)strnlen(d, c->len), d);
	return buf;
}

static const char *first_path(const struct ev_syscall *ev, const struct syscall_sig *sig, char *buf, size_t buflen)
{
	for (int i = 0; i < sig->nargs; i++)
		if (sig->arg[i] == A_PATH) {
			const char *path = arg_path(ev, i, buf, buflen);
			if (path && path[0])
				return path;
		}
	return NULL;
}

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), k = strlen(end);
	return n >= k && strcmp(s + n - k, end) == 0;
}

/* The syscalls that only ask whether a file is there. */
static bool probe_call(const char *name)
{
	static const char *const probes[] = { "stat", "lstat", "newfstatat", "statx", "access", "faccessat",
					      "faccessat2", "readlink", "readlinkat", "statfs" };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (strcmp(name, probes[i]) == 0)
			return true;
	return false;
}

/* A directory a program is looked up in: ".../bin", ".../sbin", ".../shims". */
static bool lookup_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (path[0] != '/' || !slash || slash == path)
		return false;
	size_t n = (size_t)(slash - path);
	static const char *const ends[] = { "/bin", "/sbin", "/shims" };
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t k = strlen(ends[i]);
		if (n >= k && strncmp(path + n - k, ends[i], k) == 0)
			return true;
	}
	return false;
}

/* The loader's search of hardware-specific directories ("lib/tls",
 * "lib/x86_64/libc.so.6") and of /etc/ld.so.preload. */
static bool loader_path(const char *path)
{
	static const char *const dirs[] = { "/glibc-hwcaps", "/tls", "/haswell", "/x86_64" };
	if (strcmp(path, "/etc/ld.so.preload") == 0)
		return true;
	/* every occurrence: rustup's ".../rustlib/x86_64-unknown-linux-gnu/lib/x86_64"
	 * has a longer name with the same start before the loader's */
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		for (const char *at = strstr(path, dirs[i]); at; at = strstr(at + 1, dirs[i]))
			if (at[strlen(dirs[i])] == '/' || at[strlen(dirs[i])] == '\0')
				return true;
	return false;
}

/* What CPython looks for at start-up to find its prefix (a venv's
 * pyvenv.cfg, ._pth files, the zipped standard library, the landmark
 * lib/python3.X/os.py next to the executable) and the site directories
 * it adds when they exist. Only for a process that runs python. */
static bool python_startup_path(const struct et_process *p, const char *path)
{
	const char *exe = p ? (p->exe_path ? p->exe_path : p->exe) : NULL;
	if (!exe || strncmp(path_base(exe), "python", 6) != 0)
		return false;
	const char *base = path_base(path);
	if (strcmp(base, "pyvenv.cfg") == 0 || strcmp(base, "pybuilddir.txt") == 0 ||
	    strcmp(base, "Setup.local") == 0 || ends_with(base, "._pth") ||
	    (strncmp(base, "python3", 7) == 0 && ends_with(base, ".zip")))
		return true;
	/* and the bytecode cache it writes when it finds none */
	return strstr(path, "/lib/python3") || strstr(path, "/site-packages") || strstr(path, "/dist-packages") ||
	       strstr(path, "/__pycache__/");
}

/* connect()'s address is glibc's nscd socket (/var/run/nscd/socket). */
static bool nscd_socket(const struct ev_syscall *ev)
{
	const struct ev_capture *c = ev_find_capture(ev, 1, 0);
	if (!c || c->kind != ET_CAP_SOCKADDR_IN || c->len <= sizeof(sa_family_t))
		return false;
	const char *d = ev_capture_data(c);
	sa_family_t family;
	memcpy(&family, d, sizeof(family));
	if (family != AF_UNIX)
		return false;
	const char *path = d + sizeof(family);
	size_t n = strnlen(path, c->len - sizeof(family));
	static const char tail[] = "/nscd/socket";
	return n >= sizeof(tail) - 1 && memcmp(path + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1) == 0;
}

const char *routine_failure(const struct et_model *m, const struct et_process *p, const struct ev_syscall *ev,
			    const struct syscall_sig *sig, int err)
{
	if (err == EAGAIN)
		return "would block (non-blocking I/O)";
	if (err == EINTR || (err >= 512 && err <= 516)) /* ERESTARTSYS..ERESTART_RESTARTBLOCK: never seen by the program */
		return "interrupted by a signal";
	if (err == ENOTTY)
		return "terminal checks (isatty)";
	/* stdio, Python and coreutils ask where a stream stands or how it
	 * will be read: a pipe has no position (fadvise64 has no signature in
	 * the table, so by name) */
	const char *name = sig ? sig->name : syscall_name((int)ev->nr);
	if (err == ESPIPE && name && (strcmp(name, "lseek") == 0 || strcmp(name, "fadvise64") == 0))
		return "position checks of pipes (lseek, fadvise)";
	/* a shell resetting every signal's action at start: SIGKILL's and
	 * SIGSTOP's cannot be set (EINVAL), which changes nothing */
	if (err == EINVAL && name && strcmp(name, "rt_sigaction") == 0 && (ev->args[0] == SIGKILL || ev->args[0] == SIGSTOP))
		return "signal actions of SIGKILL and SIGSTOP (they cannot be set)";
	/* V8 and glibc ask for a memory protection key: a CPU or kernel
	 * without them says EINVAL or ENOSPC, and the runtime does without
	 * (no signature in the table: by name) */
	if ((err == EINVAL || err == ENOSPC || err == ENOSYS) && name && strcmp(name, "pkey_alloc") == 0)
		return "feature checks (no memory protection keys)";
	if (!sig)
		return NULL;
	/* a wait with a deadline that passed: how runtimes sleep (Go's timers,
	 * condition variables with a timeout), not an error */
	if (err == ETIMEDOUT && strncmp(sig->name, "futex", 5) == 0)
		return "timed waits that expired (futex)";
	/* a non-blocking connect's first answer; how it ended is the
	 * connection's own line in the network section */
	if (err == EINPROGRESS && strcmp(sig->name, "connect") == 0)
		return "non-blocking connects in progress (outcome under network)";
	if (err == ECHILD && (strcmp(sig->name, "wait4") == 0 || strcmp(sig->name, "waitid") == 0))
		return "waits with no child left";
	/* realpath() asks readlink of every component: EINVAL is "not a link" */
	if (err == EINVAL && (strcmp(sig->name, "readlink") == 0 || strcmp(sig->name, "readlinkat") == 0))
		return "readlink of a file that is not a link (realpath)";
	/* a shell closing the descriptors a redirection might have opened */
	if (err == EBADF && strcmp(sig->name, "close") == 0 && p && sysprog_program(m, p))
		return "closes of descriptors not open, by system programs";
	/* "make sure this directory exists" (create_dir_all, mkdir -p, os.makedirs
	 * with exist_ok): it does */
	if (err == EEXIST && (strcmp(sig->name, "mkdir") == 0 || strcmp(sig->name, "mkdirat") == 0))
		return "directories that already existed (mkdir)";
	/* "is this descriptor open?" (bash asks it of fd 255 at every start) */
	if (err == EBADF && strcmp(sig->name, "fcntl") == 0 && ev->args[1] == F_GETFD)
		return "descriptor checks (fcntl F_GETFD)";
	/* close-on-exec set over a range of descriptors, open or not (Node.js
	 * does it to 3..16 at start): nothing happens to one not open */
	if (err == EBADF && strcmp(sig->name, "fcntl") == 0 && ev->args[1] == F_SETFD)
		return "close-on-exec set on descriptors not open (fcntl F_SETFD)";
	/* Rust's std asks whether statx exists with a NULL path: EFAULT is "yes" */
	if (err == EFAULT && strcmp(sig->name, "statx") == 0 && ev->args[1] == 0)
		return "feature checks (statx with no path)";
	/* glibc asks the name service cache daemon first (getpwuid, tar's and
	 * id's user names): no nscd running is the usual case */
	if ((err == ENOENT || err == ECONNREFUSED) && strcmp(sig->name, "connect") == 0 && nscd_socket(ev))
		return "name service cache (nscd) not running";
	/* "is this descriptor a socket?" (bash asks it of its stdin at start) */
	if (err == ENOTSOCK && (strcmp(sig->name, "getpeername") == 0 || strcmp(sig->name, "getsockname") == 0))
		return "socket checks of descriptors that are not sockets";
	char buf[ET_STR_MAX + 1];
	const char *path = first_path(ev, sig, buf, sizeof(buf));
	/* a program with no controlling terminal asks for one */
	if (err == ENXIO && path && strcmp(path, "/dev/tty") == 0)
		return "terminal checks (isatty)";
	if ((err != ENOENT && err != ENOTDIR) || !path)
		return NULL;
	if (loader_path(path))
		return "dynamic loader search";
	/* a backtrace printer (Rust's std, libdw, gdb) looking for separate
	 * debug information: most files have none */
	if (strncmp(path, "/usr/lib/debug/", 15) == 0 || strstr(path, "/.debug/") || ends_with(path, ".dwp") ||
	    ends_with(path, ".debug"))
		return "debug-information searches";
	if (strstr(path, "/locale/") || strstr(path, "/gconv/") || strstr(path, "locale-archive") || ends_with(path, ".mo"))
		return "locale search";
	if ((probe_call(sig->name) || strncmp(sig->name, "open", 4) == 0) && python_startup_path(p, path))
		return "python start-up and site searches";
	/* a system program's execvp() tries every PATH entry, wherever the
	 * user's PATH points (pyenv's libexec, say) */
	bool exec = strncmp(sig->name, "execve", 6) == 0;
	if ((probe_call(sig->name) || exec) && (lookup_dir(path) || (exec && p && sysprog_program(m, p))))
		return "PATH lookups";
	if (probe_call(sig->name) && p && sysprog_program(m, p))
		return "existence probes by system programs";
	/* a compiler's include path, an interpreter's module path: the same
	 * name tried in one directory after another */
	if (strncmp(sig->name, "open", 4) == 0 && p && sysprog_program(m, p))
		return "file searches by system programs";
	return NULL;
}

/* mkdir(2) of a path whose parent is missing, then the parent, then the
 * path again: how `mkdir -p`, Python's Path.mkdir(parents=True) and
 * os.makedirs create a tree (pytest's .pytest_cache/v/cache) */
static bool mkdir_call(const struct syscall_sig *sig)
{
	return strcmp(sig->name, "mkdir") == 0 || strcmp(sig->name, "mkdirat") == 0;
}

static bool search_call(const struct syscall_sig *sig)
{
	return probe_call(sig->name) || strncmp(sig->name, "open", 4) == 0 || strncmp(sig->name, "execve", 6) == 0 ||
	       mkdir_call(sig);
}

static void search_free(struct search *s)
{
	free(s->path);
	s->path = NULL;
}

/* The same name asked for in three directories or more (pytest's
 * pytest.ini, tox.ini and conftest.py in every parent, git's .git): a
 * search, whether or not it finds the name. Only for stat and access: a
 * program that open()s its input in three places and never finds it may
 * well fail for that. */
#define WALK_DIRS 3

static void explain_walk(struct et_model *m, const struct search *last)
{
	struct routine_searches *rs = m->searches;
	const char *base = last->path + last->dir_len;
	size_t same = 0;
	for (size_t i = 0; i < rs->count; i++) {
		const struct search *s = &rs->s[(rs->head + i) % SEARCHES_KEPT];
		if (s->path && s->probe && s->pid == last->pid && strcmp(s->path + s->dir_len, base) == 0)
			same++;
	}
	if (same < WALK_DIRS)
		return;
	/* the entries stay: the next directory's miss is the same search */
	for (size_t i = 0; i < rs->count; i++) {
		const struct search *s = &rs->s[(rs->head + i) % SEARCHES_KEPT];
		if (s->path && s->probe && s->pid == last->pid && strcmp(s->path + s->dir_len, base) == 0)
			m->failures[s->failure].expected = "searches of one name in several directories";
	}
}

/* The same name opened in a directory, its parent, and so on up to the
 * root, where it was not found either (Node.js's package.json, cargo's
 * .cargo/config): a search up the tree, not an input that was missing.
 * last is the root's miss, "/" + rel; each earlier miss of the chain is
 * dir + "/" + rel, dir one component below the previous one's. */
static void explain_walk_to_root(struct et_model *m, const struct search *last)
{
	const char *rel = last->path + 1;
	size_t rel_len = strlen(rel);
	if (last->path[0] != '/' || !rel_len)
		return;
	struct routine_searches *rs = m->searches;
	size_t chain[SEARCHES_KEPT], n = 0, at_len = 0;   /* the chain's directory so far: "" is the root */
	const char *at = "";
	for (size_t i = rs->count; i-- > 0;) {
		const struct search *s = &rs->s[(rs->head + i) % SEARCHES_KEPT];
		size_t len = s->path ? strlen(s->path) : 0;
		if (s == last || !s->path || s->probe || s->mkdir || s->pid != last->pid || len <= rel_len + 1 ||
		    s->path[len - rel_len - 1] != '/' || strcmp(s->path + len - rel_len, rel) != 0)
			continue;
		/* its directory: at + "/" + one more component */
		size_t dir_len = len - rel_len - 1;
		if (dir_len <= at_len + 1 || strncmp(s->path, at, at_len) != 0 || s->path[at_len] != '/' ||
		    memchr(s->path + at_len + 1, '/', dir_len - at_len - 1))
			return;
		chain[n++] = s->failure;
		at = s->path;
		at_len = dir_len;
	}
	if (n < WALK_DIRS - 1)
		return;
	chain[n++] = last->failure;
	for (size_t i = 0; i < n; i++)
		m->failures[chain[i]].expected = "searches of one name up the directory tree";
}

void routine_note_failure(struct et_model *m, size_t index, const struct ev_syscall *ev,
			  const struct syscall_sig *sig, int err)
{
	if ((err != ENOENT && err != ENOTDIR) || !sig || !search_call(sig))
		return;
	if (mkdir_call(sig) && err != ENOENT)
		return;
	char buf[ET_STR_MAX + 1];
	const char *path = first_path(ev, sig, buf, sizeof(buf));
	if (!path)
		return;
	if (!m->searches)
		m->searches = xcalloc(1, sizeof(*m->searches));
	struct routine_searches *rs = m->searches;
	if (rs->count == SEARCHES_KEPT) { /* the oldest is forgotten: it stays listed */
		search_free(&rs->s[rs->head]);
		rs->head = (rs->head + 1) % SEARCHES_KEPT;
		rs->count--;
	}
	struct search *s = &rs->s[(rs->head + rs->count++) % SEARCHES_KEPT];
	const char *base = path_base(path);
	s->pid = ev->h.pid;
	s->failure = index;
	s->path = xstrdup(path);
	s->dir_len = (size_t)(base - path);
	s->stem_len = strcspn(base, ".");
	s->probe = probe_call(sig->name);
	s->mkdir = mkdir_call(sig);
	if (s->probe)
		explain_walk(m, s);
	else if (strncmp(sig->name, "open", 4) == 0)
		explain_walk_to_root(m, s);
}

void routine_on_success(struct et_model *m, const struct ev_syscall *ev, const struct syscall_sig *sig)
{
	struct routine_searches *rs = m->searches;
	if (!rs || !rs->count || !sig || !search_call(sig))
		return;
	char buf[ET_STR_MAX + 1];
	const char *path = first_path(ev, sig, buf, sizeof(buf));
	if (!path)
		return;
	const char *base = path_base(path);
	size_t dir_len = (size_t)(base - path), stem_len = strcspn(base, ".");
	for (size_t i = 0; i < rs->count; i++) {
		struct search *s = &rs->s[(rs->head + i) % SEARCHES_KEPT];
		if (!s->path || s->pid != (int)ev->h.pid)
			continue;
		/* a mkdir explains only the mkdir of the same path that failed
		 * for its missing parent, and nothing else */
		if (s->mkdir || mkdir_call(sig)) {
			if (s->mkdir && mkdir_call(sig) && strcmp(s->path, path) == 0) {
				struct et_failure *f = &m->failures[s->failure];
				if (!f->expected)
					f->expected = "directory trees made parent first (mkdir -p)";
				search_free(s);
			}
			continue;
		}
		const char *sbase = s->path + s->dir_len;
		bool same_dir = s->dir_len == dir_len && strncmp(s->path, path, dir_len) == 0;
		bool found = (!same_dir && strcmp(sbase, base) == 0) ||
			     (same_dir && stem_len && s->stem_len == stem_len && strncmp(sbase, base, stem_len) == 0 &&
			      strcmp(sbase, base) != 0);
		if (!found)
			continue;
		struct et_failure *f = &m->failures[s->failure];
		if (!f->expected)
			f->expected = "searches that found the name later (another directory or suffix)";
		search_free(s);
	}
	/* drop the resolved entries at the front so the window stays useful */
	while (rs->count && !rs->s[rs->head].path) {
		rs->head = (rs->head + 1) % SEARCHES_KEPT;
		rs->count--;
	}
}

void routine_free(struct et_model *m)
{
	struct routine_searches *rs = m->searches;
	if (!rs)
		return;
	for (size_t i = 0; i < rs->count; i++)
		search_free(&rs->s[(rs->head + i) % SEARCHES_KEPT]);
	free(rs);
	m->searches = NULL;
}

char *routine_failure_path(const struct ev_syscall *ev, const struct syscall_sig *sig)
{
	char buf[ET_STR_MAX + 1];
	const char *path = sig ? first_path(ev, sig, buf, sizeof(buf)) : NULL;
	return path ? xstrdup(path) : NULL;
}

/* A path the program printed stands between characters that are not part
 * of a file name as programs quote it: "tar: /missing: Cannot stat",
 * "cannot open 'x.conf'", "(/etc/foo)". A name as short as "a" would be
 * found inside any word, so a path of one character never counts. */
static bool bounded(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`' || c == ':' ||
	       c == '(' || c == ')' || c == '[' || c == ']' || c == '<' || c == '>' || c == ',' || c == ';' ||
	       c == '=';
}

static bool line_has(const char *buf, size_t len, size_t at, const char *text)
{
	size_t start = at, end = at, n = strlen(text);
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	while (end < len && buf[end] != '\n')
		end++;
	return n && memmem(buf + start, end - start, text, n) != NULL;
}

/* The words name the path in a message about the failure: the path and the
 * error's text on one line ("tar: /missing: Cannot stat: No such file or
 * directory", Python's "[Errno 2] No such file or directory: 'x'"). The
 * path alone is not enough: make's "*** [Makefile:3: check] Error 1" names
 * the target its stat("check") did not find, and that stat is routine. */
static bool words_name(const char *buf, size_t len, const char *path, int err)
{
	size_t n = strlen(path);
	if (n < 2 || n > len)
		return false;
	const char *text = strerror(err);
	for (size_t i = 0; i + n <= len; i++) {
		if (buf[i] != path[0] || memcmp(buf + i, path, n) != 0)
			continue;
		bool before = i == 0 || bounded(buf[i - 1]);
		/* a sentence may end on the name: "no such file: /missing." */
		bool after = i + n == len || bounded(buf[i + n]) ||
			     (buf[i + n] == '.' && (i + n + 1 == len || bounded(buf[i + n + 1])));
		if (before && after && line_has(buf, len, i, text))
			return true;
	}
	return false;
}

/* A process that exited 0 asked whether names exist and went on: its
 * stat and access misses were questions it had answers for (cargo's
 * README.md and build.rs, sqlite's -journal and -wal beside a database).
 * Failures are in time order: only those since p started are its. */
static bool removal_call(const char *name)
{
	return strcmp(name, "unlink") == 0 || strcmp(name, "unlinkat") == 0 || strcmp(name, "rmdir") == 0;
}

/* why: for its stat/access misses; gone: for its removals of names that
 * were not there (git clone unlinks each object before it links it: a
 * thousand ENOENTs a clone) */
static void probes_answered(struct et_model *m, const struct et_process *p, const char *why, const char *gone)
{
	for (size_t i = m->nfailures; i-- > 0;) {
		struct et_failure *f = &m->failures[i];
		if (f->first_ts < p->start_ts)
			break;
		const char *name = f->pid == p->pid && !f->expected ? syscall_name(f->nr) : NULL;
		if (name && (f->err == ENOENT || f->err == ENOTDIR) && probe_call(name))
			f->expected = why;
		else if (name && f->err == ENOENT && removal_call(name))
			f->expected = gone;
	}
}

/* p failed after a child it waited for had failed: cargo exiting 101
 * because its test binary did. Its failure is the child's going up (the
 * verdict's chain); its own probes did not cause it. */
static bool failed_after_a_child(const struct et_model *m, const struct et_process *p)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct et_process *c = m->procs[i];
		if (c != p && c->ppid == p->pid && c->start_ts >= p->start_ts && c->exited && c->wait_status &&
		    c->reaped_by == p->pid)
			return true;
	}
	return false;
}

void routine_on_exit(struct et_model *m, const struct et_process *p)
{
	if (!p->wait_status) {
		probes_answered(m, p, "existence probes by a process that succeeded",
				"removals of names already gone, by a process that succeeded");
		return;
	}
	if (failed_after_a_child(m, p))
		probes_answered(m, p, "existence probes by a process whose child failed",
				"removals of names already gone, by a process whose child failed");
	if (!p->words)
		return;
	const struct lastwords_stream *s = lastwords_pick(p->words, NULL);
	if (!s || !s->len)
		return;
	for (size_t i = 0; i < m->nfailures; i++) {
		struct et_failure *f = &m->failures[i];
		if (f->pid != p->pid || !f->path || !words_name(s->buf, s->len, f->path, f->err))
			continue;
		f->named = true;
		f->expected = NULL;
	}
}
