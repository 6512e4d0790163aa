/*
 * ruleset: the configured rules at run time. For each rule it turns the
 * store's samples into the engine's input -- a window's aggregate, or why
 * there is none (no samples, stale, the probe failing, too little
 * traffic) -- evaluates it with the pure engine (rules.c) in dependency
 * order, marks dependents of a failing rule "suppressed by" it, keeps
 * baselines, and logs every transition.
 *
 * Evaluation runs for the rules fed by a probe when that probe's run
 * ends, and for all rules on a timer, so staleness and for-durations are
 * noticed without new samples.
 */
#ifndef VIGIL_RULESET_H
#define VIGIL_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine/rules.h"

struct config;
struct rule_cfg;
struct store;
struct ruleset;

/* What the rules need to know of each probe (config order). */
struct probe_fact {
	bool has_run;
	bool last_up;
	int64_t last_started;	/* Unix ms */
	int64_t last_finished;	/* Unix ms */
	const char *reason;	/* of the last failure */
	const char *notes;	/* of the last run; NULL: none */
	int64_t interval_ms, timeout_ms;
};

#define RULESET_ALL ((size_t)-1)

/* A rule's transition, as notifiers see it. */
struct alert_event {
	const struct rule_cfg *rule;
	const struct rule_status *st;	/* after the transition */
	struct rule_event ev;
	int64_t t;			/* Unix ms */
};
typedef void (*ruleset_listener)(const struct alert_event *e, void *arg);

/*
 * Builds the runtime of cfg's rules. Rules of old with the same name and
 * settings keep their status and baseline; a changed rule starts fresh
 * (its baseline is kept when its metric is unchanged).
 */
struct ruleset *ruleset_new(const struct config *cfg,
    const struct ruleset *old);
void ruleset_free(struct ruleset *rs);

/* How many alert events the rules have had: a change of state shows. */
uint64_t ruleset_events(const struct ruleset *rs);
/* Every event of every evaluation goes to fn (NULL: none). */
void ruleset_set_listener(struct ruleset *rs, ruleset_listener fn,
    void *arg);

/*
 * Evaluates, at now (Unix ms), the rules fed by probe (an index into the
 * config's probes) and their dependents, or every rule for RULESET_ALL.
 */
void ruleset_eval(struct ruleset *rs, const struct store *st,
    const struct probe_fact *facts, size_t probe, int64_t now);

/*
 * The derived metrics' outcomes the monitor keeps (engine/derived.h), for
 * the reason a rule over one gives when it is unknown; NULL: none.
 */
struct derived_result;
void ruleset_set_derived(struct ruleset *rs,
    const struct derived_result *res);

size_t ruleset_count(const struct ruleset *rs);
/* Cheap accessors for rule i (no text rendered); NULL if out of range. */
const struct rule_cfg *ruleset_cfg(const struct ruleset *rs, size_t i);
const struct rule_status *ruleset_status(const struct ruleset *rs, size_t i);

/* Everything /status shows of a rule. */
struct rule_view {
	const struct rule_cfg *cfg;
	const struct rule_status *st;
	/*
	 * The state, or "suppressed" for an alert (firing, pending,
	 * unknown) that its dependency holds -- as /alerts counts them; a
	 * rule that is fine shows its state, with suppressed_by set.
	 */
	const char *state;
	const char *held_why;		/* why it is held, "" if not */
	bool has_baseline;
	double baseline;
	int64_t baseline_at;		/* Unix ms */
	int64_t data_age_ms;		/* newest sample's age; -1: none */
	size_t samples;			/* in the window at the last eval */
	const char *probe_error;	/* the source probe's last failure */
	char summary[320];		/* the rule's template, filled in */
	char explain[320];		/* why it is (not) firing */
};

/* Fills v for rule i (config order) as of now; false if out of range. */
bool ruleset_view(const struct ruleset *rs, size_t i, int64_t now,
    struct rule_view *v);

/*
 * Saves each named rule's current value as its baseline (name NULL: every
 * rule with a baseline factor). Returns how many were saved; rules whose
 * value is unknown are skipped and counted in *skipped.
 */
size_t ruleset_save_baseline(struct ruleset *rs, const char *name,
    int64_t now, size_t *skipped);

/*
 * The state file's part: every rule's status and baseline, states and
 * severities by name ("firing", "critical"). Restoring applies to rules
 * with the same name and settings (a hash of their canonical form);
 * others start fresh, unknown. Returns how many rules got their status
 * back.
 */
cJSON *ruleset_save(const struct ruleset *rs);
size_t ruleset_restore(struct ruleset *rs, const cJSON *saved);
/*
 * A state or severity as the state file holds it: a name, or the enum's
 * number as 0.1.0 saved it. false (out untouched) for anything else.
 */
bool ruleset_load_state(const cJSON *x, enum rule_state *out);
bool ruleset_load_sev(const cJSON *x, enum rule_sev *out);
/* The longest window of any rule: how much history a restart needs. */
int64_t ruleset_max_window_ms(const struct ruleset *rs);

/* Alerts by state; suppressed: alerts held by a dependency (as /alerts). */
struct ruleset_counts {
	unsigned critical, warning, pending, unknown, suppressed;
};
void ruleset_counts(const struct ruleset *rs, struct ruleset_counts *c);

/*
 * What a rule's value is over, for a report to say so truthfully: its
 * samples, a ratio's numerator and denominator over the same span, and
 * the span itself (from..now; window 0: the latest sample alone).
 */
struct rule_measure {
	double value;
	size_t samples;		/* a ratio: the denominator's */
	double num, den;	/* a ratio's two sides (0 for a metric) */
	int64_t from;		/* the span's start, wall ms */
	bool clipped;		/* the window reaches back before since */
	/*
	 * Unknown only for want of samples since `since` (a delta needs
	 * two) or of traffic (a ratio under min_denominator): not a
	 * measurement error.
	 */
	bool thin;
};

/*
 * Rule i's value as its window would give it if the window could not
 * reach before since (a deploy window). Read-only: the rule's status is
 * not touched. false with why when it cannot be measured.
 */
bool ruleset_value_since(struct ruleset *rs, size_t i, const struct store *st,
    const struct probe_fact *facts, int64_t since, int64_t now,
    struct rule_measure *m, char *why, size_t len);

/* Formats a value the way people read it: 0.05, 312, 1.5e+09. */
void ruleset_fmt_num(double v, char *buf, size_t len);

#endif
