/*
 * procstat: the /proc/self/stat line read field by field, a process name
 * with spaces and parentheses included; and this very process's numbers.
 */
#include <check.h>
#include <string.h>

#include "base/procstat.h"
#include "suites.h"

START_TEST(test_parse_stat)
{
	/* Fields 14 and 15 (utime 250, stime 50), 23 (vsize), 24 (rss). */
	static const char line[] = "4242 (vig ild) (x)) S 1 4242 4242 0 -1 "
	    "4194560 1183 0 0 0 250 50 0 0 20 0 3 0 12345 52428800 2560 "
	    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
	struct procstat p;

	ck_assert_int_eq(procstat_parse_stat(line, 100, 4096, &p), 0);
	ck_assert(p.ok);
	ck_assert_double_eq_tol(p.cpu_seconds, 3.0, 1e-9);
	ck_assert_double_eq_tol(p.virtual_bytes, 52428800, 1e-9);
	ck_assert_double_eq_tol(p.resident_bytes, 2560.0 * 4096, 1e-9);
	/* Cut short, no name, no clock: refused, never half read. */
	ck_assert_int_eq(procstat_parse_stat("4242 (x) S 1 2 3", 100, 4096,
	    &p), -1);
	ck_assert(!p.ok);
	ck_assert_int_eq(procstat_parse_stat("no name here", 100, 4096, &p),
	    -1);
	ck_assert_int_eq(procstat_parse_stat(line, 0, 4096, &p), -1);
	ck_assert_int_eq(procstat_parse_stat("1 (x) S 1 2 3 4 5 6 7 8 9 10 "
	    "x 1 2 3 4 5 6 7 8 9 10", 100, 4096, &p), -1);
}
END_TEST

START_TEST(test_read_self)
{
	struct procstat p;

	ck_assert_int_eq(procstat_read(&p), 0);
	ck_assert(p.ok);
	ck_assert(p.resident_bytes > 0);
	ck_assert(p.virtual_bytes >= p.resident_bytes);
	ck_assert(p.cpu_seconds >= 0);
	/* stdin, stdout, stderr at least. */
	ck_assert(p.open_fds >= 3);
}
END_TEST

Suite *
procstat_suite(void)
{
	Suite *s = suite_create("procstat");
	TCase *tc = tcase_create("procstat");

	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_read_self);
	suite_add_tcase(s, tc);
	return s;
}
