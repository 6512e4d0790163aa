/*
 * Unit tests for lib/base/assert.h: a broken invariant aborts in checked
 * builds (developer, sanitizer, fuzzing) and costs nothing in the package
 * build, where the condition is not even evaluated.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "suites.h"

static int calls;

static int
counted(int v)
{
	calls++;
	return v;
}

START_TEST(test_holds)
{
	VIGIL_ASSERT(1 + 1 == 2);
	ck_assert_int_eq(calls, 0);
}
END_TEST

#ifdef VIGIL_CHECKED
START_TEST(test_broken_aborts)
{
	VIGIL_ASSERT(counted(0) == 1);
	ck_abort_msg("a broken invariant returned");
}
END_TEST

START_TEST(test_condition_evaluated_once)
{
	VIGIL_ASSERT(counted(1) == 1);
	ck_assert_int_eq(calls, 1);
}
END_TEST
#else
START_TEST(test_compiled_out)
{
	VIGIL_ASSERT(counted(0) == 1);
	ck_assert_int_eq(calls, 0);
}
END_TEST
#endif

Suite *
assert_suite(void)
{
	Suite *s = suite_create("assert");
	TCase *tc = tcase_create("assert");
	const char *fork = getenv("CK_FORK");

	calls = 0;
	tcase_add_test(tc, test_holds);
#ifdef VIGIL_CHECKED
	tcase_add_test(tc, test_condition_evaluated_once);
	/* An abort ends the process: only where each test has its own. */
	if (fork == NULL || strcmp(fork, "no") != 0)
		tcase_add_test_raise_signal(tc, test_broken_aborts, SIGABRT);
#else
	(void)fork;
	tcase_add_test(tc, test_compiled_out);
#endif
	suite_add_tcase(s, tc);
	return s;
}
