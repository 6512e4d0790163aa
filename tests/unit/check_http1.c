/*
 * probe/http1_resp and probe/http1_req: responses read however their
 * bytes are split, and the requests the own client may carry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <check.h>
#include <event2/event.h>

#include "base/clock.h"
#include "base/sbuf.h"
#include "probe/http1.h"
#include "probe/http1_req.h"
#include "probe/http1_resp.h"
#include "suites.h"

enum end { END_DONE, END_EOF_DONE, END_ERROR, END_EOF_ERROR, END_MORE };

/*
 * One response: fed whole, byte by byte and split in two at every byte,
 * it must end the same way. END_EOF_*: the peer closes after the bytes.
 */
static const struct {
	const char *in;
	bool head;
	enum end end;
	int status;
	bool keep;
	const char *body;	/* or the error's text, in part */
	size_t extra;		/* bytes past the response */
} resp[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, END_DONE,
	    200, true, "ok", 0 },
	/* Bare LF line ends, no reason phrase. */
	{ "HTTP/1.1 200\nContent-Length: 2\n\nok", false, END_DONE, 200,
	    true, "ok", 0 },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n"
	    "ok", false, END_DONE, 200, false, "ok", 0 },
	{ "HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\n"
	    "Content-Length: 0\r\n\r\n", false, END_DONE, 200, false, "", 0 },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, END_DONE,
	    200, false, "ok", 0 },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2"
	    "\r\n\r\nok", false, END_DONE, 200, true, "ok", 0 },
	/* Chunked, with extensions, split chunks and a trailer. */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;ext=1\r\n{\"a\":\r\nA\r\n 1}       \r\n0\r\nX-T: 1\r\n\r\n",
	    false, END_DONE, 200, true, "{\"a\": 1}       ", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	    "2\r\nok\r\n0\r\n\r\n", false, END_DONE, 200, true, "ok", 0 },
	/* Both framings: chunked wins, the connection is not kept. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false, END_DONE, 200, false,
	    "ok", 0 },
	/* Neither: the body ends when the peer closes. */
	{ "HTTP/1.1 200 OK\r\n\r\nuntil close", false, END_EOF_DONE, 200,
	    false, "until close", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1"
	    "\r\n\r\nabc", false, END_EOF_DONE, 200, false, "abc", 0 },
	/* Interim answers are skipped. */
	{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x"
	    "\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
	    false, END_DONE, 201, true, "x", 0 },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", false, END_ERROR, 0,
	    false, "101", 0 },
	/* No body: HEAD, 204, 304, whatever the length says. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true, END_DONE,
	    200, true, "", 0 },
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false,
	    END_DONE, 204, true, "", 0 },
	{ "HTTP/1.1 304 Not Modified\r\n\r\n", false, END_DONE, 304, true,
	    "", 0 },
	/* Bytes past the answer are not its own. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 X\r\n",
	    false, END_DONE, 200, true, "ok", 16 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", false,
	    END_DONE, 200, true, "ok", 0 },
	{ "HTTP/1.1 302 Found\r\nLocation:  /next \r\nContent-Length: 0\r\n"
	    "\r\n", false, END_DONE, 302, true, "", 0 },
	/* Malformed. */
	{ "SSH-2.0-OpenSSH_9.2\r\n", false, END_ERROR, 0, false,
	    "not HTTP/1.x: \"SSH-2.0-OpenSSH_9.2\"", 0 },
	{ "HTTP/2 200\r\n\r\n", false, END_ERROR, 0, false, "not HTTP", 0 },
	{ "HTTP/1.1 20 OK\r\n\r\n", false, END_ERROR, 0, false, "not HTTP",
	    0 },
	{ "HTTP/1.1 200OK\r\n\r\n", false, END_ERROR, 0, false, "not HTTP",
	    0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    false, END_ERROR, 0, false, "conflicting Content-Length", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, END_ERROR,
	    0, false, "invalid Content-Length", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false, END_ERROR,
	    0, false, "invalid Content-Length", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    false, END_ERROR, 0, false, "too large", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false, END_ERROR, 0,
	    false, "invalid Content-Length", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: ,\r\n\r\n", false, END_ERROR,
	    0, false, "invalid Content-Length", 0 },
	/* 2^64: read as 0 (the last chunk) if the bound is checked late. */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "10000000000000000\r\n\r\n", false, END_ERROR, 0, false,
	    "chunk size too large", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    false, END_ERROR, 0, false, "malformed chunk size", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "fffffffffffffffffff\r\n", false, END_ERROR, 0, false,
	    "chunk size too large", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
	    false, END_ERROR, 0, false, "no CRLF", 0 },
	/* Cut short by the peer. */
	{ "", false, END_EOF_ERROR, 0, false, "Empty reply from server", 0 },
	/* The target answered, then closed early: cut short, as a body. */
	{ "HTTP/1.1 200 OK\r\nContent-", false, END_EOF_ERROR, 0, false,
	    "transfer closed in the response's headers", 0 },
	{ "HTTP/1.1 200 OK\r\n", false, END_EOF_ERROR, 0, false,
	    "transfer closed in the response's headers", 0 },
	{ "HTTP/1.1 2", false, END_EOF_ERROR, 0, false,
	    "transfer closed in the response's headers", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false,
	    END_EOF_ERROR, 0, false, "closed with 3 bytes remaining", 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nok",
	    false, END_EOF_ERROR, 0, false, "outstanding read data", 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false, END_MORE,
	    0, false, "", 0 },
};

static bool
to_sbuf(void *arg, const char *p, size_t n)
{
	struct sbuf *b = arg;

	sbuf_add(b, p, n);
	return !b->failed;
}

/* Feeds in pieces cut at cuts[0..ncuts); the outcome as the table says. */
static void
feed_pieces(size_t i, const size_t *cuts, size_t ncuts)
{
	const char *in = resp[i].in;
	size_t n = strlen(in), at = 0, used = 0, extra = 0;
	struct h1_resp r = { 0 };
	struct sbuf b;
	enum h1r_rc rc = H1R_MORE;
	enum end e = resp[i].end;

	sbuf_init(&b, 1 << 20);
	sbuf_add(&b, "", 0);
	h1_resp_init(&r, resp[i].head);
	for (size_t k = 0; k <= ncuts && rc == H1R_MORE; k++) {
		size_t to = k < ncuts ? cuts[k] : n;

		if (to <= at && k < ncuts)
			continue;
		rc = h1_resp_feed(&r, in + at, to - at, &used, to_sbuf, &b);
		if (rc == H1R_DONE)
			extra = (to - at) - used + (n - to);
		at = to;
	}
	if (rc == H1R_MORE && (e == END_EOF_DONE || e == END_EOF_ERROR))
		rc = h1_resp_eof(&r);
	switch (e) {
	case END_DONE:
	case END_EOF_DONE:
		ck_assert_msg(rc == H1R_DONE, "case %zu: rc %d (%s)", i, rc,
		    r.err);
		ck_assert_int_eq(r.status, resp[i].status);
		ck_assert_int_eq(r.keep_alive, resp[i].keep);
		ck_assert_str_eq(b.s, resp[i].body);
		ck_assert_uint_eq(extra, resp[i].extra);
		break;
	case END_ERROR:
	case END_EOF_ERROR:
		ck_assert_msg(rc == H1R_ERROR, "case %zu: rc %d", i, rc);
		ck_assert_msg(strstr(r.err, resp[i].body) != NULL,
		    "case %zu: \"%s\"", i, r.err);
		ck_assert_int_eq(r.cut, strstr(r.err, "transfer closed") !=
		    NULL);
		break;
	case END_MORE:
		ck_assert_int_eq(rc, H1R_MORE);
		break;
	}
	if (strstr(in, "Location") != NULL && rc == H1R_DONE)
		ck_assert_str_eq(r.location, "/next");
	h1_resp_clear(&r);
	sbuf_free(&b);
}

START_TEST(test_resp_whole)
{
	feed_pieces((size_t)_i, NULL, 0);
}
END_TEST

START_TEST(test_resp_split_everywhere)
{
	size_t n = strlen(resp[_i].in);

	for (size_t cut = 0; cut <= n; cut++)
		feed_pieces((size_t)_i, &cut, 1);
}
END_TEST

START_TEST(test_resp_byte_by_byte)
{
	size_t n = strlen(resp[_i].in), *cuts = calloc(n + 1, sizeof(*cuts));

	ck_assert_ptr_nonnull(cuts);
	for (size_t k = 0; k < n; k++)
		cuts[k] = k + 1;
	feed_pieces((size_t)_i, cuts, n);
	free(cuts);
}
END_TEST

/* A head past 100 KiB is refused, not stored, whatever the pieces. */
START_TEST(test_resp_head_bound)
{
	size_t big = H1R_MAX_HEAD + 10;
	char *in = malloc(big), *p;
	struct h1_resp r = { 0 };
	struct sbuf b;
	size_t used;
	enum h1r_rc rc = H1R_MORE;

	ck_assert_ptr_nonnull(in);
	sbuf_init(&b, 1024);
	memset(in, 'a', big);
	memcpy(in, "HTTP/1.1 200 OK\r\nX: ", 20);
	h1_resp_init(&r, false);
	for (p = in; p < in + big && rc == H1R_MORE; p += 1000)
		rc = h1_resp_feed(&r, p, (size_t)(in + big - p) < 1000 ?
		    (size_t)(in + big - p) : 1000, &used, to_sbuf, &b);
	ck_assert_int_eq(rc, H1R_ERROR);
	ck_assert_str_eq(r.err, "response headers larger than 100 KiB");
	ck_assert_uint_le(r.lcap, 2 * H1R_MAX_HEAD);
	h1_resp_clear(&r);
	sbuf_free(&b);
	free(in);
}
END_TEST

/* A body callback that refuses stops the response there. */
static bool
refuse(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return false;
}

START_TEST(test_resp_body_refused)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "\r\nok";
	struct h1_resp r = { 0 };
	size_t used;

	h1_resp_init(&r, false);
	ck_assert_int_eq(h1_resp_feed(&r, in, sizeof(in) - 1, &used, refuse,
	    NULL), H1R_STOPPED);
	h1_resp_clear(&r);
}
END_TEST

static const struct {
	const char *url, *method, *hdr, *body;
	const char *want;	/* NULL: not for the own client */
	const char *host;
	unsigned port;
} req[] = {
	{ "http://127.0.0.1:8080/api/health", "GET", NULL, NULL,
	    "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
	    "User-Agent: vigil/t\r\nAccept: */*\r\n\r\n", "127.0.0.1", 8080 },
	{ "http://10.0.0.1/x?a=1&b=2#frag", "HEAD", "X-Api-Key: k", NULL,
	    "HEAD /x?a=1&b=2 HTTP/1.1\r\nHost: 10.0.0.1\r\n"
	    "User-Agent: vigil/t\r\nAccept: */*\r\nX-Api-Key: k\r\n\r\n",
	    "10.0.0.1", 80 },
	{ "http://[::1]:9/", "POST", NULL, "a=1",
	    "POST / HTTP/1.1\r\nHost: [::1]:9\r\nUser-Agent: vigil/t\r\n"
	    "Accept: */*\r\nContent-Length: 3\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\n\r\na=1", "[::1]", 9 },
	/* A default port spelled out is left out of Host, as curl does. */
	{ "http://127.0.0.1:80/a", "GET", NULL, NULL,
	    "GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: vigil/t\r\n"
	    "Accept: */*\r\n\r\n", "127.0.0.1", 80 },
	{ "http://127.0.0.1", "GET", NULL, NULL,
	    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: vigil/t\r\n"
	    "Accept: */*\r\n\r\n", "127.0.0.1", 80 },
	/* The rest stay with curl. */
	{ "https://127.0.0.1/", "GET", NULL, NULL, NULL, NULL, 0 },
	{ "http://localhost/", "GET", NULL, NULL, NULL, NULL, 0 },
	{ "http://portal.test/", "GET", NULL, NULL, NULL, NULL, 0 },
	{ "http://u:p@127.0.0.1/", "GET", NULL, NULL, NULL, NULL, 0 },
	{ "http://[fe80::1%25eth0]/", "GET", NULL, NULL, NULL, NULL, 0 },
	{ "http://127.0.0.1/", "PUT", NULL, NULL, NULL, NULL, 0 },
	{ "http://127.0.0.1/", "GET", "Host: other", NULL, NULL, NULL, 0 },
	{ "http://127.0.0.1/", "GET", "user-agent: x", NULL, NULL, NULL, 0 },
	{ "http://127.0.0.1/", "GET", "Accept: text/plain", NULL, NULL, NULL,
	    0 },
	{ "http://127.0.0.1/", "GET", "X-Empty: ", NULL, NULL, NULL, 0 },
	{ "not a url", "GET", NULL, NULL, NULL, NULL, 0 },
};

START_TEST(test_req_table)
{
	struct h1_req q;
	char *h[1] = { (char *)req[_i].hdr };
	int rc = h1_req_make(&q, req[_i].url, req[_i].method, h,
	    req[_i].hdr != NULL ? 1 : 0, req[_i].body, "vigil/t");

	if (req[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_null(q.bytes);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(q.bytes, req[_i].want);
	ck_assert_uint_eq(q.len, strlen(req[_i].want));
	ck_assert_str_eq(q.host, req[_i].host);
	ck_assert_uint_eq(q.port, req[_i].port);
	ck_assert_int_eq(q.head, strcmp(req[_i].method, "HEAD") == 0);
	h1_req_clear(&q);
}
END_TEST

/*
 * The client against a target played by the test itself on loopback: the
 * test accepts, reads and answers between the client's steps, so every
 * order of events is the one written here, with no thread. The two short
 * sleeps only let loopback deliver what the target sent; no time is
 * asserted.
 */
struct cworld {
	struct event_base *base;
	struct h1 *h1;
	struct h1_origin *o;
	struct h1_xfer x;
	int lfd;
	struct sbuf body;
	bool ended;
};

static const char creq[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

static void
cdone(struct h1_xfer *x)
{
	struct cworld *w = (struct cworld *)((char *)x -
	    offsetof(struct cworld, x));

	w->ended = true;
}

static void
cworld_init(struct cworld *w)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	memset(w, 0, sizeof(*w));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(w->lfd, 0);
	ck_assert_int_eq(bind(w->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(w->lfd, 8), 0);
	ck_assert_int_eq(getsockname(w->lfd, (struct sockaddr *)&sa, &sl), 0);
	w->base = event_base_new();
	w->h1 = h1_new(w->base);
	ck_assert_ptr_nonnull(w->h1);
	w->o = h1_origin_get(w->h1, (struct sockaddr *)&sa, sizeof(sa));
	ck_assert_ptr_nonnull(w->o);
	ck_assert_int_eq(h1_xfer_init(w->h1, &w->x), 0);
	w->x.origin = w->o;
	w->x.req = creq;
	w->x.reqlen = sizeof(creq) - 1;
	w->x.timeout_ms = 5000;
	w->x.body = to_sbuf;
	w->x.arg = &w->body;
	w->x.done = cdone;
	sbuf_init(&w->body, 4096);
}

static void
cworld_free(struct cworld *w)
{
	h1_xfer_clear(&w->x);
	h1_origin_put(w->o);
	h1_free(w->h1);
	event_base_free(w->base);
	sbuf_free(&w->body);
	close(w->lfd);
	clock_fake(NULL, NULL);
}

/* Starts a run; the request is on its way (sent, or connecting). */
static void
cstart(struct cworld *w)
{
	w->ended = false;
	sbuf_free(&w->body);
	sbuf_init(&w->body, 4096);
	sbuf_add(&w->body, "", 0);
	ck_assert_int_eq(h1_start(&w->x), 0);
}

/* The target reads one request on fd and answers it with a. */
static void
canswer(int fd, const char *a)
{
	char b[512];

	ck_assert_int_gt(recv(fd, b, sizeof(b), 0), 0);
	ck_assert_int_eq(send(fd, a, strlen(a), 0), (ssize_t)strlen(a));
}

static void
cwait(struct cworld *w)
{
	while (!w->ended)
		event_base_loop(w->base, EVLOOP_ONCE);
}

/* The answer a target gives, with body. */
static void
canswer_body(int fd, const char *body)
{
	char a[128];

	snprintf(a, sizeof(a), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	    "\r\n%s", strlen(body), body);
	canswer(fd, a);
}

static void
cended_with(struct cworld *w, const char *body)
{
	cwait(w);
	ck_assert_int_eq(w->x.result, H1_OK);
	ck_assert_int_eq(w->x.resp.status, 200);
	ck_assert_str_eq(w->body.s, body);
}

/* A run on a new connection, answered with body: the target's end. */
static int
crun_new(struct cworld *w, const char *body)
{
	int fd;

	cstart(w);
	ck_assert(w->x.connected);
	fd = accept(w->lfd, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	canswer_body(fd, body);
	cended_with(w, body);
	return fd;
}

/* A run on the kept connection whose target end is fd. */
static void
crun_kept(struct cworld *w, int fd, const char *body)
{
	cstart(w);
	ck_assert(!w->x.connected);
	canswer_body(fd, body);
	cended_with(w, body);
}

/*
 * Bytes nobody asked for reach a kept connection after the loop last
 * looked, and the next run starts in the same pass (the scheduler's
 * timer): the connection is not used, and the answer is the target's.
 * Before the check, the stray 500 was read as the run's answer.
 */
START_TEST(test_client_stray_bytes_unseen_by_the_loop)
{
	static const char stray[] = "HTTP/1.1 500 Stray\r\nContent-Length: "
	    "5\r\n\r\nSTALE";
	struct cworld w;
	int c1, c2;

	cworld_init(&w);
	c1 = crun_new(&w, "FIRST");
	ck_assert_int_eq(send(c1, stray, sizeof(stray) - 1, 0),
	    (ssize_t)sizeof(stray) - 1);
	usleep(10000);	/* on loopback, the bytes are there at once */
	c2 = crun_new(&w, "GOOD!");	/* not the kept one */
	close(c1);
	close(c2);
	cworld_free(&w);
}
END_TEST

/*
 * A kept connection is used again within 118 s of its last answer, and
 * not after: a NAT may have forgotten it, and the request would wait for
 * the timeout rather than fail and be retried.
 */
START_TEST(test_client_idle_age)
{
	int64_t mono = 1000000;
	struct cworld w;
	int c1, c2;

	cworld_init(&w);
	clock_fake(NULL, &mono);
	c1 = crun_new(&w, "one..");
	mono += 118 * 1000000LL;
	crun_kept(&w, c1, "two..");	/* kept: at the bound */
	mono += 118 * 1000000LL + 1;
	c2 = crun_new(&w, "three");	/* past it: a new one */
	close(c1);
	close(c2);
	cworld_free(&w);
}
END_TEST

/* The target closed the kept connection unseen: a new one, no failure. */
START_TEST(test_client_closed_unseen_by_the_loop)
{
	struct cworld w;
	int c2;

	cworld_init(&w);
	close(crun_new(&w, "FIRST"));
	usleep(10000);
	c2 = crun_new(&w, "GOOD!");
	close(c2);
	cworld_free(&w);
}
END_TEST

Suite *
http1_suite(void)
{
	Suite *s = suite_create("http1");
	TCase *tc = tcase_create("http1");
	int n = (int)(sizeof(resp) / sizeof(resp[0]));

	tcase_add_loop_test(tc, test_resp_whole, 0, n);
	tcase_add_loop_test(tc, test_resp_split_everywhere, 0, n);
	tcase_add_loop_test(tc, test_resp_byte_by_byte, 0, n);
	tcase_add_test(tc, test_resp_head_bound);
	tcase_add_test(tc, test_resp_body_refused);
	tcase_add_loop_test(tc, test_req_table, 0,
	    (int)(sizeof(req) / sizeof(req[0])));
	tcase_add_test(tc, test_client_stray_bytes_unseen_by_the_loop);
	tcase_add_test(tc, test_client_idle_age);
	tcase_add_test(tc, test_client_closed_unseen_by_the_loop);
	suite_add_tcase(s, tc);
	return s;
}
