/* sentry: Sentry's payloads of the real shapes parse into series (empty
 * ones, gaps, a partial current bucket, and malformed ones that give a
 * clear error); the counters built from buckets count each event once;
 * 429 arithmetic (Retry-After, the reset, Date skew, backoff); Link
 * pagination; and the sentry probe's configuration errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "config/config.h"
#include "probe/sentry_api.h"
#include "suites.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---- project stats ---------------------------------------------------- */

START_TEST(test_stats_docs_sample)
{
	struct sentry_series s = { 0 };
	char err[200] = "";

	ck_assert_int_eq(sentry_parse_stats(S("[[1541455200, 1184], "
	    "[1541458800, 1410], [1541462400, 1440], [1541466000, 1682]]"),
	    &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.p[0].t, 1541455200);
	ck_assert_double_eq(s.p[0].v, 1184);
	ck_assert_int_eq(s.p[3].t, 1541466000);
	ck_assert_double_eq(s.p[3].v, 1682);
	sentry_series_clear(&s);
	ck_assert_ptr_null(s.p);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_stats_empty_and_gaps)
{
	struct sentry_series s = { 0 };
	char err[200];

	ck_assert_int_eq(sentry_parse_stats(S("[]"), &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	/* A gap (no 20) is data, not an error: the counter handles it. */
	ck_assert_int_eq(sentry_parse_stats(S("[[0,1],[10,2],[30,4]]"), &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.p[2].t, 30);
	sentry_series_clear(&s);
}
END_TEST

/* Each malformed body fails with a sentence naming what was expected. */
START_TEST(test_stats_malformed)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
		{ "{\"detail\": \"x\"}", "expected an array of [timestamp, "
		  "count] pairs, got an object" },
		{ "[[1, 2], [3, 4]", "not valid JSON (error at byte" },
		{ "", "empty body" },
		{ "[[1, 2, 3]]", "item 0 is not a [timestamp, count] pair" },
		{ "[[1, \"2\"]]", "item 0 is not a [timestamp, count] pair" },
		{ "[[10, 1], 7]", "item 1 is not a [timestamp, count] pair" },
		{ "[[1.5, 2]]", "item 0: 1.5 is not a bucket time" },
		{ "[[-10, 2]]", "is not a bucket time" },
		{ "[[10, -1]]", "count -1 is not a number of events" },
		{ "[[20, 1], [10, 1]]", "item 1: bucket times do not increase" },
		{ "[[10, 1], [10, 1]]", "bucket times do not increase" },
		{ "\"You are attempting to use this endpoint too frequently\"",
		  "got a string" },
		{ "null", "got null" },
	};
	struct sentry_series s = { 0 };
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(sentry_parse_stats(cases[i].body,
		    strlen(cases[i].body), &s, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i].want) != NULL,
		    "case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
		ck_assert_msg(strncmp(err, "project stats: ", 15) == 0,
		    "case %zu: %s", i, err);
		ck_assert_ptr_null(s.p);
	}
}
END_TEST

START_TEST(test_stats_too_many_buckets)
{
	size_t n = SENTRY_MAX_POINTS + 1, len = 0, cap = n * 24 + 8;
	char *body = malloc(cap), err[200];
	struct sentry_series s = { 0 };

	ck_assert_ptr_nonnull(body);
	len += (size_t)snprintf(body, cap, "[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s[%zu,1]",
		    i ? "," : "", i * 10);
	len += (size_t)snprintf(body + len, cap - len, "]");
	ck_assert_int_eq(sentry_parse_stats(body, len, &s, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "more than the"));
	free(body);
}
END_TEST

/* ---- counters from buckets ------------------------------------------- */

static void
series_of(struct sentry_series *s, const char *body)
{
	char err[200];

	ck_assert_msg(sentry_parse_stats(body, strlen(body), s, err,
	    sizeof(err)) == 0, "%s", err);
}

/*
 * The current bucket is partial: it grows poll after poll. Its growth is
 * counted as it comes, never read as a drop; a finished bucket that
 * gets a late event still counts it; a smaller count is not a negative.
 */
START_TEST(test_counter_partial_bucket)
{
	struct sentry_counter c = { 0 };
	struct sentry_series s = { 0 };

	series_of(&s, "[[100,5],[110,3]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 115, 100), 0);
	ck_assert_double_eq(c.total, 0);	/* the baseline */
	series_of(&s, "[[100,5],[110,7],[120,2]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 122, 100), 6);
	series_of(&s, "[[100,5],[110,7],[120,2]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 123, 100), 0);
	/* A late event lands in the finished bucket 110. */
	series_of(&s, "[[110,8],[120,4],[130,0]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 131, 110), 3);
	/* A bucket read smaller (eventual consistency) adds nothing. */
	series_of(&s, "[[110,6],[120,4],[130,1]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 132, 110), 1);
	ck_assert_double_eq(c.total, 10);
	sentry_series_clear(&s);
	sentry_counter_clear(&c);
	ck_assert_ptr_null(c.w);
}
END_TEST

/*
 * A bucket missing from the first answer that shows up later was there
 * before counting began: baseline, not news. One missing from a later
 * answer simply waits; its growth counts when it returns.
 */
START_TEST(test_counter_gaps)
{
	struct sentry_counter c = { 0 };
	struct sentry_series s = { 0 };

	series_of(&s, "[[100,5],[120,1]]");	/* 110 missing */
	sentry_counter_apply(&c, &s, 125, 100);
	series_of(&s, "[[100,5],[110,40],[120,1],[130,2]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 131, 100), 2);
	series_of(&s, "[[100,5],[110,40],[130,2]]");	/* 120 missing */
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 132, 100), 0);
	series_of(&s, "[[120,3],[130,2],[140,1]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 141, 120), 3);
	ck_assert_double_eq(c.total, 5);
	series_of(&s, "[]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 150, 140), 0);
	/* Forgotten: buckets before keep_from. */
	ck_assert_uint_eq(c.n, 1);
	sentry_series_clear(&s);
	sentry_counter_clear(&c);
}
END_TEST

START_TEST(test_counter_first_poll_empty)
{
	struct sentry_counter c = { 0 };
	struct sentry_series s = { 0 };

	series_of(&s, "[]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 100, 50), 0);
	ck_assert(c.started);
	/* A bucket that began before the first poll's end: baseline. */
	series_of(&s, "[[90,7],[110,2]]");
	ck_assert_double_eq(sentry_counter_apply(&c, &s, 115, 50), 2);
	sentry_series_clear(&s);
	sentry_counter_clear(&c);
}
END_TEST

/* ---- stats_v2 ---------------------------------------------------------- */

/* Sentry's own test answer (protocols.md 1.2), no groupBy=outcome. */
START_TEST(test_outcomes_docs_sample_needs_outcome)
{
	static const char body[] =
	    "{\"start\": \"2021-03-13T12:00:00Z\", \"end\": "
	    "\"2021-03-14T18:00:00Z\", \"intervals\": [\"2021-03-13T12:00:00Z\","
	    " \"2021-03-13T18:00:00Z\", \"2021-03-14T00:00:00Z\", "
	    "\"2021-03-14T06:00:00Z\", \"2021-03-14T12:00:00Z\"], \"groups\": "
	    "[{\"by\": {}, \"series\": {\"sum(quantity)\": [0, 0, 0, 6, 0]}, "
	    "\"totals\": {\"sum(quantity)\": 6}}]}";
	struct sentry_outcomes o;
	char err[200];

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sentry_parse_outcomes(body, strlen(body),
	    "sum(quantity)", &o, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "stats_v2: group 0 has no \"by\".\"outcome\" "
	    "(the request asks groupBy=outcome)");
}
END_TEST

START_TEST(test_outcomes_grouped)
{
	static const char body[] =
	    "{\"start\": \"2021-03-14T10:00:00Z\", \"end\": "
	    "\"2021-03-14T13:00:00Z\", \"intervals\": [\"2021-03-14T10:00:00Z\","
	    " \"2021-03-14T11:00:00Z\", \"2021-03-14T12:00:00Z\"], \"groups\": ["
	    "{\"by\": {\"outcome\": \"accepted\"}, \"totals\": {\"sum(quantity)\":"
	    " 9}, \"series\": {\"sum(quantity)\": [1, 6, 2]}},"
	    "{\"by\": {\"category\": \"error\", \"outcome\": \"filtered\", "
	    "\"reason\": \"browser-extensions\"}, \"series\": "
	    "{\"sum(quantity)\": [0, 1, 0]}},"
	    "{\"by\": {\"outcome\": \"filtered\", \"reason\": \"localhost\"}, "
	    "\"series\": {\"sum(quantity)\": [0, 2, 1]}},"
	    "{\"by\": {\"outcome\": \"some_new_outcome\"}, \"series\": "
	    "{\"sum(quantity)\": [5, 5, 5]}}]}";
	struct sentry_outcomes o;
	char err[200];

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sentry_parse_outcomes(body, strlen(body),
	    "sum(quantity)", &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.s[SENTRY_OC_ACCEPTED].n, 3);
	ck_assert_int_eq(o.s[SENTRY_OC_ACCEPTED].p[0].t, 1615716000);
	ck_assert_double_eq(o.s[SENTRY_OC_ACCEPTED].p[1].v, 6);
	/* Two groups of one outcome (split by reason) add up. */
	ck_assert_double_eq(o.s[SENTRY_OC_FILTERED].p[1].v, 3);
	ck_assert_double_eq(o.s[SENTRY_OC_FILTERED].p[2].v, 1);
	/* No group: zeros over the same intervals. */
	ck_assert_uint_eq(o.s[SENTRY_OC_RATE_LIMITED].n, 3);
	ck_assert_double_eq(o.s[SENTRY_OC_RATE_LIMITED].p[2].v, 0);
	ck_assert_uint_eq(o.unknown, 1);
	ck_assert_str_eq(sentry_outcome_name(SENTRY_OC_CLIENT_DISCARD),
	    "client_discard");
	sentry_outcomes_clear(&o);
}
END_TEST

START_TEST(test_outcomes_empty_and_malformed)
{
	static const struct {
		const char *body, *want;
	} bad[] = {
		{ "[]", "expected an object with \"intervals\" and \"groups\"" },
		{ "{\"groups\": []}", "expected \"intervals\": an array" },
		{ "{\"intervals\": [\"yesterday\"], \"groups\": []}",
		  "interval 0 is not an ISO-8601 UTC time" },
		{ "{\"intervals\": [\"2021-03-14T11:00:00Z\", "
		  "\"2021-03-14T10:00:00Z\"], \"groups\": []}",
		  "interval 1: times do not increase" },
		{ "{\"intervals\": [\"2021-03-14T10:00:00Z\"]}",
		  "expected \"groups\": an array" },
		{ "{\"intervals\": [\"2021-03-14T10:00:00Z\"], \"groups\": "
		  "[{\"by\": {\"outcome\": \"accepted\"}, \"series\": "
		  "{\"sum(quantity)\": [1, 2]}}]}", "group 0 has 2 values for 1 "
		  "intervals" },
		{ "{\"intervals\": [\"2021-03-14T10:00:00Z\"], \"groups\": "
		  "[{\"by\": {\"outcome\": \"accepted\"}, \"series\": "
		  "{\"sum(times_seen)\": [1]}}]}", "group 0 (accepted) has no "
		  "\"series\".\"sum(quantity)\" array" },
		{ "{\"intervals\": [\"2021-03-14T10:00:00Z\"], \"groups\": "
		  "[{\"by\": {\"outcome\": \"accepted\"}, \"series\": "
		  "{\"sum(quantity)\": [null]}}]}", "value 0 is not a number" },
		{ "{\"intervals\": [", "not valid JSON" },
	};
	struct sentry_outcomes o;
	char err[200];

	memset(&o, 0, sizeof(o));
	/* No data in the window: Sentry sends no groups at all. */
	ck_assert_int_eq(sentry_parse_outcomes(S("{\"start\": "
	    "\"2021-03-14T10:00:00Z\", \"end\": \"2021-03-14T12:00:00Z\", "
	    "\"intervals\": [\"2021-03-14T10:00:00Z\", \"2021-03-14T11:00:00Z\"]"
	    ", \"groups\": []}"), "sum(quantity)", &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.s[SENTRY_OC_ACCEPTED].n, 2);
	ck_assert_double_eq(o.s[SENTRY_OC_ACCEPTED].p[1].v, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(sentry_parse_outcomes(bad[i].body,
		    strlen(bad[i].body), "sum(quantity)", &o, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i].want) != NULL,
		    "case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
		ck_assert_ptr_null(o.s[0].p);
	}
}
END_TEST

/* ---- project details, issues, errors --------------------------------- */

START_TEST(test_project_and_issues)
{
	char id[24], err[200];
	size_t n = 99;

	ck_assert_int_eq(sentry_parse_project_id(S("{\"id\": \"4501234\", "
	    "\"slug\": \"portal\", \"organization\": {\"id\": \"1\"}}"), id,
	    sizeof(id), err, sizeof(err)), 0);
	ck_assert_str_eq(id, "4501234");
	ck_assert_int_eq(sentry_parse_project_id(S("{\"id\": 42}"), id,
	    sizeof(id), err, sizeof(err)), 0);
	ck_assert_str_eq(id, "42");
	ck_assert_int_eq(sentry_parse_project_id(S("{\"id\": \"12; DROP\"}"),
	    id, sizeof(id), err, sizeof(err)), -1);
	ck_assert_int_eq(sentry_parse_project_id(S("{\"slug\": \"portal\"}"),
	    id, sizeof(id), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "project: expected an object with a numeric "
	    "\"id\", got an object without one");
	ck_assert_int_eq(sentry_parse_issue_page(S("[{\"id\": \"1\", \"count\":"
	    " \"12\"}, {\"id\": \"2\", \"count\": \"1\"}]"), &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(sentry_parse_issue_page(S("[]"), &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(sentry_parse_issue_page(S("{\"detail\": \"no\"}"), &n,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "issues: expected an array of issues, got an "
	    "object");
}
END_TEST

/* Discover's count: one row; no row is 0; anything else is said. */
START_TEST(test_event_count)
{
	char err[200];
	double n = -1;

	ck_assert_int_eq(sentry_parse_event_count(S("{\"data\": [{\"count()\": "
	    "42}], \"meta\": {\"fields\": {\"count()\": \"integer\"}}}"), &n, err,
	    sizeof(err)), 0);
	ck_assert_double_eq(n, 42);
	ck_assert_int_eq(sentry_parse_event_count(S("{\"data\": []}"), &n, err,
	    sizeof(err)), 0);
	ck_assert_double_eq(n, 0);
	ck_assert_int_eq(sentry_parse_event_count(S("{\"data\": [{\"count()\": "
	    "\"42\"}]}"), &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "events: expected one row with a whole "
	    "\"count()\" >= 0, got 1 row(s) without a number \"count()\"");
	ck_assert_int_eq(sentry_parse_event_count(S("{\"data\": [{\"count()\": "
	    "-1}]}"), &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "events: expected one row with a whole "
	    "\"count()\" >= 0, got 1 row(s) with a count out of range");
	ck_assert_int_eq(sentry_parse_event_count(S("[1]"), &n, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "events: expected an object with a \"data\" "
	    "array, got an array");
	ck_assert_double_eq(n, 0);
}
END_TEST

START_TEST(test_error_text)
{
	char out[40];

	sentry_error_text(S("{\"detail\": \"Invalid token\"}"), out,
	    sizeof(out));
	ck_assert_str_eq(out, "Invalid token");
	/* A 429's body is a bare JSON string. */
	sentry_error_text(S("\"Limit is 5 requests in 1 seconds\""), out,
	    sizeof(out));
	ck_assert_str_eq(out, "Limit is 5 requests in 1 seconds");
	sentry_error_text(S("\"You are attempting to use this endpoint too "
	    "frequently.\""), out, sizeof(out));
	ck_assert_str_eq(out, "You are attempting to use this endpo...");
	sentry_error_text(S("\"a\\nb\\u00e9\""), out, sizeof(out));
	ck_assert_str_eq(out, "a b??");
	/* Sentry's timeout text, newlines at both ends. */
	sentry_error_text(S("{\"detail\": \"\\nQuery timeout. Please\\n\"}"),
	    out, sizeof(out));
	ck_assert_str_eq(out, "Query timeout. Please");
	sentry_error_text(S("<html>502 Bad Gateway</html>"), out, sizeof(out));
	ck_assert_str_eq(out, "");
	sentry_error_text(S("{\"error\": \"x\"}"), out, sizeof(out));
	ck_assert_str_eq(out, "");
	sentry_error_text(NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

/* ---- headers and the 429 arithmetic ------------------------------------ */

static void
hline(struct sentry_headers *h, const char *line)
{
	sentry_headers_line(h, line, strlen(line));
}

START_TEST(test_headers)
{
	struct sentry_headers h;

	sentry_headers_reset(&h);
	hline(&h, "HTTP/1.1 429 Too Many Requests\r\n");
	hline(&h, "x-sentry-rate-limit-limit: 5\r\n");
	hline(&h, "X-Sentry-Rate-Limit-Remaining: 0\r\n");
	hline(&h, "X-Sentry-Rate-Limit-Reset:   1732000030  \r\n");
	hline(&h, "X-Sentry-Rate-Limit-ConcurrentRemaining: 24\r\n");
	hline(&h, "Date: Tue, 19 Nov 2024 07:07:00 GMT\r\n");
	hline(&h, "X-Hits: 57\r\n");
	hline(&h, "X-Max-Hits: 1000\r\n");
	hline(&h, "X-Sentry-Rate-Limit-Limit-Extra: 9\r\n");
	hline(&h, "Retry-After: soon\r\n");	/* unreadable: absent */
	hline(&h, "\r\n");
	ck_assert(h.has_limit && h.limit == 5);
	ck_assert(h.has_remaining && h.remaining == 0);
	ck_assert(h.has_reset && h.reset_s == 1732000030);
	ck_assert(h.has_concurrent && h.concurrent_remaining == 24);
	ck_assert(h.has_date && h.date_s == 1732000020);
	ck_assert(h.has_hits && h.hits == 57);
	ck_assert(h.has_max_hits && h.max_hits == 1000);
	ck_assert(!h.has_retry_after);
	ck_assert_str_eq(h.link, "");
	hline(&h, "Retry-After: 120\r\n");
	ck_assert(h.has_retry_after && !h.retry_after_is_date &&
	    h.retry_after_s == 120);
	hline(&h, "Retry-After: Tue, 19 Nov 2024 07:08:00 GMT\r\n");
	ck_assert(h.has_retry_after && h.retry_after_is_date &&
	    h.retry_after_s == 1732000080);
	hline(&h, "X-Sentry-Rate-Limit-Remaining: -1\r\n");	/* kept */
	ck_assert_int_eq(h.remaining, 0);
	/* A new response (a retry on the same handle) starts afresh. */
	hline(&h, "HTTP/1.1 200 OK\r\n");
	ck_assert(!h.has_reset && !h.has_hits && !h.has_date);
	ck_assert_int_eq(sentry_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
	    784111777);
	ck_assert_int_eq(sentry_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
	    -1);
}
END_TEST

#define NOW_MS 1732000020500LL	/* 07:07:00.5 */

/* Sentry sends no Retry-After: wait until the reset. */
START_TEST(test_retry_at_reset)
{
	struct sentry_headers h;
	enum sentry_wait why;

	sentry_headers_reset(&h);
	hline(&h, "X-Sentry-Rate-Limit-Reset: 1732000050\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    1732000050000LL);
	ck_assert_int_eq(why, SENTRY_WAIT_RESET);
	/* Our clock agrees with Date (within its grain): the reset as is. */
	hline(&h, "Date: Tue, 19 Nov 2024 07:07:00 GMT\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    1732000050000LL);
	ck_assert_int_eq(sentry_reset_ms(&h, NOW_MS), 1732000050000LL);
	/* Ours is 100 s ahead: the 30 s the server meant, in our clock. */
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS + 100000, 1, 1000, 300000,
	    &why), NOW_MS + 100000 + 30000);
	/* A reset already past (or now): still at least a second. */
	sentry_headers_reset(&h);
	hline(&h, "X-Sentry-Rate-Limit-Reset: 1732000000\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    NOW_MS + 1000);
	/* A garbled reset years ahead waits an hour, not years. */
	sentry_headers_reset(&h);
	hline(&h, "X-Sentry-Rate-Limit-Reset: 99999999999\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    NOW_MS + SENTRY_MAX_WAIT_MS);
	ck_assert_int_eq(sentry_reset_ms(&(struct sentry_headers){ 0 },
	    NOW_MS), -1);
}
END_TEST

/* A proxy's Retry-After wins over the reset. */
START_TEST(test_retry_at_retry_after)
{
	struct sentry_headers h;
	enum sentry_wait why;

	sentry_headers_reset(&h);
	hline(&h, "X-Sentry-Rate-Limit-Reset: 1732000050\r\n");
	hline(&h, "Retry-After: 5\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    NOW_MS + 5000);
	ck_assert_int_eq(why, SENTRY_WAIT_RETRY_AFTER);
	/* An HTTP-date, read against the answer's Date. */
	sentry_headers_reset(&h);
	hline(&h, "Date: Tue, 19 Nov 2024 07:07:00 GMT\r\n");
	hline(&h, "Retry-After: Tue, 19 Nov 2024 07:08:00 GMT\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    NOW_MS + 60000);
	/* Without Date, against our clock. */
	sentry_headers_reset(&h);
	hline(&h, "Retry-After: Tue, 19 Nov 2024 07:08:00 GMT\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    1732000080000LL);
	sentry_headers_reset(&h);
	hline(&h, "Retry-After: 0\r\n");
	ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, 1, 1000, 300000, &why),
	    NOW_MS + 1000);
}
END_TEST

/* Self-hosted Sentry sends no rate-limit headers: exponential backoff. */
START_TEST(test_retry_at_backoff)
{
	struct sentry_headers h;
	enum sentry_wait why;
	const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000,
	    60000 };

	sentry_headers_reset(&h);
	for (unsigned n = 1; n <= 8; n++) {
		ck_assert_int_eq(sentry_retry_at(&h, NOW_MS, n, 1000, 60000,
		    &why), NOW_MS + want[n - 1]);
		ck_assert_int_eq(why, SENTRY_WAIT_BACKOFF);
	}
	ck_assert_int_eq(sentry_backoff_ms(1, 250, 1000), 250);
	ck_assert_int_eq(sentry_backoff_ms(3, 250, 1000), 1000);
	ck_assert_int_eq(sentry_backoff_ms(4000000000u, 1000, 300000), 300000);
	ck_assert_int_eq(sentry_backoff_ms(0, 1000, 300000), 1000);
}
END_TEST

START_TEST(test_link_next)
{
	char url[256];

	/* protocols.md 1.4, Sentry's own example. */
	ck_assert(sentry_link_next("<https://sentry.io/api/0/organizations/acme"
	    "/issues/123456/events/?&cursor=0:0:1>; rel=\"previous\"; "
	    "results=\"false\"; cursor=\"0:0:1\", <https://sentry.io/api/0/"
	    "organizations/acme/issues/123456/events/?&cursor=0:100:0>; "
	    "rel=\"next\"; results=\"true\"; cursor=\"0:100:0\"", url,
	    sizeof(url)));
	ck_assert_str_eq(url, "https://sentry.io/api/0/organizations/acme/"
	    "issues/123456/events/?&cursor=0:100:0");
	/* Both links are always there; results says if a page is. */
	ck_assert(!sentry_link_next("<https://x/?cursor=0:0:1>; rel=\"previous\""
	    "; results=\"false\"; cursor=\"0:0:1\", <https://x/?cursor=0:100:0>"
	    "; rel=\"next\"; results=\"false\"; cursor=\"0:100:0\"", url,
	    sizeof(url)));
	ck_assert(!sentry_link_next("", url, sizeof(url)));
	ck_assert(!sentry_link_next("garbage", url, sizeof(url)));
	ck_assert(!sentry_link_next("<https://x/?a", url, sizeof(url)));
	ck_assert(!sentry_link_next("<https://x/very/long/url>; rel=\"next\"; "
	    "results=\"true\"", url, 8));
	ck_assert(sentry_link_next("<https://x/n>;rel=next;results=true", url,
	    sizeof(url)));
	ck_assert_str_eq(url, "https://x/n");
}
END_TEST

/* A Link past 2,047 bytes is kept; one too long for vigild is said. */
START_TEST(test_link_long)
{
	static struct sentry_headers h;
	static char line[10000], url[sizeof(h.link)];
	size_t n;

	sentry_headers_reset(&h);
	n = (size_t)snprintf(line, sizeof(line), "Link: <https://s/?q=");
	memset(line + n, 'a', 3000);
	n += 3000;
	snprintf(line + n, sizeof(line) - n, ">; rel=\"next\"; "
	    "results=\"true\"; cursor=\"0:100:0\"\r\n");
	hline(&h, line);
	ck_assert(!h.link_too_long);
	ck_assert(sentry_link_next(h.link, url, sizeof(url)));
	ck_assert_uint_eq(strlen(url), 3000 + strlen("https://s/?q="));
	sentry_headers_reset(&h);
	n = (size_t)snprintf(line, sizeof(line), "Link: <https://s/?q=");
	memset(line + n, 'a', 9000);
	snprintf(line + n + 9000, sizeof(line) - n - 9000, ">\r\n");
	hline(&h, line);
	ck_assert(h.link_too_long);
	ck_assert_str_eq(h.link, "");
}
END_TEST

START_TEST(test_iso_time)
{
	ck_assert_int_eq(sentry_iso_time("2021-03-14T12:00:00Z"), 1615723200);
	ck_assert_int_eq(sentry_iso_time("2021-03-14T12:00:00.250Z"),
	    1615723200);
	ck_assert_int_eq(sentry_iso_time("2021-03-14T12:00:00+00:00"),
	    1615723200);
	ck_assert_int_eq(sentry_iso_time("2021-03-14T12:00:00+02:00"), -1);
	ck_assert_int_eq(sentry_iso_time("2021-03-14"), -1);
	ck_assert_int_eq(sentry_iso_time("2021-03-14T12:00:00.Z"), -1);
}
END_TEST

/* ---- configuration ------------------------------------------------------ */

static struct config *
parse(const char *text, struct config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return config_parse("t.json", text, strlen(text), errs);
}

/* text fails with an error at line:col containing want. */
static void
expect_error(const char *text, int line, int col, const char *want)
{
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	char buf[512];
	bool found = false;

	ck_assert_ptr_null(cfg);
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].line == line && errs.v[i].col == col &&
		    strstr(errs.v[i].msg, want) != NULL)
			found = true;
	if (!found) {
		buf[0] = '\0';
		for (size_t i = 0; i < errs.n; i++)
			config_error_format(&errs, i, "t.json",
			    buf + strlen(buf), sizeof(buf) - strlen(buf));
		ck_abort_msg("wanted %d:%d \"%s\", got: %s", line, col, want,
		    buf);
	}
	config_errors_clear(&errs);
}

#define HDR "{\"probes\": [{\"name\": \"s\", \"type\": \"sentry\",\n"
#define OK_KEYS "\"organization\": \"acme\", \"project\": \"portal\",\n" \
    "\"token_file\": \"/run/credentials/vigil.service/t\""

/* release.by_release names a sentry probe, which then counts by release. */
START_TEST(test_config_by_release)
{
	struct config_errors errs;
	struct config *cfg = parse(HDR OK_KEYS "}],\n\"release\": {\"by_release\""
	    ": {\"probe\": \"s\", \"min_errors\": 30}}}", &errs);
	const struct probe_cfg *pc;

	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	pc = config_probe(cfg, "s");
	ck_assert(pc->sentry.release_errors);
	ck_assert(cfg->release.by_release.on);
	ck_assert_uint_eq(cfg->release.by_release.min_errors, 30);
	ck_assert_double_eq(cfg->release.by_release.max_increase_pct, 10);
	ck_assert_double_eq(cfg->release.by_release.confidence, 0.98);
	ck_assert(cfg_sentry_has_metric(pc, "release_errors"));
	ck_assert(cfg_sentry_has_metric(pc, "release_all_errors"));
	config_free(cfg);
	cfg = parse(HDR OK_KEYS "}]}", &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert(!config_probe(cfg, "s")->sentry.release_errors);
	ck_assert(!cfg_sentry_has_metric(config_probe(cfg, "s"),
	    "release_errors"));
	config_free(cfg);
	expect_error(HDR OK_KEYS "}],\n\"release\": {\"by_release\": "
	    "{\"probe\": \"x\"}}}", 4, 37, "no probe named \"x\"");
	expect_error(HDR OK_KEYS "}, {\"name\": \"h\", \"type\": \"http\", "
	    "\"url\": \"http://h/\"}],\n\"release\": {\"by_release\": "
	    "{\"probe\": \"h\"}}}", 4, 37, "not a sentry probe");
	expect_error(HDR OK_KEYS "}],\n\"release\": {\"by_release\": "
	    "{\"min_errors\": 0}}}", 4, 27, "needs the \"probe\"");
}
END_TEST

START_TEST(test_config_valid)
{
	struct config_errors errs;
	struct config *cfg = parse(HDR "\"interval\": \"90s\",\n"
	    "\"base_url\": \"https://u:pw@sentry.example.com/api/0\",\n"
	    OK_KEYS ", \"outcomes\": true, \"resolution\": \"1h\"}],\n"
	    "\"rules\": [{\"name\": \"r\", \"ratio\": {\"numerator\": "
	    "\"s.events_total\", \"denominator\": \"s.outcome_filtered_total\"},"
	    " \"aggregate\": \"delta\", \"window\": \"5m\", \"op\": \">\", "
	    "\"warn\": 1}]}", &errs);
	const struct probe_cfg *pc;

	ck_assert_msg(cfg != NULL, "%zu errors, first: %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	pc = config_probe(cfg, "s");
	ck_assert_int_eq(pc->type, PROBE_SENTRY);
	ck_assert_str_eq(probe_type_name(pc->type), "sentry");
	/* The API root gets its slash; the password in it is not shown. */
	ck_assert_str_eq(pc->sentry.base_url,
	    "https://u:pw@sentry.example.com/api/0/");
	ck_assert_str_eq(pc->target,
	    "https://u:***@sentry.example.com/api/0/ acme/portal");
	ck_assert_str_eq(pc->sentry.token_file,
	    "/run/credentials/vigil.service/t");
	ck_assert_ptr_null(pc->sentry.token_env);
	ck_assert(pc->sentry.project_stats && pc->sentry.issues &&
	    pc->sentry.outcomes);
	ck_assert_int_eq(pc->sentry.resolution_ms, 3600000);
	ck_assert_int_eq(pc->sentry.outcomes_interval_ms, 3600000);
	/* The search syntax counts minutes: 90 s rounds up to 2 m. */
	ck_assert_int_eq(pc->sentry.issues_window_ms, 120000);
	ck_assert_str_eq(pc->sentry.query, "is:unresolved");
	ck_assert_int_eq(pc->sentry.backoff_max_ms, 300000);
	/* Late events for 15 minutes; issues of Sentry's 90 days. */
	ck_assert_int_eq(pc->sentry.late_window_ms, 900000);
	ck_assert_int_eq(pc->sentry.issues_period_ms, 90LL * 86400000);
	ck_assert_uint_eq(pc->sentry.naliases, 0);
	ck_assert(cfg_sentry_has_metric(pc, "outcome_rate_limited"));
	ck_assert(cfg_sentry_has_metric(pc, "outcome_accepted_total"));
	ck_assert(!cfg_sentry_has_metric(pc, "outcome_bogus_total"));
	ck_assert(!cfg_sentry_has_metric(pc, "outcome_"));
	ck_assert(cfg_sentry_has_metric(pc, "new_issues"));
	ck_assert(cfg_sentry_has_metric(pc, "rate_limit_remaining"));
	ck_assert(!cfg_sentry_has_metric(pc, "errors_total"));
	config_free(cfg);

	cfg = parse(HDR "\"organization\": \"acme\", \"project\": \"p\", "
	    "\"token_env\": \"SENTRY_TOKEN\", \"issues\": false, "
	    "\"late_window\": \"1h\", \"issues_period\": \"14d\", "
	    "\"base_url_aliases\": [\"https://de.sentry.io/api/0/\", "
	    "\"http://sentry.internal:9000\"]}]}", &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	pc = config_probe(cfg, "s");
	ck_assert_str_eq(pc->sentry.base_url, "https://sentry.io/api/0/");
	ck_assert_str_eq(pc->sentry.token_env, "SENTRY_TOKEN");
	ck_assert_str_eq(pc->target, "https://sentry.io/api/0/ acme/p");
	ck_assert_int_eq(pc->sentry.late_window_ms, 3600000);
	ck_assert_int_eq(pc->sentry.issues_period_ms, 14LL * 86400000);
	/* Aliases are kept as origins: where the token may go. */
	ck_assert_uint_eq(pc->sentry.naliases, 2);
	ck_assert_str_eq(pc->sentry.aliases[0], "https://de.sentry.io/");
	ck_assert_str_eq(pc->sentry.aliases[1], "http://sentry.internal:9000/");
	/* Default interval 30 s: new issues of the last minute. */
	ck_assert_int_eq(pc->sentry.issues_window_ms, 60000);
	ck_assert(!cfg_sentry_has_metric(pc, "new_issues"));
	ck_assert(!cfg_sentry_has_metric(pc, "outcome_accepted"));
	ck_assert(cfg_sentry_has_metric(pc, "events_total"));
	config_free(cfg);
}
END_TEST

START_TEST(test_config_errors)
{
	expect_error(HDR "\"project\": \"p\", \"token_env\": \"T\"}]}", 1, 13,
	    "a sentry probe needs \"organization\"");
	expect_error(HDR "\"organization\": \"acme/x\", \"project\": \"p\", "
	    "\"token_env\": \"T\"}]}", 2, 17, "\"organization\": \"acme/x\" "
	    "is not a slug");
	expect_error(HDR "\"organization\": \"a\", \"project\": \"p\"}]}",
	    1, 13, "needs \"token_file\" (a file holding the token");
	expect_error(HDR "\"organization\": \"a\", \"project\": \"p\", "
	    "\"token\": \"sntrys_abc\"}]}", 2, 38, "the token never goes in the "
	    "configuration");
	expect_error(HDR "\"organization\": \"a\", \"project\": \"p\", "
	    "\"token_file\": \"tok\"}]}", 2, 52, "must be an absolute path");
	expect_error(HDR "\"organization\": \"a\", \"project\": \"p\", "
	    "\"token_file\": \"/t\", \"token_env\": \"T\"}]}", 2, 71,
	    "\"token_file\" or \"token_env\", not both");
	expect_error(HDR "\"organization\": \"a\", \"project\": \"p\", "
	    "\"token_env\": \"1X\"}]}", 2, 51, "must name an environment "
	    "variable");
	expect_error(HDR OK_KEYS ", \"base_url\": \"ftp://sentry/\"}]}", 3, 63,
	    "\"base_url\" must be an http:// or https:// URL");
	expect_error(HDR OK_KEYS ", \"base_url\": \"https://s/api/0/?x=1\"}]}",
	    3, 63, "must not have a query");
	/* Only Sentry's rollups: anything else is its 400. */
	expect_error(HDR OK_KEYS ", \"resolution\": \"1s\"}]}", 3, 65,
	    "\"resolution\" must be \"10s\", \"1h\" or \"1d\"");
	expect_error(HDR OK_KEYS ", \"resolution\": \"1500ms\"}]}", 3, 65,
	    "\"resolution\" must be \"10s\", \"1h\" or \"1d\"");
	expect_error(HDR OK_KEYS ", \"resolution\": \"1m\"}]}", 3, 65,
	    "Sentry keeps no other rollup");
	expect_error(HDR OK_KEYS ", \"late_window\": \"90s\"}]}", 3, 66,
	    "\"late_window\" must be whole minutes");
	expect_error(HDR OK_KEYS ", \"late_window\": \"2h\"}]}", 3, 66,
	    "\"late_window\" must be at most 60 minutes at this resolution");
	expect_error(HDR OK_KEYS ", \"issues_period\": \"91d\"}]}", 3, 68,
	    "\"issues_period\" must be between 1h and 90d");
	expect_error(HDR OK_KEYS ", \"issues_period\": \"90m\"}]}", 3, 68,
	    "\"issues_period\" must be whole hours");
	expect_error(HDR OK_KEYS ", \"base_url_aliases\": \"https://x/\"}]}",
	    3, 71, "\"base_url_aliases\" must be an array");
	expect_error(HDR OK_KEYS ", \"base_url_aliases\": [\"ftp://x/\"]}]}",
	    3, 72, "\"ftp://x/\" is not an http:// or https:// URL");
	expect_error(HDR OK_KEYS ", \"issues_window\": \"90s\"}]}", 3, 68,
	    "\"issues_window\" must be whole minutes");
	expect_error(HDR OK_KEYS ", \"outcomes_interval\": \"7h\"}]}", 3, 72,
	    "must be whole hours that divide a day");
	/* stats_v2's minimum is one hour. */
	expect_error(HDR OK_KEYS ", \"outcomes_interval\": \"30m\"}]}", 3, 72,
	    "Sentry refuses any other interval");
	expect_error(HDR OK_KEYS ", \"query\": \"is:unresolved firstSeen:-1h\""
	    "}]}", 3, 60, "must not filter on firstSeen");
	expect_error(HDR OK_KEYS ", \"query\": \"a\\nb\"}]}", 3, 60,
	    "\"query\" must be one line");
	expect_error(HDR OK_KEYS ", \"project_stats\": false, \"issues\": "
	    "false}]}", 1, 13, "a sentry probe must read something");
	expect_error(HDR OK_KEYS ", \"resoluton\": \"10s\"}]}", 3, 51,
	    "unknown key \"resoluton\" in a sentry probe (did you mean "
	    "\"resolution\"?)");
	expect_error(HDR OK_KEYS ", \"backoff_max\": \"2h\"}]}", 3, 66,
	    "\"backoff_max\" must be between 1s and 1h");
	/* A rule over a metric the probe does not read is caught too. */
	expect_error(HDR OK_KEYS "}],\n\"rules\": [{\"name\": \"r\", \"metric\": "
	    "\"s.outcome_accepted\", \"op\": \">\", \"warn\": 1}]}", 4, 35,
	    "probe \"s\" has no metric \"outcome_accepted\" (vigil.json(5), "
	    "PROBES, sentry, lists them");
	/* Open-ended: types added after sentry join the list. */
	expect_error("{\"probes\": [{\"name\": \"s\", \"type\": \"sentri\"}]}",
	    1, 35, "unknown probe type \"sentri\" (expected \"http\", "
	    "\"postgres\", \"sentry\"");
}
END_TEST

Suite *
sentry_suite(void)
{
	Suite *s = suite_create("sentry");
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, test_stats_docs_sample);
	tcase_add_test(tc, test_stats_empty_and_gaps);
	tcase_add_test(tc, test_stats_malformed);
	tcase_add_test(tc, test_stats_too_many_buckets);
	tcase_add_test(tc, test_counter_partial_bucket);
	tcase_add_test(tc, test_counter_gaps);
	tcase_add_test(tc, test_counter_first_poll_empty);
	tcase_add_test(tc, test_outcomes_docs_sample_needs_outcome);
	tcase_add_test(tc, test_outcomes_grouped);
	tcase_add_test(tc, test_outcomes_empty_and_malformed);
	tcase_add_test(tc, test_project_and_issues);
	tcase_add_test(tc, test_error_text);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_retry_at_reset);
	tcase_add_test(tc, test_retry_at_retry_after);
	tcase_add_test(tc, test_retry_at_backoff);
	tcase_add_test(tc, test_link_next);
	tcase_add_test(tc, test_link_long);
	tcase_add_test(tc, test_iso_time);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_add_test(tc, test_config_valid);
	tcase_add_test(tc, test_config_by_release);
	tcase_add_test(tc, test_event_count);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	return s;
}
