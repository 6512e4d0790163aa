/*
 * refresh: whether a shared rendering of a read endpoint (api_cache.c) is
 * served as it is, served while a new one is made behind its readers, or
 * made again at once. A pure function of what the slot holds and the
 * clock, so every order of events can be tried in a table.
 */
#ifndef VIGIL_REFRESH_H
#define VIGIL_REFRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How old a rendering may get when nothing changed (µs). */
#define REFRESH_MAX_AGE_US (250 * 1000)
/*
 * Renderings that cost this much (µs) may be renewed behind: a few
 * hundred probes. Below it, answers stay as fresh as the data.
 */
#define REFRESH_BEHIND_US 5000
/* How old a rendering renewed behind may be when a reader gets it (µs). */
#define REFRESH_STALE_US (2000 * 1000)
/*
 * How long (µs) after a child failed to render an endpoint its readers
 * get theirs made in the request again, rather than wait for another.
 */
#define REFRESH_ASIDE_RETRY_US (60 * 1000 * 1000)
/*
 * The share of a CPU (percent) that renewing renderings behind may take,
 * all endpoints together.
 */
#define REFRESH_SHARE_PCT 20

enum refresh_act {
	REFRESH_SERVE,		/* as it is */
	REFRESH_BEHIND,		/* as it is; a new one in a pass of its own */
	REFRESH_NOW,		/* made again in this request, on the loop */
	REFRESH_ASIDE,		/* made again in a child started for this
				   reader, who waits for it */
	REFRESH_WAIT,		/* made again in a child after the one in
				   flight (or by it: refresh_satisfies) */
};

struct refresh_look {
	bool held;		/* a rendering for this query exists */
	bool same_key;		/* nothing it must show has changed */
	bool moved;		/* probe runs or refused requests since */
	int64_t age_us;		/* since it was made */
	int64_t cost_us;	/* what making it cost; 0: never made */
	bool aside_busy;	/* a child renders (one at a time) */
	bool aside_failed;	/* a child failed to render this slot... */
	int64_t failed_age_us;	/* ...this long ago */
};

enum refresh_act refresh_decide(const struct refresh_look *l);

/*
 * What a rendering never made yet may cost (µs), for refresh_look's
 * cost_us: what the same answer cost made otherwise (sibling_us, the plain
 * /status for its first gzip one; 0: unknown), else REFRESH_GUESS_PROBE_US
 * a probe. Unknown, the first rendering was made on the loop: at 10,000
 * probes the first /status held it 0.6 to 3.3 s and the first /metrics
 * 1 s, and the runs held up meanwhile left the schedule behind.
 */
#define REFRESH_GUESS_PROBE_US 10
int64_t refresh_guess(int64_t sibling_us, size_t probes);

/*
 * Whether a rendering whose snapshot was taken at made_us (monotonic),
 * showing same_key (the key the waiting reader found), answers a reader
 * who began waiting at since_us.
 */
bool refresh_satisfies(bool same_key, int64_t made_us, int64_t since_us);

/*
 * How long (µs) to wait after a rendering made behind that cost cost_us
 * before the next one, so that they take REFRESH_SHARE_PCT of the loop.
 */
int64_t refresh_pause(int64_t cost_us);

#endif
