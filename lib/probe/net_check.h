/*
 * net_check: the pure parts of the tcp and tls probes, apart so unit
 * tests can drive them with a fixed clock and canned replies.
 */
#ifndef VIGIL_NET_CHECK_H
#define VIGIL_NET_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/asn1.h>

/* Days from now to t (negative once past), with fractions. 0 or -1. */
int net_cert_days(const ASN1_TIME *t, time_t now, double *days);
/* t as "2027-01-02T00:00:00Z"; "?" if it cannot be read. */
void net_time_iso(const ASN1_TIME *t, char *out, size_t len);
/* Whether the reply (len bytes, not NUL-terminated) contains expect. */
bool net_reply_has(const char *reply, size_t len, const char *expect);
/*
 * The reply as it goes into a reason: its first bytes, NUL-free, quoted
 * with probe_quote; "(nothing)" when empty.
 */
void net_reply_quote(const char *reply, size_t len, char *out, size_t outlen);

#endif
