/*
 * decide: what one notifier should tell about one rule, now. Pure: the
 * rule's state as the engine left it, what was told so far and a clock
 * in; a notice to send (or none) out, and what was told updated as if it
 * were sent. No I/O, no clock reads: tests drive it on a fake clock.
 *
 *   firing        the rule fires at a severity this notifier takes, and
 *                 nothing was told: the page
 *   escalated, de-escalated   the severity told changed
 *   repeat        still firing, repeat_ms since the last notice
 *   resolved      told firing, and the rule resolved (or fell below this
 *                 notifier's severities); held while the rule is unknown
 *                 or suppressed by a dependency: it cannot be judged yet
 *   flapping_ended   the rule stopped flapping in a state other than the
 *                 one told
 *
 * Nothing is told of a silenced rule. A flapping rule is damped: no page,
 * no repeat; but a resolution owed (told firing, the rule out of firing)
 * waits at most flap_bound_ms, whether or not the flapping has ended.
 */
#ifndef VIGIL_NOTIFY_DECIDE_H
#define VIGIL_NOTIFY_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "notify/payload.h"
#include "engine/rules.h"

/* What a notifier has told about one rule. */
struct notify_told {
	enum rule_sev sev;	/* SEV_NONE: not (or no longer) firing */
	int64_t since;		/* when the told episode started firing */
	int64_t last_sent;	/* Unix ms, for repeats */
	bool flapping;		/* damped while the rule flaps */
	int64_t owed_since;	/* a resolution owed while damped, since */
};

/* What the decision reads of the rule now. */
struct notify_rule {
	enum rule_state state;
	enum rule_sev sev;
	int64_t since;		/* in this state since, Unix ms */
	bool suppressed, flapping, silenced;
};

struct notify_policy {
	bool warning, critical;	/* the severities this notifier takes */
	int64_t repeat_ms;	/* 0: never repeat */
	int64_t flap_bound_ms;	/* longest a damped resolution waits */
};

struct notify_decision {
	enum notice_kind kind;
	bool firing;
	enum rule_sev sev;	/* firing: now; resolved: what was told */
	int64_t since;		/* the episode's start */
};

/*
 * true with d filled when something must be told now. t is updated
 * either way (flapping marks, the owed resolution's clock).
 */
bool notify_decide(const struct notify_policy *p, const struct notify_rule *r,
    struct notify_told *t, int64_t now, struct notify_decision *d);

/* The flap bound of a rule: its flap window over its flips (at least 1 s). */
int64_t notify_flap_bound_ms(int64_t flap_window_ms, unsigned flips);

#endif
