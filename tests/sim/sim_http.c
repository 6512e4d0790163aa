/*
 * HTTP plumbing of the portal simulator: JSON bodies, responses, the
 * streamed body of the huge scenario, and strict number parsing.
 */
#include "sim_http.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void body_printf(struct body *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, sizeof(b->data) - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->data) - b->len) {
		b->overflow = 1;
		return;
	}
	b->len += (size_t)n;
}

/* A JSON string of s, at most max bytes of it (echoed paths are bounded). */
void body_json_string(struct body *b, const char *s, size_t max)
{
	body_printf(b, "\"");
	for (size_t i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			body_printf(b, "\\%c", c);
		else if (c < 0x20)
			body_printf(b, "\\u%04x", c);
		else if (c >= 0x80)
			body_printf(b, "?");   /* keep the output valid UTF-8 */
		else
			body_printf(b, "%c", c);
	}
	body_printf(b, "\"");
}

static enum MHD_Result send_bytes(struct MHD_Connection *c,
                                  unsigned int status, const char *data,
                                  size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)data,
	                                    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;   /* out of memory: drop the connection */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                            "application/json") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	                            "no-store") != MHD_YES ||
	    (allow != NULL &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result send_body(struct MHD_Connection *c, unsigned int status,
                                 const struct body *b, const char *allow)
{
	static const char overflow[] = "{\"error\":\"response too large\"}";

	if (b->overflow)
		return send_bytes(c, MHD_HTTP_INTERNAL_SERVER_ERROR, overflow,
		                  sizeof(overflow) - 1, NULL);
	return send_bytes(c, status, b->data, b->len, allow);
}

enum MHD_Result send_literal(struct MHD_Connection *c,
                                    unsigned int status, const char *json,
                                    const char *allow)
{
	return send_bytes(c, status, json, strlen(json), allow);
}

enum MHD_Result send_not_found(struct MHD_Connection *c, const char *url)
{
	struct body b = { .len = 0 };

	body_printf(&b, "{\"error\":\"not found\",\"path\":");
	body_json_string(&b, url, 256);
	body_printf(&b, "}");
	return send_body(c, MHD_HTTP_NOT_FOUND, &b, NULL);
}

enum MHD_Result send_bad_method(struct MHD_Connection *c,
                                       const char *allow)
{
	return send_literal(c, MHD_HTTP_METHOD_NOT_ALLOWED,
	                    "{\"error\":\"method not allowed\"}", allow);
}

/* ---- the huge scenario: a body streamed without Content-Length ---- */

struct huge_body {
	uint64_t size;
	atomic_int *stopping;
};

static const char huge_prefix[] = "{\"status\":\"ok\",\"padding\":\"";
static const char huge_suffix[] = "\"}";

/*
 * The body is `{"status":"ok","padding":"xxx...x"}`, exactly size bytes
 * (valid JSON whenever size is at least the length of prefix and suffix).
 */
static ssize_t huge_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	const struct huge_body *h = cls;
	const uint64_t plen = sizeof(huge_prefix) - 1;
	const uint64_t slen = sizeof(huge_suffix) - 1;
	uint64_t n, end;

	if (atomic_load(h->stopping))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (pos >= h->size)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = h->size - pos;
	if (n > max)
		n = max;
	if (n > (uint64_t)SSIZE_MAX)
		n = (uint64_t)SSIZE_MAX;
	end = pos + n;
	memset(buf, 'x', (size_t)n);
	for (uint64_t p = pos; p < end && p < plen; p++)
		buf[p - pos] = huge_prefix[p];
	if (h->size >= plen + slen) {
		uint64_t s0 = h->size - slen;

		for (uint64_t p = pos > s0 ? pos : s0; p < end; p++)
			buf[p - pos] = huge_suffix[p - s0];
	}
	return (ssize_t)n;
}

enum MHD_Result send_huge(struct MHD_Connection *c, uint64_t size,
                          atomic_int *stopping)
{
	struct huge_body *h = malloc(sizeof(*h));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (h == NULL)
		return MHD_NO;
	h->size = size;
	h->stopping = stopping;
	/* MHD_SIZE_UNKNOWN makes MHD use chunked encoding (HTTP/1.1). */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
	                                      huge_read, h, free);
	if (r == NULL) {
		free(h);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                            "application/json") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] == '-' || s[0] == '\0')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > hi)
		return -1;
	*out = v;
	return 0;
}

int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}
