#include "base/gzip.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

/* Whether a coding's parameters say q=0 (refused). */
static bool
refused(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));

		if (semi == NULL)
			return false;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') &&
		    p[1] == '=') {
			/* q=0, q=0.0, q=0.000: zero whatever the digits. */
			p += 2;
			if (p == end || *p != '0')
				return false;
			for (p++; p < end && (*p == '.' || *p == '0'); p++)
				;
			return p == end || *p == ';' || *p == ' ' ||
			    *p == '\t';
		}
	}
	return false;
}

bool
gzip_accepted(const char *ae)
{
	const char *p = ae;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ','), *tok;
		size_t n;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		tok = p;
		while (p < end && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		n = (size_t)(p - tok);
		if (((n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0) ||
		    (n == 1 && *tok == '*')) && !refused(p, end))
			return true;
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

int
gzip_compress(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream z;
	uLong cap;
	char *buf;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (len > UINT_MAX)
		return -1;
	memset(&z, 0, sizeof(z));
	/* Level 1: an answer a moment old is worth little; speed wins. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	cap = deflateBound(&z, (uLong)len);
	if ((buf = malloc(cap)) == NULL) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		*outlen = 0;
		return -1;
	}
	*out = buf;
	return 0;
}
