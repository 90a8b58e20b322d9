/* The BPF objects of the concerns (bpf/<concern>.bpf.c: heap, funcs, ...)
 * next to the core object (bpf/etrace.bpf.c): a concern's object is opened,
 * set up and loaded only when the run uses it, and shares the core's maps
 * (bpf/shared.h: the ring buffer, the task storage, the loss counters,
 * the holds) instead of making its own. */
#ifndef ETRACE_CONCERN_H
#define ETRACE_CONCERN_H

#include <stddef.h>

struct bpf_object;

/* Makes every map of obj that an object of from[] (loaded: the core, and
 * for --skb the network's) also has, by name, that object's (not the
 * objects' own .rodata/.bss), then loads obj, with the verifier's
 * statistics for ETRACE_STARTUP under name. Returns 0, or -1 with a
 * message in err. */
int concern_load(struct bpf_object *obj, struct bpf_object *const *from, size_t nfrom, const char *name, char *err,
		 size_t errlen);

#endif
