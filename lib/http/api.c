#include "http/api.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <microhttpd.h>

#include "engine/alerts.h"
#include "http/api_int.h"
#include "http/api_host.h"
#include "base/clock.h"
#include "base/file.h"
#include "config/config.h"
#include "release/deploy.h"
#include "http/health.h"
#include "http/httpd.h"
#include "base/gzip.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "notify/notifier.h"
#include "http/page.h"
#include "http/refresh.h"
#include "engine/ruleset.h"
#include "base/sbuf.h"
#include "http/status.h"
#include "http/token.h"

/*
 * Who may call what. GET and HEAD need the route's `read` access; POST and
 * DELETE always need the token: a monitor anyone on the host can silence
 * is not one to trust.
 */
enum access {
	ACCESS_OPEN,	/* never any auth: uptime monitors read a 401 as up */
	ACCESS_DETAIL,	/* the token, when listening beyond loopback */
	ACCESS_WRITE,	/* the token, always */
	ACCESS_OWN,	/* the handler checks a token of its own (heartbeats) */
};

typedef enum MHD_Result (*route_fn)(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

static enum MHD_Result r_health(struct api *, struct MHD_Connection *,
    struct api_req *, const char *);
static enum MHD_Result r_livez(struct api *, struct MHD_Connection *,
    struct api_req *, const char *);
static enum MHD_Result r_status(struct api *, struct MHD_Connection *,
    struct api_req *, const char *);
static enum MHD_Result r_alerts(struct api *, struct MHD_Connection *,
    struct api_req *, const char *);
static enum MHD_Result r_page(struct api *, struct MHD_Connection *,
    struct api_req *, const char *);
static enum MHD_Result r_baseline(struct api *, struct MHD_Connection *,
    struct api_req *, const char *);

/*
 * Every endpoint. A path ending in '/' is a prefix whose rest is the
 * argument ("/silences/12"). New endpoints (the release gate's
 * /deploys) are a line here.
 */
static const struct route {
	const char *path;
	const char *label;	/* for vigil_http_requests_total */
	enum access read;
	route_fn get, post, del;
} routes[] = {
	{ "/health", "/health", ACCESS_OPEN, r_health, NULL, NULL },
	{ "/livez", "/livez", ACCESS_OPEN, r_livez, NULL, NULL },
	{ "/status", "/status", ACCESS_DETAIL, r_status, NULL, NULL },
	{ "/alerts", "/alerts", ACCESS_DETAIL, r_alerts, NULL, NULL },
	{ "/metrics", "/metrics", ACCESS_DETAIL, api_metrics_get, NULL,
	    NULL },
	{ "/", "/", ACCESS_DETAIL, r_page, NULL, NULL },
	{ "/silences", "/silences", ACCESS_DETAIL, api_silences_list,
	    api_silences_add, NULL },
	{ "/silences/", "/silences/{id}", ACCESS_DETAIL, api_silence_get,
	    NULL, api_silence_delete },
	{ "/maintenance", "/maintenance", ACCESS_DETAIL, api_maint_list,
	    api_maint_add, NULL },
	{ "/maintenance/", "/maintenance/{id}", ACCESS_DETAIL, api_maint_get,
	    NULL, api_maint_delete },
	{ "/baseline", "/baseline", ACCESS_DETAIL, NULL, r_baseline, NULL },
	{ "/deploys", "/deploys", ACCESS_DETAIL, api_deploys_list,
	    api_deploys_post, NULL },
	{ "/heartbeat/", "/heartbeat/{name}", ACCESS_OWN, NULL,
	    api_heartbeat_post, NULL },
	{ "/deploys/", "/deploys/{id}", ACCESS_DETAIL, api_deploy_get, NULL,
	    NULL },
	{ "/history", "/history", ACCESS_DETAIL, api_history_get, NULL, NULL },
	/* As readable as the page it summarizes. */
	{ "/badge/", "/badge/{name}.svg", ACCESS_DETAIL, api_badge_get, NULL,
	    NULL },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *route_labels[NROUTES + 1];

const char *const *
api_route_labels(size_t *n)
{
	*n = NROUTES + 1;
	return route_labels;
}

/* What every answer says of itself. */
static void
common_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

/*
 * A response for body (malloc'd, taken). A large one is kept in a memfd
 * and sent with sendfile(): the pages go to the socket by reference, not
 * copied per reader. Copying 1.5 MB into each reader's socket was a third
 * of the loop when readers flooded /status and /metrics.
 */
static int capture_fd = -1;	/* only ever set in a child */
static uint64_t capture_len;

void
api_body_capture(int fd)
{
	capture_fd = fd;
}

uint64_t
api_body_captured(void)
{
	return capture_len;
}

/* In a child rendering aside: the body goes to its memfd. */
static struct MHD_Response *
captured(char *body, size_t len)
{
	int err = file_write_all(capture_fd, body, len);

	free(body);
	if (err != 0)
		return NULL;
	capture_len = len;
	return MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
}

struct MHD_Response *
api_body(char *body, size_t len)
{
	struct MHD_Response *r;
	int fd;

	if (capture_fd >= 0)
		return captured(body, len);
	if (len >= API_BODY_FD_MIN &&
	    (fd = memfd_create("vigil-answer", MFD_CLOEXEC)) >= 0) {
		if (file_write_all(fd, body, len) == 0 &&
		    (r = MHD_create_response_from_fd((size_t)len, fd)) !=
		    NULL) {
			free(body);
			return r;
		}
		close(fd);
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		free(body);
	return r;
}

struct MHD_Response *
api_response(const char *type, char *body, const char *const *hdrs)
{
	struct MHD_Response *r;

	if (body == NULL)
		return NULL;
	r = api_body(body, strlen(body));
	if (r == NULL)
		return NULL;
	common_headers(r, type);
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i += 2)
		MHD_add_response_header(r, hdrs[i], hdrs[i + 1]);
	return r;
}

enum MHD_Result
api_send(struct MHD_Connection *c, unsigned code, const char *type,
    char *body, const char *const *hdrs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL) {
		/* Out of memory building the answer: say so, briefly. */
		static char oom[] = "{\"error\":\"out of memory\"}";

		r = MHD_create_response_from_buffer(strlen(oom), oom,
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
		common_headers(r, "application/json");
	} else if ((r = api_response(type, body, hdrs)) == NULL) {
		return MHD_NO;
	}
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"vigild\"");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
api_error(struct MHD_Connection *c, unsigned code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", msg);
	return api_send(c, code, "application/json", jsonw_take(o), NULL);
}

void
api_changed(struct api *a)
{
	if (a->changed != NULL)
		a->changed(a->changed_arg);
}

/*
 * Checks the request against the access it needs. On refusal the answer
 * is queued (401 without a token, 403 for a wrong one, or when mutating
 * endpoints are off for want of api.token_file) and *ok is false.
 */
static enum MHD_Result
api_check_auth(struct api *a, struct MHD_Connection *c, enum access need,
    bool *ok)
{
	const char *tok = monitor_config(a->m)->api_token;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);

	*ok = true;
	if (need == ACCESS_OPEN ||
	    (need == ACCESS_DETAIL && (a->loopback || tok == NULL)))
		return MHD_YES;
	if (tok != NULL && h != NULL && strncmp(h, "Bearer ", 7) == 0 &&
	    token_equal(h + 7, strlen(h + 7), tok, strlen(tok)))
		return MHD_YES;
	*ok = false;
	a->auth_failures++;
	if (tok == NULL)
		return api_error(c, MHD_HTTP_FORBIDDEN, "mutating endpoints "
		    "are disabled: set api.token_file in the configuration");
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return api_error(c, MHD_HTTP_UNAUTHORIZED,
		    "missing bearer token");
	log_warn("event=auth_rejected reason=wrong_token");
	return api_error(c, MHD_HTTP_FORBIDDEN, "wrong token");
}

static enum MHD_Result
r_health(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	struct health h;
	char *body = health_json(a->m, &h);

	(void)rq;
	(void)arg;
	return api_send(c, strcmp(h.status, "fail") == 0 ?
	    MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
	    "application/health+json", body, NULL);
}

/*
 * Whether vigild itself works, whatever the application does: its loop
 * ticks on time and its probes start. An uptime monitor of the monitor
 * tells "vigil is dead" from "the application is unhealthy" by it.
 */
static enum MHD_Result
r_livez(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	cJSON *o = cJSON_CreateObject();
	char why[256];
	bool degraded = monitor_degraded(a->m, why, sizeof(why));

	(void)rq;
	(void)arg;
	cJSON_AddStringToObject(o, "status", degraded ? "fail" : "pass");
	cJSON_AddStringToObject(o, "serviceId", "vigild");
	cJSON_AddStringToObject(o, "version", VIGIL_VERSION);
	cJSON_AddNumberToObject(o, "loop_lag_ms",
	    (double)monitor_loop_lag_ms(a->m));
	if (degraded)
		cJSON_AddStringToObject(o, "output", why);
	return api_send(c, degraded ? MHD_HTTP_SERVICE_UNAVAILABLE :
	    MHD_HTTP_OK, "application/health+json", jsonw_take(o), NULL);
}

/* What /status says of the parts the monitor does not own. */
static void
status_extras(struct api *a, struct jsonw *w)
{
	struct notifier_view nv;
	struct api_state_view sv;

	jsonw_arr(w, "notifiers");
	for (size_t i = 0; notifier_view(a->notifier, i, &nv); i++) {
		jsonw_obj(w, NULL);
		jsonw_str(w, "name", nv.name);
		jsonw_str(w, "type", nv.type);
		jsonw_str(w, "target", nv.target);
		jsonw_int(w, "sent", (int64_t)nv.sent);
		jsonw_int(w, "failed", (int64_t)nv.failed);
		jsonw_int(w, "dropped", (int64_t)nv.dropped);
		jsonw_int(w, "queued", (int64_t)nv.queued);
		jsonw_str(w, "last_error", nv.last_error);
		if (nv.next_retry_ms > 0)
			jsonw_num(w, "next_retry_s",
			    (double)nv.next_retry_ms / 1e3);
		jsonw_end(w);
	}
	jsonw_end(w);
	if (a->state_view != NULL && a->state_view(a->state_ctx, &sv)) {
		jsonw_obj(w, "state_file");
		jsonw_str(w, "path", sv.path);
		jsonw_int(w, "writes", (int64_t)sv.writes);
		jsonw_int(w, "failures", (int64_t)sv.failures);
		jsonw_str(w, "last_error", sv.last_error);
		if (sv.last_saved != 0)
			jsonw_time(w, "last_saved", sv.last_saved);
		jsonw_end(w);
	}
	if (a->deploys != NULL) {
		cJSON *d = deploys_list_json(a->deploys, 0);

		jsonw_tree(w, "deploys", d);
		cJSON_Delete(d);
	}
}

/*
 * A response for s (len bytes, malloc'd, taken; NULL stays NULL) of
 * type, compressed for a client that accepts gzip (gz): /status and
 * /metrics, a seventeenth of the bytes to copy and send.
 */
struct MHD_Response *
api_encoded(const char *type, char *s, size_t len, bool gz)
{
	struct MHD_Response *r;
	char *z;

	if (s == NULL)
		return NULL;
	if (gz) {
		int rc = gzip_compress(s, len, &z, &len);

		free(s);
		if (rc != 0)
			return NULL;
		s = z;
	}
	if ((r = api_body(s, len)) == NULL)
		return NULL;
	common_headers(r, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
		    "gzip");
	return r;
}

static struct MHD_Response *
status_render(struct api *a, bool gz)
{
	struct sbuf b;
	struct jsonw w;
	size_t len;

	sbuf_init(&b, API_STATUS_MAX_BYTES);
	jsonw_init(&w, &b);
	jsonw_obj(&w, NULL);
	status_write(a->m, &w);
	status_extras(a, &w);
	jsonw_end(&w);
	len = b.len;
	return api_encoded("application/json", sbuf_take(&b), len, gz);
}

static struct MHD_Response *
render_status(struct api *a, const char *variant)
{
	(void)variant;
	return status_render(a, false);
}

static struct MHD_Response *
render_status_gz(struct api *a, const char *variant)
{
	(void)variant;
	return status_render(a, true);
}

/* A client that accepts gzip gets it: a seventeenth of the bytes. */
static enum MHD_Result
r_status(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	bool gz = gzip_accepted(MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));

	(void)arg;
	deploys_tick(a->deploys);
	return api_cached(a, c, rq, &a->status[gz], 1, "", gz ?
	    render_status_gz : render_status, refresh_guess(
	    a->status[!gz].cost, monitor_nprobes(a->m)));
}

/* variant: "severity\nstate" as the query gave them, checked. */
static struct MHD_Response *
render_alerts(struct api *a, const char *variant)
{
	struct alerts_filter f;
	const char *why, *nl = strchr(variant, '\n');
	char sev[48];

	snprintf(sev, sizeof(sev), "%.*s", (int)(nl - variant), variant);
	if (alerts_filter_parse(sev[0] != '\0' ? sev : NULL, nl[1] != '\0' ?
	    nl + 1 : NULL, &f, &why) != 0)
		return NULL;
	return api_response("application/json", alerts_json(a->m, &f), NULL);
}

static enum MHD_Result
r_alerts(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	struct alerts_filter f;
	const char *why;
	const char *sev = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "severity");
	const char *state = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "state");
	char variant[96];

	(void)arg;
	if (alerts_filter_parse(sev, state, &f, &why) != 0)
		return api_error(c, MHD_HTTP_BAD_REQUEST, why);
	/* A filter that parses is short: a few names, comma-separated. */
	if (snprintf(variant, sizeof(variant), "%s\n%s", sev != NULL ? sev :
	    "", state != NULL ? state : "") >= (int)sizeof(variant))
		return api_send(c, MHD_HTTP_OK, "application/json",
		    alerts_json(a->m, &f), NULL);
	return api_cached(a, c, rq, a->alerts, API_ALERT_VARIANTS,
	    variant, render_alerts, 0);
}

static struct MHD_Response *
render_page(struct api *a, const char *variant)
{
	/* The page is self-contained: nothing may load from elsewhere. */
	static const char *const hdrs[] = {
		"Content-Security-Policy", "default-src 'none'; style-src "
		    "'unsafe-inline'; img-src data:; frame-ancestors 'none'",
		"Referrer-Policy", "no-referrer",
		NULL,
	};

	cJSON *dep;
	struct page_release rel;
	const cJSON *v, *st;
	char *html;

	dep = a->deploys != NULL ? deploys_json(a->deploys, 0) : NULL;
	/* The verdict vigilctl wait decides on: the stage's, if staged. */
	v = cJSON_GetObjectItem(dep, "gate");
	st = cJSON_GetObjectItem(dep, "stages");
	(void)variant;
	if (dep != NULL) {
		const cJSON *last = cJSON_GetArrayItem(st,
		    cJSON_GetArraySize(st) - 1);
		const cJSON *w = cJSON_GetObjectItem(last, "weight");
		const cJSON *ver = cJSON_GetObjectItem(dep, "version");
		const cJSON *now = cJSON_GetObjectItem(v, "now");
		const cJSON *why = cJSON_GetObjectItem(v, "now_reason");

		rel.version = cJSON_IsString(ver) ? ver->valuestring : "?";
		rel.open = cJSON_IsTrue(cJSON_GetObjectItem(dep, "open"));
		rel.warming_up = cJSON_IsTrue(cJSON_GetObjectItem(dep,
		    "warming_up"));
		rel.stage_weight = cJSON_IsNumber(w) ? w->valueint : 0;
		rel.verdict = cJSON_IsString(now) ? now->valuestring : "?";
		rel.reason = cJSON_IsString(why) ? why->valuestring : "";
	}
	html = page_html(a->m, dep != NULL ? &rel : NULL);
	cJSON_Delete(dep);
	return api_response("text/html; charset=utf-8", html, hdrs);
}

static enum MHD_Result
r_page(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	(void)arg;
	deploys_tick(a->deploys);
	return api_cached(a, c, rq, &a->page, 1, "", render_page,
	    refresh_guess(0, monitor_nprobes(a->m)));
}

/* POST /baseline {"rule": "api_p95"}: saves current values as baselines. */
static enum MHD_Result
r_baseline(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	const char *name = NULL;
	cJSON *doc = NULL, *o;
	size_t saved, skipped;

	(void)arg;
	if (rq->len > 0) {
		const cJSON *r;

		doc = cJSON_ParseWithLength(rq->body, rq->len);
		r = cJSON_GetObjectItemCaseSensitive(doc, "rule");
		if (doc == NULL || !cJSON_IsObject(doc) ||
		    (r != NULL && !cJSON_IsString(r))) {
			cJSON_Delete(doc);
			return api_error(c, MHD_HTTP_BAD_REQUEST, "expected "
			    "{} or {\"rule\": \"<name>\"}");
		}
		if (r != NULL)
			name = r->valuestring;
	}
	if (name != NULL && config_rule(monitor_config(a->m), name) == NULL) {
		cJSON_Delete(doc);
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such rule");
	}
	saved = ruleset_save_baseline(monitor_rules_mut(a->m), name,
	    clock_wall_ms(), &skipped);
	cJSON_Delete(doc);
	if (saved > 0)
		api_changed(a);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "saved", (double)saved);
	cJSON_AddNumberToObject(o, "skipped_unknown", (double)skipped);
	return api_send(c, MHD_HTTP_OK, "application/json", jsonw_take(o),
	    NULL);
}

/* Which route serves url; NROUTES when none. *arg: a prefix's rest. */
static size_t
find_route(const char *url, const char **arg)
{
	*arg = NULL;
	for (size_t i = 0; i < NROUTES; i++) {
		size_t n = strlen(routes[i].path);

		if (n > 1 && routes[i].path[n - 1] == '/') {
			if (strncmp(url, routes[i].path, n) == 0 &&
			    url[n] != '\0' && strchr(url + n, '/') == NULL) {
				*arg = url + n;
				return i;
			}
		} else if (strcmp(url, routes[i].path) == 0) {
			return i;
		}
	}
	return NROUTES;
}

static enum MHD_Result
api_route(struct api *a, struct MHD_Connection *c, const char *url,
    const char *method, struct api_req *rq)
{
	const struct route *rt;
	const char *arg;
	size_t i = find_route(url, &arg);
	route_fn fn = NULL;
	enum access need;
	enum MHD_Result ret;
	bool ok;

	a->requests[i]++;
	if (!api_host_allowed(monitor_config(a->m), a->loopback,
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST)))
		return api_error(c, MHD_HTTP_MISDIRECTED_REQUEST, "this vigild "
		    "does not answer to that Host name (api.allowed_hosts; "
		    "on loopback: IP addresses and localhost)");
	if (i == NROUTES)
		return api_error(c, MHD_HTTP_NOT_FOUND, "not found");
	rt = &routes[i];
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0) {
		fn = rt->get;
		need = rt->read;
	} else {
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
			fn = rt->post;
		else if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
			fn = rt->del;
		need = ACCESS_WRITE;
	}
	if (fn == NULL) {
		char allow[40];
		const char *hdrs[] = { MHD_HTTP_HEADER_ALLOW, allow, NULL };

		snprintf(allow, sizeof(allow), "%s%s%s",
		    rt->get != NULL ? "GET, HEAD" : "",
		    rt->post != NULL ? (rt->get != NULL ? ", POST" : "POST") :
		    "", rt->del != NULL ? ", DELETE" : "");
		return api_send(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "application/json",
		    strdup("{\"error\":\"method not allowed\"}"), hdrs);
	}
	if (rt->read == ACCESS_OWN)
		return fn(a, c, rq, arg);
	ret = api_check_auth(a, c, need, &ok);
	if (!ok)
		return ret;
	if (need == ACCESS_WRITE)
		a->writes++;
	return fn(a, c, rq, arg);
}

static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct api_req *rq = *con_cls;

	(void)version;
	/* A reader that waited for a rendering made aside, resumed. */
	if (rq != NULL && rq->wait.c != NULL)
		return api_cache_resumed(cls, c, rq);
	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(c,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		/* Headers only so far; the answer comes after any body. */
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		/* A body announced too large is refused before it is read. */
		if (cl != NULL && strtoull(cl, NULL, 10) > API_MAX_BODY) {
			rq->too_big = true;
			return api_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body too large");
		}
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
		    "request body too large");
	return api_route(cls, c, url, method, rq);
}

static void
api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_req *rq = *con_cls;

	(void)c;
	(void)toe;
	if (rq != NULL) {
		api_cache_unwait(cls, rq);
		free(rq->body);
	}
	free(rq);
	*con_cls = NULL;
}

/* Whether listen ("127.0.0.1:9464", "[::1]:0") is a loopback address. */
bool
api_listen_is_loopback(const char *listen)
{
	unsigned char a[sizeof(struct in6_addr)];
	char host[64];
	unsigned port;
	const char *why;

	if (config_split_listen(listen, host, sizeof(host), &port, &why) != 0)
		return false;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char v6_loop[16] = { [15] = 1 };
		static const unsigned char v4_mapped[12] = { [10] = 0xff,
		    [11] = 0xff };

		return memcmp(a, v6_loop, 16) == 0 ||
		    (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127);
	}
	return false;
}

struct api *
api_new(struct event_base *base, struct monitor *m,
    const struct config *cfg, char *err, size_t errlen)
{
	static const char *const reserved[] = { "/health", "/livez", NULL };
	static const struct httpd_limits lim = {
		.reserved = reserved,
		.max_conns = API_MAX_CONNS,
		.max_conns_per_ip = API_MAX_CONNS_PER_IP,
		.timeout_s = API_IDLE_TIMEOUT_S,
		.deadline_s = API_REQUEST_DEADLINE_S,
		.conn_memory = API_CONN_MEMORY,
	};
	const char *listen = cfg->listen;
	struct httpd_tls tls = { cfg->api_tls_cert, cfg->api_tls_key };
	struct api *a = calloc(1, sizeof(*a));

	for (size_t i = 0; i < NROUTES; i++)
		route_labels[i] = routes[i].label;
	route_labels[NROUTES] = "other";
	if (a != NULL)
		a->requests = calloc(NROUTES + 1, sizeof(*a->requests));
	if (a == NULL || a->requests == NULL) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->m = m;
	a->loopback = api_listen_is_loopback(listen);
	a->httpd = httpd_new(base, listen, &lim, tls.cert_pem != NULL ? &tls :
	    NULL, api_handler, api_completed, a, err, errlen);
	if (a->httpd != NULL &&
	    ((a->refresh = evtimer_new(base, api_cache_refresh, a)) == NULL ||
	    (a->aside = aside_new(base, API_ASIDE_DEADLINE_US)) == NULL)) {
		if (a->refresh != NULL)
			event_free(a->refresh);
		httpd_free(a->httpd);
		a->httpd = NULL;
		snprintf(err, errlen, "out of memory");
	}
	if (a->httpd == NULL) {
		free(a->requests);
		free(a);
		return NULL;
	}
	if (!a->loopback && cfg->api_token == NULL)
		log_warn("event=api_open listen=%s reason=\"listening beyond "
		    "loopback without api.token_file: /status, /alerts, "
		    "/metrics and the page are readable by anyone who can "
		    "reach this address\"", listen);
	return a;
}

void
api_set_listener(struct api *a, void (*changed)(void *arg), void *arg)
{
	a->changed = changed;
	a->changed_arg = arg;
}

void
api_set_deploys(struct api *a, struct deploys *d)
{
	a->deploys = d;
}

void
api_set_delivery(struct api *a, struct notifier *nt,
    api_state_view_fn *view, const void *ctx)
{
	a->notifier = nt;
	a->state_view = view;
	a->state_ctx = ctx;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	aside_free(a->aside);
	a->aside = NULL;
	if (a->refresh != NULL)
		event_free(a->refresh);
	api_cache_wake_all(a);
	httpd_free(a->httpd);
	api_cache_clear(a);
	free(a->requests);
	free(a);
}

unsigned
api_port(const struct api *a)
{
	return httpd_port(a->httpd);
}
