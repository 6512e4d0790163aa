#include "base/tzfile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"

/* tzcode's own limits (tzfile.h): no real zone comes near them. */
#define MAX_TIMES 2000
#define MAX_TYPES 256
#define MAX_CHARS 512
#define MAX_LEAPS 50
#define MAX_FOOTER 128
/* Offsets beyond +-26 h are no place on Earth (RFC 8536 allows +-25h59). */
#define MAX_UTOFF (26 * 3600)

/* A POSIX TZ rule's date: Jn, n or Mm.w.d, and the time of day it is at. */
struct posix_date {
	char form;		/* 'J', 'D' (zero-based n), 'M' */
	unsigned n, m, w, d;
	int32_t secs;		/* local time of day, may be < 0 or > 24 h */
};

struct tz {
	char name[TZ_MAX_NAME + 1];
	size_t ntimes, ntypes;
	int64_t *times;		/* transitions, ascending */
	uint8_t *idx;		/* the type after each */
	int32_t *utoff;		/* per type */
	/* The footer: std (and dst) offsets east of UTC, and when dst is. */
	bool has_rule, has_dst;
	int32_t std_off, dst_off;
	struct posix_date start, end;
};

static int
fail(int st, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return st;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

int64_t
tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
tz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

unsigned
tz_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	return (unsigned)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned md[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	return m == 2 && leap(y) ? 29 : md[m - 1];
}

/* ---- the POSIX TZ footer ---- */

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, +, -. */
static const char *
posix_name(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		for (p++; *p != '>'; p++)
			if (*p == '\0' || !(((*p | 32) >= 'a' &&
			    (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '+' || *p == '-'))
				return NULL;
		return p - s >= 4 ? p + 1 : NULL;
	}
	while ((*p | 32) >= 'a' && (*p | 32) <= 'z')
		p++;
	return p - s >= 3 ? p : NULL;
}

static const char *
posix_num(const char *p, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned v = 0;

	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > hi)
			return NULL;
	}
	if (v < lo)
		return NULL;
	*out = v;
	return p;
}

/* [+-]hh[:mm[:ss]], hh up to maxh, as seconds. */
static const char *
posix_time(const char *p, unsigned maxh, int32_t *out)
{
	unsigned h, mi = 0, s = 0;
	int sign = 1;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = posix_num(p, 0, maxh, &h)) == NULL)
		return NULL;
	if (*p == ':' && (p = posix_num(p + 1, 0, 59, &mi)) != NULL &&
	    *p == ':')
		p = posix_num(p + 1, 0, 59, &s);
	if (p == NULL)
		return NULL;
	*out = sign * (int32_t)(h * 3600 + mi * 60 + s);
	return p;
}

static const char *
posix_date(const char *p, struct posix_date *d)
{
	memset(d, 0, sizeof(*d));
	d->secs = 2 * 3600;
	if (*p == 'J') {
		d->form = 'J';
		p = posix_num(p + 1, 1, 365, &d->n);
	} else if (*p == 'M') {
		d->form = 'M';
		if ((p = posix_num(p + 1, 1, 12, &d->m)) == NULL || *p != '.' ||
		    (p = posix_num(p + 1, 1, 5, &d->w)) == NULL || *p != '.')
			return NULL;
		p = posix_num(p + 1, 0, 6, &d->d);
	} else {
		d->form = 'D';
		p = posix_num(p, 0, 365, &d->n);
	}
	if (p != NULL && *p == '/')
		p = posix_time(p + 1, 167, &d->secs);	/* RFC 8536's range */
	return p;
}

/*
 * "STDoff[DST[off][,start[/time],end[/time]]]" as in POSIX, with RFC
 * 8536's extensions; offsets there are west of UTC, here east.
 */
static bool
posix_parse(const char *s, struct tz *tz)
{
	const char *p = posix_name(s);
	int32_t off;

	if (p == NULL || (p = posix_time(p, 24, &off)) == NULL)
		return false;
	tz->std_off = -off;
	tz->has_rule = true;
	if (*p == '\0')
		return true;
	if ((p = posix_name(p)) == NULL)
		return false;
	tz->has_dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = posix_time(p, 24, &off)) == NULL)
			return false;
		tz->dst_off = -off;
	}
	/* No rule: POSIX leaves it to the implementation; tzcode's US one. */
	if (*p == '\0') {
		posix_date("M3.2.0", &tz->start);
		posix_date("M11.1.0", &tz->end);
		return true;
	}
	if (*p != ',' || (p = posix_date(p + 1, &tz->start)) == NULL ||
	    *p != ',' || (p = posix_date(p + 1, &tz->end)) == NULL)
		return false;
	return *p == '\0';
}

/* Days since the epoch of date d in year y. */
static int64_t
posix_day(const struct posix_date *d, int64_t y)
{
	int64_t first = tz_days_from_civil(y, 1, 1);

	switch (d->form) {
	case 'J':	/* 1..365, 29 February never counted */
		return first + d->n - 1 + (leap(y) && d->n >= 60);
	case 'D':
		return first + d->n;
	default: {
		int64_t m1 = tz_days_from_civil(y, d->m, 1);
		unsigned day = 1 + (d->d + 7 - tz_weekday(m1)) % 7 +
		    (d->w - 1) * 7;

		while (day > month_days(y, d->m))
			day -= 7;
		return m1 + day - 1;
	}
	}
}

static int32_t
posix_offset(const struct tz *tz, int64_t t)
{
	int64_t y, start, end;
	unsigned m, d;
	bool in_dst;

	if (!tz->has_dst)
		return tz->std_off;
	tz_civil_from_days((t + tz->std_off) / 86400 -
	    ((t + tz->std_off) % 86400 < 0), &y, &m, &d);
	/* Start is given in standard time, end in daylight time. */
	start = posix_day(&tz->start, y) * 86400 + tz->start.secs -
	    tz->std_off;
	end = posix_day(&tz->end, y) * 86400 + tz->end.secs - tz->dst_off;
	if (start < end)
		in_dst = t >= start && t < end;
	else
		in_dst = !(t >= end && t < start);	/* southern */
	return in_dst ? tz->dst_off : tz->std_off;
}

/* ---- the file ---- */

struct hdr {
	uint32_t isut, isstd, leap, time, type, chars;
};

static bool
header(const unsigned char *p, size_t len, struct hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	return h->time <= MAX_TIMES && h->type >= 1 && h->type <= MAX_TYPES &&
	    h->chars <= MAX_CHARS && h->leap <= MAX_LEAPS &&
	    (h->isut == 0 || h->isut == h->type) &&
	    (h->isstd == 0 || h->isstd == h->type);
}

static size_t
block(const struct hdr *h, size_t tsize)
{
	return h->time * tsize + h->time + h->type * 6 + h->chars +
	    h->leap * (tsize + 4) + h->isstd + h->isut;
}

int
tz_parse(const void *buf, size_t len, struct tz **out, char *err,
    size_t errlen)
{
	const unsigned char *p = buf, *end = p + len, *q;
	char footer[MAX_FOOTER + 1];
	struct hdr h;
	struct tz *tz;
	size_t skip, n;

	*out = NULL;
	if (!header(p, len, &h))
		return fail(TZ_ERR_FORMAT, err, errlen, "not a TZif file");
	if (p[4] < '2')
		return fail(TZ_ERR_FORMAT, err, errlen, "a TZif version 1 "
		    "file (version 2 or later is needed)");
	skip = 44 + block(&h, 4);
	if (skip > len || !header(p + skip, len - skip, &h))
		return fail(TZ_ERR_FORMAT, err, errlen, "a TZif file cut short");
	p += skip + 44;
	if ((size_t)(end - p) < block(&h, 8) + 2)
		return fail(TZ_ERR_FORMAT, err, errlen, "a TZif file cut short");
	if ((tz = calloc(1, sizeof(*tz))) == NULL ||
	    (tz->times = calloc(h.time + 1, sizeof(*tz->times))) == NULL ||
	    (tz->idx = calloc(h.time + 1, 1)) == NULL ||
	    (tz->utoff = calloc(h.type, sizeof(*tz->utoff))) == NULL) {
		tz_free(tz);
		return fail(TZ_ERR_NOMEM, err, errlen, "out of memory");
	}
	tz->ntimes = h.time;
	tz->ntypes = h.type;
	for (size_t i = 0; i < h.time; i++) {
		tz->times[i] = be64(p + i * 8);
		if (i > 0 && tz->times[i] <= tz->times[i - 1])
			goto bad;
	}
	p += h.time * 8;
	for (size_t i = 0; i < h.time; i++)
		if ((tz->idx[i] = p[i]) >= h.type)
			goto bad;
	p += h.time;
	for (size_t i = 0; i < h.type; i++) {
		int32_t off = (int32_t)be32(p + i * 6);

		if (off <= -MAX_UTOFF || off >= MAX_UTOFF || p[i * 6 + 4] > 1 ||
		    p[i * 6 + 5] >= h.chars + (h.chars == 0))
			goto bad;
		tz->utoff[i] = off;
	}
	p += block(&h, 8) - h.time * 9;
	/* The footer: "\n" TZ "\n". */
	if (*p != '\n' || (q = memchr(p + 1, '\n', (size_t)(end - p - 1))) ==
	    NULL || (n = (size_t)(q - p - 1)) > MAX_FOOTER)
		goto bad;
	memcpy(footer, p + 1, n);
	footer[n] = '\0';
	if (n > 0 && (memchr(footer, '\0', n) != NULL ||
	    !posix_parse(footer, tz)))
		goto bad;
	snprintf(tz->name, sizeof(tz->name), "%s", "(TZif)");
	*out = tz;
	return TZ_OK;
bad:
	tz_free(tz);
	return fail(TZ_ERR_FORMAT, err, errlen, "a malformed TZif file");
}

static bool
good_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TZ_MAX_NAME || name[0] == '/' || name[0] == '.' ||
	    strstr(name, "..") != NULL || strstr(name, "//") != NULL ||
	    name[n - 1] == '/')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p | 32) >= 'a' && (*p | 32) <= 'z') &&
		    !(*p >= '0' && *p <= '9') && strchr("/_-+.", *p) == NULL)
			return false;
	return true;
}

int
tz_load(const char *name, struct tz **out, char *err, size_t errlen)
{
	char path[sizeof(TZ_DIR) + TZ_MAX_NAME + 2], why[128];
	char *buf;
	size_t len;
	int st;

	*out = NULL;
	if (!good_name(name))
		return fail(TZ_ERR_NAME, err, errlen, "not a time zone name "
		    "(like \"Europe/Berlin\")");
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		return TZ_OK;
	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	if (file_read(path, TZ_MAX_FILE, &buf, &len, why, sizeof(why)) !=
	    FILE_OK) {
		snprintf(err, errlen, "unknown time zone (%s: %s; is tzdata "
		    "installed?)", path, why);
		return TZ_ERR_UNKNOWN;
	}
	st = tz_parse(buf, len, out, err, errlen);
	free(buf);
	if (st == TZ_OK)
		snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	return st;
}

void
tz_free(struct tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->times);
	free(tz->idx);
	free(tz->utoff);
	free(tz);
}

const char *
tz_name(const struct tz *tz)
{
	return tz != NULL ? tz->name : "UTC";
}

int32_t
tz_offset(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi;

	if (tz == NULL)
		return 0;
	if (tz->ntimes == 0 || t < tz->times[0])
		return tz->ntimes == 0 && tz->has_rule ?
		    posix_offset(tz, t) : tz->utoff[0];
	if (t >= tz->times[tz->ntimes - 1] && tz->has_rule)
		return posix_offset(tz, t);
	/* The last transition at or before t. */
	hi = tz->ntimes;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[tz->idx[lo]];
}

int64_t
tz_utc_of_local(const struct tz *tz, int64_t local)
{
	/*
	 * The offsets a day either side bound every offset local could
	 * mean (no zone changes twice in two days). Each is right if the
	 * instant it gives has that offset.
	 */
	int32_t a = tz_offset(tz, local - 86400), b = tz_offset(tz,
	    local + 86400);
	int64_t ta = local - a, tb = local - b;
	bool oka = tz_offset(tz, ta) == a, okb = tz_offset(tz, tb) == b;

	if (oka && okb)
		return ta < tb ? ta : tb;	/* twice: the first */
	if (oka)
		return ta;
	if (okb)
		return tb;
	return ta;	/* skipped: the offset before the change */
}
