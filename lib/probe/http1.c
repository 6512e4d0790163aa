#include "probe/http1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/clock.h"

/* What a transfer waits for on its connection. */
enum phase { PH_NONE, PH_CONNECT, PH_SEND, PH_WAIT };

struct h1_conn {
	struct event ev;
	struct h1_origin *o;
	struct h1_xfer *x;		/* NULL while idle */
	struct h1_conn *prev, *next;	/* in the origin's idle list */
	int fd;
	short what;			/* the event's kinds, 0 if not added */
	enum phase phase;
	int64_t idle_us;		/* clock_mono_us when it went idle */
};

struct h1_origin {
	struct h1 *h1;
	struct h1_origin *prev, *next;
	struct sockaddr_storage addr;
	socklen_t alen;
	char name[80];			/* "127.0.0.1 port 8080", for reasons */
	struct h1_conn *idle;		/* most recently used first */
	unsigned refs;
};

struct h1 {
	struct event_base *base;
	struct h1_origin *origins;
	struct h1_conn *spare;		/* freed connections' blocks */
	unsigned nspare;
	long max_idle, nidle;
	char buf[16384];		/* every read: one loop, one at a time */
};

#define H1_DEFAULT_IDLE 1024
#define H1_SPARE_MAX 64
/*
 * A connection idle longer is not used again, as curl's MAXAGE_CONN: a
 * NAT or balancer may have dropped it without a word, and a request on
 * it would wait for the timeout instead of failing to be retried.
 */
#define H1_IDLE_MAX_US (118 * 1000000LL)

struct h1 *
h1_new(struct event_base *base)
{
	struct h1 *h1 = calloc(1, sizeof(*h1));

	if (h1 == NULL)
		return NULL;
	h1->base = base;
	h1->max_idle = H1_DEFAULT_IDLE;
	return h1;
}

void
h1_set_max_idle(struct h1 *h1, long n)
{
	h1->max_idle = n > 0 ? n : H1_DEFAULT_IDLE;
}

static void
idle_unlink(struct h1_conn *c)
{
	struct h1_origin *o = c->o;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		o->idle = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	o->h1->nidle--;
}

static void
conn_close(struct h1_conn *c)
{
	struct h1 *h1 = c->o->h1;

	if (c->x == NULL)
		idle_unlink(c);
	if (c->what != 0)
		event_del(&c->ev);
	close(c->fd);
	if (h1->nspare < H1_SPARE_MAX) {
		c->next = h1->spare;
		h1->spare = c;
		h1->nspare++;
	} else {
		free(c);
	}
}

void
h1_free(struct h1 *h1)
{
	if (h1 == NULL)
		return;
	while (h1->origins != NULL) {
		struct h1_origin *o = h1->origins;

		while (o->idle != NULL)
			conn_close(o->idle);
		h1->origins = o->next;
		free(o);
	}
	while (h1->spare != NULL) {
		struct h1_conn *c = h1->spare;

		h1->spare = c->next;
		free(c);
	}
	free(h1);
}

struct h1_origin *
h1_origin_get(struct h1 *h1, const struct sockaddr *addr, socklen_t len)
{
	struct h1_origin *o;
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	for (o = h1->origins; o != NULL; o = o->next)
		if (o->alen == len && memcmp(&o->addr, addr, len) == 0) {
			o->refs++;
			return o;
		}
	if (len > sizeof(o->addr) || (o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->h1 = h1;
	memcpy(&o->addr, addr, len);
	o->alen = len;
	o->refs = 1;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)addr;

		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
		port = ntohs(v4->sin_port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)addr;

		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
		port = ntohs(v6->sin6_port);
	}
	snprintf(o->name, sizeof(o->name), "%s port %u", a, port);
	o->next = h1->origins;
	if (o->next != NULL)
		o->next->prev = o;
	h1->origins = o;
	return o;
}

void
h1_origin_put(struct h1_origin *o)
{
	struct h1 *h1;

	if (o == NULL || --o->refs > 0)
		return;
	h1 = o->h1;
	while (o->idle != NULL)
		conn_close(o->idle);
	if (o->prev != NULL)
		o->prev->next = o->next;
	else
		h1->origins = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	free(o);
}

static void on_conn(evutil_socket_t fd, short what, void *arg);

/* The connection's event set to what, persistent; 0 or -1. */
static int
conn_watch(struct h1_conn *c, short what)
{
	if (c->what == what)
		return 0;
	if (c->what != 0)
		event_del(&c->ev);
	c->what = 0;
	if (event_assign(&c->ev, c->o->h1->base, c->fd, what | EV_PERSIST,
	    on_conn, c) != 0 || event_add(&c->ev, NULL) != 0)
		return -1;
	c->what = what;
	return 0;
}

/*
 * Ends x: its connection kept for the next run when keep, else closed.
 * done is told from the loop: inside h1_start, on the next pass.
 */
static void
finish(struct h1_xfer *x, enum h1_result res, bool keep)
{
	struct h1_conn *c = x->c;
	struct h1 *h1 = x->h1;

	event_del(&x->timer);
	x->result = res;
	x->total_us = clock_mono_us() - x->start_us;
	x->c = NULL;
	if (c != NULL) {
		if (keep && h1->nidle < h1->max_idle &&
		    conn_watch(c, EV_READ) == 0) {
			struct h1_origin *o = c->o;

			c->x = NULL;
			c->phase = PH_NONE;
			c->idle_us = clock_mono_us();
			c->prev = NULL;
			c->next = o->idle;
			if (c->next != NULL)
				c->next->prev = c;
			o->idle = c;
			h1->nidle++;
		} else {
			conn_close(c);
		}
	}
	if (x->starting) {
		x->tell_later = true;
		event_active(&x->timer, EV_TIMEOUT, 1);
		return;
	}
	x->done(x);
}

static void failf(struct h1_xfer *x, enum h1_result res, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
failf(struct h1_xfer *x, enum h1_result res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	finish(x, res, false);
}

static bool try_send(struct h1_xfer *x);

/*
 * A new connection for x: 0 when it is on its way (connected or
 * connecting), -1 with err set.
 */
static int
conn_open(struct h1_xfer *x)
{
	struct h1_origin *o = x->origin;
	struct h1 *h1 = x->h1;
	struct h1_conn *c;
	int one = 1, fd;

	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&o->addr, o->alen) != 0 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		errno = e;
		goto fail;
	}
	if ((c = h1->spare) != NULL) {
		h1->spare = c->next;
		h1->nspare--;
	} else if ((c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		errno = ENOMEM;
		goto fail;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->o = o;
	c->x = x;
	c->phase = PH_CONNECT;
	x->c = c;
	x->connected = true;
	return 0;
fail:
	snprintf(x->err, sizeof(x->err), "Failed to connect to %s: %s",
	    o->name, strerror(errno));
	return -1;
}

/* The kept connection died under the request: once more, anew. */
static void
retry(struct h1_xfer *x)
{
	conn_close(x->c);
	x->c = NULL;
	x->reused = false;
	x->retried = true;
	x->sent = 0;
	h1_resp_init(&x->resp, x->head);
	if (conn_open(x) != 0)
		finish(x, H1_CONNECT, false);
	else
		(void)try_send(x);
}

static bool
may_retry(const struct h1_xfer *x)
{
	return x->reused && !x->retried && x->resp.got == 0;
}

/*
 * Sends what is left of the request. On a connection still connecting it
 * is tried at once too: on loopback the handshake is often over by then,
 * and the wait for writability (two epoll_ctl and a wake-up) is saved;
 * otherwise it fails with EAGAIN, or with the connection's error. True
 * while x goes on on this connection; false when it ended or moved to
 * another (which may be in the same block and descriptor).
 */
static bool
try_send(struct h1_xfer *x)
{
	struct h1_conn *c = x->c;
	bool connecting = c->phase == PH_CONNECT;
	ssize_t n = send(c->fd, x->req + x->sent, x->reqlen - x->sent,
	    MSG_NOSIGNAL);
	int e = errno;

	if (n < 0 && (e == EAGAIN || e == EINTR)) {
		n = 0;
		if (connecting) {
			if (conn_watch(c, EV_WRITE) == 0)
				return true;
			failf(x, H1_CONNECT, "out of memory");
			return false;
		}
	}
	if (n < 0) {
		if (connecting) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) == 0 && err != 0)
				e = err;
			failf(x, H1_CONNECT, "Failed to connect to %s: %s",
			    x->origin->name, strerror(e));
		} else if (may_retry(x)) {
			retry(x);
		} else {
			failf(x, H1_CONNECT, "Send failure: %s", strerror(e));
		}
		return false;
	}
	if (connecting)
		x->connect_us = clock_mono_us() - x->start_us;
	x->sent += (size_t)n;
	c->phase = x->sent == x->reqlen ? PH_WAIT : PH_SEND;
	/* Reading while sending too: an early answer or close is seen. */
	if (conn_watch(c, c->phase == PH_WAIT ? EV_READ :
	    EV_READ | EV_WRITE) != 0) {
		failf(x, H1_CONNECT, "out of memory");
		return false;
	}
	return true;
}

static void
read_answer(struct h1_xfer *x)
{
	struct h1 *h1 = x->h1;
	ssize_t n = recv(x->c->fd, h1->buf, sizeof(h1->buf), 0);
	size_t used;
	enum h1r_rc rc;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		if (may_retry(x)) {
			retry(x);
			return;
		}
		failf(x, H1_CONNECT, "Recv failure: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		if (may_retry(x)) {
			retry(x);
			return;
		}
		if (h1_resp_eof(&x->resp) == H1R_DONE)
			finish(x, H1_OK, false);
		else
			failf(x, x->resp.cut ? H1_CUT : H1_PROTO, "%s",
			    x->resp.err);
		return;
	}
	if (x->resp.got == 0)
		x->ttfb_us = clock_mono_us() - x->start_us;
	rc = h1_resp_feed(&x->resp, h1->buf, (size_t)n, &used, x->body,
	    x->arg);
	switch (rc) {
	case H1R_MORE:
		break;
	case H1R_DONE:
		/*
		 * An answer before the whole request went, or bytes past
		 * it: the connection's next answer could not be trusted.
		 */
		finish(x, H1_OK, x->resp.keep_alive && !x->fresh &&
		    used == (size_t)n && x->c->phase == PH_WAIT);
		break;
	case H1R_ERROR:
		failf(x, H1_PROTO, "%s", x->resp.err);
		break;
	case H1R_STOPPED:
		finish(x, H1_STOPPED, false);
		break;
	}
}

static void
on_conn(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn *c = arg;
	struct h1_xfer *x = c->x;

	(void)fd;
	if (x == NULL) {
		/* Idle: the peer closed it, or sent what nobody asked for. */
		conn_close(c);
		return;
	}
	if ((what & EV_WRITE) && (c->phase == PH_CONNECT ||
	    c->phase == PH_SEND) && !try_send(x))
		return;	/* ended, or retried on another */
	if (what & EV_READ)
		read_answer(x);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct h1_xfer *x = arg;

	(void)fd;
	(void)what;
	if (x->tell_later) {
		/* An end met inside h1_start, told from the loop. */
		x->tell_later = false;
		x->done(x);
		return;
	}
	if (x->c == NULL || x->c->phase == PH_CONNECT)
		x->stage = H1_CONNECTING;
	else
		x->stage = x->resp.got == 0 ? H1_WAITING : H1_READING;
	finish(x, H1_TIMEOUT, false);
}

/*
 * The most recently used idle connection of o fit to carry a request at
 * now, or NULL. Asked first, with one recv that takes nothing: bytes may
 * have come since the loop last looked (a stray answer would be read as
 * this run's), or the peer may have closed it.
 */
static struct h1_conn *
take_idle(struct h1_origin *o, int64_t now)
{
	struct h1_conn *c;

	while ((c = o->idle) != NULL) {
		char b;

		if (now - c->idle_us <= H1_IDLE_MAX_US &&
		    recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    errno == EAGAIN) {
			idle_unlink(c);
			return c;
		}
		conn_close(c);
	}
	return NULL;
}

int
h1_xfer_init(struct h1 *h1, struct h1_xfer *x)
{
	x->h1 = h1;
	return event_assign(&x->timer, h1->base, -1, 0, on_timer, x);
}

int
h1_start(struct h1_xfer *x)
{
	struct h1_origin *o = x->origin;
	struct timeval tv = { (time_t)(x->timeout_ms / 1000),
	    (suseconds_t)(x->timeout_ms % 1000 * 1000) };
	struct h1_conn *c;

	x->result = H1_OK;
	x->err[0] = '\0';
	x->connected = x->reused = x->retried = x->tell_later = false;
	x->connect_us = x->ttfb_us = x->total_us = 0;
	x->sent = 0;
	x->c = NULL;
	h1_resp_init(&x->resp, x->head);
	x->start_us = clock_mono_us();
	/*
	 * Most probes share a few timeouts: libevent keeps each such one
	 * as a queue, and adding a run's timer costs no heap work.
	 */
	if (x->tv == NULL || x->tv_ms != x->timeout_ms) {
		x->tv = event_base_init_common_timeout(x->h1->base, &tv);
		x->tv_ms = x->timeout_ms;
	}
	if (evtimer_add(&x->timer, x->tv != NULL ? x->tv : &tv) != 0) {
		snprintf(x->err, sizeof(x->err), "out of memory");
		x->result = H1_CONNECT;
		return -1;
	}
	x->starting = true;
	if (!x->fresh && (c = take_idle(o, x->start_us)) != NULL) {
		c->x = x;
		x->c = c;
		x->reused = true;
		(void)try_send(x);
	} else if (conn_open(x) != 0) {
		finish(x, H1_CONNECT, false);
	} else {
		(void)try_send(x);
	}
	x->starting = false;
	return 0;
}

void
h1_cancel(struct h1_xfer *x)
{
	event_del(&x->timer);
	x->tell_later = false;
	if (x->c != NULL) {
		conn_close(x->c);
		x->c = NULL;
	}
}

void
h1_xfer_clear(struct h1_xfer *x)
{
	if (x == NULL)
		return;
	if (x->h1 != NULL)
		h1_cancel(x);
	h1_resp_clear(&x->resp);
}
