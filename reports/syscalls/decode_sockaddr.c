/* Socket addresses as strace shows them: {sa_family=AF_INET, sin_port=...},
 * and the short form the network section uses (see decode.h). */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <sys/un.h>
#include "decode_int.h"

static const struct named af_names[] = {
	N(AF_UNSPEC), N(AF_UNIX), N(AF_INET), N(AF_INET6), N(AF_NETLINK), N(AF_PACKET),
	N(AF_AX25), N(AF_IPX), N(AF_APPLETALK), N(AF_KEY), N(AF_BLUETOOTH), N(AF_CAN),
	N(AF_ALG), N(AF_VSOCK), N(AF_TIPC), N(AF_RDS), N(AF_LLC), N(AF_IB), N(AF_MPLS),
	N(AF_NFC), N(AF_QIPCRTR), N(AF_SMC),
#ifdef AF_XDP
	N(AF_XDP),
#endif
};

/* A socket address taken apart once, for both the strace-style and the
 * short (fd description) forms. */
enum sa_kind { SA_NONE, SA_RAW, SA_INET, SA_INET6, SA_UNIX, SA_NETLINK };

struct sa_parsed {
	enum sa_kind kind;
	sa_family_t fam;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	uint32_t flowinfo, scope_id;
	bool has_scope;
	const char *path;        /* AF_UNIX: NULL when unnamed; abstract names start after the NUL */
	size_t path_len;
	bool abstract;
	uint32_t nl_pid, nl_groups;
};

/* ------------------------------------------------------------------ */
/* Socket addresses                                                    */

void put_family(struct strbuf *out, unsigned fam)
{
	const char *s = named_lookup(fam, af_names, ARRAY_LEN(af_names));
	if (s)
		sb_puts(out, s);
	else
		sb_printf(out, "%u", fam);
}

/* A name made of bytes of unknown content, for fd descriptions: control
 * and non-ASCII bytes become '?'. */
static void put_printable(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		sb_putc(out, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
	}
}

static void sa_parse(const void *sa, size_t len, struct sa_parsed *o)
{
	const unsigned char *p = sa;
	memset(o, 0, sizeof(*o));
	if (!sa || len < sizeof(o->fam)) {
		o->kind = SA_NONE;
		return;
	}
	memcpy(&o->fam, p, sizeof(o->fam));
	o->kind = SA_RAW;
	if (o->fam == AF_INET && len >= offsetof(struct sockaddr_in, sin_addr) + sizeof(struct in_addr)) {
		struct sockaddr_in sin;
		memset(&sin, 0, sizeof(sin));
		memcpy(&sin, p, len < sizeof(sin) ? len : sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, o->ip, sizeof(o->ip));
		o->port = ntohs(sin.sin_port);
		o->kind = SA_INET;
	} else if (o->fam == AF_INET6 && len >= offsetof(struct sockaddr_in6, sin6_addr) + sizeof(struct in6_addr)) {
		struct sockaddr_in6 sin6;
		memset(&sin6, 0, sizeof(sin6));
		memcpy(&sin6, p, len < sizeof(sin6) ? len : sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, o->ip, sizeof(o->ip));
		o->port = ntohs(sin6.sin6_port);
		o->flowinfo = ntohl(sin6.sin6_flowinfo);
		o->scope_id = sin6.sin6_scope_id;
		o->has_scope = len >= sizeof(sin6);
		o->kind = SA_INET6;
	} else if (o->fam == AF_UNIX) {
		size_t off = offsetof(struct sockaddr_un, sun_path);
		o->kind = SA_UNIX;
		if (len <= off)
			return; /* unnamed */
		size_t plen = len - off > sizeof(((struct sockaddr_un *)0)->sun_path)
			? sizeof(((struct sockaddr_un *)0)->sun_path) : len - off;
		const char *path = (const char *)p + off;
		if (path[0] == '\0') {
			o->abstract = true;
			o->path = path + 1;
			o->path_len = plen - 1;
		} else {
			o->path = path;
			o->path_len = strnlen(path, plen);
		}
	} else if (o->fam == AF_NETLINK && len >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl nl;
		memcpy(&nl, p, sizeof(nl));
		o->nl_pid = nl.nl_pid;
		o->nl_groups = nl.nl_groups;
		o->kind = SA_NETLINK;
	}
}

void decode_sockaddr(const void *sa, size_t len, struct strbuf *out)
{
	struct sa_parsed a;
	sa_parse(sa, len, &a);
	switch (a.kind) {
	case SA_NONE:
		sb_puts(out, "{}");
		return;
	case SA_INET:
		sb_printf(out, "{sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"%s\")}", a.port, a.ip);
		return;
	case SA_INET6:
		sb_printf(out, "{sa_family=AF_INET6, sin6_port=htons(%u), sin6_flowinfo=htonl(%u), "
			  "inet_pton(AF_INET6, \"%s\", &sin6_addr)",
			  a.port, a.flowinfo, a.ip);
		if (a.has_scope)
			sb_printf(out, ", sin6_scope_id=%u", a.scope_id);
		sb_putc(out, '}');
		return;
	case SA_UNIX:
		if (!a.path) {
			sb_puts(out, "{sa_family=AF_UNIX}");
			return;
		}
		sb_puts(out, a.abstract ? "{sa_family=AF_UNIX, sun_path=@" : "{sa_family=AF_UNIX, sun_path=");
		sb_quote(out, a.path, a.path_len, a.path_len, 0);
		sb_putc(out, '}');
		return;
	case SA_NETLINK:
		sb_printf(out, "{sa_family=AF_NETLINK, nl_pid=%u, nl_groups=%08x}", a.nl_pid, a.nl_groups);
		return;
	case SA_RAW:
		break;
	}
	/* anything else, or too short for its family: the raw bytes */
	sb_puts(out, "{sa_family=");
	put_family(out, a.fam);
	if (len > sizeof(a.fam)) {
		sb_puts(out, ", sa_data=");
		sb_quote(out, (const char *)sa + sizeof(a.fam), len - sizeof(a.fam), len - sizeof(a.fam), 0);
	}
	sb_putc(out, '}');
}

void decode_sockaddr_short(const void *sa, size_t len, struct strbuf *out)
{
	struct sa_parsed a;
	sa_parse(sa, len, &a);
	switch (a.kind) {
	case SA_NONE:
		return;
	case SA_INET:
		sb_printf(out, "%s:%u", a.ip, a.port);
		return;
	case SA_INET6:
		sb_printf(out, "[%s]:%u", a.ip, a.port);
		return;
	case SA_UNIX:
		if (!a.path)
			return; /* unnamed */
		if (a.abstract)
			sb_putc(out, '@');
		put_printable(out, a.path, a.path_len);
		return;
	case SA_NETLINK:
		sb_printf(out, "netlink:%u", a.nl_pid);
		return;
	case SA_RAW:
		put_family(out, a.fam);
		return;
	}
}
