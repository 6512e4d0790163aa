#include "config/cfgread_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/jsonpath.h"
#include "base/jsonptr.h"

#define DEFAULT_MAX_BODY	(1024 * 1024)

/* Metric names every HTTP run produces; extracted ones may not take them. */
static const char *const http_builtin_metrics[] = {
	"up", "duration_ms", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms",
	"http_status", "body_bytes", "cert_expiry_days", "down", NULL,
};

void
cfg_check_url(struct cfgread *v, const cJSON *node, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	CURLUcode rc;

	if (u == NULL) {
		cfg_err(v, node, "out of memory");
		return;
	}
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		cfg_err(v, node, "\"url\": \"%s\" is not a valid URL (%s)", url,
		    curl_url_strerror(rc));
	} else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) !=
	    CURLUE_OK || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0)) {
		cfg_err(v, node, "\"url\" must start with http:// or https://");
	} else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		cfg_err(v, node, "\"url\" has no host");
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
}

/* "expect.status": [200, "2xx", 301] */
static void
parse_status(struct cfgread *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	size_t n = 0;

	if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) == 0) {
		cfg_err(v, m, "\"status\" must be a non-empty array of codes "
		    "such as [200] or [\"2xx\"]");
		return;
	}
	h->status = calloc((size_t)cJSON_GetArraySize(m), sizeof(*h->status));
	if (h->status == NULL) {
		cfg_err(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct status_range r = { 0, 0 };

		if (cJSON_IsNumber(e) && e->valuedouble == floor(e->valuedouble)
		    && e->valuedouble >= 100 && e->valuedouble <= 599) {
			r.lo = r.hi = (int)e->valuedouble;
		} else if (cJSON_IsString(e) && strlen(e->valuestring) == 3 &&
		    e->valuestring[0] >= '1' && e->valuestring[0] <= '5' &&
		    strcmp(e->valuestring + 1, "xx") == 0) {
			r.lo = (e->valuestring[0] - '0') * 100;
			r.hi = r.lo + 99;
		} else {
			cfg_err(v, e, "a status must be a code from 100 to 599 "
			    "or a class such as \"2xx\"");
			continue;
		}
		h->status[n++] = r;
	}
	h->nstatus = n;
}

/*
 * Checks where a value is taken from: a JSONPath query when it starts
 * with '$' (parsed into *path, so a syntax error is found at load with its
 * byte in the path), else a JSON Pointer. false after reporting the error
 * at node (its key when key is true).
 */
static bool
parse_selector(struct cfgread *v, const cJSON *node, bool key,
    const char *what, const char *text, struct jsonpath **path)
{
	const char *why = NULL;
	char msg[256];
	size_t at = 0;

	*path = NULL;
	if (!jsonpath_is_query(text)) {
		if (jsonptr_valid(text) == 0)
			return true;
		snprintf(msg, sizeof(msg), "is neither a JSON Pointer "
		    "(RFC 6901: \"\" or \"/a/b\", with ~0 for ~ and ~1 for /) "
		    "nor JSONPath (RFC 9535, starting with $)");
	} else {
		*path = jsonpath_parse(text, &at, &why);
		if (*path != NULL)
			return true;
		snprintf(msg, sizeof(msg), "is not valid JSONPath: %s (at "
		    "byte %zu of the path)", why != NULL ? why :
		    "syntax error", at);
	}
	if (key)
		cfg_err_key(v, node, "%s \"%s\" %s", what, text, msg);
	else
		cfg_err(v, node, "%s \"%s\" %s", what, text, msg);
	return false;
}

/* "expect.json": { "/status": "ok", "/checks/db/status": ["ok", "up"] } */
static void
parse_expect_json(struct cfgread *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(m);

	if (!cJSON_IsObject(m)) {
		cfg_err(v, m, "\"json\" must be an object of JSON Pointer -> "
		    "expected value, e.g. {\"/status\": \"ok\"}");
		return;
	}
	if (n == 0)
		return;
	h->expect_json = calloc((size_t)n, sizeof(*h->expect_json));
	if (h->expect_json == NULL) {
		cfg_err(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct json_expect *x;
		struct jsonpath *path;
		const cJSON *val;
		bool ok = true;

		if (!parse_selector(v, e, true, "the path", e->string,
		    &path))
			continue;
		if (cJSON_IsArray(e)) {
			if (cJSON_GetArraySize(e) == 0) {
				jsonpath_free(path);
				cfg_err(v, e, "an empty list of accepted values "
				    "can never match");
				continue;
			}
			cJSON_ArrayForEach(val, e)
				if (cJSON_IsObject(val) || cJSON_IsArray(val))
					ok = false;
		} else if (cJSON_IsObject(e)) {
			ok = false;
		}
		if (!ok) {
			jsonpath_free(path);
			cfg_err(v, e, "expected value for \"%s\" must be a "
			    "string, number, boolean or null, or an array "
			    "of those", e->string);
			continue;
		}
		x = &h->expect_json[h->nexpect_json];
		x->path = path;
		x->ptr = strdup(e->string);
		if (cJSON_IsArray(e)) {
			x->any_of = cJSON_Duplicate(e, 1);
		} else {
			x->any_of = cJSON_CreateArray();
			if (x->any_of != NULL)
				cJSON_AddItemToArray(x->any_of,
				    cJSON_Duplicate(e, 0));
		}
		if (x->ptr == NULL || x->any_of == NULL) {
			free(x->ptr);
			cJSON_Delete(x->any_of);
			jsonpath_free(x->path);
			x->path = NULL;
			cfg_err(v, e, "out of memory");
			continue;
		}
		h->nexpect_json++;
	}
}

/*
 * {"path": <selector>, "type": "gauge" | "counter"}: the selector in *sel.
 * The type is declared because a name cannot be trusted to say it.
 */
static bool
metric_object(struct cfgread *v, const cJSON *e, const cJSON **sel,
    bool *counter)
{
	static const char *const keys[] = { "path", "type", NULL };
	const char *type;
	int rc;

	cfg_check_keys(v, e, keys, "a metric");
	*sel = cfg_member(e, "path");
	if (*sel == NULL) {
		cfg_err(v, e, "metric \"%s\" needs a \"path\" (a JSON "
		    "Pointer or JSONPath)", e->string);
		return false;
	}
	rc = cfg_string(v, e, "type", &type);
	if (rc < 0)
		return false;
	if (rc == 1 && strcmp(type, "counter") != 0 &&
	    strcmp(type, "gauge") != 0) {
		cfg_err(v, cfg_member(e, "type"), "metric \"%s\": \"type\" "
		    "must be \"gauge\" or \"counter\"", e->string);
		return false;
	}
	*counter = rc == 1 && strcmp(type, "counter") == 0;
	return true;
}

static void
parse_metrics(struct cfgread *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(m);

	if (!cJSON_IsObject(m)) {
		cfg_err(v, m, "\"metrics\" must be an object of metric name -> "
		    "JSON Pointer or JSONPath, e.g. {\"p95_ms\": "
		    "\"/metrics/responseTime/p95\"}");
		return;
	}
	if (n == 0)
		return;
	h->metrics = calloc((size_t)n, sizeof(*h->metrics));
	if (h->metrics == NULL) {
		cfg_err(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct metric_extract *x;
		struct jsonpath *path;
		const cJSON *sel;
		bool counter;
		char what[CFG_MAX_NAME + 16];
		bool builtin = false;

		if (!cfg_valid_name(e->string)) {
			cfg_err_key(v, e, "metric name \"%s\" must be lower "
			    "case letters, digits and _ (starting with a "
			    "letter, at most %d)", e->string, CFG_MAX_NAME);
			continue;
		}
		for (const char *const *b = http_builtin_metrics; *b != NULL;
		    b++)
			if (strcmp(*b, e->string) == 0)
				builtin = true;
		if (builtin) {
			cfg_err_key(v, e, "metric name \"%s\" is taken by a "
			    "metric every http probe reports", e->string);
			continue;
		}
		sel = e;
		counter = false;
		if (cJSON_IsObject(e) && !metric_object(v, e, &sel, &counter))
			continue;
		if (!cJSON_IsString(sel)) {
			cfg_err(v, sel, "metric \"%s\" must be a JSON Pointer "
			    "string such as \"/metrics/p95\" or JSONPath such "
			    "as \"$.measurements[?@.statistic=='MAX'].value\", "
			    "or {\"path\": ..., \"type\": \"counter\"}",
			    e->string);
			continue;
		}
		snprintf(what, sizeof(what), "metric \"%s\":", e->string);
		if (!parse_selector(v, sel, false, what, sel->valuestring,
		    &path))
			continue;
		x = &h->metrics[h->nmetrics];
		x->path = path;
		x->counter = counter;
		x->name = strdup(e->string);
		x->ptr = strdup(sel->valuestring);
		if (x->name == NULL || x->ptr == NULL) {
			free(x->name);
			free(x->ptr);
			jsonpath_free(x->path);
			x->path = NULL;
			cfg_err(v, e, "out of memory");
			continue;
		}
		h->nmetrics++;
	}
}

static void
parse_headers(struct cfgread *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(m);

	if (!cJSON_IsObject(m)) {
		cfg_err(v, m, "\"headers\" must be an object of header name -> "
		    "value");
		return;
	}
	if (n == 0)
		return;
	h->headers = calloc((size_t)n, sizeof(*h->headers));
	if (h->headers == NULL) {
		cfg_err(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		size_t len;
		char *line;

		if (e->string[0] == '\0' ||
		    strpbrk(e->string, ": \t\r\n") != NULL) {
			cfg_err_key(v, e, "\"%s\" is not a valid header name",
			    e->string);
			continue;
		}
		if (!cJSON_IsString(e) || strpbrk(e->valuestring, "\r\n")) {
			cfg_err(v, e, "header \"%s\" must be a one-line string",
			    e->string);
			continue;
		}
		len = strlen(e->string) + strlen(e->valuestring) + 3;
		line = malloc(len);
		if (line == NULL) {
			cfg_err(v, e, "out of memory");
			continue;
		}
		snprintf(line, len, "%s: %s", e->string, e->valuestring);
		h->headers[h->nheaders++] = line;
	}
}

void
cfg_parse_http(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	struct http_cfg *h = &pc->http;
	static const char *const expect_keys[] = {
		"status", "keyword", "json", NULL,
	};
	static const char *const tls_keys[] = { "verify", "ca_file", NULL };
	static const char *const http_keys[] = {
		"url", "method", "headers", "body", "expect", "metrics",
		"max_body", "tls", "follow_redirects", "new_connection", NULL,
	};
	const cJSON *expect, *tls, *m;
	const char *s;

	cfg_check_probe_keys(v, p, http_keys, "an http probe");
	h->tls_verify = true;
	h->max_body = DEFAULT_MAX_BODY;
	if (cfg_string(v, p, "url", &s) == 1) {
		cfg_check_url(v, cfg_member(p, "url"), s);
		h->url = cfg_strdup(v, p, s);
		if (h->url != NULL) {
			char red[512];

			config_redact_url(h->url, red, sizeof(red));
			pc->target = cfg_strdup(v, p, red);
		}
	} else if (cfg_member(p, "url") == NULL) {
		cfg_err(v, p, "http probe needs \"url\"");
	}
	h->method = cfg_strdup(v, p, "GET");
	if (cfg_string(v, p, "method", &s) == 1) {
		if (strcmp(s, "GET") != 0 && strcmp(s, "HEAD") != 0 &&
		    strcmp(s, "POST") != 0)
			cfg_err(v, cfg_member(p, "method"), "\"method\" must be "
			    "\"GET\", \"HEAD\" or \"POST\"");
		free(h->method);
		h->method = cfg_strdup(v, p, s);
	}
	if (cfg_string(v, p, "body", &s) == 1)
		h->body = cfg_strdup(v, p, s);
	if ((m = cfg_member(p, "headers")) != NULL)
		parse_headers(v, m, h);
	if ((m = cfg_member(p, "metrics")) != NULL)
		parse_metrics(v, m, h);
	cfg_size(v, p, "max_body", 1024, 256LL * 1024 * 1024, &h->max_body);
	cfg_bool(v, p, "follow_redirects", &h->follow_redirects);
	cfg_bool(v, p, "new_connection", &h->new_connection);
	if ((tls = cfg_object(v, p, "tls")) != NULL) {
		cfg_check_keys(v, tls, tls_keys, "\"tls\"");
		cfg_bool(v, tls, "verify", &h->tls_verify);
		if (cfg_string(v, tls, "ca_file", &s) == 1)
			h->ca_file = cfg_strdup(v, p, s);
	}
	if ((expect = cfg_object(v, p, "expect")) != NULL) {
		cfg_check_keys(v, expect, expect_keys, "\"expect\"");
		if ((m = cfg_member(expect, "status")) != NULL)
			parse_status(v, m, h);
		if (cfg_string(v, expect, "keyword", &s) == 1)
			h->keyword = cfg_strdup(v, p, s);
		if ((m = cfg_member(expect, "json")) != NULL)
			parse_expect_json(v, m, h);
	}
	if (h->nstatus == 0) {
		/* Default: any 2xx (also after a list that was all errors). */
		free(h->status);
		h->status = calloc(1, sizeof(*h->status));
		if (h->status != NULL) {
			h->status[0] = (struct status_range){ 200, 299 };
			h->nstatus = 1;
		}
	}
	if (h->method != NULL && strcmp(h->method, "HEAD") == 0 &&
	    (h->keyword != NULL ||
	    h->nexpect_json > 0 || h->nmetrics > 0))
		cfg_err(v, cfg_member(p, "method"), "a HEAD probe has no body, so it "
		    "cannot check a keyword, JSON values or extract metrics");
}

void
cfg_clear_http(struct probe_cfg *pc)
{
	struct http_cfg *h = &pc->http;

	free(h->url);
	free(h->method);
	for (size_t i = 0; i < h->nheaders; i++)
		free(h->headers[i]);
	free(h->headers);
	free(h->body);
	free(h->status);
	free(h->keyword);
	for (size_t i = 0; i < h->nexpect_json; i++) {
		free(h->expect_json[i].ptr);
		jsonpath_free(h->expect_json[i].path);
		cJSON_Delete(h->expect_json[i].any_of);
	}
	free(h->expect_json);
	for (size_t i = 0; i < h->nmetrics; i++) {
		free(h->metrics[i].name);
		free(h->metrics[i].ptr);
		jsonpath_free(h->metrics[i].path);
	}
	free(h->metrics);
	free(h->ca_file);
}


bool
cfg_http_has_metric(const struct probe_cfg *pc, const char *metric)
{
	for (const char *const *b = http_builtin_metrics; *b != NULL; b++)
		if (strcmp(*b, metric) == 0)
			return true;
	for (size_t i = 0; i < pc->http.nmetrics; i++)
		if (strcmp(pc->http.metrics[i].name, metric) == 0)
			return true;
	return false;
}

bool
cfg_http_metric_counter(const struct probe_cfg *pc, const char *metric)
{
	for (size_t i = 0; i < pc->http.nmetrics; i++)
		if (strcmp(pc->http.metrics[i].name, metric) == 0)
			return pc->http.metrics[i].counter;
	return false;
}
