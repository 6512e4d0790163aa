/*
 * evcurl: libcurl's multi socket API driven by a libevent loop.
 *
 * One per process: the multi handle owns the connection pool, so probes of
 * the same host reuse connections. Transfers report through the
 * struct evcurl_xfer that the caller embeds in its own state (found again
 * with CURLOPT_PRIVATE). Name resolution happens in curl's resolver thread,
 * never on the loop.
 */
#ifndef VIGIL_EVCURL_H
#define VIGIL_EVCURL_H

#include <curl/curl.h>

struct event_base;
struct evcurl;

struct evcurl_xfer {
	/*
	 * Called once when the transfer ends, after the easy handle was
	 * removed from the multi handle: the callee may reuse or free it, and
	 * may start other transfers.
	 */
	void (*done)(struct evcurl_xfer *x, CURLcode result);
	CURL *easy;
};

struct evcurl *evcurl_new(struct event_base *base);
/* Every transfer must have ended or been removed first. */
void evcurl_free(struct evcurl *ec);

/* Starts x->easy; returns 0, or -1 (the callback will not be called). */
int evcurl_add(struct evcurl *ec, struct evcurl_xfer *x);
/* Cancels a running transfer; its callback is not called. */
void evcurl_remove(struct evcurl *ec, struct evcurl_xfer *x);

/*
 * How many idle connections to keep for reuse (0: libcurl's default).
 * libcurl's default keeps four per transfer in flight: polling a thousand
 * targets one after another, it kept four and closed the rest, and most
 * probes paid for a new connection.
 */
void evcurl_set_max_idle(struct evcurl *ec, long n);

/* Transfers running now. */
int evcurl_running(const struct evcurl *ec);

#endif
