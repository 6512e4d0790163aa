/*
 * history_int: what history.c (recording, reading) and history_disk.c
 * (loading, saving off the loop) share; private to the two.
 */
#ifndef VIGIL_HISTORY_INT_H
#define VIGIL_HISTORY_INT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/history.h"

/* Series in the table at most: probes and rules of any sane config. */
#define MAX_SERIES	4096

/*
 * One minute in memory (20 bytes: a series keeps hours of them). vsum
 * sums the first 255 values of the minute; min and max see them all.
 */
struct hmin {
	uint16_t ok, failed, unknown;
	int8_t worst;		/* -1: no rule evaluation */
	uint8_t nval;		/* values in vsum */
	float vmin, vmax, vsum;
};

/* One UTC hour of minutes, its place in the ring hour % nblocks. */
struct hblock {
	int32_t hour;		/* hours since the epoch; 0: empty */
	struct hmin m[60];
};

/*
 * Hours in the ring. With a folder the files are the store: memory holds
 * the current hour, and the one before until it is saved; older minutes
 * are read back from the file. Without one,
 * the last 24 h stay in memory (25 hours: the window's first one is
 * partial).
 */
#define HIST_RING_DISK	2
#define HIST_RING_MEM	25
/* Hourly sums of a probe with a folder: the 24 h uptime's older hours. */
#define HIST_HOURS	25

struct hhour {
	int32_t hour;		/* 0: empty */
	uint32_t ok, failed;
};

/* One UTC day of a probe, summed (rules have none: nothing reads them). */
struct hday {
	int32_t day;		/* days since the epoch; 0: empty */
	uint32_t ok, failed, nval;
	uint16_t minutes_data, minutes_down;
	float vmax, vsum;
};

struct series {
	char name[64];
	enum history_kind kind;
	bool lower_worse;
	bool marked;		/* tracked in this sync */
	uint16_t nblocks;	/* in blocks */
	uint64_t incident;	/* sequence number of its open one; 0: none */
	int32_t dirty_from;	/* first minute not saved; 0: none */
	int32_t saving_from;	/* what the write in flight took; 0: none */
	/*
	 * The ring of hours, each block allocated when its hour begins;
	 * with a folder, freed once saved and an hour older than the
	 * newest (the files are the store).
	 */
	struct hblock **blocks;
	int32_t saved_below;	/* older hours left memory saved */
	struct hhour *hours;	/* HIST_HOURS, probes with a folder; or NULL */
	struct hday *days;	/* HISTORY_DAYS, probes; NULL for rules */
};

/* What the writer thread owns. */
/* (No path: PATH_MAX each made a save's copy megabytes at 2,000.) */
struct wfile {
	enum history_kind kind;
	char name[64];
	size_t n;
	int32_t *hours;
	uint8_t *blocks;
};

struct wjob {
	struct history *h;
	char dir[PATH_MAX];
	struct wfile *files;
	size_t nfiles;
	uint8_t *inc;		/* the incidents file, NULL: unchanged */
	size_t inclen;
};

struct history {
	char *dir;		/* NULL: memory only */
	struct series **tab;	/* open addressing by name */
	size_t cap, n;
	struct history_incident inc[HISTORY_INCIDENTS];
	uint64_t inc_seq[HISTORY_INCIDENTS];	/* 0: free */
	uint64_t next_seq;
	bool inc_dirty, inc_saving;
	int64_t last_try;
	atomic_int busy;	/* a writer thread runs */
	bool harvested;
	/* Written by the thread before busy drops; read after. */
	int res_err;
	char res_step[32];
	char res_file[96];	/* the file's name in dir */
	uint64_t writes, failures, torn;
	int64_t last_saved, job_started;
	char last_error[256];
	bool warned;		/* the last write's failure is logged */
};

int32_t hist_minute(int64_t t);		/* minutes since the epoch */
int32_t hist_day(int64_t t);		/* days since the epoch */
int hist_worse_state(int a, int b);	/* -1: none */
bool hist_min_down(const struct series *s, const struct hmin *m);
bool hist_min_has_data(const struct hmin *m);

size_t hist_slot_of(const struct history *h, const char *name);
struct series *hist_find(const struct history *h, const char *name);
struct series *hist_get(struct history *h, enum history_kind kind,
    const char *name);
void hist_drop(struct history *h, size_t i);
void hist_series_free(struct series *s);	/* NULL is fine */
/* The ring's block of hour, NULL when the ring holds another. */
const struct hblock *hist_block(const struct series *s, int32_t hour);
struct hhour *hist_hour_slot(struct series *s, int32_t hour);
void hist_ring_trim(struct series *s);
struct hday *hist_day_slot(struct series *s, int32_t day);
struct hmin *hist_min_slot(struct series *s, int32_t min);
void hist_close_incident(struct history *h, struct series *s, int64_t t);

#endif
