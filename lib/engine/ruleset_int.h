/*
 * ruleset_int: the rule set's run-time records, shared by its two files:
 * ruleset.c evaluates rules and saves their state, ruleset_view.c puts a
 * rule's state into words for the engineer (summaries, explanations).
 * Private to lib/engine.
 */
#ifndef VIGIL_RULESET_INT_H
#define VIGIL_RULESET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "engine/ruleset.h"
#include "engine/suppress.h"

struct rule_rt {
	const struct rule_cfg *cfg;
	struct rule_status st;
	bool has_baseline;
	double baseline;
	int64_t baseline_at;
	int64_t data_age_ms;
	size_t samples;
	double num, den;	/* a ratio's two sides, as last read */
	/* Unknown only for want of samples in the window (or traffic). */
	bool thin;
	const char *probe_error;
	/* The probe's note a {note:TEXT} of the summary asks for, copied
	 * at evaluation: the notes themselves go with the next run. */
	char note[240];
	char why[160];		/* the reason behind an unknown input */
	/* Holding by the dependency (engine/suppress.h). */
	enum hold hold;
	int64_t dep_good_since;	/* the dependency fine since; 0: failing */
	int64_t bad_since;	/* start of the run that showed us bad */
	/* The derived metrics it reads (metric or numerator, denominator). */
	const struct derived_cfg *dnum, *dden;
	size_t inum, iden;	/* their indices in the config's derived */
	/* Rules that depend on this one, to evaluate after it. */
	size_t *dependents;
	size_t ndependents;
};

struct ruleset {
	struct rule_rt *rules;
	size_t n;
	size_t *order;		/* every rule, dependencies first */
	/* Per probe: the rules its samples feed. */
	size_t **by_probe;
	size_t *nby_probe;
	size_t nprobes;
	/* Scratch for windows, grown as needed. */
	struct sample *buf;
	double *scratch;
	size_t bufcap;
	size_t *queue;		/* for targeted evaluation */
	bool *queued;
	ruleset_listener listener;
	void *listener_arg;
	uint64_t events;	/* alert events since this ruleset was built */
	/* The derived metrics' last outcomes (engine/derived.h), or NULL. */
	const struct derived_result *derived;
};

/* "5m", or "the latest sample" for a rule without a window. */
void ruleset_window_text(const struct rule_cfg *rc, char *buf, size_t len);

#endif
