/* store: rings keep the newest samples up to their cap, stay in time
 * order, reject non-finite values, and drop by prefix. */
#include <math.h>
#include <stdio.h>
#include <check.h>

#include "engine/store.h"
#include "suites.h"

START_TEST(test_ring_keeps_newest)
{
	struct store *st = store_new();
	const struct series *s;
	struct sample x;

	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(store_add(st, "a.b", i * 10, i, 16), 0);
	s = store_find(st, "a.b");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(series_len(s), 16);
	ck_assert(series_at(s, 0, &x));
	ck_assert_int_eq(x.t, 840);
	ck_assert(x.v == 84);
	ck_assert(series_last(s, &x));
	ck_assert(x.v == 99);
	ck_assert(!series_at(s, 16, &x));
	/* First sample at or after t=905 is the one at 910, index 7. */
	ck_assert_uint_eq(series_since(s, 905), 7);
	ck_assert_uint_eq(series_since(s, 0), 0);
	ck_assert_uint_eq(series_since(s, 5000), 16);
	store_free(st);
}
END_TEST

START_TEST(test_rejects_non_finite)
{
	struct store *st = store_new();

	ck_assert_int_lt(store_add(st, "x", 1, NAN, 8), 0);
	ck_assert_int_lt(store_add(st, "x", 1, INFINITY, 8), 0);
	ck_assert_int_lt(store_add(st, "x", 1, 1.0, 1), 0);
	ck_assert_ptr_null(store_find(st, "x"));
	store_free(st);
}
END_TEST

START_TEST(test_time_order_kept)
{
	struct store *st = store_new();
	struct sample x;

	store_add(st, "x", 1000, 1, 8);
	/* A clock stepped back must not reorder the ring. */
	store_add(st, "x", 500, 2, 8);
	ck_assert(series_last(store_find(st, "x"), &x));
	ck_assert_int_eq(x.t, 1000);
	ck_assert(x.v == 2);
	store_free(st);
}
END_TEST

START_TEST(test_many_series_and_drop)
{
	struct store *st = store_new();
	char name[32];

	for (int p = 0; p < 50; p++)
		for (int m = 0; m < 10; m++) {
			snprintf(name, sizeof(name), "p%d.m%d", p, m);
			ck_assert_int_eq(store_add(st, name, 1, m, 4), 0);
		}
	ck_assert_uint_eq(store_count(st), 500);
	ck_assert_ptr_nonnull(store_find(st, "p49.m9"));
	/* "p1." must not take "p10." along. */
	ck_assert_uint_eq(store_drop_prefix(st, "p1."), 10);
	ck_assert_ptr_null(store_find(st, "p1.m0"));
	ck_assert_ptr_nonnull(store_find(st, "p10.m0"));
	ck_assert_uint_eq(store_count(st), 490);
	ck_assert_uint_gt(store_bytes(st), 490 * 4 * sizeof(struct sample));
	/* One series by its exact name: "p2.m1" leaves "p2.m1x" alone. */
	ck_assert_int_eq(store_add(st, "p2.m1x", 1, 1, 4), 0);
	ck_assert(store_drop(st, "p2.m1"));
	ck_assert(!store_drop(st, "p2.m1"));
	ck_assert_ptr_null(store_find(st, "p2.m1"));
	ck_assert_ptr_nonnull(store_find(st, "p2.m1x"));
	ck_assert_uint_eq(store_count(st), 490);
	store_free(st);
	store_free(NULL);
}
END_TEST

START_TEST(test_cap_change_keeps_newest)
{
	struct store *st = store_new();
	const struct series *s;
	struct sample x;

	for (int i = 0; i < 32; i++)
		store_add(st, "x", i, i, 32);
	store_add(st, "x", 32, 32, 4);
	s = store_find(st, "x");
	ck_assert_uint_eq(series_cap(s), 4);
	ck_assert_uint_eq(series_len(s), 4);
	ck_assert(series_at(s, 0, &x));
	ck_assert(x.v == 29);
	store_free(st);
}
END_TEST

/*
 * A series kept by its caller (the monitor's cache) is the one lookups
 * find, survives the bucket array's growth, and is vouched for by the
 * generation, which only removals move.
 */
START_TEST(test_series_handle_and_generation)
{
	struct store *st = store_new();
	struct series *s = store_series(st, "p.up", 8);
	uint64_t gen = store_gen(st);
	struct sample x;
	char name[32];

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(store_series(st, "p.up", 8), s);
	ck_assert_ptr_eq(store_find(st, "p.up"), s);
	ck_assert_uint_eq(series_len(s), 0);
	ck_assert_int_eq(series_add(s, 10, 1, 8), 0);
	ck_assert_int_lt(series_add(s, 20, NAN, 8), 0);
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "q%d.up", i);
		ck_assert_int_eq(store_add(st, name, 1, i, 8), 0);
	}
	ck_assert_uint_eq(store_gen(st), gen);
	ck_assert_ptr_eq(store_find(st, "p.up"), s);
	ck_assert_int_eq(series_add(s, 5, 2, 8), 0);
	ck_assert(series_last(s, &x));
	ck_assert_int_eq(x.t, 10);	/* time order kept */
	ck_assert(x.v == 2);
	ck_assert(!store_drop(st, "nothing"));
	ck_assert_uint_eq(store_drop_prefix(st, "none."), 0);
	ck_assert_uint_eq(store_gen(st), gen);
	ck_assert(store_drop(st, "q1.up"));
	ck_assert_uint_ne(store_gen(st), gen);
	gen = store_gen(st);
	ck_assert_uint_eq(store_drop_prefix(st, "p."), 1);
	ck_assert_uint_ne(store_gen(st), gen);
	ck_assert_ptr_null(store_find(st, "p.up"));
	store_free(st);
}
END_TEST

Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("series");

	tcase_add_test(tc, test_ring_keeps_newest);
	tcase_add_test(tc, test_rejects_non_finite);
	tcase_add_test(tc, test_time_order_kept);
	tcase_add_test(tc, test_many_series_and_drop);
	tcase_add_test(tc, test_cap_change_keeps_newest);
	tcase_add_test(tc, test_series_handle_and_generation);
	suite_add_tcase(s, tc);
	return s;
}
