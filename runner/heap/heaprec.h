/* The preload heap backend, etrace's half: the run's socket that each
 * preloaded process (build/libetrace_heap.so, runner/preload/) hands its
 * ring to, the rings, and their records turned into struct ev_heap records
 * for the same model the uprobe backend feeds. Everything read from a ring
 * is untrusted: sizes, indices and counts are checked, records that make
 * no sense are counted and dropped. */
#ifndef ETRACE_HEAPREC_H
#define ETRACE_HEAPREC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct heaprec;

struct heaprec_sink {
	void *ctx;
	/* a record in the BPF backend's shape (struct ev_heap, ET_EV_HEAP_HOLD) */
	void (*record)(void *ctx, const void *data, size_t size);
	/* process pid is waiting at exit for its leak scan (its records are
	 * all in by now); return when done: the process then goes on */
	void (*exit_scan)(void *ctx, int pid, const void *hold_record);
	/* the fast path, used when both are set: a ring's stack interned once
	 * in the model (its id there), and a record taken with that id; the
	 * record's frames are filled only when want_frames says so (a
	 * recording keeps them) */
	uint32_t (*intern)(void *ctx, const uint64_t *frames, size_t n);
	void (*heap)(void *ctx, const void *e, size_t size, uint32_t stack);
	int (*want_frames)(void *ctx);
	/* optional, a hint: a record of pid's about addr comes soon (freed:
	 * it frees addr) */
	void (*prefetch)(void *ctx, int pid, uint64_t addr, int freed);
	/* whether pid may hand a ring over (the kernel marked it preloaded at
	 * its exec or fork: not a privileged process, not another run's) */
	int (*may_record)(void *ctx, int pid);
};

/* Creates the run's directory and socket, owned by uid/gid (who the
 * target runs as). leaf: the basename of the run's cgroup (a peer must be
 * in it). Returns NULL with a message. */
struct heaprec *heaprec_open(const char *lib, uid_t uid, gid_t gid, const char *leaf, const struct heaprec_sink *sink,
			     char *err, size_t errlen);
/* The environment for the target: envp with LD_PRELOAD (the library first,
 * then the user's own), the socket path and the clock. Free with
 * heaprec_env_free. */
char **heaprec_env(const struct heaprec *h, char *const envp[]);
/* The memory checks the library is asked to make (HR_ENV_CHECK in the
 * environment heaprec_env makes; none unless set). */
struct hr_checks;
void heaprec_set_checks(struct heaprec *h, const struct hr_checks *c);
void heaprec_env_free(char **env);
/* The value given to LD_PRELOAD, for the report. */
const char *heaprec_preload_value(const struct heaprec *h);
/* Whether process pid's initial environment preloads the library: 1, 0,
 * or -1 when it cannot be read (the process is gone). */
int heaprec_env_has_lib(const struct heaprec *h, int pid);
/* The listening socket (poll it for readability). */
int heaprec_fd(const struct heaprec *h);
/* Accepts the waiting processes: new rings, exit hand-overs (kept for
 * heaprec_exits). */
void heaprec_poll(struct heaprec *h);
/* Scans the processes waiting at their exit since before upto and lets
 * them go: upto is when the kernel's records in the model were read up to
 * (UINT64_MAX: all, at the end). */
void heaprec_exits(struct heaprec *h, uint64_t upto);
/* Whether a process waits at its exit since after upto. */
int heaprec_exits_after(const struct heaprec *h, uint64_t upto);
/* Feeds the records of pid's rings (pid 0: all rings) that were handed
 * over at or before until (CLOCK_MONOTONIC ns, taken before the kernel's
 * records were read; UINT64_MAX: all). */
void heaprec_drain(struct heaprec *h, int pid, uint64_t until);
/* pid forked a child: its records up to the fork (the mark the library
 * writes before fork; everything there is when it wrote none: vfork). */
void heaprec_fork(struct heaprec *h, int pid);
/* pid exec'd at ts (its rings from before are drained and let go), or is
 * gone (ts 0: every ring of it; what was never completed is lost). */
void heaprec_exec(struct heaprec *h, int pid, uint64_t ts);
void heaprec_gone(struct heaprec *h, int pid);
/* Whether pid handed over a ring made at or after since (CLOCK_MONOTONIC
 * ns): the image exec'd at since has the library, whatever an earlier
 * image of the same pid handed over. */
int heaprec_has(const struct heaprec *h, int pid, uint64_t since);

struct heaprec_stats {
	uint64_t rings, records, lost, invalid, full_waits, full_wait_ns, stacks_full, unrecorded, rejected;
};
void heaprec_stats(const struct heaprec *h, struct heaprec_stats *out);
/* Drains and lets go of every ring, removes the socket and directory. */
void heaprec_close(struct heaprec *h);

#endif
