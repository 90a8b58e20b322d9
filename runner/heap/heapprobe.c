#include "heapprobe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/events.h"
#include "reports/core/error.h"
#include "reports/heap/heap.h"
#include "reports/heap/heapscan.h"
#include "symbolize/elfsyms.h"
#include "symbolize/ldresolve.h"
#include "symbolize/probeplace.h"

/* The allocator API: symbol, operation, where the arguments are, and
 * whether the result is needed (a uretprobe). */
static const struct heap_api {
	const char *name;
	unsigned op, args, ret;
} api[] = {
	{ "malloc", ET_HEAP_MALLOC, ET_HARGS_SIZE, 1 },
	{ "calloc", ET_HEAP_CALLOC, ET_HARGS_CALLOC, 1 },
	{ "realloc", ET_HEAP_REALLOC, ET_HARGS_REALLOC, 1 },
	{ "reallocarray", ET_HEAP_REALLOCARRAY, ET_HARGS_REALLOCARRAY, 1 },
	{ "memalign", ET_HEAP_MEMALIGN, ET_HARGS_ALIGN_SIZE, 1 },
	{ "aligned_alloc", ET_HEAP_ALIGNED_ALLOC, ET_HARGS_ALIGN_SIZE, 1 },
	{ "valloc", ET_HEAP_VALLOC, ET_HARGS_SIZE, 1 },
	{ "pvalloc", ET_HEAP_PVALLOC, ET_HARGS_SIZE, 1 },
	{ "posix_memalign", ET_HEAP_POSIX_MEMALIGN, ET_HARGS_POSIX, 1 },
	{ "free", ET_HEAP_FREE, ET_HARGS_PTR, 0 },
	{ "_Znwm", ET_HEAP_NEW, ET_HARGS_SIZE, 1 },
	{ "_ZnwmRKSt9nothrow_t", ET_HEAP_NEW, ET_HARGS_SIZE, 1 },
	{ "_ZnwmSt11align_val_t", ET_HEAP_NEW, ET_HARGS_SIZE_ALIGN, 1 },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", ET_HEAP_NEW, ET_HARGS_SIZE_ALIGN, 1 },
	{ "_Znam", ET_HEAP_NEW_ARRAY, ET_HARGS_SIZE, 1 },
	{ "_ZnamRKSt9nothrow_t", ET_HEAP_NEW_ARRAY, ET_HARGS_SIZE, 1 },
	{ "_ZnamSt11align_val_t", ET_HEAP_NEW_ARRAY, ET_HARGS_SIZE_ALIGN, 1 },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", ET_HEAP_NEW_ARRAY, ET_HARGS_SIZE_ALIGN, 1 },
	{ "_ZdlPv", ET_HEAP_DELETE, ET_HARGS_PTR, 0 },
	{ "_ZdlPvm", ET_HEAP_DELETE, ET_HARGS_PTR, 0 },
	{ "_ZdlPvSt11align_val_t", ET_HEAP_DELETE, ET_HARGS_PTR, 0 },
	{ "_ZdlPvmSt11align_val_t", ET_HEAP_DELETE, ET_HARGS_PTR, 0 },
	{ "_ZdlPvRKSt9nothrow_t", ET_HEAP_DELETE, ET_HARGS_PTR, 0 },
	{ "_ZdlPvSt11align_val_tRKSt9nothrow_t", ET_HEAP_DELETE, ET_HARGS_PTR, 0 },
	{ "_ZdaPv", ET_HEAP_DELETE_ARRAY, ET_HARGS_PTR, 0 },
	{ "_ZdaPvm", ET_HEAP_DELETE_ARRAY, ET_HARGS_PTR, 0 },
	{ "_ZdaPvSt11align_val_t", ET_HEAP_DELETE_ARRAY, ET_HARGS_PTR, 0 },
	{ "_ZdaPvmSt11align_val_t", ET_HEAP_DELETE_ARRAY, ET_HARGS_PTR, 0 },
	{ "_ZdaPvRKSt9nothrow_t", ET_HEAP_DELETE_ARRAY, ET_HARGS_PTR, 0 },
	{ "_ZdaPvSt11align_val_tRKSt9nothrow_t", ET_HEAP_DELETE_ARRAY, ET_HARGS_PTR, 0 },
	{ "_exit", ET_HEAP_EXIT, ET_HARGS_PTR, 0 },
};

static const struct heap_api *api_find(const char *name)
{
	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++)
		if (strcmp(api[i].name, name) == 0)
			return &api[i];
	return NULL;
}

static const struct heap_api *api_of(const struct elfsym_func *f)
{
	const struct heap_api *a = api_find(f->name);
	for (char **al = f->aliases; !a && al && *al; al++)
		a = api_find(*al);
	return a;
}

/* ---- the files -------------------------------------------------------------- */

struct pathlist {
	char **v;
	size_t n;
};

static void pathlist_add(struct pathlist *l, const char *path)
{
	char real[4096];
	if (!realpath(path, real))
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], real) == 0)
			return;
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return;
	l->v = v;
	if ((l->v[l->n] = strdup(real)))
		l->n++;
}

/* The executable's PT_INTERP, or "" for a static one. */
static int read_interp(const char *exe, char *interp, size_t len, char *err, size_t errlen)
{
	interp[0] = 0;
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", exe, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	int rc = -1;
	size_t n;
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n) != 0) {
		snprintf(err, errlen, "%s: not an ELF file", exe);
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		size_t sz = ph.p_filesz < len ? ph.p_filesz : len - 1;
		if (pread(fd, interp, sz, (off_t)ph.p_offset) != (ssize_t)sz)
			sz = 0;
		interp[sz] = 0;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

/* The probes of one file; 0 when it holds no allocator function. */
static int plan_file(const char *path, struct heap_file *out)
{
	struct elfsyms s;
	char err[256];
	memset(out, 0, sizeof(*out));
	if (elfsyms_read(path, &s, err, sizeof(err)) < 0)
		return 0;
	bool has_malloc = false, has_free = false, has_new = false;
	size_t cap = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct heap_api *a = api_of(&s.funcs[i]);
		if (!a)
			continue;
		has_malloc |= a->op == ET_HEAP_MALLOC;
		has_free |= a->op == ET_HEAP_FREE;
		has_new |= a->op == ET_HEAP_NEW;
		if (out->nprobes == cap) {
			cap = cap ? 2 * cap : 16;
			struct heap_probe *p = realloc(out->probes, cap * sizeof(*p));
			if (!p)
				break;
			out->probes = p;
		}
		/* only the argument registers the BPF program reads must be intact */
		static const int nargs[] = {
			[ET_HARGS_SIZE] = 1, [ET_HARGS_CALLOC] = 2, [ET_HARGS_REALLOC] = 2, [ET_HARGS_REALLOCARRAY] = 3,
			[ET_HARGS_ALIGN_SIZE] = 2, [ET_HARGS_SIZE_ALIGN] = 2, [ET_HARGS_POSIX] = 3, [ET_HARGS_PTR] = 1,
		};
		struct probe_place pp;
		if (probe_place_file_args(path, s.funcs[i].file_offset, s.funcs[i].size, (int)a->ret, nargs[a->args],
					  &pp) < 0)
			memset(&pp, 0, sizeof(pp));
		struct heap_probe *hp = &out->probes[out->nprobes++];
		hp->name = a->name;
		hp->placed = pp.offset;
		hp->file_offset = s.funcs[i].file_offset + pp.offset;
		hp->cookie = ET_HEAP_COOKIE(a->op, a->args, (unsigned)pp.sp_delta);
		hp->emulated = pp.emulated;
		hp->need_return = (int)a->ret;
	}
	elfsyms_free(&s);
	/* an allocator is a malloc/free pair, or operator new; a lone _exit
	 * (libc without... never) or a program's own function named free is not */
	if (!((has_malloc && has_free) || has_new)) {
		free(out->probes);
		memset(out, 0, sizeof(*out));
		return 0;
	}
	out->path = strdup(path);
	return out->path ? 1 : 0;
}

struct plan_entry {
	char *exe;
	struct heap_plan plan;
};

struct heap_planner {
	struct plan_entry *plans;
	size_t nplans;
	struct heap_file **files;    /* every file read, allocator or not (path set) */
	size_t nfiles;
};

struct heap_planner *heap_planner_new(void)
{
	return calloc(1, sizeof(struct heap_planner));
}

void heap_planner_free(struct heap_planner *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->nplans; i++) {
		free(pl->plans[i].exe);
		free(pl->plans[i].plan.files);
		free(pl->plans[i].plan.resolver_error);
	}
	free(pl->plans);
	for (size_t i = 0; i < pl->nfiles; i++) {
		free(pl->files[i]->path);
		free(pl->files[i]->probes);
		free(pl->files[i]);
	}
	free(pl->files);
	free(pl);
}

/* The probes of one file, read once a run; NULL when it holds no allocator. */
static struct heap_file *planner_file(struct heap_planner *pl, const char *path)
{
	for (size_t i = 0; i < pl->nfiles; i++)
		if (strcmp(pl->files[i]->path, path) == 0)
			return pl->files[i]->nprobes ? pl->files[i] : NULL;
	struct heap_file *f = calloc(1, sizeof(*f));
	struct heap_file **v = realloc(pl->files, (pl->nfiles + 1) * sizeof(*v));
	if (!f || !v) {
		free(f);
		if (v)
			pl->files = v;
		return NULL;
	}
	pl->files = v;
	if (!plan_file(path, f)) {
		f->path = strdup(path);   /* remembered as "no allocator here" */
		if (!f->path) {
			free(f);
			return NULL;
		}
	}
	pl->files[pl->nfiles++] = f;
	return f->nprobes ? f : NULL;
}

/* depth: scripts whose #! names another script, as the kernel allows */
static void plan_make(struct heap_planner *pl, const char *exe, struct heap_plan *plan, int depth)
{
	struct pathlist l = { 0 };
	char interp[512], err[256];
	if (read_interp(exe, interp, sizeof(interp), err, sizeof(err)) < 0) {
		/* a script: its interpreter (#!) is the program that allocates;
		 * the system's C library is what it most likely uses. Only read:
		 * nothing the file names is ever run by etrace. */
		char line[512];
		FILE *f = fopen(exe, "re");
		bool script = f && fgets(line, sizeof(line), f) && line[0] == '#' && line[1] == '!';
		if (f)
			fclose(f);
		if (!script)
			return; /* nothing to probe: running it fails, as it must */
		line[strcspn(line, "\n")] = 0;
		char *p = line + 2 + strspn(line + 2, " \t");
		p[strcspn(p, " \t")] = 0;
		const char *sub = depth < 4 && faccessat(AT_FDCWD, p, X_OK, AT_EACCESS) == 0 ? p : "/bin/sh";
		plan_make(pl, sub, plan, depth + 1);
		return;
	}
	if (!interp[0]) {
		pathlist_add(&l, exe);   /* static: the allocator is in the executable */
	} else {
		/* the libraries, found by reading the ELF files as ld.so would
		 * search for them (LD_PRELOAD from the environment the program
		 * inherits), never by running the loader the program names */
		extern char **environ;
		struct ldlist libs;
		char why[512];
		if (ld_resolve(exe, environ, &libs, why, sizeof(why)) < 0) {
			plan->resolver_error = strdup(why);
			pathlist_add(&l, exe);
		}
		for (size_t i = 0; i < libs.n; i++)
			pathlist_add(&l, libs.v[i]);
		ldlist_free(&libs);
		/* a child may be a C++ program even when the root is not */
		static const char *const cxx[] = { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
						   "/lib/x86_64-linux-gnu/libstdc++.so.6",
						   "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" };
		for (size_t i = 0; i < sizeof(cxx) / sizeof(cxx[0]); i++)
			if (faccessat(AT_FDCWD, cxx[i], R_OK, AT_EACCESS) == 0) {
				pathlist_add(&l, cxx[i]);
				break;
			}
	}
	for (size_t i = 0; i < l.n; i++) {
		struct heap_file *f = planner_file(pl, l.v[i]);
		struct heap_file **v = f ? realloc(plan->files, (plan->nfiles + 1) * sizeof(*v)) : NULL;
		if (v) {
			plan->files = v;
			plan->files[plan->nfiles++] = f;
		}
		free(l.v[i]);
	}
	free(l.v);
}

const struct heap_plan *heap_planner_get(struct heap_planner *pl, const char *exe, struct et_model *m, bool *made)
{
	*made = false;
	for (size_t i = 0; i < pl->nplans; i++)
		if (strcmp(pl->plans[i].exe, exe) == 0)
			return &pl->plans[i].plan;
	struct plan_entry *v = realloc(pl->plans, (pl->nplans + 1) * sizeof(*v));
	if (!v)
		return NULL;
	pl->plans = v;
	struct plan_entry *e = &pl->plans[pl->nplans];
	memset(e, 0, sizeof(*e));
	if (!(e->exe = strdup(exe)))
		return NULL;
	pl->nplans++;
	*made = true;
	plan_make(pl, exe, &e->plan, 0);
	if (e->plan.resolver_error)
		et_error("heap: %s: only the executable and libstdc++ are probed", e->plan.resolver_error);
	/* the report lists each probed file once */
	for (size_t i = 0; i < e->plan.nfiles; i++) {
		struct heap_file *f = e->plan.files[i];
		for (size_t j = 0; !f->described && j < f->nprobes; j++)
			heap_add_allocator(m, f->path, f->probes[j].name, f->probes[j].placed, f->probes[j].emulated);
		f->described = true;
	}
	return &e->plan;
}

/* ---- the leak scan at _exit ------------------------------------------------ */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 1 when every thread of pid is stopped, 0 when not yet, -1 when gone. */
static int all_stopped(int pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int stopped = 1, seen = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[384], buf[512];
		snprintf(path, sizeof(path), "%s/%s/stat", dir, de->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		if (!p || p[1] != ' ')
			continue;
		seen++;
		char st = p[2];
		if (st == 'Z' || st == 'X')
			continue;
		if (st != 'T' && st != 't')
			stopped = 0;
	}
	closedir(d);
	return seen ? stopped : -1;
}

/* st: 1 the process is ready for the scan, 0 it did not stop, -1 gone */
static void scan_now(struct et_model *m, const struct ev_heap_hold *h, int st)
{
	int pid = (int)h->h.pid;
	const char *error = NULL;
	char err[256];
	if (heap_wants_scan(m)) {
		struct hs_block *b = NULL;
		size_t n = 0;
		struct hs_stats stats;
		memset(&stats, 0, sizeof(stats));
		if (st != 1) {
			error = st < 0 ? "the process was gone before the scan" : "the process did not stop for the scan";
		} else if (heap_scan_blocks(m, pid, &b, &n) < 0) {
			error = "out of memory";
		} else if (heapscan_process(pid, h->fsbase, h->regs, ET_NREGS, b, n, &stats, err, sizeof(err)) < 0) {
			error = err;
		}
		heap_scan_result(m, pid, b, error ? 0 : n, &stats, error);
		free(b);
	}
}

void heap_hold_scan(struct et_model *m, const void *rec)
{
	const struct ev_heap_hold *h = rec;
	int pid = (int)h->h.pid;
	/* the SIGSTOP was sent right after the record: wait for it (bounded) */
	double t0 = now_ms();
	int st;
	while ((st = all_stopped(pid)) == 0 && now_ms() - t0 < 2000) {
		struct timespec ts = { 0, 200 * 1000 };
		nanosleep(&ts, NULL);
	}
	scan_now(m, h, st);
	kill(pid, SIGCONT);
}

void heap_exit_scan(struct et_model *m, const void *rec)
{
	const struct ev_heap_hold *h = rec;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)h->h.pid);
	scan_now(m, h, access(path, F_OK) == 0 ? 1 : -1);
}
