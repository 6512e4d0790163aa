/*
 * health: the one verdict /health gives, for UptimeRobot and load
 * balancers.
 *
 *   fail  a critical rule fires, or vigild itself is degraded (its loop
 *         lags, a probe cannot be started): 503
 *   warn  a warning fires, or a rule cannot be measured (unknown): 200;
 *         a rule with too little data to judge is only noted
 *   pass  otherwise: 200
 *
 * Only the top level of the document ever says "pass": a keyword monitor
 * looking for "status":"pass" must never find it in a failing answer.
 */
#ifndef VIGIL_HEALTH_H
#define VIGIL_HEALTH_H

#include <stddef.h>

struct monitor;

struct health {
	const char *status;	/* "pass", "warn", "fail" */
	char output[512];	/* why, when not pass */
	/*
	 * Rules that cannot judge for lack of data (a quiet night under a
	 * ratio's min_denominator): named here, but not a warning -- an
	 * uptime monitor must not page because traffic is low.
	 */
	char notes[512];
};

void health_eval(const struct monitor *m, struct health *h);
/*
 * The application/health+json document (malloc'd), or NULL; *h gets the
 * verdict it was made from (one walk of the rules, not two).
 */
char *health_json(const struct monitor *m, struct health *h);

#endif
