/*
 * Unit tests of the --skb model and renderers (reports/net/skb.c): synthetic
 * ET_EV_SKB and ET_EV_ROUTE records fed through model_ingest. A packet's
 * journey from its first hook to the one that freed it, the reuse of an
 * address, the caps on hooks and packets, malformed records, stacks, route
 * lookups folded, the titles and flags, the text report (and its cut of
 * many packets), the JSON (checked well-formed by python3) and the --events
 * lines; and kernel function names with this machine's /proc/kallsyms.
 */
#include "unit.h"
#include "reports/net/netstate.h"
#include "reports/core/model.h"
#include "reports/net/skb.h"
#include "reports/core/strbuf.h"
#include "../../symbolize/ksyms.h"
#include "reports/net/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BASE 1000000000000ull   /* m.start_ts; the records come after it */
#define MS 1000000ull

static uint32_t no_socket = UINT32_MAX;   /* the running kernel's SKB_DROP_REASON_NO_SOCKET */

static uint32_t reason_named(const char *name)
{
	for (uint32_t r = 0; r <= 200; r++) {
		const char *n = skb_drop_reason_name(r);
		if (n && strcmp(n, name) == 0)
			return r;
	}
	return UINT32_MAX;
}

/* ---- building records ---------------------------------------------------------- */

/* A packet's constant part: its owner, addresses, ports, protocol. */
static struct ev_skb pkt(uint64_t skb, int pid, int ipver, const char *src, uint16_t sport, const char *dst,
			 uint16_t dport, uint8_t proto, uint8_t flags)
{
	struct ev_skb e;
	memset(&e, 0, sizeof(e));
	e.h.type = ET_EV_SKB;
	e.h.size = sizeof(e);
	e.h.pid = (uint32_t)pid;
	e.h.tid = (uint32_t)pid + 1;
	e.skb = skb;
	e.sk = 0xffff888010000000ull + skb % 4096;
	e.ipver = (uint8_t)ipver;
	inet_pton(ipver == 6 ? AF_INET6 : AF_INET, src, e.saddr);
	inet_pton(ipver == 6 ? AF_INET6 : AF_INET, dst, e.daddr);
	e.sport = sport;
	e.dport = dport;
	e.proto = proto;
	e.tcp_flags = flags;
	e.len = 60;
	return e;
}

/* Ingests n bytes from a heap copy of exactly that size (valgrind sees any
 * read past the record). */
static int feed_raw(struct et_model *m, const void *p, size_t n)
{
	void *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	int rc = model_ingest(m, c, n);
	free(c);
	return rc;
}

/* One hook of packet t, with nstack return addresses after it. */
static int hop_stack(struct et_model *m, const struct ev_skb *t, uint64_t ts, uint32_t hook, int first, uint64_t func,
		     uint32_t reason, int cur_pid, const uint64_t *stack, size_t nstack)
{
	uint8_t buf[sizeof(struct ev_skb) + 64 * sizeof(uint64_t)];
	struct ev_skb e = *t;
	e.h.ts = ts;
	e.hook = hook;
	e.first = (uint32_t)first;
	e.func = func;
	e.reason = reason;
	e.cur_pid = (uint32_t)cur_pid;
	e.nstack = (uint8_t)nstack;
	e.h.size = (uint32_t)(sizeof(e) + nstack * sizeof(uint64_t));
	memcpy(buf, &e, sizeof(e));
	if (nstack)
		memcpy(buf + sizeof(e), stack, nstack * sizeof(uint64_t));
	return feed_raw(m, buf, e.h.size);
}

static int hop(struct et_model *m, const struct ev_skb *t, uint64_t ts, uint32_t hook, int first, uint64_t func,
	       uint32_t reason, int cur_pid)
{
	return hop_stack(m, t, ts, hook, first, func, reason, cur_pid, NULL, 0);
}

static int route(struct et_model *m, uint64_t ts, int pid, const char *dst, uint16_t dport, int err, uint32_t table,
		 const char *dev, const char *gw)
{
	struct ev_route r;
	memset(&r, 0, sizeof(r));
	r.h.type = ET_EV_ROUTE;
	r.h.size = sizeof(r);
	r.h.ts = ts;
	r.h.pid = (uint32_t)pid;
	r.h.tid = (uint32_t)pid;
	r.ipver = 4;
	r.proto = 6;
	inet_pton(AF_INET, "10.0.0.1", r.saddr);
	inet_pton(AF_INET, dst, r.daddr);
	r.dport = dport;
	r.err = err;
	r.table = table;
	r.netns = 4026531840u;
	if (!err && dev)
		snprintf(r.dev, sizeof(r.dev), "%s", dev);
	if (!err && gw) {
		r.gw_family = 4;
		inet_pton(AF_INET, gw, r.gw);
	}
	return feed_raw(m, &r, sizeof(r));
}

static void start(struct et_model *m)
{
	model_init(m);
	m->start_ts = BASE;
}

/* ---- rendering ------------------------------------------------------------------- */

static char *text_of(const struct et_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	skb_render_text(m, f);
	fclose(f);
	return buf;
}

static char *json_of(const struct et_model *m)
{
	struct strbuf sb = STRBUF_INIT;
	skb_render_json(m, &sb);
	return sb_detach(&sb);
}

/* 1 when python3's json module parses text. Debian's interpreter without
 * site (-I -S): a PATH shim (pyenv) costs several execs a call, and this
 * runs hundreds of times (the test took 120 s on a loaded machine). */
static int json_ok(const char *text)
{
	FILE *p = popen("/usr/bin/python3 -I -S -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null", "w");
	if (!p)
		return 0;
	fputs(text, p);
	int st = pclose(p);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* skb_render_json emits ,"routes":[...],"skbs":...: inside an object. */
static int json_part_ok(const char *part)
{
	struct strbuf sb = STRBUF_INIT;
	sb_puts(&sb, "{\"x\":0");
	sb_puts(&sb, part);
	sb_puts(&sb, "}");
	int ok = json_ok(sb_str(&sb));
	sb_free(&sb);
	return ok;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static const char *name_of(const struct et_skbs *s, const struct et_skb_hop *h, struct strbuf *sb)
{
	sb_reset(sb);
	skb_hop_name(s, h, sb);
	return sb_str(sb);
}

/* ---- a packet's journey ------------------------------------------------------------ */

#define SKB_A 0xffff888001000100ull
#define SKB_B 0xffff888001000200ull
#define SKB_C 0xffff888001000300ull
#define SKB_D 0xffff888001000400ull
#define FUNC_ADDR 0xffffffff81a00000ull

/* Packet A: a SYN sent to a port nobody listens on, answered with a RST and
 * dropped; packet B: a UDP datagram received and read. */
static void journeys(struct et_model *m)
{
	struct ev_skb a = pkt(SKB_A, 100, 4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x02);
	snprintf(a.ifname, sizeof(a.ifname), "eth0");
	a.netns = 4026531840u;
	a.ifindex = 2;
	uint64_t t = BASE + MS;
	static const uint64_t stack[3] = { 0xffffffff81000100ull, 0xffffffff81000200ull, 0xffffffff81000300ull };
	CHECK(hop(m, &a, t, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(hop(m, &a, t + 10000, ET_SKB_START_XMIT, 0, 0, 0, 100) == 0);
	CHECK(hop(m, &a, t + 20000, ET_SKB_XMIT, 0, 0, 1, 100) == 0);          /* NET_XMIT_DROP */
	CHECK(hop(m, &a, t + 30000, ET_SKB_NETIF_RX, 0, 0, 0, 200) == 0);      /* in another process */
	CHECK(hop(m, &a, t + 40000, ET_SKB_RECEIVE, 0, 0, 0, 0) == 0);         /* softirq */
	CHECK(hop_stack(m, &a, t + 50000, ET_SKB_FUNC, 0, FUNC_ADDR, 0, 0, stack, 3) == 0);
	CHECK(hop(m, &a, t + 60000, ET_SKB_SEND_RESET, 0, 0, 0, 0) == 0);
	CHECK(hop(m, &a, t + 70000, ET_SKB_KFREE, 0, FUNC_ADDR + 0x10, no_socket, 0) == 0);

	struct ev_skb b = pkt(SKB_B, 300, 4, "10.0.0.9", 53, "10.0.0.1", 5353, 17, 0);
	t = BASE + 2 * MS;
	CHECK(hop(m, &b, t, ET_SKB_RECEIVE, 1, 0, 0, 0) == 0);
	CHECK(hop(m, &b, t + 1000, ET_SKB_COPY_USER, 0, 0, 0, 300) == 0);
	CHECK(hop(m, &b, t + 2000, ET_SKB_CONSUME, 0, FUNC_ADDR + 0x20, 0, 300) == 0);
}

static void test_journey(void)
{
	struct et_model m;
	start(&m);
	journeys(&m);
	const struct et_skbs *s = &m.net->skbs;
	CHECK(m.bad_records == 0);
	CHECK(s->enabled);
	CHECK(s->n == 2);
	if (s->n != 2) {
		model_free(&m);
		return;
	}
	const struct et_skb_journey *a = &s->v[0], *b = &s->v[1];
	CHECK(a->skb == SKB_A);
	CHECK(a->sk == 0xffff888010000000ull + SKB_A % 4096);
	CHECK(a->pid == 100 && a->tid == 101);
	CHECK(a->ipver == 4 && a->proto == 6 && a->tcp_flags == 0x02);
	CHECK(a->sport == 40000 && a->dport == 80);
	CHECK(a->first_ts == BASE + MS);
	CHECK(model_rel_ms(&m, a->first_ts) == 1.0);
	CHECK(a->nhops == 8);
	CHECK(a->hops_not_listed == 0);
	CHECK(a->fate == ET_SKB_DROPPED);
	CHECK(a->drop_reason == no_socket);
	CHECK(a->reset);
	CHECK(!a->delivered);
	if (a->nhops == 8) {
		CHECK(a->hops[0].hook == ET_SKB_DEV_QUEUE);
		CHECK(a->hops[0].ts == BASE + MS);
		CHECK(a->hops[0].cur_pid == 100);
		CHECK_STR(a->hops[0].ifname, "eth0");
		CHECK(a->hops[0].ifindex == 2 && a->hops[0].netns == 4026531840u && a->hops[0].len == 60);
		CHECK(a->hops[0].nstack == 0 && a->hops[0].stack == NULL);
		CHECK(a->hops[2].hook == ET_SKB_XMIT && a->hops[2].reason == 1);
		CHECK(a->hops[3].cur_pid == 200);
		CHECK(a->hops[4].cur_pid == 0);
		CHECK(a->hops[5].hook == ET_SKB_FUNC && a->hops[5].func == FUNC_ADDR);
		CHECK(a->hops[5].nstack == 3);
		CHECK(a->hops[5].stack && a->hops[5].stack[0] == 0xffffffff81000100ull &&
		      a->hops[5].stack[2] == 0xffffffff81000300ull);
		CHECK(a->hops[6].hook == ET_SKB_SEND_RESET);
		CHECK(a->hops[7].hook == ET_SKB_KFREE && a->hops[7].reason == no_socket);
		CHECK(a->hops[7].func == FUNC_ADDR + 0x10);
		CHECK(a->hops[7].ts == BASE + MS + 70000);
	}
	CHECK(b->skb == SKB_B && b->pid == 300 && b->proto == 17);
	CHECK(b->nhops == 3);
	CHECK(b->fate == ET_SKB_CONSUMED);
	CHECK(b->delivered);
	CHECK(!b->reset);
	CHECK(b->drop_reason == 0);

	/* the hook names without kernel symbols */
	struct strbuf sb = STRBUF_INIT;
	CHECK_STR(name_of(s, &a->hops[0], &sb), "net_dev_queue");
	CHECK_STR(name_of(s, &a->hops[1], &sb), "net_dev_start_xmit");
	CHECK_STR(name_of(s, &a->hops[2], &sb), "net_dev_xmit");
	CHECK_STR(name_of(s, &a->hops[3], &sb), "netif_rx");
	CHECK_STR(name_of(s, &a->hops[4], &sb), "netif_receive_skb");
	CHECK_STR(name_of(s, &a->hops[5], &sb), "0xffffffff81a00000");
	CHECK_STR(name_of(s, &a->hops[6], &sb), "tcp_send_reset");
	CHECK_STR(name_of(s, &a->hops[7], &sb), "kfree_skb");
	CHECK_STR(name_of(s, &b->hops[1], &sb), "skb_copy_datagram_iovec");
	CHECK_STR(name_of(s, &b->hops[2], &sb), "consume_skb");
	struct et_skb_hop odd = { .hook = ET_SKB_GRO };
	CHECK_STR(name_of(s, &odd, &sb), "napi_gro_receive");
	odd.hook = 55;
	CHECK_STR(name_of(s, &odd, &sb), "hook 55");
	odd.hook = ET_SKB_HOOK_MAX;
	CHECK_STR(name_of(s, &odd, &sb), "hook 11");
	odd.hook = 0;
	CHECK_STR(name_of(s, &odd, &sb), "hook 0");
	sb_reset(&sb);
	skb_kaddr(s, 0xffffffff81234567ull, &sb);
	CHECK_STR(sb_str(&sb), "0xffffffff81234567");
	sb_free(&sb);
	model_free(&m);
}

/* The same address after a free, a lost first record, a first record while a
 * journey at that address is open. */
static void test_reuse(void)
{
	struct et_model m;
	start(&m);
	const struct et_skbs *s = &m.net->skbs;
	struct ev_skb a = pkt(SKB_A, 100, 4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x02);
	CHECK(hop(&m, &a, BASE + 1000, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(hop(&m, &a, BASE + 2000, ET_SKB_CONSUME, 0, 0, 0, 100) == 0);
	CHECK(s->n == 1);

	/* a new packet at the freed address (its first hook) */
	struct ev_skb a2 = pkt(SKB_A, 100, 4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x10);
	CHECK(hop(&m, &a2, BASE + 3000, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(hop(&m, &a2, BASE + 4000, ET_SKB_XMIT, 0, 0, 0, 100) == 0);
	CHECK(s->n == 2);
	if (s->n == 2) {
		CHECK(s->v[0].nhops == 2 && s->v[0].fate == ET_SKB_CONSUMED);
		CHECK(s->v[1].nhops == 2 && s->v[1].fate == ET_SKB_OPEN);
		CHECK(s->v[1].tcp_flags == 0x10 && s->v[1].first_ts == BASE + 3000);
	}
	CHECK(hop(&m, &a2, BASE + 5000, ET_SKB_KFREE, 0, 0, no_socket, 0) == 0);
	CHECK(s->n == 2 && s->v[1].fate == ET_SKB_DROPPED);

	/* a non-first hook at the freed address: a packet whose first record was lost */
	struct ev_skb a3 = pkt(SKB_A, 101, 4, "10.0.0.1", 40001, "10.0.0.2", 80, 6, 0x11);
	CHECK(hop(&m, &a3, BASE + 6000, ET_SKB_RECEIVE, 0, 0, 0, 0) == 0);
	CHECK(s->n == 3);
	if (s->n == 3) {
		CHECK(s->v[2].skb == SKB_A && s->v[2].pid == 101 && s->v[2].sport == 40001);
		CHECK(s->v[2].nhops == 1 && s->v[2].fate == ET_SKB_OPEN);
		CHECK(s->v[1].nhops == 3);   /* the dropped one got nothing more */
	}

	/* a non-first hook at an address never seen */
	struct ev_skb c = pkt(SKB_C, 102, 4, "10.0.0.1", 40002, "10.0.0.2", 80, 6, 0x10);
	CHECK(hop(&m, &c, BASE + 7000, ET_SKB_COPY_USER, 0, 0, 0, 102) == 0);
	CHECK(s->n == 4);
	if (s->n == 4)
		CHECK(s->v[3].skb == SKB_C && s->v[3].nhops == 1 && s->v[3].delivered && s->v[3].fate == ET_SKB_OPEN);

	/* a free as the only record seen: a journey of one hook, over */
	struct ev_skb d = pkt(SKB_D, 103, 4, "10.0.0.1", 40003, "10.0.0.2", 80, 6, 0x04);
	CHECK(hop(&m, &d, BASE + 7500, ET_SKB_KFREE, 0, 0, no_socket, 0) == 0);
	CHECK(s->n == 5);
	if (s->n == 5)
		CHECK(s->v[4].nhops == 1 && s->v[4].fate == ET_SKB_DROPPED && s->v[4].drop_reason == no_socket);

	/* a first hook while the address's journey is still open: a new packet
	 * (the free of the old one was not seen); later hooks go to the new one */
	struct ev_skb a4 = pkt(SKB_A, 104, 4, "10.0.0.1", 40004, "10.0.0.2", 80, 6, 0x02);
	CHECK(hop(&m, &a4, BASE + 8000, ET_SKB_DEV_QUEUE, 1, 0, 0, 104) == 0);
	CHECK(hop(&m, &a4, BASE + 9000, ET_SKB_START_XMIT, 0, 0, 0, 104) == 0);
	CHECK(s->n == 6);
	if (s->n == 6) {
		CHECK(s->v[2].nhops == 1 && s->v[2].fate == ET_SKB_OPEN);
		CHECK(s->v[5].pid == 104 && s->v[5].nhops == 2);
	}
	/* after the open one was freed, a later hook there is yet another packet */
	CHECK(hop(&m, &a4, BASE + 9500, ET_SKB_CONSUME, 0, 0, 0, 104) == 0);
	CHECK(hop(&m, &a4, BASE + 9600, ET_SKB_RECEIVE, 0, 0, 0, 0) == 0);
	CHECK(s->n == 7);
	if (s->n == 7) {
		CHECK(s->v[5].nhops == 3 && s->v[5].fate == ET_SKB_CONSUMED);
		CHECK(s->v[6].nhops == 1);
	}
	CHECK(s->not_listed == 0);
	CHECK(m.bad_records == 0);
	model_free(&m);
}

/* Malformed records: too short, too many return addresses, fewer bytes than
 * nstack says, a header size past the buffer. */
static void test_bad_records(void)
{
	struct et_model m;
	start(&m);
	const struct et_skbs *s = &m.net->skbs;
	struct ev_skb e = pkt(SKB_A, 100, 4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x02);
	e.hook = ET_SKB_DEV_QUEUE;
	e.first = 1;
	e.h.ts = BASE + 1000;
	uint8_t buf[sizeof(struct ev_skb) + (ET_SKB_STACK + 2) * sizeof(uint64_t)];
	memset(buf, 0, sizeof(buf));

	/* shorter than struct ev_skb */
	e.h.size = sizeof(e) - 1;
	memcpy(buf, &e, sizeof(e));
	CHECK(feed_raw(&m, buf, sizeof(e) - 1) == -1);
	CHECK(m.bad_records == 1);
	e.h.size = sizeof(struct ev_header);
	memcpy(buf, &e, sizeof(e));
	CHECK(feed_raw(&m, buf, sizeof(struct ev_header)) == -1);
	CHECK(m.bad_records == 2);
	/* rejected before anything: --skb not seen as enabled yet */
	CHECK(!s->enabled);

	/* nstack larger than ET_SKB_STACK, with the bytes present */
	e.nstack = ET_SKB_STACK + 1;
	e.h.size = (uint32_t)(sizeof(e) + (ET_SKB_STACK + 1) * sizeof(uint64_t));
	memcpy(buf, &e, sizeof(e));
	CHECK(feed_raw(&m, buf, e.h.size) == -1);
	CHECK(m.bad_records == 3);

	/* nstack 4, the bytes of 3 */
	e.nstack = 4;
	e.h.size = (uint32_t)(sizeof(e) + 3 * sizeof(uint64_t));
	memcpy(buf, &e, sizeof(e));
	CHECK(feed_raw(&m, buf, e.h.size) == -1);
	CHECK(m.bad_records == 4);

	/* nstack 2, the header's size claims more than the buffer has */
	e.nstack = 2;
	e.h.size = (uint32_t)(sizeof(e) + 2 * sizeof(uint64_t));
	memcpy(buf, &e, sizeof(e));
	CHECK(feed_raw(&m, buf, sizeof(e) + sizeof(uint64_t)) == -1);
	CHECK(m.bad_records == 5);

	/* a route record shorter than struct ev_route */
	struct ev_route r;
	memset(&r, 0, sizeof(r));
	r.h.type = ET_EV_ROUTE;
	r.h.size = sizeof(r) - 4;
	CHECK(feed_raw(&m, &r, sizeof(r) - 4) == -1);
	CHECK(m.bad_records == 6);
	CHECK(s->n == 0 && s->nroutes == 0);
	CHECK(!s->enabled);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"skbs\":null") != NULL);
	CHECK(strstr(j, ",\"routes\":[]") == j);
	CHECK(json_part_ok(j));
	free(j);
	char *t = text_of(&m);
	CHECK_STR(t, "");   /* no routes, --skb not on: nothing */
	free(t);

	/* the limits themselves are fine: ET_SKB_STACK addresses, and a record
	 * larger than its stack (padding) */
	uint64_t stack[ET_SKB_STACK];
	for (int i = 0; i < ET_SKB_STACK; i++)
		stack[i] = 0xffffffff81000000ull + (uint64_t)i * 0x100;
	e.nstack = ET_SKB_STACK;
	e.h.size = (uint32_t)(sizeof(e) + ET_SKB_STACK * sizeof(uint64_t));
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), stack, sizeof(stack));
	CHECK(feed_raw(&m, buf, e.h.size) == 0);
	e.nstack = 1;
	e.first = 0;
	e.hook = ET_SKB_XMIT;
	e.h.size = (uint32_t)(sizeof(e) + 2 * sizeof(uint64_t));
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), stack + 5, sizeof(uint64_t));
	CHECK(feed_raw(&m, buf, e.h.size) == 0);
	CHECK(m.bad_records == 6);
	CHECK(s->enabled);
	CHECK(s->n == 1);
	if (s->n == 1 && s->v[0].nhops == 2) {
		const struct et_skb_hop *h = &s->v[0].hops[0];
		CHECK(h->nstack == ET_SKB_STACK);
		CHECK(h->stack && memcmp(h->stack, stack, sizeof(stack)) == 0);
		CHECK(s->v[0].hops[1].nstack == 1 && s->v[0].hops[1].stack[0] == stack[5]);
	} else {
		CHECK(0);
	}
	model_free(&m);
}

/* Hooks past ET_SKB_HOPS_MAX are counted; the free still ends the journey
 * and is kept, in place of the last hook kept. */
static void test_hops_cap(void)
{
	struct et_model m;
	start(&m);
	const struct et_skbs *s = &m.net->skbs;
	struct ev_skb a = pkt(SKB_A, 100, 4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x02);
	CHECK(hop(&m, &a, BASE + 1000, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	for (int i = 1; i < ET_SKB_HOPS_MAX + 5; i++)
		hop(&m, &a, BASE + 1000 + (uint64_t)i * 100, ET_SKB_FUNC, 0, FUNC_ADDR + (uint64_t)i * 0x40, 0, 100);
	CHECK(hop(&m, &a, BASE + 9000, ET_SKB_COPY_USER, 0, 0, 0, 100) == 0);
	CHECK(hop(&m, &a, BASE + 9900, ET_SKB_KFREE, 0, 0, no_socket, 100) == 0);
	CHECK(s->n == 1);
	if (s->n == 1) {
		const struct et_skb_journey *j = &s->v[0];
		CHECK(j->nhops == ET_SKB_HOPS_MAX);
		CHECK(j->hops_not_listed == 7);   /* 5 functions, the copy, the last function (for the free) */
		CHECK(j->fate == ET_SKB_DROPPED && j->drop_reason == no_socket);
		CHECK(j->delivered);
		CHECK(j->hops[ET_SKB_HOPS_MAX - 2].hook == ET_SKB_FUNC);
		CHECK(j->hops[ET_SKB_HOPS_MAX - 2].func == FUNC_ADDR + (uint64_t)(ET_SKB_HOPS_MAX - 2) * 0x40);
		CHECK(j->hops[ET_SKB_HOPS_MAX - 1].hook == ET_SKB_KFREE);
		CHECK(j->hops[ET_SKB_HOPS_MAX - 1].reason == no_socket);
	}
	char *t = text_of(&m);
	CHECK(strstr(t, "      (+7 more hooks)\n") != NULL);
	CHECK(count_of(t, "ms  0xffffffff81a0") == ET_SKB_HOPS_MAX - 2);
	CHECK(strstr(t, "kfree_skb") != NULL);
	free(t);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"hops_not_listed\":7}") != NULL);
	CHECK(count_of(j, "\"kind\":\"function\"") == ET_SKB_HOPS_MAX - 2);
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);
}

/* At ET_SKB_JOURNEYS_MAX: the older half's packets that were neither
 * dropped nor reset make room; when nothing can go, a new packet is counted
 * and its hooks ignored. */
static void test_journeys_cap(void)
{
	struct et_model m;
	start(&m);
	const struct et_skbs *s = &m.net->skbs;
	m.net->skbs.backend = "tracepoint";
	uint64_t t = BASE + MS;
	const uint64_t base_skb = 0xffff888100000000ull;
	const size_t half = ET_SKB_JOURNEYS_MAX / 2;
	/* ET_SKB_JOURNEYS_MAX packets at their own addresses: consumed, but
	 * #5 dropped, #7 answered with a RST, #6000 dropped, the last open */
	for (uint64_t i = 0; i < ET_SKB_JOURNEYS_MAX; i++) {
		struct ev_skb p = pkt(base_skb + i * 0x100, 100, 4, "10.0.0.1", (uint16_t)(1000 + i % 50000), "10.0.0.2",
				      80, 6, 0x10);
		hop(&m, &p, t++, ET_SKB_DEV_QUEUE, 1, 0, 0, 100);
		if (i == 7)
			hop(&m, &p, t++, ET_SKB_SEND_RESET, 0, 0, 0, 0);
		if (i == 5 || i == 6000)
			hop(&m, &p, t++, ET_SKB_KFREE, 0, 0, no_socket, 0);
		else if (i + 1 < ET_SKB_JOURNEYS_MAX)
			hop(&m, &p, t++, ET_SKB_CONSUME, 0, 0, 0, 100);
	}
	CHECK(m.bad_records == 0);
	CHECK(s->n == ET_SKB_JOURNEYS_MAX && s->not_listed == 0);

	/* one more: the older half goes but #5 and #7 */
	struct ev_skb x = pkt(0xffff888200000000ull, 100, 4, "10.0.0.1", 40001, "10.0.0.2", 80, 6, 0x02);
	CHECK(hop(&m, &x, t++, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(s->not_listed == half - 2);
	CHECK(s->n == ET_SKB_JOURNEYS_MAX - (half - 2) + 1);
	if (s->n > 3) {
		CHECK(s->v[0].skb == base_skb + 5 * 0x100 && s->v[0].fate == ET_SKB_DROPPED);
		CHECK(s->v[1].skb == base_skb + 7 * 0x100 && s->v[1].reset);
		CHECK(s->v[2].skb == base_skb + half * 0x100);
		CHECK(s->v[s->n - 1].skb == x.skb && s->v[s->n - 1].nhops == 1);
	}
	/* the new packet's later hooks go to it, the open last one's to it */
	CHECK(hop(&m, &x, t++, ET_SKB_START_XMIT, 0, 0, 0, 100) == 0);
	struct ev_skb l = pkt(base_skb + (ET_SKB_JOURNEYS_MAX - 1) * 0x100, 100, 4, "10.0.0.1", 0, "10.0.0.2", 80, 6, 0x10);
	CHECK(hop(&m, &l, t++, ET_SKB_CONSUME, 0, 0, 0, 100) == 0);
	if (s->n > 2) {
		CHECK(s->v[s->n - 1].nhops == 2);
		CHECK(s->v[s->n - 2].nhops == 2 && s->v[s->n - 2].fate == ET_SKB_CONSUMED);
	}
	/* a consumed packet that went: a later record at its address (its
	 * next packet's first one lost) starts a journey, not an old one */
	struct ev_skb g = pkt(base_skb + 1 * 0x100, 100, 4, "10.0.0.1", 0, "10.0.0.2", 80, 6, 0x10);
	size_t n0 = s->n;
	CHECK(hop(&m, &g, t++, ET_SKB_RECEIVE, 0, 0, 0, 0) == 0);
	CHECK(s->n == n0 + 1);
	char *txt = text_of(&m);
	CHECK(strstr(txt, "older ones that were neither dropped nor answered with a RST go first)\n") != NULL);
	free(txt);
	model_free(&m);

	/* nothing can go (all dropped): a new packet is counted, its hooks ignored */
	start(&m);
	s = &m.net->skbs;   /* the new model's */
	for (uint64_t i = 0; i < ET_SKB_JOURNEYS_MAX; i++) {
		struct ev_skb p = pkt(base_skb + i * 0x100, 100, 4, "10.0.0.1", 1000, "10.0.0.2", 80, 6, 0x02);
		hop(&m, &p, t++, ET_SKB_DEV_QUEUE, 1, 0, 0, 100);
		hop(&m, &p, t++, ET_SKB_KFREE, 0, 0, no_socket, 0);
	}
	CHECK(s->n == ET_SKB_JOURNEYS_MAX);
	CHECK(hop(&m, &x, t++, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(hop(&m, &x, t++, ET_SKB_START_XMIT, 0, 0, 0, 100) == 0);
	CHECK(s->n == ET_SKB_JOURNEYS_MAX && s->not_listed == 1);
	/* its free ends it; a new packet there is counted again */
	CHECK(hop(&m, &x, t++, ET_SKB_KFREE, 0, 0, no_socket, 0) == 0);
	CHECK(hop(&m, &x, t++, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(s->not_listed == 2);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"not_listed\":2,") != NULL);
	CHECK(count_of(j, "{\"skb\":") == ET_SKB_JOURNEYS_MAX);
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);
}

/* ---- route lookups ------------------------------------------------------------------ */

static void test_routes(void)
{
	struct et_model m;
	start(&m);
	const struct et_skbs *s = &m.net->skbs;
	CHECK(route(&m, BASE + MS, 100, "10.0.0.2", 80, 0, 254, "eth0", "10.0.0.254") == 0);
	CHECK(route(&m, BASE + 2 * MS, 100, "10.0.0.2", 80, 0, 254, "eth0", "10.0.0.254") == 0);
	CHECK(route(&m, BASE + 3 * MS, 100, "10.0.0.2", 80, 0, 254, "eth0", "10.0.0.254") == 0);
	CHECK(s->nroutes == 1);
	if (s->nroutes >= 1)
		CHECK(s->routes[0].count == 3 && s->routes[0].ts == BASE + MS && s->routes[0].pid == 100);
	/* another destination, another port, another process, a failure: new entries */
	CHECK(route(&m, BASE + 4 * MS, 100, "10.0.0.3", 80, 0, 254, "eth0", NULL) == 0);
	CHECK(route(&m, BASE + 5 * MS, 100, "10.0.0.2", 81, 0, 254, "eth0", "10.0.0.254") == 0);
	CHECK(route(&m, BASE + 6 * MS, 101, "10.0.0.2", 80, 0, 254, "eth0", "10.0.0.254") == 0);
	CHECK(route(&m, BASE + 7 * MS, 100, "192.0.2.1", 443, -ENETUNREACH, 254, NULL, NULL) == 0);
	CHECK(route(&m, BASE + 8 * MS, 100, "192.0.2.1", 443, -EAGAIN, 100, NULL, NULL) == 0);
	CHECK(route(&m, BASE + 9 * MS, 100, "192.0.2.1", 443, -EAGAIN, 100, NULL, NULL) == 0);
	CHECK(route(&m, BASE + 10 * MS, 100, "192.0.2.1", 443, -ENETUNREACH, 254, NULL, NULL) == 0);
	CHECK(s->nroutes == 6);
	if (s->nroutes == 6) {
		CHECK(s->routes[1].count == 1 && s->routes[4].count == 2);
		CHECK(s->routes[4].ev.err == -ENETUNREACH && s->routes[5].ev.err == -EAGAIN);
		CHECK(s->routes[5].count == 2);
	}
	CHECK(!s->enabled);   /* route lookups alone do not turn --skb's packets on */
	CHECK(m.bad_records == 0);

	char *t = text_of(&m);
	CHECK(strstr(t, "  route lookups:\n") == t);
	CHECK(strstr(t, "    +1.000 ms  pid 100  10.0.0.2:80 TCP: dev eth0 via 10.0.0.254, table 254 (x3)\n") != NULL);
	CHECK(strstr(t, "    +4.000 ms  pid 100  10.0.0.3:80 TCP: dev eth0, table 254\n") != NULL);
	CHECK(strstr(t, "    +6.000 ms  pid 101  10.0.0.2:80 TCP: dev eth0 via 10.0.0.254, table 254\n") != NULL);
	CHECK(strstr(t, "    +7.000 ms  pid 100  192.0.2.1:443 TCP: no route (ENETUNREACH), table 254 (x2)\n") != NULL);
	CHECK(strstr(t, "    +8.000 ms  pid 100  192.0.2.1:443 TCP: no route in table 100 (x2)\n") != NULL);
	CHECK(strstr(t, "packets") == NULL);
	CHECK(count_of(t, "\n") == 7);
	free(t);

	char *j = json_of(&m);
	CHECK(strstr(j, ",\"routes\":[{") == j);
	CHECK(strstr(j, "\"skbs\":null") != NULL);
	CHECK(strstr(j, "\"dst\":\"10.0.0.2:80\",\"table\":254,\"oif\":0,\"found\":true,\"error\":null,"
		      "\"dev\":\"eth0\",\"gateway\":\"10.0.0.254\",\"netns\":4026531840,\"count\":3}") != NULL);
	CHECK(strstr(j, "\"found\":false,\"error\":\"ENETUNREACH\",\"dev\":null,\"gateway\":null") != NULL);
	CHECK(strstr(j, "\"error\":\"EAGAIN\"") != NULL);
	CHECK(strstr(j, "\"src\":\"10.0.0.1:0\"") != NULL);
	CHECK(strstr(j, "\"proto\":\"tcp\"") != NULL);
	CHECK(count_of(j, "\"count\":") == 6);
	CHECK(json_part_ok(j));
	free(j);

	/* the --events line of a route record */
	struct ev_route r;
	memset(&r, 0, sizeof(r));
	r.h.type = ET_EV_ROUTE;
	r.h.size = sizeof(r);
	r.h.ts = BASE + 2 * MS;
	r.h.pid = 7;
	r.h.tid = 8;
	r.ipver = 6;
	r.proto = 17;
	inet_pton(AF_INET6, "2001:db8::1", r.daddr);
	r.dport = 53;
	r.table = 254;
	snprintf(r.dev, sizeof(r.dev), "eth0");
	struct strbuf sb = STRBUF_INIT;
	skb_render_event(&m, &r.h, 12.5, &sb);
	CHECK_STR(sb_str(&sb), "{\"type\":\"route\",\"wall\":12.500000,\"t_ms\":2.000,\"pid\":7,\"tid\":8,"
			       "\"dst\":\"[2001:db8::1]:53\",\"table\":254,\"found\":true,\"dev\":\"eth0\"}\n");
	CHECK(json_ok(sb_str(&sb)));
	sb_free(&sb);
	model_free(&m);

	/* folding looks at the last few lookups only; and at most 1000 are kept */
	start(&m);
	s = &m.net->skbs;
	CHECK(route(&m, BASE + 1, 100, "10.1.0.0", 80, 0, 254, "eth0", NULL) == 0);
	for (int i = 1; i <= 8; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.1.0.%d", i);
		route(&m, BASE + 1 + (uint64_t)i, 100, a, 80, 0, 254, "eth0", NULL);
	}
	CHECK(s->nroutes == 9);
	CHECK(route(&m, BASE + 20, 100, "10.1.0.0", 80, 0, 254, "eth0", NULL) == 0);
	CHECK(s->nroutes == 10);   /* 9 lookups back: not folded */
	CHECK(route(&m, BASE + 21, 100, "10.1.0.3", 80, 0, 254, "eth0", NULL) == 0);
	CHECK(s->nroutes == 10);   /* 7 back: folded */
	int failed = 0;
	for (int i = 0; i < 1100; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.2.%d.%d", i / 256, i % 256);
		failed += route(&m, BASE + 100 + (uint64_t)i, 100, a, 80, 0, 254, "eth0", NULL) != 0;
	}
	CHECK(failed == 0);   /* past the cap: taken, not kept, counted */
	CHECK(s->nroutes == 1000);
	CHECK(s->routes_not_listed == 10 + 1100 - 1000);
	CHECK(m.bad_records == 0);
	j = json_of(&m);
	CHECK(count_of(j, "\"count\":") == 1000);
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);
}

/* ---- flags and titles ------------------------------------------------------------------ */

static const char *flags_of(uint8_t f, struct strbuf *sb)
{
	sb_reset(sb);
	skb_tcp_flags(f, sb);
	return sb_str(sb);
}

static void test_flags(void)
{
	struct strbuf sb = STRBUF_INIT;
	CHECK_STR(flags_of(0x02, &sb), "SYN");
	CHECK_STR(flags_of(0x12, &sb), "SYN|ACK");
	CHECK_STR(flags_of(0x14, &sb), "RST|ACK");
	CHECK_STR(flags_of(0x11, &sb), "FIN|ACK");
	CHECK_STR(flags_of(0x18, &sb), "PSH|ACK");
	CHECK_STR(flags_of(0x10, &sb), "ACK");
	CHECK_STR(flags_of(0x04, &sb), "RST");
	CHECK_STR(flags_of(0x3f, &sb), "SYN|RST|FIN|PSH|ACK|URG");
	CHECK_STR(flags_of(0xc0, &sb), "");   /* ECE, CWR: not named */
	CHECK_STR(flags_of(0, &sb), "");
	sb_free(&sb);
}

static const char *title_of(int ipver, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto,
			    uint8_t flags, struct strbuf *sb)
{
	struct et_skb_journey j;
	memset(&j, 0, sizeof(j));
	j.ipver = (uint8_t)ipver;
	inet_pton(ipver == 6 ? AF_INET6 : AF_INET, src, j.saddr);
	inet_pton(ipver == 6 ? AF_INET6 : AF_INET, dst, j.daddr);
	j.sport = sport;
	j.dport = dport;
	j.proto = proto;
	j.tcp_flags = flags;
	sb_reset(sb);
	skb_journey_title(&j, sb);
	return sb_str(sb);
}

static void test_titles(void)
{
	struct strbuf sb = STRBUF_INIT;
	CHECK_STR(title_of(4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x02, &sb), "10.0.0.1:40000 -> 10.0.0.2:80 TCP SYN");
	CHECK_STR(title_of(4, "10.0.0.2", 80, "10.0.0.1", 40000, 6, 0x14, &sb),
		  "10.0.0.2:80 -> 10.0.0.1:40000 TCP RST|ACK");
	CHECK_STR(title_of(4, "127.0.0.1", 1, "127.0.0.1", 2, 6, 0, &sb), "127.0.0.1:1 -> 127.0.0.1:2 TCP");
	CHECK_STR(title_of(6, "::1", 5, "::1", 6, 17, 0, &sb), "[::1]:5 -> [::1]:6 UDP");
	CHECK_STR(title_of(6, "::1", 5, "::1", 6, 17, 0x02, &sb), "[::1]:5 -> [::1]:6 UDP");   /* no flags for UDP */
	CHECK_STR(title_of(6, "2001:db8::1", 443, "fe80::1", 50000, 6, 0x12, &sb),
		  "[2001:db8::1]:443 -> [fe80::1]:50000 TCP SYN|ACK");
	CHECK_STR(title_of(4, "10.0.0.1", 0, "10.0.0.2", 0, 1, 0, &sb), "10.0.0.1 -> 10.0.0.2 ICMP");
	/* ICMP has no ports even when the fields are not 0 */
	CHECK_STR(title_of(4, "10.0.0.1", 8, "10.0.0.2", 9, 1, 0, &sb), "10.0.0.1 -> 10.0.0.2 ICMP");
	CHECK_STR(title_of(6, "::1", 0, "::2", 0, 58, 0, &sb), "::1 -> ::2 ICMPv6");
	CHECK_STR(title_of(4, "10.0.0.1", 0, "10.0.0.2", 0, 47, 0, &sb), "10.0.0.1 -> 10.0.0.2 proto 47");
	/* UDP with both ports 0: none shown */
	CHECK_STR(title_of(4, "10.0.0.1", 0, "10.0.0.2", 0, 17, 0, &sb), "10.0.0.1 -> 10.0.0.2 UDP");
	sb_free(&sb);
}

/* ---- the text report --------------------------------------------------------------------- */

static void test_text(void)
{
	struct et_model m;
	start(&m);
	m.net->skbs.backend = "tracepoint";
	journeys(&m);
	/* a packet with an unknown drop reason, its device name quoted */
	struct ev_skb u = pkt(SKB_C, 100, 6, "::1", 5, "::1", 6, 17, 0);
	memcpy(u.ifname, "a\"b\\c\x01", 7);
	u.netns = 7;
	CHECK(hop(&m, &u, BASE + 3 * MS, ET_SKB_NETIF_RX, 1, 0, 0, 100) == 0);
	CHECK(hop(&m, &u, BASE + 3 * MS + 500, ET_SKB_KFREE, 0, 0, 100000, 100) == 0);
	/* a device name of 16 bytes with no terminator: 15 kept */
	struct ev_skb v = pkt(SKB_D, 100, 4, "10.0.0.1", 0, "10.0.0.2", 0, 1, 0);
	memcpy(v.ifname, "0123456789abcdef", 16);
	CHECK(hop(&m, &v, BASE + 4 * MS, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	CHECK(m.net->skbs.n == 4);
	if (m.net->skbs.n == 4)
		CHECK_STR(m.net->skbs.v[3].hops[0].ifname, "0123456789abcde");

	char *t = text_of(&m);
	CHECK(strstr(t, "  packets (--skb via tracepoint): 4 followed, 2 dropped\n") == t);
	CHECK(strstr(t, "  #1 +1.000 ms  pid 100  10.0.0.1:40000 -> 10.0.0.2:80 TCP SYN: dropped (NO_SOCKET), "
			"answered with a RST\n") != NULL);
	CHECK(strstr(t, "         +0.000 ms  net_dev_queue            eth0 (ns 4026531840) 60 B\n") != NULL);
	CHECK(strstr(t, "         +0.010 ms  net_dev_start_xmit       eth0 (ns 4026531840) 60 B\n") != NULL);
	CHECK(strstr(t, "         +0.020 ms  net_dev_xmit             eth0 (ns 4026531840) 60 B NET_XMIT_DROP\n") !=
	      NULL);
	CHECK(strstr(t, "         +0.030 ms  netif_rx                 eth0 (ns 4026531840) 60 B  [in pid 200]\n") !=
	      NULL);
	CHECK(strstr(t, "         +0.040 ms  netif_receive_skb        eth0 (ns 4026531840) 60 B  [softirq]\n") != NULL);
	CHECK(strstr(t, "         +0.050 ms  0xffffffff81a00000       eth0 (ns 4026531840) 60 B  [softirq]\n"
			"          stack: 0xffffffff81000100 <- 0xffffffff81000200 <- 0xffffffff81000300\n") != NULL);
	CHECK(strstr(t, "         +0.060 ms  tcp_send_reset           eth0 (ns 4026531840) 60 B  [softirq]\n") != NULL);
	CHECK(strstr(t, "         +0.070 ms  kfree_skb                eth0 (ns 4026531840) 60 B NO_SOCKET "
			"by 0xffffffff81a00010  [softirq]\n") != NULL);
	CHECK(strstr(t, "  #2 +2.000 ms  pid 300  10.0.0.9:53 -> 10.0.0.1:5353 UDP: delivered to the program\n") !=
	      NULL);
	CHECK(strstr(t, "         +0.002 ms  consume_skb              60 B by 0xffffffff81a00020\n") != NULL);
	CHECK(strstr(t, "         +0.001 ms  skb_copy_datagram_iovec  60 B\n") != NULL);
	CHECK(strstr(t, "  #3 +3.000 ms  pid 100  [::1]:5 -> [::1]:6 UDP: dropped (?)\n") != NULL);
	CHECK(strstr(t, " kfree_skb                a\"b\\c\x01 (ns 7) 60 B reason 100000\n") != NULL);
	CHECK(strstr(t, "  #4 +4.000 ms  pid 100  10.0.0.1 -> 10.0.0.2 ICMP: not freed where a hook saw it\n") !=
	      NULL);
	CHECK(strstr(t, "0123456789abcde (ns 0)") != NULL);
	CHECK(strstr(t, "(... ") == NULL);
	CHECK(strstr(t, "shown") == NULL);
	CHECK(strstr(t, "not kept") == NULL);
	CHECK(strstr(t, "more hooks") == NULL);
	free(t);

	/* the kernel counters, the filter, the function backend */
	m.net->skbs.backend = "kprobe-multi";
	m.net->skbs.nfuncs = 123;
	m.net->skbs.followed = 9;
	m.net->skbs.filtered = 5;
	m.net->skbs.filter = "tcp port 80";
	t = text_of(&m);
	CHECK(strstr(t, "  packets (--skb via kprobe-multi, 123 kernel functions): 9 followed matching 'tcp port 80', "
			"5 of the tree's not matching, 2 dropped\n") == t);
	free(t);
	model_free(&m);

	/* --skb on, nothing seen */
	start(&m);
	m.net->skbs.enabled = true;
	t = text_of(&m);
	CHECK_STR(t, "  packets (--skb via ?): 0 followed, 0 dropped\n    (none)\n");
	free(t);
	char *j = json_of(&m);
	CHECK_STR(j, ",\"routes\":[],\"routes_not_listed\":0,\"skbs\":{\"backend\":null,\"filter\":null,\"functions\":0,\"followed\":0,"
		     "\"filtered_out\":0,\"not_listed\":0,\"packets\":[]}");
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);
}

/* n packets, consumed but those in drops[] (dropped, NO_SOCKET). */
static void many(struct et_model *m, size_t n, const size_t *drops, size_t ndrops, uint32_t reason)
{
	for (size_t i = 0; i < n; i++) {
		struct ev_skb p = pkt(0xffff888300000000ull + i * 0x100, 100, 4, "10.0.0.1", (uint16_t)(10000 + i),
				      "10.0.0.2", 80, 6, 0x10);
		bool drop = false;
		for (size_t k = 0; k < ndrops; k++)
			drop |= drops[k] == i;
		hop(m, &p, BASE + (i + 1) * MS, ET_SKB_DEV_QUEUE, 1, 0, 0, 100);
		hop(m, &p, BASE + (i + 1) * MS + 1000, drop ? ET_SKB_KFREE : ET_SKB_CONSUME, 0, 0, drop ? reason : 0, 0);
	}
}

static void test_many(void)
{
	struct et_model m;

	/* 40: all of them */
	start(&m);
	many(&m, 40, NULL, 0, 0);
	char *t = text_of(&m);
	CHECK(count_of(t, ": consumed\n") == 40);
	CHECK(strstr(t, "(... ") == NULL && strstr(t, "shown") == NULL);
	free(t);
	model_free(&m);

	/* 41, no drops: the first and the last 10 */
	start(&m);
	many(&m, 41, NULL, 0, 0);
	t = text_of(&m);
	CHECK(count_of(t, ": consumed\n") == 20);
	CHECK(strstr(t, "  #10 +10.000 ms") != NULL);
	CHECK(strstr(t, "  #11 +") == NULL);
	CHECK(strstr(t, "  (... 21 packets)\n  #32 +32.000 ms") != NULL);
	CHECK(strstr(t, "  #31 +") == NULL);
	CHECK(strstr(t, "  #41 +41.000 ms") != NULL);
	CHECK(strstr(t, "  (20 of 41 packets shown: the JSON report has them all)\n") != NULL);
	free(t);
	char *j = json_of(&m);
	CHECK(count_of(j, "\"fate\":\"consumed\"") == 41);
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);

	/* 60 with drops at #26 and #31 */
	static const size_t d2[] = { 25, 30 };
	start(&m);
	many(&m, 60, d2, 2, no_socket);
	t = text_of(&m);
	CHECK(strstr(t, "): 60 followed, 2 dropped\n") != NULL);
	CHECK(count_of(t, ": consumed\n") == 20);
	CHECK(count_of(t, ": dropped (NO_SOCKET)\n") == 2);
	CHECK(strstr(t, "  #10 +10.000 ms") != NULL);
	CHECK(strstr(t, "  (... 15 packets)\n  #26 +26.000 ms  pid 100  10.0.0.1:10025 -> 10.0.0.2:80 TCP ACK: "
			"dropped (NO_SOCKET)\n") != NULL);
	CHECK(strstr(t, "  (... 4 packets)\n  #31 +31.000 ms") != NULL);
	CHECK(strstr(t, "  (... 19 packets)\n  #51 +51.000 ms") != NULL);
	CHECK(strstr(t, "  #50 +") == NULL && strstr(t, "  #25 +") == NULL && strstr(t, "  #11 +") == NULL);
	CHECK(strstr(t, "  #60 +60.000 ms") != NULL);
	CHECK(count_of(t, "(... ") == 3);
	CHECK(strstr(t, "  (22 of 60 packets shown: the JSON report has them all)\n") != NULL);
	free(t);
	j = json_of(&m);
	CHECK(count_of(j, "\"fate\":\"dropped\"") == 2);
	CHECK(count_of(j, "\"drop_reason\":\"NO_SOCKET\"") == 2);
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);

	/* 100 with 30 drops (#21..#50): 20 of them, the first and last 10 others */
	size_t d30[30];
	for (size_t i = 0; i < 30; i++)
		d30[i] = 20 + i;
	start(&m);
	many(&m, 100, d30, 30, no_socket);
	t = text_of(&m);
	CHECK(strstr(t, "): 100 followed, 30 dropped\n") != NULL);
	CHECK(count_of(t, ": dropped (NO_SOCKET)\n") == 20);
	CHECK(count_of(t, ": consumed\n") == 20);
	CHECK(strstr(t, "  (... 10 packets)\n  #21 +21.000 ms") != NULL);
	CHECK(strstr(t, "  #40 +40.000 ms") != NULL && strstr(t, "  #41 +") == NULL);
	CHECK(strstr(t, "  (... 50 packets)\n  #91 +91.000 ms") != NULL);
	CHECK(strstr(t, "  (40 of 100 packets shown: the JSON report has them all)\n") != NULL);
	free(t);
	model_free(&m);

	/* the teardown of a socket's queue is no drop worth showing */
	uint32_t purge = reason_named("QUEUE_PURGE");
	if (purge != UINT32_MAX) {
		static const size_t d1[] = { 25 };
		start(&m);
		many(&m, 60, d1, 1, purge);
		t = text_of(&m);
		CHECK(strstr(t, "): 60 followed, 0 dropped\n") != NULL);
		CHECK(strstr(t, "  #26 +") == NULL);
		CHECK(strstr(t, "  (20 of 60 packets shown") != NULL);
		free(t);
		model_free(&m);
	} else {
		printf("(no QUEUE_PURGE drop reason in this kernel: skipped)\n");
	}
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void test_json(void)
{
	struct et_model m;
	start(&m);
	m.net->skbs.backend = "tracepoint";
	m.net->skbs.filter = "port \"80\"";
	journeys(&m);
	CHECK(route(&m, BASE + MS / 2, 100, "10.0.0.2", 80, 0, 254, "eth0", NULL) == 0);
	struct ev_skb u = pkt(SKB_C, 100, 6, "::1", 5, "::1", 6, 17, 0);
	memcpy(u.ifname, "a\"b\\c\x01", 7);
	CHECK(hop(&m, &u, BASE + 3 * MS, ET_SKB_NETIF_RX, 1, 0, 0, 100) == 0);
	CHECK(hop(&m, &u, BASE + 3 * MS + 500, ET_SKB_KFREE, 0, 0, 100000, 100) == 0);
	struct ev_skb o = pkt(SKB_D, 100, 4, "10.0.0.1", 0, "10.0.0.2", 0, 47, 0);
	CHECK(hop(&m, &o, BASE + 4 * MS, ET_SKB_DEV_QUEUE, 1, 0, 0, 100) == 0);
	char *j = json_of(&m);
	CHECK(strstr(j, ",\"routes\":[{\"t_ms\":0.500,\"pid\":100,") == j);
	CHECK(strstr(j, "],\"routes_not_listed\":0,\"skbs\":{\"backend\":\"tracepoint\",\"filter\":\"port \\\"80\\\"\",\"functions\":0,"
			"\"followed\":4,\"filtered_out\":0,\"not_listed\":0,\"packets\":[{") != NULL);
	CHECK(strstr(j, "{\"skb\":\"0xffff888001000100\",\"t_ms\":1.000,\"pid\":100,\"tid\":101,\"ip\":4,"
			"\"proto\":\"tcp\",\"src\":\"10.0.0.1:40000\",\"dst\":\"10.0.0.2:80\",\"tcp_flags\":\"SYN\","
			"\"fate\":\"dropped\",\"drop_reason\":\"NO_SOCKET\",\"delivered\":false,\"reset\":true,"
			"\"hops\":[{\"t_ms\":1.000,\"hook\":\"net_dev_queue\",\"kind\":\"tracepoint\","
			"\"ifname\":\"eth0\",\"ifindex\":2,\"netns\":4026531840,\"len\":60,\"running_pid\":100,"
			"\"reason\":null,\"freed_by\":null,\"stack\":[]}") != NULL);
	CHECK(strstr(j, "\"fate\":\"dropped\"") != NULL);
	CHECK(strstr(j, "\"drop_reason\":\"NO_SOCKET\"") != NULL);
	CHECK(strstr(j, "\"routes\":[") != NULL);
	CHECK(strstr(j, "\"hook\":\"net_dev_xmit\",") != NULL);
	CHECK(strstr(j, "\"reason\":\"NET_XMIT_DROP\"") != NULL);
	CHECK(strstr(j, "{\"t_ms\":1.050,\"hook\":\"0xffffffff81a00000\",\"kind\":\"function\",") != NULL);
	CHECK(strstr(j, "\"stack\":[\"0xffffffff81000100\",\"0xffffffff81000200\",\"0xffffffff81000300\"]") != NULL);
	CHECK(strstr(j, "\"hook\":\"kfree_skb\",") != NULL);
	CHECK(strstr(j, "\"running_pid\":0,\"reason\":\"NO_SOCKET\",\"freed_by\":\"0xffffffff81a00010\"") != NULL);
	CHECK(strstr(j, "\"proto\":\"udp\",\"src\":\"10.0.0.9:53\",\"dst\":\"10.0.0.1:5353\",\"tcp_flags\":null,"
			"\"fate\":\"consumed\",\"drop_reason\":null,\"delivered\":true,\"reset\":false") != NULL);
	CHECK(strstr(j, "\"freed_by\":\"0xffffffff81a00020\"") != NULL);
	CHECK(strstr(j, "\"ip\":6,\"proto\":\"udp\",\"src\":\"[::1]:5\",\"dst\":\"[::1]:6\"") != NULL);
	CHECK(strstr(j, "\"fate\":\"dropped\",\"drop_reason\":\"100000\"") != NULL);
	CHECK(strstr(j, "\"reason\":\"reason 100000\"") != NULL);
	CHECK(strstr(j, "\"ifname\":\"a\\\"b\\\\c") != NULL);
	CHECK(strstr(j, "\"proto\":\"47\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\",\"tcp_flags\":null,\"fate\":\"open\"") !=
	      NULL);
	CHECK(strstr(j, "\"hops_not_listed\":0}]}") != NULL);
	CHECK(j[strlen(j) - 1] == '}');
	CHECK(json_part_ok(j));
	free(j);

	/* the --events lines of packet records */
	struct strbuf sb = STRBUF_INIT;
	struct ev_skb e = pkt(SKB_A, 100, 4, "10.0.0.1", 40000, "10.0.0.2", 80, 6, 0x02);
	snprintf(e.ifname, sizeof(e.ifname), "lo");
	e.netns = 5;
	e.h.ts = BASE + 3 * MS;
	e.hook = ET_SKB_KFREE;
	e.reason = no_socket;
	skb_render_event(&m, &e.h, 1.25, &sb);
	CHECK_STR(sb_str(&sb), "{\"type\":\"packet\",\"wall\":1.250000,\"t_ms\":3.000,\"pid\":100,\"tid\":101,"
			       "\"skb\":\"0xffff888001000100\",\"hook\":\"kfree_skb\",\"ifname\":\"lo\",\"netns\":5,"
			       "\"len\":60,\"proto\":\"tcp\",\"src\":\"10.0.0.1:40000\",\"dst\":\"10.0.0.2:80\","
			       "\"reason\":\"NO_SOCKET\"}\n");
	CHECK(json_ok(sb_str(&sb)));
	sb_reset(&sb);
	memcpy(e.ifname, "0123456789\"bcdef", 16);   /* unterminated, a quote */
	e.ipver = 0;
	e.hook = ET_SKB_FUNC;
	e.func = FUNC_ADDR;
	skb_render_event(&m, &e.h, 1.25, &sb);
	CHECK(strstr(sb_str(&sb), "\"hook\":\"0xffffffff81a00000\",\"ifname\":\"0123456789\\\"bcdef\",") != NULL);
	CHECK(strstr(sb_str(&sb), "\"src\"") == NULL);
	CHECK(strstr(sb_str(&sb), "\"reason\":null}\n") != NULL);
	CHECK(json_ok(sb_str(&sb)));
	sb_free(&sb);
	model_free(&m);

	/* not enabled */
	start(&m);
	j = json_of(&m);
	CHECK_STR(j, ",\"routes\":[],\"routes_not_listed\":0,\"skbs\":null");
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);

	/* the checker itself says no to broken JSON */
	CHECK(!json_part_ok(",\"routes\":[,\"skbs\":null"));
}

/* ---- kernel symbols --------------------------------------------------------------------- */

static void test_ksyms(void)
{
	if (geteuid() != 0) {
		printf("(not root: /proc/kallsyms shows no addresses, kernel names skipped)\n");
		return;
	}
	char err[256] = "";
	struct ksyms *k = ksyms_load("/proc/kallsyms", err, sizeof(err));
	CHECK(k != NULL);
	if (!k) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	uint64_t a = ksyms_addr(k, "tcp_v4_rcv");
	CHECK(a != 0);
	if (!a) {
		ksyms_free(k);
		return;
	}
	struct et_model m;
	start(&m);
	m.net->skbs.ksyms = k;   /* the model frees it */
	m.net->skbs.backend = "kprobe-multi";
	struct ev_skb p = pkt(SKB_A, 100, 4, "10.0.0.2", 80, "10.0.0.1", 40000, 6, 0x12);
	uint64_t stack[2] = { a + 0x10, 0x10 };
	CHECK(hop(&m, &p, BASE + MS, ET_SKB_RECEIVE, 1, 0, 0, 0) == 0);
	CHECK(hop_stack(&m, &p, BASE + MS + 1000, ET_SKB_FUNC, 0, a, 0, 0, stack, 2) == 0);
	CHECK(hop(&m, &p, BASE + MS + 2000, ET_SKB_FUNC, 0, a + 0x10, 0, 0) == 0);
	CHECK(hop(&m, &p, BASE + MS + 3000, ET_SKB_KFREE, 0, a + 0x10, no_socket, 0) == 0);
	CHECK(m.net->skbs.n == 1 && m.net->skbs.v[0].nhops == 4);

	struct strbuf sb = STRBUF_INIT;
	if (m.net->skbs.n == 1 && m.net->skbs.v[0].nhops == 4) {
		CHECK_STR(name_of(&m.net->skbs, &m.net->skbs.v[0].hops[1], &sb), "tcp_v4_rcv");
		CHECK_STR(name_of(&m.net->skbs, &m.net->skbs.v[0].hops[2], &sb), "tcp_v4_rcv+0x10");
		CHECK_STR(name_of(&m.net->skbs, &m.net->skbs.v[0].hops[3], &sb), "kfree_skb");
	}
	sb_reset(&sb);
	skb_kaddr(&m.net->skbs, a, &sb);
	CHECK_STR(sb_str(&sb), "tcp_v4_rcv");
	sb_reset(&sb);
	skb_kaddr(&m.net->skbs, 0x10, &sb);   /* below every symbol */
	CHECK_STR(sb_str(&sb), "0x10");
	sb_free(&sb);

	char *t = text_of(&m);
	CHECK(strstr(t, "  packets (--skb via kprobe-multi): 1 followed, 1 dropped\n") == t);
	CHECK(strstr(t, " ms  tcp_v4_rcv               60 B  [softirq]\n          stack: tcp_v4_rcv+0x10 <- 0x10\n") !=
	      NULL);
	CHECK(strstr(t, " ms  tcp_v4_rcv+0x10          60 B  [softirq]\n") != NULL);
	CHECK(strstr(t, " ms  kfree_skb                60 B NO_SOCKET by tcp_v4_rcv+0x10  [softirq]\n") != NULL);
	CHECK(strstr(t, "0xffff") == NULL);
	free(t);
	char *j = json_of(&m);
	CHECK(strstr(j, "\"hook\":\"tcp_v4_rcv\",\"kind\":\"function\"") != NULL);
	CHECK(strstr(j, "\"hook\":\"tcp_v4_rcv+0x10\",\"kind\":\"function\"") != NULL);
	CHECK(strstr(j, "\"stack\":[\"tcp_v4_rcv+0x10\",\"0x10\"]") != NULL);
	CHECK(strstr(j, "\"freed_by\":\"tcp_v4_rcv+0x10\"") != NULL);
	CHECK(json_part_ok(j));
	free(j);
	model_free(&m);
	CHECK(m.net == NULL);   /* freed with the network's state, ksyms and all */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);   /* a python3 that stops reading fails its check, not the test */
	no_socket = reason_named("NO_SOCKET");
	CHECK(no_socket != UINT32_MAX);
	if (no_socket == UINT32_MAX) {
		fprintf(stderr, "no SKB_DROP_REASON_NO_SOCKET in this kernel's BTF\n");
		return unit_done();
	}
	CHECK_STR(skb_drop_reason_name(no_socket), "NO_SOCKET");
	CHECK(skb_drop_reason_name(100000) == NULL);
	test_journey();
	test_reuse();
	test_bad_records();
	test_hops_cap();
	test_journeys_cap();
	test_routes();
	test_flags();
	test_titles();
	test_text();
	test_many();
	test_json();
	test_ksyms();
	return unit_done();
}
