/*
 * --skb: the journey of each packet of the tree through the kernel (one
 * ET_EV_SKB record per hook it passed), and the route lookups the tree's
 * traffic made (ET_EV_ROUTE). A journey is one sk_buff from the first hook
 * it was seen at to the hook that freed it; the same address seen after
 * that is a new packet.
 */
#ifndef ETRACE_SKB_H
#define ETRACE_SKB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "reports/core/strbuf.h"
#include "bpf/events.h"
#include "reports/core/u64map.h"

struct et_model;
struct ksyms;

#define ET_SKB_HOPS_MAX 48        /* hooks kept per packet */
#define ET_SKB_JOURNEYS_MAX 10000 /* packets kept per run; the rest counted */
#define ET_ROUTES_MAX 1000        /* distinct route lookups kept; the rest counted */

struct et_skb_hop {
	uint64_t ts;
	uint64_t func;            /* ET_SKB_FUNC: the function; KFREE/CONSUME: the caller that freed it */
	uint64_t *stack;          /* kernel return addresses (--skb-stack), nstack of them */
	uint32_t nstack;
	uint32_t hook;            /* enum et_skb_hook */
	uint32_t reason;          /* KFREE: drop reason; XMIT: return code */
	uint32_t ifindex, netns, len;
	int cur_pid;              /* the task running when it passed (0: softirq of the idle task) */
	uint8_t tcp_flags;
	char ifname[16];
};

/* What became of a packet. */
enum {
	ET_SKB_OPEN = 0,          /* not freed by the end of the run (or freed where no hook sees it) */
	ET_SKB_DROPPED,           /* kfree_skb: a drop, with its reason */
	ET_SKB_CONSUMED,          /* consume_skb: used and freed */
};

struct et_skb_journey {
	uint64_t skb, sk;
	int pid, tid;             /* the owner of its socket */
	uint8_t ipver, proto, tcp_flags;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint64_t first_ts;
	int fate;                 /* ET_SKB_OPEN, ET_SKB_DROPPED, ET_SKB_CONSUMED */
	uint32_t drop_reason;
	bool delivered;           /* its data was copied to the program (skb_copy_datagram_iovec) */
	bool reset;               /* answered with a RST (tcp_send_reset) */
	struct et_skb_hop *hops;
	size_t nhops, cap_hops;
	uint64_t hops_not_listed;
};

/* A route lookup of the tree's own traffic. */
struct et_route {
	uint64_t ts;
	int pid, tid;
	struct ev_route ev;
	uint64_t count;           /* identical lookups folded into this one */
};

struct et_skbs {
	bool enabled;             /* --skb was given */
	const char *backend;      /* "tracepoint", "kprobe-multi", ... */
	const char *filter;       /* --skb-filter, or NULL */
	size_t nfuncs;            /* kernel functions probed (function backends) */
	uint64_t followed;        /* packets of the tree followed (kernel counter) */
	uint64_t filtered;        /* packets of the tree the filter rejected (kernel counter) */
	struct et_skb_journey *v;
	size_t n, cap;
	uint64_t not_listed;      /* packets not kept (ET_SKB_JOURNEYS_MAX; see journeys_compact) */
	struct u64map open;       /* skb address -> index of its latest journey */
	struct et_route *routes;
	size_t nroutes, cap_routes;
	uint64_t routes_not_listed; /* lookups beyond ET_ROUTES_MAX */
	struct ksyms *ksyms;       /* kernel symbols for function names and stacks, or NULL (owned) */
};

void skb_free_all(struct et_skbs *s);
/* A drop that says something (not the teardown of a socket's queue). */
bool skb_real_drop(const struct et_skb_journey *j);
/* Ingest of ET_EV_SKB / ET_EV_ROUTE records (model_ingest calls them). */
int skb_on_record(struct et_model *m, const struct ev_skb *e, size_t size);
int skb_on_route(struct et_model *m, const struct ev_route *e);

/* "net_dev_queue", "kfree_skb", or the kernel function's name ("ip_rcv"). */
void skb_hop_name(const struct et_skbs *s, const struct et_skb_hop *h, struct strbuf *out);
/* "ip_finish_output2+0x1a2" or "0xffffffff81234567". */
void skb_kaddr(const struct et_skbs *s, uint64_t addr, struct strbuf *out);
/* "SYN", "SYN|ACK", "RST|ACK"; empty for no flags. */
void skb_tcp_flags(uint8_t flags, struct strbuf *out);
/* "127.0.0.1:40000 -> 127.0.0.1:5555 TCP SYN" */
void skb_journey_title(const struct et_skb_journey *j, struct strbuf *out);

void skb_render_text(const struct et_model *m, FILE *out);
/* One --events line for an ET_EV_SKB or ET_EV_ROUTE record. */
void skb_render_event(const struct et_model *m, const struct ev_header *h, double wall, struct strbuf *sb);
/* ,"skbs":{...},"routes":[...] */
void skb_render_json(const struct et_model *m, struct strbuf *sb);

#endif
