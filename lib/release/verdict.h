/*
 * verdict: the release gate's one decision. Pure: what a deploy window
 * recorded (each check's polls, counts and samples, its baseline, the
 * stages, the errors by release), the config it began with and a clock
 * go in; the verdict comes out, for the whole window, for the stage under
 * way and for each check. No JSON, no I/O, no clock reads. vigilctl wait,
 * /deploys/{id}, the reports, /status, /metrics, the page and the
 * notifiers all render a struct vresult; none of them decides.
 *
 * Judged once per interval, as Kayenta judges. Polls are recorded as
 * they come (ok/warn/crit/error, judge.h). The statistics are not run on
 * every poll, which would find chance differences and let a verdict go
 * from fail back to pass: at the end of each judging interval
 * (judging_from + k * interval) and at the end of each stage (a step, the
 * end of the window) every relative check and the errors-by-release test
 * run once on the data so far; the result is recorded and never
 * re-decided. A fail is final for the deploy.
 *
 * The same interval end checks the data. A full interval in which a check
 * got no judged poll (no samples, a stalled probe), or a ratio check's
 * requests did not grow (traffic stopped), is a measurement error for
 * that interval ("no data", as Flagger counts it), and a window or stage
 * whose last full interval had no data ends inconclusive, never pass.
 *
 * What a relative check compares: by default the deploy window with the
 * same-length window before it (before/after). With canary and baseline
 * probes ("compare"), the canary pods' own numbers with the stable pods',
 * over the same minutes, as Kayenta judges: a 10 % canary's errors are
 * then not diluted tenfold in whole-application numbers, and time of day
 * is no longer part of the difference.
 *
 * A stage is judged by every check the window is: its own polls against
 * the thresholds, min_samples, min_requests over its own requests, the
 * relative tests and errors by release as recorded; and whatever decided
 * the deploy (a fail, the measurement error limit) decides it too.
 */
#ifndef VIGIL_VERDICT_H
#define VIGIL_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "release/judge.h"
#include "release/split.h"
#include "engine/rules.h"
#include "engine/window.h"

#define VERDICT_STAGES		SPLIT_STAGES
#define VERDICT_MAX_VALUES	20000	/* per-poll samples kept a side */

/*
 * A check as its deploy judges it: a copy of the config the deploy began
 * with, so that a reload neither frees nor changes what it refers to.
 */
struct vcheck_cfg {
	char name[64];
	char rule[64];
	bool key, advisory;
	struct judge_limits lim;
	double min_requests;		/* ratio checks: requests needed */
	bool relative;
	double max_increase_pct;
	double confidence;
	unsigned min_relative_samples;
	/* The rule's thresholds and what it measures, for the report. */
	enum rule_op op;
	bool warn_set, crit_set;
	double warn, crit;
	char unit[16];
	bool ratio;
	char metric[128];		/* or numerator / denominator */
	char numerator[128], denominator[128];
	enum agg agg;
	int64_t window_ms;
	double scale;
};

enum vtest_outcome { VTEST_NONE, VTEST_SKIPPED, VTEST_PASS, VTEST_FAIL };

/* One significance test, as run at an interval's or a stage's end. */
struct vtest {
	enum vtest_outcome outcome;
	int64_t at;			/* when it ran, Unix ms */
	double p;			/* NAN unless it ran */
	/*
	 * What it compared: errors and requests before and after (a ratio),
	 * or sample counts and medians (base_a/a: count, base_b/b: median).
	 */
	double base_a, base_b, a, b;
	char reason[240];
};

/* One poll of a check, as the deploy's glue measured it. */
enum vpoll_kind {
	VPOLL_VALUE,		/* a value: judged against the thresholds */
	VPOLL_THIN,		/* too few samples or requests yet: not judged */
	VPOLL_ERROR,		/* vigil could not measure */
};

struct vpoll {
	int64_t t;
	enum vpoll_kind kind;
	double value;
	const char *why;	/* VPOLL_ERROR: the reason */
	/* A metric check: the newest sample since judging began. */
	bool has_sample;
	double sample;
	/* A ratio check: its two counters' latest readings. */
	bool has_counts;
	double num, den;
};

/*
 * A ratio's two counters summed poll by poll since judging began, a drop
 * read as the application restarting.
 */
struct vcount {
	double num, den;
	double last_num, last_den;
	bool have_last;
};

/* The canary's or the stable pods' side of a side-by-side check. */
enum vside_kind { VSIDE_CANARY, VSIDE_STABLE };

struct vside {
	double *v;		/* per-poll samples (a metric check) */
	size_t n, a;
	struct vcount cnt;	/* a ratio check's counts */
};

struct vcheck {
	struct vcheck_cfg cfg;
	bool gone;		/* a reload removed it: no longer measured */
	struct judge j;		/* the whole window */
	struct judge stage;	/* since the last step */
	/* The latest poll, for the report. */
	bool known;
	double value;
	int64_t at;
	/* The baseline: its aggregate, per-poll values and counts. */
	bool has_base;
	double base_value;
	double *base;
	size_t nbase;
	double base_num, base_den;
	/* The window: per-poll values, and counts since judging began. */
	double *after;
	size_t nafter, aafter;
	struct vcount cnt;
	/* The stage under way began at these counts. */
	double st_num0, st_den0;
	/* The interval under way: judged polls, requests as it began. */
	uint64_t iv_judged;
	double iv_den0;
	bool nodata;		/* the last full interval had no data */
	char nodata_why[160];
	/* The relative test, as last recorded; a fail stays. */
	struct vtest rel;
	/* Side by side: the canary's and the stable pods' polls. */
	struct vside side[2];
};

struct vstage {
	int64_t t;
	int weight;
	/* Errors by release, as last recorded for this stage; a fail stays. */
	struct split_result br;
	bool br_run;
};

struct vdeploy {
	int64_t begun, judge_from, ended;	/* ended: 0 while open */
	int64_t interval_ms;
	int64_t next_close;	/* the interval under way ends here */
	uint64_t intervals;	/* full intervals closed */
	struct vcheck *checks;
	size_t nchecks;
	struct vstage stages[VERDICT_STAGES];
	size_t nstages;
	/* Errors by release: the config it began with, the counts. */
	struct by_release_cfg br;
	char version[64];
	struct split split;
	/* Side by side: relative checks compare these two probes' numbers. */
	bool compare;
	char canary[64], stable[64];
};

/*
 * A deploy begun at now, judged from judge_from, over nchecks checks
 * (their cfg filled in by the caller after). interval_ms: the judging
 * interval. -1 with no memory.
 */
int verdict_init(struct vdeploy *d, size_t nchecks, int64_t now,
    int64_t judge_from, int64_t interval_ms);
void verdict_clear(struct vdeploy *d);

/* Check i's baseline: per-poll samples (copied) or counts. */
int verdict_baseline(struct vcheck *c, const double *v, size_t n,
    bool has_value, double value, double num, double den);

/* Records one poll of check i. Polls before judge_from are ignored. */
void verdict_poll(struct vdeploy *d, size_t i, const struct vpoll *p);
/*
 * A poll of check i's metrics on the canary's or the stable pods' probe
 * (has_sample, or has_counts); only relative checks use them.
 */
void verdict_side(struct vdeploy *d, size_t i, enum vside_kind k,
    const struct vpoll *p);
/* Errors by release: the counts since judging began, read at `at`. */
void verdict_split(struct vdeploy *d, double own, double all, int64_t at);

/* Closes every full interval that ended by now: tests and data checks. */
void verdict_tick(struct vdeploy *d, int64_t now);
/* A rollout stage begins (weight 1..100); the one before it ends. */
void verdict_step(struct vdeploy *d, int weight, int64_t now);
/* The window ends: the last tests run. */
void verdict_end(struct vdeploy *d, int64_t now);

/* A verdict now (so far) and final (if the window or stage ended now). */
struct vscope {
	enum verdict now, final;
	char now_reason[440], final_reason[440];
	bool decided;		/* now is final: a fail, or the error limit */
};

/* A check's verdict in one scope (its reasons are shorter). */
struct vcheck_scope {
	enum verdict now, final;
	char now_reason[300], final_reason[300];
	bool decided;
};

struct vcheck_result {
	struct vcheck_scope window, stage;
};

struct vresult {
	struct vscope window;
	bool has_stage;
	struct vscope stage;	/* the stage under way */
	/*
	 * What vigilctl wait decides on: the stage's verdict in a staged
	 * rollout, else the window's. A copy of one of the two.
	 */
	struct vscope gate;
	const char *gate_scope;	/* "stage" or "window" */
	bool warming_up;
	/* Errors by release over the window: the worst recorded stage. */
	enum split_outcome br_outcome;
	char br_reason[300];
};

/* Check i's verdict, from what was recorded. */
void verdict_check(const struct vdeploy *d, size_t i,
    struct vcheck_result *out);
/* The deploy's verdict at now. */
void verdict_judge(const struct vdeploy *d, int64_t now, struct vresult *out);

const char *vtest_outcome_name(enum vtest_outcome o);
/* The test a check's relative part uses: "Fisher exact" or Mann-Whitney. */
const char *verdict_test_name(const struct vcheck_cfg *c);
/* What relative checks compare, in words. */
const char *verdict_compared(const struct vdeploy *d);

#endif
