/* `etrace run`: options and the run itself. */
#ifndef ETRACE_RUN_H
#define ETRACE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* etrace's own failures (bad option, missing kernel capability, BPF load
 * failure) exit with this code, as env(1) and timeout(1) do. */
#define ETRACE_EXIT_FAILURE 125
/* --timeout expired: timeout(1)'s status */
#define ETRACE_EXIT_TIMEOUT 124

enum report_format { FORMAT_TEXT, FORMAT_JSON };
enum report_when { REPORT_ALWAYS, REPORT_ON_FAILURE, REPORT_NEVER };
enum orphans { ORPHANS_LEAVE, ORPHANS_KILL };
/* --github-annotations: when GITHUB_ACTIONS=true (default), always, never */
enum { ET_ANNOTATIONS_AUTO, ET_ANNOTATIONS_ALWAYS, ET_ANNOTATIONS_NEVER };

struct run_opts {
	char **argv;              /* the target command */
	const char *output;       /* report file; NULL = stderr */
	const char *json_output;  /* additional JSON report file */
	const char *html_output;  /* --html: the self-contained HTML report */
	const char *perfetto_output; /* --perfetto: Chrome trace-event JSON */
	const char *events;       /* JSON Lines event stream file */
	const char *record;       /* --record: every raw event, for etrace report/rewind */
	const char *sarif;        /* --sarif: the verdict as SARIF 2.1.0 */
	const char *junit;        /* --junit: the project's processes as JUnit test cases */
	const char *source_root;  /* --source-root: files in SARIF and annotations are named from it */
	int github_annotations;   /* ET_ANNOTATIONS_* */
	int color;                /* --color: ET_ANNOTATIONS_AUTO (a terminal, no NO_COLOR), _ALWAYS, _NEVER */
	const char *user;         /* --user */
	enum report_format format;
	enum report_when when;
	enum orphans orphans;
	size_t last_n;            /* syscalls kept per thread, 0 = all */
	size_t str_max;           /* bytes of data shown per buffer */
	size_t rewind_n;          /* events shown before a crash */
	uint64_t rewind_ns;       /* or a time window before it */
	size_t max_records;       /* cap on syscall records kept in memory */
	size_t buffer_bytes;      /* ring buffer size */
	const char *const *trace_funcs; /* --trace-func patterns */
	size_t ntrace_funcs;
	bool trace_func_force;    /* --trace-func-force: past ETRACE_MAX_TRACED_FUNCS */
	bool heap;                /* --heap: trace the allocator */
	bool leaks;               /* --leaks=full: scan at exit */
	bool show_reachable;      /* --show-reachable: list still reachable blocks */
	const char *suppressions; /* --suppressions=FILE */
	bool gen_suppressions;    /* --gen-suppressions: an entry per leak in the text report */
	int error_exitcode;       /* --error-exitcode=N (0: off) */
	bool system_findings;     /* --system-findings: system programs' heap findings count too */
	int show_syscalls;        /* --syscalls: ET_SHOW_* (reports/core/model.h) */
	size_t heap_freed;        /* --heap-freed: frees remembered */
	int heap_backend;         /* --heap-backend: enum heap_backend (tracer.h) */
	int heap_check;           /* --heap-check: enum heap_check (runner/preload/heapring.h) */
	size_t heap_quarantine;   /* --heap-quarantine: bytes */
	unsigned heap_guard_rate; /* --heap-guard-rate: one allocation in N (0: none) */
	const char *net_backend;  /* --net-backend: NULL or "auto", "tracepoint", "kprobe-multi", "fentry", "kprobe" */
	bool skb;                 /* --skb: follow the tree's packets hook by hook */
	const char *skb_filter;   /* --skb-filter=PCAP (implies --skb) */
	bool skb_stack;           /* --skb-stack: a kernel stack per hook (implies --skb) */
	const char *skb_funcs;    /* --skb-funcs=GLOB: kernel functions probed by a function backend */
	bool sched;               /* --sched=on: where time went per thread (sched_switch accounting) */
	uint64_t timeout_ns;      /* --timeout: snapshot, SIGTERM, SIGKILL after a grace, exit 124 (0: none) */
	struct run_probe *probe;  /* etrace doctor's trial runs: what the run found (NULL: not asked) */
};

/* What a run learned about the kernel, for `etrace doctor`: it tries the
 * same load path as `etrace run` rather than guessing from capabilities. */
struct run_probe {
	bool loaded;              /* the BPF programs were loaded and attached */
	char net_backend[16];     /* what --skb used (after any fallback) */
	char net_why[320];
	struct { const char *what, *cost; } gaps[16];  /* static strings */
	size_t ngaps;
};

/* The options `etrace run` starts from (its documented defaults). */
void run_opts_init(struct run_opts *o);
int run_main(const struct run_opts *o);

#endif
