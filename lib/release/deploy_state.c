/*
 * deploy_state: a deploy window in the state file, so a restart mid-window
 * resumes it and a past deploy's report survives. Everything is saved by
 * name (verdicts, outcomes, operators, aggregates), never as enum numbers.
 * A file from before the config copy (checks saved as a 22-number "n"
 * array) is still read: its checks take the live config's settings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonc.h"
#include "release/deploy_int.h"

static bool
flag(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void
text(char *dst, size_t len, const cJSON *o, const char *key)
{
	snprintf(dst, len, "%s", jsonc_string(o, key, ""));
}

static cJSON *
doubles(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
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
		if (cJSON_IsNumber(x) && k < VERDICT_MAX_VALUES)
			v[k++] = x->valuedouble;
	*n = k;
	return v;
}

static enum verdict
verdict_of(const char *s)
{
	static const enum verdict all[] = {
		VERDICT_PASS, VERDICT_WARN, VERDICT_INCONCLUSIVE, VERDICT_FAIL,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, verdict_name(all[i])) == 0)
			return all[i];
	return VERDICT_INCONCLUSIVE;
}

static cJSON *
judge_save(const struct judge *j)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "polls", (double)j->polls);
	cJSON_AddNumberToObject(o, "ok", (double)j->ok);
	cJSON_AddNumberToObject(o, "warn", (double)j->warn);
	cJSON_AddNumberToObject(o, "crit", (double)j->crit);
	cJSON_AddNumberToObject(o, "errors", (double)j->errors);
	cJSON_AddNumberToObject(o, "consecutive_crit", j->consecutive_crit);
	cJSON_AddNumberToObject(o, "consecutive_errors",
	    j->consecutive_errors);
	cJSON_AddNumberToObject(o, "longest_crit_run", j->longest_crit_run);
	cJSON_AddNumberToObject(o, "longest_error_run", j->longest_error_run);
	cJSON_AddNumberToObject(o, "last_value", j->last_value);
	cJSON_AddNumberToObject(o, "last_threshold", j->last_threshold);
	cJSON_AddStringToObject(o, "last_error", j->last_error);
	if (j->terminal) {
		cJSON_AddStringToObject(o, "terminal",
		    verdict_name(j->terminal_verdict));
		cJSON_AddStringToObject(o, "terminal_reason",
		    j->terminal_reason);
	}
	return o;
}

static void
judge_load(struct judge *j, const struct judge_limits *lim, const cJSON *o)
{
	judge_init(j, lim);
	if (!cJSON_IsObject(o))
		return;
	j->polls = (uint64_t)jsonc_number(o, "polls", 0);
	j->ok = (uint64_t)jsonc_number(o, "ok", 0);
	j->warn = (uint64_t)jsonc_number(o, "warn", 0);
	j->crit = (uint64_t)jsonc_number(o, "crit", 0);
	j->errors = (uint64_t)jsonc_number(o, "errors", 0);
	j->consecutive_crit = (unsigned)jsonc_number(o, "consecutive_crit", 0);
	j->consecutive_errors = (unsigned)jsonc_number(o,
	    "consecutive_errors", 0);
	j->longest_crit_run = (unsigned)jsonc_number(o, "longest_crit_run", 0);
	j->longest_error_run = (unsigned)jsonc_number(o, "longest_error_run",
	    0);
	j->last_value = jsonc_number(o, "last_value", 0);
	j->last_threshold = jsonc_number(o, "last_threshold", 0);
	text(j->last_error, sizeof(j->last_error), o, "last_error");
	if (cJSON_GetObjectItemCaseSensitive(o, "terminal") != NULL) {
		j->terminal = true;
		j->terminal_verdict = verdict_of(jsonc_string(o, "terminal",
		    ""));
		text(j->terminal_reason, sizeof(j->terminal_reason), o,
		    "terminal_reason");
	}
}

static cJSON *
cfg_save(const struct vcheck_cfg *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "rule", c->rule);
	cJSON_AddBoolToObject(o, "key", c->key);
	cJSON_AddBoolToObject(o, "advisory", c->advisory);
	cJSON_AddNumberToObject(o, "fail_after", c->lim.fail_after);
	cJSON_AddNumberToObject(o, "max_failures", (double)c->lim.max_failures);
	cJSON_AddNumberToObject(o, "max_consecutive_errors",
	    c->lim.max_consecutive_errors);
	cJSON_AddNumberToObject(o, "min_samples", c->lim.min_samples);
	cJSON_AddNumberToObject(o, "min_requests", c->min_requests);
	cJSON_AddBoolToObject(o, "relative", c->relative);
	cJSON_AddNumberToObject(o, "max_increase_pct", c->max_increase_pct);
	cJSON_AddNumberToObject(o, "confidence", c->confidence);
	cJSON_AddNumberToObject(o, "min_relative_samples",
	    c->min_relative_samples);
	cJSON_AddStringToObject(o, "op", rule_op_text(c->op));
	if (c->warn_set)
		cJSON_AddNumberToObject(o, "warn", c->warn);
	if (c->crit_set)
		cJSON_AddNumberToObject(o, "crit", c->crit);
	cJSON_AddStringToObject(o, "unit", c->unit);
	if (c->ratio) {
		cJSON_AddStringToObject(o, "numerator", c->numerator);
		cJSON_AddStringToObject(o, "denominator", c->denominator);
	} else {
		cJSON_AddStringToObject(o, "metric", c->metric);
	}
	cJSON_AddStringToObject(o, "aggregate", agg_name(c->agg));
	cJSON_AddNumberToObject(o, "window_ms", (double)c->window_ms);
	cJSON_AddNumberToObject(o, "scale", c->scale);
	return o;
}

static bool
cfg_load(struct vcheck_cfg *c, const char *name, const cJSON *o)
{
	static const enum rule_op ops[] = {
		RULE_GT, RULE_GE, RULE_LT, RULE_LE,
	};
	const char *op = jsonc_string(o, "op", "");

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	text(c->rule, sizeof(c->rule), o, "rule");
	c->key = c->lim.key = flag(o, "key");
	c->advisory = flag(o, "advisory");
	c->lim.fail_after = (unsigned)jsonc_number(o, "fail_after", 1);
	c->lim.max_failures = (long)jsonc_number(o, "max_failures", -1);
	c->lim.max_consecutive_errors = (unsigned)jsonc_number(o,
	    "max_consecutive_errors", 4);
	c->lim.min_samples = (unsigned)jsonc_number(o, "min_samples", 3);
	c->min_requests = jsonc_number(o, "min_requests", 0);
	c->relative = flag(o, "relative");
	c->max_increase_pct = jsonc_number(o, "max_increase_pct", 0);
	c->confidence = jsonc_number(o, "confidence", 0.98);
	c->min_relative_samples = (unsigned)jsonc_number(o,
	    "min_relative_samples", 50);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, rule_op_text(ops[i])) == 0)
			c->op = ops[i];
	c->warn_set = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o,
	    "warn"));
	c->warn = jsonc_number(o, "warn", 0);
	c->crit_set = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o,
	    "crit"));
	c->crit = jsonc_number(o, "crit", 0);
	text(c->unit, sizeof(c->unit), o, "unit");
	c->ratio = cJSON_GetObjectItemCaseSensitive(o, "denominator") != NULL;
	text(c->metric, sizeof(c->metric), o, "metric");
	text(c->numerator, sizeof(c->numerator), o, "numerator");
	text(c->denominator, sizeof(c->denominator), o, "denominator");
	if (agg_parse(jsonc_string(o, "aggregate", "last"), &c->agg) != 0)
		c->agg = AGG_LAST;
	c->window_ms = (int64_t)jsonc_number(o, "window_ms", 0);
	c->scale = jsonc_number(o, "scale", 1);
	return c->rule[0] != '\0';
}

static cJSON *
test_save(const struct vtest *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "outcome", vtest_outcome_name(t->outcome));
	cJSON_AddNumberToObject(o, "at", (double)t->at);
	if (!isnan(t->p))
		cJSON_AddNumberToObject(o, "p", t->p);
	cJSON_AddItemToObject(o, "counts", doubles((const double[]){
	    t->base_a, t->base_b, t->a, t->b }, 4));
	cJSON_AddStringToObject(o, "reason", t->reason);
	return o;
}

static void
test_load(struct vtest *t, const cJSON *o)
{
	static const enum vtest_outcome all[] = {
		VTEST_NONE, VTEST_SKIPPED, VTEST_PASS, VTEST_FAIL,
	};
	const char *name = jsonc_string(o, "outcome", "");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "counts");
	double *v[] = { &t->base_a, &t->base_b, &t->a, &t->b };

	memset(t, 0, sizeof(*t));
	t->p = jsonc_number(o, "p", NAN);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, vtest_outcome_name(all[i])) == 0)
			t->outcome = all[i];
	t->at = (int64_t)jsonc_number(o, "at", 0);
	for (int i = 0; i < 4 && cJSON_GetArraySize(n) == 4; i++)
		*v[i] = cJSON_GetArrayItem(n, i)->valuedouble;
	text(t->reason, sizeof(t->reason), o, "reason");
}

/* A ratio's counts: [num, den, last_num, last_den], and have_last. */
static void
count_save(cJSON *o, const struct vcount *k)
{
	const double n[] = { k->num, k->den, k->last_num, k->last_den };

	cJSON_AddItemToObject(o, "counted", doubles(n, 4));
	cJSON_AddBoolToObject(o, "have_last", k->have_last);
}

static void
count_load(struct vcount *k, const cJSON *o)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "counted");
	double *v[] = { &k->num, &k->den, &k->last_num, &k->last_den };

	for (int i = 0; i < 4 && cJSON_GetArraySize(n) == 4; i++)
		*v[i] = cJSON_GetArrayItem(n, i)->valuedouble;
	k->have_last = flag(o, "have_last");
}

static cJSON *
side_save(const struct vside *s)
{
	cJSON *o = cJSON_CreateObject();

	count_save(o, &s->cnt);
	cJSON_AddItemToObject(o, "samples", doubles(s->v, s->n));
	return o;
}

static void
side_load(struct vside *s, const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return;
	count_load(&s->cnt, o);
	s->v = load_doubles(cJSON_GetObjectItemCaseSensitive(o, "samples"),
	    &s->n);
	s->a = s->n;
}

static cJSON *
check_save(const struct vcheck *c, const struct dlink *l)
{
	cJSON *o = cJSON_CreateObject();
	const double counts[] = {
		c->base_value, c->base_num, c->base_den, c->st_num0,
		c->st_den0, c->iv_den0, (double)c->iv_judged, c->value,
		(double)c->at,
	};
	const double m[] = {
		(double)l->m.samples, l->m.num, l->m.den, (double)l->m.from,
		l->m.clipped,
	};

	cJSON_AddItemToObject(o, "cfg", cfg_save(&c->cfg));
	cJSON_AddItemToObject(o, "window", judge_save(&c->j));
	cJSON_AddItemToObject(o, "stage", judge_save(&c->stage));
	cJSON_AddBoolToObject(o, "has_base", c->has_base);
	count_save(o, &c->cnt);
	cJSON_AddBoolToObject(o, "known", c->known);
	cJSON_AddBoolToObject(o, "nodata", c->nodata);
	cJSON_AddStringToObject(o, "nodata_why", c->nodata_why);
	cJSON_AddItemToObject(o, "counts", doubles(counts,
	    sizeof(counts) / sizeof(counts[0])));
	cJSON_AddItemToObject(o, "measure", doubles(m, sizeof(m) /
	    sizeof(m[0])));
	cJSON_AddStringToObject(o, "why", l->why);
	cJSON_AddItemToObject(o, "relative", test_save(&c->rel));
	cJSON_AddItemToObject(o, "base", doubles(c->base, c->nbase));
	cJSON_AddItemToObject(o, "after", doubles(c->after, c->nafter));
	cJSON_AddItemToObject(o, "canary", side_save(&c->side[VSIDE_CANARY]));
	cJSON_AddItemToObject(o, "stable", side_save(&c->side[VSIDE_STABLE]));
	return o;
}

static void
check_load(struct vcheck *c, struct dlink *l, const cJSON *o)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "counts");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "measure");
	double *cv[] = {
		&c->base_value, &c->base_num, &c->base_den, &c->st_num0,
		&c->st_den0, &c->iv_den0,
	};
	size_t k = 0;

	judge_load(&c->j, &c->cfg.lim, cJSON_GetObjectItemCaseSensitive(o,
	    "window"));
	judge_load(&c->stage, &c->cfg.lim, cJSON_GetObjectItemCaseSensitive(o,
	    "stage"));
	c->has_base = flag(o, "has_base");
	count_load(&c->cnt, o);
	c->known = flag(o, "known");
	c->nodata = flag(o, "nodata");
	text(c->nodata_why, sizeof(c->nodata_why), o, "nodata_why");
	if (cJSON_GetArraySize(n) == 9) {
		for (k = 0; k < sizeof(cv) / sizeof(cv[0]); k++)
			*cv[k] = cJSON_GetArrayItem(n, (int)k)->valuedouble;
		c->iv_judged = (uint64_t)cJSON_GetArrayItem(n, 6)->valuedouble;
		c->value = cJSON_GetArrayItem(n, 7)->valuedouble;
		c->at = (int64_t)cJSON_GetArrayItem(n, 8)->valuedouble;
	}
	if (cJSON_GetArraySize(m) == 5) {
		l->m.samples = (size_t)cJSON_GetArrayItem(m, 0)->valuedouble;
		l->m.num = cJSON_GetArrayItem(m, 1)->valuedouble;
		l->m.den = cJSON_GetArrayItem(m, 2)->valuedouble;
		l->m.from = (int64_t)cJSON_GetArrayItem(m, 3)->valuedouble;
		l->m.clipped = cJSON_GetArrayItem(m, 4)->valuedouble != 0;
		l->m.value = c->value;
	}
	text(l->why, sizeof(l->why), o, "why");
	test_load(&c->rel, cJSON_GetObjectItemCaseSensitive(o, "relative"));
	c->base = load_doubles(cJSON_GetObjectItemCaseSensitive(o, "base"),
	    &c->nbase);
	c->after = load_doubles(cJSON_GetObjectItemCaseSensitive(o, "after"),
	    &c->nafter);
	c->aafter = c->nafter;
	side_load(&c->side[VSIDE_CANARY], cJSON_GetObjectItemCaseSensitive(o,
	    "canary"));
	side_load(&c->side[VSIDE_STABLE], cJSON_GetObjectItemCaseSensitive(o,
	    "stable"));
}

/*
 * A check as the state files before the config copy saved it: 22
 * numbers, then 6 of the latest measurement. Its settings are the live
 * config's.
 */
static void
check_load_old(struct vcheck *c, struct dlink *l, const cJSON *x)
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
	c->cnt.num = v[15];
	c->cnt.den = v[16];
	c->cnt.last_num = v[17];
	c->cnt.last_den = v[18];
	c->cnt.have_last = v[19] != 0;
	c->known = v[20] != 0;
	c->value = l->m.value = v[21];
	s = cJSON_GetObjectItemCaseSensitive(x, "m");
	if (cJSON_GetArraySize(s) == 6) {
		l->m.samples = (size_t)cJSON_GetArrayItem(s, 0)->valuedouble;
		l->m.num = cJSON_GetArrayItem(s, 1)->valuedouble;
		l->m.den = cJSON_GetArrayItem(s, 2)->valuedouble;
		l->m.from = (int64_t)cJSON_GetArrayItem(s, 3)->valuedouble;
		l->m.clipped = cJSON_GetArrayItem(s, 4)->valuedouble != 0;
		c->at = (int64_t)cJSON_GetArrayItem(s, 5)->valuedouble;
	}
	text(j->terminal_reason, sizeof(j->terminal_reason), x,
	    "terminal_reason");
	text(j->last_error, sizeof(j->last_error), x, "last_error");
	c->base = load_doubles(cJSON_GetObjectItemCaseSensitive(x, "base"),
	    &c->nbase);
	c->after = load_doubles(cJSON_GetObjectItemCaseSensitive(x, "after"),
	    &c->nafter);
	c->aafter = c->nafter;
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
tally_load(struct tally *k, const cJSON *o)
{
	text(k->metric, sizeof(k->metric), o, "metric");
	k->total = jsonc_number(o, "total", 0);
	k->last = jsonc_number(o, "last", 0);
	k->have_last = flag(o, "have_last");
}

static cJSON *
br_save(const struct vdeploy *vd, const char *probe)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "probe", probe);
	cJSON_AddNumberToObject(o, "max_increase_pct", vd->br.max_increase_pct);
	cJSON_AddNumberToObject(o, "confidence", vd->br.confidence);
	cJSON_AddNumberToObject(o, "min_errors", vd->br.min_errors);
	cJSON_AddBoolToObject(o, "advisory", vd->br.advisory);
	return o;
}

cJSON *
deploy_save_one(const struct deploy *dp)
{
	const struct vdeploy *vd = &dp->vd;
	cJSON *e = cJSON_CreateObject(), *cs, *sg;

	cJSON_AddNumberToObject(e, "id", (double)dp->id);
	cJSON_AddStringToObject(e, "version", vd->version);
	cJSON_AddNumberToObject(e, "begun", (double)vd->begun);
	cJSON_AddNumberToObject(e, "judge_from", (double)vd->judge_from);
	cJSON_AddNumberToObject(e, "ended", (double)vd->ended);
	cJSON_AddNumberToObject(e, "baseline_from", (double)dp->baseline_from);
	cJSON_AddNumberToObject(e, "interval_ms", (double)vd->interval_ms);
	cJSON_AddNumberToObject(e, "next_close", (double)vd->next_close);
	cJSON_AddNumberToObject(e, "intervals", (double)vd->intervals);
	cJSON_AddBoolToObject(e, "announced", dp->announced);
	/* Only when given: a file without it reads back the same. */
	if (dp->announce[0] != '\0')
		cJSON_AddStringToObject(e, "announce", dp->announce);
	if (dp->nplanned > 0)
		cJSON_AddItemToObject(e, "planned", cJSON_CreateIntArray(
		    dp->planned, (int)dp->nplanned));
	cJSON_AddItemToObject(e, "hits", tally_save(&dp->hits));
	cJSON_AddItemToObject(e, "misses", tally_save(&dp->misses));
	cJSON_AddItemToObject(e, "split", split_save(&vd->split));
	if (vd->br.on)
		cJSON_AddItemToObject(e, "by_release", br_save(vd,
		    dp->br_probe));
	if (vd->compare) {
		cJSON *c = cJSON_AddObjectToObject(e, "compare");

		cJSON_AddStringToObject(c, "canary", vd->canary);
		cJSON_AddStringToObject(c, "baseline", vd->stable);
	}
	sg = cJSON_AddArrayToObject(e, "stages");
	for (size_t i = 0; i < vd->nstages; i++) {
		const struct vstage *g = &vd->stages[i];
		cJSON *s = cJSON_CreateArray(), *b;

		cJSON_AddItemToArray(s, cJSON_CreateNumber((double)g->t));
		cJSON_AddItemToArray(s, cJSON_CreateNumber(g->weight));
		if (g->br_run) {
			b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "outcome",
			    split_outcome_name(g->br.outcome));
			cJSON_AddNumberToObject(b, "own", g->br.own);
			cJSON_AddNumberToObject(b, "all", g->br.all);
			if (!isnan(g->br.p))
				cJSON_AddNumberToObject(b, "p", g->br.p);
			cJSON_AddStringToObject(b, "reason", g->br.reason);
			cJSON_AddItemToArray(s, b);
		}
		cJSON_AddItemToArray(sg, s);
	}
	cs = cJSON_AddObjectToObject(e, "checks");
	for (size_t i = 0; i < vd->nchecks; i++)
		cJSON_AddItemToObject(cs, vd->checks[i].cfg.name,
		    check_save(&vd->checks[i], &dp->links[i]));
	return e;
}

/* A deploy of a state file whose checks carry no config copy. */
static struct deploy *
restore_old(const cJSON *e, const struct config *cfg, int64_t begun,
    int64_t judge_from, int64_t interval)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(e, "checks");
	struct deploy *dp;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < cfg->release.nchecks; i++)
		n += cfg->release.checks[i].name != NULL;
	dp = deploy_new(n, begun, judge_from, interval);
	if (dp == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->release.nchecks; i++) {
		const struct release_check_cfg *rc = &cfg->release.checks[i];
		struct vcheck *c;

		if (rc->name == NULL)
			continue;
		c = &dp->vd.checks[k];
		deploy_snapshot(&c->cfg, rc, &cfg->rules[rc->rule]);
		judge_init(&c->j, &c->cfg.lim);
		judge_init(&c->stage, &c->cfg.lim);
		dp->links[k].rule = rc->rule;
		check_load_old(c, &dp->links[k],
		    cJSON_GetObjectItemCaseSensitive(cs, rc->name));
		k++;
	}
	return dp;
}

static struct deploy *
restore_new(const cJSON *e, int64_t begun, int64_t judge_from,
    int64_t interval)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(e, "checks"), *x;
	struct deploy *dp = deploy_new((size_t)cJSON_GetArraySize(cs), begun,
	    judge_from, interval);
	size_t k = 0;

	if (dp == NULL)
		return NULL;
	cJSON_ArrayForEach(x, cs) {
		struct vcheck *c = &dp->vd.checks[k];

		if (x->string == NULL || !cfg_load(&c->cfg, x->string,
		    cJSON_GetObjectItemCaseSensitive(x, "cfg")))
			continue;
		check_load(c, &dp->links[k], x);
		k++;
	}
	dp->vd.nchecks = k;
	return dp;
}

static void
stages_load(struct vdeploy *vd, const cJSON *sg)
{
	static const enum split_outcome all[] = {
		SPLIT_UNTESTED, SPLIT_SKIPPED, SPLIT_PASS, SPLIT_FAIL,
	};
	const cJSON *s;

	cJSON_ArrayForEach(s, sg) {
		struct vstage *g;
		const cJSON *b = cJSON_GetArrayItem(s, 2);
		const char *o;

		if (vd->nstages == VERDICT_STAGES || cJSON_GetArraySize(s) < 2)
			continue;
		g = &vd->stages[vd->nstages++];
		g->t = (int64_t)cJSON_GetArrayItem(s, 0)->valuedouble;
		g->weight = cJSON_GetArrayItem(s, 1)->valueint;
		g->br.p = NAN;
		if (!cJSON_IsObject(b))
			continue;
		g->br_run = true;
		o = jsonc_string(b, "outcome", "");
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (strcmp(o, split_outcome_name(all[i])) == 0)
				g->br.outcome = all[i];
		g->br.own = jsonc_number(b, "own", 0);
		g->br.all = jsonc_number(b, "all", 0);
		g->br.p = jsonc_number(b, "p", NAN);
		text(g->br.reason, sizeof(g->br.reason), b, "reason");
	}
}

struct deploy *
deploy_restore_one(const cJSON *e, const struct config *cfg)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(e, "checks");
	const cJSON *first = cs != NULL ? cs->child : NULL;
	const cJSON *br = cJSON_GetObjectItemCaseSensitive(e, "by_release");
	int64_t begun = (int64_t)jsonc_number(e, "begun", 0);
	int64_t judge_from = (int64_t)jsonc_number(e, "judge_from", 0);
	int64_t interval = (int64_t)jsonc_number(e, "interval_ms", 60000);
	struct deploy *dp;
	struct vdeploy *vd;
	bool old;

	if (!cJSON_IsObject(e) || begun <= 0)
		return NULL;
	old = first != NULL && cJSON_GetObjectItemCaseSensitive(first, "cfg")
	    == NULL;
	dp = old ? restore_old(e, cfg, begun, judge_from, interval) :
	    restore_new(e, begun, judge_from, interval);
	if (dp == NULL)
		return NULL;
	vd = &dp->vd;
	dp->id = (uint64_t)jsonc_number(e, "id", 0);
	text(vd->version, sizeof(vd->version), e, "version");
	vd->ended = (int64_t)jsonc_number(e, "ended", 0);
	dp->baseline_from = (int64_t)jsonc_number(e, "baseline_from", 0);
	vd->next_close = (int64_t)jsonc_number(e, "next_close",
	    (double)vd->next_close);
	vd->intervals = (uint64_t)jsonc_number(e, "intervals", 0);
	dp->announced = flag(e, "announced");
	text(dp->announce, sizeof(dp->announce), e, "announce");
	{
		const cJSON *w;

		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(e,
		    "planned"))
			if (cJSON_IsNumber(w) &&
			    dp->nplanned < DEPLOY_PLANNED_MAX)
				dp->planned[dp->nplanned++] = w->valueint;
	}
	tally_load(&dp->hits, cJSON_GetObjectItemCaseSensitive(e, "hits"));
	tally_load(&dp->misses, cJSON_GetObjectItemCaseSensitive(e, "misses"));
	split_restore(&vd->split, cJSON_GetObjectItemCaseSensitive(e,
	    "split"));
	if (cJSON_IsObject(br)) {
		vd->br.on = true;
		text(dp->br_probe, sizeof(dp->br_probe), br, "probe");
		vd->br.max_increase_pct = jsonc_number(br, "max_increase_pct",
		    0);
		vd->br.confidence = jsonc_number(br, "confidence", 0.98);
		vd->br.min_errors = (unsigned)jsonc_number(br, "min_errors", 0);
		vd->br.advisory = flag(br, "advisory");
	} else if (old && cfg->release.by_release.on) {
		vd->br = cfg->release.by_release;
		snprintf(dp->br_probe, sizeof(dp->br_probe), "%s",
		    cfg->probes[cfg->release.by_release.probe].name);
	}
	stages_load(vd, cJSON_GetObjectItemCaseSensitive(e, "stages"));
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "compare"))) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "compare");

		vd->compare = true;
		text(vd->canary, sizeof(vd->canary), c, "canary");
		text(vd->stable, sizeof(vd->stable), c, "baseline");
	}
	if (old && vd->ended == 0) {
		/* Its intervals were never checked: judge on from the next. */
		int64_t now = clock_wall_ms();

		if (vd->next_close <= now)
			vd->next_close += ((now - vd->next_close) /
			    vd->interval_ms + 1) * vd->interval_ms;
	}
	return dp;
}
