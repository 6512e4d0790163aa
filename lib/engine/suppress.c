#include "engine/suppress.h"

enum hold
suppress_decide(const struct hold_input *in, int64_t *good_since,
    int64_t now)
{
	enum hold failing = HOLD_NONE;

	if (in->dep_state == RULE_UNKNOWN)
		failing = HOLD_DEP_UNKNOWN;
	else if (in->dep_state == RULE_FIRING ||
	    in->dep_state == RULE_PENDING)
		failing = HOLD_DEP_FAILING;
	else if (in->dep_probe_failed)
		failing = HOLD_DEP_PROBE;
	if (failing != HOLD_NONE) {
		*good_since = 0;
		return failing;
	}
	/*
	 * Fine since the run that showed it, not since we noticed: a rule
	 * fed by that same run is as fresh as the news.
	 */
	if (*good_since == 0)
		*good_since = in->dep_run > 0 ? in->dep_run : now;
	/*
	 * Recovered lately: a failure we last saw may be its outage, late.
	 * Wait for a run of ours that started after it, within two cycles.
	 */
	if (in->bad && in->run < *good_since &&
	    now - *good_since < 2 * in->cycle_ms)
		return HOLD_DEP_RECOVERING;
	/* We went bad first: let the dependency look before we page. */
	if (in->bad && in->dep_run < in->bad_since &&
	    now - in->bad_since < 2 * in->dep_cycle_ms)
		return HOLD_DEP_UNCONFIRMED;
	return HOLD_NONE;
}

const char *
suppress_hold_text(enum hold h)
{
	switch (h) {
	case HOLD_NONE:
		return "";
	case HOLD_DEP_FAILING:
		return "its dependency is failing";
	case HOLD_DEP_PROBE:
		return "its dependency's probe failed its last run";
	case HOLD_DEP_UNKNOWN:
		return "its dependency cannot be judged";
	case HOLD_DEP_RECOVERING:
		return "its dependency just recovered; waiting for a fresh run";
	case HOLD_DEP_UNCONFIRMED:
		return "waiting for its dependency's next run to confirm";
	}
	return "?";
}
