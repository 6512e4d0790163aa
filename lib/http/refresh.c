/*
 * refresh: see refresh.h. The rules, in order:
 * - nothing held, or something changed that readers must see at once (a
 *   reload, a rule's state, their own write, a release poll): now;
 * - due when older than ten times its cost (readers never take more than
 *   a tenth of the loop per answer kept) and either probe runs moved or
 *   it reached REFRESH_MAX_AGE_US (answers say when they were made);
 * - a due rendering that costs REFRESH_BEHIND_US or more, and is younger
 *   than REFRESH_STALE_US, is served while the next one is made behind
 *   (aside, in a forked child: api_aside.c), one at a time, all of them
 *   together at most REFRESH_SHARE_PCT of a CPU. Made in the request, every endpoint due at once rendered in
 *   one loop pass (70 ms at 1,000 probes), readers of five endpoints kept
 *   the loop busy more than half the time, and a /health that came
 *   meanwhile waited for them. Cheap ones, and one found after a quiet
 *   spell, are made now: no reader gets an answer seconds old.
 */
#include "http/refresh.h"

enum refresh_act
refresh_decide(const struct refresh_look *l)
{
	bool due;

	if (!l->held || !l->same_key)
		return REFRESH_NOW;
	due = l->age_us >= l->cost_us * 10 &&
	    (l->moved || l->age_us >= REFRESH_MAX_AGE_US);
	if (!due)
		return REFRESH_SERVE;
	if (l->cost_us >= REFRESH_BEHIND_US && l->age_us < REFRESH_STALE_US)
		return REFRESH_BEHIND;
	return REFRESH_NOW;
}

int64_t
refresh_pause(int64_t cost_us)
{
	return cost_us * (100 - REFRESH_SHARE_PCT) / REFRESH_SHARE_PCT;
}
