#include "http/page_chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/sbuf.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/store.h"
#include "http/page.h"

void
spark_init(struct spark *s, int64_t from, int64_t to, int64_t gap_ms,
    bool high_bad)
{
	memset(s, 0, sizeof(*s));
	s->from = from;
	s->to = to > from ? to : from + 1;
	s->gap_ms = gap_ms;
	s->high_bad = high_bad;
}

void
spark_add(struct spark *s, int64_t t, double v)
{
	size_t i;

	if (t < s->from || t > s->to || !isfinite(v))
		return;
	i = (size_t)((double)(t - s->from) / (double)(s->to - s->from) *
	    SPARK_SLOTS);
	if (i >= SPARK_SLOTS)
		i = SPARK_SLOTS - 1;
	if (!s->has[i] || (s->high_bad ? v > s->v[i] : v < s->v[i]))
		s->v[i] = v;
	if (!s->has[i] && s->any && s->gap_ms > 0 && t - s->last_t > s->gap_ms)
		s->brk[i] = true;
	s->has[i] = true;
	s->last_t = t;
	if (!s->any || v < s->lo)
		s->lo = v;
	if (!s->any || v > s->hi)
		s->hi = v;
	s->any = true;
	s->last = v;
}

static double
spark_y(double v, double lo, double hi, int h)
{
	const double pad = 3;

	return (double)h - pad - (v - lo) / (hi - lo) * ((double)h - 2 * pad);
}

void
spark_svg(struct sbuf *b, const struct spark *s, int w, int h,
    double warn, double crit, const char *cls, const char *label)
{
	double lo = s->lo, hi = s->hi;
	bool pen = false;
	size_t last = 0;

	if (isfinite(warn)) {
		lo = !s->any || warn < lo ? warn : lo;
		hi = !s->any || warn > hi ? warn : hi;
	}
	if (isfinite(crit)) {
		lo = !s->any && !isfinite(warn) ? crit : crit < lo ? crit : lo;
		hi = !s->any && !isfinite(warn) ? crit : crit > hi ? crit : hi;
	}
	/* A flat line sits in the middle of a range around it. */
	if (!(hi > lo)) {
		double d = fabs(hi) > 0 ? fabs(hi) * 0.5 : 1;

		lo -= d;
		hi += d;
	}
	sbuf_printf(b, "<svg class=\"spark %s\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", cls, w,
	    h, w, h);
	page_escape(b, label);
	sbuf_puts(b, "\" preserveAspectRatio=\"none\">");
	if (isfinite(warn))
		sbuf_printf(b, "<line class=\"t-warn\" x1=\"0\" x2=\"%d\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/>", w, spark_y(warn, lo, hi, h),
		    spark_y(warn, lo, hi, h));
	if (isfinite(crit))
		sbuf_printf(b, "<line class=\"t-crit\" x1=\"0\" x2=\"%d\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/>", w, spark_y(crit, lo, hi, h),
		    spark_y(crit, lo, hi, h));
	if (s->any) {
		sbuf_puts(b, "<path d=\"");
		for (size_t i = 0; i < SPARK_SLOTS; i++) {
			double x = (double)i * w / (SPARK_SLOTS - 1);

			if (!s->has[i])
				continue;
			if (s->brk[i])
				pen = false;
			sbuf_printf(b, "%s%.1f %.1f ", pen ? "L" : "M", x,
			    spark_y(s->v[i], lo, hi, h));
			pen = true;
			last = i;
		}
		/* The newest value as a dot: visible even when it is alone. */
		sbuf_printf(b, "\"/><circle cx=\"%.1f\" cy=\"%.1f\" "
		    "r=\"2.5\"/>", (double)last * w / (SPARK_SLOTS - 1),
		    spark_y(s->v[last], lo, hi, h));
	}
	sbuf_puts(b, "</svg>");
}

int64_t
spark_gap_ms(const struct config *cfg, const struct rule_cfg *rc)
{
	size_t p[2] = { rc->probe, rc->denominator != NULL ? rc->probe2 :
	    rc->probe };
	int64_t gap = 0;

	if (rc->stale_ms > 0)
		return rc->stale_ms;
	for (size_t k = 0; k < 2; k++) {
		const struct probe_cfg *pc;
		int64_t g;

		if (p[k] >= cfg->nprobes)
			continue;
		pc = &cfg->probes[p[k]];
		g = 2 * pc->interval_ms;
		if (pc->interval_ms + pc->timeout_ms > g)
			g = pc->interval_ms + pc->timeout_ms;
		if (g > gap)
			gap = g;
	}
	return gap;
}

/*
 * The raw value of last/avg/min/max/percentiles, a ratio, and a rate are
 * in the thresholds' terms; a sum, a count, a slope (whose unit is per
 * hour), or a delta (over a window, not between two samples) are not.
 */
bool
spark_rule(const struct store *st, const struct rule_cfg *rc,
    struct spark *sp)
{
	const struct series *n, *d;
	struct sample a, b = { 0, 0 }, x, pa = { 0, 0 }, pb = { 0, 0 };
	bool counter = rc->agg == AGG_RATE || rc->agg == AGG_DELTA, prev;
	bool have_b = false;
	size_t i, j;

	if (rc->metric != NULL) {
		n = store_find(st, rc->metric);
		if (n == NULL)
			return false;
		prev = false;
		for (i = series_since(n, sp->from); series_at(n, i, &a); i++) {
			if (!counter) {
				spark_add(sp, a.t, a.v);
			} else if (prev && a.t > pa.t) {
				/* A drop is a restart: count from zero. */
				double inc = a.v >= pa.v ? a.v - pa.v : a.v;

				spark_add(sp, a.t, rc->agg == AGG_RATE ? inc /
				    ((double)(a.t - pa.t) / 1e3) : inc);
			}
			pa = a;
			prev = true;
		}
		return rc->agg != AGG_SUM && rc->agg != AGG_COUNT &&
		    rc->agg != AGG_SLOPE && rc->agg != AGG_DELTA;
	}
	n = store_find(st, rc->numerator);
	d = store_find(st, rc->denominator);
	if (n == NULL || d == NULL)
		return false;
	/*
	 * The denominator as it stood at each numerator sample: its latest
	 * at or before it (the same run's, from one probe), starting from
	 * the last one before the span. Pairing equal times only drew
	 * nothing for a ratio across two probes.
	 */
	j = series_since(d, sp->from);
	if (j > 0)
		j--;
	prev = false;
	for (i = series_since(n, sp->from); series_at(n, i, &a); i++) {
		while (series_at(d, j, &x) && x.t <= a.t) {
			b = x;
			have_b = true;
			j++;
		}
		/* None yet, or gone stale: no value rather than a made-up one. */
		if (!have_b || (sp->gap_ms > 0 && a.t - b.t > sp->gap_ms)) {
			prev = false;
			continue;
		}
		if (!counter) {
			if (b.v != 0)
				spark_add(sp, a.t, a.v / b.v * rc->scale);
		} else if (prev && b.v > pb.v && a.v >= pa.v) {
			spark_add(sp, a.t, (a.v - pa.v) / (b.v - pb.v) *
			    rc->scale);
		}
		pa = a;
		pb = b;
		prev = true;
	}
	return true;
}

/*
 * An hour ago, or the oldest sample when there is less history than that
 * (a fresh vigild), so the line fills the box instead of sitting in its
 * last pixel.
 */
int64_t
spark_rule_start(const struct store *st, const struct rule_cfg *rc,
    int64_t from)
{
	const char *names[2] = { rc->metric != NULL ? rc->metric :
	    rc->numerator, rc->metric != NULL ? NULL : rc->denominator };
	int64_t start = from;

	for (size_t k = 0; k < 2 && names[k] != NULL; k++) {
		const struct series *s = store_find(st, names[k]);
		struct sample x;

		if (s != NULL && series_at(s, series_since(s, from), &x) &&
		    x.t > start)
			start = x.t;
	}
	return start;
}

/* "14:03 UTC" */
static void
hhmm(int64_t t, char *buf, size_t len)
{
	char iso[40];

	clock_iso(t, iso, sizeof(iso));
	snprintf(buf, len, "%.5s", iso + 11);
}

static double
chart_x(int64_t t, int64_t from, int64_t to, int w)
{
	if (t < from)
		t = from;
	if (t > to)
		t = to;
	return (double)(t - from) / (double)(to - from) * w;
}

/* 0: a step with a response time; 1: no data; 2: runs failed. */
static int
step_kind(const struct history_point *p)
{
	if (!p->has_value || p->ok + p->failed == 0)
		return 1;
	return p->failed > 0 ? 2 : 0;
}

/* The grey and red stretches, merged, each with its times as a title. */
static void
chart_marks(struct sbuf *b, const struct history_point *p, size_t n,
    int64_t step, int64_t from, int64_t to, int w, int h)
{
	for (size_t i = 0; i < n;) {
		int kind = step_kind(&p[i]);
		size_t k = i;
		uint32_t failed = 0, runs = 0;
		double x0, x1;
		char t0[16], t1[16];

		while (k < n && step_kind(&p[k]) == kind) {
			failed += p[k].failed;
			runs += p[k].ok + p[k].failed;
			k++;
		}
		if (kind != 0) {
			x0 = chart_x(p[i].t, from, to, w);
			x1 = chart_x(p[k - 1].t + step, from, to, w);
			/* Narrower than that, a minute in a day is not seen. */
			if (x1 - x0 < 2) {
				x0 = x0 > w - 2 ? w - 2 : x0;
				x1 = x0 + 2;
			}
			hhmm(p[i].t, t0, sizeof(t0));
			hhmm(p[k - 1].t + step, t1, sizeof(t1));
			sbuf_printf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"0\" "
			    "width=\"%.1f\" height=\"%d\" data-from=\"%lld\" "
			    "data-to=\"%lld\"><title>", kind == 1 ? "gap" :
			    "down", x0, x1 - x0, h, (long long)p[i].t,
			    (long long)(p[k - 1].t + step));
			if (kind == 1)
				sbuf_printf(b, "%s&ndash;%s UTC: no data", t0,
				    t1);
			else
				sbuf_printf(b, "%s&ndash;%s UTC: %u of %u runs "
				    "failed", t0, t1, failed, runs);
			sbuf_puts(b, "</title></rect>");
		}
		i = k;
	}
}

static void
chart_line(struct sbuf *b, const struct history_point *p, size_t n,
    int64_t step, int64_t from, int64_t to, int w, int h, double hi,
    bool worst, const char *cls)
{
	bool pen = false, any = false;

	for (size_t i = 0; i < n; i++) {
		double v = worst ? p[i].max : p[i].avg;

		if (step_kind(&p[i]) != 0 || !isfinite(v)) {
			pen = false;
			continue;
		}
		if (!any)
			sbuf_printf(b, "<path class=\"%s\" d=\"", cls);
		any = true;
		sbuf_printf(b, "%s%.1f %.1f ", pen ? "L" : "M",
		    chart_x(p[i].t + step / 2, from, to, w),
		    spark_y(v, 0, hi, h));
		pen = true;
	}
	if (any)
		sbuf_puts(b, "\"/>");
}

void
chart_svg(struct sbuf *b, const struct history_point *p, size_t n,
    int64_t from, int64_t to, int w, int h, const char *label)
{
	int64_t step = n > 1 ? p[1].t - p[0].t : to - from;
	double hi = 0;

	if (to <= from)
		to = from + 1;
	for (size_t i = 0; i < n; i++)
		if (step_kind(&p[i]) == 0 && isfinite(p[i].max) &&
		    p[i].max > hi)
			hi = p[i].max;
	if (!(hi > 0))
		hi = 1;
	sbuf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" "
	    "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"", w, h);
	page_escape(b, label);
	sbuf_puts(b, "\">");
	chart_marks(b, p, n, step, from, to, w, h);
	chart_line(b, p, n, step, from, to, w, h, hi * 1.05, true, "worst");
	chart_line(b, p, n, step, from, to, w, h, hi * 1.05, false, "avg");
	sbuf_puts(b, "</svg>");
}
