/* A recording read back (see record.h for the format): the replay of a
 * run into a model, what runner/replay.c and runner/rewind.c share. */
#ifndef ETRACE_REPLAY_H
#define ETRACE_REPLAY_H

#include "reports/core/model.h"

struct replay {
	struct et_model m;
	/* a record waits for the REC_FACT frames after it (what the model
	 * asked the machine when it took it live) before it is taken */
	unsigned char *pending;
	size_t pending_len, pending_cap;
	bool pending_scan;   /* pending is a FACT_HEAP_SCAN frame, not a record */
	bool bad_scan;       /* a FACT_HEAP_SCAN frame was malformed */
	char *skb_backend, *skb_filter;  /* REC_SKB: the model points at them */
	char *kernel_strs;               /* REC_KERNEL's bytes: the model's kernel gaps point into them */
	char *heap_strs;                 /* REC_HEAP's library and LD_PRELOAD: the model points at them */
	char *backend_strs;              /* REC_HEAP_BACKENDS' strings: the model points at them */
	char **argv;
	int exit_code;
	int have_end;
};

/* Reads the recording at path into rp (model_init'ed here); keep_all keeps
 * every syscall. Returns 0, or an exit code after a one-line message. */
int replay_load(const char *path, struct replay *rp, int keep_all);
void replay_free(struct replay *rp);

#endif
