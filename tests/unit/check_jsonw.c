/*
 * Unit tests for lib/base/jsonw.c (the streaming JSON writer) and clock_iso():
 * what the writer prints must parse, and read back as the same values
 * cJSON would have printed; times must agree with gmtime.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/jsonw.h"
#include "suites.h"

START_TEST(test_structure_and_escapes)
{
	struct sbuf b;
	struct jsonw w;
	cJSON *t = cJSON_CreateObject(), *o;
	char *s;

	cJSON_AddNumberToObject(t, "k", 1);
	sbuf_init(&b, 1 << 20);
	jsonw_init(&w, &b);
	jsonw_obj(&w, NULL);
	jsonw_str(&w, "s", "a\"b\\c\n\t\x01\xc3\xa9");
	jsonw_arr(&w, "a");
	jsonw_int(&w, NULL, -42);
	jsonw_obj(&w, NULL);
	jsonw_end(&w);
	jsonw_arr(&w, NULL);
	jsonw_end(&w);
	jsonw_bool(&w, NULL, true);
	jsonw_null(&w, NULL);
	jsonw_end(&w);
	jsonw_tree(&w, "t", t);
	jsonw_bool(&w, "f", false);
	jsonw_end(&w);
	ck_assert_int_eq(w.depth, 0);
	s = sbuf_take(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\","
	    "\"a\":[-42,{},[],true,null],\"t\":{\"k\":1},\"f\":false}");
	o = cJSON_Parse(s);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "s")->valuestring,
	    "a\"b\\c\n\t\x01\xc3\xa9");
	cJSON_Delete(o);
	cJSON_Delete(t);
	free(s);
}
END_TEST

/*
 * Every number in the text cJSON prints (the same value must read the
 * same in /status and /deploys), and within an epsilon of itself.
 */
START_TEST(test_numbers_as_cjson)
{
	static const double v[] = {
		1, -1, 42, 0.068, 0.1, -0.5, 1.161, 200.52, 999999999.999,
		123.4567, 1.0 / 3.0, 2.0 / 3.0 * 1e-9, 5e-324,
		1.7976931348623157e308, 0.30000000000000004, 1234567.891,
		-0.001, 12345678901.5, 0.053609721229449604, 1e15 + 0.5,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sbuf b;
		struct jsonw w;
		cJSON *c = cJSON_CreateNumber(v[i]);
		char *mine, *theirs = cJSON_PrintUnformatted(c);
		double back;

		sbuf_init(&b, 1024);
		jsonw_init(&w, &b);
		jsonw_num(&w, NULL, v[i]);
		mine = sbuf_take(&b);
		ck_assert_ptr_nonnull(mine);
		ck_assert_str_eq(mine, theirs);
		back = strtod(mine, NULL);
		ck_assert_msg(fabs(back - v[i]) <=
		    fmax(fabs(back), fabs(v[i])) * DBL_EPSILON,
		    "%.17g printed as %s", v[i], mine);
		cJSON_Delete(c);
		cJSON_free(theirs);
		free(mine);
	}
}
END_TEST

/* Integers past cJSON's int keep every digit (cJSON goes to %g). */
START_TEST(test_big_integers_exact)
{
	static const struct {
		double v;
		const char *text;
	} c[] = {
		{ 0, "0" }, { -0.0, "0" }, { 1e15, "1000000000000000" },
		{ -9007199254740991.0, "-9007199254740991" },
		{ 4294967296.0, "4294967296" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sbuf b;
		struct jsonw w;
		char *mine;

		sbuf_init(&b, 1024);
		jsonw_init(&w, &b);
		jsonw_num(&w, NULL, c[i].v);
		mine = sbuf_take(&b);
		ck_assert_str_eq(mine, c[i].text);
		free(mine);
	}
}
END_TEST

START_TEST(test_not_finite_is_null)
{
	struct sbuf b;
	struct jsonw w;
	char *s;

	sbuf_init(&b, 1024);
	jsonw_init(&w, &b);
	jsonw_arr(&w, NULL);
	jsonw_num(&w, NULL, NAN);
	jsonw_num(&w, NULL, INFINITY);
	jsonw_num(&w, NULL, -INFINITY);
	jsonw_end(&w);
	s = sbuf_take(&b);
	ck_assert_str_eq(s, "[null,null,null]");
	free(s);
}
END_TEST

/* Closing more than was opened, or nesting too deep, fails the answer. */
START_TEST(test_misuse_fails)
{
	struct sbuf b;
	struct jsonw w;

	sbuf_init(&b, 1024);
	jsonw_init(&w, &b);
	jsonw_end(&w);
	ck_assert_ptr_null(sbuf_take(&b));

	sbuf_init(&b, 1024);
	jsonw_init(&w, &b);
	for (int i = 0; i <= JSONW_DEPTH; i++)
		jsonw_arr(&w, NULL);
	ck_assert_ptr_null(sbuf_take(&b));

	sbuf_init(&b, 8);
	jsonw_init(&w, &b);
	jsonw_str(&w, NULL, "longer than eight");
	ck_assert_ptr_null(sbuf_take(&b));
}
END_TEST

START_TEST(test_clock_iso_matches_gmtime)
{
	/* Leap days, centuries, the epoch, far future, every month. */
	static const int64_t fixed[] = {
		0, 999, 951782400000, 951868799999, 4107542400000,
		1709164800123, 253402300799999, 1795867200000,
	};
	uint64_t x = 88172645463325252u;

	for (size_t i = 0; i < 20000; i++) {
		int64_t ms;
		time_t s;
		struct tm tm;
		char mine[40], want[40];

		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			ms = fixed[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ms = (int64_t)(x % 253402300800000u);
		}
		s = (time_t)(ms / 1000);
		gmtime_r(&s, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + 19, sizeof(want) - 19, ".%03dZ",
		    (int)(ms % 1000));
		clock_iso(ms, mine, sizeof(mine));
		ck_assert_msg(strcmp(mine, want) == 0, "%lld: %s, gmtime %s",
		    (long long)ms, mine, want);
	}
}
END_TEST

START_TEST(test_clock_iso_truncates)
{
	char small[11];

	clock_iso(951782400000, small, sizeof(small));
	ck_assert_str_eq(small, "2000-02-29");
}
END_TEST

Suite *
jsonw_suite(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_structure_and_escapes);
	tcase_add_test(tc, test_numbers_as_cjson);
	tcase_add_test(tc, test_big_integers_exact);
	tcase_add_test(tc, test_not_finite_is_null);
	tcase_add_test(tc, test_misuse_fails);
	tcase_add_test(tc, test_clock_iso_matches_gmtime);
	tcase_add_test(tc, test_clock_iso_truncates);
	suite_add_tcase(s, tc);
	return s;
}
