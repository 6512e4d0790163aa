#include "probe/http1_req.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "base/sbuf.h"

/* Headers the client writes itself, or whose meaning it does not keep. */
static const char *const own_headers[] = {
	"host", "user-agent", "accept", "content-length", "content-type",
	"transfer-encoding", "connection", "expect", "te", "upgrade", NULL,
};

static bool
header_fits(const char *line)
{
	const char *colon = strchr(line, ':');
	size_t n;

	if (colon == NULL)
		return false;
	n = (size_t)(colon - line);
	/* curl reads "Name:" with nothing after as "do not send Name". */
	if (colon[strspn(colon + 1, " \t") + 1] == '\0')
		return false;
	for (size_t i = 0; own_headers[i] != NULL; i++)
		if (strlen(own_headers[i]) == n &&
		    strncasecmp(line, own_headers[i], n) == 0)
			return false;
	return true;
}

/* The numeric address of host ("[...]" for IPv6) and port into q. */
static bool
numeric_addr(struct h1_req *q, const char *host, unsigned port)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&q->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&q->addr;
	size_t n = strlen(host);

	memset(&q->addr, 0, sizeof(q->addr));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		q->alen = sizeof(*v4);
	} else if (n > 2 && n < sizeof(q->host) && host[0] == '[' &&
	    host[n - 1] == ']') {
		char in[64];

		memcpy(in, host + 1, n - 2);
		in[n - 2] = '\0';
		if (inet_pton(AF_INET6, in, &v6->sin6_addr) != 1)
			return false;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		q->alen = sizeof(*v6);
	} else {
		return false;
	}
	return snprintf(q->host, sizeof(q->host), "%s", host) <
	    (int)sizeof(q->host);
}

static bool
part(CURLU *u, CURLUPart what, char **out, unsigned flags)
{
	return curl_url_get(u, what, out, flags) == CURLUE_OK;
}

int
h1_req_make(struct h1_req *q, const char *url, const char *method,
    char *const *headers, size_t nheaders, const char *body,
    const char *agent)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *dport = NULL;
	char *path = NULL, *query = NULL, *user = NULL, *zone = NULL;
	struct sbuf b;
	bool post = strcmp(method, "POST") == 0;
	int rc = -1;

	memset(q, 0, sizeof(*q));
	sbuf_init(&b, 64 * 1024);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && !post)
		goto out;
	for (size_t i = 0; i < nheaders; i++)
		if (!header_fits(headers[i]))
			goto out;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    !part(u, CURLUPART_SCHEME, &scheme, 0) ||
	    strcmp(scheme, "http") != 0 ||
	    part(u, CURLUPART_USER, &user, 0) ||
	    part(u, CURLUPART_ZONEID, &zone, 0) ||
	    !part(u, CURLUPART_HOST, &host, 0) ||
	    !part(u, CURLUPART_PORT, &dport, CURLU_DEFAULT_PORT) ||
	    !part(u, CURLUPART_PATH, &path, 0))
		goto out;
	q->port = (unsigned)strtoul(dport, NULL, 10);
	if (q->port == 0 || q->port > 65535 || !numeric_addr(q, host, q->port))
		goto out;
	/* A default port spelled out is left out of Host, as curl does. */
	if (part(u, CURLUPART_PORT, &port, 0) && strcmp(port, "80") == 0) {
		curl_free(port);
		port = NULL;
	}
	part(u, CURLUPART_QUERY, &query, 0);
	q->head = strcmp(method, "HEAD") == 0;
	sbuf_printf(&b, "%s %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n"
	    "User-Agent: %s\r\nAccept: */*\r\n", method, path,
	    query != NULL ? "?" : "", query != NULL ? query : "", host,
	    port != NULL ? ":" : "", port != NULL ? port : "", agent);
	for (size_t i = 0; i < nheaders; i++)
		sbuf_printf(&b, "%s\r\n", headers[i]);
	if (post)
		sbuf_printf(&b, "Content-Length: %zu\r\nContent-Type: "
		    "application/x-www-form-urlencoded\r\n\r\n%s",
		    body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	else
		sbuf_puts(&b, "\r\n");
	q->len = b.len;
	if ((q->bytes = sbuf_take(&b)) != NULL)
		rc = 0;
out:
	if (rc != 0) {
		sbuf_free(&b);
		memset(q, 0, sizeof(*q));
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(dport);
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_free(zone);
	curl_url_cleanup(u);
	return rc;
}

void
h1_req_clear(struct h1_req *q)
{
	if (q == NULL)
		return;
	free(q->bytes);
	memset(q, 0, sizeof(*q));
}
