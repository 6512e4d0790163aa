/*
 * Unit tests for lib/base/numfmt.c: the hand-written texts are exactly
 * what %.15g prints (so /status, /metrics and cJSON's answers agree; whole
 * numbers past 15 digits, which %.15g rounds, are printed whole), for
 * a table of edges and for every millisecond value in a sweep; values of
 * neither kind are left to the caller.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/numfmt.h"
#include "suites.h"

static void
same_as_printf(double v)
{
	char got[NUMFMT_MAX], want[64];
	size_t n = numfmt_exact(v, got);

	/* Past 15 digits %.15g rounds; the whole number is printed whole. */
	if (fabs(v) >= 1e15)
		snprintf(want, sizeof(want), "%.0f", v);
	else
		snprintf(want, sizeof(want), "%.15g", v);
	ck_assert_msg(n > 0, "%s: not formatted", want);
	ck_assert_msg(strcmp(got, want) == 0 && n == strlen(want),
	    "%.17g: got %s, want %s", v, got, want);
	ck_assert_double_eq(strtod(got, NULL), v);
}

START_TEST(test_table)
{
	static const double exact[] = {
		0, 1, -1, 7, 10, 100, 123456789, -987654321,
		4294967296.0, 9007199254740991.0, -9007199254740991.0,
		0.5, -0.5, 0.001, -0.001, 0.25, 1.5, 12.345, 999999999.999,
		-0.125, 3.1, 0.1, 0.01, 2.07,
		0.0001, 0.001234, 3.14159, -0.000123, 999999999.999999,
		0.250001,
	};
	static const double left[] = {
		0.00001, 0.0000123, 1.0 / 3.0, 1e9 + 0.5, 1e300,
		9007199254740993.0 * 2, 3.1415926,
	};
	char buf[NUMFMT_MAX];

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		same_as_printf(exact[i]);
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		ck_assert_msg(numfmt_exact(left[i], buf) == 0, "%.17g", left[i]);
	ck_assert_uint_eq(numfmt_exact(NAN, buf), 0);
	ck_assert_uint_eq(numfmt_exact(INFINITY, buf), 0);
	ck_assert_uint_eq(numfmt_int(INT64_MIN, buf), 20);
	ck_assert_str_eq(buf, "-9223372036854775808");
}
END_TEST

/* Every k/1000 and k/1000000 in a sweep, both signs: as %.15g prints. */
START_TEST(test_milliseconds)
{
	for (int64_t k = 100; k < 20000000; k += 997) {
		same_as_printf((double)k / 1e6);
		same_as_printf(-(double)k / 1e6);
	}
	for (int64_t k = 0; k < 200000; k += 7) {
		same_as_printf((double)k / 1000.0);
		if (k > 0)	/* -0 prints as 0 */
			same_as_printf(-(double)k / 1000.0);
		same_as_printf((double)(k * 1000 + 1) / 1000.0);
	}
}
END_TEST

Suite *
numfmt_suite(void)
{
	Suite *s = suite_create("numfmt");
	TCase *tc = tcase_create("numfmt");

	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_milliseconds);
	suite_add_tcase(s, tc);
	return s;
}
