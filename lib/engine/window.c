#include "engine/window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
window_percentile(double *v, size_t n, double p)
{
	double rank, frac;
	size_t lo;

	qsort(v, n, sizeof(*v), cmp_double);
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)floor(rank);
	if (lo + 1 >= n)
		return v[n - 1];
	frac = rank - (double)lo;
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

/* Increase of a counter over the samples, resets counted as restarts. */
static double
counter_increase(const struct sample *s, size_t n)
{
	double inc = 0;

	for (size_t i = 1; i < n; i++) {
		double d = s[i].v - s[i - 1].v;

		inc += d >= 0 ? d : s[i].v;
	}
	return inc;
}

static double
slope_per_hour(const struct sample *s, size_t n)
{
	double tm = 0, vm = 0, num = 0, den = 0;

	/* Times relative to the first sample keep the sums well scaled. */
	for (size_t i = 0; i < n; i++) {
		tm += (double)(s[i].t - s[0].t);
		vm += s[i].v;
	}
	tm /= (double)n;
	vm /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double dt = (double)(s[i].t - s[0].t) - tm;

		num += dt * (s[i].v - vm);
		den += dt * dt;
	}
	return num / den * 3600000.0;	/* per ms -> per hour */
}

int
window_eval(enum agg a, const struct sample *s, size_t n, double *scratch,
    double *out, const char **why)
{
	double acc;

	for (size_t i = 0; i < n; i++) {
		if (!isfinite(s[i].v)) {
			*why = "a sample is not a finite number";
			return -1;
		}
	}
	if (a == AGG_COUNT) {
		*out = (double)n;
		return 0;
	}
	if (n == 0) {
		*why = "no samples in the window";
		return -1;
	}
	switch (a) {
	case AGG_LAST:
		*out = s[n - 1].v;
		return 0;
	case AGG_AVG:
	case AGG_SUM:
		acc = 0;
		for (size_t i = 0; i < n; i++)
			acc += s[i].v;
		*out = a == AGG_SUM ? acc : acc / (double)n;
		return 0;
	case AGG_MIN:
	case AGG_MAX:
		acc = s[0].v;
		for (size_t i = 1; i < n; i++)
			if (a == AGG_MIN ? s[i].v < acc : s[i].v > acc)
				acc = s[i].v;
		*out = acc;
		return 0;
	case AGG_P50:
	case AGG_P90:
	case AGG_P95:
	case AGG_P99:
		for (size_t i = 0; i < n; i++)
			scratch[i] = s[i].v;
		*out = window_percentile(scratch, n, a == AGG_P50 ? 50 :
		    a == AGG_P90 ? 90 : a == AGG_P95 ? 95 : 99);
		return 0;
	case AGG_RATE:
	case AGG_DELTA:
	case AGG_SLOPE:
		if (n < 2) {
			*why = "needs two samples in the window";
			return -1;
		}
		if (s[n - 1].t == s[0].t) {
			*why = "the window's samples span no time";
			return -1;
		}
		if (a == AGG_SLOPE)
			*out = slope_per_hour(s, n);
		else if (a == AGG_DELTA)
			*out = counter_increase(s, n);
		else
			*out = counter_increase(s, n) * 1000.0 /
			    (double)(s[n - 1].t - s[0].t);
		return 0;
	case AGG_COUNT:
		break;
	}
	*why = "unknown aggregation";
	return -1;
}

size_t
window_collect(const struct series *s, int64_t since, struct sample *out,
    size_t max)
{
	size_t len = series_len(s), first = series_since(s, since + 1), n;

	n = len - first;
	if (n > max) {
		first += n - max;
		n = max;
	}
	for (size_t i = 0; i < n; i++)
		series_at(s, first + i, &out[i]);
	return n;
}
