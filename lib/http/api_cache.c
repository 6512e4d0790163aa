/*
 * api_cache: every read endpoint's answer rendered once and shared by its
 * readers. /status is megabytes at thousands of probes, /alerts and
 * /silences walk every silence, and all of it runs on the loop that polls
 * the targets and answers /health: rendered per request, one client
 * reading in a loop pushed /health past a second and made a 200 ms probe
 * miss its slots. When a rendering is made again is refresh.c's decision;
 * this file keeps the slots and makes the renderings left behind, one per
 * loop pass. Rule events come in bursts (an outage, the first runs after
 * a start) and then stop, so they cost a rendering per reader only while
 * the burst lasts.
 */
#include "http/api_int.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "base/assert.h"
#include "base/clock.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "http/refresh.h"
#include "release/deploy.h"

/*
 * What a rendering must not be older than (key), and what it may lag
 * behind by a little (moved: probe runs, refused requests).
 */
static void
cache_key(const struct api *a, uint64_t key[API_STATUS_KEY], uint64_t *moved)
{
	struct monitor_info info;

	monitor_info(a->m, &info);
	key[0] = monitor_last_reload(a->m)->attempts;
	key[1] = ruleset_events(monitor_rules(a->m));
	key[2] = a->writes;
	key[3] = deploys_polls(a->deploys);
	/* Refused requests: only /metrics shows them (it counts them). */
	*moved = info.runs + a->auth_failures;
}

/* The slot for variant: its own, else the one made longest ago. */
static struct api_cache *
slot_for(struct api_cache *slots, size_t n, const char *variant)
{
	struct api_cache *old = &slots[0];

	VIGIL_ASSERT(n > 0);
	for (size_t i = 0; i < n; i++) {
		if (slots[i].r != NULL && strcmp(slots[i].variant, variant) ==
		    0)
			return &slots[i];
		if (slots[i].r == NULL || slots[i].at < old->at)
			old = &slots[i];
		if (slots[i].r == NULL)
			break;
	}
	return old;
}

/*
 * Which slot's rendering is most overdue among those left behind; NULL
 * when none is.
 */
static struct api_cache *
most_behind(struct api *a)
{
	struct api_cache *all[] = { &a->status[0], &a->status[1],
	    &a->alerts[0], &a->alerts[1], &a->alerts[2], &a->alerts[3],
	    &a->silences, &a->metrics, &a->page };
	struct api_cache *best = NULL;

	_Static_assert(API_ALERT_VARIANTS == 4, "every /alerts slot listed");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i]->behind && all[i]->r != NULL &&
		    (best == NULL || all[i]->at < best->at))
			best = all[i];
	return best;
}

/* Keeps r as sc's rendering, made at `at` in cost µs, showing key. */
static void
install(struct api_cache *sc, struct MHD_Response *r, int64_t at,
    int64_t cost, const uint64_t key[API_STATUS_KEY], uint64_t moved)
{
	if (sc->r != NULL)
		MHD_destroy_response(sc->r);
	sc->r = r;
	sc->at = at;
	sc->cost = cost;
	sc->moved = moved;
	memcpy(sc->key, key, sizeof(sc->key));
	sc->behind = false;
	sc->renders++;
}

/* Renders sc's answer for variant now; false when out of memory. */
static bool
render_into(struct api *a, struct api_cache *sc, const char *variant,
    api_render_fn *render)
{
	char v[sizeof(sc->variant)];
	uint64_t key[API_STATUS_KEY], moved;
	int64_t now = clock_mono_us();
	struct MHD_Response *r;

	snprintf(v, sizeof(v), "%s", variant);	/* may be sc->variant */
	cache_key(a, key, &moved);
	if ((r = render(a, v)) == NULL)
		return false;
	install(sc, r, now, clock_mono_us() - now, key, moved);
	memcpy(sc->variant, v, sizeof(v));
	sc->render = render;
	return true;
}

static void schedule(struct api *a);

/*
 * A rendering made aside is back. It is kept unless the slot was
 * rendered in a request meanwhile (newer) or given to another query.
 */
static void
aside_done(void *arg, struct MHD_Response *r, int64_t started, int64_t cost)
{
	struct api *a = arg;
	struct api_cache *sc = a->aside_slot;

	a->aside_slot = NULL;
	if (r != NULL && sc->behind && sc->at <= started)
		install(sc, r, started, cost, a->aside_key, a->aside_moved);
	else if (r != NULL)
		MHD_destroy_response(r);
	else if (sc->behind && !render_into(a, sc, sc->variant, sc->render))
		sc->behind = false;	/* the next reader renders at once */
	a->refresh_after = clock_mono_us() + refresh_pause(cost);
	if (most_behind(a) != NULL)
		schedule(a);
}

/*
 * One renewal at a time, the most overdue first, then a pause for the
 * share (refresh.c). Made aside in a child where it can be, else here,
 * in a loop pass of its own: the loop polls the sockets in between, so a
 * /health that came meanwhile waits for one rendering at most.
 */
void
api_cache_refresh(int fd, short what, void *arg)
{
	struct api *a = arg;
	struct api_cache *sc;
	int64_t cost;

	(void)fd;
	(void)what;
	if (aside_busy(a->aside) || (sc = most_behind(a)) == NULL)
		return;
	cache_key(a, a->aside_key, &a->aside_moved);
	if (aside_start(a->aside, sc->render, a, sc->variant, aside_done,
	    a)) {
		a->aside_slot = sc;
		return;
	}
	if (!render_into(a, sc, sc->variant, sc->render))
		sc->behind = false;	/* the next reader renders at once */
	cost = sc->cost;
	a->refresh_after = clock_mono_us() + refresh_pause(cost);
	if (most_behind(a) != NULL)
		schedule(a);
}

/* Arms the refresh for the next pass, or when the pause is over. */
static void
schedule(struct api *a)
{
	int64_t wait = a->refresh_after - clock_mono_us();
	struct timeval tv = { 0, 0 };

	if (a->refresh == NULL || evtimer_pending(a->refresh, NULL))
		return;
	if (wait > 0) {
		tv.tv_sec = (time_t)(wait / 1000000);
		tv.tv_usec = (suseconds_t)(wait % 1000000);
	}
	evtimer_add(a->refresh, &tv);
}

enum MHD_Result
api_cached(struct api *a, struct MHD_Connection *c, struct api_cache *slots,
    size_t nslots, const char *variant, api_render_fn *render)
{
	struct api_cache *sc = slot_for(slots, nslots, variant);
	uint64_t key[API_STATUS_KEY], moved;
	struct refresh_look look;

	cache_key(a, key, &moved);
	look.held = sc->r != NULL && strcmp(sc->variant, variant) == 0;
	look.same_key = memcmp(key, sc->key, sizeof(key)) == 0;
	look.moved = moved != sc->moved;
	look.age_us = clock_mono_us() - sc->at;
	look.cost_us = sc->cost;
	switch (refresh_decide(&look)) {
	case REFRESH_SERVE:
		break;
	case REFRESH_BEHIND:
		sc->behind = true;
		schedule(a);
		break;
	case REFRESH_NOW:
		if (!render_into(a, sc, variant, render))
			return api_send(c, MHD_HTTP_OK, "application/json",
			    NULL, NULL);
		break;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, sc->r);
}

static void
clear(struct api_cache *slots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (slots[i].r != NULL)
			MHD_destroy_response(slots[i].r);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
}

void
api_cache_clear(struct api *a)
{
	clear(a->status, 2);
	clear(a->alerts, API_ALERT_VARIANTS);
	clear(&a->silences, 1);
	clear(&a->metrics, 1);
	clear(&a->page, 1);
}
