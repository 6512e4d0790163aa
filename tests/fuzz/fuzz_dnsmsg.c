/*
 * DNS replies as a dns probe meets them, from whoever answers its port:
 * the bytes decode or fail, never read outside the packet nor loop (a
 * compression cycle), for every record type. Each answer is a C string
 * within its bound. A name from the first bytes is also encoded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_CNAME,
	    DNS_T_MX, DNS_T_TXT };
	struct dnsmsg_reply *r = malloc(sizeof(*r));
	uint8_t *pkt = malloc(size > 0 ? size : 1), q[DNSMSG_QUERY_MAX];
	char name[DNSMSG_MAX_NAME + 1];
	size_t off = 12, n, nl;

	if (r == NULL || pkt == NULL) {
		free(r);
		free(pkt);
		return 0;
	}
	/* A copy of exactly size bytes, so ASan sees any read past it. */
	memcpy(pkt, data, size);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (dnsmsg_decode_reply(pkt, size, NULL, types[i], r) !=
		    DNSMSG_OK)
			continue;
		if (r->nanswers > DNSMSG_MAX_ANSWERS)
			abort();
		for (size_t k = 0; k < r->nanswers; k++)
			if (memchr(r->answers[k], '\0', DNSMSG_MAX_TEXT) == NULL)
				abort();
	}
	dnsmsg_decode_reply(pkt, size, "portal.example.com", DNS_T_A, r);
	if (dnsmsg_read_name(pkt, size, &off, name, sizeof(name)) ==
	    DNSMSG_OK && (strlen(name) > DNSMSG_MAX_NAME || off > size))
		abort();
	nl = size < DNSMSG_MAX_NAME + 8 ? size : DNSMSG_MAX_NAME + 8;
	memcpy(name, data, nl < sizeof(name) - 1 ? nl : sizeof(name) - 1);
	name[nl < sizeof(name) - 1 ? nl : sizeof(name) - 1] = '\0';
	if (dnsmsg_encode_query(7, name, DNS_T_TXT, q, sizeof(q), &n) ==
	    DNSMSG_OK && n > sizeof(q))
		abort();
	free(pkt);
	free(r);
	return 0;
}
