/*
 * The silences endpoints: list, add, show, expire. Adding and expiring
 * need the bearer token (api.c checks it before these run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/alerts.h"
#include "http/api_int.h"
#include "base/clock.h"
#include "base/jsonw.h"
#include "config/config.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "engine/silence.h"
#include "engine/silence_json.h"

uint64_t
api_parse_id(const char *s)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return 0;
	return (uint64_t)v;
}

static const struct silence *
find(const struct silences *sl, uint64_t id, int64_t now)
{
	const struct silence *x;

	for (size_t i = 0; (x = silences_at(sl, i)) != NULL; i++)
		if (x->id == id && x->expires > now)
			return x;
	return NULL;
}

static struct MHD_Response *
render_list(struct api *a, const char *variant)
{
	cJSON *o = cJSON_CreateObject();

	(void)variant;
	cJSON_AddItemToObject(o, "silences",
	    alerts_silences_json(a->m, clock_wall_ms()));
	return api_response("application/json", jsonw_take(o), NULL);
}

/* Shared by its readers: a thousand silences are not rendered per GET. */
enum MHD_Result
api_silences_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg)
{
	(void)arg;
	return api_cached(a, c, rq, &a->silences, 1, "", render_list, 0);
}

enum MHD_Result
api_silence_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	int64_t now = clock_wall_ms();
	const struct silence *x = find(monitor_silences(a->m), api_parse_id(arg),
	    now);
	cJSON *o;

	(void)rq;
	if (x == NULL)
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such silence (or "
		    "it has expired)");
	o = silence_json(x, now);
	cJSON_AddItemToObject(o, "matches",
	    alerts_silence_matches(a->m, x, now));
	return api_send(c, MHD_HTTP_OK, "application/json", jsonw_take(o),
	    NULL);
}

enum MHD_Result
api_silences_add(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	struct silences *sl = monitor_silences_mut(a->m);
	int64_t now = clock_wall_ms();
	const struct silence *x;
	struct silence in;
	const char *why;
	char msg[300], loc[48];
	const char *hdrs[] = { "Location", loc, NULL };
	cJSON *o, *sj, *matches;
	uint64_t id;

	(void)arg;
	if (silence_parse(rq->body != NULL ? rq->body : "", rq->len, now, &in,
	    msg, sizeof(msg)) != 0)
		return api_error(c, MHD_HTTP_BAD_REQUEST, msg);
	/* A misspelt rule would silence nothing while looking done. */
	if (in.rule[0] != '\0' &&
	    config_rule(monitor_config(a->m), in.rule) == NULL) {
		snprintf(msg, sizeof(msg), "no rule named \"%s\" (GET /status "
		    "lists the rules)", in.rule);
		return api_error(c, MHD_HTTP_BAD_REQUEST, msg);
	}
	if (silences_add(sl, &in, now, &id, &why) != 0)
		return api_error(c, strcmp(why, "out of memory") == 0 ?
		    MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_BAD_REQUEST, why);
	x = find(sl, id, now);
	clock_iso(in.expires, msg, sizeof(msg));
	log_notice("event=silence_added id=%llu rule=%s matchers=%zu "
	    "author=\"%s\" comment=\"%s\" expires=%s", (unsigned long long)id,
	    in.rule[0] != '\0' ? in.rule : "-", in.nmatchers, LOG_Q(in.author),
	    LOG_Q(in.comment),
	    msg);
	api_changed(a);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	sj = silence_json(x, now);
	matches = alerts_silence_matches(a->m, x, now);
	if (cJSON_GetArraySize(matches) == 0)
		cJSON_AddStringToObject(o, "warning", "it matches no rule now");
	cJSON_AddItemToObject(sj, "matches", matches);
	cJSON_AddItemToObject(o, "silence", sj);
	snprintf(loc, sizeof(loc), "/silences/%llu", (unsigned long long)id);
	return api_send(c, MHD_HTTP_CREATED, "application/json",
	    jsonw_take(o), hdrs);
}

enum MHD_Result
api_silence_delete(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg)
{
	struct silences *sl = monitor_silences_mut(a->m);
	uint64_t id = api_parse_id(arg);

	(void)rq;
	/* An expired one is gone already: 404, as for one never made. */
	if (find(sl, id, clock_wall_ms()) == NULL || !silences_expire(sl, id))
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such silence (or "
		    "it has expired)");
	log_notice("event=silence_expired id=%llu by=api",
	    (unsigned long long)id);
	api_changed(a);
	return api_send(c, MHD_HTTP_NO_CONTENT, "application/json",
	    strdup(""), NULL);
}
