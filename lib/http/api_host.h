/*
 * api_host: whether a request's Host header names this vigild. A web page
 * can make its own name resolve to 127.0.0.1 (DNS rebinding) and then
 * read, from the browser of anyone on the host, what vigild shows on
 * loopback without a token. Such a request carries the page's name in
 * Host, so vigild answers only the names it is known by. Pure.
 *
 * With api.allowed_hosts, those names (and no others). Without it, on a
 * loopback listener: IP literals (no page is served from one by
 * rebinding), "localhost" and names under ".localhost" (RFC 6761: they
 * never leave the host); beyond loopback, any name (the detail needs the
 * token there, which a page does not have). A request without Host
 * (HTTP/1.0) is answered: browsers always send one.
 */
#ifndef VIGIL_API_HOST_H
#define VIGIL_API_HOST_H

#include <stdbool.h>

#include "config/config.h"

bool api_host_allowed(const struct config *cfg, bool loopback,
    const char *host);

#endif
