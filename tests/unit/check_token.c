/*
 * token: the bearer token comparison. Its answers, and, when the suite
 * runs under valgrind (make check-valgrind), that no branch or memory
 * address depends on the secret's bytes: memcheck is told the secret is
 * undefined, so any decision taken on it would be reported as an error.
 */
#include <string.h>

#include <check.h>
#include <valgrind/memcheck.h>

#include "suites.h"
#include "http/token.h"

static const char secret[] = "s3cr3t-t0ken-5d1e";

static bool
eq(const char *given)
{
	return token_equal(given, strlen(given), secret, strlen(secret));
}

START_TEST(test_answers)
{
	ck_assert(eq("s3cr3t-t0ken-5d1e"));
	ck_assert(!eq("s3cr3t-t0ken-5d1f"));	/* last byte */
	ck_assert(!eq("x3cr3t-t0ken-5d1e"));	/* first byte */
	ck_assert(!eq("s3cr3t-t0ken-5d1"));	/* a prefix */
	ck_assert(!eq("s3cr3t-t0ken-5d1ee"));	/* one more */
	ck_assert(!eq(""));
	ck_assert(!token_equal("", 0, "", 0));	/* no secret: nothing matches */
	ck_assert(!token_equal("a", 1, "", 0));
}
END_TEST

/*
 * Under valgrind: the secret's bytes are marked undefined for the call;
 * the error count must not move. Outside valgrind the client requests
 * are no-ops and only the answers are checked.
 */
START_TEST(test_no_decision_on_the_secret)
{
	static const char *const given[] = {
		"s3cr3t-t0ken-5d1e", "x3cr3t-t0ken-5d1e", "s3cr3t-t0ken-5d1f",
		"s3cr3", "s3cr3t-t0ken-5d1e-and-more", "",
	};
	char want[sizeof(secret)];
	size_t wlen = strlen(secret);

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		unsigned before = VALGRIND_COUNT_ERRORS, after;
		bool r;

		memcpy(want, secret, sizeof(secret));
		VALGRIND_MAKE_MEM_UNDEFINED(want, wlen);
		r = token_equal(given[i], strlen(given[i]), want, wlen);
		/* The answer itself is meant to be used. */
		VALGRIND_MAKE_MEM_DEFINED(&r, sizeof(r));
		VALGRIND_MAKE_MEM_DEFINED(want, wlen);
		after = VALGRIND_COUNT_ERRORS;
		ck_assert_msg(after == before, "comparing \"%s\": %u "
		    "decision(s) taken on the secret's bytes", given[i],
		    after - before);
		ck_assert(r == (i == 0));
	}
}
END_TEST

Suite *
token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");

	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_no_decision_on_the_secret);
	suite_add_tcase(s, tc);
	return s;
}
