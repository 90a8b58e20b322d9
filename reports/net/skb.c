/*
 * --skb: packets of the tree, hook by hook (see skb.h), and route lookups.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp.h"
#include "reports/net/netstate.h"
#include "skb.h"
#include "reports/core/analysis.h"
#include "reports/syscalls/decode.h"
#include "reports/core/model.h"
#include "reports/core/xalloc.h"
#include "symbolize/ksyms.h"

#define ET_NO_JOURNEY UINT32_MAX   /* an address whose packet is not kept (past the cap) */

void skb_free_all(struct et_skbs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct et_skb_journey *j = &s->v[i];
		for (size_t k = 0; k < j->nhops; k++)
			free(j->hops[k].stack);
		free(j->hops);
	}
	free(s->v);
	map_clear(&s->open);
	free(s->routes);
	ksyms_free(s->ksyms);
	memset(s, 0, sizeof(*s));
}

/* The address table (s->open): skb address -> index of its latest
 * journey, whose fate says whether it is still open. */

/* a drop that says something (not the teardown of a socket's queue) */
bool skb_real_drop(const struct et_skb_journey *j)
{
	if (j->fate != ET_SKB_DROPPED)
		return false;
	const char *rn = skb_drop_reason_name(j->drop_reason);
	return !rn || (strcmp(rn, "QUEUE_PURGE") != 0 && strcmp(rn, "SOCKET_CLOSE") != 0);
}

/* At the cap: the older half's packets that were neither dropped nor
 * answered with a RST make room (a long run keeps its drops and its last
 * packets, which say most about a failure). Returns how many went. */
static size_t journeys_compact(struct et_skbs *s)
{
	size_t older = s->n / 2, k = 0, freed = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct et_skb_journey *j = &s->v[i];
		if (i < older && !skb_real_drop(j) && !j->reset) {
			for (size_t h = 0; h < j->nhops; h++)
				free(j->hops[h].stack);
			free(j->hops);
			freed++;
			continue;
		}
		s->v[k++] = *j;
	}
	if (!freed)
		return 0;
	s->n = k;
	s->not_listed += freed;
	/* the indexes moved: the address table again, latest journey last */
	map_clear(&s->open);
	for (size_t i = 0; i < s->n; i++)
		map_put(&s->open, s->v[i].skb, i);
	return freed;
}

/* The packet's IP version, protocol, addresses and ports, from a record. */
static void take_addresses(struct et_skb_journey *j, const struct ev_skb *e)
{
	j->ipver = e->ipver;
	j->proto = e->proto;
	memcpy(j->saddr, e->saddr, 16);
	memcpy(j->daddr, e->daddr, 16);
	j->sport = e->sport;
	j->dport = e->dport;
}

static struct et_skb_journey *journey_new(struct et_skbs *s, const struct ev_skb *e)
{
	if (s->n == ET_SKB_JOURNEYS_MAX && journeys_compact(s) == 0) {
		s->not_listed++;
		map_put(&s->open, e->skb, ET_NO_JOURNEY);
		return NULL;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	struct et_skb_journey *j = &s->v[s->n];
	memset(j, 0, sizeof(*j));
	j->skb = e->skb;
	j->sk = e->sk;
	j->pid = (int)e->h.pid;
	j->tid = (int)e->h.tid;
	take_addresses(j, e);
	j->tcp_flags = e->tcp_flags;
	j->first_ts = e->h.ts;
	map_put(&s->open, e->skb, s->n);
	s->n++;
	return j;
}

/* A function backend sees the reset answering a packet as a call of
 * tcp_v4/v6_send_reset with it: before Linux 6.10 the tcp_send_reset
 * tracepoint does not fire for a reset sent without a socket (a SYN to a
 * closed port). */
static bool is_send_reset(const struct et_skbs *s, uint64_t func)
{
	uint64_t off;
	const char *mod;
	const char *name = s->ksyms ? ksyms_lookup(s->ksyms, func, &off, &mod) : NULL;
	return name && (strcmp(name, "tcp_v4_send_reset") == 0 || strcmp(name, "tcp_v6_send_reset") == 0);
}

int skb_on_record(struct et_model *m, const struct ev_skb *e, size_t size)
{
	struct et_skbs *s = &m->net->skbs;
	if (size < sizeof(*e) || e->nstack > ET_SKB_STACK || size < sizeof(*e) + e->nstack * sizeof(uint64_t) ||
	    !e->skb)
		return -1;
	s->enabled = true;
	uint64_t idx;
	struct et_skb_journey *j = NULL;
	bool is_free = e->hook == ET_SKB_KFREE || e->hook == ET_SKB_CONSUME;
	if (map_get(&s->open, e->skb, &idx) && !e->first) {
		if (idx == ET_NO_JOURNEY) {
			if (is_free) /* over: a later packet here may be kept */
				map_put(&s->open, e->skb, ET_NO_JOURNEY - 1);
			return 0;
		}
		if (idx < s->n && s->v[idx].fate == ET_SKB_OPEN)
			j = &s->v[idx];
	}
	if (!j) {
		/* the first hook of a packet (or its first record was lost) */
		j = journey_new(s, e);
		if (!j) {
			if (is_free)
				map_put(&s->open, e->skb, ET_NO_JOURNEY - 1);
			return 0;
		}
	}
	/* a function backend sees a packet before its headers are built
	 * (tcp_v4_send_check, ip_queue_xmit): its addresses come from the
	 * first hook that could read them */
	if (!j->ipver && e->ipver)
		take_addresses(j, e);
	if (!j->tcp_flags && e->proto == 6)
		j->tcp_flags = e->tcp_flags;
	if (e->h.ts < j->first_ts)
		j->first_ts = e->h.ts;
	if (j->nhops == ET_SKB_HOPS_MAX && !is_free) {
		j->hops_not_listed++;
	} else {
		if (j->nhops == ET_SKB_HOPS_MAX) {
			/* the hook that ended it is kept in place of the last */
			j->nhops--;
			free(j->hops[j->nhops].stack);
			j->hops_not_listed++;
		}
		if (j->nhops == j->cap_hops) {
			j->cap_hops = j->cap_hops ? j->cap_hops * 2 : 8;
			j->hops = xrealloc(j->hops, j->cap_hops * sizeof(*j->hops));
		}
		/* in time order: records of one packet from two CPUs (a softirq
		 * on the other one) can reach the ring buffer out of order */
		size_t at = j->nhops;
		while (at > 0 && j->hops[at - 1].ts > e->h.ts)
			at--;
		memmove(&j->hops[at + 1], &j->hops[at], (j->nhops - at) * sizeof(*j->hops));
		j->nhops++;
		struct et_skb_hop *h = &j->hops[at];
		memset(h, 0, sizeof(*h));
		h->ts = e->h.ts;
		h->func = e->func;
		h->hook = e->hook;
		h->reason = e->reason;
		h->ifindex = e->ifindex;
		h->netns = e->netns;
		h->len = e->len;
		h->cur_pid = (int)e->cur_pid;
		h->tcp_flags = e->tcp_flags;
		memcpy(h->ifname, e->ifname, sizeof(h->ifname));
		h->ifname[sizeof(h->ifname) - 1] = 0;
		if (e->nstack) {
			h->nstack = e->nstack;
			h->stack = xmalloc(e->nstack * sizeof(uint64_t));
			memcpy(h->stack, (const uint8_t *)e + sizeof(*e), e->nstack * sizeof(uint64_t));
		}
	}
	if (e->hook == ET_SKB_COPY_USER)
		j->delivered = true;
	else if (e->hook == ET_SKB_SEND_RESET || (e->hook == ET_SKB_FUNC && is_send_reset(s, e->func)))
		j->reset = true;
	else if (e->hook == ET_SKB_KFREE) {
		j->fate = ET_SKB_DROPPED;
		j->drop_reason = e->reason;
	} else if (e->hook == ET_SKB_CONSUME)
		j->fate = ET_SKB_CONSUMED;
	return 0;
}

int skb_on_route(struct et_model *m, const struct ev_route *e)
{
	struct et_skbs *s = &m->net->skbs;
	/* the same destination and answer again (connect looks its route up
	 * before and after it picks its port; a sendto loop): counted */
	for (size_t i = s->nroutes; i-- > 0 && i + 8 >= s->nroutes;) {
		struct et_route *r = &s->routes[i];
		const struct ev_route *o = &r->ev;
		if ((int)e->h.pid == r->pid && e->ipver == o->ipver && e->proto == o->proto && e->dport == o->dport &&
		    e->err == o->err && e->table == o->table && e->oif == o->oif && e->gw_family == o->gw_family &&
		    memcmp(e->daddr, o->daddr, 16) == 0 && memcmp(e->gw, o->gw, 16) == 0 &&
		    strncmp(e->dev, o->dev, sizeof(e->dev)) == 0) {
			r->count++;
			return 0;
		}
	}
	if (s->nroutes == ET_ROUTES_MAX) {
		s->routes_not_listed++;
		return 0;
	}
	if (s->nroutes == s->cap_routes) {
		s->cap_routes = s->cap_routes ? s->cap_routes * 2 : 16;
		s->routes = xrealloc(s->routes, s->cap_routes * sizeof(*s->routes));
	}
	struct et_route *r = &s->routes[s->nroutes++];
	r->ts = e->h.ts;
	r->pid = (int)e->h.pid;
	r->tid = (int)e->h.tid;
	r->ev = *e;
	r->ev.dev[sizeof(r->ev.dev) - 1] = 0;  /* a recording may carry anything */
	r->count = 1;
	return 0;
}

