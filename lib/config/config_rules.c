/*
 * The "rules" section: thresholds over windows of metrics. After the
 * explicit rules, every probe gets an implicit "<probe>_down" rule over its
 * debounced down state, so a probe that goes down pages even without a
 * rule of its own (unless its down_severity is "none").
 */
#include "config/cfgread_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_pg.h"
#include "config/config_sentry.h"
#include "base/duration.h"

#define DEFAULT_FLAP_WINDOW_MS	(10 * 60 * 1000)
#define DEFAULT_FLAP_FLIPS	6
#define DEFAULT_RESOLVED_MS	(5 * 60 * 1000)
#define MAX_WINDOW_MS		(7LL * 86400 * 1000)

static const char *const rule_keys[] = {
	"name", "metric", "ratio", "aggregate", "window", "op", "warn",
	"crit", "clear_warn", "clear_crit", "for", "keep_firing_for",
	"stale_after", "depends_on", "labels", "unit", "summary", "baseline",
	"flap", NULL,
};

static int
parse_op(const char *s, enum rule_op *op)
{
	static const struct { const char *s; enum rule_op op; } ops[] = {
		{ ">", RULE_GT }, { ">=", RULE_GE }, { "<", RULE_LT },
		{ "<=", RULE_LE },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(s, ops[i].s) == 0) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -1;
}

static bool
op_upward(enum rule_op op)
{
	return op == RULE_GT || op == RULE_GE;
}

long
cfg_metric_probe(const char *name, const struct config *cfg, char *why,
    size_t len)
{
	const char *dot = strchr(name, '.');
	char probe[CFG_MAX_NAME + 1];
	size_t plen;

	if (dot == NULL || dot == name || dot[1] == '\0') {
		snprintf(why, len, "metric \"%s\" must be \"<probe>.<metric>\", "
		    "e.g. \"app_advanced.p95_ms\"", name);
		return -1;
	}
	if (strncmp(name, DERIVED_PREFIX, strlen(DERIVED_PREFIX)) == 0) {
		const struct derived_cfg *d = config_derived(cfg, name);

		/* A derived metric's facts (staleness, failures) are its home
		 * probe's. */
		if (d == NULL) {
			snprintf(why, len, "no derived metric named \"%s\" "
			    "(under the top-level \"derived\")", dot + 1);
			return -1;
		}
		return (long)d->home;
	}
	plen = (size_t)(dot - name);
	if (plen > CFG_MAX_NAME) {
		snprintf(why, len, "no probe named \"%.*s\"", (int)plen, name);
		return -1;
	}
	memcpy(probe, name, plen);
	probe[plen] = '\0';
	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct probe_cfg *pc = &cfg->probes[i];

		if (pc->name == NULL || strcmp(pc->name, probe) != 0)
			continue;
		if (pc->type == PROBE_POSTGRES &&
		    !cfg_pg_has_metric(pc, dot + 1)) {
			snprintf(why, len, "probe \"%s\" has no metric \"%s\" "
			    "(vigil.json(5), PROBES, postgres, lists them)",
			    probe, dot + 1);
			return -1;
		}
		if (pc->type == PROBE_SENTRY &&
		    !cfg_sentry_has_metric(pc, dot + 1)) {
			snprintf(why, len, "probe \"%s\" has no metric \"%s\" "
			    "(vigil.json(5), PROBES, sentry, lists them; "
			    "some need \"outcomes\" or \"issues\")", probe,
			    dot + 1);
			return -1;
		}
		if (pc->type == PROBE_DNS &&
		    !cfg_dns_has_metric(pc, dot + 1)) {
			snprintf(why, len, "probe \"%s\" has no metric \"%s\" "
			    "(a dns probe records up, duration_ms, resolve_ms "
			    "and answers)", probe, dot + 1);
			return -1;
		}
		if (pc->type == PROBE_HEARTBEAT &&
		    !cfg_heartbeat_has_metric(pc, dot + 1)) {
			snprintf(why, len, "probe \"%s\" has no metric \"%s\" "
			    "(a heartbeat probe records up, duration_ms, "
			    "last_beat_age_s, job_duration_s)", probe, dot + 1);
			return -1;
		}
		if (pc->type == PROBE_HTTP &&
		    !cfg_http_has_metric(pc, dot + 1)) {
			snprintf(why, len, "probe \"%s\" has no metric \"%s\" "
			    "(an http probe records up, duration_ms, dns_ms, "
			    "connect_ms, tls_ms, ttfb_ms, http_status, "
			    "body_bytes, cert_expiry_days, down, and the "
			    "names under its \"metrics\")", probe, dot + 1);
			return -1;
		}
		if ((pc->type == PROBE_TCP || pc->type == PROBE_TLS) &&
		    !cfg_net_has_metric(pc, dot + 1)) {
			snprintf(why, len, "probe \"%s\" has no metric \"%s\" "
			    "(vigil.json(5), PROBES, %s, lists them)", probe,
			    dot + 1, probe_type_name(pc->type));
			return -1;
		}
		return (long)i;
	}
	snprintf(why, len, "no probe named \"%s\"", probe);
	return -1;
}

long
cfg_resolve_metric(struct cfgread *v, const cJSON *node, const char *name,
    const struct config *cfg)
{
	char why[sizeof(((struct config_error *)0)->msg)];
	long p = cfg_metric_probe(name, cfg, why, sizeof(why));

	if (p < 0)
		cfg_err(v, node, "%s", why);
	return p;
}

static void
parse_level(struct cfgread *v, const cJSON *r, const char *key,
    const char *clear_key, struct rule_level *l)
{
	double x;

	if (cfg_number(v, r, key, -1e300, 1e300, false, &x) == 1) {
		l->set = true;
		l->threshold = x;
	}
	if (cfg_number(v, r, clear_key, -1e300, 1e300, false, &x) == 1) {
		if (!l->set)
			cfg_err(v, cfg_member(r, clear_key), "\"%s\" needs "
			    "\"%s\"", clear_key, key);
		l->has_clear = true;
		l->clear = x;
	}
}

static void
parse_baseline(struct cfgread *v, const cJSON *r, struct rule_cfg *rc)
{
	static const char *const keys[] = { "warn", "crit", "value", NULL };
	const cJSON *b = cfg_object(v, r, "baseline");
	double x;

	if (b == NULL)
		return;
	cfg_check_keys(v, b, keys, "\"baseline\"");
	if (cfg_number(v, b, "warn", 0.01, 1000, false, &x) == 1)
		rc->def.warn.base_factor = x;
	if (cfg_number(v, b, "crit", 0.01, 1000, false, &x) == 1)
		rc->def.crit.base_factor = x;
	if (cfg_number(v, b, "value", -1e300, 1e300, false, &x) == 1) {
		rc->has_baseline = true;
		rc->baseline = x;
	}
	if (rc->def.warn.base_factor == 0 && rc->def.crit.base_factor == 0)
		cfg_err(v, b, "\"baseline\" needs a factor: \"warn\" and/or "
		    "\"crit\", e.g. {\"warn\": 1.2} for 20 %% above the "
		    "baseline");
}

static void
parse_ratio(struct cfgread *v, const cJSON *r, struct rule_cfg *rc,
    const struct config *cfg)
{
	static const char *const keys[] = {
		"numerator", "denominator", "scale", "min_denominator", NULL,
	};
	const cJSON *q = cfg_object(v, r, "ratio");
	const char *s;
	long p;

	if (q == NULL)
		return;
	cfg_check_keys(v, q, keys, "\"ratio\"");
	if (cfg_string(v, q, "numerator", &s) == 1) {
		rc->numerator = cfg_strdup(v, q, s);
		if ((p = cfg_resolve_metric(v, cfg_member(q, "numerator"), s,
		    cfg)) >= 0)
			rc->probe = (size_t)p;
	} else {
		cfg_err(v, q, "\"ratio\" needs \"numerator\"");
	}
	if (cfg_string(v, q, "denominator", &s) == 1) {
		rc->denominator = cfg_strdup(v, q, s);
		if ((p = cfg_resolve_metric(v, cfg_member(q, "denominator"), s,
		    cfg)) >= 0)
			rc->probe2 = (size_t)p;
	} else {
		cfg_err(v, q, "\"ratio\" needs \"denominator\"");
	}
	cfg_number(v, q, "scale", 1e-12, 1e12, false, &rc->scale);
	cfg_number(v, q, "min_denominator", 0, 1e300, false,
	    &rc->min_denominator);
}

static void
parse_labels(struct cfgread *v, const cJSON *r, struct rule_cfg *rc)
{
	const cJSON *l = cfg_object(v, r, "labels"), *e;

	if (l == NULL || cJSON_GetArraySize(l) == 0)
		return;
	rc->labels = calloc((size_t)cJSON_GetArraySize(l), sizeof(*rc->labels));
	if (rc->labels == NULL) {
		cfg_err(v, l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, l) {
		if (!cfg_valid_name(e->string)) {
			cfg_err_key(v, e, "label name \"%s\" must be lower "
			    "case letters, digits and _", e->string);
			continue;
		}
		if (!cJSON_IsString(e)) {
			cfg_err(v, e, "label \"%s\" must be a string",
			    e->string);
			continue;
		}
		rc->labels[rc->nlabels].key = cfg_strdup(v, e, e->string);
		rc->labels[rc->nlabels].value = cfg_strdup(v, e,
		    e->valuestring);
		rc->nlabels++;
	}
}

/* crit must be the more severe level, clear on the good side of each. */
static void
check_levels(struct cfgread *v, const cJSON *r, const struct rule_cfg *rc)
{
	const struct rule_def *d = &rc->def;
	bool up = op_upward(d->op);

	if (d->warn.set && d->crit.set &&
	    (up ? d->crit.threshold < d->warn.threshold :
	    d->crit.threshold > d->warn.threshold))
		cfg_err(v, cfg_member(r, "crit"), "\"crit\" %g is less severe "
		    "than \"warn\" %g for op \"%s\"", d->crit.threshold,
		    d->warn.threshold, rule_op_text(d->op));
	if (d->warn.has_clear && (up ? d->warn.clear > d->warn.threshold :
	    d->warn.clear < d->warn.threshold))
		cfg_err(v, cfg_member(r, "clear_warn"), "\"clear_warn\" must "
		    "be on the good side of \"warn\" (%s %g)",
		    up ? "<=" : ">=", d->warn.threshold);
	if (d->crit.has_clear && (up ? d->crit.clear > d->crit.threshold :
	    d->crit.clear < d->crit.threshold))
		cfg_err(v, cfg_member(r, "clear_crit"), "\"clear_crit\" must "
		    "be on the good side of \"crit\" (%s %g)",
		    up ? "<=" : ">=", d->crit.threshold);
}

static void
parse_flap(struct cfgread *v, const cJSON *r, struct rule_def *d)
{
	static const char *const keys[] = { "window", "flips", NULL };
	const cJSON *f = cfg_object(v, r, "flap");
	double x;

	d->flap_window_ms = DEFAULT_FLAP_WINDOW_MS;
	d->flap_max = DEFAULT_FLAP_FLIPS;
	if (f == NULL)
		return;
	cfg_check_keys(v, f, keys, "\"flap\"");
	cfg_duration(v, f, "window", 1000, 86400000, &d->flap_window_ms);
	if (cfg_number(v, f, "flips", 0, RULE_FLAP_SLOTS, true, &x) == 1)
		d->flap_max = (unsigned)x;
}

/*
 * Canonical text: the rule's JSON, and the expressions of the derived
 * metrics it reads (another expression is another metric, though the
 * rule's text is the same); equal canon, same rule on reload.
 */
static char *
rule_canon(struct cfgread *v, const cJSON *r, const struct config *cfg,
    const struct rule_cfg *rc)
{
	const char *names[] = { rc->metric, rc->numerator, rc->denominator };
	char *raw = cJSON_PrintUnformatted(r), *out;
	size_t len;

	if (raw == NULL) {
		cfg_err(v, r, "out of memory");
		return NULL;
	}
	len = strlen(raw) + 1;
	for (size_t k = 0; k < 3; k++) {
		const struct derived_cfg *d = names[k] != NULL ?
		    config_derived(cfg, names[k]) : NULL;

		if (d != NULL && d->text != NULL)
			len += strlen(d->text) + 1;
	}
	if ((out = malloc(len)) == NULL) {
		cJSON_free(raw);
		cfg_err(v, r, "out of memory");
		return NULL;
	}
	len = strlen(raw);
	memcpy(out, raw, len + 1);
	cJSON_free(raw);
	for (size_t k = 0; k < 3; k++) {
		const struct derived_cfg *d = names[k] != NULL ?
		    config_derived(cfg, names[k]) : NULL;

		if (d != NULL && d->text != NULL) {
			size_t n = strlen(d->text);

			out[len++] = '|';
			memcpy(out + len, d->text, n + 1);
			len += n;
		}
	}
	return out;
}

static void
parse_rule(struct cfgread *v, const cJSON *r, struct rule_cfg *rc,
    const struct config *cfg)
{
	const cJSON *m;
	const char *s;
	long p;

	rc->scale = 1;
	rc->def.resolved_ms = DEFAULT_RESOLVED_MS;
	if (!cJSON_IsObject(r)) {
		cfg_err(v, r, "a rule must be an object, not %s",
		    jsonc_type_name(r));
		return;
	}
	cfg_check_keys(v, r, rule_keys, "a rule");
	if (cfg_string(v, r, "name", &s) == 1) {
		if (!cfg_valid_name(s))
			cfg_err(v, cfg_member(r, "name"), "rule name \"%s\" "
			    "must be lower case letters, digits and _ "
			    "(starting with a letter, at most %d)", s,
			    CFG_MAX_NAME);
		rc->name = cfg_strdup(v, r, s);
	} else if (cfg_member(r, "name") == NULL) {
		cfg_err(v, r, "a rule needs a \"name\"");
	}
	m = cfg_member(r, "metric");
	if (m != NULL && cfg_member(r, "ratio") != NULL) {
		cfg_err(v, m, "a rule has either \"metric\" or \"ratio\", "
		    "not both");
	} else if (cfg_string(v, r, "metric", &s) == 1) {
		rc->metric = cfg_strdup(v, r, s);
		if ((p = cfg_resolve_metric(v, m, s, cfg)) >= 0)
			rc->probe = (size_t)p;
	} else if (cfg_member(r, "ratio") != NULL) {
		parse_ratio(v, r, rc, cfg);
	} else if (m == NULL) {
		cfg_err(v, r, "a rule needs \"metric\" (or \"ratio\")");
	}
	if (cfg_string(v, r, "aggregate", &s) == 1 &&
	    agg_parse(s, &rc->agg) != 0)
		cfg_err(v, cfg_member(r, "aggregate"), "unknown aggregate "
		    "\"%s\" (expected one of %s)", s, AGG_NAMES);
	cfg_duration(v, r, "window", 1000, MAX_WINDOW_MS, &rc->window_ms);
	if (rc->agg != AGG_LAST && rc->window_ms == 0 &&
	    cfg_member(r, "aggregate") != NULL)
		cfg_err(v, cfg_member(r, "aggregate"), "aggregate \"%s\" "
		    "needs a \"window\", e.g. \"5m\"", agg_name(rc->agg));
	if (cfg_string(v, r, "op", &s) == 1) {
		if (parse_op(s, &rc->def.op) != 0)
			cfg_err(v, cfg_member(r, "op"), "\"op\" must be one "
			    "of \">\", \">=\", \"<\", \"<=\"");
	} else if (cfg_member(r, "op") == NULL) {
		cfg_err(v, r, "a rule needs an \"op\" (\">\", \">=\", \"<\" "
		    "or \"<=\")");
	}
	parse_level(v, r, "warn", "clear_warn", &rc->def.warn);
	parse_level(v, r, "crit", "clear_crit", &rc->def.crit);
	parse_baseline(v, r, rc);
	if (!rc->def.warn.set && !rc->def.crit.set &&
	    cfg_member(r, "baseline") == NULL)
		cfg_err(v, r, "a rule needs a threshold: \"warn\" and/or "
		    "\"crit\" (or a \"baseline\" factor)");
	check_levels(v, r, rc);
	cfg_duration(v, r, "for", 0, MAX_WINDOW_MS, &rc->def.for_ms);
	cfg_duration(v, r, "keep_firing_for", 0, MAX_WINDOW_MS,
	    &rc->def.keep_firing_ms);
	cfg_duration(v, r, "stale_after", 1000, MAX_WINDOW_MS, &rc->stale_ms);
	if (cfg_string(v, r, "depends_on", &s) == 1)
		rc->depends_on = cfg_strdup(v, r, s);
	if (cfg_string(v, r, "unit", &s) == 1)
		rc->unit = cfg_strdup(v, r, s);
	if (cfg_string(v, r, "summary", &s) == 1)
		rc->summary = cfg_strdup(v, r, s);
	parse_labels(v, r, rc);
	parse_flap(v, r, &rc->def);
	rc->canon = rule_canon(v, r, cfg, rc);
}

/* The implicit rule that pages when probe pc is down. */
static void
implicit_down_rule(struct cfgread *v, const cJSON *at, size_t i,
    const struct probe_cfg *pc, struct rule_cfg *rc)
{
	char buf[2 * CFG_MAX_NAME + 16];

	snprintf(buf, sizeof(buf), "%s_down", pc->name);
	rc->name = cfg_strdup(v, at, buf);
	snprintf(buf, sizeof(buf), "%s.down", pc->name);
	rc->metric = cfg_strdup(v, at, buf);
	rc->probe = i;
	rc->scale = 1;
	rc->implicit = true;
	rc->agg = AGG_LAST;
	rc->def.op = RULE_GE;
	if (pc->down_severity == SEV_WARNING) {
		rc->def.warn.set = true;
		rc->def.warn.threshold = 1;
	} else {
		rc->def.crit.set = true;
		rc->def.crit.threshold = 1;
	}
	rc->def.resolved_ms = DEFAULT_RESOLVED_MS;
	rc->def.flap_window_ms = DEFAULT_FLAP_WINDOW_MS;
	rc->def.flap_max = DEFAULT_FLAP_FLIPS;
	rc->summary = cfg_strdup(v, at, "probe {probe} is down: {reason}");
	if (pc->down_depends_on != NULL)
		rc->depends_on = cfg_strdup(v, at, pc->down_depends_on);
	/* The probe's settings decide its down state: they are its canon. */
	rc->canon = cfg_strdup(v, at, pc->canon != NULL ? pc->canon : "");
}

/* Rejects dependency cycles: a -> b -> a would suppress both forever. */
static void
check_cycles(struct cfgread *v, const cJSON *arr, struct config *cfg)
{
	for (size_t i = 0; i < cfg->nrules; i++) {
		size_t at = i, steps = 0;

		while (cfg->rules[at].depends_on != NULL &&
		    cfg->rules[at].dep < cfg->nrules &&
		    steps <= cfg->nrules) {
			at = cfg->rules[at].dep;
			steps++;
			if (at == i) {
				const cJSON *r = cJSON_GetArrayItem(arr,
				    (int)i);

				cfg_err(v, r != NULL ? cfg_member(r,
				    "depends_on") : arr, "rule \"%s\" depends "
				    "on itself through \"depends_on\"",
				    cfg->rules[i].name);
				return;
			}
		}
	}
}

void
cfg_parse_rules(struct cfgread *v, const cJSON *root, const cJSON *arr,
    struct config *cfg)
{
	size_t nexplicit = 0, n;
	const cJSON *r;

	if (arr != NULL && !cJSON_IsArray(arr)) {
		cfg_err(v, arr, "\"rules\" must be an array, not %s",
		    jsonc_type_name(arr));
		arr = NULL;
	}
	if (arr != NULL)
		nexplicit = (size_t)cJSON_GetArraySize(arr);
	cfg->rules = calloc(nexplicit + cfg->nprobes + 1, sizeof(*cfg->rules));
	if (cfg->rules == NULL) {
		cfg_err(v, root, "out of memory");
		return;
	}
	if (arr != NULL) {
		cJSON_ArrayForEach(r, arr)
			parse_rule(v, r, &cfg->rules[cfg->nrules++], cfg);
	}
	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct probe_cfg *pc = &cfg->probes[i];

		if (pc->name == NULL || pc->down_severity == SEV_NONE)
			continue;
		implicit_down_rule(v, root, i, pc, &cfg->rules[cfg->nrules++]);
	}
	n = cfg->nrules;
	for (size_t i = 0; i < n; i++) {
		struct rule_cfg *rc = &cfg->rules[i];
		/* An implicit rule's settings live in its probe's object. */
		const cJSON *node = i < nexplicit ?
		    cJSON_GetArrayItem(arr, (int)i) :
		    cJSON_GetArrayItem(cfg_member(root, "probes"),
		    (int)rc->probe);

		if (rc->name == NULL)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (cfg->rules[j].name == NULL ||
			    strcmp(cfg->rules[j].name, rc->name) != 0)
				continue;
			cfg_err(v, cfg_member(cJSON_GetArrayItem(arr,
			    (int)(i < nexplicit ? i : j)), "name"),
			    "duplicate rule name \"%s\"%s", rc->name,
			    rc->implicit || cfg->rules[j].implicit ?
			    " (every probe has an implicit <probe>_down "
			    "rule; set the probe's \"down_severity\" to "
			    "\"none\" to write your own)" : "");
			break;
		}
		if (rc->depends_on == NULL)
			continue;
		rc->dep = n;
		for (size_t j = 0; j < n; j++)
			if (cfg->rules[j].name != NULL &&
			    strcmp(cfg->rules[j].name, rc->depends_on) == 0)
				rc->dep = j;
		if (rc->dep == n)
			cfg_err(v, cfg_member(node, "depends_on"), "no rule "
			    "named \"%s\" (a probe's down state is rule "
			    "\"<probe>_down\")", rc->depends_on);
		else if (rc->dep == i)
			cfg_err(v, cfg_member(node, "depends_on"), "a rule "
			    "cannot depend on itself");
	}
	check_cycles(v, arr, cfg);
}

void
cfg_clear_rules(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule_cfg *rc = &cfg->rules[i];

		free(rc->name);
		free(rc->metric);
		free(rc->numerator);
		free(rc->denominator);
		free(rc->depends_on);
		for (size_t j = 0; j < rc->nlabels; j++) {
			free(rc->labels[j].key);
			free(rc->labels[j].value);
		}
		free(rc->labels);
		free(rc->unit);
		free(rc->summary);
		free(rc->canon);
	}
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->nrules = 0;
}
