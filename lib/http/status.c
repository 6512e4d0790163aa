#include "http/status.h"

#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/alerts.h"
#include "engine/history.h"
#include "base/clock.h"
#include "config/config.h"
#include "http/health.h"
#include "base/jsonw.h"
#include "engine/monitor.h"
#include "probe/probe.h"
#include "engine/ruleset.h"
#include "engine/maint.h"
#include "engine/maint_json.h"
#include "engine/silence.h"
#include "engine/silence_json.h"
#include "engine/store.h"

/* Uptime's windows, as /metrics and the page name them. */
static const struct {
	const char *name;
	int64_t ms;
} windows[] = {
	{ "24h", HISTORY_DAY_MS },
	{ "7d", 7 * HISTORY_DAY_MS },
	{ "30d", 30 * HISTORY_DAY_MS },
	{ "90d", 90 * HISTORY_DAY_MS },
};

/* In percent; null for a window without a run (engine/history.h). */
static void
uptime_write(struct jsonw *w, const struct history *h, const char *probe,
    int64_t now)
{
	jsonw_obj(w, "uptime_pct");
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		double pct;

		if (history_uptime(h, probe, now, windows[i].ms, &pct))
			jsonw_num(w, windows[i].name, pct);
		else
			jsonw_null(w, windows[i].name);
	}
	jsonw_end(w);
}

static void
history_write(struct jsonw *w, const struct history *h)
{
	struct history_stats hs;

	history_stats(h, &hs);
	jsonw_obj(w, "history");
	jsonw_bool(w, "persistent", hs.persistent);
	jsonw_int(w, "writes", (int64_t)hs.writes);
	jsonw_int(w, "write_failures", (int64_t)hs.failures);
	if (hs.last_saved > 0)
		jsonw_time(w, "last_saved", hs.last_saved);
	else
		jsonw_null(w, "last_saved");
	if (hs.last_error[0] != '\0')
		jsonw_str(w, "last_error", hs.last_error);
	jsonw_int(w, "torn_hours", (int64_t)hs.torn);
	jsonw_end(w);
}

static void
probe_write(struct jsonw *w, const struct probe_view *v,
    const struct history *h, int64_t now)
{
	const struct probe_result *r = v->last;

	jsonw_obj(w, NULL);
	jsonw_str(w, "name", v->name);
	jsonw_str(w, "type", v->type);
	jsonw_str(w, "target", v->target);
	jsonw_num(w, "interval_s", (double)v->interval_ms / 1e3);
	jsonw_num(w, "timeout_s", (double)v->timeout_ms / 1e3);
	jsonw_str(w, "state", probe_state_name(v->state));
	if (v->state != PROBE_STATE_PENDING)
		jsonw_time(w, "since", v->state_since);
	jsonw_int(w, "runs", (int64_t)v->runs);
	jsonw_int(w, "failures", (int64_t)v->failures);
	jsonw_int(w, "consecutive_failures", (int64_t)v->consecutive_failures);
	jsonw_int(w, "consecutive_successes",
	    (int64_t)v->consecutive_successes);
	jsonw_int(w, "skipped_in_flight", (int64_t)v->skipped);
	jsonw_int(w, "missed_slots", (int64_t)v->missed);
	jsonw_int(w, "start_failures", (int64_t)v->start_failures);
	jsonw_bool(w, "running", v->running);
	jsonw_num(w, "start_lateness_ms", (double)v->last_lateness_us / 1e3);
	jsonw_num(w, "start_lateness_max_ms",
	    (double)v->max_lateness_us / 1e3);
	uptime_write(w, h, v->name, now);
	if (r == NULL) {
		jsonw_null(w, "last_run");
		jsonw_end(w);
		return;
	}
	jsonw_obj(w, "last_run");
	jsonw_time(w, "time", r->started);
	jsonw_str(w, "result", r->up ? "up" : "down");
	if (!r->up) {
		jsonw_str(w, "fail", probe_fail_name(r->fail));
		jsonw_str(w, "reason", r->reason);
	}
	jsonw_num(w, "duration_ms", r->duration_ms);
	if (r->notes != NULL)
		jsonw_str(w, "notes", r->notes);
	jsonw_obj(w, "metrics");
	for (size_t i = 0; i < r->nmetrics; i++)
		jsonw_num(w, r->metrics[i].name, r->metrics[i].value);
	jsonw_end(w);
	jsonw_end(w);
	jsonw_end(w);
}

static void
level_write(struct jsonw *w, const char *key, const struct rule_level *l)
{
	if (l->set)
		jsonw_num(w, key, l->threshold);
}

static void
baseline_write(struct jsonw *w, const struct rule_view *v)
{
	const struct rule_cfg *rc = v->cfg;
	const struct rule_status *st = v->st;

	jsonw_obj(w, "baseline");
	if (v->has_baseline) {
		jsonw_num(w, "value", v->baseline);
		if (v->baseline_at != 0)
			jsonw_time(w, "saved", v->baseline_at);
		if (st->known && v->baseline != 0)
			jsonw_num(w, "delta_pct",
			    (st->value - v->baseline) / v->baseline * 100.0);
	} else {
		jsonw_null(w, "value");
	}
	if (rc->def.warn.base_factor > 0)
		jsonw_num(w, "warn_factor", rc->def.warn.base_factor);
	if (rc->def.crit.base_factor > 0)
		jsonw_num(w, "crit_factor", rc->def.crit.base_factor);
	jsonw_end(w);
}

/*
 * "maintenance": the windows active now (each with its occurrence) and
 * the next ones to begin, soonest first.
 */
#define STATUS_MAINT_SHOWN 16

static void
maint_write(struct jsonw *w, const struct maint *mt, int64_t now)
{
	struct maint_view v[STATUS_MAINT_SHOWN];
	size_t n = maint_active(mt, now, v, STATUS_MAINT_SHOWN);
	char t[40];

	jsonw_obj(w, "maintenance");
	jsonw_arr(w, "active");
	for (size_t i = 0; i < n && i < STATUS_MAINT_SHOWN; i++) {
		cJSON *o = maint_status_json(v[i].w, now);

		jsonw_tree(w, NULL, o);
		cJSON_Delete(o);
	}
	jsonw_end(w);
	n = maint_next(mt, now, v, STATUS_MAINT_SHOWN);
	jsonw_arr(w, "next");
	for (size_t i = 0; i < n; i++) {
		jsonw_obj(w, NULL);
		jsonw_str(w, "name", v[i].w->name);
		clock_iso(v[i].start, t, sizeof(t));
		jsonw_str(w, "start", t);
		clock_iso(v[i].end, t, sizeof(t));
		jsonw_str(w, "end", t);
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_end(w);
}

static void
rule_write(struct jsonw *w, const struct rule_view *v,
    const struct silences *sl, const struct maint *mt, int64_t now)
{
	const struct maint_window *mw;
	int64_t mend;
	const struct rule_cfg *rc = v->cfg;
	const struct rule_status *st = v->st;
	const struct silence *x;
	struct rule_transition tr;

	jsonw_obj(w, NULL);
	jsonw_str(w, "name", rc->name);
	jsonw_str(w, "state", v->state);
	if (st->state == RULE_FIRING || st->state == RULE_PENDING)
		jsonw_str(w, "severity", rule_sev_name(st->sev));
	if (st->evaluated != 0)
		jsonw_time(w, "since", st->since);
	/* When value was taken: a deploy check measured then agrees. */
	if (st->evaluated != 0)
		jsonw_time(w, "evaluated", st->evaluated);
	if (st->known)
		jsonw_num(w, "value", st->value);
	else
		jsonw_null(w, "value");
	if (rc->unit != NULL)
		jsonw_str(w, "unit", rc->unit);
	jsonw_str(w, "summary", v->summary);
	jsonw_str(w, "explain", v->explain);
	if (!st->known && st->evaluated != 0) {
		jsonw_str(w, "reason", st->why);
		/* Too little data to judge, not a failure to measure. */
		jsonw_bool(w, "insufficient_data", st->quiet);
	}
	if (rc->metric != NULL) {
		jsonw_str(w, "metric", rc->metric);
	} else {
		jsonw_obj(w, "ratio");
		jsonw_str(w, "numerator", rc->numerator);
		jsonw_str(w, "denominator", rc->denominator);
		jsonw_num(w, "scale", rc->scale);
		jsonw_end(w);
	}
	jsonw_str(w, "aggregate", agg_name(rc->agg));
	jsonw_num(w, "window_s", (double)rc->window_ms / 1e3);
	jsonw_obj(w, "thresholds");
	jsonw_str(w, "op", rule_op_text(rc->def.op));
	level_write(w, "warn", &rc->def.warn);
	level_write(w, "crit", &rc->def.crit);
	if (rc->def.warn.has_clear)
		jsonw_num(w, "clear_warn", rc->def.warn.clear);
	if (rc->def.crit.has_clear)
		jsonw_num(w, "clear_crit", rc->def.crit.clear);
	if (st->evaluated != 0)
		jsonw_num(w, "in_force", st->threshold);
	jsonw_end(w);
	jsonw_num(w, "for_s", (double)rc->def.for_ms / 1e3);
	if (st->state == RULE_PENDING)
		jsonw_num(w, "pending_held_s",
		    (double)(now - st->cond_since) / 1e3);
	if (rc->def.keep_firing_ms > 0)
		jsonw_num(w, "keep_firing_for_s",
		    (double)rc->def.keep_firing_ms / 1e3);
	if (v->data_age_ms >= 0)
		jsonw_num(w, "data_age_s", (double)v->data_age_ms / 1e3);
	if (rc->window_ms > 0)
		jsonw_int(w, "samples", (int64_t)v->samples);
	if (v->probe_error != NULL)
		jsonw_str(w, "probe_error", v->probe_error);
	if (st->suppressed) {
		jsonw_str(w, "suppressed_by", st->suppressed_by);
		jsonw_str(w, "suppressed_why", v->held_why);
	}
	/* Its notifications are held; the state above is still the truth. */
	if ((x = silences_match(sl, rc, now)) != NULL) {
		cJSON *sj = silence_json(x, now);

		jsonw_tree(w, "silenced_by", sj);
		cJSON_Delete(sj);
	} else if ((mw = maint_match(mt, rc, now, &mend)) != NULL) {
		char t[40];

		jsonw_obj(w, "silenced_by_maintenance");
		jsonw_str(w, "name", mw->name);
		clock_iso(mend, t, sizeof(t));
		jsonw_str(w, "ends_at", t);
		jsonw_end(w);
	}
	if (rc->depends_on != NULL)
		jsonw_str(w, "depends_on", rc->depends_on);
	jsonw_bool(w, "flapping", st->flapping);
	if (rc->def.warn.base_factor > 0 || rc->def.crit.base_factor > 0 ||
	    v->has_baseline)
		baseline_write(w, v);
	if (rc->nlabels > 0) {
		jsonw_obj(w, "labels");
		for (size_t i = 0; i < rc->nlabels; i++)
			jsonw_str(w, rc->labels[i].key, rc->labels[i].value);
		jsonw_end(w);
	}
	jsonw_bool(w, "implicit", rc->implicit);
	jsonw_arr(w, "history");
	for (unsigned i = 0; rule_history(st, i, &tr); i++) {
		jsonw_obj(w, NULL);
		jsonw_time(w, "time", tr.t);
		jsonw_str(w, "from", rule_state_name(tr.from));
		jsonw_str(w, "to", rule_state_name(tr.to));
		if (tr.sev != SEV_NONE)
			jsonw_str(w, "severity", rule_sev_name(tr.sev));
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_end(w);
}

void
status_write(const struct monitor *m, struct jsonw *w)
{
	const struct config *cfg = monitor_config(m);
	const struct store *st = monitor_store(m);
	const struct ruleset *rs = monitor_rules(m);
	struct ruleset_counts counts;
	struct monitor_info info;
	struct probe_view v;
	struct rule_view rv;
	struct health h;
	int64_t now = clock_wall_ms();
	const struct monitor_reload *lr;
	cJSON *sl;
	char why[256];

	monitor_info(m, &info);
	health_eval(m, &h);
	jsonw_str(w, "status", h.status);
	if (h.output[0] != '\0')
		jsonw_str(w, "output", h.output);
	jsonw_obj(w, "vigild");
	jsonw_str(w, "version", VIGIL_VERSION);
	jsonw_int(w, "pid", (int64_t)getpid());
	jsonw_time(w, "started", info.started);
	jsonw_num(w, "uptime_s", (double)(now - info.started) / 1e3);
	jsonw_time(w, "now", now);
	jsonw_bool(w, "degraded", monitor_degraded(m, why, sizeof(why)));
	jsonw_num(w, "loop_lag_ms", (double)monitor_loop_lag_ms(m));
	jsonw_obj(w, "config");
	jsonw_str(w, "path", cfg->path);
	jsonw_time(w, "loaded", info.loaded);
	jsonw_int(w, "reloads", (int64_t)info.reloads);
	lr = monitor_last_reload(m);
	if (lr->attempted) {
		/* A rejected reload shows here, not only in the log. */
		jsonw_obj(w, "last_reload");
		jsonw_str(w, "result", lr->ok ? "ok" : "failed");
		jsonw_time(w, "at", lr->at);
		if (!lr->ok)
			jsonw_str(w, "errors", lr->errors);
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_obj(w, "store");
	jsonw_int(w, "series", (int64_t)store_count(st));
	jsonw_int(w, "bytes", (int64_t)store_bytes(st));
	jsonw_end(w);
	history_write(w, monitor_history(m));
	jsonw_end(w);
	ruleset_counts(rs, &counts);
	jsonw_obj(w, "alerts");
	jsonw_int(w, "critical", counts.critical);
	jsonw_int(w, "warning", counts.warning);
	jsonw_int(w, "pending", counts.pending);
	jsonw_int(w, "unknown", counts.unknown);
	jsonw_int(w, "suppressed", counts.suppressed);
	jsonw_end(w);
	jsonw_arr(w, "probes");
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
		probe_write(w, &v, monitor_history(m), now);
	jsonw_end(w);
	jsonw_arr(w, "rules");
	for (size_t i = 0; ruleset_view(rs, i, now, &rv); i++)
		rule_write(w, &rv, monitor_silences(m), monitor_maint(m), now);
	jsonw_end(w);
	sl = alerts_silences_json(m, now);
	jsonw_tree(w, "silences", sl);
	cJSON_Delete(sl);
	maint_write(w, monitor_maint(m), now);
}
