/*
 * alerts: what is wrong right now, most urgent first. An alert is a rule
 * that is firing, pending, or unknown (vigil cannot judge it, which an
 * on-call engineer must see too). A silenced alert is still an alert: it
 * is listed, marked with the silence that holds its notifications; one
 * suppressed behind a failing dependency is listed after the others.
 *
 * The /alerts document, the HTML page and vigilctl all show this order:
 * firing critical, firing warning, pending, unknown; then suppressed;
 * oldest first within each.
 */
#ifndef VIGIL_ALERTS_H
#define VIGIL_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/ruleset.h"

struct monitor;
struct silence;
struct maint_window;

/* Which alerts to list; a zero mask means any. */
struct alerts_filter {
	unsigned sev;	/* 1 << SEV_WARNING | 1 << SEV_CRITICAL */
	unsigned state;	/* 1 << RULE_FIRING | RULE_PENDING | RULE_UNKNOWN */
};

/*
 * Reads the query parameters ?severity=critical|warning and
 * ?state=firing|pending|unknown (either may be NULL; a comma separates
 * several). Returns 0, or -1 with *why.
 */
int alerts_filter_parse(const char *severity, const char *state,
    struct alerts_filter *f, const char **why);

struct alert {
	struct rule_view v;
	const struct silence *silence;	/* covering it, or NULL */
	/* Without a silence: the active maintenance window covering it. */
	const struct maint_window *maint;
	int64_t maint_end;		/* that occurrence's end */
	int rank;			/* smaller: more urgent */
};

/*
 * The active alerts passing f (NULL: all) as of now, most urgent first,
 * in a malloc'd array (*out, free() it) of *n. Returns 0, or -1 when out
 * of memory.
 */
int alerts_collect(const struct monitor *m, int64_t now,
    const struct alerts_filter *f, struct alert **out, size_t *n);

/* The /alerts document (malloc'd), or NULL when out of memory. */
char *alerts_json(const struct monitor *m, const struct alerts_filter *f);

/* The names of the rules silence x covers now, as a JSON array. */
struct cJSON *alerts_silence_matches(const struct monitor *m,
    const struct silence *x, int64_t now);
/* The maintenance windows active now (at most this many): a JSON array. */
#define ALERTS_MAINT_SHOWN 32
struct cJSON *alerts_maint_json(const struct monitor *m, int64_t now);
/* The active silences with the rules each covers now: a JSON array. */
struct cJSON *alerts_silences_json(const struct monitor *m, int64_t now);

#endif
