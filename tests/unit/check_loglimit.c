/*
 * Unit tests for lib/base/loglimit.c on a fake clock: a kind's burst per
 * interval, its held-back count told once when the interval ends, kinds
 * apart from each other, and the table's overflow.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/loglimit.h"
#include "suites.h"

static unsigned
allow_n(struct loglimit *l, const char *kind, int64_t now, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += loglimit_allow(l, kind, now);
	return ok;
}

START_TEST(test_burst_then_held)
{
	struct loglimit l;
	char name[LOGLIMIT_NAME];
	unsigned long held;
	int64_t span;

	loglimit_init(&l, 10000, 5);
	ck_assert_uint_eq(allow_n(&l, "auth_failure", 0, 7012), 5);
	/* Within the interval nothing is told yet. */
	ck_assert(!loglimit_summary(&l, 9999, name, sizeof(name), &held,
	    &span));
	ck_assert(loglimit_summary(&l, 10000, name, sizeof(name), &held,
	    &span));
	ck_assert_str_eq(name, "auth_failure");
	ck_assert_uint_eq(held, 7007);
	ck_assert_int_eq(span, 10000);
	/* Told once. */
	ck_assert(!loglimit_summary(&l, 10001, name, sizeof(name), &held,
	    &span));
	/* A fresh interval: the burst again. */
	ck_assert_uint_eq(allow_n(&l, "auth_failure", 10002, 6), 5);
}
END_TEST

START_TEST(test_kinds_apart)
{
	struct loglimit l;

	loglimit_init(&l, 10000, 3);
	ck_assert_uint_eq(allow_n(&l, "auth_failure", 0, 100), 3);
	/* One kind's flood does not silence another's first lines. */
	ck_assert_uint_eq(allow_n(&l, "probe_down", 1, 2), 2);
	ck_assert_uint_eq(allow_n(&l, NULL, 1, 5), 3);
	ck_assert_uint_eq(allow_n(&l, "", 1, 1), 0);
}
END_TEST

START_TEST(test_quiet_kind_never_summarized)
{
	struct loglimit l;
	char name[LOGLIMIT_NAME];
	unsigned long held;
	int64_t span;

	loglimit_init(&l, 1000, 3);
	ck_assert_uint_eq(allow_n(&l, "reload_begin", 0, 3), 3);
	ck_assert(!loglimit_summary(&l, 5000, name, sizeof(name), &held,
	    &span));
	ck_assert(!loglimit_summary(&l, INT64_MAX, name, sizeof(name), &held,
	    &span));
}
END_TEST

START_TEST(test_exit_tells_the_last_counts)
{
	struct loglimit l;
	char name[LOGLIMIT_NAME];
	unsigned long held;
	int64_t span;

	loglimit_init(&l, 10000, 1);
	allow_n(&l, "a", 100, 3);
	allow_n(&l, "b", 200, 2);
	ck_assert(loglimit_summary(&l, INT64_MAX, name, sizeof(name), &held,
	    &span));
	ck_assert_str_eq(name, "a");
	ck_assert_uint_eq(held, 2);
	ck_assert(loglimit_summary(&l, INT64_MAX, name, sizeof(name), &held,
	    &span));
	ck_assert_str_eq(name, "b");
	ck_assert_uint_eq(held, 1);
	ck_assert(!loglimit_summary(&l, INT64_MAX, name, sizeof(name), &held,
	    &span));
}
END_TEST

/* The summary not taken before the next interval: counted late, not lost. */
START_TEST(test_untaken_summary_carries)
{
	struct loglimit l;
	char name[LOGLIMIT_NAME];
	unsigned long held;
	int64_t span;

	loglimit_init(&l, 1000, 1);
	allow_n(&l, "x", 0, 4);
	ck_assert_uint_eq(allow_n(&l, "x", 1500, 2), 1);
	ck_assert(loglimit_summary(&l, 2500, name, sizeof(name), &held,
	    &span));
	ck_assert_uint_eq(held, 4);
}
END_TEST

START_TEST(test_table_full_shares_last_slot)
{
	struct loglimit l;
	char kind[16];

	loglimit_init(&l, 1000, 1);
	for (int i = 0; i < LOGLIMIT_KINDS; i++) {
		snprintf(kind, sizeof(kind), "k%d", i);
		ck_assert(loglimit_allow(&l, kind, 0));
	}
	/* Kinds past the table share the last slot, whose burst is spent. */
	ck_assert(!loglimit_allow(&l, "new_kind", 0));
	ck_assert(loglimit_allow(&l, "k0", 1000));
}
END_TEST

Suite *
loglimit_suite(void)
{
	Suite *s = suite_create("loglimit");
	TCase *tc = tcase_create("loglimit");

	tcase_add_test(tc, test_burst_then_held);
	tcase_add_test(tc, test_kinds_apart);
	tcase_add_test(tc, test_quiet_kind_never_summarized);
	tcase_add_test(tc, test_exit_tells_the_last_counts);
	tcase_add_test(tc, test_untaken_summary_carries);
	tcase_add_test(tc, test_table_full_shares_last_slot);
	suite_add_tcase(s, tc);
	return s;
}
