#include "engine/ruleset.h"
#include "engine/ruleset_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "base/duration.h"
#include "base/hash.h"
#include "engine/derived.h"
#include "engine/suppress.h"
#include "base/log.h"
#include "engine/store.h"
#include "engine/window.h"


static int
depth(const struct config *cfg, size_t i)
{
	int d = 0;

	while (cfg->rules[i].depends_on != NULL && d <= (int)cfg->nrules) {
		i = cfg->rules[i].dep;
		d++;
	}
	return d;
}

static bool
append(size_t **v, size_t *n, size_t x)
{
	size_t *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL)
		return false;
	nv[(*n)++] = x;
	*v = nv;
	return true;
}

/* A previous rule whose status carries over: same name and settings. */
static const struct rule_rt *
find_old(const struct ruleset *old, const struct rule_cfg *rc, bool *same)
{
	if (old == NULL)
		return NULL;
	for (size_t i = 0; i < old->n; i++) {
		const struct rule_cfg *o = old->rules[i].cfg;

		if (strcmp(o->name, rc->name) != 0)
			continue;
		*same = strcmp(o->canon, rc->canon) == 0;
		return &old->rules[i];
	}
	return NULL;
}

static bool
same_metric(const struct rule_cfg *a, const struct rule_cfg *b)
{
	return (a->metric != NULL && b->metric != NULL &&
	    strcmp(a->metric, b->metric) == 0 && a->agg == b->agg);
}

/*
 * A rule over a derived metric is evaluated when any probe it reads
 * runs, not only its home probe.
 */
static bool
derived_inputs(struct ruleset *rs, const struct config *cfg,
    struct rule_rt *r, size_t i)
{
	const struct rule_cfg *rc = r->cfg;
	const struct derived_cfg *ds[2];

	r->dnum = config_derived(cfg, rc->metric != NULL ? rc->metric :
	    rc->numerator != NULL ? rc->numerator : "");
	r->dden = rc->denominator != NULL ?
	    config_derived(cfg, rc->denominator) : NULL;
	r->inum = r->dnum != NULL ? (size_t)(r->dnum - cfg->derived) : 0;
	r->iden = r->dden != NULL ? (size_t)(r->dden - cfg->derived) : 0;
	ds[0] = r->dnum;
	ds[1] = r->dden;
	for (size_t k = 0; k < 2; k++) {
		for (size_t j = 0; ds[k] != NULL && j < ds[k]->nprobes; j++) {
			size_t p = ds[k]->probes[j];
			bool there = false;

			for (size_t a = 0; a < rs->nby_probe[p]; a++)
				there |= rs->by_probe[p][a] == i;
			if (!there && !append(&rs->by_probe[p],
			    &rs->nby_probe[p], i))
				return false;
		}
	}
	return true;
}

void
ruleset_set_derived(struct ruleset *rs, const struct derived_result *res)
{
	rs->derived = res;
}

struct ruleset *
ruleset_new(const struct config *cfg, const struct ruleset *old)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	size_t k = 0;

	if (rs == NULL)
		return NULL;
	rs->n = cfg->nrules;
	rs->nprobes = cfg->nprobes;
	rs->rules = calloc(rs->n + 1, sizeof(*rs->rules));
	rs->order = calloc(rs->n + 1, sizeof(*rs->order));
	rs->queue = calloc(rs->n + 1, sizeof(*rs->queue));
	rs->queued = calloc(rs->n + 1, sizeof(*rs->queued));
	rs->by_probe = calloc(rs->nprobes + 1, sizeof(*rs->by_probe));
	rs->nby_probe = calloc(rs->nprobes + 1, sizeof(*rs->nby_probe));
	if (rs->rules == NULL || rs->order == NULL || rs->queue == NULL ||
	    rs->queued == NULL || rs->by_probe == NULL ||
	    rs->nby_probe == NULL)
		goto fail;
	for (size_t i = 0; i < rs->n; i++) {
		struct rule_rt *r = &rs->rules[i];
		const struct rule_cfg *rc = &cfg->rules[i];
		const struct rule_rt *o;
		bool same = false;

		r->cfg = rc;
		r->data_age_ms = -1;
		rule_status_init(&r->st);
		o = find_old(old, rc, &same);
		if (o != NULL && same) {
			r->st = o->st;
			/* A reload does not cut a hold short. */
			r->hold = o->hold;
			r->dep_good_since = o->dep_good_since;
			r->bad_since = o->bad_since;
		}
		if (o != NULL && o->has_baseline &&
		    (same || same_metric(o->cfg, rc))) {
			r->has_baseline = true;
			r->baseline = o->baseline;
			r->baseline_at = o->baseline_at;
		} else if (rc->has_baseline) {
			r->has_baseline = true;
			r->baseline = rc->baseline;
		}
		if (!append(&rs->by_probe[rc->probe], &rs->nby_probe[rc->probe],
		    i))
			goto fail;
		if (!derived_inputs(rs, cfg, r, i))
			goto fail;
		if (rc->denominator != NULL && rc->probe2 != rc->probe &&
		    !append(&rs->by_probe[rc->probe2],
		    &rs->nby_probe[rc->probe2], i))
			goto fail;
		if (rc->depends_on != NULL &&
		    !append(&rs->rules[rc->dep].dependents,
		    &rs->rules[rc->dep].ndependents, i))
			goto fail;
	}
	/* Dependencies first: order by depth in the dependency chain. */
	for (int d = 0; k < rs->n && d <= (int)rs->n; d++)
		for (size_t i = 0; i < rs->n; i++)
			if (depth(cfg, i) == d)
				rs->order[k++] = i;
	/*
	 * A probe can feed a rule and the rule it depends on (db_pool on
	 * db_down): its list must be in dependency order too, or the
	 * dependent is judged against its dependency's previous state.
	 */
	for (size_t p = 0; p < rs->nprobes; p++) {
		size_t *l = rs->by_probe[p];

		for (size_t a = 1; a < rs->nby_probe[p]; a++) {
			size_t x = l[a], b = a;

			while (b > 0 && depth(cfg, l[b - 1]) > depth(cfg, x)) {
				l[b] = l[b - 1];
				b--;
			}
			l[b] = x;
		}
	}
	return rs;
fail:
	ruleset_free(rs);
	return NULL;
}

void
ruleset_free(struct ruleset *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; rs->rules != NULL && i < rs->n; i++)
		free(rs->rules[i].dependents);
	for (size_t i = 0; rs->by_probe != NULL && i < rs->nprobes; i++)
		free(rs->by_probe[i]);
	free(rs->by_probe);
	free(rs->nby_probe);
	free(rs->rules);
	free(rs->order);
	free(rs->queue);
	free(rs->queued);
	free(rs->buf);
	free(rs->scratch);
	free(rs);
}

size_t
ruleset_count(const struct ruleset *rs)
{
	return rs->n;
}

const struct rule_cfg *
ruleset_cfg(const struct ruleset *rs, size_t i)
{
	return i < rs->n ? rs->rules[i].cfg : NULL;
}

const struct rule_status *
ruleset_status(const struct ruleset *rs, size_t i)
{
	return i < rs->n ? &rs->rules[i].st : NULL;
}

static bool
reserve(struct ruleset *rs, size_t n)
{
	struct sample *b;
	double *s;

	if (n <= rs->bufcap)
		return true;
	b = realloc(rs->buf, n * sizeof(*b));
	if (b == NULL)
		return false;
	rs->buf = b;
	s = realloc(rs->scratch, n * sizeof(*s));
	if (s == NULL)
		return false;
	rs->scratch = s;
	rs->bufcap = n;
	return true;
}

/*
 * One metric's aggregate for rule r, or false with r->why set. The
 * newest sample's age goes to *age.
 */
static bool
metric_value(struct ruleset *rs, struct rule_rt *r, const struct store *st,
    const struct probe_fact *facts, const char *metric, size_t probe,
    const struct derived_cfg *d, size_t di, int64_t now, int64_t clip,
    double *out, int64_t *age, double *count)
{
	const struct rule_cfg *rc = r->cfg;
	const struct probe_fact *f = &facts[probe];
	const struct series *s = store_find(st, metric);
	int64_t stale = rc->stale_ms, since, fresh;
	struct sample last;
	const char *why;
	size_t n;

	if (s == NULL || !series_last(s, &last)) {
		if (d != NULL && rs->derived != NULL &&
		    rs->derived[di].why[0] != '\0')
			snprintf(r->why, sizeof(r->why), "%s unknown: %.100s",
			    metric, rs->derived[di].why);
		else if (f->has_run && !f->last_up)
			snprintf(r->why, sizeof(r->why), "probe failing: %s",
			    f->reason != NULL ? f->reason : "?");
		else if (f->has_run)
			snprintf(r->why, sizeof(r->why), "no samples of %s "
			    "(the probe ran but did not report it)", metric);
		else
			snprintf(r->why, sizeof(r->why), "no samples yet");
		return false;
	}
	*age = now - last.t;
	/*
	 * A failed run records up and timings but not the body's metrics:
	 * a metric older than the failed run is not news, it is a gap.
	 */
	if (f->has_run && !f->last_up && last.t < f->last_started) {
		snprintf(r->why, sizeof(r->why), "probe failing: %s",
		    f->reason != NULL ? f->reason : "?");
		return false;
	}
	/*
	 * A derived metric not computed from an input probe's last run
	 * (an input unknown, a division by zero) has no value now: its
	 * older sample is not the truth of the present.
	 */
	for (size_t k = 0; d != NULL && k < d->nprobes; k++) {
		const struct probe_fact *fi = &facts[d->probes[k]];

		if (fi->has_run && last.t < fi->last_started) {
			const char *w = rs->derived != NULL ?
			    rs->derived[di].why : "";

			snprintf(r->why, sizeof(r->why), "%s unknown: %.100s",
			    metric, w[0] != '\0' ? w : "an input has no new "
			    "value");
			return false;
		}
	}
	if (stale == 0) {
		/* Three intervals, and never less than a run can take. */
		stale = 3 * f->interval_ms;
		if (stale < f->interval_ms + f->timeout_ms)
			stale = f->interval_ms + f->timeout_ms;
	}
	/*
	 * Samples carry their run's start time, so a run that took its
	 * whole timeout delivers data already that old. Freshness counts
	 * from when the run that produced the sample finished.
	 */
	fresh = last.t >= f->last_started && f->last_finished >= last.t ?
	    now - f->last_finished : *age;
	if (fresh > stale) {
		char a[32], b[32];

		duration_format(fresh / 1000 * 1000, a, sizeof(a));
		duration_format(stale, b, sizeof(b));
		snprintf(r->why, sizeof(r->why), "stale: last sample of %s "
		    "%s ago (stale after %s)", metric, a, b);
		return false;
	}
	if (rc->window_ms == 0) {
		if (last.t < clip) {
			snprintf(r->why, sizeof(r->why), "no sample of %s since "
			    "the window opened", metric);
			r->thin = true;
			return false;
		}
		r->samples = 1;
		*out = last.v;
		if (count != NULL)
			*count = last.v;
		return true;
	}
	since = now - rc->window_ms;
	/* A deploy window never mixes samples from before it opened. */
	if (clip > since)
		since = clip - 1;
	if (!reserve(rs, series_len(s))) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		return false;
	}
	n = window_collect(s, since, rs->buf, rs->bufcap);
	r->samples = n;
	/*
	 * A trend over a sliver of its window is noise: two samples 300 ms
	 * apart with ordinary jitter make thousands of percent an hour.
	 */
	if (rc->agg == AGG_SLOPE && (n < 2 ||
	    (rs->buf[n - 1].t - rs->buf[0].t) * 2 < rc->window_ms)) {
		char have[32], want[32];

		duration_format(n < 2 ? 0 : rs->buf[n - 1].t - rs->buf[0].t,
		    have, sizeof(have));
		duration_format(rc->window_ms, want, sizeof(want));
		snprintf(r->why, sizeof(r->why), "%s: a slope needs samples "
		    "over at least half its window (%s of %s so far)", metric,
		    have, want);
		r->thin = true;
		return false;
	}
	if (window_eval(rc->agg, rs->buf, n, rs->scratch, out, &why) != 0) {
		snprintf(r->why, sizeof(r->why), "%s: %s", metric, why);
		/* Too few samples yet, not a bad one. */
		r->thin = n < 2 || rs->buf[n - 1].t == rs->buf[0].t;
		return false;
	}
	/*
	 * How many requests the window holds, whatever the aggregate: a
	 * counter's increase for the counter aggregates (a rate is per
	 * second, a slope per hour), else the value itself.
	 */
	if (count != NULL && (rc->agg == AGG_RATE || rc->agg == AGG_SLOPE)) {
		if (window_eval(AGG_DELTA, rs->buf, n, rs->scratch, count,
		    &why) != 0)
			*count = 0;
	} else if (count != NULL) {
		*count = *out;
	}
	return true;
}

/*
 * For a summary with {note:TEXT}: the first of the notes (joined by
 * "; ") that contains TEXT, else "". The person paged for blocked
 * sessions reads who blocks them, not only how many there are.
 */
static void
note_pick(const char *summary, const char *notes, char *out, size_t len)
{
	const char *k, *end, *at, *from, *to;
	char want[32];
	size_t wl;

	out[0] = '\0';
	if (summary == NULL || notes == NULL ||
	    (k = strstr(summary, "{note:")) == NULL ||
	    (end = strchr(k, '}')) == NULL)
		return;
	k += 6;
	wl = (size_t)(end - k);
	if (wl == 0 || wl >= sizeof(want))
		return;
	memcpy(want, k, wl);
	want[wl] = '\0';
	if ((at = strstr(notes, want)) == NULL)
		return;
	for (from = at; from > notes && !(from[-1] == ' ' &&
	    from - 1 > notes && from[-2] == ';'); from--)
		;
	to = strstr(at, "; ");
	if (to == NULL)
		to = at + strlen(at);
	snprintf(out, len, "%.*s", (int)(to - from), from);
}

static void
rule_input(struct ruleset *rs, struct rule_rt *r, const struct store *st,
    const struct probe_fact *facts, int64_t now, int64_t clip,
    struct rule_input *in)
{
	const struct rule_cfg *rc = r->cfg;
	int64_t age = -1, age2 = -1;
	double num, den, count = 0;

	memset(in, 0, sizeof(*in));
	r->why[0] = '\0';
	r->samples = 0;
	r->num = r->den = 0;
	r->thin = false;
	r->probe_error = facts[rc->probe].has_run &&
	    !facts[rc->probe].last_up ? facts[rc->probe].reason : NULL;
	note_pick(rc->summary, facts[rc->probe].notes, r->note,
	    sizeof(r->note));
	if (rc->metric != NULL) {
		in->known = metric_value(rs, r, st, facts, rc->metric,
		    rc->probe, r->dnum, r->inum, now, clip, &in->value, &age,
		    NULL);
	} else if (metric_value(rs, r, st, facts, rc->numerator, rc->probe,
	    r->dnum, r->inum, now, clip, &num, &age, NULL) &&
	    metric_value(rs, r, st, facts, rc->denominator, rc->probe2,
	    r->dden, r->iden, now, clip, &den, &age2, &count)) {
		char d[32], m[32], w[32];

		if (age2 > age)
			age = age2;
		r->num = num;
		r->den = den;
		/* Requests are whole: 483, not 483.3333. */
		snprintf(d, sizeof(d), "%.0f", count);
		ruleset_fmt_num(rc->min_denominator, m, sizeof(m));
		ruleset_window_text(rc, w, sizeof(w));
		if (den <= 0) {
			snprintf(r->why, sizeof(r->why), "%s is 0 in the "
			    "window: nothing to divide by", rc->denominator);
			in->quiet = true;
			r->thin = true;
		} else if (count < rc->min_denominator) {
			/* A count over the window, as min_denominator is. */
			snprintf(r->why, sizeof(r->why), "too little data: %s "
			    "requests (%s) over %s, under min_denominator %s",
			    d, rc->denominator, w, m);
			in->quiet = true;
			r->thin = true;
		} else {
			in->known = true;
			in->value = rc->scale * num / den;
		}
	}
	r->data_age_ms = age;
	in->why = r->why;
	in->has_baseline = r->has_baseline;
	in->baseline = r->baseline;
}

/* Start of probe p's last completed run, 0 before its first. */
static int64_t
last_run(const struct probe_fact *facts, size_t p)
{
	return facts[p].has_run ? facts[p].last_started : 0;
}

/*
 * Whether r's dependency holds it now that its state is decided (see
 * engine/suppress.h for the timeline).
 */
static enum hold
hold_of(struct ruleset *rs, struct rule_rt *r,
    const struct probe_fact *facts, int64_t now)
{
	const struct rule_cfg *rc = r->cfg;
	const struct rule_rt *dep;
	const struct probe_fact *df, *f = &facts[rc->probe];
	struct hold_input h;
	/*
	 * Unknown counts too: "probe failing" from a run before the
	 * dependency recovered is its outage seen late, not a warning.
	 */
	bool bad = r->st.state == RULE_PENDING ||
	    r->st.state == RULE_FIRING || r->st.state == RULE_UNKNOWN;

	if (!bad)
		r->bad_since = 0;
	else if (r->bad_since == 0)
		r->bad_since = f->has_run ? f->last_started : now;
	if (rc->depends_on == NULL)
		return HOLD_NONE;
	dep = &rs->rules[rc->dep];
	df = &facts[dep->cfg->probe];
	memset(&h, 0, sizeof(h));
	h.dep_state = dep->st.state;
	h.dep_probe_failed = df->has_run && !df->last_up;
	h.dep_run = last_run(facts, dep->cfg->probe);
	h.dep_cycle_ms = df->interval_ms + df->timeout_ms;
	h.bad = bad;
	h.bad_since = r->bad_since;
	h.run = last_run(facts, rc->probe);
	h.cycle_ms = f->interval_ms + f->timeout_ms;
	/* A ratio is as fresh as the older of its two probes' runs. */
	if (rc->denominator != NULL && rc->probe2 != rc->probe) {
		const struct probe_fact *f2 = &facts[rc->probe2];

		if (last_run(facts, rc->probe2) < h.run)
			h.run = last_run(facts, rc->probe2);
		if (f2->interval_ms + f2->timeout_ms > h.cycle_ms)
			h.cycle_ms = f2->interval_ms + f2->timeout_ms;
	}
	return suppress_decide(&h, &r->dep_good_since, now);
}

static void
log_event(const struct rule_rt *r, const struct rule_event *e)
{
	const struct rule_status *st = &r->st;
	char v[32], t[32];
	enum log_level lvl = LOG_LVL_NOTICE;

	ruleset_fmt_num(st->value, v, sizeof(v));
	ruleset_fmt_num(st->threshold, t, sizeof(t));
	if (e->kind != RULE_EV_TRANSITION) {
		log_notice("event=rule_%s rule=%s state=%s severity=%s",
		    e->kind == RULE_EV_FLAP_START ? "flapping" :
		    "flapping_ended", r->cfg->name, rule_state_name(e->to),
		    rule_sev_name(e->sev_to));
		return;
	}
	/* A rule settling into ok at start is no news. */
	if (e->initial && e->to == RULE_OK)
		lvl = LOG_LVL_DEBUG;
	if (e->to == RULE_FIRING && e->sev_to == SEV_CRITICAL)
		lvl = LOG_LVL_ERR;
	else if (e->to == RULE_FIRING)
		lvl = LOG_LVL_WARN;
	if (e->to == RULE_UNKNOWN)
		log_msg(lvl, "event=rule_state rule=%s from=%s to=unknown "
		    "reason=\"%s\"%s%s", r->cfg->name,
		    rule_state_name(e->from), LOG_Q(st->why),
		    e->suppressed ? " suppressed_by=" : "",
		    e->suppressed ? st->suppressed_by : "");
	else
		log_msg(lvl, "event=rule_state rule=%s from=%s to=%s "
		    "severity=%s value=%s threshold=%s%s%s%s", r->cfg->name,
		    rule_state_name(e->from), rule_state_name(e->to),
		    rule_sev_name(e->sev_to), v, t,
		    e->suppressed ? " suppressed_by=" : "",
		    e->suppressed ? st->suppressed_by : "",
		    e->flapping ? " flapping=1" : "");
}

static void
eval_one(struct ruleset *rs, size_t i, const struct store *st,
    const struct probe_fact *facts, int64_t now)
{
	struct rule_rt *r = &rs->rules[i];
	struct rule_event ev[RULE_MAX_EVENTS];
	struct rule_input in;
	int n;

	rule_input(rs, r, st, facts, now, 0, &in);
	n = rules_eval(&r->cfg->def, &r->st, &in, now, ev);
	r->hold = hold_of(rs, r, facts, now);
	rules_set_suppressed(&r->st, r->hold != HOLD_NONE ?
	    rs->rules[r->cfg->dep].cfg->name : NULL, ev, n);
	rs->events += (uint64_t)n;
	for (int e = 0; e < n; e++) {
		log_event(r, &ev[e]);
		if (rs->listener != NULL) {
			struct alert_event ae = {
				.rule = r->cfg, .st = &r->st, .ev = ev[e],
				.t = now,
			};

			rs->listener(&ae, rs->listener_arg);
		}
	}
}

uint64_t
ruleset_events(const struct ruleset *rs)
{
	return rs->events;
}

void
ruleset_set_listener(struct ruleset *rs, ruleset_listener fn, void *arg)
{
	rs->listener = fn;
	rs->listener_arg = arg;
}

void
ruleset_eval(struct ruleset *rs, const struct store *st,
    const struct probe_fact *facts, size_t probe, int64_t now)
{
	size_t head = 0, tail = 0;

	if (probe == RULESET_ALL) {
		for (size_t k = 0; k < rs->n; k++)
			eval_one(rs, rs->order[k], st, facts, now);
		return;
	}
	if (probe >= rs->nprobes)
		return;
	/*
	 * The probe's rules, then their dependents breadth first: each
	 * dependency is evaluated before the rules it can suppress.
	 */
	for (size_t k = 0; k < rs->nby_probe[probe]; k++) {
		size_t i = rs->by_probe[probe][k];

		if (!rs->queued[i]) {
			rs->queued[i] = true;
			rs->queue[tail++] = i;
		}
	}
	while (head < tail) {
		size_t i = rs->queue[head++];
		const struct rule_rt *r = &rs->rules[i];

		eval_one(rs, i, st, facts, now);
		for (size_t d = 0; d < r->ndependents; d++) {
			size_t j = r->dependents[d];

			if (!rs->queued[j]) {
				rs->queued[j] = true;
				rs->queue[tail++] = j;
			}
		}
	}
	for (size_t k = 0; k < tail; k++)
		rs->queued[rs->queue[k]] = false;
}

size_t
ruleset_save_baseline(struct ruleset *rs, const char *name, int64_t now,
    size_t *skipped)
{
	size_t saved = 0;

	*skipped = 0;
	for (size_t i = 0; i < rs->n; i++) {
		struct rule_rt *r = &rs->rules[i];
		const struct rule_def *d = &r->cfg->def;

		if (name != NULL ? strcmp(name, r->cfg->name) != 0 :
		    d->warn.base_factor == 0 && d->crit.base_factor == 0)
			continue;
		if (!r->st.known || r->st.evaluated == 0) {
			(*skipped)++;
			continue;
		}
		r->has_baseline = true;
		r->baseline = r->st.value;
		r->baseline_at = now;
		saved++;
		log_notice("event=baseline_saved rule=%s value=%g",
		    r->cfg->name, r->baseline);
	}
	return saved;
}

void
ruleset_counts(const struct ruleset *rs, struct ruleset_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule_status *st = &rs->rules[i].st;

		if (st->suppressed && st->state != RULE_OK &&
		    st->state != RULE_RESOLVED)
			c->suppressed++;
		if (st->state == RULE_FIRING && st->sev == SEV_CRITICAL)
			c->critical++;
		else if (st->state == RULE_FIRING)
			c->warning++;
		else if (st->state == RULE_PENDING)
			c->pending++;
		else if (st->state == RULE_UNKNOWN)
			c->unknown++;
	}
}

/*
 * vigil 0.1.0 hashed canons from an FNV-1a basis one digit short of the
 * real one; the state files it wrote name their rules by that value.
 */
#define CANON_HASH_V1_SEED 1469598103934665603ULL

/* A rule's canon hash as the state file holds it: 16 hex digits. */
static void
canon_hex(const char *canon, uint64_t seed, char *buf, size_t len)
{
	const char *s = canon != NULL ? canon : "";

	/* A hex string: a double cannot hold 64 bits exactly. */
	snprintf(buf, len, "%016llx",
	    (unsigned long long)hash64_seeded(seed, s, strlen(s)));
}

int64_t
ruleset_max_window_ms(const struct ruleset *rs)
{
	int64_t w = 0;

	for (size_t i = 0; i < rs->n; i++)
		if (rs->rules[i].cfg->window_ms > w)
			w = rs->rules[i].cfg->window_ms;
	return w;
}

cJSON *
ruleset_save(const struct ruleset *rs)
{
	cJSON *o = cJSON_CreateObject();
	char hash[24];

	for (size_t i = 0; i < rs->n; i++) {
		const struct rule_rt *r = &rs->rules[i];
		const struct rule_status *st = &r->st;
		cJSON *e, *h, *f;

		if (st->evaluated == 0 && !r->has_baseline)
			continue;
		e = cJSON_AddObjectToObject(o, r->cfg->name);
		canon_hex(r->cfg->canon, HASH64_BASIS, hash, sizeof(hash));
		cJSON_AddStringToObject(e, "canon", hash);
		cJSON_AddStringToObject(e, "state", rule_state_name(st->state));
		cJSON_AddStringToObject(e, "sev", rule_sev_name(st->sev));
		cJSON_AddNumberToObject(e, "since", (double)st->since);
		cJSON_AddNumberToObject(e, "cond_since", (double)st->cond_since);
		cJSON_AddNumberToObject(e, "clear_since",
		    (double)st->clear_since);
		cJSON_AddStringToObject(e, "fired_sev",
		    rule_sev_name(st->fired_sev));
		cJSON_AddBoolToObject(e, "known", st->known);
		cJSON_AddNumberToObject(e, "value", st->value);
		cJSON_AddNumberToObject(e, "threshold", st->threshold);
		cJSON_AddStringToObject(e, "why", st->why);
		cJSON_AddBoolToObject(e, "flapping", st->flapping);
		cJSON_AddNumberToObject(e, "evaluated", (double)st->evaluated);
		f = cJSON_AddArrayToObject(e, "flips");
		for (unsigned k = 0; k < st->nflips; k++)
			cJSON_AddItemToArray(f, cJSON_CreateNumber((double)
			    st->flips[(st->flip_head + RULE_FLAP_SLOTS -
			    st->nflips + k) % RULE_FLAP_SLOTS]));
		h = cJSON_AddArrayToObject(e, "history");
		for (unsigned k = st->nhist; k-- > 0;) {
			struct rule_transition tr;
			cJSON *t;

			rule_history(st, k, &tr);
			t = cJSON_CreateArray();
			cJSON_AddItemToArray(t, cJSON_CreateNumber(
			    (double)tr.t));
			cJSON_AddItemToArray(t, cJSON_CreateString(
			    rule_state_name(tr.from)));
			cJSON_AddItemToArray(t, cJSON_CreateString(
			    rule_state_name(tr.to)));
			cJSON_AddItemToArray(t, cJSON_CreateString(
			    rule_sev_name(tr.sev)));
			cJSON_AddItemToArray(h, t);
		}
		if (r->has_baseline) {
			cJSON_AddNumberToObject(e, "baseline", r->baseline);
			cJSON_AddNumberToObject(e, "baseline_at",
			    (double)r->baseline_at);
		}
	}
	return o;
}

/* An enum's number as 0.1.0 saved it: a whole number in [0, max]. */
static bool
old_number(const cJSON *x, int max, int *out)
{
	if (!cJSON_IsNumber(x) || x->valuedouble < 0 ||
	    x->valuedouble > max || x->valuedouble != (int)x->valuedouble)
		return false;
	*out = (int)x->valuedouble;
	return true;
}

bool
ruleset_load_state(const cJSON *x, enum rule_state *out)
{
	int n;

	for (n = RULE_OK; n <= RULE_UNKNOWN; n++)
		if (cJSON_IsString(x) && strcmp(x->valuestring,
		    rule_state_name((enum rule_state)n)) == 0)
			break;
	if (n > RULE_UNKNOWN && !old_number(x, RULE_UNKNOWN, &n))
		return false;
	*out = (enum rule_state)n;
	return true;
}

bool
ruleset_load_sev(const cJSON *x, enum rule_sev *out)
{
	int n;

	for (n = SEV_NONE; n <= SEV_CRITICAL; n++)
		if (cJSON_IsString(x) && strcmp(x->valuestring,
		    rule_sev_name((enum rule_sev)n)) == 0)
			break;
	if (n > SEV_CRITICAL && !old_number(x, SEV_CRITICAL, &n))
		return false;
	*out = (enum rule_sev)n;
	return true;
}

static double
jnum(const cJSON *o, const char *key, double lo, double hi, bool *ok)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(x) || x->valuedouble < lo || x->valuedouble > hi) {
		*ok = false;
		return 0;
	}
	return x->valuedouble;
}

/*
 * Restores one rule's status from e; false (nothing changed) when any
 * field is missing or out of range: a damaged entry starts fresh.
 */
static bool
restore_status(struct rule_status *out, const cJSON *e)
{
	struct rule_status st;
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(e, "why"), *x;
	bool ok = true;

	rule_status_init(&st);
	ok = ruleset_load_state(cJSON_GetObjectItemCaseSensitive(e, "state"),
	    &st.state) && ruleset_load_sev(cJSON_GetObjectItemCaseSensitive(e,
	    "sev"), &st.sev) && ruleset_load_sev(
	    cJSON_GetObjectItemCaseSensitive(e, "fired_sev"), &st.fired_sev);
	st.since = (int64_t)jnum(e, "since", 0, 9e15, &ok);
	st.cond_since = (int64_t)jnum(e, "cond_since", 0, 9e15, &ok);
	st.clear_since = (int64_t)jnum(e, "clear_since", 0, 9e15, &ok);
	st.value = jnum(e, "value", -1e308, 1e308, &ok);
	st.threshold = jnum(e, "threshold", -1e308, 1e308, &ok);
	st.evaluated = (int64_t)jnum(e, "evaluated", 0, 9e15, &ok);
	st.known = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "known"));
	st.flapping = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
	    "flapping"));
	if (!ok)
		return false;
	if (cJSON_IsString(why))
		snprintf(st.why, sizeof(st.why), "%s", why->valuestring);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "flips")) {
		if (!cJSON_IsNumber(x))
			continue;
		st.flips[st.flip_head] = (int64_t)x->valuedouble;
		st.flip_head = (st.flip_head + 1) % RULE_FLAP_SLOTS;
		if (st.nflips < RULE_FLAP_SLOTS)
			st.nflips++;
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "history")) {
		struct rule_transition *tr = &st.hist[st.hist_head];

		if (cJSON_GetArraySize(x) != 4 ||
		    !cJSON_IsNumber(cJSON_GetArrayItem(x, 0)) ||
		    !ruleset_load_state(cJSON_GetArrayItem(x, 1), &tr->from) ||
		    !ruleset_load_state(cJSON_GetArrayItem(x, 2), &tr->to) ||
		    !ruleset_load_sev(cJSON_GetArrayItem(x, 3), &tr->sev))
			continue;
		tr->t = (int64_t)cJSON_GetArrayItem(x, 0)->valuedouble;
		st.hist_head = (st.hist_head + 1) % RULE_HISTORY;
		if (st.nhist < RULE_HISTORY)
			st.nhist++;
	}
	*out = st;
	return true;
}

size_t
ruleset_restore(struct ruleset *rs, const cJSON *saved)
{
	size_t restored = 0;

	for (size_t i = 0; i < rs->n; i++) {
		struct rule_rt *r = &rs->rules[i];
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(saved,
		    r->cfg->name), *h, *b;
		char hash[24], v1[24];

		if (!cJSON_IsObject(e))
			continue;
		b = cJSON_GetObjectItemCaseSensitive(e, "baseline");
		if (cJSON_IsNumber(b)) {
			r->has_baseline = true;
			r->baseline = b->valuedouble;
			b = cJSON_GetObjectItemCaseSensitive(e, "baseline_at");
			r->baseline_at = cJSON_IsNumber(b) ?
			    (int64_t)b->valuedouble : 0;
		}
		h = cJSON_GetObjectItemCaseSensitive(e, "canon");
		canon_hex(r->cfg->canon, HASH64_BASIS, hash, sizeof(hash));
		canon_hex(r->cfg->canon, CANON_HASH_V1_SEED, v1, sizeof(v1));
		/* Settings changed while vigild was down: start fresh. */
		if (!cJSON_IsString(h) || (strcmp(h->valuestring, hash) != 0 &&
		    strcmp(h->valuestring, v1) != 0))
			continue;
		if (restore_status(&r->st, e))
			restored++;
	}
	log_info("event=rules_restored rules=%zu of=%zu", restored, rs->n);
	return restored;
}

bool
ruleset_value_since(struct ruleset *rs, size_t i, const struct store *st,
    const struct probe_fact *facts, int64_t since, int64_t now,
    struct rule_measure *m, char *why, size_t len)
{
	struct rule_rt copy;
	struct rule_input in;
	int64_t window;

	memset(m, 0, sizeof(*m));
	if (i >= rs->n) {
		snprintf(why, len, "no such rule");
		return false;
	}
	/* A scratch copy: the rule's own view and state stay untouched. */
	copy = rs->rules[i];
	rule_input(rs, &copy, st, facts, now, since, &in);
	m->value = in.value;
	m->samples = copy.samples;
	m->num = copy.num;
	m->den = copy.den;
	m->thin = !in.known && copy.thin;
	/* The span the value is over, as metric_value clipped it. */
	window = copy.cfg->window_ms;
	m->clipped = window > 0 && now - window < since;
	m->from = window == 0 ? now : m->clipped ? since : now - window;
	if (!in.known)
		snprintf(why, len, "%s", copy.why);
	return in.known;
}
