/*
 * derived: derived metrics (config "derived") computed into the store.
 * When a probe's run ends, every derived metric that reads that probe,
 * directly or through another derived metric, is evaluated over the
 * newest samples of its inputs and stored as a sample of its own, at the
 * time of its newest input, so windows and aggregates work over it as
 * over any metric.
 *
 * An input is unknown when it has no sample, when its probe's last run
 * failed and did not report it, or when its newest sample is stale by a
 * rule's default (three of its probe's intervals, at least interval +
 * timeout). Unknown inputs, a division by zero or an overflow store
 * nothing: rules over the metric then say why they cannot judge.
 */
#ifndef VIGIL_DERIVED_H
#define VIGIL_DERIVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct probe_fact;
struct store;

/* One derived metric's outcome at the last evaluation. */
struct derived_result {
	bool known;
	double value;
	int64_t t;		/* its newest input's time */
	char why[160];		/* why unknown: "app.hits: no samples" */
};

/*
 * Evaluates every derived metric of cfg in order over st and facts
 * (one per probe), into res (cfg->nderived entries). Those that read
 * probe (RULESET_ALL's (size_t)-1: all) and are known are added to st
 * with cap_of(probe index) samples of room. Returns how many were stored.
 */
size_t derived_update(const struct config *cfg, struct store *st,
    const struct probe_fact *facts, size_t probe, int64_t now,
    struct derived_result *res,
    size_t (*cap_of)(const struct config *cfg, size_t probe));

#endif
