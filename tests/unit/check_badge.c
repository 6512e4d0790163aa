/* badge: the SVG's text escaped, its colours by state, its width grown. */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "http/badge.h"
#include "suites.h"

/* The number in attr="..." after the first occurrence of attr in s. */
static int
attr_int(const char *s, const char *attr)
{
	const char *p = strstr(s, attr);

	ck_assert_ptr_nonnull(p);
	return atoi(p + strlen(attr));
}

START_TEST(test_badge_colours)
{
	ck_assert_str_eq(badge_color("up"), "#4c1");
	ck_assert_str_eq(badge_color("ok"), "#4c1");
	ck_assert_str_eq(badge_color("down"), "#e05d44");
	ck_assert_str_eq(badge_color("critical"), "#e05d44");
	ck_assert_str_eq(badge_color("warning"), "#dfb317");
	ck_assert_str_eq(badge_color("pending"), "#9f9f9f");
	/* Anything else: grey, never an error. */
	ck_assert_str_eq(badge_color("what"), "#9f9f9f");
}
END_TEST

START_TEST(test_badge_escapes_and_grows)
{
	char *a = badge_svg("<a&b>", "up 99.95%", "#4c1");
	char *b = badge_svg("a-much-longer-probe-name", "up 99.95%", "#4c1");
	char long_name[200];
	char *c;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert(strncmp(a, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) ==
	    0);
	ck_assert_ptr_null(strstr(a, "<a&b>"));
	ck_assert_ptr_nonnull(strstr(a, ">&lt;a&amp;b&gt;</text>"));
	ck_assert_ptr_nonnull(strstr(a, "aria-label=\"&lt;a&amp;b&gt;: up "
	    "99.95%\""));
	ck_assert_ptr_nonnull(strstr(a, "<rect class=\"state\""));
	ck_assert_ptr_nonnull(strstr(a, "fill=\"#4c1\""));
	/* A longer name, a wider badge; the state's box starts after it. */
	ck_assert_int_gt(attr_int(b, "width=\""), attr_int(a, "width=\""));
	ck_assert_int_gt(attr_int(b, "class=\"state\" x=\""),
	    attr_int(a, "class=\"state\" x=\""));
	/* A name past 64 bytes is cut, with dots. */
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	c = badge_svg(long_name, "down", "#e05d44");
	ck_assert_ptr_nonnull(strstr(c, "nnn...</text>"));
	ck_assert_ptr_null(strstr(c, long_name));
	free(a);
	free(b);
	free(c);
}
END_TEST

Suite *
badge_suite(void)
{
	Suite *s = suite_create("badge");
	TCase *tc = tcase_create("badge");

	tcase_add_test(tc, test_badge_colours);
	tcase_add_test(tc, test_badge_escapes_and_grows);
	suite_add_tcase(s, tc);
	return s;
}
