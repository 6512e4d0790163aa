/* Unit tests for lib/base/duration.c: "1h30m" <-> milliseconds. */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "base/duration.h"
#include "suites.h"

#define MAX_MS ((int64_t)36500 * 86400000)	/* 100 years of 365 days */

struct valid_case {
	const char *in;
	int64_t ms;
};

static const struct valid_case valid[] = {
	{ "30s", 30000 },
	{ "5m", 300000 },
	{ "1h30m", 5400000 },
	{ "250ms", 250 },
	{ "2d", 172800000 },
	{ "1d2h3m4s5ms", 93784005 },
	{ "1s500ms", 1500 },
	{ "0s", 0 },
	{ "0ms", 0 },
	{ "0d", 0 },
	{ "1h0m", 3600000 },
	{ "1m1ms", 60001 },		/* "m" then "ms": different units */
	{ "1d1ms", 86400001 },
	{ "90m", 5400000 },		/* groups need not be normalized */
	{ "1000ms", 1000 },
	{ "48h", 172800000 },
	{ "05m", 300000 },		/* leading zeros are harmless */
	{ "36500d", MAX_MS },		/* exactly 100 years */
	{ "876000h", MAX_MS },
	{ "3153600000000ms", MAX_MS },
	{ "36499d23h59m59s999ms", MAX_MS - 1 },
};

START_TEST(test_parse_valid)
{
	const struct valid_case *c = &valid[_i];
	int64_t ms = -1;

	ck_assert_msg(duration_parse(c->in, &ms) == 0, "\"%s\" rejected",
	    c->in);
	ck_assert_int_eq(ms, c->ms);
}
END_TEST

static const char *const invalid[] = {
	"",
	"30",			/* bare number */
	"1h30",			/* trailing bare number */
	"s", "ms", "h",		/* no number */
	"1.5h", "0.5s", "1.h", ".5s",	/* integers only */
	"1,5s",
	"-5s", "+5s", "-0s",	/* no sign */
	" 5s", "5s ", "5 s", "1h 30m", "1h\t30m", "5s\n",
	"5S", "5H", "5MS", "5Ms", "5mS",	/* units are lower case */
	"5sec", "5min", "5hr", "5msx", "5mss", "5x",
	"1w", "1y", "1us", "1ns", "1M",
	"30m1h", "1s1m", "1ms1s", "1ms1m", "1s1d",	/* out of order */
	"1s1s", "1m1m", "1ms1ms", "1h2h",		/* repeated */
	"1h30m1h",
	"36501d",			/* over 100 years */
	"36500d1ms",
	"876001h",
	"3153600000001ms",
	"52560001m",
	"99999999999999999999s",	/* past int64 */
	"9223372036854775807ms",
	"9223372036854775808ms",
	"100000000000000000000000000000000000000ms",
};

START_TEST(test_parse_invalid)
{
	const char *in = invalid[_i];
	int64_t ms = 12345;

	ck_assert_msg(duration_parse(in, &ms) == -1, "\"%s\" accepted", in);
	ck_assert_int_eq(ms, 12345);	/* untouched on error */
}
END_TEST

START_TEST(test_parse_null)
{
	int64_t ms = 7;

	ck_assert_int_eq(duration_parse(NULL, &ms), -1);
	ck_assert_int_eq(ms, 7);
	ck_assert_int_eq(duration_parse("5s", NULL), 0);
	/* The string ends at its NUL. */
	ck_assert_int_eq(duration_parse("1d\0" "5s", &ms), 0);
	ck_assert_int_eq(ms, 86400000);
}
END_TEST

struct format_case {
	int64_t ms;
	const char *out;
};

static const struct format_case formats[] = {
	{ 0, "0s" },
	{ 1, "1ms" },
	{ 250, "250ms" },
	{ 999, "999ms" },
	{ 1000, "1s" },
	{ 1500, "1s500ms" },
	{ 30000, "30s" },
	{ 60000, "1m" },
	{ 60001, "1m1ms" },
	{ 300000, "5m" },
	{ 3600000, "1h" },
	{ 5400000, "1h30m" },
	{ 86400000, "1d" },
	{ 86400001, "1d1ms" },
	{ 90061001, "1d1h1m1s1ms" },
	{ 93784005, "1d2h3m4s5ms" },
	{ 172800000, "2d" },
	{ MAX_MS, "36500d" },
	{ -1500, "-1s500ms" },
	{ INT64_MAX, "106751991167d7h12m55s807ms" },
	{ INT64_MIN, "-106751991167d7h12m55s808ms" },
};

START_TEST(test_format)
{
	const struct format_case *c = &formats[_i];
	char buf[64];

	memset(buf, 'Z', sizeof(buf));
	duration_format(c->ms, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->out);
}
END_TEST

START_TEST(test_format_truncates)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	duration_format(5400000, buf, 4);
	ck_assert_str_eq(buf, "1h3");
	ck_assert_int_eq(buf[4], 'Z');	/* nothing written past len */
	duration_format(0, buf, 2);
	ck_assert_str_eq(buf, "0");
	duration_format(1500, buf, 1);
	ck_assert_str_eq(buf, "");
	buf[0] = 'Q';
	duration_format(1500, buf, 0);	/* len 0: nothing written */
	ck_assert_int_eq(buf[0], 'Q');
	duration_format(1500, NULL, 0);
	/* The longest output fits in 32 bytes. */
	{
		char b32[32];

		duration_format(INT64_MIN, b32, sizeof(b32));
		ck_assert_str_eq(b32, "-106751991167d7h12m55s808ms");
	}
}
END_TEST

START_TEST(test_round_trip)
{
	static const char *const canon[] = {
		"0s", "1ms", "1s500ms", "1h30m", "1d", "1d2h3m4s5ms",
		"36500d", "23h59m59s999ms", "7d12h",
	};
	static const struct { const char *in, *out; } normalize[] = {
		{ "90m", "1h30m" }, { "1000ms", "1s" }, { "48h", "2d" },
		{ "0d", "0s" }, { "1h0m", "1h" }, { "05m", "5m" },
		{ "3600s", "1h" }, { "61s", "1m1s" },
	};
	char buf[64];
	int64_t ms, back;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t k;

	for (k = 0; k < sizeof(canon) / sizeof(canon[0]); k++) {
		ck_assert_int_eq(duration_parse(canon[k], &ms), 0);
		duration_format(ms, buf, sizeof(buf));
		ck_assert_str_eq(buf, canon[k]);
	}
	for (k = 0; k < sizeof(normalize) / sizeof(normalize[0]); k++) {
		ck_assert_int_eq(duration_parse(normalize[k].in, &ms), 0);
		duration_format(ms, buf, sizeof(buf));
		ck_assert_str_eq(buf, normalize[k].out);
	}
	/* Pseudo-random values over the whole range, and small ones. */
	for (k = 0; k < 20000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = (int64_t)(x % (uint64_t)(MAX_MS + 1));
		if (k % 2)
			ms %= 100000000;	/* about a day */
		if (k % 4 == 1)
			ms = (ms / 1000) * 1000;	/* whole seconds */
		duration_format(ms, buf, sizeof(buf));
		ck_assert_msg(duration_parse(buf, &back) == 0,
		    "format(%lld) = \"%s\" does not parse", (long long)ms, buf);
		ck_assert_msg(back == ms, "\"%s\" parses to %lld, not %lld",
		    buf, (long long)back, (long long)ms);
	}
	/* Just past the limit, format still works but parse refuses. */
	duration_format(MAX_MS + 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "36500d1ms");
	ck_assert_int_eq(duration_parse(buf, &back), -1);
}
END_TEST

Suite *
duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("duration");

	tcase_add_loop_test(tc, test_parse_valid, 0,
	    (int)(sizeof(valid) / sizeof(valid[0])));
	tcase_add_loop_test(tc, test_parse_invalid, 0,
	    (int)(sizeof(invalid) / sizeof(invalid[0])));
	tcase_add_test(tc, test_parse_null);
	tcase_add_loop_test(tc, test_format, 0,
	    (int)(sizeof(formats) / sizeof(formats[0])));
	tcase_add_test(tc, test_format_truncates);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
