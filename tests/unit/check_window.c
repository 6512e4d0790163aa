/* window: every aggregation on known data, including empty and
 * one-sample windows, counter resets and non-finite samples. */
#include <math.h>
#include <check.h>

#include "engine/store.h"
#include "suites.h"
#include "engine/window.h"

#define EPS 1e-9

static double
agg(enum agg a, const struct sample *s, size_t n)
{
	double scratch[64], out = NAN;
	const char *why = NULL;

	ck_assert_msg(window_eval(a, s, n, scratch, &out, &why) == 0,
	    "%s failed: %s", agg_name(a), why);
	return out;
}

static const char *
agg_err(enum agg a, const struct sample *s, size_t n)
{
	double scratch[64], out;
	const char *why = NULL;

	ck_assert_int_eq(window_eval(a, s, n, scratch, &out, &why), -1);
	ck_assert_ptr_nonnull(why);
	return why;
}

/* 1..10 at one sample per second. */
static const struct sample ten[] = {
	{ 1000, 1 }, { 2000, 2 }, { 3000, 3 }, { 4000, 4 }, { 5000, 5 },
	{ 6000, 6 }, { 7000, 7 }, { 8000, 8 }, { 9000, 9 }, { 10000, 10 },
};

START_TEST(test_basic_aggregates)
{
	ck_assert_double_eq_tol(agg(AGG_LAST, ten, 10), 10, EPS);
	ck_assert_double_eq_tol(agg(AGG_AVG, ten, 10), 5.5, EPS);
	ck_assert_double_eq_tol(agg(AGG_MIN, ten, 10), 1, EPS);
	ck_assert_double_eq_tol(agg(AGG_MAX, ten, 10), 10, EPS);
	ck_assert_double_eq_tol(agg(AGG_SUM, ten, 10), 55, EPS);
	ck_assert_double_eq_tol(agg(AGG_COUNT, ten, 10), 10, EPS);
}
END_TEST

START_TEST(test_percentiles_exact)
{
	/* Linear interpolation between closest ranks (numpy default). */
	ck_assert_double_eq_tol(agg(AGG_P50, ten, 10), 5.5, EPS);
	ck_assert_double_eq_tol(agg(AGG_P90, ten, 10), 9.1, EPS);
	ck_assert_double_eq_tol(agg(AGG_P95, ten, 10), 9.55, EPS);
	ck_assert_double_eq_tol(agg(AGG_P99, ten, 10), 9.91, EPS);
	/* Order of arrival does not matter. */
	{
		struct sample s[] = { { 1, 300 }, { 2, 100 }, { 3, 200 } };

		ck_assert_double_eq_tol(agg(AGG_P50, s, 3), 200, EPS);
		ck_assert_double_eq_tol(agg(AGG_P95, s, 3), 290, EPS);
	}
}
END_TEST

START_TEST(test_empty_and_single)
{
	struct sample one[] = { { 5000, 42 } };

	ck_assert_str_eq(agg_err(AGG_LAST, ten, 0), "no samples in the window");
	ck_assert_str_eq(agg_err(AGG_P95, ten, 0), "no samples in the window");
	ck_assert_double_eq_tol(agg(AGG_COUNT, ten, 0), 0, EPS);
	ck_assert_double_eq_tol(agg(AGG_P99, one, 1), 42, EPS);
	ck_assert_double_eq_tol(agg(AGG_AVG, one, 1), 42, EPS);
	ck_assert_str_eq(agg_err(AGG_RATE, one, 1),
	    "needs two samples in the window");
	ck_assert_str_eq(agg_err(AGG_SLOPE, one, 1),
	    "needs two samples in the window");
	{
		struct sample same[] = { { 5, 1 }, { 5, 2 } };

		ck_assert_str_eq(agg_err(AGG_SLOPE, same, 2),
		    "the window's samples span no time");
	}
}
END_TEST

START_TEST(test_counter_rate_delta_with_reset)
{
	/* 100 -> 160 (+60), reset to 15 (+15), -> 45 (+30): 105 in 30 s. */
	struct sample c[] = {
		{ 0, 100 }, { 10000, 160 }, { 20000, 15 }, { 30000, 45 },
	};

	ck_assert_double_eq_tol(agg(AGG_DELTA, c, 4), 105, EPS);
	ck_assert_double_eq_tol(agg(AGG_RATE, c, 4), 3.5, EPS);
	/* A steady counter. */
	ck_assert_double_eq_tol(agg(AGG_RATE, ten, 10), 1, EPS);
	ck_assert_double_eq_tol(agg(AGG_DELTA, ten, 10), 9, EPS);
}
END_TEST

START_TEST(test_slope_per_hour)
{
	/* +1 per second is +3600 per hour. */
	ck_assert_double_eq_tol(agg(AGG_SLOPE, ten, 10), 3600, 1e-6);
	{
		/*
		 * A leak with noise: x = 0..3 min, mean 1.5; y mean 43;
		 * sum(dx*dy) = 9, sum(dx^2) = 5: 1.8 per minute, 108 an hour.
		 */
		struct sample s[] = {
			{ 0, 40.5 }, { 60000, 41.5 }, { 120000, 44.5 },
			{ 180000, 45.5 },
		};

		ck_assert_double_eq_tol(agg(AGG_SLOPE, s, 4), 108, 1e-6);
	}
	{
		struct sample flat[] = { { 0, 5 }, { 1000, 5 }, { 2000, 5 } };

		ck_assert_double_eq_tol(agg(AGG_SLOPE, flat, 3), 0, EPS);
	}
}
END_TEST

START_TEST(test_nan_rejected)
{
	struct sample s[] = { { 1, 1 }, { 2, NAN }, { 3, 3 } };

	ck_assert_str_eq(agg_err(AGG_AVG, s, 3),
	    "a sample is not a finite number");
	ck_assert_str_eq(agg_err(AGG_COUNT, s, 3),
	    "a sample is not a finite number");
}
END_TEST

START_TEST(test_names)
{
	enum agg a;

	ck_assert_int_eq(agg_parse("p95", &a), 0);
	ck_assert_int_eq(a, AGG_P95);
	ck_assert_str_eq(agg_name(AGG_SLOPE), "slope");
	ck_assert_int_eq(agg_parse("P95", &a), -1);
	ck_assert_int_eq(agg_parse("median", &a), -1);
}
END_TEST

START_TEST(test_collect_from_store)
{
	struct store *st = store_new();
	struct sample out[8];
	size_t n;

	for (int i = 1; i <= 20; i++)
		store_add(st, "m", i * 1000, i, 64);
	/* Samples strictly after t=15000: 16..20. */
	n = window_collect(store_find(st, "m"), 15000, out, 8);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(out[0].t, 16000);
	ck_assert_int_eq(out[4].t, 20000);
	/* At most max, the newest ones. */
	n = window_collect(store_find(st, "m"), 0, out, 8);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(out[0].t, 13000);
	store_free(st);
}
END_TEST

Suite *
window_suite(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("aggregations");

	tcase_add_test(tc, test_basic_aggregates);
	tcase_add_test(tc, test_percentiles_exact);
	tcase_add_test(tc, test_empty_and_single);
	tcase_add_test(tc, test_counter_rate_delta_with_reset);
	tcase_add_test(tc, test_slope_per_hour);
	tcase_add_test(tc, test_nan_rejected);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_collect_from_store);
	suite_add_tcase(s, tc);
	return s;
}
