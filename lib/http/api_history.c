/*
 * GET /history?probe=NAME|rule=NAME[&from=&to=&step=]: one probe's or
 * rule's minutes (engine/history.h) for a person or a script. from and
 * to are Unix seconds or RFC 3339 instants (default: the last 24 hours),
 * step a duration in whole minutes (default 1m); at most
 * API_HISTORY_MAX_POINTS points an answer, so that no query costs the
 * loop more than a bounded rendering. A rule's answer carries its
 * incidents in the range too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api_int.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/jsonw.h"
#include "base/sbuf.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/monitor.h"
#include "engine/rules.h"

#define API_HISTORY_MAX_POINTS 1500
#define API_HISTORY_INCIDENTS 100
#define API_HISTORY_MAX_BYTES (2L * 1024 * 1024)

/*
 * "1764720000", "1764720000.5" or "2026-12-03T08:00:00Z": Unix ms.
 * -1: neither.
 */
static int
parse_time(const char *s, int64_t *ms)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return -1;
	if (strchr(s, '-') == NULL || strchr(s, ':') == NULL) {
		v = strtod(s, &end);
		if (*end != '\0' || !isfinite(v) || v < 0 || v > 1e11)
			return -1;
		*ms = (int64_t)llround(v * 1e3);
		return 0;
	}
	return clock_parse_iso(s, ms);
}

static void
value_write(struct jsonw *w, const char *key, double v, bool has)
{
	if (has && isfinite(v))
		jsonw_num(w, key, v);
	else
		jsonw_null(w, key);
}

static void
point_write(struct jsonw *w, const struct history_point *p,
    enum history_kind kind)
{
	bool vals = p->has_value && !isnan(p->avg);

	jsonw_obj(w, NULL);
	jsonw_time(w, "time", p->t);
	jsonw_int(w, "t", p->t / 1000);
	jsonw_bool(w, "data", p->has_value);
	if (kind == HISTORY_PROBE) {
		jsonw_int(w, "ok", p->ok);
		jsonw_int(w, "failed", p->failed);
		value_write(w, "uptime_pct", p->ok + p->failed > 0 ?
		    100.0 * p->ok / (double)(p->ok + p->failed) : NAN,
		    p->ok + p->failed > 0);
		value_write(w, "min_ms", p->min, vals);
		value_write(w, "avg_ms", p->avg, vals);
		value_write(w, "max_ms", p->max, vals);
	} else {
		jsonw_int(w, "ok", p->ok);
		jsonw_int(w, "firing", p->failed);
		jsonw_int(w, "unknown", p->unknown);
		if (p->worst >= 0)
			jsonw_str(w, "worst",
			    rule_state_name((enum rule_state)p->worst));
		else
			jsonw_null(w, "worst");
		value_write(w, "min", p->min, vals);
		value_write(w, "avg", p->avg, vals);
		value_write(w, "max", p->max, vals);
	}
	jsonw_end(w);
}

static void
incidents_write(struct jsonw *w, const struct history *h, const char *rule,
    int64_t from, int64_t to)
{
	struct history_incident *in = calloc(HISTORY_INCIDENTS, sizeof(*in));
	size_t n = in != NULL ? history_incidents(h, from, in,
	    HISTORY_INCIDENTS) : 0, shown = 0;

	jsonw_arr(w, "incidents");
	for (size_t i = 0; i < n && shown < API_HISTORY_INCIDENTS; i++) {
		if (strcmp(in[i].rule, rule) != 0 || in[i].start >= to)
			continue;
		shown++;
		jsonw_obj(w, NULL);
		jsonw_str(w, "severity", in[i].severity);
		jsonw_time(w, "start", in[i].start);
		if (in[i].end != 0) {
			jsonw_time(w, "end", in[i].end);
			jsonw_num(w, "duration_s",
			    (double)(in[i].end - in[i].start) / 1e3);
		} else {
			jsonw_null(w, "end");
		}
		value_write(w, "peak", in[i].peak, in[i].peak_known);
		jsonw_end(w);
	}
	jsonw_end(w);
	free(in);
}

static void
uptime_write(struct jsonw *w, const struct history *h, const char *probe,
    int64_t now)
{
	static const struct {
		const char *name;
		int64_t days;
	} win[] = { { "24h", 1 }, { "7d", 7 }, { "30d", 30 }, { "90d", 90 } };
	double pct;

	jsonw_obj(w, "uptime_pct");
	for (size_t k = 0; k < sizeof(win) / sizeof(win[0]); k++) {
		if (history_uptime(h, probe, now, win[k].days *
		    HISTORY_DAY_MS, &pct))
			jsonw_num(w, win[k].name, pct);
		else
			jsonw_null(w, win[k].name);
	}
	jsonw_end(w);
}

enum MHD_Result
api_history_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	const char *probe = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "probe");
	const char *rule = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "rule");
	const char *qfrom = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "from");
	const char *qto = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "to");
	const char *qstep = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "step");
	const struct config *cfg = monitor_config(a->m);
	const struct history *h = monitor_history(a->m);
	int64_t now = clock_wall_ms(), from, to = now, step = HISTORY_MINUTE_MS;
	enum history_kind kind;
	const char *name;
	struct history_point *pts;
	struct jsonw w;
	struct sbuf b;
	size_t n;
	char msg[160];

	(void)rq;
	(void)arg;
	if ((probe == NULL) == (rule == NULL))
		return api_error(c, MHD_HTTP_BAD_REQUEST, "name one probe "
		    "(?probe=NAME) or one rule (?rule=NAME)");
	kind = probe != NULL ? HISTORY_PROBE : HISTORY_RULE;
	name = probe != NULL ? probe : rule;
	if (kind == HISTORY_PROBE && config_probe(cfg, name) == NULL)
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such probe");
	if (kind == HISTORY_RULE && config_rule(cfg, name) == NULL)
		return api_error(c, MHD_HTTP_NOT_FOUND, "no such rule");
	if (qto != NULL && parse_time(qto, &to) != 0)
		return api_error(c, MHD_HTTP_BAD_REQUEST, "to must be Unix "
		    "seconds or an RFC 3339 time (2026-12-03T08:00:00Z)");
	from = to - HISTORY_DAY_MS;
	if (qfrom != NULL && parse_time(qfrom, &from) != 0)
		return api_error(c, MHD_HTTP_BAD_REQUEST, "from must be Unix "
		    "seconds or an RFC 3339 time (2026-12-03T08:00:00Z)");
	if (qstep != NULL && (duration_parse(qstep, &step) != 0 ||
	    step < HISTORY_MINUTE_MS || step % HISTORY_MINUTE_MS != 0))
		return api_error(c, MHD_HTTP_BAD_REQUEST, "step must be a "
		    "duration in whole minutes (\"1m\", \"5m\", \"1h\", "
		    "\"1d\")");
	if (from >= to)
		return api_error(c, MHD_HTTP_BAD_REQUEST, "from must be "
		    "before to");
	/* Nothing is kept past 90 days, nor known of the future. */
	if (from < now - (int64_t)HISTORY_DAYS * HISTORY_DAY_MS)
		from = now - (int64_t)HISTORY_DAYS * HISTORY_DAY_MS;
	if (to > now)
		to = now;
	if (from >= to)
		return api_error(c, MHD_HTTP_BAD_REQUEST, "the range holds "
		    "nothing: it is over 90 days old or in the future");
	if ((to - (from - from % step) + step - 1) / step >
	    API_HISTORY_MAX_POINTS) {
		snprintf(msg, sizeof(msg), "that is more than %d points: "
		    "a larger step or a shorter range",
		    API_HISTORY_MAX_POINTS);
		return api_error(c, MHD_HTTP_BAD_REQUEST, msg);
	}
	if ((pts = calloc(API_HISTORY_MAX_POINTS, sizeof(*pts))) == NULL)
		return api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	n = history_range(h, kind, name, from, to, step, pts,
	    API_HISTORY_MAX_POINTS);
	sbuf_init(&b, API_HISTORY_MAX_BYTES);
	jsonw_init(&w, &b);
	jsonw_obj(&w, NULL);
	jsonw_str(&w, kind == HISTORY_PROBE ? "probe" : "rule", name);
	jsonw_time(&w, "from", from - from % step);
	jsonw_time(&w, "to", to);
	jsonw_int(&w, "step_s", step / 1000);
	if (kind == HISTORY_PROBE)
		uptime_write(&w, h, name, now);
	jsonw_arr(&w, "points");
	for (size_t i = 0; i < n; i++)
		point_write(&w, &pts[i], kind);
	jsonw_end(&w);
	if (kind == HISTORY_RULE)
		incidents_write(&w, h, name, from, to);
	jsonw_end(&w);
	free(pts);
	return api_send(c, MHD_HTTP_OK, "application/json", sbuf_take(&b),
	    NULL);
}
