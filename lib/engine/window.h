/*
 * window: aggregations over a window of samples. Pure: a slice of samples
 * in, a number (or the reason there is none) out.
 *
 * Percentiles are exact over the window's samples, interpolated linearly
 * between the two closest ranks (numpy's default), so p95 of 20 samples is
 * a value between the 19th and 20th smallest. rate and delta treat the
 * metric as a counter: a value lower than its predecessor is a reset (the
 * application restarted), and the increase across it is the new value
 * itself. slope is the least-squares trend in units per hour, which shows
 * a leak long before a threshold is reached.
 */
#ifndef VIGIL_WINDOW_H
#define VIGIL_WINDOW_H

#include <stddef.h>

#include "config/rule_def.h"
#include "engine/store.h"


/*
 * Aggregates n samples (time order). scratch must hold n doubles (used by
 * percentiles). Returns 0 and sets *out, or -1 with *why saying why there
 * is no value ("no samples in the window", "needs two samples", "samples
 * span no time", "a sample is not a finite number").
 */
int window_eval(enum agg a, const struct sample *s, size_t n,
    double *scratch, double *out, const char **why);

/* The p-th percentile (0..100) of n values; sorts v in place. n > 0. */
double window_percentile(double *v, size_t n, double p);

/*
 * Copies the samples of s with t > since (at most max, the newest ones)
 * into out, oldest first; returns how many.
 */
size_t window_collect(const struct series *s, int64_t since,
    struct sample *out, size_t max);

#endif
