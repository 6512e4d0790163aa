#include "http/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "config/config.h"
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

/* Unit suffixes and what they become; the first match wins. */
/*
 * The value is multiplied by mul and divided by div: 82 / 100 is exactly
 * the 0.82 a reader expects, where 82 * 0.01 is 0.82000000000000006.
 */
static const struct unit_rule {
	const char *suffix, *base;
	double mul, div;
} unit_rules[] = {
	{ "_per_s", "_per_second", 1, 1 },
	{ "_ms", "_seconds", 1, 1e3 },
	{ "_us", "_seconds", 1, 1e6 },
	{ "_sec", "_seconds", 1, 1 },
	{ "_s", "_seconds", 1, 1 },
	{ "_days", "_seconds", 86400, 1 },
	{ "_hours", "_seconds", 3600, 1 },
	{ "_pct", "_ratio", 1, 100 },
	{ "_percent", "_ratio", 1, 100 },
	{ "_kb", "_bytes", 1024, 1 },
	{ "_mb", "_bytes", 1024.0 * 1024, 1 },
	{ "_gb", "_bytes", 1024.0 * 1024 * 1024, 1 },
	/* Histogram and summary parts may not end a gauge's name. */
	{ "_count", "_count_value", 1, 1 },
	{ "_sum", "_sum_value", 1, 1 },
	{ "_bucket", "_bucket_value", 1, 1 },
};

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int
metrics_name(const char *probe, const char *metric, char *out,
    size_t len, double *mul, double *div, bool *counter)
{
	size_t mlen = strlen(metric), n;
	const char *base = "";
	int w;

	*mul = *div = 1;
	*counter = ends_with(metric, mlen, "_total");
	if (!*counter) {
		for (size_t i = 0; i < sizeof(unit_rules) /
		    sizeof(unit_rules[0]); i++) {
			if (ends_with(metric, mlen, unit_rules[i].suffix)) {
				mlen -= strlen(unit_rules[i].suffix);
				base = unit_rules[i].base;
				*mul = unit_rules[i].mul;
				*div = unit_rules[i].div;
				break;
			}
		}
	}
	/* "hit_ratio_pct" is "hit_ratio", not "hit_ratio_ratio". */
	if (base[0] != '\0' && ends_with(metric, mlen, base))
		base = "";
	w = snprintf(out, len, "vigil_%s_%.*s%s", probe, (int)mlen, metric,
	    base);
	if (w < 0 || (size_t)w >= len)
		return -1;
	n = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == ':'))
			out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') :
			    '_';
	}
	return 0;
}

void
metrics_label(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		size_t n = strcspn(s, "\\\"\n");

		sbuf_add(b, s, n);
		s += n;
		if (*s == '\0')
			break;
		sbuf_puts(b, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n");
	}
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

/* vigild itself: the first thing to look at when the numbers look odd. */
static void
self_metrics(struct sbuf *b, const struct monitor *m,
    const struct metrics_http *h, int64_t now)
{
	static const char *const sevs[] = { "critical", "warning" };
	struct monitor_info info;
	struct ruleset_counts c;
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
	ruleset_counts(monitor_rules(m), &c);
	family(b, "vigil_alerts", "gauge",
	    "Rules firing, by severity (suppressed ones included).");
	sample1(b, "vigil_alerts", "severity", sevs[0], c.critical);
	sample1(b, "vigil_alerts", "severity", sevs[1], c.warning);
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
	    "run of an http probe: dns, connect, tls, first_byte (absent "
	    "when a kept connection was reused).");
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++) {
		for (size_t p = 0; p < NPHASES && v.last != NULL; p++)
			if (probe_result_get(v.last, phases[p].metric, &x))
				sample2(b, "vigil_probe_phase_seconds", "probe",
				    v.name, "phase", phases[p].phase, x / 1e3);
	}
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
	char name[200];
	const char *probe, *metric;
	double value, mul, div;
	bool counter;
	size_t order;		/* emission order before sorting, for ties */
};

static int
cmp_derived(const void *a, const void *b)
{
	const struct derived *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Whether name is one of the families above: a probe called "rule" with a
 * metric "value" must not add a second vigil_rule_value.
 */
static bool
taken(const char *name)
{
	static const char *const fixed[] = { "vigil_build_info",
	    "vigil_start_time_seconds", "vigil_uptime_seconds",
	    "vigil_loop_lag_seconds", "vigil_degraded",
	    "vigil_config_reloads_total", "vigil_config_last_reload_successful",
	    "vigil_config_loaded_timestamp_seconds", "vigil_store_series",
	    "vigil_store_bytes", "vigil_silences_active", "vigil_alerts",
	    "vigil_http_connections", "vigil_http_requests_total",
	    "vigil_http_auth_failures_total",
	    "vigil_http_status_renders_total", "vigil_probe_phase_seconds",
	    "vigil_rule_state", "vigil_rule_severity", "vigil_rule_value",
	    "vigil_rule_threshold", "vigil_rule_state_since_timestamp_seconds",
	    "vigil_rule_suppressed", "vigil_rule_silenced",
	    "vigil_rule_flapping", NULL };

	for (size_t i = 0; fixed[i] != NULL; i++)
		if (strcmp(fixed[i], name) == 0)
			return true;
	for (int f = 0; f < PF_COUNT; f++)
		if (strcmp(probe_fams[f].name, name) == 0)
			return true;
	return false;
}

/*
 * Every other metric of each probe's last run, one family each, sorted by
 * name. A failed run reports few metrics; the missing ones are simply
 * absent, which Prometheus reads as stale rather than as a false value.
 */
static int
derived_metrics(struct sbuf *b, const struct monitor *m)
{
	struct derived *d;
	struct probe_view v;
	size_t n = 0, cap = 0;
	char help[300];

	for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
		if (v.last != NULL)
			cap += v.last->nmetrics;
	d = calloc(cap + 1, sizeof(*d));
	if (d == NULL)
		return -1;
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++) {
		for (size_t k = 0; v.last != NULL && k < v.last->nmetrics;
		    k++) {
			const struct probe_metric *pm = &v.last->metrics[k];
			struct derived *e = &d[n];

			if (builtin(pm->name) || n == cap ||
			    metrics_name(v.name, pm->name, e->name,
			    sizeof(e->name), &e->mul, &e->div,
			    &e->counter) != 0)
				continue;
			e->probe = v.name;
			e->metric = pm->name;
			e->value = pm->value * e->mul / e->div;
			e->order = n++;
		}
	}
	qsort(d, n, sizeof(*d), cmp_derived);
	for (size_t i = 0; i < n; i++) {
		if (taken(d[i].name) ||
		    (i > 0 && strcmp(d[i].name, d[i - 1].name) == 0)) {
			/* A comment, so the loss is visible, not silent. */
			sbuf_printf(b, "# vigil: %s.%s is not exported: its "
			    "name %s is taken\n", d[i].probe, d[i].metric,
			    d[i].name);
			continue;
		}
		if (d[i].mul != 1)
			snprintf(help, sizeof(help), "%s.%s from the probe's "
			    "last run, converted to base units (x %.10g).",
			    d[i].probe, d[i].metric, d[i].mul);
		else if (d[i].div != 1)
			snprintf(help, sizeof(help), "%s.%s from the probe's "
			    "last run, converted to base units (/ %.10g).",
			    d[i].probe, d[i].metric, d[i].div);
		else
			snprintf(help, sizeof(help), "%s.%s from the probe's "
			    "last run.", d[i].probe, d[i].metric);
		family(b, d[i].name, d[i].counter ? "counter" : "gauge", help);
		sample1(b, d[i].name, NULL, NULL, d[i].value);
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
	rule_metrics(&b, m, now);
	if (derived_metrics(&b, m) != 0) {
		sbuf_free(&b);
		return NULL;
	}
	return sbuf_take(&b);
}
