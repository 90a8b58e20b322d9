/* TCP connections of the tree (ET_EV_SOCK records gathered per socket,
 * reports/net/tcp.c), the words the renderers use for them, and the TCP
 * analysis: the network section opens with them. */
#ifndef ETRACE_TCP_H
#define ETRACE_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "bpf/events.h"
#include "reports/core/model.h"
#include "reports/core/strbuf.h"

/* A TCP socket of the tree (ET_EV_SOCK records), from its first state change
 * to its CLOSE: keyed by the kernel's socket address and the first time seen. */
#define ET_CONN_CONNECT 1
#define ET_CONN_LISTEN 2
#define ET_CONN_ACCEPT 3
#define ET_CONN_STATES 16
#define ET_CONN_DROPS 8
#define ET_CONN_PATH 12

/* One step of a connection's packets (runner/net/netload.c collect_net_path): an
 * interface and a stage, counted in the kernel. */
#define ET_PATH_QUEUE 1     /* net_dev_queue: sent by the connection */
#define ET_PATH_XMIT 2      /* net_dev_xmit: handed to the driver */
#define ET_PATH_RX 3        /* netif_receive_skb: a packet it sent, arriving (anywhere) */
#define ET_PATH_RX_IN 4     /* netif_receive_skb: a packet addressed to it */

struct et_path_hop {
	int stage;                  /* ET_PATH_* */
	uint32_t ifindex, netns;
	char ifname[16];
	uint64_t packets, bytes, errors;
	int last_rc;                /* the last failed xmit's return code */
	uint64_t first_ts;
};

struct et_conn {
	uint64_t sk;
	uint64_t first_ts;
	int pid, tid;               /* the owner: who connected, listened, or the listener's owner */
	int role;                   /* ET_CONN_* */
	int family;                 /* AF_INET, AF_INET6 */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	struct { uint64_t ts; int from, to; } states[ET_CONN_STATES];
	size_t nstates;
	uint64_t states_dropped;    /* transitions past ET_CONN_STATES */
	uint64_t established_ts, rst_recv_ts, rst_sent_ts;
	uint64_t rst_sent, rst_recv, retrans;
	uint64_t bytes_sent, bytes_recv;   /* as of the socket's last event (or the end of the run) */
	struct { uint32_t reason; uint64_t count; } drops[ET_CONN_DROPS];
	size_t ndrops;
	bool closed;
	struct et_path_hop path[ET_CONN_PATH]; /* in order first seen */
	size_t npath;
	uint64_t path_not_listed;   /* packets of steps beyond ET_CONN_PATH */
};

/* "127.0.0.1:5555", "[::1]:80". */
void conn_endpoint(const struct et_conn *c, int remote, struct strbuf *out);
/* "connect 127.0.0.1:5555 -> RST received after 0.1 ms -> ECONNREFUSED". */
void conn_outcome(const struct et_model *m, const struct et_conn *c, struct strbuf *out);
/* After a non-blocking connect's EINPROGRESS, what the program learned:
 * err (0: connected) and by which call ("SO_ERROR", "connect", "read"), or
 * gave_up: it closed the fd before learning anything. Returns 0 when there
 * is nothing to say (not EINPROGRESS, records not kept, still open). */
struct conn_learned {
	int err;
	const char *by;
	bool gave_up;
	uint64_t ts;
};
int conn_learned(const struct et_model *m, const struct et_conn *c, struct conn_learned *out);
/* errno of the failed connect() that started c, or 0. */
int conn_connect_errno(const struct et_model *m, const struct et_conn *c);
const char *tcp_state_name(int state);              /* "SYN_SENT" */
/* "queue", "xmit", "receive". */
const char *path_stage_name(int stage);
/* A failed net_dev_xmit return code: "NET_XMIT_DROP", "NETDEV_TX_BUSY", "ENOBUFS". */
void path_rc_name(int rc, struct strbuf *out);
/* "tx lo (12 pkts, 1.2 KB) -> rx lo (12 pkts, 1.0 KB); in: rx lo (10 pkts, 0.7 KB)", empty without hops. */
void conn_path_text(const struct et_conn *c, struct strbuf *out);
const char *conn_role_name(int role);               /* "connect", "listen", "accept" */
/* "NO_SOCKET": the kernel's enum skb_drop_reason, read from its BTF; NULL if unknown. */
const char *skb_drop_reason_name(uint32_t reason);
/* Ingest of an ET_EV_SOCK record (model_ingest calls it). */
int model_on_sock(struct et_model *m, const struct ev_sock *e);

#endif
