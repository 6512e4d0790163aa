/* silence: validation, matching by name and labels, expiry. */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "config/config.h"
#include "engine/silence.h"
#include "suites.h"

#define NOW 1000000000LL
#define HOUR 3600000LL

static struct silence
mk(const char *rule, const char *author, int64_t expires)
{
	struct silence x;

	memset(&x, 0, sizeof(x));
	snprintf(x.rule, sizeof(x.rule), "%s", rule);
	snprintf(x.author, sizeof(x.author), "%s", author);
	snprintf(x.comment, sizeof(x.comment), "deploy 0.1.0");
	x.expires = expires;
	return x;
}

START_TEST(test_validation)
{
	struct silences *s = silences_new();
	struct silence x;
	const char *why = NULL;
	uint64_t id;

	x = mk("", "ana", NOW + HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "rule name or label"));
	x = mk("api_p95", "", NOW + HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "author and a comment"));
	x = mk("api_p95", "ana", NOW);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), -1);
	ck_assert_str_eq(why, "the expiry must be in the future");
	x = mk("api_p95", "ana", NOW + 31 * 24 * HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), -1);
	ck_assert_uint_eq(silences_count(s), 0);
	x = mk("api_p95", "ana", NOW + HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(silences_at(s, 0)->created, NOW);
	silences_free(s);
	silences_free(NULL);
}
END_TEST

START_TEST(test_match_name_labels_and_expiry)
{
	struct silences *s = silences_new();
	struct rule_label labels[] = {
		{ (char *)"team", (char *)"web" },
		{ (char *)"tier", (char *)"api" },
	};
	struct rule_cfg a = { .name = (char *)"api_p95", .labels = labels,
	    .nlabels = 2 };
	struct rule_cfg b = { .name = (char *)"db_pool" };
	struct silence x = mk("", "ana", NOW + HOUR);
	const char *why;
	uint64_t id1, id2;

	snprintf(x.matchers[0].key, sizeof(x.matchers[0].key), "team");
	snprintf(x.matchers[0].value, sizeof(x.matchers[0].value), "web");
	x.nmatchers = 1;
	ck_assert_int_eq(silences_add(s, &x, NOW, &id1, &why), 0);
	ck_assert_ptr_nonnull(silences_match(s, &a, NOW));
	ck_assert_ptr_null(silences_match(s, &b, NOW));
	/* Every matcher must match. */
	snprintf(x.matchers[1].key, sizeof(x.matchers[1].key), "tier");
	snprintf(x.matchers[1].value, sizeof(x.matchers[1].value), "db");
	x.nmatchers = 2;
	ck_assert_int_eq(silences_add(s, &x, NOW, &id2, &why), 0);
	ck_assert(silences_expire(s, id1));
	ck_assert(!silences_expire(s, id1));
	ck_assert_ptr_null(silences_match(s, &a, NOW));
	/* By name, until it expires. */
	x = mk("db_pool", "bo", NOW + HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id1, &why), 0);
	ck_assert_uint_eq(silences_match(s, &b, NOW + HOUR - 1)->id, id1);
	ck_assert_ptr_null(silences_match(s, &b, NOW + HOUR));
	ck_assert_uint_eq(silences_prune(s, NOW + HOUR), 2);
	ck_assert_uint_eq(silences_count(s), 0);
	silences_free(s);
}
END_TEST

START_TEST(test_restore_keeps_ids)
{
	struct silences *s = silences_new();
	struct silence x = mk("api_p95", "ana", NOW + HOUR);
	const char *why;
	uint64_t id;

	x.id = 41;
	x.created = NOW - HOUR;
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), 0);
	x = mk("api_p95", "ana", NOW + HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), 0);
	ck_assert_uint_eq(id, 42);
	silences_free(s);
}
END_TEST

/*
 * A saved silence is held to what a new one must be: a tampered state
 * file cannot restore one that never expires, one without an author, one
 * whose comment would forge a log line, or the thousand-and-first.
 */
START_TEST(test_restore_checks_like_add)
{
	struct silences *s = silences_new();
	struct silence x;
	const char *why;

	x = mk("api_p95", "ana", NOW + 31LL * 24 * HOUR);
	x.id = 1;
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), -1);
	ck_assert_str_eq(why, "a silence may last at most 30 days");
	x = mk("api_p95", "", NOW + HOUR);
	x.id = 2;
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), -1);
	x = mk("api_p95", "ana", NOW + HOUR);
	x.id = 3;
	snprintf(x.comment, sizeof(x.comment), "ok\nevent=forged");
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), -1);
	ck_assert_str_eq(why, "a text field is not one line of UTF-8");
	x = mk("api_p95", "ana", NOW - 1);
	x.id = 4;
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), -1);
	for (uint64_t i = 0; i < SILENCE_MAX_COUNT; i++) {
		x = mk("api_p95", "ana", NOW + HOUR);
		x.id = 100 + i;
		ck_assert_int_eq(silences_restore(s, &x, NOW, &why), 0);
	}
	/* The same id twice, and one past the cap. */
	x = mk("api_p95", "ana", NOW + HOUR);
	x.id = 100;
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), -1);
	x.id = 5000;
	ck_assert_int_eq(silences_restore(s, &x, NOW, &why), -1);
	ck_assert_str_eq(why, "too many active silences (at most 1000)");
	ck_assert_uint_eq(silences_count(s), SILENCE_MAX_COUNT);
	silences_free(s);
}
END_TEST

Suite *
silence_suite(void)
{
	Suite *s = suite_create("silence");
	TCase *tc = tcase_create("silences");

	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_match_name_labels_and_expiry);
	tcase_add_test(tc, test_restore_keeps_ids);
	tcase_add_test(tc, test_restore_checks_like_add);
	suite_add_tcase(s, tc);
	return s;
}
