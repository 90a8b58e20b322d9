/* The UDP flows' and DNS lookups' part of the network section (text, JSON,
 * the --events lines) and the UDP analysis; udp.c learns them. */
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

size_t udp_count_flows(const struct et_model *m)
{
	return m->net->udp.nflows;
}

size_t udp_count_dns(const struct et_model *m)
{
	return m->net->udp.ndns;
}

void udp_network_title(const struct et_model *m, char *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	const char *sep = "";
	sb_puts(&sb, "network (");
	if (m->net->nconns || (!m->net->udp.nflows && !m->net->udp.ndns)) {
		sb_printf(&sb, "%zu TCP socket%s", m->net->nconns, m->net->nconns == 1 ? "" : "s");
		sep = ", ";
	}
	if (m->net->udp.nflows) {
		sb_printf(&sb, "%s%zu UDP flow%s", sep, m->net->udp.nflows, m->net->udp.nflows == 1 ? "" : "s");
		sep = ", ";
	}
	if (m->net->udp.ndns)
		sb_printf(&sb, "%s%zu DNS lookup%s", sep, m->net->udp.ndns, m->net->udp.ndns == 1 ? "" : "s");
	sb_putc(&sb, ')');
	snprintf(buf, len, "%s", sb_str(&sb));
	sb_free(&sb);
}

static void flow_ends(const struct et_udp_flow *f, struct strbuf *sb)
{
	udp_ep_format(&f->local, sb);
	sb_puts(sb, " <-> ");
	udp_ep_format(&f->remote, sb);
}

void udp_render_text(const struct et_model *m, FILE *out)
{
	const struct et_udp *u = &m->net->udp;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < u->nflows; i++) {
		const struct et_udp_flow *f = &u->flows[i];
		sb_reset(&sb);
		flow_ends(f, &sb);
		fprintf(out, "  pid %d  udp %s: sent %lu datagram%s (%lu bytes), received %lu (%lu bytes)", f->pid,
			sb_str(&sb), (unsigned long)f->dgrams_sent, f->dgrams_sent == 1 ? "" : "s",
			(unsigned long)f->bytes_sent, (unsigned long)f->dgrams_recv, (unsigned long)f->bytes_recv);
		if (f->dns_messages)
			fprintf(out, ", %lu DNS message%s", (unsigned long)f->dns_messages, f->dns_messages == 1 ? "" : "s");
		fputc('\n', out);
	}
	if (u->flows_not_listed)
		fprintf(out, "  (%lu more UDP flows not kept)\n", (unsigned long)u->flows_not_listed);
	for (size_t i = 0; i < u->ndns; i++) {
		const struct et_dns_lookup *d = &u->dns[i];
		sb_reset(&sb);
		udp_dns_summary(d, &sb);
		if (d->role == ET_DNS_SERVER) {
			sb_puts(&sb, " for ");
			udp_ep_format(&d->peer, &sb);
		}
		fprintf(out, "  pid %d  dns%s  %s\n", d->pid, d->role == ET_DNS_SERVER ? " served" : "", sb_str(&sb));
	}
	if (u->dns_not_listed)
		fprintf(out, "  (%lu more DNS lookups not kept)\n", (unsigned long)u->dns_not_listed);
	sb_free(&sb);
}

static void json_ep(struct strbuf *sb, const struct udp_ep *e)
{
	if (!e->family) {
		sb_puts(sb, "null");
		return;
	}
	struct strbuf t = STRBUF_INIT;
	udp_ep_format(e, &t);
	sb_json_str(sb, sb_str(&t));
	sb_free(&t);
}

void udp_render_json_flows(const struct et_model *m, struct strbuf *sb)
{
	const struct et_udp *u = &m->net->udp;
	sb_putc(sb, '[');
	for (size_t i = 0; i < u->nflows; i++) {
		const struct et_udp_flow *f = &u->flows[i];
		int fam = f->remote.family ? f->remote.family : f->local.family;
		sb_printf(sb, "%s{\"id\":%zu,\"t_ms\":%.3f,\"last_ms\":%.3f,\"pid\":%d,\"tid\":%d,\"family\":%s,\"local\":",
			  i ? "," : "", i, model_rel_ms(m, f->first_ts), model_rel_ms(m, f->last_ts), f->pid, f->tid,
			  fam == AF_INET6 ? "\"ipv6\"" : fam == AF_INET ? "\"ipv4\"" : "null");
		json_ep(sb, &f->local);
		sb_puts(sb, ",\"remote\":");
		json_ep(sb, &f->remote);
		sb_printf(sb, ",\"local_port\":%u,\"remote_port\":%u,\"datagrams_sent\":%lu,\"bytes_sent\":%lu,"
			      "\"datagrams_received\":%lu,\"bytes_received\":%lu,\"dns_messages\":%lu}",
			  f->local.port, f->remote.port, (unsigned long)f->dgrams_sent, (unsigned long)f->bytes_sent,
			  (unsigned long)f->dgrams_recv, (unsigned long)f->bytes_recv, (unsigned long)f->dns_messages);
	}
	sb_putc(sb, ']');
}

static void json_lookup(const struct et_model *m, const struct et_dns_lookup *d, size_t i, struct strbuf *sb)
{
	char tn[16], rn[16];
	const struct et_udp *u = &m->net->udp;
	const struct udp_ep none = { 0 };
	const struct udp_ep *local = d->flow < u->nflows ? &u->flows[d->flow].local : &none;
	sb_printf(sb, "{\"id\":%zu,\"t_ms\":%.3f,\"pid\":%d,\"tid\":%d,\"role\":\"%s\",\"server\":", i,
		  model_rel_ms(m, d->query_ts ? d->query_ts : d->answer_ts), d->pid, d->tid,
		  d->role == ET_DNS_CLIENT ? "client" : "server");
	json_ep(sb, d->role == ET_DNS_CLIENT ? &d->peer : local);
	sb_puts(sb, ",\"client\":");
	json_ep(sb, d->role == ET_DNS_CLIENT ? local : &d->peer);
	if (d->flow < u->nflows)
		sb_printf(sb, ",\"flow\":%zu", d->flow);
	else
		sb_puts(sb, ",\"flow\":null");
	sb_printf(sb, ",\"query_id\":%u,\"name\":", d->id);
	sb_json_str(sb, d->name);
	sb_puts(sb, ",\"type\":");
	sb_json_str(sb, dns_type_name(d->qtype, tn, sizeof(tn)));
	if (d->qclass == 1)
		sb_puts(sb, ",\"class\":\"IN\"");
	else
		sb_printf(sb, ",\"class\":\"CLASS%u\"", d->qclass);
	sb_printf(sb, ",\"query_seen\":%s,\"answered\":%s,\"rcode\":", d->query_ts ? "true" : "false",
		  d->answer_ts ? "true" : "false");
	sb_json_str(sb, d->answer_ts ? dns_rcode_name(d->rcode, rn, sizeof(rn)) : NULL);
	sb_puts(sb, ",\"latency_ms\":");
	if (d->query_ts && d->answer_ts >= d->query_ts)
		sb_printf(sb, "%.3f", (double)(d->answer_ts - d->query_ts) / 1e6);
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"answers\":[");
	for (size_t k = 0; k < d->nanswers; k++) {
		const struct et_dns_answer *a = &d->answers[k];
		sb_puts(sb, k ? ",{\"name\":" : "{\"name\":");
		sb_json_str(sb, a->name);
		sb_puts(sb, ",\"type\":");
		sb_json_str(sb, dns_type_name(a->type, tn, sizeof(tn)));
		sb_printf(sb, ",\"ttl\":%u,\"data\":", a->ttl);
		sb_json_str(sb, a->data);
		sb_putc(sb, '}');
	}
	sb_printf(sb, "],\"answers_not_listed\":%zu,\"truncated\":%s,\"capture_cut\":%s,\"error\":", d->answers_more,
		  d->tc ? "true" : "false", d->cut ? "true" : "false");
	sb_json_str(sb, d->error);
	sb_puts(sb, ",\"text\":");
	struct strbuf t = STRBUF_INIT;
	udp_dns_summary(d, &t);
	sb_json_str(sb, sb_str(&t));
	sb_free(&t);
	sb_putc(sb, '}');
}

void udp_render_json_dns(const struct et_model *m, struct strbuf *sb)
{
	const struct et_udp *u = &m->net->udp;
	sb_putc(sb, '[');
	for (size_t i = 0; i < u->ndns; i++) {
		if (i)
			sb_putc(sb, ',');
		json_lookup(m, &u->dns[i], i, sb);
	}
	sb_putc(sb, ']');
}

void udp_render_event_lines(const struct et_model *m, const struct et_record *r, struct strbuf *sb)
{
	const struct et_udp *u = &m->net->udp;
	if (!r || u->last_rec != r)
		return;
	for (size_t i = 0; i < u->nlast; i++) {
		if (u->last[i].lookup >= u->ndns)
			continue;
		const struct et_dns_lookup *d = &u->dns[u->last[i].lookup];
		uint64_t ts = u->last[i].answer ? d->answer_ts : d->query_ts;
		sb_printf(sb, "{\"type\":\"dns\",\"wall\":%.6f,\"event\":\"%s\",\"data\":",
			  m->start_wall + model_rel_ms(m, ts) / 1e3, u->last[i].answer ? "answer" : "query");
		json_lookup(m, d, u->last[i].lookup, sb);
		sb_puts(sb, "}\n");
	}
}

/* ---- the analysis (reports/core/analyses.c) ------------------------------------ */

static void udp_json_members(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, ",\"udp_flows\":");
	udp_render_json_flows(m, sb);
	sb_puts(sb, ",\"dns\":");
	udp_render_json_dns(m, sb);
}

const struct et_analysis udp_analysis = {
	.name = "udp",
	.text_at = ET_AT_FAILURES + 20,
	.json_at = ET_AT_FAILURES + 30,
	.on_syscall = udp_on_syscall,
	.render_text = udp_render_text,
	.render_json = udp_json_members,
	/* its state is freed with the network's (netstate.c) */
};
