/* libFuzzer target: the DNS message decoder (answers from the network). */
#include <stdint.h>
#include <string.h>

#include "reports/net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_msg msg;
	dns_parse(data, size, &msg);
	/* names at every offset: compression pointers from anywhere */
	for (size_t off = 0; off < size && off < 64; off++) {
		char name[DNS_NAME_MAX];
		const char *err;
		size_t o = off;
		if (dns_read_name(data, size, &o, name, sizeof(name), &err) == 0 && strlen(name) >= sizeof(name))
			__builtin_trap();
	}
	return 0;
}
