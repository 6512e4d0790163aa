/*
 * probe_sentry: the "sentry" probe. Sentry's web API with a bearer token,
 * on the shared curl multi handle: one easy handle per probe, reused, and
 * a run is a short sequence of requests (one state machine), each within
 * what is left of the run's timeout:
 *
 *   project details (once: the numeric id stats_v2 and issues need),
 *   project stats received / rejected / blacklisted (resolution buckets),
 *   organization stats_v2 by outcome (when "outcomes"),
 *   issues: new ones (firstSeen within issues_window) and all unresolved,
 *   counted from X-Hits, or by following Link pages when it is absent.
 *
 * Bucketed counts become running counters that vigild keeps itself
 * (sentry_api.h), so rules can take deltas over the same window as the
 * application's request counter.
 *
 * Sentry's limits are honoured: after a 429 no request goes out before
 * Retry-After, X-Sentry-Rate-Limit-Reset, or an exponential backoff (in
 * that order); a spent X-Sentry-Rate-Limit-Remaining budget is waited out
 * (within the run when the reset is close, else the run reports it); runs
 * in between fail as "rate_limited" with "rate limited until <time>" and
 * send nothing. 401/403 and server errors back off exponentially (up to
 * backoff_max) with the reason kept; server errors and dropped
 * connections are retried twice within a run first.
 *
 * The token is read at each run (file or environment), sent only to the
 * configured origin, and scrubbed from every reason and note.
 */
#ifndef VIGIL_PROBE_SENTRY_H
#define VIGIL_PROBE_SENTRY_H

#include "probe/probe.h"

extern const struct probe_ops probe_sentry_ops;

#endif
