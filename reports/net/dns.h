/*
 * DNS wire format (RFC 1035): the header, the question and the answers of
 * a message, decoded from captured bytes that may be cut short or hostile.
 * Every read is bounds-checked; a compression pointer must point before
 * the labels it ends, so a name always ends.
 */
#ifndef ETRACE_DNS_H
#define ETRACE_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 1024     /* a decoded name, escapes included (wire names are <= 255 bytes) */
#define DNS_DATA_MAX 300      /* one answer's data as text */
#define DNS_ANSWERS_MAX 16    /* answers kept per message */

#define DNS_TYPE_A 1
#define DNS_TYPE_NS 2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_TYPE_PTR 12
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_SRV 33
#define DNS_TYPE_OPT 41

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

struct dns_rr {
	char name[DNS_NAME_MAX];
	uint16_t type, class;
	uint32_t ttl;
	char data[DNS_DATA_MAX];  /* "10.1.2.3", "::1", "alias.test", "10 mx.test", "TYPE99 (4 bytes)" */
};

struct dns_msg {
	uint16_t id;
	int qr;                   /* 0: query, 1: response */
	int opcode, aa, tc, rd, ra;
	int rcode;                /* with the extended bits of an OPT record, when there is one */
	uint16_t qdcount, ancount, nscount, arcount;
	int has_question;         /* the first question was read whole */
	char qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	struct dns_rr answers[DNS_ANSWERS_MAX];
	size_t nanswers;          /* answers read (of ancount) */
	int cut;                  /* the bytes ended before the counts said: a capture cut short */
	const char *error;        /* NULL, or why decoding stopped ("compression loop", ...) */
};

/* Decodes what len bytes hold. Returns 0 when at least the header was
 * there (msg->error, msg->cut and the counts say how far it went), -1 when
 * the bytes are too short to be a DNS message. */
int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *msg);

/* Reads the name at *off of the message (buf, len), following compression
 * pointers; writes it in presentation form ("www.example.test", "." for the
 * root; dots and unprintable bytes inside labels escaped as \. and \DDD)
 * and moves *off past the name where it started. Returns 0, or -1 with
 * *err saying why. */
int dns_read_name(const uint8_t *buf, size_t len, size_t *off, char *out, size_t outlen, const char **err);

/* "A", "AAAA", "CNAME"; unknown types as "TYPE65534" in buf. */
const char *dns_type_name(unsigned type, char *buf, size_t buflen);
/* "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"; unknown as "RCODE23" in buf. */
const char *dns_rcode_name(int rcode, char *buf, size_t buflen);

#endif
