/*
 * page_chart: the page's line charts, as inline SVG drawn on the server.
 * A sparkline shows the series a rule judges over the last hour (from the
 * in-memory store); a response-time chart shows a probe's last 24 hours
 * (from the history). Both break the line where there was no data: a
 * straight line across an outage would say the service answered.
 */
#ifndef VIGIL_PAGE_CHART_H
#define VIGIL_PAGE_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct history_point;
struct rule_cfg;
struct sbuf;
struct store;

#define SPARK_SLOTS 120

/*
 * A sparkline's data: samples between from and to, bucketed into
 * SPARK_SLOTS slots. Each slot keeps the worst value that fell in it (the
 * highest when high is bad), so a spike is never averaged away. Where two
 * samples are further apart than gap_ms (the data went stale) the line
 * breaks: a gap, not a made-up value.
 */
struct spark {
	int64_t from, to, gap_ms;
	bool high_bad;
	double v[SPARK_SLOTS];
	bool has[SPARK_SLOTS];
	bool brk[SPARK_SLOTS];	/* the line starts afresh here */
	double lo, hi, last;
	int64_t last_t;
	bool any;
};

/* gap_ms 0: never break the line. */
void spark_init(struct spark *s, int64_t from, int64_t to, int64_t gap_ms,
    bool high_bad);
void spark_add(struct spark *s, int64_t t, double v);
/*
 * Appends an <svg> of w x h pixels; the thresholds (NaN: none) are drawn
 * as dashed lines and widen the vertical range, so the distance to them
 * is what the eye sees. label is the SVG's accessible name.
 */
void spark_svg(struct sbuf *b, const struct spark *s, int w, int h,
    double warn, double crit, const char *cls, const char *label);

/*
 * How far apart two of rc's samples may be before its line breaks: its
 * stale_after when set, else two runs of its probe(s), or one run and its
 * timeout, whichever is longer; a sample later than that means runs
 * failed or never happened.
 */
int64_t spark_gap_ms(const struct config *cfg, const struct rule_cfg *rc);
/*
 * Feeds the series rc judges into sp, in the rule's unit where it can be.
 * A ratio's two series may come from two probes, whose samples never
 * share a time: each numerator sample is divided by the denominator as it
 * stood then. Returns whether the rule's thresholds apply to the line.
 */
bool spark_rule(const struct store *st, const struct rule_cfg *rc,
    struct spark *sp);
/* Where rc's line starts: from, or its oldest sample when later. */
int64_t spark_rule_start(const struct store *st, const struct rule_cfg *rc,
    int64_t from);

/*
 * A probe's response time, n history points from..to (a step each), as an
 * <svg> w x h drawn to fill its box: the average per step as a line, the
 * worst as a faint band; grey where there was no data, red where runs
 * failed (the line breaks on both: a failed run's duration is not a
 * response time). label is the SVG's accessible name.
 */
void chart_svg(struct sbuf *b, const struct history_point *p, size_t n,
    int64_t from, int64_t to, int w, int h, const char *label);

#endif
