#include "engine/alerts.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "config/config.h"
#include "engine/monitor.h"
#include "engine/maint.h"
#include "engine/silence.h"
#include "engine/silence_json.h"

/* Sets the bits of a comma-separated list; -1 on an unknown word. */
static int
parse_list(const char *s, const char *const *words, const int *bits,
    unsigned *mask)
{
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		bool found = false;

		for (size_t i = 0; words[i] != NULL && !found; i++) {
			if (strlen(words[i]) == n &&
			    strncmp(s, words[i], n) == 0) {
				*mask |= 1u << bits[i];
				found = true;
			}
		}
		if (!found)
			return -1;
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

int
alerts_filter_parse(const char *severity, const char *state,
    struct alerts_filter *f, const char **why)
{
	static const char *const sevs[] = { "warning", "critical", NULL };
	static const int sev_bits[] = { SEV_WARNING, SEV_CRITICAL };
	static const char *const states[] = { "firing", "pending", "unknown",
	    NULL };
	static const int state_bits[] = { RULE_FIRING, RULE_PENDING,
	    RULE_UNKNOWN };

	memset(f, 0, sizeof(*f));
	if (severity != NULL && parse_list(severity, sevs, sev_bits,
	    &f->sev) != 0) {
		*why = "severity must be critical or warning (or both, "
		    "comma-separated)";
		return -1;
	}
	if (state != NULL && parse_list(state, states, state_bits,
	    &f->state) != 0) {
		*why = "state must be firing, pending or unknown (or several, "
		    "comma-separated)";
		return -1;
	}
	return 0;
}

static int
rank_of(const struct rule_status *st)
{
	int r;

	switch (st->state) {
	case RULE_FIRING:
		r = st->sev == SEV_CRITICAL ? 0 : 1;
		break;
	case RULE_PENDING:
		r = 2;
		break;
	case RULE_UNKNOWN:
		r = 3;
		break;
	default:
		return -1;
	}
	/* Behind a failing dependency: true, but not where to start. */
	return st->suppressed ? r + 4 : r;
}

static bool
passes(const struct alerts_filter *f, const struct rule_status *st)
{
	if (f == NULL)
		return true;
	if (f->state != 0 && (f->state & (1u << st->state)) == 0)
		return false;
	/* An unknown rule has no severity: a severity filter leaves it out. */
	if (f->sev != 0 && (st->state == RULE_UNKNOWN ||
	    (f->sev & (1u << st->sev)) == 0))
		return false;
	return true;
}

static int
cmp_alert(const void *a, const void *b)
{
	const struct alert *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->v.st->since != y->v.st->since)
		return x->v.st->since < y->v.st->since ? -1 : 1;
	return strcmp(x->v.cfg->name, y->v.cfg->name);
}

int
alerts_collect(const struct monitor *m, int64_t now,
    const struct alerts_filter *f, struct alert **out, size_t *n)
{
	const struct ruleset *rs = monitor_rules(m);
	const struct silences *sl = monitor_silences(m);
	size_t total = ruleset_count(rs), k = 0;
	struct alert *v = calloc(total + 1, sizeof(*v));
	struct rule_view rv;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return -1;
	for (size_t i = 0; ruleset_view(rs, i, now, &rv); i++) {
		int rank = rank_of(rv.st);

		if (rank < 0 || !passes(f, rv.st) || k == total)
			continue;
		v[k].v = rv;
		v[k].rank = rank;
		v[k].silence = silences_match(sl, rv.cfg, now);
		if (v[k].silence == NULL)
			v[k].maint = maint_match(monitor_maint(m), rv.cfg, now,
			    &v[k].maint_end);
		k++;
	}
	qsort(v, k, sizeof(*v), cmp_alert);
	*out = v;
	*n = k;
	return 0;
}

static cJSON *
alert_json(const struct alert *a, int64_t now)
{
	const struct rule_cfg *rc = a->v.cfg;
	const struct rule_status *st = a->v.st;
	cJSON *o = cJSON_CreateObject();
	char t[40];

	cJSON_AddStringToObject(o, "rule", rc->name);
	cJSON_AddStringToObject(o, "state", rule_state_name(st->state));
	if (st->state != RULE_UNKNOWN)
		cJSON_AddStringToObject(o, "severity", rule_sev_name(st->sev));
	if (st->evaluated != 0) {
		clock_iso(st->since, t, sizeof(t));
		cJSON_AddStringToObject(o, "since", t);
		cJSON_AddNumberToObject(o, "for_s",
		    (double)((now - st->since) / 1000));
	}
	if (st->known)
		cJSON_AddNumberToObject(o, "value", st->value);
	else
		cJSON_AddNullToObject(o, "value");
	if (rc->unit != NULL)
		cJSON_AddStringToObject(o, "unit", rc->unit);
	if (st->state != RULE_UNKNOWN)
		cJSON_AddNumberToObject(o, "threshold", st->threshold);
	cJSON_AddStringToObject(o, "summary", a->v.summary);
	cJSON_AddStringToObject(o, "explain", a->v.explain);
	if (!st->known && st->evaluated != 0)
		cJSON_AddStringToObject(o, "reason", st->why);
	if (rc->nlabels > 0) {
		cJSON *l = cJSON_AddObjectToObject(o, "labels");

		for (size_t i = 0; i < rc->nlabels; i++)
			cJSON_AddStringToObject(l, rc->labels[i].key,
			    rc->labels[i].value);
	}
	if (st->suppressed) {
		cJSON_AddStringToObject(o, "suppressed_by", st->suppressed_by);
		cJSON_AddStringToObject(o, "suppressed_why", a->v.held_why);
	}
	if (a->silence != NULL)
		cJSON_AddItemToObject(o, "silenced_by",
		    silence_json(a->silence, now));
	if (a->maint != NULL) {
		cJSON *w = cJSON_AddObjectToObject(o,
		    "silenced_by_maintenance");

		cJSON_AddStringToObject(w, "name", a->maint->name);
		clock_iso(a->maint_end, t, sizeof(t));
		cJSON_AddStringToObject(w, "ends_at", t);
	}
	cJSON_AddBoolToObject(o, "flapping", st->flapping);
	return o;
}

cJSON *
alerts_maint_json(const struct monitor *m, int64_t now)
{
	const struct maint *mt = monitor_maint(m);
	struct maint_view v[ALERTS_MAINT_SHOWN];
	size_t n = maint_active(mt, now, v, ALERTS_MAINT_SHOWN);
	cJSON *a = cJSON_CreateArray();
	char t[40];

	for (size_t i = 0; i < n && i < ALERTS_MAINT_SHOWN; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", v[i].w->name);
		clock_iso(v[i].start, t, sizeof(t));
		cJSON_AddStringToObject(o, "started_at", t);
		clock_iso(v[i].end, t, sizeof(t));
		cJSON_AddStringToObject(o, "ends_at", t);
		if (v[i].w->comment[0] != '\0')
			cJSON_AddStringToObject(o, "comment", v[i].w->comment);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

cJSON *
alerts_silence_matches(const struct monitor *m, const struct silence *x,
    int64_t now)
{
	const struct config *cfg = monitor_config(m);
	const struct silences *sl = monitor_silences(m);
	cJSON *arr = cJSON_CreateArray();

	/* The first active silence that matches a rule is the one shown. */
	for (size_t r = 0; r < cfg->nrules; r++)
		if (silences_match(sl, &cfg->rules[r], now) == x)
			cJSON_AddItemToArray(arr,
			    cJSON_CreateString(cfg->rules[r].name));
	return arr;
}

/*
 * Each rule's first matching silence is found once (rules x silences),
 * then grouped by silence: asking per silence which rules it holds would
 * be silences x rules x silences, a billion comparisons at a thousand of
 * each, on the loop.
 */
cJSON *
alerts_silences_json(const struct monitor *m, int64_t now)
{
	const struct config *cfg = monitor_config(m);
	const struct silences *sl = monitor_silences(m);
	const struct silence **first, *x;
	cJSON *arr = cJSON_CreateArray();

	first = calloc(cfg->nrules > 0 ? cfg->nrules : 1, sizeof(*first));
	if (first == NULL || arr == NULL) {
		free(first);
		cJSON_Delete(arr);
		return NULL;
	}
	for (size_t r = 0; r < cfg->nrules; r++)
		first[r] = silences_match(sl, &cfg->rules[r], now);
	for (size_t i = 0; (x = silences_at(sl, i)) != NULL; i++) {
		cJSON *o, *held;

		if (x->expires <= now)
			continue;
		o = silence_json(x, now);
		held = cJSON_AddArrayToObject(o, "matches");
		for (size_t r = 0; r < cfg->nrules; r++)
			if (first[r] == x)
				cJSON_AddItemToArray(held,
				    cJSON_CreateString(cfg->rules[r].name));
		cJSON_AddItemToArray(arr, o);
	}
	free(first);
	return arr;
}

char *
alerts_json(const struct monitor *m, const struct alerts_filter *f)
{
	int64_t now = clock_wall_ms();
	cJSON *o, *arr, *c;
	struct alert *v;
	size_t n;
	unsigned by_rank[8] = { 0 }, silenced = 0, suppressed = 0;
	char t[40], *s;

	if (alerts_collect(m, now, f, &v, &n) != 0)
		return NULL;
	o = cJSON_CreateObject();
	clock_iso(now, t, sizeof(t));
	cJSON_AddStringToObject(o, "now", t);
	arr = cJSON_AddArrayToObject(o, "alerts");
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, alert_json(&v[i], now));
		by_rank[v[i].rank % 4]++;
		silenced += v[i].silence != NULL || v[i].maint != NULL;
		suppressed += v[i].rank >= 4;
	}
	c = cJSON_AddObjectToObject(o, "counts");
	cJSON_AddNumberToObject(c, "critical", by_rank[0]);
	cJSON_AddNumberToObject(c, "warning", by_rank[1]);
	cJSON_AddNumberToObject(c, "pending", by_rank[2]);
	cJSON_AddNumberToObject(c, "unknown", by_rank[3]);
	cJSON_AddNumberToObject(c, "silenced", silenced);
	cJSON_AddNumberToObject(c, "suppressed", suppressed);
	cJSON_AddItemToObject(o, "silences", alerts_silences_json(m, now));
	cJSON_AddItemToObject(o, "maintenance", alerts_maint_json(m, now));
	free(v);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
