/*
 * page: GET /, the status page for a person in a browser. Server-rendered
 * HTML with inline CSS and inline SVG, no script and no external asset, so
 * it works from a laptop on the ops host's tunnel and leaks nothing to a
 * CDN. Read top to bottom it answers, in order: is it healthy (a coloured
 * verdict), what is wrong and since when (firing alerts first, the ones
 * they suppress folded under them), who silenced what until when, how
 * each probe did over 90 days and the last 24 hours and what fired when
 * (page_history.h), how the key numbers moved in the last hour
 * (sparklines of every rule's series, alerting ones first; page_chart.h),
 * and what each probe saw last. It reloads itself every PAGE_REFRESH_S
 * seconds; dark when the reader's system is, stacked on a phone.
 */
#ifndef VIGIL_PAGE_H
#define VIGIL_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct monitor;
struct sbuf;

#define PAGE_REFRESH_S 10

/* The release gate's window, when there is one, for its own line. */
struct page_release {
	const char *version;
	bool open, warming_up;
	int stage_weight;		/* 0: no step yet */
	const char *verdict;		/* so far: pass, warn, ... */
	const char *reason;
};

/* The page (malloc'd), or NULL when out of memory. */
char *page_html(const struct monitor *m, const struct page_release *rel);

/* Appends s with &, <, >, " and ' escaped. */
void page_escape(struct sbuf *b, const char *s);
/* "14:03:09 UTC" (the date too when it is not now's day). */
void page_clock_text(int64_t t, int64_t now, char *buf, size_t len);

#endif
