/*
 * DNS wire format decoding (RFC 1035, 3596 for AAAA, 2782 for SRV, 6891
 * for OPT). The input is whatever the capture holds: possibly cut short,
 * possibly not DNS at all, possibly built to hurt. Every byte read is
 * checked against the length, names are bounded (255 wire bytes, 127
 * labels), and a compression pointer must point strictly before the labels
 * it ends (each jump lands earlier than the last), which makes loops
 * impossible.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
	[1] = "A", [2] = "NS", [5] = "CNAME", [6] = "SOA", [12] = "PTR", [13] = "HINFO",
	[15] = "MX", [16] = "TXT", [17] = "RP", [18] = "AFSDB", [24] = "SIG", [25] = "KEY",
	[28] = "AAAA", [29] = "LOC", [33] = "SRV", [35] = "NAPTR", [36] = "KX", [37] = "CERT",
	[39] = "DNAME", [41] = "OPT", [42] = "APL", [43] = "DS", [44] = "SSHFP", [45] = "IPSECKEY",
	[46] = "RRSIG", [47] = "NSEC", [48] = "DNSKEY", [49] = "DHCID", [50] = "NSEC3",
	[51] = "NSEC3PARAM", [52] = "TLSA", [53] = "SMIMEA", [55] = "HIP", [59] = "CDS",
	[60] = "CDNSKEY", [61] = "OPENPGPKEY", [62] = "CSYNC", [63] = "ZONEMD", [64] = "SVCB",
	[65] = "HTTPS", [99] = "SPF", [108] = "EUI48", [109] = "EUI64",
};

const char *dns_type_name(unsigned type, char *buf, size_t buflen)
{
	if (type < sizeof(type_names) / sizeof(type_names[0]) && type_names[type])
		return type_names[type];
	switch (type) {
	case 249: return "TKEY";
	case 250: return "TSIG";
	case 251: return "IXFR";
	case 252: return "AXFR";
	case 255: return "ANY";
	case 256: return "URI";
	case 257: return "CAA";
	}
	snprintf(buf, buflen, "TYPE%u", type);
	return buf;
}

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
	"YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
};

const char *dns_rcode_name(int rcode, char *buf, size_t buflen)
{
	if (rcode >= 0 && (size_t)rcode < sizeof(rcode_names) / sizeof(rcode_names[0]))
		return rcode_names[rcode];
	switch (rcode) {
	case 16: return "BADVERS";
	case 23: return "BADCOOKIE";
	}
	snprintf(buf, buflen, "RCODE%d", rcode);
	return buf;
}

/* ---- names ----------------------------------------------------------------- */

struct textbuf {
	char *p;
	size_t len, cap;
	int full;
};

static void tb_putc(struct textbuf *t, char c)
{
	if (t->len + 1 < t->cap)
		t->p[t->len++] = c;
	else
		t->full = 1;
	if (t->cap)
		t->p[t->len < t->cap ? t->len : t->cap - 1] = '\0';
}

static void tb_puts(struct textbuf *t, const char *s)
{
	while (*s)
		tb_putc(t, *s++);
}

int dns_read_name(const uint8_t *buf, size_t len, size_t *off, char *out, size_t outlen, const char **err)
{
	struct textbuf t = { out, 0, outlen, 0 };
	size_t pos = *off, seg_start = *off;
	size_t end = 0;           /* where the name ends in place, once a pointer was followed */
	int jumped = 0, labels = 0;
	size_t wire = 1;          /* wire length of the name, the final zero included */
	if (outlen)
		out[0] = '\0';
	for (;;) {
		if (pos >= len) {
			*err = "name runs past the end";
			return -1;
		}
		uint8_t b = buf[pos];
		if ((b & 0xc0) == 0xc0) {
			if (pos + 1 >= len) {
				*err = "name runs past the end";
				return -1;
			}
			size_t target = ((size_t)(b & 0x3f) << 8) | buf[pos + 1];
			/* only to before where the labels being read began: each
			 * jump lands strictly earlier than the last, so it ends */
			if (target >= seg_start) {
				*err = "compression pointer loop";
				return -1;
			}
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			pos = seg_start = target;
			continue;
		}
		if (b & 0xc0) {
			*err = "unsupported label type";
			return -1;
		}
		if (b == 0) {
			pos++;
			break;
		}
		if (pos + 1 + b > len) {
			*err = "name runs past the end";
			return -1;
		}
		wire += 1 + (size_t)b;
		if (wire > 255 || ++labels > 127) {
			*err = "name longer than 255 bytes";
			return -1;
		}
		if (labels > 1)
			tb_putc(&t, '.');
		for (size_t i = 0; i < b; i++) {
			uint8_t c = buf[pos + 1 + i];
			char esc[8];
			if (c == '.' || c == '\\') {
				tb_putc(&t, '\\');
				tb_putc(&t, (char)c);
			} else if (c > 0x20 && c < 0x7f) {
				tb_putc(&t, (char)c);
			} else {
				snprintf(esc, sizeof(esc), "\\%03u", c);
				tb_puts(&t, esc);
			}
		}
		pos += 1 + (size_t)b;
	}
	if (labels == 0)
		tb_putc(&t, '.');
	*off = jumped ? end : pos;
	return 0;
}

/* ---- records --------------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A name inside rdata: it must end within the rdata (pointers may go
 * anywhere before, as usual). */
static int rdata_name(const uint8_t *buf, size_t rdend, size_t *off, char *out, size_t outlen)
{
	const char *err;
	return dns_read_name(buf, rdend, off, out, outlen, &err);
}

/* The data of one record as text. */
static void format_rdata(const uint8_t *buf, size_t len, size_t rdoff, size_t rdlen, unsigned type, char *out,
			 size_t outlen)
{
	size_t rdend = rdoff + rdlen;
	size_t off = rdoff;
	char name[DNS_NAME_MAX], tn[16];
	(void)len;
	switch (type) {
	case DNS_TYPE_A:
		if (rdlen == 4 && inet_ntop(AF_INET, buf + rdoff, out, (socklen_t)outlen))
			return;
		break;
	case DNS_TYPE_AAAA:
		if (rdlen == 16 && inet_ntop(AF_INET6, buf + rdoff, out, (socklen_t)outlen))
			return;
		break;
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
	case DNS_TYPE_NS:
	case 39: /* DNAME */
		if (rdata_name(buf, rdend, &off, out, outlen) == 0 && off == rdend)
			return;
		break;
	case DNS_TYPE_MX:
		if (rdlen >= 3) {
			off += 2;
			if (rdata_name(buf, rdend, &off, name, sizeof(name)) == 0 && off == rdend) {
				if (snprintf(out, outlen, "%u %s", get16(buf + rdoff), name) >= (int)outlen)
					out[outlen - 1] = '\0';  /* cut: the text is for people */
				return;
			}
		}
		break;
	case DNS_TYPE_SRV:
		if (rdlen >= 7) {
			off += 6;
			if (rdata_name(buf, rdend, &off, name, sizeof(name)) == 0 && off == rdend) {
				if (snprintf(out, outlen, "%u %u %u %s", get16(buf + rdoff), get16(buf + rdoff + 2),
					     get16(buf + rdoff + 4), name) >= (int)outlen)
					out[outlen - 1] = '\0';
				return;
			}
		}
		break;
	case DNS_TYPE_SOA: {
		char rname[DNS_NAME_MAX];
		if (rdata_name(buf, rdend, &off, name, sizeof(name)) == 0 &&
		    rdata_name(buf, rdend, &off, rname, sizeof(rname)) == 0 && rdend - off == 20) {
			if (snprintf(out, outlen, "%s %s %u", name, rname, get32(buf + off)) >= (int)outlen)
				out[outlen - 1] = '\0';
			return;
		}
		break;
	}
	case DNS_TYPE_TXT: {
		/* character-strings: "a" "b", printable bytes only */
		struct textbuf t = { out, 0, outlen, 0 };
		if (outlen)
			out[0] = '\0';
		while (off < rdend) {
			size_t n = buf[off++];
			if (off + n > rdend)
				break;
			if (t.len)
				tb_putc(&t, ' ');
			tb_putc(&t, '"');
			for (size_t i = 0; i < n; i++) {
				uint8_t c = buf[off + i];
				char esc[8];
				if (c == '"' || c == '\\') {
					tb_putc(&t, '\\');
					tb_putc(&t, (char)c);
				} else if (c >= 0x20 && c < 0x7f) {
					tb_putc(&t, (char)c);
				} else {
					snprintf(esc, sizeof(esc), "\\%03u", c);
					tb_puts(&t, esc);
				}
			}
			tb_putc(&t, '"');
			off += n;
		}
		if (off == rdend)
			return;
		break;
	}
	}
	snprintf(out, outlen, "%s (%zu bytes)", dns_type_name(type, tn, sizeof(tn)), rdlen);
}

/* One resource record at *off; answers are kept in rr when it is not NULL.
 * Returns 0, or -1 (msg->error or msg->cut set). */
static int read_rr(const uint8_t *buf, size_t len, size_t *off, struct dns_msg *msg, struct dns_rr *rr)
{
	char name[DNS_NAME_MAX];
	const char *err = NULL;
	if (dns_read_name(buf, len, off, name, sizeof(name), &err) < 0) {
		if (*off >= len || strcmp(err, "name runs past the end") == 0)
			msg->cut = 1;
		else
			msg->error = err;
		return -1;
	}
	if (len - *off < 10) {
		msg->cut = 1;
		return -1;
	}
	const uint8_t *p = buf + *off;
	uint16_t type = get16(p), class = get16(p + 2), rdlen = get16(p + 8);
	uint32_t ttl = get32(p + 4);
	*off += 10;
	if (len - *off < rdlen) {
		msg->cut = 1;
		return -1;
	}
	if (type == DNS_TYPE_OPT) {
		/* EDNS: the TTL field carries the upper 8 bits of the rcode */
		msg->rcode = (msg->rcode & 0xf) | (int)((ttl >> 20) & 0xff0);
	}
	if (rr) {
		memcpy(rr->name, name, sizeof(rr->name));
		rr->type = type;
		rr->class = class;
		rr->ttl = ttl;
		format_rdata(buf, len, *off, rdlen, type, rr->data, sizeof(rr->data));
	}
	*off += rdlen;
	return 0;
}

int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	if (!buf || len < 12)
		return -1;
	msg->id = get16(buf);
	uint16_t flags = get16(buf + 2);
	msg->qr = flags >> 15;
	msg->opcode = (flags >> 11) & 0xf;
	msg->aa = (flags >> 10) & 1;
	msg->tc = (flags >> 9) & 1;
	msg->rd = (flags >> 8) & 1;
	msg->ra = (flags >> 7) & 1;
	msg->rcode = flags & 0xf;
	msg->qdcount = get16(buf + 4);
	msg->ancount = get16(buf + 6);
	msg->nscount = get16(buf + 8);
	msg->arcount = get16(buf + 10);
	size_t off = 12;

	for (unsigned i = 0; i < msg->qdcount; i++) {
		char name[DNS_NAME_MAX];
		const char *err = NULL;
		if (dns_read_name(buf, len, &off, name, sizeof(name), &err) < 0) {
			if (strcmp(err, "name runs past the end") == 0)
				msg->cut = 1;
			else
				msg->error = err;
			return 0;
		}
		if (len - off < 4) {
			msg->cut = 1;
			return 0;
		}
		if (i == 0) {
			snprintf(msg->qname, sizeof(msg->qname), "%s", name);
			msg->qtype = get16(buf + off);
			msg->qclass = get16(buf + off + 2);
			msg->has_question = 1;
		}
		off += 4;
	}
	unsigned total = (unsigned)msg->ancount + msg->nscount + msg->arcount;
	for (unsigned i = 0; i < total; i++) {
		struct dns_rr *rr = NULL;
		if (i < msg->ancount && msg->nanswers < DNS_ANSWERS_MAX)
			rr = &msg->answers[msg->nanswers];
		if (read_rr(buf, len, &off, msg, rr) < 0)
			return 0;
		if (rr)
			msg->nanswers++;
	}
	return 0;
}
