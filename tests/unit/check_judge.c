/* judge: four outcomes kept apart, the limits, and the reasons. */
#include <string.h>
#include <check.h>

#include "release/judge.h"
#include "suites.h"

static struct judge_limits
lim(bool key, unsigned fail_after, long max_failures, unsigned errs,
    unsigned min)
{
	struct judge_limits l = { key, fail_after, max_failures, errs, min };

	return l;
}

START_TEST(test_fail_after_consecutive)
{
	struct judge j;
	struct judge_limits l = lim(false, 3, -1, 4, 1);
	char why[256];

	judge_init(&j, &l);
	judge_poll(&j, POLL_CRIT, 1200, 1000, ">", " ms", NULL);
	judge_poll(&j, POLL_CRIT, 1300, 1000, ">", " ms", NULL);
	judge_poll(&j, POLL_OK, 300, 1000, ">", " ms", NULL);	/* resets */
	judge_poll(&j, POLL_CRIT, 1200, 1000, ">", " ms", NULL);
	judge_poll(&j, POLL_CRIT, 1200, 1000, ">", " ms", NULL);
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_WARN);
	judge_poll(&j, POLL_CRIT, 1400, 1000, ">", " ms", NULL);
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_FAIL);
	ck_assert_str_eq(why, "crit: 3 consecutive > 1000 ms, limit 2");
	ck_assert_uint_eq(j.longest_crit_run, 3);
	/* Terminal: a good poll later does not undo it. */
	judge_poll(&j, POLL_OK, 300, 1000, ">", " ms", NULL);
	ck_assert_int_eq(judge_verdict(&j, true, why, sizeof(why)),
	    VERDICT_FAIL);
}
END_TEST

START_TEST(test_key_check_fails_first)
{
	struct judge j;
	struct judge_limits l = lim(true, 3, -1, 4, 1);
	char why[256];

	judge_init(&j, &l);
	judge_poll(&j, POLL_OK, 0, 1, ">=", "", NULL);
	judge_poll(&j, POLL_CRIT, 1, 1, ">=", "", NULL);
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(why, "key check"));
}
END_TEST

START_TEST(test_max_failures)
{
	struct judge j;
	struct judge_limits l = lim(false, 10, 2, 4, 1);
	char why[256];

	judge_init(&j, &l);
	for (int i = 0; i < 3; i++) {
		judge_poll(&j, POLL_CRIT, 2, 1, ">", " %", NULL);
		judge_poll(&j, POLL_OK, 0.5, 1, ">", " %", NULL);
	}
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_FAIL);
	ck_assert_str_eq(why, "crit: 3 polls > 1 % in the window, limit 2");
}
END_TEST

START_TEST(test_errors_are_not_failures)
{
	struct judge j;
	struct judge_limits l = lim(false, 2, -1, 4, 1);
	char why[256];

	judge_init(&j, &l);
	for (int i = 0; i < 3; i++)
		judge_poll(&j, POLL_ERROR, 0, 0, ">", "",
		    "rate limited until 12:00:30");
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_PASS);
	judge_poll(&j, POLL_ERROR, 0, 0, ">", "", "rate limited until 12:00:30");
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_INCONCLUSIVE);
	ck_assert_str_eq(why, "error: 4 consecutive measurement errors "
	    "(limit 4): rate limited until 12:00:30");
	ck_assert_uint_eq(j.crit, 0);
}
END_TEST

START_TEST(test_too_few_samples_and_warn)
{
	struct judge j;
	struct judge_limits l = lim(false, 2, -1, 4, 5);
	char why[256];

	judge_init(&j, &l);
	judge_poll(&j, POLL_OK, 1, 2, ">", "", NULL);
	judge_poll(&j, POLL_ERROR, 0, 0, ">", "", "x");
	ck_assert_int_eq(judge_verdict(&j, false, why, sizeof(why)),
	    VERDICT_PASS);
	ck_assert_int_eq(judge_verdict(&j, true, why, sizeof(why)),
	    VERDICT_INCONCLUSIVE);
	ck_assert_str_eq(why, "too few samples: 1 judged polls, need 5 "
	    "(1 measurement errors)");
	for (int i = 0; i < 4; i++)
		judge_poll(&j, i == 2 ? POLL_WARN : POLL_OK, 1, 2, ">", "",
		    NULL);
	ck_assert_int_eq(judge_verdict(&j, true, why, sizeof(why)),
	    VERDICT_WARN);
	ck_assert_int_eq(verdict_exit_code(VERDICT_WARN, false), 0);
	ck_assert_int_eq(verdict_exit_code(VERDICT_WARN, true), 1);
	ck_assert_int_eq(verdict_exit_code(VERDICT_FAIL, false), 2);
	ck_assert_int_eq(verdict_exit_code(VERDICT_INCONCLUSIVE, false), 3);
}
END_TEST

Suite *
judge_suite(void)
{
	Suite *s = suite_create("judge");
	TCase *tc = tcase_create("verdicts");

	tcase_add_test(tc, test_fail_after_consecutive);
	tcase_add_test(tc, test_key_check_fails_first);
	tcase_add_test(tc, test_max_failures);
	tcase_add_test(tc, test_errors_are_not_failures);
	tcase_add_test(tc, test_too_few_samples_and_warn);
	suite_add_tcase(s, tc);
	return s;
}
