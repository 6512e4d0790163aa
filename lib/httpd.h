/*
 * httpd: libmicrohttpd driven by the libevent loop.
 *
 * MHD runs in its external epoll mode: its epoll descriptor is one libevent
 * read event, and a timer follows MHD_get_timeout. Handlers therefore run
 * on the loop thread, read state without locks, and must never block.
 */
#ifndef VIGIL_HTTPD_H
#define VIGIL_HTTPD_H

#include <stddef.h>

#include <microhttpd.h>

struct event_base;
struct httpd;

struct httpd_limits {
	unsigned max_conns;		/* all clients together */
	unsigned max_conns_per_ip;	/* 0: no per-address limit */
	unsigned timeout_s;		/* idle connection timeout */
	size_t conn_memory;		/* per connection; bounds headers */
};

/*
 * Listens on listen ("127.0.0.1:9464", "[::1]:0") and calls handler for
 * every request. completed (may be NULL) is MHD's request-completed hook,
 * for freeing per-request state. Returns NULL with a reason in err.
 */
struct httpd *httpd_new(struct event_base *base, const char *listen,
    const struct httpd_limits *lim, MHD_AccessHandlerCallback handler,
    MHD_RequestCompletedCallback completed, void *cls, char *err,
    size_t errlen);
void httpd_free(struct httpd *h);

/* The port actually bound (useful with port 0). */
unsigned httpd_port(const struct httpd *h);

#endif
