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

/*
 * Notes join with "; "; one that does not fit is dropped whole and the
 * notes end with "; ..." (once), so a cut note never reads as complete.
 */
START_TEST(test_probe_notes_fill_then_say_more)
{
	struct probe_result r, c;
	char big[PROBE_NOTES_MAX];
	size_t n;

	probe_result_init(&r);
	probe_result_init(&c);
	ck_assert_ptr_null(r.notes);
	probe_result_notef(&r, "first");
	probe_result_notef(&r, "second %d", 2);
	ck_assert_str_eq(r.notes, "first; second 2");
	memset(big, 'x', 1200);
	big[1200] = '\0';
	probe_result_notef(&r, "%s", big);
	n = strlen(r.notes);
	ck_assert_uint_eq(n, strlen("first; second 2; ") + 1200);
	probe_result_notef(&r, "%s", big);
	ck_assert_str_eq(r.notes + n, "; ...");
	probe_result_notef(&r, "small");
	ck_assert_str_eq(r.notes + n, "; ...");
	ck_assert_uint_lt(strlen(r.notes), PROBE_NOTES_MAX);
	ck_assert_int_eq(probe_result_copy(&c, &r), 0);
	ck_assert_str_eq(c.notes, r.notes);
	ck_assert_ptr_ne(c.notes, r.notes);
	probe_result_clear(&r);
	ck_assert_ptr_null(r.notes);
	/* A first note too long for the buffer: only the marker. */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	probe_result_notef(&r, "%s", big);
	ck_assert_str_eq(r.notes, "...");
	probe_result_clear(&r);
	probe_result_clear(&c);
}
END_TEST

/* What a terminal or the journal may see of a stranger's text. */
static const struct {
	const char *in, *out;
} esc_cases[] = {
	{ "plain text", "plain text" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
	{ "\x1b[31mred\x1b]0;pwned\x07", "\\x1b[31mred\\x1b]0;pwned\\x07" },
	{ "line\nevent=forged", "line\\x0aevent=forged" },
	{ "cr\rtab\tdel\x7f", "cr\\x0dtab\\x09del\\x7f" },
	{ "csi \xc2\x9b" "31m", "csi \\xc2\\x9b" "31m" },
	{ "nbsp \xc2\xa0 ok", "nbsp \xc2\xa0 ok" },
	{ "bad \xff\xfe", "bad \\xff\\xfe" },
	{ "cut \xe2\x82", "cut \\xe2\\x82" },
};

START_TEST(test_escape_controls)
{
	char out[128];
	const char *in = esc_cases[_i].in;
	size_t n = utf8_escape_controls(in, strlen(in), out, sizeof(out));

	ck_assert_str_eq(out, esc_cases[_i].out);
	ck_assert_uint_eq(n, strlen(out));
}
END_TEST

/* Out of room: whole characters and whole escapes only. */
START_TEST(test_escape_truncates_whole)
{
	char out[8];

	utf8_escape_controls("ab\x1b" "cd", 5, out, sizeof(out));
	ck_assert_str_eq(out, "ab\\x1bc");
	utf8_escape_controls("abcd\x1b", 5, out, sizeof(out));
	ck_assert_str_eq(out, "abcd");
	utf8_escape_controls("abcdef\xc3\xa9", 8, out, sizeof(out));
	ck_assert_str_eq(out, "abcdef");
	utf8_escape_controls("x", 1, out, 1);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_check_line)
{
	ck_assert_int_eq(utf8_check_line("v1.2.3", 63), UTF8_LINE_OK);
	ck_assert_int_eq(utf8_check_line("caf\xc3\xa9", 5), UTF8_LINE_OK);
	ck_assert_int_eq(utf8_check_line("caf\xc3\xa9", 4), UTF8_LINE_LONG);
	ck_assert_int_eq(utf8_check_line("", 0), UTF8_LINE_OK);
	ck_assert_int_eq(utf8_check_line("bad \xff", 63), UTF8_LINE_INVALID);
	ck_assert_int_eq(utf8_check_line("cut \xe2\x82", 63),
	    UTF8_LINE_INVALID);
	ck_assert_int_eq(utf8_check_line("a\nb", 63), UTF8_LINE_CONTROL);
	ck_assert_int_eq(utf8_check_line("a\x1b[2J", 63), UTF8_LINE_CONTROL);
	ck_assert_int_eq(utf8_check_line("a\x7f", 63), UTF8_LINE_CONTROL);
	ck_assert_int_eq(utf8_check_line("a\xc2\x9b" "2J", 63),
	    UTF8_LINE_CONTROL);
	ck_assert_int_eq(utf8_check_line("nbsp\xc2\xa0", 63), UTF8_LINE_OK);
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
	tcase_add_test(tc, test_probe_notes_fill_then_say_more);
	tcase_add_loop_test(tc, test_escape_controls, 0,
	    (int)(sizeof(esc_cases) / sizeof(esc_cases[0])));
	tcase_add_test(tc, test_escape_truncates_whole);
	tcase_add_test(tc, test_check_line);
	suite_add_tcase(s, tc);
	return s;
}
