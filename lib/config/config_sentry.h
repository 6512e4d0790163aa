/*
 * config_sentry: the settings of a "sentry" probe (struct sentry_cfg, a
 * member of struct probe_cfg). Parsing lives in config_sentry.c; nothing
 * here touches the network. The token is not part of the configuration:
 * only where to find it (a file, e.g. a systemd credential, or an
 * environment variable), read by the probe at each run so it can rotate.
 */
#ifndef VIGIL_CONFIG_SENTRY_H
#define VIGIL_CONFIG_SENTRY_H

#include <stdbool.h>
#include <stdint.h>

#define SENTRY_DEFAULT_BASE_URL	"https://sentry.io/api/0/"

struct sentry_cfg {
	char *base_url;		/* ends with "/": ".../api/0/" */
	char *organization;	/* slugs, safe in a URL path */
	char *project;
	char *token_file;	/* absolute path, or NULL */
	char *token_env;	/* variable name, or NULL */
	bool project_stats;	/* projects/{org}/{project}/stats/ */
	int64_t resolution_ms;	/* its buckets: 10 s, 1 h or 1 d (Sentry's rollups) */
	/*
	 * How far back each run re-reads buckets: Sentry stamps an event when
	 * received but records it after processing, so a bucket can grow
	 * long after it closed. One request a run whatever its length.
	 */
	int64_t late_window_ms;
	bool outcomes;		/* organizations/{org}/stats_v2/ */
	int64_t outcomes_interval_ms;
	bool issues;		/* organizations/{org}/issues/, X-Hits */
	/*
	 * organizations/{org}/events/: the open deploy's own error events
	 * and all of them, counted alike; set by release.by_release.
	 */
	bool release_errors;
	char *query;		/* the issues query, sent explicitly */
	int64_t issues_window_ms;	/* "new": first seen this recently */
	int64_t issues_period_ms;	/* statsPeriod: issues seen this recently */
	/*
	 * Origins ("https://de.sentry.io/") Sentry may name in Link headers
	 * for the same server as base_url: paging follows them (the token
	 * goes along), and no other host.
	 */
	char **aliases;
	size_t naliases;
	int64_t backoff_max_ms;	/* longest wait after failures */
	int64_t max_body;	/* bytes of one answer */
	bool tls_verify;
	char *ca_file;
};

struct probe_cfg;
/*
 * Whether a sentry probe records this metric (the part after
 * "<probe>."), given which endpoints it reads.
 */
bool cfg_sentry_has_metric(const struct probe_cfg *pc, const char *metric);
/* Whether it is one of the running totals (see probe_metric_counter). */
bool cfg_sentry_metric_counter(const struct probe_cfg *pc,
    const char *metric);

#endif
