// SPDX-License-Identifier: GPL-2.0
/*
 * --skb: every hook a packet of the tree passes, one record per hook
 * (struct ev_skb). Loaded with --skb only, after the network object,
 * whose maps it shares (bpf/net.h: sk_owner, listeners, conn_tuples).
 *
 * Which packets: those of the tree's sockets. A packet is judged once, at
 * the first hook it reaches, then followed by its address (skb_tracked)
 * until a free hook:
 *  - skb->sk is a traced TCP socket (sk_owner);
 *  - skb->sk is some other socket (UDP, ICMP, raw) and the running task is
 *    traced: a send from the tree, judged on its way out, in the sender's
 *    context; its UDP port is remembered (udp_ports) for the answers;
 *  - its TCP 4-tuple is a traced connection's, either way (conn_tuples):
 *    a packet on its way in, in softirq or in another process's context;
 *  - it is UDP to a port the tree sends from (udp_ports).
 * With --skb-filter the pcap filter (compiled by libpcap in user space to
 * classic BPF, interpreted here over the first ET_CBPF_PKT bytes from the
 * IP header) must accept it too. A packet of an untraced process is never
 * judged the tree's: the owner comes from the socket or the tuple, not
 * from whoever is running.
 *
 * Backends: the tracepoint programs (always possible) and the per-function
 * programs (kprobe.multi, kprobe, fentry: the skb is argument 1..5), of
 * which user space loads one kind, or none, as --net-backend says.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "shared.h"
#include "net.h"
#include "cbpf.h"

char LICENSE[] SEC("license") = "GPL";

/* the argument count of consume_skb here (runner/kernelfit.c) */
const volatile __u32 tp_consume_skb_args = 2;     /* location since 6.3 */

const volatile __u32 skb_trace = 0;   /* --skb */
const volatile __u32 skb_stack = 0;   /* --skb-stack: kernel stack per record */
const volatile __u32 skb_nprog = 0;   /* instructions of the --skb-filter program; 0: none */
const volatile struct et_cbpf_insn skb_prog[ET_CBPF_MAX] = {};

/* a packet judged: followed (match) or rejected by the filter; head,
 * protocol, ports and fp catch a freed skb whose address was reused (not
 * every free has a tracepoint: TCP frees what it read with __kfree_skb, and
 * the next segment of the connection often gets the same skb and head) */
struct et_skb_track {
	__u64 head;
	__u64 sk;
	__u32 pid, tid;
	__u16 sport, dport;
	__u16 l3proto;    /* skb->protocol (ETH_P_IP, ETH_P_IPV6) */
	__u8 proto, match;
	__u64 fp;         /* see skb_headers */
	__u32 verified;   /* the headers above were read at a tracepoint (a
			     function may run before they are built) */
	__u32 pad2;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct et_skb_track);
} skb_tracked SEC(".maps");

/* a UDP port the tree sends from, in its socket's network namespace */
struct et_udp_key {
	__u32 netns;
	__u16 port;
	__u8 ipver, pad;
};

struct et_udp_owner {
	__u64 sk;
	__u32 pid, tid;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct et_udp_key);
	__type(value, struct et_udp_owner);
} udp_ports SEC(".maps");

/* the record being built, the stack after it, the filter's state */
struct et_skb_scratch {
	struct ev_skb ev;
	__u64 stack[ET_SKB_STACK];
	struct et_cbpf_run run;
};

/* slot 0 in task context, 1 in a softirq: a softirq that runs at an
 * interrupt's exit, in the middle of a task-context hook, has its own */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct et_skb_scratch);
} skb_scratch SEC(".maps");

/* In task context (not serving a softirq): the running task is the one
 * the work is done for. A packet received on loopback is processed in the
 * softirq that runs on the sender's way out, in the sender's context:
 * "current" there is not the owner. The kernel's preempt count is not
 * reachable here (no data symbols in kallsyms), so the softirq tracepoints
 * keep a per-CPU flag (loaded with --skb only). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} softirq_depth SEC(".maps");

/* A flag, not a depth (softirqs do not nest on a CPU): a softirq that was
 * running when the programs were attached cannot leave it stuck. The exit
 * program is defined first: the skeleton attaches in this order. */
SEC("tp_btf/softirq_exit")
int BPF_PROG(et_softirq_exit, unsigned int vec)
{
	__u32 zero = 0;
	__u32 *d = bpf_map_lookup_elem(&softirq_depth, &zero);
	if (d)
		*d = 0;
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(et_softirq_entry, unsigned int vec)
{
	__u32 zero = 0;
	__u32 *d = bpf_map_lookup_elem(&softirq_depth, &zero);
	if (d)
		*d = 1;
	return 0;
}

static __always_inline bool in_task_context(void)
{
	__u32 zero = 0;
	__u32 *d = bpf_map_lookup_elem(&softirq_depth, &zero);
	return !d || !*d;
}

/* where the IP header is: at rx entry hooks data points at it (the driver
 * pulled the link-layer header); elsewhere the network header offset */
#define ET_L3_DATA 1
#define ET_L3_NH 2

#define ET_IPPROTO_ICMP 1
#define ET_IPPROTO_ICMPV6 58

/* Reads the IP and TCP/UDP headers into e; returns where the IP header is
 * and how many of its bytes are in the linear part, or NULL. *fp: what
 * tells this packet from the next one of the same flow (TCP: sequence,
 * acknowledgment, flags and window; UDP: IPv4 id, length, checksum), which
 * no hook on a packet's way changes. */
static __always_inline unsigned char *skb_headers(struct sk_buff *skb, unsigned char *head, __u32 l3mode,
						  struct ev_skb *e, __u32 *avail, __u64 *fp)
{
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u32 len = BPF_CORE_READ(skb, len), data_len = BPF_CORE_READ(skb, data_len);
	unsigned char *l3 = data;
	if (l3mode == ET_L3_NH) {
		__u16 nh = BPF_CORE_READ(skb, network_header);
		if (nh == 0xffff)
			return NULL;
		l3 = head + nh;
	}
	unsigned char *end = data + (len - data_len);
	if (!head || l3 < head || l3 >= end)
		return NULL;
	*avail = end - l3;
	/* headers in the linear part only (past it lies other memory) */
	__u8 h[40];
	if (*avail < 20 || bpf_probe_read_kernel(h, 20, l3) < 0)
		return NULL;
	__u32 thoff;
	__u8 ver = h[0] >> 4;
	if (ver == 4) {
		thoff = (h[0] & 0xf) * 4;
		if (thoff < 20)
			return NULL;
		e->proto = h[9];
		__builtin_memcpy(e->saddr, &h[12], 4);
		__builtin_memcpy(e->daddr, &h[16], 4);
		/* not the first fragment: no ports */
		if ((h[6] & 0x1f) | h[7])
			thoff = 0;
	} else if (ver == 6) {
		if (*avail < 40 || bpf_probe_read_kernel(h, 40, l3) < 0)
			return NULL;
		e->proto = h[6];
		__builtin_memcpy(e->saddr, &h[8], 16);
		__builtin_memcpy(e->daddr, &h[24], 16);
		thoff = 40;
	} else {
		return NULL;
	}
	e->ipver = ver;
	/* IPv4 id (0 for IPv6) */
	*fp = ver == 4 ? ((__u64)h[4] << 8 | h[5]) << 48 : 0;
	/* TCP's first 16 bytes (to the window), UDP's whole 8-byte header */
	__u32 need = e->proto == ET_IPPROTO_TCP ? 16 : 8;
	if (thoff && thoff + need <= *avail && (e->proto == ET_IPPROTO_TCP || e->proto == ET_IPPROTO_UDP)) {
		__u8 th[16] = {};
		if (bpf_probe_read_kernel(th, need == 16 ? 16 : 8, l3 + thoff) == 0) {
			e->sport = ((__u16)th[0] << 8) | th[1];
			e->dport = ((__u16)th[2] << 8) | th[3];
			__u64 w0, w1;
			__builtin_memcpy(&w0, &th[4], 8);
			__builtin_memcpy(&w1, &th[8], 8);
			if (e->proto == ET_IPPROTO_TCP) {
				e->tcp_flags = th[13] & 0x3f;
				/* seq, ack; data offset, flags, window */
				*fp ^= w0 ^ (w1 * 0x9E3779B97F4A7C15ull);
			} else {
				/* length, checksum */
				*fp ^= w0 & 0xffffffffull;
			}
		}
	}
	return l3;
}

#define ET_TCP_TIME_WAIT 6
#define ET_TCP_NEW_SYN_RECV 12
#define ET_TCPF_SYN 2
#define ET_TCPF_ACK 16

/* an IPv4/IPv6 socket whose struct sock can be read whole (not a request
 * or time-wait socket, which are smaller) */
static __always_inline bool sk_inet_full(const struct sock *sk)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam != ET_AF_INET && fam != ET_AF_INET6)
		return false;
	__u8 st = BPF_CORE_READ(sk, __sk_common.skc_state);
	return st != ET_TCP_TIME_WAIT && st != ET_TCP_NEW_SYN_RECV;
}

static __always_inline bool owner_of(const struct et_owner *o, __u64 sk, struct et_skb_track *tr)
{
	if (!o)
		return false;
	tr->sk = sk;
	tr->pid = o->pid;
	tr->tid = o->tid;
	return true;
}

/* The tree's socket a packet belongs to (see the top of the file).
 * by_headers: the headers in e may be used (read at a tracepoint, the IP
 * version agreeing with skb->protocol); a function may run before they
 * are built, where the buffer still holds an older packet's. */
static __always_inline bool skb_owner(struct sk_buff *skb, const struct ev_skb *e, struct et_skb_track *tr,
				      __u32 netns, bool by_headers)
{
	struct sock *sk = BPF_CORE_READ(skb, sk);
	__u64 key = (__u64)sk;
	if (sk && sk_inet_full(sk)) {
		__u8 proto = BPF_CORE_READ(sk, sk_protocol);
		if (proto == ET_IPPROTO_TCP) {
			if (owner_of(bpf_map_lookup_elem(&sk_owner, &key), key, tr))
				return true;
		} else if (in_task_context() && traced_task()) {
			/* leaving a traced task through one of its sockets */
			__u64 id = bpf_get_current_pid_tgid();
			tr->sk = key;
			tr->pid = id >> 32;
			tr->tid = (__u32)id;
			__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);
			if (proto == ET_IPPROTO_UDP && port && e->ipver) {
				struct et_udp_key uk = {
					.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum),
					.port = port,
					.ipver = e->ipver,
				};
				struct et_udp_owner uo = { .sk = key, .pid = tr->pid, .tid = tr->tid };
				bpf_map_update_elem(&udp_ports, &uk, &uo, BPF_ANY);
			}
			return true;
		}
	}
	if (!by_headers || !e->ipver || !e->sport || !e->dport)
		return false;
	if (e->proto == ET_IPPROTO_TCP) {
		struct et_tuple t;
		__builtin_memset(&t, 0, sizeof(t));
		t.family = e->ipver == 4 ? ET_AF_INET : ET_AF_INET6;
		__builtin_memcpy(t.saddr, e->saddr, 16);
		__builtin_memcpy(t.daddr, e->daddr, 16);
		t.sport = e->sport;
		t.dport = e->dport;
		/* sent by a traced connection, or addressed to one */
		bool to_it;
		__u64 ck = tuple_conn(&t, &to_it, netns);
		if (ck && owner_of(bpf_map_lookup_elem(&sk_owner, &ck), ck, tr))
			return true;
		/* a handshake with a traced listener, before its connection
		 * exists: the SYN to it, its SYN|ACK back */
		__u8 syn = e->tcp_flags & (ET_TCPF_SYN | ET_TCPF_ACK);
		if (syn == ET_TCPF_SYN || syn == (ET_TCPF_SYN | ET_TCPF_ACK)) {
			struct et_listen_key lk = { .netns = netns, .port = syn == ET_TCPF_SYN ? e->dport : e->sport };
			if (owner_of(bpf_map_lookup_elem(&listeners, &lk), 0, tr))
				return true;
		}
		return false;
	}
	if (e->proto == ET_IPPROTO_UDP) {
		/* addressed to a port the tree sends from, in that namespace */
		struct et_udp_key uk = { .netns = netns, .port = e->dport, .ipver = e->ipver };
		struct et_udp_owner *uo = bpf_map_lookup_elem(&udp_ports, &uk);
		if (!uo)
			return false;
		__u64 usk = uo->sk;
		struct sock *u = (struct sock *)usk;
		/* the socket still there, still UDP on that port */
		if (BPF_CORE_READ(u, __sk_common.skc_num) != e->dport || BPF_CORE_READ(u, sk_protocol) != ET_IPPROTO_UDP)
			return false;
		tr->sk = usk;
		tr->pid = uo->pid;
		tr->tid = uo->tid;
		return true;
	}
	return false;
}

static long skb_filter_step(__u32 i, void *slotp)
{
	__u32 slot = *(__u32 *)slotp;
	struct et_skb_scratch *s = bpf_map_lookup_elem(&skb_scratch, &slot);
	if (!s)
		return 1;
	return et_cbpf_step(&s->run, (const struct et_cbpf_insn *)skb_prog, skb_nprog);
}

/* --skb-filter over the first bytes from the IP header */
static __always_inline bool skb_filter(struct et_skb_scratch *s, __u32 slot, struct sk_buff *skb,
				       const unsigned char *l3, __u32 avail)
{
	struct et_cbpf_run *r = &s->run;
	__u64 n = avail < ET_CBPF_PKT ? avail : ET_CBPF_PKT;
	r->A = r->X = 0;
	r->pc = r->done = r->result = 0;
	r->pktlen = 0;
	/* the headers' length in the packet: from the IP header to its end */
	__u32 len = BPF_CORE_READ(skb, len);
	unsigned char *data = BPF_CORE_READ(skb, data);
	r->wirelen = len - (__u32)(l3 - data);
	barrier_var(n);
	if (n > 0) {
		/* n again (1..ET_CBPF_PKT), in a form whose bound 6.1's verifier
		 * sees: a check of n itself was lost on the copy it passed to the
		 * helper, and the load failed with EACCES */
		__u64 m = ((n - 1) & (ET_CBPF_PKT - 1)) + 1;
		if (bpf_probe_read_kernel(r->pkt, m, l3) == 0)
			r->pktlen = m;
	}
	bpf_loop(ET_CBPF_MAX + 1, skb_filter_step, &slot, 0);
	return r->done && r->result;
}

/* One hook of one packet: judge it if new, then record it if it is the
 * tree's. ctx: the program's context (for the stack); func: the kernel
 * function (ET_SKB_FUNC), or what freed it. free: the last hook. */
struct et_skb_at {
	__u64 func;
	struct net_device *dev;
	__u32 hook, reason, l3mode, free;
};

/* The hook's work (a BPF function takes at most five arguments: the
 * hook's are in at). filter: this copy may run the --skb-filter (the
 * function backends' copy does not: a bpf_loop callback needs BTF function
 * info, which their per-function loads do not carry; with a filter they
 * follow only packets judged at a tracepoint). */
static __always_inline int skb_hook_body(void *ctx, struct sk_buff *skb, const struct et_skb_at *at, bool filter)
{
	__u32 hook = at->hook, reason = at->reason, l3mode = at->l3mode;
	bool free = at->free;
	bool at_func = hook == ET_SKB_FUNC;
	__u64 func = at->func;
	struct net_device *dev = at->dev;
	__u64 key = (__u64)skb;
	if (!skb)
		return 0;
	__u32 slot = in_task_context() ? 0 : 1;
	struct et_skb_scratch *s = bpf_map_lookup_elem(&skb_scratch, &slot);
	if (!s)
		return 0;
	struct ev_skb *e = &s->ev;
	__builtin_memset(e, 0, sizeof(*e));
	__u32 avail = 0;
	__u64 fp = 0;
	/* without l3mode the skb is not read at all (it may be freed) */
	__u64 head = l3mode ? (__u64)BPF_CORE_READ(skb, head) : 0;
	const unsigned char *l3 = l3mode ? skb_headers(skb, (unsigned char *)head, l3mode, e, &avail, &fp) : NULL;
	__u16 l3proto = l3mode ? bpf_ntohs(BPF_CORE_READ(skb, protocol)) : 0;
	/* an IP header only where skb->protocol says IP of that version (a
	 * unix or netlink skb has no network header: its payload is not one) */
	if (e->ipver && !((e->ipver == 4 && l3proto == ET_ETH_P_IP) || (e->ipver == 6 && l3proto == ET_ETH_P_IPV6))) {
		__builtin_memset(e, 0, sizeof(*e));
		l3 = NULL;
	}
	if (!dev && l3mode)
		dev = BPF_CORE_READ(skb, dev);
	__u32 netns = dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) : 0;
	/* no device (a packet in a socket's queue): the socket's namespace */
	struct sock *ssk = l3mode && !netns ? BPF_CORE_READ(skb, sk) : NULL;
	__u32 judge_ns = netns;
	if (ssk)
		judge_ns = BPF_CORE_READ(ssk, __sk_common.skc_net.net, ns.inum);
	struct et_skb_track *trp = bpf_map_lookup_elem(&skb_tracked, &key);
	struct et_skb_track nt;
	__builtin_memset(&nt, 0, sizeof(nt));
	bool have = false, first = false;
	if (trp) {
		/* a copy: an LRU entry can be recycled under us */
		nt = *trp;
		have = true;
	}
	bool same_headers = e->ipver && e->proto == nt.proto && e->sport == nt.sport && e->dport == nt.dport &&
			    fp == nt.fp;
	if (have && l3mode &&
	    (nt.head != head || (!at_func && nt.verified && (l3proto != nt.l3proto || !same_headers)))) {
		/* a freed skb's address, reused */
		bpf_map_delete_elem(&skb_tracked, &key);
		have = false;
	}
	if (have && !at_func && l3mode && !nt.verified && e->ipver) {
		/* judged at a function, before the headers were built: these are its */
		nt.verified = 1;
		nt.l3proto = l3proto;
		nt.fp = fp;
		nt.proto = e->proto;
		nt.sport = e->sport;
		nt.dport = e->dport;
		bpf_map_update_elem(&skb_tracked, &key, &nt, BPF_ANY);
	}
	if (!have) {
		__builtin_memset(&nt, 0, sizeof(nt));
		/* with a filter, only a copy that can run it judges */
		if (skb_nprog && !filter)
			return 0;
		if (!at_func && !e->ipver)
			return 0;
		if (!skb_owner(skb, e, &nt, judge_ns, !at_func))
			return 0;
		nt.head = head;
		nt.match = 1;
		if (!at_func) {
			nt.verified = 1;
			nt.l3proto = l3proto;
			nt.fp = fp;
			nt.proto = e->proto;
			nt.sport = e->sport;
			nt.dport = e->dport;
		}
		if (filter && skb_nprog && (!l3 || !skb_filter(s, slot, skb, l3, avail))) {
			nt.match = 0;
			count(ET_CNT_SKB_FILTERED);
		}
		if (!free)
			bpf_map_update_elem(&skb_tracked, &key, &nt, BPF_ANY);
		if (!nt.match)
			return 0;
		count(ET_CNT_SKB_TRACKED);
		first = true;
	} else if (!nt.match) {
		if (free)
			bpf_map_delete_elem(&skb_tracked, &key);
		return 0;
	}
	/* a function's headers may be an older packet's: the tracked ones */
	if (at_func && (!nt.verified || !same_headers))
		e->ipver = 0;
	e->h.type = ET_EV_SKB;
	e->h.ts = bpf_ktime_get_ns();
	e->h.pid = nt.pid;
	e->h.tid = nt.tid;
	e->sk = nt.sk;
	if (!e->ipver) {
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		e->tcp_flags = 0;
		e->proto = nt.proto;
		e->sport = nt.sport;
		e->dport = nt.dport;
	}
	e->skb = key;
	e->func = func;
	e->hook = hook;
	e->reason = reason;
	e->first = first;
	e->cur_pid = bpf_get_current_pid_tgid() >> 32;
	if (dev) {
		e->ifindex = BPF_CORE_READ(dev, ifindex);
		e->netns = netns;
		BPF_CORE_READ_INTO(&e->ifname, dev, name);
	}
	/* after the driver returned the skb may be gone: its length is the
	 * tracepoint's, passed in func */
	if (hook == ET_SKB_XMIT) {
		e->len = func;
		e->func = 0;
	} else {
		e->len = BPF_CORE_READ(skb, len);
	}
	__u64 size = sizeof(*e);
	if (skb_stack) {
		long n = bpf_get_stack(ctx, s->stack, sizeof(s->stack), 0);
		if (n > 0) {
			__u64 sn = (__u64)n & ~7ULL;
			if (sn > sizeof(s->stack))
				sn = sizeof(s->stack);
			e->nstack = sn / 8;
			size += sn;
		}
	}
	e->h.size = size;
	emit(e, size, ET_CNT_LOST_SKB);
	if (free)
		bpf_map_delete_elem(&skb_tracked, &key);
	return 0;
}

static __noinline int skb_hook(void *ctx, struct sk_buff *skb, const struct et_skb_at *at)
{
	return skb_hook_body(ctx, skb, at, true);
}

static __noinline int skb_hook_func(void *ctx, struct sk_buff *skb, const struct et_skb_at *at)
{
	return skb_hook_body(ctx, skb, at, false);
}

static __always_inline void skb_at(void *ctx, struct sk_buff *skb, __u32 hook, __u64 func, __u32 reason,
				   struct net_device *dev, __u32 l3mode, __u32 free)
{
	struct et_skb_at at = { .func = func, .dev = dev, .hook = hook, .reason = reason, .l3mode = l3mode,
				.free = free };
	if (hook == ET_SKB_FUNC)
		skb_hook_func(ctx, skb, &at);
	else
		skb_hook(ctx, skb, &at);
}

/* ---- the tracepoint backend ---- */

/* A tracepoint whose first argument is the skb, a hook of the packet path
 * at one stage: tp, the program's name, the stage, where its headers are
 * (ET_L3_NH: at the network header; ET_L3_DATA: at skb->data). */
#define ET_SKB_TP(tp, name, stage, l3)                                   \
	SEC("tp_btf/" #tp)                                               \
	int BPF_PROG(name, struct sk_buff *skb)                          \
	{                                                                \
		if (skb_trace)                                           \
			skb_at(ctx, skb, stage, 0, 0, NULL, l3, 0);      \
		return 0;                                                \
	}

ET_SKB_TP(net_dev_queue, et_skb_dev_queue, ET_SKB_DEV_QUEUE, ET_L3_NH)

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(et_skb_start_xmit, struct sk_buff *skb, struct net_device *dev)
{
	if (skb_trace)
		skb_at(ctx, skb, ET_SKB_START_XMIT, 0, 0, dev, ET_L3_NH, 0);
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(et_skb_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int skb_len)
{
	/* the driver may have freed the skb: only a followed one is recorded,
	 * with what the tracking entry and the tracepoint say */
	if (!skb_trace)
		return 0;
	__u64 key = (__u64)skb;
	if (!bpf_map_lookup_elem(&skb_tracked, &key))
		return 0;
	skb_at(ctx, skb, ET_SKB_XMIT, skb_len, (__u32)rc, dev, 0, 0);
	return 0;
}

ET_SKB_TP(netif_rx, et_skb_netif_rx, ET_SKB_NETIF_RX, ET_L3_DATA)
ET_SKB_TP(napi_gro_receive_entry, et_skb_gro, ET_SKB_GRO, ET_L3_DATA)
ET_SKB_TP(netif_receive_skb, et_skb_receive, ET_SKB_RECEIVE, ET_L3_DATA)

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(et_skb_send_reset, const struct sock *sk, struct sk_buff *skb)
{
	if (skb_trace && skb)
		skb_at(ctx, skb, ET_SKB_SEND_RESET, 0, 0, NULL, ET_L3_NH, 0);
	return 0;
}

ET_SKB_TP(skb_copy_datagram_iovec, et_skb_copy_user, ET_SKB_COPY_USER, ET_L3_NH)

SEC("tp_btf/kfree_skb")
int BPF_PROG(et_skb_kfree, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	if (skb_trace)
		skb_at(ctx, skb, ET_SKB_KFREE, (__u64)location, (__u32)reason, NULL, ET_L3_NH, 1);
	return 0;
}

SEC("tp_btf/consume_skb")
int BPF_PROG(et_skb_consume, struct sk_buff *skb)
{
	__u64 location = tp_consume_skb_args >= 2 ? ctx[1] : 0;
	if (skb_trace)
		skb_at(ctx, skb, ET_SKB_CONSUME, location, 0, NULL, ET_L3_NH, 1);
	return 0;
}

/* ---- the function backends: every kernel function with an skb argument.
 * One program per argument position; user space attaches each to the
 * functions whose skb is that argument (a BTF scan). Loaded only when
 * --net-backend picks them (these machines have neither kprobes nor
 * fentry: the programs are built and never loaded here). ---- */

#define ET_SKB_FUNC(ctx, skb) skb_at(ctx, (struct sk_buff *)(skb), ET_SKB_FUNC, bpf_get_func_ip(ctx), 0, NULL, ET_L3_NH, 0)

#define ET_SKB_FUNC_PROGS(N)                                      \
	SEC("kprobe.multi")                                       \
	int et_skb_kmulti##N(struct pt_regs *ctx)                 \
	{                                                         \
		ET_SKB_FUNC(ctx, PT_REGS_PARM##N(ctx));           \
		return 0;                                         \
	}                                                         \
	SEC("kprobe")                                             \
	int et_skb_kprobe##N(struct pt_regs *ctx)                 \
	{                                                         \
		ET_SKB_FUNC(ctx, PT_REGS_PARM##N(ctx));           \
		return 0;                                         \
	}                                                         \
	SEC("fentry")                                             \
	int et_skb_fentry##N(__u64 *ctx)                          \
	{                                                         \
		ET_SKB_FUNC(ctx, ctx[N - 1]);                     \
		return 0;                                         \
	}

ET_SKB_FUNC_PROGS(1)
ET_SKB_FUNC_PROGS(2)
ET_SKB_FUNC_PROGS(3)
ET_SKB_FUNC_PROGS(4)
ET_SKB_FUNC_PROGS(5)

/* ---- route lookups (fib tracepoints) ----
 * Output lookups only (the kernel sets the input interface of an output
 * flow to the loopback device, 1), made by a traced task: the route its
 * connect or sendto took, or did not find. -EAGAIN: no route in that table
 * (the caller then tries the next rule's table, or fails with ENETUNREACH). */
#define ET_LOOPBACK_IFINDEX 1
#define ET_EAGAIN 11

static __always_inline struct ev_route *route_start(int iif)
{
	/* not the replies the kernel sends for a packet it received (a RST,
	 * an ICMP error): those look up their route in a softirq */
	if (iif != ET_LOOPBACK_IFINDEX || !in_task_context() || !traced_task())
		return NULL;
	__u32 zero = 0;
	struct et_skb_scratch *s = bpf_map_lookup_elem(&skb_scratch, &zero);
	if (!s)
		return NULL;
	/* the skb record's room, reused (a route lookup never runs inside skb_hook) */
	struct ev_route *r = (void *)&s->ev;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, ET_EV_ROUTE, sizeof(*r));
	return r;
}

SEC("tp_btf/fib_table_lookup")
int BPF_PROG(et_fib_lookup, u32 tb_id, const struct flowi4 *flp, const struct fib_nh_common *nhc, int err)
{
	struct ev_route *r = route_start(BPF_CORE_READ(flp, __fl_common.flowic_iif));
	if (!r)
		return 0;
	r->table = tb_id;
	r->err = err;
	r->oif = BPF_CORE_READ(flp, __fl_common.flowic_oif);
	r->ipver = 4;
	r->proto = BPF_CORE_READ(flp, __fl_common.flowic_proto);
	__u32 a = BPF_CORE_READ(flp, saddr);
	__builtin_memcpy(r->saddr, &a, 4);
	a = BPF_CORE_READ(flp, daddr);
	__builtin_memcpy(r->daddr, &a, 4);
	r->sport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.sport));
	r->dport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.dport));
	if (nhc && !err) {
		struct net_device *dev = BPF_CORE_READ(nhc, nhc_dev);
		if (dev) {
			BPF_CORE_READ_INTO(&r->dev, dev, name);
			r->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		}
		__u8 gwf = BPF_CORE_READ(nhc, nhc_gw_family);
		if (gwf == ET_AF_INET) {
			a = BPF_CORE_READ(nhc, nhc_gw.ipv4);
			__builtin_memcpy(r->gw, &a, 4);
			r->gw_family = 4;
		} else if (gwf == ET_AF_INET6) {
			__u8(*g)[16] = (void *)r->gw;
			BPF_CORE_READ_INTO(g, nhc, nhc_gw.ipv6.in6_u.u6_addr8);
			r->gw_family = 6;
		}
	}
	emit(r, sizeof(*r), ET_CNT_LOST_ROUTE);
	return 0;
}

/* RTN_* of a fib6 result that is an error route */
#define ET_RTN_BLACKHOLE 6
#define ET_RTN_UNREACHABLE 7
#define ET_RTN_PROHIBIT 8
#define ET_ENETUNREACH 101
#define ET_EACCES 13
#define ET_EINVAL 22

SEC("tp_btf/fib6_table_lookup")
int BPF_PROG(et_fib6_lookup, const struct net *net, const struct fib6_result *res, struct fib6_table *table,
	     const struct flowi6 *flp)
{
	struct ev_route *r = route_start(BPF_CORE_READ(flp, __fl_common.flowic_iif));
	if (!r)
		return 0;
	r->table = table ? BPF_CORE_READ(table, tb6_id) : 0;
	r->oif = BPF_CORE_READ(flp, __fl_common.flowic_oif);
	r->ipver = 6;
	r->proto = BPF_CORE_READ(flp, __fl_common.flowic_proto);
	__u8(*sa)[16] = (void *)r->saddr, (*da)[16] = (void *)r->daddr;
	BPF_CORE_READ_INTO(sa, flp, saddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(da, flp, daddr.in6_u.u6_addr8);
	r->sport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.sport));
	r->dport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.dport));
	__u8 type = BPF_CORE_READ(res, fib6_type);
	struct fib6_info *f6i = BPF_CORE_READ(res, f6i);
	struct fib6_info *null_entry = BPF_CORE_READ(net, ipv6.fib6_null_entry);
	if (type == ET_RTN_UNREACHABLE || type == ET_RTN_BLACKHOLE || !f6i || f6i == null_entry)
		r->err = -ET_ENETUNREACH;
	else if (type == ET_RTN_PROHIBIT)
		r->err = -ET_EACCES;
	if (!r->err) {
		struct fib6_nh *nh = BPF_CORE_READ(res, nh);
		if (nh) {
			struct net_device *dev = BPF_CORE_READ(nh, nh_common.nhc_dev);
			if (dev) {
				BPF_CORE_READ_INTO(&r->dev, dev, name);
				r->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
			}
			__u8 gwf = BPF_CORE_READ(nh, nh_common.nhc_gw_family);
			if (gwf == ET_AF_INET6) {
				__u8(*g)[16] = (void *)r->gw;
				BPF_CORE_READ_INTO(g, nh, nh_common.nhc_gw.ipv6.in6_u.u6_addr8);
				r->gw_family = 6;
			}
		}
	}
	emit(r, sizeof(*r), ET_CNT_LOST_ROUTE);
	return 0;
}
