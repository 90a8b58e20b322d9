/*
 * The hang report: where every thread of the tree was when the run was cut
 * short (--timeout, a signal to etrace) or a signal from outside killed a
 * process, and what each waited for, named: the mutex as the variable it is
 * and the thread that holds it, the thread it joins, the child it waits for,
 * the process at the other end of its pipe, its socket's state; and the
 * cycles among them (deadlocks).
 *
 * Its sources: the snapshot's records (bpf/hang.bpf.c: ET_EV_SNAP_THREAD,
 * ET_EV_SNAP_FILE, ET_EV_SNAP) and, for a process killed from outside, the
 * state captured at the fatal signal's delivery (et_crash, and the futex
 * words of ET_EV_WAITWORD).
 */
#ifndef ETRACE_HANG_H
#define ETRACE_HANG_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/core/model.h"
#include "reports/core/strbuf.h"

/* What a thread waits for (hang_thread.wait). */
enum hang_wait {
	HANG_WAIT_NONE = 0,     /* running, or nothing known */
	HANG_WAIT_MUTEX,        /* a futex word that is a locked glibc mutex: owner_tid holds it */
	HANG_WAIT_JOIN,         /* pthread_join: the word is the tid of the thread it waits for */
	HANG_WAIT_FUTEX,        /* another futex word (a condition variable, a semaphore...) */
	HANG_WAIT_CHILD,        /* wait4/waitid */
	HANG_WAIT_PIPE,         /* read/write on a pipe */
	HANG_WAIT_SOCKET,       /* on a socket */
	HANG_WAIT_POLL,         /* poll/select/epoll */
	HANG_WAIT_SLEEP,        /* nanosleep, pause */
	HANG_WAIT_SYSCALL,      /* another syscall */
};

struct hang_thread {
	int pid, tid;
	char comm[ET_COMM_LEN];
	uint64_t ts;                /* when the state was read */
	bool from_snapshot;         /* else from a fatal signal's delivery */
	uint32_t state, flags;      /* task state, ET_SNAP_F_* */
	int64_t nr;                 /* the syscall it is in, -1: none */
	const struct et_record *sys;/* the syscall record (decoded with the fds), or NULL */
	struct et_record *own_sys;  /* sys when the snapshot brought it */
	uint64_t regs[ET_NREGS];
	bool regs_ok;
	uint8_t *stack;
	uint64_t stack_addr;
	uint32_t stack_len;
	uint64_t words_addr, words[ET_SNAP_WORDS];
	bool words_ok;
	uint64_t utime_ns, stime_ns, nvcsw, nivcsw, run_delay_ns;
	const struct et_crash *crash;  /* the delivery capture it came from */
	struct sym_backtrace bt;
	bool analyzed;
	/* hang_analyze: what it waits for */
	int wait;                   /* enum hang_wait */
	int owner_tid;              /* MUTEX: the holder; JOIN: the thread joined */
	char *object;               /* the futex word named: "ledger (prog+0x40a0)", "heap block 0x... (40 bytes) allocated at f (x.c:3)" */
	char *object_short;         /* "ledger", "heap block 0x...": for the deadlock line */
	char *detail;               /* the pipe's other end, the children, the socket's state */
};

/* Where a thread's time went (ET_EV_TASKSTAT, at its exit). */
struct time_thread {
	int pid, tid;
	struct ev_taskstat st;
};

struct et_hang {
	/* --sched: per-thread totals, contended futex words */
	bool timeacct;
	struct time_thread *times;
	size_t ntimes, cap_times;
	struct ev_futexstat *futexes;
	size_t nfutexes, cap_futexes;
	bool taken;                 /* a snapshot was taken */
	struct ev_snap info;        /* why, when */
	struct hang_thread *threads;
	size_t nthreads, cap;
	struct ev_snap_file *files;
	size_t nfiles, cap_files;
	struct ev_waitword *words;  /* delivery-time futex words */
	size_t nwords, cap_words;
	bool built;                 /* threads from the terminations added */
};

int hang_ingest(struct et_model *m, const void *data, size_t size);
/* The model's hang state, created when first needed. */
struct et_hang *hang_of(struct et_model *m);
/* --sched=on: the time section is shown (also when empty). */
void timeacct_enable(struct et_model *m);
/* reports/hang/timeacct.c: its records (the time section and its JSON
 * "time" are the "time" analysis). */
int timeacct_ingest(struct et_model *m, const void *data, size_t size);
void hang_free(struct et_model *m);
/* After the run (crash_analyze calls it): the threads of processes killed
 * from outside are added from their delivery captures, every stack is
 * unwound and symbolized, and what each thread waits for is named. */
void hang_analyze(struct et_model *m);

/* The verdict's line ("TIMEOUT" or "HANG", its text in sb; NULL: none);
 * the section and the JSON "hang" value are the "hang" analysis. */
const char *hang_verdict_line(const struct et_model *m, struct strbuf *sb);

/* The hang section shows p's threads (the termination section then
 * refers to it instead of repeating the stacks). */
bool hang_shows_process(const struct et_model *m, int pid);

/* A symbolization session over p's modules (sym_close it). */
struct sym_session *hang_session(const struct et_process *p);

/* Used by the renderers of both files. */
const struct hang_thread *hang_thread_of(const struct et_model *m, int tid);
/* "transfer at deadlock.c:14": the thread's own frame (the program's code). */
void hang_where(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb);
/* "waits for ledger, held by thread 1235" and the like; false when nothing. */
bool hang_wait_text(const struct et_model *m, const struct hang_thread *t, struct strbuf *sb);
/* The deadlock cycles, one line each ("deadlock: thread A (...) holds X and
 * waits for Y; ..."). Returns how many. */
size_t hang_cycles_text(const struct et_model *m, struct strbuf **lines);

#endif
