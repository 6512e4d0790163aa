/*
 * api_cache: every read endpoint's answer rendered once and shared by its
 * readers. /status is megabytes at thousands of probes, /alerts and
 * /silences walk every silence, and all of it runs on the loop that polls
 * the targets and answers /health: rendered per request, one client
 * reading in a loop pushed /health past a second and made a 200 ms probe
 * miss its slots. So a rendering is made again
 * - at once when the configuration is reloaded (or a reload rejected), a
 *   rule changes state (what /status says agrees with /health), a request
 *   changes something (a reader sees its own write) or a poll feeds an
 *   open release window (/status and /deploys agree);
 * - after probe runs, once the last rendering is older than ten times its
 *   own cost, so readers never take more than a tenth of the loop per
 *   answer kept: at once with a few probes, ~50 ms behind at 1,000;
 * - with nothing new, every API_STATUS_MAX_AGE_MS at most, for the
 *   clock's sake (answers say when they were made).
 * Rule events come in bursts (an outage, the first runs after a start)
 * and then stop, so they cost a rendering per reader only while the
 * burst lasts.
 */
#include "http/api_int.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "release/deploy.h"

/*
 * What a rendering must not be older than (key), and what it may lag
 * behind by a little (moved: probe runs).
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
	*moved = info.runs;
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

enum MHD_Result
api_cached(struct api *a, struct MHD_Connection *c, struct api_cache *slots,
    size_t nslots, const char *variant, api_render_fn *render)
{
	struct api_cache *sc = slot_for(slots, nslots, variant);
	int64_t now = clock_mono_us(), age = now - sc->at;
	uint64_t key[API_STATUS_KEY], moved;
	bool mine = sc->r != NULL && strcmp(sc->variant, variant) == 0;

	cache_key(a, key, &moved);
	if (!mine || memcmp(key, sc->key, sizeof(key)) != 0 ||
	    (age >= sc->cost * 10 && (moved != sc->moved ||
	    age >= (int64_t)API_STATUS_MAX_AGE_MS * 1000))) {
		if (sc->r != NULL)
			MHD_destroy_response(sc->r);
		sc->r = NULL;
		if ((sc->r = render(a, variant)) == NULL)
			return api_send(c, MHD_HTTP_OK, "application/json",
			    NULL, NULL);
		sc->at = now;
		sc->cost = clock_mono_us() - now;
		sc->moved = moved;
		memcpy(sc->key, key, sizeof(key));
		snprintf(sc->variant, sizeof(sc->variant), "%s", variant);
		sc->renders++;
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
