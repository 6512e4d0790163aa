/* silence: validation, matching by name and labels, expiry. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* What silences_match must answer: the first active silence, in the
 * order they were made, whose name and matchers all hold. */
static const struct silence *
reference(const struct silences *s, const struct rule_cfg *rc, int64_t now)
{
	const struct silence *x;

	for (size_t i = 0; (x = silences_at(s, i)) != NULL; i++) {
		bool ok = x->expires > now &&
		    (x->rule[0] == '\0' || strcmp(x->rule, rc->name) == 0);

		for (size_t m = 0; ok && m < x->nmatchers; m++) {
			bool found = false;

			for (size_t l = 0; l < rc->nlabels; l++)
				found = found || (strcmp(rc->labels[l].key,
				    x->matchers[m].key) == 0 &&
				    strcmp(rc->labels[l].value,
				    x->matchers[m].value) == 0);
			ok = found;
		}
		if (ok)
			return x;
	}
	return NULL;
}

/*
 * The index (silences by rule name, and those by labels) answers as the
 * plain scan would, across every order of making, expiring and pruning:
 * several silences of one name, some expiring earlier, label silences
 * made before and after, names whose hashes are looked up but absent.
 */
START_TEST(test_index_answers_as_the_scan)
{
	static const char *const names[] = { "r0", "r1", "r2", "r3", "r4" };
	struct rule_label web[] = { { (char *)"team", (char *)"web" } };
	struct rule_label db[] = { { (char *)"team", (char *)"db" } };
	struct rule_cfg rules[10];
	struct silences *s = silences_new();
	unsigned seed = 7;

	for (size_t i = 0; i < 10; i++) {
		rules[i] = (struct rule_cfg){ .name = (char *)names[i % 5],
		    .labels = i < 5 ? web : db, .nlabels = 1 };
	}
	for (int step = 0; step < 400; step++) {
		int what = rand_r(&seed) % 10;
		int64_t now = NOW + (int64_t)step * 60000;
		const char *why;
		uint64_t id;

		if (what < 6) {
			struct silence x = mk(what < 4 ?
			    names[rand_r(&seed) % 5] : "", "ana",
			    now + (int64_t)(1 + rand_r(&seed) % 90) * 60000);

			if (x.rule[0] == '\0' || rand_r(&seed) % 3 == 0) {
				snprintf(x.matchers[0].key,
				    sizeof(x.matchers[0].key), "team");
				snprintf(x.matchers[0].value,
				    sizeof(x.matchers[0].value), "%s",
				    rand_r(&seed) % 2 ? "web" : "db");
				x.nmatchers = 1;
			}
			(void)silences_add(s, &x, now, &id, &why);
		} else if (what < 8 && silences_count(s) > 0) {
			const struct silence *x = silences_at(s,
			    (size_t)rand_r(&seed) % silences_count(s));

			ck_assert(silences_expire(s, x->id));
		} else if (what == 8) {
			(void)silences_prune(s, now);
		}
		for (size_t r = 0; r < 10; r++)
			for (int64_t later = 0; later < 3; later++) {
				int64_t t = now + later * 30 * 60000;

				ck_assert_ptr_eq(silences_match(s, &rules[r], t),
				    reference(s, &rules[r], t));
			}
	}
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
	tcase_add_test(tc, test_index_answers_as_the_scan);
	tcase_add_test(tc, test_restore_keeps_ids);
	tcase_add_test(tc, test_restore_checks_like_add);
	suite_add_tcase(s, tc);
	return s;
}
