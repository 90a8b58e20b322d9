/* The TCP analysis: its part of the text report's network section and the
 * JSON report's "connections" (see tcp.h). */
#include "tcp.h"
#include "reports/net/netstate.h"

#include <stdio.h>

#include "udp.h"
#include "reports/core/analysis.h"
#include "reports/core/heading.h"
#include "reports/syscalls/decode.h"

/* The network section opens here, with a heading for TCP, UDP, DNS and
 * packets alike (udp.c and skb.c follow with theirs). */
static void tcp_render_text(const struct et_model *m, FILE *out)
{
	if (!m->net->nconns && !udp_count_flows(m) && !udp_count_dns(m) && !m->net->skbs.enabled && !m->net->skbs.nroutes)
		return;
	char title[128];
	udp_network_title(m, title, sizeof(title));
	report_heading(out, title);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < m->net->nconns; i++) {
		const struct et_conn *c = &m->net->conns[i];
		sb_reset(&sb);
		conn_outcome(m, c, &sb);
		fprintf(out, "  pid %d  %s\n", c->pid, sb_str(&sb));
		sb_reset(&sb);
		conn_endpoint(c, 0, &sb);
		if (c->role != ET_CONN_LISTEN) {
			sb_puts(&sb, " <-> ");
			conn_endpoint(c, 1, &sb);
		}
		fprintf(out, "      %s %s, bytes sent %lu received %lu, resets sent %lu received %lu, retransmits %lu\n",
			c->family == 10 ? "tcp6" : "tcp", sb_str(&sb), (unsigned long)c->bytes_sent,
			(unsigned long)c->bytes_recv, (unsigned long)c->rst_sent, (unsigned long)c->rst_recv,
			(unsigned long)c->retrans);
		fputs("      states:", out);
		for (size_t k = 0; k < c->nstates; k++)
			fprintf(out, "%s %s->%s @%.3f ms", k ? "," : "", tcp_state_name(c->states[k].from),
				tcp_state_name(c->states[k].to), model_rel_ms(m, c->states[k].ts));
		if (c->states_dropped)
			fprintf(out, " (+%lu more)", (unsigned long)c->states_dropped);
		fputc('\n', out);
		if (c->ndrops) {
			fputs("      drops:", out);
			for (size_t k = 0; k < c->ndrops; k++) {
				const char *rn = skb_drop_reason_name(c->drops[k].reason);
				if (rn)
					fprintf(out, " %s x%lu", rn, (unsigned long)c->drops[k].count);
				else
					fprintf(out, " reason %u x%lu", c->drops[k].reason, (unsigned long)c->drops[k].count);
			}
			fputc('\n', out);
		}
		if (c->npath) {
			sb_reset(&sb);
			conn_path_text(c, &sb);
			fprintf(out, "      path: %s\n", sb_str(&sb));
		}
	}
	sb_free(&sb);
}

static void tcp_render_json(const struct et_model *m, struct strbuf *sb)
{
	sb_puts(sb, ",\"connections\":[");
	for (size_t i = 0; i < m->net->nconns; i++) {
		const struct et_conn *c = &m->net->conns[i];
		struct strbuf e = STRBUF_INIT;
		if (i)
			sb_putc(sb, ',');
		sb_printf(sb, "{\"id\":%zu,\"t_ms\":%.3f,\"pid\":%d,\"tid\":%d,\"role\":\"%s\",\"family\":\"%s\",\"local\":",
			  i, model_rel_ms(m, c->first_ts), c->pid, c->tid, conn_role_name(c->role),
			  c->family == 10 ? "ipv6" : "ipv4");
		conn_endpoint(c, 0, &e);
		sb_json_str(sb, sb_str(&e));
		sb_reset(&e);
		sb_puts(sb, ",\"remote\":");
		if (c->role == ET_CONN_LISTEN) {
			sb_puts(sb, "null");
		} else {
			conn_endpoint(c, 1, &e);
			sb_json_str(sb, sb_str(&e));
			sb_reset(&e);
		}
		sb_printf(sb, ",\"local_port\":%u,\"remote_port\":%u,\"states\":[", c->sport, c->dport);
		for (size_t k = 0; k < c->nstates; k++)
			sb_printf(sb, "%s{\"t_ms\":%.3f,\"from\":\"%s\",\"to\":\"%s\"}", k ? "," : "",
				  model_rel_ms(m, c->states[k].ts), tcp_state_name(c->states[k].from),
				  tcp_state_name(c->states[k].to));
		sb_printf(sb, "],\"states_not_listed\":%lu,\"bytes_sent\":%lu,\"bytes_received\":%lu,\"resets_sent\":%lu,"
			  "\"resets_received\":%lu,\"retransmits\":%lu,\"drops\":[",
			  (unsigned long)c->states_dropped, (unsigned long)c->bytes_sent, (unsigned long)c->bytes_recv,
			  (unsigned long)c->rst_sent, (unsigned long)c->rst_recv, (unsigned long)c->retrans);
		for (size_t k = 0; k < c->ndrops; k++) {
			const char *rn = skb_drop_reason_name(c->drops[k].reason);
			sb_printf(sb, "%s{\"reason\":", k ? "," : "");
			if (rn)
				sb_json_str(sb, rn);
			else
				sb_printf(sb, "\"%u\"", c->drops[k].reason);
			sb_printf(sb, ",\"count\":%lu}", (unsigned long)c->drops[k].count);
		}
		int err = conn_connect_errno(m, c);
		const char *en = err ? decode_errno_name(err) : NULL;
		sb_printf(sb, "],\"closed\":%s,\"errno\":", c->closed ? "true" : "false");
		sb_json_str(sb, err ? (en ? en : "?") : NULL);
		struct conn_learned l;
		sb_puts(sb, ",\"learned\":");
		if (conn_learned(m, c, &l)) {
			const char *ln = l.err ? decode_errno_name(l.err) : NULL;
			sb_puts(sb, "{\"errno\":");
			sb_json_str(sb, l.gave_up || !l.err ? NULL : (ln ? ln : "?"));
			sb_puts(sb, ",\"by\":");
			sb_json_str(sb, l.gave_up ? NULL : l.by);
			sb_printf(sb, ",\"connected\":%s,\"gave_up\":%s,\"t_ms\":%.3f}",
				  !l.gave_up && !l.err ? "true" : "false", l.gave_up ? "true" : "false", model_rel_ms(m, l.ts));
		} else {
			sb_puts(sb, "null");
		}
		sb_puts(sb, ",\"outcome\":");
		conn_outcome(m, c, &e);
		sb_json_str(sb, sb_str(&e));
		sb_puts(sb, ",\"path\":[");
		for (size_t k = 0; k < c->npath; k++) {
			const struct et_path_hop *h = &c->path[k];
			sb_printf(sb, "%s{\"stage\":\"%s\",\"direction\":\"%s\",\"ifname\":", k ? "," : "",
				  path_stage_name(h->stage), h->stage == ET_PATH_RX_IN ? "in" : "out");
			sb_json_str(sb, h->ifname);
			sb_printf(sb, ",\"ifindex\":%u,\"netns\":%u,\"t_ms\":%.3f,\"packets\":%lu,\"bytes\":%lu,\"errors\":%lu,"
				  "\"last_error\":",
				  h->ifindex, h->netns, model_rel_ms(m, h->first_ts), (unsigned long)h->packets,
				  (unsigned long)h->bytes, (unsigned long)h->errors);
			if (h->errors) {
				sb_reset(&e);
				path_rc_name(h->last_rc, &e);
				sb_json_str(sb, sb_str(&e));
			} else {
				sb_puts(sb, "null");
			}
			sb_putc(sb, '}');
		}
		sb_printf(sb, "],\"path_packets_not_listed\":%lu", (unsigned long)c->path_not_listed);
		sb_free(&e);
		sb_putc(sb, '}');
	}
	sb_puts(sb, "]");
}

const struct et_analysis tcp_analysis = {
	.name = "tcp",
	.text_at = ET_AT_FAILURES + 10,
	.json_at = ET_AT_FAILURES + 10,
	.render_text = tcp_render_text,
	.render_json = tcp_render_json,
	.init = net_init,   /* the network's state, for tcp, udp and skb */
	.free = net_free,
};
