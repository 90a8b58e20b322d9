/* The verdict: what explains the run's result, built in one place from the
 * analyses' findings, shown first and last in the text report (ASan's
 * headline and SUMMARY line) and as "verdict" in the JSON report.
 *
 * Findings, most important first: crashes, heap errors, the process whose
 * failure became the run's status (with the chain of parents it went up
 * through), terminations that failed the run, leaks, network failures.
 * Identical findings in several processes of one program are one finding. */
#ifndef ETRACE_VERDICT_H
#define ETRACE_VERDICT_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/core/model.h"
#include "reports/core/strbuf.h"

enum verdict_kind {
	VERDICT_CRASH = 0,
	VERDICT_HEAP_ERROR,
	VERDICT_FAILED,     /* exited non-zero, and that failed the run */
	VERDICT_KILLED,     /* a termination (SIGTERM, SIGKILL...) that failed the run */
	VERDICT_LEAK,
	VERDICT_NET,
	VERDICT_KINDS,
};

struct verdict_item {
	int kind;                       /* enum verdict_kind */
	const struct et_process *proc;  /* the first process with it */
	size_t nprocs;                  /* processes of the same program with the same finding */
	char *program;                  /* the executable's name */
	char *test;                     /* the name its test runner gave it (ctest's add_test NAME), when not the program's; or NULL */
	char *what;                     /* "SIGSEGV (SEGV_MAPERR) at address 0x0", "exited with 3", "24 bytes in 1 block definitely lost" */
	/* where: the program's own frame (else the first with a file), or none */
	char *function, *file, *module;
	char *comp_dir;                 /* the directory a relative file is named from, or NULL */
	int line;
	char *words;                    /* the last line it wrote (stderr, else stdout), or NULL */
	/* the whole stack (the crash's backtrace, the heap error's or the
	 * leak's allocation stack), owned by the model: for SARIF's code flows */
	const struct sym_frame *frames;
	size_t nframes;
	uint64_t bytes, blocks;         /* leaks: summed over the processes */
	bool possible;                  /* a possibly lost leak: not counted by --error-exitcode */
	bool definite;                  /* a leak definitely lost (else indirectly or possibly) */
	const char *alloc_fn;           /* a leak's allocating function (static) */
	bool on_chain;                  /* its failure went up to the run's status */
	const struct failed_tests *failed_tests; /* a runner's own failed tests (pytest), owned by the model */
};

struct verdict {
	bool failed;                    /* the root failed (the run's status is not 0) */
	struct verdict_item *items;
	size_t nitems;
	/* the failure that became the run's status: the root first, then the
	 * child whose failure it saw last before failing, down to the origin */
	const struct et_process **chain;
	size_t nchain;
	/* processes that exited non-zero but whose failure their parent handled
	 * (the parent went on and exited 0, or failed for a later child) */
	const struct et_process **handled;
	size_t nhandled;
	/* processes whose runner expected their test to fail, and it did
	 * (meson's should_fail): counted, not findings */
	const struct et_process **expected;
	size_t nexpected;
	/* crashed processes whose parent collected the crash and went on to
	 * exit 0 (a death test: gtest's EXPECT_DEATH, a trap subprocess):
	 * counted, not findings; the crash section has them */
	const struct et_process **handled_crashes;
	size_t nhandled_crashes;
	/* heap findings of system programs, not listed without --system-findings:
	 * [0] heap errors, [1] leaks, and the processes they are in */
	size_t nsystem[2];
	const struct et_process **system_procs;
	size_t nsystem_procs;
};

void verdict_build(const struct et_model *m, struct verdict *v);
/* "crash", "heap_error", "failed", "killed", "leak", "network": the JSON's
 * and the CI formats' (SARIF rule ids, JUnit failure types) names. */
const char *verdict_kind_name(int kind);
/* "test-version (pid 12) exited with 3 in f at x.c:3" and, with_words,
 * ': "its last line"': the verdict's line for a finding, escaped. */
void verdict_item_text(const struct verdict_item *it, bool with_words, struct strbuf *out);
void verdict_free(struct verdict *v);

/* p failed in a way its runner or parent expected: its runner said so
 * (meson's should_fail), or it crashed and its parent collected that and
 * exited 0. The verdict counts it; a JUnit case passes. */
bool verdict_failure_expected(const struct et_model *m, const struct et_process *p);
/* p is on the chain, or crashed, failed or was killed in a way the verdict lists. */
bool verdict_names(const struct verdict *v, const struct et_process *p);

/* Heap errors and leaks the verdict lists (system programs' only with
 * --system-findings): what --error-exitcode counts. */
size_t verdict_heap_findings(const struct et_model *m);

/* The name of p's program: its executable's file name, else argv[0]'s, else its comm. */
const char *verdict_program(const struct et_process *p);

/* The process failed: exited non-zero, was killed, or crashed. */
bool verdict_process_failed(const struct et_process *p);

/* "-- verdict --" at the top of the text report. */
void verdict_render_text(const struct et_model *m, const struct verdict *v, FILE *out);
/* "SUMMARY: etrace: ..." (no newline): the report's last line. */
void verdict_summary(const struct et_model *m, const struct verdict *v, struct strbuf *sb);
/* ',"verdict":{...}' for the JSON report. */
void verdict_render_json(const struct et_model *m, const struct verdict *v, struct strbuf *sb);
/* The last words of p as a JSON object, or null. */
void verdict_last_words_json(const struct et_process *p, struct strbuf *sb);

#endif
