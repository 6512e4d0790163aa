/*
 * httpd: libmicrohttpd driven by the libevent loop.
 *
 * MHD runs in its external epoll mode: its epoll descriptor is one libevent
 * read event, and a timer follows MHD_get_timeout. Handlers therefore run
 * on the loop thread, read state without locks, and must never block.
 *
 * It also holds the line against clients that would tie it up: a share of
 * connections per address and a cap on all, where connections doing
 * nothing give way to new ones (so idle sockets cannot lock anyone out),
 * a reserve past the cap for the paths that must always answer, a memory
 * cap per connection (which bounds the request line and headers), an idle
 * timeout, and a deadline for each request as a whole -- an idle timeout
 * alone lets a slow-loris client that sends a byte every few seconds keep
 * its slot forever.
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
	unsigned deadline_s;		/* for each request, counted from
					   the connection's start or its
					   previous answer; 0: none */
	size_t conn_memory;		/* per connection; bounds headers */
	/*
	 * Paths still served past max_conns (in a reserve of a few more
	 * connections), NULL-terminated: what must answer however busy.
	 */
	const char *const *reserved;
};

/* PEM text of the certificate (chain) and its key: HTTPS instead. */
struct httpd_tls {
	const char *cert_pem;
	const char *key_pem;
};

/*
 * Listens on listen ("127.0.0.1:9464", "[::1]:0") and calls handler for
 * every request. completed (may be NULL) is MHD's request-completed hook,
 * for freeing per-request state. tls NULL: plain HTTP. Returns NULL with
 * a reason in err.
 */
struct httpd *httpd_new(struct event_base *base, const char *listen,
    const struct httpd_limits *lim, const struct httpd_tls *tls,
    MHD_AccessHandlerCallback handler,
    MHD_RequestCompletedCallback completed, void *cls, char *err,
    size_t errlen);
void httpd_free(struct httpd *h);

/*
 * Runs MHD now: after MHD_resume_connection from outside a handler, so
 * that the connection resumed is answered in this loop pass.
 */
void httpd_kick(struct httpd *h);

/* The port actually bound (useful with port 0). */
unsigned httpd_port(const struct httpd *h);
/* Connections open now; plain data, safe in a forked child. */
unsigned httpd_connections(const struct httpd *h);
/* The connection limit in force (lowered to fit the descriptor limit). */
unsigned httpd_max_conns(const struct httpd *h);

#endif
