/*
 * maint: maintenance windows at run time, and the decisions about them,
 * pure: given a Unix-ms time, which windows are active, when the current
 * occurrence started and ends, and when the next one begins. A rule a
 * window covers while it is active counts as silenced, the window named
 * as the reason: its alert still shows, its notifications are held, and
 * /health keeps saying pass (planned maintenance must not page anyone).
 *
 * The configuration's windows are borrowed from the configuration in
 * force (maint_set_config at start and at every reload); the API's are
 * owned here, expire like silences (a one-off at its end) and are what the
 * state file keeps.
 *
 * Local times: a recurring window starts at local times in its zone,
 * with tz_utc_of_local's choices across a change of offset (base/tzfile.h):
 * a start in the hour skipped in spring is read with the old offset (a
 * 02:30 start in Berlin on that Sunday begins at 03:30 CEST, the same
 * instant 02:30 CET would have been), a start in the hour repeated in
 * autumn begins at its first occurrence. A duration is elapsed time: a
 * 2 h window from 01:30 on the autumn night ends at 02:30 the second time.
 */
#ifndef VIGIL_MAINT_H
#define VIGIL_MAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/maint_def.h"

struct rule_cfg;
struct tz;

/* API windows: as many as silences, one-offs at most 30 days long. */
#define MAINT_MAX_API 1000
#define MAINT_MAX_ONCE_MS (30LL * 86400 * 1000)

/* One window's occurrence: the one active now, or the next. */
struct maint_view {
	const struct maint_window *w;
	int64_t start, end;	/* Unix ms */
};

/*
 * The occurrence of w covering now (start <= now < end): true with
 * *start and *end. Of overlapping occurrences, the latest to start.
 */
bool maint_window_active(const struct maint_window *w, int64_t now,
    int64_t *start, int64_t *end);
/* The first occurrence of w to start after now: false if none will. */
bool maint_window_next(const struct maint_window *w, int64_t now,
    int64_t *start, int64_t *end);
/* Whether w covers rule rc (all, by name, or every label matcher). */
bool maint_window_covers(const struct maint_window *w,
    const struct rule_cfg *rc);

struct maint;

struct maint *maint_new(void);
void maint_free(struct maint *mt);

/* The configuration's windows, borrowed until the next call. */
void maint_set_config(struct maint *mt, const struct maint_window *v,
    size_t n);

/*
 * Adds a window made through the API, taking tz (its w->tz) whatever
 * happens; id and created are set here. Returns 0 and *id, or -1 with
 * why: no author or comment, a one-off that has ended or lasts over 30
 * days, a name the configuration uses, too many windows.
 */
int maint_add(struct maint *mt, const struct maint_window *in, struct tz *tz,
    int64_t now, uint64_t *id, const char **why);
/* Restores a saved one as it was (id kept), under the same checks. */
int maint_restore(struct maint *mt, const struct maint_window *in,
    struct tz *tz, int64_t now, const char **why);
/* Ends (removes) API window id. false if there is none. */
bool maint_end(struct maint *mt, uint64_t id);
/* Drops the API one-offs that ended by now; returns how many. */
size_t maint_prune(struct maint *mt, int64_t now);

/* Every window, the configuration's first, then the API's. */
size_t maint_count(const struct maint *mt);
const struct maint_window *maint_at(const struct maint *mt, size_t i);
/* API window id, or NULL. */
const struct maint_window *maint_find(const struct maint *mt, uint64_t id);

/*
 * The windows active at now, in maint_at's order, into out (at most cap);
 * returns how many are active (which may be more than cap). For the
 * page's banner, /health and /status.
 */
size_t maint_active(const struct maint *mt, int64_t now,
    struct maint_view *out, size_t cap);
/*
 * The next occurrence of each window that will start after now, soonest
 * first, into out (at most cap); returns how many were written. An
 * active recurring window appears with its following occurrence.
 */
size_t maint_next(const struct maint *mt, int64_t now,
    struct maint_view *out, size_t cap);

/*
 * The first active window covering rc at now, or NULL; *end (may be
 * NULL) its occurrence's end. What silences a rule: the notifiers,
 * /alerts, /health and /status ask here after the silences.
 */
const struct maint_window *maint_match(const struct maint *mt,
    const struct rule_cfg *rc, int64_t now, int64_t *end);

#endif
