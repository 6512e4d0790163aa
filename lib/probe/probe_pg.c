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
#include "probe/pg_stats.h"

#define PG_MAX_ADDRS	4
#define PG_MAX_PARAMS	64
#define PG_STMT_ROWS	20000	/* statements read per run, at most */
#define PG_QUERY_TEXT	120	/* bytes of a slow statement's text shown */

/* Where the connection is; only PGC_READY can run a query. */
enum pg_cstate {
	PGC_NONE,
	PGC_RESOLVING,
	PGC_CONNECTING,
	PGC_READY,
};

/* The queries of a run, in order; each is one statement in autocommit. */
enum pg_step {
	ST_CANARY,
	ST_ACTIVITY,
	ST_DATABASE,
	ST_EXTENSION,
	ST_STATEMENTS,
	ST_STMT_TEXT,
	ST_INDEXES,
	ST_REPLICATION,
	ST_CUSTOM,
	ST_DONE,
};

/* What a step reads, for reasons and notes. */
static const char *const step_what[] = {
	[ST_CANARY] = "the canary query",
	[ST_ACTIVITY] = "pg_stat_activity",
	[ST_DATABASE] = "pg_stat_database",
	[ST_EXTENSION] = "pg_extension",
	[ST_STATEMENTS] = "pg_stat_statements",
	[ST_STMT_TEXT] = "pg_stat_statements (query text)",
	[ST_INDEXES] = "pg_index (required_indexes)",
	[ST_REPLICATION] = "pg_stat_replication",
	[ST_CUSTOM] = "a custom query",
	[ST_DONE] = "the end of the run",
};

enum pg_ext {
	EXT_UNKNOWN,	/* not asked on this connection yet */
	EXT_MISSING,
	EXT_PRESENT,
};

/*
 * A DNS lookup in flight. evdns calls back even after a cancel (later,
 * from the loop), so the probe detaches itself (pg = NULL) instead of
 * freeing: the callback frees the ticket whoever is left.
 */
struct pg_lookup {
	struct pg_probe *pg;
};

struct pg_probe {
	const struct probe_cfg *cfg;
	struct event_base *base;
	struct evdns_base *dns;
	PQconninfoOption *opts;	/* the parsed conninfo, NULL: environment */
	char host[256];		/* the effective host; "" for libpq's default */
	bool resolve;		/* host is a name: evdns, then hostaddr */
	bool numeric;		/* host is an address: hostaddr = host */
	char *secret;		/* the password in use, scrubbed from text */

	/* The run in flight. */
	struct probe *probe;
	struct probe_result *r;
	bool running, finishing;
	int64_t run_start_us;
	struct event *timer;	/* the run's timeout */
	struct event *defer;	/* ends a run from the loop, never inline */

	/* The connection, kept between runs. */
	PGconn *conn;
	enum pg_cstate cstate;
	struct event *io;
	evutil_socket_t io_fd;
	short io_what;
	struct pg_lookup *lookup;
	struct evdns_getaddrinfo_request *lookup_req;
	int64_t conn_start_us;
	bool conn_new;		/* made during this run */
	bool retried;		/* this run already replaced a dead one */
	bool flushing;		/* PQflush has more to send */
	unsigned connect_failures;
	int64_t next_connect_us;
	enum probe_fail last_fail;
	char last_error[200];

	/* The step in flight. */
	enum pg_step step;
	size_t custom_i;
	int64_t step_sent_us;
	bool step_failed;
	bool noted_first;
	enum pg_ext ext;
	char *ext_schema;	/* quoted identifier (PQescapeIdentifier) */

	/* Between runs: the counters the rates are made from. */
	struct pg_db_snap db_prev;
	struct pg_stmt_snap stmt_prev, stmt_cur;
	bool has_dealloc;
	double dealloc_prev;
	struct pg_stmt_window win;
};

static void pg_step_send(struct pg_probe *pg);
static void pg_connect_begin(struct pg_probe *pg);
static void pg_on_io(evutil_socket_t fd, short what, void *arg);

/* libpq's messages span lines ("...\n\tIs the server running..."). */
static void
flatten(const char *in, char *out, size_t len)
{
	size_t n = 0;
	bool space = false;

	for (; *in != '\0' && n + 1 < len; in++) {
		if (*in == '\n' || *in == '\t' || *in == '\r' || *in == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < len)
			out[n++] = ' ';
		space = false;
		out[n++] = *in;
	}
	out[n] = '\0';
}

/* Notices would go to stderr unformatted; vigild's log is key=value. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* ---- ending a run ------------------------------------------------------ */

static void
pg_end_run(struct pg_probe *pg)
{
	if (pg->finishing)
		return;
	pg->finishing = true;
	evtimer_del(pg->timer);
	/* done must never run inside probe_start: always from the loop. */
	event_active(pg->defer, 0, 0);
}

static void
pg_on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct pg_probe *pg = arg;
	struct probe_result *r = pg->r;

	(void)fd;
	(void)what;
	if (!pg->running)
		return;
	probe_result_close(r, pg->run_start_us);
	probe_scrub_secret(pg->secret, r->reason);
	probe_scrub_secret(pg->secret, r->notes);
	pg->running = false;
	pg->finishing = false;
	probe_finish(pg->probe);
}

/* Fails the run (the first failure's reason stands) and ends it. */
static void __attribute__((format(printf, 3, 4)))
pg_abort(struct pg_probe *pg, enum probe_fail kind, const char *fmt, ...)
{
	va_list ap;

	if (pg->r->fail == PROBE_FAIL_NONE) {
		va_start(ap, fmt);
		probe_result_vfailf(pg->r, kind, fmt, ap);
		va_end(ap);
	}
	pg_end_run(pg);
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
	pg->cstate = PGC_NONE;
	pg->flushing = false;
}

/*
 * Waits for the socket. The event is made again whenever the descriptor
 * or the interest changes: PQconnectPoll may close a socket and open
 * another, possibly under the same number.
 */
static int
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
	pg->connect_failures++;
	pg->next_connect_us = clock_mono_us() + 1000 *
	    pg_backoff_ms(pg->connect_failures, pg->cfg->pg.reconnect_max_ms);
	pg->last_fail = kind;
	pg_abort(pg, kind, "%s", pg->last_error);
}

/* libpq refused or lost the connection while connecting. */
static void
pg_connect_failed_conn(struct pg_probe *pg)
{
	char msg[200];
	enum probe_fail kind = PROBE_FAIL_CONNECT;

	flatten(PQerrorMessage(pg->conn), msg, sizeof(msg));
	if (PQconnectionNeedsPassword(pg->conn)) {
		pg_connect_failed(pg, PROBE_FAIL_AUTH, "the server asks for a "
		    "password and none is set (conninfo, password_file, "
		    "PGPASSWORD or a .pgpass file)");
		return;
	}
	/*
	 * The server's text is all there is (no SQLSTATE for a refused
	 * start-up); these are its messages for who-you-are problems.
	 */
	if (strstr(msg, "authentication failed") != NULL ||
	    strstr(msg, "no pg_hba.conf entry") != NULL ||
	    (strstr(msg, "role \"") != NULL &&
	    strstr(msg, "does not exist") != NULL) ||
	    strstr(msg, "permission denied for database") != NULL ||
	    strstr(msg, "not permitted to log in") != NULL)
		kind = PROBE_FAIL_AUTH;
	pg_connect_failed(pg, kind, "%s", msg[0] != '\0' ? msg :
	    "connection failed");
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
	    "%lld -c default_transaction_read_only=on",
	    user_opts != NULL ? user_opts : "", user_opts != NULL ? " " : "",
	    (long long)g->statement_timeout_ms);
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
		pg_abort(pg, PROBE_FAIL_INTERNAL, "out of memory starting a "
		    "connection");
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
		pg_abort(pg, PROBE_FAIL_INTERNAL, "no DNS resolver to look up "
		    "\"%s\"", pg->host);
		return;
	}
	lk = calloc(1, sizeof(*lk));
	if (lk == NULL) {
		pg_abort(pg, PROBE_FAIL_INTERNAL, "out of memory");
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

/* ---- the queries ----------------------------------------------------- */

/* Text of a column as a number: NULL, and non-numbers, are false. */
static bool
col_num(const PGresult *res, int row, int col, double *out)
{
	const char *s;
	char *end;

	if (col >= PQnfields(res) || row >= PQntuples(res) ||
	    PQgetisnull(res, row, col))
		return false;
	s = PQgetvalue(res, row, col);
	if (strcmp(s, "t") == 0 || strcmp(s, "f") == 0) {
		*out = s[0] == 't';
		return true;
	}
	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0;
}

static double
col_d(const PGresult *res, int row, int col, double dflt)
{
	double v;

	return col_num(res, row, col, &v) ? v : dflt;
}

static int64_t
col_i64(const PGresult *res, int row, int col, int64_t dflt)
{
	const char *s;
	char *end;
	long long v;

	if (col >= PQnfields(res) || row >= PQntuples(res) ||
	    PQgetisnull(res, row, col))
		return dflt;
	s = PQgetvalue(res, row, col);
	errno = 0;
	v = strtoll(s, &end, 10);
	return end != s && *end == '\0' && errno == 0 ? (int64_t)v : dflt;
}

static void
add(struct pg_probe *pg, const char *name, double v)
{
	if (probe_result_add(pg->r, name, v) != 0)
		probe_result_notef(pg->r, "out of memory recording %s", name);
}

/*
 * A step's error: the canary's fails the run; any other is a note naming
 * the view, with the privilege to grant when that is the problem.
 */
static void
pg_step_error(struct pg_probe *pg, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char what[96], msg[200];

	if (primary == NULL)
		primary = "error";
	if (pg->step == ST_CUSTOM)
		snprintf(what, sizeof(what), "custom query %s",
		    pg->cfg->pg.custom[pg->custom_i].name);
	else
		snprintf(what, sizeof(what), "%s", step_what[pg->step]);
	if (state != NULL && strcmp(state, "57014") == 0)
		snprintf(msg, sizeof(msg), "canceled after statement_timeout "
		    "(%lld ms)", (long long)pg->cfg->pg.statement_timeout_ms);
	else if (state != NULL && strcmp(state, "42501") == 0 &&
	    pg->step != ST_CUSTOM && pg->step != ST_CANARY)
		/* The built-in views need no more than pg_monitor. */
		snprintf(msg, sizeof(msg), "%s (grant pg_monitor to %s)",
		    primary, PQuser(pg->conn));
	else
		flatten(primary, msg, sizeof(msg));
	if (pg->step == ST_CANARY)
		probe_result_failf(pg->r, state != NULL &&
		    strcmp(state, "57014") == 0 ? PROBE_FAIL_TIMEOUT :
		    PROBE_FAIL_QUERY, "%s failed: %s", what, msg);
	else
		probe_result_notef(pg->r, "%s: %s", what, msg);
}

static void
note_first(struct pg_probe *pg)
{
	if (pg->noted_first)
		return;
	pg->noted_first = true;
	probe_result_notef(pg->r, "first sample: rates and windowed means "
	    "start with the next run");
}

static void
on_canary(struct pg_probe *pg, const PGresult *res)
{
	(void)res;
	add(pg, "canary_ms", (double)(clock_mono_us() - pg->step_sent_us) / 1000.0);
}

static const char sql_activity[] =
    "SELECT current_setting('max_connections')::int,"
    " current_setting('superuser_reserved_connections')::int"
    "  + coalesce(current_setting('reserved_connections', true)::int, 0),"
    " count(*) FILTER (WHERE backend_type = 'client backend'),"
    /* Other roles' sessions without pg_read_all_stats: no type, no state. */
    " count(*) FILTER (WHERE backend_type IS NULL AND datid IS NOT NULL),"
    " count(*) FILTER (WHERE backend_type = 'client backend'"
    "  AND state = 'active' AND pid <> pg_backend_pid()),"
    " count(*) FILTER (WHERE backend_type = 'client backend'"
    "  AND state = 'idle'),"
    " count(*) FILTER (WHERE backend_type = 'client backend'"
    "  AND state LIKE 'idle in transaction%'),"
    " coalesce(extract(epoch FROM max(clock_timestamp() - query_start)"
    "  FILTER (WHERE backend_type = 'client backend' AND state = 'active'"
    "  AND pid <> pg_backend_pid())), 0),"
    " coalesce(extract(epoch FROM max(clock_timestamp() - xact_start)"
    "  FILTER (WHERE backend_type = 'client backend'"
    "  AND pid <> pg_backend_pid())), 0),"
    " coalesce(extract(epoch FROM max(clock_timestamp() - state_change)"
    "  FILTER (WHERE backend_type = 'client backend'"
    "  AND state LIKE 'idle in transaction%')), 0),"
    " count(*) FILTER (WHERE wait_event_type = 'Lock')"
    " FROM pg_stat_activity";

static void
on_activity(struct pg_probe *pg, const PGresult *res)
{
	double maxc = col_d(res, 0, 0, 0), reserved = col_d(res, 0, 1, 0);
	double used = col_d(res, 0, 2, 0), hidden = col_d(res, 0, 3, 0);

	/* A hidden session still holds a connection slot. */
	used += hidden;
	add(pg, "connections_used", used);
	add(pg, "max_connections", maxc);
	add(pg, "reserved_connections", reserved);
	if (maxc - reserved > 0)
		add(pg, "pool_used_pct", 100.0 * used / (maxc - reserved));
	if (hidden > 0) {
		/* Counting only what is visible would be silently wrong. */
		probe_result_notef(pg->r, "pg_stat_activity hides %.0f "
		    "sessions of other roles from %s (grant pg_monitor): no "
		    "session state metrics", hidden, PQuser(pg->conn));
		return;
	}
	add(pg, "sessions_active", col_d(res, 0, 4, 0));
	add(pg, "sessions_idle", col_d(res, 0, 5, 0));
	add(pg, "sessions_idle_in_tx", col_d(res, 0, 6, 0));
	add(pg, "longest_query_s", col_d(res, 0, 7, 0));
	add(pg, "longest_tx_s", col_d(res, 0, 8, 0));
	add(pg, "idle_in_tx_longest_s", col_d(res, 0, 9, 0));
	add(pg, "lock_waiters", col_d(res, 0, 10, 0));
}

static const char sql_database[] =
    "SELECT xact_commit, xact_rollback, blks_hit, blks_read, deadlocks,"
    " temp_bytes, extract(epoch FROM stats_reset),"
    " extract(epoch FROM clock_timestamp())"
    " FROM pg_stat_database WHERE datname = current_database()";

static void
on_database(struct pg_probe *pg, const PGresult *res)
{
	struct pg_db_snap cur;
	struct pg_db_rates rt;

	if (PQntuples(res) < 1) {
		probe_result_notef(pg->r, "pg_stat_database has no row for "
		    "this database");
		return;
	}
	memset(&cur, 0, sizeof(cur));
	cur.valid = true;
	cur.commits = col_i64(res, 0, 0, 0);
	cur.rollbacks = col_i64(res, 0, 1, 0);
	cur.blks_hit = col_i64(res, 0, 2, 0);
	cur.blks_read = col_i64(res, 0, 3, 0);
	cur.deadlocks = col_i64(res, 0, 4, 0);
	cur.temp_bytes = col_i64(res, 0, 5, 0);
	cur.reset_s = col_d(res, 0, 6, 0);
	cur.at_s = col_d(res, 0, 7, 0);
	switch (pg_db_delta(&pg->db_prev, &cur, &rt)) {
	case PG_DELTA_OK:
		add(pg, "commits_per_s", rt.commits_per_s);
		add(pg, "rollbacks_per_s", rt.rollbacks_per_s);
		add(pg, "deadlocks", rt.deadlocks);
		add(pg, "temp_bytes", rt.temp_bytes);
		/* No block touched: no ratio, rather than a made-up 100 %. */
		if (rt.has_hit_ratio)
			add(pg, "cache_hit_ratio_pct", rt.cache_hit_ratio_pct);
		break;
	case PG_DELTA_FIRST:
		note_first(pg);
		break;
	case PG_DELTA_RESET:
		probe_result_notef(pg->r, "pg_stat_database was reset: rates "
		    "start again with the next run");
		break;
	case PG_DELTA_NO_TIME:
		break;
	}
	pg->db_prev = cur;
}

static void
on_extension(struct pg_probe *pg, const PGresult *res)
{
	const char *schema;

	/* Asked again after the extension went away: the old name goes. */
	if (pg->ext_schema != NULL) {
		PQfreemem(pg->ext_schema);
		pg->ext_schema = NULL;
	}
	if (PQntuples(res) < 1) {
		pg->ext = EXT_MISSING;
		return;
	}
	schema = PQgetvalue(res, 0, 0);
	pg->ext_schema = PQescapeIdentifier(pg->conn, schema, strlen(schema));
	pg->ext = pg->ext_schema != NULL ? EXT_PRESENT : EXT_UNKNOWN;
}

static int
send_statements(struct pg_probe *pg)
{
	char sql[1024];

	/* showtext false: the texts file is read only for the slow ones. */
	snprintf(sql, sizeof(sql),
	    "SELECT s.userid, s.queryid, s.toplevel, s.calls,"
	    " s.total_exec_time, extract(epoch FROM clock_timestamp()),"
	    " i.dealloc"
	    " FROM %s.pg_stat_statements_info i"
	    " LEFT JOIN %s.pg_stat_statements(false) s"
	    "  ON s.dbid = (SELECT oid FROM pg_database"
	    "   WHERE datname = current_database())"
	    /* vigild's own queries are not the application's. */
	    "  AND s.userid <> (SELECT oid FROM pg_roles"
	    "   WHERE rolname = current_user)"
	    " LIMIT %d", pg->ext_schema, pg->ext_schema, PG_STMT_ROWS + 1);
	memset(&pg->win, 0, sizeof(pg->win));
	pg->stmt_cur.n = 0;
	return PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

static void
on_statements(struct pg_probe *pg, const PGresult *res)
{
	struct pg_stmt_snap *cur = &pg->stmt_cur;
	int rows = PQntuples(res);
	int64_t hidden = 0;
	double dealloc;

	cur->n = 0;
	cur->complete = rows <= PG_STMT_ROWS;
	cur->at_s = col_d(res, 0, 5, 0);
	for (int i = 0; i < rows && i < PG_STMT_ROWS; i++) {
		struct pg_stmt e;

		if (PQgetisnull(res, i, 3))
			continue;	/* no statement at all: the info row */
		if (PQgetisnull(res, i, 1)) {
			hidden++;
			continue;
		}
		e.userid = (uint32_t)col_i64(res, i, 0, 0);
		e.queryid = col_i64(res, i, 1, 0);
		e.toplevel = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		e.calls = col_i64(res, i, 3, 0);
		e.total_ms = col_d(res, i, 4, 0);
		if (pg_stmt_snap_add(cur, &e) != 0) {
			probe_result_notef(pg->r, "out of memory reading "
			    "pg_stat_statements");
			cur->n = 0;
			return;
		}
	}
	cur->valid = true;
	pg_stmt_snap_sort(cur);
	switch (pg_stmt_window(&pg->stmt_prev, cur, (double)pg->cfg->pg.slow_ms,
	    &pg->win)) {
	case PG_DELTA_OK:
		add(pg, "stmt_calls_per_s", pg->win.calls_per_s);
		add(pg, "stmt_worst_mean_ms", pg->win.worst_mean_ms);
		add(pg, "slow_statements", (double)pg->win.nslow);
		break;
	case PG_DELTA_FIRST:
		note_first(pg);
		break;
	case PG_DELTA_RESET:
	case PG_DELTA_NO_TIME:
		break;
	}
	if (!cur->complete)
		probe_result_notef(pg->r, "pg_stat_statements has more than %d "
		    "entries for this database: the rest are not read",
		    PG_STMT_ROWS);
	if (hidden > 0)
		probe_result_notef(pg->r, "pg_stat_statements hides %lld "
		    "statements of other roles from %s (grant pg_monitor)",
		    (long long)hidden, PQuser(pg->conn));
	if (col_num(res, 0, 6, &dealloc)) {
		if (pg->has_dealloc && dealloc > pg->dealloc_prev)
			probe_result_notef(pg->r, "pg_stat_statements evicted "
			    "entries %.0f times since the last run (raise "
			    "pg_stat_statements.max)", dealloc -
			    pg->dealloc_prev);
		pg->dealloc_prev = dealloc;
		pg->has_dealloc = true;
	}
	pg_stmt_snap_swap(&pg->stmt_prev, cur);
}

static int
send_stmt_text(struct pg_probe *pg)
{
	char sql[512], ids[PG_STMT_TOP * 24 + 4];
	const char *params[1] = { ids };
	size_t n = 0;

	ids[n++] = '{';
	for (size_t i = 0; i < pg->win.ntop; i++)
		n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%lld",
		    i > 0 ? "," : "", (long long)pg->win.top[i].queryid);
	snprintf(ids + n, sizeof(ids) - n, "}");
	snprintf(sql, sizeof(sql),
	    "SELECT queryid, userid, left(query, 2000)"
	    " FROM %s.pg_stat_statements(true)"
	    " WHERE dbid = (SELECT oid FROM pg_database"
	    "  WHERE datname = current_database())"
	    " AND queryid = ANY ($1::bigint[])", pg->ext_schema);
	return PQsendQueryParams(pg->conn, sql, 1, NULL, params, NULL, NULL,
	    0);
}

/* The slow statements, worst first, as a note (no literals in them). */
static void
on_stmt_text(struct pg_probe *pg, const PGresult *res)
{
	char line[256];
	size_t n = 0;

	n += (size_t)snprintf(line, sizeof(line), "slow (mean > %lld ms):",
	    (long long)pg->cfg->pg.slow_ms);
	for (size_t i = 0; i < pg->win.ntop && n < sizeof(line); i++) {
		const struct pg_stmt_slow *s = &pg->win.top[i];
		char text[PG_QUERY_TEXT + 4];
		const char *q = NULL;

		for (int row = 0; row < PQntuples(res); row++)
			if (col_i64(res, row, 0, 0) == s->queryid &&
			    (uint32_t)col_i64(res, row, 1, 0) == s->userid)
				q = PQgetvalue(res, row, 2);
		pg_normalize_query(q != NULL ? q : "(text evicted)",
		    PG_QUERY_TEXT, text, sizeof(text));
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "%s %.0f ms x%lld \"%s\"", i > 0 ? ";" : "", s->mean_ms,
		    (long long)s->calls, text);
	}
	probe_result_notef(pg->r, "%s", line);
}

static const char sql_indexes[] =
    "SELECT m.i, x.indexrelid IS NOT NULL,"
    " coalesce(x.indisvalid AND x.indisready, false), x.idx_scan"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
    "  WITH ORDINALITY AS m(idx, tbl, sch, cols, i)"
    " LEFT JOIN LATERAL ("
    "  SELECT x.indexrelid, x.indisvalid, x.indisready, s.idx_scan"
    "  FROM pg_index x"
    "  JOIN pg_class c ON c.oid = x.indexrelid"
    "  JOIN pg_class t ON t.oid = x.indrelid"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = x.indexrelid"
    "  WHERE (m.idx = '' OR c.relname = m.idx)"
    "   AND (m.tbl = '' OR t.relname = m.tbl)"
    "   AND (m.sch = '' OR n.nspname = m.sch)"
    "   AND (m.cols = '' OR array_to_string(ARRAY("
    "    SELECT a.attname FROM unnest(x.indkey[0:x.indnkeyatts - 1])"
    "     WITH ORDINALITY AS k(attnum, o)"
    "    JOIN pg_attribute a ON a.attrelid = x.indrelid"
    "     AND a.attnum = k.attnum ORDER BY k.o), ',') = m.cols)"
    /* A valid one wins over a leftover of a failed CONCURRENTLY. */
    "  ORDER BY (x.indisvalid AND x.indisready) DESC LIMIT 1) x ON true"
    " ORDER BY m.i";

/* {"a","",...}: names are plain identifiers (config), quoting is safe. */
static char *
text_array(const struct pg_cfg *g, size_t field)
{
	size_t len = 3, n = 0;
	char *s;

	for (size_t i = 0; i < g->nindexes; i++) {
		const struct pg_index_req *x = &g->indexes[i];
		const char *v = field == 0 ? x->index : field == 1 ? x->table :
		    field == 2 ? x->schema : x->columns;

		len += (v != NULL ? strlen(v) : 0) + 3;
	}
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[n++] = '{';
	for (size_t i = 0; i < g->nindexes; i++) {
		const struct pg_index_req *x = &g->indexes[i];
		const char *v = field == 0 ? x->index : field == 1 ? x->table :
		    field == 2 ? x->schema : x->columns;

		n += (size_t)snprintf(s + n, len - n, "%s\"%s\"",
		    i > 0 ? "," : "", v != NULL ? v : "");
	}
	snprintf(s + n, len - n, "}");
	return s;
}

static int
send_indexes(struct pg_probe *pg)
{
	char *arr[4];
	int rc = 0;

	for (size_t f = 0; f < 4; f++)
		arr[f] = text_array(&pg->cfg->pg, f);
	if (arr[0] != NULL && arr[1] != NULL && arr[2] != NULL &&
	    arr[3] != NULL)
		rc = PQsendQueryParams(pg->conn, sql_indexes, 4, NULL,
		    (const char *const *)arr, NULL, NULL, 0);
	else
		probe_result_notef(pg->r, "out of memory building the index "
		    "query");
	for (size_t f = 0; f < 4; f++)
		free(arr[f]);
	return rc;
}

static void
on_indexes(struct pg_probe *pg, const PGresult *res)
{
	const struct pg_cfg *g = &pg->cfg->pg;
	double missing = 0;
	char name[PG_MAX_PART + 16];

	for (int row = 0; row < PQntuples(res); row++) {
		int64_t i = col_i64(res, row, 0, 0) - 1;
		const struct pg_index_req *x;
		double ok = col_d(res, row, 2, 0), scans;
		bool found = col_d(res, row, 1, 0) != 0;

		if (i < 0 || (size_t)i >= g->nindexes)
			continue;
		x = &g->indexes[i];
		snprintf(name, sizeof(name), "index_%s_ok", x->name);
		add(pg, name, ok != 0 ? 1 : 0);
		if (found && col_num(res, row, 3, &scans)) {
			snprintf(name, sizeof(name), "index_%s_scans", x->name);
			add(pg, name, scans);
		}
		if (ok != 0)
			continue;
		missing++;
		if (!found)
			probe_result_notef(pg->r, "required index %s missing",
			    x->name);
		else
			probe_result_notef(pg->r, "required index %s invalid "
			    "or not ready (a failed CREATE INDEX "
			    "CONCURRENTLY?)", x->name);
	}
	add(pg, "indexes_missing", missing);
}

static const char sql_replication[] =
    "SELECT pg_is_in_recovery(),"
    " CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM"
    "  clock_timestamp() - pg_last_xact_replay_timestamp()) END,"
    " (SELECT count(*) FROM pg_stat_replication),"
    " (SELECT extract(epoch FROM max(replay_lag)) FROM pg_stat_replication),"
    /* pg_current_wal_lsn() is an error on a standby. */
    " CASE WHEN NOT pg_is_in_recovery() THEN (SELECT"
    "  max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))"
    "  FROM pg_stat_replication) END";

static void
on_replication(struct pg_probe *pg, const PGresult *res)
{
	double v, standbys;

	if (col_d(res, 0, 0, 0) != 0) {
		add(pg, "in_recovery", 1);
		/* A standby: time since the last replayed transaction. */
		if (col_num(res, 0, 1, &v))
			add(pg, "replication_lag_s", v);
		return;
	}
	add(pg, "in_recovery", 0);
	standbys = col_d(res, 0, 2, 0);
	add(pg, "standbys", standbys);
	if (standbys > 0) {
		/* replay_lag is NULL while a standby is idle and caught up. */
		add(pg, "replication_lag_s", col_d(res, 0, 3, 0));
		if (col_num(res, 0, 4, &v))
			add(pg, "replication_lag_bytes", v);
	}
}

static bool
numeric_type(Oid t)
{
	/* bool, int8, int2, int4, oid, float4, float8, numeric */
	return t == 16 || t == 20 || t == 21 || t == 23 || t == 26 ||
	    t == 700 || t == 701 || t == 1700;
}

static void
on_custom(struct pg_probe *pg, const PGresult *res)
{
	const struct pg_custom_query *q = &pg->cfg->pg.custom[pg->custom_i];
	int rows = PQntuples(res);

	if (rows == 0) {
		probe_result_notef(pg->r, "custom query %s returned no row",
		    q->name);
		return;
	}
	if (rows > 1)
		probe_result_notef(pg->r, "custom query %s returned %d rows; "
		    "the first is used", q->name, rows);
	for (int c = 0; c < PQnfields(res); c++) {
		char part[PG_MAX_PART + 1], name[2 * PG_MAX_PART + 16];
		double v;

		pg_metric_part(PQfname(res, c), PG_MAX_PART, part,
		    sizeof(part));
		snprintf(name, sizeof(name), "custom_%s_%s", q->name, part);
		if (!numeric_type(PQftype(res, c)))
			probe_result_notef(pg->r, "custom query %s: column %s "
			    "is not a number", q->name, part);
		else if (!col_num(res, 0, c, &v))
			probe_result_notef(pg->r, "custom query %s: %s is NULL",
			    q->name, part);
		else
			add(pg, name, v);
	}
}

/* After st, which step comes (st done; its results handled). */
static enum pg_step
pg_next_step(struct pg_probe *pg, enum pg_step st)
{
	const struct pg_cfg *g = &pg->cfg->pg;
	enum pg_step after_stmt = g->nindexes > 0 ? ST_INDEXES :
	    ST_REPLICATION;

	switch (st) {
	case ST_CANARY:
		return ST_ACTIVITY;
	case ST_ACTIVITY:
		return ST_DATABASE;
	case ST_DATABASE:
		if (!g->statements)
			return after_stmt;
		/* Absence is asked again each run: CREATE EXTENSION is seen. */
		if (pg->ext != EXT_PRESENT)
			return ST_EXTENSION;
		/* FALLTHROUGH */
	case ST_EXTENSION:
		if (pg->ext == EXT_PRESENT)
			return ST_STATEMENTS;
		if (pg->ext == EXT_MISSING)
			probe_result_notef(pg->r, "pg_stat_statements is not "
			    "installed in %s (CREATE EXTENSION "
			    "pg_stat_statements): no stmt_ metrics",
			    PQdb(pg->conn));
		return after_stmt;
	case ST_STATEMENTS:
		return !pg->step_failed && pg->win.ntop > 0 ? ST_STMT_TEXT :
		    after_stmt;
	case ST_STMT_TEXT:
		return after_stmt;
	case ST_INDEXES:
		return ST_REPLICATION;
	case ST_REPLICATION:
		pg->custom_i = 0;
		return g->ncustom > 0 ? ST_CUSTOM : ST_DONE;
	case ST_CUSTOM:
		if (pg->custom_i + 1 < g->ncustom) {
			pg->custom_i++;
			return ST_CUSTOM;
		}
		return ST_DONE;
	case ST_DONE:
		break;
	}
	return ST_DONE;
}

static void
pg_result(struct pg_probe *pg, const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		pg->step_failed = true;
		pg_step_error(pg, res);
		/*
		 * The extension went away under a kept connection (dropped,
		 * its schema renamed): look for it again on the next run,
		 * which then says plainly that it is missing.
		 */
		if ((pg->step == ST_STATEMENTS || pg->step == ST_STMT_TEXT) &&
		    code != NULL && (strcmp(code, "42P01") == 0 ||
		    strcmp(code, "42883") == 0 || strcmp(code, "3F000") == 0))
			pg->ext = EXT_UNKNOWN;
		return;
	}
	switch (pg->step) {
	case ST_CANARY:
		on_canary(pg, res);
		break;
	case ST_ACTIVITY:
		on_activity(pg, res);
		break;
	case ST_DATABASE:
		on_database(pg, res);
		break;
	case ST_EXTENSION:
		on_extension(pg, res);
		break;
	case ST_STATEMENTS:
		on_statements(pg, res);
		break;
	case ST_STMT_TEXT:
		on_stmt_text(pg, res);
		break;
	case ST_INDEXES:
		on_indexes(pg, res);
		break;
	case ST_REPLICATION:
		on_replication(pg, res);
		break;
	case ST_CUSTOM:
		on_custom(pg, res);
		break;
	case ST_DONE:
		break;
	}
}

/*
 * The connection broke under a query. A connection kept from an earlier
 * run that dies on its first query was most likely closed while idle
 * (server restart, idle timeout, pg_terminate_backend): that is worth one
 * new connection in the same run before calling the database down.
 */
static void
pg_broken(struct pg_probe *pg)
{
	char msg[200];
	bool retry = !pg->conn_new && !pg->retried && pg->step == ST_CANARY;
	enum pg_step st = pg->step;

	flatten(pg->conn != NULL ? PQerrorMessage(pg->conn) : "", msg,
	    sizeof(msg));
	pg_drop(pg);
	if (retry) {
		pg->retried = true;
		pg_connect_begin(pg);
		return;
	}
	pg_abort(pg, PROBE_FAIL_CONNECT, "connection lost during %s: %s",
	    step_what[st], msg[0] != '\0' ? msg : "no detail");
}

/*
 * An error that ends the session: libpq saw the socket close, or the
 * server said it is going away (class 08, connection exception; 57P,
 * operator intervention: shutdown, crash, not accepting connections) and
 * libpq has not read the end of the stream yet.
 */
static bool
conn_lost(const PGconn *conn, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return PQstatus(conn) == CONNECTION_BAD || (state != NULL &&
	    (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0));
}

/* Sends what is buffered, then waits for the answer (or more room). */
static void
pg_flush(struct pg_probe *pg)
{
	int f = PQflush(pg->conn);

	if (f < 0) {
		pg_broken(pg);
		return;
	}
	pg->flushing = f == 1;
	if (pg_watch(pg, pg->flushing ? EV_READ | EV_WRITE : EV_READ) != 0)
		pg_broken(pg);
}

static void
pg_step_send(struct pg_probe *pg)
{
	const struct pg_cfg *g = &pg->cfg->pg;
	const char *sql = NULL;
	int ok = 0;

	pg->step_failed = false;
	pg->step_sent_us = clock_mono_us();
	switch (pg->step) {
	case ST_CANARY:
		sql = g->canary;
		break;
	case ST_ACTIVITY:
		sql = sql_activity;
		break;
	case ST_DATABASE:
		sql = sql_database;
		break;
	case ST_EXTENSION:
		sql = "SELECT n.nspname FROM pg_extension e"
		    " JOIN pg_namespace n ON n.oid = e.extnamespace"
		    " WHERE e.extname = 'pg_stat_statements'";
		break;
	case ST_STATEMENTS:
		ok = send_statements(pg);
		break;
	case ST_STMT_TEXT:
		ok = send_stmt_text(pg);
		break;
	case ST_INDEXES:
		ok = send_indexes(pg);
		break;
	case ST_REPLICATION:
		sql = sql_replication;
		break;
	case ST_CUSTOM:
		sql = g->custom[pg->custom_i].sql;
		break;
	case ST_DONE:
		pg_end_run(pg);
		return;
	}
	/* One statement each (the extended protocol allows no more). */
	if (sql != NULL)
		ok = PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL,
		    0);
	if (!ok) {
		pg_broken(pg);
		return;
	}
	pg_flush(pg);
}

static void
pg_query_io(struct pg_probe *pg, short what)
{
	if ((what & EV_READ) && !PQconsumeInput(pg->conn)) {
		pg_broken(pg);
		return;
	}
	if (pg->flushing) {
		int f = PQflush(pg->conn);

		if (f < 0) {
			pg_broken(pg);
			return;
		}
		pg->flushing = f == 1;
	}
	while (!PQisBusy(pg->conn)) {
		PGresult *res = PQgetResult(pg->conn);

		if (res == NULL) {
			/* The step is complete: the next one, or the end. */
			pg->step = pg_next_step(pg, pg->step);
			pg_step_send(pg);
			return;
		}
		if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
		    conn_lost(pg->conn, res)) {
			PQclear(res);
			pg_broken(pg);
			return;
		}
		pg_result(pg, res);
		PQclear(res);
	}
	if (pg_watch(pg, pg->flushing ? EV_READ | EV_WRITE : EV_READ) != 0)
		pg_broken(pg);
}

static void
pg_connected(struct pg_probe *pg)
{
	pg->cstate = PGC_READY;
	pg->conn_new = true;
	pg->connect_failures = 0;
	pg->last_error[0] = '\0';
	pg->ext = EXT_UNKNOWN;
	add(pg, "connect_ms", (double)(clock_mono_us() - pg->conn_start_us) /
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
	if (!pg->running || pg->finishing)
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
	if (!pg->running || pg->finishing)
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
		pg_abort(pg, PROBE_FAIL_TIMEOUT, "timed out after %lld ms "
		    "waiting for custom query %s", ms,
		    pg->cfg->pg.custom[pg->custom_i].name);
	else
		pg_abort(pg, PROBE_FAIL_TIMEOUT, "timed out after %lld ms "
		    "waiting for %s", ms, step_what[pg->step]);
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
	if (pg->defer != NULL)
		event_free(pg->defer);
	PQconninfoFree(pg->opts);
	if (pg->secret != NULL) {
		explicit_bzero(pg->secret, strlen(pg->secret));
		free(pg->secret);
	}
	pg_stmt_snap_clear(&pg->stmt_prev);
	pg_stmt_snap_clear(&pg->stmt_cur);
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
	pg->defer = event_new(env->base, -1, 0, pg_on_defer, pg);
	if (pg->timer == NULL || pg->defer == NULL ||
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
	int64_t now = clock_mono_us();

	pg->probe = p;
	pg->r = r;
	pg->running = true;
	pg->finishing = false;
	pg->retried = false;
	pg->conn_new = false;
	pg->noted_first = false;
	r->started = clock_wall_ms();
	pg->run_start_us = now;
	tv.tv_sec = (time_t)(pg->cfg->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(pg->cfg->timeout_ms % 1000) * 1000;
	if (evtimer_add(pg->timer, &tv) != 0) {
		pg->running = false;
		return -1;
	}
	if (pg->conn != NULL && pg->cstate == PGC_READY) {
		pg->step = ST_CANARY;
		pg_step_send(pg);
	} else if (now < pg->next_connect_us) {
		/* Backing off: say why, without knocking on the door again. */
		pg_abort(pg, pg->last_fail, "%s (next connection attempt in "
		    "%.1f s)", pg->last_error,
		    (double)(pg->next_connect_us - now) / 1e6);
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
}

static void
pg_cancel(void *impl)
{
	struct pg_probe *pg = impl;

	evtimer_del(pg->timer);
	event_del(pg->defer);
	/* Mid-connect or mid-query the connection's state is unknown. */
	if (!pg->finishing || pg->cstate != PGC_READY)
		pg_drop(pg);
	pg->running = false;
	pg->finishing = false;
}

const struct probe_ops probe_pg_ops = {
	.create = pg_create,
	.start = pg_start,
	.rebind = pg_rebind,
	.cancel = pg_cancel,
	.destroy = pg_destroy,
};
