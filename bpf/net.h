/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network concern's layouts, shared by its BPF objects (bpf/net.bpf.c,
 * bpf/skb.bpf.c) and user space (runner/net/netload.c reads sk_owner and
 * net_path at the end of a run): declared once, here. Below __bpf__: the
 * maps both network objects use (user space makes them one,
 * runner/concern.c) and the tuple helpers.
 */
#ifndef ETRACE_NET_H
#define ETRACE_NET_H

#include "events.h"

/* The owner of a socket of the tree (sk_owner, listeners). */
struct et_owner {
	et_u32 pid, tid;
	et_u64 sent, recv;   /* payload bytes through the socket's sends and receives */
};

struct et_listen_key {
	et_u32 netns;
	et_u16 port;
	et_u16 pad;
};

/* The path of the connections' packets: per (socket, interface, stage),
 * counted in the kernel (net_path, per CPU) and read once at the end. */
#define ET_PATH_QUEUE 1
#define ET_PATH_XMIT 2
#define ET_PATH_RX 3
#define ET_PATH_RX_IN 4

struct et_path_key {
	et_u64 sk;
	et_u32 ifindex;
	et_u32 netns;
	et_u32 stage;
	et_u32 pad;
};

struct et_path_val {
	et_u64 packets, bytes, errors;
	et_u64 first_ts;
	et_s32 last_rc;
	et_u32 pad;
	char ifname[16];
};

struct et_tuple {
	et_u8 saddr[16], daddr[16];
	et_u16 sport, dport;   /* host order */
	et_u32 family;
};

#ifdef __bpf__

#define ET_TCP_ESTABLISHED 1
#define ET_TCP_SYN_SENT 2
#define ET_TCP_SYN_RECV 3
#define ET_TCP_CLOSE 7
#define ET_TCP_CLOSE_WAIT 8
#define ET_TCP_LISTEN 10
#define ET_IPPROTO_TCP 6
#define ET_AF_INET 2
#define ET_AF_INET6 10
#define ET_IPPROTO_UDP 17
#define ET_MSG_PEEK 2
#define ET_ETH_P_IP 0x0800
#define ET_ETH_P_IPV6 0x86DD

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct et_owner);
} sk_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct et_listen_key);
	__type(value, struct et_owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct et_tuple);
	__type(value, __u64);
} conn_tuples SEC(".maps");

/* The socket's local and remote addresses (16 bytes each; 4 for AF_INET,
 * the rest zero). */
static __always_inline void sk_addrs(const struct sock *sk, __u32 family, __u8 *local, __u8 *remote)
{
	__builtin_memset(local, 0, 16);
	__builtin_memset(remote, 0, 16);
	if (family == ET_AF_INET6) {
		/* typed as arrays: the read's size is that of *dst */
		__u8(*l)[16] = (void *)local, (*r)[16] = (void *)remote;
		BPF_CORE_READ_INTO(l, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(r, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(local, &a, 4);
		a = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(remote, &a, 4);
	}
}

static __always_inline bool v4_mapped(const __u8 *a)
{
	__u64 lo;
	__u32 mid;
	__builtin_memcpy(&lo, a, 8);
	__builtin_memcpy(&mid, a + 8, 4);
	return lo == 0 && mid == bpf_htonl(0xffff);
}

static __always_inline void sk_tuple(const struct sock *sk, struct et_tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	sk_addrs(sk, t->family, t->saddr, t->daddr);
	/* an IPv6 socket talking IPv4 (::ffff:a.b.c.d): its packets are IPv4 */
	if (t->family == ET_AF_INET6 && v4_mapped(t->saddr) && v4_mapped(t->daddr)) {
		t->family = ET_AF_INET;
		__builtin_memmove(t->saddr, t->saddr + 12, 4);
		__builtin_memmove(t->daddr, t->daddr + 12, 4);
		__builtin_memset(t->saddr + 4, 0, 12);
		__builtin_memset(t->daddr + 4, 0, 12);
	}
}

/* Loopback traffic never leaves its network namespace, so a loopback
 * packet seen in another namespace than the socket's is another
 * connection with the same ends (parallel test jobs in their own
 * namespaces). Other addresses may cross namespaces (veth pairs): the
 * tuple keys carry no namespace for them. netns 0: not known. */
static __always_inline bool other_ns_loopback(const struct et_tuple *t, __u64 skv, __u32 netns)
{
	__u64 hi, low;
	__builtin_memcpy(&hi, t->saddr, 8);
	__builtin_memcpy(&low, t->saddr + 8, 8);
	/* 127.0.0.0/8, or ::1 (bytes 0..14 zero, byte 15 one) */
	bool lo = t->family == ET_AF_INET ? t->saddr[0] == 127 : (hi == 0 && low == bpf_cpu_to_be64(1));
	if (!lo)
		return false;
	/* where it was seen unknown (no device, no socket): not judged */
	return !netns || BPF_CORE_READ((const struct sock *)skv, __sk_common.skc_net.net, ns.inum) != netns;
}

/* The traced connection a TCP tuple is (sent by it) or is addressed to,
 * while that socket still has those ends; 0 if none. netns: where the
 * packet was seen (0: unknown). */
static __always_inline __u64 tuple_conn(const struct et_tuple *t, bool *to_it, __u32 netns)
{
	struct et_tuple r = *t;
	__u64 *c = bpf_map_lookup_elem(&conn_tuples, &r);
	*to_it = false;
	if (!c) {
		__builtin_memcpy(r.saddr, t->daddr, 16);
		__builtin_memcpy(r.daddr, t->saddr, 16);
		r.sport = t->dport;
		r.dport = t->sport;
		c = bpf_map_lookup_elem(&conn_tuples, &r);
		*to_it = true;
	}
	if (!c)
		return 0;
	__u64 skv = *c;
	struct et_tuple now;
	sk_tuple((const struct sock *)skv, &now);
	if (now.sport != r.sport || now.dport != r.dport || other_ns_loopback(t, skv, netns))
		return 0;
	return skv;
}

#endif /* __bpf__ */

#endif
