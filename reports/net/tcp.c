/* TCP connections of the tree: ET_EV_SOCK records gathered per socket, and
 * the words the renderers use for them. */
#include "tcp.h"
#include "reports/net/netstate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/btf.h>

#include "reports/syscalls/decode.h"
#include "reports/syscalls/syscall_table.h"

static const char *const tcp_states[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10

const char *tcp_state_name(int state)
{
	if (state > 0 && (size_t)state < sizeof(tcp_states) / sizeof(tcp_states[0]) && tcp_states[state])
		return tcp_states[state];
	return "?";
}

const char *conn_role_name(int role)
{
	switch (role) {
	case ET_CONN_CONNECT:
		return "connect";
	case ET_CONN_LISTEN:
		return "listen";
	case ET_CONN_ACCEPT:
		return "accept";
	}
	return "?";
}

/* The kernel's drop reasons change between versions: take the names from
 * its BTF (enum skb_drop_reason) once, without the SKB_DROP_REASON_ prefix. */
static char **drop_names;
static size_t ndrop_names;
static int drop_names_loaded;

static void load_drop_names(void)
{
	drop_names_loaded = 1;
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf)
		return;
	int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (t) {
		const struct btf_enum *e = btf_enum(t);
		uint32_t max = 0;
		for (int i = 0; i < btf_vlen(t); i++)
			if ((uint32_t)e[i].val > max && (uint32_t)e[i].val < 4096)
				max = (uint32_t)e[i].val;
		drop_names = calloc(max + 1, sizeof(*drop_names));
		if (drop_names) {
			ndrop_names = max + 1;
			for (int i = 0; i < btf_vlen(t); i++) {
				uint32_t v = (uint32_t)e[i].val;
				const char *n = btf__name_by_offset(btf, e[i].name_off);
				if (v >= ndrop_names || !n || drop_names[v])
					continue;
				if (strncmp(n, "SKB_DROP_REASON_", 16) == 0)
					n += 16;
				drop_names[v] = strdup(n);
			}
		}
	}
	btf__free(btf);
}

const char *skb_drop_reason_name(uint32_t reason)
{
	if (!drop_names_loaded)
		load_drop_names();
	return reason < ndrop_names ? drop_names[reason] : NULL;
}

void conn_endpoint(const struct et_conn *c, int remote, struct strbuf *out)
{
	char buf[INET6_ADDRSTRLEN];
	const uint8_t *a = remote ? c->daddr : c->saddr;
	unsigned port = remote ? c->dport : c->sport;
	if (c->family == AF_INET6) {
		inet_ntop(AF_INET6, a, buf, sizeof(buf));
		sb_printf(out, "[%s]:%u", buf, port);
	} else {
		inet_ntop(AF_INET, a, buf, sizeof(buf));
		sb_printf(out, "%s:%u", buf, port);
	}
}

/* The connect() that started c (CLOSE -> SYN_SENT runs inside the owner
 * thread's connect()), NULL if it is not among the kept records. */
static const struct et_record *conn_connect_record(const struct et_model *m, const struct et_conn *c)
{
	static int nr_connect = -2;
	if (c->role != ET_CONN_CONNECT)
		return NULL;
	if (nr_connect == -2)
		nr_connect = syscall_nr("connect");
	if (nr_connect < 0)
		return NULL;
	const struct et_thread *t = model_thread((struct et_model *)m, c->tid);
	if (!t)
		return NULL;
	for (size_t i = 0;; i++) {
		const struct et_record *r = thread_record(t, i);
		if (!r)
			return NULL;
		if ((int)r->ev.nr != nr_connect || r->ev.enter_ts > c->first_ts || r->ev.h.ts < c->first_ts)
			continue;
		return r;
	}
}

int conn_connect_errno(const struct et_model *m, const struct et_conn *c)
{
	const struct et_record *r = conn_connect_record(m, c);
	if (r && r->ev.ret < 0 && r->ev.ret != -EINPROGRESS)
		return (int)-r->ev.ret;
	return 0;
}

/* A call on the connecting fd after a non-blocking connect's EINPROGRESS
 * that told the program the outcome: getsockopt(SO_ERROR), a second
 * connect, a read or write that failed. */
static bool fd_call(const char *name)
{
	static const char *const names[] = { "read", "write", "readv", "writev", "recvfrom", "sendto",
					     "recvmsg", "sendmsg", "pread64", "pwrite64" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* 1: r told the program the outcome (*err: 0 connected, else the errno);
 * 0: it did not; -1: r closed the fd. */
static int learned_by(const struct et_record *r, int *err)
{
	const char *name = syscall_name((int)r->ev.nr);
	long ret = (long)r->ev.ret;
	if (strcmp(name, "close") == 0)
		return -1;
	if (strcmp(name, "getsockopt") == 0) {
		const struct ev_capture *cap = ev_find_capture(&r->ev, 3, 0);
		if (ret || (int)r->ev.args[1] != SOL_SOCKET || (int)r->ev.args[2] != SO_ERROR || !cap ||
		    cap->len != sizeof(int))
			return 0;
		int v;
		memcpy(&v, ev_capture_data(cap), sizeof(v));
		*err = v;
		return v != 0 ? 1 : 2; /* 2: no error yet (connected, or a wake-up before the answer) */
	}
	if (strcmp(name, "connect") == 0) {
		if (ret == -EINPROGRESS || ret == -EALREADY)
			return 0;
		*err = ret == -EISCONN ? 0 : (int)-ret;
		return 1;
	}
	if (fd_call(name) && ret < 0 && ret != -EAGAIN && ret != -EINTR && ret >= -4095) {
		*err = (int)-ret;
		return 1;
	}
	return 0;
}

int conn_learned(const struct et_model *m, const struct et_conn *c, struct conn_learned *out)
{
	memset(out, 0, sizeof(*out));
	const struct et_record *r = conn_connect_record(m, c);
	if (!r || (long)r->ev.ret != -EINPROGRESS)
		return 0;
	const struct et_process *p = model_process((struct et_model *)m, c->pid);
	if (!p)
		return 0;
	uint64_t after = r->ev.h.ts, close_ts = UINT64_MAX;
	int fd = (int)r->ev.args[0];
	const struct et_record *best = NULL;
	int best_err = 0;
	/* the threads of the process share the fd: the earliest decisive call
	 * before the fd's first close wins (Go polls and asks on other threads) */
	for (size_t i = 0; i < p->nthreads; i++) {
		const struct et_thread *t = p->threads[i];
		for (size_t j = 0; j < t->ring_count; j++) {
			const struct et_record *x = thread_record(t, j);
			if (x->ev.enter_ts < after || (int)x->ev.args[0] != fd || (x->ev.flags & ET_SC_F_NORETURN))
				continue;
			int err = 0, k = learned_by(x, &err);
			if (k == 2)
				k = c->established_ts && c->established_ts <= x->ev.h.ts ? 1 : 0;
			if (k < 0 && x->ev.enter_ts < close_ts)
				close_ts = x->ev.enter_ts;
			if (k > 0 && (!best || x->ev.enter_ts < best->ev.enter_ts)) {
				best = x;
				best_err = err;
			}
		}
	}
	if (best && best->ev.enter_ts < close_ts) {
		out->err = best_err;
		out->by = syscall_name((int)best->ev.nr);
		if (strcmp(out->by, "getsockopt") == 0)
			out->by = "SO_ERROR";
		out->ts = best->ev.h.ts;
		return 1;
	}
	if (close_ts != UINT64_MAX) {
		out->gave_up = true;
		out->ts = close_ts;
		return 1;
	}
	return 0;
}

void conn_outcome(const struct et_model *m, const struct et_conn *c, struct strbuf *out)
{
	sb_puts(out, conn_role_name(c->role));
	sb_putc(out, ' ');
	conn_endpoint(c, c->role != ET_CONN_LISTEN, out);
	if (c->role == ET_CONN_LISTEN) {
		if (c->closed)
			sb_puts(out, " -> closed");
		return;
	}
	/* a blocking connect() returns EINPROGRESS only when its SO_SNDTIMEO
	 * ran out; a non-blocking one returns it at once, however long "at
	 * once" takes (10 ms in a TCG guest). Recordings made before the
	 * kernel side said which (no ET_SC_F_NONBLOCK) still go by the time:
	 * a timeout is at least a jiffy. */
	const struct et_record *r = conn_connect_record(m, c);
	bool timed_out = r && r->ev.ret == -EINPROGRESS && !(r->ev.flags & ET_SC_F_NONBLOCK) && !c->established_ts &&
			 r->ev.h.ts - r->ev.enter_ts >= 1000000;
	if (r && r->ev.ret == -EINPROGRESS && !timed_out)
		sb_puts(out, " -> EINPROGRESS");
	struct conn_learned l;
	int have_learned = conn_learned(m, c, &l);
	if (c->established_ts)
		sb_printf(out, " -> established after %.1f ms", (double)(c->established_ts - c->first_ts) / 1e6);
	else if (!c->rst_recv && !c->rst_sent && (c->retrans || c->ndrops)) {
		/* the SYN went unanswered: say what became of it */
		sb_puts(out, " -> no answer");
		if (c->retrans)
			sb_printf(out, ", %lu SYN retransmit%s", (unsigned long)c->retrans, c->retrans == 1 ? "" : "s");
		for (size_t k = 0; k < c->ndrops; k++) {
			const char *rn = skb_drop_reason_name(c->drops[k].reason);
			sb_printf(out, ", %lu dropped (", (unsigned long)c->drops[k].count);
			if (rn)
				sb_puts(out, rn);
			else
				sb_printf(out, "reason %u", c->drops[k].reason);
			sb_putc(out, ')');
		}
	}
	if (timed_out)
		sb_printf(out, " -> connect timed out after %.1f ms", (double)(r->ev.h.ts - r->ev.enter_ts) / 1e6);
	if (c->rst_recv)
		sb_printf(out, " -> RST received after %.1f ms", (double)(c->rst_recv_ts - c->first_ts) / 1e6);
	else if (c->rst_sent)
		sb_printf(out, " -> RST sent after %.1f ms", (double)(c->rst_sent_ts - c->first_ts) / 1e6);
	else if (have_learned && l.gave_up)
		sb_printf(out, " -> the program gave up: closed it after %.1f ms, still connecting",
			  (double)(l.ts - c->first_ts) / 1e6);
	else if (c->closed)
		sb_puts(out, " -> closed");
	int err = r && r->ev.ret < 0 && r->ev.ret != -EINPROGRESS ? (int)-r->ev.ret : 0;
	if (err) {
		const char *en = decode_errno_name(err);
		sb_printf(out, " -> %s", en ? en : strerror(err));
	}
	/* non-blocking: what the program learned afterwards */
	if (have_learned && !l.gave_up) {
		if (l.err) {
			const char *en = decode_errno_name(l.err);
			sb_printf(out, " -> %s (%s)", en ? en : strerror(l.err), l.by);
		} else {
			sb_printf(out, " -> connected (%s)", l.by);
		}
	}
}

static struct et_conn *conn_for(struct et_model *m, const struct ev_sock *e)
{
	for (size_t i = m->net->nconns; i-- > 0;)
		if (m->net->conns[i].sk == e->sk && !m->net->conns[i].closed)
			return &m->net->conns[i];
	if (e->kind != ET_SK_STATE) {
		/* an abortive close sends its RST after the CLOSE */
		for (size_t i = m->net->nconns; i-- > 0;)
			if (m->net->conns[i].sk == e->sk)
				return &m->net->conns[i];
		return NULL; /* a socket we did not see start */
	}
	if (m->net->nconns == m->net->cap_conns) {
		size_t cap = m->net->cap_conns ? m->net->cap_conns * 2 : 16;
		struct et_conn *n = realloc(m->net->conns, cap * sizeof(*n));
		if (!n)
			return NULL;
		m->net->conns = n;
		m->net->cap_conns = cap;
	}
	struct et_conn *c = &m->net->conns[m->net->nconns++];
	memset(c, 0, sizeof(*c));
	c->sk = e->sk;
	c->first_ts = e->h.ts;
	c->pid = (int)e->h.pid;
	c->tid = (int)e->h.tid;
	c->family = e->family;
	if (e->newstate == TCP_LISTEN)
		c->role = ET_CONN_LISTEN;
	else if (e->newstate == TCP_SYN_SENT)
		c->role = ET_CONN_CONNECT;
	else
		c->role = ET_CONN_ACCEPT;
	return c;
}

int model_on_sock(struct et_model *m, const struct ev_sock *e)
{
	struct et_conn *c = conn_for(m, e);
	if (!c)
		return 0;
	/* the ports and addresses are filled in as connect() picks them */
	if (e->sport)
		c->sport = e->sport;
	if (e->dport)
		c->dport = e->dport;
	if (e->bytes_sent > c->bytes_sent)
		c->bytes_sent = e->bytes_sent;
	if (e->bytes_recv > c->bytes_recv)
		c->bytes_recv = e->bytes_recv;
	static const uint8_t zero[16];
	if (memcmp(e->saddr, zero, 16))
		memcpy(c->saddr, e->saddr, 16);
	if (memcmp(e->daddr, zero, 16))
		memcpy(c->daddr, e->daddr, 16);

	struct strbuf sb = STRBUF_INIT;
	sb_puts(&sb, "tcp ");
	conn_endpoint(c, 0, &sb);
	if (c->role != ET_CONN_LISTEN) {
		sb_puts(&sb, c->role == ET_CONN_ACCEPT ? " <- " : " -> ");
		conn_endpoint(c, 1, &sb);
	}
	sb_puts(&sb, ": ");
	switch (e->kind) {
	case ET_SK_STATE:
		if (c->nstates < ET_CONN_STATES) {
			c->states[c->nstates].ts = e->h.ts;
			c->states[c->nstates].from = e->oldstate;
			c->states[c->nstates].to = e->newstate;
			c->nstates++;
		} else {
			c->states_dropped++;
		}
		if (e->newstate == TCP_ESTABLISHED && !c->established_ts)
			c->established_ts = e->h.ts;
		if (e->newstate == TCP_CLOSE)
			c->closed = true;
		sb_printf(&sb, "%s -> %s", tcp_state_name(e->oldstate), tcp_state_name(e->newstate));
		break;
	case ET_SK_RST_SENT:
		if (!c->rst_sent++)
			c->rst_sent_ts = e->h.ts;
		sb_puts(&sb, "RST sent");
		break;
	case ET_SK_RST_RECV:
		if (!c->rst_recv++)
			c->rst_recv_ts = e->h.ts;
		sb_puts(&sb, "RST received");
		break;
	case ET_SK_RETRANS:
		c->retrans++;
		sb_puts(&sb, "retransmit");
		break;
	case ET_SK_DROP: {
		size_t i;
		for (i = 0; i < c->ndrops; i++)
			if (c->drops[i].reason == e->reason)
				break;
		if (i == c->ndrops && c->ndrops < ET_CONN_DROPS)
			c->drops[c->ndrops++].reason = e->reason;
		if (i < c->ndrops)
			c->drops[i].count++;
		const char *rn = skb_drop_reason_name(e->reason);
		if (rn)
			sb_printf(&sb, "packet dropped (%s)", rn);
		else
			sb_printf(&sb, "packet dropped (reason %u)", e->reason);
		break;
	}
	default:
		sb_free(&sb);
		return -1;
	}
	struct et_process *p = model_process(m, c->pid);
	if (p)
		model_add_note(p, e->h.ts, c->tid, sb_detach(&sb));
	else
		sb_free(&sb);
	return 0;
}

/* ---- the path a connection's packets took -------------------------------- */

const char *path_stage_name(int stage)
{
	switch (stage) {
	case ET_PATH_QUEUE:
		return "queue";
	case ET_PATH_XMIT:
		return "xmit";
	case ET_PATH_RX:
	case ET_PATH_RX_IN:
		return "receive";
	}
	return "?";
}

void path_rc_name(int rc, struct strbuf *out)
{
	switch (rc) {
	case 0x01:
		sb_puts(out, "NET_XMIT_DROP");
		return;
	case 0x02:
		sb_puts(out, "NET_XMIT_CN");
		return;
	case 0x10:
		sb_puts(out, "NETDEV_TX_BUSY");
		return;
	}
	const char *en = rc < 0 ? decode_errno_name(-rc) : NULL;
	if (en)
		sb_puts(out, en);
	else
		sb_printf(out, "%d", rc);
}

static void path_size(uint64_t bytes, struct strbuf *out)
{
	if (bytes < 1024)
		sb_printf(out, "%lu B", (unsigned long)bytes);
	else if (bytes < 1024 * 1024)
		sb_printf(out, "%.1f KB", (double)bytes / 1024);
	else
		sb_printf(out, "%.1f MB", (double)bytes / (1024 * 1024));
}

static void path_hop_text(const struct et_path_hop *h, const struct et_path_hop *queued, bool show_ns,
			  struct strbuf *out)
{
	sb_puts(out, h->stage == ET_PATH_QUEUE ? "queued " : h->stage == ET_PATH_XMIT ? "tx " : "rx ");
	sb_puts(out, h->ifname[0] ? h->ifname : "?");
	if (show_ns)
		sb_printf(out, " (ns %u)", h->netns);
	sb_printf(out, " (%lu pkt%s, ", (unsigned long)h->packets, h->packets == 1 ? "" : "s");
	path_size(h->bytes, out);
	if (h->errors) {
		sb_printf(out, ", %lu error%s, last ", (unsigned long)h->errors, h->errors == 1 ? "" : "s");
		path_rc_name(h->last_rc, out);
	}
	if (queued && queued->packets != h->packets)
		sb_printf(out, "; %lu queued", (unsigned long)queued->packets);
	sb_putc(out, ')');
}

void conn_path_text(const struct et_conn *c, struct strbuf *out)
{
	bool show_ns = false;
	for (size_t i = 1; i < c->npath; i++)
		if (c->path[i].netns != c->path[0].netns)
			show_ns = true;
	int n = 0;
	for (int in = 0; in < 2; in++) {
		int k = 0;
		for (size_t i = 0; i < c->npath; i++) {
			const struct et_path_hop *h = &c->path[i];
			if ((h->stage == ET_PATH_RX_IN) != in)
				continue;
			const struct et_path_hop *queued = NULL;
			if (h->stage == ET_PATH_QUEUE || h->stage == ET_PATH_XMIT) {
				/* a queue step is shown with the xmit on the same interface */
				const struct et_path_hop *other = NULL;
				for (size_t j = 0; j < c->npath; j++)
					if (c->path[j].stage == (h->stage == ET_PATH_QUEUE ? ET_PATH_XMIT : ET_PATH_QUEUE) &&
					    c->path[j].ifindex == h->ifindex && c->path[j].netns == h->netns)
						other = &c->path[j];
				if (h->stage == ET_PATH_QUEUE && other)
					continue;
				if (h->stage == ET_PATH_XMIT)
					queued = other;
			}
			if (in && !k)
				sb_puts(out, n ? "; in: " : "in: ");
			else if (k)
				sb_puts(out, " -> ");
			path_hop_text(h, queued, show_ns, out);
			k++;
			n++;
		}
	}
	if (c->path_not_listed)
		sb_printf(out, " (+%lu packets on steps not listed)", (unsigned long)c->path_not_listed);
}
