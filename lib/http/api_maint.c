/*
 * The maintenance endpoints: list, add, show, end. Adding and ending need
 * the bearer token (api.c checks it before these run). The
 * configuration's windows are listed with the API's but only the API's
 * can be ended here: the configuration's change with the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/tzfile.h"
#include "config/config.h"
#include "engine/maint.h"
#include "engine/maint_json.h"
#include "engine/monitor.h"
#include "http/api_int.h"

/* The rules w covers, by name: a JSON array. */
static cJSON *
covered(const struct api *a, const struct maint_window *w)
{
	const struct config *cfg = monitor_config(a->m);
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < cfg->nrules; i++)
		if (maint_window_covers(w, &cfg->rules[i]))
			cJSON_AddItemToArray(arr,
			    cJSON_CreateString(cfg->rules[i].name));
	return arr;
}

enum MHD_Result
api_maint_list(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	struct maint *mt = monitor_maint_mut(a->m);
	int64_t now = clock_wall_ms();
	cJSON *o = cJSON_CreateObject();

	(void)rq;
	(void)arg;
	maint_prune(mt, now);
	cJSON_AddItemToObject(o, "maintenance", maint_list_json(mt, now));
	return api_send(c, MHD_HTTP_OK, "application/json", jsonw_take(o),
	    NULL);
}

enum MHD_Result
api_maint_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	int64_t now = clock_wall_ms();
	const struct maint *mt = monitor_maint(a->m);
	const struct maint_window *w = NULL, *x;
	cJSON *o;

	(void)rq;
	/* By id (the API's) or by name (any). */
	if (api_parse_id(arg) != 0)
		w = maint_find(mt, api_parse_id(arg));
	for (size_t i = 0; w == NULL && (x = maint_at(mt, i)) != NULL; i++)
		if (strcmp(x->name, arg) == 0)
			w = x;
	if (w == NULL || (w->kind == MAINT_ONCE && w->end <= now))
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such maintenance "
		    "window (or it has ended)");
	o = maint_status_json(w, now);
	cJSON_AddItemToObject(o, "matches", covered(a, w));
	return api_send(c, MHD_HTTP_OK, "application/json", jsonw_take(o),
	    NULL);
}

enum MHD_Result
api_maint_add(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	struct maint *mt = monitor_maint_mut(a->m);
	const struct config *cfg = monitor_config(a->m);
	int64_t now = clock_wall_ms();
	const struct maint_window *x;
	struct maint_window in;
	struct tz *tz;
	const char *why;
	char msg[400], loc[48];
	const char *hdrs[] = { "Location", loc, NULL };
	cJSON *o, *wj, *matches;
	uint64_t id;

	(void)arg;
	if (maint_parse(rq->body != NULL ? rq->body : "", rq->len, now, &in,
	    &tz, msg, sizeof(msg)) != 0)
		return api_error(c, MHD_HTTP_BAD_REQUEST, msg);
	/* A misspelt rule would cover nothing while looking done. */
	for (size_t i = 0; i < in.nrules; i++) {
		if (config_rule(cfg, in.rules[i]) == NULL) {
			tz_free(tz);
			snprintf(msg, sizeof(msg), "no rule named \"%s\" (GET "
			    "/status lists the rules)", in.rules[i]);
			return api_error(c, MHD_HTTP_BAD_REQUEST, msg);
		}
	}
	for (size_t i = 0; (x = maint_at(mt, i)) != NULL; i++) {
		if (x->id != 0 && strcmp(x->name, in.name) == 0) {
			tz_free(tz);
			return api_error(c, MHD_HTTP_CONFLICT, "a maintenance "
			    "window of that name exists (DELETE it first)");
		}
	}
	if (maint_add(mt, &in, tz, now, &id, &why) != 0)
		return api_error(c, strcmp(why, "out of memory") == 0 ?
		    MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST, why);
	x = maint_find(mt, id);
	log_notice("event=maintenance_added id=%llu name=\"%s\" kind=%s "
	    "when=\"%s\" timezone=%s author=\"%s\" comment=\"%s\"",
	    (unsigned long long)id, LOG_Q(x->name), maint_kind_name(x->kind),
	    LOG_Q(x->spec), x->tzname, LOG_Q(x->author), LOG_Q(x->comment));
	api_changed(a);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	wj = maint_status_json(x, now);
	matches = covered(a, x);
	if (cJSON_GetArraySize(matches) == 0)
		cJSON_AddStringToObject(o, "warning", "it covers no rule now");
	cJSON_AddItemToObject(wj, "matches", matches);
	cJSON_AddItemToObject(o, "maintenance", wj);
	snprintf(loc, sizeof(loc), "/maintenance/%llu", (unsigned long long)id);
	return api_send(c, MHD_HTTP_CREATED, "application/json",
	    jsonw_take(o), hdrs);
}

enum MHD_Result
api_maint_delete(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	struct maint *mt = monitor_maint_mut(a->m);
	uint64_t id = api_parse_id(arg);
	const struct maint_window *x;

	(void)rq;
	maint_prune(mt, clock_wall_ms());
	for (size_t i = 0; id == 0 && (x = maint_at(mt, i)) != NULL; i++) {
		if (strcmp(x->name, arg) != 0)
			continue;
		if (x->id == 0)
			return api_error(c, MHD_HTTP_CONFLICT, "that window is "
			    "in the configuration: change the file and "
			    "reload");
		id = x->id;
	}
	if (id == 0 || !maint_end(mt, id))
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such maintenance "
		    "window (or it has ended)");
	log_notice("event=maintenance_ended id=%llu by=api",
	    (unsigned long long)id);
	api_changed(a);
	return api_send(c, MHD_HTTP_NO_CONTENT, "application/json",
	    strdup(""), NULL);
}
