#include "http/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/maint.h"
#include "engine/monitor.h"
#include "probe/probe.h"
#include "engine/ruleset.h"
#include "base/numfmt.h"
#include "base/procstat.h"
#include "base/sbuf.h"
#include "engine/silence.h"
#include "engine/store.h"

/*
 * A scrape larger than this is refused rather than cut short. About 1.2 KB
 * a probe with its implicit rule: 8 MiB refused every scrape past ~7,000
 * probes (found by bench/run at 10,000).
 */
#define METRICS_MAX (256 * 1024 * 1024)

/*
 * Unit suffixes and the gauge family each goes to; the first match wins.
 * The value is multiplied by mul and divided by div: 82 / 100 is exactly
 * the 0.82 a reader expects, where 82 * 0.01 is 0.82000000000000006.
 */
static const struct unit_rule {
	const char *suffix;
	enum metrics_fam fam;
	double mul, div;
} unit_rules[] = {
	{ "_per_s", MF_PER_SECOND, 1, 1 },
	{ "_ms", MF_SECONDS, 1, 1e3 },
	{ "_us", MF_SECONDS, 1, 1e6 },
	{ "_sec", MF_SECONDS, 1, 1 },
	{ "_s", MF_SECONDS, 1, 1 },
	{ "_days", MF_SECONDS, 86400, 1 },
	{ "_hours", MF_SECONDS, 3600, 1 },
	{ "_pct", MF_RATIO, 1, 100 },
	{ "_percent", MF_RATIO, 1, 100 },
	{ "_ratio", MF_RATIO, 1, 1 },
	{ "_bytes", MF_BYTES, 1, 1 },
	{ "_kb", MF_BYTES, 1024, 1 },
	{ "_mb", MF_BYTES, 1024.0 * 1024, 1 },
	{ "_gb", MF_BYTES, 1024.0 * 1024 * 1024, 1 },
};

static const struct {
	const char *name, *help;
	bool counter;
} fams[MF_COUNT] = {
	[MF_GAUGE] = { "vigil_metric", "Values of each probe's last run "
	    "without a unit.", false },
	[MF_SECONDS] = { "vigil_metric_seconds", "Durations of each probe's "
	    "last run, in seconds (from _ms, _us, _s, _sec, _hours, _days).",
	    false },
	[MF_BYTES] = { "vigil_metric_bytes", "Sizes of each probe's last run, "
	    "in bytes (from _bytes, _kb, _mb, _gb).", false },
	[MF_RATIO] = { "vigil_metric_ratio", "Fractions of each probe's last "
	    "run, 0..1 (from _pct and _percent / 100, _ratio).", false },
	[MF_PER_SECOND] = { "vigil_metric_per_second", "Rates of each probe's "
	    "last run, per second (from _per_s).", false },
	/*
	 * Counters are vigil_cumulative_*, not vigil_metric_*_total: in
	 * OpenMetrics a counter's family is its name less _total, and
	 * vigil_metric_total would then be the gauge vigil_metric's (and
	 * promtool refuses "counter" in a counter's name).
	 */
	[MF_TOTAL] = { "vigil_cumulative_total", "Counters each probe "
	    "declares, as of its last run.", true },
	[MF_BYTES_TOTAL] = { "vigil_cumulative_bytes_total", "Counters of "
	    "bytes each probe declares, as of its last run.", true },
	[MF_SECONDS_TOTAL] = { "vigil_cumulative_seconds_total", "Counters of "
	    "seconds each probe declares, as of its last run.", true },
};

const char *
metrics_fam_name(enum metrics_fam f)
{
	return f < MF_COUNT ? fams[f].name : "?";
}

bool
metrics_fam_counter(enum metrics_fam f)
{
	return f < MF_COUNT && fams[f].counter;
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	/* n > k: a suffix alone is a name, not a unit. */
	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

void
metrics_map(const char *metric, bool counter, struct metrics_map *out)
{
	size_t n = strlen(metric);

	out->fam = counter ? MF_TOTAL : MF_GAUGE;
	out->mul = out->div = 1;
	if (counter && ends_with(metric, n, "_total"))
		n -= 6;
	out->len = n;
	for (size_t i = 0; i < sizeof(unit_rules) / sizeof(unit_rules[0]);
	    i++) {
		const struct unit_rule *u = &unit_rules[i];

		if (!ends_with(metric, n, u->suffix))
			continue;
		if (counter && u->fam != MF_SECONDS && u->fam != MF_BYTES)
			break;
		out->fam = !counter ? u->fam : u->fam == MF_SECONDS ?
		    MF_SECONDS_TOTAL : MF_BYTES_TOTAL;
		out->len = n - strlen(u->suffix);
		out->mul = u->mul;
		out->div = u->div;
		break;
	}
}

/* s[0..n) as a label value: \, " and newline escaped. */
static void
label_n(struct sbuf *b, const char *s, size_t n)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" :
		    s[i] == '\n' ? "\\n" : NULL;

		if (esc == NULL)
			continue;
		sbuf_add(b, s + from, i - from);
		sbuf_puts(b, esc);
		from = i + 1;
	}
	sbuf_add(b, s + from, n - from);
}

void
metrics_label(struct sbuf *b, const char *s)
{
	label_n(b, s, strlen(s));
}

/* HELP text escapes backslash and newline only. */
static void
help_text(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			sbuf_puts(b, "\\\\");
		else if (*s == '\n')
			sbuf_puts(b, "\\n");
		else
			sbuf_add(b, s, 1);
	}
}

void
metrics_value(struct sbuf *b, double v)
{
	char buf[40];

	if (isnan(v)) {
		sbuf_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Whole numbers and milliseconds by hand (most of a scrape); else
	 * the shortest of %.15g and %.17g that reads back exactly. */
	if (numfmt_exact(v, buf) == 0) {
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
	}
	sbuf_puts(b, buf);
}

static void
family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	/* Pieces, not printf: a rendering writes thousands of these. */
	sbuf_puts(b, "# HELP ");
	sbuf_puts(b, name);
	sbuf_add(b, " ", 1);
	help_text(b, help);
	sbuf_puts(b, "\n# TYPE ");
	sbuf_puts(b, name);
	sbuf_add(b, " ", 1);
	sbuf_puts(b, type);
	sbuf_add(b, "\n", 1);
}

/* name{k="v"} value, with one label or none (k NULL). */
static void
sample1(struct sbuf *b, const char *name, const char *k, const char *v,
    double value)
{
	sbuf_puts(b, name);
	if (k != NULL) {
		sbuf_add(b, "{", 1);
		sbuf_puts(b, k);
		sbuf_add(b, "=\"", 2);
		metrics_label(b, v);
		sbuf_puts(b, "\"}");
	}
	sbuf_add(b, " ", 1);
	metrics_value(b, value);
	sbuf_add(b, "\n", 1);
}

static void
sample2(struct sbuf *b, const char *name, const char *k1, const char *v1,
    const char *k2, const char *v2, double value)
{
	sbuf_puts(b, name);
	sbuf_add(b, "{", 1);
	sbuf_puts(b, k1);
	sbuf_add(b, "=\"", 2);
	metrics_label(b, v1);
	sbuf_add(b, "\",", 2);
	sbuf_puts(b, k2);
	sbuf_add(b, "=\"", 2);
	metrics_label(b, v2);
	sbuf_puts(b, "\"} ");
	metrics_value(b, value);
	sbuf_add(b, "\n", 1);
}

/*
 * The process_* families every Prometheus client library exports, by
 * their standard names, so the usual dashboards and rules apply.
 */
static void
process_metrics(struct sbuf *b, const struct procstat *p, double started)
{
	if (p == NULL || !p->ok)
		return;
	family(b, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent in seconds.");
	sample1(b, "process_cpu_seconds_total", NULL, NULL, p->cpu_seconds);
	family(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	sample1(b, "process_resident_memory_bytes", NULL, NULL,
	    p->resident_bytes);
	family(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	sample1(b, "process_virtual_memory_bytes", NULL, NULL,
	    p->virtual_bytes);
	if (p->open_fds >= 0) {
		family(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		sample1(b, "process_open_fds", NULL, NULL, p->open_fds);
	}
	if (p->max_fds >= 0) {
		family(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		sample1(b, "process_max_fds", NULL, NULL, p->max_fds);
	}
	family(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	sample1(b, "process_start_time_seconds", NULL, NULL, started);
}

/* Rules firing or pending, by severity (suppressed ones included). */
static void
alerts_metrics(struct sbuf *b, const struct ruleset *rs)
{
	static const char *const sevs[] = { "critical", "warning" };
	static const char *const states[] = { "firing", "pending" };
	unsigned n[2][2] = { { 0, 0 }, { 0, 0 } };
	const struct rule_status *st;

	for (size_t i = 0; (st = ruleset_status(rs, i)) != NULL; i++)
		if (st->state == RULE_FIRING || st->state == RULE_PENDING)
			n[st->state == RULE_PENDING][st->sev != SEV_CRITICAL]++;
	family(b, "vigil_alerts", "gauge", "Rules firing or pending, by "
	    "severity (suppressed ones included).");
	for (size_t s = 0; s < 2; s++)
		for (size_t v = 0; v < 2; v++)
			sample2(b, "vigil_alerts", "state", states[s],
			    "severity", sevs[v], n[s][v]);
}

/* vigild itself: the first thing to look at when the numbers look odd. */
static void
self_metrics(struct sbuf *b, const struct monitor *m,
    const struct metrics_http *h, int64_t now)
{
	struct monitor_info info;
	const struct silences *sl = monitor_silences(m);
	const struct silence *x;
	size_t active = 0;
	char why[256];

	monitor_info(m, &info);
	family(b, "vigil_build_info", "gauge",
	    "vigild's version, as a label; the value is always 1.");
	sample1(b, "vigil_build_info", "version", VIGIL_VERSION, 1);
	family(b, "vigil_start_time_seconds", "gauge",
	    "When vigild started, in Unix seconds.");
	sample1(b, "vigil_start_time_seconds", NULL, NULL,
	    (double)info.started / 1e3);
	family(b, "vigil_uptime_seconds", "gauge",
	    "How long vigild has been running.");
	sample1(b, "vigil_uptime_seconds", NULL, NULL,
	    (double)(now - info.started) / 1e3);
	family(b, "vigil_loop_lag_seconds", "gauge",
	    "How late vigild's event loop ran its last once-a-second tick.");
	sample1(b, "vigil_loop_lag_seconds", NULL, NULL,
	    (double)monitor_loop_lag_ms(m) / 1e3);
	family(b, "vigil_degraded", "gauge", "1 when vigild itself cannot be "
	    "trusted: its loop lagged over a second, or a probe run could "
	    "not start. /livez answers 503 then.");
	sample1(b, "vigil_degraded", NULL, NULL,
	    monitor_degraded(m, why, sizeof(why)) ? 1 : 0);
	family(b, "vigil_config_reloads_total", "counter",
	    "Configuration reloads that took effect.");
	sample1(b, "vigil_config_reloads_total", NULL, NULL,
	    (double)info.reloads);
	/* Prometheus's own convention: alert on == 0. */
	family(b, "vigil_config_last_reload_successful", "gauge",
	    "0 when the last reload was rejected (the previous configuration "
	    "runs on), else 1.");
	sample1(b, "vigil_config_last_reload_successful", NULL, NULL,
	    !monitor_last_reload(m)->attempted || monitor_last_reload(m)->ok ?
	    1 : 0);
	family(b, "vigil_config_loaded_timestamp_seconds", "gauge",
	    "When the configuration in force was loaded, in Unix seconds.");
	sample1(b, "vigil_config_loaded_timestamp_seconds", NULL, NULL,
	    (double)info.loaded / 1e3);
	family(b, "vigil_store_series", "gauge",
	    "Metric series in vigild's store.");
	sample1(b, "vigil_store_series", NULL, NULL,
	    (double)store_count(monitor_store(m)));
	family(b, "vigil_store_bytes", "gauge",
	    "Memory held by the store's series.");
	sample1(b, "vigil_store_bytes", NULL, NULL,
	    (double)store_bytes(monitor_store(m)));
	for (size_t i = 0; (x = silences_at(sl, i)) != NULL; i++)
		active += x->expires > now;
	family(b, "vigil_silences_active", "gauge",
	    "Silences in force (each has an expiry).");
	sample1(b, "vigil_silences_active", NULL, NULL, (double)active);
	alerts_metrics(b, monitor_rules(m));
	if (h == NULL)
		return;
	process_metrics(b, h->proc, (double)info.started / 1e3);
	family(b, "vigil_http_connections", "gauge",
	    "Open connections to vigild's HTTP endpoint.");
	sample1(b, "vigil_http_connections", NULL, NULL, h->connections);
	family(b, "vigil_http_requests_total", "counter",
	    "Requests answered, by endpoint.");
	for (size_t i = 0; i < h->nendpoints; i++)
		sample1(b, "vigil_http_requests_total", "endpoint",
		    h->endpoints[i], (double)h->requests[i]);
	family(b, "vigil_http_auth_failures_total", "counter",
	    "Requests refused for a missing or wrong bearer token.");
	sample1(b, "vigil_http_auth_failures_total", NULL, NULL,
	    (double)h->auth_failures);
	family(b, "vigil_http_status_renders_total", "counter",
	    "Renderings of /status; its readers share one for a moment.");
	sample1(b, "vigil_http_status_renders_total", NULL, NULL,
	    (double)h->status_renders);
	if (h->renders == NULL)
		return;
	family(b, "vigil_http_renders_total", "counter", "Renderings of a "
	    "shared answer, by endpoint and where made: on the loop, or "
	    "aside in a forked child.");
	for (size_t i = 0; i < METRICS_RENDER_ENDPOINTS; i++) {
		sample2(b, "vigil_http_renders_total", "endpoint",
		    h->renders[i].endpoint, "where", "loop",
		    (double)h->renders[i].loop);
		sample2(b, "vigil_http_renders_total", "endpoint",
		    h->renders[i].endpoint, "where", "aside",
		    (double)h->renders[i].aside);
	}
	family(b, "vigil_http_render_loop_seconds_total", "counter", "Time "
	    "vigild's loop spent making an endpoint's shared answers: "
	    "rendering them, and forking the children that render aside.");
	for (size_t i = 0; i < METRICS_RENDER_ENDPOINTS; i++)
		sample1(b, "vigil_http_render_loop_seconds_total", "endpoint",
		    h->renders[i].endpoint, h->renders[i].loop_seconds);
}

enum probe_fam {
	PF_UP, PF_DOWN, PF_DURATION, PF_LAST_RUN, PF_RUNS, PF_FAILURES,
	PF_SKIPPED, PF_MISSED, PF_START_FAILURES, PF_LATENESS, PF_INTERVAL,
	PF_COUNT
};

static const struct {
	const char *name, *type, *help;
} probe_fams[PF_COUNT] = {
	[PF_UP] = { "vigil_probe_up", "gauge",
	    "1 if the probe's last run passed every expectation, else 0." },
	[PF_DOWN] = { "vigil_probe_down", "gauge", "1 while the probe is "
	    "down (after fail_after failed runs), else 0." },
	[PF_DURATION] = { "vigil_probe_duration_seconds", "gauge",
	    "How long the probe's last run took, as vigild measured it." },
	[PF_LAST_RUN] = { "vigil_probe_last_run_timestamp_seconds", "gauge",
	    "When the probe's last run started, in Unix seconds." },
	[PF_RUNS] = { "vigil_probe_runs_total", "counter",
	    "Runs of the probe that finished." },
	[PF_FAILURES] = { "vigil_probe_failures_total", "counter",
	    "Runs of the probe that failed." },
	[PF_SKIPPED] = { "vigil_probe_skipped_total", "counter",
	    "Slots skipped because the previous run was still in flight." },
	[PF_MISSED] = { "vigil_probe_missed_slots_total", "counter",
	    "Slots vigild's loop was too late for." },
	[PF_START_FAILURES] = { "vigil_probe_start_failures_total",
	    "counter", "Runs that could not start (out of memory or "
	    "descriptors)." },
	[PF_LATENESS] = { "vigil_probe_start_lateness_seconds", "gauge",
	    "How late the last run started against its schedule." },
	[PF_INTERVAL] = { "vigil_probe_interval_seconds", "gauge",
	    "The probe's configured interval." },
};

static bool
probe_value(const struct probe_view *v, enum probe_fam f, double *out)
{
	const struct probe_result *r = v->last;

	switch (f) {
	case PF_UP:
		if (r == NULL)
			return false;
		*out = r->up ? 1 : 0;
		return true;
	case PF_DOWN:
		if (v->state == PROBE_STATE_PENDING)
			return false;
		*out = v->state == PROBE_STATE_DOWN ? 1 : 0;
		return true;
	case PF_DURATION:
		if (r == NULL)
			return false;
		*out = r->duration_ms / 1e3;
		return true;
	case PF_LAST_RUN:
		if (r == NULL)
			return false;
		*out = (double)r->started / 1e3;
		return true;
	case PF_RUNS:
		*out = (double)v->runs;
		return true;
	case PF_FAILURES:
		*out = (double)v->failures;
		return true;
	case PF_SKIPPED:
		*out = (double)v->skipped;
		return true;
	case PF_MISSED:
		*out = (double)v->missed;
		return true;
	case PF_START_FAILURES:
		*out = (double)v->start_failures;
		return true;
	case PF_LATENESS:
		*out = (double)v->last_lateness_us / 1e6;
		return true;
	case PF_INTERVAL:
		*out = (double)v->interval_ms / 1e3;
		return true;
	case PF_COUNT:
		break;
	}
	return false;
}

/* The HTTP timings with their own family; phase is the label. */
static const struct {
	const char *metric, *phase;
} phases[] = {
	{ "dns_ms", "dns" },
	{ "connect_ms", "connect" },
	{ "tls_ms", "tls" },
	{ "ttfb_ms", "first_byte" },
};
#define NPHASES (sizeof(phases) / sizeof(phases[0]))

static void
probe_metrics(struct sbuf *b, const struct monitor *m)
{
	struct probe_view v;
	double x;

	for (int f = 0; f < PF_COUNT; f++) {
		family(b, probe_fams[f].name, probe_fams[f].type,
		    probe_fams[f].help);
		for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
			if (probe_value(&v, (enum probe_fam)f, &x))
				sample1(b, probe_fams[f].name, "probe", v.name,
				    x);
	}
	family(b, "vigil_probe_phase_seconds", "gauge", "Phases of the last "
	    "run of an http, tcp, tls or postgres probe: dns, connect, tls, "
	    "first_byte (absent when a kept connection was reused).");
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++) {
		for (size_t p = 0; p < NPHASES && v.last != NULL; p++)
			if (probe_result_get(v.last, phases[p].metric, &x))
				sample2(b, "vigil_probe_phase_seconds", "probe",
				    v.name, "phase", phases[p].phase, x / 1e3);
	}
}

/*
 * Uptime over fixed windows, a ratio as Prometheus's conventions want
 * (0..1, not percent); absent for a window without a run. history.h says
 * how each window counts.
 */
static void
uptime_metrics(struct sbuf *b, const struct monitor *m, int64_t now)
{
	static const struct {
		const char *name;
		int64_t days;
	} win[] = { { "24h", 1 }, { "7d", 7 }, { "30d", 30 }, { "90d", 90 } };
	const struct history *h = monitor_history(m);
	struct history_stats hs;
	struct probe_view v;
	double pct;

	family(b, "vigil_probe_uptime_ratio", "gauge", "Runs of the probe "
	    "that ended ok, of all its runs, over window (24h: the last 1440 "
	    "minutes; 7d, 30d, 90d: whole UTC days, today's included).");
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
		for (size_t k = 0; k < sizeof(win) / sizeof(win[0]); k++)
			if (history_uptime(h, v.name, now, win[k].days *
			    HISTORY_DAY_MS, &pct))
				sample2(b, "vigil_probe_uptime_ratio", "probe",
				    v.name, "window", win[k].name, pct / 100);
	history_stats(h, &hs);
	if (!hs.persistent)
		return;
	family(b, "vigil_history_writes_total", "counter",
	    "Writes of the history files that worked.");
	sample1(b, "vigil_history_writes_total", NULL, NULL,
	    (double)hs.writes);
	family(b, "vigil_history_write_failures_total", "counter",
	    "Writes of the history files that failed.");
	sample1(b, "vigil_history_write_failures_total", NULL, NULL,
	    (double)hs.failures);
}

/*
 * The maintenance windows in force, 1 each (none: no sample): an alert
 * rule can keep a window from hiding a real outage past its end, and a
 * dashboard can shade the time it held the notifications.
 */
#define METRICS_MAINT_MAX 64
static void
maint_metrics(struct sbuf *b, const struct monitor *m, int64_t now)
{
	struct maint_view v[METRICS_MAINT_MAX];
	size_t n = maint_active(monitor_maint(m), now, v, METRICS_MAINT_MAX);

	family(b, "vigil_maintenance_active", "gauge", "1 for each maintenance "
	    "window in force: the rules it covers notify no one.");
	for (size_t i = 0; i < n && i < METRICS_MAINT_MAX; i++)
		sample1(b, "vigil_maintenance_active", "window", v[i].w->name,
		    1);
}

/*
 * Rule i's configuration and state, without the texts ruleset_view()
 * fills: eight families walk every rule, and those texts were a fifth of
 * a /metrics rendering.
 */
struct rule_ref {
	const struct rule_cfg *cfg;
	const struct rule_status *st;
};

static bool
rule_at(const struct ruleset *rs, size_t i, struct rule_ref *v)
{
	v->cfg = ruleset_cfg(rs, i);
	v->st = ruleset_status(rs, i);
	return v->cfg != NULL && v->st != NULL;
}

static void
rule_metrics(struct sbuf *b, const struct monitor *m, int64_t now)
{
	static const enum rule_state states[] = { RULE_OK, RULE_PENDING,
	    RULE_FIRING, RULE_RESOLVED, RULE_UNKNOWN };
	const struct ruleset *rs = monitor_rules(m);
	const struct silences *sl = monitor_silences(m);
	struct rule_ref v;

	family(b, "vigil_rule_state", "gauge", "1 for the state each rule is "
	    "in (ok, pending, firing, resolved, unknown), 0 for the others.");
	for (size_t i = 0; rule_at(rs, i, &v); i++)
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
			sample2(b, "vigil_rule_state", "rule", v.cfg->name,
			    "state", rule_state_name(states[s]),
			    v.st->state == states[s] ? 1 : 0);
	family(b, "vigil_rule_severity", "gauge", "Severity of a firing or "
	    "pending rule: 2 critical, 1 warning, 0 none.");
	for (size_t i = 0; rule_at(rs, i, &v); i++) {
		bool on = v.st->state == RULE_FIRING ||
		    v.st->state == RULE_PENDING;

		sample1(b, "vigil_rule_severity", "rule", v.cfg->name,
		    !on ? 0 : v.st->sev == SEV_CRITICAL ? 2 :
		    v.st->sev == SEV_WARNING ? 1 : 0);
	}
	family(b, "vigil_rule_value", "gauge", "The value each rule judged at "
	    "its last evaluation, in the rule's unit (absent while unknown).");
	for (size_t i = 0; rule_at(rs, i, &v); i++)
		if (v.st->known)
			sample1(b, "vigil_rule_value", "rule", v.cfg->name,
			    v.st->value);
	family(b, "vigil_rule_threshold", "gauge",
	    "Each rule's configured absolute thresholds, by level.");
	for (size_t i = 0; rule_at(rs, i, &v); i++) {
		if (v.cfg->def.warn.set)
			sample2(b, "vigil_rule_threshold", "rule", v.cfg->name,
			    "level", "warning", v.cfg->def.warn.threshold);
		if (v.cfg->def.crit.set)
			sample2(b, "vigil_rule_threshold", "rule", v.cfg->name,
			    "level", "critical", v.cfg->def.crit.threshold);
	}
	family(b, "vigil_rule_state_since_timestamp_seconds", "gauge",
	    "When each rule entered its current state, in Unix seconds.");
	for (size_t i = 0; rule_at(rs, i, &v); i++)
		if (v.st->evaluated != 0)
			sample1(b, "vigil_rule_state_since_timestamp_seconds",
			    "rule", v.cfg->name, (double)v.st->since / 1e3);
	family(b, "vigil_rule_suppressed", "gauge", "1 while a rule's "
	    "dependency fails (it shows as suppressed by it).");
	for (size_t i = 0; rule_at(rs, i, &v); i++)
		sample1(b, "vigil_rule_suppressed", "rule", v.cfg->name,
		    v.st->suppressed ? 1 : 0);
	family(b, "vigil_rule_silenced", "gauge", "1 while a silence holds "
	    "the rule's notifications.");
	for (size_t i = 0; rule_at(rs, i, &v); i++)
		sample1(b, "vigil_rule_silenced", "rule", v.cfg->name,
		    silences_match(sl, v.cfg, now) != NULL ? 1 : 0);
	family(b, "vigil_rule_flapping", "gauge",
	    "1 while a rule flips in and out of firing too often.");
	for (size_t i = 0; rule_at(rs, i, &v); i++)
		sample1(b, "vigil_rule_flapping", "rule", v.cfg->name,
		    v.st->flapping ? 1 : 0);
}

/* Metrics with a family of their own, left out of the derived ones. */
static bool
builtin(const char *metric)
{
	static const char *const names[] = { "up", "duration_ms", "dns_ms",
	    "connect_ms", "tls_ms", "ttfb_ms", NULL };

	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], metric) == 0)
			return true;
	return false;
}

struct derived {
	const char *probe, *metric;
	struct metrics_map map;
	double value;
	size_t order;		/* emission order before sorting, for ties */
};

/* By family, then as recorded: each probe's series stay together. */
static int
cmp_derived(const void *a, const void *b)
{
	const struct derived *x = a, *y = b;

	if (x->map.fam != y->map.fam)
		return x->map.fam < y->map.fam ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Whether d[i]'s labels are an earlier series' of the same probe. */
static bool
duplicate(const struct derived *d, size_t i)
{
	for (size_t j = i; j-- > 0 && d[j].map.fam == d[i].map.fam &&
	    d[j].probe == d[i].probe;)
		if (d[j].map.len == d[i].map.len && memcmp(d[j].metric,
		    d[i].metric, d[i].map.len) == 0)
			return true;
	return false;
}

static void
derived_sample(struct sbuf *b, const struct derived *e)
{
	sbuf_puts(b, fams[e->map.fam].name);
	sbuf_puts(b, "{probe=\"");
	metrics_label(b, e->probe);
	sbuf_puts(b, "\",metric=\"");
	label_n(b, e->metric, e->map.len);
	sbuf_puts(b, "\"} ");
	metrics_value(b, e->value * e->map.mul / e->map.div);
	sbuf_add(b, "\n", 1);
}

/*
 * Every other metric of each probe's last run, in the family of its unit
 * and type. A failed run reports few metrics; the missing ones are simply
 * absent, which Prometheus reads as stale rather than as a false value.
 */
static int
derived_metrics(struct sbuf *b, const struct monitor *m)
{
	struct derived *d;
	struct probe_view v;
	size_t n = 0, cap = 0;

	for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
		if (v.last != NULL)
			cap += v.last->nmetrics;
	d = calloc(cap + 1, sizeof(*d));
	if (d == NULL)
		return -1;
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++) {
		for (size_t k = 0; v.last != NULL && k < v.last->nmetrics &&
		    n < cap; k++) {
			const struct probe_metric *pm = &v.last->metrics[k];
			struct derived *e = &d[n];

			if (builtin(pm->name))
				continue;
			metrics_map(pm->name, v.cfg != NULL &&
			    probe_metric_counter(v.cfg, pm->name), &e->map);
			e->probe = v.name;
			e->metric = pm->name;
			e->value = pm->value;
			e->order = n++;
		}
	}
	qsort(d, n, sizeof(*d), cmp_derived);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || d[i].map.fam != d[i - 1].map.fam)
			family(b, fams[d[i].map.fam].name,
			    fams[d[i].map.fam].counter ? "counter" : "gauge",
			    fams[d[i].map.fam].help);
		/*
		 * "p95_ms" and "p95_s" would be one series twice: the first
		 * is kept, and a comment makes the loss visible.
		 */
		if (duplicate(d, i)) {
			sbuf_printf(b, "# vigil: %s.%s is not exported: an "
			    "earlier metric of the probe has its labels\n",
			    d[i].probe, d[i].metric);
			continue;
		}
		derived_sample(b, &d[i]);
	}
	free(d);
	return 0;
}

char *
metrics_text(const struct monitor *m, const struct metrics_http *h)
{
	int64_t now = clock_wall_ms();
	struct sbuf b;

	sbuf_init(&b, METRICS_MAX);
	self_metrics(&b, m, h, now);
	probe_metrics(&b, m);
	uptime_metrics(&b, m, now);
	maint_metrics(&b, m, now);
	rule_metrics(&b, m, now);
	if (derived_metrics(&b, m) != 0) {
		sbuf_free(&b);
		return NULL;
	}
	return sbuf_take(&b);
}
