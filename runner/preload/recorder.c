/* libetrace_heap.so, the recording half (see recorder.h, heapring.h).
 * Everything on the per-call path is lock-free and makes no system call:
 * a slot is reserved with one compare-and-swap (a plain store with one
 * thread), the stack is a walk by the unwind tables' cached rules
 * (stackwalk.c, cfi.c), or no walk when the call site's last one still
 * holds (stackwalk.c's sites), interned in a shared table. Only
 * start-up, fork, a full ring and exit make system calls. */
#include "recorder.h"
#include "heapring.h"
#include "sys.h"
#include "stackwalk.h"
#include "sites.h"
#include "quarantine.h"
#include "populate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#endif
#endif
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

__thread int hr_busy HR_TLS;
static __thread uint32_t t_tid HR_TLS;

enum { ST_NONE = 0, ST_INIT, ST_READY, ST_OFF };
static int state;                 /* ST_*; atomic */
static char sock_path[108];       /* copied at the first start: a program may clear its environment */
static int have_sock;
static struct hr_header *ring;
static uint64_t ring_no;          /* which ring this is: bumped for each one made (stack ids are per ring) */
static struct hr_record *records;
static struct hr_stack *stacks;
static uint32_t *stack_index;     /* 2 * nstacks ids, after stacks[] */
static uint64_t rec_mask, stack_mask, map_len;
/* the ring's records, its stack table and its stack index populated ahead
 * of the writers (populate.h): the first lap of the ring a chunk ahead of
 * head, the table a chunk ahead of stacks_used, the index (hashed: any of
 * its pages at any time) all at once when the 16th stack is made */
static struct hr_ahead ring_ahead, stacks_ahead, index_ahead;
#define RING_AHEAD (32u << 10)
#define STACKS_AHEAD (8u << 10)
#define INDEX_AT 16
static int use_mono;
static int exited;                /* the exit hand-over happened (this image) */
static int consumer_gone;         /* a wait for room timed out: do not wait again until tail moves */
static pid_t my_pid;
/* A private page the kernel zeroes in a child made by fork or by a raw
 * clone() without CLONE_VM (MADV_WIPEONFORK): a child that went through no
 * pthread_atfork handler (the program called clone() itself) sees 0 here
 * and makes its own ring instead of writing into its parent's. A vfork
 * child shares the page (and the parent's memory): it reads 1. */
static volatile uint32_t *this_process;

/* PREFETCHW (AMD's 3DNow! prefetch, Intel since Broadwell): asked once
 * with CPUID, as the instruction faults where it does not exist */
static int have_prefetchw;

static void find_prefetchw(void)
{
#if defined(__x86_64__)
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
	if (a < 0x80000001u)
		return;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
	have_prefetchw = (c >> 8) & 1;
#endif
}

static inline void prefetchw(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/* Whether this process has one thread, as glibc's own malloc asks it
 * (glibc 2.32): it turns false in pthread_create before the new thread
 * runs. One thread is the only writer of head: the thread itself, or a
 * signal handler that interrupted it outside the library (inside, hr_busy
 * keeps the handler's calls unrecorded), or a vfork child while its
 * parent waits. A thread made with a raw clone(CLONE_VM) is not counted,
 * and glibc's malloc is not safe in it either. */
static inline int one_thread(void)
{
#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
	return __libc_single_threaded;
#endif
#endif
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now(void)
{
#if defined(__x86_64__)
	if (!use_mono) {
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		return ((uint64_t)hi << 32) | lo;
	}
#endif
	return mono_ns();
}

static int send_msg(int s, const struct hr_msg *m, int fd)
{
	struct iovec iov = { (void *)m, sizeof(*m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	long n;
	do
		n = hr_sys3(SYS_sendmsg, s, &mh, MSG_NOSIGNAL);
	while (n == -EINTR);
	return n == (long)sizeof(*m) ? 0 : -1;
}

/* A fresh connection to the run's socket for each message: the program may
 * have closed every descriptor since the last one. */
static int channel(void)
{
	if (!have_sock)
		return -1;
	int s = (int)hr_sys3(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, sock_path, sizeof(a.sun_path));
	long rc;
	do
		rc = hr_sys3(SYS_connect, s, &a, sizeof(a));
	while (rc == -EINTR);
	if (rc < 0) {
		hr_sys1(SYS_close, s);
		return -1;
	}
	return s;
}

/* Makes this image's ring and hands it to etrace. errno is kept: the
 * program may look at it after the allocator call that got us here. */
static void start(void)
{
	int saved = errno;
	if (!have_sock) {
		const char *p = getenv(HR_ENV_SOCK);
		if (!p || !*p || strlen(p) >= sizeof(sock_path))
			goto off;
		memcpy(sock_path, p, strlen(p) + 1);
		have_sock = 1;
		const char *n = getenv(HR_ENV_RECORDS);
		unsigned long want = n ? strtoul(n, NULL, 10) : 0;
		rec_mask = HR_RECORDS_DEFAULT - 1;
		if (want >= 1024 && want <= (1ul << 24) && (want & (want - 1)) == 0)
			rec_mask = want - 1;
		const char *c = getenv("ETRACE_HEAP_CLOCK");
		use_mono = c && strcmp(c, "mono") == 0;
#if !defined(__x86_64__)
		use_mono = 1;
#endif
	}
	uint64_t nrec = rec_mask + 1, nst = HR_STACKS;
	stack_mask = nst - 1;
	map_len = hr_map_size(nrec, nst);
	int fd = (int)hr_sys2(SYS_memfd_create, "etrace-heap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		goto off;
	/* sealed: etrace maps it too, and a shrunk file would fault there */
	if (hr_sys2(SYS_ftruncate, fd, map_len) < 0 ||
	    hr_sys3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		hr_sys1(SYS_close, fd);
		goto off;
	}
	long mp = hr_sys6(SYS_mmap, 0, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mp < 0 && mp > -4096) {
		hr_sys1(SYS_close, fd);
		goto off;
	}
	void *p = (void *)mp;
	/* a child never writes into this ring: it is not even mapped there */
	hr_sys3(SYS_madvise, p, map_len, MADV_DONTFORK);
	if (!this_process) {
		long pg = hr_sys6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pg < 0 && pg > -4096)
			goto unmap;
		if (hr_sys3(SYS_madvise, pg, 4096, MADV_WIPEONFORK) < 0) {
			hr_sys2(SYS_munmap, pg, 4096);
			goto unmap;
		}
		this_process = (volatile uint32_t *)pg;
	}
	*this_process = 1;
	struct hr_header *h = p;
	h->magic = HR_MAGIC;
	h->version = HR_VERSION;
	h->record_size = sizeof(struct hr_record);
	h->stack_size = sizeof(struct hr_stack);
	h->nrecords = nrec;
	h->nstacks = nst;
	h->flags = use_mono ? HR_F_MONO : 0;
	ring = h;
	ring_no++;
	records = (struct hr_record *)(h + 1);
	stacks = (struct hr_stack *)(records + nrec);
	stack_index = (uint32_t *)(stacks + nst);
	hr_ahead_init(&ring_ahead, p, 0, (uint64_t)((char *)stacks - (char *)p));
	hr_ahead_init(&stacks_ahead, p, (uint64_t)((char *)stacks - (char *)p), (uint64_t)((char *)stack_index - (char *)p));
	hr_ahead_init(&index_ahead, p, (uint64_t)((char *)stack_index - (char *)p), map_len);
	int s = channel();
	struct hr_msg m = { .type = HR_MSG_RING, .version = HR_VERSION, .ts = mono_ns() };
	int sent = s >= 0 ? send_msg(s, &m, fd) : -1;
	if (s >= 0)
		hr_sys1(SYS_close, s);
	hr_sys1(SYS_close, fd);
	fd = -1;
	if (sent < 0) {
		ring = NULL;
		goto unmap;
	}
	my_pid = (pid_t)hr_sys0(SYS_getpid);
	__atomic_store_n(&state, ST_READY, __ATOMIC_RELEASE);
	errno = saved;
	return;
unmap:
	hr_sys2(SYS_munmap, p, map_len);
	if (fd >= 0)
		hr_sys1(SYS_close, fd);
off:
	__atomic_store_n(&state, ST_OFF, __ATOMIC_RELEASE);
	errno = saved;
}

static void new_process(void);

static __attribute__((noinline)) int ready_slow(int st)
{
	if (st == ST_READY) {
		new_process();   /* a raw clone() child: its own ring */
		return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == ST_READY;
	}
	if (st != ST_NONE)
		return 0;
	int none = ST_NONE;
	if (!__atomic_compare_exchange_n(&state, &none, ST_INIT, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;   /* another thread is starting it: this call goes unrecorded */
	start();
	return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == ST_READY;
}

int hr_ready(void)
{
	int st = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	if (__builtin_expect(st == ST_READY && *this_process != 0, 1))
		return 1;
	return ready_slow(st);
}

void hr_unrecorded(void)
{
	if (ring)
		__atomic_fetch_add(&ring->unrecorded, 1, __ATOMIC_RELAXED);
}

/* ---- stacks ---------------------------------------------------------------- */

static int same_stack(const struct hr_stack *s, uint64_t h, const uint64_t *fr, uint32_t n)
{
	return s->hash == h && s->nframes == n && memcmp(s->frames, fr, n * sizeof(*fr)) == 0;
}

static uint32_t intern(const uint64_t *fr, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	for (uint32_t i = 0; i < n; i++) {
		h ^= fr[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h |= 1;
	uint64_t imask = 2 * stack_mask + 1;
	uint32_t mine = 0;    /* an entry this call filled, not yet in the index */
	for (uint32_t probe = 0; probe < 32; probe++) {
		uint32_t *slot = &stack_index[(h + probe) & imask];
		uint32_t id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (!id) {
			if (!mine) {
				uint64_t k = __atomic_fetch_add(&ring->stacks_used, 1, __ATOMIC_RELAXED);
				if (k > stack_mask)
					break;
				struct hr_stack *s = &stacks[k];
				hr_ahead(&stacks_ahead, (uint64_t)((char *)(s + 1) - (char *)ring) + STACKS_AHEAD);
				if (k == INDEX_AT - 1)
					hr_ahead(&index_ahead, map_len);
				s->hash = h;
				memcpy(s->frames, fr, n * sizeof(*fr));
				s->nframes = n;
				__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
				mine = (uint32_t)k + 1;
			}
			uint32_t zero = 0;
			if (__atomic_compare_exchange_n(slot, &zero, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return mine;
			id = zero;    /* another thread's, just now: maybe the same stack */
		}
		/* ids in the index are published (ready) and within the table */
		if (id <= stack_mask + 1 && same_stack(&stacks[id - 1], h, fr, n))
			return id;    /* an entry this call filled stays unused: harmless */
	}
	if (mine)
		return mine;      /* the index is crowded here: usable, just not found again */
	__atomic_fetch_add(&ring->stacks_full, 1, __ATOMIC_RELAXED);
	return 0;
}

/* ---- records ------------------------------------------------------------------ */

/* A quarter of the ring is waiting: etrace drains it now instead of at its
 * next 10 ms tick, while this thread goes on (a full ring would make it
 * wait). One connection a quarter ring (16384 records by default). */
static __attribute__((noinline, cold)) void wake(void)
{
	if (exited)
		return;
	int s = channel();
	if (s < 0)
		return;
	struct hr_msg m = { .type = HR_MSG_WAKE, .version = HR_VERSION, .ts = mono_ns() };
	send_msg(s, &m, -1);
	hr_sys1(SYS_close, s);
}

/* The ring is full: wait for etrace to drain it, at most 2 s, and count
 * it. 0: there may be room now; -1: give up on this record. */
static int wait_room(uint64_t head)
{
	if (__atomic_load_n(&consumer_gone, __ATOMIC_RELAXED))
		return -1;
	uint64_t t0 = mono_ns(), t = t0;
	__atomic_fetch_add(&ring->full_waits, 1, __ATOMIC_RELAXED);
	int saved = errno;
	while ((int64_t)(head - __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE)) > (int64_t)rec_mask) {
		if (t - t0 > 2000000000ull) {
			__atomic_store_n(&consumer_gone, 1, __ATOMIC_RELAXED);
			break;
		}
		struct timespec ts = { 0, 50000 };
		hr_sys2(SYS_nanosleep, &ts, NULL);
		t = mono_ns();
	}
	errno = saved;
	__atomic_fetch_add(&ring->full_wait_ns, t - t0, __ATOMIC_RELAXED);
	return __atomic_load_n(&consumer_gone, __ATOMIC_RELAXED) ? -1 : 0;
}

/* The stack id of the call (ra, fp) whose site's last walk no longer
 * holds, or whose id is not of this ring: walked (stackwalk.c) and
 * interned. Out of line: the frame array and the walk's registers stay
 * off the hot path's frame. */
static __attribute__((noinline)) uint32_t stack_walked(struct hr_site *site, void *ra, void *fp)
{
	uint64_t fr[HR_FRAMES];
	uint32_t n;
	if (site) {
		n = site->n;    /* the same frames as the site's last call */
	} else {
		n = hr_walk(fr, HR_FRAMES, ra, fp, &site);
		if (site && site->id && site->ring == ring_no)
			return site->id;
	}
	uint32_t stack = intern(site ? site->pc : fr, n);
	if (site && stack) {
		site->id = stack;
		site->ring = ring_no;
	}
	return stack;
}

static inline uint32_t stack_of(void *ra, void *fp)
{
	struct hr_site *site = hr_walk_known(ra, fp);
	if (__builtin_expect(site && site->id && site->ring == ring_no, 1))
		return site->id;    /* the same frames as this site's last call */
	return stack_walked(site, ra, fp);
}

/* No room at slot: wait for it (wait_room). 0: look again; -1: the record
 * is lost (counted). */
static __attribute__((noinline, cold)) int no_room(uint64_t slot, uint64_t tail)
{
	if (wait_room(slot) == 0)
		return 0;
	__atomic_fetch_add(&ring->lost, 1, __ATOMIC_RELAXED);
	/* etrace may come back: look again next time the tail moved */
	if (__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) != tail)
		__atomic_store_n(&consumer_gone, 0, __ATOMIC_RELAXED);
	return -1;
}

static __attribute__((noinline, cold)) void tid_now(void)
{
	t_tid = (uint32_t)hr_sys0(SYS_gettid);
}

void hr_put(unsigned op, uint64_t ptr, uint64_t size, uint64_t arg, void *ra, void *fp)
{
	/* the time first: the counter's read (~35 cycles) overlaps the walk
	 * instead of holding up the record's last stores */
	uint64_t t = now();
	uint32_t stack = ra ? stack_of(ra, fp) : 0;
	if (__builtin_expect(!t_tid, 0))
		tid_now();
	uint64_t slot = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		/* signed: slot may be older than a tail that moved meanwhile */
		if (__builtin_expect((int64_t)(slot - tail) > (int64_t)rec_mask, 0)) {
			if (no_room(slot, tail) < 0)
				return;
			slot = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
			continue;
		}
		if (one_thread()) {
			/* nobody else writes head: no locked instruction (it
			 * would wait for every store before it, the allocator's
			 * and the redzone's to lines not in the cache included) */
			__atomic_store_n(&ring->head, slot + 1, __ATOMIC_RELAXED);
		} else if (!__atomic_compare_exchange_n(&ring->head, &slot, slot + 1, 1, __ATOMIC_ACQ_REL,
							__ATOMIC_RELAXED)) {
			continue;
		}
		uint64_t quarter = (rec_mask + 1) / 4;
		if (__builtin_expect((slot & (quarter - 1)) == 0, 0) && slot - tail >= quarter)
			wake();
		break;
	}
	/* the line a few records on, asked for in the exclusive state:
	 * etrace read it last (a ring ago), so a store there waits for the
	 * line to come back, and the next record's locked instruction waits
	 * for that store; asked for now, the transfer overlaps the work */
	if (have_prefetchw)
		prefetchw(&records[(slot + 8) & rec_mask]);
	struct hr_record *r = &records[slot & rec_mask];
	hr_ahead(&ring_ahead, (uint64_t)((char *)(r + 1) - (char *)ring) + RING_AHEAD);
	r->op = (uint8_t)op;
	r->tid = t_tid;
	r->stack = stack;
	r->ptr = ptr;
	r->size = size;
	r->arg = arg;
	r->tsc = t;
	__atomic_store_n(&r->seq, (uint32_t)(slot + 1), __ATOMIC_RELEASE);
}

/* ---- fork and exit ---------------------------------------------------------------- */

/* Before fork: a mark in the ring, so that etrace hands the child exactly
 * the blocks allocated before it. */
static void before_fork(void)
{
	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != ST_READY || exited)
		return;
	int was = hr_busy;
	hr_busy = 1;
	hr_put(HR_OP_FORK, 0, 0, 0, NULL, NULL);
	hr_busy = was;
}

/* In a forked child: the parent's ring is the parent's. A new one, a new
 * thread id cache (the one thread left has a new tid). */
static void after_fork_child(void)
{
	t_tid = 0;
	hr_sites_new_process();   /* the sites' lock may be held by a thread not here */
	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != ST_READY || exited)
		return;
	/* the parent's ring is not mapped here (MADV_DONTFORK) */
	ring = NULL;
	__atomic_store_n(&state, ST_NONE, __ATOMIC_RELEASE);
	hr_busy = 1;
	hr_ready();
	hr_busy = 0;
}

/* A child that went through no atfork handler (a raw clone()): the
 * parent's ring is not mapped here (MADV_DONTFORK); a new one. */
static void new_process(void)
{
	t_tid = 0;
	hr_stack_forget();
	ring = NULL;
	__atomic_store_n(&consumer_gone, 0, __ATOMIC_RELAXED);
	int ready = ST_READY;
	if (!__atomic_compare_exchange_n(&state, &ready, ST_NONE, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	hr_ready();
}

void hr_exiting(void)
{
	/* once per image, and never for a vfork child sharing our memory */
	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != ST_READY || exited || hr_sys0(SYS_getpid) != my_pid)
		return;
	/* what the quarantine still holds is checked before the scan */
	hr_q_flush();
	exited = 1;
	struct hr_msg m = { .type = HR_MSG_EXIT, .version = HR_VERSION, .ts = mono_ns() };
#if defined(__x86_64__)
	uint64_t *r = m.regs;
	__asm__ volatile("mov %%rbx, 0(%0)\n\t"
			 "mov %%rbp, 8(%0)\n\t"
			 "mov %%r12, 16(%0)\n\t"
			 "mov %%r13, 24(%0)\n\t"
			 "mov %%r14, 32(%0)\n\t"
			 "mov %%r15, 40(%0)\n\t"
			 "mov %%rsp, 48(%0)\n\t"
			 "lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, 56(%0)\n\t"
			 : : "r"(r) : "rax", "memory");
	__asm__ volatile("mov %%fs:0, %0" : "=r"(m.fsbase));
#endif
	int saved = errno;
	int s = channel();
	if (s >= 0 && send_msg(s, &m, -1) == 0) {
		/* etrace scans this process now; it answers one byte (or closes) */
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		char c;
		if (hr_sys3(SYS_poll, &pfd, 1, 10000) > 0)
			hr_sys3(SYS_read, s, &c, 1);
	}
	if (s >= 0)
		hr_sys1(SYS_close, s);
	errno = saved;
	/* what the C runtime frees after the scan changes nothing in it */
	__atomic_store_n(&state, ST_OFF, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void hr_init(void)
{
	find_prefetchw();
	pthread_atfork(before_fork, NULL, after_fork_child);
	hr_stack_init();
	hr_busy = 1;
	hr_ready();
	hr_busy = 0;
}

/* Runs in exit() after main's destructors and atexit handlers: the point
 * where what is still allocated and unreachable is a leak. */
__attribute__((destructor)) static void hr_fini(void)
{
	hr_busy = 1;
	hr_exiting();
	hr_busy = 0;
}
