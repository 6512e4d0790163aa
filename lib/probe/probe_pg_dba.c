/*
 * The postgres probe's DBA steps: the signals that precede outages.
 * Transaction ID wraparound and who holds the xmin horizon back,
 * replication slots, WAL and the archiver, checkpoints, the server's
 * restarts, settings and connection limits, running vacuums (every run);
 * dead tuples, vacuum ages, sizes and indexes (every PG_DBA_EVERY runs:
 * they read a row per table). Every query is bounded (LIMIT, aggregates)
 * and needs no more than pg_monitor. The arithmetic is pg_dba_stats.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "base/humanize.h"
#include "config/config.h"
#include "probe/pg_dba_stats.h"
#include "probe/pg_norm.h"
#include "probe/probe_pg_int.h"

/* Levels at which a note names the culprit (the shipped rules' warn). */
#define XID_AGE_NOTE		1.0e9
#define SLOT_RETAIN_NOTE	(10.0 * 1024 * 1024 * 1024)
#define SLOT_INACTIVE_NOTE	3600.0
#define DEAD_PCT_NOTE		30.0
#define CONN_LIMIT_NOTE		80.0
/* A table counts for dead tuples and vacuum ages from this size on. */
#define TABLE_MIN_PAGES		"128"	/* 1 MiB of 8 kB pages */
#define TABLE_MIN_ROWS		"10000"
#define HOLDER_TEXT		80	/* bytes of a holder's query shown */

/* ---- reading columns ------------------------------------------------- */

/* A name the database gave (a table, a slot, a gid), quoted for a note. */
static void
quoted(const PGresult *res, int row, int col, char *out, size_t len)
{
	if (col >= PQnfields(res) || row >= PQntuples(res) ||
	    PQgetisnull(res, row, col))
		snprintf(out, len, "?");
	else
		probe_quote(PQgetvalue(res, row, col), out, len);
}

static void
utc(double unix_s, char *out, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "?");
}

/* ---- wraparound and the xmin horizon ---------------------------------- */

/*
 * Every holder of the horizon, oldest first. On a tie the one whose own
 * transaction is the horizon (rank 1: a session's xid, a prepared
 * transaction) wins over those merely seeing it in their snapshots: every
 * snapshot taken while a prepared transaction is open has its xid as
 * xmin. A walsender's xmin is its standby's feedback, named as such.
 */
static const char sql_xid[] =
    "WITH h(rank, kind, who, x, age, since, extra, q) AS ("
    " SELECT 1, 'session', pid::text, backend_xid::text::bigint,"
    "  age(backend_xid), extract(epoch FROM xact_start), state, query"
    "  FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
    "  AND pid <> pg_backend_pid()"
    "  AND backend_type IS DISTINCT FROM 'walsender'"
    " UNION ALL"
    " SELECT 3, 'session', pid::text, backend_xmin::text::bigint,"
    "  age(backend_xmin), extract(epoch FROM xact_start), state, query"
    "  FROM pg_stat_activity WHERE backend_xmin IS NOT NULL"
    "  AND pid <> pg_backend_pid()"
    "  AND backend_type IS DISTINCT FROM 'walsender'"
    " UNION ALL"
    " SELECT 1, 'prepared', gid, transaction::text::bigint,"
    "  age(transaction), extract(epoch FROM prepared), owner::text, NULL"
    "  FROM pg_prepared_xacts"
    " UNION ALL"
    " SELECT 2, 'slot', slot_name::text, xmin::text::bigint, age(xmin),"
    "  NULL, slot_type, NULL FROM pg_replication_slots"
    "  WHERE xmin IS NOT NULL"
    " UNION ALL"
    " SELECT 2, 'slot', slot_name::text, catalog_xmin::text::bigint,"
    "  age(catalog_xmin), NULL, slot_type, NULL FROM pg_replication_slots"
    "  WHERE catalog_xmin IS NOT NULL"
    " UNION ALL"
    " SELECT 2, 'standby', coalesce(application_name, '') || '@' ||"
    "  coalesce(host(client_addr), 'local'), backend_xmin::text::bigint,"
    "  age(backend_xmin), NULL, state, NULL FROM pg_stat_replication"
    "  WHERE backend_xmin IS NOT NULL)"
    " SELECT d.xa, d.xdb, d.ma, d.mdb, extract(epoch FROM clock_timestamp()),"
    "  h.kind, h.who, h.x, h.age, h.since, h.extra, left(h.q, 2000)"
    " FROM (SELECT"
    "  (SELECT max(age(datfrozenxid)) FROM pg_database) AS xa,"
    "  (SELECT datname FROM pg_database"
    "   ORDER BY age(datfrozenxid) DESC LIMIT 1) AS xdb,"
    "  (SELECT max(mxid_age(datminmxid)) FROM pg_database) AS ma,"
    "  (SELECT datname FROM pg_database"
    "   ORDER BY mxid_age(datminmxid) DESC LIMIT 1) AS mdb) d"
    " LEFT JOIN LATERAL (SELECT * FROM h"
    "  ORDER BY h.age DESC, h.rank, h.since NULLS LAST LIMIT 1) h ON true";

static void
on_xid(struct pg_probe *pg, const PGresult *res)
{
	double xa, ma, now = pg_col_d(res, 0, 4, 0), age, since = -1, x, held;
	char db[96], who[96], key[128], extra[64], hum[32];
	const char *kind;

	if (PQntuples(res) < 1)
		return;
	if (pg_col_num(res, 0, 0, &xa)) {
		pg_add(pg, "xid_age_max", xa);
		if (xa > XID_AGE_NOTE) {
			quoted(res, 0, 1, db, sizeof(db));
			probe_result_notef(pg->r, "database %s: transaction ID "
			    "age %.0f (wraparound protection at 2^31; VACUUM "
			    "FREEZE it)", db, xa);
		}
	}
	if (pg_col_num(res, 0, 2, &ma)) {
		pg_add(pg, "mxid_age_max", ma);
		if (ma > XID_AGE_NOTE) {
			quoted(res, 0, 3, db, sizeof(db));
			probe_result_notef(pg->r, "database %s: multixact ID "
			    "age %.0f", db, ma);
		}
	}
	if (PQgetisnull(res, 0, 5) || !pg_col_num(res, 0, 8, &age) ||
	    !pg_col_num(res, 0, 7, &x)) {
		/* Nothing holds the horizon: it is the next transaction. */
		pg_hold_clear(&pg->dba.hold);
		pg_add(pg, "xmin_horizon_age", 0);
		pg_add(pg, "xmin_horizon_held_s", 0);
		return;
	}
	kind = PQgetvalue(res, 0, 5);
	snprintf(key, sizeof(key), "%s %s", kind, PQgetvalue(res, 0, 6));
	held = pg_hold_update(&pg->dba.hold, key, (int64_t)x,
	    pg_col_num(res, 0, 9, &since) ? since : -1, now);
	pg_add(pg, "xmin_horizon_age", age);
	pg_add(pg, "xmin_horizon_held_s", held);
	if (held * 1000.0 < (double)pg->cfg->pg.dba_note_ms)
		return;
	/* Long enough to matter: name the holder. */
	human_value(held, "s", hum, sizeof(hum));
	quoted(res, 0, 6, who, sizeof(who));
	quoted(res, 0, 10, extra, sizeof(extra));
	if (strcmp(kind, "session") == 0) {
		char text[HOLDER_TEXT + 4];

		pg_normalize_query(PQgetisnull(res, 0, 11) ? "" :
		    PQgetvalue(res, 0, 11), PG_SCS_EITHER, HOLDER_TEXT, text,
		    sizeof(text));
		probe_result_notef(pg->r, "xmin horizon held %s (%.0f xids) "
		    "by session pid %s (%s) \"%s\"", hum, age,
		    PQgetvalue(res, 0, 6), extra, text);
	} else if (strcmp(kind, "prepared") == 0) {
		char at[32];

		utc(since, at, sizeof(at));
		probe_result_notef(pg->r, "xmin horizon held %s (%.0f xids) "
		    "by prepared transaction gid %s (prepared %s by %s; "
		    "COMMIT or ROLLBACK PREPARED)", hum, age, who, at, extra);
	} else if (strcmp(kind, "slot") == 0) {
		probe_result_notef(pg->r, "xmin horizon held %s or more "
		    "(%.0f xids) by replication slot %s (%s)", hum, age, who,
		    extra);
	} else {
		probe_result_notef(pg->r, "xmin horizon held %s or more "
		    "(%.0f xids) by standby %s (hot_standby_feedback)", hum,
		    age, who);
	}
}

/* ---- replication slots ------------------------------------------------ */

static int
send_slots(struct pg_probe *pg)
{
	char sql[1400];

	snprintf(sql, sizeof(sql),
	    "SELECT slot_name, slot_type, active, wal_status,"
	    /* pg_current_wal_lsn() is an error on a standby: there a
	     * (cascading) slot keeps WAL from the replay position on. */
	    " CASE WHEN pg_is_in_recovery() THEN"
	    "  pg_wal_lsn_diff(pg_last_wal_replay_lsn(), restart_lsn)"
	    "  ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) END"
	    "  AS retained,"
	    " %s, extract(epoch FROM clock_timestamp()),"
	    " count(*) OVER (), count(*) FILTER (WHERE NOT active) OVER (),"
	    " count(*) FILTER (WHERE wal_status IN ('lost', 'unreserved'))"
	    "  OVER ()"
	    " FROM pg_replication_slots"
	    " ORDER BY retained DESC NULLS LAST, slot_name LIMIT %d",
	    /* PostgreSQL 17 says since when; before it vigild counts. */
	    PQserverVersion(pg->conn) >= 170000 ?
	    "extract(epoch FROM inactive_since)" : "NULL::float8",
	    PG_SLOT_TRACK);
	return PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

static void
on_slots(struct pg_probe *pg, const PGresult *res)
{
	struct pg_slot_row rows[PG_SLOT_TRACK];
	struct pg_slot_age age;
	int n = PQntuples(res);
	double retained = -1, now = 0;
	int worst_ret = -1;

	if (n > PG_SLOT_TRACK)
		n = PG_SLOT_TRACK;
	for (int i = 0; i < n; i++) {
		double v;

		rows[i].name = PQgetvalue(res, i, 0);
		rows[i].active = pg_col_d(res, i, 2, 0) != 0;
		rows[i].inactive_since_s = pg_col_d(res, i, 5, -1);
		now = pg_col_d(res, i, 6, 0);
		if (pg_col_num(res, i, 4, &v) && v > retained) {
			retained = v;
			worst_ret = i;
		}
	}
	pg_add(pg, "slots", pg_col_d(res, 0, 7, 0));
	pg_add(pg, "slots_inactive", pg_col_d(res, 0, 8, 0));
	pg_add(pg, "slots_wal_lost", pg_col_d(res, 0, 9, 0));
	/* No slot keeps anything: 0, so a rule over it is not unknown. */
	pg_add(pg, "slot_wal_retained_max_bytes", worst_ret >= 0 ? retained :
	    0);
	pg_slot_track_update(&pg->dba.slots, rows, (size_t)n, now, &age);
	pg_add(pg, "slot_inactive_longest_s", age.longest_s);
	if (worst_ret >= 0 && retained > SLOT_RETAIN_NOTE) {
		char name[96], hum[32];

		quoted(res, worst_ret, 0, name, sizeof(name));
		human_value(retained, "bytes", hum, sizeof(hum));
		probe_result_notef(pg->r, "replication slot %s (%s, %s) "
		    "retains %s of WAL", name, PQgetvalue(res, worst_ret, 1),
		    rows[worst_ret].active ? "active" : "inactive", hum);
	}
	if (age.worst >= 0 && age.longest_s > SLOT_INACTIVE_NOTE) {
		char name[96], hum[32];

		quoted(res, age.worst, 0, name, sizeof(name));
		human_value(age.longest_s, "s", hum, sizeof(hum));
		probe_result_notef(pg->r, "replication slot %s inactive for "
		    "%s%s (no consumer: drop it or reconnect it)", name, hum,
		    rows[age.worst].inactive_since_s < 0 ? " or more" : "");
	}
	if (age.untracked > 0)
		probe_result_notef(pg->r, "%zu inactive slots beyond the %d "
		    "tracked: their inactivity is not timed", age.untracked,
		    PG_SLOT_TRACK);
}

/* ---- WAL, the archiver, checkpoints ----------------------------------- */

static int
send_wal(struct pg_probe *pg)
{
	char sql[1200];
	bool v17 = PQserverVersion(pg->conn) >= 170000;

	/* PostgreSQL 17 moved the checkpoint counters to their own view. */
	snprintf(sql, sizeof(sql),
	    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN"
	    "  pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') END,"
	    " extract(epoch FROM clock_timestamp()),"
	    " a.archived_count, a.failed_count,"
	    " coalesce(a.last_failed_time > coalesce(a.last_archived_time,"
	    "  '-infinity'), false),"
	    " %s, b.buffers_clean, b.maxwritten_clean, %s"
	    " FROM pg_stat_archiver a, pg_stat_bgwriter b%s",
	    v17 ? "c.num_timed, c.num_requested, c.write_time, c.sync_time,"
	    " c.buffers_written" : "b.checkpoints_timed, b.checkpoints_req,"
	    " b.checkpoint_write_time, b.checkpoint_sync_time,"
	    " b.buffers_checkpoint",
	    v17 ? "NULL::bigint" : "b.buffers_backend",
	    v17 ? ", pg_stat_checkpointer c" : "");
	return PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

static void
on_wal(struct pg_probe *pg, const PGresult *res)
{
	static const char *const totals[] = {
		"archiver_archived_total", "archiver_failed_total", NULL,
		"checkpoints_timed_total", "checkpoints_req_total",
		"checkpoint_write_s_total", "checkpoint_sync_s_total",
		"buffers_checkpoint_total", "buffers_clean_total",
		"maxwritten_clean_total", "buffers_backend_total",
	};
	double at = pg_col_d(res, 0, 1, 0), v, rate;
	struct pg_ckpt_snap ck;
	struct pg_ckpt_delta d;

	if (PQntuples(res) < 1)
		return;
	if (pg_col_num(res, 0, 0, &v)) {
		pg_add(pg, "wal_bytes_total", v);
		if (pg_ctr_rate(&pg->dba.wal, at, v, &rate) == PG_DELTA_OK)
			pg_add(pg, "wal_bytes_per_s", rate);
	}
	for (int c = 2; c < 13; c++) {
		if (totals[c - 2] == NULL || !pg_col_num(res, 0, c, &v))
			continue;
		/* Times are milliseconds; vigil's unit is the second. */
		if (c == 7 || c == 8)
			v /= 1000.0;
		pg_add(pg, totals[c - 2], v);
	}
	pg_add(pg, "archiver_failing", pg_col_d(res, 0, 4, 0));
	ck.timed = pg_col_d(res, 0, 5, 0);
	ck.req = pg_col_d(res, 0, 6, 0);
	ck.valid = true;
	pg_add(pg, "checkpoints_total", ck.timed + ck.req);
	if (pg_ckpt_delta(&pg->dba.ckpt, &ck, &d) == PG_DELTA_OK) {
		pg_add(pg, "checkpoints_timed", d.timed);
		pg_add(pg, "checkpoints_req", d.req);
	}
	if (pg_col_d(res, 0, 4, 0) != 0)
		probe_result_notef(pg->r, "WAL archiving is failing "
		    "(pg_stat_archiver: last_failed_wal after the last "
		    "archived; see archive_command)");
}

/* ---- the server: restarts, settings, limits, vacuums ------------------- */

/*
 * Connection limits: the role or database nearest its own limit (a
 * limit of 0 forbids connecting; none there to count).
 */
static const char sql_server[] =
    "SELECT extract(epoch FROM pg_postmaster_start_time()),"
    " extract(epoch FROM pg_conf_load_time()),"
    " extract(epoch FROM clock_timestamp()),"
    " (SELECT count(*) FROM pg_settings WHERE pending_restart),"
    " (SELECT string_agg(name, ', ') FROM (SELECT name FROM pg_settings"
    "  WHERE pending_restart ORDER BY name LIMIT 5) s),"
    " l.kind, l.name, l.used, l.lim,"
    " (SELECT count(*) FROM pg_stat_progress_vacuum),"
    " v.pid, v.phase, v.age, v.rel"
    " FROM (SELECT 1) one"
    " LEFT JOIN LATERAL (SELECT * FROM ("
    "  SELECT 'role' AS kind, r.rolname::text AS name, count(a.pid) AS used,"
    "   r.rolconnlimit AS lim FROM pg_roles r"
    "   LEFT JOIN pg_stat_activity a ON a.usename = r.rolname"
    "    AND a.backend_type = 'client backend'"
    "   WHERE r.rolconnlimit > 0 GROUP BY r.rolname, r.rolconnlimit"
    "  UNION ALL"
    "  SELECT 'database', d.datname::text, count(a.pid), d.datconnlimit"
    "   FROM pg_database d LEFT JOIN pg_stat_activity a"
    "    ON a.datname = d.datname AND a.backend_type = 'client backend'"
    "   WHERE d.datconnlimit > 0 GROUP BY d.datname, d.datconnlimit"
    "  ) u ORDER BY used::float8 / lim DESC LIMIT 1) l ON true"
    " LEFT JOIN LATERAL ("
    "  SELECT p.pid, p.phase,"
    "   extract(epoch FROM clock_timestamp() - a.xact_start) AS age,"
    "   p.datname || ' ' || p.relid::regclass::text AS rel"
    "  FROM pg_stat_progress_vacuum p"
    "  LEFT JOIN pg_stat_activity a ON a.pid = p.pid"
    "  ORDER BY a.xact_start NULLS LAST LIMIT 1) v ON true";

static void
on_server(struct pg_probe *pg, const PGresult *res)
{
	double start, now = pg_col_d(res, 0, 2, 0), v, used, lim;

	if (PQntuples(res) < 1)
		return;
	if (pg_col_num(res, 0, 0, &start)) {
		pg_add(pg, "uptime_s", now - start);
		/* Kept across reconnects: a restart is what drops them. */
		if (pg->dba.pm_start_s != 0 && start != pg->dba.pm_start_s) {
			char at[32];

			utc(start, at, sizeof(at));
			probe_result_notef(pg->r, "server restarted at %s", at);
		}
		pg->dba.pm_start_s = start;
	}
	if (pg_col_num(res, 0, 1, &v))
		pg_add(pg, "conf_load_age_s", now - v);
	v = pg_col_d(res, 0, 3, 0);
	pg_add(pg, "settings_pending_restart", v);
	if (v > 0) {
		char names[160];

		quoted(res, 0, 4, names, sizeof(names));
		probe_result_notef(pg->r, "%.0f settings changed, waiting for "
		    "a restart: %s", v, names);
	}
	if (pg_col_num(res, 0, 7, &used) && pg_col_num(res, 0, 8, &lim) && lim > 0) {
		double pct = 100.0 * used / lim;

		pg_add(pg, "conn_limit_used_pct_max", pct);
		if (pct >= CONN_LIMIT_NOTE) {
			char name[96];

			quoted(res, 0, 6, name, sizeof(name));
			probe_result_notef(pg->r, "%s %s uses %.0f of its %.0f "
			    "connections (CONNECTION LIMIT)",
			    PQgetvalue(res, 0, 5), name, used, lim);
		}
	}
	pg_add(pg, "vacuums_running", pg_col_d(res, 0, 9, 0));
	if (pg_col_num(res, 0, 12, &v)) {
		char rel[128], phase[64], hum[32];

		pg_add(pg, "vacuum_longest_s", v);
		if (v * 1000.0 >= (double)pg->cfg->pg.dba_note_ms) {
			quoted(res, 0, 13, rel, sizeof(rel));
			quoted(res, 0, 11, phase, sizeof(phase));
			human_value(v, "s", hum, sizeof(hum));
			probe_result_notef(pg->r, "vacuum of %s running for %s "
			    "(pid %s, phase %s)", rel, hum,
			    PQgetvalue(res, 0, 10), phase);
		}
	} else {
		pg_add(pg, "vacuum_longest_s", 0);
	}
}

/* ---- tables: dead tuples, vacuum ages, sizes -------------------------- */

/*
 * Tables from 1 MiB or 10,000 rows on (relpages is only as fresh as the
 * last VACUUM or ANALYZE, hence the rows too), the user tables of
 * pg_stat_user_tables read through its functions: the view also sums
 * every table's index scans, which made it four times as slow with
 * 10,000 tables (53 against 13 ms). The largest table is
 * found by relpages, its size too (with its indexes and TOAST):
 * pg_total_relation_size() would take a lock on it, and wait behind a
 * migration's ALTER TABLE until lock_timeout; the catalogs and the
 * statistics functions take none on a user table.
 */
static const char sql_tables[] =
    "WITH t AS (SELECT * FROM (SELECT n.nspname AS schemaname,"
    "  c.relname, c.relpages, pg_stat_get_live_tuples(c.oid) AS n_live_tup,"
    "  pg_stat_get_dead_tuples(c.oid) AS n_dead_tup,"
    "  greatest(pg_stat_get_last_vacuum_time(c.oid),"
    "   pg_stat_get_last_autovacuum_time(c.oid)) AS lv,"
    "  greatest(pg_stat_get_last_analyze_time(c.oid),"
    "   pg_stat_get_last_autoanalyze_time(c.oid)) AS la"
    "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE c.relkind IN ('r', 'm')"
    "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    "   AND n.nspname !~ '^pg_toast') u"
    "  WHERE relpages >= " TABLE_MIN_PAGES
    "   OR n_live_tup + n_dead_tup >= " TABLE_MIN_ROWS "),"
    " w AS (SELECT * FROM t WHERE n_dead_tup > 0 ORDER BY"
    "  n_dead_tup::float8 / (n_live_tup + n_dead_tup) DESC,"
    "  n_dead_tup DESC LIMIT 1)"
    " SELECT extract(epoch FROM clock_timestamp()),"
    " pg_database_size(current_database()),"
    " (SELECT max(c.relpages + coalesce(tt.relpages, 0) + coalesce((SELECT"
    "  sum(i.relpages) FROM pg_index x JOIN pg_class i"
    "  ON i.oid = x.indexrelid WHERE x.indrelid = c.oid), 0))"
    "  * current_setting('block_size')::bigint"
    "  FROM (SELECT oid, relpages, reltoastrelid FROM pg_class"
    "  WHERE relkind IN ('r', 'm') ORDER BY relpages DESC LIMIT 5) c"
    "  LEFT JOIN pg_class tt ON tt.oid = c.reltoastrelid),"
    " (SELECT count(*) FROM t), (SELECT coalesce(sum(n_dead_tup), 0) FROM t),"
    " (SELECT coalesce(max(n_dead_tup), 0) FROM t),"
    " w.schemaname || '.' || w.relname,"
    " 100.0 * w.n_dead_tup / (w.n_live_tup + w.n_dead_tup),"
    " w.n_dead_tup, w.n_live_tup,"
    " extract(epoch FROM clock_timestamp() - w.lv),"
    " (SELECT extract(epoch FROM clock_timestamp() - min(lv)) FROM t),"
    " (SELECT count(*) FROM t WHERE lv IS NULL),"
    " (SELECT extract(epoch FROM clock_timestamp() - min(la)) FROM t),"
    " (SELECT count(*) FROM t WHERE la IS NULL),"
    " (SELECT string_agg(schemaname || '.' || relname || ' ' || n_dead_tup,"
    "  ', ') FROM (SELECT * FROM t WHERE n_dead_tup > 0"
    "  ORDER BY n_dead_tup DESC LIMIT 3) d)"
    " FROM (SELECT 1) one LEFT JOIN w ON true";

static void
on_tables(struct pg_probe *pg, const PGresult *res)
{
	double at = pg_col_d(res, 0, 0, 0), v, growth, pct;

	if (PQntuples(res) < 1)
		return;
	if (pg_col_num(res, 0, 1, &v)) {
		pg_add(pg, "db_size_bytes", v);
		if (pg_size_growth(&pg->dba.db_size, at, v, &growth) ==
		    PG_DELTA_OK)
			pg_add(pg, "db_growth_bytes_per_h", growth);
	}
	if (pg_col_num(res, 0, 2, &v))
		pg_add(pg, "table_largest_bytes", v);
	pg_add(pg, "tables_watched", pg_col_d(res, 0, 3, 0));
	pg_add(pg, "dead_tuples", pg_col_d(res, 0, 4, 0));
	pg_add(pg, "dead_tuples_max", pg_col_d(res, 0, 5, 0));
	pct = pg_col_d(res, 0, 7, 0);
	pg_add(pg, "dead_tuples_pct_max", pct);
	if (pg_col_num(res, 0, 12, &v))
		pg_add(pg, "tables_never_vacuumed", v);
	if (pg_col_num(res, 0, 11, &v))
		pg_add(pg, "vacuum_age_max_s", v);
	if (pg_col_num(res, 0, 14, &v))
		pg_add(pg, "tables_never_analyzed", v);
	if (pg_col_num(res, 0, 13, &v))
		pg_add(pg, "analyze_age_max_s", v);
	if (pct > DEAD_PCT_NOTE) {
		char name[160], when[40], hum[32];

		quoted(res, 0, 6, name, sizeof(name));
		if (pg_col_num(res, 0, 10, &v)) {
			human_value(v, "s", hum, sizeof(hum));
			snprintf(when, sizeof(when), "%s ago", hum);
		} else
			snprintf(when, sizeof(when), "never");
		char top[200];

		quoted(res, 0, 15, top, sizeof(top));
		probe_result_notef(pg->r, "table %s: %.0f %% dead tuples "
		    "(%.0f dead, %.0f live; last vacuum %s); most dead "
		    "tuples: %s", name, pct, pg_col_d(res, 0, 8, 0),
		    pg_col_d(res, 0, 9, 0), when, top);
	}
}

/* ---- indexes: invalid, unused ----------------------------------------- */

/*
 * Unused: idx_scan = 0 since the statistics were reset, not unique (a
 * constraint is a use), valid, from 1 MiB on; the largest named. Sizes
 * from relpages, which takes no lock (see the tables' query).
 */
static const char sql_indexes_dba[] =
    "WITH u AS (SELECT s.schemaname || '.' || s.indexrelname AS name,"
    "  c.relpages::bigint * current_setting('block_size')::bigint AS bytes"
    "  FROM pg_stat_user_indexes s"
    "  JOIN pg_index x ON x.indexrelid = s.indexrelid"
    "  JOIN pg_class c ON c.oid = s.indexrelid"
    "  WHERE s.idx_scan = 0 AND NOT x.indisunique AND x.indisvalid"
    "   AND c.relpages >= " TABLE_MIN_PAGES ")"
    " SELECT (SELECT count(*) FROM pg_index WHERE NOT indisvalid),"
    " (SELECT string_agg(n, ', ') FROM (SELECT indexrelid::regclass::text"
    "  AS n FROM pg_index WHERE NOT indisvalid ORDER BY 1 LIMIT 3) i),"
    " (SELECT count(*) FROM u), (SELECT coalesce(sum(bytes), 0) FROM u),"
    " (SELECT string_agg(name || ' ' || pg_size_pretty(bytes), ', ')"
    "  FROM (SELECT * FROM u ORDER BY bytes DESC LIMIT 3) w)";

static void
on_indexes_dba(struct pg_probe *pg, const PGresult *res)
{
	double inv, unused;
	char names[200];

	if (PQntuples(res) < 1)
		return;
	inv = pg_col_d(res, 0, 0, 0);
	unused = pg_col_d(res, 0, 2, 0);
	pg_add(pg, "indexes_invalid", inv);
	pg_add(pg, "indexes_unused", unused);
	pg_add(pg, "indexes_unused_bytes", pg_col_d(res, 0, 3, 0));
	if (inv > 0) {
		quoted(res, 0, 1, names, sizeof(names));
		probe_result_notef(pg->r, "%.0f invalid indexes (a failed "
		    "CREATE INDEX CONCURRENTLY? drop and rebuild): %s", inv,
		    names);
	}
	if (unused > 0) {
		quoted(res, 0, 4, names, sizeof(names));
		probe_result_notef(pg->r, "%.0f indexes never scanned since "
		    "the statistics reset: %s", unused, names);
	}
}

/* ---- the steps -------------------------------------------------------- */

enum pg_step
pg_dba_next(struct pg_probe *pg, enum pg_step st)
{
	switch (st) {
	case ST_DBA_XID:
		return ST_DBA_SLOTS;
	case ST_DBA_SLOTS:
		return ST_DBA_WAL;
	case ST_DBA_WAL:
		return ST_DBA_SERVER;
	case ST_DBA_SERVER:
		/* The per-table reads: this run, then every PG_DBA_EVERY. */
		pg->dba.heavy = pg->dba.heavy_in == 0;
		pg->dba.heavy_in = pg->dba.heavy ? PG_DBA_EVERY - 1 :
		    pg->dba.heavy_in - 1;
		return pg->dba.heavy ? ST_DBA_TABLES : ST_CUSTOM;
	case ST_DBA_TABLES:
		return ST_DBA_INDEXES;
	default:
		return ST_CUSTOM;
	}
}

int
pg_dba_send(struct pg_probe *pg)
{
	const char *sql = NULL;

	switch (pg->step) {
	case ST_DBA_XID:
		sql = sql_xid;
		break;
	case ST_DBA_SLOTS:
		return send_slots(pg);
	case ST_DBA_WAL:
		return send_wal(pg);
	case ST_DBA_SERVER:
		sql = sql_server;
		break;
	case ST_DBA_TABLES:
		sql = sql_tables;
		break;
	case ST_DBA_INDEXES:
		sql = sql_indexes_dba;
		break;
	default:
		return 0;
	}
	return PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

void
pg_dba_result(struct pg_probe *pg, const PGresult *res)
{
	switch (pg->step) {
	case ST_DBA_XID:
		on_xid(pg, res);
		break;
	case ST_DBA_SLOTS:
		on_slots(pg, res);
		break;
	case ST_DBA_WAL:
		on_wal(pg, res);
		break;
	case ST_DBA_SERVER:
		on_server(pg, res);
		break;
	case ST_DBA_TABLES:
		on_tables(pg, res);
		break;
	case ST_DBA_INDEXES:
		on_indexes_dba(pg, res);
		break;
	default:
		break;
	}
}
