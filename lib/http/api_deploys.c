/*
 * The release gate's endpoints: GET /deploys[?since=2h], GET
 * /deploys/{id|current}, and POST /deploys to begin, step and end a
 * window. vigild judges; a pipeline can gate on GET /deploys/current with
 * curl alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http/api_int.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "release/deploy.h"
#include "base/duration.h"
#include "base/utf8.h"

/*
 * ?since=2h: only the deploys that began in the last two hours by
 * vigild's clock, which stamped them (a pipeline host's may be off).
 */
enum MHD_Result
api_deploys_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg)
{
	const char *since = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "since");
	int64_t from = 0, ms;
	cJSON *o;

	(void)rq;
	(void)arg;
	if (since != NULL) {
		if (duration_parse(since, &ms) != 0 || ms <= 0)
			return api_error(c, MHD_HTTP_BAD_REQUEST, "since must "
			    "be a duration (\"2h\", \"30m\")");
		from = clock_wall_ms() - ms;
	}
	deploys_tick(a->deploys);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "deploys", a->deploys != NULL ?
	    deploys_list_json(a->deploys, from) : cJSON_CreateArray());
	return api_send(c, MHD_HTTP_OK, "application/json", jsonw_take(o),
	    NULL);
}

enum MHD_Result
api_deploy_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	uint64_t id = 0;
	cJSON *o;
	char *end;

	(void)rq;
	if (strcmp(arg, "current") != 0 && strcmp(arg, "latest") != 0) {
		id = strtoull(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || id == 0)
			return api_error(c, MHD_HTTP_NOT_FOUND, "no such deploy "
			    "(an id, or \"current\")");
	}
	deploys_tick(a->deploys);
	o = a->deploys != NULL ? deploys_json(a->deploys, id) : NULL;
	if (o == NULL)
		return api_error(c, MHD_HTTP_NOT_FOUND, id == 0 ? "no deploy "
		    "yet: vigilctl deploy begin --version X" : "no such "
		    "deploy");
	return api_send(c, MHD_HTTP_OK, "application/json", jsonw_take(o),
	    NULL);
}

/*
 * A release's name as a client gives it. It goes into log lines
 * (version=...), reports, Slack and Alertmanager labels, so it is one
 * word: no space or quote to forge a log field, no control to steer a
 * terminal, valid UTF-8 for every JSON answer.
 */
static bool
good_version(const cJSON *v)
{
	return cJSON_IsString(v) && v->valuestring[0] != '\0' &&
	    utf8_check_line(v->valuestring, 63) == UTF8_LINE_OK &&
	    strpbrk(v->valuestring, " \"'\\") == NULL;
}

/* The weights planned: 1..100, rising, at most DEPLOY_PLANNED_MAX. */
static int
planned_stages(const cJSON *a, int *out, size_t *n)
{
	const cJSON *e;

	*n = 0;
	if (!cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsNumber(e) || e->valuedouble != (double)e->valueint ||
		    e->valueint < 1 || e->valueint > 100 ||
		    *n >= DEPLOY_PLANNED_MAX ||
		    (*n > 0 && e->valueint <= out[*n - 1]))
			return -1;
		out[(*n)++] = e->valueint;
	}
	return 0;
}

/* {"action": "begin", "version": "1.2.3", "warmup": "5m"} | step | end */
enum MHD_Result
api_deploys_post(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	cJSON *doc = rq->len > 0 ? cJSON_ParseWithLength(rq->body, rq->len) :
	    NULL;
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(doc, "action");
	char why[256];
	unsigned code = MHD_HTTP_OK;
	int rc = -1;

	(void)arg;
	if (a->deploys == NULL || !cJSON_IsObject(doc) ||
	    !cJSON_IsString(action)) {
		cJSON_Delete(doc);
		return api_error(c, MHD_HTTP_BAD_REQUEST, "expected {\"action\":"
		    " \"begin\"|\"step\"|\"end\", ...}");
	}
	if (strcmp(action->valuestring, "begin") == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc,
		    "version");
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(doc,
		    "warmup");
		const cJSON *an = cJSON_GetObjectItemCaseSensitive(doc,
		    "announce");
		const cJSON *pl = cJSON_GetObjectItemCaseSensitive(doc,
		    "stages");
		int planned[DEPLOY_PLANNED_MAX];
		size_t nplanned = 0;
		int64_t warmup = -1;

		if (!good_version(v)) {
			cJSON_Delete(doc);
			return api_error(c, MHD_HTTP_BAD_REQUEST, "\"version\" "
			    "must be 1 to 63 bytes of UTF-8 text without "
			    "spaces, quotes, backslashes or control characters "
			    "(\"1.2.3\", \"v2026.12.02-rc1\", a commit)");
		}
		if (w != NULL && (!cJSON_IsString(w) ||
		    duration_parse(w->valuestring, &warmup) != 0)) {
			cJSON_Delete(doc);
			return api_error(c, MHD_HTTP_BAD_REQUEST, "\"warmup\" "
			    "must be a duration (\"5m\")");
		}
		/* It goes to #incidents as it is: one line of text. */
		if (an != NULL && (!cJSON_IsString(an) ||
		    utf8_check_line(an->valuestring, DEPLOY_ANNOUNCE_MAX) !=
		    UTF8_LINE_OK)) {
			cJSON_Delete(doc);
			return api_error(c, MHD_HTTP_BAD_REQUEST, "\"announce\" "
			    "must be one line of UTF-8 text, at most 400 bytes, "
			    "without control characters");
		}
		if (pl != NULL && planned_stages(pl, planned, &nplanned) != 0) {
			cJSON_Delete(doc);
			return api_error(c, MHD_HTTP_BAD_REQUEST, "\"stages\" "
			    "must be an array of up to 16 weights, 1 to 100, "
			    "each above the one before ([10, 25, 50, 100])");
		}
		rc = deploys_begin(a->deploys, v->valuestring, warmup, why,
		    sizeof(why)) != 0 ? 0 : -1;
		if (rc == 0 && nplanned > 0)
			deploys_plan(a->deploys, planned, nplanned);
		if (rc == 0 && an != NULL)
			deploys_announce(a->deploys, an->valuestring);
		code = MHD_HTTP_CREATED;
	} else if (strcmp(action->valuestring, "step") == 0) {
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(doc,
		    "weight");

		rc = cJSON_IsNumber(w) ? deploys_step(a->deploys, w->valueint,
		    why, sizeof(why)) : -1;
		if (!cJSON_IsNumber(w))
			snprintf(why, sizeof(why), "step needs \"weight\" "
			    "(1 to 100)");
	} else if (strcmp(action->valuestring, "end") == 0) {
		rc = deploys_end(a->deploys, why, sizeof(why));
	} else {
		snprintf(why, sizeof(why), "unknown action \"%s\" (begin, "
		    "step, end)", action->valuestring);
	}
	cJSON_Delete(doc);
	if (rc != 0)
		return api_error(c, MHD_HTTP_CONFLICT, why);
	api_changed(a);
	return api_send(c, code, "application/json",
	    jsonw_take(deploys_json(a->deploys, 0)), NULL);
}
