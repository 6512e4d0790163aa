#include "http/api_host.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The name part of a Host header ("[::1]:9464" -> "[::1]"); false if bad. */
static bool
name_of(const char *host, char *out, size_t len)
{
	size_t n;

	if (host[0] == '[') {
		const char *end = strchr(host, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		n = (size_t)(end - host) + 1;
	} else {
		const char *colon = strchr(host, ':');

		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return false;	/* a bare IPv6 address is no Host */
		n = colon != NULL ? (size_t)(colon - host) : strlen(host);
	}
	if (n == 0 || n >= len)
		return false;
	memcpy(out, host, n);
	out[n] = '\0';
	return true;
}

static bool
ip_literal(const char *name)
{
	unsigned char a[16];
	char v6[64];
	size_t n = strlen(name);

	if (inet_pton(AF_INET, name, a) == 1)
		return true;
	if (name[0] != '[' || n < 3 || n - 2 >= sizeof(v6))
		return false;
	memcpy(v6, name + 1, n - 2);
	v6[n - 2] = '\0';
	return inet_pton(AF_INET6, v6, a) == 1;
}

static bool
local_name(const char *name)
{
	size_t n = strlen(name), l = strlen(".localhost");

	if (n > 0 && name[n - 1] == '.')
		n--;	/* "localhost." is the same name, fully qualified */
	return (n == strlen("localhost") &&
	    strncasecmp(name, "localhost", n) == 0) ||
	    (n > l && strncasecmp(name + n - l, ".localhost", l) == 0);
}

bool
api_host_allowed(const struct config *cfg, bool loopback, const char *host)
{
	char name[260];

	if (host == NULL)
		return true;
	if (!name_of(host, name, sizeof(name)))
		return false;
	if (cfg->allowed_hosts_set) {
		for (size_t i = 0; i < cfg->nallowed_hosts; i++)
			if (strcasecmp(cfg->allowed_hosts[i], name) == 0)
				return true;
		return false;
	}
	if (!loopback)
		return true;
	return ip_literal(name) || local_name(name);
}
