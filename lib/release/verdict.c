#include "release/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "release/stats.h"
#include "engine/ruleset.h"

/*
 * After a long gap (vigild stopped mid-window) the intervals it missed
 * are one measurement error, not thousands: at most this many are closed
 * one by one.
 */
#define MAX_CATCH_UP	64

int
verdict_init(struct vdeploy *d, size_t nchecks, int64_t now,
    int64_t judge_from, int64_t interval_ms)
{
	memset(d, 0, sizeof(*d));
	d->checks = calloc(nchecks + 1, sizeof(*d->checks));
	if (d->checks == NULL)
		return -1;
	d->nchecks = nchecks;
	d->begun = now;
	d->judge_from = judge_from;
	d->interval_ms = interval_ms > 0 ? interval_ms : 60000;
	d->next_close = judge_from + d->interval_ms;
	for (size_t i = 0; i < nchecks; i++)
		d->checks[i].rel.p = NAN;
	return 0;
}

void
verdict_clear(struct vdeploy *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nchecks; i++) {
		free(d->checks[i].base);
		free(d->checks[i].after);
		free(d->checks[i].side[0].v);
		free(d->checks[i].side[1].v);
	}
	free(d->checks);
	d->checks = NULL;
	d->nchecks = 0;
}

int
verdict_baseline(struct vcheck *c, const double *v, size_t n, bool has_value,
    double value, double num, double den)
{
	free(c->base);
	c->base = NULL;
	c->nbase = 0;
	if (n > VERDICT_MAX_VALUES)
		n = VERDICT_MAX_VALUES;
	if (n > 0) {
		c->base = malloc(n * sizeof(*c->base));
		if (c->base == NULL)
			return -1;
		memcpy(c->base, v, n * sizeof(*c->base));
		c->nbase = n;
	}
	c->has_base = has_value;
	c->base_value = value;
	c->base_num = num;
	c->base_den = den;
	return 0;
}

/* Appends v to a bounded array of per-poll samples. */
static void
push_value(double **vals, size_t *n, size_t *alloc, double v)
{
	if (*n == *alloc) {
		size_t a = *alloc == 0 ? 64 : *alloc * 2;
		double *x;

		if (a > VERDICT_MAX_VALUES)
			return;	/* bounded: the test has plenty by then */
		x = realloc(*vals, a * sizeof(*x));
		if (x == NULL)
			return;
		*vals = x;
		*alloc = a;
	}
	(*vals)[(*n)++] = v;
}

/* Counter growth since the last poll, a drop read as a restart. */
static double
counter_step(double last, double now)
{
	return now >= last ? now - last : now;
}

static void
count_poll(struct vcount *k, double num, double den)
{
	if (k->have_last) {
		k->num += counter_step(k->last_num, num);
		k->den += counter_step(k->last_den, den);
	}
	k->last_num = num;
	k->last_den = den;
	k->have_last = true;
}

/* " ms", " %", "": how a value's unit reads after it. */
static void
unit_text(const struct vcheck_cfg *cf, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", cf->unit[0] != '\0' ? " " : "", cf->unit);
}

void
verdict_poll(struct vdeploy *d, size_t i, const struct vpoll *p)
{
	struct vcheck *c = &d->checks[i];
	const struct vcheck_cfg *cf = &c->cfg;
	const char *op = rule_op_text(cf->op);
	enum poll_outcome o = POLL_OK;
	double thr;
	char u[20];

	if (p->t < d->judge_from || (d->ended != 0 && p->t > d->ended))
		return;
	/* The poll belongs to the interval it was taken in. */
	verdict_tick(d, p->t);
	if (p->has_counts)
		count_poll(&c->cnt, p->num, p->den);
	unit_text(cf, u, sizeof(u));
	switch (p->kind) {
	case VPOLL_THIN:
		/*
		 * Too few samples since judging began (a delta needs two) or
		 * too little traffic: not a poll, and not the observer's
		 * error. min_samples, min_requests and the interval's data
		 * check keep it from passing.
		 */
		return;
	case VPOLL_ERROR:
		c->known = false;
		c->at = p->t;
		judge_poll(&c->j, POLL_ERROR, 0, 0, op, u, p->why);
		judge_poll(&c->stage, POLL_ERROR, 0, 0, op, u, p->why);
		return;
	case VPOLL_VALUE:
		break;
	}
	if (cf->crit_set && rule_crosses(cf->op, p->value, cf->crit)) {
		o = POLL_CRIT;
		thr = cf->crit;
	} else if (cf->warn_set && rule_crosses(cf->op, p->value, cf->warn)) {
		o = POLL_WARN;
		thr = cf->warn;
	} else {
		thr = cf->warn_set ? cf->warn : cf->crit;
	}
	judge_poll(&c->j, o, p->value, thr, op, u, NULL);
	judge_poll(&c->stage, o, p->value, thr, op, u, NULL);
	c->known = true;
	c->value = p->value;
	c->at = p->t;
	c->iv_judged++;
	if (p->has_sample)
		push_value(&c->after, &c->nafter, &c->aafter, p->sample);
}

void
verdict_side(struct vdeploy *d, size_t i, enum vside_kind k,
    const struct vpoll *p)
{
	struct vside *s = &d->checks[i].side[k];

	if (p->t < d->judge_from || (d->ended != 0 && p->t > d->ended))
		return;
	verdict_tick(d, p->t);
	if (p->has_counts)
		count_poll(&s->cnt, p->num, p->den);
	if (p->has_sample)
		push_value(&s->v, &s->n, &s->a, p->sample);
}

void
verdict_split(struct vdeploy *d, double own, double all, int64_t at)
{
	if (at < d->judge_from || at <= d->split.at)
		return;
	verdict_tick(d, at);
	split_count(&d->split, own, all, at);
}

static double
median(const double *v, size_t n)
{
	double *c, m;

	if (n == 0)
		return NAN;
	c = malloc(n * sizeof(*c));
	if (c == NULL)
		return NAN;
	memcpy(c, v, n * sizeof(*c));
	m = window_percentile(c, n, 50);
	free(c);
	return m;
}

const char *
verdict_test_name(const struct vcheck_cfg *c)
{
	return c->ratio ? "Fisher exact" : "Mann-Whitney U";
}

const char *
verdict_compared(const struct vdeploy *d)
{
	return d->compare ? "the canary's probe against the stable pods', "
	    "over the same minutes" : "the deploy window against the "
	    "same-length window before it";
}

/*
 * The relative part of a check, run once at t: worse than what it is
 * compared with (the baseline window, or the stable pods) by more than
 * the margin, and significantly so.
 */
static void
run_relative(const struct vdeploy *d, const struct vcheck *c, int64_t t,
    struct vtest *out)
{
	const struct vcheck_cfg *cf = &c->cfg;
	const struct vside *cn = &c->side[VSIDE_CANARY];
	const struct vside *sb = &c->side[VSIDE_STABLE];
	bool up = cf->op == RULE_GT || cf->op == RULE_GE;
	double alpha = 1.0 - cf->confidence;
	double k = 1 + cf->max_increase_pct / 100.0;
	const char *before = d->compare ? "stable" : "before";
	const char *after = d->compare ? "canary" : "after";
	const char *than = d->compare ? "the stable pods" : "the baseline";
	struct stats_result r;

	memset(out, 0, sizeof(*out));
	out->at = t;
	out->p = NAN;
	if (cf->ratio) {
		double need = fmax(1, cf->min_requests);

		out->base_a = d->compare ? sb->cnt.num : c->base_num;
		out->base_b = d->compare ? sb->cnt.den : c->base_den;
		out->a = d->compare ? cn->cnt.num : c->cnt.num;
		out->b = d->compare ? cn->cnt.den : c->cnt.den;
		if (out->base_b < need || out->b < need) {
			out->outcome = VTEST_SKIPPED;
			snprintf(out->reason, sizeof(out->reason), "relative "
			    "check skipped: %.0f requests %s, %.0f %s, need "
			    "%.0f a side", out->base_b, before, out->b, after,
			    need);
			return;
		}
		r = stats_fisher_exact(out->base_a, out->base_b, out->a, out->b,
		    cf->max_increase_pct / 100.0);
	} else {
		const double *bv = d->compare ? sb->v : c->base;
		const double *av = d->compare ? cn->v : c->after;
		size_t nb = d->compare ? sb->n : c->nbase;
		size_t na = d->compare ? cn->n : c->nafter;
		double mb = median(bv, nb), ma = median(av, na);

		out->base_a = (double)nb;
		out->base_b = mb;
		out->a = (double)na;
		out->b = ma;
		if (nb < cf->min_relative_samples ||
		    na < cf->min_relative_samples) {
			out->outcome = VTEST_SKIPPED;
			snprintf(out->reason, sizeof(out->reason), "relative "
			    "check skipped: %zu samples %s, %zu %s, need %u a "
			    "side", nb, before, na, after,
			    cf->min_relative_samples);
			return;
		}
		r = stats_mann_whitney(av, na, bv, nb, up);
		/* Significant is not enough: the margin must be passed too. */
		if (r.valid && !(up ? ma > mb * k : ma < mb / k))
			r.p = fmax(r.p, 1.0);
	}
	out->p = r.p;
	if (r.valid && r.p < alpha) {
		out->outcome = VTEST_FAIL;
		snprintf(out->reason, sizeof(out->reason), "worse than %s by "
		    "more than %g %% (%s p=%.2g < %.2g)", than,
		    cf->max_increase_pct, verdict_test_name(cf), r.p, alpha);
	} else {
		out->outcome = VTEST_PASS;
		snprintf(out->reason, sizeof(out->reason), "no significant "
		    "change against %s (%s p=%.2g, need < %.2g)", than,
		    verdict_test_name(cf), r.p, alpha);
	}
}

/* The tests, once, at an interval's or a stage's end. */
static void
run_tests(struct vdeploy *d, int64_t t)
{
	for (size_t i = 0; i < d->nchecks; i++) {
		struct vcheck *c = &d->checks[i];

		if (!c->cfg.relative || c->gone ||
		    c->rel.outcome == VTEST_FAIL)
			continue;
		run_relative(d, c, t, &c->rel);
	}
	if (d->br.on && d->nstages > 0) {
		struct vstage *g = &d->stages[d->nstages - 1];

		if (g->br.outcome != SPLIT_FAIL) {
			split_judge(&d->split, &d->br, d->version,
			    d->nstages - 1, &g->br);
			g->br_run = true;
		}
	}
}

/* A full interval ended at t: did each check get data in it? */
static void
check_data(struct vdeploy *d, int64_t t, int64_t missed)
{
	for (size_t i = 0; i < d->nchecks; i++) {
		struct vcheck *c = &d->checks[i];
		const char *op = rule_op_text(c->cfg.op);
		char u[20];

		if (c->gone)
			continue;
		c->nodata = false;
		if (missed > 0)
			snprintf(c->nodata_why, sizeof(c->nodata_why), "no data:"
			    " nothing was judged for %lld intervals (vigild "
			    "not running?)", (long long)missed);
		else if (c->iv_judged == 0)
			snprintf(c->nodata_why, sizeof(c->nodata_why), "no data:"
			    " no poll could be judged in the interval that "
			    "ended at +%llds", (long long)((t - d->judge_from) /
			    1000));
		else if (c->cfg.ratio && !(c->cnt.den > c->iv_den0))
			snprintf(c->nodata_why, sizeof(c->nodata_why), "no data:"
			    " no new requests in the interval that ended at "
			    "+%llds (traffic stopped?)", (long long)((t -
			    d->judge_from) / 1000));
		else
			c->nodata_why[0] = '\0';
		if (c->nodata_why[0] != '\0') {
			c->nodata = true;
			unit_text(&c->cfg, u, sizeof(u));
			judge_poll(&c->j, POLL_ERROR, 0, 0, op, u,
			    c->nodata_why);
			judge_poll(&c->stage, POLL_ERROR, 0, 0, op, u,
			    c->nodata_why);
		}
		c->iv_judged = 0;
		c->iv_den0 = c->cnt.den;
	}
}

void
verdict_tick(struct vdeploy *d, int64_t now)
{
	int64_t limit = d->ended != 0 && d->ended < now ? d->ended : now;
	int64_t behind;

	if (d->next_close > limit)
		return;
	behind = (limit - d->next_close) / d->interval_ms;
	if (behind > MAX_CATCH_UP) {
		/* One error for the whole gap, then on from now. */
		check_data(d, d->next_close, behind);
		run_tests(d, d->next_close);
		d->next_close += behind * d->interval_ms;
		d->intervals += (uint64_t)behind;
	}
	while (d->next_close <= limit) {
		check_data(d, d->next_close, 0);
		run_tests(d, d->next_close);
		d->next_close += d->interval_ms;
		d->intervals++;
	}
}

void
verdict_step(struct vdeploy *d, int weight, int64_t now)
{
	struct vstage *g;

	verdict_tick(d, now);
	/* The stage that ends is tested at its end, once more. */
	if (now >= d->judge_from)
		run_tests(d, now);
	if (d->nstages == VERDICT_STAGES)
		return;
	g = &d->stages[d->nstages++];
	memset(g, 0, sizeof(*g));
	g->t = now;
	g->weight = weight;
	g->br.p = NAN;
	split_step(&d->split, weight, now);
	/* Each stage is judged afresh; the window keeps counting. */
	for (size_t i = 0; i < d->nchecks; i++) {
		struct vcheck *c = &d->checks[i];

		judge_init(&c->stage, &c->cfg.lim);
		c->st_num0 = c->cnt.num;
		c->st_den0 = c->cnt.den;
	}
}

void
verdict_end(struct vdeploy *d, int64_t now)
{
	if (d->ended != 0)
		return;
	verdict_tick(d, now);
	if (now >= d->judge_from)
		run_tests(d, now);
	d->ended = now;
}

/* Whether check c still decides anything: gone checks only if failed. */
static bool
gates(const struct vcheck *c)
{
	if (c->cfg.advisory)
		return false;
	if (!c->gone)
		return true;
	return c->rel.outcome == VTEST_FAIL || (c->j.terminal &&
	    c->j.terminal_verdict == VERDICT_FAIL);
}

/* Check c over the window (stage false) or the stage under way. */
static enum verdict
check_scope(const struct vdeploy *d, const struct vcheck *c, bool stage,
    bool final, char *reason, size_t len)
{
	enum verdict v;
	double req;

	/* What decided the deploy decides every scope. */
	if (c->rel.outcome == VTEST_FAIL) {
		snprintf(reason, len, "relative: %s", c->rel.reason);
		return VERDICT_FAIL;
	}
	if (c->j.terminal)
		return judge_verdict(&c->j, final, reason, len);
	v = judge_verdict(stage ? &c->stage : &c->j, final, reason, len);
	if (!final || v == VERDICT_FAIL)
		return v;
	/* Too little traffic says more than the no-data it causes. */
	req = stage ? c->cnt.den - c->st_den0 : c->cnt.den;
	if (c->cfg.ratio && req < c->cfg.min_requests) {
		snprintf(reason, len, "too few requests: %.0f in the %s, need "
		    "%.0f", req, stage ? "stage" : "window",
		    c->cfg.min_requests);
		return VERDICT_INCONCLUSIVE;
	}
	if (c->nodata && d->intervals > 0) {
		snprintf(reason, len, "%s", c->nodata_why);
		return VERDICT_INCONCLUSIVE;
	}
	return v;
}

void
verdict_check(const struct vdeploy *d, size_t i, struct vcheck_result *out)
{
	const struct vcheck *c = &d->checks[i];
	struct vcheck_scope *s[2] = { &out->window, &out->stage };

	for (int k = 0; k < 2; k++) {
		s[k]->now = check_scope(d, c, k == 1, false, s[k]->now_reason,
		    sizeof(s[k]->now_reason));
		s[k]->final = check_scope(d, c, k == 1, true,
		    s[k]->final_reason, sizeof(s[k]->final_reason));
		s[k]->decided = s[k]->now == VERDICT_FAIL ||
		    s[k]->now == VERDICT_INCONCLUSIVE;
	}
}

static void
worsen(enum verdict *v, char *reason, size_t len, enum verdict to,
    const char *who, const char *why)
{
	if (to > *v) {
		*v = to;
		snprintf(reason, len, "%s: %s", who, why);
	}
}

static void
judge_scope(const struct vdeploy *d, bool stage, struct vscope *s)
{
	struct vcheck_result r;

	s->now = s->final = VERDICT_PASS;
	s->now_reason[0] = s->final_reason[0] = '\0';
	for (size_t i = 0; i < d->nchecks; i++) {
		const struct vcheck *c = &d->checks[i];
		const struct vcheck_scope *cs = stage ? &r.stage : &r.window;

		if (!gates(c))
			continue;
		verdict_check(d, i, &r);
		worsen(&s->now, s->now_reason, sizeof(s->now_reason), cs->now,
		    c->cfg.name, cs->now_reason);
		worsen(&s->final, s->final_reason, sizeof(s->final_reason),
		    cs->final, c->cfg.name, cs->final_reason);
	}
	/* Errors by release: a stage's recorded fail fails the deploy. */
	if (d->br.on && !d->br.advisory) {
		for (size_t i = 0; i < d->nstages; i++) {
			const struct split_result *b = &d->stages[i].br;
			char why[280];

			if (!d->stages[i].br_run || b->outcome != SPLIT_FAIL)
				continue;
			snprintf(why, sizeof(why), "stage %zu (%d %%): %s", i + 1,
			    d->stages[i].weight, b->reason);
			worsen(&s->now, s->now_reason, sizeof(s->now_reason),
			    VERDICT_FAIL, "by_release", why);
			worsen(&s->final, s->final_reason,
			    sizeof(s->final_reason), VERDICT_FAIL, "by_release",
			    why);
			break;
		}
	}
	if (s->now_reason[0] == '\0')
		snprintf(s->now_reason, sizeof(s->now_reason), "every check "
		    "within its limits so far");
	if (s->final_reason[0] == '\0')
		snprintf(s->final_reason, sizeof(s->final_reason), "every "
		    "check passed");
	s->decided = s->now == VERDICT_FAIL || s->now == VERDICT_INCONCLUSIVE;
}

void
verdict_judge(const struct vdeploy *d, int64_t now, struct vresult *out)
{
	memset(out, 0, sizeof(*out));
	judge_scope(d, false, &out->window);
	out->has_stage = d->nstages > 0;
	if (out->has_stage)
		judge_scope(d, true, &out->stage);
	out->gate = out->has_stage ? out->stage : out->window;
	out->gate_scope = out->has_stage ? "stage" : "window";
	out->warming_up = now < d->judge_from;
	/* The worst recorded stage: fail, else the latest pass or skip. */
	out->br_outcome = SPLIT_UNTESTED;
	if (d->nstages == 0)
		snprintf(out->br_reason, sizeof(out->br_reason), "not tested: "
		    "no stage gave the release's traffic share (vigilctl "
		    "deploy step --weight)");
	for (size_t i = 0; i < d->nstages; i++) {
		const struct vstage *g = &d->stages[i];
		enum split_outcome o = g->br_run ? g->br.outcome :
		    SPLIT_UNTESTED;

		if (out->br_outcome == SPLIT_FAIL)
			break;
		if (o >= out->br_outcome || i == 0) {
			out->br_outcome = o;
			snprintf(out->br_reason, sizeof(out->br_reason),
			    "stage %zu (%d %%): %s", i + 1, g->weight,
			    g->br_run ? g->br.reason : "not tested yet: tested "
			    "at the end of each judging interval and of the "
			    "stage");
		}
	}
}

const char *
vtest_outcome_name(enum vtest_outcome o)
{
	switch (o) {
	case VTEST_NONE:
		return "untested";
	case VTEST_SKIPPED:
		return "skipped";
	case VTEST_PASS:
		return "pass";
	case VTEST_FAIL:
		return "fail";
	}
	return "?";
}
