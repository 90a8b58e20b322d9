/*
 * What the model asks the machine while it takes records: the file an
 * inherited fd refers to (/proc/PID/fd), a long command line
 * (/proc/PID/cmdline), the executable's path (/proc/PID/exe), an
 * executable's entry point and interpreter, whether a mapped path is a file,
 * and a module's build-id. Live, the answers come from the machine and each
 * is also handed to the recording (--record: a REC_FACT frame right after
 * the record that asked). A replay answers from the recording only: it never
 * reads /proc, whose pids may belong to other processes by then.
 */
#ifndef ETRACE_HOSTFACTS_H
#define ETRACE_HOSTFACTS_H

#include <stddef.h>
#include <stdint.h>

struct et_model;

enum fact_kind {
	FACT_FD_PATH = 1,   /* key: the fd number; value: readlink of /proc/PID/fd/N */
	FACT_CMDLINE = 2,   /* value: /proc/PID/cmdline */
	FACT_EXE = 3,       /* key: the name exec'd; value: the executable's absolute path */
	FACT_ELF_HEAD = 4,  /* key: a path; value: u64 entry point, then the interpreter (PT_INTERP) */
	FACT_IS_FILE = 5,   /* key: a path; value: "" when it exists */
	FACT_BUILD_ID = 6,  /* key: a path; value: the file's build-id in hex */
	/* (format 3) the leak scan of pid at its exit: not an answer to one
	 * record but a result, taken at its place in the stream at replay
	 * (reports/heap/heap_leaks.c: heap_scan_fact, heap_scan_replay) */
	FACT_HEAP_SCAN = 7,
	FACT_KIND_MAX = 8,
};

/* Where answers come from. */
enum host_mode {
	HOST_LIVE = 0,      /* the machine (and the recording, when one is written) */
	HOST_RECORDED,      /* the recording only (format 2) */
	HOST_FILES,         /* files on disk but never /proc (format 1 recordings, which hold no facts) */
};

/* One answer: value is malloc'd (len bytes, NUL-terminated beyond them), or
 * NULL when it is not known. */
void *host_ask(struct et_model *m, int kind, int pid, const char *key, size_t *len);

/* --- replay: the facts that followed the record being replayed ---------- */
struct host_facts;
struct host_facts *host_facts_new(void);
void host_facts_free(struct host_facts *f);
/* Adds one from a REC_FACT frame; -1 when the frame is malformed. */
int host_facts_add(struct host_facts *f, const void *frame, size_t len);
/* Forgets them (the record they answered was taken). */
void host_facts_clear(struct host_facts *f);

/* --- recording: a REC_FACT frame's bytes for one answer ---------------- */
/* u32 kind, s32 pid, u32 key length, u32 value length, key, value */
struct fact_head {
	uint32_t kind;
	int32_t pid;
	uint32_t keylen, vallen;
};

#endif
