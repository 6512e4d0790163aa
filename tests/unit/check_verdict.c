/*
 * verdict: the release gate's one decision, on a fake clock. Each test is
 * a scenario a release engineer meets (a subtle regression after a step,
 * traffic that stops, a fail that later looks fine) fed as polls at
 * chosen instants; what is asserted is the verdict struct every consumer
 * renders. Times are ms since judging began.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "release/verdict.h"
#include "suites.h"

#define S(x)	((int64_t)(x) * 1000)

static void
ratio_cfg(struct vcheck *c, const char *name, double min_requests,
    bool relative, double margin_pct)
{
	struct vcheck_cfg *f = &c->cfg;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->rule, sizeof(f->rule), "%s", name);
	f->lim.fail_after = 2;
	f->lim.max_failures = -1;
	f->lim.max_consecutive_errors = 4;
	f->lim.min_samples = 3;
	f->min_requests = min_requests;
	f->relative = relative;
	f->max_increase_pct = margin_pct;
	f->confidence = 0.98;
	f->min_relative_samples = 50;
	f->op = RULE_GT;
	f->warn_set = f->crit_set = true;
	f->warn = 0.1;
	f->crit = 1;
	snprintf(f->unit, sizeof(f->unit), "%%");
	f->ratio = true;
	snprintf(f->numerator, sizeof(f->numerator), "app.errors_total");
	snprintf(f->denominator, sizeof(f->denominator), "app.requests_total");
	f->scale = 100;
	judge_init(&c->j, &f->lim);
	judge_init(&c->stage, &f->lim);
}

static void
metric_cfg(struct vcheck *c, const char *name, bool key, unsigned fail_after)
{
	struct vcheck_cfg *f = &c->cfg;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->rule, sizeof(f->rule), "%s", name);
	f->key = f->lim.key = key;
	f->lim.fail_after = fail_after;
	f->lim.max_failures = -1;
	f->lim.max_consecutive_errors = 4;
	f->lim.min_samples = 3;
	f->confidence = 0.98;
	f->min_relative_samples = 50;
	f->op = RULE_GT;
	f->warn_set = f->crit_set = true;
	f->warn = 500;
	f->crit = 1000;
	snprintf(f->unit, sizeof(f->unit), "ms");
	snprintf(f->metric, sizeof(f->metric), "app.p95_ms");
	judge_init(&c->j, &f->lim);
	judge_init(&c->stage, &f->lim);
}

/* A ratio poll: the rule's value and the counters' readings. */
static void
rpoll(struct vdeploy *d, size_t i, int64_t t, double value, double num,
    double den)
{
	struct vpoll p = {
		.t = t, .kind = VPOLL_VALUE, .value = value,
		.has_counts = true, .num = num, .den = den,
	};

	verdict_poll(d, i, &p);
}

static void
mpoll(struct vdeploy *d, size_t i, int64_t t, double value)
{
	struct vpoll p = {
		.t = t, .kind = VPOLL_VALUE, .value = value,
		.has_sample = true, .sample = value,
	};

	verdict_poll(d, i, &p);
}

static struct vresult
judge_at(const struct vdeploy *d, int64_t now)
{
	struct vresult r;

	verdict_judge(d, now, &r);
	return r;
}

#define ck_reason(s, part) \
	ck_assert_msg(strstr((s), (part)) != NULL, "\"%s\" lacks \"%s\"", (s), \
	    (part))

/*
 * Errors 0.1 % -> 0.3 % after deploy step --weight 10, plenty of
 * traffic, a relative check: the stage fails at the first interval end,
 * whatever the order of the step, the interval's end and the reader.
 * (It used to pass: the stage verdict never ran the relative test.)
 */
START_TEST(test_subtle_regression_after_step_fails_in_every_order)
{
	/* step at: before the first close, at it, after it. */
	static const int64_t steps[] = { 0, S(10), S(12) };

	for (size_t o = 0; o < 3; o++) {
		for (int by_reader = 0; by_reader < 2; by_reader++) {
			struct vdeploy d;
			struct vresult r;
			int64_t t, first_close;
			double num = 0, den = 0;
			bool stepped = false;

			ck_assert_int_eq(verdict_init(&d, 1, -S(60), 0, S(10)),
			    0);
			ratio_cfg(&d.checks[0], "error_rate", 1000, true, 10);
			verdict_baseline(&d.checks[0], NULL, 0, true, 0.1, 100,
			    100000);
			for (t = 0; t <= S(40); t += S(1)) {
				if (!stepped && t >= steps[o]) {
					verdict_step(&d, 10, t);
					stepped = true;
				}
				rpoll(&d, 0, t, 0.3, num, den);
				num += 3;
				den += 1000;
				if (by_reader)
					verdict_tick(&d, t + 500);
			}
			r = judge_at(&d, S(40));
			ck_assert_msg(r.gate.decided && r.gate.now ==
			    VERDICT_FAIL, "order %zu reader %d: %s", o,
			    by_reader, r.gate.now_reason);
			ck_assert_str_eq(r.gate_scope, "stage");
			ck_reason(r.gate.now_reason, "relative");
			ck_reason(r.gate.now_reason, "Fisher exact");
			ck_assert_int_eq(r.window.final, VERDICT_FAIL);
			/* Recorded at an interval's end, not at a poll. */
			first_close = d.checks[0].rel.at;
			ck_assert_int_eq(first_close % S(10), 0);
			verdict_clear(&d);
		}
	}
}
END_TEST

/* The same numbers without a relative check: only a warning. */
START_TEST(test_same_without_relative_is_warn)
{
	struct vdeploy d;
	struct vresult r;
	double num = 0, den = 0;

	verdict_init(&d, 1, -S(60), 0, S(10));
	ratio_cfg(&d.checks[0], "error_rate", 1000, false, 0);
	verdict_step(&d, 10, 0);
	for (int64_t t = 0; t <= S(40); t += S(1), num += 3, den += 1000)
		rpoll(&d, 0, t, 0.3, num, den);
	r = judge_at(&d, S(40));
	ck_assert_int_eq(r.gate.final, VERDICT_WARN);
	ck_assert(!r.gate.decided);
	verdict_clear(&d);
}
END_TEST

/*
 * A relative fail is final: the test is never re-run, so better data
 * later cannot turn it back into a warn or a pass.
 */
START_TEST(test_relative_fail_is_final)
{
	struct vdeploy d;
	struct vresult r;
	double num = 0, den = 0;
	int64_t t;

	verdict_init(&d, 1, -S(60), 0, S(10));
	ratio_cfg(&d.checks[0], "error_rate", 1000, true, 10);
	verdict_baseline(&d.checks[0], NULL, 0, true, 0.1, 100, 100000);
	for (t = 0; t <= S(10); t += S(1), num += 5, den += 1000)
		rpoll(&d, 0, t, 0.5, num, den);
	r = judge_at(&d, t);
	ck_assert_int_eq(r.gate.now, VERDICT_FAIL);
	/* A long good run: the cumulative rate drops under the baseline. */
	for (; t <= S(300); t += S(1), den += 10000)
		rpoll(&d, 0, t, 0.01, num, den);
	r = judge_at(&d, t);
	ck_assert_int_eq(r.gate.now, VERDICT_FAIL);
	ck_assert_int_eq(r.gate.final, VERDICT_FAIL);
	ck_assert_int_eq(d.checks[0].rel.outcome, VTEST_FAIL);
	verdict_end(&d, t);
	ck_assert_int_eq(judge_at(&d, t).window.final, VERDICT_FAIL);
	verdict_clear(&d);
}
END_TEST

/* The bad data is not tested until the interval ends. */
START_TEST(test_relative_runs_only_at_interval_ends)
{
	struct vdeploy d;
	double num = 0, den = 0;

	verdict_init(&d, 1, -S(60), 0, S(10));
	ratio_cfg(&d.checks[0], "error_rate", 1000, true, 10);
	verdict_baseline(&d.checks[0], NULL, 0, true, 0.1, 100, 100000);
	for (int64_t t = 0; t < S(10); t += S(1), num += 5, den += 1000)
		rpoll(&d, 0, t, 0.5, num, den);
	ck_assert_int_eq(d.checks[0].rel.outcome, VTEST_NONE);
	ck_assert(!judge_at(&d, S(9) + 999).gate.decided);
	verdict_tick(&d, S(10));
	ck_assert_int_eq(d.checks[0].rel.outcome, VTEST_FAIL);
	ck_assert_int_eq(d.checks[0].rel.at, S(10));
	verdict_clear(&d);
}
END_TEST

/* 0 of 1,000 errors before, 5 of 1,000 after: not significant. */
START_TEST(test_five_in_a_thousand_is_not_significant)
{
	struct vdeploy d;
	struct vresult r;
	double den = 0;

	verdict_init(&d, 1, -S(60), 0, S(10));
	ratio_cfg(&d.checks[0], "error_rate", 1000, true, 0);
	d.checks[0].cfg.warn_set = d.checks[0].cfg.crit_set = false;
	verdict_baseline(&d.checks[0], NULL, 0, true, 0, 0, 1000);
	/*
	 * 5 errors over 1,010 requests by the interval's end (a poll at
	 * +10s belongs to the next interval; the first poll is the zero).
	 */
	for (int64_t t = 0; t <= S(10); t += S(1), den += 112.2222)
		rpoll(&d, 0, t, 0.5, t >= S(5) ? 5 : 0, den);
	r = judge_at(&d, S(10));
	ck_assert_int_eq(d.checks[0].rel.outcome, VTEST_PASS);
	ck_assert(d.checks[0].rel.p > 0.02 && d.checks[0].rel.p < 0.05);
	ck_assert_int_eq(r.gate.final, VERDICT_PASS);
	verdict_clear(&d);
}
END_TEST

/*
 * Traffic stops 40 s into a stage: the requests counter freezes. The
 * stage ends inconclusive, never pass -- whether the rule still shows a
 * value over its window (value polls) or is too thin to judge.
 */
START_TEST(test_traffic_stopping_mid_stage_is_inconclusive)
{
	for (int thin = 0; thin < 2; thin++) {
		struct vdeploy d;
		struct vresult r;
		double den = 0;

		verdict_init(&d, 1, -S(60), 0, S(10));
		ratio_cfg(&d.checks[0], "error_rate", 1000, false, 0);
		verdict_step(&d, 25, 0);
		for (int64_t t = 0; t <= S(60); t += S(1)) {
			if (t <= S(40)) {
				rpoll(&d, 0, t, 0.05, 0, den);
				den += 100;
			} else if (!thin) {
				rpoll(&d, 0, t, 0.05, 0, den);
			} else {
				struct vpoll p = {
					.t = t, .kind = VPOLL_THIN,
					.has_counts = true, .den = den,
				};

				verdict_poll(&d, 0, &p);
			}
			if (t == S(45)) {
				r = judge_at(&d, t);
				ck_assert_int_eq(r.gate.final, VERDICT_PASS);
			}
		}
		r = judge_at(&d, S(60));
		ck_assert_int_eq(r.gate.final, VERDICT_INCONCLUSIVE);
		ck_reason(r.gate.final_reason, "no data");
		ck_reason(r.gate.final_reason, thin ? "no poll could be judged" :
		    "no new requests");
		ck_assert_int_eq(r.window.final, VERDICT_INCONCLUSIVE);
		verdict_clear(&d);
	}
}
END_TEST

/*
 * min_requests holds per stage: a stage with 500 requests is
 * inconclusive although the window as a whole has enough.
 */
START_TEST(test_stage_applies_min_requests)
{
	struct vdeploy d;
	struct vresult r;
	double den = 0;
	int64_t t;

	verdict_init(&d, 1, -S(60), 0, S(10));
	ratio_cfg(&d.checks[0], "error_rate", 1000, false, 0);
	for (t = 0; t < S(30); t += S(1), den += 100)
		rpoll(&d, 0, t, 0.05, 0, den);
	verdict_step(&d, 50, t);
	for (; t <= S(60); t += S(1), den += 16)
		rpoll(&d, 0, t, 0.05, 0, den);
	r = judge_at(&d, S(60));
	ck_assert_int_eq(r.stage.final, VERDICT_INCONCLUSIVE);
	ck_reason(r.stage.final_reason, "too few requests");
	ck_reason(r.stage.final_reason, "in the stage");
	ck_assert_int_eq(r.gate.final, VERDICT_INCONCLUSIVE);
	ck_assert_int_eq(r.window.final, VERDICT_PASS);
	verdict_clear(&d);
}
END_TEST

/* min_samples holds per stage too. */
START_TEST(test_stage_applies_min_samples)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 3);
	for (int64_t t = 0; t < S(9); t += S(1))
		mpoll(&d, 0, t, 200);
	verdict_step(&d, 50, S(9));
	mpoll(&d, 0, S(9) + 500, 200);
	mpoll(&d, 0, S(9) + 900, 200);
	r = judge_at(&d, S(9) + 950);
	ck_assert_int_eq(r.stage.final, VERDICT_INCONCLUSIVE);
	ck_reason(r.stage.final_reason, "too few samples");
	ck_assert_int_eq(r.window.final, VERDICT_PASS);
	verdict_clear(&d);
}
END_TEST

/* A key check fails on its first crit, at once, in every scope. */
START_TEST(test_key_check_fails_at_once)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 2, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 3);
	metric_cfg(&d.checks[1], "health_down", true, 1);
	verdict_step(&d, 10, 0);
	mpoll(&d, 0, S(1), 200);
	mpoll(&d, 1, S(1), 0);
	mpoll(&d, 1, S(2), 5000);
	r = judge_at(&d, S(2));
	ck_assert(r.gate.decided);
	ck_assert_int_eq(r.gate.now, VERDICT_FAIL);
	ck_reason(r.gate.now_reason, "health_down: crit");
	ck_reason(r.gate.now_reason, "key check");
	ck_assert_int_eq(r.window.now, VERDICT_FAIL);
	verdict_clear(&d);
}
END_TEST

/*
 * A fail, then recovery in the same stage: still fail -- and so is the
 * next stage's gate, since a fail is final for the deploy.
 */
START_TEST(test_fail_then_recovery_stays_failed)
{
	struct vdeploy d;
	struct vresult r;
	int64_t t = 0;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 2);
	verdict_step(&d, 10, 0);
	mpoll(&d, 0, t += S(1), 1500);
	mpoll(&d, 0, t += S(1), 1600);
	for (int i = 0; i < 20; i++)
		mpoll(&d, 0, t += S(1), 100);
	r = judge_at(&d, t);
	ck_assert_int_eq(r.gate.now, VERDICT_FAIL);
	ck_assert_int_eq(r.gate.final, VERDICT_FAIL);
	verdict_step(&d, 50, t);
	for (int i = 0; i < 20; i++)
		mpoll(&d, 0, t += S(1), 100);
	r = judge_at(&d, t);
	ck_assert_int_eq(r.stage.final, VERDICT_FAIL);
	ck_reason(r.stage.final_reason, "2 consecutive");
	verdict_clear(&d);
}
END_TEST

/* Advisory: judged and shown, never gates. */
START_TEST(test_advisory_never_gates)
{
	struct vdeploy d;
	struct vresult r;
	struct vcheck_result cr;

	verdict_init(&d, 2, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 3);
	metric_cfg(&d.checks[1], "new_p99", false, 1);
	d.checks[1].cfg.advisory = true;
	for (int64_t t = 0; t < S(20); t += S(1)) {
		mpoll(&d, 0, t, 100);
		mpoll(&d, 1, t, 5000);
	}
	r = judge_at(&d, S(20));
	ck_assert_int_eq(r.gate.final, VERDICT_PASS);
	verdict_check(&d, 1, &cr);
	ck_assert_int_eq(cr.window.final, VERDICT_FAIL);
	verdict_clear(&d);
}
END_TEST

/*
 * Errors by release: tested at interval and stage ends, never poll by
 * poll; a fail is recorded and decides the deploy.
 */
START_TEST(test_errors_by_release_recorded_at_interval_end)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 3);
	d.br.on = true;
	d.br.confidence = 0.98;
	d.br.min_errors = 10;
	snprintf(d.version, sizeof(d.version), "2.0.0");
	verdict_step(&d, 10, 0);
	for (int64_t t = 0; t < S(10); t += S(1)) {
		mpoll(&d, 0, t, 100);
		verdict_split(&d, (double)t / 1000 * 3, (double)t / 1000 * 6,
		    t);
	}
	r = judge_at(&d, S(9) + 999);
	ck_assert(!r.gate.decided);
	ck_assert_int_eq(r.br_outcome, SPLIT_UNTESTED);
	verdict_tick(&d, S(10));
	r = judge_at(&d, S(10));
	ck_assert_int_eq(r.br_outcome, SPLIT_FAIL);
	ck_assert(r.gate.decided);
	ck_assert_int_eq(r.gate.now, VERDICT_FAIL);
	ck_reason(r.gate.now_reason, "by_release");
	/* Later, much better counts: the recorded fail stays. */
	verdict_split(&d, 27, 600, S(15));
	verdict_tick(&d, S(20));
	ck_assert_int_eq(judge_at(&d, S(20)).br_outcome, SPLIT_FAIL);
	verdict_clear(&d);
}
END_TEST

/* At 100 % there is nothing to compare a release with. */
START_TEST(test_stage_at_full_weight)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 3);
	d.br.on = true;
	d.br.confidence = 0.98;
	d.br.min_errors = 1;
	verdict_step(&d, 100, 0);
	for (int64_t t = 0; t <= S(20); t += S(1)) {
		mpoll(&d, 0, t, 100);
		verdict_split(&d, (double)t, (double)t, t);
	}
	r = judge_at(&d, S(20));
	ck_assert_int_eq(r.gate.final, VERDICT_PASS);
	ck_assert_int_eq(r.br_outcome, SPLIT_UNTESTED);
	ck_reason(r.br_reason, "serves all the traffic");
	verdict_clear(&d);
}
END_TEST

/* After the window ends, nothing changes its verdict. */
START_TEST(test_polls_after_end_are_ignored)
{
	struct vdeploy d;
	struct vresult before, after;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 1);
	for (int64_t t = 0; t <= S(25); t += S(1))
		mpoll(&d, 0, t, 100);
	verdict_end(&d, S(25) + 500);
	before = judge_at(&d, S(26));
	for (int64_t t = S(26); t < S(60); t += S(1))
		mpoll(&d, 0, t, 9000);
	verdict_tick(&d, S(60));
	after = judge_at(&d, S(60));
	ck_assert_int_eq(before.window.final, VERDICT_PASS);
	ck_assert_int_eq(after.window.final, VERDICT_PASS);
	ck_assert_uint_eq(d.intervals, 2);
	verdict_clear(&d);
}
END_TEST

/* Polls during the warm-up are not judged; intervals start after it. */
START_TEST(test_warmup_polls_are_not_judged)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 1, -S(60), S(30), S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 1);
	verdict_step(&d, 10, S(5));
	for (int64_t t = 0; t < S(30); t += S(1))
		mpoll(&d, 0, t, 9000);
	r = judge_at(&d, S(29));
	ck_assert(r.warming_up);
	ck_assert_uint_eq(d.checks[0].j.polls, 0);
	for (int64_t t = S(30); t <= S(50); t += S(1))
		mpoll(&d, 0, t, 100);
	r = judge_at(&d, S(50));
	ck_assert_int_eq(r.gate.final, VERDICT_PASS);
	ck_assert_uint_eq(d.intervals, 2);
	verdict_clear(&d);
}
END_TEST

/*
 * vigild was down for an hour mid-window: one measurement error for the
 * gap, not one per missed interval, and the verdict says no data.
 */
START_TEST(test_long_gap_is_one_error)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 1);
	for (int64_t t = 0; t < S(20); t += S(1))
		mpoll(&d, 0, t, 100);
	verdict_tick(&d, S(3600));
	ck_assert_uint_le(d.checks[0].j.errors, 1 + 64);
	r = judge_at(&d, S(3600));
	ck_assert_int_eq(r.gate.final, VERDICT_INCONCLUSIVE);
	ck_reason(r.gate.final_reason, "no data");
	verdict_clear(&d);
}
END_TEST

/* A probe that stalls: its checks' intervals have no data. */
START_TEST(test_stalled_probe_errors_out)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 2, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 1);
	metric_cfg(&d.checks[1], "db_p95", false, 1);
	for (int64_t t = 0; t <= S(60); t += S(1)) {
		mpoll(&d, 0, t, 100);
		if (t < S(10))
			mpoll(&d, 1, t, 10);
	}
	r = judge_at(&d, S(60));
	/* Four intervals in a row without data: the error limit. */
	ck_assert(r.gate.decided);
	ck_assert_int_eq(r.gate.now, VERDICT_INCONCLUSIVE);
	ck_reason(r.gate.now_reason, "db_p95");
	ck_reason(r.gate.now_reason, "consecutive measurement errors");
	verdict_clear(&d);
}
END_TEST

/* A check a reload removed stops gating, unless it had failed. */
START_TEST(test_gone_check_gates_only_if_failed)
{
	struct vdeploy d;

	verdict_init(&d, 2, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 1);
	metric_cfg(&d.checks[1], "db_p95", false, 1);
	for (int64_t t = 0; t < S(5); t += S(1)) {
		mpoll(&d, 0, t, 100);
		mpoll(&d, 1, t, 100);
	}
	d.checks[1].gone = true;
	for (int64_t t = S(5); t <= S(30); t += S(1))
		mpoll(&d, 0, t, 100);
	ck_assert_int_eq(judge_at(&d, S(30)).gate.final, VERDICT_PASS);
	d.checks[1].gone = false;
	mpoll(&d, 1, S(31), 5000);
	d.checks[1].gone = true;
	ck_assert_int_eq(judge_at(&d, S(31)).gate.final, VERDICT_FAIL);
	verdict_clear(&d);
}
END_TEST

/*
 * Side by side: the canary pods' errors 0.15 %, the stable pods' 0.05 %,
 * at 10 % of the traffic. The whole application reads 0.06 % against a
 * 0.05 % baseline, within a 10 % margin of noise: before/after passes;
 * canary against stable, the same minutes, fails.
 */
START_TEST(test_side_by_side_sees_what_dilution_hides)
{
	for (int compare = 0; compare < 2; compare++) {
		struct vdeploy d;
		struct vresult r;
		double cn = 0, cd = 0, sn = 0, sd = 0;

		verdict_init(&d, 1, -S(600), 0, S(10));
		ratio_cfg(&d.checks[0], "error_rate", 1000, true, 10);
		d.checks[0].cfg.warn_set = d.checks[0].cfg.crit_set = false;
		verdict_baseline(&d.checks[0], NULL, 0, true, 0.05, 600,
		    1200000);
		d.compare = compare;
		verdict_step(&d, 10, 0);
		for (int64_t t = 0; t <= S(60); t += S(1)) {
			struct vpoll c = {
				.t = t, .has_counts = true, .num = cn, .den = cd,
			};
			struct vpoll s = {
				.t = t, .has_counts = true, .num = sn, .den = sd,
			};

			verdict_side(&d, 0, VSIDE_CANARY, &c);
			verdict_side(&d, 0, VSIDE_STABLE, &s);
			rpoll(&d, 0, t, 0.06, cn + sn, cd + sd);
			cn += 0.3;
			cd += 200;
			sn += 0.9;
			sd += 1800;
		}
		r = judge_at(&d, S(60));
		if (compare) {
			ck_assert_int_eq(r.gate.final, VERDICT_FAIL);
			ck_reason(r.gate.final_reason, "worse than the stable pods");
			/* The same minutes: 1,800 stable requests a second to
			 * the canary's 200, counted over the same span. */
			ck_assert_int_eq(d.checks[0].rel.outcome, VTEST_FAIL);
			ck_assert_double_eq_tol(d.checks[0].rel.base_b,
			    9 * d.checks[0].rel.b, 1e-6);
		} else {
			ck_assert_int_eq(r.gate.final, VERDICT_PASS);
			ck_assert_int_eq(d.checks[0].rel.outcome, VTEST_PASS);
		}
		verdict_clear(&d);
	}
}
END_TEST

/* Side by side on samples: Mann-Whitney, canary against stable. */
START_TEST(test_side_by_side_latency)
{
	struct vdeploy d;
	struct vresult r;

	verdict_init(&d, 1, -S(60), 0, S(10));
	metric_cfg(&d.checks[0], "api_p95", false, 3);
	d.checks[0].cfg.relative = true;
	d.checks[0].cfg.max_increase_pct = 10;
	d.compare = true;
	for (int64_t t = 0; t <= S(60); t += S(1)) {
		struct vpoll c = {
			.t = t, .has_sample = true, .sample = 450 + (double)(t %
			    7000) / 1000,
		};
		struct vpoll s = {
			.t = t, .has_sample = true, .sample = 300 + (double)(t %
			    5000) / 1000,
		};

		verdict_side(&d, 0, VSIDE_CANARY, &c);
		verdict_side(&d, 0, VSIDE_STABLE, &s);
		mpoll(&d, 0, t, 320);
	}
	/* 60 a side by +60s: tested at the +60s interval end. */
	verdict_tick(&d, S(70));
	r = judge_at(&d, S(70));
	ck_assert_int_eq(r.gate.now, VERDICT_FAIL);
	ck_reason(r.gate.now_reason, "Mann-Whitney U");
	ck_reason(r.gate.now_reason, "stable pods");
	verdict_clear(&d);
}
END_TEST

Suite *
verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("scenarios");

	tcase_add_test(tc, test_subtle_regression_after_step_fails_in_every_order);
	tcase_add_test(tc, test_same_without_relative_is_warn);
	tcase_add_test(tc, test_relative_fail_is_final);
	tcase_add_test(tc, test_relative_runs_only_at_interval_ends);
	tcase_add_test(tc, test_five_in_a_thousand_is_not_significant);
	tcase_add_test(tc, test_traffic_stopping_mid_stage_is_inconclusive);
	tcase_add_test(tc, test_stage_applies_min_requests);
	tcase_add_test(tc, test_stage_applies_min_samples);
	tcase_add_test(tc, test_key_check_fails_at_once);
	tcase_add_test(tc, test_fail_then_recovery_stays_failed);
	tcase_add_test(tc, test_advisory_never_gates);
	tcase_add_test(tc, test_errors_by_release_recorded_at_interval_end);
	tcase_add_test(tc, test_stage_at_full_weight);
	tcase_add_test(tc, test_polls_after_end_are_ignored);
	tcase_add_test(tc, test_warmup_polls_are_not_judged);
	tcase_add_test(tc, test_long_gap_is_one_error);
	tcase_add_test(tc, test_stalled_probe_errors_out);
	tcase_add_test(tc, test_gone_check_gates_only_if_failed);
	tcase_add_test(tc, test_side_by_side_sees_what_dilution_hides);
	tcase_add_test(tc, test_side_by_side_latency);
	suite_add_tcase(s, tc);
	return s;
}
