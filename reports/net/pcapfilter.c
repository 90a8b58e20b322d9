/*
 * pcap filter expressions compiled with libpcap (pcap_compile on a dead
 * DLT_RAW handle) into classic BPF for bpf/cbpf.h's interpreter.
 */
#include "pcapfilter.h"

#include <ctype.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

/* libpcap prefixes its parser's messages; the expression is quoted already. */
static const char *pcap_msg(const char *msg, char *buf, size_t buflen)
{
	static const char prefix[] = "can't parse filter expression: ";
	size_t len;

	if (strncmp(msg, prefix, sizeof(prefix) - 1) == 0)
		msg += sizeof(prefix) - 1;
	snprintf(buf, buflen, "%s", msg);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return buf;
}

int pcapfilter_compile(const char *expr, struct et_cbpf_insn *out, unsigned max, unsigned *n,
		       char *err, size_t errlen)
{
	struct bpf_program bp;
	char msg[PCAP_ERRBUF_SIZE];
	const char *s;
	pcap_t *p;
	unsigned i;

	*n = 0;
	if (errlen)
		err[0] = '\0';
	for (s = expr ? expr : ""; *s && isspace((unsigned char)*s); s++)
		;
	if (!*s) {
		snprintf(err, errlen, "--skb-filter '%s': empty filter", expr ? expr : "");
		return -1;
	}
	p = pcap_open_dead(DLT_RAW, 65535);
	if (!p) {
		snprintf(err, errlen, "--skb-filter '%s': pcap_open_dead failed", expr);
		return -1;
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "--skb-filter '%s': %s", expr,
			 pcap_msg(pcap_geterr(p), msg, sizeof(msg)));
		pcap_close(p);
		return -1;
	}
	if (bp.bf_len == 0 || bp.bf_len > max) {
		snprintf(err, errlen, "--skb-filter '%s': compiles to %u instructions; at most %u are supported",
			 expr, bp.bf_len, max);
		pcap_freecode(&bp);
		pcap_close(p);
		return -1;
	}
	for (i = 0; i < bp.bf_len; i++) {
		out[i].code = bp.bf_insns[i].code;
		out[i].jt = bp.bf_insns[i].jt;
		out[i].jf = bp.bf_insns[i].jf;
		out[i].k = bp.bf_insns[i].k;
	}
	*n = bp.bf_len;
	pcap_freecode(&bp);
	pcap_close(p);
	return 0;
}
