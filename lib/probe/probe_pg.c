#include "probe/probe_pg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libpq-fe.h>

#include "base/clock.h"
#include "base/file.h"
#include "config/config.h"
#include "probe/pg_conn.h"
#include "probe/pg_stats.h"
#include "probe/probe_pg_int.h"

#define PG_MAX_ADDRS	4
#define PG_MAX_PARAMS	64
static void pg_connect_begin(struct pg_probe *pg);
static void pg_on_io(evutil_socket_t fd, short what, void *arg);

/* Notices would go to stderr unformatted; vigild's log is key=value. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* ---- ending a run ------------------------------------------------------ */

/* The run is over (probe_end): its texts lose the password. */
static void
pg_end(void *impl, struct probe_result *r)
{
	struct pg_probe *pg = impl;

	evtimer_del(pg->timer);
	probe_scrub_secret(pg->secret, r->reason);
	probe_scrub_secret(pg->secret, r->notes);
	pg->running = false;
}

/* ---- the connection ---------------------------------------------------- */

static void
pg_unwatch(struct pg_probe *pg)
{
	if (pg->io != NULL) {
		event_free(pg->io);
		pg->io = NULL;
	}
}

/* Closes the connection (and any lookup); the next run connects anew. */
static void
pg_drop(struct pg_probe *pg)
{
	/* The event goes first: libpq is about to close its socket. */
	pg_unwatch(pg);
	if (pg->lookup != NULL) {
		pg->lookup->pg = NULL;
		if (pg->lookup_req != NULL)
			evdns_getaddrinfo_cancel(pg->lookup_req);
		pg->lookup = NULL;
		pg->lookup_req = NULL;
	}
	if (pg->conn != NULL) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
	if (pg->ext_schema != NULL) {
		PQfreemem(pg->ext_schema);
		pg->ext_schema = NULL;
	}
	pg->ext = EXT_UNKNOWN;
	pg->plan_known = pg->plan_tried = false;
	pg->cstate = PGC_NONE;
	pg->flushing = false;
}

/*
 * Waits for the socket. The event is made again whenever the descriptor
 * or the interest changes: PQconnectPoll may close a socket and open
 * another, possibly under the same number.
 */
int
pg_watch(struct pg_probe *pg, short what)
{
	evutil_socket_t fd = PQsocket(pg->conn);

	if (fd < 0)
		return -1;
	if (pg->io != NULL) {
		event_del(pg->io);
		if (pg->io_fd != fd || pg->io_what != what)
			pg_unwatch(pg);
	}
	if (pg->io == NULL) {
		pg->io = event_new(pg->base, fd, what, pg_on_io, pg);
		if (pg->io == NULL)
			return -1;
		pg->io_fd = fd;
		pg->io_what = what;
	}
	return event_add(pg->io, NULL);
}

/* A connection attempt failed: back off, remember why, end the run. */
static void __attribute__((format(printf, 3, 4)))
pg_connect_failed(struct pg_probe *pg, enum probe_fail kind, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pg->last_error, sizeof(pg->last_error), fmt, ap);
	va_end(ap);
	probe_scrub_secret(pg->secret, pg->last_error);
	pg_drop(pg);
	/* The backoff counts from conn_start_us, this attempt's start. */
	pg->connect_failures++;
	pg->last_fail = kind;
	probe_abort(pg->probe, kind, "%s", pg->last_error);
}

/*
 * Text libpq and the server said (len bytes of it), quoted as a
 * stranger's (probe_quote); "" if nothing. The secret is scrubbed before
 * quoting: an escaped quote inside it would hide it from the scrub.
 */
static void
pg_quote_said(struct pg_probe *pg, const char *text, size_t len, char *out,
    size_t outlen)
{
	char raw[512];

	snprintf(raw, sizeof(raw), "%.*s", (int)(len < sizeof(raw) ? len :
	    sizeof(raw) - 1), text);
	probe_scrub_secret(pg->secret, raw);
	if (raw[strspn(raw, " \t\r\n")] == '\0')
		out[0] = '\0';
	else
		probe_quote(raw, out, outlen);
}

/* What libpq and the server said of the connection, quoted; "" if nothing. */
static void
pg_said(struct pg_probe *pg, char *out, size_t len)
{
	const char *msg = pg->conn != NULL ? PQerrorMessage(pg->conn) : "";

	pg_quote_said(pg, msg, strlen(msg), out, len);
}

/* libpq refused or lost the connection while connecting. */
static void
pg_connect_failed_conn(struct pg_probe *pg)
{
	const char *msg = PQerrorMessage(pg->conn);
	char quoted[220];
	size_t at, len;
	enum probe_fail kind;

	if (PQconnectionNeedsPassword(pg->conn)) {
		pg_connect_failed(pg, PROBE_FAIL_AUTH, "the server asks for a "
		    "password and none is set (conninfo, password_file, "
		    "PGPASSWORD or a .pgpass file)");
		return;
	}
	/*
	 * The whole message, not a cut of it: with several addresses the
	 * refusal may come after another attempt's text, and is the line
	 * worth quoting.
	 */
	kind = pg_conn_fail_kind(msg, &at, &len);
	pg_quote_said(pg, msg + at, len, quoted, sizeof(quoted));
	if (quoted[0] == '\0') {
		pg_connect_failed(pg, kind, "connection failed");
		return;
	}
	pg_connect_failed(pg, kind, "connection failed: %s", quoted);
}

/* The password, by the rules of every secret file (file_read_secret). */
static int
read_password(const char *path, char **out, char *err, size_t errlen)
{
	char why[128];
	int rc = file_read_secret(path, FILE_SECRET_MAX, out, why,
	    sizeof(why));

	if (rc == FILE_OK)
		return 0;
	if (rc == FILE_ERR_EMPTY)
		snprintf(err, errlen, "password_file %s is empty", path);
	else if (rc == FILE_ERR_LINES || rc == FILE_ERR_TOO_BIG)
		snprintf(err, errlen, "password_file %s must hold one line "
		    "(at most 4 KiB): %s", path, why);
	else
		snprintf(err, errlen, "cannot read password_file %s: %s",
		    path, why);
	return -1;
}

struct pg_params {
	const char *kw[PG_MAX_PARAMS + 1];
	const char *val[PG_MAX_PARAMS + 1];
	size_t n;
	char options[1024];
	char hosts[PG_MAX_ADDRS * 257];
	char *password;		/* from password_file: file_secret_free */
};

static void
param(struct pg_params *pp, const char *kw, const char *val)
{
	if (pp->n < PG_MAX_PARAMS) {
		pp->kw[pp->n] = kw;
		pp->val[pp->n++] = val;
	}
}

/*
 * The connection parameters: the configured ones, the resolved address,
 * the password from its file, and what vigild needs of its session: a
 * statement timeout and read-only transactions (it never writes), given
 * through "options" because they are not conninfo keywords.
 */
static int
pg_params_build(struct pg_probe *pg, struct pg_params *pp, const char *addrs,
    int naddrs, char *err, size_t errlen)
{
	const struct pg_cfg *g = &pg->cfg->pg;
	bool own_host = addrs != NULL || pg->numeric;
	const char *user_opts = pg_conninfo_value(pg->opts, "options");

	pp->n = 0;
	pp->password = NULL;
	for (const PQconninfoOption *o = pg->opts; o != NULL &&
	    o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "options") == 0 ||
		    strcmp(o->keyword, "fallback_application_name") == 0 ||
		    (own_host && (strcmp(o->keyword, "host") == 0 ||
		    strcmp(o->keyword, "hostaddr") == 0)) ||
		    (g->password_file != NULL &&
		    strcmp(o->keyword, "password") == 0))
			continue;
		param(pp, o->keyword, o->val);
	}
	if (addrs != NULL) {
		size_t n = 0;

		/* One host name per address, so TLS checks the name. */
		pp->hosts[0] = '\0';
		for (int i = 0; i < naddrs; i++) {
			int w = snprintf(pp->hosts + n, sizeof(pp->hosts) - n,
			    "%s%s", i > 0 ? "," : "", pg->host);

			if (w < 0 || (size_t)w >= sizeof(pp->hosts) - n)
				break;
			n += (size_t)w;
		}
		param(pp, "host", pp->hosts);
		param(pp, "hostaddr", addrs);
	} else if (pg->numeric) {
		param(pp, "host", pg->host);
		param(pp, "hostaddr", pg->host);
	}
	snprintf(pp->options, sizeof(pp->options), "%s%s-c statement_timeout="
	    "%lld -c lock_timeout=%lld -c default_transaction_read_only=on",
	    user_opts != NULL ? user_opts : "", user_opts != NULL ? " " : "",
	    (long long)g->statement_timeout_ms,
	    (long long)pg_lock_timeout_ms(g->statement_timeout_ms));
	param(pp, "options", pp->options);
	param(pp, "fallback_application_name", "vigild");
	if (g->password_file != NULL) {
		if (read_password(g->password_file, &pp->password, err,
		    errlen) != 0)
			return -1;
		free(pg->secret);
		pg->secret = strdup(pp->password);
		param(pp, "password", pp->password);
	}
	pp->kw[pp->n] = NULL;
	pp->val[pp->n] = NULL;
	return 0;
}

static void
pg_connect_start(struct pg_probe *pg, const char *addrs, int naddrs)
{
	struct pg_params pp;
	char err[200];

	if (pg_params_build(pg, &pp, addrs, naddrs, err, sizeof(err)) != 0) {
		file_secret_free(pp.password);
		pg_connect_failed(pg, PROBE_FAIL_AUTH, "%s", err);
		return;
	}
	pg->conn = PQconnectStartParams(pp.kw, pp.val, 0);
	file_secret_free(pp.password);
	if (pg->conn == NULL) {
		probe_abort(pg->probe, PROBE_FAIL_INTERNAL, "out of memory "
		    "starting a connection");
		return;
	}
	PQsetNoticeProcessor(pg->conn, pg_notice, NULL);
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		pg_connect_failed_conn(pg);
		return;
	}
	pg->cstate = PGC_CONNECTING;
	/* libpq's first move is a write (the start-up packet). */
	if (pg_watch(pg, EV_WRITE) != 0)
		pg_connect_failed_conn(pg);
}

static void
pg_on_resolved(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct pg_lookup *lk = arg;
	struct pg_probe *pg = lk->pg;
	char addrs[PG_MAX_ADDRS * 48];
	size_t n = 0;
	int naddrs = 0;

	free(lk);
	if (pg == NULL) {
		/* Cancelled: the probe has moved on or is gone. */
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	pg->lookup = NULL;
	pg->lookup_req = NULL;
	addrs[0] = '\0';
	for (struct evutil_addrinfo *a = ai; err == 0 && a != NULL &&
	    naddrs < PG_MAX_ADDRS; a = a->ai_next) {
		char ip[INET6_ADDRSTRLEN];
		const void *src;

		if (a->ai_family == AF_INET)
			src = &((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr;
		else if (a->ai_family == AF_INET6)
			src = &((struct sockaddr_in6 *)(void *)
			    a->ai_addr)->sin6_addr;
		else
			continue;
		if (evutil_inet_ntop(a->ai_family, src, ip, sizeof(ip)) ==
		    NULL)
			continue;
		n += (size_t)snprintf(addrs + n, sizeof(addrs) - n, "%s%s",
		    naddrs > 0 ? "," : "", ip);
		naddrs++;
	}
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	if (err != 0 || naddrs == 0) {
		pg_connect_failed(pg, PROBE_FAIL_CONNECT, "cannot resolve "
		    "\"%s\": %s", pg->host, err != 0 ?
		    evutil_gai_strerror(err) : "no address");
		return;
	}
	pg_connect_start(pg, addrs, naddrs);
}

/* libpq would block in getaddrinfo: names go through evdns first. */
static void
pg_resolve(struct pg_probe *pg)
{
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;
	struct pg_lookup *lk;

	if (pg->dns == NULL) {
		probe_abort(pg->probe, PROBE_FAIL_INTERNAL, "no DNS resolver "
		    "to look up \"%s\"", pg->host);
		return;
	}
	lk = calloc(1, sizeof(*lk));
	if (lk == NULL) {
		probe_abort(pg->probe, PROBE_FAIL_INTERNAL, "out of memory");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	lk->pg = pg;
	pg->lookup = lk;
	pg->cstate = PGC_RESOLVING;
	/* The callback may run before this returns (a hosts-file name). */
	req = evdns_getaddrinfo(pg->dns, pg->host, NULL, &hints,
	    pg_on_resolved, lk);
	if (pg->lookup == lk)
		pg->lookup_req = req;
}

static void
pg_connect_begin(struct pg_probe *pg)
{
	pg->conn_start_us = clock_mono_us();
	if (pg->resolve)
		pg_resolve(pg);
	else
		pg_connect_start(pg, NULL, 0);
}

/*
 * The connection broke under a query. A connection kept from an earlier
 * run that dies on its first query was most likely closed while idle
 * (server restart, idle timeout, pg_terminate_backend): that is worth one
 * new connection in the same run before calling the database down.
 */
void
pg_broken(struct pg_probe *pg)
{
	char msg[220];
	bool retry = !pg->conn_new && !pg->retried && pg->step == ST_CANARY;
	enum pg_step st = pg->step;

	pg_said(pg, msg, sizeof(msg));
	pg_drop(pg);
	if (retry) {
		pg->retried = true;
		pg_connect_begin(pg);
		return;
	}
	probe_abort(pg->probe, PROBE_FAIL_CONNECT, "connection lost during "
	    "%s: %s", pg_step_what[st], msg[0] != '\0' ? msg : "no detail");
}

static void
pg_connected(struct pg_probe *pg)
{
	pg->cstate = PGC_READY;
	pg->conn_new = true;
	pg->connect_failures = 0;
	pg->last_error[0] = '\0';
	pg->ext = EXT_UNKNOWN;
	pg_add(pg, "connect_ms", (double)(clock_mono_us() - pg->conn_start_us) /
	    1000.0);
	/* Never block in a send: PQflush reports what is left instead. */
	if (PQsetnonblocking(pg->conn, 1) != 0) {
		pg_broken(pg);
		return;
	}
	pg->step = ST_CANARY;
	pg_step_send(pg);
}

static void
pg_connect_poll(struct pg_probe *pg)
{
	int rc = 0;

	switch (PQconnectPoll(pg->conn)) {
	case PGRES_POLLING_READING:
		rc = pg_watch(pg, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		rc = pg_watch(pg, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		pg_connected(pg);
		return;
	default:
		pg_connect_failed_conn(pg);
		return;
	}
	if (rc != 0)
		pg_connect_failed_conn(pg);
}

static void
pg_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct pg_probe *pg = arg;

	(void)fd;
	if (!pg->running || probe_ending(pg->probe))
		return;
	if (pg->cstate == PGC_CONNECTING)
		pg_connect_poll(pg);
	else if (pg->cstate == PGC_READY)
		pg_query_io(pg, what);
}

static void
pg_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pg_probe *pg = arg;
	long long ms = (long long)pg->cfg->timeout_ms;

	(void)fd;
	(void)what;
	if (!pg->running || probe_ending(pg->probe))
		return;
	switch (pg->cstate) {
	case PGC_RESOLVING:
		pg_connect_failed(pg, PROBE_FAIL_TIMEOUT, "timed out after %lld "
		    "ms resolving \"%s\"", ms, pg->host);
		return;
	case PGC_CONNECTING:
		pg_connect_failed(pg, PROBE_FAIL_TIMEOUT, "timed out after %lld "
		    "ms connecting to %s (no answer from the server)", ms,
		    pg->cfg->target != NULL ? pg->cfg->target : "the server");
		return;
	case PGC_NONE:
	case PGC_READY:
		break;
	}
	/* The answer would arrive in the middle of the next run: hang up. */
	pg_drop(pg);
	if (pg->step == ST_CUSTOM)
		probe_abort(pg->probe, PROBE_FAIL_TIMEOUT, "timed out after "
		    "%lld ms waiting for custom query %s", ms,
		    pg->cfg->pg.custom[pg->custom_i].name);
	else
		probe_abort(pg->probe, PROBE_FAIL_TIMEOUT, "timed out after "
		    "%lld ms waiting for %s", ms, pg_step_what[pg->step]);
}

/* ---- the probe operations ---------------------------------------------- */

static void
pg_destroy(void *impl)
{
	struct pg_probe *pg = impl;

	if (pg == NULL)
		return;
	pg_drop(pg);
	if (pg->timer != NULL)
		event_free(pg->timer);
	PQconninfoFree(pg->opts);
	if (pg->secret != NULL) {
		explicit_bzero(pg->secret, strlen(pg->secret));
		free(pg->secret);
	}
	pg_stmt_snap_clear(&pg->stmt_prev);
	pg_stmt_snap_clear(&pg->stmt_cur);
	free(pg->scans);
	free(pg);
}

static bool
is_numeric_host(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, h, buf) == 1 ||
	    inet_pton(AF_INET6, h, buf) == 1;
}

static void *
pg_create(const struct probe_cfg *cfg, const struct probe_env *env)
{
	struct pg_probe *pg = calloc(1, sizeof(*pg));
	PQconninfoOption *defs;
	const char *host, *addr, *pw;
	char *err = NULL;

	if (pg == NULL)
		return NULL;
	pg->cfg = cfg;
	pg->base = env->base;
	pg->dns = env->dns;
	if (cfg->pg.conninfo != NULL) {
		pg->opts = PQconninfoParse(cfg->pg.conninfo, &err);
		if (pg->opts == NULL) {
			PQfreemem(err);
			free(pg);
			return NULL;
		}
	}
	/*
	 * Where libpq would go: the conninfo's host, else PGHOST. Knowing it
	 * here is what lets a name be resolved without blocking.
	 */
	defs = PQconndefaults();
	host = pg_conninfo_value(pg->opts, "host");
	addr = pg_conninfo_value(pg->opts, "hostaddr");
	if (host == NULL)
		host = pg_conninfo_value(defs, "host");
	if (addr == NULL)
		addr = pg_conninfo_value(defs, "hostaddr");
	snprintf(pg->host, sizeof(pg->host), "%s", host != NULL ? host : "");
	if (addr == NULL && host != NULL && host[0] != '/' && host[0] != '@') {
		pg->numeric = is_numeric_host(host);
		pg->resolve = !pg->numeric;
	}
	PQconninfoFree(defs);
	pw = pg_conninfo_value(pg->opts, "password");
	if (pw != NULL)
		pg->secret = strdup(pw);
	pg->timer = evtimer_new(env->base, pg_on_timeout, pg);
	if (pg->timer == NULL ||
	    (pw != NULL && pg->secret == NULL)) {
		pg_destroy(pg);
		return NULL;
	}
	return pg;
}

static int
pg_start(void *impl, struct probe *p, struct probe_result *r)
{
	struct pg_probe *pg = impl;
	struct timeval tv;
	int64_t now = clock_mono_us(), wait;

	pg->probe = p;
	pg->r = r;
	pg->running = true;
	pg->retried = false;
	pg->conn_new = false;
	pg->noted_first = false;
	pg->canary_ok = false;
	pg->canary_blocked = false;
	tv.tv_sec = (time_t)(pg->cfg->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(pg->cfg->timeout_ms % 1000) * 1000;
	if (evtimer_add(pg->timer, &tv) != 0) {
		pg->running = false;
		return -1;
	}
	if (pg->conn != NULL && pg->cstate == PGC_READY) {
		pg->step = ST_CANARY;
		pg_step_send(pg);
	} else if ((wait = pg_retry_wait_us(pg->connect_failures,
	    pg->conn_start_us, now, 1000 * (pg->cfg->retry_interval_ms > 0 ?
	    pg->cfg->retry_interval_ms : pg->cfg->interval_ms),
	    pg->cfg->pg.reconnect_max_ms)) > 0) {
		/* Backing off: say why, without knocking on the door again. */
		probe_abort(pg->probe, pg->last_fail, "%s (next connection "
		    "attempt in %.1f s)", pg->last_error, (double)wait / 1e6);
	} else {
		pg_connect_begin(pg);
	}
	return 0;
}

static void
pg_rebind(void *impl, const struct probe_cfg *cfg)
{
	struct pg_probe *pg = impl;

	pg->cfg = cfg;
	/* The canary may have changed: its plan is asked again. */
	pg->plan_known = pg->plan_tried = false;
}

static void
pg_cancel(void *impl)
{
	struct pg_probe *pg = impl;

	evtimer_del(pg->timer);
	/* Mid-connect or mid-query the connection's state is unknown. */
	if (!probe_ending(pg->probe) || pg->cstate != PGC_READY)
		pg_drop(pg);
	pg->running = false;
}

const struct probe_ops probe_pg_ops = {
	.create = pg_create,
	.start = pg_start,
	.rebind = pg_rebind,
	.cancel = pg_cancel,
	.destroy = pg_destroy,
	.end = pg_end,
};
