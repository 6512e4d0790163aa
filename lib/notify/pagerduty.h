/*
 * pagerduty: what PagerDuty's Events API v2 hears, pure. A rule firing is
 * a "trigger" and its end a "resolve" (never "acknowledge": that is a
 * person's), both with the dedup key "vigil/<instance>/<rule>", so
 * repeats and escalations update the one incident and the resolve closes
 * it. A deploy gate's "fail" is a trigger of its own key per deploy,
 * resolved by a person; other verdicts are not PagerDuty's business.
 *
 * The routing key is a secret: the bodies queued (and saved in the state
 * file) do not hold it; pagerduty_body() puts it in as a notice leaves.
 */
#ifndef VIGIL_PAGERDUTY_H
#define VIGIL_PAGERDUTY_H

#include <stdbool.h>
#include <stddef.h>

#include "notify/payload.h"

/* PagerDuty's limits: a summary's length, a dedup key's. */
#define PAGERDUTY_SUMMARY_MAX	1024
#define PAGERDUTY_DEDUP_MAX	255

/* "vigil/<instance>/<rule>", cut to PAGERDUTY_DEDUP_MAX; returns out. */
const char *pagerduty_dedup_key(const char *instance, const char *rule,
    char *out, size_t len);

/* The event for a notice, or NULL when out of memory. */
char *pagerduty_event(const struct notice *n, const struct sender *s);
/* The event for a deploy verdict; NULL for all but "fail" (or no memory). */
char *pagerduty_deploy_event(const struct deploy_notice *d,
    const struct sender *s);

/* An event as sent: with "routing_key" first. NULL when out of memory. */
char *pagerduty_body(const char *event, const char *routing_key);

/*
 * Whether an answer says the event will never be taken (400 invalid, and
 * the other 4xx but 408 and 429): retrying it would hold up every notice
 * behind it for nothing. 429 and 5xx are worth a retry.
 */
bool pagerduty_permanent(long status);

#endif
