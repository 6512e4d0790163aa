#include "http/page_history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/humanize.h"
#include "base/sbuf.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "http/page.h"
#include "http/page_chart.h"

#define DAY_W 10	/* a bar and its gap, in viewBox units */
#define DAY_H 34
/* Steps in a response-time chart at most: a point per 2.5 px at 720. */
#define CHART_STEPS 288
#define CHART_W 720
#define CHART_H 64
/* A day by the minute, and the minutes its ends cut. */
#define CHART_BUF (HISTORY_MEM_MINUTES + 2)
/* Incidents listed at most, newest first. */
#define PAGE_INCIDENTS 50

const struct page_window page_windows[PAGE_UPTIME_WINDOWS] = {
	{ "24h", HISTORY_DAY_MS },
	{ "7d", 7 * HISTORY_DAY_MS },
	{ "30d", 30 * HISTORY_DAY_MS },
	{ "90d", 90 * HISTORY_DAY_MS },
};

const char *
page_day_class(const struct history_day *d)
{
	if (d == NULL || !d->has_data || d->minutes_data == 0)
		return "d-none";
	if (d->uptime_pct >= 99.9)
		return "d-ok";
	if (d->uptime_pct >= 99)
		return "d-minor";
	if (d->uptime_pct >= 95)
		return "d-major";
	return "d-bad";
}

void
page_pct(double pct, char *buf, size_t len)
{
	if (!isfinite(pct))
		pct = 0;
	pct = floor(pct * 100) / 100;
	if (pct >= 100)
		snprintf(buf, len, "100");
	else
		snprintf(buf, len, "%.2f", pct < 0 ? 0 : pct);
}

static void
day_title(struct sbuf *b, const struct history_day *d, int64_t t)
{
	char iso[40], pct[16];

	clock_iso(t, iso, sizeof(iso));
	sbuf_printf(b, "<title>%.10s: ", iso);
	if (d == NULL || !d->has_data || d->minutes_data == 0) {
		sbuf_puts(b, "no data</title>");
		return;
	}
	page_pct(d->uptime_pct, pct, sizeof(pct));
	sbuf_printf(b, "%s %% up, %u of %u minutes down", pct,
	    d->minutes_down, d->minutes_data);
	if (isfinite(d->avg_ms) && isfinite(d->max_ms))
		sbuf_printf(b, ", response avg %.0f ms, max %.0f ms",
		    d->avg_ms, d->max_ms);
	sbuf_puts(b, "</title>");
}

void
page_days_svg(struct sbuf *b, const struct history_day *days, size_t n,
    int64_t now, const char *probe)
{
	/* Today's midnight: where the last bar starts. */
	int64_t last = n > 0 ? days[n - 1].t : now - now % HISTORY_DAY_MS;
	size_t skip = n > HISTORY_DAYS ? n - HISTORY_DAYS : 0;

	n -= skip;
	days += skip;
	sbuf_printf(b, "<svg class=\"days\" viewBox=\"0 0 %d %d\" "
	    "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"",
	    HISTORY_DAYS * DAY_W - (DAY_W - 8), DAY_H);
	page_escape(b, probe);
	sbuf_printf(b, ": uptime per day over %d days\">", HISTORY_DAYS);
	for (size_t i = 0; i < HISTORY_DAYS; i++) {
		/* Bar i shows the day HISTORY_DAYS - 1 - i days before last. */
		size_t back = HISTORY_DAYS - 1 - i;
		const struct history_day *d = back < n ? &days[n - 1 - back] :
		    NULL;

		sbuf_printf(b, "<rect class=\"day %s\" x=\"%zu\" y=\"0\" "
		    "width=\"8\" height=\"%d\" rx=\"1.5\">", page_day_class(d),
		    i * DAY_W, DAY_H);
		day_title(b, d, last - (int64_t)back * HISTORY_DAY_MS);
		sbuf_puts(b, "</rect>");
	}
	sbuf_puts(b, "</svg>");
}

void
page_incidents(struct sbuf *b, const struct history_incident *x, size_t n,
    int64_t now)
{
	char t0[48], t1[48], held[32], peak[32];

	if (n == 0) {
		sbuf_puts(b, "<p class=\"none\">No incidents: nothing fired "
		    "in the history kept.</p>");
		return;
	}
	sbuf_puts(b, "<ol class=\"incidents\">");
	for (size_t i = 0; i < n; i++) {
		bool open = x[i].end == 0;
		bool crit = strcmp(x[i].severity, "critical") == 0;
		int64_t end = open ? now : x[i].end;

		page_clock_text(x[i].start, now, t0, sizeof(t0));
		duration_format(end > x[i].start ? (end - x[i].start) / 1000 *
		    1000 : 0, held, sizeof(held));
		sbuf_printf(b, "<li class=\"incident %s%s\" data-rule=\"",
		    crit ? "critical" : "warning", open ? " open" : "");
		page_escape(b, x[i].rule);
		sbuf_printf(b, "\"><span class=\"badge\">%s</span><b>",
		    crit ? "CRITICAL" : "WARNING");
		page_escape(b, x[i].rule);
		sbuf_printf(b, "</b> fired %s, ", t0);
		if (open) {
			sbuf_printf(b, "<b>still firing</b> after %s", held);
		} else {
			page_clock_text(x[i].end, now, t1, sizeof(t1));
			sbuf_printf(b, "resolved %s after %s", t1, held);
		}
		if (x[i].peak_known && isfinite(x[i].peak)) {
			ruleset_fmt_num(x[i].peak, peak, sizeof(peak));
			sbuf_printf(b, " <span class=\"since\">peak %s</span>",
			    peak);
		}
		sbuf_puts(b, "</li>");
	}
	sbuf_puts(b, "</ol>");
}

static void
uptimes(struct sbuf *b, const struct history *h, const char *probe,
    int64_t now)
{
	char pct[16];
	double v;

	sbuf_puts(b, "<span class=\"uptimes\">uptime");
	for (size_t i = 0; i < PAGE_UPTIME_WINDOWS; i++) {
		sbuf_printf(b, " <span data-window=\"%s\">%s <b>",
		    page_windows[i].name, page_windows[i].name);
		if (history_uptime(h, probe, now, page_windows[i].ms, &v)) {
			page_pct(v, pct, sizeof(pct));
			sbuf_printf(b, "%s&nbsp;%%", pct);
		} else {
			sbuf_puts(b, "&ndash;");
		}
		sbuf_puts(b, "</b></span>");
	}
	sbuf_puts(b, "</span>");
}

/*
 * The last 24 h of a probe's response time into p (cap CHART_BUF): by the
 * minute, or from its first data when the history is younger, so a fresh
 * vigild's minutes fill the box instead of its last pixels. *from gets
 * where the chart starts; returns the points.
 */
static size_t
last_day(const struct history *h, const char *probe, int64_t now,
    struct history_point *p, size_t cap, int64_t *from)
{
	int64_t start = now - HISTORY_DAY_MS, step;
	size_t n, first;

	n = history_range(h, HISTORY_PROBE, probe, start, now,
	    HISTORY_MINUTE_MS, p, cap);
	for (first = 0; first < n && !p[first].has_value; first++)
		;
	if (first == n) {
		*from = start;
		return 0;
	}
	*from = p[first].t;
	/* Whole minutes, as few as keep it within CHART_STEPS. */
	step = (now - *from + CHART_STEPS * HISTORY_MINUTE_MS - 1) /
	    (CHART_STEPS * HISTORY_MINUTE_MS) * HISTORY_MINUTE_MS;
	if (step <= HISTORY_MINUTE_MS) {
		memmove(p, p + first, (n - first) * sizeof(*p));
		return n - first;
	}
	return history_range(h, HISTORY_PROBE, probe, *from, now, step, p,
	    cap);
}

static void
probe_history(struct sbuf *b, const struct history *h,
    const struct probe_view *v, int64_t now, struct history_point *p,
    size_t cap)
{
	struct history_day days[HISTORY_DAYS];
	size_t nd = history_days(h, v->name, now, days, HISTORY_DAYS);
	const char *state = probe_state_name(v->state);
	double sum = 0, worst = 0;
	size_t n, good = 0, runs = 0;
	int64_t from;
	char span[32], avg[32], max[32], label[200];

	sbuf_puts(b, "<article class=\"ph\" data-probe=\"");
	page_escape(b, v->name);
	sbuf_puts(b, "\"><div class=\"ph-head\"><span><b>");
	page_escape(b, v->name);
	sbuf_printf(b, "</b> <span class=\"%s\">%s</span></span>", state,
	    state);
	uptimes(b, h, v->name, now);
	sbuf_puts(b, "</div>");
	page_days_svg(b, days, nd, now, v->name);
	sbuf_printf(b, "<div class=\"axis\"><span>%d days ago</span><span>"
	    "today</span></div>", HISTORY_DAYS);
	n = last_day(h, v->name, now, p, cap, &from);
	for (size_t i = 0; i < n; i++) {
		runs += p[i].ok + p[i].failed;
		if (!p[i].has_value || p[i].failed > 0 || !isfinite(p[i].avg))
			continue;
		sum += p[i].avg;
		good++;
		if (p[i].max > worst)
			worst = p[i].max;
	}
	if (now - from >= HISTORY_DAY_MS - HISTORY_MINUTE_MS)
		snprintf(span, sizeof(span), "last 24 h");
	else {
		memcpy(span, "last ", 5);
		duration_format((now - from) / 1000 * 1000, span + 5,
		    sizeof(span) - 5);
	}
	snprintf(label, sizeof(label), "%s: response time over the %s",
	    v->name, span);
	chart_svg(b, p, n, from, now, CHART_W, CHART_H, label);
	sbuf_printf(b, "<div class=\"axis\"><span>%s</span>", span);
	if (good > 0) {
		human_value(sum / (double)good, "ms", avg, sizeof(avg));
		human_value(worst, "ms", max, sizeof(max));
		sbuf_printf(b, "<span>response avg %s &middot; worst %s</span>",
		    avg, max);
	} else {
		sbuf_puts(b, runs > 0 ? "<span>every minute had failed runs"
		    "</span>" : "<span>no runs yet</span>");
	}
	sbuf_puts(b, "<span>now</span></div></article>");
}

void
page_history_section(struct sbuf *b, const struct monitor *m, int64_t now,
    size_t max)
{
	const struct history *h = monitor_history(m);
	struct history_point *p;
	struct probe_view v;
	size_t shown = 0;

	if (h == NULL)
		return;
	p = calloc(CHART_BUF, sizeof(*p));
	if (p == NULL) {
		b->failed = true;
		return;
	}
	sbuf_puts(b, "<section id=\"history\"><h2>History</h2>"
	    "<div class=\"hist\">");
	/* The probes that are down first: they are why the page is open. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; shown < max && monitor_probe_view(m, i, &v);
		    i++) {
			if ((v.state == PROBE_STATE_DOWN) != (pass == 0))
				continue;
			probe_history(b, h, &v, now, p, CHART_BUF);
			shown++;
		}
	if (shown == 0)
		sbuf_puts(b, "<p class=\"none\">No probes are configured.</p>");
	sbuf_puts(b, "</div></section>");
	free(p);
}

void
page_incidents_section(struct sbuf *b, const struct monitor *m,
    int64_t now)
{
	const struct history *h = monitor_history(m);
	struct history_incident x[PAGE_INCIDENTS];
	size_t n;

	if (h == NULL)
		return;
	n = history_incidents(h, now - HISTORY_DAYS * HISTORY_DAY_MS, x,
	    PAGE_INCIDENTS);
	/* A probe's down rule's value is 1 while it fires: no news. */
	for (size_t i = 0; i < n; i++) {
		const struct rule_cfg *rc = config_rule(monitor_config(m),
		    x[i].rule);

		if (rc != NULL && rc->implicit)
			x[i].peak_known = false;
	}
	sbuf_puts(b, "<section id=\"incidents\"><h2>Incidents</h2>");
	page_incidents(b, x, n, now);
	sbuf_puts(b, "</section>");
}
