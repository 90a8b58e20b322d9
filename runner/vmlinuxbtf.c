/* One parse of the kernel's BTF per etrace process, shared with libbpf.
 *
 * libbpf 1.1 (Debian 12) parses the kernel's BTF (5.4 MB, ~125,000 types)
 * afresh inside every bpf_object__load (CO-RE relocations, the tp_btf
 * attach points) and frees it at the end of the load; it offers no way to
 * hand it an already parsed one (btf_custom_path is a file it parses again,
 * and only for CO-RE). etrace parses it as well, to pick its programs. Each
 * parse was ~15-45 ms here: reading the file through sysfs is ~1,300 read
 * calls of a page each, then the parse touches ~6 MB of fresh memory.
 *
 * libbpf calls btf__load_vmlinux_btf and btf__free through its PLT (they
 * are exported functions of the library), so the definitions below, in the
 * executable, take their place for libbpf too: the first call parses, every
 * later one (etrace's, each object's load) returns the same parsed BTF, and
 * freeing it is a no-op. Were libbpf ever built to bind its own calls
 * locally, it would parse and free its own copy as before: slower, never
 * wrong. libbpf only reads the kernel's BTF (type lookups, CO-RE
 * candidates, module BTFs split on it), so sharing it, also between
 * threads, is safe: the parse is done once under a pthread_once.
 *
 * Where the kernel lets /sys/kernel/btf/vmlinux be mapped (Linux 6.16) it
 * is parsed from the mapping: one mmap instead of the page-sized reads.
 * Elsewhere, or if that fails, libbpf's own loader runs (it also tries the
 * vmlinux files under /boot and /lib/modules).
 *
 * `etrace run` parses it on a thread of its own (tracer_load) while the
 * objects are opened, but only once the target is forked: glibc's first
 * pthread_create installs its handler of signal 33 (SIGSETXID), and a
 * target forked later would no longer inherit it ignored when etrace was
 * started so. */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

static pthread_once_t once = PTHREAD_ONCE_INIT, found = PTHREAD_ONCE_INIT;
static struct btf *shared;
static int shared_err;

static struct btf *(*libbpf_load)(void);
static void (*libbpf_free)(struct btf *);
static __s32 (*libbpf_find)(const struct btf *, const char *, __u32);

static void find_libbpf(void)
{
	libbpf_load = (struct btf * (*)(void)) dlsym(RTLD_NEXT, "btf__load_vmlinux_btf");
	libbpf_free = (void (*)(struct btf *))dlsym(RTLD_NEXT, "btf__free");
	libbpf_find = (__s32(*)(const struct btf *, const char *, __u32))dlsym(RTLD_NEXT, "btf__find_by_name_kind");
}

static struct btf *parse_mapped(void)
{
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	struct btf *btf = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			/* btf__new copies it: the mapping can go right after */
			btf = btf__new(m, (__u32)st.st_size);
			if (libbpf_get_error(btf))
				btf = NULL;
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	return btf;
}

static void parse_once(void)
{
	pthread_once(&found, find_libbpf);
	shared = parse_mapped();
	if (!shared && libbpf_load) {
		shared = libbpf_load();
		if (libbpf_get_error(shared))
			shared = NULL;
	}
	if (!shared)
		shared_err = errno ? errno : ESRCH;
}

struct btf *btf__load_vmlinux_btf(void)
{
	pthread_once(&once, parse_once);
	if (!shared)
		errno = shared_err;   /* libbpf 1.x: NULL and errno, no error pointers */
	return shared;
}

void btf__free(struct btf *btf)
{
	if (!btf || btf == shared)
		return;
	pthread_once(&found, find_libbpf);
	if (libbpf_free)
		libbpf_free(btf);
}

/* The names looked up in the kernel's BTF at every start, by etrace (which
 * tracepoints and kfuncs this kernel has) and by libbpf (each tp_btf
 * program's attach point, each kfunc's id): ~40 lookups, each a pass over
 * the ~125,000 types until the name (libbpf 1.1 has no index), ~4-5 ms in
 * all here. btf__find_by_name_kind is called through libbpf's PLT too (as
 * btf__load_vmlinux_btf above), so the one below serves both: a table of
 * the tracepoints' btf_trace_* typedefs and the bpf_* functions, made in
 * one pass (~1.2 ms) on the thread that parsed the BTF while the load is
 * prepared; a lookup before it is ready, or of any other name, is
 * libbpf's own. The table keeps each name's first id, as libbpf's pass
 * returns. */
#define NAME_SLOTS 16384u

struct name_slot {
	const char *name;   /* in the shared BTF's strings (never freed) */
	__u32 id, kind;
};

static struct name_slot *slots;
static atomic_bool slots_ready;
/* ETRACE_BTFINDEX_CHECK=1 (tests, the kernel matrix): each answer of the
 * table compared with libbpf's own pass */
static atomic_int index_answers, index_unlike;

bool vmlinuxbtf_index_check(void)
{
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("ETRACE_BTFINDEX_CHECK");
		on = v && *v && strcmp(v, "0") != 0;
	}
	return on;
}

static bool indexed(const char *name, __u32 kind)
{
	return (kind == BTF_KIND_TYPEDEF && strncmp(name, "btf_trace_", 10) == 0) ||
	       (kind == BTF_KIND_FUNC && strncmp(name, "bpf_", 4) == 0);
}

static uint32_t name_hash(const char *name, __u32 kind)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (h ^ kind) * 2654435761u;
}

void vmlinuxbtf_index(void)
{
	if (!shared || slots)
		return;
	struct name_slot *tab = calloc(NAME_SLOTS, sizeof(*tab));
	if (!tab)
		return;
	__u32 n = btf__type_cnt(shared), used = 0;
	for (__u32 i = 1; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(shared, i);
		__u32 kind = btf_kind(t);
		if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_FUNC)
			continue;
		const char *name = btf__name_by_offset(shared, t->name_off);
		if (!name || !indexed(name, kind))
			continue;
		uint32_t j = name_hash(name, kind) & (NAME_SLOTS - 1);
		while (tab[j].name && !(tab[j].kind == kind && strcmp(tab[j].name, name) == 0))
			j = (j + 1) & (NAME_SLOTS - 1);
		if (tab[j].name)
			continue;   /* the first id stays */
		if (++used > NAME_SLOTS / 2) {
			free(tab);   /* a kernel with far more: libbpf's passes */
			return;
		}
		tab[j] = (struct name_slot){ name, i, kind };
	}
	slots = tab;
	atomic_store_explicit(&slots_ready, true, memory_order_release);
}

__s32 btf__find_by_name_kind(const struct btf *btf, const char *name, __u32 kind)
{
	if (btf && btf == shared && name && atomic_load_explicit(&slots_ready, memory_order_acquire) &&
	    indexed(name, kind)) {
		uint32_t j = name_hash(name, kind) & (NAME_SLOTS - 1);
		__s32 id = -ENOENT;
		for (; slots[j].name && id < 0; j = (j + 1) & (NAME_SLOTS - 1))
			if (slots[j].kind == kind && strcmp(slots[j].name, name) == 0)
				id = (__s32)slots[j].id;
		if (vmlinuxbtf_index_check()) {
			pthread_once(&found, find_libbpf);
			__s32 theirs = libbpf_find ? libbpf_find(btf, name, kind) : id;
			atomic_fetch_add(&index_answers, 1);
			if (theirs != id) {
				atomic_fetch_add(&index_unlike, 1);
				fprintf(stderr, "etrace: BTF index check: %s (kind %u): %d, libbpf %d\n", name, kind, id, theirs);
			}
		}
		if (id < 0)
			errno = ENOENT;
		return id;
	}
	pthread_once(&found, find_libbpf);
	if (!libbpf_find) {
		errno = ENOSYS;
		return -ENOSYS;
	}
	return libbpf_find(btf, name, kind);
}

void vmlinuxbtf_index_report(void)
{
	if (vmlinuxbtf_index_check())
		fprintf(stderr, "etrace: BTF index check: %d lookups answered by the index, %d unlike libbpf's\n",
			atomic_load(&index_answers), atomic_load(&index_unlike));
}
