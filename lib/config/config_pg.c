/*
 * The "postgres" probe's section of the configuration. Like every section
 * reader it only reads and validates: the connection string is parsed by
 * libpq's PQconninfoParse (no network), and a password in it is never
 * repeated in an error or in the probe's target.
 */
#include "config/cfgread_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "config/config_pg.h"

#define DEFAULT_CANARY		"SELECT 1"
#define DEFAULT_SLOW_MS		250
#define DEFAULT_RECONNECT_MAX_MS 30000

const char *
pg_conninfo_value(const PQconninfoOption *opts, const char *kw)
{
	for (const PQconninfoOption *o = opts; o != NULL && o->keyword != NULL;
	    o++)
		if (strcmp(o->keyword, kw) == 0)
			return o->val != NULL && o->val[0] != '\0' ? o->val :
			    NULL;
	return NULL;
}

/* The value from the string, else libpq's default (its environment). */
static const char *
opt_effective(const PQconninfoOption *opts, const PQconninfoOption *defs,
    const char *kw)
{
	const char *s = pg_conninfo_value(opts, kw);

	return s != NULL ? s : pg_conninfo_value(defs, kw);
}

int
pg_describe_conninfo(const char *conninfo, char *buf, size_t len)
{
	PQconninfoOption *opts = NULL, *defs;
	const char *host, *port, *db, *user;
	char *err = NULL;

	if (conninfo != NULL) {
		opts = PQconninfoParse(conninfo, &err);
		if (opts == NULL) {
			PQfreemem(err);
			snprintf(buf, len, "(invalid conninfo)");
			return -1;
		}
	}
	/* Environment defaults (PGHOST, PGUSER, ...); no network, no file. */
	defs = PQconndefaults();
	host = opt_effective(opts, defs, "host");
	if (host == NULL)
		host = opt_effective(opts, defs, "hostaddr");
	port = opt_effective(opts, defs, "port");
	db = opt_effective(opts, defs, "dbname");
	user = opt_effective(opts, defs, "user");
	snprintf(buf, len, "%s:%s/%s user=%s",
	    host != NULL ? host : "(default socket)",
	    port != NULL ? port : "5432", db != NULL ? db : (user != NULL ?
	    user : "?"), user != NULL ? user : "?");
	PQconninfoFree(opts);
	PQconninfoFree(defs);
	return 0;
}

/*
 * libpq's parse errors can quote the part of the string they stumbled on,
 * which may be the password (a URL error quotes the whole URL). Only the
 * message naming an unknown keyword is safe to repeat.
 */
static void
conninfo_error(struct cfgread *v, const cJSON *node, const char *err)
{
	char msg[160];
	size_t n;

	if (err != NULL && strncmp(err, "invalid connection option", 25) == 0) {
		snprintf(msg, sizeof(msg), "%s", err);
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		cfg_err(v, node, "\"conninfo\": %s", msg);
		return;
	}
	cfg_err(v, node, "\"conninfo\" is not a valid libpq connection string "
	    "(\"host=... dbname=... user=...\") or URL "
	    "(\"postgresql://user@host:5432/db\")");
}

static void
validate_conninfo(struct cfgread *v, const cJSON *node, const char *ci,
    bool has_password_file)
{
	PQconninfoOption *opts;
	const char *host, *addr;
	char *err = NULL;

	opts = PQconninfoParse(ci, &err);
	if (opts == NULL) {
		conninfo_error(v, node, err);
		PQfreemem(err);
		return;
	}
	host = pg_conninfo_value(opts, "host");
	addr = pg_conninfo_value(opts, "hostaddr");
	/*
	 * A service file can name the host, and vigild must know the host
	 * before libpq does to resolve it without blocking the loop.
	 */
	if (pg_conninfo_value(opts, "service") != NULL)
		cfg_err(v, node, "\"conninfo\": \"service\" is not supported: "
		    "write host, port, dbname and user in the conninfo");
	if (host != NULL && strchr(host, ',') != NULL && addr == NULL)
		cfg_err(v, node, "\"conninfo\": a host list needs a matching "
		    "numeric \"hostaddr\" list (vigild resolves one name)");
	if (pg_conninfo_value(opts, "password") != NULL && has_password_file)
		cfg_err(v, node, "\"conninfo\" has a password and there is a "
		    "\"password_file\": keep one (the file)");
	PQconninfoFree(opts);
}

/* [A-Za-z_][A-Za-z0-9_$]*: an unquoted SQL identifier. */
static bool
valid_ident(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
			return false;
	return true;
}

static bool
valid_part(const char *s)
{
	return cfg_valid_name(s) && strlen(s) <= PG_MAX_PART;
}

/* An optional identifier member of an index entry. */
static int
index_ident(struct cfgread *v, const cJSON *o, const char *key, char **out)
{
	const char *s;
	int rc = cfg_string(v, o, key, &s);

	if (rc != 1)
		return rc;
	if (!valid_ident(s)) {
		cfg_err(v, cfg_member(o, key), "\"%s\": \"%s\" must be a plain "
		    "SQL name (letters, digits, _ and $, not starting with a "
		    "digit, at most 63)", key, s);
		return -1;
	}
	*out = cfg_strdup(v, o, s);
	return 1;
}

static void
index_columns(struct cfgread *v, const cJSON *o, struct pg_index_req *x)
{
	const cJSON *cols = cfg_member(o, "columns"), *c;
	size_t len = 0;

	if (cols == NULL)
		return;
	if (!cJSON_IsArray(cols) || cJSON_GetArraySize(cols) == 0) {
		cfg_err(v, cols, "\"columns\" must be a non-empty array of column "
		    "names, in the index's order");
		return;
	}
	cJSON_ArrayForEach(c, cols) {
		if (!cJSON_IsString(c) || !valid_ident(c->valuestring)) {
			cfg_err(v, c, "a column must be a plain SQL name");
			return;
		}
		len += strlen(c->valuestring) + 1;
	}
	x->columns = calloc(1, len);
	if (x->columns == NULL) {
		cfg_err(v, cols, "out of memory");
		return;
	}
	cJSON_ArrayForEach(c, cols) {
		if (x->columns[0] != '\0')
			strncat(x->columns, ",", len - strlen(x->columns) - 1);
		strncat(x->columns, c->valuestring, len - strlen(x->columns) - 1);
	}
}

/* A metric name part from the table and columns: orders_customer_id. */
static char *
index_default_name(const struct pg_index_req *x)
{
	size_t len;
	char *s;

	if (x->index != NULL)
		return valid_part(x->index) ? strdup(x->index) : NULL;
	if (x->table == NULL || x->columns == NULL)
		return NULL;
	len = strlen(x->table) + strlen(x->columns) + 2;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	snprintf(s, len, "%s_%s", x->table, x->columns);
	for (char *c = s; *c != '\0'; c++)
		if (*c == ',')
			*c = '_';
	if (!valid_part(s)) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * "required_indexes": ["orders_customer_idx",
 *   {"table": "orders", "columns": ["customer_id", "created_at"]},
 *   {"index": "Orders_Idx", "schema": "app", "name": "orders_idx"}]
 */
static void
parse_indexes(struct cfgread *v, const cJSON *m, struct pg_cfg *g)
{
	static const char *const keys[] = {
		"name", "index", "table", "schema", "columns", NULL,
	};
	const cJSON *e;

	if (!cJSON_IsArray(m)) {
		cfg_err(v, m, "\"required_indexes\" must be an array of index "
		    "names or {\"table\": ..., \"columns\": [...]} objects");
		return;
	}
	if (cJSON_GetArraySize(m) == 0)
		return;
	g->indexes = calloc((size_t)cJSON_GetArraySize(m), sizeof(*g->indexes));
	if (g->indexes == NULL) {
		cfg_err(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct pg_index_req *x = &g->indexes[g->nindexes++];
		const char *s;

		if (cJSON_IsString(e)) {
			if (!valid_ident(e->valuestring)) {
				cfg_err(v, e, "\"%s\" must be a plain SQL index "
				    "name", e->valuestring);
				continue;
			}
			x->index = cfg_strdup(v, e, e->valuestring);
		} else if (cJSON_IsObject(e)) {
			size_t before = v->errs->n + v->errs->dropped;

			cfg_check_keys(v, e, keys, "a required index");
			index_ident(v, e, "index", &x->index);
			index_ident(v, e, "table", &x->table);
			index_ident(v, e, "schema", &x->schema);
			index_columns(v, e, x);
			if (cfg_member(e, "columns") != NULL &&
			    cfg_member(e, "table") == NULL)
				cfg_err(v, e, "\"columns\" needs \"table\"");
			else if (cfg_member(e, "index") == NULL &&
			    cfg_member(e, "columns") == NULL)
				cfg_err(v, e, "a required index needs \"index\" "
				    "(its name) or \"table\" and \"columns\"");
			/* One mistake, one message: no name complaint too. */
			if (v->errs->n + v->errs->dropped != before)
				continue;
			if (cfg_string(v, e, "name", &s) == 1) {
				if (!valid_part(s))
					cfg_err(v, cfg_member(e, "name"), "index "
					    "name \"%s\" must be lower case "
					    "letters, digits and _ (starting "
					    "with a letter, at most %d)", s,
					    PG_MAX_PART);
				else
					x->name = cfg_strdup(v, e, s);
				continue;
			}
		} else {
			cfg_err(v, e, "a required index must be an index name or "
			    "an object, not %s", jsonc_type_name(e));
			continue;
		}
		if (x->name == NULL && (x->index != NULL || x->columns != NULL))
			x->name = index_default_name(x);
		if (x->name == NULL && (x->index != NULL || x->columns != NULL))
			cfg_err(v, e, "give this index a \"name\" for its metrics "
			    "(lower case letters, digits and _, at most %d)",
			    PG_MAX_PART);
	}
	for (size_t i = 0; i < g->nindexes; i++)
		for (size_t j = 0; j < i; j++)
			if (g->indexes[i].name != NULL &&
			    g->indexes[j].name != NULL &&
			    strcmp(g->indexes[i].name, g->indexes[j].name) == 0)
				cfg_err(v, cJSON_GetArrayItem(m, (int)i),
				    "duplicate required index name \"%s\"",
				    g->indexes[i].name);
}

/*
 * A custom query must read: vigild runs it in a read-only transaction
 * anyway, but a statement that cannot return a row is a mistake to catch
 * at --check-config rather than at 3 a.m.
 */
static bool
custom_reads(const char *sql)
{
	static const char *const first[] = {
		"SELECT", "WITH", "VALUES", "TABLE", NULL,
	};

	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' ||
	    *sql == '(')
		sql++;
	for (const char *const *k = first; *k != NULL; k++) {
		size_t n = strlen(*k);

		if (strncasecmp(sql, *k, n) == 0 && !((sql[n] >= 'a' &&
		    sql[n] <= 'z') || (sql[n] >= 'A' && sql[n] <= 'Z') ||
		    sql[n] == '_'))
			return true;
	}
	return false;
}

/* "custom_queries": { "queue_depth": "SELECT count(*) AS jobs FROM q" } */
static void
parse_custom(struct cfgread *v, const cJSON *m, struct pg_cfg *g)
{
	const cJSON *e;

	if (!cJSON_IsObject(m)) {
		cfg_err(v, m, "\"custom_queries\" must be an object of name -> "
		    "SQL, e.g. {\"queue\": \"SELECT count(*) AS jobs FROM "
		    "jobs\"}");
		return;
	}
	if (cJSON_GetArraySize(m) == 0)
		return;
	g->custom = calloc((size_t)cJSON_GetArraySize(m), sizeof(*g->custom));
	if (g->custom == NULL) {
		cfg_err(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct pg_custom_query *q;

		if (!valid_part(e->string)) {
			cfg_err_key(v, e, "custom query name \"%s\" must be lower "
			    "case letters, digits and _ (starting with a "
			    "letter, at most %d)", e->string, PG_MAX_PART);
			continue;
		}
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0') {
			cfg_err(v, e, "custom query \"%s\" must be an SQL string",
			    e->string);
			continue;
		}
		if (!custom_reads(e->valuestring)) {
			cfg_err(v, e, "custom query \"%s\" must be one SELECT (or "
			    "WITH, VALUES, TABLE): it runs read-only and its "
			    "one row of numbers becomes metrics", e->string);
			continue;
		}
		q = &g->custom[g->ncustom];
		q->name = strdup(e->string);
		q->sql = strdup(e->valuestring);
		if (q->name == NULL || q->sql == NULL) {
			free(q->name);
			free(q->sql);
			cfg_err(v, e, "out of memory");
			continue;
		}
		g->ncustom++;
	}
}

void
cfg_parse_pg(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	static const char *const pg_keys[] = {
		"conninfo", "password_file", "statement_timeout", "canary",
		"slow_statement", "statements", "required_indexes",
		"custom_queries", "reconnect_max", "dba_note_after", NULL,
	};
	struct pg_cfg *g = &pc->pg;
	const cJSON *m;
	const char *s;
	char target[512];

	cfg_check_probe_keys(v, p, pg_keys, "a postgres probe");
	g->statement_timeout_ms = pc->timeout_ms;
	g->slow_ms = DEFAULT_SLOW_MS;
	g->statements = true;
	g->reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
	g->dba_note_ms = 5 * 60 * 1000;
	if (cfg_string(v, p, "password_file", &s) == 1) {
		if (s[0] != '/')
			cfg_err(v, cfg_member(p, "password_file"),
			    "\"password_file\" must be an absolute path");
		g->password_file = cfg_strdup(v, p, s);
	}
	if (cfg_string(v, p, "conninfo", &s) == 1) {
		validate_conninfo(v, cfg_member(p, "conninfo"), s,
		    g->password_file != NULL);
		g->conninfo = cfg_strdup(v, p, s);
	}
	if (pg_describe_conninfo(g->conninfo, target, sizeof(target)) == 0)
		pc->target = cfg_strdup(v, p, target);
	cfg_duration(v, p, "statement_timeout", 10, 10LL * 60 * 1000,
	    &g->statement_timeout_ms);
	g->canary = cfg_strdup(v, p, DEFAULT_CANARY);
	if (cfg_string(v, p, "canary", &s) == 1) {
		free(g->canary);
		g->canary = cfg_strdup(v, p, s);
	}
	cfg_duration(v, p, "slow_statement", 1, 3600LL * 1000, &g->slow_ms);
	cfg_bool(v, p, "statements", &g->statements);
	cfg_duration(v, p, "reconnect_max", 100, 3600LL * 1000,
	    &g->reconnect_max_ms);
	cfg_duration(v, p, "dba_note_after", 0, 7 * 86400LL * 1000,
	    &g->dba_note_ms);
	if ((m = cfg_member(p, "required_indexes")) != NULL)
		parse_indexes(v, m, g);
	if ((m = cfg_member(p, "custom_queries")) != NULL)
		parse_custom(v, m, g);
}

void
cfg_clear_pg(struct probe_cfg *pc)
{
	struct pg_cfg *g = &pc->pg;

	free(g->conninfo);
	free(g->password_file);
	free(g->canary);
	for (size_t i = 0; i < g->nindexes; i++) {
		free(g->indexes[i].name);
		free(g->indexes[i].schema);
		free(g->indexes[i].table);
		free(g->indexes[i].index);
		free(g->indexes[i].columns);
	}
	free(g->indexes);
	for (size_t i = 0; i < g->ncustom; i++) {
		free(g->custom[i].name);
		free(g->custom[i].sql);
	}
	free(g->custom);
}

/* Every metric a postgres run can record, whatever its configuration. */
static const char *const pg_builtin_metrics[] = {
	"up", "duration_ms", "down", "connect_ms", "canary_ms",
	"connections_used", "max_connections", "reserved_connections",
	"pool_used_pct", "sessions_active", "sessions_idle",
	"sessions_idle_in_tx", "longest_query_s", "longest_tx_s",
	"idle_in_tx_longest_s", "lock_waiters", "commits_per_s",
	"rollbacks_per_s", "deadlocks", "temp_bytes", "cache_hit_ratio_pct",
	"stmt_calls_per_s", "stmt_worst_mean_ms", "slow_statements",
	"indexes_missing", "in_recovery", "standbys", "replication_lag_s",
	"replication_lag_bytes", "last_replay_age_s", "blocked_sessions",
	"lock_wait_longest_s", "active_on_cpu", "active_wait_lock",
	"active_wait_lwlock", "active_wait_io", "active_wait_ipc",
	"active_wait_bufferpin", "active_wait_client", "active_wait_timeout",
	"active_wait_extension", "xact_commit_total", "xact_rollback_total",
	"blks_hit_total", "blks_read_total", "deadlocks_total",
	"temp_bytes_total", NULL,
};

/* The DBA signals' (lib/probe/probe_pg_dba.c). */
static const char *const pg_dba_metrics[] = {
	"xid_age_max", "mxid_age_max", "xmin_horizon_age",
	"xmin_horizon_held_s", "slots", "slots_inactive", "slots_wal_lost",
	"slot_wal_retained_max_bytes", "slot_inactive_longest_s",
	"wal_bytes_total", "wal_bytes_per_s", "archiver_archived_total",
	"archiver_failed_total", "archiver_failing",
	"checkpoints_timed_total", "checkpoints_req_total",
	"checkpoints_total", "checkpoints_timed", "checkpoints_req",
	"checkpoint_write_s_total", "checkpoint_sync_s_total",
	"buffers_checkpoint_total", "buffers_clean_total",
	"maxwritten_clean_total", "buffers_backend_total", "uptime_s",
	"conf_load_age_s", "settings_pending_restart",
	"conn_limit_used_pct_max", "vacuums_running", "vacuum_longest_s",
	"db_size_bytes", "db_growth_bytes_per_h", "table_largest_bytes",
	"tables_watched", "dead_tuples", "dead_tuples_max",
	"dead_tuples_pct_max", "tables_never_vacuumed", "vacuum_age_max_s",
	"tables_never_analyzed", "analyze_age_max_s", "indexes_invalid",
	"indexes_unused", "indexes_unused_bytes", NULL,
};

bool
cfg_pg_has_metric(const struct probe_cfg *pc, const char *metric)
{
	const struct pg_cfg *g = &pc->pg;
	char name[PG_MAX_PART + 16];

	for (const char *const *b = pg_builtin_metrics; *b != NULL; b++)
		if (strcmp(*b, metric) == 0)
			return true;
	for (const char *const *b = pg_dba_metrics; *b != NULL; b++)
		if (strcmp(*b, metric) == 0)
			return true;
	for (size_t i = 0; i < g->nindexes; i++) {
		if (g->indexes[i].name == NULL)
			continue;
		snprintf(name, sizeof(name), "index_%s_ok", g->indexes[i].name);
		if (strcmp(name, metric) == 0)
			return true;
		snprintf(name, sizeof(name), "index_%s_scans_total",
		    g->indexes[i].name);
		if (strcmp(name, metric) == 0)
			return true;
	}
	/* Columns are known only at run time: any custom_<query>_ suffix. */
	for (size_t i = 0; i < g->ncustom; i++) {
		snprintf(name, sizeof(name), "custom_%s_", g->custom[i].name);
		if (strncmp(name, metric, strlen(name)) == 0 &&
		    metric[strlen(name)] != '\0')
			return true;
	}
	return false;
}

/* The raw pg_stat_database totals; the others are levels or per-run deltas. */
static const char *const pg_counter_metrics[] = {
	"xact_commit_total", "xact_rollback_total", "blks_hit_total",
	"blks_read_total", "deadlocks_total", "temp_bytes_total",
	/* The DBA steps' running totals (pg_stat_bgwriter, the archiver,
	 * the WAL position). */
	"wal_bytes_total", "archiver_archived_total", "archiver_failed_total",
	"checkpoints_timed_total", "checkpoints_req_total", "checkpoints_total",
	"checkpoint_write_s_total", "checkpoint_sync_s_total",
	"buffers_checkpoint_total", "buffers_clean_total",
	"maxwritten_clean_total", "buffers_backend_total", NULL,
};

bool
cfg_pg_metric_counter(const struct probe_cfg *pc, const char *metric)
{
	const struct pg_cfg *g = &pc->pg;
	char name[PG_MAX_PART + 16];

	for (const char *const *b = pg_counter_metrics; *b != NULL; b++)
		if (strcmp(*b, metric) == 0)
			return true;
	for (size_t i = 0; i < g->nindexes; i++) {
		if (g->indexes[i].name == NULL)
			continue;
		snprintf(name, sizeof(name), "index_%s_scans_total",
		    g->indexes[i].name);
		if (strcmp(name, metric) == 0)
			return true;
	}
	return false;
}
