/*
 * refresh: whether a shared rendering of a read endpoint (api_cache.c) is
 * served as it is, served while a new one is made behind its readers, or
 * made again at once. A pure function of what the slot holds and the
 * clock, so every order of events can be tried in a table.
 */
#ifndef VIGIL_REFRESH_H
#define VIGIL_REFRESH_H

#include <stdbool.h>
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
 * The share of a CPU (percent) that renewing renderings behind may take,
 * all endpoints together.
 */
#define REFRESH_SHARE_PCT 20

enum refresh_act {
	REFRESH_SERVE,		/* as it is */
	REFRESH_BEHIND,		/* as it is; a new one in a pass of its own */
	REFRESH_NOW,		/* made again before this reader is answered */
};

struct refresh_look {
	bool held;		/* a rendering for this query exists */
	bool same_key;		/* nothing it must show has changed */
	bool moved;		/* probe runs or refused requests since */
	int64_t age_us;		/* since it was made */
	int64_t cost_us;	/* what making it cost the loop */
};

enum refresh_act refresh_decide(const struct refresh_look *l);

/*
 * How long (µs) to wait after a rendering made behind that cost cost_us
 * before the next one, so that they take REFRESH_SHARE_PCT of the loop.
 */
int64_t refresh_pause(int64_t cost_us);

#endif
