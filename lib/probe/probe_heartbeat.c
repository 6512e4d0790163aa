/*
 * probe_heartbeat: judges a job's last heartbeat at each run.
 */
#include "probe/probe_heartbeat.h"

#include <stdlib.h>

#include "base/clock.h"
#include "config/config.h"
#include "probe/beat.h"

struct hb {
	const struct probe_cfg *cfg;
	struct beatboard *board;	/* the monitor's; NULL: none */
};

static void *
hb_create(const struct probe_cfg *cfg, const struct probe_env *env)
{
	struct hb *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cfg = cfg;
	h->board = env->beats;
	return h;
}

static int
hb_start(void *impl, struct probe *p, struct probe_result *r)
{
	struct hb *h = impl;
	const struct heartbeat_cfg *c = &h->cfg->heartbeat;
	const struct beat *last = beatboard_last(h->board, h->cfg->name);
	int64_t now = clock_wall_ms();
	char why[sizeof(r->reason)];

	if (h->board == NULL) {
		probe_abort(p, PROBE_FAIL_INTERNAL, "no beat board");
		return 0;
	}
	if (last != NULL) {
		probe_result_add(r, "last_beat_age_s",
		    (double)(now - last->at) / 1000.0);
		if (last->duration_s >= 0)
			probe_result_add(r, "job_duration_s", last->duration_s);
	}
	if (!beat_judge(last, c->period_ms, c->grace_ms,
	    beatboard_started(h->board), now, why, sizeof(why))) {
		/* A job that said it failed is not a late one. */
		probe_abort(p, last != NULL && last->failed &&
		    now - last->at <= c->period_ms + c->grace_ms ?
		    PROBE_FAIL_STATUS : PROBE_FAIL_TIMEOUT, "%s", why);
		return 0;
	}
	if (last == NULL)
		probe_result_notef(r, "no heartbeat yet since vigild started");
	probe_end(p);
	return 0;
}

static void
hb_rebind(void *impl, const struct probe_cfg *cfg)
{
	((struct hb *)impl)->cfg = cfg;
}

static void
hb_cancel(void *impl)
{
	(void)impl;	/* a run ends inside start: nothing in flight */
}

static void
hb_destroy(void *impl)
{
	free(impl);
}

const struct probe_ops probe_heartbeat_ops = {
	.create = hb_create,
	.start = hb_start,
	.rebind = hb_rebind,
	.cancel = hb_cancel,
	.destroy = hb_destroy,
};
