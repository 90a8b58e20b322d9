/* The leak classifier's inputs from a stopped process (see heapscan.h):
 * its memory, read with process_vm_readv or /proc/PID/mem, and the roots of
 * the mark phase, from /proc/PID/maps (writable data of the modules, the
 * threads' stacks and registers, memory of the allocator that holds no
 * block); heapscan_process runs the whole scan. The mark phase itself is
 * heapscan.c. */
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "heapscan_int.h"

/* bytes scanned at the top of a cached thread stack */
#define CACHED_STACK_TOP (64 * 1024)
#define RED_ZONE       128
/* a PROT_NONE mapping below an anonymous one is a thread stack's guard when
 * at most this big (glibc's default guard is a page; a glibc arena's unused
 * reserve, also PROT_NONE, is megabytes) */
#define STACK_GUARD_MAX (256u * 1024)
/* glibc's non-main arenas: heaps of at most HEAP_MAX_SIZE (2 *
 * DEFAULT_MMAP_THRESHOLD_MAX: 64 MiB on 64-bit) aligned to that size, each
 * starting with a heap_info { ar_ptr, prev, size, mprotect_size, ... } */
#define ARENA_HEAP_MAX (64ull << 20)

/* ---- reading a process -------------------------------------------------- */

struct preader {
	int pid;
	int memfd;      /* /proc/PID/mem, opened when process_vm_readv is not allowed */
	int no_vm;
};

/* ---- roots from /proc --------------------------------------------------- */

struct map {
	uint64_t start, end, off, inode;
	unsigned dmaj, dmin;
	char perms[8];
	char *name;
	int elf;        /* the file is an ELF module */
	int has_sp;     /* a thread's stack pointer is in it */
	int stack;      /* taken as a thread stack (only its live part is a root) */
	int alloc;      /* holds allocator blocks no glibc structure explains */
	uint64_t bss_end; /* a module's .bss ends here in it: a root already */
};

struct rlist {
	struct hs_region *r;
	char **names;
	size_t n, cap;
	uint64_t *vals;
	size_t nvals, capvals;
	int oom;
};

/* Ranges of the allocator's own memory: never roots (its free chunks hold
 * stale pointers to blocks, and a leak would hide behind them). */
struct xlist {
	struct { uint64_t start, end; } *r;
	size_t n, cap;
};

static long preader_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct preader *p = ctx;
	if (!len)
		return 0;
	if (!p->no_vm) {
		struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
		ssize_t got = process_vm_readv(p->pid, &l, 1, &r, 1, 0);
		if (got > 0)
			return got;
		if (got == 0 || (errno != ENOSYS && errno != EPERM))
			return -1;
		p->no_vm = 1;
	}
	if (p->memfd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
		p->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->memfd < 0)
			return -1;
	}
	if (addr > (uint64_t)INT64_MAX)
		return -1;
	ssize_t got = pread(p->memfd, buf, len, (off_t)addr);
	return got > 0 ? got : -1;
}

long heapscan_read_process(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct preader p = { *(int *)ctx, -1, 0 };
	long r = preader_read(&p, addr, buf, len);
	if (p.memfd >= 0)
		close(p.memfd);
	return r;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void rl_add(struct rlist *l, uint64_t start, uint64_t end, const char *fmt, ...)
{
	if (start >= end)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].start <= start && end <= l->r[i].end)
			return;   /* already covered */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct hs_region *r = realloc(l->r, cap * sizeof(*r));
		if (r)
			l->r = r;
		char **nm = realloc(l->names, cap * sizeof(*nm));
		if (nm)
			l->names = nm;
		if (!r || !nm) {
			l->oom = 1;
			return;
		}
		l->cap = cap;
	}
	char buf[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *name = strdup(buf);
	if (!name) {
		l->oom = 1;
		return;
	}
	l->r[l->n].start = start;
	l->r[l->n].end = end;
	l->r[l->n].what = NULL;
	l->names[l->n] = name;
	l->n++;
}

static void rl_val(struct rlist *l, uint64_t v)
{
	if (l->nvals == l->capvals) {
		size_t cap = l->capvals ? 2 * l->capvals : 32;
		uint64_t *nv = realloc(l->vals, cap * sizeof(*nv));
		if (!nv) {
			l->oom = 1;
			return;
		}
		l->vals = nv;
		l->capvals = cap;
	}
	l->vals[l->nvals++] = v;
}

static void rl_free(struct rlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->r);
	free(l->vals);
}

static void maps_free(struct map *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].name);
	free(m);
}

static int read_maps(int pid, struct map **out, size_t *nout, char *err, size_t errlen)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct map *m = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&line, &lcap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		struct map x;
		memset(&x, 0, sizeof(x));
		int pos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &x.start, &x.end, x.perms, &x.off, &x.dmaj, &x.dmin, &x.inode, &pos) < 7)
			continue;
		if (pos <= 0 || pos > len)
			pos = (int)len;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct map *nm = realloc(m, nc * sizeof(*nm));
			if (!nm) {
				rc = -1;
				break;
			}
			m = nm;
			cap = nc;
		}
		x.name = strdup(line + pos);
		if (!x.name) {
			rc = -1;
			break;
		}
		m[n++] = x;
	}
	free(line);
	fclose(f);
	if (rc < 0) {
		seterr(err, errlen, "out of memory reading %s", path);
		maps_free(m, n);
		return -1;
	}
	if (!n) {
		seterr(err, errlen, "%s is empty (process gone?)", path);
		free(m);
		return -1;
	}
	*out = m;
	*nout = n;
	return 0;
}

/* Index of the mapping containing addr, or -1 (maps are in address order). */
static long map_find(const struct map *m, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && m[lo].start <= addr && addr < m[lo].end)
		return (long)lo;
	return -1;
}

static int is_anon(const struct map *m)
{
	return m->inode == 0 && m->name[0] == '\0';
}

static int is_rw(const struct map *m)
{
	return m->perms[0] == 'r' && m->perms[1] == 'w';
}

static int cmp_file(const void *a, const void *b, void *maps)
{
	const struct map *m = maps;
	const struct map *x = &m[*(const size_t *)a], *y = &m[*(const size_t *)b];
	if (x->dmaj != y->dmaj) return x->dmaj < y->dmaj ? -1 : 1;
	if (x->dmin != y->dmin) return x->dmin < y->dmin ? -1 : 1;
	if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int same_file(const struct map *x, const struct map *y)
{
	return x->dmaj == y->dmaj && x->dmin == y->dmin && x->inode == y->inode;
}

/* The end of the highest PT_LOAD segment (p_vaddr + p_memsz, relocated) of
 * the ELF module whose header is mapped at base, or 0 when unknown. */
static uint64_t elf_load_end(int pid, uint64_t base)
{
	Elf64_Ehdr eh;
	int p = pid;
	if (heapscan_read_process(&p, base, &eh, sizeof(eh)) != (long)sizeof(eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum == 0 || eh.e_phnum > 256)
		return 0;
	Elf64_Phdr ph[256];
	size_t len = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (heapscan_read_process(&p, base + eh.e_phoff, ph, len) != (long)len)
		return 0;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), bias = 0, end = 0;
	int have_bias = 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!have_bias) {   /* the first PT_LOAD is the one mapped at base */
			if (ph[i].p_offset >= pg)
				return 0;
			bias = base - (ph[i].p_vaddr & ~(pg - 1));
			have_bias = 1;
		}
		if (bias + ph[i].p_vaddr + ph[i].p_memsz > end)
			end = bias + ph[i].p_vaddr + ph[i].p_memsz;
	}
	return end;
}

/* Is the file mapped by group g[0..k) an ELF object? Its first page in the
 * process, else the file itself. *load_end: see elf_load_end. */
static int group_is_elf(int pid, const struct map *m, const size_t *g, size_t k, uint64_t *load_end)
{
	static const unsigned char magic[4] = { 0x7f, 'E', 'L', 'F' };
	unsigned char hdr[4];
	*load_end = 0;
	for (size_t i = 0; i < k; i++) {
		const struct map *x = &m[g[i]];
		if (x->off == 0 && x->perms[0] == 'r') {
			int p = pid;
			if (heapscan_read_process(&p, x->start, hdr, 4) == 4) {
				if (memcmp(hdr, magic, 4) != 0)
					return 0;
				*load_end = elf_load_end(pid, x->start);
				return 1;
			}
		}
	}
	const char *name = m[g[0]].name;
	size_t nl = strlen(name);
	if (name[0] != '/' || (nl > 10 && strcmp(name + nl - 10, " (deleted)") == 0))
		return 0;
	char path[4200];
	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ssize_t r = pread(fd, hdr, 4, 0);
	close(fd);
	return r == 4 && memcmp(hdr, magic, 4) == 0;
}

static void module_roots(int pid, struct map *m, size_t n, struct rlist *l)
{
	size_t *idx = malloc(n * sizeof(*idx)), k = 0;
	if (!idx) {
		l->oom = 1;
		return;
	}
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < n; i++)
		if (m[i].inode != 0 && m[i].name[0] == '/')
			idx[k++] = i;
	qsort_r(idx, k, sizeof(*idx), cmp_file, m);
	for (size_t a = 0; a < k;) {
		size_t b = a + 1;
		while (b < k && same_file(&m[idx[a]], &m[idx[b]]))
			b++;
		uint64_t load_end;
		if (group_is_elf(pid, m, idx + a, b - a, &load_end)) {
			size_t last = idx[a];
			for (size_t i = a; i < b; i++) {
				struct map *x = &m[idx[i]];
				x->elf = 1;
				if (x->perms[1] == 'w')
					rl_add(l, x->start, x->end, "data of %s", x->name);
				if (x->end > m[last].end)
					last = idx[i];
			}
			/* the rest of .bss: the anonymous mapping right after, cut at
			 * the module's end when its program headers say where (a
			 * module loaded just below an unrelated anonymous mapping
			 * would otherwise take it as its .bss) */
			if (last + 1 < n) {
				const struct map *y = &m[last + 1];
				uint64_t end = y->end;
				if (load_end) {
					uint64_t e = (load_end + pg - 1) & ~(pg - 1);
					if (e < end)
						end = e;
				}
				if (y->start == m[last].end && is_anon(y) && is_rw(y)) {
					rl_add(l, y->start, end, "bss of %s", m[last].name);
					m[last + 1].bss_end = end;
				}
			}
		}
		a = b;
	}
	free(idx);
}

/* sp (and the syscall arguments) of a thread; 0 ok, -1 unknown. */
static int thread_regs(int pid, int tid, uint64_t *sp, uint64_t args[6], int *nargs)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	for (int attempt = 0; attempt < 20; attempt++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			return -1;
		buf[r] = '\0';
		if (strncmp(buf, "running", 7) == 0) {
			/* not (yet) stopped: give it a moment */
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		/* "nr a1 .. a6 sp pc" or "-1 sp pc" */
		uint64_t tok[12];
		int nt = 0;
		char *p = buf;
		while (nt < 12) {
			while (*p && isspace((unsigned char)*p))
				p++;
			if (!*p)
				break;
			char *q;
			if (nt == 0)
				tok[nt] = (uint64_t)strtoll(p, &q, 0);
			else
				tok[nt] = strtoull(p, &q, 0);
			if (q == p)
				break;
			nt++;
			p = q;
		}
		if (nt < 3)
			return -1;
		*sp = tok[nt - 2];
		*nargs = 0;
		if ((int64_t)tok[0] >= 0 && nt >= 9) {
			for (int i = 0; i < 6; i++)
				args[i] = tok[1 + i];
			*nargs = 6;
		}
		return *sp ? 0 : -1;
	}
	return -1;
}

static void stack_roots(int pid, struct map *m, size_t n, struct rlist *l)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	int unknown = 0;
	if (!d) {
		unknown = 1;
	} else {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			int tid = atoi(de->d_name);
			uint64_t sp = 0, args[6];
			int nargs = 0;
			if (thread_regs(pid, tid, &sp, args, &nargs) < 0) {
				unknown = 1;
				continue;
			}
			for (int i = 0; i < nargs; i++)
				rl_val(l, args[i]);
			long k = map_find(m, n, sp);
			if (k < 0) {
				unknown = 1;
				continue;
			}
			m[k].has_sp = 1;
			uint64_t from = sp >= RED_ZONE ? sp - RED_ZONE : 0;
			if (from < m[k].start)
				from = m[k].start;
			rl_add(l, from, m[k].end, "stack of %d%s", tid, tid == pid ? " (main)" : "");
		}
		closedir(d);
	}
	for (size_t i = 0; i < n; i++) {
		if (m[i].has_sp || strcmp(m[i].name, "[stack]") == 0)
			m[i].stack = 1;
		if (strcmp(m[i].name, "[stack]") == 0 && !m[i].has_sp)
			rl_add(l, m[i].start, m[i].end, "[stack] (no thread sp in it)");
		/* a mapping that looks like a thread stack (anonymous rw right
		 * above a PROT_NONE guard) without a live thread's sp in it: a
		 * thread whose sp we do not know (all of it), or an exited
		 * thread's stack that glibc keeps in its cache for the next
		 * pthread_create (its top: the thread descriptor and static TLS,
		 * which point to its DTV and TLS blocks) */
		if (i > 0 && !m[i].has_sp && is_anon(&m[i]) && is_rw(&m[i]) && is_anon(&m[i - 1]) &&
		    m[i - 1].end == m[i].start && strncmp(m[i - 1].perms, "---", 3) == 0 &&
		    m[i - 1].end - m[i - 1].start <= STACK_GUARD_MAX) {
			m[i].stack = 1;
			if (unknown)
				rl_add(l, m[i].start, m[i].end, "stack? (sp unknown)");
			else
				rl_add(l, m[i].end - CACHED_STACK_TOP < m[i].start ? m[i].start : m[i].end - CACHED_STACK_TOP,
				       m[i].end, "top of a stack without a thread");
		}
	}
}

static void xl_add(struct xlist *x, uint64_t start, uint64_t end, struct rlist *l)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->r[i].start == start)
			return;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		void *r = realloc(x->r, cap * sizeof(*x->r));
		if (!r) {
			l->oom = 1;
			return;
		}
		x->r = r;
		x->cap = cap;
	}
	x->r[x->n].start = start;
	x->r[x->n].end = end;
	x->n++;
}

/* Is a glibc heap_info at a (ARENA_HEAP_MAX-aligned)? Its size then. */
static uint64_t arena_heap_size(int pid, uint64_t a)
{
	uint64_t hi[4];   /* ar_ptr, prev, size, mprotect_size */
	int p = pid;
	if (heapscan_read_process(&p, a, hi, sizeof(hi)) != (long)sizeof(hi))
		return 0;
	uint64_t ar = hi[0], prev = hi[1], size = hi[2], mprot = hi[3];
	if (!ar || !size || size > ARENA_HEAP_MAX || (size & (HS_PAGE - 1)) || mprot < size || mprot > ARENA_HEAP_MAX)
		return 0;
	/* the first heap of an arena holds its malloc_state right after the
	 * heap_info; later ones link to the previous heap */
	if (prev ? (prev & (ARENA_HEAP_MAX - 1)) != 0 : !(ar > a && ar < a + size))
		return 0;
	return mprot;
}

/* Marks the mappings that hold allocator memory, from where the live blocks
 * are: glibc's brk heap ([heap]) and its arenas' heaps are the allocator's
 * (excluded ranges); a block glibc mapped alone (an mmapped chunk: 16
 * bytes into a page, IS_MMAPPED in its size word) leaves nothing but its
 * header around it; any other block is in memory of an allocator etrace
 * does not know the layout of (jemalloc, ...): its whole mapping is
 * excluded. */
static void allocator_memory(int pid, struct map *m, size_t n, const struct hs_block *b, size_t nb,
			     struct xlist *x, struct rlist *l)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].name, "[heap]") == 0)
			xl_add(x, m[i].start, m[i].end, l);
	int p = pid;
	for (size_t i = 0; i < nb; i++) {
		long k = map_find(m, n, b[i].addr);
		if (k < 0 || m[k].alloc || strcmp(m[k].name, "[heap]") == 0)
			continue;
		uint64_t a = b[i].addr & ~(ARENA_HEAP_MAX - 1), size;
		int known = 0;
		for (size_t j = 0; j < x->n && !known; j++)
			known = x->r[j].start <= b[i].addr && b[i].addr < x->r[j].end;
		if (known)
			continue;
		if (a >= m[k].start && (size = arena_heap_size(pid, a)) && b[i].addr < a + size) {
			xl_add(x, a, a + size, l);
			continue;
		}
		uint64_t w;
		if ((b[i].addr & (HS_PAGE - 1)) == 16 && heapscan_read_process(&p, b[i].addr - 8, &w, 8) == 8 &&
		    (w & 2) && (w & ~(uint64_t)7) >= b[i].size + 16)
			continue;
		m[k].alloc = 1;
	}
}

/* Every other readable and writable mapping is a root, as in valgrind: a
 * program keeps pointers in memory it maps itself (CPython's object arenas,
 * ld.so's start-up allocations, a custom pool). Not: thread stacks (their
 * live part is already a root; below sp is dead), the allocator's memory. */
static void mapping_roots(struct map *m, size_t n, const struct xlist *x, struct rlist *l)
{
	for (size_t i = 0; i < n; i++) {
		const struct map *y = &m[i];
		if (!is_rw(y) || y->stack || y->alloc || y->elf || strcmp(y->name, "[heap]") == 0)
			continue;
		/* the preload recorder's ring (runner/preload): every pointer the
		 * program ever got or freed is written there */
		if (strncmp(y->name, "/memfd:etrace-heap", 18) == 0)
			continue;
		if (y->name[0] == '[' && strcmp(y->name, "[anon]") != 0 && strncmp(y->name, "[anon:", 6) != 0)
			continue;   /* [vvar], [vsyscall]...: the kernel's */
		/* the part after a module's .bss (the kernel merges the .bss
		 * with an anonymous mapping right after it): the .bss was
		 * scanned twice, 708 KiB of the recorder's own in every process */
		uint64_t cur = y->bss_end > y->start ? y->bss_end : y->start;
		while (cur < y->end) {
			/* the part of [cur, end) before the first excluded range in it */
			uint64_t stop = y->end, skip_to = y->end;
			for (size_t j = 0; j < x->n; j++) {
				if (x->r[j].end <= cur || x->r[j].start >= stop)
					continue;
				stop = x->r[j].start > cur ? x->r[j].start : cur;
				skip_to = x->r[j].end;
			}
			if (stop > cur)
				rl_add(l, cur, stop, "%s%s", y->name[0] ? "mapping of " : "anonymous mapping",
				       y->name);
			cur = stop > cur ? stop : skip_to;
			if (stop == y->end)
				break;
		}
	}
}

static int roots_collect(int pid, uint64_t fsbase, const struct hs_block *b, size_t nb, struct rlist *l,
			 char *err, size_t errlen)
{
	struct map *m;
	size_t n;
	if (read_maps(pid, &m, &n, err, errlen) < 0)
		return -1;
	/* stacks first: they mark the mappings holding a thread's sp */
	stack_roots(pid, m, n, l);
	module_roots(pid, m, n, l);
	if (fsbase) {
		long k = map_find(m, n, fsbase);
		if (k >= 0 && !m[k].has_sp)
			rl_add(l, m[k].start, m[k].end, "tls (fs base %#" PRIx64 " in %s)", fsbase,
			       m[k].name[0] ? m[k].name : "anonymous mapping");
	}
	struct xlist x = { 0 };
	allocator_memory(pid, m, n, b, nb, &x, l);
	mapping_roots(m, n, &x, l);
	free(x.r);
	maps_free(m, n);
	if (l->oom) {
		seterr(err, errlen, "out of memory collecting the roots of %d", pid);
		return -1;
	}
	return 0;
}

/* One allocation: the array, then the strings. */
static int rl_pack(struct rlist *l, struct hs_region **out, size_t *nout)
{
	size_t bytes = l->n * sizeof(struct hs_region);
	for (size_t i = 0; i < l->n; i++)
		bytes += strlen(l->names[i]) + 1;
	struct hs_region *r = malloc(bytes ? bytes : 1);
	if (!r)
		return -1;
	char *str = (char *)(r + l->n);
	for (size_t i = 0; i < l->n; i++) {
		size_t len = strlen(l->names[i]) + 1;
		r[i] = l->r[i];
		memcpy(str, l->names[i], len);
		r[i].what = str;
		str += len;
	}
	*out = r;
	*nout = l->n;
	return 0;
}

int heapscan_roots(int pid, uint64_t fsbase, struct hs_region **out, size_t *n,
		   char *err, size_t errlen)
{
	struct rlist l;
	memset(&l, 0, sizeof(l));
	*out = NULL;
	*n = 0;
	int rc = roots_collect(pid, fsbase, NULL, 0, &l, err, errlen);
	if (rc == 0 && rl_pack(&l, out, n) < 0) {
		seterr(err, errlen, "out of memory");
		rc = -1;
	}
	rl_free(&l);
	return rc;
}

int heapscan_process(int pid, uint64_t fsbase, const uint64_t *regs, size_t nregs,
		     struct hs_block *blocks, size_t n, struct hs_stats *st,
		     char *err, size_t errlen)
{
	double t0 = hs_now_ms();
	if (n == 0) {   /* nothing to classify: reading every mapping would find nothing */
		if (st)
			memset(st, 0, sizeof(*st));
		return 0;
	}
	struct rlist l;
	memset(&l, 0, sizeof(l));
	if (roots_collect(pid, fsbase, blocks, n, &l, err, errlen) < 0) {
		rl_free(&l);
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		l.r[i].what = l.names[i];
	for (size_t i = 0; i < nregs; i++)
		rl_val(&l, regs[i]);
	if (l.oom) {
		seterr(err, errlen, "out of memory");
		rl_free(&l);
		return -1;
	}
	struct preader pr = { pid, -1, 0 };
	struct hs_stats s;
	int rc = heapscan_classify(blocks, n, l.r, l.n, l.vals, l.nvals, preader_read, &pr, &s);
	if (rc < 0)
		seterr(err, errlen, "heap scan of %d: %s", pid, strerror(errno));
	if (pr.memfd >= 0)
		close(pr.memfd);
	rl_free(&l);
	s.ms = hs_now_ms() - t0;
	if (st && rc == 0)
		*st = s;
	return rc;
}
