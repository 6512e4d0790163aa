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
	ck_assert_int_eq(silences_restore(s, &x), 0);
	x = mk("api_p95", "ana", NOW + HOUR);
	ck_assert_int_eq(silences_add(s, &x, NOW, &id, &why), 0);
	ck_assert_uint_eq(id, 42);
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
	suite_add_tcase(s, tc);
	return s;
}
