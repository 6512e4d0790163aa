/*
 * The postgres probe's lock steps: who waits on whom. The canary's plan
 * (what it reads, once per connection), the session in its way when it
 * gives up on a lock, and the sessions other sessions block. The
 * connection is probe_pg.c's; the other steps are probe_pg_query.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/duration.h"
#include "config/config.h"
#include "probe/pg_norm.h"
#include "probe/pg_plan.h"
#include "probe/probe_pg_int.h"

int64_t
pg_lock_timeout_ms(int64_t statement_timeout_ms)
{
	return statement_timeout_ms / 2 > 0 ? statement_timeout_ms / 2 : 1;
}

/*
 * The canary's plan, once per connection: EXPLAIN runs nothing. A canary
 * EXPLAIN cannot take (SHOW, CALL) touches no table, so its plan is left
 * unknown without a word.
 */
int
pg_canary_plan_send(struct pg_probe *pg)
{
	char *sql;
	size_t len = strlen(pg->cfg->pg.canary) + 40;
	int ok;

	pg->plan_tried = true;
	if ((sql = malloc(len)) == NULL)
		return 0;
	snprintf(sql, len, "EXPLAIN (FORMAT JSON, VERBOSE) %s",
	    pg->cfg->pg.canary);
	ok = PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	free(sql);
	return ok;
}

void
pg_canary_plan_result(struct pg_probe *pg, const PGresult *res)
{
	if (PQntuples(res) < 1 || PQnfields(res) < 1)
		return;
	pg->plan_known = pg_plan_read(PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), &pg->plan) == PG_PLAN_OK;
}

/* "1m5s": how long, in whole seconds, as durations are written. */
static void
ago(double s, char *out, size_t len)
{
	duration_format(s > 0 ? (int64_t)s * 1000 : 0, out, len);
}

/* A session's statement for a note: normalised, in quotes. */
static void
stmt_text(const char *q, char *out, size_t len)
{
	char text[PG_QUERY_TEXT + 4];

	pg_normalize_query(q != NULL ? q : "", PG_SCS_EITHER, PG_QUERY_TEXT,
	    text, sizeof(text));
	snprintf(out, len, "\"%s\"", text);
}

/*
 * Who holds up the canary. vigild's session is read-only, so the canary
 * waits for an AccessShareLock: only an AccessExclusiveLock, granted or
 * queued ahead of it (an ALTER TABLE waiting behind a long query makes
 * every reader queue behind it), can be in its way. Looked for on the
 * tables of its plan, or on any table while the plan is not known.
 */
static const char sql_canary_blocker[] =
    "SELECT coalesce(l.pid, 0), l.granted, l.relation::regclass::text,"
    " a.state, extract(epoch FROM clock_timestamp() - a.xact_start),"
    " extract(epoch FROM clock_timestamp() - a.state_change), a.usename,"
    " left(a.query, 2000), p.gid,"
    " (pg_blocking_pids(l.pid))[1]"
    " FROM pg_locks l"
    " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " LEFT JOIN pg_prepared_xacts p"
    "  ON l.pid IS NULL AND l.virtualtransaction = '-1/' || p.transaction"
    " WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'"
    "  AND l.database = (SELECT oid FROM pg_database"
    "   WHERE datname = current_database())"
    "  AND l.pid IS DISTINCT FROM pg_backend_pid()"
    "  AND (cardinality($1::text[]) = 0 OR l.relation = ANY (ARRAY("
    "   SELECT to_regclass(r) FROM unnest($1::text[]) r)))"
    /* Who holds it first, then who queues for it; the oldest first. */
    " ORDER BY l.granted DESC, a.xact_start NULLS FIRST LIMIT 1";

/* {"a"."b",...} for $1: names from the plan, quoted by pg_plan. */
int
pg_canary_blocker_send(struct pg_probe *pg)
{
	char arr[PG_PLAN_MAX * (PG_PLAN_NAME * 2 + 4) + 4];
	const char *params[1] = { arr };
	size_t n = 0;

	arr[n++] = '{';
	for (size_t i = 0; pg->plan_known && i < pg->plan.nrels; i++) {
		if (i > 0)
			arr[n++] = ',';
		arr[n++] = '"';
		/* An array element in quotes: " and \ take a backslash. */
		for (const char *c = pg->plan.rels[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				arr[n++] = '\\';
			arr[n++] = *c;
		}
		arr[n++] = '"';
	}
	arr[n++] = '}';
	arr[n] = '\0';
	return PQsendQueryParams(pg->conn, sql_canary_blocker, 1, NULL, params,
	    NULL, NULL, 0);
}

/* "idle in transaction for 1m 3s, transaction open 1m 5s, user app" */
static void
session_text(const PGresult *res, int row, int c_state, char *out,
    size_t len)
{
	char a[32], b[32];

	if (PQgetisnull(res, row, c_state)) {
		snprintf(out, len, "its session is not visible");
		return;
	}
	ago(pg_col_d(res, row, c_state + 2, 0), a, sizeof(a));
	ago(pg_col_d(res, row, c_state + 1, 0), b, sizeof(b));
	if (PQgetisnull(res, row, c_state + 1))
		snprintf(out, len, "%s for %s, user %s",
		    PQgetvalue(res, row, c_state), a,
		    PQgetvalue(res, row, c_state + 3));
	else
		snprintf(out, len, "%s for %s, transaction open %s, user %s",
		    PQgetvalue(res, row, c_state), a, b,
		    PQgetvalue(res, row, c_state + 3));
}

void
pg_canary_blocker_result(struct pg_probe *pg, const PGresult *res)
{
	const char *mode, *rel;
	char who[48], sess[160], text[PG_QUERY_TEXT + 8];
	double waited = pg->canary_waited_ms / 1000.0;
	int64_t pid;

	if (PQntuples(res) < 1) {
		probe_result_notef(pg->r, "the lock the canary waited for is "
		    "released, or its holder is not visible (%s)",
		    pg->plan_known ? "no session holds or awaits an "
		    "AccessExclusiveLock on the tables it reads" :
		    "its plan is not known yet");
		return;
	}
	pid = pg_col_i64(res, 0, 0, 0);
	mode = pg_col_d(res, 0, 1, 0) != 0 ? "holds" : "waits for";
	rel = PQgetvalue(res, 0, 2);
	if (pid == 0)
		snprintf(who, sizeof(who), "prepared transaction %s",
		    PQgetvalue(res, 0, 8));
	else
		snprintf(who, sizeof(who), "pid %lld", (long long)pid);
	session_text(res, 0, 3, sess, sizeof(sess));
	probe_result_failf(pg->r, PROBE_FAIL_BLOCKED, "canary query blocked "
	    "for %.1f s (lock_timeout): %s %s AccessExclusiveLock on %s%s",
	    waited, who, mode, rel, pg->plan_known ? "" :
	    " (the canary's tables are not known yet)");
	stmt_text(PQgetisnull(res, 0, 7) ? "" : PQgetvalue(res, 0, 7), text,
	    sizeof(text));
	if (pg_col_d(res, 0, 1, 0) != 0 || PQgetisnull(res, 0, 9))
		probe_result_notef(pg->r, "canary blocked by %s (%s): %s", who,
		    sess, pid == 0 ? "a prepared transaction: COMMIT PREPARED "
		    "or ROLLBACK PREPARED it" : text);
	else
		probe_result_notef(pg->r, "canary blocked by %s (%s): %s, "
		    "queued behind pid %s", who, sess, text,
		    PQgetvalue(res, 0, 9));
}

/*
 * Who blocks whom: each session waiting on a heavyweight lock, and the
 * sessions in its way (pg_blocking_pids, called only for those waiting,
 * as it briefly locks the lock manager). The blockers that are not
 * themselves blocked come first: they are where an incident ends.
 */
static const char sql_locks_fmt[] =
    "WITH w AS (SELECT a.pid, b.pid AS blocker"
    "  FROM pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) AS b(pid)"
    "  WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()),"
    " r AS (SELECT blocker, count(DISTINCT pid) AS n FROM w"
    "  GROUP BY blocker)"
    " SELECT (SELECT count(DISTINCT pid) FROM w), (%s),"
    " r.blocker, r.n, a.state,"
    " extract(epoch FROM clock_timestamp() - a.xact_start),"
    " extract(epoch FROM clock_timestamp() - a.state_change),"
    " a.usename, left(a.query, 2000),"
    " EXISTS (SELECT 1 FROM w WHERE w.pid = r.blocker) AS blocked%s"
    " FROM (SELECT 1) o LEFT JOIN r ON true"
    " LEFT JOIN pg_stat_activity a ON a.pid = r.blocker"
    " ORDER BY blocked, r.n DESC, a.xact_start LIMIT 2";

/* pg_locks.waitstart is PostgreSQL 14's; before, the query's start. */
static const char lock_wait_14[] =
    "SELECT extract(epoch FROM max(clock_timestamp() - waitstart))"
    " FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()";
static const char lock_wait_old[] =
    "SELECT extract(epoch FROM max(clock_timestamp() - state_change))"
    " FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    "  AND pid <> pg_backend_pid()";

int
pg_locks_send(struct pg_probe *pg)
{
	char sql[sizeof(sql_locks_fmt) + sizeof(lock_wait_old) + 40];
	int v = PQserverVersion(pg->conn);

	/*
	 * The canary's own index scans must be in idx_scan before the
	 * index step reads it, or one read late would pass for the
	 * application's: PostgreSQL 15 flushes a session's statistics at
	 * most once a second unless asked (at the end of this statement).
	 */
	snprintf(sql, sizeof(sql), sql_locks_fmt, v >= 140000 ? lock_wait_14 :
	    lock_wait_old, v >= 150000 && pg->cfg->pg.nindexes > 0 ?
	    ", pg_stat_force_next_flush()" : "");
	return PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

void
pg_locks_result(struct pg_probe *pg, const PGresult *res)
{
	pg_add(pg, "blocked_sessions", pg_col_d(res, 0, 0, 0));
	pg_add(pg, "lock_wait_longest_s", pg_col_d(res, 0, 1, 0));
	for (int row = 0; row < PQntuples(res); row++) {
		char who[64], sess[160], text[PG_QUERY_TEXT + 8];
		int64_t pid, n;

		if (PQgetisnull(res, row, 2))
			continue;
		pid = pg_col_i64(res, row, 2, 0);
		n = pg_col_i64(res, row, 3, 0);
		if (pid == 0) {
			/* pg_blocking_pids' word for a prepared transaction. */
			probe_result_notef(pg->r, "%lld session%s blocked by a "
			    "prepared transaction (pg_prepared_xacts: COMMIT "
			    "PREPARED or ROLLBACK PREPARED it)", (long long)n,
			    n == 1 ? "" : "s");
			continue;
		}
		snprintf(who, sizeof(who), "pid %lld%s", (long long)pid,
		    pg_col_d(res, row, 9, 0) != 0 ? ", itself blocked" : "");
		session_text(res, row, 4, sess, sizeof(sess));
		stmt_text(PQgetisnull(res, row, 8) ? "" :
		    PQgetvalue(res, row, 8), text, sizeof(text));
		probe_result_notef(pg->r, "%lld session%s blocked by %s (%s): "
		    "%s", (long long)n, n == 1 ? "" : "s", who, sess, text);
	}
}
