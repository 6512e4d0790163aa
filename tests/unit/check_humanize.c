/* humanize: numbers with their units, as an engineer reads them. */
#include <check.h>

#include "base/humanize.h"
#include "suites.h"

static const char *
hv(double v, const char *unit)
{
	static char buf[64];

	human_value(v, unit, buf, sizeof(buf));
	return buf;
}

static const char *
hn(double v)
{
	static char buf[64];

	human_num(v, buf, sizeof(buf));
	return buf;
}

START_TEST(test_numbers)
{
	ck_assert_str_eq(hn(0), "0");
	ck_assert_str_eq(hn(312), "312");
	ck_assert_str_eq(hn(312.7), "313");
	ck_assert_str_eq(hn(5.0167), "5.02");
	ck_assert_str_eq(hn(0.05), "0.05");
	ck_assert_str_eq(hn(0.000123), "0.000123");
	ck_assert_str_eq(hn(-1.5), "-1.5");
	ck_assert_str_eq(hn(4200), "4200");
	ck_assert_str_eq(hn(5.527e9), "5.53 G");
	ck_assert_str_eq(hn(1e6), "1 M");
}
END_TEST

START_TEST(test_units)
{
	ck_assert_str_eq(hv(5.527e9, "bytes/h"), "5.53 GB/h");
	ck_assert_str_eq(hv(1234.5, "ms"), "1.23 s");
	ck_assert_str_eq(hv(1200, "ms"), "1.2 s");
	ck_assert_str_eq(hv(609.75, "ms"), "610 ms");
	ck_assert_str_eq(hv(5.0167, "%"), "5.02 %");
	ck_assert_str_eq(hv(7200, "s"), "2 h");
	ck_assert_str_eq(hv(300, "s"), "5 min");
	ck_assert_str_eq(hv(45, "s"), "45 s");
	ck_assert_str_eq(hv(512, "bytes"), "512 bytes");
	ck_assert_str_eq(hv(2.5e6, "B"), "2.5 MB");
	ck_assert_str_eq(hv(3, NULL), "3");
	ck_assert_str_eq(hv(3, ""), "3");
	ck_assert_str_eq(hv(1.5, "x"), "1.5 x");
}
END_TEST

Suite *
humanize_suite(void)
{
	Suite *s = suite_create("humanize");
	TCase *tc = tcase_create("humanize");

	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_units);
	suite_add_tcase(s, tc);
	return s;
}
