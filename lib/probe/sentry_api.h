/*
 * sentry_api: Sentry's web API as data, without any I/O. The payloads of
 * the endpoints the sentry probe reads (project stats, organization
 * stats_v2, project details, issues) parsed into series, the response
 * headers that matter (rate limits, X-Hits, Link, Retry-After, Date), when
 * a 429 lets the next request go, and the running counters vigild builds
 * from bucketed counts. probe_sentry.c does the talking; everything here
 * is unit-tested on payloads of the real shapes (protocols.md section 1).
 *
 * Errors are values: a parser returns 0, or -1 with a sentence for people
 * in err (what was expected, where), never the body itself.
 */
#ifndef VIGIL_SENTRY_API_H
#define VIGIL_SENTRY_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buckets one answer may hold: 1 h at 1 s, or a year of days. */
#define SENTRY_MAX_POINTS 4000

/* One bucket: its start (Unix seconds) and its count. */
struct sentry_point {
	int64_t t;
	double v;
};

/* A time series, oldest first, bucket starts strictly increasing. */
struct sentry_series {
	struct sentry_point *p;
	size_t n, alloc;
};

void sentry_series_clear(struct sentry_series *s);

/*
 * GET projects/{org}/{project}/stats/: [[1541455200, 1184], ...]. Counts
 * must be whole numbers >= 0; an empty array is a valid, empty series.
 */
int sentry_parse_stats(const char *body, size_t len, struct sentry_series *out,
    char *err, size_t errlen);

/* stats_v2 outcomes vigild reads (groupBy=outcome). */
enum sentry_outcome {
	SENTRY_OC_ACCEPTED,
	SENTRY_OC_FILTERED,
	SENTRY_OC_RATE_LIMITED,
	SENTRY_OC_INVALID,
	SENTRY_OC_ABUSE,
	SENTRY_OC_CLIENT_DISCARD,
	SENTRY_OC_CARDINALITY_LIMITED,
	SENTRY_NOUTCOMES,
};

const char *sentry_outcome_name(enum sentry_outcome o);

/*
 * One series per outcome over the answer's "intervals"; an outcome with no
 * group is all zeros (Sentry leaves out groups without data).
 */
struct sentry_outcomes {
	struct sentry_series s[SENTRY_NOUTCOMES];
	size_t unknown;		/* groups of outcomes vigild does not know */
};

/*
 * GET organizations/{org}/stats_v2/?groupBy=outcome&field=<field>...:
 * {"intervals": [...], "groups": [{"by": {"outcome": ...},
 * "series": {field: [...]}}, ...]}.
 */
int sentry_parse_outcomes(const char *body, size_t len, const char *field,
    struct sentry_outcomes *out, char *err, size_t errlen);
void sentry_outcomes_clear(struct sentry_outcomes *o);

/* GET projects/{org}/{project}/: the numeric id (a string in the API). */
int sentry_parse_project_id(const char *body, size_t len, char *id,
    size_t idlen, char *err, size_t errlen);

/*
 * GET organizations/{org}/events/?field=count()...: Discover's one row,
 * {"data": [{"count()": 42}], "meta": {...}}. No rows is a count of 0.
 */
int sentry_parse_event_count(const char *body, size_t len, double *count,
    char *err, size_t errlen);

/* GET organizations/{org}/issues/: how many issues the page lists. */
int sentry_parse_issue_page(const char *body, size_t len, size_t *count,
    char *err, size_t errlen);

/*
 * The text of an error answer for a reason: {"detail": "..."} or the bare
 * JSON string of a 429, cut to fit and reduced to printable ASCII; "" when
 * the body says nothing usable.
 */
void sentry_error_text(const char *body, size_t len, char *out,
    size_t outlen);

/* What vigild reads from a response's headers. */
struct sentry_headers {
	bool has_limit, has_remaining, has_reset, has_concurrent;
	long limit, remaining;		/* X-Sentry-Rate-Limit-Limit, -Remaining */
	int64_t reset_s;		/* -Reset: Unix seconds */
	long concurrent_remaining;	/* -ConcurrentRemaining */
	bool has_retry_after, retry_after_is_date;
	int64_t retry_after_s;		/* seconds, or Unix seconds (a date) */
	bool has_date;
	int64_t date_s;			/* Date: the server's clock */
	bool has_hits, has_max_hits;
	long long hits, max_hits;	/* X-Hits, X-Max-Hits */
	char link[8192];		/* Link, "" when absent or too long */
	bool link_too_long;		/* one came, longer than link[] */
};

void sentry_headers_reset(struct sentry_headers *h);
/*
 * One header line as curl delivers it ("Name: value\r\n"; a status line
 * starts a new response and resets h). Unknown and malformed headers are
 * ignored: a header vigild cannot read is one it does not have.
 */
void sentry_headers_line(struct sentry_headers *h, const char *line,
    size_t len);

/* An HTTP-date (RFC 9110 IMF-fixdate) as Unix seconds; -1 if not one. */
int64_t sentry_http_date(const char *s);

/* Which rule set the time of the next request after a 429. */
enum sentry_wait {
	SENTRY_WAIT_RETRY_AFTER,	/* a proxy's Retry-After */
	SENTRY_WAIT_RESET,		/* X-Sentry-Rate-Limit-Reset */
	SENTRY_WAIT_BACKOFF,		/* no header: exponential backoff */
};

#define SENTRY_MAX_WAIT_MS (3600LL * 1000)

/*
 * When (Unix ms) the next request may go after a 429 received at now_ms:
 * Retry-After if present, else the reset time, else backoff(failures).
 * The reset is the server's clock: when the Date header shows our clock
 * off by more than 2 s, the wait is taken relative to Date instead. Waits
 * are capped at SENTRY_MAX_WAIT_MS (a garbled header must not stop the
 * probe for years).
 */
int64_t sentry_retry_at(const struct sentry_headers *h, int64_t now_ms,
    unsigned failures, int64_t base_ms, int64_t max_ms,
    enum sentry_wait *why);

/*
 * X-Sentry-Rate-Limit-Reset in our clock (Unix ms), corrected through
 * Date like sentry_retry_at; -1 without the header.
 */
int64_t sentry_reset_ms(const struct sentry_headers *h, int64_t now_ms);

/* base * 2^(n-1), at most max; n counts failures in a row (>= 1). */
int64_t sentry_backoff_ms(unsigned n, int64_t base_ms, int64_t max_ms);

/*
 * The URL of the Link header's rel="next" when its results="true" (Sentry
 * always sends both links; results says whether a page is there). False
 * when there is no next page or the URL does not fit.
 */
bool sentry_link_next(const char *link, char *url, size_t len);

/* "2021-03-13T12:00:00Z" (or +00:00) as Unix seconds; -1 if not one. */
int64_t sentry_iso_time(const char *s);

/*
 * A running count built from bucketed counts that keep growing while a
 * bucket is in progress (and, with ingestion lag, a little after). It
 * remembers the highest count seen in each recent bucket, so every poll
 * adds exactly what is new: a partial bucket is counted as it grows,
 * never read as a drop, and a late event in an older bucket still counts.
 */
struct sentry_counter {
	struct sentry_point *w;	/* bucket start -> highest count seen */
	size_t n, alloc;
	bool started;
	int64_t counting_from;	/* unseen buckets before this: baseline */
	double total;		/* events seen since the first poll */
};

/*
 * Applies one poll's series (as parsed: increasing starts) covering up to
 * until_s. The first poll only learns the baseline. Buckets starting
 * before keep_from are forgotten (the poll no longer asks for them).
 * Returns the events this poll added, or -1 when out of memory (the
 * counter is then unchanged).
 */
double sentry_counter_apply(struct sentry_counter *c,
    const struct sentry_series *s, int64_t until_s, int64_t keep_from);
void sentry_counter_clear(struct sentry_counter *c);

#endif
