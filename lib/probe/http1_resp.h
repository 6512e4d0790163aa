/*
 * http1_resp: an HTTP/1.x response read as its bytes arrive, pure. For
 * vigil's own client (http1.h): the status, the headers that frame the
 * body and the connection (Content-Length, Transfer-Encoding, Connection)
 * and Location, the body handed on in pieces as it comes. Every length is
 * bounded; a malformed response is an error with a reason, never a guess.
 */
#ifndef VIGIL_HTTP1_RESP_H
#define VIGIL_HTTP1_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The response's head (status line, headers, trailers), as curl's bound. */
#define H1R_MAX_HEAD (100 * 1024)

enum h1r_rc {
	H1R_MORE,	/* every byte taken; the response goes on */
	H1R_DONE,	/* complete; *used tells where it ended */
	H1R_ERROR,	/* malformed: err says why */
	H1R_STOPPED,	/* the body callback refused a piece */
};

/* Takes a piece of the body; false stops the response (H1R_STOPPED). */
typedef bool (*h1r_body_fn)(void *arg, const char *p, size_t n);

struct h1_resp {
	int status;
	int minor;		/* HTTP/1.minor */
	bool keep_alive;	/* once done, the connection may carry another */
	bool cut;		/* an error that is the body cut short */
	int64_t length;		/* Content-Length, -1 without one */
	bool chunked;
	char *location;		/* the Location header's value, or NULL */
	size_t got;		/* bytes taken so far */
	char err[128];
	/* private */
	int state;
	bool head;		/* the answer to a HEAD: no body */
	bool conn_close, conn_keep, te_other;
	uint64_t left;		/* bytes left of the body or the chunk */
	size_t head_bytes;
	char *line;		/* a line split between two pieces */
	size_t llen, lcap;
};

/*
 * Readies r for a response (to a HEAD request when head), keeping the
 * line block of an earlier one. A zeroed struct is also ready for GET.
 */
void h1_resp_init(struct h1_resp *r, bool head);
/* Frees what r holds; r may be NULL. */
void h1_resp_clear(struct h1_resp *r);
/*
 * Takes n more bytes. On H1R_DONE, *used is how many of them belong to
 * this response (the rest is not its: a connection that sent more than
 * was asked must not carry another request); otherwise n.
 */
enum h1r_rc h1_resp_feed(struct h1_resp *r, const char *p, size_t n,
    size_t *used, h1r_body_fn body, void *arg);
/* The peer closed: H1R_DONE if that ends the response, else H1R_ERROR. */
enum h1r_rc h1_resp_eof(struct h1_resp *r);

#endif
