/* stats: the release gate's tests against values computed with SciPy
 * (scipy.stats.mannwhitneyu, method="asymptotic", use_continuity=True)
 * and with exact rational arithmetic, embedded here. */
#include <check.h>
#include <math.h>

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

/*
 * Fisher's exact test with a margin. Expected p-values are exact
 * rationals, from this Python (python3 fisher.py x1 n1 x2 n2 [margin]):
 *
 *   import sys
 *   from fractions import Fraction
 *   from math import comb
 *   def fisher_p(x1, n1, x2, n2, margin="0"):
 *       psi = 1 + Fraction(margin)
 *       k = x1 + x2
 *       lo, hi = max(0, k - n1), min(k, n2)
 *       a, b = psi.numerator, psi.denominator
 *       c1, c2 = comb(n1, k - lo), comb(n2, lo)
 *       tail = total = 0
 *       for x in range(lo, hi + 1):   # b^k t(x), a whole number
 *           t = c1 * c2 * a**x * b**(k - x)
 *           total += t
 *           if x >= x2:
 *               tail += t
 *           c1 = c1 * (k - x) // (n1 - k + x + 1)   # C(n1, k - x - 1)
 *           c2 = c2 * (n2 - x) // (x + 1)           # C(n2, x + 1)
 *       return Fraction(tail, total)
 *   a = sys.argv[1:]
 *   print(repr(float(fisher_p(*map(int, a[:4]), *a[4:]))))
 *
 * (The n = 1e7 cases take some seconds each.) Relative tolerance 1e-9.
 */
#define ck_assert_p(r, want) do { \
	ck_assert((r).valid); \
	ck_assert_double_eq_tol((r).p / (want), 1, 1e-9); \
} while (0)

START_TEST(test_fisher_rare)
{
	struct stats_result r;

	/*
	 * 0 of 1000 errors before, 5 of 1000 after: (1/2)^5 or so, 248253 /
	 * 7984006 exactly. Not significant at alpha 0.02, where the z-test
	 * (p = 0.0126) calls it.
	 */
	r = stats_fisher_exact(0, 1000, 5, 1000, 0);
	ck_assert_p(r, 0.031093789258174406);
	ck_assert_double_gt(r.p, 0.02);
	ck_assert_double_eq(r.statistic, 5);
	/* 0.1 % -> 0.3 %: nothing at 1000 trials, decisive at 100,000. */
	r = stats_fisher_exact(1, 1000, 3, 1000, 0);
	ck_assert_p(r, 0.31231226529639383);	/* 2493503 / 7984006 */
	r = stats_fisher_exact(100, 100000, 300, 100000, 0);
	ck_assert_p(r, 1.1724011828895125e-24);
	ck_assert_double_lt(r.p, 0.02);
	/*
	 * The table's orientation: R's fisher.test(matrix(c(3, 1, 1, 3), 2),
	 * alternative = "greater"), the tea tasting, p = 17/70 = 0.2429.
	 */
	ck_assert_p(stats_fisher_exact(1, 4, 3, 4, 0), 0.24285714285714285);
}
END_TEST

START_TEST(test_fisher_margin)
{
	/* No worse by 10 %: psi = 11/10. */
	ck_assert_p(stats_fisher_exact(10, 10000, 30, 10000, 0.1),
	    0.002841717410703461);
	ck_assert_p(stats_fisher_exact(100, 100000, 300, 100000, 0.1),
	    1.0794126840490282e-20);
	ck_assert_p(stats_fisher_exact(3, 10, 7, 10, 0.1),
	    0.1090440573068553);
	/* 25 % more errors: borderline at margin 0, within a 10 % margin. */
	ck_assert_p(stats_fisher_exact(100, 100000, 125, 100000, 0),
	    0.05459702426856215);
	ck_assert_p(stats_fisher_exact(100, 100000, 125, 100000, 0.1),
	    0.18734565558514096);
	/* margin -0.5, psi = 1/2: the null is "errors at most halved". */
	ck_assert_p(stats_fisher_exact(3, 10, 7, 10, -0.5),
	    0.015251832891157257);
	ck_assert_p(stats_fisher_exact(10, 10000, 30, 10000, -0.5),
	    8.431999479913057e-08);
}
END_TEST

START_TEST(test_fisher_support)
{
	struct stats_result r;

	/* k = 12 > n2 = 5: x2 ranges over [2, 5]. */
	ck_assert_p(stats_fisher_exact(8, 10, 4, 5, 0), 0.7582417582417582);
	ck_assert_p(stats_fisher_exact(8, 10, 5, 5, 0), 0.42857142857142855);
	ck_assert_p(stats_fisher_exact(9, 10, 3, 5, 0.1), 0.981883073355436);
	/* Same rates: just over 0.5 (the tail counts x2 itself). */
	ck_assert_p(stats_fisher_exact(50, 10000, 50, 10000, 0),
	    0.5398944773702479);
	ck_assert_p(stats_fisher_exact(50, 10000, 55, 11000, 0),
	    0.5395894687074326);
	ck_assert_p(stats_fisher_exact(3, 10, 3, 10, 0), 0.6857585139318886);
	ck_assert_p(stats_fisher_exact(5, 10, 5, 10, 0.1), 0.71171257956447);
	/* Counts are rounded: 4.9999999 is 5. */
	ck_assert_p(stats_fisher_exact(4.9999999, 1000, 5, 1000, 0),
	    0.6233555730949242);
	/* Fewer errors after: nowhere near. */
	ck_assert_double_gt(stats_fisher_exact(30, 10000, 10, 10000, 0).p,
	    0.99);
	/* No errors at all, or a single possible table: p = 1. */
	r = stats_fisher_exact(0, 5000, 0, 5000, 0);
	ck_assert(r.valid);
	ck_assert_double_eq(r.p, 1);
	ck_assert_double_eq(r.statistic, 0);
	r = stats_fisher_exact(10, 10, 5, 5, 0);
	ck_assert(r.valid);
	ck_assert_double_eq(r.p, 1);
}
END_TEST

START_TEST(test_fisher_invalid)
{
	ck_assert(!stats_fisher_exact(0, 0, 1, 10, 0).valid);
	ck_assert(!stats_fisher_exact(0, 10, 0, 0.4, 0).valid);
	ck_assert(!stats_fisher_exact(11, 10, 1, 10, 0).valid);
	ck_assert(!stats_fisher_exact(1, 10, 11, 10, 0).valid);
	ck_assert(!stats_fisher_exact(-1, 10, 1, 10, 0).valid);
	ck_assert(!stats_fisher_exact(1, -10, 1, 10, 0).valid);
	ck_assert(!stats_fisher_exact(NAN, 10, 1, 10, 0).valid);
	ck_assert(!stats_fisher_exact(1, INFINITY, 1, 10, 0).valid);
	ck_assert(!stats_fisher_exact(1, 10, 1, 10, NAN).valid);
	ck_assert(!stats_fisher_exact(1, 10, 1, 10, INFINITY).valid);
	ck_assert(!stats_fisher_exact(1, 10, 1, 10, -1).valid);
	ck_assert(!stats_fisher_exact(1, 1e17, 1, 10, 0).valid);
	/* A support of 4e9 + 1 points is not summed. */
	ck_assert(!stats_fisher_exact(2e9, 4e9, 2e9, 4e9, 0).valid);
}
END_TEST

START_TEST(test_fisher_large)
{
	/* n = 1e7 a side, thousands of errors: exact, as above. */
	ck_assert_p(stats_fisher_exact(3000, 1e7, 3200, 1e7, 0),
	    0.005737720858374999);
	ck_assert_p(stats_fisher_exact(3000, 1e7, 3500, 1e7, 0),
	    2.9457686059411514e-10);
	ck_assert_p(stats_fisher_exact(3000, 1e7, 3300, 1e7, 0.1),
	    0.5046378983966542);
	ck_assert_p(stats_fisher_exact(1000, 1e9, 1150, 1e9, 0),
	    0.0006531731396905892);
	/*
	 * n = 1e9 and k = 2e6, beyond exact rationals: mpmath at 60 digits,
	 * the same sum started at the mode and cut where the terms fall
	 * below 1e-40 of it:
	 *
	 *   import mpmath as mp
	 *   mp.mp.dps = 60
	 *   def fisher_p_mp(x1, n1, x2, n2, margin="0"):
	 *       psi, k = 1 + mp.mpf(margin), x1 + x2
	 *       lo, hi = max(0, k - n1), min(k, n2)
	 *       r = lambda x: (mp.mpf(k - x) * (n2 - x) * psi /
	 *                      ((x + 1) * mp.mpf(n1 - k + x + 1)))
	 *       a, b = lo, hi
	 *       while a < b:
	 *           m = (a + b) // 2
	 *           a, b = (a, m) if r(m) < 1 else (m + 1, b)
	 *       total, tail = mp.mpf(1), mp.mpf(a >= x2)
	 *       t, x = mp.mpf(1), a
	 *       while x < hi and t > mp.mpf(10)**-40 * total:
	 *           t *= r(x); x += 1; total += t; tail += t * (x >= x2)
	 *       t, x = mp.mpf(1), a
	 *       while x > lo and t > mp.mpf(10)**-40 * total:
	 *           t /= r(x - 1); x -= 1; total += t; tail += t * (x >= x2)
	 *       return tail / total
	 */
	ck_assert_p(stats_fisher_exact(1e6, 1e9, 1.004e6, 1e9, 0),
	    0.0023543563484709715798);
	ck_assert_p(stats_fisher_exact(1e6, 1e9, 1.106e6, 1e9, 0.1),
	    2.9553660708196200563e-05);
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
	tcase_add_test(tc, test_binomial);
	tcase_add_test(tc, test_fisher_rare);
	tcase_add_test(tc, test_fisher_margin);
	tcase_add_test(tc, test_fisher_support);
	tcase_add_test(tc, test_fisher_invalid);
	tcase_add_test(tc, test_fisher_large);
	suite_add_tcase(s, tc);
	return s;
}
