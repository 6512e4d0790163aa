/*
 * The Sentry web API stand-in of the portal simulator, under /api/0/:
 * project details, project stats (TSDB), organization stats_v2 by
 * outcome, the organization issue stream, and Discover's event count by
 * release, with the payload shapes, headers and errors of the real API
 * (reference: protocols.md section 1).
 *
 * The events Sentry counts follow the simulated application's errors
 * (sim_model.c): each error becomes `capture` events, of which a share is
 * rejected (rate limited) and a share filtered, so error_spike shows up
 * as a rising event rate. The accepted events are split between the
 * current release and the one before it by the release knobs, so a
 * canary that makes more errors per request shows up in the events
 * endpoint's release:VERSION counts. Every switch into error_spike also
 * opens two new issues. Controls (POST /_sim/sentry) force 429s (with or
 * without the rate-limit headers, with Retry-After), server errors,
 * missing scopes, self-hosted behaviour (no rate-limit headers) and no
 * X-Hits, Snuba's query timeouts, an organization without Discover,
 * events recorded late (a processing delay), the public URL Link is
 * built from, and set the release.
 *
 * Everything here runs under the server's one lock, which guards this
 * state and the traffic model together.
 */
#ifndef PORTAL_SIM_SENTRY_H
#define PORTAL_SIM_SENTRY_H

#include <stddef.h>
#include <threads.h>

#include <microhttpd.h>

#include "sim_http.h"
#include "sim_model.h"

enum sim_sentry_ep {
	SSE_PROJECT,	/* projects/{org}/{project}/ */
	SSE_STATS,	/* projects/{org}/{project}/stats/ */
	SSE_STATS_V2,	/* organizations/{org}/stats_v2/ */
	SSE_ISSUES,	/* organizations/{org}/issues/ */
	SSE_EVENTS,	/* organizations/{org}/events/ */
	SSE_COUNT,
};

#define SIM_SENTRY_MAX_ISSUES	6000	/* past Sentry's 5,000 candidates */
#define SIM_SENTRY_MAX_SEGS	64
#define SIM_SENTRY_SCOPES	3	/* project:read, org:read, event:read */
#define SIM_SENTRY_MAX_RELEASES	16
#define SIM_SENTRY_RELEASE_MAX	64	/* a version, its NUL included */
#define SIM_SENTRY_MAX_LATE	64	/* batches of late events kept */
#define SIM_SENTRY_URL_MAX	256

/* How application errors become Sentry events, from time t0 on. */
struct sim_sentry_seg {
	double t0;		/* elapsed seconds */
	double e0;		/* application errors at t0 */
	double recv0, rej0, filt0;	/* Sentry's counts at t0 */
	double capture;		/* events per application error */
	double rejected;	/* share of events rate limited */
	double filtered;	/* share of events filtered */
};

/*
 * Which release the accepted events belong to, from t0 on: a share frac
 * to version, the rest to prev (the release before). Events before the
 * oldest kept segment's t0 all belong to its prev.
 */
struct sim_release_seg {
	double t0;		/* unix seconds the knob was set */
	char version[SIM_SENTRY_RELEASE_MAX];
	char prev[SIM_SENTRY_RELEASE_MAX];
	double share;		/* of the application's traffic, 0 < share <= 1 */
	double factor;		/* errors per request relative to prev */
	double frac;		/* share * factor / (share * factor + 1 - share) */
};

/* Events Sentry stamped at t (received) but recorded only later. */
struct sim_late {
	double t;		/* unix seconds: the stamp */
	double n;		/* accepted error events */
};

struct sim_issue {
	unsigned id;
	double first_seen;	/* unix seconds */
	int priority;		/* 0 high, 1 medium, 2 low */
	int resolved;
	char title[96];
	char culprit[64];
};

struct sim_sentry {
	char token[512];	/* the one accepted; "" accepts none */
	char org[64], project[64];
	double start_wall;	/* unix seconds at elapsed 0 */

	/* Knobs (POST /_sim/sentry). */
	long limit;		/* requests per endpoint per second */
	int self_hosted;	/* no X-Sentry-Rate-Limit-* headers */
	int send_hits;		/* X-Hits on the issue stream */
	int scopes[SIM_SENTRY_SCOPES];
	double force_until;	/* unix s: every request gets 429 */
	int force_headers;	/* ... with the rate-limit headers */
	long retry_after;	/* ... with Retry-After (s), when > 0 */
	int fail_status;	/* the next fail_count requests get this */
	long fail_count;
	double delay;		/* s from an event's stamp to its recording */
	long query_timeouts;	/* the next N Snuba queries: 400 timeout */
	int discover;		/* the organization has Discover */
	/* What Sentry builds Link from (system.url-prefix): ".../api/0/". */
	char public_url[SIM_SENTRY_URL_MAX];
	size_t nlate;
	struct sim_late late[SIM_SENTRY_MAX_LATE];

	size_t nseg;
	struct sim_sentry_seg seg[SIM_SENTRY_MAX_SEGS];
	size_t nrel;		/* >= 1: the last is the current release */
	struct sim_release_seg rel[SIM_SENTRY_MAX_RELEASES];

	/* Per endpoint fixed one-second windows. */
	long window[SSE_COUNT];
	long used[SSE_COUNT];

	size_t nissues;
	struct sim_issue issues[SIM_SENTRY_MAX_ISSUES];
	unsigned next_id;
	unsigned spikes;

	/* What /_sim/stats reports. */
	unsigned long hits[SSE_COUNT];
	unsigned long unauthorized, forbidden, rate_limited, failed;
	unsigned long without_query;
	unsigned long throttled, no_dataset;
	double last_request;	/* unix seconds, 0: none */
};

void sim_sentry_init(struct sim_sentry *s, const char *token,
                     const char *org, const char *project, long limit,
                     double start_wall);
/* Before serving: the URL Sentry's Link headers start with. */
void sim_sentry_set_public_url(struct sim_sentry *s, const char *url);
/* Lock held: the application switched scenario at elapsed t. */
void sim_sentry_on_switch(struct sim_sentry *s, enum sim_scenario sc,
                          double now_wall);

/*
 * GET /api/0/...: takes the lock itself (the model and this state), and
 * answers. elapsed and now_wall are the request's arrival.
 */
enum MHD_Result sim_sentry_handle(struct sim_sentry *s, mtx_t *lock,
                                  struct sim_model *m, double elapsed,
                                  double now_wall, struct MHD_Connection *c,
                                  const char *url, const char *method);
/* POST /_sim/sentry?knob=value... (and GET): the knobs as JSON. */
enum MHD_Result sim_sentry_control(struct sim_sentry *s, mtx_t *lock,
                                   struct sim_model *m, double elapsed,
                                   double now_wall, struct MHD_Connection *c,
                                   int set);
/* Lock held: appends ,"sentry":{...} to the stats body; reset zeroes. */
void sim_sentry_stats(struct sim_sentry *s, struct body *b, int reset);

#endif
