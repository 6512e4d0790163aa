/*
 * pg_dba_stats: the arithmetic of the postgres probe's DBA signals, pure
 * (tested on a fake clock): counter rates with resets, checkpoints in an
 * interval, how long each replication slot has been inactive (PostgreSQL
 * before 17 does not say), how long one xmin horizon has been held, and
 * the database's growth per hour. Times are the server's clock, Unix
 * seconds, so two snapshots agree on what an interval is.
 */
#ifndef VIGIL_PG_DBA_STATS_H
#define VIGIL_PG_DBA_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/pg_stats.h"

/* A counter read at a time (WAL position, archiver failures, ...). */
struct pg_ctr {
	bool valid;
	double at_s;
	double v;
};

/*
 * (cur - prev) / (cur.at_s - prev.at_s) into *per_s. A counter that went
 * down was reset (stats reset, a crash, a new timeline): no rate, rather
 * than a negative one. prev becomes cur whatever the outcome.
 */
enum pg_delta pg_ctr_rate(struct pg_ctr *prev, double at_s, double v,
    double *per_s);

/* The checkpoint counters (pg_stat_bgwriter, or pg_stat_checkpointer). */
struct pg_ckpt_snap {
	bool valid;
	double timed, req;
};

struct pg_ckpt_delta {
	double timed, req;	/* checkpoints during the interval */
};

/* Checkpoints since prev; a counter going down is a reset. */
enum pg_delta pg_ckpt_delta(struct pg_ckpt_snap *prev,
    const struct pg_ckpt_snap *cur, struct pg_ckpt_delta *out);

/*
 * Replication slots seen inactive, by name, since when. PostgreSQL 17
 * says (inactive_since); before it, the probe remembers when it first saw
 * each one inactive, so its age is "at least". Bounded: a slot beyond
 * PG_SLOT_TRACK is not tracked (counted in untracked).
 */
#define PG_SLOT_TRACK	64
#define PG_SLOT_NAME	64	/* NAMEDATALEN */

struct pg_slot_seen {
	char name[PG_SLOT_NAME];
	double since_s;
};

struct pg_slot_track {
	struct pg_slot_seen v[PG_SLOT_TRACK];
	size_t n;
};

/* One row of pg_replication_slots as the tracker needs it. */
struct pg_slot_row {
	const char *name;
	bool active;
	double inactive_since_s;	/* < 0: the server does not say */
};

struct pg_slot_age {
	double longest_s;	/* the longest-inactive slot's time; 0: none */
	int worst;		/* its row, or -1 */
	size_t untracked;	/* inactive slots the table had no room for */
};

/*
 * Updates the tracker from this run's rows (every slot there is) at
 * now_s: an active or vanished slot is forgotten, a newly inactive one
 * remembered from now_s (or from the server's inactive_since). The rows
 * must have distinct names.
 */
void pg_slot_track_update(struct pg_slot_track *t,
    const struct pg_slot_row *rows, size_t n, double now_s,
    struct pg_slot_age *out);

/*
 * The xmin horizon's holder, followed across runs: how long the same
 * holder (kind and name) has held the same xmin. The server knows for a
 * session (xact_start) and a prepared transaction (prepared); a slot or a
 * standby's feedback it does not, and then the time is counted from the
 * first run that saw it (reset when vigild restarts).
 */
struct pg_hold {
	bool valid;
	char key[96];		/* "slot s1", "session 1234", ... */
	int64_t xmin;
	double since_s;
};

/*
 * Returns how long (seconds, >= 0) key has held xmin at now_s.
 * server_since_s < 0: the server does not say.
 */
double pg_hold_update(struct pg_hold *h, const char *key, int64_t xmin,
    double server_since_s, double now_s);
void pg_hold_clear(struct pg_hold *h);

/*
 * The database's size read at a time, and its growth per hour between
 * two reads (bytes per hour; negative when it shrank: VACUUM FULL, a
 * dropped table). Needs two reads at least 1 s apart.
 */
enum pg_delta pg_size_growth(struct pg_ctr *prev, double at_s,
    double bytes, double *per_hour);

#endif
