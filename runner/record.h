/*
 * Recordings (--record=FILE) and what reads them back: `etrace report FILE`
 * re-renders the report, `etrace rewind FILE --at TIME` shows the events
 * around a moment.
 *
 * File format, little-endian, native struct layout (a recording is read on
 * the kind of machine that wrote it). It starts with 8 bytes of magic:
 *   "ETRCRECV" then struct rec_file: the format version (REC_VERSION is the
 *              one written; every older one is read, a newer one is refused
 *              with a one-line message and exit 125)
 *   "ETRCREC1" version 1 (etrace 0.1.0 until #14), without struct rec_file
 * then frames: struct rec_frame { u32 kind; u32 len; } followed by len bytes
 *     REC_RUN   struct rec_run, then argc NUL-terminated argv strings, then
 *               3 NUL-terminated descriptions of the inherited fds 0, 1, 2,
 *               then (version 2) the NUL-terminated working directory the
 *               program started in
 *     REC_FACT  (version 2) what the model learnt from the machine while it
 *               took the REC_EVENT before it (reports/core/hostfacts.h: struct
 *               fact_head, key, value): /proc answers, executable headers,
 *               module build-ids. A replay answers from these only.
 *               Version 3 adds FACT_HEAP_SCAN, the leak scan of a process at
 *               its exit: a result, not an answer, given to the replayed
 *               model where it stands in the stream (with the facts after it)
 *     REC_EVENT one ring buffer record exactly as the kernel wrote it
 *     REC_END   version 2: struct rec_end, then nlost struct rec_lost (the
 *               records the ring buffer could not take, by record type; a
 *               type this etrace does not know still counts in the total),
 *               then ntotals struct et_syscall_total.
 *               version 1: struct rec_end_v1 (its lost[] had one slot per
 *               record type, 15), then the totals
 *     REC_FUNCS (--trace-func) u32 force, u32 npatterns, then NUL-terminated
 *               executable path, its name as given, and the patterns: the
 *               replay plans the same functions from the same file
 *     REC_SKB   (--skb, before REC_END) u64 followed, filtered, nfuncs, then
 *               NUL-terminated backend and filter ("" for none)
 *     REC_KERNEL (version 3, before REC_END) NUL-terminated kernel
 *               release the run had, then for each gap
 *               NUL-terminated what and cost: the report's `kernel:` lines
 *     REC_HEAP  (version 4, before REC_END, when the preload backend was
 *               used) struct rec_heap, then the NUL-terminated library and
 *               LD_PRELOAD value: the report's `preload:` and `checks:`
 *               lines (how the run's heap was recorded and checked)
 *     REC_HEAP_BACKENDS (version 4, before REC_END; a reader that does not
 *               know it skips it) for each process whose heap backend was
 *               decided: struct rec_backend, then NUL-terminated backend
 *               and reason: the report's `backend (pid N ...)` lines
 * Limits, the same for the writer and the reader: a frame holds at most
 * REC_MAX_FRAME bytes and the command line at most REC_MAX_ARGC arguments
 * (Linux passes at most ~6 MiB of arguments and environment to a program);
 * etrace run --record refuses a command line beyond them before it starts.
 * Symbolization reads the program's files again: a module whose file has
 * another build-id than the recorded one is not symbolized (the report says
 * so) rather than shown with wrong names.
 */
#ifndef ETRACE_RECORD_H
#define ETRACE_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "reports/core/model.h"

#define REC_MAGIC "ETRCRECV"
#define REC_MAGIC_V1 "ETRCREC1"
#define REC_VERSION 4
#define REC_MAX_FRAME (16u << 20)
#define REC_MAX_ARGC (1u << 20)

enum rec_kind { REC_RUN = 1, REC_EVENT = 2, REC_END = 3, REC_FUNCS = 4, REC_SKB = 5, REC_FACT = 6, REC_KERNEL = 7,
		REC_HEAP = 8, REC_HEAP_BACKENDS = 9 };

struct rec_frame {
	uint32_t kind;
	uint32_t len;
};

struct rec_run {
	uint64_t start_ts;
	double start_wall;
	int32_t root_pid;
	int32_t root_ppid;        /* etrace itself */
	uint32_t argc;
	uint32_t last_n;
	uint32_t str_max;
};

struct rec_file {
	uint32_t version;
	uint32_t reserved;
};

struct rec_end {
	uint64_t end_ts;
	int32_t wait_status;
	int32_t exit_code;
	uint64_t capture_faults;
	uint32_t nlost;
	uint32_t ntotals;
};

/* REC_HEAP: struct heap_preload_info's numbers (reports/heap/heap.h) */
struct rec_heap {
	uint64_t rings, records, lost, invalid, full_waits, full_wait_ns, stacks_full, unrecorded, rejected;
	uint64_t quarantine;
	int32_t check_mode;
	uint32_t guard_rate;
	uint32_t quarantine_one_in;
	uint32_t pad;
};

/* REC_HEAP_BACKENDS: one entry's fixed part; the process is the one of that
 * pid that started at start_ts (a pid may come back within a run) */
struct rec_backend {
	uint64_t start_ts;
	int32_t pid;
	uint32_t pad;
};

struct rec_lost {
	uint32_t type;              /* enum et_event_type */
	uint32_t pad;
	uint64_t count;
};

/* Version 1's end frame: lost[] was indexed by record type and sized by
 * their number at the time; it grew with new types while the magic stayed
 * (a recording of 10 types was then rejected as corrupt). */
#define REC_V1_TYPES 15
struct rec_end_v1 {
	uint64_t end_ts;
	int32_t wait_status;
	int32_t exit_code;
	uint64_t lost[REC_V1_TYPES];
	uint64_t capture_faults;
	uint32_t ntotals;
	uint32_t pad;
};

struct recorder;

/* Creates FILE and writes the run header. NULL with a message on failure. */
struct recorder *recorder_open(const char *path, const struct et_model *m, char *const argv[],
			       char *err, size_t errlen);
/* --trace-func: what to plan again at replay (written before any event). */
void recorder_funcs(struct recorder *r, const char *path, const char *shown, const char *const *patterns,
		    size_t n, bool force);
/* The model's fact sink (et_model.fact_sink): one REC_FACT frame. */
void recorder_fact(void *ctx, int kind, int pid, const char *key, const void *value, size_t len);
/* Raw sink for tracer_set_raw_sink(). */
void recorder_event(void *ctx, const void *data, size_t size);
/* Writes the end frame and closes. Returns 0, or -1 (message printed) if
 * anything could not be written. */
int recorder_close(struct recorder *r, const struct et_model *m, int wait_status, int exit_code);

/* `etrace report FILE [options]` and `etrace rewind FILE --at T [--window W]`. */
int report_main(int argc, char **argv);
int rewind_main(int argc, char **argv);

/* The report of a recording read from in (name: for messages) written to
 * out; 0, or etrace report's exit code after a one-line message. A
 * recording is untrusted input: tests/fuzz/fuzz_recording.c runs this. */
#define RECORD_RENDER_HTML 2      /* json: the HTML page, without source lines */
#define RECORD_RENDER_PERFETTO 3  /* json: the trace-event file */
int record_render(FILE *in, const char *name, FILE *out, int json);
/* Where kernel symbols are read for --skb records (the fuzzer's is empty). */
extern const char *record_kallsyms;

#endif
