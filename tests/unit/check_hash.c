/*
 * hash: FNV-1a 64. Its values are saved in the state file (a rule's
 * canon), so this suite pins them: if one of these changes, every
 * upgraded host's rules forget their state.
 */
#include <check.h>
#include <string.h>

#include "base/hash.h"
#include "suites.h"

/* The canonical form of the fixture's api_p95 (state_v1.config.json). */
static const char canon_api_p95[] =
    "{\"name\":\"api_p95\",\"metric\":\"app_advanced.p95_ms\",\"op\":\">\","
    "\"warn\":500,\"crit\":1000,\"unit\":\"ms\",\"labels\":{\"team\":\"web\"}}";

START_TEST(test_published_vectors)
{
	/* FNV-1a 64's published test vectors. */
	ck_assert_uint_eq(hash64("", 0), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(hash64("a", 1), 0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(hash64("foobar", 6), 0x85944171f73967e8ULL);
	ck_assert_uint_eq(hash64_str(""), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(hash64_str("a"), 0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(hash64_str("foobar"), 0x85944171f73967e8ULL);
	ck_assert_uint_eq(hash64_str(NULL), HASH64_BASIS);
}
END_TEST

START_TEST(test_bytes_not_strings)
{
	/* Every byte counts, a NUL and bytes above 0x7f included. */
	ck_assert_uint_ne(hash64("a\0b", 3), hash64("a", 1));
	ck_assert_uint_ne(hash64("\xff", 1), hash64("\x7f", 1));
	ck_assert_uint_eq(hash64_seeded(HASH64_BASIS, "foobar", 6),
	    hash64("foobar", 6));
}
END_TEST

START_TEST(test_state_file_values)
{
	/* What this release saves as api_p95's "canon". */
	ck_assert_uint_eq(hash64_str(canon_api_p95), 0x3d1d6c9583c3850fULL);
	/*
	 * What 0.1.0 saved (an FNV-1a basis one digit short): the value in
	 * tests/unit/fixtures/state_v1.json, still recognised on load.
	 */
	ck_assert_uint_eq(hash64_seeded(1469598103934665603ULL, canon_api_p95,
	    strlen(canon_api_p95)), 0x9561464a6e338531ULL);
}
END_TEST

Suite *
hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("hash");

	tcase_add_test(tc, test_published_vectors);
	tcase_add_test(tc, test_bytes_not_strings);
	tcase_add_test(tc, test_state_file_values);
	suite_add_tcase(s, tc);
	return s;
}
