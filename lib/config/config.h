/*
 * config: the configuration file (JSON with comments) as a validated
 * struct config. Parsing never touches sockets or the loop, so a reload
 * builds a whole new config and swaps it in only when it is valid.
 *
 * Every error carries the file, line and column it refers to and says what
 * was expected; unknown keys are errors (with a suggestion), so a typo
 * never silently turns into a default.
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config/config_dns.h"
#include "config/config_net.h"
#include "config/config_heartbeat.h"
#include "config/config_pg.h"
#include "config/config_sentry.h"

#include "config/maint_def.h"
#include "config/rule_def.h"

enum probe_type {
	PROBE_HTTP,
	PROBE_POSTGRES,
	PROBE_SENTRY,
	PROBE_DNS,
	PROBE_TCP,
	PROBE_TLS,
	PROBE_HEARTBEAT,
};

const char *probe_type_name(enum probe_type t);

/* An accepted HTTP status range, inclusive ("2xx" is 200..299). */
struct status_range {
	int lo, hi;
};

struct jsonpath;

/*
 * "value at this JSON Pointer must be one of these". ptr is the text as
 * written; when it starts with '$' it is JSONPath, parsed once at load
 * into path (NULL for a Pointer), and must match exactly one value.
 */
struct json_expect {
	char *ptr;
	struct jsonpath *path;
	cJSON *any_of;		/* an array of accepted scalar values */
};

/* "this JSON Pointer (or JSONPath, as above) is metric <probe>.<name>" */
struct metric_extract {
	char *name;
	char *ptr;
	struct jsonpath *path;
	bool counter;	/* declared "type": "counter"; else a gauge */
};

struct http_cfg {
	char *url;
	char *method;		/* GET, HEAD or POST */
	char **headers;		/* "Name: value" lines */
	size_t nheaders;
	char *body;		/* request body for POST, or NULL */
	struct status_range *status;
	size_t nstatus;
	char *keyword;		/* must occur in the body, or NULL */
	struct json_expect *expect_json;
	size_t nexpect_json;
	struct metric_extract *metrics;
	size_t nmetrics;
	int64_t max_body;	/* bytes */
	bool tls_verify;
	char *ca_file;
	bool follow_redirects;
	bool new_connection;	/* no reuse: every run connects afresh */
};

struct probe_cfg {
	char *name;
	enum probe_type type;
	int64_t interval_ms;
	int64_t timeout_ms;
	/* Debounce: consecutive failed runs before down, good runs before up. */
	unsigned fail_after, recover_after;
	int64_t retry_interval_ms;	/* while failing; 0: the interval */
	enum rule_sev down_severity;	/* of the implicit <name>_down rule */
	char *down_depends_on;		/* that rule's depends_on, or NULL */
	/*
	 * The probe's settings as canonical JSON (defaults applied): two
	 * probes with equal canon are the same probe, so a reload keeps its
	 * history and schedule.
	 */
	char *canon;
	/* What it watches, for people: a URL, secrets redacted. */
	char *target;
	struct http_cfg http;
	struct pg_cfg pg;
	struct sentry_cfg sentry;
	struct dns_cfg dns;
	struct net_cfg net;	/* tcp and tls */
	struct heartbeat_cfg heartbeat;
};

/*
 * Whether metric (the part after "<probe>.") of probe pc is a counter, as
 * declared: an http probe's "type": "counter", the running totals the
 * postgres and sentry probe types record. Never guessed from the name.
 */
bool probe_metric_counter(const struct probe_cfg *pc, const char *metric);

/* A label on a rule: passed along with its alerts. */
struct rule_label {
	char *key, *value;
};

struct rule_cfg {
	char *name;
	/* One metric, or a ratio of two over the same window. */
	char *metric;
	char *numerator, *denominator;
	double scale;			/* ratio multiplier (100: percent) */
	double min_denominator;		/* below: unknown, too little data */
	size_t probe;			/* index of the probe the metric is from */
	size_t probe2;			/* the denominator's probe */
	enum agg agg;
	int64_t window_ms;		/* 0: the latest sample only */
	int64_t stale_ms;		/* newest sample older: unknown */
	struct rule_def def;
	char *depends_on;		/* a rule name, or NULL */
	size_t dep;			/* its index, when depends_on is set */
	struct rule_label *labels;
	size_t nlabels;
	char *unit;			/* for people: "ms", "%" */
	char *summary;			/* template, see vigil.json(5), rules */
	bool has_baseline;		/* an initial baseline from the file */
	double baseline;
	bool implicit;			/* generated for a probe's down state */
	char *canon;			/* same canon: same rule across reloads */
};

enum notifier_type {
	NOTIFIER_WEBHOOK, NOTIFIER_ALERTMANAGER,
	NOTIFIER_EMAIL,		/* SMTP (notify/mail.h) */
	NOTIFIER_PAGERDUTY,	/* Events API v2 (notify/pagerduty.h) */
};
enum webhook_format { WEBHOOK_GENERIC, WEBHOOK_SLACK };

/* An "email" notifier's own part (config/config_email.c). */
struct email_cfg {
	char *from;			/* an address: local@domain */
	char **to;			/* one message to all of them */
	size_t nto;
	char *username;			/* NULL: no AUTH */
	char *password;			/* secret: from password_file */
	char *ca_file;			/* NULL: the system's CAs */
	bool starttls;			/* smtp:// must upgrade (default) */
};

struct notifier_cfg {
	char *name;
	enum notifier_type type;
	enum webhook_format format;	/* webhook only */
	char **urls;			/* secret for webhooks: never shown */
	size_t nurls;
	char *shown;			/* what /status may show: scheme://host/... */
	char **headers;			/* "Name: value"; may be secret */
	size_t nheaders;
	/* Filter: which alerts go here. */
	bool sev_warning, sev_critical;
	char **rules;			/* names, or NULL for every rule */
	size_t nrules;
	struct rule_label *labels;	/* every one must match */
	size_t nlabels;
	int64_t repeat_ms;		/* re-notify while firing; 0: never */
	int64_t timeout_ms;
	size_t queue_max;
	/* Release day: deploy updates here too (notify/deploytalk.h). */
	bool deploys;
	int64_t progress_ms;		/* a progress update this often */
	struct email_cfg *email;	/* type "email": urls[0] the server */
	/* PagerDuty: the integration's routing key (secret: never shown). */
	char *routing_key;
	/* A templated webhook: its body (base/template.h) and media type. */
	char *template;
	char *content_type;		/* NULL: application/json */
};

/*
 * The fields a webhook's "template" may name, NULL-terminated, besides
 * "labels.<key>"; notify/tmplbody.c renders each one.
 */
extern const char *const config_template_fields[];
bool config_template_field(const char *name, size_t len);

/* A release check: a rule judged poll by poll in a deploy window. */
struct release_check_cfg {
	char *name;
	size_t rule;			/* index into the config's rules */
	bool key;			/* fails on the first crit */
	bool advisory;			/* shown, never gates */
	unsigned fail_after;		/* consecutive crits that fail */
	long max_failures;		/* total crits tolerated; -1: off */
	unsigned max_consecutive_errors;
	unsigned min_samples;		/* judged polls; fewer: inconclusive */
	double min_requests;		/* ratio rules: the denominator's count */
	/* Optionally: no worse than the baseline, significantly. */
	bool relative;
	double max_increase_pct;
	double confidence;		/* 0.98: p < 0.02 is significant */
	unsigned min_relative_samples;	/* per side, for Mann-Whitney U */
};

/*
 * "by_release": the deploy's own errors against the rest's, from a sentry
 * probe that counts events by release, tested per stage against the
 * stage's traffic weight (split.h).
 */
struct by_release_cfg {
	bool on;
	size_t probe;
	double max_increase_pct;
	double confidence;
	unsigned min_errors;		/* error events a stage needs */
	bool advisory;
};

struct release_cfg {
	int64_t warmup_ms;		/* recorded, not judged */
	int64_t baseline_ms;		/* the window before the deploy */
	/*
	 * The judging interval: at each one's end the statistics run once
	 * and the data is checked (release/verdict.h).
	 */
	int64_t interval_ms;
	struct release_check_cfg *checks;
	size_t nchecks;
	/*
	 * Counters the report's traffic sums over the window like the
	 * requests and errors of the ratio checks: "<probe>.<metric>", or
	 * NULL (not measured).
	 */
	char *cache_hits, *cache_misses;
	size_t cache_hits_probe, cache_misses_probe;
	struct by_release_cfg by_release;
	/*
	 * "compare": the canary pods' own probe against the stable pods',
	 * over the same minutes: relative checks compare these two instead
	 * of the deploy window with the window before it.
	 */
	bool compare;
	size_t canary_probe, stable_probe;
};

/*
 * "derived": a metric computed from others by an expression (expr.h),
 * named "derived.<name>" and stored as samples of its own whenever an
 * input gets a new one (engine/derived.h).
 */
struct expr;
struct derived_cfg {
	char *name;		/* "cache_hit_pct" */
	char *metric;		/* "derived.cache_hit_pct" */
	char *text;		/* the expression as written */
	struct expr *expr;
	/* Per variable of expr: index into config.derived, or -1: a probe's. */
	long *var_derived;
	size_t *var_probe;	/* a probe metric's probe */
	/* Every probe it reads, through derived inputs too; home first. */
	size_t *probes;
	size_t nprobes;
	size_t home;		/* its first input's probe: rules' facts */
};

#define DERIVED_PREFIX "derived."
#define CFG_MAX_DERIVED 64

struct config {
	char *path;
	char *listen;		/* "127.0.0.1:9464", "[::1]:9464" */
	char *api_token;	/* from api.token_file; secret, never shown */
	/* api.tls: PEM text of the certificate and key (NULL: plain HTTP). */
	char *api_tls_cert;
	char *api_tls_key;	/* secret, never shown */
	int64_t retention_ms;	/* how much history each metric keeps */
	int64_t default_interval_ms;
	int64_t default_timeout_ms;
	struct probe_cfg *probes;
	size_t nprobes;
	/* Explicit rules first, then one <probe>_down per probe. */
	struct rule_cfg *rules;
	size_t nrules;
	struct derived_cfg *derived;
	size_t nderived;
	size_t *derived_order;	/* inputs before the metrics they feed */
	struct notifier_cfg *notifiers;
	size_t nnotifiers;
	char *state_dir;	/* NULL: no state file */
	int64_t state_interval_ms;	/* most often the state file is written */
	char *instance;		/* names this vigild in notifications */
	char *public_url;	/* vigild's page, for links in alerts */
	/*
	 * api.allowed_hosts: the names a request's Host header may give
	 * (lower case, no port); NULL with allowed_hosts_set false: the
	 * default (http/api_host.c).
	 */
	char **allowed_hosts;
	size_t nallowed_hosts;
	bool allowed_hosts_set;
	struct release_cfg release;	/* the release gate's checks */
	/*
	 * "ha": {"peers": [URL...]}: the other vigilds of an HA pair, which
	 * run this same configuration (docs/ha.md). Only said, for now: it
	 * makes --check-config warn of what both would send.
	 */
	char **ha_peers;
	size_t nha_peers;
	/* "maintenance": planned windows (config/maint_def.h), their zones. */
	struct maint_window *maint;
	size_t nmaint;
	struct tz **maint_tz;
};

struct config_error {
	int line, col;		/* 0 when the error is about the whole file */
	char msg[240];
};

struct config_errors {
	struct config_error *v;
	size_t n, alloc;
	size_t dropped;		/* errors past the cap, counted not kept */
};

#define CONFIG_MAX_ERRORS 50
#define CONFIG_MAX_FILE (4 * 1024 * 1024)

/*
 * Reads and validates the file. Returns the config, or NULL with every
 * error found in errs (validation goes on after the first error so one
 * run shows them all).
 */
struct config *config_load(const char *path, struct config_errors *errs);
/* Same from text already read; path is used in messages only. */
struct config *config_parse(const char *path, const char *text, size_t len,
    struct config_errors *errs);

void config_free(struct config *cfg);

/*
 * For one of an HA pair (ha.peers): why notifier i would be told twice
 * (a webhook, Slack or PagerDuty, which every vigild of the pair sends
 * itself), into buf; NULL when it would not.
 */
const char *config_pair_warning(const struct config *cfg, size_t i,
    char *buf, size_t len);

const struct probe_cfg *config_probe(const struct config *cfg,
    const char *name);
const struct rule_cfg *config_rule(const struct config *cfg,
    const char *name);
/* The derived metric named by "derived.<name>", or NULL. */
const struct derived_cfg *config_derived(const struct config *cfg,
    const char *metric);

/* "file:line:col: msg" for error i. */
void config_error_format(const struct config_errors *errs, size_t i,
    const char *path, char *buf, size_t len);
void config_errors_clear(struct config_errors *errs);

/*
 * Splits "host:port" / "[v6]:port" into a numeric host and port.
 * Returns 0 or -1 (with a reason in why).
 */
int config_split_listen(const char *listen, char *host, size_t hostlen,
    unsigned *port, const char **why);

/* Copies url with any password in its userinfo replaced by "***". */
void config_redact_url(const char *url, char *buf, size_t len);

#endif
