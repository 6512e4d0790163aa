/* metrics: Prometheus names in base units, label escaping, numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "http/metrics.h"
#include "base/sbuf.h"
#include "suites.h"

static void
name_is(const char *probe, const char *metric, const char *want,
    double mul, double div, bool counter)
{
	char out[128];
	double m, d;
	bool c;

	ck_assert_int_eq(metrics_name(probe, metric, out, sizeof(out), &m, &d,
	    &c), 0);
	ck_assert_str_eq(out, want);
	ck_assert_msg(m == mul && d == div, "%s: x %g / %g", metric, m, d);
	ck_assert_int_eq(c, counter);
}

START_TEST(test_names_in_base_units)
{
	name_is("app", "p95_ms", "vigil_app_p95_seconds", 1, 1000, false);
	name_is("db", "longest_query_s", "vigil_db_longest_query_seconds", 1,
	    1, false);
	name_is("db", "commits_per_s", "vigil_db_commits_per_second", 1, 1,
	    false);
	name_is("app", "memory_pct", "vigil_app_memory_ratio", 1, 100, false);
	name_is("db", "cache_hit_ratio_pct", "vigil_db_cache_hit_ratio", 1,
	    100, false);
	name_is("app", "heap_used_mb", "vigil_app_heap_used_bytes",
	    1048576, 1, false);
	name_is("web", "cert_expiry_days", "vigil_web_cert_expiry_seconds",
	    86400, 1, false);
	name_is("app", "requests_total", "vigil_app_requests_total", 1, 1,
	    true);
	name_is("db", "custom_jobs_count", "vigil_db_custom_jobs_count_value",
	    1, 1, false);
	name_is("app", "http_status", "vigil_app_http_status", 1, 1, false);
	name_is("db", "replication_lag_bytes",
	    "vigil_db_replication_lag_bytes", 1, 1, false);
	/* Only [a-z0-9_:] survive. */
	name_is("app", "Ratio-X", "vigil_app_ratio_x", 1, 1, false);
}
END_TEST

START_TEST(test_name_too_long)
{
	char out[16];
	double m, d;
	bool c;

	ck_assert_int_eq(metrics_name("probe", "a_long_metric", out,
	    sizeof(out), &m, &d, &c), -1);
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

	tcase_add_test(tc, test_names_in_base_units);
	tcase_add_test(tc, test_name_too_long);
	tcase_add_test(tc, test_label_and_value_text);
	tcase_add_test(tc, test_sbuf_ceiling);
	suite_add_tcase(s, tc);
	return s;
}
