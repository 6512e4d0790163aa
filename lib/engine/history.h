/*
 * history: what each probe and each rule did, minute by minute, for 90
 * days; kept in a compact file per probe/rule under the state directory
 * (fixed size), written off the loop, restored at start.  Pure data +
 * a file format; vigild records into it from the loop.
 *
 * (Interface agreed between the history and page work; the history
 * helper implements it and may ADD to it, but must not rename or drop
 * what is here.)
 */
#ifndef VIGIL_HISTORY_H
#define VIGIL_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_DAYS 90
#define HISTORY_MINUTE_MS 60000LL
#define HISTORY_DAY_MS (86400LL * 1000)
/*
 * Minutes of the 24 h chart. Memory keeps them all only without a
 * folder; with one it keeps the current hour and the one before, and
 * older minutes are read back from the file.
 */
#define HISTORY_MEM_MINUTES 1440
/* Incidents kept (memory and file), the oldest forgotten first. */
#define HISTORY_INCIDENTS 256

enum history_kind { HISTORY_PROBE, HISTORY_RULE };

/* One minute (or one step of several minutes, when read with a step). */
struct history_point {
	int64_t t;		/* Unix ms, start of the minute/step (UTC aligned) */
	uint32_t ok, failed;	/* probe: runs that ended ok / failed;
				 * rule: evaluations ok-or-resolved / firing
				 * (pending counts as ok; rules are
				 * recorded once a second) */
	uint32_t unknown;	/* rule: evaluations unknown; probe: 0 */
	int worst;		/* rule: worst enum rule_state seen (FIRING >
				 * PENDING > UNKNOWN > OK); probe: -1 */
	bool has_value;		/* false: no run/eval in it: a gap */
	double min, avg, max;	/* probe: duration_ms; rule: its value;
				 * NaN when no value was known in it */
};

/* One UTC day, for the 90 history bars. */
struct history_day {
	int64_t t;		/* Unix ms of 00:00 UTC */
	bool has_data;
	double uptime_pct;	/* ok runs of all runs that day (as
				 * history_uptime); 0..100 */
	uint32_t minutes_data, minutes_down;	/* down: a run failed in it */
	double avg_ms, max_ms;	/* probe durations that day */
};

/* One incident: a rule that fired, from firing to resolved. */
struct history_incident {
	char rule[64];
	char severity[16];	/* "warning", "critical" */
	int64_t start;		/* Unix ms it went firing */
	int64_t end;		/* Unix ms it resolved; 0 while still firing */
	double peak;		/* worst value seen while firing; NaN unknown */
	bool peak_known;
};

struct history;

/*
 * dir NULL: in memory only (nothing saved). NULL on out of memory. dir is
 * the folder of the files (state_dir/history), made (0700) when missing;
 * nothing is read until history_track.
 */
struct history *history_new(const char *dir);
/* Waits for a write in flight, saves what is left, frees. NULL is fine. */
void history_free(struct history *h);

/*
 * Which probes and rules are in force: between history_sync_begin and
 * history_sync_end, history_track each. A name tracked for the first time
 * is read back from its file (the only reads outside history_range); one
 * not tracked again leaves memory at history_sync_end, its unsaved minutes
 * saved first, and its file stays on disk (a probe put back in the
 * configuration gets its past back). lower_worse: the rule fires below
 * its threshold, so its incidents' peak is their lowest value.
 */
void history_sync_begin(struct history *h);
void history_track(struct history *h, enum history_kind kind,
    const char *name, bool lower_worse);
void history_sync_end(struct history *h);

/*
 * From the loop, about once a second: when interval_ms passed since the
 * last save and something changed, the changed hours are copied and a
 * short-lived thread writes them (pwrite, fdatasync), as the state file
 * is written; a write still in flight defers the next. wait: write now
 * and wait for it (shutdown, tests).
 */
void history_save(struct history *h, int64_t now, int64_t interval_ms,
    bool wait);

/* How the saving goes, for /status and /metrics. */
struct history_stats {
	bool persistent;	/* has a folder */
	size_t probes, rules;	/* series in memory */
	uint64_t writes, failures;
	int64_t last_saved;	/* Unix ms; 0: never */
	uint64_t torn;		/* hours dropped at load: bad checksum */
	size_t bytes;		/* memory the series hold */
	char last_error[256];	/* "" when the last write went well */
};
void history_stats(const struct history *h, struct history_stats *out);

/* Recording, on the loop, O(1), no I/O. t is Unix ms. */
void history_probe_run(struct history *h, const char *probe, int64_t t,
    bool ok, double duration_ms);
void history_rule_eval(struct history *h, const char *rule, int64_t t,
    int state /* enum rule_state */, bool known, double value);
void history_rule_fired(struct history *h, const char *rule,
    const char *severity, int64_t t, bool known, double value);
void history_rule_resolved(struct history *h, const char *rule, int64_t t);
/*
 * Whether rule has an incident open: a rule restored firing after a
 * restart whose incident was not saved yet gets one from its status.
 */
bool history_rule_firing(const struct history *h, const char *rule);

/*
 * Uptime of a probe: the runs that ended ok, in percent of all its runs
 * (a rate-limited run counts as neither). Windows up to a day count the
 * minutes [now - window_ms, now] exactly (with a folder, the minutes
 * older than the last hour or two by whole hours: the window's first
 * hour counts whole); longer ones whole UTC days:
 * today and the window's days before it (7 d: today and the 6 before).
 * false when there is no run in the window.
 */
bool history_uptime(const struct history *h, const char *probe, int64_t now,
    int64_t window_ms, double *pct);

/*
 * Points of one probe or rule from..to (Unix ms), step a multiple of a
 * minute; gaps (no data) included with has_value false. Returns how many
 * were written (<= cap).
 */
size_t history_range(const struct history *h, enum history_kind kind,
    const char *name, int64_t from, int64_t to, int64_t step,
    struct history_point *out, size_t cap);

/* The last HISTORY_DAYS UTC days of a probe, oldest first; how many. */
size_t history_days(const struct history *h, const char *probe, int64_t now,
    struct history_day *out, size_t cap);

/* Incidents that overlap [from, now], newest first; how many (<= cap). */
size_t history_incidents(const struct history *h, int64_t from,
    struct history_incident *out, size_t cap);

#endif
