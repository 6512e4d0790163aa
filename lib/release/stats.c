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

struct stats_result
stats_two_proportion(double x1, double n1, double x2, double n2,
    double margin)
{
	struct stats_result r = { 0, 1, false };
	double p1, p2, se, k = 1.0 + margin;

	if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
		return r;
	r.valid = true;
	p1 = x1 / n1;
	p2 = x2 / n2;
	if (margin == 0) {
		double p = (x1 + x2) / (n1 + n2);

		se = sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
	} else {
		se = sqrt(p2 * (1 - p2) / n2 + k * k * p1 * (1 - p1) / n1);
	}
	if (se == 0 || !isfinite(se)) {
		r.p = 1;	/* no errors on either side */
		return r;
	}
	r.statistic = (p2 - k * p1) / se;
	r.p = stats_norm_sf(r.statistic);
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
