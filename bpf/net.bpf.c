// SPDX-License-Identifier: GPL-2.0
/*
 * The network concern: TCP connections (their states, resets,
 * retransmits, bytes), UDP flows and DNS, drops with the kernel's reason
 * and the path of the connections' packets. Loaded after the core object,
 * with its maps (bpf/shared.h); its own layouts and the maps --skb also
 * uses are in bpf/net.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "shared.h"
#include "net.h"

char LICENSE[] SEC("license") = "GPL";

/* Arguments of the tracepoints whose signature grew (runner/kernelfit.c):
 * a program reads an argument only where the kernel has it (the verifier
 * refuses the access otherwise; with a constant here it skips the branch). */
const volatile __u32 tp_kfree_skb_args = 4;       /* rx_sk since 6.10 */
/* a kfree_skb without a reason is a drop (since SKB_CONSUMED, 6.3): before,
 * TCP freed packets it had handled so (an ACK in FIN_WAIT1) */
const volatile bool drop_unspecified = true;

/* These run for every TCP socket on the machine. A socket belongs to the
 * tree when a traced task connected or listened on it (that transition runs
 * in the owner's context), or when it was accepted on such a listener
 * (matched by local port and network namespace: the child appears in
 * softirq). Everything later is attributed through sk_owner, never through
 * the current task: on loopback the receive path runs in the sender's
 * context, retransmits in softirq. */

static __always_inline void listen_key(const struct sock *sk, struct et_listen_key *k)
{
	k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	k->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	k->pad = 0;
}

static __always_inline void sock_emit(const struct sock *sk, const struct et_owner *o, __u32 kind,
				      int oldstate, int newstate, __u32 reason)
{
	struct ev_sock e;
	e.h.type = ET_EV_SOCK;
	e.h.size = sizeof(e);
	e.h.ts = bpf_ktime_get_ns();
	e.h.pid = o->pid;
	e.h.tid = o->tid;
	e.sk = (__u64)sk;
	e.kind = kind;
	e.reason = reason;
	e.oldstate = oldstate;
	e.newstate = newstate;
	e.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e.pad = 0;
	e.bytes_sent = o->sent;
	e.bytes_recv = o->recv;
	sk_addrs(sk, e.family, e.saddr, e.daddr);
	emit(&e, sizeof(e), ET_CNT_LOST_SOCK);
}

/* ---- the path a packet took ------------------------------------------------
 * Counters per (socket, interface, stage), added up in the kernel and read
 * once at the end (runner/net/netload.c collect_net_path): no record per packet.
 * Transmit: net_dev_queue gives skb->sk (a traced socket is in sk_owner);
 * loopback and veth orphan the skb before net_dev_xmit fires, so the queue
 * step remembers the skb address for the xmit step (a per-CPU slot). Receive: skb->sk is NULL
 * at netif_receive_skb; an IPv4/IPv6 TCP packet is matched by its 4-tuple
 * against conn_tuples (filled at ESTABLISHED, or at SYN_SENT once the port is
 * known), both ways: a packet the connection sent, arriving at the far end
 * (ET_PATH_RX, which may be in another network namespace), and a packet
 * addressed to it (ET_PATH_RX_IN). The layouts match runner/net/netload.c. */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct et_path_key);
	__type(value, struct et_path_val);
} net_path SEC(".maps");

/* The traced skb last queued on this CPU and its socket, for net_dev_xmit:
 * a device without a queue (lo, veth) transmits it right after, on the same
 * CPU, in the same softirq-disabled section. A per-CPU slot costs no map
 * update per packet (a hash of skb addresses cost ~0.3 us a packet); a
 * packet that waits in a qdisc and leaves from another CPU is counted at
 * queue, not at xmit. */
struct et_skb_slot {
	__u64 skb, sk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct et_skb_slot);
} skb_slot SEC(".maps");

/* a traced socket with its ports known: its packets can be matched on receive */
static __always_inline void remember_tuple(const struct sock *sk)
{
	struct et_tuple t;
	sk_tuple(sk, &t);
	if (!t.sport || !t.dport)
		return;
	__u64 v = (__u64)sk;
	bpf_map_update_elem(&conn_tuples, &t, &v, BPF_ANY);
}

static __always_inline void path_count(__u64 sk, const struct net_device *dev, __u32 stage, __u64 len, int rc)
{
	/* direct loads (dev is a tracepoint's trusted pointer), a per-CPU
	 * entry, no atomics: this runs for every packet of the tree */
	struct et_path_key k = {
		.sk = sk,
		.ifindex = dev->ifindex,
		.netns = dev->nd_net.net->ns.inum,
		.stage = stage,
		.pad = 0,
	};
	struct et_path_val *v = bpf_map_lookup_elem(&net_path, &k);
	if (!v) {
		struct et_path_val n;
		__builtin_memset(&n, 0, sizeof(n));
		n.first_ts = bpf_ktime_get_ns();
		BPF_CORE_READ_INTO(&n.ifname, dev, name);
		bpf_map_update_elem(&net_path, &k, &n, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&net_path, &k);
		if (!v)
			return;
		/* this CPU's first packet of that key, maybe not the first overall */
		if (!v->first_ts)
			v->first_ts = n.first_ts;
	}
	v->packets++;
	v->bytes += len;
	if (rc) {
		v->errors++;
		v->last_rc = rc;
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(et_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct et_owner own;

	if (oldstate == ET_TCP_CLOSE && (newstate == ET_TCP_SYN_SENT || newstate == ET_TCP_LISTEN)) {
		/* connect() or listen(): runs in the owner's context. A socket
		 * starts here, so an entry left from a freed one is stale. */
		if (!traced_task()) {
			bpf_map_delete_elem(&sk_owner, &key);
			return 0;
		}
		if (BPF_CORE_READ(sk, sk_protocol) != ET_IPPROTO_TCP)
			return 0;
		__u64 id = bpf_get_current_pid_tgid();
		own.pid = id >> 32;
		own.tid = (__u32)id;
		own.sent = own.recv = 0;
		if (newstate == ET_TCP_LISTEN) {
			struct et_listen_key lk;
			listen_key(sk, &lk);
			bpf_map_update_elem(&listeners, &lk, &own, BPF_ANY);
		}
		bpf_map_update_elem(&sk_owner, &key, &own, BPF_ANY);
	} else if (newstate == ET_TCP_SYN_RECV && oldstate == ET_TCP_LISTEN) {
		/* a connection accepted on a listener (cloned from it, in softirq) */
		struct et_listen_key lk;
		listen_key(sk, &lk);
		struct et_owner *lo = bpf_map_lookup_elem(&listeners, &lk);
		if (!lo) {
			bpf_map_delete_elem(&sk_owner, &key);
			return 0;
		}
		if (BPF_CORE_READ(sk, sk_protocol) != ET_IPPROTO_TCP)
			return 0;
		own = *lo;
		own.sent = own.recv = 0;
		bpf_map_update_elem(&sk_owner, &key, &own, BPF_ANY);
	} else {
		struct et_owner *o = bpf_map_lookup_elem(&sk_owner, &key);
		if (!o)
			return 0;
		own = *o;
	}
	sock_emit(sk, &own, ET_SK_STATE, oldstate, newstate, 0);
	if (newstate == ET_TCP_ESTABLISHED || newstate == ET_TCP_SYN_SENT)
		remember_tuple(sk);
	if (newstate == ET_TCP_CLOSE) {
		if (oldstate == ET_TCP_LISTEN) {
			struct et_listen_key lk;
			listen_key(sk, &lk);
			bpf_map_delete_elem(&listeners, &lk);
		}
		/* Keep the entry after CLOSE: an abortive close (SO_LINGER 0,
		 * close with unread data) sends its RST after it, and data that
		 * arrived with the FIN (FIN_WAIT2 -> CLOSE happens in softirq,
		 * before the owner reads) is still read and counted. The map is
		 * an LRU, and a socket's start replaces or drops what is left.
		 * Only a socket that never carried data is forgotten here. */
		if (oldstate == ET_TCP_SYN_SENT || oldstate == ET_TCP_LISTEN)
			bpf_map_delete_elem(&sk_owner, &key);
	}
	return 0;
}

static __always_inline void sock_event(const struct sock *sk, __u32 kind, __u32 reason)
{
	__u64 key = (__u64)sk;
	if (!key)
		return;
	struct et_owner *o = bpf_map_lookup_elem(&sk_owner, &key);
	if (!o)
		return;
	struct et_owner own = *o;
	sock_emit(sk, &own, kind, 0, 0, reason);
}

/* Bytes each way, added up in the owner entry: no record per send. */
static __always_inline void count_bytes(const struct sock *sk, int ret, bool sent)
{
	__u64 key = (__u64)sk;
	if (ret <= 0 || !key)
		return;
	struct et_owner *o = bpf_map_lookup_elem(&sk_owner, &key);
	if (!o)
		return;
	/* an entry outlives its TCP socket; memory reused by another kind of
	 * socket must not add to it (a TCP one starts with a state change,
	 * which replaces the entry) */
	if (sk->sk_protocol != ET_IPPROTO_TCP)
		return;
	if (sent)
		__sync_fetch_and_add(&o->sent, ret);
	else
		__sync_fetch_and_add(&o->recv, ret);
}

/* A send or receive of a traced task on a UDP socket (this runs inside the
 * syscall, in the caller's context): the socket's ends and what moved join
 * the syscall record in flight as an ET_CAP_SOCK_ENDS capture, which stays
 * the last capture until the syscall returns, so a sendmmsg or recvmmsg
 * (here once per datagram) adds to it. Port 53 at either end makes the
 * record's data captures DNS-sized (ET_SC_F_DNS). Costs other sockets one
 * protocol read. */

static __always_inline void udp_note(const struct sock *sk, int ret, int flags, __u8 dir)
{
	/* a peek leaves the datagram for the next receive: not counted */
	if (ret < 0 || !sk || (flags & ET_MSG_PEEK) || sk->sk_protocol != ET_IPPROTO_UDP)
		return;
	struct et_task *t = traced_task();
	if (!t || !t->in_flight)
		return;
	const __u32 size = sizeof(struct ev_capture) + sizeof(struct et_sock_ends);
	__u32 off = t->rec.cap_len;
	if (t->rec.flags & ET_SC_F_UDP) {
		if (off < size)
			return;
		__u64 eo = off - size;
		barrier_var(eo);
		eo &= CAP_MASK;
		struct et_sock_ends *e = (void *)&t->area[eo + sizeof(struct ev_capture)];
		e->datagrams++;
		e->bytes += ret;
		return;
	}
	if (off > ET_CAP_AREA - size)
		return;
	__u64 coff = off;
	barrier_var(coff);
	coff &= CAP_MASK;
	struct ev_capture *c = (void *)&t->area[coff];
	struct et_sock_ends *e = (void *)(c + 1);
	c->arg = 6;
	c->kind = ET_CAP_SOCK_ENDS;
	c->truncated = 0;
	c->seq = 0;
	c->len = sizeof(*e);
	c->pad = 0;
	e->sk = (__u64)sk;
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->dir = dir;
	e->pad = 0;
	e->datagrams = 1;
	e->bytes = ret;
	sk_addrs(sk, e->family, e->laddr, e->raddr);
	if (e->lport == 53 || e->rport == 53)
		t->rec.flags |= ET_SC_F_DNS;
	t->rec.flags |= ET_SC_F_UDP;
	t->rec.ncap++;
	t->rec.cap_len = off + size;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(et_sock_send_length, struct sock *sk, int ret, int flags)
{
	count_bytes(sk, ret, true);
	udp_note(sk, ret, 0, ET_DIR_SENT);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(et_sock_recv_length, struct sock *sk, int ret, int flags)
{
	count_bytes(sk, ret, false);
	udp_note(sk, ret, flags, ET_DIR_RECV);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(et_tcp_send_reset, const struct sock *sk, const struct sk_buff *skb, const enum sk_rst_reason why)
{
	sock_event(sk, ET_SK_RST_SENT, 0);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(et_tcp_receive_reset, struct sock *sk)
{
	sock_event(sk, ET_SK_RST_RECV, 0);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(et_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	sock_event(sk, ET_SK_RETRANS, 0);
	return 0;
}

/* The TCP 4-tuple of the packet whose IP header is at l3 (IPv4 first
 * fragment, or IPv6 with TCP right after the fixed header). 0 or -1. */
static __always_inline int skb_tcp_tuple(struct sk_buff *skb, const unsigned char *l3, struct et_tuple *t)
{
	/* one read covers an IPv4 header without options and the ports, or
	 * IPv6's fixed header and the ports */
	__u8 h[44];
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	__u32 thoff;
	__builtin_memset(t, 0, sizeof(*t));
	if (proto != ET_ETH_P_IP && proto != ET_ETH_P_IPV6)
		return -1;
	if (bpf_probe_read_kernel(h, sizeof(h), l3) < 0 &&
	    (proto != ET_ETH_P_IP || bpf_probe_read_kernel(h, 24, l3) < 0))
		return -1;
	if (proto == ET_ETH_P_IP) {
		if ((h[0] >> 4) != 4 || h[9] != ET_IPPROTO_TCP || ((h[6] & 0x1f) | h[7]))
			return -1;
		thoff = (h[0] & 0xf) * 4;
		if (thoff < 20)
			return -1;
		t->family = ET_AF_INET;
		__builtin_memcpy(t->saddr, &h[12], 4);
		__builtin_memcpy(t->daddr, &h[16], 4);
	} else {
		if ((h[0] >> 4) != 6 || h[6] != ET_IPPROTO_TCP)
			return -1;
		thoff = 40;
		t->family = ET_AF_INET6;
		__builtin_memcpy(t->saddr, &h[8], 16);
		__builtin_memcpy(t->daddr, &h[24], 16);
	}
	__u16 ports[2];
	if (thoff == 20) {
		__builtin_memcpy(ports, &h[20], 4);
	} else if (thoff == 40) {
		__builtin_memcpy(ports, &h[40], 4);
	} else if (bpf_probe_read_kernel(ports, sizeof(ports), l3 + thoff) < 0) {
		return -1;
	}
	t->sport = bpf_ntohs(ports[0]);
	t->dport = bpf_ntohs(ports[1]);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(et_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (!sk && tp_kfree_skb_args >= 4)
		sk = (struct sock *)ctx[3];   /* rx_sk */
	/* A closed socket's teardown frees what is left in its queues (the
	 * FIN nobody read, acked data) as QUEUE_PURGE: not a lost packet. */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    sk && BPF_CORE_READ(sk, __sk_common.skc_state) == ET_TCP_CLOSE)
		return 0;
	if (!drop_unspecified && bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return 0;
	if (!sk) {
		/* no socket on it (a SYN to a closed port, dropped before the
		 * socket lookup): the connection by its tuple. A packet that has
		 * some other socket (a peer's, a time-wait one) is not the
		 * tree's, and a discard without a reason says nothing. */
		if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
		    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
			return 0;
		__u16 nh = BPF_CORE_READ(skb, network_header);
		unsigned char *head = BPF_CORE_READ(skb, head);
		struct et_tuple t;
		bool to_it;
		if (nh == 0xffff || !head || skb_tcp_tuple(skb, head + nh, &t) < 0)
			return 0;
		struct net_device *dev = BPF_CORE_READ(skb, dev);
		__u32 netns = dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) : 0;
		__u64 c = tuple_conn(&t, &to_it, netns);
		if (!c)
			return 0;
		sk = (struct sock *)c;
	}
	sock_event(sk, ET_SK_DROP, reason);
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(et_net_dev_queue, struct sk_buff *skb)
{
	__u32 zero = 0;
	struct et_skb_slot *slot = bpf_map_lookup_elem(&skb_slot, &zero);
	if (!slot)
		return 0;
	/* direct loads: skb is the tracepoint's trusted pointer */
	struct sock *s = skb->sk;
	__u64 sk = (__u64)s;
	struct et_owner *o = sk ? bpf_map_lookup_elem(&sk_owner, &sk) : NULL;
	if (!o || s->sk_protocol != ET_IPPROTO_TCP) {
		/* a freed traced skb's address, reused: must not count */
		if (slot->skb == (__u64)skb)
			slot->skb = 0;
		return 0;
	}
	/* a connect's SYN: the local port is known now (it was not at the
	 * SYN_SENT transition), so the answer can be matched on receive */
	if (s->__sk_common.skc_state == ET_TCP_SYN_SENT)
		remember_tuple(s);
	path_count(sk, skb->dev, ET_PATH_QUEUE, skb->len, 0);
	slot->skb = (__u64)skb;
	slot->sk = sk;
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(et_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int skb_len)
{
	/* the skb may be gone by now: only its address is used */
	__u32 zero = 0;
	struct et_skb_slot *slot = bpf_map_lookup_elem(&skb_slot, &zero);
	if (!slot || !slot->skb || slot->skb != (__u64)skb)
		return 0;
	__u64 sk = slot->sk;
	slot->skb = 0;
	path_count(sk, dev, ET_PATH_XMIT, skb_len, rc);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(et_netif_receive_skb, struct sk_buff *skb)
{
	/* the link-layer header is already pulled: data is the IP header */
	struct et_tuple t;
	if (skb_tcp_tuple(skb, skb->data, &t) < 0)
		return 0;
	struct net_device *dev = skb->dev;
	__u64 len = skb->len;
	__u32 netns = dev->nd_net.net->ns.inum;
	/* sent by a traced connection (source = its local end) */
	__u64 *sk = bpf_map_lookup_elem(&conn_tuples, &t);
	if (sk && !other_ns_loopback(&t, *sk, netns))
		path_count(*sk, dev, ET_PATH_RX, len, 0);
	/* addressed to a traced connection */
	struct et_tuple r = t;
	__builtin_memcpy(r.saddr, t.daddr, 16);
	__builtin_memcpy(r.daddr, t.saddr, 16);
	r.sport = t.dport;
	r.dport = t.sport;
	sk = bpf_map_lookup_elem(&conn_tuples, &r);
	if (sk && !other_ns_loopback(&t, *sk, netns))
		path_count(*sk, dev, ET_PATH_RX_IN, len, 0);
	return 0;
}
