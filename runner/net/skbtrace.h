/* --skb: which backend follows the packets, the pcap filter compiled for the
 * BPF side, the kernel functions a function backend probes, and their links. */
#ifndef ETRACE_SKBTRACE_H
#define ETRACE_SKBTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include "bpf/events.h"
#include "bpf/cbpf.h"
#include "symbolize/skbfuncs.h"

struct run_opts;
struct skb_bpf;
struct bpf_link;
struct ksyms;

struct skb_plan {
	bool on;                    /* --skb (or an option implying it) */
	const char *backend;        /* "tracepoint", "kprobe-multi", "fentry", "kprobe" */
	const char *why;            /* why that one (static or plan-owned storage) */
	bool auto_picked;           /* chosen by auto: may fall back to tracepoints */
	char why_buf[256];
	bool stack;                 /* --skb-stack */
	struct et_cbpf_insn prog[ET_CBPF_MAX];
	unsigned nprog;             /* 0: no --skb-filter */
	struct skb_funcs funcs;     /* a function backend's functions */
	struct ksyms *ksyms;        /* kernel symbols for the report (NULL if unreadable) */
	/* attached */
	struct bpf_link **links;
	size_t nlinks, cap_links;
	int *fds;                   /* fentry: programs loaded per function */
	size_t nfds, cap_fds;
	size_t attached, attach_failed; /* functions */
	/* why functions were refused: the first few errnos, with a count and
	 * the first function refused so (said on stderr with the count) */
	struct { int err; size_t n; const char *example; } refusals[4];
};

/* Decides the backend (--net-backend, what the kernel allows), compiles
 * --skb-filter, scans the kernel's skb functions for a function backend.
 * Returns 0, or -1 with a one-line err (etrace then exits 125). */
int skb_plan_make(const struct run_opts *o, struct skb_plan *p, char *err, size_t errlen);
/* Before the skeleton's load: which programs load, the filter, fentry targets. */
void skb_plan_configure(struct skb_plan *p, struct skb_bpf *skel);
/* After the load: a function backend's links. Returns 0 or -1 with err. */
int skb_plan_attach(struct skb_plan *p, struct skb_bpf *skel, char *err, size_t errlen);
void skb_plan_detach(struct skb_plan *p);
/* An auto-picked function backend the kernel would not load: tracepoints
 * instead (one line on stderr saying so). */
void skb_plan_fall_back(struct skb_plan *p, const char *why);
void skb_plan_free(struct skb_plan *p);

#endif
