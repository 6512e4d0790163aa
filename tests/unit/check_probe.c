/*
 * probe: a run's result. Results are reused run after run, keeping their
 * blocks (probe_result_reset); what a run reads must still be that run's
 * alone: its metrics, in order, with their values, and its notes or none.
 */
#include <string.h>

#include <check.h>

#include "alloc_count.h"
#include "probe/probe.h"
#include "suites.h"

static void
assert_metrics(const struct probe_result *r, const char *const *names,
    const double *values, size_t n)
{
	ck_assert_uint_eq(r->nmetrics, n);
	for (size_t i = 0; i < n; i++) {
		double v;

		ck_assert_str_eq(r->metrics[i].name, names[i]);
		ck_assert(r->metrics[i].value == values[i]);
		ck_assert(probe_result_get(r, names[i], &v));
		ck_assert(v == values[i]);
	}
}

START_TEST(test_reset_reuses_and_forgets)
{
	static const char *const a[] = { "dns_ms", "ttfb_ms", "up" };
	static const char *const b[] = { "a_much_longer_metric_name", "up" };
	struct probe_result r;
	double v;
	int rc;

	probe_result_init(&r);
	ck_assert_int_eq(probe_result_add(&r, "dns_ms", 1), 0);
	ck_assert_int_eq(probe_result_add(&r, "ttfb_ms", 2), 0);
	ck_assert_int_eq(probe_result_add(&r, "up", 0), 0);
	ck_assert_int_eq(probe_result_add(&r, "up", 1), 0);	/* replaced */
	probe_result_failf(&r, PROBE_FAIL_STATUS, "status %d", 503);
	probe_result_notef(&r, "first");
	assert_metrics(&r, a, (const double[]){ 1, 2, 1 }, 3);
	ck_assert_str_eq(r.notes, "first");

	/* The same names again: no block at all. */
	probe_result_reset(&r);
	ck_assert_uint_eq(r.nmetrics, 0);
	ck_assert_ptr_null(r.notes);
	ck_assert_str_eq(r.reason, "");
	ck_assert(!probe_result_get(&r, "up", &v));
	/* No ck_assert while counting: Check's own blocks would count. */
	alloc_count_begin();
	rc = probe_result_add(&r, "dns_ms", 3);
	rc |= probe_result_add(&r, "ttfb_ms", 4);
	rc |= probe_result_add(&r, "up", 1);
	probe_result_notef(&r, "second");
	ck_assert_uint_eq(alloc_count_end(), 0);
	ck_assert_int_eq(rc, 0);
	assert_metrics(&r, a, (const double[]){ 3, 4, 1 }, 3);
	ck_assert_str_eq(r.notes, "second");

	/* Other names, one longer than the slot's: still right. */
	probe_result_reset(&r);
	ck_assert_int_eq(probe_result_add(&r, b[0], 5), 0);
	ck_assert_int_eq(probe_result_add(&r, "up", 0), 0);
	assert_metrics(&r, b, (const double[]){ 5, 0 }, 2);
	ck_assert(!probe_result_get(&r, "ttfb_ms", &v));
	probe_result_clear(&r);
	ck_assert_ptr_null(r.metrics);
	ck_assert_ptr_null(r.notes_buf);
}
END_TEST

START_TEST(test_copy_into_a_used_result)
{
	static const char *const a[] = { "x", "y" };
	static const char *const many[] = { "m0", "m1", "m2", "m3", "m4",
	    "m5", "m6", "m7", "m8", "m9" };
	const double vals[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct probe_result src, dst;
	int rc;

	probe_result_init(&src);
	probe_result_init(&dst);
	for (size_t i = 0; i < 10; i++)
		ck_assert_int_eq(probe_result_add(&src, many[i], vals[i]), 0);
	probe_result_notef(&src, "note %d", 1);
	src.started = 42;
	src.duration_ms = 1.5;
	ck_assert_int_eq(probe_result_copy(&dst, &src), 0);
	assert_metrics(&dst, many, vals, 10);
	ck_assert_str_eq(dst.notes, "note 1");
	ck_assert_ptr_ne(dst.notes, src.notes);
	ck_assert_int_eq(dst.started, 42);

	/* A later run: fewer metrics, a failure, no notes. */
	probe_result_reset(&src);
	ck_assert_int_eq(probe_result_add(&src, "x", 7), 0);
	ck_assert_int_eq(probe_result_add(&src, "y", 8), 0);
	probe_result_failf(&src, PROBE_FAIL_BODY, "keyword missing");
	alloc_count_begin();
	rc = probe_result_copy(&dst, &src);
	ck_assert_uint_eq(alloc_count_end(), 0);
	ck_assert_int_eq(rc, 0);
	assert_metrics(&dst, a, (const double[]){ 7, 8 }, 2);
	ck_assert_ptr_null(dst.notes);
	ck_assert(!dst.up);
	ck_assert_int_eq(dst.fail, PROBE_FAIL_BODY);
	ck_assert_str_eq(dst.reason, "keyword missing");
	probe_result_clear(&src);
	probe_result_clear(&dst);
}
END_TEST

Suite *
probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("result");

	tcase_add_test(tc, test_reset_reuses_and_forgets);
	tcase_add_test(tc, test_copy_into_a_used_result);
	suite_add_tcase(s, tc);
	return s;
}
