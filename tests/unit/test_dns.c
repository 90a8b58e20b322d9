/*
 * Unit tests of the DNS wire decoder (reports/net/dns.c) and of the UDP flows
 * and DNS lookups the model learns from syscall records (reports/net/udp.c):
 * well-formed messages of the usual types, compression, every truncation
 * of a message, compression loops, oversized and odd names, random bytes.
 */
#include "unit.h"
#include "reports/net/netstate.h"
#include "reports/syscalls/decode.h"
#include "reports/net/dns.h"
#include "reports/core/model.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/net/udp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

/* ---- building messages --------------------------------------------------------- */

struct msgbuf {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct msgbuf *m, unsigned v)
{
	if (m->n < sizeof(m->b))
		m->b[m->n++] = (uint8_t)v;
}

static void put16(struct msgbuf *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msgbuf *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void putbytes(struct msgbuf *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(m, ((const uint8_t *)p)[i]);
}

/* "a.b" -> 1 a 1 b 0 (no compression) */
static void putname(struct msgbuf *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)n);
		putbytes(m, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	put8(m, 0);
}

static void header(struct msgbuf *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
		   unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void query(struct msgbuf *m, unsigned id, const char *name, unsigned type)
{
	header(m, id, 0x0100, 1, 0, 0, 0);
	putname(m, name);
	put16(m, type);
	put16(m, 1);
}

/* An RR whose owner is a pointer to the question name (offset 12). */
static void rr_ptr12(struct msgbuf *m, unsigned type, uint32_t ttl, const void *rd, size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (unsigned)rdlen);
	putbytes(m, rd, rdlen);
}

/* ---- the decoder ---------------------------------------------------------------- */

static struct dns_msg msg;

static void test_names(void)
{
	char tn[16], rn[16];
	CHECK_STR(dns_type_name(1, tn, sizeof(tn)), "A");
	CHECK_STR(dns_type_name(28, tn, sizeof(tn)), "AAAA");
	CHECK_STR(dns_type_name(5, tn, sizeof(tn)), "CNAME");
	CHECK_STR(dns_type_name(12, tn, sizeof(tn)), "PTR");
	CHECK_STR(dns_type_name(65, tn, sizeof(tn)), "HTTPS");
	CHECK_STR(dns_type_name(257, tn, sizeof(tn)), "CAA");
	CHECK_STR(dns_type_name(65534, tn, sizeof(tn)), "TYPE65534");
	CHECK_STR(dns_rcode_name(0, rn, sizeof(rn)), "NOERROR");
	CHECK_STR(dns_rcode_name(2, rn, sizeof(rn)), "SERVFAIL");
	CHECK_STR(dns_rcode_name(3, rn, sizeof(rn)), "NXDOMAIN");
	CHECK_STR(dns_rcode_name(5, rn, sizeof(rn)), "REFUSED");
	CHECK_STR(dns_rcode_name(16, rn, sizeof(rn)), "BADVERS");
	CHECK_STR(dns_rcode_name(99, rn, sizeof(rn)), "RCODE99");
}

static void test_query(void)
{
	struct msgbuf m;
	query(&m, 0x1234, "example.test", 28);
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK(msg.id == 0x1234 && msg.qr == 0 && msg.rd == 1 && msg.opcode == 0);
	CHECK(msg.has_question && msg.qtype == 28 && msg.qclass == 1);
	CHECK_STR(msg.qname, "example.test");
	CHECK(!msg.cut && !msg.error && msg.nanswers == 0);
	/* too short for a header */
	CHECK(dns_parse(m.b, 11, &msg) == -1);
	CHECK(dns_parse(NULL, 0, &msg) == -1);
	/* the root name */
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 0);
	put16(&m, 2);
	put16(&m, 1);
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK_STR(msg.qname, ".");
}

/* example.test: CNAME www.example.test (compressed: "www" + pointer),
 * A 10.1.2.3, AAAA fd00::1, PTR, MX, SRV, TXT, an unknown type */
static void build_answer(struct msgbuf *m)
{
	header(m, 0xbeef, 0x8180, 1, 8, 0, 0);
	putname(m, "example.test");
	put16(m, 1);
	put16(m, 1);
	/* CNAME www.<ptr 12> */
	uint8_t cname[] = { 3, 'w', 'w', 'w', 0xc0, 0x0c };
	rr_ptr12(m, DNS_TYPE_CNAME, 300, cname, sizeof(cname));
	uint8_t a[4] = { 10, 1, 2, 3 };
	rr_ptr12(m, DNS_TYPE_A, 60, a, 4);
	uint8_t aaaa[16];
	inet_pton(AF_INET6, "fd00::1", aaaa);
	rr_ptr12(m, DNS_TYPE_AAAA, 60, aaaa, 16);
	uint8_t ptr[] = { 4, 'h', 'o', 's', 't', 0xc0, 0x0c };
	rr_ptr12(m, DNS_TYPE_PTR, 60, ptr, sizeof(ptr));
	uint8_t mx[] = { 0, 10, 2, 'm', 'x', 0xc0, 0x0c };
	rr_ptr12(m, DNS_TYPE_MX, 60, mx, sizeof(mx));
	uint8_t srv[] = { 0, 1, 0, 2, 0x01, 0xbb, 3, 's', 'r', 'v', 0xc0, 0x0c };
	rr_ptr12(m, DNS_TYPE_SRV, 60, srv, sizeof(srv));
	uint8_t txt[] = { 2, 'h', 'i', 3, 'a', '"', 1 };
	rr_ptr12(m, DNS_TYPE_TXT, 60, txt, sizeof(txt));
	uint8_t odd[] = { 1, 2, 3 };
	rr_ptr12(m, 4711, 60, odd, sizeof(odd));
}

static void test_answers(void)
{
	struct msgbuf m;
	build_answer(&m);
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK(msg.qr == 1 && msg.id == 0xbeef && msg.rcode == 0 && msg.ra == 1);
	CHECK(!msg.cut && !msg.error);
	CHECK(msg.nanswers == 8 && msg.ancount == 8);
	CHECK_STR(msg.answers[0].name, "example.test");
	CHECK(msg.answers[0].type == DNS_TYPE_CNAME && msg.answers[0].ttl == 300);
	CHECK_STR(msg.answers[0].data, "www.example.test");
	CHECK_STR(msg.answers[1].data, "10.1.2.3");
	CHECK_STR(msg.answers[2].data, "fd00::1");
	CHECK_STR(msg.answers[3].data, "host.example.test");
	CHECK_STR(msg.answers[4].data, "10 mx.example.test");
	CHECK_STR(msg.answers[5].data, "1 2 443 srv.example.test");
	CHECK_STR(msg.answers[6].data, "\"hi\" \"a\\\"\\001\"");
	CHECK_STR(msg.answers[7].data, "TYPE4711 (3 bytes)");

	/* NXDOMAIN with an SOA in the authority section */
	header(&m, 7, 0x8183, 1, 0, 1, 0);
	putname(&m, "missing.test");
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c + 8); /* "test" inside the question name */
	put16(&m, DNS_TYPE_SOA);
	put16(&m, 1);
	put32(&m, 60);
	struct msgbuf rd = { .n = 0 };
	putname(&rd, "ns.test");
	putname(&rd, "admin.test");
	for (int i = 0; i < 5; i++)
		put32(&rd, 100 + (uint32_t)i);
	put16(&m, (unsigned)rd.n);
	putbytes(&m, rd.b, rd.n);
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK(msg.rcode == DNS_RCODE_NXDOMAIN && msg.nanswers == 0 && !msg.cut && !msg.error);
	CHECK_STR(msg.qname, "missing.test");

	/* EDNS: an OPT record's extended rcode bits (BADVERS = 16) */
	header(&m, 8, 0x8180, 1, 0, 0, 1);
	putname(&m, "x.test");
	put16(&m, 1);
	put16(&m, 1);
	put8(&m, 0);           /* root */
	put16(&m, DNS_TYPE_OPT);
	put16(&m, 1232);       /* the payload size in the class field */
	put32(&m, 1u << 24);   /* extended rcode 1: rcode 16 */
	put16(&m, 0);
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK(msg.rcode == 16);

	/* more answers than kept */
	header(&m, 9, 0x8180, 1, DNS_ANSWERS_MAX + 4, 0, 0);
	putname(&m, "many.test");
	put16(&m, 1);
	put16(&m, 1);
	for (int i = 0; i < DNS_ANSWERS_MAX + 4; i++) {
		uint8_t a[4] = { 10, 0, 0, (uint8_t)i };
		rr_ptr12(&m, DNS_TYPE_A, 1, a, 4);
	}
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK(msg.nanswers == DNS_ANSWERS_MAX && !msg.cut && !msg.error);
	CHECK_STR(msg.answers[DNS_ANSWERS_MAX - 1].data, "10.0.0.15");

	/* A with a wrong length is shown by type and size */
	header(&m, 10, 0x8180, 1, 1, 0, 0);
	putname(&m, "a.test");
	put16(&m, 1);
	put16(&m, 1);
	rr_ptr12(&m, DNS_TYPE_A, 1, "abc", 3);
	CHECK(dns_parse(m.b, m.n, &msg) == 0);
	CHECK_STR(msg.answers[0].data, "A (3 bytes)");
}

/* Every prefix of a message decodes without reading past it; those that
 * hold the header say they were cut. */
static void test_truncated(void)
{
	struct msgbuf m;
	build_answer(&m);
	int all_ok = 1;
	for (size_t n = 0; n < m.n; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches any overread */
		memcpy(copy, m.b, n);
		int rc = dns_parse(copy, n, &msg);
		if (n < 12 && rc != -1)
			all_ok = 0;
		if (n >= 12 && (rc != 0 || !msg.cut || msg.nanswers >= 8))
			all_ok = 0;
		free(copy);
	}
	CHECK(all_ok);
	/* a question cut in the middle of its name */
	query(&m, 1, "example.test", 1);
	CHECK(dns_parse(m.b, 16, &msg) == 0 && msg.cut && !msg.has_question);
	/* a record whose rdlength runs past the end */
	header(&m, 1, 0x8180, 1, 1, 0, 0);
	putname(&m, "a.test");
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 1);
	put16(&m, 400);
	put32(&m, 0x0a000001);
	CHECK(dns_parse(m.b, m.n, &msg) == 0 && msg.cut && msg.nanswers == 0);
}

static void test_loops_and_bad_names(void)
{
	struct msgbuf m;
	char out[DNS_NAME_MAX];
	const char *err = NULL;
	size_t off;

	/* a pointer to itself */
	header(&m, 1, 0, 1, 0, 0, 0);
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	CHECK(dns_parse(m.b, m.n, &msg) == 0 && msg.error && !msg.has_question);
	CHECK_STR(msg.error, "compression pointer loop");

	/* a label, then a pointer back to that label: "a.a.a..." forever */
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 1);
	put8(&m, 'a');
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	CHECK(dns_parse(m.b, m.n, &msg) == 0 && msg.error && !msg.has_question);

	/* two names pointing at each other */
	header(&m, 1, 0x8180, 1, 1, 0, 0);
	put16(&m, 0xc000 | 18);  /* question name at 12 -> 18 */
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0xc00c);       /* at 18 -> 12 */
	CHECK(dns_parse(m.b, m.n, &msg) == 0 && msg.error);

	/* a pointer forward, and one past the end */
	uint8_t fwd[] = { 0xc0, 0x04, 0, 0, 1, 'x', 0 };
	off = 0;
	CHECK(dns_read_name(fwd, sizeof(fwd), &off, out, sizeof(out), &err) == -1);
	uint8_t past[] = { 0xc0 };
	off = 0;
	CHECK(dns_read_name(past, sizeof(past), &off, out, sizeof(out), &err) == -1);
	CHECK_STR(err, "name runs past the end");

	/* a chain of pointers, each to the one before: ends, and is allowed */
	struct msgbuf c = { .n = 0 };
	put8(&c, 1);
	put8(&c, 'z');
	put8(&c, 0);             /* "z" at 0 */
	size_t prev = 0;
	for (int i = 0; i < 200; i++) {
		size_t here = c.n;
		put16(&c, 0xc000 | (unsigned)prev);
		prev = here;
	}
	off = prev;
	CHECK(dns_read_name(c.b, c.n, &off, out, sizeof(out), &err) == 0);
	CHECK_STR(out, "z");
	CHECK(off == prev + 2);

	/* longer than 255 bytes on the wire */
	struct msgbuf l = { .n = 0 };
	for (int i = 0; i < 5; i++) {
		put8(&l, 63);
		for (int k = 0; k < 63; k++)
			put8(&l, 'a');
	}
	put8(&l, 0);
	off = 0;
	CHECK(dns_read_name(l.b, l.n, &off, out, sizeof(out), &err) == -1);
	CHECK_STR(err, "name longer than 255 bytes");

	/* the reserved label types 0x40 and 0x80 */
	uint8_t ext[] = { 0x41, 'a', 0 };
	off = 0;
	CHECK(dns_read_name(ext, sizeof(ext), &off, out, sizeof(out), &err) == -1);

	/* dots, backslashes and unprintable bytes inside labels are escaped */
	uint8_t odd[] = { 4, 'a', '.', 0x07, '\\', 2, 'o', ' ', 0 };
	off = 0;
	CHECK(dns_read_name(odd, sizeof(odd), &off, out, sizeof(out), &err) == 0);
	CHECK_STR(out, "a\\.\\007\\\\.o\\032");
	CHECK(off == sizeof(odd));

	/* a small output buffer cuts the text, never overflows */
	char small[6];
	off = 0;
	uint8_t nm[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0 };
	CHECK(dns_read_name(nm, sizeof(nm), &off, small, sizeof(small), &err) == 0);
	CHECK_STR(small, "examp");
}

/* Random bytes and random mutations of a good message: no crash, no
 * overread (under ASan), bounded results. */
static void test_fuzz(void)
{
	struct msgbuf good;
	build_answer(&good);
	unsigned seed = 12345;
	int ok = 1;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n;
		uint8_t *b;
		seed = seed * 1103515245u + 12345u;
		if (iter % 2) {
			n = good.n;
			b = malloc(n);
			memcpy(b, good.b, n);
			for (int k = 0; k < 4; k++) {
				seed = seed * 1103515245u + 12345u;
				b[(seed >> 8) % n] = (uint8_t)(seed >> 20);
			}
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 8) % (n + 1);
		} else {
			n = (seed >> 8) % 600;
			b = malloc(n ? n : 1);
			for (size_t k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				b[k] = (uint8_t)(seed >> 16);
				/* plenty of pointers and small labels */
				if ((seed & 7) == 0)
					b[k] |= 0xc0;
			}
		}
		int rc = dns_parse(b, n, &msg);
		if (rc == 0 && (msg.nanswers > DNS_ANSWERS_MAX || strlen(msg.qname) >= DNS_NAME_MAX))
			ok = 0;
		for (size_t k = 0; rc == 0 && k < msg.nanswers; k++)
			if (strlen(msg.answers[k].data) >= DNS_DATA_MAX || strlen(msg.answers[k].name) >= DNS_NAME_MAX)
				ok = 0;
		free(b);
	}
	CHECK(ok);
}

/* ---- flows and lookups from records ---------------------------------------------- */

#define REC_BYTES (sizeof(struct ev_syscall) + ET_CAP_AREA + ET_CAP_MAX_ONE)

struct rec {
	_Alignas(8) unsigned char buf[REC_BYTES];
};

static struct ev_syscall *ev_new(struct rec *r, const char *name, long long ret, uint64_t enter, uint64_t ts)
{
	memset(r->buf, 0, sizeof(r->buf));
	struct ev_syscall *ev = (struct ev_syscall *)r->buf;
	ev->h.type = ET_EV_SYSCALL;
	ev->h.size = sizeof(*ev);
	ev->h.pid = 4242;
	ev->h.tid = 4242;
	ev->h.ts = ts;
	ev->enter_ts = enter;
	ev->nr = (et_u32)syscall_nr(name);
	ev->ret = ret;
	ev->args[0] = 3;
	ev->args[1] = 0x1000;
	return ev;
}

static void cap_add(struct ev_syscall *ev, int arg, int kind, int seq, const void *data, size_t len)
{
	unsigned char *area = (unsigned char *)ev + sizeof(*ev);
	struct ev_capture *c = (struct ev_capture *)(area + ev->cap_len);
	memset(c, 0, sizeof(*c));
	c->arg = (et_u8)arg;
	c->kind = (et_u8)kind;
	c->seq = (et_u8)seq;
	c->len = (et_u16)len;
	memcpy(c + 1, data, len);
	ev->cap_len = (et_u32)((ev->cap_len + sizeof(*c) + len + 7) & ~(size_t)7);
	ev->ncap++;
	ev->h.size = (et_u32)(sizeof(*ev) + ev->cap_len);
}

static void ends_add_port(struct ev_syscall *ev, int dir, uint32_t dgrams, uint32_t bytes, uint16_t lport,
			  uint16_t rport)
{
	struct et_sock_ends e;
	memset(&e, 0, sizeof(e));
	e.sk = rport ? 0xffff888012345678ull : 0xffff888087654321ull;
	e.family = AF_INET;
	e.lport = lport;
	e.rport = rport;
	e.dir = (et_u8)dir;
	e.datagrams = dgrams;
	e.bytes = bytes;
	uint32_t lo = htonl(INADDR_LOOPBACK);
	memcpy(e.laddr, &lo, 4);
	if (rport)
		memcpy(e.raddr, &lo, 4);
	cap_add(ev, 6, ET_CAP_SOCK_ENDS, 0, &e, sizeof(e));
}

/* a socket on local port 40000; rport 0: another, unconnected socket */
static void ends_add(struct ev_syscall *ev, int dir, uint32_t dgrams, uint32_t bytes, uint16_t rport)
{
	ends_add_port(ev, dir, dgrams, bytes, 40000, rport);
}

static void msg_add(struct ev_syscall *ev, int seq, const struct msgbuf *m)
{
	uint8_t buf[sizeof(struct et_msg) + 4096];
	struct et_msg h = { .len = (et_u32)m->n, .namelen = 0, .flags = 0 };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), m->b, m->n);
	cap_add(ev, 1, ET_CAP_MSG, seq, buf, sizeof(h) + m->n);
}

static void test_model(void)
{
	struct et_model m;
	model_init(&m);
	m.start_ts = 1000000;
	struct rec r;
	struct msgbuf qa, qaaaa, ans, nx;
	query(&qa, 0x100, "example.test", 1);
	query(&qaaaa, 0x101, "example.test", 28);

	/* sendmmsg of both queries on a socket connected to 127.0.0.1:53 */
	struct ev_syscall *ev = ev_new(&r, "sendmmsg", 2, 2000000, 2050000);
	ends_add(ev, ET_DIR_SENT, 2, (uint32_t)(qa.n + qaaaa.n), 53);
	msg_add(ev, 0, &qa);
	msg_add(ev, 1, &qaaaa);
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	/* recvfrom of the A answer, 0.45 ms after the send began */
	header(&ans, 0x100, 0x8180, 1, 1, 0, 0);
	putname(&ans, "example.test");
	put16(&ans, 1);
	put16(&ans, 1);
	uint8_t a[4] = { 10, 1, 2, 3 };
	rr_ptr12(&ans, 1, 60, a, 4);
	ev = ev_new(&r, "recvfrom", (long long)ans.n, 2400000, 2450000);
	ends_add(ev, ET_DIR_RECV, 1, (uint32_t)ans.n, 53);
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, ans.b, ans.n);
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	/* the AAAA answer says NXDOMAIN; its capture arrives cut after the question */
	header(&nx, 0x101, 0x8183, 1, 1, 0, 0);
	putname(&nx, "example.test");
	put16(&nx, 28);
	put16(&nx, 1);
	ev = ev_new(&r, "recvfrom", (long long)nx.n + 10, 2500000, 2600000);
	ends_add(ev, ET_DIR_RECV, 1, (uint32_t)nx.n + 10, 53);
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, nx.b, nx.n);
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	/* an unrelated datagram to another port from an unconnected socket */
	ev = ev_new(&r, "sendto", 5, 2700000, 2710000);
	ends_add(ev, ET_DIR_SENT, 1, 5, 0);
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "hello", 5);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cap_add(ev, 4, ET_CAP_SOCKADDR_IN, 0, &to, sizeof(to));
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	/* a datagram to port 53 that is not DNS */
	ev = ev_new(&r, "sendto", 3, 2800000, 2810000);
	ends_add(ev, ET_DIR_SENT, 1, 3, 0);
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "abc", 3);
	to.sin_port = htons(53);
	cap_add(ev, 4, ET_CAP_SOCKADDR_IN, 0, &to, sizeof(to));
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	CHECK(m.net->udp.nflows == 3);
	const struct et_udp_flow *f = &m.net->udp.flows[0];
	CHECK(f->pid == 4242 && f->dgrams_sent == 2 && f->dgrams_recv == 2);
	CHECK(f->bytes_sent == qa.n + qaaaa.n && f->bytes_recv == ans.n + nx.n + 10);
	CHECK(f->remote.port == 53 && f->local.port == 40000 && f->dns_messages == 4);
	CHECK(m.net->udp.flows[1].remote.port == 9999 && m.net->udp.flows[1].bytes_sent == 5 && m.net->udp.flows[1].dns_messages == 0);
	CHECK(m.net->udp.dns_undecoded == 1);

	CHECK(m.net->udp.ndns == 2);
	const struct et_dns_lookup *d = &m.net->udp.dns[0];
	CHECK(d->pid == 4242 && d->role == ET_DNS_CLIENT && d->qtype == 1 && d->rcode == 0);
	CHECK_STR(d->name, "example.test");
	CHECK(d->nanswers == 1);
	CHECK(d->answer_ts - d->query_ts == 450000);
	struct strbuf sb = STRBUF_INIT;
	udp_dns_summary(d, &sb);
	CHECK_STR(sb_str(&sb), "example.test A -> 10.1.2.3 (0.5 ms)");
	sb_reset(&sb);
	udp_dns_summary(&m.net->udp.dns[1], &sb);
	CHECK_STR(sb_str(&sb), "example.test AAAA -> NXDOMAIN (0.6 ms)");
	sb_reset(&sb);
	udp_render_json_dns(&m, &sb);
	CHECK(strstr(sb_str(&sb), "\"rcode\":\"NXDOMAIN\"") != NULL);
	CHECK(strstr(sb_str(&sb), "\"server\":\"127.0.0.1:53\",\"client\":\"127.0.0.1:40000\"") != NULL);
	CHECK(strstr(sb_str(&sb), "\"data\":\"10.1.2.3\"") != NULL);
	sb_free(&sb);

	/* the events joined the process's notes (the crash rewind) */
	const struct et_process *p = model_process(&m, 4242);
	int queries = 0, answers = 0;
	for (size_t i = 0; p && process_note(p, i); i++) {
		const char *t = process_note(p, i)->text;
		queries += strncmp(t, "dns query example.test", 22) == 0;
		answers += strcmp(t, "dns example.test A -> 10.1.2.3 (0.5 ms)") == 0;
	}
	CHECK(queries == 2 && answers == 1);
	model_free(&m);
}

/* The tree as a DNS server: the query is received, the answer sent. */
static void test_model_server(void)
{
	struct et_model m;
	model_init(&m);
	struct rec r;
	struct msgbuf q, ans;
	query(&q, 0x777, "srv.test", 1);
	struct sockaddr_in client = { .sin_family = AF_INET, .sin_port = htons(5555) };
	client.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	struct ev_syscall *ev = ev_new(&r, "recvfrom", (long long)q.n, 1000, 2000);
	ends_add_port(ev, ET_DIR_RECV, 1, (uint32_t)q.n, 53, 0);
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, q.b, q.n);
	cap_add(ev, 4, ET_CAP_SOCKADDR_OUT, 0, &client, sizeof(client));
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	header(&ans, 0x777, 0x8180, 1, 1, 0, 0);
	putname(&ans, "srv.test");
	put16(&ans, 1);
	put16(&ans, 1);
	uint8_t a[4] = { 192, 0, 2, 1 };
	rr_ptr12(&ans, 1, 5, a, 4);
	ev = ev_new(&r, "sendto", (long long)ans.n, 3000, 4000);
	ends_add_port(ev, ET_DIR_SENT, 1, (uint32_t)ans.n, 53, 0);
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, ans.b, ans.n);
	cap_add(ev, 4, ET_CAP_SOCKADDR_IN, 0, &client, sizeof(client));
	CHECK(model_ingest(&m, r.buf, ev->h.size) == 0);

	CHECK(m.net->udp.nflows == 1 && m.net->udp.flows[0].dgrams_recv == 1 && m.net->udp.flows[0].dgrams_sent == 1);
	CHECK(m.net->udp.flows[0].remote.port == 5555 && m.net->udp.flows[0].local.port == 53);
	CHECK(m.net->udp.ndns == 1);
	const struct et_dns_lookup *d = &m.net->udp.dns[0];
	CHECK(d->role == ET_DNS_SERVER && d->peer.port == 5555 && d->nanswers == 1);
	CHECK(d->query_ts == 1000 && d->answer_ts == 4000);
	struct strbuf sb = STRBUF_INIT;
	udp_render_json_dns(&m, &sb);
	CHECK(strstr(sb_str(&sb), "\"role\":\"server\",\"server\":\"127.0.0.1:53\",\"client\":\"127.0.0.1:5555\"") != NULL);
	sb_free(&sb);
	model_free(&m);
}

/* The strace-style view of the message captures. */
static void test_decode_messages(void)
{
	struct rec r;
	struct msgbuf q;
	struct strbuf sb = STRBUF_INIT;
	struct decode_ctx ctx = { NULL, NULL, 8 };
	query(&q, 0x4142, "a.test", 1);

	struct ev_syscall *ev = ev_new(&r, "sendmmsg", 2, 1, 2);
	ev->args[2] = 2;
	msg_add(ev, 0, &q);
	msg_add(ev, 1, &q);
	decode_arg(ev, 1, &ctx, &sb);
	CHECK_STR(sb_str(&sb), "[{msg_data=\"AB\\x01\\x00\\x00\\x01\\x00\\x00\"..., msg_len=24}, "
			       "{msg_data=\"AB\\x01\\x00\\x00\\x01\\x00\\x00\"..., msg_len=24}]");
	/* more messages sent than captured */
	ev->ret = 9;
	sb_reset(&sb);
	decode_arg(ev, 1, &ctx, &sb);
	CHECK(strstr(sb_str(&sb), "msg_len=24}, ...]") != NULL);

	/* recvmsg: the sender's address, then the data */
	ev = ev_new(&r, "recvmsg", 3, 1, 2);
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(53) };
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint8_t buf[64];
	struct et_msg h = { .len = 3, .namelen = sizeof(from) };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &from, sizeof(from));
	memcpy(buf + sizeof(h) + sizeof(from), "xyz", 3);
	cap_add(ev, 1, ET_CAP_MSG, 0, buf, sizeof(h) + sizeof(from) + 3);
	sb_reset(&sb);
	decode_arg(ev, 1, &ctx, &sb);
	CHECK_STR(sb_str(&sb), "{msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"127.0.0.1\")}, "
			       "msg_data=\"xyz\"}");

	/* a header that claims more address than the capture holds: the pointer */
	ev = ev_new(&r, "recvmsg", 3, 1, 2);
	h.namelen = 200;
	memcpy(buf, &h, sizeof(h));
	cap_add(ev, 1, ET_CAP_MSG, 0, buf, sizeof(h) + 4);
	sb_reset(&sb);
	decode_arg(ev, 1, &ctx, &sb);
	CHECK_STR(sb_str(&sb), "0x1000");
	sb_free(&sb);
}

int main(void)
{
	if (syscall_table_init() < 0) {
		fprintf(stderr, "libseccomp does not work\n");
		return 1;
	}
	test_names();
	test_query();
	test_answers();
	test_truncated();
	test_loops_and_bad_names();
	test_fuzz();
	test_model();
	test_model_server();
	test_decode_messages();
	return unit_done();
}
