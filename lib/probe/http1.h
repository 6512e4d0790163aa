/*
 * http1: vigil's own HTTP/1.1 client on the libevent loop, for the http
 * probes whose request http1_req says it can carry (plain http:// to a
 * numeric address). Why not libcurl for these too: curl and what it calls
 * in libc were about 35 us of a 60 us probe run (bench/PROFILE.md), most
 * of it per transfer with no option to turn it off; this client sends the
 * request made once, reads the answer with one recv, and keeps its
 * sockets in epoll across runs.
 *
 * One per process, like evcurl: idle connections are kept per origin (an
 * address and port) for the next run to the same origin, capped in all.
 * An idle connection the peer closes is closed at once; a request on a
 * kept connection the peer had closed meanwhile is sent again once, on a
 * new connection, as curl does.
 */
#ifndef VIGIL_HTTP1_H
#define VIGIL_HTTP1_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event_struct.h>

#include "probe/http1_resp.h"

struct event_base;
struct h1;
struct h1_origin;
struct h1_conn;

enum h1_result {
	H1_OK,
	H1_CONNECT,	/* no connection, or it failed: err says how */
	H1_TIMEOUT,	/* stage says in which stage */
	H1_PROTO,	/* the answer is not HTTP/1.x as it should be */
	H1_CUT,		/* the body was cut short */
	H1_STOPPED,	/* the body callback refused a piece */
};

enum h1_stage { H1_CONNECTING, H1_WAITING, H1_READING };

struct h1_xfer {
	/* Set by the caller before h1_start. */
	struct h1_origin *origin;
	const char *req;	/* the request's bytes, kept until done */
	size_t reqlen;
	bool head;		/* HEAD: the answer has no body */
	bool fresh;		/* a new connection, closed after */
	int64_t timeout_ms;
	h1r_body_fn body;
	void (*done)(struct h1_xfer *x);
	void *arg;		/* the body callback's */

	/* The outcome, for done. */
	enum h1_result result;
	enum h1_stage stage;	/* where a timeout met the transfer */
	char err[192];
	struct h1_resp resp;	/* status, location */
	bool connected;		/* this run opened a connection */
	int64_t connect_us;	/* from the start, when connected */
	int64_t ttfb_us;	/* from the start to the answer's first byte */
	int64_t total_us;

	/* private */
	struct h1 *h1;
	struct h1_conn *c;
	struct event timer;
	const struct timeval *tv;	/* the timeout, as libevent shares it */
	int64_t tv_ms;
	int64_t start_us;
	size_t sent;
	bool reused, retried;
	bool starting, tell_later;	/* inside h1_start; done owed */
};

struct h1 *h1_new(struct event_base *base);
/* Every transfer must have ended or been cancelled first. */
void h1_free(struct h1 *h1);
/* How many idle connections to keep in all (0: 1,024). */
void h1_set_max_idle(struct h1 *h1, long n);

/* The origin of addr, shared and counted; NULL if out of memory. */
struct h1_origin *h1_origin_get(struct h1 *h1, const struct sockaddr *addr,
    socklen_t len);
/* Lets go of one count; the last closes its idle connections. */
void h1_origin_put(struct h1_origin *o);

/* Readies x for transfers on h1; 0, or -1. */
int h1_xfer_init(struct h1 *h1, struct h1_xfer *x);
/*
 * Starts x: 0, then done is called once from the loop; or -1 with
 * result and err set and done not called.
 */
int h1_start(struct h1_xfer *x);
/* Ends a transfer in flight without calling done. */
void h1_cancel(struct h1_xfer *x);
/* Frees what x holds (after cancelling it); x may be NULL. */
void h1_xfer_clear(struct h1_xfer *x);

#endif
