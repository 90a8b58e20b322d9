/* The network's programs (bpf/net.bpf.c) and --skb's (bpf/skb.bpf.c):
 * opened, loaded when the tree needs them, and what their maps added up
 * read into the model's connections at the end. */
#include "runner/tracer_int.h"
#include "reports/net/netstate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etrace.skel.h"
#include "net.skel.h"
#include "bpf/cbpf.h"
#include "skb.skel.h"
#include "bpf/net.h"
#include "runner/concern.h"
#include "runner/kernelfit.h"
#include "runner/startup.h"
#include "runner/net/skbtrace.h"
#include "reports/net/tcp.h"

/* The network's programs (bpf/net.bpf.c): opened at the start, the ones
 * whose tracepoint this kernel has (the gaps go to the report whether or
 * not they load), told the argument counts of the ones that changed. */
int tr_net_open(struct tracer *t, const struct kernel_tp_args *tpa, char *err, size_t errlen)
{
	if (!t->net)   /* tracer_load opens it while the kernel's BTF is parsed */
		t->net = net_bpf__open();
	if (!t->net) {
		snprintf(err, errlen, "cannot open the network's BPF object: %s", strerror(errno));
		return -1;
	}
	t->net->rodata->shared_cfg = t->shared;
	t->net->rodata->tp_kfree_skb_args = (__u32)tpa->kfree_skb;
	t->net->rodata->drop_unspecified = tpa->skb_consumed;
	return kernelfit_tracepoints(t->net->obj, kernelfit_vmlinux(), t->m, err, errlen);
}

/* ... loaded and attached: at the start, or when the tree first needs them
 * (net_needed in bpf/core/syscalls.h). */
int tr_net_load(struct tracer *t, char *err, size_t errlen)
{
	if (t->net_loaded)
		return 0;
	if (t->net_failed) {
		snprintf(err, errlen, "the network's programs could not be loaded");
		return -1;
	}
	t->net_failed = true;
	if (concern_load(t->net->obj, &t->skel->obj, 1, "net", err, errlen) < 0)
		return -1;
	int rc = net_bpf__attach(t->net);
	if (rc) {
		snprintf(err, errlen, "cannot attach the network's tracepoints: %s", strerror(-rc));
		return -1;
	}
	__u32 key = ET_GATE_NET_READY, one = 1;
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.hold_gate), &key, &one, BPF_ANY);
	t->net_failed = false;
	t->net_loaded = true;
	startup_mark("the network's programs loaded and attached");
	return 0;
}

/* A socket etrace would hand down to the program (open, not
 * close-on-exec): the tree may use it without making one. */
bool tr_net_inherited_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return true;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || fd == dirfd(d))
			continue;
		struct stat st;
		int domain = 0;
		socklen_t len = sizeof(domain);
		int flags = fcntl((int)fd, F_GETFD);
		found = flags >= 0 && !(flags & FD_CLOEXEC) && fstat((int)fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
			getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
			(domain == AF_INET || domain == AF_INET6);
	}
	closedir(d);
	return found;
}

/* --skb's programs (bpf/skb.bpf.c), with the maps of the core and the
 * network objects; a function backend picked by auto that the kernel
 * refuses falls back to the tracepoints. */
int tr_skb_open(struct tracer *t, const struct kernel_tp_args *tpa, char *err, size_t errlen)
{
	struct bpf_object *from[2] = { t->skel->obj, t->net->obj };
	for (;;) {
		t->skbo = skb_bpf__open();
		if (!t->skbo) {
			snprintf(err, errlen, "cannot open the --skb BPF object: %s", strerror(errno));
			return -1;
		}
		t->skbo->rodata->shared_cfg = t->shared;
		t->skbo->rodata->tp_consume_skb_args = (__u32)tpa->consume_skb;
		skb_plan_configure(t->skb, t->skbo);
		if (kernelfit_tracepoints(t->skbo->obj, kernelfit_vmlinux(), t->m, err, errlen) < 0)
			return -1;
		char lerr[256];
		if (concern_load(t->skbo->obj, from, 2, "skb", lerr, sizeof(lerr)) == 0)
			break;
		if (!t->skb->auto_picked || strcmp(t->skb->backend, "tracepoint") == 0) {
			snprintf(err, errlen, "%s", lerr);
			return -1;
		}
		/* the function backend the kernel seemed to allow was refused:
		 * a fresh object with the tracepoint programs only */
		skb_plan_fall_back(t->skb, lerr);
		skb_bpf__destroy(t->skbo);
		t->skbo = NULL;
	}
	int rc = skb_bpf__attach(t->skbo);
	if (rc) {
		snprintf(err, errlen, "cannot attach the --skb tracepoints: %s", strerror(-rc));
		return -1;
	}
	return skb_plan_attach(t->skb, t->skbo, err, errlen);
}

/* Sockets still open at the end: their byte counts since their last event
 * are in the owner map (bpf/net.h). */
static void collect_socket_bytes(struct tracer *t)
{
	struct et_owner o;
	__u64 key, next, *prev = NULL;
	if (!t->net_loaded)
		return;
	int fd = bpf_map__fd(t->net->maps.sk_owner);
	struct et_model *m = t->m;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &o) < 0)
			continue;
		for (size_t i = m->net->nconns; i-- > 0;) {
			struct et_conn *c = &m->net->conns[i];
			if (c->sk != key)
				continue;
			if (o.sent > c->bytes_sent)
				c->bytes_sent = o.sent;
			if (o.recv > c->bytes_recv)
				c->bytes_recv = o.recv;
			break;
		}
	}
}

/* The path of the connections' packets: counters per (socket, interface,
 * stage) the kernel added up (bpf/net.h). */
static void collect_net_path(struct tracer *t)
{
	struct et_path_key key, next, *prev = NULL;
	struct et_path_val v;
	if (!t->net_loaded)
		return;
	int fd = bpf_map__fd(t->net->maps.net_path);
	struct et_model *m = t->m;
	/* a per-CPU table: each CPU's counts, added up here */
	int ncpu = libbpf_num_possible_cpus();
	struct et_path_val *per = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*per)) : NULL;
	if (!per)
		return;
	for (size_t i = 0; i < m->net->nconns; i++)
		m->net->conns[i].npath = m->net->conns[i].path_not_listed = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, per) < 0)
			continue;
		memset(&v, 0, sizeof(v));
		for (int c = 0; c < ncpu; c++) {
			v.packets += per[c].packets;
			v.bytes += per[c].bytes;
			v.errors += per[c].errors;
			if (per[c].first_ts && (!v.first_ts || per[c].first_ts < v.first_ts))
				v.first_ts = per[c].first_ts;
			if (per[c].last_rc)
				v.last_rc = per[c].last_rc;
			if (!v.ifname[0] && per[c].ifname[0])
				memcpy(v.ifname, per[c].ifname, sizeof(v.ifname));
		}
		if (!v.packets)
			continue;
		/* the connection of that socket that had started by then */
		struct et_conn *c = NULL;
		for (size_t i = m->net->nconns; i-- > 0;) {
			if (m->net->conns[i].sk != key.sk)
				continue;
			if (!c)
				c = &m->net->conns[i];
			if (m->net->conns[i].first_ts <= v.first_ts) {
				c = &m->net->conns[i];
				break;
			}
		}
		if (!c)
			continue;
		if (c->npath == ET_CONN_PATH) {
			c->path_not_listed += v.packets;
			continue;
		}
		struct et_path_hop *h = &c->path[c->npath++];
		memset(h, 0, sizeof(*h));
		h->stage = (int)key.stage;
		h->ifindex = key.ifindex;
		h->netns = key.netns;
		memcpy(h->ifname, v.ifname, sizeof(h->ifname));
		h->ifname[sizeof(h->ifname) - 1] = 0;
		h->packets = v.packets;
		h->bytes = v.bytes;
		h->errors = v.errors;
		h->last_rc = v.last_rc;
		h->first_ts = v.first_ts;
	}
	free(per);
	/* in the order first seen, queue before xmit before receive on a tie */
	for (size_t i = 0; i < m->net->nconns; i++) {
		struct et_conn *c = &m->net->conns[i];
		for (size_t a = 1; a < c->npath; a++) {
			struct et_path_hop x = c->path[a];
			size_t b = a;
			while (b > 0 && (c->path[b - 1].first_ts > x.first_ts ||
					 (c->path[b - 1].first_ts == x.first_ts && c->path[b - 1].stage > x.stage))) {
				c->path[b] = c->path[b - 1];
				b--;
			}
			c->path[b] = x;
		}
	}
}

void tr_net_collect(struct tracer *t)
{
	collect_socket_bytes(t);
	collect_net_path(t);
}
