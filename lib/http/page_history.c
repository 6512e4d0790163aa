#include "http/page_history.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/sbuf.h"
#include "engine/history.h"
#include "engine/ruleset.h"
#include "http/page.h"

#define DAY_W 10	/* a bar and its gap, in viewBox units */
#define DAY_H 34

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

/* "14:03:09 UTC", with the date when it is not today's. */
static void
when(int64_t t, int64_t now, char *buf, size_t len)
{
	char iso[40], today[40];

	clock_iso(t, iso, sizeof(iso));
	clock_iso(now, today, sizeof(today));
	if (strncmp(iso, today, 10) == 0)
		snprintf(buf, len, "%.8s UTC", iso + 11);
	else
		snprintf(buf, len, "%.10s %.8s UTC", iso, iso + 11);
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

		when(x[i].start, now, t0, sizeof(t0));
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
			when(x[i].end, now, t1, sizeof(t1));
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
