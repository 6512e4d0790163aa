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
 *   vigil_metric*{probe=...,metric=...}  every other metric of the
 *                                  probe's last run, in base units, one
 *                                  family per unit and type (metrics_map)
 *
 * api.c appends the notifiers', the release gate's (vigil_deploy_*) and
 * the state file's. Values come from what vigild already holds; nothing
 * here waits.
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct monitor;
struct procstat;
struct sbuf;

/*
 * What an endpoint's shared renderings cost (api_cache.c): how many were
 * made on the loop and in a child, and the loop's time making them
 * (rendering in requests or behind them, and forking the children).
 */
#define METRICS_RENDER_ENDPOINTS 5
struct metrics_render {
	const char *endpoint;
	uint64_t loop, aside;
	double loop_seconds;
};

/* What the HTTP side knows of itself, for vigil_http_*. */
struct metrics_http {
	unsigned connections;
	const char *const *endpoints;	/* labels, parallel to requests */
	const uint64_t *requests;
	size_t nendpoints;
	uint64_t auth_failures;
	uint64_t status_renders;	/* /status renderings (see api.c) */
	/* METRICS_RENDER_ENDPOINTS of them; NULL: none. */
	const struct metrics_render *renders;
	const struct procstat *proc;	/* process_*; NULL: none */
};

/* The exposition (malloc'd), or NULL when out of memory. */
char *metrics_text(const struct monitor *m, const struct metrics_http *h);

/*
 * The families a probe's recorded values go to, by unit and type, each
 * with labels probe and metric: names fixed whatever the configuration.
 */
enum metrics_fam {
	MF_GAUGE,		/* vigil_metric */
	MF_SECONDS,		/* vigil_metric_seconds */
	MF_BYTES,		/* vigil_metric_bytes */
	MF_RATIO,		/* vigil_metric_ratio */
	MF_PER_SECOND,		/* vigil_metric_per_second */
	MF_TOTAL,		/* vigil_cumulative_total (counter) */
	MF_BYTES_TOTAL,		/* vigil_cumulative_bytes_total (counter) */
	MF_SECONDS_TOTAL,	/* vigil_cumulative_seconds_total (counter) */
	MF_COUNT
};

struct metrics_map {
	enum metrics_fam fam;
	size_t len;	/* the metric label: the name's first len bytes */
	double mul, div;	/* the value is multiplied by mul, / div */
};

/*
 * Where a probe's metric goes, counter as declared: a counter sheds
 * "_total"; then the unit suffix goes into the family and the value into
 * its base unit ("p95_ms" -> vigil_metric_seconds{metric="p95"}, / 1000;
 * "pool_used_pct" -> vigil_metric_ratio{metric="pool_used"}, / 100;
 * counter "temp_bytes_total" -> vigil_cumulative_bytes_total{metric="temp"}).
 * A suffix that would leave nothing stays ("ms" is a unitless "ms"); a
 * counter in a unit with no counter family (ratio, per second) keeps its
 * suffix in the label and goes to vigil_cumulative_total.
 */
void metrics_map(const char *metric, bool counter, struct metrics_map *out);

/* The family's name, and whether it is a counter. */
const char *metrics_fam_name(enum metrics_fam f);
bool metrics_fam_counter(enum metrics_fam f);

/* Appends s as a label value: \, " and newline escaped. */
void metrics_label(struct sbuf *b, const char *s);

/* Appends v as the exposition writes numbers: shortest exact, NaN, +Inf. */
void metrics_value(struct sbuf *b, double v);

#endif
