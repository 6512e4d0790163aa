/*
 * report: a deploy's document (GET /deploys/{id}, vigilctl report and
 * wait, the page, /status, /metrics), rendered from its verdict
 * (release/verdict.h) and the copy of the config it was judged with.
 * It decides nothing: every verdict, reason and test result here is the
 * verdict module's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/duration.h"
#include "engine/monitor.h"
#include "release/deploy.h"
#include "release/deploy_int.h"

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
measured_json(const struct vcheck *c, const struct dlink *l, cJSON *m)
{
	const struct vcheck_cfg *cf = &c->cfg;
	char span[64], d[32], how[420];
	int64_t ms = c->at - l->m.from;

	if (cf->window_ms == 0) {
		snprintf(span, sizeof(span), "the latest poll");
	} else if (l->m.clipped) {
		duration_format(ms >= 1000 ? ms / 1000 * 1000 : ms, d,
		    sizeof(d));
		snprintf(span, sizeof(span), "the %s since judging began", d);
	} else {
		duration_format(cf->window_ms, d, sizeof(d));
		snprintf(span, sizeof(span), "the last %s", d);
	}
	if (c->j.polls == 0 || c->at == 0) {
		snprintf(how, sizeof(how), "not measured yet");
	} else if (!c->known) {
		snprintf(how, sizeof(how), "no value at the latest poll");
	} else if (cf->ratio) {
		snprintf(how, sizeof(how), "%s of %s / %s over %s: %.0f / %.0f",
		    agg_name(cf->agg), short_metric(cf->numerator),
		    short_metric(cf->denominator), span, l->m.num, l->m.den);
		cJSON_AddNumberToObject(m, "numerator", l->m.num);
		cJSON_AddNumberToObject(m, "denominator", l->m.den);
	} else if (cf->window_ms == 0) {
		snprintf(how, sizeof(how), "%s at %s", short_metric(cf->metric),
		    span);
	} else {
		snprintf(how, sizeof(how), "%s of %s over %s: %zu samples",
		    agg_name(cf->agg), short_metric(cf->metric), span,
		    l->m.samples);
	}
	cJSON_AddStringToObject(m, "how", how);
	if (c->j.polls > 0 && c->at != 0 && c->known) {
		add_time(m, "at", c->at);
		cJSON_AddNumberToObject(m, "window_s", (double)ms / 1e3);
		cJSON_AddNumberToObject(m, "samples", (double)l->m.samples);
	}
}

/*
 * The relative test as it was last recorded: never run here. "baseline"
 * is what the check is compared with: the window before the deploy, or
 * the stable pods side by side.
 */
static cJSON *
relative_json(const struct vdeploy *vd, const struct vcheck *c)
{
	const struct vcheck_cfg *cf = &c->cfg;
	const struct vtest *t = &c->rel;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "max_increase_pct", cf->max_increase_pct);
	cJSON_AddNumberToObject(o, "confidence", cf->confidence);
	cJSON_AddStringToObject(o, "test", verdict_test_name(cf));
	cJSON_AddStringToObject(o, "compared", verdict_compared(vd));
	if (cf->ratio && vd->compare) {
		cJSON_AddNumberToObject(o, "baseline_errors",
		    c->side[VSIDE_STABLE].cnt.num);
		cJSON_AddNumberToObject(o, "baseline_requests",
		    c->side[VSIDE_STABLE].cnt.den);
		if (t->outcome != VTEST_NONE) {
			cJSON_AddNumberToObject(o, "errors", t->a);
			cJSON_AddNumberToObject(o, "requests", t->b);
		}
	} else if (cf->ratio) {
		cJSON_AddNumberToObject(o, "baseline_errors", c->base_num);
		cJSON_AddNumberToObject(o, "baseline_requests", c->base_den);
		/* The counts the recorded test was run on. */
		if (t->outcome != VTEST_NONE) {
			cJSON_AddNumberToObject(o, "errors", t->a);
			cJSON_AddNumberToObject(o, "requests", t->b);
		}
	} else {
		cJSON_AddNumberToObject(o, "baseline_samples", vd->compare ?
		    (double)c->side[VSIDE_STABLE].n : (double)c->nbase);
		if (t->outcome != VTEST_NONE)
			cJSON_AddNumberToObject(o, "samples", t->a);
		if (t->outcome == VTEST_PASS || t->outcome == VTEST_FAIL) {
			cJSON_AddNumberToObject(o, "baseline_median", t->base_b);
			cJSON_AddNumberToObject(o, "median", t->b);
			if (t->base_b != 0)
				cJSON_AddNumberToObject(o, "delta_pct", (t->b -
				    t->base_b) / fabs(t->base_b) * 100.0);
		}
	}
	if (!isnan(t->p))
		cJSON_AddNumberToObject(o, "p", t->p);
	add_time(o, "tested_at", t->at);
	cJSON_AddStringToObject(o, "verdict", vtest_outcome_name(t->outcome));
	cJSON_AddStringToObject(o, "reason", t->outcome == VTEST_NONE ?
	    "not tested yet: the test runs at the end of each judging "
	    "interval and of each stage" : t->reason);
	return o;
}

static cJSON *
check_json(const struct vdeploy *vd, size_t i, const struct dlink *l)
{
	const struct vcheck *c = &vd->checks[i];
	const struct vcheck_cfg *cf = &c->cfg;
	cJSON *o = cJSON_CreateObject(), *t, *m, *s;
	struct vcheck_result r;

	verdict_check(vd, i, &r);
	cJSON_AddStringToObject(o, "name", cf->name);
	cJSON_AddStringToObject(o, "rule", cf->rule);
	cJSON_AddBoolToObject(o, "key", cf->key);
	cJSON_AddBoolToObject(o, "advisory", cf->advisory);
	if (c->gone)
		cJSON_AddStringToObject(o, "removed", "a reload removed this "
		    "check: no longer measured; it gates only if it had "
		    "failed");
	t = cJSON_AddObjectToObject(o, "target");
	cJSON_AddStringToObject(t, "op", rule_op_text(cf->op));
	if (cf->warn_set)
		cJSON_AddNumberToObject(t, "warn", cf->warn);
	if (cf->crit_set)
		cJSON_AddNumberToObject(t, "crit", cf->crit);
	if (cf->unit[0] != '\0')
		cJSON_AddStringToObject(t, "unit", cf->unit);
	m = cJSON_AddObjectToObject(o, "measured");
	if (c->j.polls > 0 && c->known)
		cJSON_AddNumberToObject(m, "value", c->value);
	else
		cJSON_AddNullToObject(m, "value");
	measured_json(c, l, m);
	if (c->has_base) {
		cJSON_AddNumberToObject(o, "baseline", c->base_value);
		if (c->j.polls > 0 && c->known && c->base_value != 0)
			cJSON_AddNumberToObject(o, "delta_pct",
			    (c->value - c->base_value) / fabs(c->base_value) *
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
	if (cf->ratio) {
		cJSON_AddNumberToObject(o, "requests", c->cnt.den);
		cJSON_AddNumberToObject(o, "errors_counted", c->cnt.num);
	}
	if (c->j.last_error[0] != '\0')
		cJSON_AddStringToObject(o, "last_error", c->j.last_error);
	if (cf->relative)
		cJSON_AddItemToObject(o, "relative", relative_json(vd, c));
	cJSON_AddStringToObject(o, "verdict", verdict_name(r.window.final));
	cJSON_AddStringToObject(o, "reason", r.window.final_reason);
	if (vd->nstages > 0) {
		s = cJSON_AddObjectToObject(o, "stage");
		cJSON_AddStringToObject(s, "verdict",
		    verdict_name(r.stage.final));
		cJSON_AddStringToObject(s, "reason", r.stage.final_reason);
		if (cf->ratio)
			cJSON_AddNumberToObject(s, "requests", c->cnt.den -
			    c->st_den0);
	}
	return o;
}

/* A verdict scope as the document carries it. */
static void
scope_json(cJSON *v, const struct vscope *s)
{
	cJSON_AddStringToObject(v, "now", verdict_name(s->now));
	cJSON_AddStringToObject(v, "now_reason", s->now_reason);
	cJSON_AddBoolToObject(v, "decided", s->decided);
	cJSON_AddStringToObject(v, "final", verdict_name(s->final));
	cJSON_AddStringToObject(v, "final_reason", s->final_reason);
	cJSON_AddNumberToObject(v, "exit_code", verdict_exit_code(s->final,
	    false));
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

/* Errors by release, as recorded at interval and stage ends. */
static cJSON *
by_release_json(const struct deploy *dp, const struct vresult *r)
{
	const struct vdeploy *vd = &dp->vd;
	cJSON *o = cJSON_CreateObject(), *st = cJSON_CreateArray();
	char when[40];

	cJSON_AddStringToObject(o, "source", dp->br_probe);
	cJSON_AddStringToObject(o, "version", vd->version);
	cJSON_AddStringToObject(o, "test", "exact binomial");
	cJSON_AddNumberToObject(o, "max_increase_pct", vd->br.max_increase_pct);
	cJSON_AddNumberToObject(o, "confidence", vd->br.confidence);
	cJSON_AddNumberToObject(o, "min_errors", vd->br.min_errors);
	cJSON_AddBoolToObject(o, "advisory", vd->br.advisory);
	/* Since judging began; null until Sentry answered once. */
	if (vd->split.have) {
		cJSON_AddNumberToObject(o, "release_errors", vd->split.own);
		cJSON_AddNumberToObject(o, "errors", vd->split.all);
		clock_iso(vd->split.at, when, sizeof(when));
		cJSON_AddStringToObject(o, "counted_at", when);
	} else {
		cJSON_AddNullToObject(o, "release_errors");
		cJSON_AddNullToObject(o, "errors");
	}
	for (size_t i = 0; i < vd->nstages; i++) {
		const struct vstage *g = &vd->stages[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "weight", g->weight);
		clock_iso(g->t, when, sizeof(when));
		cJSON_AddStringToObject(e, "since", when);
		if (g->br_run) {
			cJSON_AddNumberToObject(e, "release_errors", g->br.own);
			cJSON_AddNumberToObject(e, "errors", g->br.all);
			if (!isnan(g->br.p))
				cJSON_AddNumberToObject(e, "p", g->br.p);
		}
		cJSON_AddStringToObject(e, "verdict", g->br_run ?
		    split_outcome_name(g->br.outcome) : "untested");
		cJSON_AddStringToObject(e, "reason", g->br_run ? g->br.reason :
		    "not tested yet: tested at the end of each judging "
		    "interval and of the stage");
		cJSON_AddItemToArray(st, e);
	}
	cJSON_AddItemToObject(o, "stages", st);
	cJSON_AddStringToObject(o, "verdict", split_outcome_name(
	    r->br_outcome));
	cJSON_AddStringToObject(o, "reason", r->br_reason);
	return o;
}

/* Rules that started firing (or escalated) while the window was open. */
static cJSON *
alerts_fired(const struct deploys *d, const struct deploy *dp, int64_t now)
{
	const struct ruleset *rs = monitor_rules(d->m);
	int64_t until = dp->vd.ended != 0 ? dp->vd.ended : now;
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule_status *st = ruleset_status(rs, i);
		struct rule_transition tr;

		for (unsigned k = st->nhist; k-- > 0;) {
			cJSON *e;

			rule_history(st, k, &tr);
			if (tr.to != RULE_FIRING || tr.t < dp->vd.begun ||
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

static const char *
compared(const struct vdeploy *vd)
{
	/*
	 * vigil sees the whole application: a 10 % canary's errors are
	 * diluted about tenfold in these numbers. Say what was compared.
	 */
	if (vd->compare)
		return "whole-application metrics for the thresholds; relative "
		    "checks compare the canary's probe with the stable pods', "
		    "over the same minutes, undiluted";
	if (vd->nstages == 0 || vd->stages[vd->nstages - 1].weight >= 100)
		return "whole-application metrics";
	return vd->br.on ? "whole-application metrics during a partial "
	    "rollout, where a canary's own errors are diluted by its traffic "
	    "share; by_release compares its own error events with the "
	    "rest's, undiluted" : "whole-application metrics during a "
	    "partial rollout: a canary's own errors are diluted by its "
	    "traffic share";
}

cJSON *
report_json(const struct deploys *d, const struct deploy *dp, int64_t now)
{
	const struct vdeploy *vd = &dp->vd;
	cJSON *o = cJSON_CreateObject(), *st, *checks, *dry, *b, *v, *t;
	double req = 0, err = 0;
	bool counted = false;
	struct vresult r;

	verdict_judge(vd, now, &r);
	cJSON_AddStringToObject(o, "schema", DEPLOY_SCHEMA);
	cJSON_AddNumberToObject(o, "id", (double)dp->id);
	cJSON_AddStringToObject(o, "version", vd->version);
	cJSON_AddBoolToObject(o, "open", d->open && dp == d->kept[0]);
	if (dp->announce[0] != '\0')
		cJSON_AddStringToObject(o, "announce", dp->announce);
	else
		cJSON_AddNullToObject(o, "announce");
	cJSON_AddItemToObject(o, "planned_stages", cJSON_CreateIntArray(
	    dp->planned, (int)dp->nplanned));
	add_time(o, "begun", vd->begun);
	add_time(o, "judging_from", vd->judge_from);
	cJSON_AddNumberToObject(o, "warmup_s",
	    (double)(vd->judge_from - vd->begun) / 1e3);
	cJSON_AddBoolToObject(o, "warming_up", r.warming_up);
	add_time(o, "ended", vd->ended);
	cJSON_AddNumberToObject(o, "interval_s", (double)vd->interval_ms /
	    1e3);
	cJSON_AddNumberToObject(o, "intervals_judged", (double)vd->intervals);
	cJSON_AddStringToObject(o, "relative_compare", verdict_compared(vd));
	b = cJSON_AddObjectToObject(o, "baseline");
	add_time(b, "from", dp->baseline_from);
	add_time(b, "to", vd->begun);
	st = cJSON_AddArrayToObject(o, "stages");
	for (size_t i = 0; i < vd->nstages; i++) {
		cJSON *s = cJSON_CreateObject();

		add_time(s, "time", vd->stages[i].t);
		cJSON_AddNumberToObject(s, "weight", vd->stages[i].weight);
		cJSON_AddItemToArray(st, s);
	}
	checks = cJSON_CreateArray();
	dry = cJSON_CreateArray();
	for (size_t i = 0; i < vd->nchecks; i++) {
		const struct vcheck *c = &vd->checks[i];

		cJSON_AddItemToArray(c->cfg.advisory ? dry : checks,
		    check_json(vd, i, &dp->links[i]));
		if (c->cfg.ratio && !counted) {
			counted = true;
			req = c->cnt.den;
			err = c->cnt.num;
		}
	}
	if (vd->br.on)
		cJSON_AddItemToObject(o, "by_release", by_release_json(dp, &r));
	v = cJSON_AddObjectToObject(o, "verdict");
	scope_json(v, &r.window);
	t = cJSON_AddObjectToObject(o, "traffic");
	cJSON_AddNumberToObject(t, "requests", req);
	cJSON_AddNumberToObject(t, "errors", err);
	if (req > 0)
		cJSON_AddNumberToObject(t, "error_rate_pct", err / req * 100.0);
	cache_json(dp, t);
	cJSON_AddItemToObject(o, "alerts", alerts_fired(d, dp, now));
	if (r.has_stage) {
		cJSON *s = cJSON_AddObjectToObject(o, "stage");

		cJSON_AddNumberToObject(s, "weight",
		    vd->stages[vd->nstages - 1].weight);
		add_time(s, "since", vd->stages[vd->nstages - 1].t);
		scope_json(cJSON_AddObjectToObject(s, "verdict"), &r.stage);
	}
	/* What vigilctl wait decides on, so every client agrees. */
	v = cJSON_AddObjectToObject(o, "gate");
	cJSON_AddStringToObject(v, "scope", r.gate_scope);
	scope_json(v, &r.gate);
	cJSON_AddStringToObject(o, "compared", compared(vd));
	cJSON_AddItemToObject(o, "checks", checks);
	cJSON_AddItemToObject(o, "dry_run", dry);
	return o;
}
