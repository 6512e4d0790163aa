/*
 * deploy_state: a deploy window through the state file. What the current
 * code saves reads back to the same verdict; what the code before the
 * config copy saved (a check as 22 numbers) still reads, its settings
 * taken from the live config.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "config/config.h"
#include "release/deploy_int.h"
#include "suites.h"

static const char CFG[] =
    "{\"probes\": [{\"name\": \"app\", \"type\": \"http\", "
    "\"url\": \"http://h/\", \"metrics\": {\"p95_ms\": \"/p95\", "
    "\"req\": \"/r\", \"err\": \"/e\"}}],\n"
    "\"rules\": [{\"name\": \"api_p95\", \"metric\": \"app.p95_ms\", "
    "\"op\": \">\", \"warn\": 500, \"crit\": 1000, \"unit\": \"ms\"},\n"
    "{\"name\": \"error_rate\", \"ratio\": {\"numerator\": \"app.err\", "
    "\"denominator\": \"app.req\", \"scale\": 100}, \"op\": \">\", "
    "\"warn\": 0.1, \"crit\": 1}],\n"
    "\"release\": {\"checks\": [{\"rule\": \"api_p95\", \"fail_after\": 2},"
    "{\"rule\": \"error_rate\", \"min_requests\": 1000, \"relative\": "
    "{\"max_increase_pct\": 10}}]}}";

static struct config *
config(void)
{
	struct config_errors errs;
	struct config *cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_parse("t.json", CFG, strlen(CFG), &errs);
	ck_assert_msg(cfg != NULL, "config: %s", errs.n ? errs.v[0].msg : "");
	return cfg;
}

/* A deploy as deploys_begin makes one, fed a few polls. */
static struct deploy *
judged(const struct config *cfg)
{
	struct deploy *dp = deploy_new(2, 1000, 1000, 10000);

	ck_assert_ptr_nonnull(dp);
	dp->id = 7;
	snprintf(dp->vd.version, sizeof(dp->vd.version), "2.1.0");
	for (size_t i = 0; i < 2; i++) {
		const struct release_check_cfg *rc = &cfg->release.checks[i];

		deploy_snapshot(&dp->vd.checks[i].cfg, rc, &cfg->rules[rc->rule]);
		judge_init(&dp->vd.checks[i].j, &dp->vd.checks[i].cfg.lim);
		judge_init(&dp->vd.checks[i].stage, &dp->vd.checks[i].cfg.lim);
		dp->links[i].rule = rc->rule;
	}
	verdict_baseline(&dp->vd.checks[1], NULL, 0, true, 0.1, 100, 100000);
	verdict_step(&dp->vd, 10, 1000);
	for (int64_t t = 1000; t < 30000; t += 1000) {
		struct vpoll m = {
			.t = t, .kind = VPOLL_VALUE, .value = t < 20000 ? 300 :
			    1500, .has_sample = true, .sample = 300,
		};
		struct vpoll r = {
			.t = t, .kind = VPOLL_VALUE, .value = 0.3,
			.has_counts = true, .num = (double)t / 1000 * 3,
			.den = (double)t,
		};

		verdict_poll(&dp->vd, 0, &m);
		verdict_poll(&dp->vd, 1, &r);
	}
	return dp;
}

static void
same_verdict(const struct deploy *a, const struct deploy *b, int64_t now)
{
	struct vresult ra, rb;

	verdict_judge(&a->vd, now, &ra);
	verdict_judge(&b->vd, now, &rb);
	ck_assert_int_eq(ra.window.now, rb.window.now);
	ck_assert_int_eq(ra.window.final, rb.window.final);
	ck_assert_str_eq(ra.window.final_reason, rb.window.final_reason);
	ck_assert_int_eq(ra.stage.final, rb.stage.final);
	ck_assert_str_eq(ra.stage.final_reason, rb.stage.final_reason);
	ck_assert_str_eq(ra.gate_scope, rb.gate_scope);
}

START_TEST(test_round_trip)
{
	struct config *cfg = config();
	struct deploy *dp = judged(cfg), *back;
	cJSON *saved = deploy_save_one(dp);

	back = deploy_restore_one(saved, cfg);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->id, 7);
	ck_assert_str_eq(back->vd.version, "2.1.0");
	ck_assert_uint_eq(back->vd.nchecks, 2);
	ck_assert_str_eq(back->vd.checks[0].cfg.name, "api_p95");
	ck_assert_double_eq(back->vd.checks[0].cfg.crit, 1000);
	ck_assert_double_eq(back->vd.checks[1].cnt.den,
	    dp->vd.checks[1].cnt.den);
	ck_assert_int_eq(back->vd.checks[1].rel.outcome,
	    dp->vd.checks[1].rel.outcome);
	ck_assert_int_eq(back->vd.next_close, dp->vd.next_close);
	same_verdict(dp, back, 30000);
	/* The copy is the deploy's own: a config freed after still reads. */
	config_free(cfg);
	same_verdict(dp, back, 30000);
	ck_assert_int_eq(verdict_exit_code(back->vd.checks[0].j.terminal ?
	    back->vd.checks[0].j.terminal_verdict : VERDICT_PASS, false), 2);
	cJSON_Delete(saved);
	deploy_free(dp);
	deploy_free(back);
}
END_TEST

/* A state file from before the config copy: checks as "n" arrays. */
START_TEST(test_reads_the_previous_format)
{
	static const char old[] =
	    "{\"id\": 3, \"version\": \"1.9.0\", \"begun\": 1000, "
	    "\"judge_from\": 1000, \"ended\": 31000, \"baseline_from\": 0, "
	    "\"announced\": true, \"stages\": [[1000, 25]], \"checks\": {"
	    "\"api_p95\": {\"n\": [12, 10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 300, "
	    "0, 0, 0, 0, 0, 0, 0, 1, 320], \"m\": [5, 0, 0, 1000, 1, 30000], "
	    "\"terminal_reason\": \"\", \"last_error\": \"\", \"base\": [300, "
	    "310], \"after\": [320, 330]},"
	    "\"error_rate\": {\"n\": [12, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, "
	    "0.1, 100, 100000, 30, 30000, 30, 30000, 1, 1, 0.1], \"m\": [30000,"
	    " 30, 30000, 1000, 1, 30000], \"terminal_reason\": \"\", "
	    "\"last_error\": \"\", \"base\": [], \"after\": []}}}";
	struct config *cfg = config();
	cJSON *o = cJSON_Parse(old);
	struct deploy *dp = deploy_restore_one(o, cfg);
	struct vresult r;

	ck_assert_ptr_nonnull(dp);
	ck_assert_uint_eq(dp->vd.nchecks, 2);
	ck_assert_uint_eq(dp->vd.checks[0].j.polls, 12);
	ck_assert_uint_eq(dp->vd.checks[0].j.warn, 2);
	ck_assert_double_eq(dp->vd.checks[1].cnt.den, 30000);
	ck_assert_double_eq(dp->vd.checks[1].base_den, 100000);
	ck_assert_uint_eq(dp->vd.nstages, 1);
	ck_assert_int_eq(dp->vd.stages[0].weight, 25);
	/* Its settings come from the live config. */
	ck_assert_double_eq(dp->vd.checks[0].cfg.warn, 500);
	ck_assert_uint_eq(dp->vd.checks[0].cfg.lim.fail_after, 2);
	verdict_judge(&dp->vd, 40000, &r);
	ck_assert_int_eq(r.window.final, VERDICT_WARN);
	cJSON_Delete(o);
	deploy_free(dp);
	config_free(cfg);
}
END_TEST

/* Whatever a state file holds, restoring it never crashes. */
START_TEST(test_garbage_is_refused)
{
	static const char *const bad[] = {
		"[]", "{}", "{\"begun\": \"x\"}", "{\"begun\": 5, \"checks\": 3}",
		"{\"begun\": 5, \"checks\": {\"a\": {\"cfg\": 1}}}",
		"{\"begun\": 5, \"checks\": {\"a\": {\"cfg\": {\"rule\": \"r\"}, "
		"\"counts\": [1], \"stages\": [[1]]}}}",
	};
	struct config *cfg = config();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *o = cJSON_Parse(bad[i]);
		struct deploy *dp = deploy_restore_one(o, cfg);
		struct vresult r;

		if (dp != NULL)
			verdict_judge(&dp->vd, 1000, &r);
		deploy_free(dp);
		cJSON_Delete(o);
	}
	config_free(cfg);
}
END_TEST

Suite *
deploy_state_suite(void)
{
	Suite *s = suite_create("deploy_state");
	TCase *tc = tcase_create("state");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_reads_the_previous_format);
	tcase_add_test(tc, test_garbage_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
