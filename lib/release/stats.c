#include "release/stats.h"

#include <math.h>
#include <stdlib.h>

double
stats_norm_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

/* A value and which sample it came from, for ranking. */
struct tagged {
	double v;
	int after;
};

static int
cmp_tagged(const void *a, const void *b)
{
	double x = ((const struct tagged *)a)->v;
	double y = ((const struct tagged *)b)->v;

	return (x > y) - (x < y);
}

struct stats_result
stats_mann_whitney(const double *after, size_t na, const double *before,
    size_t nb, bool greater)
{
	struct stats_result r = { 0, 1, false };
	struct tagged *t;
	size_t n = na + nb, i = 0;
	double rank_sum = 0, ties = 0, mu, sigma, z;

	if (na == 0 || nb == 0)
		return r;
	t = malloc(n * sizeof(*t));
	if (t == NULL)
		return r;
	for (size_t k = 0; k < na; k++)
		t[k] = (struct tagged){ after[k], 1 };
	for (size_t k = 0; k < nb; k++)
		t[na + k] = (struct tagged){ before[k], 0 };
	qsort(t, n, sizeof(*t), cmp_tagged);
	/* Average ranks over ties; sum (t^3 - t) for the variance. */
	while (i < n) {
		size_t j = i;
		double avg;

		while (j + 1 < n && t[j + 1].v == t[i].v)
			j++;
		avg = ((double)i + (double)j) / 2.0 + 1.0;
		for (size_t k = i; k <= j; k++)
			if (t[k].after)
				rank_sum += avg;
		ties += pow((double)(j - i + 1), 3) - (double)(j - i + 1);
		i = j + 1;
	}
	free(t);
	r.statistic = rank_sum - (double)na * ((double)na + 1) / 2.0;
	r.valid = true;
	mu = (double)na * (double)nb / 2.0;
	sigma = sqrt((double)na * (double)nb / 12.0 * (((double)n + 1) -
	    ties / ((double)n * ((double)n - 1))));
	if (sigma == 0 || !isfinite(sigma)) {
		r.p = 1;	/* everything tied: no evidence either way */
		return r;
	}
	z = greater ? (r.statistic - mu - 0.5) / sigma :
	    (r.statistic - mu + 0.5) / sigma;
	r.p = greater ? stats_norm_sf(z) : 1.0 - stats_norm_sf(z);
	return r;
}

/* log of the binomial probability of exactly k in n at p (0 < p < 1). */
static double
binom_logpmf(double k, double n, double p)
{
	return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) +
	    k * log(p) + (n - k) * log1p(-p);
}

/*
 * Sums the pmf from k away from the mode (step +1 or -1) until the terms
 * no longer count: they only shrink on that side of the mode.
 */
static double
binom_tail(double k, double n, double p, double step)
{
	double sum = 0, t;

	for (; k >= 0 && k <= n; k += step) {
		t = exp(binom_logpmf(k, n, p));
		sum += t;
		if (t < sum * 1e-17)
			break;
	}
	return sum;
}

double
stats_binom_sf(double k, double n, double p)
{
	double mode;

	if (k <= 0)
		return 1;
	if (k > n || p <= 0)
		return 0;
	if (p >= 1)
		return 1;
	/* Sum the short side: the upper tail above the mode, else 1 - lower. */
	mode = floor((n + 1) * p);
	if (k > mode)
		return fmin(1, binom_tail(k, n, p, 1));
	return fmax(0, 1 - binom_tail(k - 1, n, p, -1));
}

struct stats_result
stats_binomial_share(double k, double n, double share, double margin)
{
	struct stats_result r = { k, 1, false };
	double s;

	if (n < 1 || k < 0 || k > n || share <= 0 || share >= 1)
		return r;
	/* No worse by margin: its rate (1 + margin) times the rest's. */
	s = share * (1 + margin) / (share * (1 + margin) + (1 - share));
	r.p = stats_binom_sf(k, n, s);
	r.valid = true;
	return r;
}

/*
 * Fisher's noncentral hypergeometric distribution of X2 given the
 * margins: the log of t(x + 1) / t(x), for t(x) = C(n1, k - x) C(n2, x)
 * psi^x. It decreases in x (the distribution is log-concave).
 */
struct fnch {
	double n1, n2, k, log_psi;
};

static double
fnch_log_ratio(const struct fnch *d, double x)
{
	return log((d->k - x) / (x + 1)) +
	    log((d->n2 - x) / (d->n1 - d->k + x + 1)) + d->log_psi;
}

/* The least x in [lo, hi] with t(x + 1) < t(x), else hi: a mode. */
static double
fnch_mode(const struct fnch *d, double lo, double hi)
{
	while (lo < hi) {
		double mid = floor(lo + (hi - lo) / 2);

		if (fnch_log_ratio(d, mid) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Below this log of t(x) / t(mode) a term is nothing in double: the
 * terms past it shrink at least geometrically, and their sum times
 * the support is still under the smallest double.
 */
#define FNCH_LOG_NOTHING (-1000.0)
/* The larger support is not summed: the walk would be too long. */
#define FNCH_MAX_SUPPORT 1e9
/* Counts above 2^53 are not whole numbers in double. */
#define FNCH_MAX_COUNT 9007199254740992.0

/* A count: finite, not negative, at most 2^53; rounded. */
static bool
whole_count(double v, double *out)
{
	if (!isfinite(v) || v < 0 || v > FNCH_MAX_COUNT)
		return false;
	*out = round(v);
	return true;
}

struct stats_result
stats_fisher_exact(double x1, double n1, double x2, double n2,
    double margin)
{
	struct stats_result r = { 0, 1, false };
	struct fnch d;
	double lo, hi, mode, x, l, t, q, total, tail;

	if (!whole_count(x1, &x1) || !whole_count(n1, &n1) ||
	    !whole_count(x2, &x2) || !whole_count(n2, &n2) ||
	    n1 < 1 || n2 < 1 || x1 > n1 || x2 > n2 ||
	    !isfinite(margin) || margin <= -1)
		return r;
	r.statistic = x2;
	d = (struct fnch){ n1, n2, x1 + x2, log1p(margin) };
	lo = fmax(0, d.k - n1);
	hi = fmin(d.k, n2);
	if (hi - lo + 1 > FNCH_MAX_SUPPORT)
		return r;
	r.valid = true;
	if (d.k == 0 || lo == hi)
		return r;	/* no errors, or one possible table: p = 1 */

	/*
	 * t(mode) = 1, the largest term: nothing overflows. Walk up from
	 * the mode, then down, each while the terms still count. tail sums
	 * the terms at x >= x2, total all of them.
	 */
	mode = fnch_mode(&d, lo, hi);
	total = 1;
	tail = x2 <= mode ? 1 : 0;
	for (x = mode, l = 0; x < hi; x++) {
		/* t(x + 1) = t(x) q, and every later ratio is below q. */
		q = fnch_log_ratio(&d, x);
		l += q;
		if (l < FNCH_LOG_NOTHING)
			break;
		t = exp(l);
		total += t;
		if (x + 1 >= x2)
			tail += t;
		/* Past x2 what is left is below t q / (1 - q). */
		if (x + 1 >= x2 &&
		    t * exp(q) < -expm1(q) * 1e-17 * tail)
			break;
	}
	for (x = mode, l = 0; x > lo; x--) {
		/* t(x - 1) = t(x) / exp(ratio(x - 1)), ratio(x - 1) >= 0. */
		q = fnch_log_ratio(&d, x - 1);
		l -= q;
		if (l < FNCH_LOG_NOTHING)
			break;
		t = exp(l);
		total += t;
		if (x - 1 >= x2)
			tail += t;
		if (x - 1 < x2 && q > 0 &&
		    t * exp(-q) < -expm1(-q) * 1e-17 * total)
			break;
	}
	r.p = fmin(1, tail / total);
	return r;
}
