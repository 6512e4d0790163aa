/*
 * The sentry probe's requests: each step's URL, sending it within the
 * run's time and the endpoint's rate-limit budget, retrying, paging
 * through issues, and reading each answer into the probe's counters.
 * The run itself (token, plan, results, operations) is probe_sentry.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "base/clock.h"
#include "base/evcurl.h"
#include "config/config.h"
#include "probe/probe_sentry_int.h"
#include "probe/sentry_api.h"

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

/* ---- requests ---------------------------------------------------------- */

size_t
sentry_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sentry_probe *sp = arg;

	return sbuf_write(&sp->body, data, size * nmemb, &sp->too_big);
}

size_t
sentry_on_header(char *data, size_t size, size_t nmemb, void *arg)
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
	char res[32], a[40], b[40], rq[160], per[32];
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
		/* Sent always: the API's own default is 90 days. */
		period(s->issues_period_ms, per, sizeof(per));
		snprintf(sp->url, sizeof(sp->url), "%sorganizations/%s/issues/"
		    "?project=%s&query=%s&statsPeriod=%s&limit=%d",
		    s->base_url, s->organization, sp->project_id, q, per,
		    sp->paging ? ISSUE_PAGE : 1);
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
		/* dataset is required since 2026; discover is gone. */
		snprintf(sp->url, sizeof(sp->url), "%sorganizations/%s/events/"
		    "?dataset=errors&field=count%%28%%29&project=%s&query=%s"
		    "&start=%s&end=%s",
		    s->base_url, s->organization, sp->project_id, q, a, b);
		curl_free(q);
		return true;
	case SS_DONE:
		break;
	}
	return false;
}

bool
sentry_step_enabled(const struct sentry_probe *sp, enum sentry_step st)
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

void
sentry_on_wait(evutil_socket_t fd, short what, void *arg)
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
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "cannot arm a "
		    "timer");
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
void
sentry_send(struct sentry_probe *sp)
{
	const struct budget *b = &sp->budget[steps[sp->step].ep];
	int64_t now = clock_wall_ms(), left = time_left(sp);

	if (probe_ending(sp->probe))
		return;
	if (left <= MARGIN_MS) {
		sentry_fail_backoff(sp, PROBE_FAIL_TIMEOUT, "timed out after "
		    "%lld ms before the %s request",
		    (long long)sp->cfg->timeout_ms,
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
		sentry_iso_s(b->reset_ms, when, sizeof(when));
		sentry_block_until(sp, b->reset_ms, "the %s endpoint's budget "
		    "is spent until %s (X-Sentry-Rate-Limit-Remaining: 0)",
		    endpoints[steps[sp->step].ep].name, when);
		return;
	}
	if (!(sp->paging && sp->pages > 0) && !step_url(sp)) {
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "out of memory");
		return;
	}
	sbuf_free(&sp->body);
	sbuf_init(&sp->body, (size_t)sp->cfg->sentry.max_body);
	sp->too_big = false;
	sp->errbuf[0] = '\0';
	sentry_headers_reset(&sp->hdr);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_URL, sp->url);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_HTTPHEADER, sp->headers);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(sp->xfer.easy, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	if (evcurl_add(sp->ec, &sp->xfer) != 0) {
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "cannot start a "
		    "transfer");
		return;
	}
	sp->in_flight = true;
	sp->requests++;
}

/* Moves to the next enabled step, or ends the run when all are done. */
void
sentry_next_step(struct sentry_probe *sp)
{
	sp->attempt = 0;
	sp->paging = false;
	sp->pages = 0;
	sp->paged = 0;
	do
		sp->step++;
	while (sp->step < SS_DONE && !sentry_step_enabled(sp, sp->step));
	if (sp->step == SS_DONE)
		sentry_finish_ok(sp);
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
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "out of memory");
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

	if (sentry_parse_stats(sp->body.s, sp->body.len, &s, err,
	    errlen) != 0)
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
	if (sentry_parse_outcomes(sp->body.s, sp->body.len, "sum(quantity)",
	    &o, err, errlen) != 0)
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

/* Whether url is on base_url's server: its origin or an alias's. */
static bool
same_server(const struct sentry_probe *sp, const char *url)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;

	if (strncmp(url, sp->origin, strlen(sp->origin)) == 0)
		return true;
	for (size_t i = 0; i < s->naliases; i++)
		if (strncmp(url, s->aliases[i], strlen(s->aliases[i])) == 0)
			return true;
	return false;
}

/* "scheme://host[:port]" of url, for a reason. */
static void
origin_of(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://");
	size_t n = p != NULL ? (size_t)(p + 3 - url) +
	    strcspn(p + 3, "/?#") : strcspn(url, "/?#");

	if (n >= len)
		n = len - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

enum page_next { PAGE_NONE, PAGE_NEXT, PAGE_LOST };

/*
 * The next issues page. Sentry builds Link from its own configured URL,
 * which may not be base_url's host: followed only to an alias, since the
 * token goes along; PAGE_LOST (with a note) when a page exists that
 * cannot be fetched, so no partial count is taken for the total.
 */
static enum page_next
next_page(struct sentry_probe *sp, const char *what)
{
	char url[sizeof(sp->url)], other[200], quoted[220];

	if (sp->hdr.link_too_long) {
		probe_result_notef(sp->r, "%s: not counted: Link header over "
		    "%zu bytes", what, sizeof(sp->hdr.link) - 1);
		return PAGE_LOST;
	}
	if (!sentry_link_next(sp->hdr.link, url, sizeof(url)))
		return PAGE_NONE;
	if (!same_server(sp, url)) {
		origin_of(url, other, sizeof(other));
		probe_quote(other, quoted, sizeof(quoted));
		probe_result_notef(sp->r, "%s: not counted: next page on %s, "
		    "not base_url's host (see base_url_aliases)", what,
		    quoted);
		return PAGE_LOST;
	}
	snprintf(sp->url, sizeof(sp->url), "%s", url);
	return PAGE_NEXT;
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
	enum page_next nx;

	if (sentry_parse_issue_page(sp->body.s, sp->body.len, &n, err,
	    errlen) != 0)
		return false;
	if (!sp->paging && sp->hdr.has_hits) {
		*out = (double)sp->hdr.hits;
		*ok = true;
		/*
		 * Sentry caps X-Hits, and past 5,000 candidate issues it
		 * counts a sample: a count at the cap is both.
		 */
		if (sp->hdr.has_max_hits && sp->hdr.hits >= sp->hdr.max_hits)
			probe_result_notef(sp->r, "%s: at least %lld (X-Hits is "
			    "capped at X-Max-Hits; over 5,000 candidate issues "
			    "Sentry's X-Hits is a sampled estimate, +-10 %%)",
			    what, sp->hdr.hits);
		sentry_next_step(sp);
		return true;
	}
	if (!sp->paging && n == 0) {
		/* Sentry leaves X-Hits out when nothing matches: 0. */
		*out = 0;
		*ok = true;
		sentry_next_step(sp);
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
	nx = sp->pages < ISSUE_PAGES_MAX ? next_page(sp, what) : PAGE_NONE;
	if (nx == PAGE_NEXT) {
		sentry_send(sp);
		return true;
	}
	if (nx == PAGE_LOST) {
		/* A page's length is not the total: no number this run. */
		*ok = false;
		sentry_next_step(sp);
		return true;
	}
	if (sp->pages >= ISSUE_PAGES_MAX && sentry_link_next(sp->hdr.link,
	    sp->url, sizeof(sp->url)))
		probe_result_notef(sp->r, "%s: at least %zu (counted %d pages; "
		    "no X-Hits header)", what, sp->paged, ISSUE_PAGES_MAX);
	*out = (double)sp->paged;
	*ok = true;
	sentry_next_step(sp);
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
		ok = sentry_parse_project_id(sp->body.s, sp->body.len,
		    sp->project_id, sizeof(sp->project_id), err,
		    sizeof(err)) == 0;
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
		ok = sentry_parse_event_count(sp->body.s, sp->body.len,
		    &sp->rel_all, err, sizeof(err)) == 0;
		break;
	case SS_RELEASE_OWN:
		ok = sentry_parse_event_count(sp->body.s, sp->body.len,
		    &sp->rel_own, err, sizeof(err)) == 0;
		sp->rel_ok = ok;
		break;
	case SS_NEW_ISSUES:
	case SS_UNRESOLVED:
		/* Paging and moving on happen inside. */
		if (!read_issues(sp, err, sizeof(err)))
			sentry_fail_backoff(sp, PROBE_FAIL_JSON, "%s", err);
		return;
	case SS_DONE:
		break;
	}
	if (!ok) {
		sentry_fail_backoff(sp, PROBE_FAIL_JSON, "%s", err);
		return;
	}
	if (!probe_ending(sp->probe))
		sentry_next_step(sp);
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
		sentry_block_until(sp, until, "HTTP 429 from the %s "
		    "endpoint%s; Retry-After", ep, said);
		break;
	case SENTRY_WAIT_RESET:
		sentry_block_until(sp, until, "HTTP 429 from the %s "
		    "endpoint%s; X-Sentry-Rate-Limit-Reset", ep, said);
		break;
	case SENTRY_WAIT_BACKOFF:
		sentry_block_until(sp, until, "HTTP 429 from the %s "
		    "endpoint%s; no rate-limit headers, backing off %.0f s",
		    ep, said, (double)(until - now) / 1000.0);
		break;
	}
}

/*
 * Snuba's throttling or a query timeout comes back as HTTP 400 "Query
 * timeout...": being told to wait, like a 429, backed off the same way.
 */
static void
on_throttled(struct sentry_probe *sp, const char *ep)
{
	int64_t now = clock_wall_ms(), until;

	sp->limited++;
	until = now + sentry_backoff_ms(sp->limited, BACKOFF_BASE_MS,
	    sp->cfg->sentry.backoff_max_ms);
	sentry_block_until(sp, until, "Sentry throttled the %s query: HTTP "
	    "400 \"Query timeout\"; backing off %.0f s", ep,
	    (double)(until - now) / 1000.0);
}

static void
on_status(struct sentry_probe *sp, long code)
{
	enum sentry_ep ep = steps[sp->step].ep;
	const char *name = endpoints[ep].name;
	char text[160], quoted[180], said[200];

	sentry_error_text(sp->body.s, sp->body.len, text, sizeof(text));
	probe_quote(text, quoted, sizeof(quoted));
	snprintf(said, sizeof(said), "%s%s", text[0] != '\0' ? ": " : "",
	    text[0] != '\0' ? quoted : "");
	if (code == 429) {
		on_429(sp, name, text);
	} else if (code == 401) {
		sp->rejected_token = sentry_token_hash(sp->token);
		sentry_fail_backoff(sp, PROBE_FAIL_AUTH, "token rejected "
		    "(HTTP 401 from the %s endpoint%s)", name, said);
	} else if (code == 403) {
		/* Another token may carry the scope: worth trying at once. */
		sp->rejected_token = sentry_token_hash(sp->token);
		sentry_fail_backoff(sp, PROBE_FAIL_AUTH, "token lacks scope "
		    "%s for the %s endpoint (HTTP 403%s)", endpoints[ep].scope,
		    name, said);
	} else if (code == 404 && ep == EP_EVENTS && sp->project_id[0] != '\0') {
		/*
		 * The organization and project answered a moment ago: the
		 * events endpoint is 404 to an organization without Discover.
		 */
		sentry_fail_backoff(sp, PROBE_FAIL_STATUS, "HTTP 404 from the "
		    "events endpoint%s: the organization lacks Sentry's "
		    "Discover feature (its plan), which release_errors needs",
		    said);
	} else if (code == 404) {
		sentry_fail_backoff(sp, PROBE_FAIL_STATUS, "HTTP 404 from the "
		    "%s endpoint%s: check \"organization\" and \"project\"",
		    name, said);
	} else if (code == 400 && strncmp(text, "Query timeout", 13) == 0) {
		on_throttled(sp, name);
	} else if (code >= 500 && retry_in_run(sp)) {
		return;
	} else if (code == 400) {
		sentry_fail_backoff(sp, PROBE_FAIL_STATUS, "Sentry refused "
		    "the %s request (HTTP 400%s)", name, said);
	} else {
		sentry_fail_backoff(sp, PROBE_FAIL_STATUS, "HTTP %ld from the "
		    "%s endpoint%s", code, name, said);
	}
}

static void
on_transfer_error(struct sentry_probe *sp, CURLcode res)
{
	const char *name = endpoints[steps[sp->step].ep].name;

	if (sp->too_big) {
		sentry_fail_backoff(sp, PROBE_FAIL_BODY, "the %s answer is "
		    "larger than the %lld-byte limit (max_body)", name,
		    (long long)sp->cfg->sentry.max_body);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		sentry_fail_backoff(sp, PROBE_FAIL_TIMEOUT, "timed out after "
		    "%lld ms waiting for the %s endpoint",
		    (long long)sp->cfg->timeout_ms, name);
	} else if (res == CURLE_WRITE_ERROR) {
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "out of memory "
		    "storing the %s answer", name);
	} else if (!retry_in_run(sp)) {
		sentry_fail_backoff(sp, PROBE_FAIL_CONNECT,
		    "%s (the %s endpoint)", sp->errbuf[0] != '\0' ?
		    sp->errbuf : curl_easy_strerror(res), name);
	}
}

void
sentry_on_done(struct evcurl_xfer *x, CURLcode res)
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
		/* A 400 may be throttling, which backs off like a 429. */
		if (code != 400)
			sp->limited = 0;
	}
	if (code < 200 || code > 299)
		on_status(sp, code);
	else
		read_answer(sp);
}
