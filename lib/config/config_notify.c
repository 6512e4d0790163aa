/*
 * The "notifiers" section: where alerts go. A webhook's URL often is the
 * secret (a Slack incoming-webhook URL is one), so it comes from a file or
 * the environment as readily as inline, and only scheme://host is ever
 * shown.
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/template.h"

#define DEFAULT_WEBHOOK_REPEAT_MS	(4LL * 3600 * 1000)
#define DEFAULT_AM_RESEND_MS		(60 * 1000)
#define DEFAULT_NOTIFY_TIMEOUT_MS	10000
#define DEFAULT_QUEUE_MAX		1000
#define DEFAULT_PROGRESS_MS		(5 * 60 * 1000)	/* the checklist's */

static const char *const notifier_keys[] = {
	"name", "type", "url", "url_file", "url_env", "urls", "format",
	"headers", "header_files", "severities", "rules", "labels",
	"repeat_interval", "timeout", "queue_max", "deploys",
	"progress_interval", "routing_key_file", "template", "template_file",
	"content_type",
	"from", "to", "username", "password_file", "ca_file", "starttls",
	NULL,
};

/* Where PagerDuty takes events; "url" overrides it (tests, a proxy). */
#define PAGERDUTY_URL	"https://events.pagerduty.com/v2/enqueue"
#define TEMPLATE_MAX	(64 * 1024)
#define TOO_LONG	"the template filled in is too long (256 KiB at most)"

const char *const config_template_fields[] = {
	"id", "kind", "rule", "state", "severity", "value", "threshold",
	"unit", "summary", "since", "time", "instance", "url", "title", NULL,
};

bool
config_template_field(const char *name, size_t len)
{
	if (len > 7 && strncmp(name, "labels.", 7) == 0)
		return true;
	for (size_t i = 0; config_template_fields[i] != NULL; i++)
		if (strlen(config_template_fields[i]) == len &&
		    strncmp(config_template_fields[i], name, len) == 0)
			return true;
	return false;
}

static bool
add_str(char ***v, size_t *n, char *s)
{
	char **nv;

	if (s == NULL)
		return false;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (nv == NULL) {
		free(s);
		return false;
	}
	nv[(*n)++] = s;
	*v = nv;
	return true;
}

/* scheme://host[:port]/... -- never a path, query or userinfo. */
static char *
shown_url(const char *url)
{
	const char *h = strstr(url, "://"), *end, *at;
	size_t n;
	char *out;

	if (h == NULL)
		return strdup("(url)");
	h += 3;
	end = h + strcspn(h, "/?#");
	at = memchr(h, '@', (size_t)(end - h));
	if (at != NULL)
		h = at + 1;
	n = (size_t)(h - url) + (size_t)(end - h) + 5;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%.*s%.*s/...", (int)(strstr(url, "://") + 3 -
		    url), url, (int)(end - h), h);
	return out;
}

/*
 * Alertmanager is configured by its base URL, as in Prometheus; the v2
 * alerts endpoint is appended (once). Takes base.
 */
static char *
alertmanager_endpoint(struct cfgread *v, const cJSON *n, char *base)
{
	static const char path[] = "/api/v2/alerts";
	size_t len;
	char *out;

	if (base == NULL)
		return NULL;
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		len--;
	if (len >= sizeof(path) - 1 &&
	    strncmp(base + len - (sizeof(path) - 1), path, sizeof(path) - 1) ==
	    0)
		return base;
	out = malloc(len + sizeof(path));
	if (out == NULL) {
		cfg_err(v, n, "out of memory");
		free(base);
		return NULL;
	}
	snprintf(out, len + sizeof(path), "%.*s%s", (int)len, base, path);
	free(base);
	return out;
}

static void
parse_urls(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc)
{
	const cJSON *e;
	const char *s;
	int given = (cfg_member(n, "url") != NULL) +
	    (cfg_member(n, "url_file") != NULL) +
	    (cfg_member(n, "url_env") != NULL) +
	    (cfg_member(n, "urls") != NULL);

	if (given == 0 && nc->type == NOTIFIER_PAGERDUTY) {
		add_str(&nc->urls, &nc->nurls, cfg_strdup(v, n, PAGERDUTY_URL));
		nc->shown = shown_url(PAGERDUTY_URL);
		return;
	}
	if (given != 1) {
		cfg_err(v, n, "a notifier needs exactly one of \"url\", "
		    "\"url_file\", \"url_env\" or \"urls\"");
		return;
	}
	if (cfg_string(v, n, "url", &s) == 1) {
		cfg_check_url(v, cfg_member(n, "url"), s);
		add_str(&nc->urls, &nc->nurls, cfg_strdup(v, n, s));
	} else if (cfg_string(v, n, "url_file", &s) == 1) {
		char *u = cfg_secret_file(v, cfg_member(n, "url_file"), s);

		if (u != NULL && strncmp(u, "http://", 7) != 0 &&
		    strncmp(u, "https://", 8) != 0) {
			cfg_err(v, cfg_member(n, "url_file"), "the URL in %s "
			    "must start with http:// or https://", s);
			free(u);
			u = NULL;
		}
		if (u != NULL)
			add_str(&nc->urls, &nc->nurls, u);
	} else if (cfg_string(v, n, "url_env", &s) == 1) {
		const char *u = getenv(s);

		if (u == NULL || (strncmp(u, "http://", 7) != 0 &&
		    strncmp(u, "https://", 8) != 0))
			cfg_err(v, cfg_member(n, "url_env"), "environment "
			    "variable %s must hold an http:// or https:// URL",
			    s);
		else
			add_str(&nc->urls, &nc->nurls, cfg_strdup(v, n, u));
	} else if ((e = cfg_member(n, "urls")) != NULL) {
		const cJSON *u;

		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) == 0) {
			cfg_err(v, e, "\"urls\" must be a non-empty array of "
			    "URLs (an Alertmanager cluster)");
			return;
		}
		cJSON_ArrayForEach(u, e) {
			if (!cJSON_IsString(u)) {
				cfg_err(v, u, "a URL must be a string");
				continue;
			}
			cfg_check_url(v, u, u->valuestring);
			add_str(&nc->urls, &nc->nurls,
			    cfg_strdup(v, u, u->valuestring));
		}
	}
	if (nc->type == NOTIFIER_ALERTMANAGER)
		for (size_t i = 0; i < nc->nurls; i++)
			nc->urls[i] = alertmanager_endpoint(v, n, nc->urls[i]);
	if (nc->nurls > 0 && nc->urls[0] != NULL)
		nc->shown = shown_url(nc->urls[0]);
}

static void
parse_headers(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc)
{
	const cJSON *h, *e;

	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass == 0 ? "headers" : "header_files";

		if ((h = cfg_object(v, n, key)) == NULL)
			continue;
		cJSON_ArrayForEach(e, h) {
			char *val, *line;
			size_t len;

			if (e->string[0] == '\0' ||
			    strpbrk(e->string, ": \t\r\n") != NULL ||
			    !cJSON_IsString(e)) {
				cfg_err(v, e, "%s: \"%s\" must be a header name "
				    "with a string value", key, e->string);
				continue;
			}
			val = pass == 0 ? cfg_strdup(v, e, e->valuestring) :
			    cfg_secret_file(v, e, e->valuestring);
			if (val == NULL)
				continue;
			if (strpbrk(val, "\r\n") != NULL) {
				cfg_err(v, e, "header \"%s\" must be one line",
				    e->string);
				free(val);
				continue;
			}
			len = strlen(e->string) + strlen(val) + 3;
			line = malloc(len);
			if (line != NULL)
				snprintf(line, len, "%s: %s", e->string, val);
			free(val);
			add_str(&nc->headers, &nc->nheaders, line);
		}
	}
}

static void
parse_filter(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc,
    const struct config *cfg)
{
	const cJSON *a, *e;

	nc->sev_warning = nc->sev_critical = true;
	if ((a = cfg_member(n, "severities")) != NULL) {
		nc->sev_warning = nc->sev_critical = false;
		if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
			cfg_err(v, a, "\"severities\" must be a non-empty "
			    "array of \"warning\" and/or \"critical\"");
		cJSON_ArrayForEach(e, a) {
			if (cJSON_IsString(e) &&
			    strcmp(e->valuestring, "warning") == 0)
				nc->sev_warning = true;
			else if (cJSON_IsString(e) &&
			    strcmp(e->valuestring, "critical") == 0)
				nc->sev_critical = true;
			else
				cfg_err(v, e, "a severity is \"warning\" or "
				    "\"critical\"");
		}
	}
	if ((a = cfg_member(n, "rules")) != NULL) {
		if (!cJSON_IsArray(a))
			cfg_err(v, a, "\"rules\" must be an array of rule "
			    "names");
		cJSON_ArrayForEach(e, a) {
			if (!cJSON_IsString(e)) {
				cfg_err(v, e, "a rule name must be a string");
				continue;
			}
			if (config_rule(cfg, e->valuestring) == NULL) {
				cfg_err(v, e, "no rule named \"%s\"",
				    e->valuestring);
				continue;
			}
			add_str(&nc->rules, &nc->nrules,
			    cfg_strdup(v, e, e->valuestring));
		}
	}
	if ((a = cfg_object(v, n, "labels")) != NULL &&
	    cJSON_GetArraySize(a) > 0) {
		nc->labels = calloc((size_t)cJSON_GetArraySize(a),
		    sizeof(*nc->labels));
		if (nc->labels == NULL) {
			cfg_err(v, a, "out of memory");
			return;
		}
		cJSON_ArrayForEach(e, a) {
			if (!cJSON_IsString(e)) {
				cfg_err(v, e, "label \"%s\" must be a string",
				    e->string);
				continue;
			}
			nc->labels[nc->nlabels].key = cfg_strdup(v, e,
			    e->string);
			nc->labels[nc->nlabels++].value = cfg_strdup(v, e,
			    e->valuestring);
		}
	}
}

/* "routing_key_file": the integration key, from a file only. */
static void
parse_pagerduty(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc)
{
	const char *s;

	if (nc->type != NOTIFIER_PAGERDUTY) {
		if (cfg_member(n, "routing_key_file") != NULL)
			cfg_err(v, cfg_member(n, "routing_key_file"),
			    "\"routing_key_file\" is for \"pagerduty\" "
			    "notifiers");
		return;
	}
	if (cfg_member(n, "urls") != NULL)
		cfg_err(v, cfg_member(n, "urls"), "PagerDuty takes one "
		    "\"url\" (it defaults to %s)", PAGERDUTY_URL);
	if (cfg_string(v, n, "routing_key_file", &s) != 1) {
		if (cfg_member(n, "routing_key_file") == NULL)
			cfg_err(v, n, "a \"pagerduty\" notifier needs "
			    "\"routing_key_file\": a file holding the "
			    "integration key");
		return;
	}
	nc->routing_key = cfg_secret_file(v, cfg_member(n,
	    "routing_key_file"), s);
	/* It goes into a JSON body as it is: never a quote or a control. */
	if (nc->routing_key != NULL &&
	    strspn(nc->routing_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789-_") != strlen(nc->routing_key)) {
		cfg_err(v, cfg_member(n, "routing_key_file"), "the routing key "
		    "in %s must be letters, digits, - and _ (an Events API "
		    "v2 integration key)", s);
		explicit_bzero(nc->routing_key, strlen(nc->routing_key));
		free(nc->routing_key);
		nc->routing_key = NULL;
	}
}

static bool
is_json(const char *s)
{
	cJSON *o = cJSON_ParseWithOpts(s, NULL, true);

	cJSON_Delete(o);
	return o != NULL;
}

/* Any value a field may take: quotes, a backslash, a line break. */
static const char *
sample_field(void *arg, const char *name, size_t len)
{
	(void)arg;
	return config_template_field(name, len) ? "a\"b\\c\nd" : NULL;
}

/*
 * "template" or "template_file", and "content_type": the body, checked
 * now -- every field known, and a JSON body JSON whatever the values.
 */
static void
parse_template(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc)
{
	const cJSON *node = cfg_member(n, "template");
	const char *s, *path = NULL;
	struct tmpl_error err;
	char *text = NULL, *out, why[128];
	size_t len;

	if (cfg_string(v, n, "content_type", &s) == 1) {
		if (s[0] == '\0' || strlen(s) > 200 ||
		    strpbrk(s, "\r\n") != NULL)
			cfg_err(v, cfg_member(n, "content_type"),
			    "\"content_type\" must be a media type, e.g. "
			    "\"text/plain\"");
		else
			nc->content_type = cfg_strdup(v, n, s);
	}
	if (node != NULL && cfg_member(n, "template_file") != NULL) {
		cfg_err(v, node, "a webhook takes \"template\" or "
		    "\"template_file\", not both");
		return;
	}
	if (node == NULL && (node = cfg_member(n, "template_file")) != NULL) {
		if (cfg_string(v, n, "template_file", &path) != 1)
			return;
		if (file_read(path, TEMPLATE_MAX, &text, &len, why,
		    sizeof(why)) != FILE_OK) {
			cfg_err(v, node, "cannot read template file %s: %s",
			    path, why);
			return;
		}
		if (strlen(text) != len) {
			cfg_err(v, node, "template file %s holds a NUL byte",
			    path);
			free(text);
			return;
		}
	} else if (node != NULL) {
		if (cfg_string(v, n, "template", &s) != 1)
			return;
		text = cfg_strdup(v, node, s);
	} else {
		if (nc->content_type != NULL)
			cfg_err(v, cfg_member(n, "content_type"),
			    "\"content_type\" is for a webhook's "
			    "\"template\"");
		return;
	}
	if (text == NULL)
		return;
	if (nc->type != NOTIFIER_WEBHOOK || cfg_member(n, "format") != NULL) {
		cfg_err(v, node, "a \"template\" is for webhooks, instead of "
		    "a \"format\"");
		free(text);
		return;
	}
	out = tmpl_render(text, tmpl_escape_for(nc->content_type),
	    sample_field, NULL, &err);
	if (out == NULL && path != NULL) {
		size_t line = 1, col = 1;

		for (size_t i = 0; i < err.off; i++, col++)
			if (text[i] == '\n') {
				line++;
				col = 0;
			}
		cfg_err(v, node, "%s:%zu:%zu: %s", path, line, col,
		    err.msg[0] != '\0' ? err.msg : TOO_LONG);
	} else if (out == NULL) {
		cfg_err_in(v, node, err.off, "%s", err.msg[0] != '\0' ?
		    err.msg : TOO_LONG);
	} else if (tmpl_escape_for(nc->content_type) == TMPL_JSON &&
	    !is_json(out)) {
		cfg_err(v, node, "the template is not JSON once filled in: "
		    "put every {{field}} inside a string (\"...\"), as "
		    "every field is text");
	}
	free(out);
	nc->template = text;
}

static void
parse_notifier(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc,
    const struct config *cfg)
{
	const char *s;
	double x;

	if (!cJSON_IsObject(n)) {
		cfg_err(v, n, "a notifier must be an object, not %s",
		    jsonc_type_name(n));
		return;
	}
	cfg_check_keys(v, n, notifier_keys, "a notifier");
	if (cfg_string(v, n, "name", &s) == 1) {
		if (!cfg_valid_name(s))
			cfg_err(v, cfg_member(n, "name"), "notifier name "
			    "\"%s\" must be lower case letters, digits and _",
			    s);
		nc->name = cfg_strdup(v, n, s);
	} else if (cfg_member(n, "name") == NULL) {
		cfg_err(v, n, "a notifier needs a \"name\"");
	}
	if (cfg_string(v, n, "type", &s) == 1) {
		if (strcmp(s, "webhook") == 0)
			nc->type = NOTIFIER_WEBHOOK;
		else if (strcmp(s, "alertmanager") == 0)
			nc->type = NOTIFIER_ALERTMANAGER;
		else if (strcmp(s, "email") == 0)
			nc->type = NOTIFIER_EMAIL;
		else if (strcmp(s, "pagerduty") == 0)
			nc->type = NOTIFIER_PAGERDUTY;
		else
			cfg_err(v, cfg_member(n, "type"), "unknown notifier "
			    "type \"%s\" (expected \"webhook\", "
			    "\"alertmanager\", \"email\" or \"pagerduty\")",
			    s);
	} else if (cfg_member(n, "type") == NULL) {
		cfg_err(v, n, "a notifier needs a \"type\" (\"webhook\", "
		    "\"alertmanager\", \"email\" or \"pagerduty\")");
	}
	/* PagerDuty keeps an incident open and pages by its own policy. */
	nc->repeat_ms = nc->type == NOTIFIER_ALERTMANAGER ?
	    DEFAULT_AM_RESEND_MS : nc->type == NOTIFIER_PAGERDUTY ? 0 :
	    DEFAULT_WEBHOOK_REPEAT_MS;
	nc->timeout_ms = DEFAULT_NOTIFY_TIMEOUT_MS;
	nc->queue_max = DEFAULT_QUEUE_MAX;
	if (cfg_string(v, n, "format", &s) == 1) {
		if (strcmp(s, "generic") == 0)
			nc->format = WEBHOOK_GENERIC;
		else if (strcmp(s, "slack") == 0)
			nc->format = WEBHOOK_SLACK;
		else
			cfg_err(v, cfg_member(n, "format"), "\"format\" must "
			    "be \"generic\" or \"slack\"");
		/* Email's own check names it among the webhooks' keys. */
		if (nc->type != NOTIFIER_WEBHOOK && nc->type != NOTIFIER_EMAIL)
			cfg_err(v, cfg_member(n, "format"), "\"format\" is "
			    "for webhooks; %s has its own",
			    nc->type == NOTIFIER_PAGERDUTY ? "PagerDuty" :
			    "Alertmanager");
	}
	if (nc->type == NOTIFIER_EMAIL) {
		cfg_parse_email(v, n, nc);
	} else {
		cfg_check_email_keys(v, n, false);
		parse_urls(v, n, nc);
		parse_headers(v, n, nc);
	}
	/* Each refuses its keys on a notifier of another type. */
	parse_pagerduty(v, n, nc);
	parse_template(v, n, nc);
	parse_filter(v, n, nc, cfg);
	cfg_duration(v, n, "repeat_interval", 0, 7LL * 86400 * 1000,
	    &nc->repeat_ms);
	if (nc->type == NOTIFIER_ALERTMANAGER && nc->repeat_ms == 0)
		cfg_err(v, cfg_member(n, "repeat_interval"), "Alertmanager "
		    "needs firing alerts re-sent: \"repeat_interval\" must "
		    "not be 0");
	cfg_duration(v, n, "timeout", 100, 120000, &nc->timeout_ms);
	if (cfg_number(v, n, "queue_max", 1, 100000, true, &x) == 1)
		nc->queue_max = (size_t)x;
	nc->progress_ms = DEFAULT_PROGRESS_MS;
	cfg_bool(v, n, "deploys", &nc->deploys);
	cfg_duration(v, n, "progress_interval", 1000, 86400LL * 1000,
	    &nc->progress_ms);
	/* Alertmanager hears verdicts as alerts; a rollout's talk is text. */
	if (nc->deploys && nc->type != NOTIFIER_WEBHOOK &&
	    nc->type != NOTIFIER_EMAIL)
		cfg_err(v, cfg_member(n, "deploys"), "\"deploys\" is for "
		    "webhooks; %s hears a failed deploy as an alert",
		    nc->type == NOTIFIER_PAGERDUTY ? "PagerDuty" :
		    "Alertmanager");
	/* A rollout's talk is Slack's or the generic shape, not a template's. */
	if (nc->deploys && nc->template != NULL)
		cfg_err(v, cfg_member(n, "deploys"), "\"deploys\" updates "
		    "come as \"generic\" or \"slack\" bodies, not a "
		    "\"template\"; a templated webhook hears deploy "
		    "verdicts only");
}

void
cfg_parse_notifiers(struct cfgread *v, const cJSON *arr, struct config *cfg)
{
	const cJSON *n;

	if (arr == NULL)
		return;
	if (!cJSON_IsArray(arr)) {
		cfg_err(v, arr, "\"notifiers\" must be an array, not %s",
		    jsonc_type_name(arr));
		return;
	}
	cfg->notifiers = calloc((size_t)cJSON_GetArraySize(arr) + 1,
	    sizeof(*cfg->notifiers));
	if (cfg->notifiers == NULL) {
		cfg_err(v, arr, "out of memory");
		return;
	}
	cJSON_ArrayForEach(n, arr) {
		struct notifier_cfg *nc = &cfg->notifiers[cfg->nnotifiers++];

		parse_notifier(v, n, nc, cfg);
		for (size_t j = 0; nc->name != NULL &&
		    j + 1 < cfg->nnotifiers; j++)
			if (cfg->notifiers[j].name != NULL &&
			    strcmp(cfg->notifiers[j].name, nc->name) == 0)
				cfg_err(v, cfg_member(n, "name"), "duplicate "
				    "notifier name \"%s\"", nc->name);
	}
}

static void
free_secret_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] != NULL)
			explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

void
cfg_clear_notifiers(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nnotifiers; i++) {
		struct notifier_cfg *nc = &cfg->notifiers[i];

		free(nc->name);
		free_secret_list(nc->urls, nc->nurls);
		free_secret_list(nc->headers, nc->nheaders);
		free(nc->shown);
		if (nc->routing_key != NULL)
			explicit_bzero(nc->routing_key, strlen(nc->routing_key));
		free(nc->routing_key);
		free(nc->template);
		free(nc->content_type);
		for (size_t j = 0; j < nc->nrules; j++)
			free(nc->rules[j]);
		free(nc->rules);
		for (size_t j = 0; j < nc->nlabels; j++) {
			free(nc->labels[j].key);
			free(nc->labels[j].value);
		}
		free(nc->labels);
		cfg_clear_email(nc);
	}
	free(cfg->notifiers);
	cfg->notifiers = NULL;
	cfg->nnotifiers = 0;
}
