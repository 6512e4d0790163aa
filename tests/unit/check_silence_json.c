/* silence_json: request bodies to silences, and ISO-8601 instants. */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "base/clock.h"
#include "engine/silence.h"
#include "engine/silence_json.h"
#include "suites.h"

#define NOW 1772445600000LL	/* 2026-03-02T10:00:00Z */

static int
parse(const char *body, struct silence *x, char *why)
{
	return silence_parse(body, strlen(body), NOW, x, why, 200);
}

START_TEST(test_iso)
{
	int64_t ms;

	ck_assert_int_eq(clock_parse_iso("2026-03-02T10:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, NOW);
	ck_assert_int_eq(clock_parse_iso("2026-03-02 11:30:00.250+01:30",
	    &ms), 0);
	ck_assert_int_eq(ms, NOW + 250);
	ck_assert_int_eq(clock_parse_iso("2024-02-29T00:00:00-00:00", &ms),
	    0);
	ck_assert_int_eq(ms, 1709164800000LL);
	ck_assert_int_eq(clock_parse_iso("1970-01-01T00:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 0);
	/* No zone, no date, impossible dates, trailing junk: refused. */
	ck_assert_int_eq(clock_parse_iso("2026-03-02T10:00:00", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("10:00:00Z", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("2025-02-29T00:00:00Z", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("2026-13-01T00:00:00Z", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("2026-03-02T24:00:00Z", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("2026-03-02T10:00:00Zx", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("2026-03-02T10:00:00.Z", &ms), -1);
	ck_assert_int_eq(clock_parse_iso("", &ms), -1);
}
END_TEST

START_TEST(test_rule_and_duration)
{
	struct silence x;
	char why[200];

	ck_assert_int_eq(parse("{\"rule\": \"api_p95\", \"author\": \"ana\", "
	    "\"comment\": \"deploy 4.2\", \"duration\": \"2h\"}", &x, why), 0);
	ck_assert_str_eq(x.rule, "api_p95");
	ck_assert_str_eq(x.author, "ana");
	ck_assert_str_eq(x.comment, "deploy 4.2");
	ck_assert_int_eq(x.nmatchers, 0);
	ck_assert_int_eq(x.expires, NOW + 2 * 3600000LL);
}
END_TEST

START_TEST(test_matchers_and_expiry_forms)
{
	struct silence x;
	char why[200];

	ck_assert_int_eq(parse("{\"matchers\": {\"team\": \"web\", \"tier\": "
	    "\"db\"}, \"author\": \"bo\", \"comment\": \"c\", \"expires_at\": "
	    "\"2026-03-02T12:00:00Z\"}", &x, why), 0);
	ck_assert_str_eq(x.rule, "");
	ck_assert_int_eq(x.nmatchers, 2);
	ck_assert_str_eq(x.matchers[0].key, "team");
	ck_assert_str_eq(x.matchers[1].value, "db");
	ck_assert_int_eq(x.expires, NOW + 2 * 3600000LL);
	ck_assert_int_eq(parse("{\"rule\": \"r\", \"author\": \"bo\", "
	    "\"comment\": \"c\", \"expires_at\": 1772449200}", &x, why), 0);
	ck_assert_int_eq(x.expires, NOW + 3600000LL);
}
END_TEST

static void
refused(const char *body, const char *needle)
{
	struct silence x;
	char why[200] = "";

	ck_assert_msg(parse(body, &x, why) == -1, "accepted: %s", body);
	ck_assert_msg(strstr(why, needle) != NULL, "%s: \"%s\" lacks \"%s\"",
	    body, why, needle);
}

START_TEST(test_refusals)
{
	refused("[]", "JSON object");
	refused("{not json", "JSON object");
	refused("{\"rule\": \"r\", \"author\": \"a\", \"comment\": \"c\"}",
	    "every silence ends");
	refused("{\"rule\": \"r\", \"author\": \"a\", \"comment\": \"c\", "
	    "\"duration\": \"1h\", \"expires_at\": 5}", "exactly one");
	refused("{\"rule\": \"r\", \"author\": \"a\", \"comment\": \"c\", "
	    "\"duration\": \"90\"}", "duration");
	refused("{\"rule\": \"r\", \"author\": \"a\", \"comment\": \"c\", "
	    "\"expires_at\": \"tomorrow\"}", "ISO-8601");
	refused("{\"rule\": \"r\", \"author\": \"a\", \"coment\": \"c\", "
	    "\"duration\": \"1h\"}", "unknown key \"coment\"");
	refused("{\"rule\": 3, \"author\": \"a\", \"comment\": \"c\", "
	    "\"duration\": \"1h\"}", "rule name");
	refused("{\"matchers\": {}, \"author\": \"a\", \"comment\": \"c\", "
	    "\"duration\": \"1h\"}", "every rule");
	refused("{\"matchers\": {\"a\": 1}, \"author\": \"a\", \"comment\": "
	    "\"c\", \"duration\": \"1h\"}", "must be a string");
	refused("{\"rule\": \"r\", \"author\": \"a\\nb\", \"comment\": \"c\", "
	    "\"duration\": \"1h\"}", "one line");
	{
		char body[600], comment[300];

		memset(comment, 'x', sizeof(comment) - 1);
		comment[sizeof(comment) - 1] = '\0';
		snprintf(body, sizeof(body), "{\"rule\": \"r\", \"author\": "
		    "\"a\", \"comment\": \"%s\", \"duration\": \"1h\"}",
		    comment);
		refused(body, "longer than");
	}
}
END_TEST

START_TEST(test_round_trip_json)
{
	struct silence x;
	char why[200], *s;
	cJSON *o;

	ck_assert_int_eq(parse("{\"matchers\": {\"team\": \"web\"}, "
	    "\"author\": \"ana\", \"comment\": \"c\", \"duration\": \"30m\"}",
	    &x, why), 0);
	x.id = 7;
	x.created = NOW;
	o = silence_json(&x, NOW + 60000);
	s = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(s, "{\"id\":7,\"matchers\":{\"team\":\"web\"},"
	    "\"author\":\"ana\",\"comment\":\"c\",\"created\":"
	    "\"2026-03-02T10:00:00.000Z\",\"expires_at\":"
	    "\"2026-03-02T10:30:00.000Z\",\"expires_in_s\":1740}");
	cJSON_free(s);
	cJSON_Delete(o);
}
END_TEST

Suite *
silence_json_suite(void)
{
	Suite *s = suite_create("silence_json");
	TCase *tc = tcase_create("silence_json");

	tcase_add_test(tc, test_iso);
	tcase_add_test(tc, test_rule_and_duration);
	tcase_add_test(tc, test_matchers_and_expiry_forms);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_round_trip_json);
	suite_add_tcase(s, tc);
	return s;
}
