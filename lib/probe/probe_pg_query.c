/*
 * The postgres probe's queries: the steps of a run, in order (canary,
 * activity, database, statements, indexes, replication, custom), and
 * what each answer becomes. The connection is probe_pg.c's; the lock
 * steps probe_pg_locks.c's, the DBA steps probe_pg_dba.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/clock.h"
#include "base/duration.h"
#include "config/config.h"
#include "probe/pg_norm.h"
#include "probe/pg_stats.h"
#include "probe/probe_pg_int.h"

/* What a step reads, for reasons and notes. */
const char *const pg_step_what[] = {
	[ST_CANARY] = "the canary query",
	[ST_CANARY_PLAN] = "the canary's plan (EXPLAIN)",
	[ST_CANARY_BLOCKER] = "pg_locks (the canary's blocker)",
	[ST_ACTIVITY] = "pg_stat_activity",
	[ST_LOCKS] = "pg_locks (blocked sessions)",
	[ST_DATABASE] = "pg_stat_database",
	[ST_EXTENSION] = "pg_extension",
	[ST_STATEMENTS] = "pg_stat_statements",
	[ST_STMT_TEXT] = "pg_stat_statements (query text)",
	[ST_INDEXES] = "pg_index (required_indexes)",
	[ST_REPLICATION] = "pg_stat_replication",
	[ST_DBA_XID] = "pg_database, pg_stat_activity, pg_replication_slots, "
	    "pg_prepared_xacts (xmin horizon)",
	[ST_DBA_SLOTS] = "pg_replication_slots",
	[ST_DBA_WAL] = "pg_stat_archiver, pg_stat_bgwriter, "
	    "pg_stat_checkpointer (WAL)",
	[ST_DBA_SERVER] = "pg_settings, pg_roles, pg_stat_progress_vacuum",
	[ST_DBA_TABLES] = "pg_stat_user_tables (sizes)",
	[ST_DBA_INDEXES] = "pg_index, pg_stat_user_indexes",
	[ST_CUSTOM] = "a custom query",
	[ST_DONE] = "the end of the run",
};

/* ---- the queries ----------------------------------------------------- */

/* Text of a column as a number: NULL, and non-numbers, are false. */
bool
pg_col_num(const PGresult *res, int row, int col, double *out)
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

double
pg_col_d(const PGresult *res, int row, int col, double dflt)
{
	double v;

	return pg_col_num(res, row, col, &v) ? v : dflt;
}

int64_t
pg_col_i64(const PGresult *res, int row, int col, int64_t dflt)
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

void
pg_add(struct pg_probe *pg, const char *name, double v)
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
		snprintf(what, sizeof(what), "%s", pg_step_what[pg->step]);
	if (pg->step == ST_CANARY && state != NULL &&
	    strcmp(state, "55P03") == 0) {
		/*
		 * Not down: up and stuck behind a lock, as the application's
		 * queries on those tables are. Who holds it is the next step.
		 */
		pg->canary_blocked = true;
		pg->canary_waited_ms = (double)(clock_mono_us() -
		    pg->step_sent_us) / 1000.0;
		probe_result_failf(pg->r, PROBE_FAIL_BLOCKED, "canary query "
		    "blocked by a lock for %.1f s (lock_timeout)",
		    pg->canary_waited_ms / 1000.0);
		return;
	}
	if (state != NULL && strcmp(state, "57014") == 0)
		snprintf(msg, sizeof(msg), "canceled after statement_timeout "
		    "(%lld ms)", (long long)pg->cfg->pg.statement_timeout_ms);
	else if (state != NULL && strcmp(state, "42501") == 0 &&
	    pg->step != ST_CUSTOM && pg->step != ST_CANARY)
		/* The built-in views need no more than pg_monitor. */
		snprintf(msg, sizeof(msg), "%s (grant pg_monitor to %s)",
		    primary, PQuser(pg->conn));
	else
		probe_quote(primary, msg, sizeof(msg));
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
	pg->canary_ok = true;
	pg_add(pg, "canary_ms", (double)(clock_mono_us() - pg->step_sent_us) /
	    1000.0);
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
    " count(*) FILTER (WHERE wait_event_type = 'Lock'),"
    /* What active sessions wait on, by wait_event_type (NULL: on CPU). */
    " count(*) FILTER (WHERE backend_type = 'client backend'"
    "  AND state = 'active' AND pid <> pg_backend_pid()"
    "  AND wait_event_type IS NULL),"
#define ACTIVE_WAIT(t) \
    " count(*) FILTER (WHERE backend_type = 'client backend'" \
    "  AND state = 'active' AND pid <> pg_backend_pid()" \
    "  AND wait_event_type = '" t "'),"
    ACTIVE_WAIT("Lock") ACTIVE_WAIT("LWLock") ACTIVE_WAIT("IO")
    ACTIVE_WAIT("IPC") ACTIVE_WAIT("BufferPin") ACTIVE_WAIT("Client")
    ACTIVE_WAIT("Timeout") ACTIVE_WAIT("Extension")
#undef ACTIVE_WAIT
    " 0 FROM pg_stat_activity";

/* The columns after lock_waiters, in order: metric names. */
static const char *const active_wait[] = {
	"active_on_cpu", "active_wait_lock", "active_wait_lwlock",
	"active_wait_io", "active_wait_ipc", "active_wait_bufferpin",
	"active_wait_client", "active_wait_timeout", "active_wait_extension",
};

static void
on_activity(struct pg_probe *pg, const PGresult *res)
{
	double maxc = pg_col_d(res, 0, 0, 0), reserved = pg_col_d(res, 0, 1, 0);
	double used = pg_col_d(res, 0, 2, 0), hidden = pg_col_d(res, 0, 3, 0);

	/* A hidden session still holds a connection slot. */
	used += hidden;
	pg_add(pg, "connections_used", used);
	pg_add(pg, "max_connections", maxc);
	pg_add(pg, "reserved_connections", reserved);
	if (maxc - reserved > 0)
		pg_add(pg, "pool_used_pct", 100.0 * used / (maxc - reserved));
	if (hidden > 0) {
		/* Counting only what is visible would be silently wrong. */
		probe_result_notef(pg->r, "pg_stat_activity hides %.0f "
		    "sessions of other roles from %s (grant pg_monitor): no "
		    "session state metrics", hidden, PQuser(pg->conn));
		return;
	}
	pg_add(pg, "sessions_active", pg_col_d(res, 0, 4, 0));
	pg_add(pg, "sessions_idle", pg_col_d(res, 0, 5, 0));
	pg_add(pg, "sessions_idle_in_tx", pg_col_d(res, 0, 6, 0));
	pg_add(pg, "longest_query_s", pg_col_d(res, 0, 7, 0));
	pg_add(pg, "longest_tx_s", pg_col_d(res, 0, 8, 0));
	pg_add(pg, "idle_in_tx_longest_s", pg_col_d(res, 0, 9, 0));
	pg_add(pg, "lock_waiters", pg_col_d(res, 0, 10, 0));
	for (size_t i = 0; i < sizeof(active_wait) / sizeof(active_wait[0]);
	    i++)
		pg_add(pg, active_wait[i], pg_col_d(res, 0, 11 + (int)i, 0));
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
	cur.commits = pg_col_i64(res, 0, 0, 0);
	cur.rollbacks = pg_col_i64(res, 0, 1, 0);
	cur.blks_hit = pg_col_i64(res, 0, 2, 0);
	cur.blks_read = pg_col_i64(res, 0, 3, 0);
	cur.deadlocks = pg_col_i64(res, 0, 4, 0);
	cur.temp_bytes = pg_col_i64(res, 0, 5, 0);
	cur.reset_s = pg_col_d(res, 0, 6, 0);
	cur.at_s = pg_col_d(res, 0, 7, 0);
	/*
	 * The counters themselves, for whoever rates them: a scrape slower
	 * than the probe loses no deadlock, as the interval's gauges would.
	 */
	pg_add(pg, "xact_commit_total", (double)cur.commits);
	pg_add(pg, "xact_rollback_total", (double)cur.rollbacks);
	pg_add(pg, "blks_hit_total", (double)cur.blks_hit);
	pg_add(pg, "blks_read_total", (double)cur.blks_read);
	pg_add(pg, "deadlocks_total", (double)cur.deadlocks);
	pg_add(pg, "temp_bytes_total", (double)cur.temp_bytes);
	switch (pg_db_delta(&pg->db_prev, &cur, &rt)) {
	case PG_DELTA_OK:
		pg_add(pg, "commits_per_s", rt.commits_per_s);
		pg_add(pg, "rollbacks_per_s", rt.rollbacks_per_s);
		pg_add(pg, "deadlocks", rt.deadlocks);
		pg_add(pg, "temp_bytes", rt.temp_bytes);
		/* No block touched: no ratio, rather than a made-up 100 %. */
		if (rt.has_hit_ratio)
			pg_add(pg, "cache_hit_ratio_pct",
			    rt.cache_hit_ratio_pct);
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
	cur->at_s = pg_col_d(res, 0, 5, 0);
	for (int i = 0; i < rows && i < PG_STMT_ROWS; i++) {
		struct pg_stmt e;

		if (PQgetisnull(res, i, 3))
			continue;	/* no statement at all: the info row */
		if (PQgetisnull(res, i, 1)) {
			hidden++;
			continue;
		}
		e.userid = (uint32_t)pg_col_i64(res, i, 0, 0);
		e.queryid = pg_col_i64(res, i, 1, 0);
		e.toplevel = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		e.calls = pg_col_i64(res, i, 3, 0);
		e.total_ms = pg_col_d(res, i, 4, 0);
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
		pg_add(pg, "stmt_calls_per_s", pg->win.calls_per_s);
		pg_add(pg, "stmt_worst_mean_ms", pg->win.worst_mean_ms);
		pg_add(pg, "slow_statements", (double)pg->win.nslow);
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
	if (pg_col_num(res, 0, 6, &dealloc)) {
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
			if (pg_col_i64(res, row, 0, 0) == s->queryid &&
			    (uint32_t)pg_col_i64(res, row, 1, 0) == s->userid)
				q = PQgetvalue(res, row, 2);
		/*
		 * standard_conforming_strings is a session setting, and the
		 * statement ran in another session: either reading is masked.
		 */
		pg_normalize_query(q != NULL ? q : "(text evicted)",
		    PG_SCS_EITHER, PG_QUERY_TEXT, text, sizeof(text));
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "%s %.0f ms x%lld \"%s\"", i > 0 ? ";" : "", s->mean_ms,
		    (long long)s->calls, text);
	}
	probe_result_notef(pg->r, "%s", line);
}

/*
 * Without a schema, a required index is looked for where a migration
 * would have made it: the schemas of the search path (vigild's session's,
 * "$user", public by default), as PostgreSQL resolves a bare name. A
 * namesake in another schema (a copy, a staging schema) does not satisfy
 * it, but is named, so the configuration can say which schema is meant.
 */
static const char sql_indexes[] =
    "SELECT m.i, x.indexrelid IS NOT NULL,"
    " coalesce(x.indisvalid AND x.indisready, false), x.idx_scan,"
    " (SELECT string_agg(DISTINCT n2.nspname, ', ')"
    "  FROM pg_class c2 JOIN pg_namespace n2 ON n2.oid = c2.relnamespace"
    "  WHERE x.indexrelid IS NULL AND m.sch = '' AND m.idx <> ''"
    "   AND c2.relkind IN ('i', 'I') AND c2.relname = m.idx"
    "   AND n2.nspname <> ALL (current_schemas(false))),"
    " array_to_string(current_schemas(false), ', '), x.nspname, x.relname"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
    "  WITH ORDINALITY AS m(idx, tbl, sch, cols, i)"
    " LEFT JOIN LATERAL ("
    "  SELECT x.indexrelid, x.indisvalid, x.indisready, s.idx_scan,"
    "   n.nspname, c.relname"
    "  FROM pg_index x"
    "  JOIN pg_class c ON c.oid = x.indexrelid"
    "  JOIN pg_class t ON t.oid = x.indrelid"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = x.indexrelid"
    "  WHERE (m.idx = '' OR c.relname = m.idx)"
    "   AND (m.tbl = '' OR t.relname = m.tbl)"
    "   AND CASE WHEN m.sch = '' THEN n.nspname = ANY (current_schemas(false))"
    "    ELSE n.nspname = m.sch END"
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

/* The own-scan accounting of schema.name, made on first sight. */
static struct pg_scan_own *
scan_track(struct pg_probe *pg, const char *schema, const char *name)
{
	struct pg_scan_track *t;

	for (size_t i = 0; i < pg->nscans; i++)
		if (strcmp(pg->scans[i].schema, schema) == 0 &&
		    strcmp(pg->scans[i].name, name) == 0)
			return &pg->scans[i].s;
	t = realloc(pg->scans, (pg->nscans + 1) * sizeof(*t));
	if (t == NULL)
		return NULL;
	pg->scans = t;
	t = &pg->scans[pg->nscans++];
	memset(t, 0, sizeof(*t));
	snprintf(t->schema, sizeof(t->schema), "%s", schema);
	snprintf(t->name, sizeof(t->name), "%s", name);
	return &t->s;
}

/*
 * A required index's scans by the application: idx_scan less the
 * canary's own (its plan says how many per run), as a counter.
 */
static void
index_scans(struct pg_probe *pg, const char *req, const char *schema,
    const char *iname, int64_t raw)
{
	struct pg_scan_own *t = scan_track(pg, schema, iname);
	char name[PG_MAX_PART + 24];
	int k = 0;

	if (t == NULL) {
		probe_result_notef(pg->r, "out of memory counting the scans "
		    "of %s", req);
		return;
	}
	if (pg->canary_ok && pg->plan_known)
		k = pg_plan_index_scans(&pg->plan, schema, iname);
	if (k < 0) {
		/* Never a canary scan taken for the application's. */
		probe_result_notef(pg->r, "the canary scans index %s inside "
		    "a loop: its scans by others cannot be told from the "
		    "canary's", req);
		t->based = false;
		return;
	}
	snprintf(name, sizeof(name), "index_%s_scans_total", req);
	pg_add(pg, name, (double)pg_scan_own_read(t, raw, k));
}

static void
on_indexes(struct pg_probe *pg, const PGresult *res)
{
	const struct pg_cfg *g = &pg->cfg->pg;
	double missing = 0;
	char name[PG_MAX_PART + 16];

	for (int row = 0; row < PQntuples(res); row++) {
		int64_t i = pg_col_i64(res, row, 0, 0) - 1;
		const struct pg_index_req *x;
		double ok = pg_col_d(res, row, 2, 0), scans;
		bool found = pg_col_d(res, row, 1, 0) != 0;

		if (i < 0 || (size_t)i >= g->nindexes)
			continue;
		x = &g->indexes[i];
		snprintf(name, sizeof(name), "index_%s_ok", x->name);
		pg_add(pg, name, ok != 0 ? 1 : 0);
		if (found && pg_col_num(res, row, 3, &scans))
			index_scans(pg, x->name, PQgetvalue(res, row, 6),
			    PQgetvalue(res, row, 7), (int64_t)scans);
		if (ok != 0)
			continue;
		missing++;
		if (!found && !PQgetisnull(res, row, 4)) {
			char where[96], path[96];

			/* Schema names are the database's text. */
			probe_quote(PQgetvalue(res, row, 4), where,
			    sizeof(where));
			probe_quote(PQgetvalue(res, row, 5), path, sizeof(path));
			probe_result_notef(pg->r, "required index %s missing "
			    "from the search path %s; one of that name is in "
			    "schema %s (name the schema to mean it)", x->name,
			    path, where);
		} else if (!found) {
			probe_result_notef(pg->r, "required index %s missing",
			    x->name);
		} else
			probe_result_notef(pg->r, "required index %s invalid "
			    "or not ready (a failed CREATE INDEX "
			    "CONCURRENTLY?)", x->name);
	}
	pg_add(pg, "indexes_missing", missing);
}

/*
 * On a standby, lag as PostgreSQL's documentation measures it: none while
 * everything received is replayed (an idle primary sends nothing, and the
 * last replayed transaction only grows old), else the age of the last
 * replayed transaction. Without a WAL receiver (log shipping) there is no
 * receive position, and that age is all there is.
 */
static const char sql_replication[] =
    "SELECT pg_is_in_recovery(),"
    " CASE WHEN pg_is_in_recovery() THEN CASE"
    "  WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0"
    "  ELSE extract(epoch FROM"
    "   clock_timestamp() - pg_last_xact_replay_timestamp()) END END,"
    " (SELECT count(*) FROM pg_stat_replication),"
    " (SELECT extract(epoch FROM max(replay_lag)) FROM pg_stat_replication),"
    /* pg_current_wal_lsn() is an error on a standby. */
    " CASE WHEN NOT pg_is_in_recovery() THEN (SELECT"
    "  max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))"
    "  FROM pg_stat_replication) END,"
    " CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM"
    "  clock_timestamp() - pg_last_xact_replay_timestamp()) END";

static void
on_replication(struct pg_probe *pg, const PGresult *res)
{
	double v, standbys;

	if (pg_col_d(res, 0, 0, 0) != 0) {
		pg_add(pg, "in_recovery", 1);
		if (pg_col_num(res, 0, 1, &v))
			pg_add(pg, "replication_lag_s", v);
		/* Kept apart: it grows on a caught-up standby of an idle
		 * primary, so it is no lag to page on. */
		if (pg_col_num(res, 0, 5, &v))
			pg_add(pg, "last_replay_age_s", v);
		return;
	}
	pg_add(pg, "in_recovery", 0);
	standbys = pg_col_d(res, 0, 2, 0);
	pg_add(pg, "standbys", standbys);
	if (standbys > 0) {
		/* replay_lag is NULL while a standby is idle and caught up. */
		pg_add(pg, "replication_lag_s", pg_col_d(res, 0, 3, 0));
		if (pg_col_num(res, 0, 4, &v))
			pg_add(pg, "replication_lag_bytes", v);
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
		else if (!pg_col_num(res, 0, c, &v))
			probe_result_notef(pg->r, "custom query %s: %s is NULL",
			    q->name, part);
		else
			pg_add(pg, name, v);
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
		if (pg->canary_blocked)
			return ST_CANARY_BLOCKER;
		if (pg->canary_ok && !pg->plan_tried)
			return ST_CANARY_PLAN;
		return ST_ACTIVITY;
	case ST_CANARY_PLAN:
	case ST_CANARY_BLOCKER:
		return ST_ACTIVITY;
	case ST_ACTIVITY:
		return ST_LOCKS;
	case ST_LOCKS:
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
		return ST_DBA_XID;
	case ST_DBA_XID:
	case ST_DBA_SLOTS:
	case ST_DBA_WAL:
	case ST_DBA_SERVER:
	case ST_DBA_TABLES:
	case ST_DBA_INDEXES:
		if ((st = pg_dba_next(pg, st)) != ST_CUSTOM)
			return st;
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
		/* A canary EXPLAIN cannot take touches no table: no news. */
		if (pg->step == ST_CANARY_PLAN)
			return;
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
	case ST_CANARY_PLAN:
		pg_canary_plan_result(pg, res);
		break;
	case ST_CANARY_BLOCKER:
		pg_canary_blocker_result(pg, res);
		break;
	case ST_ACTIVITY:
		on_activity(pg, res);
		break;
	case ST_LOCKS:
		pg_locks_result(pg, res);
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
	case ST_DBA_XID:
	case ST_DBA_SLOTS:
	case ST_DBA_WAL:
	case ST_DBA_SERVER:
	case ST_DBA_TABLES:
	case ST_DBA_INDEXES:
		pg_dba_result(pg, res);
		break;
	case ST_CUSTOM:
		on_custom(pg, res);
		break;
	case ST_DONE:
		break;
	}
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

void
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
	case ST_CANARY_PLAN:
		ok = pg_canary_plan_send(pg);
		break;
	case ST_CANARY_BLOCKER:
		ok = pg_canary_blocker_send(pg);
		break;
	case ST_ACTIVITY:
		sql = sql_activity;
		break;
	case ST_LOCKS:
		ok = pg_locks_send(pg);
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
	case ST_DBA_XID:
	case ST_DBA_SLOTS:
	case ST_DBA_WAL:
	case ST_DBA_SERVER:
	case ST_DBA_TABLES:
	case ST_DBA_INDEXES:
		ok = pg_dba_send(pg);
		break;
	case ST_CUSTOM:
		sql = g->custom[pg->custom_i].sql;
		break;
	case ST_DONE:
		probe_end(pg->probe);
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

void
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
