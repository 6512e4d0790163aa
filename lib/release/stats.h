/*
 * stats: the significance tests the release gate uses to compare a
 * deploy window with its baseline. Pure functions of their inputs.
 *
 * Conventions follow scipy.stats so results can be checked against it:
 * Mann-Whitney U with the tie-corrected normal approximation and a
 * continuity correction; the two-proportion test as a pooled z-test.
 * Both are one-sided, in the direction that is bad for the check.
 */
#ifndef VIGIL_STATS_H
#define VIGIL_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Upper tail of the standard normal: P(Z > z). */
double stats_norm_sf(double z);

struct stats_result {
	double statistic;	/* U, or z */
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

/*
 * One-sided two-proportion z-test that the rate after (x2/n2) exceeds
 * the rate before (x1/n1) by more than the factor (1 + margin): margin 0
 * is the pooled test; a margin > 0 ("no worse by 10 %") uses the
 * unpooled standard error. No errors on either side: p = 1.
 */
struct stats_result stats_two_proportion(double x1, double n1, double x2,
    double n2, double margin);

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

#endif
