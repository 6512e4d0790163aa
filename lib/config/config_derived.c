/*
 * The "derived" section: {"name": "expression", ...}, metrics computed
 * from others (config/expr.h). Each is "derived.<name>"; its inputs are
 * probes' metrics or other derived metrics, without cycles. Mistakes in
 * an expression are reported at their column inside the string.
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"

/* Index of derived metric "derived.<name>" among the first n, or -1. */
static long
find(const struct config *cfg, const char *name)
{
	size_t n = strlen(DERIVED_PREFIX);

	if (strncmp(name, DERIVED_PREFIX, n) != 0)
		return -1;
	for (size_t i = 0; i < cfg->nderived; i++)
		if (cfg->derived[i].name != NULL &&
		    strcmp(cfg->derived[i].name, name + n) == 0)
			return (long)i;
	return -1;
}

static void
parse_one(struct cfgread *v, const cJSON *e, struct derived_cfg *d,
    const struct config *cfg)
{
	struct expr_error err;
	size_t nv;

	if (!cJSON_IsString(e)) {
		cfg_err(v, e, "derived metric \"%s\" must be an expression "
		    "string, not %s", e->string, jsonc_type_name(e));
		return;
	}
	d->text = cfg_strdup(v, e, e->valuestring);
	if ((d->expr = expr_parse(e->valuestring, &err)) == NULL) {
		cfg_err_in(v, e, err.off, "derived metric \"%s\": %s",
		    d->name, err.msg);
		return;
	}
	nv = expr_nvars(d->expr);
	d->var_derived = calloc(nv, sizeof(*d->var_derived));
	d->var_probe = calloc(nv, sizeof(*d->var_probe));
	if (d->var_derived == NULL || d->var_probe == NULL) {
		cfg_err(v, e, "out of memory");
		return;
	}
	for (size_t k = 0; k < nv; k++) {
		const char *name = expr_var(d->expr, k);
		char why[sizeof(((struct config_error *)0)->msg)];
		long p;

		d->var_derived[k] = -1;
		if (strncmp(name, DERIVED_PREFIX,
		    strlen(DERIVED_PREFIX)) == 0) {
			if ((d->var_derived[k] = find(cfg, name)) < 0)
				cfg_err_in(v, e, expr_var_off(d->expr, k),
				    "no derived metric named \"%s\"",
				    name + strlen(DERIVED_PREFIX));
			continue;
		}
		if ((p = cfg_metric_probe(name, cfg, why, sizeof(why))) < 0)
			cfg_err_in(v, e, expr_var_off(d->expr, k), "%s", why);
		else
			d->var_probe[k] = (size_t)p;
	}
}

static bool
has(const size_t *v, size_t n, size_t x)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == x)
			return true;
	return false;
}

/*
 * Depth-first from i: inputs into the order before i; a derived metric
 * met again while on the path is a cycle. Depth is at most
 * CFG_MAX_DERIVED, so the recursion is bounded.
 */
static bool
visit(struct cfgread *v, const cJSON *o, struct config *cfg, size_t i,
    unsigned char *mark, size_t *path, size_t depth, size_t *norder)
{
	struct derived_cfg *d = &cfg->derived[i];

	if (mark[i] == 2)
		return true;
	if (mark[i] == 1) {
		char text[200];
		size_t at = 0, len = 0;

		while (path[at] != i)
			at++;
		text[0] = '\0';
		for (size_t k = at; k < depth && len < sizeof(text); k++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "%s -> ", cfg->derived[path[k]].metric);
		if (len < sizeof(text))
			snprintf(text + len, sizeof(text) - len, "%s",
			    d->metric);
		cfg_err(v, cJSON_GetObjectItemCaseSensitive(o, d->name),
		    "derived metrics form a cycle: %s", text);
		return false;
	}
	mark[i] = 1;
	path[depth] = i;
	for (size_t k = 0; d->expr != NULL && k < expr_nvars(d->expr); k++)
		if (d->var_derived[k] >= 0 && !visit(v, o, cfg,
		    (size_t)d->var_derived[k], mark, path, depth + 1, norder))
			return false;
	mark[i] = 2;
	cfg->derived_order[(*norder)++] = i;
	return true;
}

/* The probes d reads, its inputs' (already known) included; home first. */
static void
collect_probes(struct cfgread *v, const cJSON *e, struct config *cfg,
    struct derived_cfg *d)
{
	size_t cap = cfg->nprobes + 1;

	if (d->expr == NULL)
		return;
	if ((d->probes = calloc(cap, sizeof(*d->probes))) == NULL) {
		cfg_err(v, e, "out of memory");
		return;
	}
	for (size_t k = 0; k < expr_nvars(d->expr); k++) {
		const struct derived_cfg *in = d->var_derived[k] >= 0 ?
		    &cfg->derived[d->var_derived[k]] : NULL;
		size_t n = in != NULL ? in->nprobes : 1;

		for (size_t j = 0; j < n; j++) {
			size_t p = in != NULL ? in->probes[j] : d->var_probe[k];

			if (!has(d->probes, d->nprobes, p) && d->nprobes < cap)
				d->probes[d->nprobes++] = p;
		}
	}
	if (d->nprobes > 0)
		d->home = d->probes[0];
}

void
cfg_parse_derived(struct cfgread *v, const cJSON *root, const cJSON *o,
    struct config *cfg)
{
	const cJSON *e;
	unsigned char *mark;
	size_t *path, norder = 0, before = v->errs->n + v->errs->dropped;
	size_t n;

	(void)root;
	for (size_t i = 0; i < cfg->nprobes; i++)
		if (cfg->probes[i].name != NULL &&
		    strcmp(cfg->probes[i].name, "derived") == 0)
			cfg_err(v, cfg_member(cJSON_GetArrayItem(cfg_member(
			    root, "probes"), (int)i), "name"), "probe name "
			    "\"derived\" is taken: metrics \"derived.<name>\" "
			    "are the derived metrics");
	if (o == NULL)
		return;
	if (!cJSON_IsObject(o)) {
		cfg_err(v, o, "\"derived\" must be an object of \"name\": "
		    "\"expression\", not %s", jsonc_type_name(o));
		return;
	}
	n = (size_t)cJSON_GetArraySize(o);
	if (n > CFG_MAX_DERIVED) {
		cfg_err(v, o, "more than %d derived metrics", CFG_MAX_DERIVED);
		return;
	}
	cfg->derived = calloc(n + 1, sizeof(*cfg->derived));
	cfg->derived_order = calloc(n + 1, sizeof(*cfg->derived_order));
	if (cfg->derived == NULL || cfg->derived_order == NULL) {
		cfg_err(v, o, "out of memory");
		return;
	}
	/* Names first: an expression may name one defined after it. */
	cJSON_ArrayForEach(e, o) {
		struct derived_cfg *d = &cfg->derived[cfg->nderived++];
		char metric[sizeof(DERIVED_PREFIX) + CFG_MAX_NAME];

		if (!cfg_valid_name(e->string)) {
			cfg_err_key(v, e, "derived metric name \"%s\" must be "
			    "lower case letters, digits and _ (starting with "
			    "a letter, at most %d)", e->string, CFG_MAX_NAME);
			continue;
		}
		d->name = cfg_strdup(v, e, e->string);
		snprintf(metric, sizeof(metric), "%s%s", DERIVED_PREFIX,
		    e->string);
		d->metric = cfg_strdup(v, e, metric);
	}
	n = 0;
	cJSON_ArrayForEach(e, o) {
		if (cfg->derived[n].name != NULL)
			parse_one(v, e, &cfg->derived[n], cfg);
		n++;
	}
	if (v->errs->n + v->errs->dropped != before)
		return;
	mark = calloc(cfg->nderived + 1, 1);
	path = calloc(cfg->nderived + 1, sizeof(*path));
	if (mark == NULL || path == NULL) {
		cfg_err(v, o, "out of memory");
	} else {
		for (size_t i = 0; i < cfg->nderived; i++)
			if (!visit(v, o, cfg, i, mark, path, 0, &norder))
				break;
	}
	free(mark);
	free(path);
	if (norder != cfg->nderived)
		return;
	for (size_t k = 0; k < norder; k++) {
		size_t i = cfg->derived_order[k];

		collect_probes(v, cJSON_GetObjectItemCaseSensitive(o,
		    cfg->derived[i].name), cfg, &cfg->derived[i]);
	}
}

void
cfg_clear_derived(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nderived; i++) {
		struct derived_cfg *d = &cfg->derived[i];

		free(d->name);
		free(d->metric);
		free(d->text);
		expr_free(d->expr);
		free(d->var_derived);
		free(d->var_probe);
		free(d->probes);
	}
	free(cfg->derived);
	free(cfg->derived_order);
	cfg->derived = NULL;
	cfg->derived_order = NULL;
	cfg->nderived = 0;
}
