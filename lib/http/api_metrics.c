/*
 * GET /metrics: the Prometheus exposition of what the monitor holds
 * (metrics.c renders it), with what the HTTP side counts beside it: the
 * notifiers, the release gate, the state file, requests and renderings.
 * Shared by its scrapers like every read endpoint (api_cache.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "base/clock.h"
#include "base/gzip.h"
#include "base/procstat.h"
#include "base/sbuf.h"
#include "engine/monitor.h"
#include "http/api_int.h"
#include "http/httpd.h"
#include "http/metrics.h"
#include "http/refresh.h"
#include "notify/notifier.h"
#include "release/deploy.h"

/*
 * Appends the notifiers' and the state file's counters to an exposition
 * (takes text; NULL stays NULL). Names follow the exposition's rules:
 * counters end in _total, one family per HELP/TYPE.
 */
static char *
metrics_delivery(struct api *a, char *text)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ "vigil_notifications_sent_total", "Notices delivered." },
		{ "vigil_notifications_failed_total", "Delivery attempts that "
		    "failed (each is retried)." },
		{ "vigil_notifications_dropped_total", "Notices dropped (queue "
		    "full, or out of memory)." },
		{ "vigil_notifications_queued", "Notices waiting for delivery." },
	};
	struct notifier_view nv;
	struct api_state_view sv;
	struct sbuf b;

	if (text == NULL)
		return NULL;
	sbuf_init(&b, strlen(text) + 64 * 1024);
	sbuf_puts(&b, text);
	free(text);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		bool counter = f < 3;

		if (notifier_count(a->notifier) == 0)
			break;
		sbuf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name,
		    fam[f].help, fam[f].name, counter ? "counter" : "gauge");
		for (size_t i = 0; notifier_view(a->notifier, i, &nv); i++) {
			double v = f == 0 ? (double)nv.sent : f == 1 ?
			    (double)nv.failed : f == 2 ? (double)nv.dropped :
			    (double)nv.queued;

			sbuf_printf(&b, "%s{notifier=\"", fam[f].name);
			metrics_label(&b, nv.name);
			sbuf_puts(&b, "\"} ");
			metrics_value(&b, v);
			sbuf_puts(&b, "\n");
		}
	}
	if (a->deploys != NULL) {
		static const char *const verdicts[] = {
			"pass", "warn", "inconclusive", "fail",
		};
		cJSON *dep = deploys_json(a->deploys, 0);
		const char *version;
		int64_t begun;
		const cJSON *now = cJSON_GetObjectItem(cJSON_GetObjectItem(dep,
		    "gate"), "now");

		sbuf_printf(&b, "# HELP vigil_deploy_open Whether a deploy "
		    "window is open.\n# TYPE vigil_deploy_open gauge\n"
		    "vigil_deploy_open %d\n",
		    cJSON_IsTrue(cJSON_GetObjectItem(dep, "open")) ? 1 : 0);
		if (deploys_window(a->deploys, &version, &begun)) {
			/* For Grafana's annotations: where a deploy began. */
			sbuf_puts(&b, "# HELP vigil_deploy_start_timestamp_"
			    "seconds When the open deploy window began, in Unix "
			    "seconds.\n# TYPE vigil_deploy_start_timestamp_"
			    "seconds gauge\nvigil_deploy_start_timestamp_seconds ");
			metrics_value(&b, (double)begun / 1e3);
			sbuf_puts(&b, "\n# HELP vigil_deploy_info The open deploy "
			    "window's version, as a label; the value is always "
			    "1.\n# TYPE vigil_deploy_info gauge\n"
			    "vigil_deploy_info{version=\"");
			metrics_label(&b, version);
			sbuf_puts(&b, "\"} 1\n");
		}
		if (cJSON_IsString(now)) {
			sbuf_puts(&b, "# HELP vigil_deploy_verdict The latest "
			    "deploy's verdict so far, as vigilctl wait judges it "
			    "(the stage's in a staged rollout), one-hot.\n# TYPE "
			    "vigil_deploy_verdict gauge\n");
			for (size_t i = 0; i < 4; i++)
				sbuf_printf(&b, "vigil_deploy_verdict{verdict="
				    "\"%s\"} %d\n", verdicts[i],
				    strcmp(now->valuestring, verdicts[i]) == 0);
		}
		cJSON_Delete(dep);
	}
	if (a->state_view != NULL && a->state_view(a->state_ctx, &sv)) {
		sbuf_printf(&b, "# HELP vigil_state_writes_total State file "
		    "writes that worked.\n# TYPE vigil_state_writes_total "
		    "counter\nvigil_state_writes_total %llu\n"
		    "# HELP vigil_state_write_failures_total State file writes "
		    "that failed.\n# TYPE vigil_state_write_failures_total "
		    "counter\nvigil_state_write_failures_total %llu\n",
		    (unsigned long long)sv.writes,
		    (unsigned long long)sv.failures);
	}
	return sbuf_take(&b);
}

/* Per endpoint, what rendering its answers cost the loop (api_cache.c). */
static void
render_costs(struct api *a, struct metrics_render *out)
{
	static const struct {
		const char *endpoint;
		size_t first, n;	/* slots, in the order below */
	} eps[METRICS_RENDER_ENDPOINTS] = {
		{ "/status", 0, 2 }, { "/alerts", 2, API_ALERT_VARIANTS },
		{ "/silences", 2 + API_ALERT_VARIANTS, 1 },
		{ "/metrics", 3 + API_ALERT_VARIANTS, 2 },
		{ "/", 5 + API_ALERT_VARIANTS, 1 },
	};
	const struct api_cache *all[] = { &a->status[0], &a->status[1],
	    &a->alerts[0], &a->alerts[1], &a->alerts[2], &a->alerts[3],
	    &a->silences, &a->metrics[0], &a->metrics[1], &a->page };

	_Static_assert(API_ALERT_VARIANTS == 4, "every /alerts slot listed");
	for (size_t e = 0; e < METRICS_RENDER_ENDPOINTS; e++) {
		memset(&out[e], 0, sizeof(out[e]));
		out[e].endpoint = eps[e].endpoint;
		for (size_t i = eps[e].first; i < eps[e].first + eps[e].n;
		    i++) {
			out[e].aside += all[i]->aside_renders;
			out[e].loop += all[i]->renders - all[i]->aside_renders;
			out[e].loop_seconds += (double)all[i]->loop_us / 1e6;
		}
	}
}

static struct MHD_Response *
metrics_render(struct api *a, bool gz)
{
	struct metrics_render costs[METRICS_RENDER_ENDPOINTS];
	size_t nendpoints;
	const char *const *endpoints = api_route_labels(&nendpoints);
	struct metrics_http h = {
		.connections = httpd_connections(a->httpd),
		.endpoints = endpoints,
		.requests = a->requests,
		.nendpoints = nendpoints,
		.auth_failures = a->auth_failures,
		.status_renders = a->status[0].renders +
		    a->status[1].renders,
		.renders = costs,
		.proc = &a->proc,
	};
	char *text;

	render_costs(a, costs);
	text = metrics_delivery(a, metrics_text(a->m, &h));
	/* Prometheus 3 refuses a scrape whose Content-Type is not exact. */
	return api_encoded("text/plain; version=0.0.4; charset=utf-8", text,
	    text != NULL ? strlen(text) : 0, gz);
}

static struct MHD_Response *
render_metrics(struct api *a, const char *variant)
{
	(void)variant;
	return metrics_render(a, false);
}

static struct MHD_Response *
render_metrics_gz(struct api *a, const char *variant)
{
	(void)variant;
	return metrics_render(a, true);
}

/* Prometheus asks for gzip: 15 MB at 10,000 probes, a tenth of it so. */
enum MHD_Result
api_metrics_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	int64_t now = clock_mono_us();
	bool gz = gzip_accepted(MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));

	(void)arg;
	deploys_tick(a->deploys);
	if (a->proc_at == 0 || now - a->proc_at >= 1000000) {
		procstat_read(&a->proc);
		a->proc_at = now;
	}
	return api_cached(a, c, rq, &a->metrics[gz], 1, "", gz ?
	    render_metrics_gz : render_metrics, refresh_guess(
	    a->metrics[!gz].cost, monitor_nprobes(a->m)));
}
