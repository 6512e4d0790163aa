#include "stats.h"

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
