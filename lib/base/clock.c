#include "base/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Set by tests only (clock_fake); NULL in vigild. */
static const int64_t *fake_wall_ms, *fake_mono_us;

void
clock_fake(const int64_t *wall_ms, const int64_t *mono_us)
{
	fake_wall_ms = wall_ms;
	fake_mono_us = mono_us;
}

int64_t
clock_wall_ms(void)
{
	struct timespec ts;

	if (fake_wall_ms != NULL)
		return *fake_wall_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	if (fake_mono_us != NULL)
		return *fake_mono_us;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* d as n decimal digits at p (zero-padded). */
static void
put(char *p, int d, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + d % 10);
		d /= 10;
	}
}

/*
 * By hand rather than gmtime_r and strftime: /status writes a few times
 * per probe and rule, thousands per answer. The date is Howard Hinnant's
 * days-to-civil (proleptic Gregorian, as gmtime).
 */
void
clock_iso(int64_t ms, char *buf, size_t len)
{
	int64_t days, sod, z, era, doe, yoe, doy, mp, y;
	int mo, d;
	char t[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";

	if (len == 0)
		return;
	days = ms / 86400000;
	sod = ms % 86400000;
	if (sod < 0) {
		sod += 86400000;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (mo <= 2);
	if (y < 0 || y > 9999) {
		snprintf(buf, len, "%s", "out-of-range");
		return;
	}
	put(t, (int)y, 4);
	put(t + 5, mo, 2);
	put(t + 8, d, 2);
	put(t + 11, (int)(sod / 3600000), 2);
	put(t + 14, (int)(sod / 60000 % 60), 2);
	put(t + 17, (int)(sod / 1000 % 60), 2);
	put(t + 20, (int)(sod % 1000), 3);
	if (len > sizeof(t) - 1)
		len = sizeof(t);
	memcpy(buf, t, len - 1);
	buf[len - 1] = '\0';
}

/* n digits at *p as a number; -1 if any is not a digit. */
static int
digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
clock_parse_iso(const char *s, int64_t *ms)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0, off = 0;
	int64_t days;

	if ((y = digits(&p, 4)) < 0 || *p++ != '-' ||
	    (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if ((h = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (mi = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0)
		return -1;
	if (*p == '.') {
		int scale = 100;

		p++;
		if (*p < '0' || *p > '9')
			return -1;
		/* Milliseconds are kept; finer digits are read and dropped. */
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if ((oh = digits(&p, 2)) < 0 || *p++ != ':' ||
		    (om = digits(&p, 2)) < 0 || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	/* Days since the epoch, without timegm's dependence on TZ. */
	days = 0;
	for (int yy = 1970; yy < y; yy++)
		days += leap(yy) ? 366 : 365;
	for (int m = 1; m < mo; m++)
		days += mdays[m - 1] + (m == 2 && leap(y));
	days += d - 1;
	*ms = (((days * 24 + h) * 60 + mi) * 60 + sec - (int64_t)off * 60) *
	    1000 + frac;
	return 0;
}
