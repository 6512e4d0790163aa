/*
 * split: a deploy's own errors against everyone else's, from a source
 * that counts error events by release (Sentry's events filtered by
 * release). vigil's other numbers are the whole application's, where a
 * 10 % canary's errors are diluted tenfold; counted by release they are
 * not.
 *
 * Judged per rollout stage, at the stage's traffic weight w: were the
 * release no worse than the rest by the margin m, its share of the error
 * events would be at most w(1+m) / (w(1+m) + 1 - w). An exact one-sided
 * binomial test of its count against that share says whether it is
 * significantly more (stats_binomial_share). The verdict module runs the
 * test at the end of each judging interval and of each stage and records
 * it (release/verdict.h), never poll by poll: looking at every poll would
 * find chance differences.
 */
#ifndef VIGIL_SPLIT_H
#define VIGIL_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define SPLIT_STAGES	16

struct by_release_cfg;

struct split_stage {
	int weight;		/* % of the traffic the release serves */
	int64_t since;		/* Unix ms */
	double own0, all0;	/* the counts as it began */
};

struct split {
	bool have;		/* a count was read since judging began */
	double own, all;	/* error events since then: the release's, all */
	int64_t at;		/* Unix ms of the latest count */
	struct split_stage stage[SPLIT_STAGES];
	size_t nstages;
};

/* The latest counts since judging began (cumulative). */
void split_count(struct split *s, double own, double all, int64_t at);
/* A rollout stage begins at weight % (deploy step). */
void split_step(struct split *s, int weight, int64_t t);

enum split_outcome { SPLIT_UNTESTED, SPLIT_SKIPPED, SPLIT_PASS, SPLIT_FAIL };

/* "untested", "skipped", "pass", "fail". */
const char *split_outcome_name(enum split_outcome o);

/* Stage i's counts and test. */
struct split_result {
	enum split_outcome outcome;
	double own, all;
	double p;		/* NAN when untested or skipped */
	char reason[240];
};

void split_judge(const struct split *s, const struct by_release_cfg *c,
    const char *version, size_t i, struct split_result *out);

/* The state file's part. */
cJSON *split_save(const struct split *s);
void split_restore(struct split *s, const cJSON *o);

#endif
