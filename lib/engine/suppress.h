/*
 * suppress: whether a rule is held ("suppressed by" its dependency).
 * Pure: what is known of the dependency and of the rule, and a clock, in;
 * a verdict out. The one thing to remember between evaluations (when the
 * dependency last recovered) is the caller's, passed by pointer.
 *
 * A rule R depending on D (runs are known by when they started; a run
 * counts once it has completed):
 *
 *   D fails (firing, pending, unknown, or its probe's last run failed):
 *       R is held.
 *   D recovers on a run that started at g: R, if bad (pending, firing or
 *       unknown), stays held until a run of R's own probe that
 *       started at or after g has completed. R's failure from a run that
 *       started before g may be D's outage seen late; it only pages if a
 *       fresh run still fails.
 *   R turns bad (pending, firing or unknown) on a run that started at b
 *       while D looks fine: R is held until a run of D's probe that
 *       started at or after b has completed. D may simply not have looked
 *       yet (its probe runs later in the interval).
 *
 * So whichever probe runs first, a whole-application outage is D's alone.
 * Each wait is bounded by two cycles (interval + timeout) of the probe
 * waited for, so a probe that stops running cannot hold a rule forever.
 */
#ifndef VIGIL_SUPPRESS_H
#define VIGIL_SUPPRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/rules.h"

enum hold {
	HOLD_NONE,
	HOLD_DEP_FAILING,	/* the dependency fires or is pending */
	HOLD_DEP_PROBE,		/* the dependency's probe's last run failed */
	HOLD_DEP_UNKNOWN,	/* the dependency cannot be judged */
	HOLD_DEP_RECOVERING,	/* it recovered; waiting for our fresh run */
	HOLD_DEP_UNCONFIRMED,	/* we turned bad; waiting for it to look */
};

struct hold_input {
	enum rule_state dep_state;
	bool dep_probe_failed;	/* its probe's last completed run failed */
	int64_t dep_run;	/* start of that run, Unix ms; 0: none yet */
	int64_t dep_cycle_ms;	/* its probe's interval + timeout */
	bool bad;		/* the rule is pending, firing or unknown (a
				   rule that is fine has nothing to hold) */
	int64_t bad_since;	/* start of the run that first showed it */
	int64_t run;		/* start of our probe's last completed run */
	int64_t cycle_ms;	/* our probe's interval + timeout */
};

/*
 * The verdict at now. *good_since is the start of the run on which the
 * dependency last stopped failing (0 while it fails, and before it was ever seen fine); it is
 * updated here.
 */
enum hold suppress_decide(const struct hold_input *in, int64_t *good_since,
    int64_t now);

/* For people: "its dependency is failing", ... ("" for HOLD_NONE). */
const char *suppress_hold_text(enum hold h);

#endif
