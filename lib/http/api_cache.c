/*
 * api_cache: every read endpoint's answer rendered once and shared by its
 * readers. /status is megabytes at thousands of probes, /alerts and
 * /silences walk every silence, and all of it runs on the loop that polls
 * the targets and answers /health: rendered per request, one client
 * reading in a loop pushed /health past a second and made a 200 ms probe
 * miss its slots. When a rendering is made again is refresh.c's decision;
 * this file keeps the slots, makes the renderings left behind, one per
 * loop pass, and keeps the readers that wait, suspended, for one made
 * aside. Rule events come in bursts (an outage, the first runs after
 * a start) and then stop, so they cost a rendering per reader only while
 * the burst lasts.
 */
#include "http/api_int.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "http/httpd.h"
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
	    &a->silences, &a->metrics[0], &a->metrics[1], &a->page };
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
	int64_t now = clock_mono_us(), cost;
	struct MHD_Response *r;

	snprintf(v, sizeof(v), "%s", variant);	/* may be sc->variant */
	cache_key(a, key, &moved);
	r = render(a, v);
	cost = clock_mono_us() - now;
	sc->loop_us += cost;
	if (r == NULL)
		return false;
	install(sc, r, now, cost, key, moved);
	memcpy(sc->variant, v, sizeof(v));
	sc->render = render;
	return true;
}

static void aside_done(void *arg, struct MHD_Response *r, int64_t started,
    int64_t cost);

/*
 * Starts a child rendering sc's answer for variant; false if it could
 * not start. The fork is the loop's cost (page tables: milliseconds at
 * 10,000 probes), counted with the slot's.
 */
static bool
start_aside(struct api *a, struct api_cache *sc, const char *variant,
    api_render_fn *render)
{
	int64_t t = clock_mono_us();
	bool ok;

	cache_key(a, a->aside_key, &a->aside_moved);
	snprintf(a->aside_variant, sizeof(a->aside_variant), "%s", variant);
	ok = aside_start(a->aside, render, a, a->aside_variant, aside_done,
	    a);
	t = clock_mono_us() - t;
	sc->loop_us += t;
	log_debug("event=render_aside_start ok=%d loop_us=%lld", ok,
	    (long long)t);
	if (ok) {
		a->aside_slot = sc;
		a->aside_render = render;
	}
	return ok;
}

/* Whether w's slot holds an answer made for it (refresh.c). */
static bool
answered(struct api_wait *w, struct api_cache **slot)
{
	struct api_cache *sc = slot_for(w->slots, w->nslots, w->variant);

	*slot = sc;
	return sc->r != NULL && strcmp(sc->variant, w->variant) == 0 &&
	    refresh_satisfies(memcmp(sc->key, w->key, sizeof(w->key)) == 0,
	    sc->at, w->since);
}

/* Takes w off the list of waiting readers and lets MHD go on with it. */
static void
wake(struct api *a, struct api_wait *w)
{
	for (struct api_wait **p = &a->waiting; *p != NULL; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->next = NULL;
	w->on = false;
	MHD_resume_connection(w->c);
}

/*
 * After a child: the readers its rendering answers go on; when the child
 * failed, so do those of its slot (answered in their requests). For the
 * rest, the next child, started now: it shows all they must see. If it
 * cannot start, they are answered in their requests too.
 */
static void
wake_waiting(struct api *a, const struct api_cache *failed)
{
	struct api_wait *w, *next;
	struct api_cache *sc;
	bool woken = false;

	for (w = a->waiting; w != NULL; w = next) {
		next = w->next;
		if (answered(w, &sc) || sc == failed) {
			wake(a, w);
			woken = true;
		}
	}
	if (a->waiting != NULL && !aside_busy(a->aside)) {
		w = a->waiting;
		(void)answered(w, &sc);
		if (!start_aside(a, sc, w->variant, w->render)) {
			sc->failed_at = clock_mono_us();
			while (a->waiting != NULL)
				wake(a, a->waiting);
			woken = true;
		}
	}
	/*
	 * MHD learns of resumed connections at its next run; in external
	 * epoll mode nothing wakes the loop for them, so run it now.
	 */
	if (woken)
		httpd_kick(a->httpd);
}

static void schedule(struct api *a);

/*
 * A rendering made aside is back. It is kept unless the slot was
 * rendered in a request meanwhile (newer); then the readers waiting for
 * it are answered.
 */
static void
aside_done(void *arg, struct MHD_Response *r, int64_t started, int64_t cost)
{
	struct api *a = arg;
	struct api_cache *sc = a->aside_slot;

	a->aside_slot = NULL;
	if (r != NULL && sc->at <= started) {
		install(sc, r, started, cost, a->aside_key, a->aside_moved);
		memcpy(sc->variant, a->aside_variant, sizeof(sc->variant));
		sc->render = a->aside_render;
		sc->aside_renders++;
	} else if (r != NULL) {
		MHD_destroy_response(r);
	} else {
		sc->failed_at = clock_mono_us();
		if (sc->behind && !render_into(a, sc, sc->variant, sc->render))
			sc->behind = false;	/* the next reader renders */
	}
	a->refresh_after = clock_mono_us() + refresh_pause(cost);
	wake_waiting(a, r == NULL ? sc : NULL);
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
	if (start_aside(a, sc, sc->variant, sc->render))
		return;
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

/* Suspends c until a child's rendering answers it (wake_waiting). */
static enum MHD_Result
suspend(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    struct api_cache *slots, size_t nslots, const char *variant,
    api_render_fn *render, const uint64_t key[API_STATUS_KEY], int64_t now)
{
	struct api_wait *w = &rq->wait, **p = &a->waiting;

	w->c = c;
	w->slots = slots;
	w->nslots = nslots;
	w->render = render;
	snprintf(w->variant, sizeof(w->variant), "%s", variant);
	memcpy(w->key, key, sizeof(w->key));
	w->since = now;
	w->on = true;
	w->next = NULL;
	while (*p != NULL)
		p = &(*p)->next;
	*p = w;
	MHD_suspend_connection(c);
	return MHD_YES;
}

static enum MHD_Result
serve(struct MHD_Connection *c, struct api_cache *sc)
{
	if (sc == NULL)
		return api_send(c, MHD_HTTP_OK, "application/json", NULL, NULL);
	return MHD_queue_response(c, MHD_HTTP_OK, sc->r);
}

enum MHD_Result
api_cached(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    struct api_cache *slots, size_t nslots, const char *variant,
    api_render_fn *render, int64_t guess_us)
{
	struct api_cache *sc = slot_for(slots, nslots, variant);
	uint64_t key[API_STATUS_KEY], moved;
	int64_t now = clock_mono_us();
	struct refresh_look look;

	cache_key(a, key, &moved);
	look.held = sc->r != NULL && strcmp(sc->variant, variant) == 0;
	look.same_key = memcmp(key, sc->key, sizeof(key)) == 0;
	look.moved = moved != sc->moved;
	look.age_us = now - sc->at;
	look.cost_us = sc->cost != 0 ? sc->cost : guess_us;
	look.aside_busy = aside_busy(a->aside);
	look.aside_failed = sc->failed_at != 0;
	look.failed_age_us = now - sc->failed_at;
	switch (refresh_decide(&look)) {
	case REFRESH_SERVE:
		break;
	case REFRESH_BEHIND:
		sc->behind = true;
		schedule(a);
		break;
	case REFRESH_ASIDE:
		if (start_aside(a, sc, variant, render))
			return suspend(a, c, rq, slots, nslots, variant, render,
			    key, now);
		/* Could not fork: here, and so for a while (refresh.c). */
		sc->failed_at = clock_mono_us();
		return serve(c, render_into(a, sc, variant, render) ? sc :
		    NULL);
	case REFRESH_WAIT:
		return suspend(a, c, rq, slots, nslots, variant, render, key,
		    now);
	case REFRESH_NOW:
		return serve(c, render_into(a, sc, variant, render) ? sc :
		    NULL);
	}
	return serve(c, sc);
}

enum MHD_Result
api_cache_resumed(struct api *a, struct MHD_Connection *c,
    struct api_req *rq)
{
	struct api_wait *w = &rq->wait;
	struct api_cache *sc;

	w->c = NULL;
	if (answered(w, &sc))
		return serve(c, sc);
	/* Its child failed, or none could start: made here after all. */
	return serve(c, render_into(a, sc, w->variant, w->render) ? sc :
	    NULL);
}

void
api_cache_unwait(struct api *a, struct api_req *rq)
{
	struct api_wait *w = &rq->wait;

	for (struct api_wait **p = &a->waiting; w->on && *p != NULL;
	    p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->on = false;
}

void
api_cache_wake_all(struct api *a)
{
	while (a->waiting != NULL)
		wake(a, a->waiting);
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
	clear(a->metrics, 2);
	clear(&a->page, 1);
}
