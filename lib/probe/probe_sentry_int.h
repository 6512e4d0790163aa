/*
 * The sentry probe's private parts, shared by its two files:
 * probe_sentry.c (a run: the token, the windows asked for, ending and
 * failing runs, the metrics, the probe operations) and probe_sentry_req.c
 * (the requests: URLs, budgets, retries, paging, reading answers).
 * Private to lib/probe.
 */
#ifndef VIGIL_PROBE_SENTRY_INT_H
#define VIGIL_PROBE_SENTRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "base/evcurl.h"
#include "base/sbuf.h"
#include "probe/probe.h"
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
	struct sbuf body;		/* this request's answer */
	bool too_big;
	struct sentry_headers hdr;
	char url[8192];			/* a Link may be long */
	char origin[512];		/* scheme://host[:port]/ of base_url */
	char *token;			/* this run's; zeroed after */

	/* The run in flight. */
	struct probe *probe;
	struct probe_result *r;
	bool in_flight;
	int64_t deadline_us;
	struct event *wait;		/* a retry or a budget, within a run */
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

/* probe_sentry.c: the run. */
/* "2025-01-01T12:00:30Z": whole seconds, rounded up (never early). */
void sentry_iso_s(int64_t ms, char *buf, size_t len);
/* FNV-1a: enough to know the token changed, without keeping it. */
uint64_t sentry_token_hash(const char *s);
/* Fails the run and backs off: later runs repeat the reason. */
void sentry_fail_backoff(struct sentry_probe *sp, enum probe_fail kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* No request before until (Unix ms); this run fails. */
void sentry_block_until(struct sentry_probe *sp, int64_t until,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Every request answered: the run's metrics, and its end. */
void sentry_finish_ok(struct sentry_probe *sp);

/* probe_sentry_req.c: the requests. */
bool sentry_step_enabled(const struct sentry_probe *sp, enum sentry_step st);
/* Sends this step's request (or waits for time or budget first). */
void sentry_send(struct sentry_probe *sp);
/* Moves to the next enabled step, or ends the run when all are done. */
void sentry_next_step(struct sentry_probe *sp);
/* curl's and libevent's callbacks, wired up by sentry_create. */
size_t sentry_on_body(char *data, size_t size, size_t nmemb, void *arg);
size_t sentry_on_header(char *data, size_t size, size_t nmemb, void *arg);
void sentry_on_done(struct evcurl_xfer *x, CURLcode res);
void sentry_on_wait(evutil_socket_t fd, short what, void *arg);

#endif
