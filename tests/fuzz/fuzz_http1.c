/*
 * HTTP responses as the own client meets them, from whoever answers a
 * probe's port: fed whole and again cut where the first byte says, they
 * end the same way, never read outside what was given, and never take
 * more of the body than was sent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/http1_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	size_t n;
};

static bool
take(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;

	(void)p;
	s->n += n;
	return true;
}

static enum h1r_rc
run(const char *in, size_t n, size_t cut, bool head, struct sink *s,
    int *status)
{
	struct h1_resp r = { 0 };
	size_t used = 0;
	enum h1r_rc rc;

	h1_resp_init(&r, head);
	rc = h1_resp_feed(&r, in, cut, &used, take, s);
	if (rc == H1R_MORE)
		rc = h1_resp_feed(&r, in + cut, n - cut, &used, take, s);
	if (rc == H1R_MORE)
		rc = h1_resp_eof(&r);
	if (s->n > n || (rc == H1R_ERROR && r.err[0] == '\0'))
		abort();
	*status = r.status;
	h1_resp_clear(&r);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;
	struct sink a = { 0 }, b = { 0 };
	int sa = 0, sb = 0;
	enum h1r_rc ra, rb;
	bool head;
	size_t cut;

	if (size < 1)
		return 0;
	head = data[0] & 1;
	cut = size > 1 ? data[0] % (size - 1) : 0;
	/* A copy of exactly size - 1 bytes, so ASan sees any read past it. */
	if ((in = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(in, data + 1, size - 1);
	ra = run(in, size - 1, 0, head, &a, &sa);
	rb = run(in, size - 1, cut, head, &b, &sb);
	if (ra != rb || a.n != b.n || (ra == H1R_DONE && sa != sb))
		abort();
	free(in);
	return 0;
}
