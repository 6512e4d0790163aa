/*
 * page: GET /, the status page for a person in a browser. Server-rendered
 * HTML with inline CSS and inline SVG, no script and no external asset, so
 * it works from a laptop on the ops host's tunnel and leaks nothing to a
 * CDN. Read top to bottom it answers, in order: is it healthy (a coloured
 * verdict), what is wrong and since when (firing alerts first), who
 * silenced what until when, how the key numbers moved in the last hour
 * (sparklines of every rule's series, alerting ones first), and what each
 * probe saw last. It reloads itself every PAGE_REFRESH_S seconds.
 */
#ifndef VIGIL_PAGE_H
#define VIGIL_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct monitor;
struct sbuf;

#define PAGE_REFRESH_S 10
#define SPARK_SLOTS 120

/* The page (malloc'd), or NULL when out of memory. */
/* The release gate's window, when there is one, for its own line. */
struct page_release {
	const char *version;
	bool open, warming_up;
	int stage_weight;		/* 0: no step yet */
	const char *verdict;		/* so far: pass, warn, ... */
	const char *reason;
};

char *page_html(const struct monitor *m, const struct page_release *rel);

/* Appends s with &, <, >, " and ' escaped. */
void page_escape(struct sbuf *b, const char *s);

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

#endif
