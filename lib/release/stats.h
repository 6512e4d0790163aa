/*
 * stats: the significance tests the release gate uses to compare a
 * deploy window with its baseline. Pure functions of their inputs.
 *
 * Mann-Whitney U follows scipy.stats so results can be checked against
 * it: the tie-corrected normal approximation with a continuity
 * correction. Counts of rare events (errors) get exact tests, binomial
 * and Fisher's, not a normal approximation: a z-test calls 0 errors in
 * 1,000 before against 5 in 1,000 after significant (p = 0.013) where
 * the exact p is 0.031. Every test is one-sided, in the direction that
 * is bad for the check.
 */
#ifndef VIGIL_STATS_H
#define VIGIL_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Upper tail of the standard normal: P(Z > z). */
double stats_norm_sf(double z);

struct stats_result {
	double statistic;	/* U, or the count tested */
	double p;		/* one-sided p-value */
	bool valid;		/* false: not enough data to test */
};

/*
 * Mann-Whitney U of `after` against `before`. greater: H1 "after tends
 * to be larger" (latency, errors, memory); else "smaller" (cache hit
 * rate). The statistic is U of `after`. Fully tied data give p = 1;
 * an empty side (or no memory to rank) gives valid = false.
 */
struct stats_result stats_mann_whitney(const double *after, size_t na,
    const double *before, size_t nb, bool greater);

/* P(X >= k) for X ~ Binomial(n, p): an exact tail, not an approximation. */
double stats_binom_sf(double k, double n, double p);

/*
 * A part that carries `share` of the traffic made k of n events (errors):
 * the exact one-sided binomial test that its rate per request exceeds the
 * rest's by more than the factor (1 + margin). Under that null, an event
 * is the part's with probability share(1+m) / (share(1+m) + 1 - share),
 * and p = P(X >= k). Conditioning on n makes the unknown request count
 * drop out: the comparison of two Poisson rates with known exposures.
 * The statistic is k; valid is false for a share outside (0, 1) or n = 0.
 */
struct stats_result stats_binomial_share(double k, double n, double share,
    double margin);

/*
 * Fisher's exact test, one-sided, with a margin: that the odds of an
 * error after (x2 of n2) exceed the odds before (x1 of n1) by more than
 * the factor psi = 1 + margin. The z-test above leans on the normal
 * approximation, which fails for rare errors: 0 of 1000 before against
 * 5 of 1000 after passes it at confidence 0.98 (p = 0.013), while the
 * exact p is 0.031; cases like spinnaker/kayenta#426, a handful of
 * errors against none. Conditioning on the table's margins (k = x1 + x2
 * errors, n1 and n2 trials) makes the unknown common rate drop out: X2
 * follows Fisher's noncentral hypergeometric distribution,
 *   P(X2 = x) ~ C(n1, k - x) C(n2, x) psi^x,
 *   max(0, k - n1) <= x <= min(k, n2),
 * and p = P(X2 >= x2). The margin enters through the odds ratio; for
 * rare errors the odds ratio is the rate ratio, so 0.1 still reads "no
 * worse by 10 %" (a margin in (-1, 0) asks for "better by"). margin 0
 * is Fisher's exact test; with any margin p is what R's
 * fisher.test(matrix(c(x2, n2 - x2, x1, n1 - x1), 2),
 * alternative = "greater", or = 1 + margin) gives. The statistic is x2.
 *
 * Computed in log space, each term relative to the distribution's mode
 * (the max-shift) through the ratio of neighbouring terms, not through
 * lgamma: lgamma(1e9) ~ 2e10 carries an absolute error ~ 1e-5, which
 * would be the relative error of p. Only the terms that count are
 * summed (a geometric bound on the rest), so the work grows with the
 * spread of the distribution, about sqrt(k), not with its support.
 * Counts are rounded to whole numbers. No errors on either side (k = 0)
 * or a single possible table: p = 1. valid is false for n1 or n2 < 1,
 * a count that is negative, not finite, above 2^53 or above its n, a
 * margin <= -1 or not finite, or a support of more than 1e9 points.
 */
struct stats_result stats_fisher_exact(double x1, double n1, double x2,
    double n2, double margin);

#endif
