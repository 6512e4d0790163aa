/*
 * http1_req: whether an http probe's request can go on vigil's own client
 * (http1.h), and if so its bytes and its address, made once, pure. It
 * can when the URL is plain http:// to a numeric address, without user
 * or password, and no configured header stands in for one the client
 * writes itself; everything else (TLS, names to resolve, credentials in
 * the URL) stays with libcurl. The bytes are those curl would send.
 */
#ifndef VIGIL_HTTP1_REQ_H
#define VIGIL_HTTP1_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct h1_req {
	struct sockaddr_storage addr;
	socklen_t alen;
	char host[64];		/* the address as text, for reasons */
	unsigned port;
	char *bytes;		/* the request, head and body */
	size_t len;
	bool head;		/* a HEAD request: its answer has no body */
};

/*
 * Fills q for method ("GET", "HEAD" or "POST", with body) to url with
 * the "Name: value" header lines and the User-Agent agent: 0, or -1 when
 * the request is not one for the own client (or memory ran out).
 */
int h1_req_make(struct h1_req *q, const char *url, const char *method,
    char *const *headers, size_t nheaders, const char *body,
    const char *agent);
/* Frees what q holds; q may be NULL. */
void h1_req_clear(struct h1_req *q);

#endif
