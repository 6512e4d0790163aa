/*
 * pg_stats: the arithmetic of the postgres probe, apart from any
 * connection so it is tested on its own. PostgreSQL's statistics are
 * counters since the last reset; what an operator needs is what happened
 * during the last interval, so everything here turns two snapshots into
 * rates and windowed means, and says when it cannot (first snapshot,
 * reset) instead of inventing a number.
 */
#ifndef VIGIL_PG_STATS_H
#define VIGIL_PG_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One row of pg_stat_database for the probed database. */
struct pg_db_snap {
	bool valid;
	double at_s;		/* server clock_timestamp(), Unix seconds */
	double reset_s;		/* stats_reset, Unix seconds; 0: never */
	int64_t commits, rollbacks, blks_hit, blks_read, deadlocks;
	int64_t temp_bytes;
};

enum pg_delta {
	PG_DELTA_OK,
	PG_DELTA_FIRST,		/* no earlier snapshot */
	PG_DELTA_RESET,		/* the counters were reset in between */
	PG_DELTA_NO_TIME,	/* no time passed: nothing to divide by */
};

struct pg_db_rates {
	double commits_per_s, rollbacks_per_s;
	double deadlocks, temp_bytes;	/* during the interval */
	bool has_hit_ratio;		/* false: no block was read */
	double cache_hit_ratio_pct;
};

enum pg_delta pg_db_delta(const struct pg_db_snap *prev,
    const struct pg_db_snap *cur, struct pg_db_rates *out);

/* One pg_stat_statements entry (its key, and the counters we use). */
struct pg_stmt {
	int64_t queryid;
	uint32_t userid;
	bool toplevel;
	int64_t calls;
	double total_ms;
};

struct pg_stmt_snap {
	bool valid;
	bool complete;		/* every entry was read (none cut off) */
	double at_s;
	struct pg_stmt *v;
	size_t n, alloc;
};

/* Appends an entry; 0 or -1 (out of memory). */
int pg_stmt_snap_add(struct pg_stmt_snap *s, const struct pg_stmt *e);
/* Sorts by key; pg_stmt_window needs both snapshots sorted. */
void pg_stmt_snap_sort(struct pg_stmt_snap *s);
void pg_stmt_snap_clear(struct pg_stmt_snap *s);
/* Moves cur into prev (prev's memory is reused), leaving cur empty. */
void pg_stmt_snap_swap(struct pg_stmt_snap *prev, struct pg_stmt_snap *cur);

#define PG_STMT_TOP 5

struct pg_stmt_slow {
	int64_t queryid;
	uint32_t userid;
	int64_t calls;		/* during the interval */
	double mean_ms;		/* windowed mean */
};

struct pg_stmt_window {
	int64_t calls;
	double calls_per_s;
	double worst_mean_ms;	/* 0 when nothing ran */
	size_t nslow;		/* entries whose windowed mean > slow_ms */
	struct pg_stmt_slow top[PG_STMT_TOP];	/* the slow ones, worst first */
	size_t ntop;
};

/*
 * Windowed statistics between two sorted snapshots: per entry,
 * Δtotal_exec_time / Δcalls. An entry whose calls went down was evicted
 * and re-created (or everything was reset): its counters started again
 * inside the interval, so they count whole. An entry missing from a
 * complete previous snapshot is new, likewise.
 */
enum pg_delta pg_stmt_window(const struct pg_stmt_snap *prev,
    const struct pg_stmt_snap *cur, double slow_ms,
    struct pg_stmt_window *out);

/*
 * An index's scans by everyone but vigild's canary, as a counter since
 * vigild began watching it. idx_scan counts the canary's scans too, and
 * a session's statistics reach it when they are flushed (up to a second
 * or so after the statement). Counting from a baseline, cumulatively and
 * never backwards, a late flush only delays an application scan, and a
 * canary scan is never taken for one.
 */
struct pg_scan_own {
	bool based;
	int64_t raw0;		/* idx_scan at the baseline */
	int64_t own;		/* canary scans since the baseline */
	int64_t app0;		/* the counter at the baseline */
	int64_t app;		/* the counter */
	int64_t last;		/* the last idx_scan read */
};

/*
 * A reading of idx_scan (raw), after a run whose canary scanned the index
 * canary_scans times. The first reading is the baseline (its run's canary
 * scans are in it); a reading below the last one is a statistics reset
 * and a new baseline, the counter going on from where it was. Returns the
 * counter.
 */
int64_t pg_scan_own_read(struct pg_scan_own *s, int64_t raw,
    int64_t canary_scans);

/*
 * A column name as part of a metric name: lower case, runs of anything
 * but [a-z0-9] become one "_", at most maxlen bytes; "" becomes "col".
 */
void pg_metric_part(const char *col, size_t maxlen, char *out,
    size_t outlen);

#endif
