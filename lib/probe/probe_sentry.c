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
#include "base/file.h"
#include "config/config.h"
#include "base/evcurl.h"
#include "base/hash.h"
#include "probe/sentry_api.h"
#include "probe/probe_sentry_int.h"


/* "2025-01-01T12:00:30Z": whole seconds, rounded up (never early). */
void
sentry_iso_s(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)((ms + 999) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* FNV-1a: enough to know the token changed, without keeping it. */
uint64_t
sentry_token_hash(const char *s)
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

/*
 * The run is over (probe_end): its own metrics, and nothing of the token
 * left, in the result's texts or in memory.
 */
static void
sentry_end(void *impl, struct probe_result *r)
{
	struct sentry_probe *sp = impl;

	evtimer_del(sp->wait);
	probe_result_add(r, "api_requests", sp->requests);
	if (sp->has_remaining)
		probe_result_add(r, "rate_limit_remaining",
		    (double)sp->min_remaining);
	probe_scrub_secret(sp->token, r->reason);
	probe_scrub_secret(sp->token, r->notes);
	forget_token(sp);
	/* Answers are not kept between runs: memory stays bounded. */
	sbuf_free(&sp->body);
}

/*
 * A failure worth backing off from (auth, server errors, timeouts): the
 * runs until next_attempt repeat its reason instead of asking again.
 */
void
sentry_fail_backoff(struct sentry_probe *sp, enum probe_fail kind,
    const char *fmt, ...)
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
	sentry_iso_s(sp->next_attempt, when, sizeof(when));
	probe_abort(sp->probe, kind, "%s; next attempt at %s", sp->last_error,
	    when);
}

/* No request before until (Unix ms); this run and those before it fail. */
void
sentry_block_until(struct sentry_probe *sp, int64_t until, const char *fmt,
    ...)
{
	char when[40];
	va_list ap;

	sp->blocked_until = until;
	va_start(ap, fmt);
	vsnprintf(sp->blocked_why, sizeof(sp->blocked_why), fmt, ap);
	va_end(ap);
	probe_scrub_secret(sp->token, sp->blocked_why);
	sentry_iso_s(until, when, sizeof(when));
	probe_abort(sp->probe, PROBE_FAIL_RATE_LIMITED, "rate limited until %s "
	    "(%s)", when, sp->blocked_why);
}

/* ---- the token --------------------------------------------------------- */

/*
 * Reads this run's token; false after failing the run with why. A file is
 * read as every secret file is (file_read_secret); the variable, set by
 * hand in a unit file, keeps its old leniency about surrounding blanks.
 */
static bool
read_token(struct sentry_probe *sp)
{
	const struct sentry_cfg *s = &sp->cfg->sentry;
	const char *kind = s->token_env != NULL ? "variable" : "token_file";
	const char *name = s->token_env != NULL ? s->token_env : s->token_file;
	char why[128], *tok = NULL;
	int rc;

	if (s->token_env != NULL) {
		const char *e = getenv(s->token_env);

		if (e == NULL || e[0] == '\0') {
			probe_abort(sp->probe, PROBE_FAIL_AUTH, "no token: "
			    "environment variable %s is not set (token_env)",
			    s->token_env);
			return false;
		}
		if (strlen(e) > SENTRY_TOKEN_MAX) {
			probe_abort(sp->probe, PROBE_FAIL_AUTH, "no token: "
			    "environment variable %s is longer than %d bytes",
			    s->token_env, SENTRY_TOKEN_MAX);
			return false;
		}
		while (*e == ' ' || *e == '\t' || *e == '\n' || *e == '\r')
			e++;
		tok = strdup(e);
		if (tok == NULL) {
			probe_abort(sp->probe, PROBE_FAIL_INTERNAL,
			    "out of memory");
			return false;
		}
		for (size_t n = strlen(tok); n > 0 && (tok[n - 1] == ' ' ||
		    tok[n - 1] == '\t' || tok[n - 1] == '\n' ||
		    tok[n - 1] == '\r'); n--)
			tok[n - 1] = '\0';
		rc = tok[0] == '\0' ? FILE_ERR_EMPTY : FILE_OK;
		if (rc != FILE_OK)
			free(tok);
	} else {
		rc = file_read_secret(s->token_file, SENTRY_TOKEN_MAX, &tok,
		    why, sizeof(why));
	}
	if (rc == FILE_ERR_EMPTY || rc == FILE_ERR_TOO_BIG) {
		probe_abort(sp->probe, PROBE_FAIL_AUTH, "no token: %s %s is %s",
		    kind, name, rc == FILE_ERR_EMPTY ? "empty" : "too long");
		return false;
	}
	if (rc == FILE_ERR_NOMEM) {
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "out of memory");
		return false;
	}
	if (rc != FILE_OK && rc != FILE_ERR_LINES) {
		probe_abort(sp->probe, PROBE_FAIL_AUTH, "no token: cannot read "
		    "token_file %s: %s", name, why);
		return false;
	}
	/* A header must be one line of visible characters. */
	for (const char *c = tok; rc == FILE_OK && *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			rc = FILE_ERR_LINES;
	if (rc == FILE_ERR_LINES) {
		file_secret_free(tok);
		probe_abort(sp->probe, PROBE_FAIL_AUTH, "no token: %s %s must "
		    "hold one token (one line, no spaces)", kind, name);
		return false;
	}
	sp->token = tok;
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
void
sentry_finish_ok(struct sentry_probe *sp)
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
	probe_end(sp->probe);
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
	int64_t late = s->late_window_ms / 1000;

	/*
	 * Enough to cover the time since the last poll, and late events:
	 * Sentry puts an event in the bucket of when it was received, but
	 * only once processed, up to late_window later. Re-reading those
	 * buckets lets the counter see them grow, and count each event once.
	 */
	if (span < 2 * iv + res)
		span = 2 * iv + res;
	if (span < late + res)
		span = late + res;
	if (sp->stats_until_s > 0 && span < now_s - sp->stats_until_s + 2 * res)
		span = now_s - sp->stats_until_s + 2 * res;
	if (span > STATS_BUCKETS_MAX * res)
		span = STATS_BUCKETS_MAX * res;
	sp->since_s = (now_s - span) / res * res;
	sp->until_s = now_s;
	span = 2 * oc;
	if (span < late + oc)
		span = late + oc;
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
	sp->requests = 0;
	sp->has_remaining = false;
	sp->new_issues_ok = sp->unresolved_ok = false;
	sp->deadline_us = clock_mono_us() + sp->cfg->timeout_ms * 1000;
	if (now < sp->blocked_until) {
		/* Rate limited: say until when, and ask nothing. */
		sentry_iso_s(sp->blocked_until, when, sizeof(when));
		probe_abort(sp->probe, PROBE_FAIL_RATE_LIMITED, "rate limited "
		    "until %s (%s); no request before then", when,
		    sp->blocked_why);
		return 0;
	}
	if (!read_token(sp))
		return 0;
	/* A new token is worth trying at once, whatever the backoff. */
	if (sp->last_fail == PROBE_FAIL_AUTH && sp->rejected_token != 0 &&
	    sentry_token_hash(sp->token) != sp->rejected_token) {
		sp->next_attempt = 0;
		sp->rejected_token = 0;
	}
	if (now < sp->next_attempt) {
		sentry_iso_s(sp->next_attempt, when, sizeof(when));
		probe_abort(sp->probe, sp->last_fail, "%s; next attempt at %s",
		    sp->last_error, when);
		return 0;
	}
	if (!build_headers(sp)) {
		probe_abort(sp->probe, PROBE_FAIL_INTERNAL, "out of memory");
		return 0;
	}
	plan_windows(sp, now);
	plan_release(sp, now);
	sp->step = SS_PROJECT;
	sp->attempt = 0;
	sp->paging = false;
	sp->pages = 0;
	if (sentry_step_enabled(sp, SS_PROJECT))
		sentry_send(sp);
	else
		sentry_next_step(sp);
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
	forget_token(sp);
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
	if (sp->xfer.easy != NULL)
		curl_easy_cleanup(sp->xfer.easy);
	sentry_counter_clear(&sp->received);
	sentry_counter_clear(&sp->rejected);
	sentry_counter_clear(&sp->filtered);
	for (size_t i = 0; i < SENTRY_NOUTCOMES; i++)
		sentry_counter_clear(&sp->outcome[i]);
	sbuf_free(&sp->body);
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
	sp->wait = evtimer_new(env->base, sentry_on_wait, sp);
	e = sp->xfer.easy = curl_easy_init();
	if (sp->wait == NULL || e == NULL) {
		sentry_destroy(sp);
		return NULL;
	}
	set_origin(sp, s->base_url);
	sp->xfer.done = sentry_on_done;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* A redirect would carry the token elsewhere: never followed. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sp->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sentry_on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, sp);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sentry_on_header);
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
	.end = sentry_end,
};
