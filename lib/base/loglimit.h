/*
 * loglimit: how many lines of one kind of event the log takes. Pure: a
 * kind, the clock, and what was let through so far in; a yes or no, and
 * the counts of what was held back, out.
 *
 * A flood of one event (a client hammering the API with a wrong token:
 * seven thousand lines a second) would trip journald's rate limit, which
 * then drops every line alike, the rare probe_down among them. So each
 * kind gets `burst` lines per `interval`; past that its lines are counted,
 * not written, and when its interval ends the count is told once
 * ("event=log_suppressed kind=auth_failure suppressed=7012 in_last_s=10").
 * Other kinds are untouched by one kind's flood.
 */
#ifndef VIGIL_LOGLIMIT_H
#define VIGIL_LOGLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGLIMIT_KINDS 64	/* kinds tracked; more share one slot */
#define LOGLIMIT_NAME 40	/* longest kind name kept */

struct loglimit_kind {
	char name[LOGLIMIT_NAME];
	int64_t start;		/* the current interval's start, ms */
	unsigned shown;		/* lines let through in it */
	unsigned long held;	/* lines held back in it */
};

struct loglimit {
	int64_t interval_ms;
	unsigned burst;
	struct loglimit_kind k[LOGLIMIT_KINDS];
	size_t n;
};

void loglimit_init(struct loglimit *l, int64_t interval_ms, unsigned burst);

/* Whether a line of this kind (NULL or "": the unnamed kind) may go out. */
bool loglimit_allow(struct loglimit *l, const char *kind, int64_t now);

/*
 * A kind whose interval is over with lines held back: its name, the count
 * and the interval's length (ms) go out, the kind starts afresh, and true
 * is returned; false when there is none. Call until false before each
 * line, and at exit with now = INT64_MAX to tell the last counts.
 */
bool loglimit_summary(struct loglimit *l, int64_t now, char *name,
    size_t len, unsigned long *held, int64_t *span_ms);

#endif
