/*
 * The "release" section: which rules the release gate judges during a
 * deploy window, and how strictly, and which counters (cache hits and
 * misses) the report's traffic sums. Without the section every rule is a
 * check, and a probe's implicit down rule is a key check (a dead health
 * endpoint fails a release on the first poll).
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WARMUP_MS	(5 * 60 * 1000)
#define DEFAULT_BASELINE_MS	(30 * 60 * 1000)
#define DEFAULT_INTERVAL_MS	(60 * 1000)

static void
check_defaults(struct release_check_cfg *c, const struct rule_cfg *rc)
{
	c->key = rc->implicit;
	c->fail_after = c->key ? 1 : 2;
	c->max_failures = -1;
	c->max_consecutive_errors = 4;
	c->min_samples = 3;
	c->confidence = 0.98;
	c->min_relative_samples = 50;
}

static void
parse_relative(struct cfgread *v, const cJSON *o, struct release_check_cfg *c)
{
	static const char *const keys[] = {
		"max_increase_pct", "confidence", "min_samples", NULL,
	};
	const cJSON *r = cfg_object(v, o, "relative");
	double x;

	if (r == NULL)
		return;
	cfg_check_keys(v, r, keys, "\"relative\"");
	c->relative = true;
	cfg_number(v, r, "max_increase_pct", 0, 1000, false,
	    &c->max_increase_pct);
	cfg_number(v, r, "confidence", 0.5, 0.9999, false, &c->confidence);
	if (cfg_number(v, r, "min_samples", 10, 100000, true, &x) == 1)
		c->min_relative_samples = (unsigned)x;
}

static void
parse_check(struct cfgread *v, const cJSON *o, struct release_check_cfg *c,
    const struct config *cfg)
{
	static const char *const keys[] = {
		"rule", "name", "key", "advisory", "fail_after", "max_failures",
		"max_consecutive_errors", "min_samples", "min_requests",
		"relative", NULL,
	};
	const struct rule_cfg *rc = NULL;
	const char *s;
	double x;

	if (!cJSON_IsObject(o)) {
		cfg_err(v, o, "a release check must be an object, not %s",
		    jsonc_type_name(o));
		return;
	}
	cfg_check_keys(v, o, keys, "a release check");
	if (cfg_string(v, o, "rule", &s) == 1) {
		rc = config_rule(cfg, s);
		if (rc == NULL)
			cfg_err(v, cfg_member(o, "rule"), "no rule named "
			    "\"%s\"", s);
	} else if (cfg_member(o, "rule") == NULL) {
		cfg_err(v, o, "a release check needs a \"rule\"");
	}
	if (rc == NULL)
		return;
	c->rule = (size_t)(rc - cfg->rules);
	check_defaults(c, rc);
	c->name = cfg_strdup(v, o, cfg_string(v, o, "name", &s) == 1 ? s :
	    rc->name);
	cfg_bool(v, o, "key", &c->key);
	cfg_bool(v, o, "advisory", &c->advisory);
	if (cfg_number(v, o, "fail_after", 1, 1000, true, &x) == 1)
		c->fail_after = (unsigned)x;
	if (cfg_number(v, o, "max_failures", 0, 100000, true, &x) == 1)
		c->max_failures = (long)x;
	if (cfg_number(v, o, "max_consecutive_errors", 1, 1000, true, &x) == 1)
		c->max_consecutive_errors = (unsigned)x;
	if (cfg_number(v, o, "min_samples", 0, 100000, true, &x) == 1)
		c->min_samples = (unsigned)x;
	if (cfg_number(v, o, "min_requests", 0, 1e12, false,
	    &c->min_requests) == 1 && rc->denominator == NULL)
		cfg_err(v, cfg_member(o, "min_requests"), "\"min_requests\" "
		    "is for ratio rules (errors / requests)");
	parse_relative(v, o, c);
}

/* A traffic counter of the report: "<probe>.<metric>". */
static void
parse_counter(struct cfgread *v, const cJSON *o, const char *key,
    const struct config *cfg, char **metric, size_t *probe)
{
	const char *s;
	long p;

	if (cfg_string(v, o, key, &s) != 1)
		return;
	if ((p = cfg_resolve_metric(v, cfg_member(o, key), s, cfg)) < 0)
		return;
	*metric = cfg_strdup(v, o, s);
	*probe = (size_t)p;
}

/*
 * "by_release": {"probe": "sentry", ...}: the sentry probe named counts
 * the deploy's error events apart from the rest (Discover, org:read).
 */
static void
parse_by_release(struct cfgread *v, const cJSON *o, struct config *cfg)
{
	static const char *const keys[] = {
		"probe", "max_increase_pct", "confidence", "min_errors",
		"advisory", NULL,
	};
	const cJSON *b = cfg_object(v, o, "by_release");
	const struct probe_cfg *pc;
	const char *s;
	double x;

	if (b == NULL)
		return;
	cfg_check_keys(v, b, keys, "\"by_release\"");
	cfg->release.by_release.max_increase_pct = 10;
	cfg->release.by_release.confidence = 0.98;
	cfg->release.by_release.min_errors = 20;
	cfg_number(v, b, "max_increase_pct", 0, 1000, false,
	    &cfg->release.by_release.max_increase_pct);
	cfg_number(v, b, "confidence", 0.5, 0.9999, false,
	    &cfg->release.by_release.confidence);
	if (cfg_number(v, b, "min_errors", 1, 1000000, true, &x) == 1)
		cfg->release.by_release.min_errors = (unsigned)x;
	cfg_bool(v, b, "advisory", &cfg->release.by_release.advisory);
	if (cfg_string(v, b, "probe", &s) != 1) {
		if (cfg_member(b, "probe") == NULL)
			cfg_err(v, b, "\"by_release\" needs the \"probe\" "
			    "(a sentry probe) that counts errors by release");
		return;
	}
	pc = config_probe(cfg, s);
	if (pc == NULL || pc->type != PROBE_SENTRY) {
		cfg_err(v, cfg_member(b, "probe"), pc == NULL ? "no probe "
		    "named \"%s\"" : "\"%s\" is not a sentry probe: only "
		    "Sentry counts errors by release", s);
		return;
	}
	cfg->release.by_release.on = true;
	cfg->release.by_release.probe = (size_t)(pc - cfg->probes);
	cfg->probes[pc - cfg->probes].sentry.release_errors = true;
}

/* A probe named by "compare": index, or -1 (reported). */
static long
compare_probe(struct cfgread *v, const cJSON *o, const char *key,
    const struct config *cfg)
{
	const char *s;

	if (cfg_string(v, o, key, &s) != 1) {
		if (cfg_member(o, key) == NULL)
			cfg_err(v, o, "\"compare\" needs \"%s\": a probe", key);
		return -1;
	}
	for (size_t i = 0; i < cfg->nprobes; i++)
		if (cfg->probes[i].name != NULL &&
		    strcmp(cfg->probes[i].name, s) == 0)
			return (long)i;
	cfg_err(v, cfg_member(o, key), "no probe named \"%s\"", s);
	return -1;
}

/*
 * "compare": {"canary": probe, "baseline": probe}. Every relative check's
 * metrics must be read by both probes under the same names: the check's
 * "app.p95_ms" is compared as "<canary>.p95_ms" against
 * "<baseline>.p95_ms".
 */
static void
parse_compare(struct cfgread *v, const cJSON *o, struct config *cfg)
{
	static const char *const keys[] = { "canary", "baseline", NULL };
	const cJSON *c = cfg_object(v, o, "compare");
	struct release_cfg *r = &cfg->release;
	long cp, sp;

	if (c == NULL)
		return;
	cfg_check_keys(v, c, keys, "\"compare\"");
	cp = compare_probe(v, c, "canary", cfg);
	sp = compare_probe(v, c, "baseline", cfg);
	if (cp < 0 || sp < 0)
		return;
	if (cp == sp) {
		cfg_err(v, c, "\"compare\" needs two different probes");
		return;
	}
	r->compare = true;
	r->canary_probe = (size_t)cp;
	r->stable_probe = (size_t)sp;
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct release_check_cfg *k = &r->checks[i];
		const struct rule_cfg *rc;
		const char *m[2];

		if (k->name == NULL || !k->relative)
			continue;
		rc = &cfg->rules[k->rule];
		m[0] = rc->metric != NULL ? rc->metric : rc->numerator;
		m[1] = rc->metric != NULL ? NULL : rc->denominator;
		for (int j = 0; j < 2 && m[j] != NULL; j++) {
			const char *dot = strchr(m[j], '.');
			char name[300];

			if (dot == NULL)
				continue;
			snprintf(name, sizeof(name), "%s%s",
			    cfg->probes[cp].name, dot);
			(void)cfg_resolve_metric(v, cfg_member(c, "canary"),
			    name, cfg);
			snprintf(name, sizeof(name), "%s%s",
			    cfg->probes[sp].name, dot);
			(void)cfg_resolve_metric(v, cfg_member(c, "baseline"),
			    name, cfg);
		}
	}
}

void
cfg_parse_release(struct cfgread *v, const cJSON *o, struct config *cfg)
{
	static const char *const keys[] = {
		"warmup", "baseline", "interval", "checks", "cache_hits",
		"cache_misses", "by_release", "compare", NULL,
	};
	struct release_cfg *r = &cfg->release;
	const cJSON *arr, *e;

	r->warmup_ms = DEFAULT_WARMUP_MS;
	r->baseline_ms = DEFAULT_BASELINE_MS;
	r->interval_ms = DEFAULT_INTERVAL_MS;
	if (o != NULL && !cJSON_IsObject(o)) {
		cfg_err(v, o, "\"release\" must be an object");
		return;
	}
	if (o != NULL) {
		cfg_check_keys(v, o, keys, "\"release\"");
		cfg_duration(v, o, "warmup", 0, 86400000, &r->warmup_ms);
		cfg_duration(v, o, "baseline", 10000, 7LL * 86400000,
		    &r->baseline_ms);
		cfg_duration(v, o, "interval", 1000, 86400000, &r->interval_ms);
		parse_counter(v, o, "cache_hits", cfg, &r->cache_hits,
		    &r->cache_hits_probe);
		parse_counter(v, o, "cache_misses", cfg, &r->cache_misses,
		    &r->cache_misses_probe);
		if (cfg_member(o, "cache_misses") != NULL &&
		    cfg_member(o, "cache_hits") == NULL)
			cfg_err(v, cfg_member(o, "cache_misses"), "\"cache_"
			    "misses\" gives the hit rate of \"cache_hits\": "
			    "set that too");
		parse_by_release(v, o, cfg);
	}
	arr = o != NULL ? cfg_member(o, "checks") : NULL;
	if (arr != NULL && !cJSON_IsArray(arr)) {
		cfg_err(v, arr, "\"checks\" must be an array");
		return;
	}
	r->checks = calloc((arr != NULL ? (size_t)cJSON_GetArraySize(arr) :
	    cfg->nrules) + 1, sizeof(*r->checks));
	if (r->checks == NULL) {
		cfg_err(v, o, "out of memory");
		return;
	}
	if (arr == NULL) {
		for (size_t i = 0; i < cfg->nrules; i++) {
			struct release_check_cfg *c = &r->checks[r->nchecks++];

			if (cfg->rules[i].name == NULL)
				continue;
			c->rule = i;
			check_defaults(c, &cfg->rules[i]);
			c->name = strdup(cfg->rules[i].name);
		}
		parse_compare(v, o, cfg);
		return;
	}
	cJSON_ArrayForEach(e, arr) {
		struct release_check_cfg *c = &r->checks[r->nchecks++];

		parse_check(v, e, c, cfg);
		for (size_t j = 0; c->name != NULL && j + 1 < r->nchecks; j++)
			if (r->checks[j].name != NULL &&
			    strcmp(r->checks[j].name, c->name) == 0)
				cfg_err(v, e, "duplicate release check \"%s\"",
				    c->name);
	}
	parse_compare(v, o, cfg);
}

void
cfg_clear_release(struct config *cfg)
{
	for (size_t i = 0; i < cfg->release.nchecks; i++)
		free(cfg->release.checks[i].name);
	free(cfg->release.checks);
	free(cfg->release.cache_hits);
	free(cfg->release.cache_misses);
	memset(&cfg->release, 0, sizeof(cfg->release));
}
