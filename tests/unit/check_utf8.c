/* Unit tests for lib/utf8.c: scrubbing bytes that are not UTF-8. */
#include <stdio.h>

#include <check.h>

#include "probe/probe.h"
#include "suites.h"
#include "base/utf8.h"

struct scrub_case {
	const char *in, *out;
	size_t bad;
};

static const struct scrub_case cases[] = {
	{ "plain ascii", "plain ascii", 0 },
	{ "", "", 0 },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0 },
	{ "\xff\xfe ok", "?? ok", 2 },			/* never valid */
	{ "\xc0\xaf", "??", 2 },			/* overlong '/' */
	{ "\xe0\x80\xaf", "???", 3 },			/* overlong, 3 bytes */
	{ "\xed\xa0\x80", "???", 3 },			/* surrogate U+D800 */
	{ "\xf4\x90\x80\x80", "????", 4 },		/* past U+10FFFF */
	{ "cut \xe2\x82", "cut ??", 2 },		/* truncated at the end */
	{ "\xe2\x82x", "??x", 2 },			/* truncated mid-string */
	{ "\x80 lone continuation", "? lone continuation", 1 },
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", 0 },	/* U+10FFFF itself */
};

START_TEST(test_scrub)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", cases[_i].in);
	ck_assert_uint_eq(utf8_scrub(buf), cases[_i].bad);
	ck_assert_str_eq(buf, cases[_i].out);
}
END_TEST

/* A failed run's reason quoting a target's bytes comes out clean. */
START_TEST(test_probe_reason_is_scrubbed)
{
	struct probe_result r;

	probe_result_init(&r);
	probe_result_failf(&r, PROBE_FAIL_JSON, "\"/status\" is \"%s\"",
	    "\xff\xfe ok");
	ck_assert_str_eq(r.reason, "\"/status\" is \"?? ok\"");
	ck_assert(!r.up);
	probe_result_notef(&r, "metric x: \"%s\"", "\xc3");
	ck_assert_str_eq(r.notes, "metric x: \"?\"");
	probe_result_clear(&r);
}
END_TEST

Suite *
utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");

	tcase_add_loop_test(tc, test_scrub, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_probe_reason_is_scrubbed);
	suite_add_tcase(s, tc);
	return s;
}
