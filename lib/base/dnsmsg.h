/*
 * dnsmsg: DNS messages (RFC 1035) as bytes: one question encoded, an
 * answer decoded into text. Pure (no sockets, no loop), so it is unit
 * tested and fuzzed alone. Every length is bounded; a compression pointer
 * must point backwards, so a cycle cannot hang the decoder.
 */
#ifndef VIGIL_DNSMSG_H
#define VIGIL_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSMSG_MAX_NAME		255	/* presentation text, RFC 1035 2.3.4 */
#define DNSMSG_MAX_ANSWERS	32
#define DNSMSG_MAX_TEXT		512	/* one answer as text (a TXT's strings) */
#define DNSMSG_QUERY_MAX	(12 + DNSMSG_MAX_NAME + 2 + 4)

enum dnsmsg_type {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
};

enum dnsmsg_err {
	DNSMSG_OK = 0,
	DNSMSG_E_NAME,		/* empty label, label > 63, name > 255 */
	DNSMSG_E_SHORT,		/* the packet ends inside a field */
	DNSMSG_E_POINTER,	/* a compression pointer not strictly backwards */
	DNSMSG_E_NOT_ANSWER,	/* QR clear, or not the question asked */
	DNSMSG_E_RDATA,		/* record data of the wrong length */
	DNSMSG_E_SPACE,		/* the output buffer is too small */
};

const char *dnsmsg_strerror(enum dnsmsg_err e);
/* "A" <-> DNS_T_A; 0 / NULL when unknown. */
int dnsmsg_type_from_name(const char *s);
const char *dnsmsg_type_name(int type);

/* A query with RD set for name (trailing dot optional) into buf. */
enum dnsmsg_err dnsmsg_encode_query(uint16_t id, const char *name, int type,
    uint8_t *buf, size_t len, size_t *out_len);

/*
 * Reads the (maybe compressed) name at *off into out as dotted text
 * without the trailing dot ("" for the root); *off moves past it.
 */
enum dnsmsg_err dnsmsg_read_name(const uint8_t *pkt, size_t len, size_t *off,
    char *out, size_t outlen);

struct dnsmsg_reply {
	uint16_t id;
	int rcode;		/* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	bool truncated;		/* TC */
	/* Records of the asked type in the answer section, as text. */
	char answers[DNSMSG_MAX_ANSWERS][DNSMSG_MAX_TEXT];
	size_t nanswers;
	size_t more;		/* matching records beyond the bound */
};

/*
 * Decodes a reply to a query for (name, type): the header, the question
 * (must be the one asked, case-insensitively), and the answers of that
 * type: A/AAAA as addresses, CNAME as a name, MX as "pref exchange", TXT
 * as its strings joined. name NULL skips the question check.
 */
enum dnsmsg_err dnsmsg_decode_reply(const uint8_t *pkt, size_t len,
    const char *name, int type, struct dnsmsg_reply *out);

#endif
