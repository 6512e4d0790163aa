/*
 * maint_def: what a maintenance window is, shared by the configuration
 * (the "maintenance" section), the API (windows made at run time) and
 * the engine (engine/maint.h), which decides when each is active.
 *
 * A window covers rules by name, by labels (every matcher must equal one
 * of the rule's labels, as a silence's), or all of them; and it is
 *
 *   once    from start to end (Unix ms)
 *   weekly  on some days of the week, at a local time, for a duration
 *   cron    at the minutes a 5-field cron expression gives, for a
 *           duration
 *
 * with local times in its time zone (UTC by default). A weekly window is
 * kept as the cron expression it amounts to: one way to compute both.
 */
#ifndef VIGIL_MAINT_DEF_H
#define VIGIL_MAINT_DEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct tz;

#define MAINT_MAX_RULES 32
#define MAINT_MAX_MATCHERS 8
#define MAINT_MAX_TEXT 256
/* A recurring window's longest occurrence: past a week it never ends. */
#define MAINT_MAX_DURATION_MS (7LL * 86400 * 1000 - 60000)

enum maint_kind { MAINT_ONCE, MAINT_WEEKLY, MAINT_CRON };

/* The minutes a cron expression gives, as bit sets (bit n: value n). */
struct maint_cron {
	uint64_t minute;	/* 0-59 */
	uint32_t hour;		/* 0-23 */
	uint32_t dom;		/* 1-31 */
	uint16_t month;		/* 1-12 */
	uint8_t dow;		/* 0-6, Sunday 0 */
	/* Both restricted: a day matches either (cron's rule). */
	bool dom_any, dow_any;
};

struct maint_matcher {
	char key[64];
	char value[128];
};

struct maint_window {
	char name[64];
	/* What it covers. */
	bool all;
	char rules[MAINT_MAX_RULES][64];
	size_t nrules;
	struct maint_matcher matchers[MAINT_MAX_MATCHERS];
	size_t nmatchers;
	/* When. */
	enum maint_kind kind;
	int64_t start, end;		/* once: Unix ms */
	struct maint_cron cron;		/* weekly, cron */
	int64_t duration_ms;		/* weekly, cron */
	char spec[96];			/* "Sun 02:00", the cron text */
	char tzname[64];		/* "UTC", "Europe/Berlin" */
	const struct tz *tz;		/* NULL: UTC; owned by who made it */
	/* Made through the API (0 for the configuration's). */
	uint64_t id;
	char author[MAINT_MAX_TEXT];
	char comment[MAINT_MAX_TEXT];
	int64_t created;
};

/*
 * Parses a 5-field cron expression (minute hour day-of-month month
 * day-of-week; lists, ranges, steps, *, month and day names, 7 for
 * Sunday) into c. Returns 0, or -1 with why and *at, the offset of the
 * mistake in s.
 */
int maint_cron_parse(const char *s, struct maint_cron *c, const char **why,
    size_t *at);

/* Whether the cron fields take local day day (days since 1970-01-01). */
bool maint_cron_day(const struct maint_cron *c, int64_t day);

/*
 * Reads one window from a JSON object, as the configuration and the API
 * both give it:
 *
 *   "name", "rules": [names] and/or "labels": {k: v} or "all": true,
 *   "start" + "end" (ISO-8601; without a zone, local in "timezone"), or
 *   "days": ["sun", ...] + "at": "02:00" + "duration", or
 *   "cron": "0 2 * * 0" + "duration";
 *   "timezone": "Europe/Berlin" (default "UTC"), "comment", "author".
 *
 * extra (NULL-terminated, may be NULL) are further keys the caller
 * takes. The zone is loaded into *tz (the caller frees it; NULL for UTC)
 * and w->tz points to it. Returns 0, or -1 with why and *bad, the node
 * the mistake is at (o itself for a missing key). Rule names are not
 * checked against the rules: the caller knows them.
 */
int maint_window_read(const struct cJSON *o, const char *const *extra,
    struct maint_window *w, struct tz **tz, const struct cJSON **bad,
    char *why, size_t whylen);

const char *maint_kind_name(enum maint_kind k);	/* "once", "weekly", "cron" */

#endif
