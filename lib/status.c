#include "status.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "health.h"
#include "monitor.h"
#include "probe.h"
#include "alerts.h"
#include "ruleset.h"
#include "silence.h"
#include "silence_json.h"
#include "store.h"

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];

	clock_iso(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *
probe_json(const struct probe_view *v)
{
	cJSON *p = cJSON_CreateObject(), *lr, *mt;
	const struct probe_result *r = v->last;

	cJSON_AddStringToObject(p, "name", v->name);
	cJSON_AddStringToObject(p, "type", v->type);
	cJSON_AddStringToObject(p, "target", v->target);
	cJSON_AddNumberToObject(p, "interval_s", (double)v->interval_ms / 1e3);
	cJSON_AddNumberToObject(p, "timeout_s", (double)v->timeout_ms / 1e3);
	cJSON_AddStringToObject(p, "state", probe_state_name(v->state));
	if (v->state != PROBE_STATE_PENDING)
		add_time(p, "since", v->state_since);
	cJSON_AddNumberToObject(p, "runs", (double)v->runs);
	cJSON_AddNumberToObject(p, "failures", (double)v->failures);
	cJSON_AddNumberToObject(p, "consecutive_failures",
	    (double)v->consecutive_failures);
	cJSON_AddNumberToObject(p, "consecutive_successes",
	    (double)v->consecutive_successes);
	cJSON_AddNumberToObject(p, "skipped_in_flight", (double)v->skipped);
	cJSON_AddNumberToObject(p, "missed_slots", (double)v->missed);
	cJSON_AddNumberToObject(p, "start_failures",
	    (double)v->start_failures);
	cJSON_AddBoolToObject(p, "running", v->running);
	cJSON_AddNumberToObject(p, "start_lateness_ms",
	    (double)v->last_lateness_us / 1e3);
	cJSON_AddNumberToObject(p, "start_lateness_max_ms",
	    (double)v->max_lateness_us / 1e3);
	if (r == NULL) {
		cJSON_AddNullToObject(p, "last_run");
		return p;
	}
	lr = cJSON_AddObjectToObject(p, "last_run");
	add_time(lr, "time", r->started);
	cJSON_AddStringToObject(lr, "result", r->up ? "up" : "down");
	if (!r->up) {
		cJSON_AddStringToObject(lr, "fail", probe_fail_name(r->fail));
		cJSON_AddStringToObject(lr, "reason", r->reason);
	}
	cJSON_AddNumberToObject(lr, "duration_ms", r->duration_ms);
	if (r->notes[0] != '\0')
		cJSON_AddStringToObject(lr, "notes", r->notes);
	mt = cJSON_AddObjectToObject(lr, "metrics");
	for (size_t i = 0; i < r->nmetrics; i++)
		cJSON_AddNumberToObject(mt, r->metrics[i].name,
		    r->metrics[i].value);
	return p;
}

static void
add_level(cJSON *o, const char *key, const struct rule_level *l)
{
	if (l->set)
		cJSON_AddNumberToObject(o, key, l->threshold);
}

static cJSON *
rule_json(const struct rule_view *v, const struct silences *sl, int64_t now)
{
	const struct rule_cfg *rc = v->cfg;
	const struct rule_status *st = v->st;
	cJSON *r = cJSON_CreateObject(), *t, *h;
	const struct silence *x;
	struct rule_transition tr;

	cJSON_AddStringToObject(r, "name", rc->name);
	cJSON_AddStringToObject(r, "state", v->state);
	if (st->state == RULE_FIRING || st->state == RULE_PENDING)
		cJSON_AddStringToObject(r, "severity", rule_sev_name(st->sev));
	if (st->evaluated != 0)
		add_time(r, "since", st->since);
	/* When value was taken: a deploy check measured then agrees. */
	if (st->evaluated != 0)
		add_time(r, "evaluated", st->evaluated);
	if (st->known)
		cJSON_AddNumberToObject(r, "value", st->value);
	else
		cJSON_AddNullToObject(r, "value");
	if (rc->unit != NULL)
		cJSON_AddStringToObject(r, "unit", rc->unit);
	cJSON_AddStringToObject(r, "summary", v->summary);
	cJSON_AddStringToObject(r, "explain", v->explain);
	if (!st->known && st->evaluated != 0) {
		cJSON_AddStringToObject(r, "reason", st->why);
		/* Too little data to judge, not a failure to measure. */
		cJSON_AddBoolToObject(r, "insufficient_data", st->quiet);
	}
	if (rc->metric != NULL) {
		cJSON_AddStringToObject(r, "metric", rc->metric);
	} else {
		cJSON *q = cJSON_AddObjectToObject(r, "ratio");

		cJSON_AddStringToObject(q, "numerator", rc->numerator);
		cJSON_AddStringToObject(q, "denominator", rc->denominator);
		cJSON_AddNumberToObject(q, "scale", rc->scale);
	}
	cJSON_AddStringToObject(r, "aggregate", agg_name(rc->agg));
	cJSON_AddNumberToObject(r, "window_s", (double)rc->window_ms / 1e3);
	t = cJSON_AddObjectToObject(r, "thresholds");
	cJSON_AddStringToObject(t, "op", rule_op_text(rc->def.op));
	add_level(t, "warn", &rc->def.warn);
	add_level(t, "crit", &rc->def.crit);
	if (rc->def.warn.has_clear)
		cJSON_AddNumberToObject(t, "clear_warn", rc->def.warn.clear);
	if (rc->def.crit.has_clear)
		cJSON_AddNumberToObject(t, "clear_crit", rc->def.crit.clear);
	if (st->evaluated != 0)
		cJSON_AddNumberToObject(t, "in_force", st->threshold);
	cJSON_AddNumberToObject(r, "for_s", (double)rc->def.for_ms / 1e3);
	if (st->state == RULE_PENDING)
		cJSON_AddNumberToObject(r, "pending_held_s",
		    (double)(now - st->cond_since) / 1e3);
	if (rc->def.keep_firing_ms > 0)
		cJSON_AddNumberToObject(r, "keep_firing_for_s",
		    (double)rc->def.keep_firing_ms / 1e3);
	if (v->data_age_ms >= 0)
		cJSON_AddNumberToObject(r, "data_age_s",
		    (double)v->data_age_ms / 1e3);
	if (rc->window_ms > 0)
		cJSON_AddNumberToObject(r, "samples", (double)v->samples);
	if (v->probe_error != NULL)
		cJSON_AddStringToObject(r, "probe_error", v->probe_error);
	if (st->suppressed)
		cJSON_AddStringToObject(r, "suppressed_by", st->suppressed_by);
	/* Its notifications are held; the state above is still the truth. */
	if ((x = silences_match(sl, rc, now)) != NULL)
		cJSON_AddItemToObject(r, "silenced_by", silence_json(x, now));
	if (rc->depends_on != NULL)
		cJSON_AddStringToObject(r, "depends_on", rc->depends_on);
	cJSON_AddBoolToObject(r, "flapping", st->flapping);
	if (rc->def.warn.base_factor > 0 || rc->def.crit.base_factor > 0 ||
	    v->has_baseline) {
		cJSON *b = cJSON_AddObjectToObject(r, "baseline");

		if (v->has_baseline) {
			cJSON_AddNumberToObject(b, "value", v->baseline);
			if (v->baseline_at != 0)
				add_time(b, "saved", v->baseline_at);
			if (st->known && v->baseline != 0)
				cJSON_AddNumberToObject(b, "delta_pct",
				    (st->value - v->baseline) /
				    v->baseline * 100.0);
		} else {
			cJSON_AddNullToObject(b, "value");
		}
		if (rc->def.warn.base_factor > 0)
			cJSON_AddNumberToObject(b, "warn_factor",
			    rc->def.warn.base_factor);
		if (rc->def.crit.base_factor > 0)
			cJSON_AddNumberToObject(b, "crit_factor",
			    rc->def.crit.base_factor);
	}
	if (rc->nlabels > 0) {
		cJSON *l = cJSON_AddObjectToObject(r, "labels");

		for (size_t i = 0; i < rc->nlabels; i++)
			cJSON_AddStringToObject(l, rc->labels[i].key,
			    rc->labels[i].value);
	}
	cJSON_AddBoolToObject(r, "implicit", rc->implicit);
	h = cJSON_AddArrayToObject(r, "history");
	for (unsigned i = 0; rule_history(st, i, &tr); i++) {
		cJSON *e = cJSON_CreateObject();

		add_time(e, "time", tr.t);
		cJSON_AddStringToObject(e, "from", rule_state_name(tr.from));
		cJSON_AddStringToObject(e, "to", rule_state_name(tr.to));
		if (tr.sev != SEV_NONE)
			cJSON_AddStringToObject(e, "severity",
			    rule_sev_name(tr.sev));
		cJSON_AddItemToArray(h, e);
	}
	return r;
}

cJSON *
status_doc(const struct monitor *m)
{
	const struct config *cfg = monitor_config(m);
	const struct store *st = monitor_store(m);
	const struct ruleset *rs = monitor_rules(m);
	cJSON *o = cJSON_CreateObject(), *d, *c, *s, *a, *probes, *rules;
	struct ruleset_counts counts;
	struct monitor_info info;
	struct probe_view v;
	struct rule_view rv;
	struct health h;
	int64_t now = clock_wall_ms();
	char why[256];

	monitor_info(m, &info);
	health_eval(m, &h);
	cJSON_AddStringToObject(o, "status", h.status);
	if (h.output[0] != '\0')
		cJSON_AddStringToObject(o, "output", h.output);
	d = cJSON_AddObjectToObject(o, "vigild");
	cJSON_AddStringToObject(d, "version", VIGIL_VERSION);
	cJSON_AddNumberToObject(d, "pid", (double)getpid());
	add_time(d, "started", info.started);
	cJSON_AddNumberToObject(d, "uptime_s",
	    (double)(now - info.started) / 1e3);
	add_time(d, "now", now);
	cJSON_AddBoolToObject(d, "degraded",
	    monitor_degraded(m, why, sizeof(why)));
	cJSON_AddNumberToObject(d, "loop_lag_ms",
	    (double)monitor_loop_lag_ms(m));
	c = cJSON_AddObjectToObject(d, "config");
	cJSON_AddStringToObject(c, "path", cfg->path);
	add_time(c, "loaded", info.loaded);
	cJSON_AddNumberToObject(c, "reloads", (double)info.reloads);
	s = cJSON_AddObjectToObject(d, "store");
	cJSON_AddNumberToObject(s, "series", (double)store_count(st));
	cJSON_AddNumberToObject(s, "bytes", (double)store_bytes(st));
	ruleset_counts(rs, &counts);
	a = cJSON_AddObjectToObject(o, "alerts");
	cJSON_AddNumberToObject(a, "critical", counts.critical);
	cJSON_AddNumberToObject(a, "warning", counts.warning);
	cJSON_AddNumberToObject(a, "pending", counts.pending);
	cJSON_AddNumberToObject(a, "unknown", counts.unknown);
	cJSON_AddNumberToObject(a, "suppressed", counts.suppressed);
	probes = cJSON_AddArrayToObject(o, "probes");
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
		cJSON_AddItemToArray(probes, probe_json(&v));
	rules = cJSON_AddArrayToObject(o, "rules");
	for (size_t i = 0; ruleset_view(rs, i, now, &rv); i++)
		cJSON_AddItemToArray(rules, rule_json(&rv,
		    monitor_silences(m), now));
	cJSON_AddItemToObject(o, "silences", alerts_silences_json(m, now));
	return o;
}

char *
status_json(const struct monitor *m)
{
	cJSON *o = status_doc(m);
	char *out = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return out;
}
