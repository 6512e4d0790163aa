/* page: escaping, and sparklines that keep spikes and show gaps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "http/page.h"
#include "base/sbuf.h"
#include "suites.h"

/* How many c up to the end of the attribute value at s. */
static int
count(const char *s, char c)
{
	int n = 0;

	for (s += 3; *s != '"' && *s != '\0'; s++)
		n += *s == c;
	return n;
}

START_TEST(test_escape)
{
	struct sbuf b;
	char *s;

	sbuf_init(&b, 1024);
	page_escape(&b, "<script>alert('x') & \"y\"</script>");
	s = sbuf_take(&b);
	ck_assert_str_eq(s, "&lt;script&gt;alert(&#39;x&#39;) &amp; "
	    "&quot;y&quot;&lt;/script&gt;");
	free(s);
}
END_TEST

START_TEST(test_spark_keeps_the_worst)
{
	struct spark sp;

	/* 120 slots over 120 s: one slot per second. */
	spark_init(&sp, 0, 120000, 0, true);
	spark_add(&sp, 10100, 5);
	spark_add(&sp, 10400, 50);	/* a spike in the same slot */
	spark_add(&sp, 10800, 6);
	ck_assert(sp.has[10]);
	ck_assert(sp.v[10] == 50);
	ck_assert(!sp.has[9] && !sp.has[11]);
	ck_assert(sp.lo == 5 && sp.hi == 50 && sp.last == 6);
	/* Low is bad: the dip is kept instead. */
	spark_init(&sp, 0, 120000, 0, false);
	spark_add(&sp, 10100, 80);
	spark_add(&sp, 10400, 20);
	ck_assert(sp.v[10] == 20);
	/* Outside the span, or not a number: ignored. */
	spark_add(&sp, -1, 1);
	spark_add(&sp, 120001, 1);
	spark_add(&sp, 500, NAN);
	ck_assert(!sp.has[0] && !sp.has[119]);
}
END_TEST

START_TEST(test_spark_gaps_break_the_line)
{
	struct spark sp;
	struct sbuf b;
	char *s;

	/* Samples 0.5 s apart never break; a 10 s silence (> 3 s) does. */
	spark_init(&sp, 0, 60000, 3000, true);
	for (int64_t t = 0; t <= 20000; t += 500)
		spark_add(&sp, t, 1);
	for (int64_t t = 30000; t <= 60000; t += 500)
		spark_add(&sp, t, 2);
	ck_assert(!sp.brk[1]);
	ck_assert(sp.brk[60]);
	sbuf_init(&b, 65536);
	spark_svg(&b, &sp, 240, 48, 1.5, NAN, "ok", "x <y>");
	s = sbuf_take(&b);
	/* Two runs, so two moves; the threshold as a dashed line. */
	ck_assert_ptr_nonnull(strstr(s, "d=\"M0.0 "));
	ck_assert_ptr_nonnull(strstr(s, "M121.0 "));
	ck_assert_int_eq(count(strstr(s, "d=\""), 'M'), 2);
	ck_assert_ptr_nonnull(strstr(s, "class=\"t-warn\""));
	ck_assert_ptr_null(strstr(s, "t-crit"));
	ck_assert_ptr_nonnull(strstr(s, "aria-label=\"x &lt;y&gt;\""));
	ck_assert_ptr_nonnull(strstr(s, "<circle"));
	free(s);
}
END_TEST

START_TEST(test_spark_empty_and_flat)
{
	struct spark sp;
	struct sbuf b;
	char *s;

	spark_init(&sp, 0, 1000, 0, true);
	sbuf_init(&b, 4096);
	spark_svg(&b, &sp, 100, 20, NAN, NAN, "unknown", "none");
	s = sbuf_take(&b);
	ck_assert_ptr_null(strstr(s, "<path"));
	free(s);
	/* A flat line sits mid-box, not on an edge (and never divides by 0). */
	spark_add(&sp, 100, 7);
	spark_add(&sp, 900, 7);
	sbuf_init(&b, 4096);
	spark_svg(&b, &sp, 100, 20, NAN, NAN, "ok", "flat");
	s = sbuf_take(&b);
	ck_assert_ptr_nonnull(strstr(s, " 10.0 "));
	ck_assert_ptr_null(strstr(s, "nan"));
	free(s);
}
END_TEST

Suite *
page_suite(void)
{
	Suite *s = suite_create("page");
	TCase *tc = tcase_create("page");

	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_spark_keeps_the_worst);
	tcase_add_test(tc, test_spark_gaps_break_the_line);
	tcase_add_test(tc, test_spark_empty_and_flat);
	suite_add_tcase(s, tc);
	return s;
}
