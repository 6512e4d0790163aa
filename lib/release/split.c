#include "release/split.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "config/config.h"
#include "base/jsonc.h"
#include "release/stats.h"

void
split_count(struct split *s, double own, double all, int64_t at)
{
	s->have = true;
	s->own = own;
	s->all = all;
	s->at = at;
}

void
split_step(struct split *s, int weight, int64_t t)
{
	struct split_stage *g;

	if (s->nstages == SPLIT_STAGES)
		return;
	g = &s->stage[s->nstages++];
	g->weight = weight;
	g->since = t;
	/*
	 * Counts read before the step: Sentry's lag and the poll interval
	 * put a few of the previous stage's events in this one, which makes
	 * a canary stepping up look better, not worse.
	 */
	g->own0 = s->own;
	g->all0 = s->all;
}

void
split_judge(const struct split *s, const struct by_release_cfg *c,
    const char *version, size_t i, struct split_result *out)
{
	const struct split_stage *g = &s->stage[i];
	bool last = i + 1 == s->nstages;
	double w = g->weight / 100.0, share, ratio, alpha;
	struct stats_result r;

	memset(out, 0, sizeof(*out));
	out->p = NAN;
	out->own = (last ? s->own : s->stage[i + 1].own0) - g->own0;
	out->all = (last ? s->all : s->stage[i + 1].all0) - g->all0;
	if (g->weight >= 100) {
		out->outcome = SPLIT_UNTESTED;
		snprintf(out->reason, sizeof(out->reason), "not tested: the "
		    "release serves all the traffic, nothing to compare with");
		return;
	}
	if (!s->have || s->at < g->since) {
		out->outcome = SPLIT_SKIPPED;
		snprintf(out->reason, sizeof(out->reason), "skipped: no count "
		    "from Sentry in this stage");
		return;
	}
	if (out->all < c->min_errors) {
		out->outcome = SPLIT_SKIPPED;
		snprintf(out->reason, sizeof(out->reason), "skipped: %.0f error "
		    "events in the stage, need %u", out->all, c->min_errors);
		return;
	}
	r = stats_binomial_share(out->own, out->all, w, c->max_increase_pct /
	    100.0);
	out->p = r.p;
	alpha = 1 - c->confidence;
	share = out->own / out->all * 100;
	ratio = out->all > out->own ? out->own / (out->all - out->own) *
	    (1 - w) / w : INFINITY;
	if (r.valid && r.p < alpha) {
		out->outcome = SPLIT_FAIL;
		if (isinf(ratio))
			snprintf(out->reason, sizeof(out->reason), "%s made all "
			    "%.0f error events at %d %% of the traffic (exact "
			    "binomial p=%.2g < %.2g)", version, out->all,
			    g->weight, r.p, alpha);
		else
			snprintf(out->reason, sizeof(out->reason), "%s made %.0f "
			    "of %.0f error events (%.1f %%) at %d %% of the "
			    "traffic: %.1fx the rest's rate per request (exact "
			    "binomial p=%.2g < %.2g)", version, out->own,
			    out->all, share, g->weight, ratio, r.p, alpha);
		return;
	}
	out->outcome = SPLIT_PASS;
	snprintf(out->reason, sizeof(out->reason), "%.0f of %.0f error events "
	    "(%.1f %%) at %d %% of the traffic: not significantly worse than "
	    "the rest by more than %g %% (p=%.2g, need < %.2g)", out->own,
	    out->all, share, g->weight, c->max_increase_pct, r.p, alpha);
}

const char *
split_outcome_name(enum split_outcome o)
{
	switch (o) {
	case SPLIT_UNTESTED:
		return "untested";
	case SPLIT_SKIPPED:
		return "skipped";
	case SPLIT_PASS:
		return "pass";
	case SPLIT_FAIL:
		return "fail";
	}
	return "?";
}

cJSON *
split_save(const struct split *s)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();

	cJSON_AddBoolToObject(o, "have", s->have);
	cJSON_AddNumberToObject(o, "own", s->own);
	cJSON_AddNumberToObject(o, "all", s->all);
	cJSON_AddNumberToObject(o, "at", (double)s->at);
	for (size_t i = 0; i < s->nstages; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "weight", s->stage[i].weight);
		cJSON_AddNumberToObject(e, "since", (double)s->stage[i].since);
		cJSON_AddNumberToObject(e, "own0", s->stage[i].own0);
		cJSON_AddNumberToObject(e, "all0", s->stage[i].all0);
		cJSON_AddItemToArray(a, e);
	}
	cJSON_AddItemToObject(o, "stages", a);
	return o;
}

void
split_restore(struct split *s, const cJSON *o)
{
	const cJSON *e;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(o))
		return;
	s->have = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "have"));
	s->own = jsonc_number(o, "own", 0);
	s->all = jsonc_number(o, "all", 0);
	s->at = (int64_t)jsonc_number(o, "at", 0);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "stages")) {
		struct split_stage *g;
		double w = jsonc_number(e, "weight", 0);

		if (s->nstages == SPLIT_STAGES || !(w >= 1 && w <= 100))
			continue;
		g = &s->stage[s->nstages++];
		g->weight = (int)w;
		g->since = (int64_t)jsonc_number(e, "since", 0);
		g->own0 = jsonc_number(e, "own0", 0);
		g->all0 = jsonc_number(e, "all0", 0);
	}
}
