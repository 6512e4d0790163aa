#include "probe/net_check.h"

#include <stdio.h>
#include <string.h>

#include "probe/probe.h"

int
net_cert_days(const ASN1_TIME *t, time_t now, double *days)
{
	ASN1_TIME *from = ASN1_TIME_set(NULL, now);
	int d, s, ok;

	if (from == NULL)
		return -1;
	ok = ASN1_TIME_diff(&d, &s, from, t);
	ASN1_TIME_free(from);
	if (!ok)
		return -1;
	*days = d + s / 86400.0;
	return 0;
}

void
net_time_iso(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "?");
}

bool
net_reply_has(const char *reply, size_t len, const char *expect)
{
	size_t n = strlen(expect);

	return n == 0 || (reply != NULL && memmem(reply, len, expect, n) !=
	    NULL);
}

void
net_reply_quote(const char *reply, size_t len, char *out, size_t outlen)
{
	char raw[128];
	size_t n = len < sizeof(raw) - 1 ? len : sizeof(raw) - 1;

	if (n == 0) {
		snprintf(out, outlen, "(nothing)");
		return;
	}
	/* A NUL would end the text early: it shows as a space. */
	for (size_t i = 0; i < n; i++)
		raw[i] = reply[i] == '\0' ? ' ' : reply[i];
	raw[n] = '\0';
	probe_quote(raw, out, outlen);
}
