/*
 * metrics: the /metrics page, Prometheus text exposition format 0.0.4,
 * clean under `promtool check metrics`.
 *
 *   vigil_build_info, vigil_start_time_seconds, vigil_uptime_seconds,
 *   vigil_loop_lag_seconds, vigil_degraded, vigil_config_*, vigil_store_*,
 *   vigil_silences_active, vigil_alerts, vigil_http_*   vigild itself
 *   vigil_probe_*{probe=...}       every probe: up, down, duration, phase
 *                                  timings, runs, failures, skipped slots
 *   vigil_rule_*{rule=...}         every rule: state (one-hot), severity,
 *                                  value, thresholds, suppressed, silenced
 *   vigil_<probe>_<metric>         every other metric of the probe's last
 *                                  run, in base units (see metrics_name)
 *
 * Values come from what vigild already holds; nothing here waits.
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct monitor;
struct procstat;
struct sbuf;

/* What the HTTP side knows of itself, for vigil_http_*. */
struct metrics_http {
	unsigned connections;
	const char *const *endpoints;	/* labels, parallel to requests */
	const uint64_t *requests;
	size_t nendpoints;
	uint64_t auth_failures;
	uint64_t status_renders;	/* /status renderings (see api.c) */
	const struct procstat *proc;	/* process_*; NULL: none */
};

/* The exposition (malloc'd), or NULL when out of memory. */
char *metrics_text(const struct monitor *m, const struct metrics_http *h);

/*
 * The family name of metric `metric` of probe `probe`:
 * "vigil_<probe>_<metric>" with the unit suffix turned into Prometheus's
 * base unit, the value to be multiplied by *mul and divided by *div
 * ("p95_ms" -> "p95_seconds", / 1000; "memory_pct" -> "memory_ratio",
 * / 100; "heap_used_mb" -> "heap_used_bytes", x 1048576; "uptime_s"
 * -> "uptime_seconds"; "commits_per_s" -> "commits_per_second"), any
 * character outside [a-z0-9_:] as '_'. A name ending in _total is a
 * counter; a gauge may not end in _count, _sum or _bucket (histogram
 * parts), so those get _value. Returns 0, or -1 if it does not fit.
 */
int metrics_name(const char *probe, const char *metric, char *out,
    size_t len, double *mul, double *div, bool *counter);

/* Appends s as a label value: \, " and newline escaped. */
void metrics_label(struct sbuf *b, const char *s);

/* Appends v as the exposition writes numbers: shortest exact, NaN, +Inf. */
void metrics_value(struct sbuf *b, double v);

#endif
