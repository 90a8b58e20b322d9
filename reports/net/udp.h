/*
 * UDP flows and DNS lookups of the tree, learned from the syscall records:
 * every send and receive on a UDP socket carries the socket's ends as the
 * kernel had them (an ET_CAP_SOCK_ENDS capture), and a datagram to or from
 * port 53 is captured whole, so its DNS message can be decoded here.
 */
#ifndef ETRACE_UDP_H
#define ETRACE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "reports/core/strbuf.h"

struct et_model;
struct et_process;
struct et_record;

/* One end of a flow: family 0 when unknown. */
struct udp_ep {
	int family;               /* AF_INET, AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

/* Datagrams between one socket of a process and one remote address. */
struct et_udp_flow {
	int pid, tid;             /* the process, and the thread that moved the first datagram */
	uint64_t sock;            /* the kernel's socket address (an identity), or a per-fd key */
	struct udp_ep local, remote;
	uint64_t first_ts, last_ts;
	uint64_t dgrams_sent, dgrams_recv;
	uint64_t bytes_sent, bytes_recv;
	uint64_t dns_messages;    /* DNS messages among them */
};

struct et_dns_answer {
	char *name;
	char *data;               /* "10.1.2.3", "alias.test", "TYPE99 (4 bytes)" */
	uint32_t ttl;
	uint16_t type;
};

/* A DNS query and its answer: the tree as a client (query sent, answer
 * received), or as a server (query received, answer sent). */
#define ET_DNS_CLIENT 0
#define ET_DNS_SERVER 1

struct et_dns_lookup {
	int pid, tid;             /* who sent the query (client) or received it (server) */
	int role;                 /* ET_DNS_CLIENT, ET_DNS_SERVER */
	size_t flow;              /* index in the flows */
	uint64_t sock;
	struct udp_ep peer;       /* the server (client role) or the client (server role) */
	uint16_t id;
	char *name;               /* the question */
	uint16_t qtype, qclass;
	uint64_t query_ts;        /* 0: the query was not seen (an answer alone) */
	uint64_t answer_ts;       /* 0: no answer seen */
	int rcode;
	bool tc;                  /* the server truncated its answer (TC) */
	bool cut;                 /* the capture of the answer was cut: answers may be missing */
	const char *error;        /* why the answer could not be decoded whole, or NULL */
	struct et_dns_answer *answers;
	size_t nanswers;
	size_t answers_more;      /* answers of the message beyond those kept */
};

struct et_udp {
	struct et_udp_flow *flows;
	size_t nflows, cap_flows;
	uint64_t flows_not_listed;  /* flows past the cap, not kept (their datagrams not counted) */
	struct et_dns_lookup *dns;
	size_t ndns, cap_dns;
	uint64_t dns_not_listed;
	uint64_t dns_undecoded;     /* port 53 datagrams that were not DNS messages */
	/* the lookups the last record touched, for the --events stream */
	const struct et_record *last_rec;
	struct { size_t lookup; bool answer; } last[16];
	size_t nlast;
};

/* Learns from a stored syscall record of process p (model_ingest calls it). */
void udp_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r);
void udp_free(struct et_udp *u);

/* "127.0.0.1:53", "[::1]:53"; "?" when unknown. */
void udp_ep_format(const struct udp_ep *e, struct strbuf *out);
/* "example.test A -> 10.1.2.3 (0.4 ms)", "missing.test A -> NXDOMAIN (0.3 ms)",
 * "example.test AAAA -> no answer". */
void udp_dns_summary(const struct et_dns_lookup *d, struct strbuf *out);

/* The report parts: the text lines of the network section (after the TCP
 * ones), the JSON arrays, and the --events lines of record r. */
size_t udp_count_flows(const struct et_model *m);
size_t udp_count_dns(const struct et_model *m);
/* "network (2 TCP sockets, 1 UDP flow, 4 DNS lookups)" */
void udp_network_title(const struct et_model *m, char *buf, size_t len);
void udp_render_text(const struct et_model *m, FILE *out);
void udp_render_json_flows(const struct et_model *m, struct strbuf *sb);
void udp_render_json_dns(const struct et_model *m, struct strbuf *sb);
void udp_render_event_lines(const struct et_model *m, const struct et_record *r, struct strbuf *sb);

#endif
