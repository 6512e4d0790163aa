#include "probe/probe_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/clock.h"
#include "config/config.h"
#include "probe/net_check.h"

enum net_phase { NET_IDLE, NET_CONNECTING, NET_HANDSHAKE, NET_TALK };

struct net_probe {
	const struct probe_cfg *cfg;
	struct event_base *base;
	struct evdns_base *dns;
	struct probe *probe;
	struct probe_result *r;
	struct bufferevent *bev;	/* the socket, or the TLS filter on it */
	SSL_CTX *ctx;			/* per run: a changed ca_file is read */
	struct event *timer;
	enum net_phase phase;
	int64_t start_us, phase_us;
};

/* Everything a run held; the next run starts afresh. */
static void
net_teardown(struct net_probe *n)
{
	evtimer_del(n->timer);
	if (n->bev != NULL) {
		/* CLOSE_ON_FREE: the filter frees its SSL and the socket's bev. */
		bufferevent_free(n->bev);
		n->bev = NULL;
	}
	SSL_CTX_free(n->ctx);
	n->ctx = NULL;
	n->phase = NET_IDLE;
}

static void
net_end(void *impl, struct probe_result *r)
{
	(void)r;
	net_teardown(impl);
}

static double
ms_since(int64_t us)
{
	return (double)(clock_mono_us() - us) / 1000.0;
}

static const char *
net_sni(const struct net_probe *n)
{
	return n->cfg->net.sni != NULL ? n->cfg->net.sni : n->cfg->net.host;
}

/* A name as "CN=x,O=y" (RFC 2253), "?" if it cannot be printed. */
static void
name_text(X509_NAME *name, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int got = 0;

	if (b != NULL && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
		got = BIO_read(b, out, (int)len - 1);
	out[got > 0 ? got : 0] = '\0';
	if (got <= 0)
		snprintf(out, len, "?");
	BIO_free(b);
}

static void
net_fail_ssl(struct net_probe *n, const char *what)
{
	unsigned long e = bufferevent_get_openssl_error(n->bev);
	long vr = X509_V_OK;
	SSL *ssl = bufferevent_openssl_get_ssl(n->bev);
	char buf[160];

	if (ssl != NULL)
		vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK && !n->cfg->net.insecure &&
	    n->cfg->type == PROBE_TCP) {
		probe_abort(n->probe, PROBE_FAIL_CONNECT, "%s: certificate "
		    "not trusted: %s", what, X509_verify_cert_error_string(vr));
		return;
	}
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "connection closed by the peer");
	probe_abort(n->probe, PROBE_FAIL_CONNECT, "%s: %s", what, buf);
}

/* The reply so far, looked at; ends the run when it settles it. */
static void
net_check_reply(struct net_probe *n, bool eof)
{
	const struct net_cfg *c = &n->cfg->net;
	struct evbuffer *in = bufferevent_get_input(n->bev);
	size_t len = evbuffer_get_length(in);
	const char *s = (const char *)evbuffer_pullup(in, -1);
	char q[160];

	if (c->expect == NULL)
		return;
	if (net_reply_has(s, len, c->expect)) {
		probe_end(n->probe);
		return;
	}
	if (eof || len >= (size_t)c->max_reply) {
		net_reply_quote(s, len, q, sizeof(q));
		probe_abort(n->probe, PROBE_FAIL_BODY, "reply without \"%s\" "
		    "(%s, %zu bytes): %s", c->expect, eof ? "closed" :
		    "max_reply read", len, q);
	}
}

static void
net_on_read(struct bufferevent *bev, void *arg)
{
	struct net_probe *n = arg;

	(void)bev;
	if (!probe_ending(n->probe) && n->phase == NET_TALK)
		net_check_reply(n, false);
}

/* The line is out; without an expect, that was the run. */
static void
net_on_write(struct bufferevent *bev, void *arg)
{
	struct net_probe *n = arg;

	(void)bev;
	/* Only the line's bytes count, not the handshake's. */
	if (!probe_ending(n->probe) && n->phase == NET_TALK &&
	    n->cfg->net.expect == NULL)
		probe_end(n->probe);
}

static void
net_talk(struct net_probe *n)
{
	const struct net_cfg *c = &n->cfg->net;

	n->phase = NET_TALK;
	if (c->send == NULL && c->expect == NULL) {
		probe_end(n->probe);
		return;
	}
	bufferevent_setwatermark(n->bev, EV_READ, 0, (size_t)c->max_reply);
	if (bufferevent_enable(n->bev, EV_READ | EV_WRITE) != 0) {
		probe_abort(n->probe, PROBE_FAIL_INTERNAL, "cannot read the "
		    "socket");
		return;
	}
	if (c->send != NULL &&
	    (bufferevent_write(n->bev, c->send, strlen(c->send)) != 0 ||
	    bufferevent_write(n->bev, "\r\n", 2) != 0))
		probe_abort(n->probe, PROBE_FAIL_INTERNAL, "out of memory");
}

/* A tls probe's findings: the leaf, its days, whether it is trusted. */
static void
net_report_cert(struct net_probe *n)
{
	SSL *ssl = bufferevent_openssl_get_ssl(n->bev);
	X509 *leaf = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;
	long vr;
	double days;
	char subj[256], iss[256], exp[32], qs[300], qi[300];

	if (leaf == NULL) {
		probe_abort(n->probe, PROBE_FAIL_CONNECT, "the server sent "
		    "no certificate");
		return;
	}
	vr = SSL_get_verify_result(ssl);
	probe_result_add(n->r, "chain_ok", vr == X509_V_OK ? 1 : 0);
	if (net_cert_days(X509_get0_notAfter(leaf), time(NULL), &days) == 0)
		probe_result_add(n->r, "cert_expiry_days", days);
	name_text(X509_get_subject_name(leaf), subj, sizeof(subj));
	name_text(X509_get_issuer_name(leaf), iss, sizeof(iss));
	net_time_iso(X509_get0_notAfter(leaf), exp, sizeof(exp));
	probe_quote(subj, qs, sizeof(qs));
	probe_quote(iss, qi, sizeof(qi));
	probe_result_notef(n->r, "subject %s, issuer %s, expires %s", qs, qi,
	    exp);
	/* Not a failed run: the rules on chain_ok decide. */
	if (vr != X509_V_OK)
		probe_result_notef(n->r, "chain not trusted: %s",
		    X509_verify_cert_error_string(vr));
	X509_free(leaf);
	probe_end(n->probe);
}

static void net_on_event(struct bufferevent *bev, short what, void *arg);

static SSL_CTX *
net_ctx(struct net_probe *n, char *err, size_t errlen)
{
	const struct net_cfg *c = &n->cfg->net;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok;

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	ok = c->ca_file != NULL ?
	    SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL) :
	    SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		snprintf(err, errlen, "cannot read ca_file %s", c->ca_file !=
		    NULL ? c->ca_file : "(system store)");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * A tls probe measures trust instead of refusing the peer (chain_ok);
	 * a tcp probe over TLS refuses an untrusted one unless insecure.
	 */
	SSL_CTX_set_verify(ctx, n->cfg->type == PROBE_TCP && !c->insecure ?
	    SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	return ctx;
}

static bool
net_numeric(const char *host)
{
	unsigned char ip[16];

	return inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
}

/*
 * The name sent (SNI) and checked against the certificate. An address is
 * checked against the certificate's IP entries and never sent: SNI holds
 * host names only (RFC 6066).
 */
static int
net_set_name(struct net_probe *n, SSL *ssl)
{
	const char *name = net_sni(n);

	if (net_numeric(name))
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1)
		return -1;
	return 0;
}

static void
net_start_tls(struct net_probe *n)
{
	SSL *ssl;
	struct bufferevent *f;
	char err[200];

	n->ctx = net_ctx(n, err, sizeof(err));
	if (n->ctx == NULL) {
		probe_abort(n->probe, PROBE_FAIL_INTERNAL, "%s", err);
		return;
	}
	ssl = SSL_new(n->ctx);
	if (ssl == NULL || net_set_name(n, ssl) != 0) {
		SSL_free(ssl);
		probe_abort(n->probe, PROBE_FAIL_INTERNAL, "cannot set up TLS");
		return;
	}
	f = bufferevent_openssl_filter_new(n->base, n->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (f == NULL) {
		SSL_free(ssl);
		probe_abort(n->probe, PROBE_FAIL_INTERNAL, "cannot set up TLS");
		return;
	}
	n->bev = f;
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	bufferevent_setcb(f, net_on_read, net_on_write, net_on_event, n);
	n->phase = NET_HANDSHAKE;
	n->phase_us = clock_mono_us();
	bufferevent_enable(f, EV_READ | EV_WRITE);
}

static void
net_on_connected(struct net_probe *n)
{
	if (n->phase == NET_CONNECTING) {
		probe_result_add(n->r, "connect_ms", ms_since(n->start_us));
		if (n->cfg->net.tls)
			net_start_tls(n);
		else
			net_talk(n);
		return;
	}
	if (n->phase == NET_HANDSHAKE) {
		probe_result_add(n->r, "tls_ms", ms_since(n->phase_us));
		if (n->cfg->type == PROBE_TLS) {
			net_report_cert(n);
			return;
		}
		/* Every run says so: nobody should forget it is off. */
		if (n->cfg->net.insecure)
			probe_result_notef(n->r, "TLS peer not verified "
			    "(\"insecure\": true)");
		net_talk(n);
	}
}

static void
net_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct net_probe *n = arg;
	const struct net_cfg *c = &n->cfg->net;
	int dnserr;

	(void)bev;
	if (probe_ending(n->probe))
		return;
	if (what & BEV_EVENT_CONNECTED) {
		net_on_connected(n);
		return;
	}
	if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		return;
	switch (n->phase) {
	case NET_CONNECTING:
		dnserr = bufferevent_socket_get_dns_error(n->bev);
		if (dnserr != 0)
			probe_abort(n->probe, PROBE_FAIL_CONNECT, "cannot "
			    "resolve \"%s\": %s", c->host,
			    evutil_gai_strerror(dnserr));
		else
			probe_abort(n->probe, PROBE_FAIL_CONNECT, "connect to "
			    "%s:%d: %s", c->host, c->port,
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		break;
	case NET_HANDSHAKE:
		net_fail_ssl(n, "TLS handshake failed");
		break;
	case NET_TALK:
		if (c->expect != NULL)
			net_check_reply(n, true);
		else
			probe_abort(n->probe, PROBE_FAIL_CONNECT, "connection "
			    "closed before the line was sent");
		break;
	case NET_IDLE:
		break;
	}
}

static void
net_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct net_probe *n = arg;
	const struct net_cfg *c = &n->cfg->net;
	long long ms = (long long)n->cfg->timeout_ms;
	char q[160];

	(void)fd;
	(void)what;
	if (probe_ending(n->probe))
		return;
	if (n->phase == NET_CONNECTING) {
		probe_abort(n->probe, PROBE_FAIL_TIMEOUT, "no connection to "
		    "%s:%d within %lld ms", c->host, c->port, ms);
	} else if (n->phase == NET_HANDSHAKE) {
		probe_abort(n->probe, PROBE_FAIL_TIMEOUT, "TLS handshake "
		    "not done within %lld ms", ms);
	} else {
		struct evbuffer *in = bufferevent_get_input(n->bev);
		size_t len = evbuffer_get_length(in);

		net_reply_quote((const char *)evbuffer_pullup(in, -1), len, q,
		    sizeof(q));
		if (c->expect == NULL)
			probe_abort(n->probe, PROBE_FAIL_TIMEOUT, "line not "
			    "sent within %lld ms", ms);
		else
			probe_abort(n->probe, PROBE_FAIL_TIMEOUT, "no reply "
			    "with \"%s\" within %lld ms; got %s", c->expect,
			    ms, q);
	}
}

static int
net_start(void *impl, struct probe *p, struct probe_result *r)
{
	struct net_probe *n = impl;
	const struct net_cfg *c = &n->cfg->net;
	struct timeval tv = {
		.tv_sec = n->cfg->timeout_ms / 1000,
		.tv_usec = (n->cfg->timeout_ms % 1000) * 1000,
	};

	n->probe = p;
	n->r = r;
	n->start_us = clock_mono_us();
	if (n->dns == NULL && !net_numeric(c->host)) {
		/* Without evdns libevent would call the blocking getaddrinfo. */
		probe_abort(p, PROBE_FAIL_INTERNAL, "no DNS resolver to look "
		    "up \"%s\"", c->host);
		return 0;
	}
	n->phase = NET_CONNECTING;
	evtimer_add(n->timer, &tv);
	n->bev = bufferevent_socket_new(n->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (n->bev == NULL) {
		probe_abort(p, PROBE_FAIL_INTERNAL, "out of memory");
		return 0;
	}
	bufferevent_setcb(n->bev, net_on_read, net_on_write, net_on_event, n);
	/* Names go through evdns: getaddrinfo would block the loop. */
	if (bufferevent_socket_connect_hostname(n->bev, n->dns, AF_UNSPEC,
	    c->host, c->port) != 0 && !probe_ending(p)) {
		int dnserr = bufferevent_socket_get_dns_error(n->bev);

		probe_abort(p, PROBE_FAIL_CONNECT, "cannot connect to %s:%d%s%s",
		    c->host, c->port, dnserr != 0 ? ": " : "", dnserr != 0 ?
		    evutil_gai_strerror(dnserr) : "");
	}
	return 0;
}

static void *
net_create(const struct probe_cfg *cfg, const struct probe_env *env)
{
	struct net_probe *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->cfg = cfg;
	n->base = env->base;
	n->dns = env->dns;
	n->timer = evtimer_new(env->base, net_on_timeout, n);
	if (n->timer == NULL) {
		free(n);
		return NULL;
	}
	return n;
}

static void
net_rebind(void *impl, const struct probe_cfg *cfg)
{
	struct net_probe *n = impl;

	n->cfg = cfg;
}

static void
net_cancel(void *impl)
{
	net_teardown(impl);
}

static void
net_destroy(void *impl)
{
	struct net_probe *n = impl;

	if (n == NULL)
		return;
	net_teardown(n);
	event_free(n->timer);
	free(n);
}

const struct probe_ops probe_tcp_ops = {
	.create = net_create,
	.start = net_start,
	.rebind = net_rebind,
	.cancel = net_cancel,
	.destroy = net_destroy,
	.end = net_end,
};

const struct probe_ops probe_tls_ops = {
	.create = net_create,
	.start = net_start,
	.rebind = net_rebind,
	.cancel = net_cancel,
	.destroy = net_destroy,
	.end = net_end,
};
