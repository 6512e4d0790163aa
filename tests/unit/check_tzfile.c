/*
 * tzfile: real zoneinfo files against offsets known from tzdata (the
 * tables and, past them, the POSIX footer), local times across changes
 * of offset, and files that are not what they claim.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "base/file.h"
#include "base/tzfile.h"
#include "suites.h"

static struct tz *
load(const char *name)
{
	struct tz *tz = NULL;
	char err[256];

	ck_assert_msg(tz_load(name, &tz, err, sizeof(err)) == TZ_OK, "%s: %s",
	    name, err);
	return tz;
}

/* Offsets checked against Python's zoneinfo over the same tzdata. */
START_TEST(test_known_offsets)
{
	static const struct {
		const char *zone;
		int64_t t;
		int32_t off;
	} cases[] = {
		/* Berlin: spring forward 2026-03-29 01:00Z, back 10-25 01:00Z. */
		{ "Europe/Berlin", 1774745999, 3600 },
		{ "Europe/Berlin", 1774746000, 7200 },
		{ "Europe/Berlin", 1792889999, 7200 },
		{ "Europe/Berlin", 1792890000, 3600 },
		/* 2100: past any table, the footer's rule. */
		{ "Europe/Berlin", 4118083200, 7200 },
		{ "Europe/Berlin", 4102444800, 3600 },
		/* 1890: before the first transition, local mean time. */
		{ "Europe/Berlin", -2524521600, 3208 },
		{ "America/New_York", 1772953199, -18000 },
		{ "America/New_York", 1772953200, -14400 },
		{ "America/New_York", 1793512799, -14400 },
		{ "America/New_York", 1793512800, -18000 },
		{ "America/New_York", 4086806400, -14400 },
		/* Southern: summer time across the new year. */
		{ "Australia/Sydney", 1768435200, 39600 },
		{ "Australia/Sydney", 1782864000, 36000 },
		{ "Australia/Sydney", 1775318399, 39600 },
		{ "Australia/Sydney", 1775318400, 36000 },
		{ "Australia/Sydney", 3788121600, 39600 },
		{ "Australia/Sydney", 3803760000, 36000 },
		{ "Asia/Kolkata", 1767225600, 19800 },
		{ "UTC", 1767225600, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tz *tz = load(cases[i].zone);

		ck_assert_msg(tz_offset(tz, cases[i].t) == cases[i].off,
		    "%s at %lld: %d, not %d", cases[i].zone,
		    (long long)cases[i].t, tz_offset(tz, cases[i].t),
		    cases[i].off);
		tz_free(tz);
	}
}
END_TEST

START_TEST(test_local_times)
{
	struct tz *tz = load("Europe/Berlin");
	int64_t d;

	/* An ordinary winter and summer time. */
	d = tz_days_from_civil(2026, 1, 15) * 86400;
	ck_assert_int_eq(tz_utc_of_local(tz, d + 12 * 3600), d + 11 * 3600);
	d = tz_days_from_civil(2026, 7, 15) * 86400;
	ck_assert_int_eq(tz_utc_of_local(tz, d + 12 * 3600), d + 10 * 3600);
	/* 02:30 on 2026-03-29 does not exist: 01:30Z, i.e. 03:30 CEST. */
	d = tz_days_from_civil(2026, 3, 29) * 86400;
	ck_assert_int_eq(tz_utc_of_local(tz, d + 2 * 3600 + 1800),
	    d + 3600 + 1800);
	/* 03:30 CEST that day is the same instant. */
	ck_assert_int_eq(tz_utc_of_local(tz, d + 3 * 3600 + 1800),
	    d + 3600 + 1800);
	/* 02:30 on 2026-10-25 happens twice: the first, 00:30Z (CEST). */
	d = tz_days_from_civil(2026, 10, 25) * 86400;
	ck_assert_int_eq(tz_utc_of_local(tz, d + 2 * 3600 + 1800), d + 1800);
	/* 03:30 that day is CET only. */
	ck_assert_int_eq(tz_utc_of_local(tz, d + 3 * 3600 + 1800),
	    d + 2 * 3600 + 1800);
	tz_free(tz);
	/* UTC: the identity. */
	ck_assert_int_eq(tz_utc_of_local(NULL, 1234567), 1234567);
	ck_assert_str_eq(tz_name(NULL), "UTC");
}
END_TEST

START_TEST(test_civil)
{
	int64_t y;
	unsigned m, d;

	ck_assert_int_eq(tz_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(tz_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(tz_weekday(0), 4);	/* a Thursday */
	ck_assert_int_eq(tz_weekday(-1), 3);
	ck_assert_int_eq(tz_weekday(tz_days_from_civil(2026, 3, 29)), 0);
	for (int64_t z = -800000; z < 800000; z += 997) {
		tz_civil_from_days(z, &y, &m, &d);
		ck_assert_int_eq(tz_days_from_civil(y, m, d), z);
	}
}
END_TEST

START_TEST(test_bad_names)
{
	static const char *const bad[] = {
		"../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd",
		"", "Europe/", ".hidden", "Europe//Berlin", "Europe/Ber lin",
	};
	struct tz *tz = (struct tz *)1;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(tz_load(bad[i], &tz, err, sizeof(err)),
		    TZ_ERR_NAME);
	ck_assert_ptr_null(tz);
	ck_assert_int_eq(tz_load("Mars/Olympus_Mons", &tz, err, sizeof(err)),
	    TZ_ERR_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(err, "unknown time zone"));
	/* A directory is no zone. */
	ck_assert_int_eq(tz_load("Europe", &tz, err, sizeof(err)),
	    TZ_ERR_UNKNOWN);
}
END_TEST

/*
 * A TZif v2 file of one type (off) and no transitions, with footer, into
 * b (512 bytes).
 */
static size_t
mkfile(unsigned char *b, int32_t off, const char *footer)
{
	size_t n = 0;

	for (int part = 0; part < 2; part++) {
		memset(b + n, 0, 44);
		memcpy(b + n, "TZif2", 5);
		b[n + 39] = 1;	/* typecnt */
		b[n + 43] = 4;	/* charcnt */
		n += 44;
		b[n++] = (unsigned char)((uint32_t)off >> 24);
		b[n++] = (unsigned char)((uint32_t)off >> 16);
		b[n++] = (unsigned char)((uint32_t)off >> 8);
		b[n++] = (unsigned char)off;
		b[n++] = 0;
		b[n++] = 0;
		memcpy(b + n, "XXX", 4);
		n += 4;
	}
	n += (size_t)snprintf((char *)b + n, 512 - n, "\n%s\n", footer);
	return n;
}

START_TEST(test_footers)
{
	static const struct {
		const char *footer;
		int64_t t;
		int32_t off;
	} cases[] = {
		{ "", 1767225600, 7200 },	/* no rule: the one type */
		{ "<+0530>-5:30", 1767225600, 19800 },
		{ "EST5EDT,M3.2.0,M11.1.0", 1772953199, -18000 },
		{ "EST5EDT,M3.2.0,M11.1.0", 1772953200, -14400 },
		{ "EST5EDT", 1772953200, -14400 },	/* the US default */
		/* Day-of-year forms: J60 is 1 March, even in a leap year. */
		{ "AAA0BBB,J60/0,J300/0", 1835481600, 3600 },	/* 03-01 */
		{ "AAA0BBB,J60/0,J300/0", 1835395200, 0 },	/* 02-29 */
		{ "AAA0BBB,59/0,300/0", 1835395200, 3600 },
		/* Southern hemisphere (start after end in the year). */
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", 1768435200, 39600 },
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", 1782864000, 36000 },
	};
	unsigned char b[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tz *tz = NULL;
		char err[128];
		size_t n = mkfile(b, 7200, cases[i].footer);

		ck_assert_msg(tz_parse(b, n, &tz, err, sizeof(err)) == TZ_OK,
		    "%s: %s", cases[i].footer, err);
		ck_assert_msg(tz_offset(tz, cases[i].t) == cases[i].off,
		    "%s: %d, not %d", cases[i].footer, tz_offset(tz,
		    cases[i].t), cases[i].off);
		tz_free(tz);
	}
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad_footers[] = {
		"X0", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,M3.2.0", "EST99", "<+05", "EST5EDT,J0,J300",
	};
	unsigned char b[512];
	struct tz *tz = NULL;
	char err[128], *buf;
	size_t len, n;

	for (size_t i = 0; i < sizeof(bad_footers) / sizeof(bad_footers[0]);
	    i++) {
		n = mkfile(b, 0, bad_footers[i]);
		ck_assert_msg(tz_parse(b, n, &tz, err, sizeof(err)) ==
		    TZ_ERR_FORMAT, "%s", bad_footers[i]);
	}
	/* Version 1 only. */
	n = mkfile(b, 0, "UTC0");
	b[4] = 0;
	ck_assert_int_eq(tz_parse(b, n, &tz, err, sizeof(err)),
	    TZ_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(err, "version 1"));
	/* A real file cut anywhere is an error, never a read past it. */
	ck_assert_int_eq(file_read(TZ_DIR "/Europe/Berlin", TZ_MAX_FILE, &buf,
	    &len, err, sizeof(err)), FILE_OK);
	for (size_t cut = 0; cut < len; cut++) {
		void *copy = malloc(cut + 1);

		memcpy(copy, buf, cut);
		ck_assert_int_ne(tz_parse(copy, cut, &tz, err, sizeof(err)),
		    TZ_OK);
		ck_assert_ptr_null(tz);
		free(copy);
	}
	ck_assert_int_eq(tz_parse(buf, len, &tz, err, sizeof(err)), TZ_OK);
	tz_free(tz);
	free(buf);
	tz_free(NULL);
}
END_TEST

Suite *
tzfile_suite(void)
{
	Suite *s = suite_create("tzfile");
	TCase *tc = tcase_create("tzfile");

	tcase_add_test(tc, test_known_offsets);
	tcase_add_test(tc, test_local_times);
	tcase_add_test(tc, test_civil);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_footers);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	return s;
}
