/*
 * pcap filter expressions (pcap-filter(7)) compiled with libpcap to the
 * classic BPF programs bpf/cbpf.h interprets. The packet starts at the IP
 * header (DLT_RAW: IPv4 or IPv6 by the version nibble).
 */
#ifndef ETRACE_PCAPFILTER_H
#define ETRACE_PCAPFILTER_H

#include <stddef.h>
#include "bpf/cbpf.h"

/* Compiles expr (optimized) into out, at most max instructions; *n gets the
 * count. Returns 0, or -1 with a one-line message in err, e.g.
 * "--skb-filter 'tcp prot 80': syntax error". */
int pcapfilter_compile(const char *expr, struct et_cbpf_insn *out, unsigned max, unsigned *n,
		       char *err, size_t errlen);

#endif
