/* The model core (see model.h): processes, threads, the kept syscalls,
 * failures, notes and modules, and the record handlers of ingest.h; process
 * and signal records are model_procs.c. */
#include "model.h"
#include "model_int.h"
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "xalloc.h"
#include "analysis.h"
#include "reports/syscalls/decode.h"
#include "hostfacts.h"
#include "symbolize/buildid.h"
#include "symbolize/fileutil.h"
#include "evtypes.h"
#include "reports/syscalls/routine.h"
#include "reports/syscalls/syscall_table.h"
#include <sys/mman.h>

#define MAX_FAILURES 2000

/* Keeps memory under the cap when a run has very many threads (a whole test
 * suite): the threads that exited longest ago keep only their last
 * ET_TRIMMED_KEEP records. Live threads keep their full window. */
#define ET_TRIMMED_KEEP 5

void model_init(struct et_model *m)
{
	memset(m, 0, sizeof(*m));
	m->last_n = 50;
	m->str_max = 32;
	m->rewind_n = 50;
	m->max_records = 200000; /* ~40-60 MB of records */
	m->root_pid = -1;
	/* the target starts in etrace's directory: relative paths it maps
	 * (dlopen("./lib.so")) are resolved against it and its chdirs */
	char buf[PATH_MAX];
	if (getcwd(buf, sizeof(buf)))
		m->start_cwd = strdup(buf);
	analyses_init(m);
}

static void record_free(struct et_record *r)
{
	if (!r)
		return;
	for (int i = 0; i < 6; i++)
		fd_desc_unref(r->fds[i]);
	free(r);
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static void thread_free(struct et_thread *t)
{
	for (size_t i = 0; i < t->ring_count; i++)
		record_free(t->ring[(t->ring_head + i) % t->ring_cap]);
	free(t->ring);
	free(t->fring);
	free(t);
}

void model_free(struct et_model *m)
{
	analyses_free(m);   /* first: they may look at the processes */
	for (size_t i = 0; i < m->nprocs; i++) {
		struct et_process *p = m->procs[i];
		for (size_t j = 0; j < p->nthreads; j++)
			thread_free(p->threads[j]);
		free(p->threads);
		free_argv(p->argv);
		free(p->exe);
		free(p->exe_path);
		free(p->cwd);
		free(p->pending_path);
		for (size_t j = 0; j < p->nmodules; j++)
			free(p->modules[j].path);
		free(p->modules);
		for (size_t j = 0; j < p->notes_count; j++)
			free(p->notes[(p->notes_head + j) % ET_NOTES_KEPT].text);
		free(p->notes);
		fdt_free(p->fds);
		free(p);
	}
	free(m->procs);
	routine_free(m);
	for (size_t i = 0; i < m->nfailures; i++) {
		free(m->failures[i].call);
		free(m->failures[i].path);
	}
	free(m->failures);
	free(m->totals);
	free(m->tindex);
	map_clear(&m->pindex);
	for (size_t i = 0; i < m->nfuncs; i++)
		elfsym_func_free(&m->funcs[i].f);
	free(m->funcs);
	free(m->funcs_exe);
	free(m->start_cwd);
	for (size_t i = 0; i < m->nreplay_notes; i++)
		free(m->replay_notes[i]);
	free(m->replay_notes);
	memset(m, 0, sizeof(*m));
}

double model_rel_ms(const struct et_model *m, uint64_t ts)
{
	if (!ts)
		return 0;
	return ((double)ts - (double)m->start_ts) / 1e6;
}

/* ---- lookup ------------------------------------------------------------ */

struct et_process *model_process(struct et_model *m, int pid)
{
	/* the newest: a reused pid resolves to the live process */
	uint64_t i;
	if (!map_get(&m->pindex, (uint64_t)(uint32_t)pid + 1, &i) || i < 1 || i > m->nprocs)
		return NULL;
	return m->procs[i - 1];
}

static size_t tindex_slot(const struct et_model *m, int tid)
{
	return ((uint32_t)tid * 2654435761u) & (m->tindex_cap - 1);
}

static void tindex_put(struct et_model *m, struct et_thread *t);

static void tindex_grow(struct et_model *m)
{
	struct et_thread **old = m->tindex;
	size_t oldcap = m->tindex_cap;
	m->tindex_cap = oldcap ? oldcap * 2 : 256;
	m->tindex = xcalloc(m->tindex_cap, sizeof(*m->tindex));
	m->tindex_count = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			tindex_put(m, old[i]);
	free(old);
}

/* Inserts or replaces (a reused tid maps to its newest thread). */
static void tindex_put(struct et_model *m, struct et_thread *t)
{
	if ((m->tindex_count + 1) * 2 > m->tindex_cap)
		tindex_grow(m);
	size_t i = tindex_slot(m, t->tid);
	while (m->tindex[i] && m->tindex[i]->tid != t->tid)
		i = (i + 1) & (m->tindex_cap - 1);
	if (!m->tindex[i])
		m->tindex_count++;
	m->tindex[i] = t;
}

struct et_thread *model_thread(struct et_model *m, int tid)
{
	if (!m->tindex_cap)
		return NULL;
	size_t i = tindex_slot(m, tid);
	while (m->tindex[i]) {
		if (m->tindex[i]->tid == tid)
			return m->tindex[i];
		i = (i + 1) & (m->tindex_cap - 1);
	}
	return NULL;
}

struct et_process *model_add_process(struct et_model *m, int pid, int ppid, uint64_t ts)
{
	struct et_process *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->start_ts = ts;
	if (m->nprocs == m->cap_procs) {
		m->cap_procs = m->cap_procs ? m->cap_procs * 2 : 16;
		m->procs = xrealloc(m->procs, m->cap_procs * sizeof(*m->procs));
	}
	m->procs[m->nprocs++] = p;
	map_put(&m->pindex, (uint64_t)(uint32_t)pid + 1, m->nprocs);   /* key 0 is the map's */
	return p;
}

struct et_thread *model_add_thread(struct et_model *m, struct et_process *p, int tid, uint64_t ts)
{
	struct et_thread *t = xcalloc(1, sizeof(*t));
	t->tid = tid;
	t->pid = p->pid;
	t->start_ts = ts;
	if (p->nthreads == p->cap_threads) {
		p->cap_threads = p->cap_threads ? p->cap_threads * 2 : 4;
		p->threads = xrealloc(p->threads, p->cap_threads * sizeof(*p->threads));
	}
	p->threads[p->nthreads++] = t;
	tindex_put(m, t);
	return t;
}

/* The thread of a record; creates what is missing (a record may arrive for a
 * task whose fork record was lost). */
struct et_thread *model_thread_for(struct et_model *m, int pid, int tid, uint64_t ts)
{
	struct et_thread *t = model_thread(m, tid);
	if (t && t->pid == pid && !t->exited)
		return t;
	struct et_process *p = model_process(m, pid);
	if (!p || p->exited) {
		p = model_add_process(m, pid, 0, ts);
		p->fds = fdt_new();
	}
	return model_add_thread(m, p, tid, ts);
}

struct et_process *model_process_for(struct et_model *m, int pid, int tid, uint64_t ts)
{
	model_thread_for(m, pid, tid, ts);
	return model_process(m, pid);
}

/* ---- notes and modules ----------------------------------------------------- */

void model_note(struct et_process *p, uint64_t ts, int tid, char *text)
{
	if (!p->notes)
		p->notes = xcalloc(ET_NOTES_KEPT, sizeof(*p->notes));
	if (p->notes_count == ET_NOTES_KEPT) {
		struct et_note *old = &p->notes[p->notes_head];
		free(old->text);
		*old = (struct et_note){ ts, tid, text, ET_NOTE_EVENT };
		p->notes_head = (p->notes_head + 1) % ET_NOTES_KEPT;
		return;
	}
	p->notes[(p->notes_head + p->notes_count) % ET_NOTES_KEPT] = (struct et_note){ ts, tid, text, ET_NOTE_EVENT };
	p->notes_count++;
}

/* For reports/net/tcp.c: network events join the process's notes (crash rewind). */
void model_add_note(struct et_process *p, uint64_t ts, int tid, char *text)
{
	model_note(p, ts, tid, text);
}

void model_note_kind(struct et_process *p, uint64_t ts, int tid, char *text, int kind)
{
	model_note(p, ts, tid, text);
	size_t last = (p->notes_head + p->notes_count - 1) % ET_NOTES_KEPT;
	p->notes[last].kind = kind;
}

const struct et_sent *process_sender(const struct et_process *p, int sig, int pid, uint64_t since)
{
	for (size_t i = p->nsenders; i-- > 0;) {
		const struct et_sent *st = &p->senders[i];
		if (st->sig == sig && st->pid != p->pid && (!pid || st->pid == pid) && st->ts >= since)
			return st;
	}
	return NULL;
}

const struct et_sent *process_signal_source(const struct et_process *p, int sig, int tid)
{
	for (size_t i = p->nsenders; i-- > 0;) {
		const struct et_sent *st = &p->senders[i];
		if (st->sig == sig && (!tid || st->group || st->target_tid == tid))
			return st;
	}
	return NULL;
}

const struct et_note *process_note(const struct et_process *p, size_t i)
{
	if (i >= p->notes_count)
		return NULL;
	return &p->notes[(p->notes_head + i) % ET_NOTES_KEPT];
}

static void replay_note(struct et_model *m, char *text)
{
	for (size_t i = 0; i < m->nreplay_notes; i++)
		if (strcmp(m->replay_notes[i], text) == 0) {
			free(text);
			return;
		}
	m->replay_notes = xrealloc(m->replay_notes, (m->nreplay_notes + 1) * sizeof(*m->replay_notes));
	m->replay_notes[m->nreplay_notes++] = text;
}

/* Live, the module's build-id goes into the recording; a replay compares it
 * with the file found at the path now: another file there (a rebuilt
 * program, another machine) would give wrong symbols, so it gives none. */
static bool module_is_stale(struct et_model *m, int pid, const char *path)
{
	size_t n;
	char *recorded = host_ask(m, FACT_BUILD_ID, pid, path, &n);
	bool stale = false;
	if (recorded && m->host_mode == HOST_RECORDED) {
		char here[128];
		stale = elf_build_id(path, here, sizeof(here)) < 0 || strcmp(here, recorded) != 0;
		/* etrace's own preloaded recorder (runner/preload) is in every
		 * process it recorded and is rebuilt with etrace: its frames are
		 * etrace's hooks, never the program's, so another build of it is
		 * not worth a line (it is still not symbolized) */
		if (stale && strcmp(path_base(path), "libetrace_heap.so") != 0) {
			struct strbuf sb = STRBUF_INIT;
			sb_escape(&sb, path);
			sb_printf(&sb, ": not the file the run had (build-id %s there, %s here): its addresses are not symbolized",
				  recorded, elf_build_id(path, here, sizeof(here)) < 0 ? "none or no file" : here);
			replay_note(m, sb_detach(&sb));
		}
	}
	free(recorded);
	return stale;
}

static void put_module(struct et_process *p, const char *path, uint64_t bias, bool stale)
{
	for (size_t i = 0; i < p->nmodules; i++)
		if (strcmp(p->modules[i].path, path) == 0) {
			p->modules[i].bias = bias; /* mapped again (dlopen after dlclose) */
			p->modules[i].stale = stale;
			return;
		}
	if (p->nmodules == p->cap_modules) {
		p->cap_modules = p->cap_modules ? p->cap_modules * 2 : 16;
		p->modules = xrealloc(p->modules, p->cap_modules * sizeof(*p->modules));
	}
	p->modules[p->nmodules++] = (struct et_module){ strdup(path), bias, stale };
}

static void add_module(struct et_model *m, struct et_process *p, const char *path, uint64_t bias)
{
	put_module(p, path, bias, module_is_stale(m, p->pid, path));
}

void model_clear_modules(struct et_process *p)
{
	for (size_t i = 0; i < p->nmodules; i++)
		free(p->modules[i].path);
	p->nmodules = 0;
}

void model_copy_modules(struct et_process *to, const struct et_process *from)
{
	for (size_t i = 0; i < from->nmodules; i++)
		put_module(to, from->modules[i].path, from->modules[i].bias, from->modules[i].stale);
}

/* The executable (its load bias from AT_ENTRY and its ELF entry point) and
 * the dynamic loader (AT_BASE) are the process's first modules. */
void model_modules_at_exec(struct et_model *m, struct et_process *p, const struct ev_exec *e)
{
	model_clear_modules(p);
	free(p->exe_path);
	p->exe_path = host_ask(m, FACT_EXE, p->pid, p->exe, NULL);
	if (!p->exe_path)
		p->exe_path = strdup(p->exe);
	size_t n;
	char *head = host_ask(m, FACT_ELF_HEAD, p->pid, p->exe_path, &n);
	if (head && n >= sizeof(uint64_t)) {
		uint64_t entry;
		memcpy(&entry, head, sizeof(entry));
		const char *interp = head + sizeof(entry);
		add_module(m, p, p->exe_path, e->at_entry - entry);
		if (interp[0] && e->at_base)
			add_module(m, p, interp, e->at_base);
	}
	free(head);
}

/* The process's working directory (NULL when unknown). */
static const char *proc_cwd(const struct et_model *m, const struct et_process *p)
{
	const char *cwd = p->cwd ? p->cwd : m->start_cwd;
	return cwd && cwd[0] == '/' ? cwd : NULL;
}

/* path made absolute against the process's working directory (malloc'd),
 * or NULL when it cannot be */
static char *proc_abspath(const struct et_model *m, const struct et_process *p, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	const char *cwd = proc_cwd(m, p);
	char *out = NULL;
	if (!cwd || asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* chdir and fchdir change where relative paths start. */
static void learn_cwd(const struct et_model *m, struct et_process *p, const struct et_record *r,
		      const struct syscall_sig *sig)
{
	const struct ev_syscall *ev = &r->ev;
	if (!sig || (long)ev->ret != 0 || (ev->flags & ET_SC_F_NORETURN))
		return;
	char *dir = NULL;
	if (strcmp(sig->name, "chdir") == 0) {
		const struct ev_capture *c = ev_find_capture(ev, 0, 0);
		if (c && c->len) {
			char *path = strndup(ev_capture_data(c), c->len);
			if (path)
				dir = proc_abspath(m, p, path);
			free(path);
		}
	} else if (strcmp(sig->name, "fchdir") == 0) {
		const struct fd_desc *d = r->fds[0];
		if (d && d->text[0] == '/')
			dir = strdup(d->text);
	} else {
		return;
	}
	free(p->cwd);
	p->cwd = dir;   /* NULL: unknown from now on */
	if (!dir)
		p->cwd = strdup("");
}

/* Where the loader put a library. ld.so reserves the whole library with a
 * first mmap(fd, offset 0) of its first segment, then maps the others with
 * MAP_FIXED inside it; the reservation is the library's base once an
 * executable segment lands in it (or when the first segment is itself
 * executable). Any other mapping of a file at offset 0 (a program reading
 * its own executable, as Rust's backtrace does with RUST_BACKTRACE=1) is
 * data, not a module: taking it as one moved the program's code to that
 * address and left its frames unsymbolized. Relative paths
 * (dlopen("./lib.so")) are resolved against the working directory. */
static void learn_mapping(struct et_model *m, struct et_process *p, const struct et_record *r,
			  const struct syscall_sig *sig)
{
	const struct ev_syscall *ev = &r->ev;
	if (!sig || strcmp(sig->name, "mmap") != 0 || ev->ret < 0 || (int)ev->args[4] < 0)
		return;
	const struct fd_desc *d = r->fds[4];
	if (!d || !d->text[0] || d->text[0] == '<')
		return;
	char *path = proc_abspath(m, p, d->text);
	char *is_file = path ? host_ask(m, FACT_IS_FILE, p->pid, path, NULL) : NULL;
	if (!is_file) {   /* not a file path (a socket, a pipe) */
		free(path);
		return;
	}
	free(is_file);
	uint64_t addr = (uint64_t)ev->ret, len = ev->args[1];
	int exec = (ev->args[2] & PROT_EXEC) != 0;
	if (ev->args[5] == 0) {
		if (exec) {
			add_module(m, p, path, addr);
			free(path);
			return;
		}
		free(p->pending_path);
		p->pending_path = path;
		p->pending_start = addr;
		p->pending_end = addr + len;
		return;
	}
	if (exec && p->pending_path && strcmp(p->pending_path, path) == 0 && addr >= p->pending_start &&
	    addr < p->pending_end) {
		add_module(m, p, path, p->pending_start);
		free(p->pending_path);
		p->pending_path = NULL;
	}
	free(path);
}

/* ---- syscall records ----------------------------------------------------- */

const struct et_record *thread_record(const struct et_thread *t, size_t i)
{
	if (i >= t->ring_count)
		return NULL;
	return t->ring[(t->ring_head + i) % t->ring_cap];
}

static void trim_exited_threads(struct et_model *m)
{
	size_t goal = m->max_records - m->max_records / 10;
	bool all_done = true;   /* every process before i is exited and trimmed */
	for (size_t i = m->trim_cursor; i < m->nprocs && m->kept_records > goal; i++) {
		struct et_process *p = m->procs[i];
		for (size_t j = 0; j < p->nthreads; j++) {
			struct et_thread *t = p->threads[j];
			if (!t->exited)
				continue;
			while (t->ring_count > ET_TRIMMED_KEEP) {
				record_free(t->ring[t->ring_head]);
				t->ring[t->ring_head] = NULL;
				t->ring_head = (t->ring_head + 1) % t->ring_cap;
				t->ring_count--;
				m->kept_records--;
				m->trimmed_records++;
			}
		}
		if (!p->exited)
			all_done = false;
		else if (all_done)
			m->trim_cursor = i + 1; /* never needs looking at again */
	}
}

static void thread_keep(struct et_model *m, struct et_thread *t, struct et_record *r)
{
	if (m->last_n && t->ring_count == m->last_n) {
		record_free(t->ring[t->ring_head]);
		t->ring[t->ring_head] = r;
		t->ring_head = (t->ring_head + 1) % t->ring_cap;
		return;
	}
	if (t->ring_count == t->ring_cap) {
		/* grow; the ring is unwrapped (head == 0) until it reaches last_n */
		size_t cap = t->ring_cap ? t->ring_cap * 2 : 8;
		if (m->last_n && cap > m->last_n)
			cap = m->last_n;
		t->ring = xrealloc(t->ring, cap * sizeof(*t->ring));
		t->ring_cap = cap;
	}
	t->ring[(t->ring_head + t->ring_count) % t->ring_cap] = r;
	t->ring_count++;
	m->kept_records++;
	if (m->max_records && m->kept_records > m->max_records)
		trim_exited_threads(m);
}

/* What an fd argument referred to when the syscall ran: from the fd table,
 * else from /proc (inherited fds), remembered in the table. */
static struct fd_desc *resolve_fd(struct et_model *m, struct et_process *p, int fd)
{
	if (fd < 0)
		return NULL;
	struct fd_desc *d = fdt_get(p->fds, fd);
	if (d)
		return fd_desc_ref(d);
	char key[16];
	snprintf(key, sizeof(key), "%d", fd);
	char *target = host_ask(m, FACT_FD_PATH, p->pid, key, NULL);
	if (!target)
		return NULL;
	d = fd_desc_new(target, 0);
	free(target);
	fdt_set(p->fds, fd, d);
	return d; /* the table took its own reference; this one is the caller's */
}

static bool is_fd_arg(int type)
{
	return type == A_FD || type == A_DIRFD;
}

static void note_failure(struct et_model *m, const struct et_process *p, const struct et_record *r, int err)
{
	struct strbuf sb = STRBUF_INIT;
	model_record_call(m, r, &sb);
	for (size_t i = 0; i < m->nfailures; i++) {
		struct et_failure *f = &m->failures[i];
		if (f->nr == (int)r->ev.nr && strcmp(f->call, sb_str(&sb)) == 0) {
			f->count++;
			sb_free(&sb);
			return;
		}
	}
	if (m->nfailures >= MAX_FAILURES) {
		m->failures_dropped++;
		sb_free(&sb);
		return;
	}
	if (m->nfailures == m->cap_failures) {
		m->cap_failures = m->cap_failures ? m->cap_failures * 2 : 32;
		m->failures = xrealloc(m->failures, m->cap_failures * sizeof(*m->failures));
	}
	struct et_failure *f = &m->failures[m->nfailures++];
	f->call = sb_detach(&sb);
	f->pid = r->ev.h.pid;
	f->tid = r->ev.h.tid;
	f->nr = r->ev.nr;
	f->err = err;
	f->first_ts = r->ev.h.ts;
	f->count = 1;
	const struct syscall_sig *sig = syscall_sig_by_nr(r->ev.nr);
	f->path = routine_failure_path(&r->ev, sig);
	f->named = false;
	f->expected = routine_failure(m, p, &r->ev, sig, err);
	if (!f->expected)
		routine_note_failure(m, m->nfailures - 1, &r->ev, sig, err);
}

/* The argv captures of argument argi, numbered from 0 (seq is a byte). A
 * capture of another kind for the same argument matches every seq: it ends
 * the list (a forged recording had it loop forever). */
static const struct ev_capture *argv_entry(const struct ev_syscall *ev, int argi, size_t i)
{
	const struct ev_capture *c = i < 256 ? ev_find_capture(ev, argi, (int)i) : NULL;
	return c && c->kind == ET_CAP_ARGV ? c : NULL;
}

static char **argv_from_record(const struct ev_syscall *ev, int argi)
{
	size_t n = 0;
	while (argv_entry(ev, argi, n))
		n++;
	if (n == 0)
		return NULL;
	char **argv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const struct ev_capture *c = argv_entry(ev, argi, i);
		argv[i] = strndup(ev_capture_data(c), c->len);
	}
	return argv;
}

/* Only the first ET_ARGV_MAX arguments are captured. */
static bool argv_full(char **argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	return n >= ET_ARGV_MAX;
}

/* The whole command line from /proc while the process lives; otherwise the
 * captured part with a last "..." entry, so nobody mistakes it for all. */
static char **argv_complete(struct et_model *m, int pid, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 0;
	char *cmdline = host_ask(m, FACT_CMDLINE, pid, "", &len);
	if (cmdline)
		sb_putn(&sb, cmdline, len);
	free(cmdline);
	size_t count = 0;
	for (size_t i = 0; i < sb.len; i++)
		count += sb.buf[i] == '\0';
	if (count > ET_ARGV_MAX && strcmp(sb.buf, argv[0]) == 0) {
		char **all = xcalloc(count + 1, sizeof(char *));
		const char *q = sb.buf;
		for (size_t i = 0; i < count; i++) {
			all[i] = strdup(q);
			q += strlen(q) + 1;
		}
		free_argv(argv);
		sb_free(&sb);
		return all;
	}
	sb_free(&sb);
	size_t n = 0;
	while (argv[n])
		n++;
	argv = xrealloc(argv, (n + 2) * sizeof(char *));
	argv[n] = strdup("...");
	argv[n + 1] = NULL;
	return argv;
}

/* wait4 or waitid returned a child's status: the parent saw it end. */
static void learn_reap(struct et_model *m, struct et_process *p, const struct ev_syscall *ev,
		       const struct syscall_sig *sig, long ret)
{
	int child = 0;
	if (strcmp(sig->name, "wait4") == 0 && ret > 0)
		child = (int)ret;
	else if (strcmp(sig->name, "waitid") == 0 && ret == 0 && ev->args[0] == 1 /* P_PID */)
		child = (int)ev->args[1];
	struct et_process *c = child ? model_process(m, child) : NULL;
	if (c && c->ppid == p->pid && !c->reaped_by) {
		c->reaped_by = p->pid;
		c->reaped_ts = ev->h.ts;
	}
}

struct et_record *model_make_record(struct et_model *m, struct et_process *p, const struct ev_syscall *ev)
{
	size_t evsize = sizeof(*ev) + ev->cap_len;
	struct et_record *r = xcalloc(1, sizeof(*r) - sizeof(r->ev) + evsize);
	r->size = (uint32_t)evsize;
	memcpy(&r->ev, ev, evsize);
	const struct syscall_sig *sig = syscall_sig_by_nr(ev->nr);
	if (sig && p->fds)
		for (int i = 0; i < sig->nargs && i < 6; i++)
			if (is_fd_arg(sig->arg[i]))
				r->fds[i] = resolve_fd(m, p, (int)ev->args[i]);
	return r;
}

int model_on_syscall(struct et_model *m, const void *rec, size_t size)
{
	const struct ev_syscall *ev = rec;
	if (size < sizeof(*ev) || ev->cap_len > size - sizeof(*ev))
		return -1;
	struct et_thread *t = model_thread_for(m, ev->h.pid, ev->h.tid, ev->enter_ts);
	struct et_process *p = model_process(m, ev->h.pid);
	t->nsyscalls++;
	p->nsyscalls++;

	struct et_record *r = model_make_record(m, p, ev);
	const struct syscall_sig *sig = syscall_sig_by_nr(ev->nr);

	long ret = (long)ev->ret;
	bool returned = !(ev->flags & ET_SC_F_NORETURN);
	if (returned && ret < 0 && ret >= -4095)
		note_failure(m, p, r, (int)-ret);
	else if (returned)
		routine_on_success(m, ev, sig);

	/* execve: remember argv; the fd table drops close-on-exec fds */
	if (sig && (strcmp(sig->name, "execve") == 0 || strcmp(sig->name, "execveat") == 0) && returned &&
	    ret == 0) {
		int argi = strcmp(sig->name, "execve") == 0 ? 1 : 2;
		char **argv = argv_from_record(ev, argi);
		if (argv && argv_full(argv))
			argv = argv_complete(m, p->pid, argv);
		if (argv) {
			free_argv(p->argv);
			p->argv = argv;
		}
	}
	learn_mapping(m, p, r, sig);
	learn_cwd(m, p, r, sig);
	if (sig && returned) {
		learn_reap(m, p, ev, sig, ret);
	}
	fdt_apply(p->fds, ev);
	analyses_on_syscall(m, p, r);
	if (m->sink)
		m->sink(m->sink_ctx, m, &ev->h, r);
	thread_keep(m, t, r);
	return 0;
}

int model_ingest(struct et_model *m, const void *data, size_t size)
{
	const struct ev_header *h = data;
	m->records++;
	if (size < sizeof(*h) || h->size > size)
		goto bad;
	const struct et_record_type *t = record_type(h->type);
	if (!t || h->size < t->min_size || t->ingest(m, data, h->size) != 0)
		goto bad;
	if (m->sink && h->type != ET_EV_SYSCALL)
		m->sink(m->sink_ctx, m, h, NULL);
	return 0;
bad:
	m->bad_records++;
	return -1;
}

/* ---- decoding ------------------------------------------------------------ */

static const char *record_fd(void *ctx, int argi, int fd)
{
	const struct et_record *r = ctx;
	(void)fd;
	if (argi < 0 || argi >= 6 || !r->fds[argi])
		return NULL;
	return r->fds[argi]->text;
}

void model_record_call(const struct et_model *m, const struct et_record *r, struct strbuf *out)
{
	struct decode_ctx ctx = { record_fd, (void *)r, m->str_max };
	decode_call(&r->ev, &ctx, out);
}

void model_record_arg(const struct et_model *m, const struct et_record *r, int i, struct strbuf *out)
{
	struct decode_ctx ctx = { record_fd, (void *)r, m->str_max };
	decode_arg(&r->ev, i, &ctx, out);
}

void describe_wait_status(int status, struct strbuf *out)
{
	int sig = status & 0x7f;
	if (sig == 0) {
		sb_printf(out, "exited with %d", (status >> 8) & 0xff);
		return;
	}
	const char *name = decode_signal_name(sig);
	if (name)
		sb_printf(out, "killed by %s", name);
	else
		sb_printf(out, "killed by signal %d", sig);
	if (status & 0x80)
		sb_puts(out, " (core dumped)");
}
