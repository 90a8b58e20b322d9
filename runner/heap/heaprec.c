#include "heaprec.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bpf/events.h"
#include "runner/preload/heapring.h"
#include "reports/core/error.h"
#include "runner/preload/checks.h"

/* One ring: a process image's (a process that execs makes a new one). All
 * geometry is etrace's copy, checked once; the header is never trusted
 * again after that. */
struct ring {
	int pid;
	uint64_t created;          /* CLOCK_MONOTONIC ns the process said it made it (clamped) */
	void *map;
	size_t len;
	struct hr_header *hdr;
	struct hr_record *recs;
	struct hr_stack *stacks;
	uint64_t nrec, nstk, tail;
	/* ring stack id - 1 -> the model's id + 1 (0: not interned yet); made
	 * at the first record with a stack. The process can rewrite a stack
	 * entry after it was read: that misleads only its own report. */
	uint32_t *sids;
	int mono;                  /* its times are CLOCK_MONOTONIC ns, not TSC */
	uint64_t last_ts;
};

/* A process waiting at its exit for the scan (its connection is open). */
struct pending_exit {
	int fd, pid;
	struct hr_msg msg;
};

struct heaprec {
	char dir[64], path[128];
	struct pending_exit *exits;
	size_t nexits;
	char leaf[256];
	char *preload;             /* the LD_PRELOAD value for the root */
	char checks[64];           /* HR_ENV_CHECK's value ("": none) */
	char lib[4096];
	int lfd;
	struct heaprec_sink sink;
	struct ring **rings;
	size_t nrings;
	/* the latest execs: a ring handed over late by an image that has
	 * exec'd since is not the new image's */
	struct { int pid; uint64_t ts; } execs[64];
	size_t nexecs_seen;
	int tsc_ok;
	/* TSC -> CLOCK_MONOTONIC: a pair taken at start and the latest pair */
	uint64_t tsc0, mono0, tsc1, mono1;
	double ns_per_tick;
	struct heaprec_stats st;
};

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tsc_now(void)
{
#if defined(__x86_64__)
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	return 0;
#endif
}

/* A TSC that ticks at one rate on every CPU, in every power state. */
static int tsc_invariant(void)
{
#if defined(__x86_64__)
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return 0;
	char line[4096];
	int ok = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "flags", 5) == 0) {
			ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
			break;
		}
	fclose(f);
	return ok;
#else
	return 0;
#endif
}

/* A TSC reading and the CLOCK_MONOTONIC time taken with it: of a few
 * tries, the one whose two TSC readings around clock_gettime are closest.
 * A vCPU preempted between the two reads (a loaded VM: tens of µs to ms)
 * would shift every converted record time by that much, and a block
 * allocated just before a crash would seem allocated after it. */
static void clock_pair(uint64_t *tsc, uint64_t *mono)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t a = tsc_now(), m = mono_now(), b = tsc_now();
		if (b >= a && b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*mono = m;
		}
	}
	if (best == UINT64_MAX) {
		*tsc = tsc_now();
		*mono = mono_now();
	}
}

static void calibrate(struct heaprec *h)
{
	uint64_t t, m;
	clock_pair(&t, &m);
	if (t > h->tsc0 && m - h->mono0 > 1000000) {
		h->tsc1 = t;
		h->mono1 = m;
		h->ns_per_tick = (double)(m - h->mono0) / (double)(t - h->tsc0);
	}
}

/* The first rate, when a ring is first read: at least 1 ms after the
 * start pair (the target has started by then; etrace's start-up does not
 * wait for it). */
static void first_rate(struct heaprec *h)
{
	uint64_t since = mono_now() - h->mono0;
	if (since < 1100000) {
		struct timespec ts = { 0, (long)(1100000 - since) };
		nanosleep(&ts, NULL);
	}
	calibrate(h);
}

static uint64_t to_mono(const struct heaprec *h, const struct ring *r, uint64_t t)
{
	if (r->mono)
		return t;
	double d = ((double)(int64_t)(t - h->tsc1)) * h->ns_per_tick;
	return (uint64_t)((double)h->mono1 + d);
}

/* The socket directories of runs whose etrace was killed (SIGKILL leaves
 * them): /tmp/etrace-heap-PID-XXXXXX, ours (root's), PID gone. Removed
 * without following a link: only a directory of our own uid, opened as
 * such, and the socket entry in it. */
static void remove_stale_dirs(void)
{
	DIR *d = opendir("/tmp");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid = 0, n = 0;
		if (sscanf(e->d_name, "etrace-heap-%d-%n", &pid, &n) != 1 || n == 0 || strlen(e->d_name + n) != 6 ||
		    pid <= 0 || pid == (int)getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat sb;
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid()) {
			unlinkat(fd, "s", 0);
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
		close(fd);
	}
	closedir(d);
}

struct heaprec *heaprec_open(const char *lib, uid_t uid, gid_t gid, const char *leaf, const struct heaprec_sink *sink,
			     char *err, size_t errlen)
{
	struct heaprec *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->lfd = -1;
	h->sink = *sink;
	snprintf(h->lib, sizeof(h->lib), "%s", lib);
	snprintf(h->leaf, sizeof(h->leaf), "%s", leaf);
	remove_stale_dirs();
	/* the directory is root's; only the socket in it is the target user's */
	snprintf(h->dir, sizeof(h->dir), "/tmp/etrace-heap-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(h->dir)) {
		snprintf(err, errlen, "cannot create a directory for the heap socket: %s", strerror(errno));
		h->dir[0] = 0;
		goto fail;
	}
	chmod(h->dir, 0711);
	snprintf(h->path, sizeof(h->path), "%s/s", h->dir);
	h->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", h->path);
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(h->lfd, 128) < 0) {
		snprintf(err, errlen, "cannot create the heap socket %s: %s", h->path, strerror(errno));
		goto fail;
	}
	if (chown(h->path, uid, gid) < 0 || chmod(h->path, 0600) < 0) {
		snprintf(err, errlen, "cannot give the heap socket to uid %u: %s", (unsigned)uid, strerror(errno));
		goto fail;
	}
	h->tsc_ok = tsc_invariant();
	clock_pair(&h->tsc0, &h->mono0);
	h->tsc1 = h->tsc0;
	h->mono1 = h->mono0;
	/* the TSC's rate: first when a ring is read (first_rate), then
	 * refined at every drain */
	return h;
fail:
	heaprec_close(h);
	return NULL;
}

static int env_match(const char *e, const char *name)
{
	size_t n = strlen(name);
	return strncmp(e, name, n) == 0 && e[n] == '=';
}

void heaprec_set_checks(struct heaprec *h, const struct hr_checks *c)
{
	hr_checks_format(c, h->checks, sizeof(h->checks));
}

char **heaprec_env(const struct heaprec *h, char *const envp[])
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	char **env = calloc(n + 5, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	const char *user = NULL;
	for (size_t i = 0; i < n; i++) {
		if (env_match(envp[i], "LD_PRELOAD")) {
			user = envp[i] + strlen("LD_PRELOAD=");
			continue;
		}
		if (env_match(envp[i], HR_ENV_SOCK) || env_match(envp[i], "ETRACE_HEAP_CLOCK") ||
		    env_match(envp[i], HR_ENV_CHECK))
			continue;
		env[k++] = strdup(envp[i]);
	}
	/* ours first: an allocator the user preloads (jemalloc) comes after
	 * it, so the program's calls reach the recorder, which calls it */
	char *v = NULL, *s = NULL, *c = NULL, *ck = NULL;
	if (asprintf(&v, "LD_PRELOAD=%s%s%s", h->lib, user && *user ? ":" : "", user ? user : "") < 0)
		v = NULL;
	if (asprintf(&s, "%s=%s", HR_ENV_SOCK, h->path) < 0)
		s = NULL;
	if (!h->tsc_ok && asprintf(&c, "ETRACE_HEAP_CLOCK=mono") < 0)
		c = NULL;
	if (h->checks[0] && asprintf(&ck, "%s=%s", HR_ENV_CHECK, h->checks) < 0)
		ck = NULL;
	env[k++] = v;
	env[k++] = s;
	if (c)
		env[k++] = c;
	if (ck)
		env[k++] = ck;
	env[k] = NULL;
	for (size_t i = 0; i < k; i++)
		if (!env[i]) {
			heaprec_env_free(env);
			return NULL;
		}
	free(((struct heaprec *)h)->preload);
	((struct heaprec *)h)->preload = strdup(v + strlen("LD_PRELOAD="));
	return env;
}

void heaprec_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

const char *heaprec_preload_value(const struct heaprec *h)
{
	return h->preload ? h->preload : h->lib;
}

int heaprec_env_has_lib(const struct heaprec *h, int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;
	while (buf && n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (!buf)
		return -1;
	if (!n) {
		/* an empty environment, or a zombie whose memory is gone (its
		 * command line is empty too) */
		free(buf);
		char cmd[8];
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t c = fd >= 0 ? read(fd, cmd, sizeof(cmd)) : -1;
		if (fd >= 0)
			close(fd);
		return c > 0 ? 0 : -1;
	}
	buf[n] = 0;
	int found = 0;
	for (size_t i = 0; i < n && !found; i += strlen(buf + i) + 1)
		if (env_match(buf + i, "LD_PRELOAD"))
			found = strstr(buf + i, h->lib) != NULL;
	free(buf);
	return found;
}

int heaprec_fd(const struct heaprec *h)
{
	return h->lfd;
}

int heaprec_has(const struct heaprec *h, int pid, uint64_t since)
{
	for (size_t i = 0; i < h->nrings; i++)
		if (h->rings[i]->pid == pid && h->rings[i]->created >= since)
			return 1;
	return 0;
}

/* ---- rings ---------------------------------------------------------------------- */

static void ring_free(struct heaprec *h, struct ring *r)
{
	/* what was reserved and never completed (the process died in the
	 * middle of a record) is lost, and counted */
	uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	if (head > r->tail && head - r->tail <= r->nrec)
		h->st.lost += head - r->tail;
	if (getenv("ETRACE_DEBUG"))
		et_warning("ring of %d: head %llu tail %llu, lost in the process %llu", r->pid,
			(unsigned long long)head, (unsigned long long)r->tail,
			(unsigned long long)__atomic_load_n(&r->hdr->lost, __ATOMIC_RELAXED));
	h->st.lost += __atomic_load_n(&r->hdr->lost, __ATOMIC_RELAXED);
	h->st.full_waits += __atomic_load_n(&r->hdr->full_waits, __ATOMIC_RELAXED);
	h->st.full_wait_ns += __atomic_load_n(&r->hdr->full_wait_ns, __ATOMIC_RELAXED);
	h->st.stacks_full += __atomic_load_n(&r->hdr->stacks_full, __ATOMIC_RELAXED);
	h->st.unrecorded += __atomic_load_n(&r->hdr->unrecorded, __ATOMIC_RELAXED);
	munmap(r->map, r->len);
	free(r->sids);
	free(r);
}

/* Whether pid is a process of this run (in its cgroup leaf). */
static int in_run(const struct heaprec *h, int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return h->leaf[0] && strstr(buf, h->leaf) != NULL;
}

static void add_ring(struct heaprec *h, int pid, int fd, const struct hr_msg *m)
{
	struct stat sb;
	int seals = fcntl(fd, F_GET_SEALS);
	/* sealed against shrinking, or a truncation would fault etrace */
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || seals < 0 || !(seals & F_SEAL_SHRINK) ||
	    (uint64_t)sb.st_size < sizeof(struct hr_header) || (uint64_t)sb.st_size > (1ull << 31)) {
		h->st.rejected++;
		return;
	}
	size_t len = (size_t)sb.st_size;
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		h->st.rejected++;
		return;
	}
	struct hr_header hd;
	memcpy(&hd, map, sizeof(hd));
	uint64_t nrec = hd.nrecords, nstk = hd.nstacks;
	if (hd.magic != HR_MAGIC || hd.version != HR_VERSION || hd.record_size != sizeof(struct hr_record) ||
	    hd.stack_size != sizeof(struct hr_stack) || nrec < 1024 || nrec > (1u << 24) || (nrec & (nrec - 1)) ||
	    nstk < 1 || nstk > (1u << 20) || (nstk & (nstk - 1)) || hr_map_size(nrec, nstk) != len) {
		munmap(map, len);
		h->st.rejected++;
		return;
	}
	struct ring *r = calloc(1, sizeof(*r));
	struct ring **v = r ? realloc(h->rings, (h->nrings + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(r);
		munmap(map, len);
		h->st.rejected++;
		return;
	}
	h->rings = v;
	r->pid = pid;
	r->map = map;
	r->len = len;
	r->hdr = map;
	r->recs = (struct hr_record *)(r->hdr + 1);
	r->stacks = (struct hr_stack *)(r->recs + nrec);
	r->nrec = nrec;
	r->nstk = nstk;
	r->mono = (hd.flags & HR_F_MONO) || !h->tsc_ok;
	/* records from before this ring's start are not this ring's */
	r->tail = __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
	uint64_t now = mono_now();
	r->created = m->ts && m->ts <= now && m->ts + 60000000000ull > now ? m->ts : now;
	r->last_ts = r->created;
	h->st.rings++;
	size_t seen = h->nexecs_seen < 64 ? h->nexecs_seen : 64;
	for (size_t i = 0; i < seen; i++)
		if (h->execs[i].pid == pid && h->execs[i].ts >= r->created) {
			/* made by an image that exec'd before its ring came in (env
			 * -i PROG, sh -c 'exec PROG'): the model has the new image
			 * by now, so its records are lost, and counted, rather than
			 * given to the new one (false leaks) */
			ring_free(h, r);
			return;
		}
	h->rings[h->nrings++] = r;
}

/* The frames of ring stack id (1-based), checked: 0 when there are none
 * usable (no stack, out of range, not published, a bad count). */
static uint32_t ring_stack(const struct ring *r, uint32_t id, const uint64_t **frames)
{
	if (id < 1 || id > r->nstk)
		return 0;
	const struct hr_stack *s = &r->stacks[id - 1];
	uint32_t n = __atomic_load_n(&s->nframes, __ATOMIC_RELAXED);
	if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) != 1 || n < 1 || n > HR_FRAMES || n > ET_HEAP_FRAMES)
		return 0;
	*frames = s->frames;
	return n;
}

/* The model's id of the record's stack: interned at its first use in this
 * ring, a table lookup after that. */
static uint32_t model_stack(struct heaprec *h, struct ring *r, uint32_t id)
{
	int inrange = id >= 1 && id <= r->nstk;
	if (inrange && r->sids && r->sids[id - 1])
		return r->sids[id - 1] - 1;
	static const uint64_t none[1];   /* no stack: never a NULL for memcmp */
	const uint64_t *f = none;
	uint32_t n = ring_stack(r, id, &f);
	uint32_t got = h->sink.intern(h->sink.ctx, f, n);
	/* kept only once published: an entry not ready yet is looked at again */
	if (n && inrange) {
		if (!r->sids)
			r->sids = calloc(r->nstk, sizeof(*r->sids));
		if (r->sids)
			r->sids[id - 1] = got + 1;
	}
	return got;
}

/* One record into the model's shape (frames only when with_frames). 0 ok,
 * -1 invalid (counted). */
static int convert(struct heaprec *h, struct ring *r, const struct hr_record *in, struct ev_heap *e, uint64_t now,
		   int with_frames)
{
	if (in->op < ET_HEAP_MALLOC || in->op >= ET_HEAP_OP_MAX || in->op == ET_HEAP_EXIT || !in->tid ||
	    in->tid > 4194304)
		return -1;
	memset(e, 0, offsetof(struct ev_heap, frames));
	e->window_addr = e->rbp = 0;
	e->window_len = e->pad = 0;
	e->h.type = ET_EV_HEAP;
	e->h.size = sizeof(*e);
	/* times: monotonic per ring, within the ring's life */
	uint64_t ts = r->mono ? in->tsc : to_mono(h, r, in->tsc);
	if (ts < r->last_ts)
		ts = r->last_ts;
	if (ts > now)
		ts = now;
	r->last_ts = ts;
	e->h.ts = ts;
	e->enter_ts = ts;
	e->h.pid = (uint32_t)r->pid;
	e->h.tid = in->tid;
	e->op = in->op;
	e->ptr = in->ptr;
	e->size = in->size;
	switch (in->op) {
	case ET_HEAP_REALLOC:
	case ET_HEAP_REALLOCARRAY:
		e->old_ptr = in->arg;
		break;
	case ET_HEAP_MEMALIGN:
	case ET_HEAP_ALIGNED_ALLOC:
	case ET_HEAP_VALLOC:
	case ET_HEAP_PVALLOC:
	case ET_HEAP_POSIX_MEMALIGN:
	case ET_HEAP_NEW:
	case ET_HEAP_NEW_ARRAY:
		e->align = in->arg;
		break;
	case ET_HEAP_FREE:
	case ET_HEAP_DELETE:
	case ET_HEAP_DELETE_ARRAY:
		e->sp = in->arg;
		break;
	case ET_HEAP_OVERFLOW:
	case ET_HEAP_UAF_WRITE:
		e->align = in->arg;
		break;
	}
	if (with_frames) {
		/* all of it defined: a recording writes the whole record */
		const uint64_t *f = NULL;
		uint32_t n = ring_stack(r, in->stack, &f);
		memset(e->frames, 0, sizeof(e->frames));
		if (n)
			memcpy(e->frames, f, n * sizeof(e->frames[0]));
		e->nframes = n;
	}
	return 0;
}

enum drain_mode {
	DRAIN_TICK,    /* up to a time; stop at a fork mark younger than 200 ms (its fork record is not in yet) */
	DRAIN_FORK,    /* up to and with the next fork mark */
	DRAIN_ALL,     /* everything, marks skipped */
};

/* Records of r in slot order; stops at a slot not yet
 * complete (its writer is between reserving and publishing). */
static void ring_drain(struct heaprec *h, struct ring *r, enum drain_mode mode)
{
	uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	uint64_t done = 0, now = mono_now();
	int fast = h->sink.intern && h->sink.heap;
	int prefetch = fast && h->sink.prefetch;
	int with_frames = !fast || (h->sink.want_frames && h->sink.want_frames(h->sink.ctx));
	if (!r->mono && h->ns_per_tick == 0)
		first_rate(h);
	while (r->tail < head && head - r->tail <= r->nrec) {
		const struct hr_record *slot = &r->recs[r->tail & (r->nrec - 1)];
		/* the records were written on another CPU: ask for the lines
		 * ahead now, so their transfers overlap this one's work */
		__builtin_prefetch(&r->recs[(r->tail + 16) & (r->nrec - 1)]);
		if (__atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE) != (uint32_t)(r->tail + 1))
			break;
		if (prefetch && head - r->tail > 8) {
			/* the model's tables for a record a few ahead: only a
			 * hint (the slot may still be being written, its words
			 * are not trusted for anything else) */
			const struct hr_record *ahead = &r->recs[(r->tail + 8) & (r->nrec - 1)];
			uint64_t a = __atomic_load_n(&ahead->ptr, __ATOMIC_RELAXED);
			uint8_t op = __atomic_load_n(&ahead->op, __ATOMIC_RELAXED);
			h->sink.prefetch(h->sink.ctx, r->pid, a,
					 op == ET_HEAP_FREE || op == ET_HEAP_DELETE || op == ET_HEAP_DELETE_ARRAY);
			if (op == ET_HEAP_REALLOC)
				h->sink.prefetch(h->sink.ctx, r->pid, __atomic_load_n(&ahead->arg, __ATOMIC_RELAXED), 1);
		}
		struct hr_record in;
		memcpy(&in, slot, sizeof(in));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (in.op == HR_OP_FORK) {
			uint64_t ts = r->mono ? in.tsc : to_mono(h, r, in.tsc);
			if (mode == DRAIN_TICK && ts + 200000000ull > now)
				break;
			r->tail++;
			if (mode == DRAIN_FORK)
				break;
			continue;
		}
		struct ev_heap e;
		if (convert(h, r, &in, &e, now, with_frames) == 0) {
			if (fast)
				h->sink.heap(h->sink.ctx, &e, sizeof(e), model_stack(h, r, in.stack));
			else
				h->sink.record(h->sink.ctx, &e, sizeof(e));
			h->st.records++;
		} else {
			h->st.invalid++;
		}
		r->tail++;
		/* hand the room back often: a writer may be waiting for it */
		if (++done % 4096 == 0)
			__atomic_store_n(&r->hdr->tail, r->tail, __ATOMIC_RELEASE);
	}
	if (head - r->tail > r->nrec) {
		/* head was moved behind our back: nothing more is believed */
		h->st.invalid++;
		r->tail = head;
	}
	__atomic_store_n(&r->hdr->tail, r->tail, __ATOMIC_RELEASE);
}

void heaprec_drain(struct heaprec *h, int pid, uint64_t until)
{
	if (!h)
		return;
	if (h->tsc_ok)
		calibrate(h);
	/* a ring made after until waits: the kernel's records up to until
	 * (its process's exec, its fork) are in the model first */
	for (size_t i = 0; i < h->nrings; i++)
		if ((!pid || h->rings[i]->pid == pid) && h->rings[i]->created <= until)
			ring_drain(h, h->rings[i], until == UINT64_MAX ? DRAIN_ALL : DRAIN_TICK);
}

void heaprec_fork(struct heaprec *h, int pid)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nrings; i++)
		if (h->rings[i]->pid == pid)
			ring_drain(h, h->rings[i], DRAIN_FORK);
}

static void drop_rings(struct heaprec *h, int pid, uint64_t before)
{
	size_t k = 0;
	for (size_t i = 0; i < h->nrings; i++) {
		struct ring *r = h->rings[i];
		if (r->pid == pid && r->created <= before) {
			ring_drain(h, r, DRAIN_ALL);
			ring_free(h, r);
		} else {
			h->rings[k++] = r;
		}
	}
	h->nrings = k;
}

void heaprec_exec(struct heaprec *h, int pid, uint64_t ts)
{
	if (!h)
		return;
	h->execs[h->nexecs_seen++ % 64].pid = pid;
	h->execs[(h->nexecs_seen - 1) % 64].ts = ts;
	drop_rings(h, pid, ts);
}

void heaprec_gone(struct heaprec *h, int pid)
{
	if (h)
		drop_rings(h, pid, UINT64_MAX);
}

/* ---- the socket ------------------------------------------------------------------ */

static void hold_record(const struct hr_msg *m, int pid, struct ev_heap_hold *out)
{
	memset(out, 0, sizeof(*out));
	out->h.type = ET_EV_HEAP_HOLD;
	out->h.size = sizeof(*out);
	out->h.ts = mono_now();
	out->h.pid = (uint32_t)pid;
	out->h.tid = (uint32_t)pid;
	out->fsbase = m->fsbase;
	/* struct pt_regs order: r15 r14 r13 r12 bp bx ... ip(16) ... sp(19) */
	out->regs[5] = m->regs[0];
	out->regs[4] = m->regs[1];
	out->regs[3] = m->regs[2];
	out->regs[2] = m->regs[3];
	out->regs[1] = m->regs[4];
	out->regs[0] = m->regs[5];
	out->regs[19] = m->regs[6];
	out->regs[16] = m->regs[7];
}

/* 1: the connection is kept (an exit waiting for its scan) */
static int one_connection(struct heaprec *h, int c)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.pid <= 0) {
		h->st.rejected++;
		return 0;
	}
	/* the process sends right after connecting: a short, bounded wait */
	struct timeval tv = { 0, 200000 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct hr_msg m;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	int fd = -1;
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = f;
			else
				close(f);
		}
	}
	if (n != (ssize_t)sizeof(m) || m.version != HR_VERSION || !in_run(h, cr.pid) ||
	    (h->sink.may_record && !h->sink.may_record(h->sink.ctx, cr.pid))) {
		h->st.rejected++;
	} else if (m.type == HR_MSG_RING && fd >= 0) {
		add_ring(h, cr.pid, fd, &m);
	} else if (m.type == HR_MSG_EXIT) {
		/* scanned once the kernel's records up to now are in the model
		 * (heaprec_exits): its exec may not be yet */
		struct pending_exit *v = realloc(h->exits, (h->nexits + 1) * sizeof(*v));
		if (v) {
			h->exits = v;
			/* its time, as etrace's clock allows: not after now */
			uint64_t now = mono_now();
			if (!m.ts || m.ts > now)
				m.ts = now;
			h->exits[h->nexits++] = (struct pending_exit){ c, cr.pid, m };
			if (fd >= 0)
				close(fd);
			return 1;
		}
	} else if (m.type == HR_MSG_WAKE) {
		/* nothing to keep: the drain that follows this poll reads the ring */
	} else {
		h->st.rejected++;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int heaprec_exits_after(const struct heaprec *h, uint64_t upto)
{
	for (size_t i = 0; h && i < h->nexits; i++)
		if (h->exits[i].msg.ts > upto)
			return 1;
	return 0;
}

void heaprec_exits(struct heaprec *h, uint64_t upto)
{
	if (!h)
		return;
	size_t k = 0;
	for (size_t i = 0; i < h->nexits; i++) {
		struct pending_exit *x = &h->exits[i];
		if (x->msg.ts > upto) {
			/* sent after the kernel's records were read: its fork or
			 * exec may not be in the model yet; next time */
			h->exits[k++] = *x;
			continue;
		}
		/* everything it recorded first, then the scan while it waits */
		heaprec_drain(h, x->pid, UINT64_MAX);
		struct ev_heap_hold hr;
		hold_record(&x->msg, x->pid, &hr);
		h->sink.record(h->sink.ctx, &hr, sizeof(hr));
		h->sink.exit_scan(h->sink.ctx, x->pid, &hr);
		char done = 1;
		(void)!write(x->fd, &done, 1);
		close(x->fd);
	}
	h->nexits = k;
}

void heaprec_poll(struct heaprec *h)
{
	if (!h || h->lfd < 0)
		return;
	for (int i = 0; i < 256; i++) {
		int c = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			break;
		if (!one_connection(h, c))
			close(c);
	}
}

void heaprec_stats(const struct heaprec *h, struct heaprec_stats *out)
{
	*out = h->st;
	for (size_t i = 0; i < h->nrings; i++) {
		const struct hr_header *hd = h->rings[i]->hdr;
		out->lost += __atomic_load_n(&hd->lost, __ATOMIC_RELAXED);
		out->full_waits += __atomic_load_n(&hd->full_waits, __ATOMIC_RELAXED);
		out->full_wait_ns += __atomic_load_n(&hd->full_wait_ns, __ATOMIC_RELAXED);
		out->stacks_full += __atomic_load_n(&hd->stacks_full, __ATOMIC_RELAXED);
		out->unrecorded += __atomic_load_n(&hd->unrecorded, __ATOMIC_RELAXED);
	}
}

void heaprec_close(struct heaprec *h)
{
	if (!h)
		return;
	heaprec_poll(h);
	/* never leave a process waiting: answered, not scanned (too late) */
	for (size_t i = 0; i < h->nexits; i++)
		close(h->exits[i].fd);
	free(h->exits);
	for (size_t i = 0; i < h->nrings; i++) {
		ring_drain(h, h->rings[i], DRAIN_ALL);
		ring_free(h, h->rings[i]);
	}
	free(h->rings);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->path[0])
		unlink(h->path);
	if (h->dir[0])
		rmdir(h->dir);
	free(h->preload);
	free(h);
}
