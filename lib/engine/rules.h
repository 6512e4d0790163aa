/*
 * rules: the alert state machine of one rule. Pure: a rule's definition,
 * its status so far, this evaluation's input (a value, or why there is
 * none) and the clock go in; the new status and the events worth telling
 * come out. No I/O, no clock reads, no logging: tests drive it with a fake
 * clock.
 *
 *   ok -> pending (condition holds, for not yet elapsed) -> firing
 *   (warning or critical; escalates and de-escalates while firing)
 *   -> resolved (condition gone, keep_firing_for elapsed) -> ok
 *   unknown: no value (stale, missing, probe failing) -- never silently ok;
 *   every rule starts here, until its first evaluation
 *
 * Hysteresis: once firing at a severity, the rule stays there until the
 * value passes that level's clear threshold ("fire above 80, clear only
 * below 75"). A rule that goes unknown while firing resumes firing without
 * a new pending period if its value comes back bad, and resolves if it
 * comes back good. Flapping (too many fire/resolve flips in a window) is
 * flagged, and its end is an event, so the current state is announced.
 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/rule_def.h"

enum rule_state {
	RULE_OK,
	RULE_PENDING,
	RULE_FIRING,
	RULE_RESOLVED,
	RULE_UNKNOWN,
};

const char *rule_state_name(enum rule_state s);	/* "firing" */


struct rule_input {
	bool known;
	double value;
	const char *why;	/* when !known: the reason */
	/*
	 * When !known: there was too little data to judge (a ratio under
	 * its min_denominator), as opposed to failing to measure.
	 */
	bool quiet;
	bool has_baseline;
	double baseline;
	const char *suppressed_by;	/* a failing dependency, or NULL */
};

struct rule_transition {
	int64_t t;
	enum rule_state from, to;
	enum rule_sev sev;	/* severity after the transition */
};

#define RULE_HISTORY 16

struct rule_status {
	enum rule_state state;
	enum rule_sev sev;	/* firing or pending severity */
	int64_t since;		/* when state last changed */
	int64_t cond_since;	/* condition holding since (0: not holding) */
	int64_t clear_since;	/* condition gone since, while firing */
	enum rule_sev fired_sev;	/* severity before going unknown */
	bool known;
	bool quiet;		/* unknown for too little data: see rule_input */
	double value;
	char why[160];
	double threshold;	/* the threshold in force for sev */
	bool suppressed;
	char suppressed_by[64];
	bool flapping;
	int64_t flips[RULE_FLAP_SLOTS];	/* ring of fire/resolve times */
	unsigned nflips, flip_head;
	struct rule_transition hist[RULE_HISTORY];
	unsigned nhist, hist_head;
	int64_t evaluated;	/* last evaluation time, 0 before */
};

enum rule_event_kind {
	RULE_EV_TRANSITION,	/* state or severity changed */
	RULE_EV_FLAP_START,
	RULE_EV_FLAP_END,	/* announce the state it settled in */
};

struct rule_event {
	enum rule_event_kind kind;
	enum rule_state from, to;
	enum rule_sev sev_from, sev_to;
	bool suppressed;	/* notifiers hold it */
	bool flapping;		/* notifiers damp it */
	bool initial;		/* the rule's first evaluation */
};

#define RULE_MAX_EVENTS 4

void rule_status_init(struct rule_status *st);

/*
 * Evaluates one rule at time now (Unix ms). Updates st and writes up to
 * RULE_MAX_EVENTS events; returns how many.
 */
int rules_eval(const struct rule_def *d, struct rule_status *st,
    const struct rule_input *in, int64_t now, struct rule_event *ev);

/*
 * Marks st held by dependency `by` (NULL: not held) after rules_eval
 * decided its state, and the evaluation's nev events in ev alike: whether
 * a dependency holds a rule can depend on the state it just entered.
 */
void rules_set_suppressed(struct rule_status *st, const char *by,
    struct rule_event *ev, int nev);

/* Whether v crosses threshold t in the rule's direction. */
bool rule_crosses(enum rule_op op, double v, double t);

/* The i-th newest transition (0 = newest); false when out of range. */
bool rule_history(const struct rule_status *st, unsigned i,
    struct rule_transition *out);

#endif
