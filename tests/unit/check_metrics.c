/*
 * metrics: a recorded name to its fixed family, label and base unit; the
 * declared counter or gauge; label escaping, numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "http/metrics.h"
#include "config/config.h"
#include "base/sbuf.h"
#include "suites.h"

/* One row: a recorded name, its declared type, where it must go. */
static const struct {
	const char *metric;
	bool counter;
	const char *family, *label;
	double mul, div;
} map_table[] = {
	{ "p95_ms", false, "vigil_metric_seconds", "p95", 1, 1000 },
	{ "lag_us", false, "vigil_metric_seconds", "lag", 1, 1e6 },
	{ "longest_query_s", false, "vigil_metric_seconds", "longest_query",
	    1, 1 },
	{ "uptime_sec", false, "vigil_metric_seconds", "uptime", 1, 1 },
	{ "cert_expiry_days", false, "vigil_metric_seconds", "cert_expiry",
	    86400, 1 },
	{ "age_hours", false, "vigil_metric_seconds", "age", 3600, 1 },
	{ "body_bytes", false, "vigil_metric_bytes", "body", 1, 1 },
	{ "heap_kb", false, "vigil_metric_bytes", "heap", 1024, 1 },
	{ "heap_used_mb", false, "vigil_metric_bytes", "heap_used", 1048576,
	    1 },
	{ "disk_gb", false, "vigil_metric_bytes", "disk", 1073741824, 1 },
	{ "pool_used_pct", false, "vigil_metric_ratio", "pool_used", 1, 100 },
	{ "memory_percent", false, "vigil_metric_ratio", "memory", 1, 100 },
	{ "cache_hit_ratio_pct", false, "vigil_metric_ratio",
	    "cache_hit_ratio", 1, 100 },
	{ "hit_ratio", false, "vigil_metric_ratio", "hit", 1, 1 },
	{ "commits_per_s", false, "vigil_metric_per_second", "commits", 1,
	    1 },
	{ "http_status", false, "vigil_metric", "http_status", 1, 1 },
	{ "custom_jobs_count", false, "vigil_metric", "custom_jobs_count", 1,
	    1 },
	/* Undeclared, a _total is a gauge's name like any other. */
	{ "requests_total", false, "vigil_metric", "requests_total", 1, 1 },
	{ "xact_commit_total", true, "vigil_cumulative_total", "xact_commit", 1,
	    1 },
	{ "requests", true, "vigil_cumulative_total", "requests", 1, 1 },
	{ "temp_bytes_total", true, "vigil_cumulative_bytes_total", "temp", 1,
	    1 },
	{ "cpu_ms_total", true, "vigil_cumulative_seconds_total", "cpu", 1,
	    1000 },
	{ "busy_s", true, "vigil_cumulative_seconds_total", "busy", 1, 1 },
	/* No counter family for these units: the suffix stays a name. */
	{ "load_pct_total", true, "vigil_cumulative_total", "load_pct", 1, 1 },
	{ "commits_per_s", true, "vigil_cumulative_total", "commits_per_s", 1,
	    1 },
	/* A suffix alone is a name, not a unit. */
	{ "ms", false, "vigil_metric", "ms", 1, 1 },
	{ "_ms", false, "vigil_metric", "_ms", 1, 1 },
	{ "total", true, "vigil_cumulative_total", "total", 1, 1 },
	{ "bytes_total", true, "vigil_cumulative_total", "bytes", 1, 1 },
};

START_TEST(test_map_table)
{
	for (size_t i = 0; i < sizeof(map_table) / sizeof(map_table[0]); i++) {
		struct metrics_map mm;

		metrics_map(map_table[i].metric, map_table[i].counter, &mm);
		ck_assert_msg(strcmp(metrics_fam_name(mm.fam),
		    map_table[i].family) == 0, "%s: %s", map_table[i].metric,
		    metrics_fam_name(mm.fam));
		ck_assert_msg(mm.len == strlen(map_table[i].label) &&
		    strncmp(map_table[i].metric, map_table[i].label,
		    mm.len) == 0, "%s: label %.*s", map_table[i].metric,
		    (int)mm.len, map_table[i].metric);
		ck_assert_msg(mm.mul == map_table[i].mul &&
		    mm.div == map_table[i].div, "%s: x %g / %g",
		    map_table[i].metric, mm.mul, mm.div);
		ck_assert_int_eq(metrics_fam_counter(mm.fam),
		    map_table[i].counter);
	}
}
END_TEST

/* Every family name is fixed and legal; counters, and only they, _total. */
START_TEST(test_family_names)
{
	for (int f = 0; f < MF_COUNT; f++) {
		const char *n = metrics_fam_name((enum metrics_fam)f);
		size_t len = strlen(n);

		/*
		 * Gauges vigil_metric*, counters vigil_cumulative_*_total: no
		 * counter's OpenMetrics family (its name less _total) is a
		 * gauge's name, and no name says its type (promtool refuses a
		 * counter with "counter" in its name).
		 */
		ck_assert(strncmp(n, metrics_fam_counter((enum metrics_fam)f) ?
		    "vigil_cumulative_" : "vigil_metric", metrics_fam_counter(
		    (enum metrics_fam)f) ? 17 : 12) == 0);
		ck_assert_ptr_null(strstr(n, "counter"));
		ck_assert_ptr_null(strstr(n, "gauge"));
		if (metrics_fam_counter((enum metrics_fam)f))
			for (int g = 0; g < MF_COUNT; g++)
				ck_assert(strncmp(n, metrics_fam_name(
				    (enum metrics_fam)g), len - 6) != 0 ||
				    strlen(metrics_fam_name(
				    (enum metrics_fam)g)) != len - 6);
		ck_assert_uint_eq(strspn(n, "abcdefghijklmnopqrstuvwxyz_"), len);
		ck_assert_int_eq(len > 6 && strcmp(n + len - 6, "_total") == 0,
		    metrics_fam_counter((enum metrics_fam)f));
	}
}
END_TEST

static struct config *
parse(const char *text)
{
	struct config_errors errs;
	struct config *cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_parse("t.json", text, strlen(text), &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	config_errors_clear(&errs);
	return cfg;
}

/* Counter or gauge is what the configuration or the probe type says. */
START_TEST(test_declared_type)
{
	struct config *cfg = parse("{\"probes\": [\n"
	    "{\"name\": \"app\", \"type\": \"http\", \"url\": \"http://h/\",\n"
	    " \"metrics\": {\"p95_ms\": \"/p95\",\n"
	    "  \"requests_total\": {\"path\": \"/requests\", \"type\": "
	    "\"counter\"},\n"
	    "  \"errors\": {\"path\": \"$.errors\", \"type\": \"counter\"},\n"
	    "  \"queue_total\": {\"path\": \"/queue\", \"type\": \"gauge\"},\n"
	    "  \"depth\": {\"path\": \"/depth\"}}},\n"
	    "{\"name\": \"db\", \"type\": \"postgres\", \"conninfo\": "
	    "\"host=h dbname=d user=u\",\n"
	    " \"required_indexes\": [\"orders_idx\"],\n"
	    " \"custom_queries\": {\"q\": \"SELECT 1 AS n_total\"}},\n"
	    "{\"name\": \"s\", \"type\": \"sentry\", \"organization\": \"o\", "
	    "\"project\": \"p\", \"token_file\": \"/t\", \"outcomes\": true}]}");
	const struct probe_cfg *app = config_probe(cfg, "app");
	const struct probe_cfg *db = config_probe(cfg, "db");
	const struct probe_cfg *s = config_probe(cfg, "s");

	ck_assert(!probe_metric_counter(app, "p95_ms"));
	ck_assert(probe_metric_counter(app, "requests_total"));
	ck_assert(probe_metric_counter(app, "errors"));
	ck_assert(!probe_metric_counter(app, "queue_total"));
	ck_assert(!probe_metric_counter(app, "depth"));
	ck_assert(!probe_metric_counter(app, "duration_ms"));
	ck_assert(probe_metric_counter(db, "xact_commit_total"));
	ck_assert(probe_metric_counter(db, "temp_bytes_total"));
	ck_assert(probe_metric_counter(db, "index_orders_idx_scans_total"));
	ck_assert(!probe_metric_counter(db, "index_orders_idx_ok"));
	ck_assert(!probe_metric_counter(db, "deadlocks"));
	ck_assert(!probe_metric_counter(db, "commits_per_s"));
	ck_assert(!probe_metric_counter(db, "custom_q_n_total"));
	ck_assert(probe_metric_counter(s, "events_total"));
	ck_assert(probe_metric_counter(s, "outcome_accepted_total"));
	ck_assert(!probe_metric_counter(s, "outcome_accepted"));
	ck_assert(!probe_metric_counter(s, "events"));
	ck_assert(!probe_metric_counter(s, "rate_limit_remaining"));
	config_free(cfg);
}
END_TEST

/* A declared type other than gauge or counter is refused. */
START_TEST(test_declared_type_refused)
{
	struct config_errors errs;
	const char *bad[] = {
	    "\"m\": {\"path\": \"/m\", \"type\": \"histogram\"}",
	    "\"m\": {\"type\": \"counter\"}",
	    "\"m\": {\"path\": \"/m\", \"kind\": \"counter\"}",
	    "\"m\": {\"path\": 3}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		struct config *cfg;

		snprintf(text, sizeof(text), "{\"probes\": [{\"name\": \"a\", "
		    "\"type\": \"http\", \"url\": \"http://h/\", \"metrics\": "
		    "{%s}}]}", bad[i]);
		memset(&errs, 0, sizeof(errs));
		cfg = config_parse("t.json", text, strlen(text), &errs);
		ck_assert_msg(cfg == NULL, "accepted: %s", bad[i]);
		config_errors_clear(&errs);
	}
}
END_TEST

START_TEST(test_label_and_value_text)
{
	struct sbuf b;
	char *s;

	sbuf_init(&b, 4096);
	metrics_label(&b, "a\\b\"c\nd");
	sbuf_puts(&b, " ");
	metrics_value(&b, 0.1);
	sbuf_puts(&b, " ");
	metrics_value(&b, 1e-3 * 288.5);
	sbuf_puts(&b, " ");
	metrics_value(&b, NAN);
	sbuf_puts(&b, " ");
	metrics_value(&b, -INFINITY);
	sbuf_puts(&b, " ");
	metrics_value(&b, 1795926652.767);
	s = sbuf_take(&b);
	ck_assert_str_eq(s, "a\\\\b\\\"c\\nd 0.1 0.2885 NaN -Inf "
	    "1795926652.767");
	free(s);
}
END_TEST

START_TEST(test_sbuf_ceiling)
{
	struct sbuf b;

	sbuf_init(&b, 8);
	sbuf_puts(&b, "12345");
	sbuf_printf(&b, "%d", 678);
	ck_assert(!b.failed);
	sbuf_puts(&b, "9");
	ck_assert(b.failed);
	ck_assert_ptr_null(sbuf_take(&b));
	sbuf_free(NULL);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_map_table);
	tcase_add_test(tc, test_family_names);
	tcase_add_test(tc, test_declared_type);
	tcase_add_test(tc, test_declared_type_refused);
	tcase_add_test(tc, test_label_and_value_text);
	tcase_add_test(tc, test_sbuf_ceiling);
	suite_add_tcase(s, tc);
	return s;
}
