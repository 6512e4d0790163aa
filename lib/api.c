#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "clock.h"
#include "config.h"
#include "health.h"
#include "httpd.h"
#include "log.h"
#include "monitor.h"
#include "ruleset.h"
#include "status.h"

struct api {
	struct monitor *m;
	struct httpd *httpd;
};

/* Per-request state: the body so far, capped at API_MAX_BODY. */
struct api_req {
	char *body;
	size_t len;
	bool too_big;
};

static enum MHD_Result
api_send(struct MHD_Connection *c, unsigned code, const char *type,
    char *body, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL) {
		/* Out of memory building the answer: say so, briefly. */
		static char oom[] = "{\"error\":\"out of memory\"}";

		r = MHD_create_response_from_buffer(strlen(oom), oom,
		    MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
		type = "application/json";
	} else {
		r = MHD_create_response_from_buffer(strlen(body), body,
		    MHD_RESPMEM_MUST_FREE);
	}
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"vigild\"");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static char *
json_take(cJSON *root)
{
	char *s = root != NULL ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	return s;
}

static enum MHD_Result
api_error(struct MHD_Connection *c, unsigned code, const char *msg,
    const char *allow)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", msg);
	return api_send(c, code, "application/json", json_take(o), allow);
}

/*
 * Compares in time that depends only on the presented token's length,
 * so response timing says nothing about how much of it was right.
 */
static bool
token_equal(const char *given, const char *want)
{
	size_t lg = strlen(given), lw = strlen(want);
	unsigned char diff = lg != lw;

	for (size_t i = 0; i < lg; i++)
		diff |= (unsigned char)given[i] ^
		    (unsigned char)want[lw > 0 ? i % lw : 0];
	return diff == 0 && lw > 0;
}

/*
 * Mutating endpoints need the bearer token. Without api.token_file they
 * are refused outright: a monitor that anyone on the host can silence
 * is not one to trust.
 */
static enum MHD_Result
api_check_auth(struct api *a, struct MHD_Connection *c, bool *ok)
{
	const char *tok = monitor_config(a->m)->api_token;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);

	*ok = false;
	if (tok == NULL)
		return api_error(c, MHD_HTTP_FORBIDDEN, "mutating endpoints "
		    "are disabled: set api.token_file in the configuration",
		    NULL);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return api_error(c, MHD_HTTP_UNAUTHORIZED,
		    "missing bearer token", NULL);
	if (!token_equal(h + 7, tok)) {
		log_warn("event=auth_rejected reason=wrong_token");
		return api_error(c, MHD_HTTP_FORBIDDEN, "wrong token", NULL);
	}
	*ok = true;
	return MHD_YES;
}

/* POST /baseline {"rule": "api_p95"}: saves current values as baselines. */
static enum MHD_Result
api_baseline(struct api *a, struct MHD_Connection *c, struct api_req *rq)
{
	const char *name = NULL;
	cJSON *doc = NULL, *o;
	size_t saved, skipped;
	bool ok;
	enum MHD_Result ret = api_check_auth(a, c, &ok);

	if (!ok)
		return ret;
	if (rq->len > 0) {
		const cJSON *r;

		doc = cJSON_ParseWithLength(rq->body, rq->len);
		r = cJSON_GetObjectItemCaseSensitive(doc, "rule");
		if (doc == NULL || !cJSON_IsObject(doc) ||
		    (r != NULL && !cJSON_IsString(r))) {
			cJSON_Delete(doc);
			return api_error(c, MHD_HTTP_BAD_REQUEST, "expected "
			    "{} or {\"rule\": \"<name>\"}", NULL);
		}
		if (r != NULL)
			name = r->valuestring;
	}
	if (name != NULL && config_rule(monitor_config(a->m), name) == NULL) {
		cJSON_Delete(doc);
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such rule", NULL);
	}
	saved = ruleset_save_baseline(monitor_rules(a->m), name,
	    clock_wall_ms(), &skipped);
	cJSON_Delete(doc);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "saved", (double)saved);
	cJSON_AddNumberToObject(o, "skipped_unknown", (double)skipped);
	return api_send(c, MHD_HTTP_OK, "application/json", json_take(o),
	    NULL);
}

static enum MHD_Result
api_route(struct api *a, struct MHD_Connection *c, const char *url,
    const char *method, struct api_req *rq)
{
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	if (strcmp(url, "/health") == 0) {
		struct health h;

		if (!get && !head)
			return api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed", "GET, HEAD");
		health_eval(a->m, &h);
		return api_send(c, strcmp(h.status, "fail") == 0 ?
		    MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
		    "application/health+json", health_json(a->m), NULL);
	}
	if (strcmp(url, "/status") == 0) {
		if (!get && !head)
			return api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed", "GET, HEAD");
		return api_send(c, MHD_HTTP_OK, "application/json",
		    status_json(a->m), NULL);
	}
	if (strcmp(url, "/baseline") == 0) {
		if (!post)
			return api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed", "POST");
		return api_baseline(a, c, rq);
	}
	return api_error(c, MHD_HTTP_NOT_FOUND, "not found", NULL);
}

static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct api_req *rq = *con_cls;

	(void)version;
	if (rq == NULL) {
		/* Headers only so far; the answer comes after any body. */
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (!rq->too_big && rq->len + *upload_size <= API_MAX_BODY) {
			char *b = realloc(rq->body, rq->len + *upload_size + 1);

			if (b == NULL)
				return MHD_NO;
			memcpy(b + rq->len, upload, *upload_size);
			rq->body = b;
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		} else {
			/* Keep reading, keep nothing: answer 413 at the end. */
			rq->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return api_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large", NULL);
	return api_route(cls, c, url, method, rq);
}

static void
api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL)
		free(rq->body);
	free(rq);
	*con_cls = NULL;
}

struct api *
api_new(struct event_base *base, struct monitor *m, const char *listen,
    char *err, size_t errlen)
{
	static const struct httpd_limits lim = {
		.max_conns = 1000,
		.max_conns_per_ip = 0,
		.timeout_s = 15,
		.conn_memory = 32 * 1024,
	};
	struct api *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->m = m;
	a->httpd = httpd_new(base, listen, &lim, api_handler, api_completed,
	    a, err, errlen);
	if (a->httpd == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	httpd_free(a->httpd);
	free(a);
}

unsigned
api_port(const struct api *a)
{
	return httpd_port(a->httpd);
}
