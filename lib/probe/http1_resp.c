#include "probe/http1_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	S_STATUS,	/* the status line */
	S_HEADER,	/* header lines up to the empty one */
	S_BODY_LEN,	/* a body of Content-Length bytes */
	S_BODY_CLOSE,	/* a body that ends when the peer closes */
	S_CHUNK_SIZE,	/* a chunk's size line */
	S_CHUNK_DATA,
	S_CHUNK_END,	/* the CRLF after a chunk's data */
	S_TRAILER,	/* trailer lines after the last chunk */
	S_DONE,
};

/* A chunk's size line with its extensions. */
#define CHUNK_LINE_MAX 4096
/* Larger is not a size any target sends: 2^60, far from overflow. */
#define SIZE_MAX_BODY ((uint64_t)1 << 60)

void
h1_resp_init(struct h1_resp *r, bool head)
{
	char *line = r->line;
	size_t lcap = r->lcap;

	free(r->location);
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->lcap = lcap;
	r->head = head;
	r->length = -1;
	r->state = S_STATUS;
}

void
h1_resp_clear(struct h1_resp *r)
{
	if (r == NULL)
		return;
	free(r->location);
	free(r->line);
	memset(r, 0, sizeof(*r));
	r->length = -1;
}

static enum h1r_rc
fail(struct h1_resp *r, const char *why)
{
	snprintf(r->err, sizeof(r->err), "%s", why);
	return H1R_ERROR;
}

/*
 * The next line of p from *i (LF-terminated, a CR before it dropped): 1
 * with *line and *len, pointing into p or into r's own block when the
 * line began in an earlier piece; 0 when p ends first (what there was is
 * kept); -1 past max bytes.
 */
static int
take_line(struct h1_resp *r, const char *p, size_t n, size_t *i, size_t max,
    const char **line, size_t *len)
{
	const char *s = p + *i, *nl = memchr(s, '\n', n - *i);
	size_t take = nl != NULL ? (size_t)(nl - s) + 1 : n - *i;

	if (r->llen + take > max)
		return -1;
	if (nl != NULL && r->llen == 0) {
		*line = s;
		*len = take - 1;
	} else {
		if (r->llen + take > r->lcap) {
			size_t cap = r->lcap ? r->lcap : 256;
			char *b;

			while (cap < r->llen + take)
				cap *= 2;
			if ((b = realloc(r->line, cap)) == NULL)
				return -1;
			r->line = b;
			r->lcap = cap;
		}
		memcpy(r->line + r->llen, s, take);
		r->llen += take;
		*i += take;
		if (nl == NULL)
			return 0;
		*line = r->line;
		*len = r->llen - 1;
		r->llen = 0;
		goto strip;
	}
	*i += take;
strip:
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	return 1;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The first bytes of a line, printable, for a reason. */
static void
excerpt(const char *s, size_t n, char *out, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < n && i < 24 && k + 1 < len; i++)
		out[k++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ?
		    s[i] : '?';
	out[k] = '\0';
}

static enum h1r_rc
status_line(struct h1_resp *r, const char *s, size_t n)
{
	char ex[32];

	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
	    s[7] > '9' || s[8] != ' ' || s[9] < '1' || s[9] > '9' ||
	    s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9' ||
	    (n > 12 && s[12] != ' ')) {
		excerpt(s, n, ex, sizeof(ex));
		snprintf(r->err, sizeof(r->err),
		    "the answer is not HTTP/1.x: \"%s\"", ex);
		return H1R_ERROR;
	}
	r->minor = s[7] - '0';
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	r->state = S_HEADER;
	return H1R_MORE;
}

/* Whether the comma-separated list v holds token t (any case). */
static bool
has_token(const char *v, size_t n, const char *t, bool last_only)
{
	size_t tl = strlen(t), i = 0;
	bool found = false;

	while (i < n) {
		size_t a, b;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		b = i;
		while (b > a && is_ows(v[b - 1]))
			b--;
		if (b == a)
			continue;
		found = b - a == tl && strncasecmp(v + a, t, tl) == 0;
		if (found && !last_only)
			return true;
	}
	return found;
}

/* Content-Length: digits, or a list of equal ones ("5, 5"). */
static enum h1r_rc
content_length(struct h1_resp *r, const char *v, size_t n)
{
	size_t i = 0, k = 0;

	/* No number at all: as curl, not "none" (read until close). */
	while (k < n && (is_ows(v[k]) || v[k] == ','))
		k++;
	if (k == n)
		return fail(r, "invalid Content-Length");

	while (i < n) {
		uint64_t x = 0;
		size_t a;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		if (i == n)
			break;
		a = i;
		for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
			if (x > (SIZE_MAX_BODY - (uint64_t)(v[i] - '0')) / 10)
				return fail(r, "Content-Length too large");
			x = x * 10 + (uint64_t)(v[i] - '0');
		}
		while (i < n && is_ows(v[i]))
			i++;
		if (i == a || (i < n && v[i] != ','))
			return fail(r, "invalid Content-Length");
		if (r->length >= 0 && (uint64_t)r->length != x)
			return fail(r, "conflicting Content-Length headers");
		r->length = (int64_t)x;
	}
	return H1R_MORE;
}

static enum h1r_rc
header_line(struct h1_resp *r, const char *s, size_t n)
{
	const char *colon, *v;
	size_t nl, vn;

	/* A folded line continues one we do not read, or is noise. */
	if (n == 0 || is_ows(s[0]) || (colon = memchr(s, ':', n)) == NULL)
		return H1R_MORE;
	nl = (size_t)(colon - s);
	v = colon + 1;
	vn = n - nl - 1;
	while (vn > 0 && is_ows(*v)) {
		v++;
		vn--;
	}
	while (vn > 0 && is_ows(v[vn - 1]))
		vn--;
	if (nl == 14 && strncasecmp(s, "content-length", 14) == 0)
		return content_length(r, v, vn);
	if (nl == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) {
		/* Chunked only as the last coding frames the body. */
		r->chunked = has_token(v, vn, "chunked", true);
		r->te_other = !r->chunked;
	} else if (nl == 10 && strncasecmp(s, "connection", 10) == 0) {
		r->conn_close |= has_token(v, vn, "close", false);
		r->conn_keep |= has_token(v, vn, "keep-alive", false);
	} else if (nl == 8 && strncasecmp(s, "location", 8) == 0) {
		char *l = malloc(vn + 1);

		if (l == NULL)
			return fail(r, "out of memory");
		memcpy(l, v, vn);
		l[vn] = '\0';
		free(r->location);
		r->location = l;
	}
	return H1R_MORE;
}

/* The empty line after the headers: how the body is framed. */
static enum h1r_rc
head_end(struct h1_resp *r)
{
	if (r->status < 200) {
		if (r->status == 101)
			return fail(r, "unexpected 101 Switching Protocols");
		/* An interim answer (100 Continue): the real one follows. */
		r->state = S_STATUS;
		r->length = -1;
		r->chunked = r->te_other = false;
		r->conn_close = r->conn_keep = false;
		free(r->location);
		r->location = NULL;
		return H1R_MORE;
	}
	r->keep_alive = r->minor >= 1 ? !r->conn_close :
	    r->conn_keep && !r->conn_close;
	if (r->head || r->status == 204 || r->status == 304) {
		r->state = S_DONE;
		return H1R_DONE;
	}
	if (r->chunked || r->te_other) {
		/* Both framings at once: read as chunked, then close. */
		if (r->length >= 0)
			r->keep_alive = false;
		r->length = -1;
	}
	if (r->chunked) {
		r->state = S_CHUNK_SIZE;
	} else if (r->length >= 0 && !r->te_other) {
		r->left = (uint64_t)r->length;
		r->state = r->left == 0 ? S_DONE : S_BODY_LEN;
	} else {
		r->state = S_BODY_CLOSE;
		r->keep_alive = false;
	}
	return r->state == S_DONE ? H1R_DONE : H1R_MORE;
}

static enum h1r_rc
chunk_size(struct h1_resp *r, const char *s, size_t n)
{
	uint64_t x = 0;
	size_t i = 0;

	for (; i < n; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			break;
		/* Bounded before it grows: 2^64 must not wrap to 0. */
		if (x > (SIZE_MAX_BODY - (uint64_t)d) / 16)
			return fail(r, "chunk size too large");
		x = x * 16 + (uint64_t)d;
	}
	while (i < n && is_ows(s[i]))
		i++;
	if (i == 0 || (i < n && s[i] != ';'))
		return fail(r, "malformed chunk size");
	r->left = x;
	r->state = x == 0 ? S_TRAILER : S_CHUNK_DATA;
	return H1R_MORE;
}

enum h1r_rc
h1_resp_feed(struct h1_resp *r, const char *p, size_t n, size_t *used,
    h1r_body_fn body, void *arg)
{
	size_t i = 0;

	*used = n;
	r->got += n;
	while (i < n) {
		const char *line;
		size_t len, before = i, take;
		enum h1r_rc rc = H1R_MORE;
		int got;

		switch (r->state) {
		case S_STATUS:
		case S_HEADER:
		case S_TRAILER:
			/* What a split line kept is counted once. */
			got = take_line(r, p, n, &i, H1R_MAX_HEAD -
			    r->head_bytes + r->llen, &line, &len);
			r->head_bytes += i - before;
			if (got < 0)
				return fail(r, "response headers larger than "
				    "100 KiB");
			if (got == 0)
				return H1R_MORE;
			if (r->state == S_STATUS)
				rc = status_line(r, line, len);
			else if (len == 0 && r->state == S_TRAILER) {
				r->state = S_DONE;
				rc = H1R_DONE;
			} else if (len == 0)
				rc = head_end(r);
			else if (r->state == S_HEADER)
				rc = header_line(r, line, len);
			break;
		case S_CHUNK_SIZE:
			got = take_line(r, p, n, &i, CHUNK_LINE_MAX, &line,
			    &len);
			if (got < 0)
				return fail(r, "chunk size line too long");
			if (got == 0)
				return H1R_MORE;
			rc = chunk_size(r, line, len);
			break;
		case S_CHUNK_END:
			got = take_line(r, p, n, &i, 2, &line, &len);
			if (got < 0 || (got == 1 && len != 0))
				return fail(r, "malformed chunk (no CRLF "
				    "after its data)");
			if (got == 0)
				return H1R_MORE;
			r->state = S_CHUNK_SIZE;
			break;
		case S_BODY_LEN:
		case S_CHUNK_DATA:
		case S_BODY_CLOSE:
			take = n - i;
			if (r->state != S_BODY_CLOSE && r->left < take)
				take = (size_t)r->left;
			if (!body(arg, p + i, take))
				return H1R_STOPPED;
			i += take;
			if (r->state == S_BODY_CLOSE)
				break;
			r->left -= take;
			if (r->left > 0)
				break;
			if (r->state == S_CHUNK_DATA) {
				r->state = S_CHUNK_END;
			} else {
				r->state = S_DONE;
				rc = H1R_DONE;
			}
			break;
		default:
			/* Done: what follows is not this response's. */
			*used = i;
			r->got -= n - i;
			return H1R_DONE;
		}
		if (rc == H1R_ERROR)
			return rc;
		if (rc == H1R_DONE) {
			*used = i;
			r->got -= n - i;
			return rc;
		}
	}
	return r->state == S_DONE ? H1R_DONE : H1R_MORE;
}

enum h1r_rc
h1_resp_eof(struct h1_resp *r)
{
	switch (r->state) {
	case S_DONE:
	case S_BODY_CLOSE:
		r->state = S_DONE;
		return H1R_DONE;
	case S_STATUS:
		if (r->got == 0)
			return fail(r, "Empty reply from server");
		/* FALLTHROUGH */
	case S_HEADER:
		/* The target answered, then closed early, as a cut body. */
		r->cut = true;
		return fail(r, "transfer closed in the response's headers");
	case S_BODY_LEN:
		r->cut = true;
		snprintf(r->err, sizeof(r->err), "transfer closed with %llu "
		    "bytes remaining to read", (unsigned long long)r->left);
		return H1R_ERROR;
	default:
		r->cut = true;
		return fail(r, "transfer closed with outstanding read data "
		    "remaining");
	}
}
