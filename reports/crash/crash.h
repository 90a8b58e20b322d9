/* The crash section: a fatal signal explained (what, where, who sent it),
 * the backtrace, the other threads, and the rewind of events before it. */
#ifndef ETRACE_CRASH_H
#define ETRACE_CRASH_H

#include <stdbool.h>
#include <stdio.h>
#include "reports/core/model.h"

/* "address not mapped to object" for SIGSEGV/SEGV_MAPERR; NULL if unknown. */
const char *si_code_name(int sig, int code);
const char *si_code_text(int sig, int code);

/* Unwinds and symbolizes every captured crash. */
void crash_analyze(struct et_model *m);

/* One item of the rewind: a syscall record or a note. */
struct rewind_item {
	uint64_t ts;
	int tid;
	const struct et_record *rec;   /* or */
	const struct et_note *note;
};

/* The last n items of process p at or before ts (all threads, time order).
 * Returns how many were written to out (caller frees *out). */
size_t crash_rewind(const struct et_process *p, uint64_t ts, size_t n, struct rewind_item **out);
/* The rewind as the settings ask: --rewind=N events or --rewind=DURATION. */
size_t crash_rewind_for(const struct et_model *m, const struct et_process *p, uint64_t ts,
			struct rewind_item **out);

/* What the thread wrote to stderr just before the crash (an assert or glibc
 * message), or NULL. Caller frees. */
char *crash_abort_message(const struct et_model *m, const struct et_process *p, const struct et_crash *c);

/* The signal that ended p (0: none), and whether it was a crash (a fault
 * or an abort) rather than a termination (SIGPIPE, SIGTERM, SIGKILL...). */
int process_death_signal(const struct et_process *p);
bool process_crashed(const struct et_process *p);
/* p crashed, its parent collected that (wait4, waitid) and exited 0: a
 * death test, or a script that went on. */
bool crash_handled(const struct et_model *m, const struct et_process *p);

/* Who sent c's signal: "pid 12 (bash) thread 12 with kill(...)", "the
 * kernel: ...", as text and as a JSON object. */
void crash_sender_text(const struct et_model *m, const struct et_process *p, const struct et_crash *c,
		       struct strbuf *sb);
void crash_sender_json(const struct et_model *m, const struct et_process *p, const struct et_crash *c,
		       struct strbuf *sb);

/* What thread t was doing when c's signal came: "blocked in read(...)". */
void crash_thread_state(const struct et_model *m, const struct et_thread *t, const struct et_crash *c,
			struct strbuf *sb);

#endif
