/*
 * deploy: the windows' glue. It reads what the monitor measured (the
 * store, each check's rule) into polls for the pure verdict module, takes
 * the copy of the configuration a deploy is judged with, and tells the
 * listener a verdict once. It decides nothing itself (release/verdict.h).
 */
#include "release/deploy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "config/config.h"
#include "base/jsonc.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "release/deploy_int.h"
#include "engine/ruleset.h"
#include "engine/store.h"
#include "engine/window.h"

struct deploy *
deploy_new(size_t nchecks, int64_t begun, int64_t judge_from,
    int64_t interval_ms)
{
	struct deploy *dp = calloc(1, sizeof(*dp));

	if (dp == NULL)
		return NULL;
	dp->links = calloc(nchecks + 1, sizeof(*dp->links));
	if (dp->links == NULL || verdict_init(&dp->vd, nchecks, begun,
	    judge_from, interval_ms) != 0) {
		deploy_free(dp);
		return NULL;
	}
	return dp;
}

void
deploy_free(struct deploy *dp)
{
	if (dp == NULL)
		return;
	verdict_clear(&dp->vd);
	free(dp->links);
	free(dp);
}

struct deploys *
deploys_new(struct monitor *m)
{
	struct deploys *d = calloc(1, sizeof(*d));

	if (d != NULL) {
		d->m = m;
		d->next_id = 1;
	}
	return d;
}

void
deploys_free(struct deploys *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nkept; i++)
		deploy_free(d->kept[i]);
	free(d);
}

void
deploy_snapshot(struct vcheck_cfg *s, const struct release_check_cfg *rc,
    const struct rule_cfg *rule)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", rc->name);
	snprintf(s->rule, sizeof(s->rule), "%s", rule->name);
	s->key = rc->key;
	s->advisory = rc->advisory;
	s->lim.key = rc->key;
	s->lim.fail_after = rc->fail_after;
	s->lim.max_failures = rc->max_failures;
	s->lim.max_consecutive_errors = rc->max_consecutive_errors;
	s->lim.min_samples = rc->min_samples;
	s->min_requests = rc->min_requests;
	s->relative = rc->relative;
	s->max_increase_pct = rc->max_increase_pct;
	s->confidence = rc->confidence;
	s->min_relative_samples = rc->min_relative_samples;
	s->op = rule->def.op;
	s->warn_set = rule->def.warn.set;
	s->warn = rule->def.warn.threshold;
	s->crit_set = rule->def.crit.set;
	s->crit = rule->def.crit.threshold;
	snprintf(s->unit, sizeof(s->unit), "%s", rule->unit != NULL ?
	    rule->unit : "");
	s->ratio = rule->denominator != NULL;
	if (s->ratio) {
		snprintf(s->numerator, sizeof(s->numerator), "%s",
		    rule->numerator);
		snprintf(s->denominator, sizeof(s->denominator), "%s",
		    rule->denominator);
	} else {
		snprintf(s->metric, sizeof(s->metric), "%s", rule->metric);
	}
	s->agg = rule->agg;
	s->window_ms = rule->window_ms;
	s->scale = rule->scale;
}

/* Every sample of metric in [from, to), oldest first (malloc'd). */
static struct sample *
samples_between(const struct store *st, const char *metric, int64_t from,
    int64_t to, size_t *n)
{
	const struct series *s = store_find(st, metric);
	size_t first, len, k = 0;
	struct sample *out;

	*n = 0;
	if (s == NULL)
		return NULL;
	first = series_since(s, from);
	len = series_len(s);
	out = calloc(len - first + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = first; i < len; i++) {
		struct sample x;

		series_at(s, i, &x);
		if (x.t >= to)
			break;
		out[k++] = x;
	}
	*n = k;
	return out;
}

/* A counter's growth over [from, to); 0 when it cannot be read. */
static double
growth(const struct store *st, const char *metric, int64_t from, int64_t to)
{
	const char *why;
	struct sample *s;
	double v = 0;
	size_t n;

	s = samples_between(st, metric, from, to, &n);
	if (s != NULL && window_eval(AGG_DELTA, s, n, NULL, &v, &why) != 0)
		v = 0;
	free(s);
	return v;
}

/* The baseline: the same-length window before the deploy. */
static void
capture_baseline(struct vcheck *c, const struct store *st, int64_t from,
    int64_t to)
{
	const struct vcheck_cfg *cf = &c->cfg;
	double num, den, value = 0, *v = NULL, *scratch = NULL;
	struct sample *s;
	const char *why;
	bool has = false;
	size_t n = 0;

	if (!cf->ratio) {
		s = samples_between(st, cf->metric, from, to, &n);
		if (s == NULL)
			return;
		v = calloc(n + 1, sizeof(*v));
		scratch = calloc(n + 1, sizeof(*scratch));
		if (v != NULL && scratch != NULL) {
			for (size_t i = 0; i < n; i++)
				v[i] = s[i].v;
			has = window_eval(cf->agg == AGG_LAST ? AGG_AVG :
			    cf->agg, s, n, scratch, &value, &why) == 0;
			(void)verdict_baseline(c, v, n, has, value, 0, 0);
		}
		free(scratch);
		free(v);
		free(s);
		return;
	}
	/* A ratio's baseline is counts: errors and requests before. */
	num = growth(st, cf->numerator, from, to);
	den = growth(st, cf->denominator, from, to);
	(void)verdict_baseline(c, NULL, 0, den > 0, den > 0 ? cf->scale * num /
	    den : 0, num, den);
}

/* Tells the probes which release is judged, from when (or none). */
static void
focus(struct deploys *d, const struct deploy *dp)
{
	if (dp == NULL)
		monitor_set_focus(d->m, NULL, 0);
	else
		monitor_set_focus(d->m, dp->vd.version, dp->vd.judge_from);
}

/*
 * The judging interval: the configured one, but at least twice the
 * longest interval of a probe that feeds a check, so every interval
 * holds a poll of each.
 */
static int64_t
judging_interval(const struct config *cfg)
{
	int64_t iv = cfg->release.interval_ms;

	for (size_t i = 0; i < cfg->release.nchecks; i++) {
		const struct release_check_cfg *rc = &cfg->release.checks[i];
		const struct rule_cfg *r;

		if (rc->name == NULL)
			continue;
		r = &cfg->rules[rc->rule];
		if (2 * cfg->probes[r->probe].interval_ms > iv)
			iv = 2 * cfg->probes[r->probe].interval_ms;
		if (r->denominator != NULL &&
		    2 * cfg->probes[r->probe2].interval_ms > iv)
			iv = 2 * cfg->probes[r->probe2].interval_ms;
	}
	if (cfg->release.compare) {
		const struct probe_cfg *c = &cfg->probes[cfg->release.canary_probe];
		const struct probe_cfg *s = &cfg->probes[cfg->release.stable_probe];

		if (2 * c->interval_ms > iv)
			iv = 2 * c->interval_ms;
		if (2 * s->interval_ms > iv)
			iv = 2 * s->interval_ms;
	}
	return iv;
}

static size_t
count_checks(const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->release.nchecks; i++)
		n += cfg->release.checks[i].name != NULL;
	return n;
}

uint64_t
deploys_begin(struct deploys *d, const char *version, int64_t warmup_ms,
    char *why, size_t len)
{
	const struct config *cfg = monitor_config(d->m);
	const struct by_release_cfg *br = &cfg->release.by_release;
	int64_t now = clock_wall_ms();
	struct deploy *dp;
	size_t k = 0;

	if (d->open) {
		snprintf(why, len, "deploy %llu (%s) is still open: end it "
		    "first", (unsigned long long)d->kept[0]->id,
		    LOG_Q(d->kept[0]->vd.version));
		return 0;
	}
	dp = deploy_new(count_checks(cfg), now, now + (warmup_ms >= 0 ?
	    warmup_ms : cfg->release.warmup_ms), judging_interval(cfg));
	if (dp == NULL) {
		deploy_free(dp);
		snprintf(why, len, "out of memory");
		return 0;
	}
	dp->id = d->next_id++;
	snprintf(dp->vd.version, sizeof(dp->vd.version), "%s", version);
	dp->baseline_from = now - cfg->release.baseline_ms;
	for (size_t i = 0; i < cfg->release.nchecks; i++) {
		const struct release_check_cfg *rc = &cfg->release.checks[i];

		if (rc->name == NULL)
			continue;
		deploy_snapshot(&dp->vd.checks[k].cfg, rc,
		    &cfg->rules[rc->rule]);
		judge_init(&dp->vd.checks[k].j, &dp->vd.checks[k].cfg.lim);
		judge_init(&dp->vd.checks[k].stage, &dp->vd.checks[k].cfg.lim);
		dp->links[k].rule = rc->rule;
		capture_baseline(&dp->vd.checks[k], monitor_store(d->m),
		    dp->baseline_from, now);
		k++;
	}
	dp->vd.br = *br;
	if (cfg->release.compare) {
		dp->vd.compare = true;
		snprintf(dp->vd.canary, sizeof(dp->vd.canary), "%s",
		    cfg->probes[cfg->release.canary_probe].name);
		snprintf(dp->vd.stable, sizeof(dp->vd.stable), "%s",
		    cfg->probes[cfg->release.stable_probe].name);
	}
	if (br->on)
		snprintf(dp->br_probe, sizeof(dp->br_probe), "%s",
		    cfg->probes[br->probe].name);
	if (cfg->release.cache_hits != NULL)
		snprintf(dp->hits.metric, sizeof(dp->hits.metric), "%s",
		    cfg->release.cache_hits);
	if (cfg->release.cache_misses != NULL)
		snprintf(dp->misses.metric, sizeof(dp->misses.metric), "%s",
		    cfg->release.cache_misses);
	if (d->nkept == KEPT_DEPLOYS)
		deploy_free(d->kept[--d->nkept]);
	memmove(&d->kept[1], &d->kept[0], d->nkept * sizeof(d->kept[0]));
	d->kept[0] = dp;
	d->nkept++;
	d->open = true;
	focus(d, dp);
	log_notice("event=deploy_begin id=%llu version=\"%s\" warmup_ms=%lld "
	    "interval_ms=%lld checks=%zu", (unsigned long long)dp->id,
	    LOG_Q(dp->vd.version), (long long)(dp->vd.judge_from - now),
	    (long long)dp->vd.interval_ms, dp->vd.nchecks);
	return dp->id;
}

void
deploys_announce(struct deploys *d, const char *text)
{
	if (d->open)
		snprintf(d->kept[0]->announce, sizeof(d->kept[0]->announce),
		    "%s", text);
}

void
deploys_plan(struct deploys *d, const int *weights, size_t n)
{
	struct deploy *dp;

	if (!d->open)
		return;
	dp = d->kept[0];
	dp->nplanned = 0;
	for (size_t i = 0; i < n && i < DEPLOY_PLANNED_MAX; i++)
		dp->planned[dp->nplanned++] = weights[i];
}

int
deploys_step(struct deploys *d, int weight, char *why, size_t len)
{
	struct deploy *dp = d->open ? d->kept[0] : NULL;

	if (dp == NULL) {
		snprintf(why, len, "no deploy is open");
		return -1;
	}
	if (weight < 1 || weight > 100 || dp->vd.nstages == VERDICT_STAGES) {
		snprintf(why, len, weight < 1 || weight > 100 ? "the weight "
		    "must be from 1 to 100" : "too many stages");
		return -1;
	}
	verdict_step(&dp->vd, weight, clock_wall_ms());
	log_notice("event=deploy_step id=%llu weight=%d",
	    (unsigned long long)dp->id, weight);
	return 0;
}

void
deploys_set_listener(struct deploys *d,
    void (*fn)(uint64_t id, const char *version, const char *verdict,
    const char *reason, bool final, void *arg), void *arg)
{
	d->listener = fn;
	d->listener_arg = arg;
}

/*
 * Tells the listener the verdict of the latest window once: when it is
 * decided early, or (final) when the window ends.
 */
static void
announce(struct deploys *d, bool final)
{
	struct deploy *dp = d->nkept > 0 ? d->kept[0] : NULL;
	struct vresult r;
	enum verdict v;
	const char *reason;

	if (dp == NULL || dp->announced || d->listener == NULL)
		return;
	verdict_judge(&dp->vd, clock_wall_ms(), &r);
	if (!final && !r.window.decided)
		return;
	v = final ? r.window.final : r.window.now;
	reason = final ? r.window.final_reason : r.window.now_reason;
	dp->announced = true;
	log_notice("event=deploy_verdict id=%llu verdict=%s final=%d",
	    (unsigned long long)dp->id, verdict_name(v), final);
	d->listener(dp->id, dp->vd.version, verdict_name(v), reason, final,
	    d->listener_arg);
}

int
deploys_end(struct deploys *d, char *why, size_t len)
{
	struct deploy *dp = d->open ? d->kept[0] : NULL;

	if (dp == NULL) {
		snprintf(why, len, "no deploy is open");
		return -1;
	}
	verdict_end(&dp->vd, clock_wall_ms());
	announce(d, true);
	d->open = false;
	focus(d, NULL);
	log_notice("event=deploy_end id=%llu", (unsigned long long)dp->id);
	return 0;
}

static void
tally_poll(struct tally *k, const struct store *st, const char *metric,
    int64_t from)
{
	const struct series *s = store_find(st, metric);
	struct sample x;

	if (strcmp(k->metric, metric) != 0) {
		/* A reload named another counter: count on from its next. */
		snprintf(k->metric, sizeof(k->metric), "%s", metric);
		k->have_last = false;
	}
	if (s == NULL || !series_last(s, &x) || x.t < from)
		return;
	if (k->have_last)
		k->total += x.v >= k->last ? x.v - k->last : x.v;
	k->last = x.v;
	k->have_last = true;
}

/* The latest readings of a ratio check's counters since `from`. */
static bool
counts(const struct store *st, const struct rule_cfg *rc, int64_t from,
    double *num, double *den)
{
	const struct series *ns = store_find(st, rc->numerator);
	const struct series *ds = store_find(st, rc->denominator);
	struct sample n, dn;

	if (ns == NULL || ds == NULL || !series_last(ns, &n) ||
	    !series_last(ds, &dn) || n.t < from || dn.t < from)
		return false;
	*num = n.v;
	*den = dn.v;
	return true;
}

/* Check i's poll, measured on its rule as the run just evaluated it. */
static void
poll_check(struct deploys *d, struct deploy *dp, size_t i, int64_t now)
{
	struct dlink *l = &dp->links[i];
	const struct config *cfg = monitor_config(d->m);
	const struct rule_cfg *rc = &cfg->rules[l->rule];
	struct ruleset *rs = monitor_rules_mut(d->m);
	const struct store *st = monitor_store(d->m);
	const struct rule_status *rst = ruleset_status(rs, l->rule);
	struct vpoll p = { 0 };
	bool known;

	/*
	 * The rule was evaluated on this very run, just before: measure at
	 * its instant, so that once the window no longer reaches back to
	 * the deploy, the check's value is the one /status shows.
	 */
	p.t = rst != NULL && rst->evaluated != 0 ? rst->evaluated : now;
	known = ruleset_value_since(rs, l->rule, st, monitor_facts(d->m),
	    dp->vd.judge_from, p.t, &l->m, l->why, sizeof(l->why));
	p.kind = known ? VPOLL_VALUE : l->m.thin ? VPOLL_THIN : VPOLL_ERROR;
	p.value = l->m.value;
	p.why = l->why;
	if (known)
		l->why[0] = '\0';
	if (rc->denominator != NULL) {
		p.has_counts = p.kind != VPOLL_ERROR && counts(st, rc,
		    dp->vd.judge_from, &p.num, &p.den);
	} else if (known) {
		const struct series *s = store_find(st, rc->metric);
		struct sample last;

		p.has_sample = s != NULL && series_last(s, &last) &&
		    last.t >= dp->vd.judge_from;
		p.sample = p.has_sample ? last.v : 0;
	}
	verdict_poll(&dp->vd, i, &p);
}

/*
 * The sentry probe's counts of the release's error events and of all,
 * since judging began: taken only from a run that began after judging
 * did (one in flight at begin counted for no deploy, or another).
 */
static void
split_poll(struct deploy *dp, const struct store *st, const char *probe)
{
	const struct series *own, *all;
	struct sample a, b;
	char n[160];

	snprintf(n, sizeof(n), "%s.release_errors", probe);
	own = store_find(st, n);
	snprintf(n, sizeof(n), "%s.release_all_errors", probe);
	all = store_find(st, n);
	if (own == NULL || all == NULL || !series_last(own, &a) ||
	    !series_last(all, &b) || a.t != b.t)
		return;
	verdict_split(&dp->vd, a.v, b.v, a.t);
}

/* The latest sample of "<probe>.<metric's name after its probe>". */
static bool
side_sample(const struct store *st, const char *probe, const char *metric,
    int64_t from, struct sample *x)
{
	const char *dot = strchr(metric, '.');
	const struct series *s;
	char n[300];

	snprintf(n, sizeof(n), "%s%s", probe, dot != NULL ? dot : "");
	s = store_find(st, n);
	return s != NULL && series_last(s, x) && x->t >= from;
}

/*
 * A run of the canary's or the stable pods' probe: each relative check's
 * metrics, read there under the names the check's rule reads them by.
 */
static void
side_poll(struct deploy *dp, const struct store *st, enum vside_kind k,
    const char *probe)
{
	for (size_t i = 0; i < dp->vd.nchecks; i++) {
		const struct vcheck_cfg *cf = &dp->vd.checks[i].cfg;
		struct vpoll p = { 0 };
		struct sample a, b;

		if (!cf->relative || dp->vd.checks[i].gone)
			continue;
		if (cf->ratio) {
			if (!side_sample(st, probe, cf->numerator,
			    dp->vd.judge_from, &a) || !side_sample(st, probe,
			    cf->denominator, dp->vd.judge_from, &b))
				continue;
			p.has_counts = true;
			p.num = a.v;
			p.den = b.v;
			p.t = a.t > b.t ? a.t : b.t;
		} else {
			if (!side_sample(st, probe, cf->metric,
			    dp->vd.judge_from, &a))
				continue;
			p.has_sample = true;
			p.sample = a.v;
			p.t = a.t;
		}
		verdict_side(&dp->vd, i, k, &p);
	}
}

void
deploys_on_run(struct deploys *d, size_t probe)
{
	struct deploy *dp = d != NULL && d->open ? d->kept[0] : NULL;
	int64_t now = clock_wall_ms();
	const struct config *cfg;
	const struct release_cfg *rel;
	const struct store *st;
	bool judged = false;

	if (dp == NULL || now < dp->vd.judge_from)
		return;	/* nothing open, or still warming up */
	d->polls++;
	cfg = monitor_config(d->m);
	rel = &cfg->release;
	st = monitor_store(d->m);
	if (rel->cache_hits != NULL && rel->cache_hits_probe == probe)
		tally_poll(&dp->hits, st, rel->cache_hits, dp->vd.judge_from);
	if (rel->cache_misses != NULL && rel->cache_misses_probe == probe)
		tally_poll(&dp->misses, st, rel->cache_misses,
		    dp->vd.judge_from);
	if (dp->vd.br.on && strcmp(cfg->probes[probe].name,
	    dp->br_probe) == 0)
		split_poll(dp, st, dp->br_probe);
	if (dp->vd.compare && strcmp(cfg->probes[probe].name,
	    dp->vd.canary) == 0)
		side_poll(dp, st, VSIDE_CANARY, dp->vd.canary);
	if (dp->vd.compare && strcmp(cfg->probes[probe].name,
	    dp->vd.stable) == 0)
		side_poll(dp, st, VSIDE_STABLE, dp->vd.stable);
	for (size_t i = 0; i < dp->vd.nchecks; i++) {
		const struct rule_cfg *rc;

		if (dp->vd.checks[i].gone)
			continue;
		rc = &cfg->rules[dp->links[i].rule];
		if (rc->probe != probe && !(rc->denominator != NULL &&
		    rc->probe2 == probe))
			continue;
		poll_check(d, dp, i, now);
		judged = true;
	}
	verdict_tick(&dp->vd, now);
	if (judged)
		announce(d, false);
}

void
deploys_tick(struct deploys *d)
{
	if (d == NULL || !d->open)
		return;
	verdict_tick(&d->kept[0]->vd, clock_wall_ms());
	announce(d, false);
}

uint64_t
deploys_polls(const struct deploys *d)
{
	/* A closed interval can change the verdict as much as a poll. */
	return d != NULL ? d->polls + (d->nkept > 0 ?
	    d->kept[0]->vd.intervals : 0) : 0;
}

/*
 * The config changed. Every deploy keeps the copy of the config it began
 * with, and a closed one is left as it was judged. The open one measures
 * each check by the live rule of the same check name; a check the new
 * config lacks is no longer measured.
 */
void
deploys_reload(struct deploys *d)
{
	const struct config *cfg = monitor_config(d->m);
	struct deploy *dp = d->open ? d->kept[0] : NULL;

	for (size_t i = 0; dp != NULL && i < dp->vd.nchecks; i++) {
		struct vcheck *c = &dp->vd.checks[i];

		c->gone = true;
		for (size_t j = 0; j < cfg->release.nchecks; j++) {
			const struct release_check_cfg *rc =
			    &cfg->release.checks[j];

			if (rc->name != NULL && strcmp(rc->name,
			    c->cfg.name) == 0) {
				c->gone = false;
				dp->links[i].rule = rc->rule;
			}
		}
	}
}

static const struct deploy *
find(const struct deploys *d, uint64_t id)
{
	if (id == 0)
		return d->nkept > 0 ? d->kept[0] : NULL;
	for (size_t i = 0; i < d->nkept; i++)
		if (d->kept[i]->id == id)
			return d->kept[i];
	return NULL;
}

cJSON *
deploys_json(const struct deploys *d, uint64_t id)
{
	const struct deploy *dp = find(d, id);

	return dp != NULL ? report_json(d, dp, clock_wall_ms()) : NULL;
}

bool
deploys_open(const struct deploys *d)
{
	return d != NULL && d->open;
}

bool
deploys_window(const struct deploys *d, const char **version,
    int64_t *begun)
{
	if (!deploys_open(d) || d->nkept == 0)
		return false;
	*version = d->kept[0]->vd.version;
	*begun = d->kept[0]->vd.begun;
	return true;
}

cJSON *
deploys_list_json(const struct deploys *d, int64_t from)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < d->nkept; i++) {
		cJSON *full, *o;

		if (d->kept[i]->vd.begun < from)
			continue;
		full = deploys_json(d, d->kept[i]->id);
		if (full == NULL)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "id", cJSON_DetachItemFromObject(full,
		    "id"));
		cJSON_AddItemToObject(o, "version",
		    cJSON_DetachItemFromObject(full, "version"));
		cJSON_AddItemToObject(o, "open", cJSON_DetachItemFromObject(
		    full, "open"));
		cJSON_AddItemToObject(o, "begun", cJSON_DetachItemFromObject(
		    full, "begun"));
		cJSON_AddItemToObject(o, "ended", cJSON_DetachItemFromObject(
		    full, "ended"));
		cJSON_AddItemToObject(o, "verdict",
		    cJSON_DetachItemFromObject(full, "verdict"));
		cJSON_AddItemToObject(o, "traffic",
		    cJSON_DetachItemFromObject(full, "traffic"));
		cJSON_AddItemToArray(a, o);
		cJSON_Delete(full);
	}
	return a;
}

cJSON *
deploys_save(const struct deploys *d)
{
	cJSON *o = cJSON_CreateObject(), *a;

	cJSON_AddNumberToObject(o, "next_id", (double)d->next_id);
	cJSON_AddBoolToObject(o, "open", d->open);
	a = cJSON_AddArrayToObject(o, "deploys");
	for (size_t k = 0; k < d->nkept; k++)
		cJSON_AddItemToArray(a, deploy_save_one(d->kept[k]));
	return o;
}

void
deploys_restore(struct deploys *d, const cJSON *saved)
{
	const struct config *cfg = monitor_config(d->m);
	const cJSON *e;

	if (!cJSON_IsObject(saved))
		return;
	d->next_id = (uint64_t)jsonc_number(saved, "next_id", 0);
	if (d->next_id == 0)
		d->next_id = 1;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(saved,
	    "deploys")) {
		struct deploy *dp;

		if (d->nkept == KEPT_DEPLOYS)
			break;
		dp = deploy_restore_one(e, cfg);
		if (dp != NULL)
			d->kept[d->nkept++] = dp;
	}
	d->open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(saved,
	    "open")) && d->nkept > 0 && d->kept[0]->vd.ended == 0;
	/* Measure by the live config's rules of the same check names. */
	deploys_reload(d);
	if (d->open) {
		focus(d, d->kept[0]);
		log_notice("event=deploy_resumed id=%llu version=\"%s\"",
		    (unsigned long long)d->kept[0]->id,
		    d->kept[0]->vd.version);
	}
}
