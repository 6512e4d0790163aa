#include "probe/probe_sentry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "base/clock.h"
#include "config/config.h"
#include "base/evcurl.h"
#include "base/hash.h"
#include "probe/sentry_api.h"

#define SENTRY_TOKEN_MAX	4096
#define RETRIES_IN_RUN		2	/* 5xx, dropped connections */
#define RETRY_BASE_MS		250
#define BACKOFF_BASE_MS		1000
#define BUDGET_WAIT_MAX_MS	2000	/* wait a spent budget out in-run */
#define MARGIN_MS		100	/* a request needs some time left */
#define ISSUE_PAGE		100	/* Sentry's largest page */
#define ISSUE_PAGES_MAX		10	/* without X-Hits, count this far */
#define STATS_BUCKETS_MAX	360	/* Sentry keeps 360 of its 10 s rollup */
#define ISSUES_PERIOD		"14d"	/* the issue stream's default */

/* The requests of a run, in order; disabled ones are skipped. */
enum sentry_step {
	SS_PROJECT,	/* the numeric id, once */
	SS_RECEIVED,
	SS_REJECTED,
	SS_FILTERED,
	SS_OUTCOMES,
	SS_NEW_ISSUES,
	SS_UNRESOLVED,
	SS_RELEASE_ALL,	/* error events since judging began */
	SS_RELEASE_OWN,	/* those of the deploy's version */
	SS_DONE,
};

/* Rate limits are per endpoint: one budget each. */
enum sentry_ep {
	EP_PROJECT,
	EP_STATS,
	EP_OUTCOMES,
	EP_ISSUES,
	EP_EVENTS,
	EP_COUNT,
};

static const struct {
	enum sentry_ep ep;
	const char *stat;	/* the project stats "stat" */
} steps[] = {
	[SS_PROJECT] = { EP_PROJECT, NULL },
	[SS_RECEIVED] = { EP_STATS, "received" },
	[SS_REJECTED] = { EP_STATS, "rejected" },
	[SS_FILTERED] = { EP_STATS, "blacklisted" },
	[SS_OUTCOMES] = { EP_OUTCOMES, NULL },
	[SS_NEW_ISSUES] = { EP_ISSUES, NULL },
	[SS_UNRESOLVED] = { EP_ISSUES, NULL },
	[SS_RELEASE_ALL] = { EP_EVENTS, NULL },
	[SS_RELEASE_OWN] = { EP_EVENTS, NULL },
	[SS_DONE] = { EP_COUNT, NULL },
};

static const struct {
	const char *name;	/* in reasons */
	const char *scope;	/* what a 403 means is missing */
} endpoints[EP_COUNT] = {
	[EP_PROJECT] = { "project details", "project:read" },
	[EP_STATS] = { "project stats", "project:read" },
	[EP_OUTCOMES] = { "stats_v2", "org:read" },
	[EP_ISSUES] = { "issues", "event:read" },
	[EP_EVENTS] = { "events", "org:read" },
};

/* What the headers said of an endpoint's budget. */
struct budget {
	bool known;
	long remaining;
	int64_t reset_ms;	/* Unix ms, our clock */
};

/* The totals of the last successful run, for per-run differences. */
struct reported {
	double received, rejected, filtered, events;
	double outcome[SENTRY_NOUTCOMES];
};

struct sentry_probe {
	const struct probe_cfg *cfg;
	const struct release_focus *focus;	/* the monitor's */
	struct evcurl *ec;
	struct evcurl_xfer xfer;
	struct curl_slist *headers;	/* this run's, with the token */
	char errbuf[CURL_ERROR_SIZE];
	char *body;
	size_t len, alloc;
	bool too_big;
	struct sentry_headers hdr;
	char url[4096];
	char origin[512];		/* scheme://host[:port]/ of base_url */
	char *token;			/* this run's; zeroed after */

	/* The run in flight. */
	struct probe *probe;
	struct probe_result *r;
	bool running, finishing, in_flight;
	int64_t run_start_us, deadline_us;
	struct event *wait;		/* a retry or a budget, within a run */
	struct event *defer;		/* ends a run from the loop */
	enum sentry_step step;
	unsigned attempt;		/* of this step, within the run */
	unsigned requests;		/* sent in this run */
	bool has_remaining;
	long min_remaining;
	int64_t since_s, until_s;	/* project stats window */
	int64_t oc_start_s, oc_end_s;	/* stats_v2 window */
	bool paging;			/* counting issues page by page */
	unsigned pages;
	size_t paged;
	double new_issues, unresolved;
	bool new_issues_ok, unresolved_ok;
	/* The release in focus as the run began, and its counts. */
	bool rel;
	char rel_version[64];
	int64_t rel_from_s, rel_to_s;
	double rel_all, rel_own;
	bool rel_ok;

	/* Kept between runs. */
	char project_id[24];
	struct sentry_counter received, rejected, filtered;
	struct sentry_counter outcome[SENTRY_NOUTCOMES];
	double events_total;		/* monotonic by construction */
	struct reported last;
	bool reported_once;
	int64_t stats_until_s, oc_until_s;	/* the last polls' ends */
	struct budget budget[EP_COUNT];
	int64_t blocked_until;		/* Unix ms: no request before */
	char blocked_why[200];
	unsigned limited;		/* 429s in a row */
	int64_t next_attempt;		/* Unix ms: after failures */
	unsigned failures;		/* failed runs in a row (not 429) */
	enum probe_fail last_fail;
	char last_error[200];
	uint64_t rejected_token;	/* hash of the token a 401 refused */
};

static void sentry_send(struct sentry_probe *sp);

/* "2025-01-01T12:00:30Z": whole seconds, rounded up (never early). */
static void
iso_s(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)((ms + 999) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* FNV-1a: enough to know the token changed, without keeping it. */
static uint64_t
token_hash(const char *s)
{
	return hash64_str(s);
}

static void
forget_token(struct sentry_probe *sp)
{
	for (struct curl_slist *l = sp->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(sp->headers);
	sp->headers = NULL;
	if (sp->token != NULL) {
		explicit_bzero(sp->token, strlen(sp->token));
		free(sp->token);
		sp->token = NULL;
	}
}

/* ---- ending a run ------------------------------------------------------ */

static void
end_run(struct sentry_probe *sp)
{
	if (sp->finishing)
		return;
	sp->finishing = true;
	evtimer_del(sp->wait);
	/* done must never run inside probe_start: always from the loop. */
	event_active(sp->defer, 0, 0);
}

static void
on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct sentry_probe *sp = arg;
	struct probe_result *r = sp->r;

	(void)fd;
	(void)what;
	if (!sp->running)
		return;
	probe_result_close(r, sp->run_start_us);
	probe_result_add(r, "api_requests", sp->requests);
	if (sp->has_remaining)
		probe_result_add(r, "rate_limit_remaining",
		    (double)sp->min_remaining);
	probe_scrub_secret(sp->token, r->reason);
	probe_scrub_secret(sp->token, r->notes);
	forget_token(sp);
	/* Answers are not kept between runs: memory stays bounded. */
	if (sp->alloc > 65536) {
		free(sp->body);
		sp->body = NULL;
		sp->alloc = 0;
	}
	sp->len = 0;
	sp->running = false;
	sp->finishing = false;
	probe_finish(sp->probe);
}

/* Fails the run (the first reason stands) and ends it. */
static void __attribute__((format(printf, 3, 4)))
abort_run(struct sentry_probe *sp, enum probe_fail kind, const char *fmt, ...)
{
	va_list ap;

	if (sp->r->fail == PROBE_FAIL_NONE) {
		va_start(ap, fmt);
		probe_result_vfailf(sp->r, kind, fmt, ap);
		va_end(ap);
	}
	end_run(sp);
}

/*
 * A failure worth backing off from (auth, server errors, timeouts): the
 * runs until next_attempt repeat its reason instead of asking again.
 */
static void __attribute__((format(printf, 3, 4)))
fail_backoff(struct sentry_probe *sp, enum probe_fail kind, const char *fmt,
    ...)
{
	char when[40];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sp->last_error, sizeof(sp->last_error), fmt, ap);
	va_end(ap);
	probe_scrub_secret(sp->token, sp->last_error);
	sp->failures++;
	sp->last_fail = kind;
	sp->next_attempt = clock_wall_ms() + sentry_backoff_ms(sp->failures,
	    BACKOFF_BASE_MS, sp->cfg->sentry.backoff_max_ms);
	iso_s(sp->next_attempt, when, sizeof(when));
	abort_run(sp, kind, "%s; next attempt at %s", sp->last_error, when);
}

/* No request before until (Unix ms); this run and those before it fail. */
static void __attribute__((format(printf, 3, 4)))
block_until(struct sentry_probe *sp, int64_t until, const char *fmt, ...)
{
	char when[40];
	va_list ap;

	sp->blocked_until = until;
	va_start(ap, fmt);
	vsnprintf(sp->blocked_why, sizeof(sp->blocked_why), fmt, ap);
	va_end(ap);
	probe_scrub_secret(sp->token, sp->blocked_why);
	iso_s(until, when, sizeof(when));
	abort_run(sp, PROBE_FAIL_RATE_LIMITED, "rate limited until %s (%s)",
	    when, sp->blocked_why);
}

/* ---- the token --------------------------------------------------------- */

/* Reads this run's token; false after failing the run with why. */
static bool
read_token(struct sentry_probe *sp)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;
	char buf[SENTRY_TOKEN_MAX + 1], *start, *end;
	size_t got = 0;
	ssize_t n;
	int fd;

	if (s->token_env != NULL) {
		const char *e = getenv(s->token_env);

		if (e == NULL || e[0] == '\0') {
			abort_run(sp, PROBE_FAIL_AUTH, "no token: environment "
			    "variable %s is not set (token_env)", s->token_env);
			return false;
		}
		if (strlen(e) > SENTRY_TOKEN_MAX) {
			abort_run(sp, PROBE_FAIL_AUTH, "no token: environment "
			    "variable %s is longer than %d bytes",
			    s->token_env, SENTRY_TOKEN_MAX);
			return false;
		}
		snprintf(buf, sizeof(buf), "%s", e);
	} else {
		fd = open(s->token_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			abort_run(sp, PROBE_FAIL_AUTH, "no token: cannot read "
			    "token_file %s: %s", s->token_file,
			    strerror(errno));
			return false;
		}
		while (got < sizeof(buf) - 1 &&
		    (n = read(fd, buf + got, sizeof(buf) - 1 - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				close(fd);
				explicit_bzero(buf, sizeof(buf));
				abort_run(sp, PROBE_FAIL_AUTH, "no token: cannot "
				    "read token_file %s: %s", s->token_file,
				    strerror(errno));
				return false;
			}
			got += (size_t)n;
		}
		close(fd);
		buf[got] = '\0';
	}
	start = buf;
	while (*start == ' ' || *start == '\t' || *start == '\n' ||
	    *start == '\r')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	/* A header must be one line of visible characters. */
	for (const char *c = start; *c != '\0'; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			explicit_bzero(buf, sizeof(buf));
			abort_run(sp, PROBE_FAIL_AUTH, "no token: %s %s must "
			    "hold one token (one line, no spaces)",
			    s->token_env != NULL ? "variable" : "token_file",
			    s->token_env != NULL ? s->token_env :
			    s->token_file);
			return false;
		}
	}
	if (*start == '\0' || got == sizeof(buf) - 1) {
		explicit_bzero(buf, sizeof(buf));
		abort_run(sp, PROBE_FAIL_AUTH, "no token: %s %s is %s",
		    s->token_env != NULL ? "variable" : "token_file",
		    s->token_env != NULL ? s->token_env : s->token_file,
		    *start == '\0' ? "empty" : "too long");
		return false;
	}
	sp->token = strdup(start);
	explicit_bzero(buf, sizeof(buf));
	if (sp->token == NULL) {
		abort_run(sp, PROBE_FAIL_INTERNAL, "out of memory");
		return false;
	}
	return true;
}

static bool
build_headers(struct sentry_probe *sp)
{
	size_t len = strlen(sp->token) + 32;
	char *line = malloc(len);
	struct curl_slist *l;

	if (line == NULL)
		return false;
	snprintf(line, len, "Authorization: Bearer %s", sp->token);
	l = curl_slist_append(NULL, line);
	explicit_bzero(line, len);
	free(line);
	if (l == NULL)
		return false;
	sp->headers = l;
	l = curl_slist_append(sp->headers, "Accept: application/json");
	if (l == NULL)
		return false;
	sp->headers = l;
	return true;
}

/* ---- requests ---------------------------------------------------------- */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sentry_probe *sp = arg;
	size_t n = size * nmemb;

	/* libcurl 7.88 does not cap chunked bodies itself: done here. */
	if (sp->len + n > (size_t)sp->cfg->sentry.max_body) {
		sp->too_big = true;
		return 0;
	}
	if (sp->len + n + 1 > sp->alloc) {
		size_t a = sp->alloc == 0 ? 16384 : sp->alloc;
		char *b;

		while (a < sp->len + n + 1)
			a *= 2;
		b = realloc(sp->body, a);
		if (b == NULL)
			return 0;
		sp->body = b;
		sp->alloc = a;
	}
	memcpy(sp->body + sp->len, data, n);
	sp->len += n;
	sp->body[sp->len] = '\0';
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sentry_probe *sp = arg;

	sentry_headers_line(&sp->hdr, data, size * nmemb);
	return size * nmemb;
}

/* "10s", "1h", "1d": how Sentry's parameters spell a period. */
static void
period(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

static void
iso_exact(int64_t s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The issues query of a step, URL-escaped; NULL when out of memory. */
static char *
issues_query(struct sentry_probe *sp, bool fresh)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;
	char q[640], win[32];
	int64_t min = s->issues_window_ms / 60000;

	/* The search syntax knows m, h, d, w: the window in the largest. */
	if (min % (7 * 1440) == 0)
		snprintf(win, sizeof(win), "%lldw", (long long)(min / 10080));
	else if (min % 1440 == 0)
		snprintf(win, sizeof(win), "%lldd", (long long)(min / 1440));
	else if (min % 60 == 0)
		snprintf(win, sizeof(win), "%lldh", (long long)(min / 60));
	else
		snprintf(win, sizeof(win), "%lldm", (long long)min);
	if (fresh)
		snprintf(q, sizeof(q), "%s firstSeen:-%s", s->query, win);
	else
		snprintf(q, sizeof(q), "%s", s->query);
	return curl_easy_escape(sp->xfer.easy, q, 0);
}

/* The URL of the current step; false when out of memory. */
static bool
step_url(struct sentry_probe *sp)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;
	char res[32], a[40], b[40], rq[160];
	char *q;

	switch (sp->step) {
	case SS_PROJECT:
		snprintf(sp->url, sizeof(sp->url), "%sprojects/%s/%s/",
		    s->base_url, s->organization, s->project);
		return true;
	case SS_RECEIVED:
	case SS_REJECTED:
	case SS_FILTERED:
		period(s->resolution_ms, res, sizeof(res));
		snprintf(sp->url, sizeof(sp->url), "%sprojects/%s/%s/stats/"
		    "?stat=%s&since=%lld&until=%lld&resolution=%s",
		    s->base_url, s->organization, s->project,
		    steps[sp->step].stat, (long long)sp->since_s,
		    (long long)sp->until_s, res);
		return true;
	case SS_OUTCOMES:
		period(s->outcomes_interval_ms, res, sizeof(res));
		iso_exact(sp->oc_start_s, a, sizeof(a));
		iso_exact(sp->oc_end_s, b, sizeof(b));
		snprintf(sp->url, sizeof(sp->url), "%sorganizations/%s/"
		    "stats_v2/?field=sum%%28quantity%%29&category=error"
		    "&groupBy=outcome&project=%s&interval=%s&start=%s&end=%s",
		    s->base_url, s->organization, sp->project_id, res, a, b);
		return true;
	case SS_NEW_ISSUES:
	case SS_UNRESOLVED:
		/* Later pages come from the Link header (sentry_page). */
		q = issues_query(sp, sp->step == SS_NEW_ISSUES);
		if (q == NULL)
			return false;
		snprintf(sp->url, sizeof(sp->url), "%sorganizations/%s/issues/"
		    "?project=%s&query=%s&statsPeriod=%s&limit=%d",
		    s->base_url, s->organization, sp->project_id, q,
		    ISSUES_PERIOD, sp->paging ? ISSUE_PAGE : 1);
		curl_free(q);
		return true;
	case SS_RELEASE_ALL:
	case SS_RELEASE_OWN:
		/* Both counted alike: the share compares like with like. */
		if (sp->step == SS_RELEASE_ALL)
			snprintf(rq, sizeof(rq), "event.type:error");
		else
			snprintf(rq, sizeof(rq), "event.type:error release:"
			    "\"%s\"", sp->rel_version);
		q = curl_easy_escape(sp->xfer.easy, rq, 0);
		if (q == NULL)
			return false;
		iso_exact(sp->rel_from_s, a, sizeof(a));
		iso_exact(sp->rel_to_s, b, sizeof(b));
		snprintf(sp->url, sizeof(sp->url), "%sorganizations/%s/events/"
		    "?field=count%%28%%29&project=%s&query=%s&start=%s&end=%s",
		    s->base_url, s->organization, sp->project_id, q, a, b);
		curl_free(q);
		return true;
	case SS_DONE:
		break;
	}
	return false;
}

static bool
step_enabled(const struct sentry_probe *sp, enum sentry_step st)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;

	switch (st) {
	case SS_PROJECT:
		return (s->outcomes || s->issues || sp->rel) &&
		    sp->project_id[0] == '\0';
	case SS_RECEIVED:
	case SS_REJECTED:
	case SS_FILTERED:
		return s->project_stats;
	case SS_OUTCOMES:
		return s->outcomes;
	case SS_NEW_ISSUES:
	case SS_UNRESOLVED:
		return s->issues;
	case SS_RELEASE_ALL:
	case SS_RELEASE_OWN:
		return sp->rel;
	case SS_DONE:
		break;
	}
	return true;
}

static void
on_wait(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sentry_send(arg);
}

/* Waits ms within the run, then sends the current step again. */
static void
wait_then_send(struct sentry_probe *sp, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	if (evtimer_add(sp->wait, &tv) != 0)
		abort_run(sp, PROBE_FAIL_INTERNAL, "cannot arm a timer");
}

/* Milliseconds left of the run's timeout. */
static int64_t
time_left(const struct sentry_probe *sp)
{
	return (sp->deadline_us - clock_mono_us()) / 1000;
}

/*
 * Sends the current step's request, unless the endpoint's budget is spent:
 * then its reset is waited for within the run when it is near, or the
 * probe holds off until then.
 */
static void
sentry_send(struct sentry_probe *sp)
{
	const struct budget *b = &sp->budget[steps[sp->step].ep];
	int64_t now = clock_wall_ms(), left = time_left(sp);

	if (sp->finishing)
		return;
	if (left <= MARGIN_MS) {
		fail_backoff(sp, PROBE_FAIL_TIMEOUT, "timed out after %lld ms "
		    "before the %s request", (long long)sp->cfg->timeout_ms,
		    endpoints[steps[sp->step].ep].name);
		return;
	}
	if (b->known && b->remaining <= 0 && b->reset_ms > now) {
		int64_t wait = b->reset_ms - now;
		char when[40];

		if (wait <= BUDGET_WAIT_MAX_MS && wait < left - MARGIN_MS) {
			wait_then_send(sp, wait);
			return;
		}
		iso_s(b->reset_ms, when, sizeof(when));
		block_until(sp, b->reset_ms, "the %s endpoint's budget is "
		    "spent until %s (X-Sentry-Rate-Limit-Remaining: 0)",
		    endpoints[steps[sp->step].ep].name, when);
		return;
	}
	if (!(sp->paging && sp->pages > 0) && !step_url(sp)) {
		abort_run(sp, PROBE_FAIL_INTERNAL, "out of memory");
		return;
	}
	sp->len = 0;
	sp->too_big = false;
	sp->errbuf[0] = '\0';
	sentry_headers_reset(&sp->hdr);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_URL, sp->url);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_HTTPHEADER, sp->headers);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	if (evcurl_add(sp->ec, &sp->xfer) != 0) {
		abort_run(sp, PROBE_FAIL_INTERNAL, "cannot start a transfer");
		return;
	}
	sp->in_flight = true;
	sp->requests++;
}

/* Moves to the next enabled step, or ends the run when all are done. */
static void finish_ok(struct sentry_probe *sp);

static void
next_step(struct sentry_probe *sp)
{
	sp->attempt = 0;
	sp->paging = false;
	sp->pages = 0;
	sp->paged = 0;
	do
		sp->step++;
	while (sp->step < SS_DONE && !step_enabled(sp, sp->step));
	if (sp->step == SS_DONE)
		finish_ok(sp);
	else
		sentry_send(sp);
}

/* ---- answers ----------------------------------------------------------- */

static void
note_budget(struct sentry_probe *sp, enum sentry_ep ep)
{
	struct budget *b = &sp->budget[ep];
	const struct sentry_headers *h = &sp->hdr;

	/* Self-hosted Sentry sends none of these: nothing is known. */
	if (!h->has_remaining || !h->has_reset) {
		b->known = false;
		return;
	}
	b->known = true;
	b->remaining = h->remaining;
	b->reset_ms = sentry_reset_ms(h, clock_wall_ms());
	if (!sp->has_remaining || h->remaining < sp->min_remaining)
		sp->min_remaining = h->remaining;
	sp->has_remaining = true;
}

/* How many buckets the window should have had; gaps are noted. */
static void
note_gaps(struct sentry_probe *sp, const struct sentry_series *s,
    int64_t step_s, int64_t from, int64_t to, const char *what)
{
	int64_t want = to / step_s - from / step_s + 1;

	if (s->n == 0)
		probe_result_notef(sp->r, "%s: empty series", what);
	else if ((int64_t)s->n < want)
		probe_result_notef(sp->r, "%s: %lld of %lld buckets missing",
		    what, (long long)(want - (int64_t)s->n), (long long)want);
}

static bool
apply(struct sentry_probe *sp, struct sentry_counter *c,
    const struct sentry_series *s, int64_t until, int64_t keep)
{
	if (sentry_counter_apply(c, s, until, keep) < 0) {
		abort_run(sp, PROBE_FAIL_INTERNAL, "out of memory");
		return false;
	}
	return true;
}

static bool
read_stats(struct sentry_probe *sp, char *err, size_t errlen)
{
	struct sentry_series s = { 0 };
	struct sentry_counter *c = sp->step == SS_RECEIVED ? &sp->received :
	    sp->step == SS_REJECTED ? &sp->rejected : &sp->filtered;
	bool ok;

	if (sentry_parse_stats(sp->body, sp->len, &s, err, errlen) != 0)
		return false;
	if (sp->step == SS_RECEIVED)
		note_gaps(sp, &s, sp->cfg->sentry.resolution_ms / 1000,
		    sp->since_s, sp->until_s, "project stats");
	ok = apply(sp, c, &s, sp->until_s, sp->since_s);
	sentry_series_clear(&s);
	if (ok && sp->step == SS_FILTERED)
		sp->stats_until_s = sp->until_s;
	return true;
}

static bool
read_outcomes(struct sentry_probe *sp, char *err, size_t errlen)
{
	struct sentry_outcomes o;

	memset(&o, 0, sizeof(o));
	if (sentry_parse_outcomes(sp->body, sp->len, "sum(quantity)", &o, err,
	    errlen) != 0)
		return false;
	note_gaps(sp, &o.s[0], sp->cfg->sentry.outcomes_interval_ms / 1000,
	    sp->oc_start_s, sp->oc_end_s, "stats_v2");
	for (size_t i = 0; i < SENTRY_NOUTCOMES; i++)
		if (!apply(sp, &sp->outcome[i], &o.s[i], sp->oc_end_s,
		    sp->oc_start_s))
			break;
	sp->oc_until_s = sp->oc_end_s;
	sentry_outcomes_clear(&o);
	return true;
}

/* The next issues page, when it is on the configured origin. */
static bool
next_page(struct sentry_probe *sp)
{
	char url[sizeof(sp->url)];
	size_t ol = strlen(sp->origin);

	if (!sentry_link_next(sp->hdr.link, url, sizeof(url)))
		return false;
	/* The token goes along: never to another host. */
	if (strncmp(url, sp->origin, ol) != 0) {
		probe_result_notef(sp->r, "issues: the next page is on another "
		    "host; not followed");
		return false;
	}
	snprintf(sp->url, sizeof(sp->url), "%s", url);
	return true;
}

/* An issues answer: X-Hits, or one page of a count by pages. */
static bool
read_issues(struct sentry_probe *sp, char *err, size_t errlen)
{
	double *out = sp->step == SS_NEW_ISSUES ? &sp->new_issues :
	    &sp->unresolved;
	bool *ok = sp->step == SS_NEW_ISSUES ? &sp->new_issues_ok :
	    &sp->unresolved_ok;
	const char *what = sp->step == SS_NEW_ISSUES ? "new_issues" :
	    "unresolved_issues";
	size_t n = 0;

	if (sentry_parse_issue_page(sp->body, sp->len, &n, err, errlen) != 0)
		return false;
	if (!sp->paging && sp->hdr.has_hits) {
		*out = (double)sp->hdr.hits;
		*ok = true;
		if (sp->hdr.has_max_hits && sp->hdr.hits >= sp->hdr.max_hits)
			probe_result_notef(sp->r, "%s: at least %lld (X-Hits "
			    "is capped by X-Max-Hits)", what, sp->hdr.hits);
		next_step(sp);
		return true;
	}
	if (!sp->paging) {
		/* No X-Hits (a proxy dropped it?): count page by page. */
		sp->paging = true;
		sp->pages = 0;
		sp->paged = 0;
		sentry_send(sp);
		return true;
	}
	sp->paged += n;
	sp->pages++;
	if (sp->pages < ISSUE_PAGES_MAX && next_page(sp)) {
		sentry_send(sp);
		return true;
	}
	if (sp->pages >= ISSUE_PAGES_MAX && sentry_link_next(sp->hdr.link,
	    sp->url, sizeof(sp->url)))
		probe_result_notef(sp->r, "%s: at least %zu (counted %d pages; "
		    "no X-Hits header)", what, sp->paged, ISSUE_PAGES_MAX);
	*out = (double)sp->paged;
	*ok = true;
	next_step(sp);
	return true;
}

/* A 2xx answer of the current step. */
static void
read_answer(struct sentry_probe *sp)
{
	char err[200] = "";
	bool ok = true;

	switch (sp->step) {
	case SS_PROJECT:
		ok = sentry_parse_project_id(sp->body, sp->len, sp->project_id,
		    sizeof(sp->project_id), err, sizeof(err)) == 0;
		break;
	case SS_RECEIVED:
	case SS_REJECTED:
	case SS_FILTERED:
		ok = read_stats(sp, err, sizeof(err));
		break;
	case SS_OUTCOMES:
		ok = read_outcomes(sp, err, sizeof(err));
		break;
	case SS_RELEASE_ALL:
		ok = sentry_parse_event_count(sp->body, sp->len, &sp->rel_all,
		    err, sizeof(err)) == 0;
		break;
	case SS_RELEASE_OWN:
		ok = sentry_parse_event_count(sp->body, sp->len, &sp->rel_own,
		    err, sizeof(err)) == 0;
		sp->rel_ok = ok;
		break;
	case SS_NEW_ISSUES:
	case SS_UNRESOLVED:
		/* Paging and moving on happen inside. */
		if (!read_issues(sp, err, sizeof(err)))
			fail_backoff(sp, PROBE_FAIL_JSON, "%s", err);
		return;
	case SS_DONE:
		break;
	}
	if (!ok) {
		fail_backoff(sp, PROBE_FAIL_JSON, "%s", err);
		return;
	}
	if (!sp->finishing)
		next_step(sp);
}

/* Retries the step within the run when there is time, else false. */
static bool
retry_in_run(struct sentry_probe *sp)
{
	int64_t delay = RETRY_BASE_MS << sp->attempt;

	if (sp->attempt >= RETRIES_IN_RUN ||
	    delay + MARGIN_MS * 2 >= time_left(sp))
		return false;
	sp->attempt++;
	wait_then_send(sp, delay);
	return true;
}

static void
on_429(struct sentry_probe *sp, const char *ep, const char *text)
{
	enum sentry_wait why;
	int64_t now = clock_wall_ms(), until;
	const char *limit;
	char said[200];

	sp->limited++;
	until = sentry_retry_at(&sp->hdr, now, sp->limited, BACKOFF_BASE_MS,
	    sp->cfg->sentry.backoff_max_ms, &why);
	/* "You are attempting ... too frequently. Limit is 5 requests in
	 * 1 seconds": the limit is the part worth a reason's room. */
	if ((limit = strstr(text, "Limit is ")) != NULL)
		text = limit;
	snprintf(said, sizeof(said), "%s%s%s", text[0] != '\0' ? ": \"" : "",
	    text, text[0] != '\0' ? "\"" : "");
	switch (why) {
	case SENTRY_WAIT_RETRY_AFTER:
		block_until(sp, until, "HTTP 429 from the %s endpoint%s; "
		    "Retry-After", ep, said);
		break;
	case SENTRY_WAIT_RESET:
		block_until(sp, until, "HTTP 429 from the %s endpoint%s; "
		    "X-Sentry-Rate-Limit-Reset", ep, said);
		break;
	case SENTRY_WAIT_BACKOFF:
		block_until(sp, until, "HTTP 429 from the %s endpoint%s; no "
		    "rate-limit headers, backing off %.0f s", ep, said,
		    (double)(until - now) / 1000.0);
		break;
	}
}

static void
on_status(struct sentry_probe *sp, long code)
{
	enum sentry_ep ep = steps[sp->step].ep;
	const char *name = endpoints[ep].name;
	char text[160], said[200];

	sentry_error_text(sp->body, sp->len, text, sizeof(text));
	snprintf(said, sizeof(said), "%s%s%s", text[0] != '\0' ? ": \"" : "",
	    text, text[0] != '\0' ? "\"" : "");
	if (code == 429) {
		on_429(sp, name, text);
	} else if (code == 401) {
		sp->rejected_token = token_hash(sp->token);
		fail_backoff(sp, PROBE_FAIL_AUTH, "token rejected (HTTP 401 "
		    "from the %s endpoint%s)", name, said);
	} else if (code == 403) {
		/* Another token may carry the scope: worth trying at once. */
		sp->rejected_token = token_hash(sp->token);
		fail_backoff(sp, PROBE_FAIL_AUTH, "token lacks scope %s for "
		    "the %s endpoint (HTTP 403%s)", endpoints[ep].scope, name,
		    said);
	} else if (code == 404) {
		fail_backoff(sp, PROBE_FAIL_STATUS, "HTTP 404 from the %s "
		    "endpoint%s: check \"organization\" and \"project\"",
		    name, said);
	} else if (code >= 500 && retry_in_run(sp)) {
		return;
	} else if (code == 400) {
		fail_backoff(sp, PROBE_FAIL_STATUS, "Sentry refused the %s "
		    "request (HTTP 400%s)", name, said);
	} else {
		fail_backoff(sp, PROBE_FAIL_STATUS, "HTTP %ld from the %s "
		    "endpoint%s", code, name, said);
	}
}

static void
on_transfer_error(struct sentry_probe *sp, CURLcode res)
{
	const char *name = endpoints[steps[sp->step].ep].name;

	if (sp->too_big) {
		fail_backoff(sp, PROBE_FAIL_BODY, "the %s answer is larger than "
		    "the %lld-byte limit (max_body)", name,
		    (long long)sp->cfg->sentry.max_body);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		fail_backoff(sp, PROBE_FAIL_TIMEOUT, "timed out after %lld ms "
		    "waiting for the %s endpoint",
		    (long long)sp->cfg->timeout_ms, name);
	} else if (res == CURLE_WRITE_ERROR) {
		abort_run(sp, PROBE_FAIL_INTERNAL, "out of memory storing the "
		    "%s answer", name);
	} else if (!retry_in_run(sp)) {
		fail_backoff(sp, PROBE_FAIL_CONNECT, "%s (the %s endpoint)",
		    sp->errbuf[0] != '\0' ? sp->errbuf :
		    curl_easy_strerror(res), name);
	}
}

static void
on_done(struct evcurl_xfer *x, CURLcode res)
{
	struct sentry_probe *sp = (struct sentry_probe *)((char *)x -
	    offsetof(struct sentry_probe, xfer));
	long code = 0;

	sp->in_flight = false;
	if (res != CURLE_OK) {
		on_transfer_error(sp, res);
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code == 429) {
		/*
		 * The 429 itself says when to come back (Retry-After first):
		 * its budget headers must not hold requests past that.
		 */
		sp->budget[steps[sp->step].ep].known = false;
	} else {
		note_budget(sp, steps[sp->step].ep);
		sp->limited = 0;
	}
	if (code < 200 || code > 299)
		on_status(sp, code);
	else
		read_answer(sp);
}

/* ---- results ----------------------------------------------------------- */

static void
add_count(struct probe_result *r, bool diff, const char *name, double total,
    double *last)
{
	char n[80];

	snprintf(n, sizeof(n), "%s_total", name);
	probe_result_add(r, n, total);
	if (diff)
		probe_result_add(r, name, total - *last);
	*last = total;
}

/* Every request answered: the run's metrics. */
static void
finish_ok(struct sentry_probe *sp)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;
	struct probe_result *r = sp->r;
	bool diff = sp->reported_once;
	double ev;
	char n[48];

	sp->failures = 0;
	sp->last_fail = PROBE_FAIL_NONE;
	sp->rejected_token = 0;
	if (s->project_stats) {
		add_count(r, diff, "received", sp->received.total,
		    &sp->last.received);
		add_count(r, diff, "rejected", sp->rejected.total,
		    &sp->last.rejected);
		add_count(r, diff, "filtered", sp->filtered.total,
		    &sp->last.filtered);
		/*
		 * Accepted = received - rejected - filtered. The three series
		 * are read a moment apart, so the difference may dip for a
		 * poll; a counter must not (a rule reads a drop as a restart).
		 */
		ev = sp->received.total - sp->rejected.total -
		    sp->filtered.total;
		if (ev > sp->events_total)
			sp->events_total = ev;
	} else if (s->outcomes) {
		sp->events_total = sp->outcome[SENTRY_OC_ACCEPTED].total;
	}
	if (s->project_stats || s->outcomes)
		add_count(r, diff, "events", sp->events_total,
		    &sp->last.events);
	for (size_t i = 0; s->outcomes && i < SENTRY_NOUTCOMES; i++) {
		/* The rare outcomes appear once they happen, not as zeros. */
		if (i > SENTRY_OC_INVALID && sp->outcome[i].total == 0)
			continue;
		snprintf(n, sizeof(n), "outcome_%s",
		    sentry_outcome_name((enum sentry_outcome)i));
		add_count(r, diff, n, sp->outcome[i].total,
		    &sp->last.outcome[i]);
	}
	if (sp->new_issues_ok)
		probe_result_add(r, "new_issues", sp->new_issues);
	if (sp->unresolved_ok)
		probe_result_add(r, "unresolved_issues", sp->unresolved);
	if (sp->rel_ok) {
		/*
		 * Read a moment apart, the release's count may pass the
		 * total's by an event or two that arrived in between.
		 */
		probe_result_add(r, "release_all_errors",
		    sp->rel_own > sp->rel_all ? sp->rel_own : sp->rel_all);
		probe_result_add(r, "release_errors", sp->rel_own);
	}
	if (!sp->reported_once && (s->project_stats || s->outcomes))
		probe_result_notef(r, "first run: counting starts now (per-"
		    "interval counts from the next run)");
	sp->reported_once = true;
	end_run(sp);
}

/* ---- the probe operations ---------------------------------------------- */

/* What Sentry's search takes inside quotes without escapes. */
static bool
searchable(const char *v)
{
	return v[0] != '\0' && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._+-@:/") == strlen(v);
}

/*
 * The release in focus, if the gate wants its errors counted: from when
 * judging began (whole seconds) to now, once at least a second has gone.
 */
static void
plan_release(struct sentry_probe *sp, int64_t now_ms)
{
	const struct release_focus *f = sp->focus;

	sp->rel = false;
	sp->rel_ok = false;
	sp->rel_all = sp->rel_own = 0;
	if (!sp->cfg->sentry.release_errors || f == NULL || !f->open ||
	    now_ms / 1000 <= f->from / 1000)
		return;
	if (!searchable(f->version)) {
		probe_result_notef(sp->r, "release \"%s\" cannot be searched "
		    "for in Sentry; its errors are not counted apart",
		    f->version);
		return;
	}
	snprintf(sp->rel_version, sizeof(sp->rel_version), "%s", f->version);
	sp->rel_from_s = f->from / 1000;
	sp->rel_to_s = now_ms / 1000;
	sp->rel = true;
}

/* The windows this run asks for, aligned to the buckets. */
static void
plan_windows(struct sentry_probe *sp, int64_t now_ms)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;
	int64_t now_s = now_ms / 1000, res = s->resolution_ms / 1000;
	int64_t iv = sp->cfg->interval_ms / 1000 + 1;
	int64_t span = 3 * res, oc = s->outcomes_interval_ms / 1000;

	/* Enough to cover the time since the last poll, and late events. */
	if (span < 2 * iv + res)
		span = 2 * iv + res;
	if (sp->stats_until_s > 0 && span < now_s - sp->stats_until_s + 2 * res)
		span = now_s - sp->stats_until_s + 2 * res;
	if (span > STATS_BUCKETS_MAX * res)
		span = STATS_BUCKETS_MAX * res;
	sp->since_s = (now_s - span) / res * res;
	sp->until_s = now_s;
	span = 2 * oc;
	if (sp->oc_until_s > 0 && span < now_s - sp->oc_until_s + oc)
		span = now_s - sp->oc_until_s + oc;
	if (span > 48 * oc)
		span = 48 * oc;
	sp->oc_start_s = (now_s - span) / oc * oc;
	sp->oc_end_s = now_s;
}

static int
sentry_start(void *impl, struct probe *p, struct probe_result *r)
{
	struct sentry_probe *sp = impl;
	int64_t now = clock_wall_ms();
	char when[40];

	sp->probe = p;
	sp->r = r;
	sp->running = true;
	sp->finishing = false;
	sp->requests = 0;
	sp->has_remaining = false;
	sp->new_issues_ok = sp->unresolved_ok = false;
	sp->run_start_us = clock_mono_us();
	sp->deadline_us = sp->run_start_us + sp->cfg->timeout_ms * 1000;
	r->started = now;
	if (now < sp->blocked_until) {
		/* Rate limited: say until when, and ask nothing. */
		iso_s(sp->blocked_until, when, sizeof(when));
		abort_run(sp, PROBE_FAIL_RATE_LIMITED, "rate limited until %s "
		    "(%s); no request before then", when, sp->blocked_why);
		return 0;
	}
	if (!read_token(sp))
		return 0;
	/* A new token is worth trying at once, whatever the backoff. */
	if (sp->last_fail == PROBE_FAIL_AUTH && sp->rejected_token != 0 &&
	    token_hash(sp->token) != sp->rejected_token) {
		sp->next_attempt = 0;
		sp->rejected_token = 0;
	}
	if (now < sp->next_attempt) {
		iso_s(sp->next_attempt, when, sizeof(when));
		abort_run(sp, sp->last_fail, "%s; next attempt at %s",
		    sp->last_error, when);
		return 0;
	}
	if (!build_headers(sp)) {
		abort_run(sp, PROBE_FAIL_INTERNAL, "out of memory");
		return 0;
	}
	plan_windows(sp, now);
	plan_release(sp, now);
	sp->step = SS_PROJECT;
	sp->attempt = 0;
	sp->paging = false;
	sp->pages = 0;
	if (step_enabled(sp, SS_PROJECT))
		sentry_send(sp);
	else
		next_step(sp);
	return 0;
}

static void
sentry_rebind(void *impl, const struct probe_cfg *cfg)
{
	struct sentry_probe *sp = impl;

	sp->cfg = cfg;
}

static void
sentry_cancel(void *impl)
{
	struct sentry_probe *sp = impl;

	if (sp->in_flight)
		evcurl_remove(sp->ec, &sp->xfer);
	sp->in_flight = false;
	evtimer_del(sp->wait);
	event_del(sp->defer);
	forget_token(sp);
	sp->running = false;
	sp->finishing = false;
}

static void
sentry_destroy(void *impl)
{
	struct sentry_probe *sp = impl;

	if (sp == NULL)
		return;
	if (sp->in_flight)
		evcurl_remove(sp->ec, &sp->xfer);
	forget_token(sp);
	if (sp->wait != NULL)
		event_free(sp->wait);
	if (sp->defer != NULL)
		event_free(sp->defer);
	if (sp->xfer.easy != NULL)
		curl_easy_cleanup(sp->xfer.easy);
	sentry_counter_clear(&sp->received);
	sentry_counter_clear(&sp->rejected);
	sentry_counter_clear(&sp->filtered);
	for (size_t i = 0; i < SENTRY_NOUTCOMES; i++)
		sentry_counter_clear(&sp->outcome[i]);
	free(sp->body);
	free(sp);
}

/* "scheme://host[:port]/" of the base URL: where the token may go. */
static void
set_origin(struct sentry_probe *sp, const char *base)
{
	const char *p = strstr(base, "://");
	const char *slash = p != NULL ? strchr(p + 3, '/') : NULL;
	size_t n = slash != NULL ? (size_t)(slash - base) + 1 : strlen(base);

	if (n >= sizeof(sp->origin))
		n = sizeof(sp->origin) - 1;
	memcpy(sp->origin, base, n);
	sp->origin[n] = '\0';
}

static void *
sentry_create(const struct probe_cfg *cfg, const struct probe_env *env)
{
	const struct sentry_cfg *s = &cfg->sentry;
	struct sentry_probe *sp = calloc(1, sizeof(*sp));
	CURL *e;

	if (sp == NULL)
		return NULL;
	sp->cfg = cfg;
	sp->ec = env->curl;
	sp->focus = env->focus;
	sp->wait = evtimer_new(env->base, on_wait, sp);
	sp->defer = event_new(env->base, -1, 0, on_defer, sp);
	e = sp->xfer.easy = curl_easy_init();
	if (sp->wait == NULL || sp->defer == NULL || e == NULL) {
		sentry_destroy(sp);
		return NULL;
	}
	set_origin(sp, s->base_url);
	sp->xfer.done = on_done;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* A redirect would carry the token elsewhere: never followed. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sp->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, sp);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, sp);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	return sp;
}

const struct probe_ops probe_sentry_ops = {
	.create = sentry_create,
	.start = sentry_start,
	.rebind = sentry_rebind,
	.cancel = sentry_cancel,
	.destroy = sentry_destroy,
};
