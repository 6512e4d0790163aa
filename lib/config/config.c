#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfgread_int.h"
#include "base/file.h"
#include "base/jsonc.h"

#define DEFAULT_LISTEN		"127.0.0.1:9464"
#define DEFAULT_INTERVAL_MS	30000
#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_RETENTION_MS	3600000
#define DEFAULT_STATE_INTERVAL_MS	10000
#define MIN_INTERVAL_MS		100
#define MAX_INTERVAL_MS		(24LL * 3600 * 1000)
#define MIN_TIMEOUT_MS		10
#define MAX_TIMEOUT_MS		(10LL * 60 * 1000)

/*
 * Every probe type: its name in the file and the reader of its section.
 * A new type adds a line here and a config_<type>.c.
 */
struct probe_type_info {
	const char *name;
	enum probe_type type;
	void (*parse)(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
	void (*clear)(struct probe_cfg *pc);
};

static const struct probe_type_info probe_types[] = {
	{ "http", PROBE_HTTP, cfg_parse_http, cfg_clear_http },
	{ "postgres", PROBE_POSTGRES, cfg_parse_pg, cfg_clear_pg },
	{ "sentry", PROBE_SENTRY, cfg_parse_sentry, cfg_clear_sentry },
	{ "dns", PROBE_DNS, cfg_parse_dns, cfg_clear_dns },
	{ "tcp", PROBE_TCP, cfg_parse_tcp, cfg_clear_net },
	{ "tls", PROBE_TLS, cfg_parse_tls, cfg_clear_net },
	{ "heartbeat", PROBE_HEARTBEAT, cfg_parse_heartbeat,
	    cfg_clear_heartbeat },
};
#define NPROBE_TYPES (sizeof(probe_types) / sizeof(probe_types[0]))
#define PROBE_TYPE_LIST "\"http\", \"postgres\", \"sentry\", \"dns\", \"tcp\", " \
    "\"tls\", \"heartbeat\""

const char *
probe_type_name(enum probe_type t)
{
	for (size_t i = 0; i < NPROBE_TYPES; i++)
		if (probe_types[i].type == t)
			return probe_types[i].name;
	return "?";
}

bool
probe_metric_counter(const struct probe_cfg *pc, const char *metric)
{
	switch (pc->type) {
	case PROBE_HTTP:
		return cfg_http_metric_counter(pc, metric);
	case PROBE_POSTGRES:
		return cfg_pg_metric_counter(pc, metric);
	case PROBE_SENTRY:
		return cfg_sentry_metric_counter(pc, metric);
	case PROBE_DNS:
	case PROBE_TCP:
	case PROBE_TLS:
	case PROBE_HEARTBEAT:
		return false;
	}
	return false;
}

int
config_split_listen(const char *listen, char *host, size_t hostlen,
    unsigned *port, const char **why)
{
	const char *colon, *h = listen;
	size_t hl;
	char *end;
	long p;
	unsigned char buf[sizeof(struct in6_addr)];

	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');

		if (rb == NULL || rb[1] != ':') {
			*why = "expected \"[address]:port\"";
			return -1;
		}
		h = listen + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL) {
			*why = "expected \"address:port\"";
			return -1;
		}
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= hostlen) {
		*why = "expected a numeric address before the port";
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1) {
		*why = "the address must be numeric (e.g. 127.0.0.1 or [::1]); "
		    "vigild does not resolve names for its listener";
		return -1;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 ||
	    p > 65535) {
		*why = "the port must be a number from 0 to 65535";
		return -1;
	}
	*port = (unsigned)p;
	return 0;
}

void
config_redact_url(const char *url, char *buf, size_t len)
{
	const char *scheme = strstr(url, "://");
	const char *auth, *at, *colon, *slash;

	snprintf(buf, len, "%s", url);
	if (scheme == NULL)
		return;
	auth = scheme + 3;
	slash = strpbrk(auth, "/?#");
	at = strchr(auth, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL)
		return;
	snprintf(buf, len, "%.*s:***%s", (int)(colon - url), url, at);
}

/* Canonical text of a probe: its JSON plus the defaults it inherited. */
static char *
probe_canon(const cJSON *p, const struct probe_cfg *pc)
{
	char *raw = cJSON_PrintUnformatted(p), *out;
	size_t len;

	if (raw == NULL)
		return NULL;
	len = strlen(raw) + 64;
	out = malloc(len);
	if (out != NULL)
		snprintf(out, len, "%s|%lld|%lld", raw,
		    (long long)pc->interval_ms, (long long)pc->timeout_ms);
	cJSON_free(raw);
	return out;
}

/* Keys of every probe, whatever its type. */
static const char *const probe_common_keys[] = {
	"name", "type", "interval", "timeout", "fail_after", "recover_after",
	"retry_interval", "down_severity", "depends_on", NULL,
};

void
cfg_check_probe_keys(struct cfgread *v, const cJSON *p,
    const char *const *own, const char *where)
{
	const char *all[64];
	size_t n = 0;

	for (const char *const *k = probe_common_keys; *k != NULL; k++)
		all[n++] = *k;
	for (const char *const *k = own; *k != NULL && n < 63; k++)
		all[n++] = *k;
	all[n] = NULL;
	cfg_check_keys(v, p, all, where);
}

/* The settings every probe shares: debounce, retries, severity. */
static void
parse_probe_common(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	const char *s;
	double x;

	pc->fail_after = 1;
	pc->recover_after = 1;
	pc->down_severity = SEV_CRITICAL;
	if (cfg_number(v, p, "fail_after", 1, 100, true, &x) == 1)
		pc->fail_after = (unsigned)x;
	if (cfg_number(v, p, "recover_after", 1, 100, true, &x) == 1)
		pc->recover_after = (unsigned)x;
	cfg_duration(v, p, "retry_interval", MIN_INTERVAL_MS, MAX_INTERVAL_MS,
	    &pc->retry_interval_ms);
	if (cfg_string(v, p, "depends_on", &s) == 1)
		pc->down_depends_on = cfg_strdup(v, p, s);
	if (cfg_string(v, p, "down_severity", &s) == 1) {
		if (strcmp(s, "critical") == 0)
			pc->down_severity = SEV_CRITICAL;
		else if (strcmp(s, "warning") == 0)
			pc->down_severity = SEV_WARNING;
		else if (strcmp(s, "none") == 0)
			pc->down_severity = SEV_NONE;
		else
			cfg_err(v, cfg_member(p, "down_severity"),
			    "\"down_severity\" must be \"critical\", "
			    "\"warning\" or \"none\"");
	}
}

static void
parse_probe(struct cfgread *v, const cJSON *p, struct config *cfg,
    struct probe_cfg *pc)
{
	const struct probe_type_info *t = NULL;
	const char *s;

	pc->interval_ms = cfg->default_interval_ms;
	pc->timeout_ms = cfg->default_timeout_ms;
	if (!cJSON_IsObject(p)) {
		cfg_err(v, p, "a probe must be an object, not %s",
		    jsonc_type_name(p));
		return;
	}
	if (cfg_string(v, p, "name", &s) == 1) {
		if (!cfg_valid_name(s))
			cfg_err(v, cfg_member(p, "name"), "probe name \"%s\" must be "
			    "lower case letters, digits and _ (starting "
			    "with a letter, at most %d)", s, CFG_MAX_NAME);
		pc->name = cfg_strdup(v, p, s);
	} else if (cfg_member(p, "name") == NULL) {
		cfg_err(v, p, "a probe needs a \"name\"");
	}
	if (cfg_string(v, p, "type", &s) == 1) {
		for (size_t i = 0; i < NPROBE_TYPES; i++)
			if (strcmp(s, probe_types[i].name) == 0)
				t = &probe_types[i];
		if (t == NULL) {
			cfg_err(v, cfg_member(p, "type"), "unknown probe type "
			    "\"%s\" (expected %s)", s, PROBE_TYPE_LIST);
			return;
		}
		pc->type = t->type;
	} else {
		if (cfg_member(p, "type") == NULL)
			cfg_err(v, p, "a probe needs a \"type\" (%s)",
			    PROBE_TYPE_LIST);
		return;
	}
	cfg_duration(v, p, "interval", MIN_INTERVAL_MS, MAX_INTERVAL_MS,
	    &pc->interval_ms);
	cfg_duration(v, p, "timeout", MIN_TIMEOUT_MS, MAX_TIMEOUT_MS,
	    &pc->timeout_ms);
	parse_probe_common(v, p, pc);
	t->parse(v, p, pc);
	pc->canon = probe_canon(p, pc);
	if (pc->canon == NULL)
		cfg_err(v, p, "out of memory");
}

/*
 * api.allowed_hosts: ["localhost", "vigil.example.com"], the names a
 * request may give in its Host header (DNS rebinding: a web page whose
 * name is made to resolve to 127.0.0.1 must not read vigild).
 */
static void
parse_allowed_hosts(struct cfgread *v, const cJSON *a, struct config *cfg)
{
	const cJSON *e;
	size_t n = 0;

	if (a == NULL)
		return;
	if (!cJSON_IsArray(a)) {
		cfg_err(v, a, "\"allowed_hosts\" must be an array of host "
		    "names, e.g. [\"localhost\", \"vigil.example.com\"]");
		return;
	}
	cfg->allowed_hosts_set = true;
	cfg->allowed_hosts = calloc((size_t)cJSON_GetArraySize(a) + 1,
	    sizeof(*cfg->allowed_hosts));
	if (cfg->allowed_hosts == NULL) {
		cfg_err(v, a, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, a) {
		char *h;

		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strlen(e->valuestring) > 255 ||
		    strspn(e->valuestring, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") !=
		    strlen(e->valuestring)) {
			cfg_err(v, e, "an allowed host is a name or address "
			    "without a port or scheme (\"vigil.example.com\","
			    " \"10.0.0.5\", \"[::1]\")");
			continue;
		}
		if ((h = cfg_strdup(v, e, e->valuestring)) == NULL)
			continue;
		for (char *c = h; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		cfg->allowed_hosts[n++] = h;
	}
	cfg->nallowed_hosts = n;
}

/* "ha": {"peers": ["http://ops-2:9464"]}: the rest of the pair. */
static void
parse_ha(struct cfgread *v, const cJSON *o, struct config *cfg)
{
	static const char *const ha_keys[] = { "peers", NULL };
	const cJSON *peers = cfg_member(o, "peers"), *u;

	cfg_check_keys(v, o, ha_keys, "\"ha\"");
	if (!cJSON_IsArray(peers) || cJSON_GetArraySize(peers) == 0) {
		cfg_err(v, peers != NULL ? peers : o, "\"ha\" needs \"peers\": "
		    "a non-empty array of the other vigilds' URLs");
		return;
	}
	cfg->ha_peers = calloc((size_t)cJSON_GetArraySize(peers),
	    sizeof(*cfg->ha_peers));
	if (cfg->ha_peers == NULL) {
		cfg_err(v, peers, "out of memory");
		return;
	}
	cJSON_ArrayForEach(u, peers) {
		if (!cJSON_IsString(u)) {
			cfg_err(v, u, "a peer must be a URL string");
			continue;
		}
		cfg_check_url(v, u, u->valuestring);
		cfg->ha_peers[cfg->nha_peers++] = cfg_strdup(v, u,
		    u->valuestring);
	}
}

const char *
config_pair_warning(const struct config *cfg, size_t i, char *buf,
    size_t len)
{
	const struct notifier_cfg *n;

	if (cfg->nha_peers == 0 || i >= cfg->nnotifiers)
		return NULL;
	n = &cfg->notifiers[i];
	if (n->type == NOTIFIER_ALERTMANAGER)
		return NULL;
	/* Each vigild's dedup key names its instance: two incidents. */
	if (n->type == NOTIFIER_PAGERDUTY) {
		snprintf(buf, len, "notifier \"%s\" (PagerDuty): every vigild "
		    "of the HA pair (ha.peers) triggers its own incident (the "
		    "dedup key names the instance); route it through "
		    "Alertmanager, which deduplicates (docs/ha.md)",
		    n->name != NULL ? n->name : "?");
		return buf;
	}
	snprintf(buf, len, "notifier \"%s\" (%s): every vigild of the HA pair "
	    "(ha.peers) sends it, so each notice arrives once per vigild; "
	    "route it through Alertmanager, which deduplicates (docs/ha.md)",
	    n->name != NULL ? n->name : "?",
	    n->type == NOTIFIER_EMAIL ? "email" :
	    n->format == WEBHOOK_SLACK ? "Slack" : "webhook");
	return buf;
}

static void
parse_root(struct cfgread *v, const cJSON *root, struct config *cfg)
{
	static const char *const root_keys[] = {
		"api", "defaults", "store", "probes", "rules", "notifiers",
		"state_dir", "state_interval", "instance", "release",
		"derived", "ha", "maintenance", NULL,
	};
	static const char *const api_keys[] = {
		"listen", "token_file", "public_url", "tls", "allowed_hosts",
		NULL,
	};
	static const char *const def_keys[] = { "interval", "timeout", NULL };
	static const char *const store_keys[] = { "retention", NULL };
	const cJSON *o, *probes, *p;
	const char *s;
	size_t i;

	if (!cJSON_IsObject(root)) {
		cfg_err(v, root, "the configuration must be a JSON object, "
		    "not %s", jsonc_type_name(root));
		return;
	}
	cfg_check_keys(v, root, root_keys, "the configuration");
	if ((o = cfg_object(v, root, "api")) != NULL) {
		cfg_check_keys(v, o, api_keys, "\"api\"");
		if (cfg_string(v, o, "listen", &s) == 1) {
			char host[64];
			unsigned port;
			const char *why;

			if (config_split_listen(s, host, sizeof(host), &port,
			    &why) != 0)
				cfg_err(v, cfg_member(o, "listen"), "\"listen\": "
				    "\"%s\": %s", s, why);
			free(cfg->listen);
			cfg->listen = cfg_strdup(v, o, s);
		}
		if (cfg_string(v, o, "public_url", &s) == 1) {
			cfg_check_url(v, cfg_member(o, "public_url"), s);
			cfg->public_url = cfg_strdup(v, o, s);
		}
		if (cfg_string(v, o, "token_file", &s) == 1)
			cfg->api_token = cfg_secret_file(v,
			    cfg_member(o, "token_file"), s);
		cfg_parse_api_tls(v, o, cfg);
		parse_allowed_hosts(v, cfg_member(o, "allowed_hosts"), cfg);
	}
	if ((o = cfg_object(v, root, "defaults")) != NULL) {
		cfg_check_keys(v, o, def_keys, "\"defaults\"");
		cfg_duration(v, o, "interval", MIN_INTERVAL_MS,
		    MAX_INTERVAL_MS, &cfg->default_interval_ms);
		cfg_duration(v, o, "timeout", MIN_TIMEOUT_MS, MAX_TIMEOUT_MS,
		    &cfg->default_timeout_ms);
	}
	if ((o = cfg_object(v, root, "store")) != NULL) {
		cfg_check_keys(v, o, store_keys, "\"store\"");
		cfg_duration(v, o, "retention", 60000, 7LL * 86400 * 1000,
		    &cfg->retention_ms);
	}
	probes = cfg_member(root, "probes");
	if (probes == NULL) {
		cfg_err(v, root, "the configuration needs \"probes\": a list of "
		    "what to watch");
		return;
	}
	if (!cJSON_IsArray(probes)) {
		cfg_err(v, probes, "\"probes\" must be an array, not %s",
		    jsonc_type_name(probes));
		return;
	}
	cfg->probes = calloc((size_t)cJSON_GetArraySize(probes) + 1,
	    sizeof(*cfg->probes));
	if (cfg->probes == NULL) {
		cfg_err(v, probes, "out of memory");
		return;
	}
	cJSON_ArrayForEach(p, probes) {
		struct probe_cfg *pc = &cfg->probes[cfg->nprobes++];

		parse_probe(v, p, cfg, pc);
		if (pc->name == NULL)
			continue;
		for (i = 0; i + 1 < cfg->nprobes; i++) {
			if (cfg->probes[i].name != NULL &&
			    strcmp(cfg->probes[i].name, pc->name) == 0) {
				cfg_err(v, cfg_member(p, "name"), "duplicate probe "
				    "name \"%s\"", pc->name);
				break;
			}
		}
	}
	cfg_parse_derived(v, root, cfg_member(root, "derived"), cfg);
	cfg_parse_rules(v, root, cfg_member(root, "rules"), cfg);
	cfg_parse_notifiers(v, cfg_member(root, "notifiers"), cfg);
	cfg_parse_maint(v, cfg_member(root, "maintenance"), cfg);
	cfg_parse_release(v, cfg_member(root, "release"), cfg);
	if (cfg_string(v, root, "state_dir", &s) == 1) {
		if (s[0] != '/')
			cfg_err(v, cfg_member(root, "state_dir"), "\"state_dir\""
			    " must be an absolute path");
		cfg->state_dir = cfg_strdup(v, root, s);
	}
	cfg_duration(v, root, "state_interval", 1000, 3600000,
	    &cfg->state_interval_ms);
	if (cfg_string(v, root, "instance", &s) == 1)
		cfg->instance = cfg_strdup(v, root, s);
	if ((o = cfg_object(v, root, "ha")) != NULL)
		parse_ha(v, o, cfg);
}

struct config *
config_parse(const char *path, const char *text, size_t len,
    struct config_errors *errs)
{
	struct jsonc_error jerr;
	struct jsonc_doc *doc;
	struct config *cfg;
	struct cfgread v;
	size_t before = errs->n + errs->dropped;

	doc = jsonc_parse(text, len, &jerr);
	if (doc == NULL) {
		cfg_errs_add(errs, jerr.pos.line, jerr.pos.col, "%s", jerr.msg);
		return NULL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		jsonc_free(doc);
		cfg_errs_add(errs, 0, 0, "out of memory");
		return NULL;
	}
	cfg->path = strdup(path);
	cfg->listen = strdup(DEFAULT_LISTEN);
	cfg->retention_ms = DEFAULT_RETENTION_MS;
	cfg->default_interval_ms = DEFAULT_INTERVAL_MS;
	cfg->default_timeout_ms = DEFAULT_TIMEOUT_MS;
	cfg->state_interval_ms = DEFAULT_STATE_INTERVAL_MS;
	v.doc = doc;
	v.errs = errs;
	v.text = text;
	v.len = len;
	parse_root(&v, jsonc_root(doc), cfg);
	jsonc_free(doc);
	if (errs->n + errs->dropped == before && (cfg->path == NULL ||
	    cfg->listen == NULL))
		cfg_errs_add(errs, 0, 0, "out of memory");
	if (errs->n + errs->dropped != before) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct config *cfg;
	char *text, why[128];
	size_t len;
	int rc = file_read(path, CONFIG_MAX_FILE, &text, &len, why,
	    sizeof(why));

	if (rc == FILE_ERR_OPEN) {
		cfg_errs_add(errs, 0, 0, "cannot open: %s", why);
		return NULL;
	}
	if (rc == FILE_ERR_READ) {
		cfg_errs_add(errs, 0, 0, "read: %s", why);
		return NULL;
	}
	if (rc != FILE_OK) {
		cfg_errs_add(errs, 0, 0, "%s", why);
		return NULL;
	}
	cfg = config_parse(path, text, len, errs);
	free(text);
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nprobes; i++) {
		free(cfg->probes[i].name);
		free(cfg->probes[i].canon);
		free(cfg->probes[i].target);
		free(cfg->probes[i].down_depends_on);
		for (size_t t = 0; t < NPROBE_TYPES; t++)
			if (probe_types[t].type == cfg->probes[i].type)
				probe_types[t].clear(&cfg->probes[i]);
	}
	free(cfg->probes);
	cfg_clear_notifiers(cfg);
	cfg_clear_maint(cfg);
	cfg_clear_release(cfg);
	cfg_clear_rules(cfg);
	cfg_clear_derived(cfg);
	free(cfg->state_dir);
	free(cfg->instance);
	free(cfg->public_url);
	for (size_t i = 0; i < cfg->nha_peers; i++)
		free(cfg->ha_peers[i]);
	free(cfg->ha_peers);
	for (size_t i = 0; i < cfg->nallowed_hosts; i++)
		free(cfg->allowed_hosts[i]);
	free(cfg->allowed_hosts);
	cfg_clear_api_tls(cfg);
	free(cfg->path);
	free(cfg->listen);
	if (cfg->api_token != NULL) {
		/* A secret: gone from memory with the config. */
		explicit_bzero(cfg->api_token, strlen(cfg->api_token));
		free(cfg->api_token);
	}
	free(cfg);
}

const struct probe_cfg *
config_probe(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nprobes; i++)
		if (cfg->probes[i].name != NULL &&
		    strcmp(cfg->probes[i].name, name) == 0)
			return &cfg->probes[i];
	return NULL;
}

const struct rule_cfg *
config_rule(const struct config *cfg, const char *name)
{
	/* Called while parsing too, when a broken rule may have no name. */
	for (size_t i = 0; i < cfg->nrules; i++)
		if (cfg->rules[i].name != NULL &&
		    strcmp(cfg->rules[i].name, name) == 0)
			return &cfg->rules[i];
	return NULL;
}

const struct derived_cfg *
config_derived(const struct config *cfg, const char *metric)
{
	size_t n = strlen(DERIVED_PREFIX);

	if (strncmp(metric, DERIVED_PREFIX, n) != 0)
		return NULL;
	for (size_t i = 0; i < cfg->nderived; i++)
		if (cfg->derived[i].name != NULL &&
		    strcmp(cfg->derived[i].name, metric + n) == 0)
			return &cfg->derived[i];
	return NULL;
}
