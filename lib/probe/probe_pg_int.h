/*
 * The postgres probe's private parts, shared by its files:
 * probe_pg.c (the connection: evdns, libpq's asynchronous connect,
 * reconnecting and backing off, the probe operations),
 * probe_pg_query.c (a run's queries and what their answers become),
 * probe_pg_locks.c (who waits on whom: the canary's plan and blocker,
 * blocked sessions) and probe_pg_dba.c (the DBA steps among them).
 * Private to lib/probe.
 */
#ifndef VIGIL_PROBE_PG_INT_H
#define VIGIL_PROBE_PG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libpq-fe.h>

#include "probe/pg_dba_stats.h"
#include "probe/pg_plan.h"
#include "probe/pg_stats.h"
#include "probe/probe.h"

#define PG_STMT_ROWS	20000	/* statements read per run, at most */
#define PG_QUERY_TEXT	120	/* bytes of a slow statement's text shown */

/* Where the connection is; only PGC_READY can run a query. */
enum pg_cstate {
	PGC_NONE,
	PGC_RESOLVING,
	PGC_CONNECTING,
	PGC_READY,
};

/* The per-table steps run every this many runs (and the first). */
#define PG_DBA_EVERY	10

/* What the DBA steps keep between runs (reset only with the probe). */
struct pg_dba_state {
	unsigned heavy_in;	/* runs until the per-table steps run again */
	bool heavy;		/* this run has them */
	struct pg_ctr wal, db_size;
	struct pg_ckpt_snap ckpt;
	struct pg_slot_track slots;
	struct pg_hold hold;
	double pm_start_s;	/* pg_postmaster_start_time(); 0: not seen */
};

/* The queries of a run, in order; each is one statement in autocommit. */
enum pg_step {
	ST_CANARY,
	ST_CANARY_PLAN,		/* once per connection: what it touches */
	ST_CANARY_BLOCKER,	/* the canary hit lock_timeout: who holds it */
	ST_ACTIVITY,
	ST_LOCKS,
	ST_DATABASE,
	ST_EXTENSION,
	ST_STATEMENTS,
	ST_STMT_TEXT,
	ST_INDEXES,
	ST_REPLICATION,
	ST_DBA_XID,	/* probe_pg_dba.c: the DBA signals, ST_DBA_ on */
	ST_DBA_SLOTS,
	ST_DBA_WAL,
	ST_DBA_SERVER,
	ST_DBA_TABLES,	/* these two: every PG_DBA_EVERY runs */
	ST_DBA_INDEXES,
	ST_CUSTOM,
	ST_DONE,
};

enum pg_ext {
	EXT_UNKNOWN,	/* not asked on this connection yet */
	EXT_MISSING,
	EXT_PRESENT,
};

/* A required index's own-scan accounting, by its name in the database. */
struct pg_scan_track {
	char schema[64], name[64];
	struct pg_scan_own s;
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
	bool running;		/* from pg_start to its end or cancel */
	struct event *timer;	/* the run's timeout */

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
	unsigned connect_failures;	/* in a row; the last began conn_start_us */
	enum probe_fail last_fail;
	char last_error[200];

	/* The step in flight. */
	enum pg_step step;
	size_t custom_i;
	int64_t step_sent_us;
	bool step_failed;
	bool noted_first;
	bool canary_ok;		/* this run's canary answered */
	bool canary_blocked;	/* it gave up on a lock (lock_timeout) */
	double canary_waited_ms;
	/* The canary's plan on this connection (ST_CANARY_PLAN). */
	bool plan_known;
	bool plan_tried;	/* EXPLAIN was asked on this connection */
	struct pg_plan plan;
	enum pg_ext ext;
	char *ext_schema;	/* quoted identifier (PQescapeIdentifier) */

	/* Between runs: the counters the rates are made from. */
	struct pg_db_snap db_prev;
	struct pg_stmt_snap stmt_prev, stmt_cur;
	bool has_dealloc;
	double dealloc_prev;
	struct pg_stmt_window win;
	struct pg_dba_state dba;
	struct pg_scan_track *scans;
	size_t nscans;
};

/* What a step reads, for reasons and notes. */
extern const char *const pg_step_what[];

/* probe_pg.c: the connection. */
/* Waits for the socket to be readable and/or writable; -1 on failure. */
int pg_watch(struct pg_probe *pg, short what);
/* The connection broke under a query: reconnect once, or fail the run. */
void pg_broken(struct pg_probe *pg);

/* probe_pg_query.c: the steps of a run. */
/* Sends the query of pg->step (or ends the run after the last). */
void pg_step_send(struct pg_probe *pg);
/* The socket is ready while a query is in flight. */
void pg_query_io(struct pg_probe *pg, short what);
/* probe_pg_locks.c: who waits on whom. */
int pg_canary_plan_send(struct pg_probe *pg);
void pg_canary_plan_result(struct pg_probe *pg, const PGresult *res);
int pg_canary_blocker_send(struct pg_probe *pg);
void pg_canary_blocker_result(struct pg_probe *pg, const PGresult *res);
int pg_locks_send(struct pg_probe *pg);
void pg_locks_result(struct pg_probe *pg, const PGresult *res);
/*
 * lock_timeout for vigild's session: half the statement_timeout, so a
 * canary stuck behind a lock gives up with time left to name the holder.
 */
int64_t pg_lock_timeout_ms(int64_t statement_timeout_ms);
/*
 * A column of a result as a number ("t"/"f" read 1/0): false when NULL,
 * out of range or not a number; pg_col_d gives dflt then.
 */
bool pg_col_num(const PGresult *res, int row, int col, double *out);
double pg_col_d(const PGresult *res, int row, int col, double dflt);
/* A whole number column; dflt when NULL or not one. */
int64_t pg_col_i64(const PGresult *res, int row, int col, int64_t dflt);
/* Records a metric, noting (not failing) when memory runs out. */
void pg_add(struct pg_probe *pg, const char *name, double v);

/* probe_pg_dba.c: the DBA steps (ST_DBA_XID to ST_DBA_INDEXES). */
/* The step after st, a DBA step; ST_CUSTOM when the DBA steps are done. */
enum pg_step pg_dba_next(struct pg_probe *pg, enum pg_step st);
/* Sends pg->step's query; PQsendQueryParams's result. */
int pg_dba_send(struct pg_probe *pg);
/* A DBA step's rows into metrics and notes. */
void pg_dba_result(struct pg_probe *pg, const PGresult *res);

#endif
