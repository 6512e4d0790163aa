#include "probe/sentry_api.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/jsonc.h"

/* Whole numbers of events fit a double exactly up to 2^53. */
#define MAX_COUNT	9007199254740992.0
/* Bucket starts from 1970 to 5138: anything else is not a time. */
#define MAX_EPOCH_S	100000000000.0

void
sentry_series_clear(struct sentry_series *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

static int
series_push(struct sentry_series *s, int64_t t, double v)
{
	if (s->n == s->alloc) {
		size_t n = s->alloc == 0 ? 64 : s->alloc * 2;
		struct sentry_point *p = realloc(s->p, n * sizeof(*p));

		if (p == NULL)
			return -1;
		s->p = p;
		s->alloc = n;
	}
	s->p[s->n].t = t;
	s->p[s->n++].v = v;
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Parses an untrusted body: cJSON's length-bounded parser, so a body
 * without a terminating NUL is fine. The position goes into err.
 */
static cJSON *
parse_body(const char *body, size_t len, const char *what, char *err,
    size_t errlen)
{
	const char *end = NULL;
	cJSON *doc;

	if (len == 0) {
		fail(err, errlen, "%s: empty body, expected JSON", what);
		return NULL;
	}
	doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (doc == NULL)
		fail(err, errlen, "%s: not valid JSON (error at byte %zu of "
		    "%zu)", what, end != NULL && end >= body ?
		    (size_t)(end - body) : (size_t)0, len);
	return doc;
}

static bool
is_count(const cJSON *n)
{
	return cJSON_IsNumber(n) && isfinite(n->valuedouble) &&
	    n->valuedouble >= 0 && n->valuedouble <= MAX_COUNT;
}

int
sentry_parse_stats(const char *body, size_t len, struct sentry_series *out,
    char *err, size_t errlen)
{
	static const char what[] = "project stats";
	cJSON *doc = parse_body(body, len, what, err, errlen), *item;
	int i = 0, rc = 0;

	sentry_series_clear(out);
	if (doc == NULL)
		return -1;
	if (!cJSON_IsArray(doc)) {
		rc = fail(err, errlen, "%s: expected an array of [timestamp, "
		    "count] pairs, got %s", what, jsonc_type_name(doc));
		goto out;
	}
	if (cJSON_GetArraySize(doc) > SENTRY_MAX_POINTS) {
		rc = fail(err, errlen, "%s: %d buckets, more than the %d "
		    "vigild reads", what, cJSON_GetArraySize(doc),
		    SENTRY_MAX_POINTS);
		goto out;
	}
	cJSON_ArrayForEach(item, doc) {
		const cJSON *t = cJSON_GetArrayItem(item, 0);
		const cJSON *v = cJSON_GetArrayItem(item, 1);

		if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 ||
		    !cJSON_IsNumber(t) || !cJSON_IsNumber(v)) {
			rc = fail(err, errlen, "%s: item %d is not a "
			    "[timestamp, count] pair of numbers", what, i);
			goto out;
		}
		if (t->valuedouble != floor(t->valuedouble) ||
		    t->valuedouble < 0 || t->valuedouble > MAX_EPOCH_S) {
			rc = fail(err, errlen, "%s: item %d: %g is not a "
			    "bucket time in Unix seconds", what, i,
			    t->valuedouble);
			goto out;
		}
		if (!is_count(v)) {
			rc = fail(err, errlen, "%s: item %d: count %g is not a "
			    "number of events", what, i, v->valuedouble);
			goto out;
		}
		if (out->n > 0 && (int64_t)t->valuedouble <=
		    out->p[out->n - 1].t) {
			rc = fail(err, errlen, "%s: item %d: bucket times do "
			    "not increase", what, i);
			goto out;
		}
		if (series_push(out, (int64_t)t->valuedouble,
		    v->valuedouble) != 0) {
			rc = fail(err, errlen, "%s: out of memory", what);
			goto out;
		}
		i++;
	}
out:
	if (rc != 0)
		sentry_series_clear(out);
	cJSON_Delete(doc);
	return rc;
}

static const char *const outcome_names[SENTRY_NOUTCOMES] = {
	[SENTRY_OC_ACCEPTED] = "accepted",
	[SENTRY_OC_FILTERED] = "filtered",
	[SENTRY_OC_RATE_LIMITED] = "rate_limited",
	[SENTRY_OC_INVALID] = "invalid",
	[SENTRY_OC_ABUSE] = "abuse",
	[SENTRY_OC_CLIENT_DISCARD] = "client_discard",
	[SENTRY_OC_CARDINALITY_LIMITED] = "cardinality_limited",
};

const char *
sentry_outcome_name(enum sentry_outcome o)
{
	if ((unsigned)o >= SENTRY_NOUTCOMES)
		return "?";
	return outcome_names[o];
}

void
sentry_outcomes_clear(struct sentry_outcomes *o)
{
	for (size_t i = 0; i < SENTRY_NOUTCOMES; i++)
		sentry_series_clear(&o->s[i]);
	o->unknown = 0;
}

/* The intervals as times; every outcome's series starts as zeros. */
static int
outcome_intervals(const cJSON *iv, struct sentry_outcomes *out, char *err,
    size_t errlen)
{
	static const char what[] = "stats_v2";
	const cJSON *e;
	int i = 0;

	if (!cJSON_IsArray(iv))
		return fail(err, errlen, "%s: expected \"intervals\": an array "
		    "of ISO-8601 times, got %s", what, jsonc_type_name(iv));
	if (cJSON_GetArraySize(iv) > SENTRY_MAX_POINTS)
		return fail(err, errlen, "%s: %d intervals, more than the %d "
		    "vigild reads", what, cJSON_GetArraySize(iv),
		    SENTRY_MAX_POINTS);
	cJSON_ArrayForEach(e, iv) {
		int64_t t = cJSON_IsString(e) ?
		    sentry_iso_time(e->valuestring) : -1;

		if (t < 0)
			return fail(err, errlen, "%s: interval %d is not an "
			    "ISO-8601 UTC time", what, i);
		if (out->s[0].n > 0 && t <= out->s[0].p[out->s[0].n - 1].t)
			return fail(err, errlen, "%s: interval %d: times do "
			    "not increase", what, i);
		for (size_t o = 0; o < SENTRY_NOUTCOMES; o++)
			if (series_push(&out->s[o], t, 0) != 0)
				return fail(err, errlen, "%s: out of memory",
				    what);
		i++;
	}
	return 0;
}

static int
outcome_group(const cJSON *g, int gi, const char *field,
    struct sentry_outcomes *out, char *err, size_t errlen)
{
	static const char what[] = "stats_v2";
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(g, "by");
	const cJSON *oc = cJSON_GetObjectItemCaseSensitive(by, "outcome");
	const cJSON *series = cJSON_GetObjectItemCaseSensitive(g, "series");
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(series, field);
	const cJSON *v;
	size_t o, i = 0;

	if (!cJSON_IsObject(g) || !cJSON_IsObject(by))
		return fail(err, errlen, "%s: group %d is not an object with "
		    "\"by\"", what, gi);
	if (!cJSON_IsString(oc))
		return fail(err, errlen, "%s: group %d has no \"by\".\"outcome\""
		    " (the request asks groupBy=outcome)", what, gi);
	for (o = 0; o < SENTRY_NOUTCOMES; o++)
		if (strcmp(oc->valuestring, outcome_names[o]) == 0)
			break;
	if (!cJSON_IsArray(vals))
		return fail(err, errlen, "%s: group %d (%s) has no "
		    "\"series\".\"%s\" array", what, gi, o < SENTRY_NOUTCOMES ?
		    outcome_names[o] : "?", field);
	if ((size_t)cJSON_GetArraySize(vals) != out->s[0].n)
		return fail(err, errlen, "%s: group %d has %d values for %zu "
		    "intervals", what, gi, cJSON_GetArraySize(vals),
		    out->s[0].n);
	if (o == SENTRY_NOUTCOMES) {
		out->unknown++;
		return 0;
	}
	cJSON_ArrayForEach(v, vals) {
		if (!is_count(v))
			return fail(err, errlen, "%s: group %d (%s), value %zu "
			    "is not a number of events", what, gi,
			    outcome_names[o], i);
		/* Groups split by more than outcome add up. */
		out->s[o].p[i++].v += v->valuedouble;
	}
	return 0;
}

int
sentry_parse_outcomes(const char *body, size_t len, const char *field,
    struct sentry_outcomes *out, char *err, size_t errlen)
{
	cJSON *doc = parse_body(body, len, "stats_v2", err, errlen);
	const cJSON *groups, *g;
	int gi = 0, rc = 0;

	sentry_outcomes_clear(out);
	if (doc == NULL)
		return -1;
	if (!cJSON_IsObject(doc)) {
		rc = fail(err, errlen, "stats_v2: expected an object with "
		    "\"intervals\" and \"groups\", got %s", jsonc_type_name(doc));
		goto out;
	}
	rc = outcome_intervals(cJSON_GetObjectItemCaseSensitive(doc,
	    "intervals"), out, err, errlen);
	if (rc != 0)
		goto out;
	groups = cJSON_GetObjectItemCaseSensitive(doc, "groups");
	if (!cJSON_IsArray(groups)) {
		rc = fail(err, errlen, "stats_v2: expected \"groups\": an "
		    "array, got %s", jsonc_type_name(groups));
		goto out;
	}
	cJSON_ArrayForEach(g, groups) {
		if ((rc = outcome_group(g, gi++, field, out, err,
		    errlen)) != 0)
			goto out;
	}
out:
	if (rc != 0)
		sentry_outcomes_clear(out);
	cJSON_Delete(doc);
	return rc;
}

int
sentry_parse_project_id(const char *body, size_t len, char *id, size_t idlen,
    char *err, size_t errlen)
{
	cJSON *doc = parse_body(body, len, "project", err, errlen);
	const cJSON *v;
	int rc = 0;

	if (doc == NULL)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(doc, "id");
	/* The API sends ids as strings; a number is accepted too. */
	if (cJSON_IsString(v) && v->valuestring[0] != '\0' &&
	    strspn(v->valuestring, "0123456789") == strlen(v->valuestring) &&
	    strlen(v->valuestring) < idlen && strlen(v->valuestring) <= 20)
		snprintf(id, idlen, "%s", v->valuestring);
	else if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble <= MAX_COUNT &&
	    v->valuedouble == floor(v->valuedouble))
		snprintf(id, idlen, "%.0f", v->valuedouble);
	else
		rc = fail(err, errlen, "project: expected an object with a "
		    "numeric \"id\", got %s", cJSON_IsObject(doc) ?
		    "an object without one" : jsonc_type_name(doc));
	cJSON_Delete(doc);
	return rc;
}

int
sentry_parse_event_count(const char *body, size_t len, double *count,
    char *err, size_t errlen)
{
	cJSON *doc = parse_body(body, len, "events", err, errlen);
	const cJSON *data, *row, *v;
	int rc = 0;

	if (doc == NULL)
		return -1;
	data = cJSON_GetObjectItemCaseSensitive(doc, "data");
	row = cJSON_GetArrayItem(data, 0);
	v = cJSON_GetObjectItemCaseSensitive(row, "count()");
	if (!cJSON_IsArray(data))
		rc = fail(err, errlen, "events: expected an object with a "
		    "\"data\" array, got %s", cJSON_IsObject(doc) ?
		    "an object without one" : jsonc_type_name(doc));
	else if (row == NULL)
		*count = 0;	/* Discover leaves out an empty result's row */
	else if (cJSON_GetArraySize(data) != 1 || !cJSON_IsNumber(v) ||
	    v->valuedouble < 0 || v->valuedouble > MAX_COUNT ||
	    v->valuedouble != floor(v->valuedouble))
		rc = fail(err, errlen, "events: expected one row with a whole "
		    "\"count()\" >= 0, got %d row(s)%s",
		    cJSON_GetArraySize(data), cJSON_IsNumber(v) ? " with a "
		    "count out of range" : " without a number \"count()\"");
	else
		*count = v->valuedouble;
	cJSON_Delete(doc);
	return rc;
}

int
sentry_parse_issue_page(const char *body, size_t len, size_t *count,
    char *err, size_t errlen)
{
	cJSON *doc = parse_body(body, len, "issues", err, errlen);
	int rc = 0;

	if (doc == NULL)
		return -1;
	if (!cJSON_IsArray(doc))
		rc = fail(err, errlen, "issues: expected an array of issues, "
		    "got %s", jsonc_type_name(doc));
	else
		*count = (size_t)cJSON_GetArraySize(doc);
	cJSON_Delete(doc);
	return rc;
}

/*
 * Printable ASCII only, cut with "..." when it does not fit. White space
 * is a space and none is kept at either end: Sentry's "Query timeout"
 * text starts and ends with a newline.
 */
static void
printable(const char *s, char *out, size_t outlen)
{
	size_t n = 0, slen;

	if (outlen == 0)
		return;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	slen = strlen(s);
	while (slen > 0 && (s[slen - 1] == ' ' || s[slen - 1] == '\n' ||
	    s[slen - 1] == '\r' || s[slen - 1] == '\t'))
		slen--;
	for (size_t i = 0; i < slen && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	if (n < slen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

void
sentry_error_text(const char *body, size_t len, char *out, size_t outlen)
{
	cJSON *doc;
	const cJSON *d;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (body == NULL || len == 0)
		return;
	doc = cJSON_ParseWithLengthOpts(body, len, NULL, 0);
	if (doc == NULL)
		return;
	d = cJSON_IsObject(doc) ?
	    cJSON_GetObjectItemCaseSensitive(doc, "detail") : doc;
	if (cJSON_IsString(d))
		printable(d->valuestring, out, outlen);
	cJSON_Delete(doc);
}

void
sentry_headers_reset(struct sentry_headers *h)
{
	memset(h, 0, sizeof(*h));
}

/* A whole decimal number, white space around allowed. */
static bool
parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	/* Counts and times only: no sign. */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int64_t
sentry_http_date(const char *s)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	while (*s == ' ')
		s++;
	rest = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (rest == NULL)
		return -1;
	while (*rest == ' ')
		rest++;
	if (*rest != '\0')
		return -1;
	return (int64_t)timegm(&tm);
}

void
sentry_headers_line(struct sentry_headers *h, const char *line, size_t len)
{
	char buf[sizeof(h->link) + 64], *colon, *val;
	size_t n = len;
	long long v;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		sentry_headers_reset(h);
		return;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' ||
	    line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	/*
	 * Longer than any header vigild reads: not one of them, but a Link
	 * that long is said (its pages cannot be followed), not dropped.
	 */
	if (n >= sizeof(buf)) {
		if (strncasecmp(line, "Link:", 5) == 0)
			h->link_too_long = true;
		return;
	}
	memcpy(buf, line, n);
	buf[n] = '\0';
	colon = strchr(buf, ':');
	if (colon == NULL)
		return;
	*colon = '\0';
	val = colon + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	if (strcasecmp(buf, "X-Sentry-Rate-Limit-Limit") == 0 &&
	    parse_ll(val, 0, 1000000000, &v)) {
		h->has_limit = true;
		h->limit = (long)v;
	} else if (strcasecmp(buf, "X-Sentry-Rate-Limit-Remaining") == 0 &&
	    parse_ll(val, 0, 1000000000, &v)) {
		h->has_remaining = true;
		h->remaining = (long)v;
	} else if (strcasecmp(buf, "X-Sentry-Rate-Limit-Reset") == 0 &&
	    parse_ll(val, 0, (long long)MAX_EPOCH_S, &v)) {
		h->has_reset = true;
		h->reset_s = v;
	} else if (strcasecmp(buf,
	    "X-Sentry-Rate-Limit-ConcurrentRemaining") == 0 &&
	    parse_ll(val, 0, 1000000000, &v)) {
		h->has_concurrent = true;
		h->concurrent_remaining = (long)v;
	} else if (strcasecmp(buf, "Retry-After") == 0) {
		int64_t d;

		if (parse_ll(val, 0, (long long)MAX_EPOCH_S, &v)) {
			h->has_retry_after = true;
			h->retry_after_is_date = false;
			h->retry_after_s = v;
		} else if ((d = sentry_http_date(val)) >= 0) {
			h->has_retry_after = true;
			h->retry_after_is_date = true;
			h->retry_after_s = d;
		}
	} else if (strcasecmp(buf, "Date") == 0) {
		int64_t d = sentry_http_date(val);

		if (d >= 0) {
			h->has_date = true;
			h->date_s = d;
		}
	} else if (strcasecmp(buf, "X-Hits") == 0 &&
	    parse_ll(val, 0, 1000000000000LL, &v)) {
		h->has_hits = true;
		h->hits = v;
	} else if (strcasecmp(buf, "X-Max-Hits") == 0 &&
	    parse_ll(val, 0, 1000000000000LL, &v)) {
		h->has_max_hits = true;
		h->max_hits = v;
	} else if (strcasecmp(buf, "Link") == 0) {
		if (strlen(val) < sizeof(h->link))
			snprintf(h->link, sizeof(h->link), "%s", val);
		else
			h->link_too_long = true;
	}
}

int64_t
sentry_backoff_ms(unsigned n, int64_t base_ms, int64_t max_ms)
{
	int64_t d = base_ms > 0 ? base_ms : 1;

	/* Doubling stops at the cap, long before it could overflow. */
	for (unsigned i = 1; i < n && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

int64_t
sentry_reset_ms(const struct sentry_headers *h, int64_t now_ms)
{
	int64_t at;

	if (!h->has_reset)
		return -1;
	at = h->reset_s * 1000;
	/*
	 * The reset is the server's clock. With ours off by more than the
	 * header's one-second grain, translate it through the Date the same
	 * answer carried.
	 */
	if (h->has_date) {
		int64_t skew = now_ms - h->date_s * 1000;

		if (skew > 2000 || skew < -2000)
			at += skew;
	}
	return at;
}

int64_t
sentry_retry_at(const struct sentry_headers *h, int64_t now_ms,
    unsigned failures, int64_t base_ms, int64_t max_ms,
    enum sentry_wait *why)
{
	int64_t wait;

	if (h->has_retry_after) {
		*why = SENTRY_WAIT_RETRY_AFTER;
		if (!h->retry_after_is_date)
			wait = h->retry_after_s * 1000;
		else if (h->has_date)
			wait = (h->retry_after_s - h->date_s) * 1000;
		else
			wait = h->retry_after_s * 1000 - now_ms;
	} else if (h->has_reset) {
		*why = SENTRY_WAIT_RESET;
		wait = sentry_reset_ms(h, now_ms) - now_ms;
	} else {
		*why = SENTRY_WAIT_BACKOFF;
		wait = sentry_backoff_ms(failures, base_ms, max_ms);
	}
	/* A 429 always means "not right now": at least a second. */
	if (wait < 1000)
		wait = 1000;
	if (wait > SENTRY_MAX_WAIT_MS)
		wait = SENTRY_MAX_WAIT_MS;
	return now_ms + wait;
}

bool
sentry_link_next(const char *link, char *url, size_t len)
{
	const char *p = link;

	while (*p != '\0') {
		const char *u0, *u1;
		char rel[32] = "", results[16] = "";

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p != '<')
			return false;
		u0 = p + 1;
		u1 = strchr(u0, '>');
		if (u1 == NULL)
			return false;
		p = u1 + 1;
		/* Parameters: ; name="value" (or a bare value) up to ','. */
		while (*p != '\0' && *p != ',') {
			const char *n0, *v0;
			size_t nl, vl;

			while (*p == ' ' || *p == ';' || *p == '\t')
				p++;
			n0 = p;
			while (*p != '\0' && *p != '=' && *p != ';' &&
			    *p != ',')
				p++;
			nl = (size_t)(p - n0);
			if (*p != '=')
				continue;
			p++;
			if (*p == '"') {
				v0 = ++p;
				while (*p != '\0' && *p != '"')
					p++;
				vl = (size_t)(p - v0);
				if (*p == '"')
					p++;
			} else {
				v0 = p;
				while (*p != '\0' && *p != ';' && *p != ',')
					p++;
				vl = (size_t)(p - v0);
			}
			if (nl == 3 && strncmp(n0, "rel", 3) == 0 &&
			    vl < sizeof(rel))
				snprintf(rel, sizeof(rel), "%.*s", (int)vl, v0);
			else if (nl == 7 && strncmp(n0, "results", 7) == 0 &&
			    vl < sizeof(results))
				snprintf(results, sizeof(results), "%.*s",
				    (int)vl, v0);
		}
		if (strcmp(rel, "next") == 0) {
			if (strcmp(results, "true") != 0 ||
			    (size_t)(u1 - u0) + 1 > len)
				return false;
			snprintf(url, len, "%.*s", (int)(u1 - u0), u0);
			return true;
		}
	}
	return false;
}

int64_t
sentry_iso_time(const char *s)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -1;
	if (*rest == '.') {
		rest++;
		if (*rest < '0' || *rest > '9')
			return -1;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return -1;
	return (int64_t)timegm(&tm);
}

/* Index of the first watermark at or after t. */
static size_t
lower_bound(const struct sentry_counter *c, int64_t t)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->w[mid].t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
counter_forget(struct sentry_counter *c, size_t k)
{
	if (k == 0)
		return;
	memmove(c->w, c->w + k, (c->n - k) * sizeof(c->w[0]));
	c->n -= k;
}

double
sentry_counter_apply(struct sentry_counter *c, const struct sentry_series *s,
    int64_t until_s, int64_t keep_from)
{
	size_t need;
	double added = 0;

	counter_forget(c, lower_bound(c, keep_from));
	/* Old buckets go first should a poll ever outgrow the table. */
	if (c->n + s->n > 2 * SENTRY_MAX_POINTS)
		counter_forget(c, c->n + s->n - 2 * SENTRY_MAX_POINTS);
	need = c->n + s->n;
	if (need > c->alloc) {
		struct sentry_point *w = realloc(c->w, need * sizeof(*w));

		if (w == NULL)
			return -1;
		c->w = w;
		c->alloc = need;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct sentry_point *p = &s->p[i];
		size_t k;

		if (p->t < keep_from)
			continue;
		k = lower_bound(c, p->t);
		if (k < c->n && c->w[k].t == p->t) {
			/* A bucket only grows; a smaller count is not news. */
			if (p->v > c->w[k].v) {
				added += p->v - c->w[k].v;
				c->w[k].v = p->v;
			}
			continue;
		}
		memmove(c->w + k + 1, c->w + k, (c->n - k) * sizeof(c->w[0]));
		c->w[k] = *p;
		c->n++;
		if (p->t >= c->counting_from)
			added += p->v;
	}
	if (!c->started) {
		/* The first poll is the baseline: what was there before. */
		c->started = true;
		c->counting_from = until_s + 1;
		added = 0;
	}
	c->total += added;
	return added;
}

void
sentry_counter_clear(struct sentry_counter *c)
{
	free(c->w);
	memset(c, 0, sizeof(*c));
}
