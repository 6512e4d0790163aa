#include "probe/probe_dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/dnsmsg.h"
#include "config/config.h"

#define RESOLV_CONF	"/etc/resolv.conf"

struct dns_probe {
	const struct probe_cfg *cfg;
	struct event_base *base;
	struct probe *probe;
	struct probe_result *r;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char server[80];	/* for reasons: "127.0.0.1:5353" */
	char setup_error[160];	/* why there is no server; "" when there is */
	int fd;
	struct event *io, *timer;
	uint8_t query[DNSMSG_QUERY_MAX];
	size_t qlen;
	uint16_t id;
	bool running, retried;
	int64_t sent_us;
};

static int
set_addr(const char *host, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

/* "address:port" as config_dns checked it. */
static int
parse_server(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	unsigned port;
	const char *why;

	if (config_split_listen(s, host, sizeof(host), &port, &why) != 0)
		return -1;
	return set_addr(host, port, ss, len);
}

/*
 * The system resolver's first nameserver. Read once when the probe is
 * made (start or reload): a small local file, not a wait on the network.
 */
static void
system_server(struct dns_probe *d)
{
	FILE *f = fopen(RESOLV_CONF, "re");
	char line[256], addr[64];

	if (f == NULL) {
		snprintf(d->setup_error, sizeof(d->setup_error), "cannot read "
		    RESOLV_CONF ": %s", strerror(errno));
		return;
	}
	snprintf(d->setup_error, sizeof(d->setup_error), "no nameserver in "
	    RESOLV_CONF);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " nameserver %63s", addr) != 1)
			continue;
		/* A bare address there ("::1" is not "[::]:1"); port 53. */
		if (set_addr(addr, 53, &d->addr, &d->addrlen) == 0) {
			snprintf(d->server, sizeof(d->server), "%s", addr);
			d->setup_error[0] = '\0';
			break;
		}
	}
	fclose(f);
}

static void
dns_close(struct dns_probe *d)
{
	if (d->io != NULL) {
		event_free(d->io);
		d->io = NULL;
	}
	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
	}
}

static void
dns_end(void *impl, struct probe_result *r)
{
	struct dns_probe *d = impl;

	(void)r;
	evtimer_del(d->timer);
	dns_close(d);
	d->running = false;
}

/* Answers quoted for a reason: "a", "b" cut to fit out. */
static void
quote_answers(const struct dnsmsg_reply *rep, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	if (rep->nanswers == 0) {
		snprintf(out, len, "no answers");
		return;
	}
	for (size_t i = 0; i < rep->nanswers; i++) {
		char q[96];
		int n;

		probe_quote(rep->answers[i], q, sizeof(q));
		n = snprintf(out + o, len - o, "%s%s", i > 0 ? ", " : "", q);
		if (n < 0 || (size_t)n >= len - o) {
			/* Cut at a whole answer, and say so. */
			if (o + 6 < len)
				snprintf(out + o, len - o, ", ...");
			else
				out[o] = '\0';
			return;
		}
		o += (size_t)n;
	}
}

/*
 * An answer against an expected one: addresses as addresses
 * ("2001:DB8:0::10" is "2001:db8::10"), names ignoring case and a
 * trailing dot, a TXT's text exactly.
 */
static bool
answer_eq(int type, const char *got, const char *want)
{
	unsigned char a[16], b[16];
	size_t wl = strlen(want);

	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA: {
		int af = type == DNS_T_A ? AF_INET : AF_INET6;

		if (inet_pton(af, got, a) == 1 && inet_pton(af, want, b) == 1)
			return memcmp(a, b, type == DNS_T_A ? 4 : 16) == 0;
		return strcasecmp(got, want) == 0;
	}
	case DNS_T_TXT:
		return strcmp(got, want) == 0;
	}
	if (wl > 1 && want[wl - 1] == '.')
		wl--;
	return strlen(got) == wl && strncasecmp(got, want, wl) == 0;
}

static bool
has_answer(const struct dnsmsg_reply *rep, int type, const char *want)
{
	for (size_t i = 0; i < rep->nanswers; i++)
		if (answer_eq(type, rep->answers[i], want))
			return true;
	return false;
}

static void
dns_judge(struct dns_probe *d, const struct dnsmsg_reply *rep)
{
	const struct dns_cfg *c = &d->cfg->dns;
	const char *type = dnsmsg_type_name(c->record);
	char got[160];

	probe_result_add(d->r, "answers", (double)(rep->nanswers + rep->more));
	if (rep->rcode == 3) {
		probe_abort(d->probe, PROBE_FAIL_QUERY, "NXDOMAIN for %s %s",
		    c->query, type);
		return;
	}
	if (rep->rcode == 2) {
		probe_abort(d->probe, PROBE_FAIL_QUERY, "SERVFAIL for %s %s "
		    "from %s", c->query, type, d->server);
		return;
	}
	if (rep->rcode != 0) {
		probe_abort(d->probe, PROBE_FAIL_QUERY, "rcode %d for %s %s "
		    "from %s", rep->rcode, c->query, type, d->server);
		return;
	}
	if (rep->truncated) {
		/* No TCP fallback: a probe's answers are meant to be small. */
		probe_abort(d->probe, PROBE_FAIL_BODY, "truncated answer (TC) "
		    "for %s %s from %s; vigil does not retry over TCP",
		    c->query, type, d->server);
		return;
	}
	quote_answers(rep, got, sizeof(got));
	if (c->contains != NULL && !has_answer(rep, c->record, c->contains)) {
		char want[96];

		probe_quote(c->contains, want, sizeof(want));
		probe_abort(d->probe, PROBE_FAIL_BODY, "%s %s: expected %s "
		    "among the answers, got %s", c->query, type, want, got);
		return;
	}
	if (c->has_equals) {
		bool same = rep->more == 0 && rep->nanswers == c->nequals;

		/* Order-insensitive, as sets: each side within the other. */
		for (size_t i = 0; same && i < c->nequals; i++)
			same = has_answer(rep, c->record, c->equals[i]);
		for (size_t i = 0; same && i < rep->nanswers; i++) {
			bool found = false;

			for (size_t k = 0; k < c->nequals && !found; k++)
				found = answer_eq(c->record,
				    rep->answers[i], c->equals[k]);
			same = found;
		}
		if (!same) {
			probe_abort(d->probe, PROBE_FAIL_BODY, "%s %s: the "
			    "answers are not those expected, got %s",
			    c->query, type, got);
			return;
		}
	}
	probe_end(d->probe);
}

static void
dns_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct dns_probe *d = arg;
	uint8_t pkt[4096];
	struct dnsmsg_reply *rep;
	enum dnsmsg_err e;
	ssize_t n;

	(void)what;
	if (!d->running || probe_ending(d->probe))
		return;
	n = recv(fd, pkt, sizeof(pkt), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		/* ICMP port unreachable comes back as ECONNREFUSED. */
		probe_abort(d->probe, PROBE_FAIL_CONNECT, "no DNS server at "
		    "%s: %s", d->server, strerror(errno));
		return;
	}
	rep = malloc(sizeof(*rep));
	if (rep == NULL) {
		probe_abort(d->probe, PROBE_FAIL_INTERNAL, "out of memory");
		return;
	}
	e = dnsmsg_decode_reply(pkt, (size_t)n, d->cfg->dns.query,
	    d->cfg->dns.record, rep);
	/* Another query's late answer, or a stranger's: keep waiting. */
	if ((size_t)n >= 2 && ((unsigned)pkt[0] << 8 | pkt[1]) != d->id) {
		free(rep);
		return;
	}
	probe_result_add(d->r, "resolve_ms",
	    (double)(clock_mono_us() - d->sent_us) / 1000.0);
	if (e != DNSMSG_OK)
		probe_abort(d->probe, PROBE_FAIL_BODY, "malformed answer from "
		    "%s: %s", d->server, dnsmsg_strerror(e));
	else
		dns_judge(d, rep);
	free(rep);
}

static int
dns_send(struct dns_probe *d)
{
	if (send(d->fd, d->query, d->qlen, 0) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK) {
		probe_abort(d->probe, PROBE_FAIL_CONNECT, "cannot send to %s: "
		    "%s", d->server, strerror(errno));
		return -1;
	}
	return 0;
}

static void
dns_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_probe *d = arg;
	int64_t t = d->cfg->timeout_ms;

	(void)fd;
	(void)what;
	if (!d->running || probe_ending(d->probe))
		return;
	if (!d->retried) {
		/* UDP loses packets: one more try in the second half. */
		struct timeval tv = { (time_t)((t - t / 2) / 1000),
		    (suseconds_t)((t - t / 2) % 1000) * 1000 };

		d->retried = true;
		if (dns_send(d) == 0)
			evtimer_add(d->timer, &tv);
		return;
	}
	probe_abort(d->probe, PROBE_FAIL_TIMEOUT, "no answer from %s for %s "
	    "%s within %lld ms (sent twice)", d->server, d->cfg->dns.query,
	    dnsmsg_type_name(d->cfg->dns.record), (long long)t);
}

static void *
dns_create(const struct probe_cfg *cfg, const struct probe_env *env)
{
	struct dns_probe *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->cfg = cfg;
	d->base = env->base;
	d->fd = -1;
	d->timer = evtimer_new(env->base, dns_on_timer, d);
	if (d->timer == NULL) {
		free(d);
		return NULL;
	}
	if (cfg->dns.server != NULL) {
		snprintf(d->server, sizeof(d->server), "%s", cfg->dns.server);
		if (parse_server(cfg->dns.server, &d->addr, &d->addrlen) != 0)
			snprintf(d->setup_error, sizeof(d->setup_error),
			    "bad server address");
	} else {
		system_server(d);
	}
	return d;
}

static int
dns_start(void *impl, struct probe *p, struct probe_result *r)
{
	struct dns_probe *d = impl;
	int64_t t = d->cfg->timeout_ms;
	struct timeval tv = { (time_t)(t / 2 / 1000),
	    (suseconds_t)(t / 2 % 1000) * 1000 };
	enum dnsmsg_err e;

	d->probe = p;
	d->r = r;
	d->running = true;
	d->retried = false;
	if (d->setup_error[0] != '\0') {
		probe_abort(p, PROBE_FAIL_INTERNAL, "%s", d->setup_error);
		return 0;
	}
	/* A fresh id (and port) each run: a forged answer must guess both. */
	if (getrandom(&d->id, sizeof(d->id), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(d->id))
		d->id = (uint16_t)(clock_mono_us() ^ (int64_t)getpid());
	e = dnsmsg_encode_query(d->id, d->cfg->dns.query, d->cfg->dns.record,
	    d->query, sizeof(d->query), &d->qlen);
	if (e != DNSMSG_OK) {
		probe_abort(p, PROBE_FAIL_INTERNAL, "cannot ask for %s: %s",
		    d->cfg->dns.query, dnsmsg_strerror(e));
		return 0;
	}
	d->fd = socket(d->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, (struct sockaddr *)&d->addr,
	    d->addrlen) != 0) {
		probe_abort(p, PROBE_FAIL_CONNECT, "cannot open a socket to "
		    "%s: %s", d->server, strerror(errno));
		return 0;
	}
	d->io = event_new(d->base, d->fd, EV_READ | EV_PERSIST, dns_on_read,
	    d);
	if (d->io == NULL || event_add(d->io, NULL) != 0 ||
	    evtimer_add(d->timer, &tv) != 0) {
		probe_abort(p, PROBE_FAIL_INTERNAL, "out of memory");
		return 0;
	}
	d->sent_us = clock_mono_us();
	dns_send(d);
	return 0;
}

static void
dns_rebind(void *impl, const struct probe_cfg *cfg)
{
	struct dns_probe *d = impl;

	d->cfg = cfg;
	/* A reload is when a changed resolv.conf is taken up. */
	if (cfg->dns.server == NULL && !d->running)
		system_server(d);
}

static void
dns_cancel(void *impl)
{
	struct dns_probe *d = impl;

	evtimer_del(d->timer);
	dns_close(d);
	d->running = false;
}

static void
dns_destroy(void *impl)
{
	struct dns_probe *d = impl;

	if (d == NULL)
		return;
	dns_close(d);
	if (d->timer != NULL)
		event_free(d->timer);
	free(d);
}

const struct probe_ops probe_dns_ops = {
	.create = dns_create,
	.start = dns_start,
	.rebind = dns_rebind,
	.cancel = dns_cancel,
	.destroy = dns_destroy,
	.end = dns_end,
};
