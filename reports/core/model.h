/*
 * The in-memory model every renderer reads: processes and threads of the
 * target tree, a bounded window of the last syscalls of each thread, the
 * failed syscalls, the per-syscall totals and what was lost.
 */
#ifndef ETRACE_MODEL_H
#define ETRACE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf/events.h"
#include "reports/process/fdtable.h"
#include "strbuf.h"
#include "u64map.h"
#include "symbolize/unwind.h"
#include "symbolize/elfsyms.h"

struct heap_proc;
struct heapseries;
struct et_heap;
struct et_hang;
struct lastwords;
struct failed_tests;

/* One stored syscall: the raw record plus the fd descriptions it saw. */
struct et_record {
	struct fd_desc *fds[6];
	uint32_t size;            /* bytes of ev (record + captures) */
	struct ev_syscall ev;     /* followed by the captures */
};

struct et_thread {
	int tid, pid;
	char comm[ET_COMM_LEN];
	uint64_t start_ts, end_ts;  /* monotonic ns; end_ts 0 while running */
	uint64_t nsyscalls;
	struct et_record **ring;    /* last ring_cap records, oldest at ring_head */
	size_t ring_cap, ring_head, ring_count;
	bool exited;
	/* the last signal delivered to it: why a SIGKILL without siginfo came */
	int last_sig, last_sig_cause, last_sig_group_code;
	/* --trace-func: entries counted, and the last last_n entries/returns */
	uint64_t nfunc_calls;
	struct et_func_event *fring;
	size_t fring_cap, fring_head, fring_count;
};

/* --trace-func: a function of the executable with probes on it. */
struct et_traced_func {
	struct elfsym_func f;       /* name, address, file offset, signature */
	uint64_t calls, returns;    /* entry and return records received */
};

/* One entry to or return from a traced function, kept per thread. */
struct et_func_event {
	uint64_t ts;
	uint32_t func;              /* index in et_model.funcs (may be unknown: replays) */
	uint32_t kind;              /* ET_FUNC_ENTRY or ET_FUNC_RETURN */
	uint64_t v[ET_FUNC_NARGS];  /* entry: the argument registers; return: v[0] is the value */
};

/* A non-syscall event kept for the crash rewind: fork, thread, exec, signal. */
struct et_note {
	uint64_t ts;
	int tid;
	char *text;                 /* "SIGTERM from pid 12 (bash)", "thread 1235 started" */
	int kind;                   /* ET_NOTE_EVENT, or ET_NOTE_FUNC: "-> parse(n=3)", "<- parse = 1" */
};

#define ET_NOTE_EVENT 0
#define ET_NOTE_FUNC 1

/* A signal sent to this process, by another or by itself (signal_generate):
 * who the kernel saw send it. */
struct et_sent {
	int pid, tid, sig, code;    /* the sender (the current task at signal_generate), si_code */
	int target_tid;
	bool group;                 /* sent to the process, not to one thread */
	int nr;                     /* the syscall the sender was in, -1: none */
	unsigned flags;             /* ET_SIGGEN_F_* */
	uint64_t ts;
	char comm[ET_COMM_LEN];
};
#define ET_SENDERS_KEPT 8

/* A mapped ELF file of the process: what symbolization needs after it is gone. */
struct et_module {
	char *path;
	uint64_t bias;              /* runtime address = ELF vaddr + bias */
	/* replay: the file at path is not the one the run mapped (its build-id
	 * differs from the recorded one): not symbolized (module_file) */
	bool stale;
};

/* The file to read a module's symbols and code from, NULL when it is stale. */
static inline const char *module_file(const struct et_module *mod)
{
	return mod->stale ? NULL : mod->path;
}

/* The user state of a thread at the fatal signal. */
struct et_crash {
	int tid;
	char comm[ET_COMM_LEN];
	uint64_t ts;
	int sig, code;
	uint64_t addr;
	int sender_pid;             /* who sent it (0: the kernel or the thread itself) */
	char sender_comm[ET_COMM_LEN];
	struct et_sent sender;      /* who the kernel saw send it (sender.sig 0: not seen) */
	int cause;                  /* ET_SIG_CAUSE_* of its delivery */
	/* a fault the kernel gave no address for (SI_KERNEL: a general
	 * protection fault): the faulting instruction's memory operand */
	int operand_known;
	uint64_t operand_addr;
	char operand_insn[192];
	/* the faulting instruction's memory access (a fault with an address):
	 * for the heap's "READ of size N" */
	int access_known, access_write;
	unsigned access_size;
	uint64_t regs[ET_NREGS];
	uint8_t *stack;             /* stack_len bytes copied from stack_addr */
	uint64_t stack_addr;
	uint32_t stack_len;
	struct sym_backtrace bt;    /* filled by crash_analyze() */
	int analyzed;
	int group_exit;             /* delivered as the group exit of a fatal signal */
	struct et_crash *next;      /* other threads captured by the same group exit */
};

struct et_process {
	int pid, ppid;
	char **argv;                /* NULL-terminated, from execve or /proc */
	char *exe;                  /* path from the last exec */
	char *exe_path;             /* absolute path of the executable, for symbolization */
	char *cwd;                  /* working directory as the syscalls changed it (NULL: the start one) */
	struct et_module *modules;
	/* the loader's first mmap of a file (offset 0, not executable): the
	 * library is there once an executable segment is mapped into it */
	char *pending_path;
	uint64_t pending_start, pending_end;
	size_t nmodules, cap_modules;
	struct et_note *notes;      /* ring of the last ET_NOTES_KEPT notes */
	size_t notes_head, notes_count;
	struct et_crash *crash;     /* first fatal signal's state, then others */
	struct et_sent senders[ET_SENDERS_KEPT]; /* the last signals sent to it */
	size_t nsenders;
	uint64_t start_ts, end_ts;
	bool exited;
	bool privileged;            /* exec'd a program with more rights than the invoking user
				     * (setuid...): its syscalls and data were not recorded */
	int wait_status;            /* (code << 8) | signal | 0x80 core, as waitpid gives */
	struct fdtable *fds;
	struct et_thread **threads;
	size_t nthreads, cap_threads;
	uint64_t nsyscalls;
	struct heap_proc *heap;     /* its heap (reports/heap/heap.c), NULL without heap records */
	struct heapseries *heap_series; /* its live bytes over time (reports/heap/heapseries.c) */
	/* a vfork child until it execs or exits: it runs in this process's
	 * memory, so its allocations and frees are this process's heap */
	struct et_process *vm_parent;
	/* when it last lent its memory to such a child: the heap probes are
	 * scoped to this process, so what the child allocated there is unseen */
	uint64_t vm_lent_ts;
	/* who collected its exit status (a wait4 or waitid that returned it):
	 * the parent that saw it fail; 0 when no such wait was seen */
	int reaped_by;
	uint64_t reaped_ts;
	struct lastwords *words;    /* the tail of its stdout and stderr (reports/process/lastwords.c) */
	char *test_name;            /* the test a runner started it (or an ancestor) for (reports/process/testname.c) */
	bool expected_fail;         /* its runner expected the test to fail, and it did (meson's EXPECTEDFAIL) */
	signed char meson_test;     /* its image is `meson test`: 1, not: -1, not looked at since its exec: 0
				     * (reports/process/mesontest.c) */
	signed char pytest;         /* its image is pytest: the same (reports/process/pytesttest.c) */
	struct failed_tests *failed_tests; /* the tests its own summary said failed (pytest), or NULL */
};

#define ET_NOTES_KEPT 128

/* Whose syscall sequences the text report shows (--syscalls). */
#define ET_SHOW_FAILING 0   /* the processes that failed (a lone program: always) */
#define ET_SHOW_ALL 1
#define ET_SHOW_NONE 2

struct et_failure {
	char *call;                 /* "openat(AT_FDCWD, \"/x\", O_RDONLY) = -1 ENOENT (...)" */
	int pid, tid, nr, err;
	uint64_t first_ts;
	uint64_t count;
	const char *expected;       /* NULL, or why this failure is routine ("dynamic loader search") */
	char *path;                 /* its first path argument, NULL when it has none */
	bool named;                 /* the failing process's last words name the path: listed, whatever the rules say */
};

#define ET_KERNEL_GAPS_MAX 16
#define ET_ANALYSES_MAX 32   /* room in the list of analyses (reports/core/analyses.c) */

struct et_net;              /* reports/net/netstate.h */

struct et_syscall_total {
	int nr;
	uint64_t calls, errors, total_ns, max_ns;
};

struct et_model {
	/* settings */
	size_t last_n;              /* syscalls kept per thread; 0 = all */
	size_t str_max;             /* data bytes shown per buffer */
	size_t rewind_n;            /* events shown before a crash */
	uint64_t rewind_ns;         /* or: the events this long before it (0: by count) */
	size_t max_records;         /* cap on records kept in all (0: none); see trim_exited_threads */
	size_t kept_records;
	uint64_t trimmed_records;   /* dropped from exited threads to stay under the cap */
	size_t trim_cursor;
	int forwarded_sig, forwarded_from; /* the last signal etrace passed on, and who sent it to etrace */
	char forwarded_comm[ET_COMM_LEN];
	int etrace_pid;
	bool system_findings;       /* --system-findings: list and count the heap findings of system programs */
	bool gen_suppressions;      /* --gen-suppressions: a suppression entry per leak in the text report */
	bool color;                 /* --color: the text report's verdict and SUMMARY in colour */
	int show_syscalls;          /* --syscalls: ET_SHOW_FAILING (default), ET_SHOW_ALL, ET_SHOW_NONE */
	char *start_cwd;            /* the root's working directory at its start */
	/* run */
	uint64_t start_ts;          /* monotonic ns when the target was released */
	uint64_t end_ts;
	double start_wall;          /* wall-clock seconds at start_ts */
	int root_pid;
	char **command;
	const char *backend;        /* syscall backend used */
	/* what this kernel lacks and what that costs (runner/kernelfit.c;
	 * static strings) */
	struct et_kernel_gap { const char *what, *cost; } kernel_gaps[ET_KERNEL_GAPS_MAX];
	size_t nkernel_gaps;
	char kernel_release[65];
	/* --trace-func: the functions probed, indexed by the attach cookie */
	struct et_traced_func *funcs;
	size_t nfuncs;
	char *funcs_exe;            /* the file they are in (the model's copy) */
	const char *funcs_backend;  /* how they were probed */
	/* contents */
	struct et_process **procs;
	size_t nprocs, cap_procs;
	struct et_failure *failures;
	size_t nfailures, cap_failures;
	uint64_t failures_dropped;  /* distinct failures beyond the cap */
	struct routine_searches *searches; /* failures a later success may explain (reports/routine.c) */
	struct et_syscall_total *totals; /* from the kernel, sorted by total time */
	size_t ntotals;
	uint64_t lost[ET_EV_TYPE_MAX];   /* records the ring buffer could not take */
	uint64_t capture_faults;
	uint64_t records;           /* records received */
	uint64_t bad_records;       /* malformed records ignored */
	/* called for every record after it was ingested (r: the stored syscall,
	 * NULL for other records): the --events stream */
	void (*sink)(void *ctx, const struct et_model *m, const struct ev_header *h,
		     const struct et_record *r);
	void *sink_ctx;
	/* the network's state (reports/net/netstate.h), made by its analysis */
	struct et_net *net;
	/* thread index */
	struct et_thread **tindex;
	size_t tindex_cap, tindex_count;
	/* pid -> index + 1 in procs[] of its newest process (model_process is
	 * asked for every record: a suite's thousands of processes made a
	 * scan of procs[] per record) */
	struct u64map pindex;
	/* where the answers the model needs from the machine come from
	 * (reports/core/hostfacts.h): enum host_mode, the replayed facts, and
	 * live, where each answer is recorded */
	int host_mode;
	struct host_facts *host_facts;
	void (*fact_sink)(void *ctx, int kind, int pid, const char *key, const void *value, size_t len);
	void *fact_sink_ctx;
	/* what a replay could not show as the run had it (one line each) */
	char **replay_notes;
	size_t nreplay_notes;
	/* heap analysis (reports/heap/heap.c): settings and state; NULL until enabled */
	struct et_heap *heap;
	/* the hang report (reports/hang/): NULL until a snapshot or a kill from outside */
	struct et_hang *hang;
	/* any other analysis' own state, by its place in the list (analysis.h:
	 * analysis_state, analysis_set_state): a new analysis adds no field here */
	void *analysis_states[ET_ANALYSES_MAX];
};

void model_init(struct et_model *m);
void model_free(struct et_model *m);

struct et_process *model_process(struct et_model *m, int pid);          /* NULL if unknown */
struct et_process *model_add_process(struct et_model *m, int pid, int ppid, uint64_t ts);
/* p's parent: the newest process with p's ppid that started before p (a
 * pid is reused); NULL when it is not in the model. */
const struct et_process *model_parent(const struct et_model *m, const struct et_process *p);
struct et_thread *model_thread(struct et_model *m, int tid);            /* NULL if unknown */
/* The process of a record from pid/tid: created, with the thread, when missing
 * (or when the one known under that pid has exited). */
struct et_process *model_process_for(struct et_model *m, int pid, int tid, uint64_t ts);

/* A stored syscall record for ev (a copy), its fds named from p's table. */
struct et_record *model_make_record(struct et_model *m, struct et_process *p, const struct ev_syscall *ev);

/* Ingest one ring buffer record; returns 0, or -1 when it is malformed. */
int model_ingest(struct et_model *m, const void *data, size_t size);

/* --trace-func: adds a function (taking over what f owns); returns its index. */
size_t model_add_traced_func(struct et_model *m, struct elfsym_func *f);
/* "-> parse(n=3, p=0x7ffd1234)" or "<- parse = 1". */
void model_func_event_text(const struct et_model *m, const struct et_func_event *e, struct strbuf *out);
/* Iterates a thread's kept function entries and returns oldest first. */
const struct et_func_event *thread_func_event(const struct et_thread *t, size_t i);

/* The latest signal sig sent to p by another process (any sender when pid is
 * 0) at or after since, or NULL. */
const struct et_sent *process_sender(const struct et_process *p, int sig, int pid, uint64_t since);

/* The latest signal sig sent to p, by anyone (itself, the kernel) to the
 * whole group or to thread tid (0: any), or NULL. */
const struct et_sent *process_signal_source(const struct et_process *p, int sig, int tid);

/* Notes of a process oldest first. */
const struct et_note *process_note(const struct et_process *p, size_t i);

/* Decoding helpers shared by the renderers. */
void model_record_call(const struct et_model *m, const struct et_record *r, struct strbuf *out);
void model_record_arg(const struct et_model *m, const struct et_record *r, int i, struct strbuf *out);
/* Iterates a thread's kept records oldest first. */
const struct et_record *thread_record(const struct et_thread *t, size_t i);
/* "exited with 1", "killed by SIGSEGV (core dumped)". */
void describe_wait_status(int status, struct strbuf *out);
void model_add_note(struct et_process *p, uint64_t ts, int tid, char *text); /* takes text */
/* Milliseconds from the start of the run. */
double model_rel_ms(const struct et_model *m, uint64_t ts);

#endif
