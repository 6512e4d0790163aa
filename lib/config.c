#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "duration.h"
#include "jsonc.h"
#include "jsonptr.h"

#define DEFAULT_LISTEN		"127.0.0.1:9464"
#define DEFAULT_INTERVAL_MS	30000
#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_RETENTION_MS	3600000
#define DEFAULT_MAX_BODY	(1024 * 1024)
#define MIN_INTERVAL_MS		100
#define MAX_INTERVAL_MS		(24LL * 3600 * 1000)
#define MIN_TIMEOUT_MS		10
#define MAX_TIMEOUT_MS		(10LL * 60 * 1000)
#define MAX_NAME		63

/* Metric names every HTTP run produces; extracted ones may not take them. */
static const char *const http_builtin_metrics[] = {
	"up", "duration_ms", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms",
	"http_status", "body_bytes", "cert_expiry_days", NULL,
};

/* Everything the validator needs while it walks one document. */
struct vctx {
	const struct jsonc_doc *doc;
	struct config_errors *errs;
};

const char *
probe_type_name(enum probe_type t)
{
	switch (t) {
	case PROBE_HTTP:
		return "http";
	}
	return "?";
}

static void
errs_addv(struct config_errors *errs, int line, int col, const char *fmt,
    va_list ap)
{
	struct config_error *e;

	if (errs->n >= CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	if (errs->n == errs->alloc) {
		size_t n = errs->alloc == 0 ? 8 : errs->alloc * 2;
		struct config_error *v = realloc(errs->v, n * sizeof(*v));

		if (v == NULL) {
			errs->dropped++;
			return;
		}
		errs->v = v;
		errs->alloc = n;
	}
	e = &errs->v[errs->n++];
	e->line = line;
	e->col = col;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

static void __attribute__((format(printf, 4, 5)))
errs_add(struct config_errors *errs, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_addv(errs, line, col, fmt, ap);
	va_end(ap);
}

/* An error at a node's value. */
static void __attribute__((format(printf, 3, 4)))
verr(struct vctx *v, const cJSON *node, const char *fmt, ...)
{
	struct jsonc_pos pos = { 0, 0 };
	va_list ap;

	if (node != NULL)
		jsonc_pos(v->doc, node, &pos);
	va_start(ap, fmt);
	errs_addv(v->errs, pos.line, pos.col, fmt, ap);
	va_end(ap);
}

/* An error at an object member's key. */
static void __attribute__((format(printf, 3, 4)))
verr_key(struct vctx *v, const cJSON *node, const char *fmt, ...)
{
	struct jsonc_pos pos = { 0, 0 };
	va_list ap;

	jsonc_key_pos(v->doc, node, &pos);
	va_start(ap, fmt);
	errs_addv(v->errs, pos.line, pos.col, fmt, ap);
	va_end(ap);
}

void
config_errors_clear(struct config_errors *errs)
{
	free(errs->v);
	memset(errs, 0, sizeof(*errs));
}

void
config_error_format(const struct config_errors *errs, size_t i,
    const char *path, char *buf, size_t len)
{
	const struct config_error *e = &errs->v[i];

	if (e->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", path, e->line, e->col,
		    e->msg);
	else
		snprintf(buf, len, "%s: %s", path, e->msg);
}

static const char *
json_type_name(const cJSON *n)
{
	if (cJSON_IsObject(n))
		return "an object";
	if (cJSON_IsArray(n))
		return "an array";
	if (cJSON_IsString(n))
		return "a string";
	if (cJSON_IsNumber(n))
		return "a number";
	if (cJSON_IsBool(n))
		return "a boolean";
	if (cJSON_IsNull(n))
		return "null";
	return "an unknown value";
}

/* Levenshtein distance, capped: only small distances matter here. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[33], cur[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) :
			    (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

/*
 * Reports every member of obj not in allowed (a NULL-terminated list),
 * suggesting the nearest allowed key. where names the object in messages.
 */
static void
check_keys(struct vctx *v, const cJSON *obj, const char *const *allowed,
    const char *where)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj) {
		const char *best = NULL;
		size_t bestd = 3;
		bool ok = false;

		for (const char *const *k = allowed; *k != NULL; k++) {
			size_t d;

			if (strcmp(m->string, *k) == 0) {
				ok = true;
				break;
			}
			d = edit_distance(m->string, *k);
			if (d < bestd) {
				bestd = d;
				best = *k;
			}
		}
		if (ok)
			continue;
		if (best != NULL)
			verr_key(v, m, "unknown key \"%s\" in %s "
			    "(did you mean \"%s\"?)", m->string, where, best);
		else
			verr_key(v, m, "unknown key \"%s\" in %s",
			    m->string, where);
	}
}

static const cJSON *
member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The member as an object, or NULL (absent, or wrong type: reported). */
static const cJSON *
get_object(struct vctx *v, const cJSON *obj, const char *key)
{
	const cJSON *m = member(obj, key);

	if (m != NULL && !cJSON_IsObject(m)) {
		verr(v, m, "\"%s\" must be an object, not %s", key,
		    json_type_name(m));
		return NULL;
	}
	return m;
}

/* 1 and *out set, 0 when absent, -1 on a reported error. */
static int
get_string(struct vctx *v, const cJSON *obj, const char *key,
    const char **out)
{
	const cJSON *m = member(obj, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m)) {
		verr(v, m, "\"%s\" must be a string, not %s", key,
		    json_type_name(m));
		return -1;
	}
	if (m->valuestring[0] == '\0') {
		verr(v, m, "\"%s\" must not be empty", key);
		return -1;
	}
	*out = m->valuestring;
	return 1;
}

static int
get_bool(struct vctx *v, const cJSON *obj, const char *key, bool *out)
{
	const cJSON *m = member(obj, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsBool(m)) {
		verr(v, m, "\"%s\" must be true or false, not %s", key,
		    json_type_name(m));
		return -1;
	}
	*out = cJSON_IsTrue(m);
	return 1;
}

/* A duration string within [lo, hi] milliseconds. */
static int
get_duration(struct vctx *v, const cJSON *obj, const char *key, int64_t lo,
    int64_t hi, int64_t *out)
{
	const cJSON *m = member(obj, key);
	char a[32], b[32];
	int64_t ms;

	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m)) {
		verr(v, m, "\"%s\" must be a duration string such as "
		    "\"30s\" or \"5m\", not %s", key, json_type_name(m));
		return -1;
	}
	if (duration_parse(m->valuestring, &ms) != 0) {
		verr(v, m, "\"%s\": \"%s\" is not a duration (expected "
		    "e.g. \"250ms\", \"30s\", \"5m\", \"1h30m\")", key,
		    m->valuestring);
		return -1;
	}
	if (ms < lo || ms > hi) {
		duration_format(lo, a, sizeof(a));
		duration_format(hi, b, sizeof(b));
		verr(v, m, "\"%s\" must be between %s and %s", key, a, b);
		return -1;
	}
	*out = ms;
	return 1;
}

/* A byte size: a whole number, or a string "512KiB", "1MiB". */
static int
get_size(struct vctx *v, const cJSON *obj, const char *key, int64_t lo,
    int64_t hi, int64_t *out)
{
	const cJSON *m = member(obj, key);
	double n;

	if (m == NULL)
		return 0;
	if (cJSON_IsNumber(m)) {
		n = m->valuedouble;
	} else if (cJSON_IsString(m)) {
		char *end;
		double mult = 0;

		errno = 0;
		n = strtod(m->valuestring, &end);
		if (end == m->valuestring || errno != 0)
			mult = 0;
		else if (strcmp(end, "") == 0 || strcmp(end, "B") == 0)
			mult = 1;
		else if (strcmp(end, "KiB") == 0)
			mult = 1024;
		else if (strcmp(end, "MiB") == 0)
			mult = 1024 * 1024;
		else if (strcmp(end, "GiB") == 0)
			mult = 1024.0 * 1024 * 1024;
		if (mult == 0) {
			verr(v, m, "\"%s\": \"%s\" is not a size (expected "
			    "bytes, or e.g. \"512KiB\", \"1MiB\")", key,
			    m->valuestring);
			return -1;
		}
		n *= mult;
	} else {
		verr(v, m, "\"%s\" must be a size in bytes or a string such "
		    "as \"1MiB\", not %s", key, json_type_name(m));
		return -1;
	}
	if (!isfinite(n) || n != floor(n) || n < (double)lo ||
	    n > (double)hi) {
		verr(v, m, "\"%s\" must be a whole number of bytes from "
		    "%lld to %lld", key, (long long)lo, (long long)hi);
		return -1;
	}
	*out = (int64_t)n;
	return 1;
}

/* strdup that reports failure as a config error, so nothing is NULL later. */
static char *
vstrdup(struct vctx *v, const cJSON *node, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		verr(v, node, "out of memory");
	return d;
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return false;
	return true;
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

static void
validate_url(struct vctx *v, const cJSON *node, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	CURLUcode rc;

	if (u == NULL) {
		verr(v, node, "out of memory");
		return;
	}
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		verr(v, node, "\"url\": \"%s\" is not a valid URL (%s)", url,
		    curl_url_strerror(rc));
	} else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) !=
	    CURLUE_OK || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0)) {
		verr(v, node, "\"url\" must start with http:// or https://");
	} else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		verr(v, node, "\"url\" has no host");
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
}

/* "expect.status": [200, "2xx", 301] */
static void
parse_status(struct vctx *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	size_t n = 0;

	if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) == 0) {
		verr(v, m, "\"status\" must be a non-empty array of codes "
		    "such as [200] or [\"2xx\"]");
		return;
	}
	h->status = calloc((size_t)cJSON_GetArraySize(m), sizeof(*h->status));
	if (h->status == NULL) {
		verr(v, m, "out of memory");
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
			verr(v, e, "a status must be a code from 100 to 599 "
			    "or a class such as \"2xx\"");
			continue;
		}
		h->status[n++] = r;
	}
	h->nstatus = n;
}

/* "expect.json": { "/status": "ok", "/checks/db/status": ["ok", "up"] } */
static void
parse_expect_json(struct vctx *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(m);

	if (!cJSON_IsObject(m)) {
		verr(v, m, "\"json\" must be an object of JSON Pointer -> "
		    "expected value, e.g. {\"/status\": \"ok\"}");
		return;
	}
	if (n == 0)
		return;
	h->expect_json = calloc((size_t)n, sizeof(*h->expect_json));
	if (h->expect_json == NULL) {
		verr(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct json_expect *x;
		const cJSON *val;
		bool ok = true;

		if (jsonptr_valid(e->string) != 0) {
			verr_key(v, e, "\"%s\" is not a JSON Pointer "
			    "(RFC 6901: \"\" or \"/a/b\", with ~0 for ~ and "
			    "~1 for /)", e->string);
			continue;
		}
		if (cJSON_IsArray(e)) {
			if (cJSON_GetArraySize(e) == 0) {
				verr(v, e, "an empty list of accepted values "
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
			verr(v, e, "expected value for \"%s\" must be a "
			    "string, number, boolean or null, or an array "
			    "of those", e->string);
			continue;
		}
		x = &h->expect_json[h->nexpect_json];
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
			verr(v, e, "out of memory");
			continue;
		}
		h->nexpect_json++;
	}
}

static void
parse_metrics(struct vctx *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(m);

	if (!cJSON_IsObject(m)) {
		verr(v, m, "\"metrics\" must be an object of metric name -> "
		    "JSON Pointer, e.g. {\"p95_ms\": "
		    "\"/metrics/responseTime/p95\"}");
		return;
	}
	if (n == 0)
		return;
	h->metrics = calloc((size_t)n, sizeof(*h->metrics));
	if (h->metrics == NULL) {
		verr(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		struct metric_extract *x;
		bool builtin = false;

		if (!valid_name(e->string)) {
			verr_key(v, e, "metric name \"%s\" must be lower "
			    "case letters, digits and _ (starting with a "
			    "letter, at most %d)", e->string, MAX_NAME);
			continue;
		}
		for (const char *const *b = http_builtin_metrics; *b != NULL;
		    b++)
			if (strcmp(*b, e->string) == 0)
				builtin = true;
		if (builtin) {
			verr_key(v, e, "metric name \"%s\" is taken by a "
			    "metric every http probe reports", e->string);
			continue;
		}
		if (!cJSON_IsString(e) || jsonptr_valid(e->valuestring) != 0) {
			verr(v, e, "metric \"%s\" must be a JSON Pointer "
			    "string such as \"/metrics/p95\"", e->string);
			continue;
		}
		x = &h->metrics[h->nmetrics];
		x->name = strdup(e->string);
		x->ptr = strdup(e->valuestring);
		if (x->name == NULL || x->ptr == NULL) {
			free(x->name);
			free(x->ptr);
			verr(v, e, "out of memory");
			continue;
		}
		h->nmetrics++;
	}
}

static void
parse_headers(struct vctx *v, const cJSON *m, struct http_cfg *h)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(m);

	if (!cJSON_IsObject(m)) {
		verr(v, m, "\"headers\" must be an object of header name -> "
		    "value");
		return;
	}
	if (n == 0)
		return;
	h->headers = calloc((size_t)n, sizeof(*h->headers));
	if (h->headers == NULL) {
		verr(v, m, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, m) {
		size_t len;
		char *line;

		if (e->string[0] == '\0' ||
		    strpbrk(e->string, ": \t\r\n") != NULL) {
			verr_key(v, e, "\"%s\" is not a valid header name",
			    e->string);
			continue;
		}
		if (!cJSON_IsString(e) || strpbrk(e->valuestring, "\r\n")) {
			verr(v, e, "header \"%s\" must be a one-line string",
			    e->string);
			continue;
		}
		len = strlen(e->string) + strlen(e->valuestring) + 3;
		line = malloc(len);
		if (line == NULL) {
			verr(v, e, "out of memory");
			continue;
		}
		snprintf(line, len, "%s: %s", e->string, e->valuestring);
		h->headers[h->nheaders++] = line;
	}
}

static void
parse_http(struct vctx *v, const cJSON *p, struct http_cfg *h)
{
	static const char *const expect_keys[] = {
		"status", "keyword", "json", NULL,
	};
	static const char *const tls_keys[] = { "verify", "ca_file", NULL };
	const cJSON *expect, *tls, *m;
	const char *s;

	h->tls_verify = true;
	h->max_body = DEFAULT_MAX_BODY;
	if (get_string(v, p, "url", &s) == 1) {
		validate_url(v, member(p, "url"), s);
		h->url = vstrdup(v, p, s);
	} else if (member(p, "url") == NULL) {
		verr(v, p, "http probe needs \"url\"");
	}
	h->method = vstrdup(v, p, "GET");
	if (get_string(v, p, "method", &s) == 1) {
		if (strcmp(s, "GET") != 0 && strcmp(s, "HEAD") != 0 &&
		    strcmp(s, "POST") != 0)
			verr(v, member(p, "method"), "\"method\" must be "
			    "\"GET\", \"HEAD\" or \"POST\"");
		free(h->method);
		h->method = vstrdup(v, p, s);
	}
	if (get_string(v, p, "body", &s) == 1)
		h->body = vstrdup(v, p, s);
	if ((m = member(p, "headers")) != NULL)
		parse_headers(v, m, h);
	if ((m = member(p, "metrics")) != NULL)
		parse_metrics(v, m, h);
	get_size(v, p, "max_body", 1024, 256LL * 1024 * 1024, &h->max_body);
	get_bool(v, p, "follow_redirects", &h->follow_redirects);
	if ((tls = get_object(v, p, "tls")) != NULL) {
		check_keys(v, tls, tls_keys, "\"tls\"");
		get_bool(v, tls, "verify", &h->tls_verify);
		if (get_string(v, tls, "ca_file", &s) == 1)
			h->ca_file = vstrdup(v, p, s);
	}
	if ((expect = get_object(v, p, "expect")) != NULL) {
		check_keys(v, expect, expect_keys, "\"expect\"");
		if ((m = member(expect, "status")) != NULL)
			parse_status(v, m, h);
		if (get_string(v, expect, "keyword", &s) == 1)
			h->keyword = vstrdup(v, p, s);
		if ((m = member(expect, "json")) != NULL)
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
		verr(v, member(p, "method"), "a HEAD probe has no body, so it "
		    "cannot check a keyword, JSON values or extract metrics");
}

static void
http_cfg_clear(struct http_cfg *h)
{
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
		cJSON_Delete(h->expect_json[i].any_of);
	}
	free(h->expect_json);
	for (size_t i = 0; i < h->nmetrics; i++) {
		free(h->metrics[i].name);
		free(h->metrics[i].ptr);
	}
	free(h->metrics);
	free(h->ca_file);
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

static void
parse_probe(struct vctx *v, const cJSON *p, struct config *cfg,
    struct probe_cfg *pc)
{
	static const char *const http_keys[] = {
		"name", "type", "url", "interval", "timeout", "method",
		"headers", "body", "expect", "metrics", "max_body", "tls",
		"follow_redirects", NULL,
	};
	const char *s;

	pc->interval_ms = cfg->default_interval_ms;
	pc->timeout_ms = cfg->default_timeout_ms;
	if (!cJSON_IsObject(p)) {
		verr(v, p, "a probe must be an object, not %s",
		    json_type_name(p));
		return;
	}
	if (get_string(v, p, "name", &s) == 1) {
		if (!valid_name(s))
			verr(v, member(p, "name"), "probe name \"%s\" must be "
			    "lower case letters, digits and _ (starting "
			    "with a letter, at most %d)", s, MAX_NAME);
		pc->name = vstrdup(v, p, s);
	} else if (member(p, "name") == NULL) {
		verr(v, p, "a probe needs a \"name\"");
	}
	if (get_string(v, p, "type", &s) == 1) {
		if (strcmp(s, "http") == 0) {
			pc->type = PROBE_HTTP;
		} else {
			verr(v, member(p, "type"), "unknown probe type \"%s\" "
			    "(expected \"http\")", s);
			return;
		}
	} else {
		if (member(p, "type") == NULL)
			verr(v, p, "a probe needs a \"type\" (\"http\")");
		return;
	}
	check_keys(v, p, http_keys, "an http probe");
	get_duration(v, p, "interval", MIN_INTERVAL_MS, MAX_INTERVAL_MS,
	    &pc->interval_ms);
	get_duration(v, p, "timeout", MIN_TIMEOUT_MS, MAX_TIMEOUT_MS,
	    &pc->timeout_ms);
	parse_http(v, p, &pc->http);
	pc->canon = probe_canon(p, pc);
	if (pc->canon == NULL)
		verr(v, p, "out of memory");
}

static void
parse_root(struct vctx *v, const cJSON *root, struct config *cfg)
{
	static const char *const root_keys[] = {
		"api", "defaults", "store", "probes", NULL,
	};
	static const char *const api_keys[] = { "listen", NULL };
	static const char *const def_keys[] = { "interval", "timeout", NULL };
	static const char *const store_keys[] = { "retention", NULL };
	const cJSON *o, *probes, *p;
	const char *s;
	size_t i;

	if (!cJSON_IsObject(root)) {
		verr(v, root, "the configuration must be a JSON object, "
		    "not %s", json_type_name(root));
		return;
	}
	check_keys(v, root, root_keys, "the configuration");
	if ((o = get_object(v, root, "api")) != NULL) {
		check_keys(v, o, api_keys, "\"api\"");
		if (get_string(v, o, "listen", &s) == 1) {
			char host[64];
			unsigned port;
			const char *why;

			if (config_split_listen(s, host, sizeof(host), &port,
			    &why) != 0)
				verr(v, member(o, "listen"), "\"listen\": "
				    "\"%s\": %s", s, why);
			free(cfg->listen);
			cfg->listen = vstrdup(v, o, s);
		}
	}
	if ((o = get_object(v, root, "defaults")) != NULL) {
		check_keys(v, o, def_keys, "\"defaults\"");
		get_duration(v, o, "interval", MIN_INTERVAL_MS,
		    MAX_INTERVAL_MS, &cfg->default_interval_ms);
		get_duration(v, o, "timeout", MIN_TIMEOUT_MS, MAX_TIMEOUT_MS,
		    &cfg->default_timeout_ms);
	}
	if ((o = get_object(v, root, "store")) != NULL) {
		check_keys(v, o, store_keys, "\"store\"");
		get_duration(v, o, "retention", 60000, 7LL * 86400 * 1000,
		    &cfg->retention_ms);
	}
	probes = member(root, "probes");
	if (probes == NULL) {
		verr(v, root, "the configuration needs \"probes\": a list of "
		    "what to watch");
		return;
	}
	if (!cJSON_IsArray(probes)) {
		verr(v, probes, "\"probes\" must be an array, not %s",
		    json_type_name(probes));
		return;
	}
	cfg->probes = calloc((size_t)cJSON_GetArraySize(probes) + 1,
	    sizeof(*cfg->probes));
	if (cfg->probes == NULL) {
		verr(v, probes, "out of memory");
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
				verr(v, member(p, "name"), "duplicate probe "
				    "name \"%s\"", pc->name);
				break;
			}
		}
	}
}

struct config *
config_parse(const char *path, const char *text, size_t len,
    struct config_errors *errs)
{
	struct jsonc_error jerr;
	struct jsonc_doc *doc;
	struct config *cfg;
	struct vctx v;
	size_t before = errs->n + errs->dropped;

	doc = jsonc_parse(text, len, &jerr);
	if (doc == NULL) {
		errs_add(errs, jerr.pos.line, jerr.pos.col, "%s", jerr.msg);
		return NULL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		jsonc_free(doc);
		errs_add(errs, 0, 0, "out of memory");
		return NULL;
	}
	cfg->path = strdup(path);
	cfg->listen = strdup(DEFAULT_LISTEN);
	cfg->retention_ms = DEFAULT_RETENTION_MS;
	cfg->default_interval_ms = DEFAULT_INTERVAL_MS;
	cfg->default_timeout_ms = DEFAULT_TIMEOUT_MS;
	v.doc = doc;
	v.errs = errs;
	parse_root(&v, jsonc_root(doc), cfg);
	jsonc_free(doc);
	if (errs->n + errs->dropped == before && (cfg->path == NULL ||
	    cfg->listen == NULL))
		errs_add(errs, 0, 0, "out of memory");
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
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		errs_add(errs, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errs_add(errs, 0, 0, "not a regular file");
		close(fd);
		return NULL;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		errs_add(errs, 0, 0, "larger than %d bytes", CONFIG_MAX_FILE);
		close(fd);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		errs_add(errs, 0, 0, "out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, text + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errs_add(errs, 0, 0, "read: %s", strerror(errno));
			free(text);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	cfg = config_parse(path, text, got, errs);
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
		http_cfg_clear(&cfg->probes[i].http);
	}
	free(cfg->probes);
	free(cfg->path);
	free(cfg->listen);
	free(cfg);
}

const struct probe_cfg *
config_probe(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nprobes; i++)
		if (strcmp(cfg->probes[i].name, name) == 0)
			return &cfg->probes[i];
	return NULL;
}
