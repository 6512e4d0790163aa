/* stats: the release gate's tests against values computed with SciPy
 * (scipy.stats.mannwhitneyu, method="asymptotic", use_continuity=True;
 * the pooled two-proportion z-test with norm.sf), embedded here. */
#include <check.h>

#include "release/stats.h"
#include "suites.h"

START_TEST(test_normal)
{
	ck_assert_double_eq_tol(1 - stats_norm_sf(1.96), 0.9750021048517795,
	    1e-12);
	ck_assert_double_eq_tol(stats_norm_sf(0), 0.5, 1e-15);
}
END_TEST

START_TEST(test_mann_whitney)
{
	double x[] = { 19, 22, 16, 29, 24 }, y[] = { 20, 11, 17, 12 };
	struct stats_result r;

	r = stats_mann_whitney(x, 5, y, 4, true);
	ck_assert(r.valid);
	ck_assert_double_eq_tol(r.statistic, 17.0, 1e-12);
	ck_assert_double_eq_tol(r.p, 0.055673443266570206, 1e-12);
	r = stats_mann_whitney(x, 5, y, 4, false);
	ck_assert_double_eq_tol(r.p, 0.9669037101389033, 1e-12);
}
END_TEST

START_TEST(test_mann_whitney_ties)
{
	double a[] = { 1, 2, 2, 3, 3, 3, 4, 5 }, b[] = { 3, 4, 4, 5, 5, 6, 6, 7 };
	double same[60];
	struct stats_result r;

	r = stats_mann_whitney(b, 8, a, 8, true);
	ck_assert_double_eq_tol(r.statistic, 56.5, 1e-12);
	ck_assert_double_eq_tol(r.p, 0.005257622967929454, 1e-12);
	/* Identical data: no evidence, p = 1 (Kayenta's "pass"). */
	for (int i = 0; i < 60; i++)
		same[i] = 5;
	r = stats_mann_whitney(same, 60, same, 60, true);
	ck_assert(r.valid);
	ck_assert_double_eq_tol(r.statistic, 1800, 1e-9);
	ck_assert_double_eq_tol(r.p, 1.0, 1e-12);
	r = stats_mann_whitney(same, 0, same, 60, true);
	ck_assert(!r.valid);
}
END_TEST

START_TEST(test_two_proportion)
{
	struct stats_result r;

	/* 10 errors in 10,000 before, 30 in 10,000 after. */
	r = stats_two_proportion(10, 10000, 30, 10000, 0);
	ck_assert(r.valid);
	ck_assert_double_eq_tol(r.statistic, 3.165444689164592, 1e-9);
	ck_assert_double_eq_tol(r.p, 0.0007742304923760376, 1e-12);
	/* No errors at all: nothing to say. */
	r = stats_two_proportion(0, 5000, 0, 5000, 0);
	ck_assert(r.valid);
	ck_assert_double_eq_tol(r.p, 1.0, 1e-12);
	/* Fewer errors after: far from significant. */
	r = stats_two_proportion(30, 10000, 10, 10000, 0);
	ck_assert_double_lt(r.statistic, 0);
	ck_assert_double_gt(r.p, 0.99);
	/* A 10 % margin: 10.5 vs 10 per 10,000 is within it. */
	r = stats_two_proportion(100, 100000, 105, 100000, 0.1);
	ck_assert_double_gt(r.p, 0.5);
	ck_assert(!stats_two_proportion(1, 0, 1, 10, 0).valid);
}
END_TEST

/*
 * Exact tails, from exact rational arithmetic (Python's fractions and
 * math.comb): sum(comb(n, i) p^i (1-p)^(n-i) for i in k..n).
 */
START_TEST(test_binomial)
{
	struct stats_result r;

	ck_assert_double_eq_tol(stats_binom_sf(8, 10, 0.5), 0.0546875, 1e-15);
	/* Above the mode (summed upward) and below it (1 - the lower). */
	ck_assert_double_eq_tol(stats_binom_sf(12, 52, 0.1),
	    0.004537343762852174, 1e-14);
	ck_assert_double_eq_tol(stats_binom_sf(3, 52, 0.1),
	    0.9033667148627479, 1e-13);
	ck_assert_double_eq_tol(stats_binom_sf(150, 1000, 0.1) /
	    4.4894428594500086e-07, 1, 1e-9);
	/* lgamma(20001) ~ 1.8e5 leaves some 1e-11 of relative error. */
	ck_assert_double_eq_tol(stats_binom_sf(2100, 20000, 0.1),
	    0.009865476468164417, 1e-10);
	ck_assert_double_eq_tol(stats_binom_sf(1950, 20000, 0.1),
	    0.8832985013072437, 1e-10);
	ck_assert_double_eq(stats_binom_sf(0, 5, 0.5), 1);
	ck_assert_double_eq(stats_binom_sf(6, 5, 0.5), 0);
	/*
	 * A canary at 10 % of traffic with 30 of 200 error events, no worse
	 * by 10 %: the null share is 0.11 / 1.01 = 11/101.
	 */
	r = stats_binomial_share(30, 200, 0.1, 0.1);
	ck_assert(r.valid);
	ck_assert_double_eq_tol(r.p, 0.04452123957557766, 1e-13);
	ck_assert_double_eq(r.statistic, 30);
	/* Its fair share of errors is nowhere near significant. */
	ck_assert_double_gt(stats_binomial_share(20, 200, 0.1, 0.1).p, 0.5);
	/* All the traffic, none of it, or no events: nothing to compare. */
	ck_assert(!stats_binomial_share(5, 10, 1, 0).valid);
	ck_assert(!stats_binomial_share(5, 10, 0, 0).valid);
	ck_assert(!stats_binomial_share(0, 0, 0.1, 0).valid);
}
END_TEST

Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("tests");

	tcase_add_test(tc, test_normal);
	tcase_add_test(tc, test_mann_whitney);
	tcase_add_test(tc, test_mann_whitney_ties);
	tcase_add_test(tc, test_two_proportion);
	tcase_add_test(tc, test_binomial);
	suite_add_tcase(s, tc);
	return s;
}
