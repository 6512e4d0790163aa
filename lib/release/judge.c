#include "release/judge.h"

#include <stdio.h>
#include <string.h>

#include "engine/ruleset.h"

const char *
poll_outcome_name(enum poll_outcome o)
{
	switch (o) {
	case POLL_OK:
		return "ok";
	case POLL_WARN:
		return "warn";
	case POLL_CRIT:
		return "crit";
	case POLL_ERROR:
		return "error";
	}
	return "?";
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_WARN:
		return "warn";
	case VERDICT_INCONCLUSIVE:
		return "inconclusive";
	case VERDICT_FAIL:
		return "fail";
	}
	return "?";
}

int
verdict_exit_code(enum verdict v, bool fail_on_warning)
{
	switch (v) {
	case VERDICT_PASS:
		return 0;
	case VERDICT_WARN:
		return fail_on_warning ? 1 : 0;
	case VERDICT_INCONCLUSIVE:
		return 3;
	case VERDICT_FAIL:
		return 2;
	}
	return 3;
}

void
judge_init(struct judge *j, const struct judge_limits *lim)
{
	memset(j, 0, sizeof(*j));
	j->lim = *lim;
	if (j->lim.fail_after == 0)
		j->lim.fail_after = 1;
}

void
judge_poll(struct judge *j, enum poll_outcome o, double value,
    double threshold, const char *op, const char *unit, const char *why)
{
	char v[32], t[32];

	j->polls++;
	if (o != POLL_ERROR) {
		j->consecutive_errors = 0;
		j->last_value = value;
		j->last_threshold = threshold;
	}
	if (o != POLL_CRIT)
		j->consecutive_crit = 0;
	switch (o) {
	case POLL_OK:
		j->ok++;
		break;
	case POLL_WARN:
		j->warn++;
		break;
	case POLL_CRIT:
		j->crit++;
		j->consecutive_crit++;
		if (j->consecutive_crit > j->longest_crit_run)
			j->longest_crit_run = j->consecutive_crit;
		break;
	case POLL_ERROR:
		j->errors++;
		j->consecutive_errors++;
		if (j->consecutive_errors > j->longest_error_run)
			j->longest_error_run = j->consecutive_errors;
		snprintf(j->last_error, sizeof(j->last_error), "%s",
		    why != NULL ? why : "cannot measure");
		break;
	}
	if (j->terminal)
		return;
	ruleset_fmt_num(value, v, sizeof(v));
	ruleset_fmt_num(threshold, t, sizeof(t));
	if (o == POLL_CRIT && j->lim.key) {
		j->terminal = true;
		j->terminal_verdict = VERDICT_FAIL;
		snprintf(j->terminal_reason, sizeof(j->terminal_reason),
		    "crit: %s%s %s %s%s on a key check (fails on the first)",
		    v, unit, op, t, unit);
	} else if (o == POLL_CRIT &&
	    j->consecutive_crit >= j->lim.fail_after) {
		j->terminal = true;
		j->terminal_verdict = VERDICT_FAIL;
		snprintf(j->terminal_reason, sizeof(j->terminal_reason),
		    "crit: %u consecutive %s %s%s, limit %u",
		    j->consecutive_crit, op, t, unit,
		    j->lim.fail_after - 1);
	} else if (o == POLL_CRIT && j->lim.max_failures >= 0 &&
	    j->crit > (uint64_t)j->lim.max_failures) {
		j->terminal = true;
		j->terminal_verdict = VERDICT_FAIL;
		snprintf(j->terminal_reason, sizeof(j->terminal_reason),
		    "crit: %llu polls %s %s%s in the window, limit %ld",
		    (unsigned long long)j->crit, op, t, unit,
		    j->lim.max_failures);
	} else if (o == POLL_ERROR && j->lim.max_consecutive_errors > 0 &&
	    j->consecutive_errors >= j->lim.max_consecutive_errors) {
		j->terminal = true;
		j->terminal_verdict = VERDICT_INCONCLUSIVE;
		snprintf(j->terminal_reason, sizeof(j->terminal_reason),
		    "error: %u consecutive measurement errors (limit %u): %s",
		    j->consecutive_errors, j->lim.max_consecutive_errors,
		    j->last_error);
	}
}

enum verdict
judge_verdict(const struct judge *j, bool final, char *reason, size_t len)
{
	uint64_t judged = j->ok + j->warn + j->crit;

	if (j->terminal) {
		snprintf(reason, len, "%s", j->terminal_reason);
		return j->terminal_verdict;
	}
	if (final && judged < j->lim.min_samples) {
		snprintf(reason, len, "too few samples: %llu judged polls, "
		    "need %u (%llu measurement errors)",
		    (unsigned long long)judged, j->lim.min_samples,
		    (unsigned long long)j->errors);
		return VERDICT_INCONCLUSIVE;
	}
	if (j->warn > 0 || j->crit > 0) {
		snprintf(reason, len, "warn: %llu of %llu polls past a "
		    "threshold (%llu crit, none %u in a row)",
		    (unsigned long long)(j->warn + j->crit),
		    (unsigned long long)judged, (unsigned long long)j->crit,
		    j->lim.fail_after);
		return VERDICT_WARN;
	}
	snprintf(reason, len, "ok: %llu polls within thresholds%s",
	    (unsigned long long)judged, final ? "" : " so far");
	return VERDICT_PASS;
}
