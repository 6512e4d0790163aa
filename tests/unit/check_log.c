/*
 * Unit tests for lib/base/log.c: what reaches stderr. Outside text comes
 * out escaped (no forged line, no terminal escape), and a flood of one
 * event kind is held to its burst with the rest counted. stderr is a
 * temporary file for the length of each test. Each test uses kinds of
 * its own: under CK_FORK=no the limiter's state outlives a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "suites.h"

static FILE *capture;
static int saved_fd = -1;

static void
capture_start(void)
{
	fflush(stderr);
	capture = tmpfile();
	ck_assert_ptr_nonnull(capture);
	saved_fd = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_fd, 0);
	ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_DEBUG);
}

/* Everything written since capture_start(); the caller frees it. */
static char *
capture_end(void)
{
	long n;
	char *text;

	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	n = ftell(capture);
	ck_assert_int_ge(n, 0);
	text = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(text);
	rewind(capture);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, capture), (size_t)n);
	fclose(capture);
	return text;
}

static unsigned
count(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_outside_text_escaped)
{
	char *text;

	capture_start();
	log_warn("event=probe_down_esc probe=web reason=\"%s\"",
	    "\x1b[31mred\x1b]0;pwned\x07\nevent=forged \xc2\x9b" "2J \xff");
	text = capture_end();
	ck_assert_uint_eq(count(text, "\n"), 1);
	ck_assert_ptr_null(strchr(text, '\x1b'));
	ck_assert_ptr_null(strchr(text, '\x07'));
	ck_assert_ptr_null(strstr(text, "\xc2\x9b"));
	ck_assert_ptr_nonnull(strstr(text, "reason=\"\\x1b[31mred\\x1b]0;pwned"
	    "\\x07\\x0aevent=forged \\xc2\\x9b" "2J \\xff\""));
	free(text);
}
END_TEST

/*
 * A quote in outside text would end its field early: a database error
 * reading `x" event=probe_ok probe="db` would add fields of its own to
 * the line. LOG_Q escapes \\ and " inside a quoted value, so a reader
 * splitting on key="value" finds only the fields vigild wrote.
 */
START_TEST(test_quote_in_a_field)
{
	char *text;

	capture_start();
	log_warn("event=probe_down_q probe=db reason=\"%s\"",
	    LOG_Q("x\" event=probe_ok probe=\"db \\x1b"));
	text = capture_end();
	ck_assert_ptr_nonnull(strstr(text, "reason=\"x\\\" event=probe_ok "
	    "probe=\\\"db \\\\x1b\"\n"));
	ck_assert_uint_eq(count(text, "event="), 2);
	free(text);
}
END_TEST

/* A value longer than LOG_Q's room is cut at a whole character. */
START_TEST(test_quote_cut_whole)
{
	char buf[8];

	ck_assert_str_eq(log_quote(buf, sizeof(buf), "ab\"cd\"ef"), "ab\\\"cd");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "abcdef\""), "abcdef");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), NULL), "");
}
END_TEST

START_TEST(test_flood_held_and_counted)
{
	char *text;

	capture_start();
	for (int i = 0; i < 120; i++)
		log_warn("event=auth_flood reason=wrong_token n=%d", i);
	/* Another kind is not held back by this one's flood. */
	log_notice("event=other_kind x=1");
	log_flush();
	text = capture_end();
	ck_assert_uint_eq(count(text, "event=auth_flood "), 50);
	ck_assert_ptr_nonnull(strstr(text, "n=49\n"));
	ck_assert_ptr_null(strstr(text, "n=50\n"));
	ck_assert_uint_eq(count(text, "event=other_kind x=1"), 1);
	ck_assert_ptr_nonnull(strstr(text, "event=log_suppressed "
	    "kind=auth_flood suppressed=70 "));
	free(text);
}
END_TEST

START_TEST(test_debug_never_held)
{
	char *text;

	capture_start();
	for (int i = 0; i < 80; i++)
		log_debug("event=probe_run_dbg n=%d", i);
	log_flush();
	text = capture_end();
	ck_assert_uint_eq(count(text, "event=probe_run_dbg "), 80);
	ck_assert_ptr_null(strstr(text, "kind=probe_run_dbg"));
	free(text);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_outside_text_escaped);
	tcase_add_test(tc, test_quote_in_a_field);
	tcase_add_test(tc, test_quote_cut_whole);
	tcase_add_test(tc, test_flood_held_and_counted);
	tcase_add_test(tc, test_debug_never_held);
	suite_add_tcase(s, tc);
	return s;
}
