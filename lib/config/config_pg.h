/*
 * config_pg: the settings of a "postgres" probe (struct pg_cfg, a member
 * of struct probe_cfg), and the connection-string helpers that the config
 * reader and the probe share. Parsing lives in config_pg.c; nothing here
 * touches the network.
 */
#ifndef VIGIL_CONFIG_PG_H
#define VIGIL_CONFIG_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An index a migration must have created ("required_indexes"). */
struct pg_index_req {
	/* metric part: index_<name>_ok, index_<name>_scans_total */
	char *name;
	char *schema;	/* NULL: any schema */
	char *table;	/* NULL: any table (then index is set) */
	char *index;	/* NULL: found by table and columns */
	char *columns;	/* "a,b": the key columns in order, or NULL */
};

/* A named query whose one row of numbers becomes custom_<name>_<column>. */
struct pg_custom_query {
	char *name;
	char *sql;
};

struct pg_cfg {
	/*
	 * A libpq connection string or URL as written, or NULL: libpq's
	 * environment (PGHOST, PGUSER, ...). It may hold a password, so it
	 * is never shown: probe_cfg.target is the redacted description.
	 */
	char *conninfo;
	char *password_file;	/* read at each connection, or NULL */
	int64_t statement_timeout_ms;
	char *canary;		/* the timed query (canary_ms) */
	int64_t slow_ms;	/* a statement's windowed mean above is slow */
	bool statements;	/* read pg_stat_statements when installed */
	int64_t reconnect_max_ms;	/* backoff cap between connect attempts */
	int64_t dba_note_ms;	/* an xmin holder or a vacuum is named after */
	struct pg_index_req *indexes;
	size_t nindexes;
	struct pg_custom_query *custom;
	size_t ncustom;
};

/* Longest custom query / index name (keeps every metric name short). */
#define PG_MAX_PART 40

/*
 * "host:port/dbname user=name" for people: from the connection string,
 * then libpq's environment defaults; never the password. conninfo may be
 * NULL. Returns 0, or -1 when conninfo does not parse.
 */
int pg_describe_conninfo(const char *conninfo, char *buf, size_t len);
/*
 * A keyword's value in libpq's parsed options (PQconninfoOption, named by
 * its struct so this header does not pull libpq into every user of
 * config.h), or NULL when unset or empty.
 */
struct _PQconninfoOption;
const char *pg_conninfo_value(const struct _PQconninfoOption *opts,
    const char *kw);

struct probe_cfg;
/*
 * Whether a postgres probe can record this metric (the part after
 * "<probe>."): the built-in names, index_<name>_ok/_scans_total of its required
 * indexes, custom_<query>_<column> of its custom queries (any column).
 */
bool cfg_pg_has_metric(const struct probe_cfg *pc, const char *metric);
/* Whether it is one of the running totals (see probe_metric_counter). */
bool cfg_pg_metric_counter(const struct probe_cfg *pc, const char *metric);

#endif
