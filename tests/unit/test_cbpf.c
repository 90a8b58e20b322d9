/*
 * Unit tests of the classic BPF interpreter (bpf/cbpf.h) and of the pcap
 * filter compiler wrapper (reports/net/pcapfilter.c): filters compiled by
 * libpcap run over IPv4/IPv6 packets built here must accept and reject
 * exactly as libpcap's own bpf_filter() does on the same first 256 bytes,
 * plus expected truths written by hand, hand-assembled programs for the
 * opcodes pcap rarely emits, and the compiler's error messages.
 */
#include "unit.h"
#include "../../bpf/cbpf.h"
#include "reports/net/pcapfilter.h"

#include <arpa/inet.h>
#include <pcap/bpf.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- building packets ----------------------------------------------------------- */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

struct pkt {
	const char *name;
	uint8_t b[2048];
	unsigned len;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fill_payload(uint8_t *p, unsigned n, const char *data)
{
	size_t dl = data ? strlen(data) : 0;
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = i < dl ? (uint8_t)data[i] : (uint8_t)('a' + i % 26);
}

/* A TCP header with optlen bytes of options (NOPs, then an end), then data. */
static unsigned tcp(uint8_t *p, unsigned sport, unsigned dport, unsigned flags, unsigned optlen,
		    unsigned payload, const char *data)
{
	unsigned hl = 20 + optlen, i;

	memset(p, 0, hl);
	put16(p, sport);
	put16(p + 2, dport);
	p[4] = 0x12; p[5] = 0x34; p[6] = 0x56; p[7] = 0x78;           /* seq */
	if (flags & TH_ACK)
		p[11] = 1;                                              /* ack */
	p[12] = (uint8_t)((hl / 4) << 4);
	p[13] = (uint8_t)flags;
	put16(p + 14, 65535);
	for (i = 0; i < optlen; i++)
		p[20 + i] = i + 1 < optlen ? 1 : 0;
	fill_payload(p + hl, payload, data);
	return hl + payload;
}

static unsigned udp(uint8_t *p, unsigned sport, unsigned dport, unsigned payload)
{
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, 8 + payload);
	put16(p + 6, 0);
	fill_payload(p + 8, payload, NULL);
	return 8 + payload;
}

static unsigned icmp_echo(uint8_t *p, unsigned type, unsigned payload)
{
	memset(p, 0, 8);
	p[0] = (uint8_t)type;
	p[7] = 1;
	fill_payload(p + 8, payload, NULL);
	return 8 + payload;
}

/* An IPv4 header (optlen bytes of options) then the l4 bytes. frag is the
 * flags and fragment offset field. */
static void ip4(struct pkt *k, const char *name, const char *src, const char *dst, unsigned proto,
		unsigned ttl, unsigned optlen, unsigned frag, const uint8_t *l4, unsigned l4len)
{
	uint8_t *p = k->b;
	unsigned hl = 20 + optlen;

	memset(p, 0, hl);
	k->name = name;
	p[0] = (uint8_t)(0x40 | (hl / 4));
	put16(p + 2, hl + l4len);
	put16(p + 4, 0x1234);
	put16(p + 6, frag);
	p[8] = (uint8_t)ttl;
	p[9] = (uint8_t)proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	if (optlen)
		p[20] = 1;   /* NOP options, then end of list */
	memcpy(p + hl, l4, l4len);
	k->len = hl + l4len;
}

static void ip6(struct pkt *k, const char *name, const char *src, const char *dst, unsigned nh,
		unsigned hlim, const uint8_t *l4, unsigned l4len)
{
	uint8_t *p = k->b;

	memset(p, 0, 40);
	k->name = name;
	p[0] = 0x60;
	put16(p + 4, l4len);
	p[6] = (uint8_t)nh;
	p[7] = (uint8_t)hlim;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	memcpy(p + 40, l4, l4len);
	k->len = 40 + l4len;
}

enum {
	P_TCP4_SYN, P_TCP4_ACK_OPT, P_TCP4_RST_IPOPT, P_TCP4_BIG, P_TCP4_GET, P_TCP4_5999,
	P_UDP4_DNS, P_UDP4_MDNS, P_UDP4_6001, P_ICMP4, P_FRAG4_LATER, P_FRAG4_FIRST, P_TRUNC4,
	P_TCP6_SYN, P_TCP6_ACK, P_UDP6_MDNS, P_UDP6_DNS, P_ICMP6, P_NPKTS
};

static struct pkt pkts[P_NPKTS];

static void build_packets(void)
{
	uint8_t l4[2048];
	unsigned n;

	n = tcp(l4, 40000, 5555, TH_SYN, 0, 0, NULL);
	ip4(&pkts[P_TCP4_SYN], "tcp4 syn 10.1.2.3:40000>127.0.0.2:5555", "10.1.2.3", "127.0.0.2", 6, 64, 0, 0x4000, l4, n);
	n = tcp(l4, 80, 51000, TH_ACK, 12, 100, NULL);
	ip4(&pkts[P_TCP4_ACK_OPT], "tcp4 ack+opts 127.0.0.1:80>127.0.0.1:51000", "127.0.0.1", "127.0.0.1", 6, 63, 0, 0x4000, l4, n);
	n = tcp(l4, 443, 33000, TH_RST | TH_ACK, 0, 0, NULL);
	ip4(&pkts[P_TCP4_RST_IPOPT], "tcp4 rst ipopts 192.168.1.1:443>10.0.0.5:33000", "192.168.1.1", "10.0.0.5", 6, 32, 4, 0, l4, n);
	n = tcp(l4, 12345, 22, TH_PSH | TH_ACK, 0, 400, NULL);
	ip4(&pkts[P_TCP4_BIG], "tcp4 440 bytes 10.9.9.9:12345>10.0.0.1:22", "10.9.9.9", "10.0.0.1", 6, 64, 0, 0x4000, l4, n);
	n = tcp(l4, 51001, 80, TH_PSH | TH_ACK, 12, 40, "GET / HTTP/1.1\r\n");
	ip4(&pkts[P_TCP4_GET], "tcp4 GET 127.0.0.1:51001>127.0.0.1:80", "127.0.0.1", "127.0.0.1", 6, 64, 0, 0x4000, l4, n);
	n = tcp(l4, 5999, 443, TH_FIN | TH_ACK, 0, 0, NULL);
	ip4(&pkts[P_TCP4_5999], "tcp4 fin 10.2.0.1:5999>10.3.0.1:443", "10.2.0.1", "10.3.0.1", 6, 255, 0, 0, l4, n);
	n = udp(l4, 53000, 53, 40);
	ip4(&pkts[P_UDP4_DNS], "udp4 127.0.0.1:53000>127.0.0.53:53", "127.0.0.1", "127.0.0.53", 17, 64, 0, 0x4000, l4, n);
	n = udp(l4, 5353, 5353, 200);
	ip4(&pkts[P_UDP4_MDNS], "udp4 172.16.0.1:5353>224.0.0.251:5353", "172.16.0.1", "224.0.0.251", 17, 255, 0, 0, l4, n);
	n = udp(l4, 6001, 6000, 10);
	ip4(&pkts[P_UDP4_6001], "udp4 10.0.0.7:6001>10.0.0.8:6000", "10.0.0.7", "10.0.0.8", 17, 64, 0, 0, l4, n);
	n = icmp_echo(l4, 8, 56);
	ip4(&pkts[P_ICMP4], "icmp4 echo 127.0.0.1>127.0.0.2", "127.0.0.1", "127.0.0.2", 1, 128, 0, 0x4000, l4, n);
	/* a later fragment: its first bytes are data, not a UDP header */
	fill_payload(l4, 60, NULL);
	ip4(&pkts[P_FRAG4_LATER], "frag4 offset 1480 10.0.0.1>10.0.0.2", "10.0.0.1", "10.0.0.2", 17, 64, 0, 185, l4, 60);
	n = tcp(l4, 40001, 5555, TH_ACK, 0, 100, NULL);
	ip4(&pkts[P_FRAG4_FIRST], "frag4 first (MF) 10.0.0.1:40001>10.0.0.2:5555", "10.0.0.1", "10.0.0.2", 6, 64, 0, 0x2000, l4, n);
	/* an IPv4 header alone that says TCP: every TCP field is past the end */
	ip4(&pkts[P_TRUNC4], "ip4 header only, proto tcp", "10.0.0.1", "10.0.0.2", 6, 64, 0, 0, l4, 0);
	n = tcp(l4, 40000, 22, TH_SYN, 20, 0, NULL);
	ip6(&pkts[P_TCP6_SYN], "tcp6 syn [::1]:40000>[::1]:22", "::1", "::1", 6, 64, l4, n);
	n = tcp(l4, 443, 50000, TH_ACK, 0, 300, NULL);
	ip6(&pkts[P_TCP6_ACK], "tcp6 ack 360 bytes [2001:db8::1]:443>[2001:db8::2]:50000", "2001:db8::1", "2001:db8::2", 6, 60, l4, n);
	n = udp(l4, 5353, 5353, 30);
	ip6(&pkts[P_UDP6_MDNS], "udp6 [fe80::1]:5353>[ff02::fb]:5353", "fe80::1", "ff02::fb", 17, 255, l4, n);
	n = udp(l4, 50000, 53, 33);
	ip6(&pkts[P_UDP6_DNS], "udp6 [::1]:50000>[::1]:53", "::1", "::1", 17, 64, l4, n);
	n = icmp_echo(l4, 128, 8);
	ip6(&pkts[P_ICMP6], "icmp6 echo [::1]>[::1]", "::1", "::1", 58, 64, l4, n);
}

/* ---- running filters ------------------------------------------------------------- */

/* Runs insns over the packet's first bytes with bpf/cbpf.h. */
static et_u32 run_cbpf(const struct et_cbpf_insn *insns, unsigned n, const uint8_t *b, unsigned len)
{
	static struct et_cbpf_run r;
	unsigned cap = len < ET_CBPF_PKT ? len : ET_CBPF_PKT;

	memset(&r, 0xa5, sizeof(r));   /* run_all must reset the registers */
	memcpy(r.pkt, b, cap);
	r.pktlen = cap;
	r.wirelen = len;
	return et_cbpf_run_all(&r, insns, n);
}

/* The same with libpcap's interpreter. */
static unsigned run_pcap(const struct et_cbpf_insn *insns, unsigned n, const uint8_t *b, unsigned len)
{
	struct bpf_insn bi[ET_CBPF_MAX];
	unsigned cap = len < ET_CBPF_PKT ? len : ET_CBPF_PKT, i;

	for (i = 0; i < n; i++) {
		bi[i].code = insns[i].code;
		bi[i].jt = insns[i].jt;
		bi[i].jf = insns[i].jf;
		bi[i].k = insns[i].k;
	}
	return bpf_filter(bi, b, len, cap);
}

static const char *const filters[] = {
	"tcp", "udp", "icmp", "icmp6", "ip6", "ip", "ip proto 17",
	"tcp port 5555", "src port 40000", "dst port 53", "tcp src port 443",
	"dst host 127.0.0.2", "host ::1", "net 10.0.0.0/8", "src net 192.168.0.0/16",
	"dst net 224.0.0.0/4", "ip6 dst net ff02::/16", "host 2001:db8::2",
	"tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-rst) != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "tcp[tcpflags] & tcp-fin != 0",
	"ip[8] < 64", "ip6[7] = 255", "len > 100", "len >= 300", "greater 60", "less 50",
	"not tcp", "not ip6 and not icmp", "tcp and (port 80 or port 443)",
	"ip6 and tcp dst port 22", "ip[6:2] & 0x1fff != 0", "ip[6] & 0x20 != 0",
	"udp port 53", "port 53 or port 5353", "portrange 5000-6000", "tcp portrange 5000-6000",
	"udp dst portrange 6000-6001", "ip[0] & 0xf > 5", "tcp[12] >> 4 > 5",
	"tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", "ip[2:2] / 4 > 50", "ip[2:2] % 7 = 3",
	"udp[4:2] * 2 > 100", "ip[2:2] - 20 > 100", "ip[8] ^ 0x40 = 0", "ip[8] | 1 = 65",
	"ip[8] << 1 = 128", "ip[8] & 0xc0 = 0x40", "-ip[8] = 0xffffffc0", "len - 20 > 100",
	"ip[300] = 121", "ip6 protochain 6", "ip protochain 17", "ip host 127.0.0.1 and tcp",
	"ip multicast", "ip6 multicast", "udp and ip[2:2] > 200", "icmp[icmptype] = icmp-echo",
};

#define NFILTERS (sizeof(filters) / sizeof(filters[0]))

/* Every filter over every packet: the interpreter agrees with bpf_filter(). */
static void test_against_libpcap(void)
{
	struct et_cbpf_insn insns[ET_CBPF_MAX];
	unsigned f, i, n, accepts = 0, rejects = 0, agree = 0, total = 0;
	char err[512];

	for (f = 0; f < NFILTERS; f++) {
		unsigned fa = 0;

		if (pcapfilter_compile(filters[f], insns, ET_CBPF_MAX, &n, err, sizeof(err)) != 0) {
			fprintf(stderr, "FAIL compiling %s: %s\n", filters[f], err);
			unit_failed++;
			continue;
		}
		for (i = 0; i < P_NPKTS; i++) {
			et_u32 got = run_cbpf(insns, n, pkts[i].b, pkts[i].len);
			unsigned want = run_pcap(insns, n, pkts[i].b, pkts[i].len);

			total++;
			if ((got != 0) == (want != 0) && got == want) {
				agree++;
			} else {
				fprintf(stderr, "FAIL filter '%s' packet '%s': cbpf %u libpcap %u\n",
					filters[f], pkts[i].name, got, want);
			}
			if (got) {
				accepts++;
				fa++;
			} else {
				rejects++;
			}
		}
		/* each filter but the one reading past the 256 bytes tells packets apart */
		if (strcmp(filters[f], "ip[300] = 121") != 0)
			CHECK(fa > 0 && fa < P_NPKTS);
	}
	CHECK(agree == total);
	CHECK(total == NFILTERS * P_NPKTS);
	CHECK(accepts > 100 && rejects > 100);
	printf("libpcap comparison: %u filters x %u packets, %u accepted, %u rejected\n",
	       (unsigned)NFILTERS, (unsigned)P_NPKTS, accepts, rejects);
}

/* 1 if expr accepts packet i. */
static int accepts(const char *expr, int i)
{
	struct et_cbpf_insn insns[ET_CBPF_MAX];
	char err[512];
	unsigned n;

	if (pcapfilter_compile(expr, insns, ET_CBPF_MAX, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "compiling %s: %s\n", expr, err);
		return -1;
	}
	return run_cbpf(insns, n, pkts[i].b, pkts[i].len) != 0;
}

static void test_truths(void)
{
	CHECK(accepts("tcp port 5555", P_TCP4_SYN) == 1);
	CHECK(accepts("tcp port 5555", P_TCP4_ACK_OPT) == 0);
	CHECK(accepts("tcp port 5555", P_FRAG4_FIRST) == 1);
	CHECK(accepts("tcp port 80", P_TCP4_ACK_OPT) == 1);
	CHECK(accepts("tcp port 80", P_TCP4_GET) == 1);
	CHECK(accepts("udp port 80", P_TCP4_GET) == 0);
	CHECK(accepts("tcp", P_TCP6_SYN) == 1);
	CHECK(accepts("tcp", P_UDP6_DNS) == 0);
	CHECK(accepts("tcp", P_TRUNC4) == 1);            /* the protocol byte is there */
	CHECK(accepts("tcp port 5555", P_TRUNC4) == 0);  /* the ports are not */
	CHECK(accepts("udp", P_UDP4_DNS) == 1);
	CHECK(accepts("udp", P_ICMP4) == 0);
	CHECK(accepts("icmp", P_ICMP4) == 1);
	CHECK(accepts("icmp", P_ICMP6) == 0);
	CHECK(accepts("icmp6", P_ICMP6) == 1);
	CHECK(accepts("ip6", P_TCP6_ACK) == 1);
	CHECK(accepts("ip6", P_TCP4_SYN) == 0);
	CHECK(accepts("ip", P_TCP4_SYN) == 1);
	CHECK(accepts("ip", P_UDP6_MDNS) == 0);
	CHECK(accepts("src port 40000", P_TCP4_SYN) == 1);
	CHECK(accepts("src port 40000", P_TCP6_SYN) == 1);
	CHECK(accepts("dst port 40000", P_TCP4_SYN) == 0);
	CHECK(accepts("dst host 127.0.0.2", P_TCP4_SYN) == 1);
	CHECK(accepts("dst host 127.0.0.2", P_ICMP4) == 1);
	CHECK(accepts("src host 127.0.0.2", P_ICMP4) == 0);
	CHECK(accepts("host ::1", P_TCP6_SYN) == 1);
	CHECK(accepts("host ::1", P_TCP6_ACK) == 0);
	CHECK(accepts("host ::1", P_TCP4_ACK_OPT) == 0);
	CHECK(accepts("net 10.0.0.0/8", P_TCP4_SYN) == 1);
	CHECK(accepts("net 10.0.0.0/8", P_TCP4_ACK_OPT) == 0);
	CHECK(accepts("tcp[tcpflags] & tcp-syn != 0", P_TCP4_SYN) == 1);
	CHECK(accepts("tcp[tcpflags] & tcp-syn != 0", P_TCP4_ACK_OPT) == 0);
	CHECK(accepts("tcp[tcpflags] & (tcp-rst) != 0", P_TCP4_RST_IPOPT) == 1);  /* IP options */
	CHECK(accepts("tcp[tcpflags] & (tcp-rst) != 0", P_TCP4_SYN) == 0);
	CHECK(accepts("ip[8] < 64", P_TCP4_RST_IPOPT) == 1);
	CHECK(accepts("ip[8] < 64", P_TCP4_SYN) == 0);
	CHECK(accepts("len > 100", P_TCP4_ACK_OPT) == 1);    /* 152 bytes */
	CHECK(accepts("len > 100", P_TCP4_SYN) == 0);        /* 40 bytes */
	CHECK(accepts("len > 400", P_TCP4_BIG) == 1);        /* the wire length, not the 256 seen */
	CHECK(accepts("greater 60", P_TCP4_SYN) == 0);
	CHECK(accepts("less 50", P_TCP4_SYN) == 1);
	CHECK(accepts("not tcp", P_UDP4_DNS) == 1);
	CHECK(accepts("not tcp", P_TCP6_ACK) == 0);
	CHECK(accepts("tcp and (port 80 or port 443)", P_TCP4_5999) == 1);
	CHECK(accepts("tcp and (port 80 or port 443)", P_TCP4_SYN) == 0);
	CHECK(accepts("tcp and (port 80 or port 443)", P_TCP6_ACK) == 1);
	CHECK(accepts("ip6 and tcp dst port 22", P_TCP6_SYN) == 1);
	CHECK(accepts("ip6 and tcp dst port 22", P_TCP4_BIG) == 0);
	CHECK(accepts("ip[6:2] & 0x1fff != 0", P_FRAG4_LATER) == 1);
	CHECK(accepts("ip[6:2] & 0x1fff != 0", P_FRAG4_FIRST) == 0);
	CHECK(accepts("udp", P_FRAG4_LATER) == 1);
	CHECK(accepts("udp port 53", P_FRAG4_LATER) == 0);   /* no UDP header in a later fragment */
	CHECK(accepts("udp port 53", P_UDP4_DNS) == 1);
	CHECK(accepts("udp port 53", P_UDP6_DNS) == 1);
	CHECK(accepts("udp port 53", P_UDP4_MDNS) == 0);
	CHECK(accepts("portrange 5000-6000", P_TCP4_5999) == 1);
	CHECK(accepts("portrange 5000-6000", P_UDP4_6001) == 1);   /* dst 6000 */
	CHECK(accepts("portrange 5000-6000", P_TCP4_ACK_OPT) == 0);
	CHECK(accepts("src portrange 6000-7000", P_UDP4_6001) == 1);
	CHECK(accepts("tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", P_TCP4_GET) == 1);
	CHECK(accepts("tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", P_TCP4_ACK_OPT) == 0);
	CHECK(accepts("ip[300] = 0", P_TCP4_BIG) == 0);      /* past the 256 bytes seen */
	CHECK(accepts("ip6 protochain 6", P_TCP6_SYN) == 1);
	CHECK(accepts("ip6 protochain 6", P_UDP6_DNS) == 0);
}

/* ---- hand-assembled programs ----------------------------------------------------- */

#define I(c, t, f, kk) { (et_u16)(c), (et_u8)(t), (et_u8)(f), (et_u32)(kk) }
#define LD_IMM(v)   I(ET_CBPF_LD | ET_CBPF_IMM, 0, 0, v)
#define LDX_IMM(v)  I(ET_CBPF_LDX | ET_CBPF_IMM, 0, 0, v)
#define ALU_X(op)   I(ET_CBPF_ALU | (op) | ET_CBPF_X, 0, 0, 0)
#define ALU_K(op, v) I(ET_CBPF_ALU | (op) | ET_CBPF_K, 0, 0, v)
#define RET_A       I(ET_CBPF_RET | ET_CBPF_A, 0, 0, 0)
#define RET_K(v)    I(ET_CBPF_RET | ET_CBPF_K, 0, 0, v)

static const uint8_t small_pkt[10] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };

static et_u32 run_hand(const struct et_cbpf_insn *p, unsigned n)
{
	return run_cbpf(p, n, small_pkt, sizeof(small_pkt));
}

#define RUN(...) ({ const struct et_cbpf_insn p_[] = { __VA_ARGS__ }; \
	run_hand(p_, sizeof(p_) / sizeof(p_[0])); })

/* A op X with A = a, X = x, the result returned (plus 1, so that 0 shows). */
static et_u32 alu_x(unsigned op, et_u32 a, et_u32 x)
{
	return RUN(LD_IMM(a), LDX_IMM(x), ALU_X(op), ALU_K(ET_CBPF_ADD, 1), RET_A);
}

static et_u32 alu_k(unsigned op, et_u32 a, et_u32 k)
{
	return RUN(LD_IMM(a), ALU_K(op, k), ALU_K(ET_CBPF_ADD, 1), RET_A);
}

static void test_alu(void)
{
	CHECK(alu_x(ET_CBPF_ADD, 10, 3) == 14);
	CHECK(alu_x(ET_CBPF_ADD, 0xffffffff, 3) == 3);    /* wraps */
	CHECK(alu_x(ET_CBPF_SUB, 10, 3) == 8);
	CHECK(alu_x(ET_CBPF_SUB, 3, 10) == 0xfffffffa);
	CHECK(alu_x(ET_CBPF_MUL, 10, 3) == 31);
	CHECK(alu_x(ET_CBPF_MUL, 0x10000, 0x10000) == 1);
	CHECK(alu_x(ET_CBPF_DIV, 10, 3) == 4);
	CHECK(alu_x(ET_CBPF_DIV, 0xffffffff, 2) == 0x80000000);   /* unsigned */
	CHECK(alu_x(ET_CBPF_DIV, 10, 0) == 0);           /* division by zero rejects */
	CHECK(alu_k(ET_CBPF_DIV, 10, 0) == 0);
	CHECK(alu_x(ET_CBPF_MOD, 10, 3) == 2);
	CHECK(alu_k(ET_CBPF_MOD, 10, 4) == 3);
	CHECK(alu_x(ET_CBPF_MOD, 10, 0) == 0);
	CHECK(alu_k(ET_CBPF_MOD, 10, 0) == 0);
	CHECK(alu_x(ET_CBPF_AND, 0xf0f0, 0xff00) == 0xf001);
	CHECK(alu_x(ET_CBPF_OR, 0xf0f0, 0x0f00) == 0xfff1);
	CHECK(alu_x(ET_CBPF_XOR, 0xf0f0, 0xff00) == 0x0ff1);
	CHECK(alu_k(ET_CBPF_XOR, 0xf0f0, 0xf0f0) == 1);
	CHECK(alu_x(ET_CBPF_LSH, 5, 4) == 81);
	CHECK(alu_k(ET_CBPF_LSH, 1, 31) == 0x80000001);
	CHECK(alu_x(ET_CBPF_LSH, 0xffffffff, 32) == 1);   /* a shift by 32 or more gives 0 */
	CHECK(alu_k(ET_CBPF_LSH, 0xffffffff, 40) == 1);
	CHECK(alu_x(ET_CBPF_RSH, 0x80000000, 31) == 2);
	CHECK(alu_k(ET_CBPF_RSH, 0x80, 4) == 9);
	CHECK(alu_x(ET_CBPF_RSH, 0xffffffff, 32) == 1);
	CHECK(alu_k(ET_CBPF_RSH, 0xffffffff, 0xffffffff) == 1);
	CHECK(RUN(LD_IMM(1), I(ET_CBPF_ALU | ET_CBPF_NEG, 0, 0, 0), RET_A) == 0xffffffff);
	CHECK(RUN(LD_IMM(0x80000000), I(ET_CBPF_ALU | ET_CBPF_NEG, 0, 0, 0), RET_A) == 0x80000000);
	/* the same X operations agree with libpcap where it defines them */
	{
		static const unsigned ops[] = { ET_CBPF_ADD, ET_CBPF_SUB, ET_CBPF_MUL, ET_CBPF_DIV,
						ET_CBPF_MOD, ET_CBPF_AND, ET_CBPF_OR, ET_CBPF_XOR,
						ET_CBPF_LSH, ET_CBPF_RSH };
		static const et_u32 vals[] = { 0, 1, 3, 31, 32, 33, 0x7fffffff, 0x80000000, 0xffffffff };
		unsigned o, a, x, bad = 0;

		for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
			for (a = 0; a < sizeof(vals) / sizeof(vals[0]); a++)
				for (x = 0; x < sizeof(vals) / sizeof(vals[0]); x++) {
					const struct et_cbpf_insn p[] = { LD_IMM(vals[a]), LDX_IMM(vals[x]),
						ALU_X(ops[o]), ALU_K(ET_CBPF_ADD, 1), RET_A };

					if (run_hand(p, 5) != run_pcap(p, 5, small_pkt, sizeof(small_pkt)))
						bad++;
				}
		CHECK(bad == 0);
	}
}

static void test_registers_and_memory(void)
{
	/* st, stx, ld mem, ldx mem, tax, txa */
	CHECK(RUN(LD_IMM(7), I(ET_CBPF_ST, 0, 0, 3), LDX_IMM(9), I(ET_CBPF_STX, 0, 0, 15),
		  I(ET_CBPF_LD | ET_CBPF_MEMM, 0, 0, 15), I(ET_CBPF_MISC | ET_CBPF_TAX, 0, 0, 0),
		  I(ET_CBPF_LD | ET_CBPF_MEMM, 0, 0, 3), ALU_X(ET_CBPF_ADD), RET_A) == 16);
	CHECK(RUN(LD_IMM(5), I(ET_CBPF_ST, 0, 0, 0), I(ET_CBPF_LDX | ET_CBPF_MEMM, 0, 0, 0),
		  LD_IMM(0), I(ET_CBPF_MISC | ET_CBPF_TXA, 0, 0, 0), RET_A) == 5);
	/* scratch memory starts zeroed */
	CHECK(RUN(I(ET_CBPF_LD | ET_CBPF_MEMM, 0, 0, 7), ALU_K(ET_CBPF_ADD, 1), RET_A) == 1);
	/* an index past the 16 words rejects */
	CHECK(RUN(LD_IMM(5), I(ET_CBPF_ST, 0, 0, 16), RET_K(1)) == 0);
	CHECK(RUN(LD_IMM(5), I(ET_CBPF_STX, 0, 0, 0xffffffff), RET_K(1)) == 0);
	CHECK(RUN(I(ET_CBPF_LD | ET_CBPF_MEMM, 0, 0, 16), RET_K(1)) == 0);
	CHECK(RUN(I(ET_CBPF_LDX | ET_CBPF_MEMM, 0, 0, 100), RET_K(1)) == 0);
	/* registers start at 0 */
	CHECK(RUN(ALU_X(ET_CBPF_ADD), ALU_K(ET_CBPF_ADD, 1), RET_A) == 1);
	/* ret k, ret a, ret #0 */
	CHECK(RUN(RET_K(0x40000)) == 0x40000);
	CHECK(RUN(RET_K(0)) == 0);
	CHECK(RUN(LD_IMM(0), RET_A) == 0);
}

static void test_jumps(void)
{
	/* jset x: 6 & 4 */
	CHECK(RUN(LD_IMM(6), LDX_IMM(4), I(ET_CBPF_JMP | ET_CBPF_JSET | ET_CBPF_X, 1, 0, 0),
		  RET_K(10), RET_K(20)) == 20);
	CHECK(RUN(LD_IMM(6), LDX_IMM(1), I(ET_CBPF_JMP | ET_CBPF_JSET | ET_CBPF_X, 1, 0, 0),
		  RET_K(10), RET_K(20)) == 10);
	CHECK(RUN(LD_IMM(6), I(ET_CBPF_JMP | ET_CBPF_JSET | ET_CBPF_K, 0, 1, 2), RET_K(10),
		  RET_K(20)) == 10);
	/* jeq/jgt/jge with x, unsigned */
	CHECK(RUN(LD_IMM(5), LDX_IMM(5), I(ET_CBPF_JMP | ET_CBPF_JEQ | ET_CBPF_X, 0, 1, 0),
		  RET_K(1), RET_K(2)) == 1);
	CHECK(RUN(LD_IMM(0xffffffff), LDX_IMM(5), I(ET_CBPF_JMP | ET_CBPF_JGT | ET_CBPF_X, 0, 1, 0),
		  RET_K(1), RET_K(2)) == 1);
	CHECK(RUN(LD_IMM(5), LDX_IMM(5), I(ET_CBPF_JMP | ET_CBPF_JGT | ET_CBPF_X, 0, 1, 0),
		  RET_K(1), RET_K(2)) == 2);
	CHECK(RUN(LD_IMM(5), LDX_IMM(5), I(ET_CBPF_JMP | ET_CBPF_JGE | ET_CBPF_X, 0, 1, 0),
		  RET_K(1), RET_K(2)) == 1);
	CHECK(RUN(LD_IMM(4), LDX_IMM(5), I(ET_CBPF_JMP | ET_CBPF_JGE | ET_CBPF_X, 0, 1, 0),
		  RET_K(1), RET_K(2)) == 2);
	CHECK(RUN(LD_IMM(5), I(ET_CBPF_JMP | ET_CBPF_JGE | ET_CBPF_K, 0, 1, 6),
		  RET_K(1), RET_K(2)) == 2);
	/* ja forward */
	CHECK(RUN(I(ET_CBPF_JMP | ET_CBPF_JA, 0, 0, 1), RET_K(1), RET_K(2)) == 2);
	/* a jump past the end, a conditional one too, rejects */
	CHECK(RUN(I(ET_CBPF_JMP | ET_CBPF_JA, 0, 0, 2), RET_K(1), RET_K(2)) == 0);
	CHECK(RUN(I(ET_CBPF_JMP | ET_CBPF_JEQ | ET_CBPF_K, 5, 0, 0), RET_K(1), RET_K(2)) == 0);
	/* a backward jump (protochain uses them); a loop runs out of steps */
	CHECK(RUN(I(ET_CBPF_JMP | ET_CBPF_JA, 0, 0, 2), RET_K(7), RET_K(8),
		  I(ET_CBPF_JMP | ET_CBPF_JA, 0, 0, (et_u32)-3)) == 7);
	{
		const struct et_cbpf_insn loop[] = { LD_IMM(1), I(ET_CBPF_JMP | ET_CBPF_JA, 0, 0, (et_u32)-1) };
		struct et_cbpf_run r;

		memset(&r, 0, sizeof(r));
		CHECK(et_cbpf_run_all(&r, loop, 2) == 0);
		CHECK(r.done == 0);
	}
	/* falling off the end, no instructions, too many */
	CHECK(RUN(LD_IMM(1)) == 0);
	CHECK(run_hand(NULL, 0) == 0);
	{
		struct et_cbpf_insn big[ET_CBPF_MAX + 1];
		unsigned i;

		for (i = 0; i < ET_CBPF_MAX; i++)
			big[i] = (struct et_cbpf_insn)ALU_K(ET_CBPF_ADD, 1);
		big[ET_CBPF_MAX - 1] = (struct et_cbpf_insn)RET_A;
		CHECK(run_hand(big, ET_CBPF_MAX) == ET_CBPF_MAX - 1);   /* 64 steps fit the budget */
		big[ET_CBPF_MAX] = (struct et_cbpf_insn)RET_A;
		CHECK(run_hand(big, ET_CBPF_MAX + 1) == 0);
	}
	/* unknown opcodes: ret x does not exist, nor 0xff, nor ld with size H and mode IMM */
	CHECK(RUN(I(ET_CBPF_RET | ET_CBPF_X, 0, 0, 0)) == 0);
	CHECK(RUN(I(0xff, 0, 0, 0), RET_K(1)) == 0);
	CHECK(RUN(I(ET_CBPF_LD | ET_CBPF_H | ET_CBPF_IMM, 0, 0, 1), RET_K(1)) == 0);
	CHECK(RUN(I(0x8006, 0, 0, 1)) == 0);   /* upper code bits set */
	/* a finished program stays finished */
	{
		const struct et_cbpf_insn p[] = { RET_K(3) };
		struct et_cbpf_run r;

		memset(&r, 0, sizeof(r));
		CHECK(et_cbpf_step(&r, p, 1) == 1 && r.done == 1 && r.result == 3);
		CHECK(et_cbpf_step(&r, p, 1) == 1 && r.result == 3);
	}
	/* one step at a time: 0 until the return */
	{
		const struct et_cbpf_insn p[] = { LD_IMM(2), ALU_K(ET_CBPF_MUL, 21), RET_A };
		struct et_cbpf_run r;

		memset(&r, 0, sizeof(r));
		CHECK(et_cbpf_step(&r, p, 3) == 0 && r.A == 2 && r.pc == 1);
		CHECK(et_cbpf_step(&r, p, 3) == 0 && r.A == 42 && r.pc == 2);
		CHECK(et_cbpf_step(&r, p, 3) == 1 && r.result == 42);
	}
}

#define LD_ABS(sz, k) I(ET_CBPF_LD | (sz) | ET_CBPF_ABS, 0, 0, k)
#define LD_IND(sz, k) I(ET_CBPF_LD | (sz) | ET_CBPF_IND, 0, 0, k)

static void test_loads(void)
{
	/* big-endian loads: the packet is 01 02 .. 0a, 10 bytes */
	CHECK(RUN(LD_ABS(ET_CBPF_W, 0), RET_A) == 0x01020304);
	CHECK(RUN(LD_ABS(ET_CBPF_H, 1), RET_A) == 0x0203);
	CHECK(RUN(LD_ABS(ET_CBPF_B, 9), RET_A) == 0x0a);
	CHECK(RUN(LD_ABS(ET_CBPF_W, 6), RET_A) == 0x0708090a);
	CHECK(RUN(LD_ABS(ET_CBPF_H, 8), RET_A) == 0x090a);
	/* past the end rejects, however far */
	CHECK(RUN(LD_ABS(ET_CBPF_W, 7), RET_K(1)) == 0);
	CHECK(RUN(LD_ABS(ET_CBPF_H, 9), RET_K(1)) == 0);
	CHECK(RUN(LD_ABS(ET_CBPF_B, 10), RET_K(1)) == 0);
	CHECK(RUN(LD_ABS(ET_CBPF_W, 0xfffffffe), RET_K(1)) == 0);
	CHECK(RUN(LD_ABS(ET_CBPF_B, 255), RET_K(1)) == 0);
	CHECK(RUN(LD_ABS(ET_CBPF_B, 266), RET_K(1)) == 0);   /* 266 & 255 would be in the packet */
	/* indexed */
	CHECK(RUN(LDX_IMM(5), LD_IND(ET_CBPF_B, 4), RET_A) == 0x0a);
	CHECK(RUN(LDX_IMM(5), LD_IND(ET_CBPF_B, 5), RET_K(1)) == 0);
	CHECK(RUN(LDX_IMM(2), LD_IND(ET_CBPF_H, 3), RET_A) == 0x0607);
	CHECK(RUN(LDX_IMM(2), LD_IND(ET_CBPF_W, 4), RET_A) == 0x0708090a);
	CHECK(RUN(LDX_IMM(2), LD_IND(ET_CBPF_W, 5), RET_K(1)) == 0);
	/* X + k wraps around in 32 bits, but not in libpcap's checks */
	CHECK(RUN(LDX_IMM(0xffffffff), LD_IND(ET_CBPF_B, 1), RET_K(1)) == 0);
	CHECK(RUN(LDX_IMM(0xfffffffc), LD_IND(ET_CBPF_W, 4), RET_K(1)) == 0);
	CHECK(RUN(LDX_IMM(1), LD_IND(ET_CBPF_H, 0xffffffff), RET_K(1)) == 0);
	/* ldxb 4*([k]&0xf) */
	CHECK(RUN(I(ET_CBPF_LDX | ET_CBPF_MSH | ET_CBPF_B, 0, 0, 4), I(ET_CBPF_MISC | ET_CBPF_TXA, 0, 0, 0),
		  RET_A) == 20);
	CHECK(RUN(I(ET_CBPF_LDX | ET_CBPF_MSH | ET_CBPF_B, 0, 0, 10), RET_K(1)) == 0);
	/* len is the wire length */
	{
		const struct et_cbpf_insn p[] = { I(ET_CBPF_LD | ET_CBPF_W | ET_CBPF_LEN, 0, 0, 0), RET_A };
		const struct et_cbpf_insn q[] = { I(ET_CBPF_LDX | ET_CBPF_W | ET_CBPF_LEN, 0, 0, 0),
						  I(ET_CBPF_MISC | ET_CBPF_TXA, 0, 0, 0), RET_A };
		CHECK(run_cbpf(p, 2, pkts[P_TCP4_BIG].b, pkts[P_TCP4_BIG].len) == 440);
		CHECK(run_cbpf(q, 3, pkts[P_TCP4_BIG].b, pkts[P_TCP4_BIG].len) == 440);
		CHECK(run_hand(q, 3) == 10);
	}
	/* the last of the 256 bytes can be read, the next cannot */
	CHECK(run_cbpf((const struct et_cbpf_insn[]){ LD_ABS(ET_CBPF_B, 255), RET_K(1) }, 2,
		       pkts[P_TCP4_BIG].b, pkts[P_TCP4_BIG].len) == 1);
	CHECK(run_cbpf((const struct et_cbpf_insn[]){ LD_ABS(ET_CBPF_W, 252), RET_A }, 2,
		       pkts[P_TCP4_BIG].b, pkts[P_TCP4_BIG].len) ==
	      ((et_u32)pkts[P_TCP4_BIG].b[252] << 24 | (et_u32)pkts[P_TCP4_BIG].b[253] << 16 |
	       (et_u32)pkts[P_TCP4_BIG].b[254] << 8 | pkts[P_TCP4_BIG].b[255]));
	CHECK(run_cbpf((const struct et_cbpf_insn[]){ LD_ABS(ET_CBPF_H, 255), RET_K(1) }, 2,
		       pkts[P_TCP4_BIG].b, pkts[P_TCP4_BIG].len) == 0);
	/* a pktlen beyond the buffer is taken as the buffer */
	{
		const struct et_cbpf_insn p[] = { LD_ABS(ET_CBPF_B, 255), RET_A };
		struct et_cbpf_run r;

		memset(&r, 0, sizeof(r));
		r.pkt[255] = 0x77;
		r.pktlen = 1000;
		r.wirelen = 1000;
		CHECK(et_cbpf_run_all(&r, p, 2) == 0x77);
	}
}

/* ---- compiling ------------------------------------------------------------------- */

static void test_compile_errors(void)
{
	struct et_cbpf_insn insns[ET_CBPF_MAX];
	char err[512], expr[1024];
	unsigned n = 99, i;
	size_t len;

	CHECK(pcapfilter_compile("tcp prot 80", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK_STR(err, "--skb-filter 'tcp prot 80': syntax error");
	CHECK(n == 0);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(pcapfilter_compile("", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "empty filter") != NULL);
	CHECK(pcapfilter_compile(" \t \n", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "empty filter") != NULL);
	CHECK(pcapfilter_compile(NULL, insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "empty filter") != NULL);
	/* link-layer primitives make no sense from the IP header on */
	CHECK(pcapfilter_compile("ether host 1:2:3:4:5:6", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK(strncmp(err, "--skb-filter 'ether host 1:2:3:4:5:6': ", 39) == 0 && strlen(err) > 40);
	CHECK(pcapfilter_compile("host 300.1.1.1", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "300.1.1.1") != NULL);
	/* too long */
	strcpy(expr, "port 1");
	for (i = 2; i <= 16; i++) {
		len = strlen(expr);
		snprintf(expr + len, sizeof(expr) - len, " or port %u", i);
	}
	CHECK(pcapfilter_compile(expr, insns, ET_CBPF_MAX, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "instructions; at most 64 are supported") != NULL);
	CHECK(strstr(err, "compiles to ") != NULL);
	CHECK(strncmp(err, "--skb-filter 'port 1 or port 2", 30) == 0);
	CHECK(pcapfilter_compile("tcp port 80", insns, 10, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "at most 10 are supported") != NULL);
	/* a small error buffer truncates */
	CHECK(pcapfilter_compile("tcp prot 80", insns, ET_CBPF_MAX, &n, err, 8) == -1);
	CHECK_STR(err, "--skb-f");
	/* and the ones that work */
	CHECK(pcapfilter_compile("ip", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == 0);
	CHECK(n >= 2 && n <= 8);
	CHECK(insns[n - 1].code == (ET_CBPF_RET | ET_CBPF_K));
	CHECK(pcapfilter_compile("  tcp port 80  ", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == 0);
	CHECK(pcapfilter_compile("ip6 and tcp dst port 22", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == 0);
	CHECK(pcapfilter_compile("host ::1", insns, ET_CBPF_MAX, &n, err, sizeof(err)) == 0);
	/* the longest "or port" chain that fits still runs to the end */
	strcpy(expr, "tcp port 1");
	for (i = 2;; i++) {
		len = strlen(expr);
		snprintf(expr + len, sizeof(expr) - len, " or tcp port %u", i);
		if (pcapfilter_compile(expr, insns, ET_CBPF_MAX, &n, err, sizeof(err)) != 0) {
			expr[len] = '\0';
			break;
		}
	}
	CHECK(pcapfilter_compile(expr, insns, ET_CBPF_MAX, &n, err, sizeof(err)) == 0);
	CHECK(n > 40 && n <= ET_CBPF_MAX);
	{
		uint8_t l4[64];
		struct pkt k;
		unsigned last = i - 1, m = tcp(l4, 50000, last, TH_ACK, 0, 0, NULL);

		ip4(&k, "tcp to the last port", "10.0.0.1", "10.0.0.2", 6, 64, 0, 0, l4, m);
		CHECK(run_cbpf(insns, n, k.b, k.len) != 0);
		CHECK(run_pcap(insns, n, k.b, k.len) != 0);
		m = tcp(l4, 50000, last + 1, TH_ACK, 0, 0, NULL);
		ip4(&k, "tcp to the next port", "10.0.0.1", "10.0.0.2", 6, 64, 0, 0, l4, m);
		CHECK(run_cbpf(insns, n, k.b, k.len) == 0);
	}
}

int main(void)
{
	build_packets();
	test_against_libpcap();
	test_truths();
	test_alu();
	test_registers_and_memory();
	test_jumps();
	test_loads();
	test_compile_errors();
	return unit_done();
}
