/* Finding a program's shared objects without running the loader; see
 * ldresolve.h. The search follows glibc's elf/dl-load.c order. */
#include "ldresolve.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fileutil.h"

#define LD_MAX_OBJECTS 1024

/* What the search needs of one object. */
struct ldobj {
	char *path;       /* as found (its directory is $ORIGIN) */
	char *rpath, *runpath;
	char **needed;
	size_t nneeded;
};

struct ldstate {
	int elfclass, machine;     /* the program's: other objects are skipped, as ld.so does */
	const char *lib_path;      /* LD_LIBRARY_PATH */
	char *cache;               /* /etc/ld.so.cache */
	size_t cache_len;
	struct ldobj *objs;
	size_t nobjs;
	struct ldlist *out;
};

static void obj_free(struct ldobj *o)
{
	free(o->path);
	free(o->rpath);
	free(o->runpath);
	for (size_t i = 0; i < o->nneeded; i++)
		free(o->needed[i]);
	free(o->needed);
}

/* The file offset of a virtual address, through the PT_LOAD holding it. */
static bool vaddr_to_offset(Elf *e, size_t nph, uint64_t va, uint64_t *off)
{
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && va >= ph.p_vaddr &&
		    va - ph.p_vaddr < ph.p_filesz) {
			*off = ph.p_offset + (va - ph.p_vaddr);
			return true;
		}
	}
	return false;
}

/* Reads an ELF object's class, machine and dynamic section. -1 when it is
 * not a readable ELF file; want_class/want_machine 0: anything. */
static int read_object(const char *path, int want_class, int want_machine, struct ldobj *o, int *cls, int *mach,
		       char *interp, size_t interp_len)
{
	memset(o, 0, sizeof(*o));
	if (interp)
		interp[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	size_t nph;
	int rc = -1;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &nph) != 0)
		goto out;
	int c = gelf_getclass(e);
	if ((want_class && c != want_class) || (want_machine && eh.e_machine != want_machine))
		goto out;
	if (cls)
		*cls = c;
	if (mach)
		*mach = eh.e_machine;
	rc = 0;
	GElf_Phdr dynph = { 0 };
	bool have_dyn = false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_DYNAMIC) {
			dynph = ph;
			have_dyn = true;
		} else if (ph.p_type == PT_INTERP && interp && interp_len > 1) {
			size_t n = ph.p_filesz < interp_len ? ph.p_filesz : interp_len - 1;
			if (pread(fd, interp, n, (off_t)ph.p_offset) != (ssize_t)n)
				n = 0;
			interp[n] = 0;
		}
	}
	if (!have_dyn)
		goto out; /* static: no libraries */
	Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)dynph.p_offset, dynph.p_filesz, ELF_T_DYN);
	if (!d)
		goto out;
	size_t ndyn = dynph.p_filesz / gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
	uint64_t strtab = 0, strsz = 0;
	for (size_t i = 0; i < ndyn; i++) {
		GElf_Dyn dyn;
		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_STRTAB)
			strtab = dyn.d_un.d_ptr;
		else if (dyn.d_tag == DT_STRSZ)
			strsz = dyn.d_un.d_val;
	}
	uint64_t stroff;
	if (!strtab || !strsz || strsz > (1u << 26) || !vaddr_to_offset(e, nph, strtab, &stroff))
		goto out;
	Elf_Data *sd = elf_getdata_rawchunk(e, (int64_t)stroff, strsz, ELF_T_BYTE);
	if (!sd)
		goto out;
	const char *str = sd->d_buf;
	for (size_t i = 0; i < ndyn; i++) {
		GElf_Dyn dyn;
		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)
			continue;
		if (dyn.d_un.d_val >= strsz)
			continue;
		const char *s = str + dyn.d_un.d_val;
		char *v = strndup(s, strsz - dyn.d_un.d_val);
		if (!v)
			continue;
		if (dyn.d_tag == DT_RPATH && !o->rpath) {
			o->rpath = v;
		} else if (dyn.d_tag == DT_RUNPATH && !o->runpath) {
			o->runpath = v;
		} else if (dyn.d_tag == DT_NEEDED) {
			char **nv = realloc(o->needed, (o->nneeded + 1) * sizeof(*nv));
			if (!nv) {
				free(v);
				continue;
			}
			o->needed = nv;
			o->needed[o->nneeded++] = v;
		} else {
			free(v);
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

/* "$ORIGIN/../lib" -> "/opt/app/bin/../lib" (origin: the object's directory). */
static void expand(const char *dir, size_t n, const char *origin, char *out, size_t len)
{
	struct utsname u;
	const char *platform = uname(&u) == 0 ? u.machine : "";
	const char *lib = strcmp(platform, "x86_64") == 0 ? "lib/x86_64-linux-gnu"
			  : strcmp(platform, "aarch64") == 0 ? "lib/aarch64-linux-gnu" : "lib";
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len;) {
		const char *val = NULL;
		size_t skip = 0;
		static const char *const names[] = { "ORIGIN", "LIB", "PLATFORM" };
		for (int k = 0; k < 3 && dir[i] == '$'; k++) {
			size_t l = strlen(names[k]);
			if (i + 1 + l <= n && strncmp(dir + i + 1, names[k], l) == 0)
				skip = 1 + l;
			else if (i + 3 + l <= n && dir[i + 1] == '{' && strncmp(dir + i + 2, names[k], l) == 0 &&
				 dir[i + 2 + l] == '}')
				skip = 3 + l;
			if (skip) {
				val = k == 0 ? origin : k == 1 ? lib : platform;
				break;
			}
		}
		if (!skip) {
			out[o++] = dir[i++];
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s", val);
		if (o >= len)
			o = len - 1;
		i += skip;
	}
	out[o] = 0;
}

static bool already(const struct ldstate *st, const char *real)
{
	for (size_t i = 0; i < st->out->n; i++)
		if (strcmp(st->out->v[i], real) == 0)
			return true;
	return false;
}

/* Adds an object found at path (real path deduplicated); 1 added, 0 known
 * already, -1 not a usable object. */
static int add_object(struct ldstate *st, const char *path)
{
	if (st->nobjs >= LD_MAX_OBJECTS)
		return -1;
	char real[PATH_MAX];
	if (!realpath(path, real))
		return -1;
	if (already(st, real))
		return 0;
	struct ldobj o;
	if (read_object(real, st->elfclass, st->machine, &o, NULL, NULL, NULL, 0) < 0)
		return -1;
	o.path = strdup(path);
	char **v = realloc(st->out->v, (st->out->n + 1) * sizeof(*v));
	struct ldobj *ov = realloc(st->objs, (st->nobjs + 1) * sizeof(*ov));
	if (v)
		st->out->v = v;
	if (ov)
		st->objs = ov;
	char *copy = strdup(real);
	if (!v || !ov || !copy || !o.path) {
		free(copy);
		obj_free(&o);
		return -1;
	}
	st->out->v[st->out->n++] = copy;
	st->objs[st->nobjs++] = o;
	return 1;
}

static void dirname_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* Tries name in each directory of a ':'-separated list. */
static int try_dirs(struct ldstate *st, const char *list, const char *origin, const char *name)
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ":;");
		char dir[PATH_MAX], cand[2 * PATH_MAX + 2];
		expand(p, n, origin, dir, sizeof(dir));
		int w = snprintf(cand, sizeof(cand), "%s/%s", dir[0] ? dir : ".", name);
		if (w > 0 && (size_t)w < sizeof(cand) && add_object(st, cand) >= 0)
			return 0;
		p += n;
		if (*p)
			p++;
	}
	return -1;
}

/* /etc/ld.so.cache (glibc's "glibc-ld.so.cache1.1" format): each entry
 * whose name matches is tried; add_object checks class and machine. */
static int try_cache(struct ldstate *st, const char *name)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	const size_t head = 48, entry = 24;
	if (!st->cache)
		return -1;
	const char *c = st->cache;
	size_t len = st->cache_len;
	/* an old-format ("ld.so-1.7.0") cache may come first: find the new one */
	const char *base = memmem(c, len < 4096 ? len : 4096, magic, sizeof(magic) - 1);
	if (!base || (size_t)(base - c) + head > len)
		return -1;
	size_t avail = len - (size_t)(base - c);
	uint32_t nlibs;
	memcpy(&nlibs, base + 20, 4);
	if (nlibs > (avail - head) / entry)
		return -1;
	for (uint32_t i = 0; i < nlibs; i++) {
		uint32_t key, value;
		memcpy(&key, base + head + i * entry + 4, 4);
		memcpy(&value, base + head + i * entry + 8, 4);
		if (key >= avail || value >= avail || !memchr(base + key, 0, avail - key) ||
		    !memchr(base + value, 0, avail - value))
			continue;
		if (strcmp(base + key, name) == 0 && add_object(st, base + value) >= 0)
			return 0;
	}
	return -1;
}

static const struct ldobj *obj(const struct ldstate *st, size_t i)
{
	return &st->objs[i];
}

/* One DT_NEEDED (or LD_PRELOAD) name of object `from` (the program: 0). */
static void search(struct ldstate *st, size_t from, const char *name)
{
	if (strchr(name, '/')) {
		add_object(st, name);
		return;
	}
	/* st->objs moves when an object is added: index it afresh each time */
	char origin[PATH_MAX];
	dirname_of(obj(st, from)->path, origin, sizeof(origin));
	/* DT_RPATH counts only when there is no DT_RUNPATH; the program's
	 * RPATH applies to every object that has none of its own */
	if (!obj(st, from)->runpath && obj(st, from)->rpath && try_dirs(st, obj(st, from)->rpath, origin, name) == 0)
		return;
	if (from != 0 && !obj(st, from)->runpath && !obj(st, 0)->runpath && obj(st, 0)->rpath) {
		char eorigin[PATH_MAX];
		dirname_of(obj(st, 0)->path, eorigin, sizeof(eorigin));
		if (try_dirs(st, obj(st, 0)->rpath, eorigin, name) == 0)
			return;
	}
	if (st->lib_path && try_dirs(st, st->lib_path, origin, name) == 0)
		return;
	if (obj(st, from)->runpath && try_dirs(st, obj(st, from)->runpath, origin, name) == 0)
		return;
	if (try_cache(st, name) == 0)
		return;
	try_dirs(st, "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:"
		     "/lib64:/usr/lib64:/lib:/usr/lib",
		 "", name);
}

/* Each name of a whitespace- or ':'-separated preload list. */
static void preload(struct ldstate *st, const char *list)
{
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t\n:");
		size_t n = strcspn(p, " \t\n:");
		if (n && n < PATH_MAX) {
			char name[PATH_MAX];
			memcpy(name, p, n);
			name[n] = 0;
			search(st, 0, name);
		}
		p += n;
	}
}

static const char *env_get(char *const envp[], const char *name)
{
	size_t l = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, l) == 0 && envp[i][l] == '=')
			return envp[i] + l + 1;
	return NULL;
}

int ld_resolve(const char *exe, char *const envp[], struct ldlist *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	struct ldstate st = { .out = out, .lib_path = env_get(envp, "LD_LIBRARY_PATH") };
	struct ldobj o;
	char interp[PATH_MAX], real[PATH_MAX];
	errno = 0;
	if (!realpath(exe, real) ||
	    read_object(real, 0, 0, &o, &st.elfclass, &st.machine, interp, sizeof(interp)) < 0) {
		snprintf(err, errlen, "%s: %s", exe, errno ? strerror(errno) : "not an ELF file");
		return -1;
	}
	out->v = malloc(sizeof(*out->v));
	st.objs = malloc(sizeof(*st.objs));
	o.path = strdup(real);   /* the loader's $ORIGIN of the program is its real path's directory */
	if (!out->v || !st.objs || !o.path || !(out->v[0] = strdup(real))) {
		obj_free(&o);
		free(st.objs);
		ldlist_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->n = 1;
	st.objs[st.nobjs++] = o;
	if (interp[0]) {
		size_t len;
		if (read_whole_file("/etc/ld.so.cache", 65536, &st.cache, &st.cache_len) < 0)
			st.cache = NULL;
		preload(&st, env_get(envp, "LD_PRELOAD"));
		char *sys = NULL;
		if (read_whole_file("/etc/ld.so.preload", 4096, &sys, &len) == 0) {
			preload(&st, sys);
			free(sys);
		}
		/* breadth first, in load order; objects are appended as found */
		for (size_t i = 0; i < st.nobjs; i++)
			for (size_t j = 0; j < st.objs[i].nneeded; j++)
				search(&st, i, st.objs[i].needed[j]);
		add_object(&st, interp);
	}
	for (size_t i = 0; i < st.nobjs; i++)
		obj_free(&st.objs[i]);
	free(st.objs);
	free(st.cache);
	return 0;
}

void ldlist_free(struct ldlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
