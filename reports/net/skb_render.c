/*
 * --skb's part of the network section: each packet's hooks, its fate and
 * the route lookups, as text, JSON and --events lines; and the analysis.
 * skb.c gathers them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp.h"
#include "reports/net/netstate.h"
#include "skb.h"
#include "reports/core/analysis.h"
#include "reports/syscalls/decode.h"
#include "reports/core/model.h"
#include "symbolize/ksyms.h"
/* ---- text ---- */

static const char *const hook_names[ET_SKB_HOOK_MAX] = {
	[ET_SKB_DEV_QUEUE] = "net_dev_queue",
	[ET_SKB_START_XMIT] = "net_dev_start_xmit",
	[ET_SKB_XMIT] = "net_dev_xmit",
	[ET_SKB_NETIF_RX] = "netif_rx",
	[ET_SKB_GRO] = "napi_gro_receive",
	[ET_SKB_RECEIVE] = "netif_receive_skb",
	[ET_SKB_SEND_RESET] = "tcp_send_reset",
	[ET_SKB_COPY_USER] = "skb_copy_datagram_iovec",
	[ET_SKB_KFREE] = "kfree_skb",
	[ET_SKB_CONSUME] = "consume_skb",
};

void skb_kaddr(const struct et_skbs *s, uint64_t addr, struct strbuf *out)
{
	uint64_t off = 0;
	const char *mod = NULL;
	const char *name = s->ksyms ? ksyms_lookup(s->ksyms, addr, &off, &mod) : NULL;
	if (!name) {
		sb_printf(out, "0x%lx", (unsigned long)addr);
		return;
	}
	sb_puts(out, name);
	if (off)
		sb_printf(out, "+0x%lx", (unsigned long)off);
	if (mod)
		sb_printf(out, " [%s]", mod);
}

/* The frames of a hop's kernel stack that belong to the packet's path: the
 * innermost ones are etrace's own program and the tracing machinery that
 * called it (bpf_trace_run2, __traceiter_net_dev_queue, a kprobe or fentry
 * trampoline), which say nothing about the packet. */
static uint32_t stack_first(const struct et_skbs *s, const struct et_skb_hop *h)
{
	static const char *const machinery[] = {
		"bpf_prog_", "bpf_trace_run", "__traceiter_", "__bpf_trace_", "bpf_trampoline", "__bpf_prog_enter",
		"__bpf_prog_exit", "trace_call_bpf", "kprobe_", "fprobe_", "rethook_", "ftrace_", "arch_ftrace_",
		"kprobe_multi_link_", "bpf_get_stack", "perf_trace_", "trace_event_raw_event_",
	};
	uint32_t first = 0;
	if (!s->ksyms)
		return 0;
	/* only among the innermost frames: the machinery is at most a few deep */
	for (uint32_t f = 0; f < h->nstack && f < 8; f++) {
		uint64_t off = 0;
		const char *mod = NULL;
		const char *name = ksyms_lookup(s->ksyms, h->stack[f], &off, &mod);
		bool ours = !name || (mod && strcmp(mod, "bpf") == 0);
		for (size_t i = 0; name && !ours && i < sizeof(machinery) / sizeof(machinery[0]); i++)
			ours = strncmp(name, machinery[i], strlen(machinery[i])) == 0;
		if (ours)
			first = f + 1;
	}
	return first < h->nstack ? first : 0;
}

void skb_hop_name(const struct et_skbs *s, const struct et_skb_hop *h, struct strbuf *out)
{
	if (h->hook == ET_SKB_FUNC) {
		uint64_t off = 0;
		const char *mod = NULL;
		const char *name = s->ksyms ? ksyms_lookup(s->ksyms, h->func, &off, &mod) : NULL;
		if (name && !off)
			sb_puts(out, name);
		else
			skb_kaddr(s, h->func, out);
		return;
	}
	if (h->hook < ET_SKB_HOOK_MAX && hook_names[h->hook])
		sb_puts(out, hook_names[h->hook]);
	else
		sb_printf(out, "hook %u", h->hook);
}

void skb_tcp_flags(uint8_t flags, struct strbuf *out)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
	/* in the order people say them: SYN before ACK, RST before ACK */
	static const int order[] = { 1, 2, 0, 3, 4, 5 };
	const char *sep = "";
	for (size_t i = 0; i < 6; i++) {
		if (flags & (1u << order[i])) {
			sb_printf(out, "%s%s", sep, names[order[i]]);
			sep = "|";
		}
	}
}

static void addr_port(int ipver, const uint8_t *a, uint16_t port, bool with_port, struct strbuf *out)
{
	char buf[INET6_ADDRSTRLEN];
	if (!inet_ntop(ipver == 6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	if (!with_port)
		sb_puts(out, buf);
	else if (ipver == 6)
		sb_printf(out, "[%s]:%u", buf, port);
	else
		sb_printf(out, "%s:%u", buf, port);
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 6: return "TCP";
	case 17: return "UDP";
	case 1: return "ICMP";
	case 58: return "ICMPv6";
	}
	return NULL;
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17;
}

void skb_journey_title(const struct et_skb_journey *j, struct strbuf *out)
{
	bool ports = has_ports(j->proto) && (j->sport || j->dport);
	addr_port(j->ipver, j->saddr, j->sport, ports, out);
	sb_puts(out, " -> ");
	addr_port(j->ipver, j->daddr, j->dport, ports, out);
	const char *pn = proto_name(j->proto);
	if (pn)
		sb_printf(out, " %s", pn);
	else
		sb_printf(out, " proto %u", j->proto);
	if (j->proto == 6 && j->tcp_flags) {
		sb_putc(out, ' ');
		skb_tcp_flags(j->tcp_flags, out);
	}
}

static void reason_text(const struct et_skb_hop *h, struct strbuf *out)
{
	if (h->hook == ET_SKB_KFREE) {
		const char *rn = skb_drop_reason_name(h->reason);
		if (rn)
			sb_puts(out, rn);
		else
			sb_printf(out, "reason %u", h->reason);
	} else if (h->hook == ET_SKB_XMIT && h->reason) {
		path_rc_name((int)h->reason, out);
	}
}

static void fate_text(const struct et_skb_journey *j, struct strbuf *out)
{
	if (j->fate == ET_SKB_DROPPED) {
		const char *rn = skb_drop_reason_name(j->drop_reason);
		sb_printf(out, "dropped (%s)", rn ? rn : "?");
	} else if (j->fate == ET_SKB_CONSUMED) {
		sb_puts(out, j->delivered ? "delivered to the program" : "consumed");
	} else {
		sb_puts(out, j->delivered ? "delivered to the program" : "not freed where a hook saw it");
	}
	if (j->reset)
		sb_puts(out, ", answered with a RST");
}

#define SKB_SHOWN_DROPS 20
#define SKB_SHOWN_ENDS 10

static void print_journey(const struct et_model *m, const struct et_skb_journey *j, size_t idx, FILE *out)
{
	const struct et_skbs *s = &m->net->skbs;
	struct strbuf sb = STRBUF_INIT;
	skb_journey_title(j, &sb);
	sb_puts(&sb, ": ");
	fate_text(j, &sb);
	fprintf(out, "  #%zu %+.3f ms  pid %d  %s\n", idx + 1, model_rel_ms(m, j->first_ts), j->pid, sb_str(&sb));
	for (size_t k = 0; k < j->nhops; k++) {
		const struct et_skb_hop *h = &j->hops[k];
		sb_reset(&sb);
		skb_hop_name(s, h, &sb);
		fprintf(out, "      %+9.3f ms  %-24s", (double)(h->ts - j->first_ts) / 1e6, sb_str(&sb));
		if (h->ifname[0])
			fprintf(out, " %s (ns %u)", h->ifname, h->netns);
		if (h->len)
			fprintf(out, " %u B", h->len);
		sb_reset(&sb);
		reason_text(h, &sb);
		if (sb_str(&sb)[0])
			fprintf(out, " %s", sb_str(&sb));
		if ((h->hook == ET_SKB_KFREE || h->hook == ET_SKB_CONSUME) && h->func) {
			sb_reset(&sb);
			skb_kaddr(s, h->func, &sb);
			fprintf(out, " by %s", sb_str(&sb));
		}
		if (h->cur_pid == 0)
			fputs("  [softirq]", out);
		else if (h->cur_pid != j->pid)
			fprintf(out, "  [in pid %d]", h->cur_pid);
		fputc('\n', out);
		if (h->nstack) {
			sb_reset(&sb);
			for (uint32_t f = stack_first(s, h); f < h->nstack; f++) {
				if (sb_str(&sb)[0])
					sb_puts(&sb, " <- ");
				skb_kaddr(s, h->stack[f], &sb);
			}
			fprintf(out, "          stack: %s\n", sb_str(&sb));
		}
	}
	if (j->hops_not_listed)
		fprintf(out, "      (+%lu more hooks)\n", (unsigned long)j->hops_not_listed);
	sb_free(&sb);
}

static void print_routes(const struct et_model *m, FILE *out)
{
	const struct et_skbs *s = &m->net->skbs;
	if (!s->nroutes)
		return;
	fputs("  route lookups:\n", out);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct et_route *r = &s->routes[i];
		const struct ev_route *e = &r->ev;
		sb_reset(&sb);
		bool ports = has_ports(e->proto) && e->dport;
		addr_port(e->ipver, e->daddr, e->dport, ports, &sb);
		const char *pn = proto_name(e->proto);
		if (pn)
			sb_printf(&sb, " %s", pn);
		sb_puts(&sb, ": ");
		if (e->err == -EAGAIN) {
			sb_printf(&sb, "no route in table %u", e->table);
		} else if (e->err) {
			const char *en = decode_errno_name(-e->err);
			sb_printf(&sb, "no route (%s)", en ? en : "?");
		} else {
			sb_printf(&sb, "dev %s", e->dev[0] ? e->dev : "?");
			if (e->gw_family) {
				sb_puts(&sb, " via ");
				addr_port(e->gw_family, e->gw, 0, false, &sb);
			}
		}
		if (e->err != -EAGAIN)
			sb_printf(&sb, ", table %u", e->table);
		if (e->oif)
			sb_printf(&sb, ", bound to ifindex %u", e->oif);
		fprintf(out, "    %+.3f ms  pid %d  %s", model_rel_ms(m, r->ts), r->pid, sb_str(&sb));
		if (r->count > 1)
			fprintf(out, " (x%lu)", (unsigned long)r->count);
		fputc('\n', out);
	}
	if (s->routes_not_listed)
		fprintf(out, "    (%lu more lookups not kept: at most %d per run)\n", (unsigned long)s->routes_not_listed,
			ET_ROUTES_MAX);
	sb_free(&sb);
}

void skb_render_text(const struct et_model *m, FILE *out)
{
	const struct et_skbs *s = &m->net->skbs;
	print_routes(m, out);
	if (!s->enabled)
		return;
	size_t drops = 0;
	for (size_t i = 0; i < s->n; i++)
		drops += skb_real_drop(&s->v[i]);
	fprintf(out, "  packets (--skb via %s", s->backend ? s->backend : "?");
	if (s->nfuncs)
		fprintf(out, ", %zu kernel functions", s->nfuncs);
	fprintf(out, "): %lu followed", (unsigned long)(s->followed > s->n ? s->followed : s->n));
	if (s->filter)
		fprintf(out, " matching '%s', %lu of the tree's not matching", s->filter, (unsigned long)s->filtered);
	fprintf(out, ", %zu dropped\n", drops);
	if (!s->n) {
		fputs("    (none)\n", out);
		return;
	}
	/* all of them when few; else the drops, and the first and last others */
	size_t shown = 0, ndrop_shown = 0;
	bool *show = xcalloc(s->n, sizeof(*show));
	if (s->n <= SKB_SHOWN_DROPS + 2 * SKB_SHOWN_ENDS) {
		for (size_t i = 0; i < s->n; i++)
			show[i] = true;
		shown = s->n;
	} else {
		for (size_t i = 0; i < s->n && ndrop_shown < SKB_SHOWN_DROPS; i++)
			if (skb_real_drop(&s->v[i]) && !show[i]) {
				show[i] = true;
				ndrop_shown++;
				shown++;
			}
		for (size_t i = 0, k = 0; i < s->n && k < SKB_SHOWN_ENDS; i++)
			if (!show[i]) {
				show[i] = true;
				k++;
				shown++;
			}
		for (size_t i = s->n, k = 0; i-- > 0 && k < SKB_SHOWN_ENDS;)
			if (!show[i]) {
				show[i] = true;
				k++;
				shown++;
			}
	}
	size_t gap = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!show[i]) {
			gap++;
			continue;
		}
		if (gap)
			fprintf(out, "  (... %zu packets)\n", gap);
		gap = 0;
		print_journey(m, &s->v[i], i, out);
	}
	if (gap)
		fprintf(out, "  (... %zu packets)\n", gap);
	if (shown < s->n)
		fprintf(out, "  (%zu of %zu packets shown: the JSON report has them all)\n", shown, s->n);
	if (s->not_listed)
		fprintf(out, "  (%lu packets not kept: at most %d per run; older ones that were neither dropped nor "
			     "answered with a RST go first)\n", (unsigned long)s->not_listed, ET_SKB_JOURNEYS_MAX);
	free(show);
}

/* ---- JSON ---- */

static void json_endpoint(struct strbuf *sb, int ipver, const uint8_t *a, uint16_t port, bool ports)
{
	struct strbuf e = STRBUF_INIT;
	addr_port(ipver, a, port, ports, &e);
	sb_json_str(sb, sb_str(&e));
	sb_free(&e);
}

static void json_proto(struct strbuf *sb, uint8_t proto)
{
	const char *pn = proto_name(proto);
	if (pn) {
		char low[16];
		size_t i = 0;
		for (; pn[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)(pn[i] >= 'A' && pn[i] <= 'Z' ? pn[i] - 'A' + 'a' : pn[i]);
		low[i] = 0;
		sb_json_str(sb, low);
	} else {
		sb_printf(sb, "\"%u\"", proto);
	}
}

void skb_render_json(const struct et_model *m, struct strbuf *sb)
{
	const struct et_skbs *s = &m->net->skbs;
	struct strbuf e = STRBUF_INIT;
	sb_puts(sb, ",\"routes\":[");
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct et_route *r = &s->routes[i];
		const struct ev_route *ev = &r->ev;
		bool ports = has_ports(ev->proto) && ev->dport;
		sb_printf(sb, "%s{\"t_ms\":%.3f,\"pid\":%d,\"tid\":%d,\"ip\":%u,\"proto\":", i ? "," : "",
			  model_rel_ms(m, r->ts), r->pid, r->tid, ev->ipver);
		json_proto(sb, ev->proto);
		sb_puts(sb, ",\"src\":");
		json_endpoint(sb, ev->ipver, ev->saddr, ev->sport, ports);
		sb_puts(sb, ",\"dst\":");
		json_endpoint(sb, ev->ipver, ev->daddr, ev->dport, ports);
		sb_printf(sb, ",\"table\":%u,\"oif\":%u,\"found\":%s,\"error\":", ev->table, ev->oif,
			  ev->err ? "false" : "true");
		const char *en = ev->err ? decode_errno_name(-ev->err) : NULL;
		sb_json_str(sb, ev->err ? (en ? en : "?") : NULL);
		sb_puts(sb, ",\"dev\":");
		sb_json_str(sb, ev->err || !ev->dev[0] ? NULL : ev->dev);
		sb_puts(sb, ",\"gateway\":");
		if (ev->gw_family)
			json_endpoint(sb, ev->gw_family, ev->gw, 0, false);
		else
			sb_puts(sb, "null");
		sb_printf(sb, ",\"netns\":%u,\"count\":%lu}", ev->netns, (unsigned long)r->count);
	}
	sb_printf(sb, "],\"routes_not_listed\":%lu,\"skbs\":", (unsigned long)s->routes_not_listed);
	if (!s->enabled) {
		sb_puts(sb, "null");
		sb_free(&e);
		return;
	}
	sb_puts(sb, "{\"backend\":");
	sb_json_str(sb, s->backend);
	sb_puts(sb, ",\"filter\":");
	sb_json_str(sb, s->filter);
	sb_printf(sb, ",\"functions\":%zu,\"followed\":%lu,\"filtered_out\":%lu,\"not_listed\":%lu,\"packets\":[", s->nfuncs,
		  (unsigned long)(s->followed > s->n ? s->followed : s->n), (unsigned long)s->filtered,
		  (unsigned long)s->not_listed);
	for (size_t i = 0; i < s->n; i++) {
		const struct et_skb_journey *j = &s->v[i];
		bool ports = has_ports(j->proto) && (j->sport || j->dport);
		sb_printf(sb, "%s{\"skb\":\"0x%lx\",\"t_ms\":%.3f,\"pid\":%d,\"tid\":%d,\"ip\":%u,\"proto\":", i ? "," : "",
			  (unsigned long)j->skb, model_rel_ms(m, j->first_ts), j->pid, j->tid, j->ipver);
		json_proto(sb, j->proto);
		sb_puts(sb, ",\"src\":");
		json_endpoint(sb, j->ipver, j->saddr, j->sport, ports);
		sb_puts(sb, ",\"dst\":");
		json_endpoint(sb, j->ipver, j->daddr, j->dport, ports);
		sb_reset(&e);
		skb_tcp_flags(j->tcp_flags, &e);
		sb_puts(sb, ",\"tcp_flags\":");
		sb_json_str(sb, j->proto == 6 ? sb_str(&e) : NULL);
		sb_printf(sb, ",\"fate\":\"%s\",\"drop_reason\":",
			  j->fate == ET_SKB_DROPPED ? "dropped" : j->fate == ET_SKB_CONSUMED ? "consumed" : "open");
		const char *rn = j->fate == ET_SKB_DROPPED ? skb_drop_reason_name(j->drop_reason) : NULL;
		if (j->fate == ET_SKB_DROPPED && !rn)
			sb_printf(sb, "\"%u\"", j->drop_reason);
		else
			sb_json_str(sb, rn);
		sb_printf(sb, ",\"delivered\":%s,\"reset\":%s,\"hops\":[", j->delivered ? "true" : "false",
			  j->reset ? "true" : "false");
		for (size_t k = 0; k < j->nhops; k++) {
			const struct et_skb_hop *h = &j->hops[k];
			sb_reset(&e);
			skb_hop_name(s, h, &e);
			sb_printf(sb, "%s{\"t_ms\":%.3f,\"hook\":", k ? "," : "", model_rel_ms(m, h->ts));
			sb_json_str(sb, sb_str(&e));
			sb_printf(sb, ",\"kind\":\"%s\",\"ifname\":", h->hook == ET_SKB_FUNC ? "function" : "tracepoint");
			sb_json_str(sb, h->ifname[0] ? h->ifname : NULL);
			sb_printf(sb, ",\"ifindex\":%u,\"netns\":%u,\"len\":%u,\"running_pid\":%d,\"reason\":", h->ifindex,
				  h->netns, h->len, h->cur_pid);
			sb_reset(&e);
			reason_text(h, &e);
			sb_json_str(sb, sb_str(&e)[0] ? sb_str(&e) : NULL);
			sb_puts(sb, ",\"freed_by\":");
			if ((h->hook == ET_SKB_KFREE || h->hook == ET_SKB_CONSUME) && h->func) {
				sb_reset(&e);
				skb_kaddr(s, h->func, &e);
				sb_json_str(sb, sb_str(&e));
			} else {
				sb_puts(sb, "null");
			}
			sb_puts(sb, ",\"stack\":[");
			for (uint32_t f = stack_first(s, h), n = 0; f < h->nstack; f++, n++) {
				sb_reset(&e);
				skb_kaddr(s, h->stack[f], &e);
				if (n)
					sb_putc(sb, ',');
				sb_json_str(sb, sb_str(&e));
			}
			sb_puts(sb, "]}");
		}
		sb_printf(sb, "],\"hops_not_listed\":%lu}", (unsigned long)j->hops_not_listed);
	}
	sb_puts(sb, "]}");
	sb_free(&e);
}

void skb_render_event(const struct et_model *m, const struct ev_header *h, double wall, struct strbuf *sb)
{
	const struct et_skbs *s = &m->net->skbs;
	struct strbuf e = STRBUF_INIT;
	if (h->type == ET_EV_ROUTE) {
		const struct ev_route *r = (const void *)h;
		bool ports = has_ports(r->proto) && r->dport;
		sb_printf(sb, "{\"type\":\"route\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"dst\":", wall,
			  model_rel_ms(m, h->ts), h->pid, h->tid);
		json_endpoint(sb, r->ipver, r->daddr, r->dport, ports);
		sb_printf(sb, ",\"table\":%u,\"found\":%s,\"dev\":", r->table, r->err ? "false" : "true");
		sb_json_str(sb, r->err || !r->dev[0] ? NULL : r->dev);
		sb_puts(sb, "}\n");
	} else if (h->type == ET_EV_SKB) {
		const struct ev_skb *p = (const void *)h;
		struct et_skb_hop hop = { .hook = p->hook, .func = p->func, .reason = p->reason };
		bool ports = has_ports(p->proto) && (p->sport || p->dport);
		skb_hop_name(s, &hop, &e);
		sb_printf(sb, "{\"type\":\"packet\",\"wall\":%.6f,\"t_ms\":%.3f,\"pid\":%u,\"tid\":%u,\"skb\":\"0x%lx\",\"hook\":",
			  wall, model_rel_ms(m, h->ts), h->pid, h->tid, (unsigned long)p->skb);
		sb_json_str(sb, sb_str(&e));
		sb_puts(sb, ",\"ifname\":");
		sb_json_strn(sb, p->ifname, strnlen(p->ifname, sizeof(p->ifname)));
		sb_printf(sb, ",\"netns\":%u,\"len\":%u,\"proto\":", p->netns, p->len);
		json_proto(sb, p->proto);
		if (p->ipver) {
			sb_puts(sb, ",\"src\":");
			json_endpoint(sb, p->ipver, p->saddr, p->sport, ports);
			sb_puts(sb, ",\"dst\":");
			json_endpoint(sb, p->ipver, p->daddr, p->dport, ports);
		}
		sb_reset(&e);
		reason_text(&hop, &e);
		sb_puts(sb, ",\"reason\":");
		sb_json_str(sb, sb_str(&e)[0] ? sb_str(&e) : NULL);
		sb_puts(sb, "}\n");
	}
	sb_free(&e);
}

/* ---- the analysis (reports/core/analyses.c) ------------------------------------ */

const struct et_analysis skb_analysis = {
	.name = "skb",
	.text_at = ET_AT_FAILURES + 30,
	.json_at = ET_AT_FAILURES + 40,
	.render_text = skb_render_text,
	.render_json = skb_render_json,
	/* its state is freed with the network's (netstate.c) */
};

