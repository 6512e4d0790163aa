/*
 * The "sentry" probe's section of the configuration. Like every section
 * reader it only reads and validates. The token itself is never read
 * here: a missing credential must not make --check-config of the shipped
 * file fail on a host that has none yet, and a token read at each run can
 * be rotated without a reload. The probe says clearly when it is missing.
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config/config_sentry.h"

#define DEFAULT_RESOLUTION_MS	10000		/* Sentry's finest rollup */
#define DEFAULT_OUTCOMES_MS	3600000		/* stats_v2's smallest */
#define DEFAULT_LATE_WINDOW_MS	900000		/* 15 min of processing delay */
#define DEFAULT_ISSUES_PERIOD_MS	(90LL * 86400000)	/* the API's default */
#define STATS_BUCKETS_KEPT	360	/* Sentry keeps 360 of each rollup */
#define MAX_ALIASES		8
#define DEFAULT_BACKOFF_MAX_MS	300000
#define DEFAULT_MAX_BODY	(1024 * 1024)
#define DEFAULT_QUERY		"is:unresolved"
#define MAX_SLUG		100
#define MAX_QUERY		512

/* Every metric a sentry run can record, by the endpoint behind it. */
static const char *const always_metrics[] = {
	"up", "duration_ms", "down", "api_requests", "rate_limit_remaining",
	NULL,
};
static const char *const stats_metrics[] = {
	"received", "rejected", "filtered", "received_total",
	"rejected_total", "filtered_total", NULL,
};
static const char *const event_metrics[] = { "events", "events_total", NULL };
static const char *const issue_metrics[] = {
	"new_issues", "unresolved_issues", NULL,
};
static const char *const release_metrics[] = {
	"release_errors", "release_all_errors", NULL,
};
static const char *const outcome_names[] = {
	"accepted", "filtered", "rate_limited", "invalid", "abuse",
	"client_discard", "cardinality_limited", NULL,
};

static bool
in_list(const char *const *l, const char *s)
{
	for (; *l != NULL; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

bool
cfg_sentry_has_metric(const struct probe_cfg *pc, const char *metric)
{
	const struct sentry_cfg *s = &pc->sentry;

	if (in_list(always_metrics, metric))
		return true;
	if (s->project_stats && in_list(stats_metrics, metric))
		return true;
	if ((s->project_stats || s->outcomes) && in_list(event_metrics, metric))
		return true;
	if (s->issues && in_list(issue_metrics, metric))
		return true;
	if (s->release_errors && in_list(release_metrics, metric))
		return true;
	if (s->outcomes && strncmp(metric, "outcome_", 8) == 0) {
		char name[40];
		size_t n = strlen(metric + 8);

		/* outcome_<o> and outcome_<o>_total */
		if (n >= sizeof(name))
			return false;
		memcpy(name, metric + 8, n + 1);
		if (n > 6 && strcmp(name + n - 6, "_total") == 0)
			name[n - 6] = '\0';
		return in_list(outcome_names, name);
	}
	return false;
}

/*
 * The running totals (<count>_total); <count> alone is the last interval's
 * part of it, a gauge.
 */
bool
cfg_sentry_metric_counter(const struct probe_cfg *pc, const char *metric)
{
	size_t n = strlen(metric);

	return n > 6 && strcmp(metric + n - 6, "_total") == 0 &&
	    cfg_sentry_has_metric(pc, metric);
}

/* A slug goes into URL paths unescaped: letters, digits, ".", "_", "-". */
static bool
valid_slug(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_SLUG || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

static bool
valid_env_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_") == n;
}

/*
 * An http(s) URL with a host and no query or fragment; returns it with a
 * trailing "/" so endpoint paths append to it.
 */
static char *
parse_base_url(struct cfgread *v, const cJSON *node, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL;
	char *out = NULL;
	size_t n;

	if (u == NULL) {
		cfg_err(v, node, "out of memory");
		return NULL;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		cfg_err(v, node, "\"base_url\" must be an http:// or https:// "
		    "URL such as \"%s\"", SENTRY_DEFAULT_BASE_URL);
	} else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		cfg_err(v, node, "\"base_url\" has no host");
	} else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
		cfg_err(v, node, "\"base_url\" must not have a query or "
		    "fragment: it is the API root, e.g. "
		    "\"https://sentry.example.com/api/0/\"");
	} else {
		n = strlen(url);
		out = malloc(n + 2);
		if (out == NULL) {
			cfg_err(v, node, "out of memory");
		} else {
			memcpy(out, url, n + 1);
			if (n > 0 && url[n - 1] != '/')
				memcpy(out + n, "/", 2);
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return out;
}

/* "scheme://host[:port]/" of an http(s) URL, or NULL (an error said). */
static char *
url_origin(struct cfgread *v, const cJSON *node, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
	size_t n;

	if (u == NULL) {
		cfg_err(v, node, "out of memory");
		return NULL;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		cfg_err(v, node, "\"base_url_aliases\": \"%s\" is not an "
		    "http:// or https:// URL with a host, such as "
		    "\"https://de.sentry.io/\"", url);
	} else {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		n = strlen(scheme) + strlen(host) + (port != NULL ?
		    strlen(port) : 0) + 8;
		out = malloc(n);
		if (out == NULL)
			cfg_err(v, node, "out of memory");
		else
			snprintf(out, n, "%s://%s%s%s/", scheme, host,
			    port != NULL ? ":" : "", port != NULL ? port : "");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* Other names of base_url's server, as Sentry may spell them in Link. */
static void
parse_aliases(struct cfgread *v, const cJSON *p, struct sentry_cfg *s)
{
	const cJSON *a = cfg_member(p, "base_url_aliases"), *e;
	size_t n;

	if (a == NULL)
		return;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > MAX_ALIASES) {
		cfg_err(v, a, "\"base_url_aliases\" must be an array of at "
		    "most %d URLs of the same Sentry server, e.g. "
		    "[\"https://sentry.internal.example/\"]", MAX_ALIASES);
		return;
	}
	n = (size_t)cJSON_GetArraySize(a);
	if (n == 0)
		return;
	s->aliases = calloc(n, sizeof(*s->aliases));
	if (s->aliases == NULL) {
		cfg_err(v, a, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, a) {
		char *o;

		if (!cJSON_IsString(e)) {
			cfg_err(v, e, "\"base_url_aliases\" holds URLs (strings)");
			continue;
		}
		if ((o = url_origin(v, e, e->valuestring)) != NULL)
			s->aliases[s->naliases++] = o;
	}
}

/* A duration that must be whole units of unit_ms (seconds, minutes). */
static void
whole_duration(struct cfgread *v, const cJSON *p, const char *key,
    int64_t lo, int64_t hi, int64_t unit_ms, const char *unit,
    int64_t *out)
{
	int64_t ms = *out;

	if (cfg_duration(v, p, key, lo, hi, &ms) != 1)
		return;
	if (ms % unit_ms != 0) {
		cfg_err(v, cfg_member(p, key), "\"%s\" must be whole %s "
		    "(Sentry's API has no finer unit)", key, unit);
		return;
	}
	*out = ms;
}

static void
parse_slugs(struct cfgread *v, const cJSON *p, struct sentry_cfg *s)
{
	static const char *const keys[] = { "organization", "project", NULL };
	char **dst[] = { &s->organization, &s->project };
	const char *str;

	for (size_t i = 0; keys[i] != NULL; i++) {
		int rc = cfg_string(v, p, keys[i], &str);

		if (rc == 0) {
			cfg_err(v, p, "a sentry probe needs \"%s\" (its slug, "
			    "as in the Sentry URL)", keys[i]);
		} else if (rc == 1 && !valid_slug(str)) {
			cfg_err(v, cfg_member(p, keys[i]), "\"%s\": \"%s\" is "
			    "not a slug (letters, digits, \".\", \"_\" and "
			    "\"-\", at most %d)", keys[i], str, MAX_SLUG);
		} else if (rc == 1) {
			*dst[i] = cfg_strdup(v, p, str);
		}
	}
}

static void
parse_token(struct cfgread *v, const cJSON *p, struct sentry_cfg *s)
{
	const char *str;
	int f = cfg_string(v, p, "token_file", &str);

	if (f == 1) {
		if (str[0] != '/')
			cfg_err(v, cfg_member(p, "token_file"), "\"token_file\" "
			    "must be an absolute path (a systemd credential: "
			    "/run/credentials/vigil.service/vigil.sentry-token)");
		else
			s->token_file = cfg_strdup(v, p, str);
	}
	if (cfg_string(v, p, "token_env", &str) == 1) {
		if (!valid_env_name(str))
			cfg_err(v, cfg_member(p, "token_env"), "\"token_env\" "
			    "must name an environment variable (letters, "
			    "digits and _)");
		else
			s->token_env = cfg_strdup(v, p, str);
	}
	if (cfg_member(p, "token") != NULL)
		cfg_err_key(v, cfg_member(p, "token"), "the token never goes "
		    "in the configuration: put it in a file named by "
		    "\"token_file\", or in the environment (\"token_env\")");
	else if (cfg_member(p, "token_file") != NULL &&
	    cfg_member(p, "token_env") != NULL)
		cfg_err(v, cfg_member(p, "token_env"), "a sentry probe takes "
		    "\"token_file\" or \"token_env\", not both");
	else if (cfg_member(p, "token_file") == NULL &&
	    cfg_member(p, "token_env") == NULL)
		cfg_err(v, p, "a sentry probe needs \"token_file\" (a file "
		    "holding the token, e.g. a systemd credential) or "
		    "\"token_env\"; the token itself never goes in the "
		    "configuration");
}

static void
parse_query(struct cfgread *v, const cJSON *p, struct sentry_cfg *s)
{
	const char *q = DEFAULT_QUERY;

	if (cfg_string(v, p, "query", &q) == 1) {
		const cJSON *node = cfg_member(p, "query");

		for (const char *c = q; *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20) {
				cfg_err(v, node, "\"query\" must be one line");
				return;
			}
		}
		if (strlen(q) > MAX_QUERY) {
			cfg_err(v, node, "\"query\" is longer than %d bytes",
			    MAX_QUERY);
			return;
		}
		if (strstr(q, "firstSeen:") != NULL) {
			cfg_err(v, node, "\"query\" must not filter on "
			    "firstSeen: vigild adds \"firstSeen:-<window>\" "
			    "for new_issues (see \"issues_window\")");
			return;
		}
	}
	s->query = cfg_strdup(v, p, q);
}

void
cfg_parse_sentry(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	static const char *const keys[] = {
		"base_url", "organization", "project", "token_file",
		"token_env", "project_stats", "resolution", "outcomes",
		"outcomes_interval", "issues", "query", "issues_window",
		"backoff_max", "max_body", "tls", "late_window",
		"issues_period", "base_url_aliases",
		"token",	/* refused below with its own message */
		NULL,
	};
	static const char *const tls_keys[] = { "verify", "ca_file", NULL };
	struct sentry_cfg *s = &pc->sentry;
	const cJSON *tls;
	const char *str = SENTRY_DEFAULT_BASE_URL;
	char red[512];

	cfg_check_probe_keys(v, p, keys, "a sentry probe");
	s->project_stats = true;
	s->issues = true;
	s->tls_verify = true;
	s->resolution_ms = DEFAULT_RESOLUTION_MS;
	s->outcomes_interval_ms = DEFAULT_OUTCOMES_MS;
	s->late_window_ms = DEFAULT_LATE_WINDOW_MS;
	s->issues_period_ms = DEFAULT_ISSUES_PERIOD_MS;
	s->backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
	s->max_body = DEFAULT_MAX_BODY;
	/* The search syntax counts in minutes: the interval, rounded up. */
	s->issues_window_ms = (pc->interval_ms + 59999) / 60000 * 60000;
	cfg_string(v, p, "base_url", &str);
	s->base_url = parse_base_url(v, cfg_member(p, "base_url") != NULL ?
	    cfg_member(p, "base_url") : p, str);
	parse_slugs(v, p, s);
	parse_token(v, p, s);
	cfg_bool(v, p, "project_stats", &s->project_stats);
	/* Only the TSDB's rollups exist: anything else is Sentry's 400. */
	if (cfg_duration(v, p, "resolution", 1000, 86400000,
	    &s->resolution_ms) == 1 && s->resolution_ms != 10000 &&
	    s->resolution_ms != 3600000 && s->resolution_ms != 86400000) {
		cfg_err(v, cfg_member(p, "resolution"), "\"resolution\" must "
		    "be \"10s\", \"1h\" or \"1d\": Sentry keeps no other "
		    "rollup and refuses the request (\"Invalid resolution\")");
		s->resolution_ms = DEFAULT_RESOLUTION_MS;
	}
	whole_duration(v, p, "late_window", 60000, 86400000, 60000,
	    "minutes", &s->late_window_ms);
	if (s->late_window_ms > STATS_BUCKETS_KEPT * s->resolution_ms &&
	    cfg_member(p, "late_window") != NULL)
		cfg_err(v, cfg_member(p, "late_window"), "\"late_window\" "
		    "must be at most %lld minutes at this resolution: Sentry "
		    "keeps %d buckets of each rollup",
		    (long long)(STATS_BUCKETS_KEPT * s->resolution_ms / 60000),
		    STATS_BUCKETS_KEPT);
	cfg_bool(v, p, "outcomes", &s->outcomes);
	/* stats_v2: whole hours that divide a day, or Sentry's 400. */
	if (cfg_duration(v, p, "outcomes_interval", 1000, 86400000,
	    &s->outcomes_interval_ms) == 1 &&
	    (s->outcomes_interval_ms % 3600000 != 0 ||
	    86400000 % s->outcomes_interval_ms != 0)) {
		cfg_err(v, cfg_member(p, "outcomes_interval"),
		    "\"outcomes_interval\" must be whole hours that divide a "
		    "day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h): Sentry refuses "
		    "any other interval");
		s->outcomes_interval_ms = DEFAULT_OUTCOMES_MS;
	}
	cfg_bool(v, p, "issues", &s->issues);
	parse_query(v, p, s);
	whole_duration(v, p, "issues_window", 60000, 90LL * 86400000, 60000,
	    "minutes", &s->issues_window_ms);
	whole_duration(v, p, "issues_period", 3600000, 90LL * 86400000,
	    3600000, "hours", &s->issues_period_ms);
	parse_aliases(v, p, s);
	cfg_duration(v, p, "backoff_max", 1000, 3600000, &s->backoff_max_ms);
	cfg_size(v, p, "max_body", 1024, 64LL * 1024 * 1024, &s->max_body);
	if ((tls = cfg_object(v, p, "tls")) != NULL) {
		cfg_check_keys(v, tls, tls_keys, "\"tls\"");
		cfg_bool(v, tls, "verify", &s->tls_verify);
		if (cfg_string(v, tls, "ca_file", &str) == 1)
			s->ca_file = cfg_strdup(v, p, str);
	}
	if (!s->project_stats && !s->outcomes && !s->issues)
		cfg_err(v, p, "a sentry probe must read something: "
		    "\"project_stats\", \"outcomes\" or \"issues\"");
	if (s->base_url != NULL && s->organization != NULL &&
	    s->project != NULL) {
		char target[700];

		config_redact_url(s->base_url, red, sizeof(red));
		snprintf(target, sizeof(target), "%s %s/%s", red,
		    s->organization, s->project);
		pc->target = cfg_strdup(v, p, target);
	}
}

void
cfg_clear_sentry(struct probe_cfg *pc)
{
	struct sentry_cfg *s = &pc->sentry;

	free(s->base_url);
	free(s->organization);
	free(s->project);
	free(s->token_file);
	free(s->token_env);
	free(s->query);
	free(s->ca_file);
	for (size_t i = 0; i < s->naliases; i++)
		free(s->aliases[i]);
	free(s->aliases);
	s->aliases = NULL;
	s->naliases = 0;
}
