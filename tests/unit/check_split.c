/*
 * split: a release's error events against the rest's, stage by stage.
 * Counts go in cumulative (as Sentry answers them since judging began);
 * each stage is judged on its own part, at its own weight.
 */
#include <math.h>
#include <string.h>

#include <check.h>

#include "config/config.h"
#include "release/split.h"
#include "release/verdict.h"
#include "suites.h"

static const struct by_release_cfg cfg = {
	.on = true, .max_increase_pct = 10, .confidence = 0.98,
	.min_errors = 20,
};

START_TEST(test_stages)
{
	struct by_release_cfg loose = cfg;
	struct split s;
	struct split_result r;

	loose.confidence = 0.95;
	memset(&s, 0, sizeof(s));
	split_count(&s, 3, 40, 1000);
	/* 10 %: 30 of the next 200 events (the 0.04452 of check_stats). */
	split_step(&s, 10, 1500);
	split_count(&s, 33, 240, 2000);
	split_judge(&s, &cfg, "8.0.0", 0, &r);
	ck_assert_double_eq(r.own, 30);
	ck_assert_double_eq(r.all, 200);
	ck_assert_double_eq_tol(r.p, 0.04452123957557766, 1e-12);
	/* Significant at 0.95, not at 0.98: the confidence decides. */
	ck_assert_int_eq(r.outcome, SPLIT_PASS);
	split_judge(&s, &loose, "8.0.0", 0, &r);
	ck_assert_int_eq(r.outcome, SPLIT_FAIL);
	/* 50 %: 100 of the next 120 events. */
	split_step(&s, 50, 3000);
	split_count(&s, 133, 360, 4000);
	split_judge(&s, &cfg, "8.0.0", 0, &r);
	ck_assert_double_eq(r.all, 200);	/* the first stage ended */
	split_judge(&s, &cfg, "8.0.0", 1, &r);
	ck_assert_int_eq(r.outcome, SPLIT_FAIL);
	ck_assert_double_eq(r.own, 100);
	ck_assert_double_eq(r.all, 120);
	ck_assert_ptr_nonnull(strstr(r.reason, "8.0.0 made 100 of 120 error "
	    "events (83.3 %) at 50 % of the traffic: 5.0x the rest's rate"));
	/* All the traffic: nothing to compare with. */
	split_step(&s, 100, 5000);
	split_count(&s, 233, 460, 6000);
	split_judge(&s, &cfg, "8.0.0", 2, &r);
	ck_assert_int_eq(r.outcome, SPLIT_UNTESTED);
	ck_assert(isnan(r.p));
}
END_TEST

START_TEST(test_skipped_and_passed)
{
	struct split s;
	struct split_result r;
	cJSON *saved;
	struct split back;

	memset(&s, 0, sizeof(s));
	/* A step before any count: the stage starts from nothing. */
	split_step(&s, 10, 1000);
	split_judge(&s, &cfg, "8.0.0", 0, &r);
	ck_assert_int_eq(r.outcome, SPLIT_SKIPPED);
	ck_assert_str_eq(r.reason, "skipped: no count from Sentry in this "
	    "stage");
	split_count(&s, 1, 19, 2000);
	split_judge(&s, &cfg, "8.0.0", 0, &r);
	ck_assert_str_eq(r.reason, "skipped: 19 error events in the stage, "
	    "need 20");
	/* Its fair share of 400: a pass that says so. */
	split_count(&s, 40, 400, 3000);
	split_judge(&s, &cfg, "8.0.0", 0, &r);
	ck_assert_int_eq(r.outcome, SPLIT_PASS);
	ck_assert_double_gt(r.p, 0.5);
	/* What the state file keeps gives the same judgement back. */
	saved = split_save(&s);
	split_restore(&back, saved);
	cJSON_Delete(saved);
	ck_assert_int_eq(memcmp(&back.stage[0], &s.stage[0],
	    sizeof(s.stage[0])), 0);
	ck_assert(back.have && back.own == 40 && back.all == 400 &&
	    back.at == 3000 && back.nstages == 1);
	/* A failing stage says by how much. */
	split_count(&s, 120, 500, 4000);
	split_judge(&s, &cfg, "8.0.0", 0, &r);
	ck_assert_int_eq(r.outcome, SPLIT_FAIL);
	ck_assert_ptr_nonnull(strstr(r.reason, "8.0.0 made 120 of 500"));
}
END_TEST

/* No step, no weight: untested, and the verdict says how to give one. */
START_TEST(test_no_stage)
{
	struct vdeploy d;
	struct vresult r;

	ck_assert_int_eq(verdict_init(&d, 0, 0, 0, 1000), 0);
	d.br = cfg;
	d.br.on = true;
	verdict_split(&d, 50, 60, 500);
	verdict_tick(&d, 5000);
	verdict_judge(&d, 5000, &r);
	ck_assert_int_eq(r.br_outcome, SPLIT_UNTESTED);
	ck_assert_ptr_nonnull(strstr(r.br_reason, "deploy step --weight"));
	ck_assert_int_eq(r.gate.final, VERDICT_PASS);
	verdict_clear(&d);
}
END_TEST

Suite *
split_suite(void)
{
	Suite *s = suite_create("split");
	TCase *tc = tcase_create("tests");

	tcase_add_test(tc, test_stages);
	tcase_add_test(tc, test_skipped_and_passed);
	tcase_add_test(tc, test_no_stage);
	suite_add_tcase(s, tc);
	return s;
}
