/*
 * POST /heartbeat/NAME: a job saying it ran. Each heartbeat has its own
 * token (a cron job holds the right to beat, not to silence alerts), so
 * the route authenticates here instead of with api.token_file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "config/config.h"
#include "engine/monitor.h"
#include "http/api_int.h"
#include "http/token.h"
#include "probe/beat.h"

/* Longer than any job runs; beyond it the number is a client's mistake. */
#define MAX_JOB_DURATION_S (366.0 * 86400)

static const struct probe_cfg *
find_heartbeat(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct probe_cfg *pc = &cfg->probes[i];

		if (pc->type == PROBE_HEARTBEAT && pc->name != NULL &&
		    strcmp(pc->name, name) == 0)
			return pc;
	}
	return NULL;
}

/*
 * The message: ?msg=, else the body. Kept to BEAT_MSG_MAX bytes with
 * controls and bytes that are not UTF-8 shown as "\xNN", so it reaches
 * /status, the log and a terminal inert.
 */
static void
beat_msg(struct MHD_Connection *c, const struct api_req *rq, char *out)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "msg");
	/* Escaping only grows text: more input than this cannot show. */
	size_t cap = 4 * BEAT_MSG_MAX;

	if (q != NULL)
		utf8_escape_controls(q, strnlen(q, cap), out, BEAT_MSG_MAX + 1);
	else if (rq->body != NULL)
		utf8_escape_controls(rq->body, strnlen(rq->body,
		    rq->len < cap ? rq->len : cap), out, BEAT_MSG_MAX + 1);
	else
		out[0] = '\0';
}

enum MHD_Result
api_heartbeat_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg)
{
	const struct probe_cfg *pc = find_heartbeat(monitor_config(a->m), arg);
	const char *h, *st, *du;
	struct beat b = { .duration_s = -1 };
	char *end;

	if (pc == NULL)
		return api_error(c, MHD_HTTP_NOT_FOUND, "no heartbeat probe of "
		    "that name");
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0 ||
	    pc->heartbeat.token == NULL ||
	    !token_equal(h + 7, strlen(h + 7), pc->heartbeat.token,
	    strlen(pc->heartbeat.token))) {
		a->auth_failures++;
		log_warn("event=auth_rejected reason=%s route=heartbeat "
		    "probe=%s", h == NULL ? "missing_token" : "wrong_token",
		    pc->name);
		return api_error(c, MHD_HTTP_UNAUTHORIZED, h == NULL ?
		    "missing bearer token" : "wrong token for this heartbeat");
	}
	st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
	if (st != NULL && strcmp(st, "ok") != 0 && strcmp(st, "fail") != 0)
		return api_error(c, MHD_HTTP_BAD_REQUEST, "status must be "
		    "\"ok\" or \"fail\"");
	b.failed = st != NULL && strcmp(st, "fail") == 0;
	du = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "duration");
	if (du != NULL) {
		b.duration_s = strtod(du, &end);
		if (*du == '\0' || *end != '\0' || !isfinite(b.duration_s) ||
		    b.duration_s < 0 || b.duration_s > MAX_JOB_DURATION_S)
			return api_error(c, MHD_HTTP_BAD_REQUEST, "duration "
			    "must be seconds, 0 to 31622400");
	}
	beat_msg(c, rq, b.msg);
	b.at = clock_wall_ms();
	if (beatboard_record(monitor_beats(a->m), pc->name, &b) != 0)
		return api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	a->writes++;
	api_changed(a);		/* the state file keeps beats */
	return api_send(c, MHD_HTTP_OK, "application/json",
	    strdup(b.failed ? "{\"recorded\":\"fail\"}" :
	    "{\"recorded\":\"ok\"}"), NULL);
}
