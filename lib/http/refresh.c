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
 *   together at most REFRESH_SHARE_PCT of a CPU. Made in the request,
 *   every endpoint due at once rendered in one loop pass (70 ms at 1,000
 *   probes), readers of five endpoints kept the loop busy more than half
 *   the time, and a /health that came meanwhile waited for them. Cheap
 *   ones, and one found after a quiet spell, are made now: no reader gets
 *   an answer seconds old;
 * - made now, but dear: the reader waits (its connection suspended) for a
 *   child to make it, one it starts or, when one is in flight, that one
 *   if it shows what the reader must see (refresh_satisfies), else the
 *   next. Prometheus scrapes every 15 s, always past REFRESH_STALE_US: at
 *   10,000 probes each scrape held the loop (and /health) for 0.34 s.
 *   After a child failed, readers get theirs in the request for a while.
 */
#include "http/refresh.h"

/* Made again before the reader is answered: here, or in a child. */
static enum refresh_act
now(const struct refresh_look *l)
{
	if (l->cost_us < REFRESH_BEHIND_US || (l->aside_failed &&
	    l->failed_age_us < REFRESH_ASIDE_RETRY_US))
		return REFRESH_NOW;
	return l->aside_busy ? REFRESH_WAIT : REFRESH_ASIDE;
}

enum refresh_act
refresh_decide(const struct refresh_look *l)
{
	bool due;

	if (!l->held || !l->same_key)
		return now(l);
	due = l->age_us >= l->cost_us * 10 &&
	    (l->moved || l->age_us >= REFRESH_MAX_AGE_US);
	if (!due)
		return REFRESH_SERVE;
	if (l->cost_us >= REFRESH_BEHIND_US && l->age_us < REFRESH_STALE_US)
		return REFRESH_BEHIND;
	return now(l);
}

bool
refresh_satisfies(bool same_key, int64_t made_us, int64_t since_us)
{
	/* A snapshot taken after the reader came shows all it must see. */
	return same_key || made_us >= since_us;
}

int64_t
refresh_guess(int64_t sibling_us, size_t probes)
{
	/*
	 * A lower bound: /status, /metrics and the page cost 57 to 100 µs
	 * a probe at 10,000 (bench/PROFILE.md). Low enough that a guess
	 * never sends aside what the loop makes in under REFRESH_BEHIND_US.
	 */
	if (sibling_us > 0)
		return sibling_us;
	if (probes > (size_t)(INT64_MAX / REFRESH_GUESS_PROBE_US))
		return INT64_MAX;
	return (int64_t)probes * REFRESH_GUESS_PROBE_US;
}

int64_t
refresh_pause(int64_t cost_us)
{
	return cost_us * (100 - REFRESH_SHARE_PCT) / REFRESH_SHARE_PCT;
}
