/*
 * The Sentry web API stand-in: see sim_sentry.h.
 */
#include "sim_sentry.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PROJECT_ID	"4501234"
#define ORG_ID		"1"
#define MAX_BUCKETS	4000
#define MAX_HITS	1000
#define MAX_CANDIDATES	5000	/* snuba.search.max-pre-snuba-candidates */
/* sentry/api/utils.py TIMEOUT_ERROR_MESSAGE, newlines and all. */
#define TIMEOUT_MESSAGE	"\nQuery timeout. Please try with a smaller date " \
			"range or fewer conditions.\n"
#define MAX_LIMIT	100
#define DEFAULT_LIMIT	100
#define BUF_MAX		(4 * 1024 * 1024)
#define CONCURRENT	25
#define DEFAULT_QUERY	"is:unresolved issue.priority:[high,medium]"
#define FIRST_RELEASE	"1.0.0"
#define MAX_TERMS	8	/* release terms of one events query */
#define QUERY_MAX	600

static const char *const ep_keys[SSE_COUNT] = {
	[SSE_PROJECT] = "project",
	[SSE_STATS] = "stats",
	[SSE_STATS_V2] = "stats_v2",
	[SSE_ISSUES] = "issues",
	[SSE_EVENTS] = "events",
};

static const char *const scope_names[SIM_SENTRY_SCOPES] = {
	"project:read", "org:read", "event:read",
};

/* The scope each endpoint needs (Sentry's permission classes). */
static const int ep_scope[SSE_COUNT] = {
	[SSE_PROJECT] = 0, [SSE_STATS] = 0, [SSE_STATS_V2] = 1,
	[SSE_ISSUES] = 2, [SSE_EVENTS] = 1,
};

static const char *const priority_names[] = { "high", "medium", "low" };

/* ---- a growable body: answers here can be larger than struct body ---- */

struct buf {
	char *p;
	size_t len, cap;
	int overflow;
};

__attribute__((format(printf, 2, 3)))
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt,
		              ap);
		va_end(ap);
		if (n < 0) {
			b->overflow = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (b->len + (size_t)n + 1 > BUF_MAX) {
			b->overflow = 1;
			return;
		}
		{
			size_t cap = b->cap == 0 ? 4096 : b->cap * 2;
			char *p;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			p = realloc(b->p, cap);
			if (p == NULL) {
				b->overflow = 1;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

static void buf_json_string(struct buf *b, const char *s)
{
	buf_printf(b, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x80)
			buf_printf(b, "\\u%04x", c < 0x80 ? c : '?');
		else
			buf_printf(b, "%c", c);
	}
	buf_printf(b, "\"");
}

/* Extra headers of one answer. */
struct hdrs {
	const char *name[12];
	char value[12][4800];	/* a Link of two long URLs */
	size_t n;
};

__attribute__((format(printf, 3, 4)))
static void hdr_add(struct hdrs *h, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (h->n >= sizeof(h->name) / sizeof(h->name[0]))
		return;
	h->name[h->n] = name;
	va_start(ap, fmt);
	vsnprintf(h->value[h->n], sizeof(h->value[0]), fmt, ap);
	va_end(ap);
	h->n++;
}

static enum MHD_Result send_answer(struct MHD_Connection *c,
                                   unsigned int status, const char *data,
                                   size_t len, const struct hdrs *h)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)data,
	                                    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                            "application/json") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	for (size_t i = 0; h != NULL && i < h->n; i++) {
		if (MHD_add_response_header(r, h->name[i], h->value[i]) !=
		    MHD_YES) {
			MHD_destroy_response(r);
			return MHD_NO;
		}
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned int status,
                                struct buf *b, const struct hdrs *h)
{
	static const char overflow[] = "{\"detail\":\"response too large\"}";
	enum MHD_Result ret;

	if (b->overflow)
		ret = send_answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, overflow,
		                  sizeof(overflow) - 1, NULL);
	else
		ret = send_answer(c, status, b->p != NULL ? b->p : "",
		                  b->len, h);
	free(b->p);
	return ret;
}

/* {"detail": "..."}, Sentry's error shape. */
static enum MHD_Result send_detail(struct MHD_Connection *c,
                                   unsigned int status, const char *detail,
                                   const struct hdrs *h)
{
	struct buf b = { 0 };

	buf_printf(&b, "{\"detail\":");
	buf_json_string(&b, detail);
	buf_printf(&b, "}");
	return send_buf(c, status, &b, h);
}

/* ---- the event model ---- */

static void push_seg(struct sim_sentry *s, const struct sim_model *m,
                     double t, double capture, double rejected,
                     double filtered);

void sim_sentry_init(struct sim_sentry *s, const char *token,
                     const char *org, const char *project, long limit,
                     double start_wall)
{
	static const struct {
		double age_days;
		int priority, resolved;
		const char *title, *culprit;
	} seed[] = {
		{ 12, 0, 0, "TypeError: Cannot read properties of undefined "
		  "(reading 'id')", "GET /api/orders/:id" },
		{ 6, 1, 0, "Error: connect ETIMEDOUT 10.0.0.12:5432",
		  "db.pool.acquire" },
		{ 3, 2, 0, "Warning: cache stampede on key catalog:*",
		  "cache.get" },
		{ 2, 0, 1, "RangeError: Invalid time value", "formatDate" },
	};

	memset(s, 0, sizeof(*s));
	snprintf(s->token, sizeof(s->token), "%s", token != NULL ? token : "");
	snprintf(s->org, sizeof(s->org), "%s", org);
	snprintf(s->project, sizeof(s->project), "%s", project);
	s->start_wall = start_wall;
	s->limit = limit > 0 ? limit : DEFAULT_LIMIT;
	s->send_hits = 1;
	s->discover = 1;
	snprintf(s->public_url, sizeof(s->public_url),
	         "http://localhost/api/0/");
	for (size_t i = 0; i < SIM_SENTRY_SCOPES; i++)
		s->scopes[i] = 1;
	s->nseg = 1;
	s->seg[0].capture = 1.0;
	/* Everything starts on one release that serves all traffic. */
	s->nrel = 1;
	s->rel[0].t0 = start_wall;
	snprintf(s->rel[0].version, sizeof(s->rel[0].version), "%s",
	         FIRST_RELEASE);
	s->rel[0].share = s->rel[0].factor = s->rel[0].frac = 1.0;
	s->next_id = 1001;
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		struct sim_issue *is = &s->issues[s->nissues++];

		is->id = s->next_id++;
		is->first_seen = floor(start_wall - seed[i].age_days * 86400);
		is->priority = seed[i].priority;
		is->resolved = seed[i].resolved;
		snprintf(is->title, sizeof(is->title), "%s", seed[i].title);
		snprintf(is->culprit, sizeof(is->culprit), "%s",
		         seed[i].culprit);
	}
}

void sim_sentry_set_public_url(struct sim_sentry *s, const char *url)
{
	snprintf(s->public_url, sizeof(s->public_url), "%s", url);
}

static void add_issue(struct sim_sentry *s, double first_seen, int priority,
                      const char *title, const char *culprit)
{
	struct sim_issue *is;

	if (s->nissues >= SIM_SENTRY_MAX_ISSUES)
		return;
	is = &s->issues[s->nissues++];
	memset(is, 0, sizeof(*is));
	is->id = s->next_id++;
	is->first_seen = first_seen;
	is->priority = priority;
	snprintf(is->title, sizeof(is->title), "%s", title);
	snprintf(is->culprit, sizeof(is->culprit), "%s", culprit);
}

void sim_sentry_on_switch(struct sim_sentry *s, enum sim_scenario sc,
                          double now_wall)
{
	char title[96];

	if (sc != SIM_ERROR_SPIKE)
		return;
	/* A spike is new problems: two issues first seen now. */
	s->spikes++;
	snprintf(title, sizeof(title), "Error: upstream responded 503 "
	         "(spike %u)", s->spikes);
	add_issue(s, now_wall, 0, title, "POST /api/checkout");
	snprintf(title, sizeof(title), "TimeoutError: query exceeded "
	         "5000 ms (spike %u)", s->spikes);
	add_issue(s, now_wall, 0, title, "orders.search");
}

static const struct sim_sentry_seg *seg_at(const struct sim_sentry *s,
                                           double t)
{
	const struct sim_sentry_seg *g = &s->seg[0];

	for (size_t i = 1; i < s->nseg && s->seg[i].t0 <= t; i++)
		g = &s->seg[i];
	return g;
}

/* Sentry's cumulative received, rejected, filtered at elapsed t. */
static void counts_at(const struct sim_sentry *s, const struct sim_model *m,
                      double t, double *recv, double *rej, double *filt)
{
	const struct sim_sentry_seg *g;
	double de;

	if (t < 0)
		t = 0;
	g = seg_at(s, t);
	de = sim_model_errors_at(m, t) - g->e0;
	if (de < 0)
		de = 0;
	*recv = g->recv0 + g->capture * de;
	*rej = g->rej0 + g->capture * g->rejected * de;
	*filt = g->filt0 + g->capture * g->filtered * de;
}

static void push_seg(struct sim_sentry *s, const struct sim_model *m,
                     double t, double capture, double rejected,
                     double filtered)
{
	struct sim_sentry_seg g;

	counts_at(s, m, t, &g.recv0, &g.rej0, &g.filt0);
	g.t0 = t;
	g.e0 = sim_model_errors_at(m, t);
	g.capture = capture;
	g.rejected = rejected;
	g.filtered = filtered;
	if (s->nseg == SIM_SENTRY_MAX_SEGS) {
		memmove(&s->seg[0], &s->seg[1],
		        (s->nseg - 1) * sizeof(s->seg[0]));
		s->nseg--;
	}
	s->seg[s->nseg++] = g;
}

/* From now_wall on, version serves share of the traffic, prev the rest. */
static void push_release(struct sim_sentry *s, double now_wall,
                         const char *version, const char *prev, double share,
                         double factor)
{
	struct sim_release_seg g;

	memset(&g, 0, sizeof(g));
	g.t0 = now_wall;
	snprintf(g.version, sizeof(g.version), "%s", version);
	snprintf(g.prev, sizeof(g.prev), "%s", prev);
	g.share = share;
	g.factor = factor;
	/* Errors per request: factor on version's share, 1 on the rest. */
	g.frac = share >= 1 ? 1.0 : share * factor /
	                            (share * factor + (1 - share));
	if (s->nrel == SIM_SENTRY_MAX_RELEASES) {
		memmove(&s->rel[0], &s->rel[1],
		        (s->nrel - 1) * sizeof(s->rel[0]));
		s->nrel--;
	}
	s->rel[s->nrel++] = g;
}

enum stat_kind { ST_RECEIVED, ST_REJECTED, ST_FILTERED, ST_ACCEPTED };

/* Events of one kind in [a, b) (unix seconds), up to now. */
static double bucket_count(const struct sim_sentry *s,
                           const struct sim_model *m, double a, double b,
                           double now_wall, enum stat_kind k)
{
	double x[2][3], ta, tb, v[2];

	/* Sentry stamps an event when received, records it after processing. */
	if (b > now_wall - s->delay)
		b = now_wall - s->delay;
	if (b <= s->start_wall || b <= a)
		return 0;
	ta = a - s->start_wall;
	tb = b - s->start_wall;
	counts_at(s, m, ta, &x[0][0], &x[0][1], &x[0][2]);
	counts_at(s, m, tb, &x[1][0], &x[1][1], &x[1][2]);
	for (int i = 0; i < 2; i++) {
		/* Whole events: floors of the cumulative counts. */
		double r = floor(x[i][0]), j = floor(x[i][1]);
		double f = floor(x[i][2]);

		switch (k) {
		case ST_RECEIVED: v[i] = r; break;
		case ST_REJECTED: v[i] = j; break;
		case ST_FILTERED: v[i] = f; break;
		default: v[i] = r - j - f; break;
		}
	}
	return v[1] - v[0] > 0 ? v[1] - v[0] : 0;
}

/* Accepted events in [a, b) (unix seconds), up to now, unrounded. */
static double accepted_real(const struct sim_sentry *s,
                            const struct sim_model *m, double a, double b,
                            double now_wall)
{
	double r[2], j[2], f[2], d;

	if (b > now_wall - s->delay)
		b = now_wall - s->delay;
	if (a < s->start_wall)
		a = s->start_wall;
	if (b <= a)
		return 0;
	counts_at(s, m, a - s->start_wall, &r[0], &j[0], &f[0]);
	counts_at(s, m, b - s->start_wall, &r[1], &j[1], &f[1]);
	d = (r[1] - j[1] - f[1]) - (r[0] - j[0] - f[0]);
	return d > 0 ? d : 0;
}

/*
 * Late events stamped in [a, b): recorded now, counted in the bucket of
 * their stamp (Sentry's TSDB and outcomes key events by received time).
 */
static double late_count(const struct sim_sentry *s, double a, double b)
{
	double n = 0;

	for (size_t i = 0; i < s->nlate; i++)
		if (s->late[i].t >= a && s->late[i].t < b)
			n += s->late[i].n;
	return n;
}

/* ---- requests ---- */

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* "10s", "5m", "1h", "1d" or plain seconds; -1 when not a period. */
static long parse_period(const char *v)
{
	char *end;
	long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	n = strtol(v, &end, 10);
	if (n <= 0 || n > 90L * 86400)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return n;
	if (strcmp(end, "m") == 0)
		return n * 60;
	if (strcmp(end, "h") == 0)
		return n * 3600;
	if (strcmp(end, "d") == 0)
		return n * 86400;
	if (strcmp(end, "w") == 0)
		return n * 7 * 86400;
	return -1;
}

/* Unix seconds, or an ISO-8601 UTC time; -1 when neither. */
static double parse_time(const char *v)
{
	struct tm tm;
	const char *rest;
	char *end;
	double d;

	if (v == NULL)
		return -1;
	d = strtod(v, &end);
	if (end != v && *end == '\0' && d >= 0)
		return d;
	memset(&tm, 0, sizeof(tm));
	rest = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -1;
	if (*rest == '.')
		while (*++rest >= '0' && *rest <= '9')
			;
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0 &&
	    *rest != '\0')
		return -1;
	return (double)timegm(&tm);
}

static void iso(double t, char *out, size_t len)
{
	time_t s = (time_t)floor(t);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The rate-limit headers of an answer on endpoint ep. */
static void limit_headers(const struct sim_sentry *s, enum sim_sentry_ep ep,
                          struct hdrs *h)
{
	long left = s->limit - s->used[ep];

	if (s->self_hosted)
		return;
	hdr_add(h, "X-Sentry-Rate-Limit-Limit", "%ld", s->limit);
	hdr_add(h, "X-Sentry-Rate-Limit-Remaining", "%ld", left > 0 ? left : 0);
	hdr_add(h, "X-Sentry-Rate-Limit-Reset", "%ld", s->window[ep] + 1);
	hdr_add(h, "X-Sentry-Rate-Limit-ConcurrentLimit", "%d", CONCURRENT);
	hdr_add(h, "X-Sentry-Rate-Limit-ConcurrentRemaining", "%d",
	        CONCURRENT - 1);
}

static void answer_project(struct sim_sentry *s, struct buf *b)
{
	char created[32];

	iso(s->start_wall - 30 * 86400, created, sizeof(created));
	buf_printf(b, "{\"id\":\"" PROJECT_ID "\",\"slug\":");
	buf_json_string(b, s->project);
	buf_printf(b, ",\"name\":");
	buf_json_string(b, s->project);
	buf_printf(b, ",\"platform\":\"node\",\"dateCreated\":\"%s\","
	           "\"isBookmarked\":false,\"isMember\":true,\"features\":"
	           "[\"releases\"],\"firstEvent\":\"%s\",\"hasAccess\":true,"
	           "\"status\":\"active\",\"organization\":{\"id\":\"" ORG_ID
	           "\",\"slug\":", created, created);
	buf_json_string(b, s->org);
	buf_printf(b, ",\"name\":");
	buf_json_string(b, s->org);
	buf_printf(b, "}}");
}

/* stats/: [[bucket, count], ...]; 400 (with why) on a bad parameter. */
static const char *answer_stats(struct sim_sentry *s, struct sim_model *m,
                                struct MHD_Connection *c, double now,
                                struct buf *b)
{
	const char *stat = arg(c, "stat");
	const char *rv = arg(c, "resolution");
	long res = rv != NULL ? parse_period(rv) : 3600;
	double until = arg(c, "until") != NULL ? parse_time(arg(c, "until"))
	                                       : now;
	double since = arg(c, "since") != NULL ? parse_time(arg(c, "since"))
	                                       : until - 86400;
	enum stat_kind k;
	double t0, t1;

	if (stat == NULL || strcmp(stat, "received") == 0)
		k = ST_RECEIVED;
	else if (strcmp(stat, "rejected") == 0)
		k = ST_REJECTED;
	else if (strcmp(stat, "blacklisted") == 0)
		k = ST_FILTERED;
	else if (strcmp(stat, "generated") == 0)
		k = ST_RECEIVED;
	else
		return "Invalid stat";
	/*
	 * Only the TSDB's rollups (10s, 1h, 1d), as Sentry's StatsMixin.
	 * _parse_args (sentry/api/base.py) checks against tsdb.get_rollups().
	 */
	if (res != 10 && res != 3600 && res != 86400)
		return "Invalid resolution";
	if (since < 0 || until < 0 || since > until)
		return "Invalid since/until";
	t0 = floor(since / (double)res) * (double)res;
	t1 = floor(until / (double)res) * (double)res;
	if ((t1 - t0) / (double)res + 1 > MAX_BUCKETS)
		return "Too many buckets";
	buf_printf(b, "[");
	for (double t = t0; t <= t1; t += (double)res)
		buf_printf(b, "%s[%.0f,%.0f]", t > t0 ? "," : "", t,
		           bucket_count(s, m, t, t + (double)res, now, k) +
		           (k == ST_RECEIVED ? late_count(s, t, t + (double)res)
		                             : 0));
	buf_printf(b, "]");
	return NULL;
}

/* statsPeriod, or start and end: the span [start, end) asked for. */
static const char *parse_span(struct MHD_Connection *c, const char *period,
                              double now, double *start, double *end)
{
	if (period != NULL) {
		long p = parse_period(period);

		if (p <= 0)
			return "Invalid statsPeriod";
		*end = now;
		*start = now - (double)p;
		return NULL;
	}
	*start = parse_time(arg(c, "start"));
	*end = parse_time(arg(c, "end"));
	if (*start < 0 || *end < 0 || *start > *end)
		return "start and end, or statsPeriod, are required";
	return NULL;
}

static const char *answer_stats_v2(struct sim_sentry *s, struct sim_model *m,
                                   struct MHD_Connection *c, double now,
                                   struct buf *b)
{
	static const struct {
		const char *name;
		enum stat_kind k;
		int always;
	} outcomes[] = {
		{ "accepted", ST_ACCEPTED, 1 },
		{ "filtered", ST_FILTERED, 0 },
		{ "rate_limited", ST_REJECTED, 0 },
	};
	const char *field = arg(c, "field"), *cat = arg(c, "category");
	const char *group = arg(c, "groupBy"), *period = arg(c, "statsPeriod");
	const char *proj = arg(c, "project"), *bad;
	long iv = arg(c, "interval") != NULL ? parse_period(arg(c, "interval"))
	                                     : 3600;
	double start, end, t0, t1;
	char a[32], e[32];
	int first = 1;

	if (field == NULL)
		return "At least one \"field\" is required.";
	if (strcmp(field, "sum(quantity)") != 0 &&
	    strcmp(field, "sum(times_seen)") != 0)
		return "Invalid field";
	if (cat == NULL && (group == NULL || strcmp(group, "category") != 0))
		return "Query must have category as groupby or filter";
	if (cat != NULL && strcmp(cat, "error") != 0)
		return "This stand-in knows only category=error";
	if (group == NULL || strcmp(group, "outcome") != 0)
		return "This stand-in groups by outcome only";
	if (proj != NULL && strcmp(proj, PROJECT_ID) != 0 &&
	    strcmp(proj, "-1") != 0)
		return "Invalid project";
	/*
	 * sentry/snuba/sessions_v2.py get_constrained_date_range, which
	 * outcomes.py calls with a one-hour minimum: its three messages.
	 */
	if (iv <= 0)
		return "Invalid interval";
	if (iv > 86400)
		return "The interval has to be less than one day.";
	if (86400 % iv != 0)
		return "The interval should divide one day without a remainder.";
	if (iv % 3600 != 0)
		return "The interval has to be a multiple of the minimum interval "
		       "of one hour.";
	if ((bad = parse_span(c, period, now, &start, &end)) != NULL)
		return bad;
	/* Snapped to the interval: the last bucket is partial. */
	t0 = floor(start / (double)iv) * (double)iv;
	t1 = floor(end / (double)iv) * (double)iv;
	if ((t1 - t0) / (double)iv + 1 > MAX_BUCKETS)
		return "Too many buckets";
	iso(t0, a, sizeof(a));
	iso(t1 + (double)iv, e, sizeof(e));
	buf_printf(b, "{\"start\":\"%s\",\"end\":\"%s\",\"intervals\":[", a, e);
	for (double t = t0; t <= t1; t += (double)iv) {
		iso(t, a, sizeof(a));
		buf_printf(b, "%s\"%s\"", t > t0 ? "," : "", a);
	}
	buf_printf(b, "],\"groups\":[");
	for (size_t o = 0; o < sizeof(outcomes) / sizeof(outcomes[0]); o++) {
		double total = 0;

		for (double t = t0; t <= t1; t += (double)iv)
			total += bucket_count(s, m, t, t + (double)iv, now,
			                      outcomes[o].k) +
			         (outcomes[o].k == ST_ACCEPTED ?
			          late_count(s, t, t + (double)iv) : 0);
		/* Sentry leaves out groups without data. */
		if (total == 0 && !outcomes[o].always)
			continue;
		buf_printf(b, "%s{\"by\":{\"outcome\":\"%s\"},\"totals\":"
		           "{\"%s\":%.0f},\"series\":{\"%s\":[", first ? "" : ",",
		           outcomes[o].name, field, total, field);
		for (double t = t0; t <= t1; t += (double)iv)
			buf_printf(b, "%s%.0f", t > t0 ? "," : "",
			           bucket_count(s, m, t, t + (double)iv, now,
			                        outcomes[o].k) +
			           (outcomes[o].k == ST_ACCEPTED ?
			            late_count(s, t, t + (double)iv) : 0));
		buf_printf(b, "]}}");
		first = 0;
	}
	buf_printf(b, "]}");
	return NULL;
}

/* The release terms of an events query; an event must pass them all. */
struct event_filter {
	char buf[QUERY_MAX];	/* the query, its release values cut out */
	size_t n;
	const char *rel[MAX_TERMS];
	int neg[MAX_TERMS];
};

/*
 * Parses the part of Discover's search syntax this stand-in knows: terms
 * separated by spaces, event.type:error (required), release:V,
 * release:"V" and !release:V. NULL, or why not (in why, naming the term).
 */
static const char *parse_event_query(const char *q, struct event_filter *f,
                                     char *why, size_t wlen)
{
	char *p;
	int type = 0;

	memset(f, 0, sizeof(*f));
	if (q == NULL)
		return "The query needs event.type:error";
	if (strlen(q) >= sizeof(f->buf))
		return "query too long";
	snprintf(f->buf, sizeof(f->buf), "%s", q);
	p = f->buf;
	for (;;) {
		char *term, *key, *colon, *val, *next;
		size_t klen, vlen;
		int neg, quoted;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		term = p;
		neg = *p == '!';
		key = p + neg;
		colon = key + strcspn(key, ": \"");
		if (*colon != ':')
			goto unsupported;
		klen = (size_t)(colon - key);
		val = colon + 1;
		quoted = *val == '"';
		if (quoted) {
			char *close = strchr(val + 1, '"');

			if (close == NULL) {
				snprintf(why, wlen, "Unterminated quote in the "
				         "search term %s", term);
				return why;
			}
			val++;
			vlen = (size_t)(close - val);
			next = close + 1;
		} else {
			vlen = strcspn(val, " \"");
			next = val + vlen;
		}
		/* A term ends at a space: release:"a"b is not a term. */
		if (*next != ' ' && *next != '\0')
			goto unsupported;
		if (klen == 10 && strncmp(key, "event.type", 10) == 0) {
			if (neg || vlen != 5 || strncmp(val, "error", 5) != 0) {
				snprintf(why, wlen, "This stand-in counts error "
				         "events only: %.*s",
				         (int)(next - term), term);
				return why;
			}
			type = 1;
		} else if (klen == 7 && strncmp(key, "release", 7) == 0) {
			if (vlen == 0) {
				snprintf(why, wlen, "Empty release in the search "
				         "term %.*s", (int)(next - term), term);
				return why;
			}
			if (f->n == MAX_TERMS)
				return "Too many release terms";
			f->rel[f->n] = val;
			f->neg[f->n] = neg;
			f->n++;
		} else {
			goto unsupported;
		}
		/* Cut the value out; an unquoted one ends at the space. */
		p = !quoted && *next != '\0' ? next + 1 : next;
		val[vlen] = '\0';
		continue;
unsupported:
		snprintf(why, wlen, "This stand-in does not know the search "
		         "term %.*s", (int)strcspn(term, " "), term);
		return why;
	}
	if (!type)
		return "The query needs event.type:error";
	return NULL;
}

/* Whether events of release rel pass every term of f. */
static int release_passes(const struct event_filter *f, const char *rel)
{
	for (size_t i = 0; i < f->n; i++)
		if ((strcmp(rel, f->rel[i]) == 0) == f->neg[i])
			return 0;
	return 1;
}

/*
 * Accepted events in [a, b), unrounded: all, those passing f and the
 * rest. Pass and fail are computed alike, so release:V's pass and
 * !release:V's fail are the same number, bit for bit.
 */
static void release_split(const struct sim_sentry *s,
                          const struct sim_model *m, double a, double b,
                          double now_wall, const struct event_filter *f,
                          double *all, double *pass, double *fail)
{
	*all = *pass = *fail = 0;
	/* Piece 0 is before the oldest segment, piece i is rel[i - 1]'s. */
	for (size_t i = 0; i <= s->nrel; i++) {
		double lo = i == 0 ? a : s->rel[i - 1].t0;
		double hi = i < s->nrel ? s->rel[i].t0 : b;
		double x = lo > a ? lo : a, y = hi < b ? hi : b, d, wp, wf;

		if (y <= x)
			continue;
		d = accepted_real(s, m, x, y, now_wall);
		if (i == 0) {
			int ok = release_passes(f, s->rel[0].prev);

			wp = ok ? 1.0 : 0.0;
			wf = ok ? 0.0 : 1.0;
		} else {
			const struct sim_release_seg *g = &s->rel[i - 1];
			int vp = release_passes(f, g->version);
			int pp = release_passes(f, g->prev);

			wp = (vp ? g->frac : 0) + (pp ? 1 - g->frac : 0);
			wf = (vp ? 0 : g->frac) + (pp ? 0 : 1 - g->frac);
		}
		*all += d;
		*pass += d * wp;
		*fail += d * wf;
	}
}

/*
 * Whole events of an unrounded part of all_real, all being the whole
 * events of the span: the floor, and all when nothing is left out.
 */
static double whole_part(double part, double all_real, double all)
{
	double n;

	if (part >= all_real)
		return all;
	n = floor(part + 1e-6);
	return n < 0 ? 0 : n > all ? all : n;
}

struct field_scan {
	int n;
	const char *bad;	/* the first field that is not count() */
};

static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
	struct field_scan *fs = cls;

	(void)kind;
	if (strcmp(key, "field") != 0)
		return MHD_YES;
	fs->n++;
	if (fs->bad == NULL && (value == NULL || strcmp(value, "count()") != 0))
		fs->bad = value != NULL ? value : "";
	return MHD_YES;
}

/* events/?field=count(): the accepted error events of a span. */
static const char *answer_events(struct sim_sentry *s, struct sim_model *m,
                                 struct MHD_Connection *c, double now,
                                 struct buf *b, char *why, size_t wlen)
{
	const char *period = arg(c, "statsPeriod"), *proj = arg(c, "project");
	const char *ds = arg(c, "dataset"), *bad;
	struct field_scan fs = { 0, NULL };
	struct event_filter f;
	double start, end, all, all_real, pass, fail, n;
	int positive = 0;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, scan_field, &fs);
	if (fs.n == 0)
		return "No columns selected";
	if (fs.bad != NULL) {
		snprintf(why, wlen, "This stand-in knows only field=count(), "
		         "not %.200s", fs.bad);
		return why;
	}
	if (proj != NULL && strcmp(proj, PROJECT_ID) != 0 &&
	    strcmp(proj, "-1") != 0)
		return "Invalid project";
	/*
	 * Sentry's published schema for this endpoint (2026) requires
	 * dataset and no longer lists discover; the wording is the
	 * stand-in's own, the rule the schema's.
	 */
	if (ds == NULL) {
		s->no_dataset++;
		return "dataset is required (errors, transactions, ...)";
	}
	if (strcmp(ds, "errors") != 0) {
		snprintf(why, wlen, "Invalid dataset: %.100s (this stand-in "
		         "counts errors only)", ds);
		return why;
	}
	if ((bad = parse_event_query(arg(c, "query"), &f, why, wlen)) != NULL)
		return bad;
	if ((bad = parse_span(c, period, now, &start, &end)) != NULL)
		return bad;
	/* The same whole events stats_v2 reports as accepted for the span. */
	all = bucket_count(s, m, start, end, now, ST_ACCEPTED);
	release_split(s, m, start, end, now, &f, &all_real, &pass, &fail);
	for (size_t i = 0; i < f.n; i++)
		positive |= !f.neg[i];
	/*
	 * Negations only: all minus the rest, so that release:V and
	 * !release:V add up to all exactly.
	 */
	n = positive ? whole_part(pass, all_real, all)
	             : all - whole_part(fail, all_real, all);
	buf_printf(b, "{\"data\":[{\"count()\":%.0f}],\"meta\":{\"fields\":"
	           "{\"count()\":\"integer\"},\"units\":{\"count()\":null}}}",
	           n);
	return NULL;
}

/* What an issues query asks for. */
struct issue_filter {
	int status;		/* -1 any, 0 unresolved, 1 resolved */
	double first_after;	/* unix s, 0: any */
	int priorities;		/* bit per priority; 0: any */
	char text[128];		/* free text in the title */
};

/* Parses the search query this stand-in understands; NULL or why not. */
static const char *parse_query(const char *q, double now,
                               struct issue_filter *f)
{
	char buf[600], *tok, *save = NULL;

	memset(f, 0, sizeof(*f));
	f->status = -1;
	if (strlen(q) >= sizeof(buf))
		return "query too long";
	snprintf(buf, sizeof(buf), "%s", q);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "is:unresolved") == 0) {
			f->status = 0;
		} else if (strcmp(tok, "is:resolved") == 0) {
			f->status = 1;
		} else if (strncmp(tok, "firstSeen:-", 11) == 0 ||
		           strncmp(tok, "age:-", 5) == 0) {
			const char *v = strchr(tok, '-') + 1;
			size_t n = strlen(v);
			long p;

			/* Relative dates: m, h, d, w; no seconds. */
			if (n == 0 || v[n - 1] == 's' ||
			    (p = parse_period(v)) <= 0)
				return "Invalid format for numeric search";
			f->first_after = now - (double)p;
		} else if (strncmp(tok, "issue.priority:", 15) == 0) {
			const char *v = tok + 15;

			for (int i = 0; i < 3; i++)
				if (strstr(v, priority_names[i]) != NULL)
					f->priorities |= 1 << i;
			if (f->priorities == 0)
				return "Invalid priority";
		} else if (strchr(tok, ':') != NULL) {
			return "This stand-in does not know that search key";
		} else {
			size_t l = strlen(f->text);

			snprintf(f->text + l, sizeof(f->text) - l, "%s%s",
			         l > 0 ? " " : "", tok);
		}
	}
	return NULL;
}

/*
 * Whether Postgres would pick the issue as a candidate: status, first
 * seen and priority are columns of the group table; the text is Snuba's.
 */
static int issue_candidate(const struct sim_issue *is,
                           const struct issue_filter *f)
{
	if (f->status >= 0 && is->resolved != f->status)
		return 0;
	if (f->first_after > 0 && is->first_seen < f->first_after)
		return 0;
	if (f->priorities != 0 && !(f->priorities & (1 << is->priority)))
		return 0;
	return 1;
}

static int issue_matches(const struct sim_issue *is,
                         const struct issue_filter *f)
{
	if (!issue_candidate(is, f))
		return 0;
	if (f->text[0] != '\0' && strcasestr(is->title, f->text) == NULL)
		return 0;
	return 1;
}

/*
 * X-Hits over too many candidates: Sentry's PostgresSnubaQueryExecutor
 * (sentry/search/snuba/executors.py) then counts a sample and scales it
 * up; here a fixed error within +-10 % drawn from the count itself.
 */
static size_t estimate_hits(size_t n)
{
	unsigned long long x = (unsigned long long)n * 2654435761ULL;
	double f = 0.9 + 0.2 * (double)(x % 1000) / 1000.0;
	double e = floor((double)n * f + 0.5);

	/* An estimate never lands on the truth: tests can tell. */
	if ((size_t)e == n)
		e += n > 0 ? 1 : 0;
	return (size_t)e;
}

static void issue_json(const struct sim_sentry *s, const struct sim_issue *is,
                       double now, struct buf *b)
{
	char first[32], last[32];

	iso(is->first_seen, first, sizeof(first));
	iso(is->resolved ? is->first_seen + 3600 : now, last, sizeof(last));
	buf_printf(b, "{\"id\":\"%u\",\"shortId\":\"PORTAL-%X\",\"title\":",
	           is->id, is->id);
	buf_json_string(b, is->title);
	buf_printf(b, ",\"culprit\":");
	buf_json_string(b, is->culprit);
	buf_printf(b, ",\"level\":\"error\",\"status\":\"%s\",\"priority\":"
	           "\"%s\",\"count\":\"%u\",\"userCount\":%u,\"firstSeen\":"
	           "\"%s\",\"lastSeen\":\"%s\",\"permalink\":"
	           "\"https://sentry.example/organizations/%s/issues/%u/\","
	           "\"project\":{\"id\":\"" PROJECT_ID "\",\"slug\":",
	           is->resolved ? "resolved" : "unresolved",
	           priority_names[is->priority], 40 + is->id % 97,
	           3 + is->id % 11, first, last, s->org, is->id);
	buf_json_string(b, s->project);
	buf_printf(b, "}}");
}

/* Percent-encodes s for a query string. */
static void url_escape(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s != '\0' && n + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, len - n, "%%%02X", c);
	}
	out[n] = '\0';
}

static const char *answer_issues(struct sim_sentry *s,
                                 struct MHD_Connection *c, double now,
                                 struct buf *b, struct hdrs *h)
{
	const char *q = arg(c, "query"), *lim = arg(c, "limit");
	const char *cur = arg(c, "cursor"), *proj = arg(c, "project");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                               "Host");
	const char *why;
	struct issue_filter f;
	/* Under the server's lock: one request at a time uses it. */
	static size_t match[SIM_SENTRY_MAX_ISSUES];
	size_t n = 0, candidates = 0, hits;
	long limit = 100, offset = 0;
	char eq[1800], base[2300];

	(void)host;

	if (q == NULL) {
		/* What current Sentry applies when query= is left out. */
		s->without_query++;
		q = DEFAULT_QUERY;
	}
	if (proj != NULL && strcmp(proj, PROJECT_ID) != 0)
		return "Invalid project";
	if ((why = parse_query(q, now, &f)) != NULL)
		return why;
	if (lim != NULL && (parse_long(lim, 1, MAX_LIMIT, &limit) < 0))
		return "Invalid limit";
	if (cur != NULL) {
		/* "value:offset:is_prev" */
		const char *c1 = strchr(cur, ':');
		char *end;

		offset = c1 != NULL ? strtol(c1 + 1, &end, 10) : -1;
		if (c1 == NULL || offset < 0 || *end != ':')
			return "Invalid cursor";
	}
	for (size_t i = 0; i < s->nissues; i++) {
		candidates += (size_t)issue_candidate(&s->issues[i], &f);
		if (issue_matches(&s->issues[i], &f))
			match[n++] = i;
	}
	/* Newest first, like the stream's default sort by date. */
	buf_printf(b, "[");
	for (long i = offset; i < offset + limit && (size_t)i < n; i++) {
		if (i > offset)
			buf_printf(b, ",");
		issue_json(s, &s->issues[match[n - 1 - (size_t)i]], now, b);
	}
	buf_printf(b, "]");
	/*
	 * No candidates: the executor's empty_result, whose hits are None,
	 * so Sentry's paginate() sends neither X-Hits nor X-Max-Hits.
	 */
	hits = candidates > MAX_CANDIDATES ? estimate_hits(n) : n;
	if (s->send_hits && n > 0) {
		hdr_add(h, "X-Hits", "%zu",
		        hits < MAX_HITS ? hits : (size_t)MAX_HITS);
		hdr_add(h, "X-Max-Hits", "%d", MAX_HITS);
	}
	url_escape(q, eq, sizeof(eq));
	/*
	 * Sentry's build_cursor_link (sentry/api/base.py) takes the host
	 * from absolute_uri(), i.e. system.url-prefix, not the request.
	 */
	snprintf(base, sizeof(base), "%sorganizations/%s/issues/"
	         "?project=%s&query=%s&limit=%ld&cursor=0", s->public_url,
	         s->org, proj != NULL ? proj : PROJECT_ID, eq, limit);
	/* Both links always; results says whether there is a page. */
	hdr_add(h, "Link", "<%s:%ld:1>; rel=\"previous\"; results=\"%s\"; "
	        "cursor=\"0:%ld:1\", <%s:%ld:0>; rel=\"next\"; results=\"%s\"; "
	        "cursor=\"0:%ld:0\"", base,
	        offset - limit > 0 ? offset - limit : 0,
	        offset > 0 ? "true" : "false",
	        offset - limit > 0 ? offset - limit : 0, base, offset + limit,
	        (size_t)(offset + limit) < n ? "true" : "false",
	        offset + limit);
	return NULL;
}

/* Which endpoint a path is, or SSE_COUNT. */
static enum sim_sentry_ep route(const struct sim_sentry *s, const char *url,
                                int *known_owner)
{
	char want[256];

	*known_owner = 1;
	snprintf(want, sizeof(want), "/api/0/projects/%s/%s/", s->org,
	         s->project);
	if (strcmp(url, want) == 0)
		return SSE_PROJECT;
	snprintf(want, sizeof(want), "/api/0/projects/%s/%s/stats/", s->org,
	         s->project);
	if (strcmp(url, want) == 0)
		return SSE_STATS;
	snprintf(want, sizeof(want), "/api/0/organizations/%s/stats_v2/",
	         s->org);
	if (strcmp(url, want) == 0)
		return SSE_STATS_V2;
	snprintf(want, sizeof(want), "/api/0/organizations/%s/issues/",
	         s->org);
	if (strcmp(url, want) == 0)
		return SSE_ISSUES;
	snprintf(want, sizeof(want), "/api/0/organizations/%s/events/",
	         s->org);
	if (strcmp(url, want) == 0)
		return SSE_EVENTS;
	*known_owner = 0;
	/* Right shape, wrong slugs: still counted against its endpoint. */
	if (strncmp(url, "/api/0/projects/", 16) == 0)
		return strstr(url, "/stats/") != NULL ? SSE_STATS : SSE_PROJECT;
	if (strncmp(url, "/api/0/organizations/", 21) == 0) {
		if (strstr(url, "/stats_v2/") != NULL)
			return SSE_STATS_V2;
		return strstr(url, "/events/") != NULL ? SSE_EVENTS
		                                        : SSE_ISSUES;
	}
	return SSE_COUNT;
}

static int authorized(const struct sim_sentry *s, struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            "Authorization");

	return s->token[0] != '\0' && a != NULL &&
	       strncmp(a, "Bearer ", 7) == 0 && strcmp(a + 7, s->token) == 0;
}

enum MHD_Result sim_sentry_handle(struct sim_sentry *s, mtx_t *lock,
                                  struct sim_model *m, double elapsed,
                                  double now_wall, struct MHD_Connection *c,
                                  const char *url, const char *method)
{
	struct buf b = { 0 };
	struct hdrs h = { .n = 0 };
	enum sim_sentry_ep ep;
	const char *bad = NULL;
	unsigned int status = MHD_HTTP_OK;
	long window = (long)floor(now_wall);
	char why[QUERY_MAX + 100];
	int owner;

	(void)elapsed;
	mtx_lock(lock);
	ep = route(s, url, &owner);
	if (ep == SSE_COUNT) {
		mtx_unlock(lock);
		return send_detail(c, MHD_HTTP_NOT_FOUND,
		                   "The requested resource does not exist",
		                   NULL);
	}
	s->hits[ep]++;
	s->last_request = now_wall;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		mtx_unlock(lock);
		return send_detail(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                   "Method not allowed.", NULL);
	}
	if (s->fail_count > 0) {
		unsigned int st = (unsigned int)s->fail_status;

		s->fail_count--;
		s->failed++;
		mtx_unlock(lock);
		return send_detail(c, st, "Internal Error", NULL);
	}
	if (now_wall < s->force_until) {
		/* Sentry's 429: a bare JSON string, and no Retry-After. */
		s->rate_limited++;
		if (s->force_headers) {
			hdr_add(&h, "X-Sentry-Rate-Limit-Limit", "%ld", s->limit);
			hdr_add(&h, "X-Sentry-Rate-Limit-Remaining", "0");
			hdr_add(&h, "X-Sentry-Rate-Limit-Reset", "%.0f",
			        ceil(s->force_until));
		}
		if (s->retry_after > 0)
			hdr_add(&h, "Retry-After", "%ld", s->retry_after);
		mtx_unlock(lock);
		buf_printf(&b, "\"You are attempting to use this endpoint too "
		           "frequently. Limit is %ld requests in 1 seconds\"",
		           s->limit);
		return send_buf(c, 429, &b, &h);
	}
	if (!authorized(s, c)) {
		s->unauthorized++;
		mtx_unlock(lock);
		return send_detail(c, MHD_HTTP_UNAUTHORIZED, "Invalid token",
		                   NULL);
	}
	if (s->window[ep] != window) {
		s->window[ep] = window;
		s->used[ep] = 0;
	}
	if (s->used[ep] >= s->limit) {
		s->rate_limited++;
		limit_headers(s, ep, &h);
		mtx_unlock(lock);
		buf_printf(&b, "\"You are attempting to use this endpoint too "
		           "frequently. Limit is %ld requests in 1 seconds\"",
		           s->limit);
		return send_buf(c, 429, &b, &h);
	}
	s->used[ep]++;
	limit_headers(s, ep, &h);
	if (!s->scopes[ep_scope[ep]]) {
		s->forbidden++;
		mtx_unlock(lock);
		return send_detail(c, MHD_HTTP_FORBIDDEN, "You do not have "
		                   "permission to perform this action.", &h);
	}
	if (!owner) {
		mtx_unlock(lock);
		return send_detail(c, MHD_HTTP_NOT_FOUND,
		                   "The requested resource does not exist", &h);
	}
	if (ep == SSE_EVENTS && !s->discover) {
		/*
		 * OrganizationEventsEndpoint.get (sentry/api/endpoints/
		 * organization_events.py) without the discover-basic feature:
		 * Response(status=404), no body.
		 */
		mtx_unlock(lock);
		return send_answer(c, MHD_HTTP_NOT_FOUND, "", 0, &h);
	}
	if ((ep == SSE_STATS_V2 || ep == SSE_ISSUES || ep == SSE_EVENTS) &&
	    s->query_timeouts > 0) {
		/*
		 * Snuba throttling or a timeout: handle_query_errors (sentry/
		 * api/utils.py) turns it into ParseError, a 400.
		 */
		s->query_timeouts--;
		s->throttled++;
		mtx_unlock(lock);
		return send_detail(c, MHD_HTTP_BAD_REQUEST, TIMEOUT_MESSAGE, &h);
	}
	switch (ep) {
	case SSE_PROJECT:
		answer_project(s, &b);
		break;
	case SSE_STATS:
		bad = answer_stats(s, m, c, now_wall, &b);
		break;
	case SSE_STATS_V2:
		bad = answer_stats_v2(s, m, c, now_wall, &b);
		break;
	case SSE_EVENTS:
		bad = answer_events(s, m, c, now_wall, &b, why, sizeof(why));
		break;
	default:
		bad = answer_issues(s, c, now_wall, &b, &h);
		break;
	}
	mtx_unlock(lock);
	if (bad != NULL) {
		free(b.p);
		return send_detail(c, MHD_HTTP_BAD_REQUEST, bad, &h);
	}
	return send_buf(c, status, &b, &h);
}

/* ---- control ---- */

static void knobs_json(const struct sim_sentry *s, struct body *b)
{
	const struct sim_sentry_seg *g = &s->seg[s->nseg - 1];
	const struct sim_release_seg *r = &s->rel[s->nrel - 1];
	int first = 1;

	body_printf(b, "{\"capture\":%g,\"rejected\":%g,\"filtered\":%g,"
	            "\"limit\":%ld,\"self_hosted\":%s,\"hits\":%s,"
	            "\"rate_limited_until\":%.0f,\"rate_limit_headers\":%s,"
	            "\"retry_after\":%ld,\"fail_status\":%d,\"fail_count\":%ld,"
	            "\"issues\":%zu,\"delay\":%g,\"query_timeouts\":%ld,"
	            "\"discover\":%s,\"late\":%zu,\"public_url\":\"%s\","
	            "\"scopes\":[",
	            g->capture, g->rejected, g->filtered, s->limit,
	            s->self_hosted ? "true" : "false",
	            s->send_hits ? "true" : "false", ceil(s->force_until),
	            s->force_headers ? "true" : "false", s->retry_after,
	            s->fail_status, s->fail_count, s->nissues, s->delay,
	            s->query_timeouts, s->discover ? "true" : "false", s->nlate,
	            s->public_url);
	for (int i = 0; i < SIM_SENTRY_SCOPES; i++) {
		if (!s->scopes[i])
			continue;
		body_printf(b, "%s\"%s\"", first ? "" : ",", scope_names[i]);
		first = 0;
	}
	body_printf(b, "],\"release\":");
	body_json_string(b, r->version, sizeof(r->version));
	body_printf(b, ",\"release_share\":%g,\"release_error_factor\":%g,"
	            "\"previous_release\":", r->share, r->factor);
	if (r->prev[0] != '\0')
		body_json_string(b, r->prev, sizeof(r->prev));
	else
		body_printf(b, "null");
	body_printf(b, ",\"release_since\":%.3f}", r->t0);
}

/* 1 to 63 of [A-Za-z0-9._+-]: what the release knob takes. */
static int valid_release(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= SIM_SENTRY_RELEASE_MAX)
		return 0;
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

/* "project:read,event:read": which scopes the token has. */
static int parse_scopes(const char *v, int *out)
{
	int sc[SIM_SENTRY_SCOPES] = { 0 };
	char buf[256], *tok, *save = NULL;

	if (strlen(v) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int found = 0;

		for (int i = 0; i < SIM_SENTRY_SCOPES; i++) {
			if (strcmp(tok, scope_names[i]) == 0) {
				sc[i] = 1;
				found = 1;
			}
		}
		if (!found)
			return -1;
	}
	memcpy(out, sc, sizeof(sc));
	return 0;
}

/* The knobs a control request may set, validated before any applies. */
struct knobs {
	double capture, rejected, filtered;
	long limit, self_hosted, hits, headers, retry_after;
	double force_until;
	long fail_status, fail_count, add;
	double delay, late_n, late_by, add_age;
	long query_timeouts, discover;
	char public_url[SIM_SENTRY_URL_MAX];
	int scopes[SIM_SENTRY_SCOPES];
	char release[SIM_SENTRY_RELEASE_MAX];
	double release_share, release_factor;
};

/* Reads the control's parameters into k; the bad one's name, or NULL. */
static const char *read_knobs(struct MHD_Connection *c, double now_wall,
                              struct knobs *k)
{
	const char *v;
	double d;

	if ((v = arg(c, "capture")) != NULL &&
	    parse_double(v, 0, 1000, &k->capture) < 0)
		return "capture";
	if ((v = arg(c, "rejected")) != NULL &&
	    parse_double(v, 0, 1, &k->rejected) < 0)
		return "rejected";
	if ((v = arg(c, "filtered")) != NULL &&
	    parse_double(v, 0, 1, &k->filtered) < 0)
		return "filtered";
	if (k->rejected + k->filtered > 1)
		return "rejected";
	if ((v = arg(c, "limit")) != NULL &&
	    parse_long(v, 1, 1000000, &k->limit) < 0)
		return "limit";
	if ((v = arg(c, "self_hosted")) != NULL &&
	    parse_long(v, 0, 1, &k->self_hosted) < 0)
		return "self_hosted";
	if ((v = arg(c, "hits")) != NULL && parse_long(v, 0, 1, &k->hits) < 0)
		return "hits";
	if ((v = arg(c, "rate_limit_for")) != NULL) {
		if (parse_double(v, 0, 86400, &d) < 0)
			return "rate_limit_for";
		k->force_until = d > 0 ? now_wall + d : 0;
		/* A new forced 429: headers on, no Retry-After, unless given. */
		k->headers = 1;
		k->retry_after = 0;
	}
	if ((v = arg(c, "rate_limit_headers")) != NULL &&
	    parse_long(v, 0, 1, &k->headers) < 0)
		return "rate_limit_headers";
	if ((v = arg(c, "retry_after")) != NULL &&
	    parse_long(v, 0, 86400, &k->retry_after) < 0)
		return "retry_after";
	if ((v = arg(c, "fail_status")) != NULL &&
	    parse_long(v, 400, 599, &k->fail_status) < 0)
		return "fail_status";
	if ((v = arg(c, "fail_count")) != NULL &&
	    parse_long(v, 0, 1000000, &k->fail_count) < 0)
		return "fail_count";
	if (k->fail_count > 0 && k->fail_status == 0)
		k->fail_status = 500;
	if ((v = arg(c, "scopes")) != NULL && parse_scopes(v, k->scopes) < 0)
		return "scopes";
	if ((v = arg(c, "add_issues")) != NULL &&
	    parse_long(v, 0, SIM_SENTRY_MAX_ISSUES, &k->add) < 0)
		return "add_issues";
	if ((v = arg(c, "add_issues_age")) != NULL &&
	    parse_double(v, 0, 365 * 86400.0, &k->add_age) < 0)
		return "add_issues_age";
	if ((v = arg(c, "delay")) != NULL &&
	    parse_double(v, 0, 86400, &k->delay) < 0)
		return "delay";
	if ((v = arg(c, "late")) != NULL &&
	    parse_double(v, 0, 1000000, &k->late_n) < 0)
		return "late";
	if ((v = arg(c, "late_by")) != NULL &&
	    parse_double(v, 0, 86400, &k->late_by) < 0)
		return "late_by";
	if ((v = arg(c, "query_timeouts")) != NULL &&
	    parse_long(v, 0, 1000000, &k->query_timeouts) < 0)
		return "query_timeouts";
	if ((v = arg(c, "discover")) != NULL &&
	    parse_long(v, 0, 1, &k->discover) < 0)
		return "discover";
	if ((v = arg(c, "public_url")) != NULL) {
		size_t n = strlen(v);

		/* http(s)://host[:port]/api/0/, as Sentry's url-prefix + path */
		if ((strncmp(v, "http://", 7) != 0 &&
		     strncmp(v, "https://", 8) != 0) || n < 10 ||
		    n >= sizeof(k->public_url) || v[n - 1] != '/' ||
		    strpbrk(v, " \"<>\\") != NULL)
			return "public_url";
		snprintf(k->public_url, sizeof(k->public_url), "%s", v);
	}
	if ((v = arg(c, "release")) != NULL) {
		if (!valid_release(v))
			return "release";
		/* A new release starts at full share and factor 1. */
		if (strcmp(v, k->release) != 0) {
			snprintf(k->release, sizeof(k->release), "%s", v);
			k->release_share = 1;
			k->release_factor = 1;
		}
	}
	if ((v = arg(c, "release_share")) != NULL) {
		if (parse_double(v, 0, 1, &d) < 0 || d <= 0)
			return "release_share";
		k->release_share = d;
	}
	if ((v = arg(c, "release_error_factor")) != NULL &&
	    parse_double(v, 0, 1000, &k->release_factor) < 0)
		return "release_error_factor";
	return NULL;
}

enum MHD_Result sim_sentry_control(struct sim_sentry *s, mtx_t *lock,
                                   struct sim_model *m, double elapsed,
                                   double now_wall, struct MHD_Connection *c,
                                   int set)
{
	struct body b = { .len = 0 };
	const struct sim_sentry_seg *g;
	const struct sim_release_seg *r;
	const char *bad = NULL;
	struct knobs k;

	mtx_lock(lock);
	g = &s->seg[s->nseg - 1];
	r = &s->rel[s->nrel - 1];
	memset(&k, 0, sizeof(k));
	k.capture = g->capture;
	k.rejected = g->rejected;
	k.filtered = g->filtered;
	k.limit = s->limit;
	k.self_hosted = s->self_hosted;
	k.hits = s->send_hits;
	k.headers = s->force_headers;
	k.retry_after = s->retry_after;
	k.force_until = s->force_until;
	k.fail_status = s->fail_status;
	k.fail_count = s->fail_count;
	k.delay = s->delay;
	k.late_by = 120;
	k.query_timeouts = s->query_timeouts;
	k.discover = s->discover;
	snprintf(k.public_url, sizeof(k.public_url), "%s", s->public_url);
	k.release_share = r->share;
	k.release_factor = r->factor;
	memcpy(k.scopes, s->scopes, sizeof(k.scopes));
	snprintf(k.release, sizeof(k.release), "%s", r->version);
	if (set && (bad = read_knobs(c, now_wall, &k)) == NULL) {
		s->limit = k.limit;
		s->self_hosted = (int)k.self_hosted;
		s->send_hits = (int)k.hits;
		s->force_until = k.force_until;
		s->force_headers = (int)k.headers;
		s->retry_after = k.retry_after;
		s->fail_status = (int)k.fail_status;
		s->fail_count = k.fail_count;
		s->delay = k.delay;
		s->query_timeouts = k.query_timeouts;
		s->discover = (int)k.discover;
		snprintf(s->public_url, sizeof(s->public_url), "%s",
		         k.public_url);
		if (k.late_n > 0) {
			/* Stamped late_by ago, recorded now. */
			if (s->nlate == SIM_SENTRY_MAX_LATE) {
				memmove(&s->late[0], &s->late[1],
				        (s->nlate - 1) * sizeof(s->late[0]));
				s->nlate--;
			}
			s->late[s->nlate].t = now_wall - k.late_by;
			s->late[s->nlate].n = k.late_n;
			s->nlate++;
		}
		memcpy(s->scopes, k.scopes, sizeof(s->scopes));
		if (k.capture != g->capture || k.rejected != g->rejected ||
		    k.filtered != g->filtered)
			push_seg(s, m, elapsed, k.capture, k.rejected,
			         k.filtered);
		/* A new version, or the same one with another split. */
		if (strcmp(k.release, r->version) != 0)
			push_release(s, now_wall, k.release, r->version,
			             k.release_share, k.release_factor);
		else if (k.release_share != r->share ||
		         k.release_factor != r->factor)
			push_release(s, now_wall, r->version, r->prev,
			             k.release_share, k.release_factor);
		for (long i = 0; i < k.add; i++) {
			char title[96];

			snprintf(title, sizeof(title), "Error: added issue %u",
			         s->next_id);
			add_issue(s, now_wall - k.add_age, 2, title,
			          "control");
		}
	}
	if (bad == NULL)
		knobs_json(s, &b);
	mtx_unlock(lock);
	if (bad != NULL) {
		body_printf(&b, "{\"error\":\"invalid parameter\","
		            "\"param\":\"%s\"}", bad);
		return send_body(c, MHD_HTTP_BAD_REQUEST, &b, NULL);
	}
	return send_body(c, MHD_HTTP_OK, &b, NULL);
}

void sim_sentry_stats(struct sim_sentry *s, struct body *b, int reset)
{
	unsigned long total = 0;

	if (reset) {
		memset(s->hits, 0, sizeof(s->hits));
		s->unauthorized = s->forbidden = s->rate_limited = 0;
		s->failed = s->without_query = 0;
		s->throttled = s->no_dataset = 0;
		s->last_request = 0;
	}
	body_printf(b, ",\"sentry\":{\"requests\":{");
	for (int i = 0; i < SSE_COUNT; i++) {
		body_printf(b, "%s\"%s\":%lu", i ? "," : "", ep_keys[i],
		            s->hits[i]);
		total += s->hits[i];
	}
	body_printf(b, "},\"total\":%lu,\"unauthorized\":%lu,\"forbidden\":%lu,"
	            "\"rate_limited\":%lu,\"failed\":%lu,\"without_query\":%lu,"
	            "\"throttled\":%lu,\"no_dataset\":%lu,"
	            "\"last\":", total, s->unauthorized, s->forbidden,
	            s->rate_limited, s->failed, s->without_query, s->throttled,
	            s->no_dataset);
	if (s->last_request > 0)
		body_printf(b, "%.3f}", s->last_request);
	else
		body_printf(b, "null}");
}
