/*
 * tzfile: a time zone's offsets from the system's zoneinfo files (TZif,
 * RFC 8536), read once and then asked without touching the process's TZ.
 * vigild has more than one thread (the state writer), and setenv("TZ") +
 * tzset() + localtime() per question would race; a zone here is immutable
 * data, safe to share.
 *
 * Only version 2 and later files are read, and only their 64-bit part;
 * times past the last transition follow the footer's POSIX TZ rule
 * ("CET-1CEST,M3.5.0,M10.5.0/3"). Every count is bounded before anything
 * is allocated, so a hostile or truncated file is an error, never a read
 * past its end. A NULL zone is UTC throughout.
 */
#ifndef VIGIL_TZFILE_H
#define VIGIL_TZFILE_H

#include <stddef.h>
#include <stdint.h>

/* Where zones are read from: tzdata's directory. */
#define TZ_DIR "/usr/share/zoneinfo"
/* The largest TZif file read (Europe/Berlin is 2.3 KB, the largest 8 KB). */
#define TZ_MAX_FILE (256 * 1024)
#define TZ_MAX_NAME 63

enum tz_status {
	TZ_OK = 0,
	TZ_ERR_NAME = -1,	/* not a zone name: "..", a leading "/", ... */
	TZ_ERR_UNKNOWN = -2,	/* no such zone (no file, or not readable) */
	TZ_ERR_FORMAT = -3,	/* not a TZif v2+ file, or a bad footer */
	TZ_ERR_NOMEM = -4,
};

struct tz;

/*
 * The zone named name ("Europe/Berlin"; "UTC" and "Etc/UTC" without a
 * file) from TZ_DIR into *out (NULL for UTC: every function takes it).
 * Returns TZ_OK, or an error with a reason in err.
 */
int tz_load(const char *name, struct tz **out, char *err, size_t errlen);
/* The same from the bytes of a TZif file (tests, the fuzzer). */
int tz_parse(const void *buf, size_t len, struct tz **out, char *err,
    size_t errlen);
void tz_free(struct tz *tz);
/* The name it was loaded as ("UTC" for NULL). */
const char *tz_name(const struct tz *tz);

/* Seconds east of UTC in force at Unix time t (seconds). */
int32_t tz_offset(const struct tz *tz, int64_t t);

/*
 * The Unix time (seconds) of local wall-clock time local (seconds since
 * 1970-01-01 00:00 local). A local time that does not exist (the hour
 * skipped in spring) is read with the offset before the change, so it
 * lands as far past the change as it was meant after the old hour
 * (02:30 in Berlin on the spring day is 03:30 CEST); one that occurs
 * twice (the repeated hour in autumn) is its first occurrence.
 */
int64_t tz_utc_of_local(const struct tz *tz, int64_t local);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void tz_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* 0 Sunday .. 6 Saturday. */
unsigned tz_weekday(int64_t days);

#endif
