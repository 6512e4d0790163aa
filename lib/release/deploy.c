#include "release/deploy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "duration.h"
#include "release/judge.h"
#include "jsonc.h"
#include "log.h"
#include "monitor.h"
#include "probe.h"
#include "ruleset.h"
#include "release/split.h"
#include "release/stats.h"
#include "store.h"
#include "window.h"

#define KEPT_DEPLOYS	8
#define MAX_STAGES	16
#define MAX_POLL_VALUES	20000

struct dcheck {
	char name[64];
	const struct release_check_cfg *cfg;	/* NULL: gone from the config */
	const struct rule_cfg *rule;
	struct judge j;		/* the whole window */
	struct judge stage;	/* since the last deploy step */
	bool known;
	/*
	 * The latest poll's value and what it is over: the rule's window at
	 * that poll, clipped to when judging began; not the whole deploy
	 * window, whose counts are the traffic's.
	 */
	struct rule_measure m;
	int64_t at;		/* when: the rule's own evaluation of the run */
	char why[160];
	/* The baseline: its aggregate, per-poll values and counts. */
	bool has_base;
	double base_value;
	double *base;
	size_t nbase;
	double base_num, base_den;
	/* The window's per-poll values and counts. */
	double *after;
	size_t nafter, aafter;
	double win_num, win_den;
	double last_num, last_den;
	bool have_last;
};

/*
 * A counter summed over the window poll by poll, from the first sample
 * after judging began: how the ratio checks count requests and errors.
 */
struct tally {
	char metric[128];	/* "" : not configured, not measured */
	double total, last;
	bool have_last;
};

struct deploy {
	uint64_t id;
	char version[64];
	int64_t begun, judge_from, ended, baseline_from;
	struct {
		int64_t t;
		int weight;
	} stages[MAX_STAGES];
	size_t nstages;
	struct dcheck *checks;
	size_t nchecks;
	struct tally hits, misses;	/* release.cache_hits, cache_misses */
	struct split split;		/* release.by_release */
	bool announced;		/* its verdict was told */
};

struct deploys {
	struct monitor *m;
	struct deploy *kept[KEPT_DEPLOYS];	/* newest first */
	size_t nkept;
	bool open;				/* kept[0] is open */
	uint64_t next_id;
	void (*listener)(uint64_t id, const char *version, const char *verdict,
	    const char *reason, bool final, void *arg);
	void *listener_arg;
	uint64_t polls;		/* polls that fed the open window */
};

static void
deploy_free(struct deploy *dp)
{
	if (dp == NULL)
		return;
	for (size_t i = 0; i < dp->nchecks; i++) {
		free(dp->checks[i].base);
		free(dp->checks[i].after);
	}
	free(dp->checks);
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

static struct judge_limits
limits_of(const struct release_check_cfg *c)
{
	struct judge_limits l = {
		.key = c->key, .fail_after = c->fail_after,
		.max_failures = c->max_failures,
		.max_consecutive_errors = c->max_consecutive_errors,
		.min_samples = c->min_samples,
	};

	return l;
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

/* The baseline: the same-length window before the deploy. */
static void
capture_baseline(struct dcheck *c, const struct store *st, int64_t from,
    int64_t to)
{
	const struct rule_cfg *rc = c->rule;
	struct sample *s;
	double *scratch;
	const char *why;
	size_t n;

	if (rc->metric != NULL) {
		s = samples_between(st, rc->metric, from, to, &n);
		if (s == NULL)
			return;
		c->base = calloc(n + 1, sizeof(*c->base));
		scratch = calloc(n + 1, sizeof(*scratch));
		if (c->base != NULL && scratch != NULL) {
			for (size_t i = 0; i < n; i++)
				c->base[i] = s[i].v;
			c->nbase = n;
			c->has_base = window_eval(rc->agg == AGG_LAST ?
			    AGG_AVG : rc->agg, s, n, scratch, &c->base_value,
			    &why) == 0;
		}
		free(scratch);
		free(s);
		return;
	}
	/* A ratio's baseline is counts: errors and requests before. */
	s = samples_between(st, rc->numerator, from, to, &n);
	if (s != NULL && window_eval(AGG_DELTA, s, n, NULL, &c->base_num,
	    &why) != 0)
		c->base_num = 0;
	free(s);
	s = samples_between(st, rc->denominator, from, to, &n);
	if (s != NULL && window_eval(AGG_DELTA, s, n, NULL, &c->base_den,
	    &why) != 0)
		c->base_den = 0;
	free(s);
	if (c->base_den > 0) {
		c->has_base = true;
		c->base_value = rc->scale * c->base_num / c->base_den;
	}
}

static int
init_checks(struct deploy *dp, const struct config *cfg)
{
	dp->checks = calloc(cfg->release.nchecks + 1, sizeof(*dp->checks));
	if (dp->checks == NULL)
		return -1;
	for (size_t i = 0; i < cfg->release.nchecks; i++) {
		const struct release_check_cfg *rc = &cfg->release.checks[i];
		struct dcheck *c;
		struct judge_limits l;

		if (rc->name == NULL)
			continue;
		c = &dp->checks[dp->nchecks++];
		snprintf(c->name, sizeof(c->name), "%s", rc->name);
		c->cfg = rc;
		c->rule = &cfg->rules[rc->rule];
		l = limits_of(rc);
		judge_init(&c->j, &l);
		judge_init(&c->stage, &l);
	}
	return 0;
}

/* Tells the probes which release is judged, from when (or none). */
static void
focus(struct deploys *d, const struct deploy *dp)
{
	struct release_focus *f = monitor_focus(d->m);

	memset(f, 0, sizeof(*f));
	if (dp == NULL)
		return;
	f->open = true;
	snprintf(f->version, sizeof(f->version), "%s", dp->version);
	f->from = dp->judge_from;
}

uint64_t
deploys_begin(struct deploys *d, const char *version, int64_t warmup_ms,
    char *why, size_t len)
{
	const struct config *cfg = monitor_config(d->m);
	int64_t now = clock_wall_ms();
	struct deploy *dp;

	if (d->open) {
		snprintf(why, len, "deploy %llu (%s) is still open: end it "
		    "first", (unsigned long long)d->kept[0]->id,
		    d->kept[0]->version);
		return 0;
	}
	dp = calloc(1, sizeof(*dp));
	if (dp == NULL || init_checks(dp, cfg) != 0) {
		deploy_free(dp);
		snprintf(why, len, "out of memory");
		return 0;
	}
	dp->id = d->next_id++;
	snprintf(dp->version, sizeof(dp->version), "%s", version);
	dp->begun = now;
	dp->judge_from = now + (warmup_ms >= 0 ? warmup_ms :
	    cfg->release.warmup_ms);
	dp->baseline_from = now - cfg->release.baseline_ms;
	if (cfg->release.cache_hits != NULL)
		snprintf(dp->hits.metric, sizeof(dp->hits.metric), "%s",
		    cfg->release.cache_hits);
	if (cfg->release.cache_misses != NULL)
		snprintf(dp->misses.metric, sizeof(dp->misses.metric), "%s",
		    cfg->release.cache_misses);
	for (size_t i = 0; i < dp->nchecks; i++)
		capture_baseline(&dp->checks[i], monitor_store(d->m),
		    dp->baseline_from, now);
	if (d->nkept == KEPT_DEPLOYS)
		deploy_free(d->kept[--d->nkept]);
	memmove(&d->kept[1], &d->kept[0], d->nkept * sizeof(d->kept[0]));
	d->kept[0] = dp;
	d->nkept++;
	d->open = true;
	focus(d, dp);
	log_notice("event=deploy_begin id=%llu version=\"%s\" warmup_ms=%lld "
	    "checks=%zu", (unsigned long long)dp->id, dp->version,
	    (long long)(dp->judge_from - now), dp->nchecks);
	return dp->id;
}

int
deploys_step(struct deploys *d, int weight, char *why, size_t len)
{
	struct deploy *dp = d->open ? d->kept[0] : NULL;

	if (dp == NULL) {
		snprintf(why, len, "no deploy is open");
		return -1;
	}
	if (weight < 1 || weight > 100 || dp->nstages == MAX_STAGES) {
		snprintf(why, len, weight < 1 || weight > 100 ? "the weight "
		    "must be from 1 to 100" : "too many stages");
		return -1;
	}
	dp->stages[dp->nstages].t = clock_wall_ms();
	dp->stages[dp->nstages++].weight = weight;
	split_step(&dp->split, weight, dp->stages[dp->nstages - 1].t);
	/* Each stage is judged afresh; the window keeps counting. */
	for (size_t i = 0; i < dp->nchecks; i++)
		judge_init(&dp->checks[i].stage, &dp->checks[i].j.lim);
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
 * Tells the listener the verdict of the open window once: when it is
 * decided early, or (final) when the window ends.
 */
static void
announce(struct deploys *d, bool final)
{
	struct deploy *dp = d->nkept > 0 ? d->kept[0] : NULL;
	const cJSON *v;
	cJSON *doc;
	bool decided;

	if (dp == NULL || dp->announced || d->listener == NULL)
		return;
	doc = deploys_json(d, dp->id);
	v = cJSON_GetObjectItem(doc, "verdict");
	decided = cJSON_IsTrue(cJSON_GetObjectItem(v, "decided"));
	if (final || decided) {
		const cJSON *verdict = cJSON_GetObjectItem(v, final ? "final" :
		    "now");
		const cJSON *reason = cJSON_GetObjectItem(v, final ?
		    "final_reason" : "now_reason");

		dp->announced = true;
		log_notice("event=deploy_verdict id=%llu verdict=%s final=%d",
		    (unsigned long long)dp->id, cJSON_IsString(verdict) ?
		    verdict->valuestring : "?", final);
		d->listener(dp->id, dp->version, cJSON_IsString(verdict) ?
		    verdict->valuestring : "inconclusive",
		    cJSON_IsString(reason) ? reason->valuestring : "", final,
		    d->listener_arg);
	}
	cJSON_Delete(doc);
}

int
deploys_end(struct deploys *d, char *why, size_t len)
{
	if (!d->open) {
		snprintf(why, len, "no deploy is open");
		return -1;
	}
	d->kept[0]->ended = clock_wall_ms();
	announce(d, true);
	d->open = false;
	focus(d, NULL);
	log_notice("event=deploy_end id=%llu", (unsigned long long)
	    d->kept[0]->id);
	return 0;
}

static void
add_after(struct dcheck *c, double v)
{
	if (c->nafter == c->aafter) {
		size_t a = c->aafter == 0 ? 64 : c->aafter * 2;
		double *n;

		if (a > MAX_POLL_VALUES)
			return;	/* bounded: the test has plenty by then */
		n = realloc(c->after, a * sizeof(*n));
		if (n == NULL)
			return;
		c->after = n;
		c->aafter = a;
	}
	c->after[c->nafter++] = v;
}

/* Counter growth since the last poll, a drop read as a restart. */
static double
counter_step(double last, double now)
{
	return now >= last ? now - last : now;
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
		k->total += counter_step(k->last, x.v);
	k->last = x.v;
	k->have_last = true;
}

static void
record_counts(struct dcheck *c, const struct store *st, int64_t from)
{
	const struct series *ns = store_find(st, c->rule->numerator);
	const struct series *ds = store_find(st, c->rule->denominator);
	struct sample n, dn;

	if (ns == NULL || ds == NULL || !series_last(ns, &n) ||
	    !series_last(ds, &dn) || n.t < from || dn.t < from)
		return;
	if (c->have_last) {
		c->win_num += counter_step(c->last_num, n.v);
		c->win_den += counter_step(c->last_den, dn.v);
	}
	c->last_num = n.v;
	c->last_den = dn.v;
	c->have_last = true;
}

static void
judge_check(struct deploys *d, struct deploy *dp, struct dcheck *c,
    int64_t now)
{
	const struct rule_cfg *rc = c->rule;
	const struct rule_def *def = &rc->def;
	struct ruleset *rs = monitor_rules(d->m);
	const struct store *st = monitor_store(d->m);
	enum poll_outcome o = POLL_OK;
	double thr = 0;
	size_t idx = (size_t)(rc - monitor_config(d->m)->rules);
	const struct rule_status *rst = ruleset_status(rs, idx);
	const char *unit = rc->unit != NULL ? rc->unit : "";
	char u[20];

	snprintf(u, sizeof(u), "%s%s", unit[0] != '\0' && unit[0] != '%' ?
	    " " : (unit[0] == '%' ? " " : ""), unit);
	/*
	 * The rule was evaluated on this very run, just before: measure at
	 * its instant, so that once the window no longer reaches back to
	 * the deploy, the check's value is the one /status shows.
	 */
	c->at = rst != NULL && rst->evaluated != 0 ? rst->evaluated : now;
	c->known = ruleset_value_since(rs, idx, st, monitor_facts(d->m),
	    dp->judge_from, c->at, &c->m, c->why, sizeof(c->why));
	if (!c->known && c->m.thin) {
		/*
		 * Too few samples since judging began (a delta needs two), or
		 * too little traffic: not a poll, and not the observer's
		 * error. min_samples and min_requests keep it from passing.
		 */
		if (rc->metric == NULL)
			record_counts(c, st, dp->judge_from);
		return;
	}
	if (!c->known) {
		judge_poll(&c->j, POLL_ERROR, 0, 0, rule_op_text(def->op), u,
		    c->why);
		judge_poll(&c->stage, POLL_ERROR, 0, 0, rule_op_text(def->op), u,
		    c->why);
		return;
	}
	c->why[0] = '\0';
	if (def->crit.set && rule_crosses(def->op, c->m.value,
	    def->crit.threshold)) {
		o = POLL_CRIT;
		thr = def->crit.threshold;
	} else if (def->warn.set && rule_crosses(def->op, c->m.value,
	    def->warn.threshold)) {
		o = POLL_WARN;
		thr = def->warn.threshold;
	} else {
		thr = def->warn.set ? def->warn.threshold :
		    def->crit.threshold;
	}
	judge_poll(&c->j, o, c->m.value, thr, rule_op_text(def->op), u, NULL);
	judge_poll(&c->stage, o, c->m.value, thr, rule_op_text(def->op), u,
	    NULL);
	if (rc->metric != NULL) {
		const struct series *s = store_find(st, rc->metric);
		struct sample last;

		if (s != NULL && series_last(s, &last) &&
		    last.t >= dp->judge_from)
			add_after(c, last.v);
	} else {
		record_counts(c, st, dp->judge_from);
	}
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
	    !series_last(all, &b) || a.t != b.t || a.t < dp->judge_from ||
	    a.t <= dp->split.at)
		return;
	split_count(&dp->split, a.v, b.v, a.t);
}

void
deploys_on_run(struct deploys *d, size_t probe)
{
	struct deploy *dp = d != NULL && d->open ? d->kept[0] : NULL;
	int64_t now = clock_wall_ms();
	const struct release_cfg *rel;
	const struct store *st;
	bool judged = false;

	if (dp == NULL || now < dp->judge_from)
		return;	/* nothing open, or still warming up */
	d->polls++;
	rel = &monitor_config(d->m)->release;
	st = monitor_store(d->m);
	if (rel->cache_hits != NULL && rel->cache_hits_probe == probe)
		tally_poll(&dp->hits, st, rel->cache_hits, dp->judge_from);
	if (rel->cache_misses != NULL && rel->cache_misses_probe == probe)
		tally_poll(&dp->misses, st, rel->cache_misses, dp->judge_from);
	if (rel->by_release.on && rel->by_release.probe == probe)
		split_poll(dp, st, monitor_config(d->m)->probes[probe].name);
	for (size_t i = 0; i < dp->nchecks; i++) {
		struct dcheck *c = &dp->checks[i];

		if (c->cfg == NULL || (c->rule->probe != probe &&
		    !(c->rule->denominator != NULL &&
		    c->rule->probe2 == probe)))
			continue;
		judge_check(d, dp, c, now);
		judged = true;
	}
	if (judged)
		announce(d, false);
}

uint64_t
deploys_polls(const struct deploys *d)
{
	return d != NULL ? d->polls : 0;
}

void
deploys_reload(struct deploys *d)
{
	const struct config *cfg = monitor_config(d->m);

	/* Only the open window still judges; it follows checks by name. */
	for (size_t k = 0; k < d->nkept; k++) {
		struct deploy *dp = d->kept[k];

		for (size_t i = 0; i < dp->nchecks; i++) {
			struct dcheck *c = &dp->checks[i];

			c->cfg = NULL;
			for (size_t j = 0; j < cfg->release.nchecks; j++) {
				const struct release_check_cfg *rc =
				    &cfg->release.checks[j];

				if (rc->name != NULL &&
				    strcmp(rc->name, c->name) == 0) {
					c->cfg = rc;
					c->rule = &cfg->rules[rc->rule];
					c->j.lim = limits_of(rc);
					c->stage.lim = c->j.lim;
				}
			}
		}
	}
}

static double
median(const double *v, size_t n)
{
	double *c = malloc(n * sizeof(*c)), m;

	if (c == NULL || n == 0) {
		free(c);
		return NAN;
	}
	memcpy(c, v, n * sizeof(*c));
	m = window_percentile(c, n, 50);
	free(c);
	return m;
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];

	if (ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	clock_iso(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

/*
 * The relative part of a check: fails only when worse than the baseline
 * by more than the margin and significantly so. *v is raised to FAIL.
 */
static cJSON *
relative_json(const struct dcheck *c, enum verdict *v, char *reason,
    size_t len)
{
	const struct release_check_cfg *cf = c->cfg;
	const struct rule_cfg *rc = c->rule;
	bool up = rc->def.op == RULE_GT || rc->def.op == RULE_GE;
	double alpha = 1.0 - cf->confidence, k = 1 + cf->max_increase_pct /
	    100.0;
	cJSON *o = cJSON_CreateObject();
	struct stats_result r;
	char why[200];

	cJSON_AddNumberToObject(o, "max_increase_pct", cf->max_increase_pct);
	cJSON_AddNumberToObject(o, "confidence", cf->confidence);
	if (rc->denominator != NULL) {
		cJSON_AddStringToObject(o, "test", "two-proportion z");
		cJSON_AddNumberToObject(o, "baseline_errors", c->base_num);
		cJSON_AddNumberToObject(o, "baseline_requests", c->base_den);
		cJSON_AddNumberToObject(o, "errors", c->win_num);
		cJSON_AddNumberToObject(o, "requests", c->win_den);
		if (c->base_den < fmax(1, cf->min_requests) ||
		    c->win_den < fmax(1, cf->min_requests)) {
			snprintf(why, sizeof(why), "relative check skipped: "
			    "%.0f requests before, %.0f after, need %.0f a "
			    "side", c->base_den, c->win_den,
			    fmax(1, cf->min_requests));
			cJSON_AddStringToObject(o, "verdict", "skipped");
			cJSON_AddStringToObject(o, "reason", why);
			return o;
		}
		r = stats_two_proportion(c->base_num, c->base_den, c->win_num,
		    c->win_den, cf->max_increase_pct / 100.0);
	} else {
		double mb = median(c->base, c->nbase);
		double ma = median(c->after, c->nafter);

		cJSON_AddStringToObject(o, "test", "Mann-Whitney U");
		cJSON_AddNumberToObject(o, "baseline_samples", (double)c->nbase);
		cJSON_AddNumberToObject(o, "samples", (double)c->nafter);
		if (c->nbase < cf->min_relative_samples ||
		    c->nafter < cf->min_relative_samples) {
			snprintf(why, sizeof(why), "relative check skipped: "
			    "%zu samples before, %zu after, need %u a side",
			    c->nbase, c->nafter, cf->min_relative_samples);
			cJSON_AddStringToObject(o, "verdict", "skipped");
			cJSON_AddStringToObject(o, "reason", why);
			return o;
		}
		cJSON_AddNumberToObject(o, "baseline_median", mb);
		cJSON_AddNumberToObject(o, "median", ma);
		if (mb != 0)
			cJSON_AddNumberToObject(o, "delta_pct",
			    (ma - mb) / fabs(mb) * 100.0);
		r = stats_mann_whitney(c->after, c->nafter, c->base, c->nbase,
		    up);
		/* Significant is not enough: the margin must be passed too. */
		if (r.valid && !(up ? ma > mb * k : ma < mb / k))
			r.p = fmax(r.p, 1.0);
	}
	cJSON_AddNumberToObject(o, "p", r.p);
	if (r.valid && r.p < alpha) {
		snprintf(why, sizeof(why), "worse than the baseline by more "
		    "than %g %% (%s p=%.2g < %.2g)", cf->max_increase_pct,
		    rc->denominator != NULL ? "two-proportion" :
		    "Mann-Whitney U", r.p, alpha);
		cJSON_AddStringToObject(o, "verdict", "fail");
		if (*v != VERDICT_FAIL) {
			*v = VERDICT_FAIL;
			snprintf(reason, len, "%s", why);
		}
	} else {
		snprintf(why, sizeof(why), "no significant change against the "
		    "baseline (p=%.2g, need < %.2g)", r.p, alpha);
		cJSON_AddStringToObject(o, "verdict", "pass");
	}
	cJSON_AddStringToObject(o, "reason", why);
	return o;
}

/* "app_advanced.requests_total" reads as "requests_total". */
static const char *
short_metric(const char *metric)
{
	const char *dot = strchr(metric, '.');

	return dot != NULL ? dot + 1 : metric;
}

/*
 * What the measured value is over, said truthfully: the rule's window at
 * the latest poll (clipped to when judging began), never the whole
 * deploy window, whose counts are the traffic's.
 */
static void
measured_json(const struct dcheck *c, cJSON *m)
{
	const struct rule_cfg *rc = c->rule;
	char span[64], d[32], how[200];
	int64_t ms = c->at - c->m.from;

	if (rc->window_ms == 0) {
		snprintf(span, sizeof(span), "the latest poll");
	} else if (c->m.clipped) {
		duration_format(ms >= 1000 ? ms / 1000 * 1000 : ms, d,
		    sizeof(d));
		snprintf(span, sizeof(span), "the %s since judging began", d);
	} else {
		duration_format(rc->window_ms, d, sizeof(d));
		snprintf(span, sizeof(span), "the last %s", d);
	}
	if (c->j.polls == 0 || c->at == 0) {
		snprintf(how, sizeof(how), "not measured yet");
	} else if (!c->known) {
		snprintf(how, sizeof(how), "no value at the latest poll");
	} else if (rc->denominator != NULL) {
		snprintf(how, sizeof(how), "%s of %s / %s over %s: %.0f / %.0f",
		    agg_name(rc->agg), short_metric(rc->numerator),
		    short_metric(rc->denominator), span, c->m.num, c->m.den);
		cJSON_AddNumberToObject(m, "numerator", c->m.num);
		cJSON_AddNumberToObject(m, "denominator", c->m.den);
	} else if (rc->window_ms == 0) {
		snprintf(how, sizeof(how), "%s at %s", short_metric(rc->metric),
		    span);
	} else {
		snprintf(how, sizeof(how), "%s of %s over %s: %zu samples",
		    agg_name(rc->agg), short_metric(rc->metric), span,
		    c->m.samples);
	}
	cJSON_AddStringToObject(m, "how", how);
	if (c->j.polls > 0 && c->at != 0 && c->known) {
		add_time(m, "at", c->at);
		cJSON_AddNumberToObject(m, "window_s", (double)ms / 1e3);
		cJSON_AddNumberToObject(m, "samples", (double)c->m.samples);
	}
}

static cJSON *
check_json(const struct dcheck *c, bool final, enum verdict *out,
    double *req, double *err)
{
	const struct rule_cfg *rc = c->rule;
	cJSON *o = cJSON_CreateObject(), *t, *m;
	char reason[256];
	enum verdict v = judge_verdict(&c->j, final, reason, sizeof(reason));

	if (rc->denominator != NULL && final && v != VERDICT_FAIL &&
	    c->cfg != NULL && c->win_den < c->cfg->min_requests) {
		v = VERDICT_INCONCLUSIVE;
		snprintf(reason, sizeof(reason), "too few requests: %.0f in "
		    "the window, need %.0f", c->win_den, c->cfg->min_requests);
	}
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "rule", rc->name);
	cJSON_AddBoolToObject(o, "key", c->j.lim.key);
	cJSON_AddBoolToObject(o, "advisory", c->cfg != NULL &&
	    c->cfg->advisory);
	t = cJSON_AddObjectToObject(o, "target");
	cJSON_AddStringToObject(t, "op", rule_op_text(rc->def.op));
	if (rc->def.warn.set)
		cJSON_AddNumberToObject(t, "warn", rc->def.warn.threshold);
	if (rc->def.crit.set)
		cJSON_AddNumberToObject(t, "crit", rc->def.crit.threshold);
	if (rc->unit != NULL)
		cJSON_AddStringToObject(t, "unit", rc->unit);
	m = cJSON_AddObjectToObject(o, "measured");
	if (c->j.polls > 0 && c->known)
		cJSON_AddNumberToObject(m, "value", c->m.value);
	else
		cJSON_AddNullToObject(m, "value");
	measured_json(c, m);
	if (c->has_base) {
		cJSON_AddNumberToObject(o, "baseline", c->base_value);
		if (c->j.polls > 0 && c->known && c->base_value != 0)
			cJSON_AddNumberToObject(o, "delta_pct",
			    (c->m.value - c->base_value) / fabs(c->base_value) *
			    100.0);
	} else {
		cJSON_AddNullToObject(o, "baseline");
	}
	cJSON_AddNumberToObject(o, "polls", (double)c->j.polls);
	cJSON_AddNumberToObject(o, "ok", (double)c->j.ok);
	cJSON_AddNumberToObject(o, "warn", (double)c->j.warn);
	cJSON_AddNumberToObject(o, "crit", (double)c->j.crit);
	cJSON_AddNumberToObject(o, "errors", (double)c->j.errors);
	cJSON_AddNumberToObject(o, "longest_crit_run",
	    (double)c->j.longest_crit_run);
	if (c->j.last_error[0] != '\0')
		cJSON_AddStringToObject(o, "last_error", c->j.last_error);
	if (c->cfg != NULL && c->cfg->relative)
		cJSON_AddItemToObject(o, "relative", relative_json(c, &v,
		    reason, sizeof(reason)));
	cJSON_AddStringToObject(o, "verdict", verdict_name(v));
	cJSON_AddStringToObject(o, "reason", reason);
	if (rc->denominator != NULL && *req == 0) {
		*req = c->win_den;
		*err = c->win_num;
	}
	*out = v;
	return o;
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

/*
 * Cache hits, counted as the requests are. null, never 0, when no
 * counter is configured or none was read since judging began: "not
 * measured" is not "no hits".
 */
static void
cache_json(const struct deploy *dp, cJSON *t)
{
	const struct tally *h = &dp->hits, *m = &dp->misses;

	if (h->metric[0] == '\0' || !h->have_last) {
		cJSON_AddNullToObject(t, "cache_hits");
	} else {
		cJSON_AddNumberToObject(t, "cache_hits", h->total);
		if (m->metric[0] != '\0' && m->have_last) {
			cJSON_AddNumberToObject(t, "cache_misses", m->total);
			if (h->total + m->total > 0)
				cJSON_AddNumberToObject(t, "cache_hit_rate_pct",
				    h->total / (h->total + m->total) * 100.0);
		}
	}
	if (h->metric[0] != '\0')
		cJSON_AddStringToObject(t, "cache_hits_metric", h->metric);
}

/* The verdicts of every check, now and as if the window ended now. */
static void
verdicts(const struct deploys *d, const struct deploy *dp, cJSON *o,
    cJSON *checks, cJSON *dry)
{
	const struct config *cfg = monitor_config(d->m);
	const struct by_release_cfg *br = &cfg->release.by_release;
	enum verdict now = VERDICT_PASS, end = VERDICT_PASS;
	char now_reason[300] = "", end_reason[300] = "";
	double req = 0, err = 0;

	for (size_t i = 0; i < dp->nchecks; i++) {
		const struct dcheck *c = &dp->checks[i];
		enum verdict vn, ve;
		cJSON *j1 = check_json(c, false, &vn, &req, &err);
		cJSON *j2 = check_json(c, true, &ve, &req, &err);
		bool advisory = c->cfg != NULL && c->cfg->advisory;

		cJSON_AddItemToArray(advisory ? dry : checks, j2);
		if (!advisory && vn > now) {
			now = vn;
			snprintf(now_reason, sizeof(now_reason), "%s: %s",
			    c->name, cJSON_GetObjectItem(j1, "reason")->
			    valuestring);
		}
		if (!advisory && ve > end) {
			end = ve;
			snprintf(end_reason, sizeof(end_reason), "%s: %s",
			    c->name, cJSON_GetObjectItem(j2, "reason")->
			    valuestring);
		}
		cJSON_Delete(j1);
	}
	/*
	 * Tested as the stages end, never poll by poll: it can fail the
	 * final verdict, not decide early.
	 */
	if (br->on)
		cJSON_AddItemToObject(o, "by_release", split_json(&dp->split, br,
		    cfg->probes[br->probe].name, dp->version, &end, end_reason,
		    sizeof(end_reason)));
	{
		cJSON *v = cJSON_AddObjectToObject(o, "verdict");
		cJSON *t = cJSON_AddObjectToObject(o, "traffic");

		/* "now" decides early (a fail is final); "final" at the end. */
		cJSON_AddStringToObject(v, "now", verdict_name(now));
		cJSON_AddStringToObject(v, "now_reason", now_reason[0] ?
		    now_reason : "every check within its limits so far");
		cJSON_AddBoolToObject(v, "decided", now == VERDICT_FAIL ||
		    now == VERDICT_INCONCLUSIVE);
		cJSON_AddStringToObject(v, "final", verdict_name(end));
		cJSON_AddStringToObject(v, "final_reason", end_reason[0] ?
		    end_reason : "every check passed");
		cJSON_AddNumberToObject(v, "exit_code",
		    verdict_exit_code(end, false));
		cJSON_AddNumberToObject(t, "requests", req);
		cJSON_AddNumberToObject(t, "errors", err);
		if (req > 0)
			cJSON_AddNumberToObject(t, "error_rate_pct",
			    err / req * 100.0);
		cache_json(dp, t);
	}
}

/*
 * The current stage (since the last step): its verdict so far and if it
 * ended now, judged on the stage's own polls. wait decides on this.
 */
static cJSON *
stage_json(const struct deploys *d, const struct deploy *dp)
{
	const struct by_release_cfg *br =
	    &monitor_config(d->m)->release.by_release;
	enum verdict now = VERDICT_PASS, end = VERDICT_PASS;
	char now_reason[340] = "", end_reason[340] = "", r[256];
	cJSON *o = cJSON_CreateObject(), *v;
	struct split_result sr;

	for (size_t i = 0; i < dp->nchecks; i++) {
		const struct dcheck *c = &dp->checks[i];
		enum verdict vn, ve;

		if (c->cfg == NULL || c->cfg->advisory)
			continue;
		vn = judge_verdict(&c->stage, false, r, sizeof(r));
		if (vn > now) {
			now = vn;
			snprintf(now_reason, sizeof(now_reason), "%s: %s",
			    c->name, r);
		}
		ve = judge_verdict(&c->stage, true, r, sizeof(r));
		if (ve > end) {
			end = ve;
			snprintf(end_reason, sizeof(end_reason), "%s: %s",
			    c->name, r);
		}
	}
	/* The stage's errors by release, tested as if it ended now. */
	if (br->on && !br->advisory && dp->split.nstages > 0) {
		split_judge(&dp->split, br, dp->version, dp->split.nstages - 1,
		    &sr);
		if (sr.outcome == SPLIT_FAIL && end != VERDICT_FAIL) {
			end = VERDICT_FAIL;
			snprintf(end_reason, sizeof(end_reason), "by_release: %s",
			    sr.reason);
		}
	}
	cJSON_AddNumberToObject(o, "weight",
	    dp->stages[dp->nstages - 1].weight);
	add_time(o, "since", dp->stages[dp->nstages - 1].t);
	v = cJSON_AddObjectToObject(o, "verdict");
	cJSON_AddStringToObject(v, "now", verdict_name(now));
	cJSON_AddStringToObject(v, "now_reason", now_reason[0] ? now_reason :
	    "every check within its limits so far");
	cJSON_AddBoolToObject(v, "decided", now == VERDICT_FAIL ||
	    now == VERDICT_INCONCLUSIVE);
	cJSON_AddStringToObject(v, "final", verdict_name(end));
	cJSON_AddStringToObject(v, "final_reason", end_reason[0] ?
	    end_reason : "every check passed");
	cJSON_AddNumberToObject(v, "exit_code", verdict_exit_code(end, false));
	return o;
}

/* Rules that started firing (or escalated) while the window was open. */
static cJSON *
alerts_fired(const struct deploys *d, const struct deploy *dp)
{
	const struct ruleset *rs = monitor_rules(d->m);
	int64_t until = dp->ended != 0 ? dp->ended : clock_wall_ms();
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule_status *st = ruleset_status(rs, i);
		struct rule_transition tr;

		for (unsigned k = st->nhist; k-- > 0;) {
			cJSON *e;

			rule_history(st, k, &tr);
			if (tr.to != RULE_FIRING || tr.t < dp->begun ||
			    tr.t > until)
				continue;
			e = cJSON_CreateObject();
			add_time(e, "time", tr.t);
			cJSON_AddStringToObject(e, "rule",
			    ruleset_cfg(rs, i)->name);
			cJSON_AddStringToObject(e, "severity",
			    rule_sev_name(tr.sev));
			cJSON_AddItemToArray(a, e);
		}
	}
	return a;
}

cJSON *
deploys_json(const struct deploys *d, uint64_t id)
{
	const struct deploy *dp = find(d, id);
	cJSON *o, *st, *checks, *dry, *b;

	if (dp == NULL)
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "schema", DEPLOY_SCHEMA);
	cJSON_AddNumberToObject(o, "id", (double)dp->id);
	cJSON_AddStringToObject(o, "version", dp->version);
	cJSON_AddBoolToObject(o, "open", d->open && dp == d->kept[0]);
	add_time(o, "begun", dp->begun);
	add_time(o, "judging_from", dp->judge_from);
	cJSON_AddNumberToObject(o, "warmup_s",
	    (double)(dp->judge_from - dp->begun) / 1e3);
	cJSON_AddBoolToObject(o, "warming_up",
	    clock_wall_ms() < dp->judge_from);
	add_time(o, "ended", dp->ended);
	b = cJSON_AddObjectToObject(o, "baseline");
	add_time(b, "from", dp->baseline_from);
	add_time(b, "to", dp->begun);
	st = cJSON_AddArrayToObject(o, "stages");
	for (size_t i = 0; i < dp->nstages; i++) {
		cJSON *s = cJSON_CreateObject();

		add_time(s, "time", dp->stages[i].t);
		cJSON_AddNumberToObject(s, "weight", dp->stages[i].weight);
		cJSON_AddItemToArray(st, s);
	}
	checks = cJSON_CreateArray();
	dry = cJSON_CreateArray();
	verdicts(d, dp, o, checks, dry);
	cJSON_AddItemToObject(o, "alerts", alerts_fired(d, dp));
	if (dp->nstages > 0)
		cJSON_AddItemToObject(o, "stage", stage_json(d, dp));
	/*
	 * vigil sees the whole application: a 10 % canary's errors are
	 * diluted about tenfold in these numbers. Say what was compared.
	 */
	cJSON_AddStringToObject(o, "compared", dp->nstages > 0 &&
	    dp->stages[dp->nstages - 1].weight < 100 ? (monitor_config(d->m)->
	    release.by_release.on ? "whole-application metrics during a "
	    "partial rollout, where a canary's own errors are diluted by its "
	    "traffic share; by_release compares its own error events with "
	    "the rest's, undiluted" : "whole-application metrics during a "
	    "partial rollout: a canary's own errors are diluted by its "
	    "traffic share") : "whole-application metrics");
	cJSON_AddItemToObject(o, "checks", checks);
	cJSON_AddItemToObject(o, "dry_run", dry);
	return o;
}

cJSON *
deploys_list_json(const struct deploys *d, int64_t from)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < d->nkept; i++) {
		cJSON *full, *o;

		if (d->kept[i]->begun < from)
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
		cJSON_AddItemToObject(o, "verdict",
		    cJSON_DetachItemFromObject(full, "verdict"));
		cJSON_AddItemToObject(o, "traffic",
		    cJSON_DetachItemFromObject(full, "traffic"));
		cJSON_AddItemToArray(a, o);
		cJSON_Delete(full);
	}
	return a;
}

static cJSON *
doubles(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
}

static cJSON *
tally_save(const struct tally *k)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "metric", k->metric);
	cJSON_AddNumberToObject(o, "total", k->total);
	cJSON_AddNumberToObject(o, "last", k->last);
	cJSON_AddBoolToObject(o, "have_last", k->have_last);
	return o;
}

static void
tally_restore(struct tally *k, const cJSON *o)
{
	snprintf(k->metric, sizeof(k->metric), "%s", jsonc_string(o,
	    "metric", ""));
	k->total = jsonc_number(o, "total", 0);
	k->last = jsonc_number(o, "last", 0);
	k->have_last = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "have_last"));
}

cJSON *
deploys_save(const struct deploys *d)
{
	cJSON *o = cJSON_CreateObject(), *a;

	cJSON_AddNumberToObject(o, "next_id", (double)d->next_id);
	cJSON_AddBoolToObject(o, "open", d->open);
	a = cJSON_AddArrayToObject(o, "deploys");
	for (size_t k = 0; k < d->nkept; k++) {
		const struct deploy *dp = d->kept[k];
		cJSON *e = cJSON_CreateObject(), *cs, *sg;

		cJSON_AddNumberToObject(e, "id", (double)dp->id);
		cJSON_AddStringToObject(e, "version", dp->version);
		cJSON_AddNumberToObject(e, "begun", (double)dp->begun);
		cJSON_AddNumberToObject(e, "judge_from", (double)dp->judge_from);
		cJSON_AddNumberToObject(e, "ended", (double)dp->ended);
		cJSON_AddNumberToObject(e, "baseline_from",
		    (double)dp->baseline_from);
		cJSON_AddBoolToObject(e, "announced", dp->announced);
		cJSON_AddItemToObject(e, "hits", tally_save(&dp->hits));
		cJSON_AddItemToObject(e, "misses", tally_save(&dp->misses));
		cJSON_AddItemToObject(e, "split", split_save(&dp->split));
		sg = cJSON_AddArrayToObject(e, "stages");
		for (size_t i = 0; i < dp->nstages; i++) {
			cJSON *s = cJSON_CreateArray();

			cJSON_AddItemToArray(s, cJSON_CreateNumber(
			    (double)dp->stages[i].t));
			cJSON_AddItemToArray(s, cJSON_CreateNumber(
			    dp->stages[i].weight));
			cJSON_AddItemToArray(sg, s);
		}
		cs = cJSON_AddObjectToObject(e, "checks");
		for (size_t i = 0; i < dp->nchecks; i++) {
			const struct dcheck *c = &dp->checks[i];
			const struct judge *j = &c->j;
			cJSON *x = cJSON_AddObjectToObject(cs, c->name);
			double n[] = { (double)j->polls, (double)j->ok,
			    (double)j->warn, (double)j->crit,
			    (double)j->errors, j->consecutive_crit,
			    j->consecutive_errors, j->longest_crit_run,
			    j->longest_error_run, j->terminal,
			    j->terminal_verdict, c->has_base, c->base_value,
			    c->base_num, c->base_den, c->win_num, c->win_den,
			    c->last_num, c->last_den, c->have_last,
			    c->known, c->m.value };

			double m[] = { (double)c->m.samples, c->m.num,
			    c->m.den, (double)c->m.from, c->m.clipped,
			    (double)c->at };

			cJSON_AddItemToObject(x, "n", doubles(n,
			    sizeof(n) / sizeof(n[0])));
			/* Apart from "n", which older state files lack. */
			cJSON_AddItemToObject(x, "m", doubles(m,
			    sizeof(m) / sizeof(m[0])));
			cJSON_AddStringToObject(x, "terminal_reason",
			    j->terminal_reason);
			cJSON_AddStringToObject(x, "last_error", j->last_error);
			cJSON_AddItemToObject(x, "base", doubles(c->base,
			    c->nbase));
			cJSON_AddItemToObject(x, "after", doubles(c->after,
			    c->nafter));
		}
		cJSON_AddItemToArray(a, e);
	}
	return o;
}

static double *
load_doubles(const cJSON *a, size_t *n)
{
	size_t m = (size_t)cJSON_GetArraySize(a), k = 0;
	double *v = calloc(m + 1, sizeof(*v));
	const cJSON *x;

	*n = 0;
	if (v == NULL)
		return NULL;
	cJSON_ArrayForEach(x, a)
		if (cJSON_IsNumber(x) && k < MAX_POLL_VALUES)
			v[k++] = x->valuedouble;
	*n = k;
	return v;
}

static void
restore_check(struct dcheck *c, const cJSON *x)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(x, "n"), *s;
	struct judge *j = &c->j;
	double v[22];
	size_t k = 0;

	if (cJSON_GetArraySize(n) != 22)
		return;
	cJSON_ArrayForEach(s, n)
		v[k++] = cJSON_IsNumber(s) ? s->valuedouble : 0;
	j->polls = (uint64_t)v[0];
	j->ok = (uint64_t)v[1];
	j->warn = (uint64_t)v[2];
	j->crit = (uint64_t)v[3];
	j->errors = (uint64_t)v[4];
	j->consecutive_crit = (unsigned)v[5];
	j->consecutive_errors = (unsigned)v[6];
	j->longest_crit_run = (unsigned)v[7];
	j->longest_error_run = (unsigned)v[8];
	j->terminal = v[9] != 0;
	j->terminal_verdict = v[10] >= VERDICT_PASS && v[10] <= VERDICT_FAIL ?
	    (enum verdict)v[10] : VERDICT_INCONCLUSIVE;
	c->has_base = v[11] != 0;
	c->base_value = v[12];
	c->base_num = v[13];
	c->base_den = v[14];
	c->win_num = v[15];
	c->win_den = v[16];
	c->last_num = v[17];
	c->last_den = v[18];
	c->have_last = v[19] != 0;
	c->known = v[20] != 0;
	c->m.value = v[21];
	s = cJSON_GetObjectItemCaseSensitive(x, "m");
	if (cJSON_GetArraySize(s) == 6) {
		c->m.samples = (size_t)cJSON_GetArrayItem(s, 0)->valuedouble;
		c->m.num = cJSON_GetArrayItem(s, 1)->valuedouble;
		c->m.den = cJSON_GetArrayItem(s, 2)->valuedouble;
		c->m.from = (int64_t)cJSON_GetArrayItem(s, 3)->valuedouble;
		c->m.clipped = cJSON_GetArrayItem(s, 4)->valuedouble != 0;
		c->at = (int64_t)cJSON_GetArrayItem(s, 5)->valuedouble;
	}
	s = cJSON_GetObjectItemCaseSensitive(x, "terminal_reason");
	if (cJSON_IsString(s))
		snprintf(j->terminal_reason, sizeof(j->terminal_reason), "%s",
		    s->valuestring);
	s = cJSON_GetObjectItemCaseSensitive(x, "last_error");
	if (cJSON_IsString(s))
		snprintf(j->last_error, sizeof(j->last_error), "%s",
		    s->valuestring);
	free(c->base);
	c->base = load_doubles(cJSON_GetObjectItemCaseSensitive(x, "base"),
	    &c->nbase);
	free(c->after);
	c->after = load_doubles(cJSON_GetObjectItemCaseSensitive(x, "after"),
	    &c->nafter);
	c->aafter = c->nafter;
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
		const cJSON *s;

		if (d->nkept == KEPT_DEPLOYS)
			break;
		dp = calloc(1, sizeof(*dp));
		if (dp == NULL || init_checks(dp, cfg) != 0) {
			deploy_free(dp);
			break;
		}
		dp->id = (uint64_t)jsonc_number(e, "id", 0);
		snprintf(dp->version, sizeof(dp->version), "%s",
		    jsonc_string(e, "version", "?"));
		dp->begun = (int64_t)jsonc_number(e, "begun", 0);
		dp->judge_from = (int64_t)jsonc_number(e, "judge_from", 0);
		dp->ended = (int64_t)jsonc_number(e, "ended", 0);
		dp->baseline_from = (int64_t)jsonc_number(e, "baseline_from",
		    0);
		dp->announced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
		    "announced"));
		tally_restore(&dp->hits, cJSON_GetObjectItemCaseSensitive(e,
		    "hits"));
		tally_restore(&dp->misses, cJSON_GetObjectItemCaseSensitive(e,
		    "misses"));
		split_restore(&dp->split, cJSON_GetObjectItemCaseSensitive(e,
		    "split"));
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(e,
		    "stages")) {
			if (dp->nstages < MAX_STAGES &&
			    cJSON_GetArraySize(s) == 2) {
				dp->stages[dp->nstages].t = (int64_t)
				    cJSON_GetArrayItem(s, 0)->valuedouble;
				dp->stages[dp->nstages++].weight =
				    cJSON_GetArrayItem(s, 1)->valueint;
			}
		}
		for (size_t i = 0; i < dp->nchecks; i++)
			restore_check(&dp->checks[i],
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(e, "checks"),
			    dp->checks[i].name));
		d->kept[d->nkept++] = dp;
	}
	d->open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(saved,
	    "open")) && d->nkept > 0 && d->kept[0]->ended == 0;
	if (d->open)
		focus(d, d->kept[0]);
	if (d->open)
		log_notice("event=deploy_resumed id=%llu version=\"%s\"",
		    (unsigned long long)d->kept[0]->id, d->kept[0]->version);
}
