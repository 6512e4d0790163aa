/*
 * page: escaping, sparklines that keep spikes and show gaps, ratios across
 * two probes, and the history's bars, charts and incidents.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "http/page.h"
#include "http/page_chart.h"
#include "http/page_history.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/store.h"
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


/* How many times needle occurs in s. */
static int
occurs(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	return n;
}

START_TEST(test_ratio_across_two_probes)
{
	struct store *st = store_new();
	struct rule_cfg rc;
	struct spark sp;

	/*
	 * errors from one probe at 0.3 s past each second, requests from
	 * another at 0.7 s: no two samples share a time. This drew "no
	 * samples in the last hour" next to the rule's live value.
	 */
	for (int k = 0; k < 30; k++) {
		store_add(st, "a.errors_total", k * 1000 + 300, k * 2.0, 100);
		store_add(st, "b.requests_total", k * 1000 + 700, k * 100.0,
		    100);
	}
	memset(&rc, 0, sizeof(rc));
	rc.numerator = (char *)"a.errors_total";
	rc.denominator = (char *)"b.requests_total";
	rc.scale = 100;
	rc.agg = AGG_DELTA;
	spark_init(&sp, 0, 30000, 2000, true);
	ck_assert(spark_rule(st, &rc, &sp));
	ck_assert(sp.any);
	/* 2 errors per 100 requests, each against the latest before it. */
	ck_assert_double_eq_tol(sp.last, 2.0, 1e-9);
	ck_assert_double_eq_tol(sp.hi, 2.0, 1e-9);
	/* Not a counter: the plain quotient. */
	rc.agg = AGG_LAST;
	spark_init(&sp, 0, 30000, 2000, true);
	spark_rule(st, &rc, &sp);
	ck_assert_double_eq_tol(sp.last, 29 * 2.0 / (28 * 100.0) * 100,
	    1e-9);
	/* A denominator gone stale gives no value, not an old one. */
	store_add(st, "a.errors_total", 40300, 80, 100);
	spark_init(&sp, 0, 50000, 2000, true);
	spark_rule(st, &rc, &sp);
	ck_assert_int_eq(sp.last_t, 29300);
	/* One probe: samples of one run pair as before. */
	rc.numerator = (char *)"b.requests_total";
	spark_init(&sp, 0, 30000, 2000, true);
	spark_rule(st, &rc, &sp);
	ck_assert_double_eq_tol(sp.last, 100, 1e-9);
	store_free(st);
}
END_TEST

START_TEST(test_gap_from_the_probe_interval)
{
	struct probe_cfg p[2];
	struct config cfg;
	struct rule_cfg rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(p, 0, sizeof(p));
	memset(&rc, 0, sizeof(rc));
	p[0].interval_ms = 10000;
	p[0].timeout_ms = 5000;
	p[1].interval_ms = 1000;
	p[1].timeout_ms = 5000;
	cfg.probes = p;
	cfg.nprobes = 2;
	rc.metric = (char *)"x.y";
	/* Two runs of a 10 s probe: an 80 s outage breaks the line. */
	ck_assert_int_eq(spark_gap_ms(&cfg, &rc), 20000);
	/* A slow run is not a gap: a run and its timeout. */
	rc.probe = 1;
	ck_assert_int_eq(spark_gap_ms(&cfg, &rc), 6000);
	/* A ratio: the slower of its two probes. */
	rc.metric = NULL;
	rc.numerator = (char *)"a";
	rc.denominator = (char *)"b";
	rc.probe2 = 0;
	ck_assert_int_eq(spark_gap_ms(&cfg, &rc), 20000);
	/* stale_after, when set, says it. */
	rc.stale_ms = 3000;
	ck_assert_int_eq(spark_gap_ms(&cfg, &rc), 3000);
}
END_TEST

/* A day of minutes: up, then down 10:00-10:05, no data 12:00-13:00. */
static size_t
day_points(struct history_point *p, int64_t from)
{
	size_t n = 0;

	for (int64_t t = from; t < from + HISTORY_DAY_MS;
	    t += HISTORY_MINUTE_MS, n++) {
		int64_t m = (t - from) / HISTORY_MINUTE_MS;

		memset(&p[n], 0, sizeof(p[n]));
		p[n].t = t;
		p[n].worst = -1;
		if (m >= 12 * 60 && m < 13 * 60)
			continue;
		p[n].has_value = true;
		if (m >= 10 * 60 && m < 10 * 60 + 5)
			p[n].failed = 6;
		else
			p[n].ok = 6;
		p[n].min = 10;
		p[n].avg = 20 + (double)(m % 7);
		p[n].max = 40;
	}
	return n;
}

START_TEST(test_chart_draws_gaps_and_outages)
{
	static struct history_point p[1440];
	int64_t from = 1764547200000LL;	/* 2025-12-01 00:00 UTC */
	size_t n = day_points(p, from);
	struct sbuf b;
	const char *gap, *down;
	char *s;

	ck_assert_int_eq(n, 1440);
	sbuf_init(&b, 1 << 20);
	chart_svg(&b, p, n, from, from + HISTORY_DAY_MS, 720, 64, "app <x>");
	s = sbuf_take(&b);
	ck_assert_ptr_nonnull(s);
	down = strstr(s, "<rect class=\"down\"");
	gap = strstr(s, "<rect class=\"gap\"");
	ck_assert_ptr_nonnull(down);
	ck_assert_ptr_nonnull(gap);
	/* One mark each, where and when they were, titled in words. */
	ck_assert_int_eq(occurs(s, "class=\"down\""), 1);
	ck_assert_int_eq(occurs(s, "class=\"gap\""), 1);
	ck_assert_ptr_nonnull(strstr(down, "x=\"300.0\""));
	ck_assert_ptr_nonnull(strstr(s, "10:00&ndash;10:05 UTC: 30 of 30 runs "
	    "failed"));
	ck_assert_ptr_nonnull(strstr(gap, "x=\"360.0\" y=\"0\" "
	    "width=\"30.0\""));
	ck_assert_ptr_nonnull(strstr(s, "12:00&ndash;13:00 UTC: no data"));
	/* The line breaks at both: three runs, so three moves per line. */
	ck_assert_int_eq(count(strstr(s, "class=\"avg\" d=\"") + 12, 'M'), 3);
	ck_assert_ptr_nonnull(strstr(s, "aria-label=\"app &lt;x&gt;\""));
	ck_assert_ptr_null(strstr(s, "nan"));
	free(s);
	/* No points at all: an empty box, never a line. */
	sbuf_init(&b, 4096);
	chart_svg(&b, p, 0, from, from + 1000, 720, 64, "none");
	s = sbuf_take(&b);
	ck_assert_ptr_null(strstr(s, "<path"));
	free(s);
}
END_TEST

START_TEST(test_days_bars)
{
	struct history_day d[3];
	int64_t today = 1764547200000LL;
	struct sbuf b;
	char *s;

	memset(d, 0, sizeof(d));
	for (int i = 0; i < 3; i++)
		d[i].t = today - (2 - i) * HISTORY_DAY_MS;
	d[0].has_data = true;
	d[0].uptime_pct = 100;
	d[0].minutes_data = 1440;
	d[0].avg_ms = 21;
	d[0].max_ms = 80;
	/* 1 minute down in 1440: 99.93, not rounded up to 100. */
	d[1].has_data = true;
	d[1].uptime_pct = 100.0 * 1439 / 1440;
	d[1].minutes_data = 1440;
	d[1].minutes_down = 1;
	d[1].avg_ms = d[1].max_ms = NAN;
	d[2].has_data = true;
	d[2].uptime_pct = 50;
	d[2].minutes_data = 600;
	d[2].minutes_down = 300;
	ck_assert_str_eq(page_day_class(&d[0]), "d-ok");
	ck_assert_str_eq(page_day_class(&d[1]), "d-ok");
	ck_assert_str_eq(page_day_class(&d[2]), "d-bad");
	ck_assert_str_eq(page_day_class(NULL), "d-none");
	sbuf_init(&b, 1 << 20);
	page_days_svg(&b, d, 3, today + 3600000, "web");
	s = sbuf_take(&b);
	/* Always 90 bars: the days before the history are empty. */
	ck_assert_int_eq(occurs(s, "<rect class=\"day "), HISTORY_DAYS);
	ck_assert_int_eq(occurs(s, "class=\"day d-none\""), HISTORY_DAYS - 3);
	ck_assert_ptr_nonnull(strstr(s, "<title>2025-11-29: 100 % up, 0 of "
	    "1440 minutes down, response avg 21 ms, max 80 ms</title>"));
	ck_assert_ptr_nonnull(strstr(s, "<title>2025-11-30: 99.93 % up, 1 of "
	    "1440 minutes down</title>"));
	/* The newest bar, rightmost, is today. */
	ck_assert_ptr_nonnull(strstr(s, "x=\"890\" y=\"0\" width=\"8\" "
	    "height=\"34\" rx=\"1.5\"><title>2025-12-01: 50.00 % up"));
	ck_assert_ptr_nonnull(strstr(s, "<title>2025-09-03: no data</title>"));
	free(s);
}
END_TEST

START_TEST(test_incidents)
{
	struct history_incident x[2];
	int64_t now = 1764547200000LL + 15 * 3600000LL;
	struct sbuf b;
	char *s;

	memset(x, 0, sizeof(x));
	snprintf(x[0].rule, sizeof(x[0].rule), "error_rate");
	snprintf(x[0].severity, sizeof(x[0].severity), "critical");
	x[0].start = now - 180000;
	x[0].peak = 4.25;
	x[0].peak_known = true;
	snprintf(x[1].rule, sizeof(x[1].rule), "<p95>");
	snprintf(x[1].severity, sizeof(x[1].severity), "warning");
	x[1].start = now - 2 * 86400000LL;
	x[1].end = x[1].start + 121000;
	x[1].peak = NAN;
	sbuf_init(&b, 65536);
	page_incidents(&b, x, 2, now);
	s = sbuf_take(&b);
	ck_assert_ptr_nonnull(strstr(s, "<li class=\"incident critical open\" "
	    "data-rule=\"error_rate\">"));
	ck_assert_ptr_nonnull(strstr(s, "fired 14:57:00 UTC, <b>still "
	    "firing</b> after 3m"));
	ck_assert_ptr_nonnull(strstr(s, "peak 4.25"));
	ck_assert_ptr_nonnull(strstr(s, "&lt;p95&gt;</b> fired 2025-11-29 "
	    "15:00:00 UTC, resolved 2025-11-29 15:02:01 UTC after 2m1s</li>"));
	free(s);
	sbuf_init(&b, 4096);
	page_incidents(&b, x, 0, now);
	s = sbuf_take(&b);
	ck_assert_ptr_nonnull(strstr(s, "No incidents"));
	free(s);
}
END_TEST

START_TEST(test_pct_is_cut_not_rounded)
{
	char buf[16];

	page_pct(99.999, buf, sizeof(buf));
	ck_assert_str_eq(buf, "99.99");
	page_pct(100, buf, sizeof(buf));
	ck_assert_str_eq(buf, "100");
	page_pct(NAN, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0.00");
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
	tcase_add_test(tc, test_ratio_across_two_probes);
	tcase_add_test(tc, test_gap_from_the_probe_interval);
	tcase_add_test(tc, test_chart_draws_gaps_and_outages);
	tcase_add_test(tc, test_days_bars);
	tcase_add_test(tc, test_incidents);
	tcase_add_test(tc, test_pct_is_cut_not_rounded);
	suite_add_tcase(s, tc);
	return s;
}
