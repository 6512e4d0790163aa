/*
 * judge: the release gate's verdict on one check over a deploy window.
 * Pure: polls go in, counters and a verdict with its reason come out.
 *
 * Every poll of a check is one of four outcomes, kept apart as Argo
 * Rollouts does: ok, warn, crit (the application breached a threshold)
 * and error (vigil could not measure: Sentry rate-limited us, a JSON field
 * was missing -- not the application failing). The limits:
 *
 *   key               the first crit fails the check (health, pool)
 *   fail_after        N consecutive crits fail it
 *   max_failures      more than N crits in the window fail it (-1: off)
 *   max_consecutive_errors   N errors in a row: inconclusive
 *   min_samples       fewer judged polls at the end: inconclusive
 *
 * A fail or an error-limit verdict is terminal at once; the others are
 * decided when the window ends (final = true).
 */
#ifndef VIGIL_JUDGE_H
#define VIGIL_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum poll_outcome { POLL_OK, POLL_WARN, POLL_CRIT, POLL_ERROR };
enum verdict { VERDICT_PASS, VERDICT_WARN, VERDICT_INCONCLUSIVE,
	VERDICT_FAIL };

const char *poll_outcome_name(enum poll_outcome o);
const char *verdict_name(enum verdict v);
/* vigilctl's exit code for a verdict: 0, 1, 3, 2. */
int verdict_exit_code(enum verdict v, bool fail_on_warning);

struct judge_limits {
	bool key;
	unsigned fail_after;		/* >= 1 */
	long max_failures;		/* -1: no limit on the total */
	unsigned max_consecutive_errors;
	unsigned min_samples;		/* judged polls (ok/warn/crit) */
};

struct judge {
	struct judge_limits lim;
	uint64_t polls, ok, warn, crit, errors;
	unsigned consecutive_crit, consecutive_errors;
	unsigned longest_crit_run, longest_error_run;
	/* The worst poll, for the reason: its value and threshold. */
	double last_value, last_threshold;
	char last_error[160];
	bool terminal;			/* failed or errored out: decided */
	enum verdict terminal_verdict;
	char terminal_reason[256];
};

void judge_init(struct judge *j, const struct judge_limits *lim);

/*
 * Records one poll. value/threshold describe it (for reasons); why is the
 * measurement error for POLL_ERROR. Once terminal, polls still count but
 * the verdict stays.
 */
void judge_poll(struct judge *j, enum poll_outcome o, double value,
    double threshold, const char *op, const char *unit, const char *why);

/*
 * The verdict now; final: the window has ended, so too few samples are
 * inconclusive and warnings count. reason gets one line ("crit: 3
 * consecutive > 1000 ms, limit 2").
 */
enum verdict judge_verdict(const struct judge *j, bool final, char *reason,
    size_t len);

#endif
