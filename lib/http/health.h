/*
 * health: the one verdict /health gives, for UptimeRobot and load
 * balancers.
 *
 *   fail  a critical rule fires, or vigild itself is degraded (its loop
 *         lags, a probe cannot be started): 503
 *   warn  a warning fires, or a rule cannot be measured (unknown): 200
 *   notes, not the verdict: the maintenance windows active now, rules
 *         with too little data to judge, warming up (vigild started less
 *         than their window ago), held by a failing dependency, or
 *         silenced (by a silence or a maintenance window)
 *   pass  otherwise: 200
 *
 * Only the top level of the document ever says "pass": a keyword monitor
 * looking for "status":"pass" must never find it in a failing answer.
 */
#ifndef VIGIL_HEALTH_H
#define VIGIL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/rules.h"

/* The active maintenance windows named in the notes, at most. */
#define HEALTH_MAINT_NOTES 4

/* Room kept at the end of output and notes for "(and N more ...)". */
#define HEALTH_TRAILER 32

struct monitor;

struct health {
	const char *status;	/* "pass", "warn", "fail" */
	char output[512];	/* why, when not pass; "; "-separated */
	/*
	 * Rules named but not in the verdict, one a line: too little data
	 * to judge (a quiet night under a ratio's min_denominator), warming
	 * up after a start, held by a failing dependency, silenced. An
	 * uptime monitor must not page for any of them.
	 */
	char notes[1024];
};

/* What one rule is to /health. */
enum health_role {
	HEALTH_NONE,		/* fine, pending or resolved: not mentioned */
	HEALTH_FAIL,		/* firing critical: 503 */
	HEALTH_WARN,		/* firing warning: warn */
	HEALTH_UNKNOWN,		/* cannot be measured: warn */
	HEALTH_HELD,		/* firing, held by its dependency: a note */
	HEALTH_SILENCED,	/* firing or unknown, silenced: a note */
	HEALTH_QUIET,		/* too little data: a note */
	HEALTH_WARMING,		/* no verdict yet after a start: a note */
};

/* What the role of a rule depends on beyond its status. */
struct health_facts {
	bool silenced;
	bool probe_failed;	/* its probe's last run failed */
	int64_t up_ms;		/* since vigild started */
	/* Warming up lasts this long: the rule's window, at least its
	 * probe's interval + timeout. */
	int64_t warm_ms;
};

/*
 * The decision, pure: the verdict, the checks and the notes all come from
 * it. f NULL: from the bare status alone, HEALTH_NONE or not (a cheap
 * first look; the facts then decide which).
 */
enum health_role health_role(const struct rule_status *st,
    const struct health_facts *f);

void health_eval(const struct monitor *m, struct health *h);
/*
 * The application/health+json document (malloc'd), or NULL; *h gets the
 * verdict it was made from (one walk of the rules, not two).
 */
char *health_json(const struct monitor *m, struct health *h);

#endif
