#include "probe/probe_http.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "config/config.h"
#include "base/evcurl.h"
#include "base/jsonpath.h"
#include "base/jsonptr.h"
#include "base/sbuf.h"
#include "probe/http1.h"
#include "probe/http1_req.h"

struct http_probe {
	const struct probe_cfg *cfg;
	struct evcurl *ec;
	/*
	 * Plain http:// to a numeric address goes on vigil's own client
	 * (http1.h); everything else, and a redirect's next hops, on curl,
	 * whose easy handle is then made at the first need.
	 */
	struct h1_req req;
	struct h1_xfer hx;
	bool own;		/* req made: runs start on the own client */
	bool on_curl;		/* this run's transfer is curl's */
	struct evcurl_xfer xfer;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	/*
	 * This run's body. Its block is kept between runs while it is
	 * sbuf's first (HTTP_BODY_KEEP): health answers are mostly a few
	 * hundred bytes, and a run then allocates nothing for its body. A
	 * larger one is freed after its run: a 16 KiB buffer kept per probe
	 * was half of vigild's heap at a thousand probes.
	 */
	struct sbuf body;
	bool too_big;
	struct probe *probe;
	struct probe_result *r;
	time_t cert_expiry;	/* 0 until a TLS handshake told us */
	/* Redirects, followed by hand (see http_redirect). */
	unsigned hops;
	double hops_ms;		/* the earlier hops' time */
	bool too_many_hops;
	bool hops_out_of_time;
};

#define HTTP_MAX_HOPS 5
#define HTTP_AGENT "vigil/" VIGIL_VERSION
#define HTTP_BODY_KEEP 1024

static size_t
http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_probe *h = arg;

	return sbuf_write(&h->body, data, size * nmemb, &h->too_big);
}

static void http_done(struct evcurl_xfer *x, CURLcode res);

/* The curl easy handle, set up for the configured request; 0 or -1. */
static int
http_curl(struct http_probe *h)
{
	const struct probe_cfg *cfg = h->cfg;
	const struct http_cfg *hc = &cfg->http;
	CURL *e;

	if (h->xfer.easy != NULL)
		return 0;
	h->xfer.done = http_done;
	e = h->xfer.easy = curl_easy_init();
	if (e == NULL)
		return -1;
	for (size_t i = 0; i < hc->nheaders; i++) {
		struct curl_slist *l = curl_slist_append(h->headers,
		    hc->headers[i]);

		if (l == NULL) {
			curl_slist_free_all(h->headers);
			h->headers = NULL;
			curl_easy_cleanup(e);
			h->xfer.easy = NULL;
			return -1;
		}
		h->headers = l;
	}
	curl_easy_setopt(e, CURLOPT_URL, hc->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, HTTP_AGENT);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
	/* Redirects are followed by hand: see http_redirect. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/*
	 * A kept-alive connection hides what a new visitor meets: connect
	 * and TLS handshake failures, a balancer's other backends.
	 */
	if (hc->new_connection) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, hc->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hc->tls_verify ? 2L : 0L);
	if (hc->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, hc->ca_file);
	if (strncmp(hc->url, "https:", 6) == 0)
		curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	if (strcmp(hc->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(hc->method, "POST") == 0)
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    hc->body != NULL ? hc->body : "");
	return 0;
}

static bool
h1_body(void *arg, const char *p, size_t n)
{
	struct http_probe *h = arg;

	return sbuf_write(&h->body, p, n, &h->too_big) == n;
}

static void http_h1_done(struct h1_xfer *x);

/*
 * Whether vigild's environment names a proxy for http:// that libcurl
 * would use (it reads http_proxy, all_proxy and ALL_PROXY, and no_proxy
 * for the exceptions): then every probe stays on curl, so that none takes
 * another way to its target than before.
 */
static bool
proxy_set(void)
{
	static const char *const vars[] = { "http_proxy", "all_proxy",
	    "ALL_PROXY" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && v[0] != '\0')
			return true;
	}
	return false;
}

/* The own client's side, when the request is one for it. */
static bool
http_own(struct http_probe *h, const struct probe_env *env)
{
	const struct http_cfg *hc = &h->cfg->http;

	if (env->h1 == NULL || proxy_set() || h1_req_make(&h->req, hc->url, hc->method,
	    hc->headers, hc->nheaders, hc->body, HTTP_AGENT) != 0)
		return false;
	h->hx.origin = h1_origin_get(env->h1, (struct sockaddr *)&h->req.addr,
	    h->req.alen);
	if (h->hx.origin == NULL || h1_xfer_init(env->h1, &h->hx) != 0) {
		h1_origin_put(h->hx.origin);
		h->hx.origin = NULL;
		h1_req_clear(&h->req);
		return false;
	}
	h->hx.req = h->req.bytes;
	h->hx.reqlen = h->req.len;
	h->hx.head = h->req.head;
	h->hx.fresh = hc->new_connection;
	h->hx.body = h1_body;
	h->hx.done = http_h1_done;
	h->hx.arg = h;
	return true;
}

static void http_destroy(void *impl);

static void *
http_create(const struct probe_cfg *cfg, const struct probe_env *env)
{
	struct http_probe *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cfg = cfg;
	h->ec = env->curl;
	h->own = http_own(h, env);
	if (!h->own && http_curl(h) != 0) {
		http_destroy(h);
		return NULL;
	}
	return h;
}

static double
info_ms(CURL *e, CURLINFO what)
{
	curl_off_t us = 0;

	curl_easy_getinfo(e, what, &us);
	return (double)us / 1000.0;
}

/* The leaf certificate's expiry, from curl's CERTINFO (OpenSSL text). */
static void
http_read_cert(struct http_probe *h)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(h->xfer.easy, CURLINFO_CERTINFO, &ci) !=
	    CURLE_OK || ci == NULL || ci->num_of_certs < 1)
		return;	/* a reused connection reports none: keep the last */
	for (struct curl_slist *l = ci->certinfo[0]; l != NULL; l = l->next) {
		struct tm tm;
		const char *rest;

		if (strncmp(l->data, "Expire date:", 12) != 0)
			continue;
		memset(&tm, 0, sizeof(tm));
		rest = strptime(l->data + 12, "%b %d %H:%M:%S %Y", &tm);
		if (rest != NULL)
			h->cert_expiry = timegm(&tm);
	}
}

static void
http_timings(struct http_probe *h, struct probe_result *r)
{
	CURL *e = h->xfer.easy;
	double dns = info_ms(e, CURLINFO_NAMELOOKUP_TIME_T);
	double conn = info_ms(e, CURLINFO_CONNECT_TIME_T);
	double tls = info_ms(e, CURLINFO_APPCONNECT_TIME_T);
	double start = info_ms(e, CURLINFO_STARTTRANSFER_TIME_T);
	double total = info_ms(e, CURLINFO_TOTAL_TIME_T);

	r->duration_ms = h->hops_ms + total;
	probe_result_add(r, "dns_ms", dns);
	if (conn > 0)
		probe_result_add(r, "connect_ms", conn - dns);
	if (tls > 0)
		probe_result_add(r, "tls_ms", tls - conn);
	if (start > 0)
		probe_result_add(r, "ttfb_ms", start);
}

static bool
status_ok(const struct http_cfg *hc, long code)
{
	for (size_t i = 0; i < hc->nstatus; i++)
		if (code >= hc->status[i].lo && code <= hc->status[i].hi)
			return true;
	return false;
}

static void
status_expected(const struct http_cfg *hc, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < hc->nstatus && n < len; i++) {
		const struct status_range *s = &hc->status[i];
		int w;

		if (s->hi - s->lo == 99 && s->lo % 100 == 0)
			w = snprintf(buf + n, len - n, "%s%dxx",
			    i ? ", " : "", s->lo / 100);
		else
			w = snprintf(buf + n, len - n, "%s%d", i ? ", " : "",
			    s->lo);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* A short, printable rendering of a JSON value for reasons. */
static void
json_brief(const cJSON *v, char *buf, size_t len)
{
	char *s;

	/* The target's string, quoted whole even when cut. */
	if (cJSON_IsString(v)) {
		probe_quote(v->valuestring, buf, len);
		return;
	}
	s = cJSON_PrintUnformatted(v);

	if (s == NULL) {
		snprintf(buf, len, "(unprintable)");
		return;
	}
	if (strlen(s) > 60)
		snprintf(buf, len, "%.57s...", s);
	else
		snprintf(buf, len, "%s", s);
	cJSON_free(s);
}

static bool
json_scalar_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) == cJSON_IsTrue(b);
	return cJSON_IsNull(a) && cJSON_IsNull(b);
}

/*
 * The one value a JSONPath query selects: 0, or -1 with *err (a bound
 * reached) or, *err NULL, the number of matches in *count. Several
 * matches are as wrong as none: a metric or an expectation stands for
 * one value, and taking the first would hide that the query no longer
 * says which.
 */
static int
path_one(const struct jsonpath *path, const cJSON *doc, const cJSON **out,
    size_t *count, const char **err)
{
	struct jsonpath_nodes l = { 0 };

	*err = NULL;
	*count = 0;
	if (jsonpath_eval(path, doc, &l, err) != 0)
		return -1;
	*count = l.n;
	if (l.n == 1)
		*out = l.node[0];
	jsonpath_nodes_clear(&l);
	return *count == 1 ? 0 : -1;
}

/* A node as a metric, as jsonptr_number reads one (true/false are 1/0). */
static bool
node_number(const cJSON *v, double *out)
{
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v) ? 1 : 0;
		return true;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return false;
	*out = v->valuedouble;
	return true;
}

/*
 * Checks expected values and extracts metrics; false if the run failed.
 *
 * The whole body becomes a cJSON tree, a few blocks per value, although
 * only the configured pointers are read: for a large body most of that
 * work is wasted. Not changed yet: a scanner that walks the text for the
 * asked pointers only (skipping other values unparsed) would need its
 * own strictness to match cJSON's verdict on malformed bodies, and
 * JSONPath queries still need a tree. base/jsonc is not that scanner: it
 * parses the configuration into a cJSON tree too, with positions.
 */
static bool
http_check_json(struct http_probe *h, struct probe_result *r)
{
	const struct http_cfg *hc = &h->cfg->http;
	const char *end = NULL;
	bool failed;
	cJSON *doc;

	doc = cJSON_ParseWithLengthOpts(h->body.s != NULL ? h->body.s : "",
	    h->body.len, &end, 0);
	if (doc == NULL) {
		size_t at = end != NULL && h->body.s != NULL ?
		    (size_t)(end - h->body.s) : 0;

		if (h->body.len == 0)
			probe_result_failf(r, PROBE_FAIL_JSON,
			    "expected a JSON body, got an empty one");
		else
			probe_result_failf(r, PROBE_FAIL_JSON,
			    "body is not valid JSON (error at byte %zu of "
			    "%zu)", at, h->body.len);
		return false;
	}
	for (size_t i = 0; i < hc->nexpect_json; i++) {
		const struct json_expect *x = &hc->expect_json[i];
		const cJSON *got = NULL, *want;
		char gb[64], wb[64];
		const char *err;
		size_t n;
		int rc;
		bool match = false;

		if (x->path != NULL) {
			if (path_one(x->path, doc, &got, &n, &err) != 0) {
				if (err != NULL)
					probe_result_failf(r, PROBE_FAIL_JSON,
					    "expected a value at \"%s\": %s",
					    x->ptr, err);
				else
					probe_result_failf(r, PROBE_FAIL_JSON,
					    "expected a value at \"%s\": it "
					    "matched %zu values", x->ptr, n);
				cJSON_Delete(doc);
				return false;
			}
			rc = JSONPTR_OK;
		} else {
			rc = jsonptr_get(doc, x->ptr, &got);
		}
		if (rc != JSONPTR_OK) {
			probe_result_failf(r, PROBE_FAIL_JSON,
			    "expected %s at \"%s\": %s",
			    cJSON_GetArraySize(x->any_of) == 1 ? "a value" :
			    "one of several values", x->ptr,
			    jsonptr_strerror(rc));
			cJSON_Delete(doc);
			return false;
		}
		cJSON_ArrayForEach(want, x->any_of)
			if (json_scalar_equal(got, want))
				match = true;
		if (!match) {
			json_brief(got, gb, sizeof(gb));
			json_brief(cJSON_GetArrayItem(x->any_of, 0), wb,
			    sizeof(wb));
			probe_result_failf(r, PROBE_FAIL_JSON,
			    "\"%s\" is %s, expected %s%s", x->ptr, gb, wb,
			    cJSON_GetArraySize(x->any_of) > 1 ?
			    " (or another listed value)" : "");
			cJSON_Delete(doc);
			return false;
		}
	}
	failed = false;
	for (size_t i = 0; i < hc->nmetrics; i++) {
		const struct metric_extract *m = &hc->metrics[i];
		const cJSON *got = NULL;
		const char *err;
		size_t n;
		double v;
		int rc;

		/*
		 * A JSONPath metric must match exactly one value: none or
		 * several fail the run, since the query picks by content and
		 * a body that no longer has exactly one such element is a
		 * changed target, not a missing number. The other metrics
		 * are still read (each stands alone); the first such reason
		 * is the run's.
		 */
		if (m->path != NULL) {
			if (path_one(m->path, doc, &got, &n, &err) != 0) {
				if (failed)
					continue;
				failed = true;
				if (err != NULL)
					probe_result_failf(r, PROBE_FAIL_JSON,
					    "metric %s: %s: %s", m->name,
					    m->ptr, err);
				else
					probe_result_failf(r, PROBE_FAIL_JSON,
					    "metric %s: %s matched %zu values",
					    m->name, m->ptr, n);
				continue;
			}
			rc = node_number(got, &v) ? JSONPTR_OK :
			    JSONPTR_ENOTNUM;
		} else {
			rc = jsonptr_number(doc, m->ptr, &v);
		}

		/*
		 * A missing metric does not make the target down, but it must
		 * not pass unseen either: it is noted, and the metric goes
		 * stale so rules over it turn unknown.
		 */
		if (rc != JSONPTR_OK)
			probe_result_notef(r, "metric %s (%s): %s", m->name,
			    m->ptr, jsonptr_strerror(rc));
		else
			probe_result_add(r, m->name, v);
	}
	cJSON_Delete(doc);
	return !failed;
}

static void
http_fail_transfer(struct http_probe *h, CURLcode res, struct probe_result *r)
{
	const char *msg = h->errbuf[0] != '\0' ? h->errbuf :
	    curl_easy_strerror(res);

	if (h->too_big) {
		probe_result_failf(r, PROBE_FAIL_BODY,
		    "body larger than the %lld-byte limit (max_body)",
		    (long long)h->cfg->http.max_body);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		const char *stage = "reading the body";
		long fresh = 0;

		/*
		 * A kept-alive connection has no connect phase, so its connect
		 * time is 0 whatever happened: only a transfer that opened a
		 * connection (NUM_CONNECTS > 0) can have timed out connecting.
		 */
		curl_easy_getinfo(h->xfer.easy, CURLINFO_NUM_CONNECTS, &fresh);
		if (fresh > 0 &&
		    info_ms(h->xfer.easy, CURLINFO_CONNECT_TIME_T) == 0)
			stage = "connecting";
		else if (fresh > 0 && strncmp(h->cfg->http.url, "https:", 6) ==
		    0 && info_ms(h->xfer.easy, CURLINFO_APPCONNECT_TIME_T) == 0)
			stage = "in the TLS handshake";
		else if (info_ms(h->xfer.easy,
		    CURLINFO_STARTTRANSFER_TIME_T) == 0)
			stage = "waiting for the response";
		probe_result_failf(r, PROBE_FAIL_TIMEOUT,
		    "timed out after %lld ms %s",
		    (long long)h->cfg->timeout_ms, stage);
	} else if (res == CURLE_WRITE_ERROR) {
		probe_result_failf(r, PROBE_FAIL_INTERNAL,
		    "out of memory storing the body");
	} else if (res == CURLE_PARTIAL_FILE) {
		/* The target answered, then closed early: its body is the fault. */
		probe_result_failf(r, PROBE_FAIL_BODY, "body cut short: %s", msg);
	} else {
		probe_result_failf(r, PROBE_FAIL_CONNECT, "%s", msg);
	}
}

/* Scheme, host and port of url, lower case, into out; false if unparsable. */
static bool
origin_of(const char *url, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	bool ok = false;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK) {
		ok = snprintf(out, len, "%s://%s:%s", scheme, host, port) <
		    (int)len;
		for (char *c = out; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/*
 * Follows a redirect a hop just got, if it is one: true when the next hop
 * is on its way (always on curl). By hand rather than curl's
 * FOLLOWLOCATION, for one reason: curl sends custom headers to wherever a
 * redirect points, and a probe's headers often carry credentials
 * ("X-Api-Key"). They go to the configured URL's origin (scheme, host,
 * port) only; a hop to another origin gets none, and the run's notes say
 * so. Methods change as curl's would (303, and POST on 301/302, become
 * GET); the hops share the probe's one timeout. to is absolute.
 */
static bool
http_redirect(struct http_probe *h, long code, const char *to, double hop_ms)
{
	const struct http_cfg *hc = &h->cfg->http;
	char next[2048], o_cfg[512], o_next[512];
	double left;
	CURL *e;

	if (code != 301 && code != 302 && code != 303 && code != 307 &&
	    code != 308)
		return false;
	if (to == NULL || snprintf(next, sizeof(next), "%s", to) >=
	    (int)sizeof(next))
		return false;
	if (h->hops == HTTP_MAX_HOPS) {
		h->too_many_hops = true;
		return false;
	}
	h->hops_ms += hop_ms;
	left = (double)h->cfg->timeout_ms - h->hops_ms;
	if (left < 1) {
		h->hops_out_of_time = true;
		return false;
	}
	if (http_curl(h) != 0)
		return false;
	e = h->xfer.easy;
	h->hops++;
	if (origin_of(hc->url, o_cfg, sizeof(o_cfg)) &&
	    origin_of(next, o_next, sizeof(o_next)) &&
	    strcmp(o_cfg, o_next) == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
		if (h->headers != NULL)
			probe_result_notef(h->r, "redirected to another origin "
			    "(%s): its custom headers were not sent there",
			    o_next);
	}
	if (code == 303 || ((code == 301 || code == 302) &&
	    strcmp(hc->method, "POST") == 0))
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_URL, next);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left);
	sbuf_reuse(&h->body, (size_t)hc->max_body, HTTP_BODY_KEEP);
	h->too_big = false;
	h->errbuf[0] = '\0';
	h->on_curl = true;
	return evcurl_add(h->ec, &h->xfer) == 0;
}

/* What http_start changes back after a run that followed redirects. */
static void
http_rewind(struct http_probe *h)
{
	const struct http_cfg *hc = &h->cfg->http;
	CURL *e = h->xfer.easy;

	if (h->hops == 0 || e == NULL)
		return;
	curl_easy_setopt(e, CURLOPT_URL, hc->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->cfg->timeout_ms);
	/* A 303 made it a GET. */
	if (strcmp(hc->method, "POST") == 0)
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    hc->body != NULL ? hc->body : "");
	else if (strcmp(hc->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
}

/* A hop's answer, received whole, judged: status, keyword, JSON. */
static void
http_judge(struct http_probe *h, struct probe_result *r, long code)
{
	const struct http_cfg *hc = &h->cfg->http;

	probe_result_add(r, "http_status", (double)code);
	probe_result_add(r, "body_bytes", (double)h->body.len);
	if (!status_ok(hc, code)) {
		char want[128];

		status_expected(hc, want, sizeof(want));
		probe_result_failf(r, PROBE_FAIL_STATUS,
		    "status %ld, expected %s", code, want);
	} else if (hc->keyword != NULL && (h->body.s == NULL ||
	    memmem(h->body.s, h->body.len, hc->keyword,
	    strlen(hc->keyword)) == NULL)) {
		probe_result_failf(r, PROBE_FAIL_BODY,
		    "keyword \"%s\" not found in the body "
		    "(%zu bytes)", hc->keyword, h->body.len);
	} else if (hc->nexpect_json > 0 || hc->nmetrics > 0) {
		http_check_json(h, r);
	}
}

/* The redirect failures, before the last hop's own outcome; true if one. */
static bool
http_hops_failed(struct http_probe *h, struct probe_result *r)
{
	if (h->too_many_hops) {
		probe_result_failf(r, PROBE_FAIL_STATUS, "more than %d "
		    "redirects (a redirect loop?)", HTTP_MAX_HOPS);
		return true;
	}
	if (h->hops_out_of_time) {
		probe_result_failf(r, PROBE_FAIL_TIMEOUT, "timed out after "
		    "%lld ms following %u redirects",
		    (long long)h->cfg->timeout_ms, h->hops);
		return true;
	}
	return false;
}

static void
http_end_run(struct http_probe *h)
{
	/* A large body is not kept between runs: memory stays bounded. */
	sbuf_reuse(&h->body, (size_t)h->cfg->http.max_body, HTTP_BODY_KEEP);
	probe_end(h->probe);
}

static void
http_done(struct evcurl_xfer *x, CURLcode res)
{
	struct http_probe *h = (struct http_probe *)((char *)x -
	    offsetof(struct http_probe, xfer));
	const struct http_cfg *hc = &h->cfg->http;
	struct probe_result *r = h->r;
	long code = 0;

	curl_easy_getinfo(h->xfer.easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && hc->follow_redirects) {
		char *to = NULL;

		curl_easy_getinfo(h->xfer.easy, CURLINFO_REDIRECT_URL, &to);
		if (http_redirect(h, code, to, info_ms(h->xfer.easy,
		    CURLINFO_TOTAL_TIME_T)))
			return;	/* the next hop ends the run */
	}
	http_timings(h, r);
	if (strncmp(hc->url, "https:", 6) == 0)
		http_read_cert(h);
	if (h->cert_expiry != 0)
		probe_result_add(r, "cert_expiry_days",
		    (double)(h->cert_expiry - time(NULL)) / 86400.0);
	if (http_hops_failed(h, r))
		;
	else if (res != CURLE_OK)
		http_fail_transfer(h, res, r);
	else
		http_judge(h, r, code);
	http_end_run(h);
}

/* A relative Location made absolute against the configured URL. */
static char *
h1_location(const char *base, const char *loc)
{
	CURLU *u = curl_url();
	char *abs = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, base, 0) ==
	    CURLUE_OK && curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK)
		curl_url_get(u, CURLUPART_URL, &abs, 0);
	curl_url_cleanup(u);
	return abs;
}

static const char *const h1_stages[] = {
	[H1_CONNECTING] = "connecting",
	[H1_WAITING] = "waiting for the response",
	[H1_READING] = "reading the body",
};

static void
http_h1_done(struct h1_xfer *x)
{
	struct http_probe *h = x->arg;
	const struct http_cfg *hc = &h->cfg->http;
	struct probe_result *r = h->r;

	if (x->result == H1_OK && hc->follow_redirects &&
	    x->resp.location != NULL) {
		char *to = h1_location(hc->url, x->resp.location);
		bool on = http_redirect(h, x->resp.status, to,
		    (double)x->total_us / 1000.0);

		curl_free(to);
		if (on)
			return;	/* the next hop ends the run */
	}
	r->duration_ms = h->hops_ms + (double)x->total_us / 1000.0;
	/* A new connection's phases; no lookup: the address is numeric. */
	if (x->connected && x->connect_us > 0) {
		probe_result_add(r, "dns_ms", 0);
		probe_result_add(r, "connect_ms",
		    (double)x->connect_us / 1000.0);
	}
	if (x->ttfb_us > 0)
		probe_result_add(r, "ttfb_ms", (double)x->ttfb_us / 1000.0);
	if (http_hops_failed(h, r))
		;
	else if (x->result == H1_OK)
		http_judge(h, r, x->resp.status);
	else if (x->result == H1_STOPPED && h->too_big)
		probe_result_failf(r, PROBE_FAIL_BODY,
		    "body larger than the %lld-byte limit (max_body)",
		    (long long)hc->max_body);
	else if (x->result == H1_STOPPED)
		probe_result_failf(r, PROBE_FAIL_INTERNAL,
		    "out of memory storing the body");
	else if (x->result == H1_TIMEOUT)
		probe_result_failf(r, PROBE_FAIL_TIMEOUT,
		    "timed out after %lld ms %s",
		    (long long)h->cfg->timeout_ms, h1_stages[x->stage]);
	else if (x->result == H1_CUT)
		probe_result_failf(r, PROBE_FAIL_BODY, "body cut short: %s",
		    x->err);
	else
		probe_result_failf(r, PROBE_FAIL_CONNECT, "%s", x->err);
	http_end_run(h);
}

static int
http_start(void *impl, struct probe *p, struct probe_result *r)
{
	struct http_probe *h = impl;

	h->probe = p;
	h->r = r;
	http_rewind(h);
	h->hops = 0;
	h->hops_ms = 0;
	h->too_many_hops = false;
	h->hops_out_of_time = false;
	sbuf_reuse(&h->body, (size_t)h->cfg->http.max_body, HTTP_BODY_KEEP);
	h->too_big = false;
	h->errbuf[0] = '\0';
	h->on_curl = !h->own;
	if (h->own) {
		h->hx.timeout_ms = h->cfg->timeout_ms;
		return h1_start(&h->hx);
	}
	return evcurl_add(h->ec, &h->xfer);
}

/* The config was reloaded unchanged: point at the new copy. */
static void
http_rebind(void *impl, const struct probe_cfg *cfg)
{
	struct http_probe *h = impl;

	h->cfg = cfg;
}

static void
http_cancel(void *impl)
{
	struct http_probe *h = impl;

	if (h->on_curl)
		evcurl_remove(h->ec, &h->xfer);
	else
		h1_cancel(&h->hx);
}

static void
http_destroy(void *impl)
{
	struct http_probe *h = impl;

	if (h == NULL)
		return;
	if (h->own) {
		h1_xfer_clear(&h->hx);
		h1_origin_put(h->hx.origin);
		h1_req_clear(&h->req);
	}
	if (h->xfer.easy != NULL)
		curl_easy_cleanup(h->xfer.easy);
	curl_slist_free_all(h->headers);
	sbuf_free(&h->body);
	free(h);
}

const struct probe_ops probe_http_ops = {
	.create = http_create,
	.start = http_start,
	.rebind = http_rebind,
	.cancel = http_cancel,
	.destroy = http_destroy,
};
