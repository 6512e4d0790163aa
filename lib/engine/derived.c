#include "engine/derived.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/expr.h"
#include "engine/ruleset.h"
#include "engine/store.h"

struct lookup {
	const struct config *cfg;
	const struct derived_cfg *d;
	const struct store *st;
	const struct probe_fact *facts;
	const struct derived_result *res;
	int64_t now;
	int64_t t;		/* newest input's time so far */
	char *why;
	size_t whylen;
};

/* Rules' default staleness for a metric of probe f. */
static int64_t
stale_after(const struct probe_fact *f)
{
	int64_t s = 3 * f->interval_ms;

	if (s < f->interval_ms + f->timeout_ms)
		s = f->interval_ms + f->timeout_ms;
	return s;
}

static bool
input(void *arg, size_t k, double *out)
{
	struct lookup *l = arg;
	const char *name = expr_var(l->d->expr, k);
	const struct probe_fact *f;
	const struct series *s;
	struct sample last;

	if (l->d->var_derived[k] >= 0) {
		const struct derived_result *r =
		    &l->res[l->d->var_derived[k]];

		if (!r->known) {
			snprintf(l->why, l->whylen, "%s: %.100s", name, r->why);
			return false;
		}
		if (r->t > l->t)
			l->t = r->t;
		*out = r->value;
		return true;
	}
	f = &l->facts[l->d->var_probe[k]];
	s = store_find(l->st, name);
	if (s == NULL || !series_last(s, &last)) {
		snprintf(l->why, l->whylen, "no samples of %s", name);
		return false;
	}
	/* A failed run reports up and timings, not the body's metrics. */
	if (f->has_run && !f->last_up && last.t < f->last_started) {
		snprintf(l->why, l->whylen, "%s: probe failing: %s", name,
		    f->reason != NULL ? f->reason : "?");
		return false;
	}
	if (l->now - last.t > stale_after(f)) {
		snprintf(l->why, l->whylen, "%s: stale", name);
		return false;
	}
	if (last.t > l->t)
		l->t = last.t;
	*out = last.v;
	return true;
}

static bool
reads(const struct derived_cfg *d, size_t probe)
{
	if (probe == RULESET_ALL)
		return true;
	for (size_t k = 0; k < d->nprobes; k++)
		if (d->probes[k] == probe)
			return true;
	return false;
}

size_t
derived_update(const struct config *cfg, struct store *st,
    const struct probe_fact *facts, size_t probe, int64_t now,
    struct derived_result *res,
    size_t (*cap_of)(const struct config *cfg, size_t probe))
{
	size_t stored = 0;

	for (size_t o = 0; o < cfg->nderived; o++) {
		size_t i = cfg->derived_order[o];
		const struct derived_cfg *d = &cfg->derived[i];
		struct derived_result *r = &res[i];
		struct lookup l = {
			.cfg = cfg, .d = d, .st = st, .facts = facts,
			.res = res, .now = now, .why = r->why,
			.whylen = sizeof(r->why),
		};
		enum expr_status es;
		double v;

		r->known = false;
		r->why[0] = '\0';
		es = expr_eval(d->expr, input, &l, &v, NULL);
		if (es == EXPR_OK) {
			r->known = true;
			r->value = v;
			r->t = l.t;
		} else if (es != EXPR_UNKNOWN) {
			snprintf(r->why, sizeof(r->why), "%s",
			    expr_status_text(es));
		}
		if (r->known && reads(d, probe) &&
		    store_add(st, d->metric, r->t, r->value,
		    cap_of(cfg, d->home)) == 0)
			stored++;
	}
	return stored;
}
