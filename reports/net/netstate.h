/* The network concern's state in the model (m->net): the TCP connections
 * (tcp.c), the UDP flows and DNS lookups (udp.c), the --skb packets and
 * route lookups (skb.c), and which backend traced the packet path. The
 * model core knows only the pointer: the TCP analysis makes it when the
 * model is made and frees it with the model (netstate.c). */
#ifndef ETRACE_NETSTATE_H
#define ETRACE_NETSTATE_H

#include <stddef.h>
#include "reports/net/udp.h"
#include "reports/net/skb.h"

struct et_model;
struct et_conn;             /* reports/net/tcp.h */

struct et_net {
	const char *backend;        /* network path backend ("tracepoint") */
	const char *backend_why;
	/* TCP connections, in the order first seen */
	struct et_conn *conns;
	size_t nconns, cap_conns;
	/* UDP flows and DNS lookups (reports/net/udp.c) */
	struct et_udp udp;
	/* --skb packets and route lookups (reports/net/skb.c) */
	struct et_skbs skbs;
};

/* The analysis operations that make and free it (tcp_analysis). */
void net_init(struct et_model *m);
void net_free(struct et_model *m);

#endif
