/*
 * UDP flows and DNS lookups, learned at ingest from each syscall record
 * (so they count every datagram, not just the records a thread keeps).
 *
 * A send or receive on a UDP socket carries an ET_CAP_SOCK_ENDS capture:
 * the socket (its kernel address), its local and connected ends, and the
 * datagrams and bytes the call moved, added up in the kernel. The remote
 * end of an unconnected socket comes from the call's address (sendto's
 * destination, recvfrom's source, a message's msg_name). A flow is one
 * socket of a process and one remote address.
 *
 * Datagrams to or from port 53 are captured whole (up to ET_DNS_MAX) and
 * decoded (reports/net/dns.c): a query opens a lookup, its answer is matched by
 * socket, peer, id and question; the latency runs from the entry of the
 * call that sent the query to the return of the one that received the
 * answer. When the tree itself serves DNS (port 53 is local) the roles
 * turn around: the query is received and the answer sent.
 */
#include "tcp.h"
#include "reports/net/netstate.h"
#include "udp.h"
#include "reports/core/xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "reports/core/analysis.h"
#include "reports/syscalls/decode.h"
#include "dns.h"
#include "reports/core/model.h"
#include "reports/syscalls/syscall_table.h"

#define UDP_FLOWS_MAX 4096
#define UDP_DNS_MAX 10000
#define UDP_MATCH_WINDOW 1024   /* lookups searched back for a query's answer */

/* ---- endpoints --------------------------------------------------------------- */

static int ep_from_sockaddr(const void *sa, size_t len, struct udp_ep *e)
{
	sa_family_t fam;
	memset(e, 0, sizeof(*e));
	if (!sa || len < sizeof(fam))
		return -1;
	memcpy(&fam, sa, sizeof(fam));
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof(in));
		e->family = AF_INET;
		memcpy(e->addr, &in.sin_addr, 4);
		e->port = ntohs(in.sin_port);
		return 0;
	}
	if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;
		memcpy(&in6, sa, sizeof(in6));
		e->family = AF_INET6;
		memcpy(e->addr, &in6.sin6_addr, 16);
		e->port = ntohs(in6.sin6_port);
		return 0;
	}
	return -1;
}

/* "127.0.0.1:53" or "[::1]:53", as the fd table writes them. */
static int ep_parse(const char *s, size_t n, struct udp_ep *e)
{
	char buf[80];
	memset(e, 0, sizeof(*e));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	e->port = (uint16_t)strtoul(colon + 1, NULL, 10);
	if (buf[0] == '[') {
		size_t l = strlen(buf);
		if (l < 2 || buf[l - 1] != ']')
			return -1;
		buf[l - 1] = '\0';
		if (inet_pton(AF_INET6, buf + 1, e->addr) != 1)
			return -1;
		e->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, buf, e->addr) != 1)
		return -1;
	e->family = AF_INET;
	return 0;
}

static bool ep_equal(const struct udp_ep *a, const struct udp_ep *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	return memcmp(a->addr, b->addr, a->family == AF_INET6 ? 16 : 4) == 0;
}

void udp_ep_format(const struct udp_ep *e, struct strbuf *out)
{
	char buf[INET6_ADDRSTRLEN];
	if (e->family == AF_INET6 && inet_ntop(AF_INET6, e->addr, buf, sizeof(buf)))
		sb_printf(out, "[%s]:%u", buf, e->port);
	else if (e->family == AF_INET && inet_ntop(AF_INET, e->addr, buf, sizeof(buf)))
		sb_printf(out, "%s:%u", buf, e->port);
	else
		sb_putc(out, '?');
}

/* ---- flows ------------------------------------------------------------------- */

static struct et_udp_flow *flow_for(struct et_model *m, struct et_process *p, int tid, uint64_t sock,
				    const struct udp_ep *local, const struct udp_ep *remote, uint64_t ts,
				    size_t *index, bool *created)
{
	struct et_udp *u = &m->net->udp;
	*created = false;
	for (size_t i = u->nflows; i-- > 0;) {
		struct et_udp_flow *f = &u->flows[i];
		/* sock is the process's fd number: the resolver's next socket
		 * often gets the same one, so a known local port that differs is
		 * another socket (a 6.12 guest merged two lookups' flows) */
		if (f->pid == p->pid && f->sock == sock && ep_equal(&f->remote, remote) &&
		    (!f->local.family || !local->family || ep_equal(&f->local, local))) {
			if (!f->local.family && local->family)
				f->local = *local;
			*index = i;
			return f;
		}
	}
	if (u->nflows >= UDP_FLOWS_MAX) {
		u->flows_not_listed++;
		return NULL;
	}
	if (u->nflows == u->cap_flows) {
		u->cap_flows = u->cap_flows ? u->cap_flows * 2 : 16;
		u->flows = xrealloc(u->flows, u->cap_flows * sizeof(*u->flows));
	}
	struct et_udp_flow *f = &u->flows[u->nflows];
	memset(f, 0, sizeof(*f));
	f->pid = p->pid;
	f->tid = tid;
	f->sock = sock;
	f->local = *local;
	f->remote = *remote;
	f->first_ts = ts;
	*index = u->nflows++;
	*created = true;
	return f;
}

static void flow_count(struct et_model *m, struct et_process *p, int tid, uint64_t sock, int dir,
		       const struct udp_ep *local, const struct udp_ep *remote, uint64_t dgrams, uint64_t bytes,
		       uint64_t ts, size_t *index)
{
	bool created;
	*index = (size_t)-1;
	struct et_udp_flow *f = flow_for(m, p, tid, sock, local, remote, ts, index, &created);
	if (!f)
		return;
	f->last_ts = ts;
	if (dir == ET_DIR_SENT) {
		f->dgrams_sent += dgrams;
		f->bytes_sent += bytes;
	} else {
		f->dgrams_recv += dgrams;
		f->bytes_recv += bytes;
	}
	if (created) {
		/* the flow's start joins the process's events (crash rewind) */
		struct strbuf sb = STRBUF_INIT;
		sb_puts(&sb, "udp ");
		udp_ep_format(&f->local, &sb);
		sb_puts(&sb, dir == ET_DIR_SENT ? " -> " : " <- ");
		udp_ep_format(&f->remote, &sb);
		sb_printf(&sb, ": first datagram %s (%lu bytes)", dir == ET_DIR_SENT ? "sent" : "received",
			  (unsigned long)(dgrams ? bytes / dgrams : bytes));
		model_add_note(p, ts, tid, sb_detach(&sb));
	}
}

/* ---- DNS --------------------------------------------------------------------- */

static void lookup_free(struct et_dns_lookup *d)
{
	free(d->name);
	for (size_t i = 0; i < d->nanswers; i++) {
		free(d->answers[i].name);
		free(d->answers[i].data);
	}
	free(d->answers);
}

void udp_free(struct et_udp *u)
{
	for (size_t i = 0; i < u->ndns; i++)
		lookup_free(&u->dns[i]);
	free(u->dns);
	free(u->flows);
	memset(u, 0, sizeof(*u));
}

static struct et_dns_lookup *lookup_new(struct et_udp *u)
{
	if (u->ndns >= UDP_DNS_MAX) {
		u->dns_not_listed++;
		return NULL;
	}
	if (u->ndns == u->cap_dns) {
		u->cap_dns = u->cap_dns ? u->cap_dns * 2 : 16;
		u->dns = xrealloc(u->dns, u->cap_dns * sizeof(*u->dns));
	}
	struct et_dns_lookup *d = &u->dns[u->ndns++];
	memset(d, 0, sizeof(*d));
	d->rcode = -1;
	return d;
}

static void fmt_latency(struct strbuf *out, double ms)
{
	if (ms < 0.1)
		sb_printf(out, "%.3f ms", ms);
	else
		sb_printf(out, "%.1f ms", ms);
}

void udp_dns_summary(const struct et_dns_lookup *d, struct strbuf *out)
{
	char tn[16], rn[16];
	sb_printf(out, "%s %s -> ", d->name && *d->name ? d->name : "?", dns_type_name(d->qtype, tn, sizeof(tn)));
	if (!d->answer_ts) {
		sb_puts(out, "no answer");
		return;
	}
	if (d->rcode != DNS_RCODE_NOERROR) {
		sb_puts(out, dns_rcode_name(d->rcode, rn, sizeof(rn)));
	} else if (!d->nanswers) {
		sb_puts(out, d->cut || d->error ? "NOERROR (answers not captured)" : "NOERROR, no records");
	} else {
		for (size_t i = 0; i < d->nanswers; i++) {
			const struct et_dns_answer *a = &d->answers[i];
			if (i)
				sb_puts(out, ", ");
			if (a->type != DNS_TYPE_A && a->type != DNS_TYPE_AAAA)
				sb_printf(out, "%s ", dns_type_name(a->type, tn, sizeof(tn)));
			sb_puts(out, a->data);
		}
		if (d->answers_more)
			sb_printf(out, ", +%zu more", d->answers_more);
		if (d->cut)
			sb_puts(out, ", ... (capture cut)");
	}
	if (d->tc)
		sb_puts(out, " [truncated: TC]");
	if (d->query_ts && d->answer_ts >= d->query_ts) {
		sb_puts(out, " (");
		fmt_latency(out, (double)(d->answer_ts - d->query_ts) / 1e6);
		sb_putc(out, ')');
	}
}

static void remember_touched(struct et_udp *u, const struct et_record *r, size_t lookup, bool answer)
{
	if (u->last_rec != r) {
		u->last_rec = r;
		u->nlast = 0;
	}
	if (u->nlast < sizeof(u->last) / sizeof(u->last[0])) {
		u->last[u->nlast].lookup = lookup;
		u->last[u->nlast].answer = answer;
		u->nlast++;
	}
}

static void fill_answer(struct et_dns_lookup *d, const struct dns_msg *msg, uint64_t ts)
{
	d->answer_ts = ts;
	d->rcode = msg->rcode;
	d->tc = msg->tc;
	d->cut = msg->cut;
	d->error = msg->error;
	d->answers = msg->nanswers ? xrealloc(NULL, msg->nanswers * sizeof(*d->answers)) : NULL;
	for (size_t i = 0; i < msg->nanswers; i++) {
		d->answers[i].name = xstrdup(msg->answers[i].name);
		d->answers[i].data = xstrdup(msg->answers[i].data);
		d->answers[i].ttl = msg->answers[i].ttl;
		d->answers[i].type = msg->answers[i].type;
	}
	d->nanswers = msg->nanswers;
	d->answers_more = msg->ancount > msg->nanswers && !msg->cut && !msg->error ? msg->ancount - msg->nanswers : 0;
}

/* The lookup a response answers: same process, socket, peer and id, not
 * answered yet, and the same question when the response repeats it. */
static struct et_dns_lookup *lookup_match(struct et_udp *u, int pid, uint64_t sock, int role,
					  const struct udp_ep *peer, const struct dns_msg *msg, size_t *index)
{
	size_t stop = u->ndns > UDP_MATCH_WINDOW ? u->ndns - UDP_MATCH_WINDOW : 0;
	for (size_t i = u->ndns; i-- > stop;) {
		struct et_dns_lookup *d = &u->dns[i];
		if (d->pid != pid || d->sock != sock || d->role != role || d->id != msg->id || d->answer_ts ||
		    !ep_equal(&d->peer, peer))
			continue;
		if (msg->has_question && (d->qtype != msg->qtype || strcasecmp(d->name, msg->qname) != 0))
			continue;
		*index = i;
		return d;
	}
	return NULL;
}

/* A new lookup from its query (or from an answer whose query was not seen:
 * the question it repeats, "?" without one). */
static struct et_dns_lookup *lookup_start(struct et_udp *u, int pid, int tid, int role, size_t flow, uint64_t sock,
					  const struct udp_ep *peer, const struct dns_msg *msg)
{
	struct et_dns_lookup *d = lookup_new(u);
	if (!d)
		return NULL;
	d->pid = pid;
	d->tid = tid;
	d->role = role;
	d->flow = flow;
	d->sock = sock;
	d->peer = *peer;
	d->id = msg->id;
	d->name = xstrdup(msg->has_question ? msg->qname : "?");
	d->qtype = msg->qtype;
	d->qclass = msg->qclass;
	return d;
}

static void dns_datagram(struct et_model *m, struct et_process *p, const struct et_record *r, size_t flow,
			 uint64_t sock, int dir, const struct udp_ep *peer, const uint8_t *data, size_t dlen)
{
	struct et_udp *u = &m->net->udp;
	const struct ev_syscall *ev = &r->ev;
	int tid = (int)ev->h.tid;
	struct dns_msg *msg = malloc(sizeof(*msg));
	if (!msg)
		return;
	if (dns_parse(data, dlen, msg) < 0 || (!msg->qr && !msg->has_question)) {
		u->dns_undecoded++;
		free(msg);
		return;
	}
	if (flow < u->nflows)
		u->flows[flow].dns_messages++;
	/* a client sends queries and receives answers; a server the reverse */
	int role = (dir == ET_DIR_SENT) == !msg->qr ? ET_DNS_CLIENT : ET_DNS_SERVER;
	char tn[16];
	struct strbuf sb = STRBUF_INIT;
	struct et_dns_lookup *d;
	size_t index = u->ndns;
	if (!msg->qr) {
		d = lookup_start(u, p->pid, tid, role, flow, sock, peer, msg);
		if (!d)
			goto out;
		/* the query left during the call: latency counts from its entry */
		d->query_ts = ev->enter_ts;
		sb_printf(&sb, "dns query %s %s %s ", d->name, dns_type_name(d->qtype, tn, sizeof(tn)),
			  role == ET_DNS_CLIENT ? "to" : "from");
		udp_ep_format(peer, &sb);
		model_add_note(p, ev->h.ts, tid, sb_detach(&sb));
		remember_touched(u, r, index, false);
		goto out;
	}
	d = lookup_match(u, p->pid, sock, role, peer, msg, &index);
	if (!d) {
		/* an answer whose query was not seen (lost, or sent before) */
		index = u->ndns;
		d = lookup_start(u, p->pid, tid, role, flow, sock, peer, msg);
		if (!d)
			goto out;
	}
	fill_answer(d, msg, ev->h.ts);
	sb_puts(&sb, role == ET_DNS_CLIENT ? "dns " : "dns answered ");
	udp_dns_summary(d, &sb);
	if (role == ET_DNS_SERVER) {
		sb_puts(&sb, " to ");
		udp_ep_format(peer, &sb);
	}
	model_add_note(p, ev->h.ts, tid, sb_detach(&sb));
	remember_touched(u, r, index, true);
out:
	sb_free(&sb);
	free(msg);
}

/* ---- records ----------------------------------------------------------------- */

/* One datagram a call moved, as far as the record shows it. */
struct dgram {
	struct udp_ep addr;       /* the address the call gave or got (family 0: none) */
	const uint8_t *data;
	size_t dlen;              /* bytes captured */
	uint64_t len;             /* bytes moved */
};

static bool sig_named(const struct syscall_sig *sig, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(sig->name, *names) == 0)
			return true;
	return false;
}

/* Records without an ET_CAP_SOCK_ENDS capture (a recording made before
 * etrace captured it): the fd's description says whether it is UDP, and
 * what the syscall sequence taught about its ends. */
static int ends_from_fd(const struct et_record *r, const struct syscall_sig *sig, struct et_sock_ends *e,
			struct udp_ep *local, struct udp_ep *connected)
{
	static const char *const sends[] = { "sendto", "sendmsg", "sendmmsg", "write", "writev", NULL };
	static const char *const recvs[] = { "recvfrom", "recvmsg", "recvmmsg", "read", "readv", NULL };
	const struct fd_desc *fd = r->fds[0];
	if (!fd || strncmp(fd->text, "socket:[UDP", 11) != 0 || (int64_t)r->ev.ret < 0)
		return -1;
	memset(e, 0, sizeof(*e));
	if (sig_named(sig, sends))
		e->dir = ET_DIR_SENT;
	else if (sig_named(sig, recvs))
		e->dir = ET_DIR_RECV;
	else
		return -1;
	/* "socket:[UDP 127.0.0.1:40000->127.0.0.1:53]" */
	const char *sp = strchr(fd->text, ' ');
	const char *end = strrchr(fd->text, ']');
	if (sp && end && end > sp) {
		const char *arrow = strstr(sp, "->");
		if (arrow && arrow < end) {
			ep_parse(sp + 1, (size_t)(arrow - sp - 1), local);
			ep_parse(arrow + 2, (size_t)(end - arrow - 2), connected);
		} else {
			ep_parse(sp + 1, (size_t)(end - sp - 1), local);
		}
	}
	e->sk = ((uint64_t)r->ev.h.pid << 32) | (uint32_t)r->ev.args[0];
	bool vec = strcmp(sig->name, "sendmmsg") == 0 || strcmp(sig->name, "recvmmsg") == 0;
	e->datagrams = vec ? (uint32_t)r->ev.ret : 1;
	e->bytes = vec ? 0 : (uint32_t)r->ev.ret;  /* mmsg: from the messages below */
	return 0;
}

void udp_on_syscall(struct et_model *m, struct et_process *p, const struct et_record *r)
{
	const struct ev_syscall *ev = &r->ev;
	m->net->udp.last_rec = NULL;   /* what --events shows after this record */
	m->net->udp.nlast = 0;
	if (!p || (ev->flags & ET_SC_F_NORETURN) || (int64_t)ev->ret < 0)
		return;
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	if (!sig)
		return;
	struct et_sock_ends e;
	struct udp_ep local = { 0 }, connected = { 0 };
	const struct ev_capture *c = ev_find_capture(ev, 6, 0);
	bool fallback = false;
	if (c && c->kind == ET_CAP_SOCK_ENDS && c->len >= sizeof(e)) {
		memcpy(&e, ev_capture_data(c), sizeof(e));
		if (e.dir != ET_DIR_SENT && e.dir != ET_DIR_RECV)
			return;
		int fam = e.family == AF_INET6 ? AF_INET6 : AF_INET;
		if (e.lport) {
			local.family = fam;
			memcpy(local.addr, e.laddr, 16);
			local.port = e.lport;
		}
		if (e.rport) {
			connected.family = fam;
			memcpy(connected.addr, e.raddr, 16);
			connected.port = e.rport;
		}
	} else if (ends_from_fd(r, sig, &e, &local, &connected) == 0) {
		fallback = true;
	} else {
		return;
	}

	/* the datagrams the record shows: the messages of the *msg calls,
	 * else the one buffer of sendto, recvfrom, read, write */
	struct dgram dg[ET_MSG_MAX];
	size_t n = 0;
	uint64_t shown_bytes = 0;
	for (int seq = 0; seq < ET_MSG_MAX; seq++) {
		const struct ev_capture *mc = ev_find_capture(ev, 1, seq);
		struct et_msg meta;
		const char *name, *data;
		size_t dlen;
		if (!mc || decode_msg_capture(mc, &meta, &name, &data, &dlen) < 0)
			break;
		ep_from_sockaddr(name, meta.namelen, &dg[n].addr);
		dg[n].data = (const uint8_t *)data;
		dg[n].dlen = dlen;
		dg[n].len = meta.len;
		shown_bytes += meta.len;
		n++;
	}
	if (n == 0) {
		memset(&dg[0], 0, sizeof(dg[0]));
		const struct ev_capture *bc = ev_find_capture(ev, 1, 0);
		if (bc && (bc->kind == ET_CAP_BUF_IN || bc->kind == ET_CAP_BUF_OUT)) {
			dg[0].data = (const uint8_t *)ev_capture_data(bc);
			dg[0].dlen = bc->len < ev->ret ? bc->len : (size_t)ev->ret;
		}
		for (int i = 0; i < sig->nargs && i < 6; i++) {
			if (sig->arg[i] != A_SOCKADDR_IN && sig->arg[i] != A_SOCKADDR_OUT)
				continue;
			const struct ev_capture *ac = ev_find_capture(ev, i, 0);
			if (ac && (ac->kind == ET_CAP_SOCKADDR_IN || ac->kind == ET_CAP_SOCKADDR_OUT))
				ep_from_sockaddr(ev_capture_data(ac), ac->len, &dg[0].addr);
		}
		dg[0].len = e.bytes;
		n = 1;
	} else if (fallback) {
		e.bytes = (uint32_t)shown_bytes;
	}

	/* count: each message shown on its own flow, the rest (messages not
	 * captured) on the first one's */
	uint64_t dgrams_left = e.datagrams, bytes_left = e.bytes;
	size_t flows[ET_MSG_MAX];
	int tid = (int)ev->h.tid;
	for (size_t i = 0; i < n; i++) {
		const struct udp_ep *remote = connected.family ? &connected : &dg[i].addr;
		uint64_t dgrams = 1, bytes = dg[i].len;
		if (i == 0 && n == 1) {
			dgrams = dgrams_left;
			bytes = bytes_left;
		}
		if (dgrams > dgrams_left)
			dgrams = dgrams_left;
		if (bytes > bytes_left)
			bytes = bytes_left;
		dgrams_left -= dgrams;
		bytes_left -= bytes;
		flow_count(m, p, tid, e.sk, e.dir, &local, remote, dgrams, bytes, ev->h.ts, &flows[i]);
	}
	if ((dgrams_left || bytes_left) && flows[0] < m->net->udp.nflows) {
		struct et_udp_flow *f = &m->net->udp.flows[flows[0]];
		if (e.dir == ET_DIR_SENT) {
			f->dgrams_sent += dgrams_left;
			f->bytes_sent += bytes_left;
		} else {
			f->dgrams_recv += dgrams_left;
			f->bytes_recv += bytes_left;
		}
	}

	/* DNS: a datagram with port 53 at either end */
	for (size_t i = 0; i < n; i++) {
		const struct udp_ep *remote = connected.family ? &connected : &dg[i].addr;
		if (!dg[i].dlen || (remote->port != 53 && local.port != 53))
			continue;
		dns_datagram(m, p, r, flows[i], e.sk, e.dir, remote, dg[i].data, dg[i].dlen);
	}
}
