/*
 * page_history: what the page remembers, drawn from the history
 * (engine/history.h): a probe's 90 days as one bar a day coloured by its
 * uptime, its uptime over 24 h, 7 d, 30 d and 90 d, and the incident
 * timeline. Each renderer takes the history's arrays, not the history,
 * so a table of days or incidents is enough to test it.
 */
#ifndef VIGIL_PAGE_HISTORY_H
#define VIGIL_PAGE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct history_day;
struct history_incident;
struct monitor;
struct sbuf;

/* The uptime windows the page and the badges show, shortest first. */
#define PAGE_UPTIME_WINDOWS 4
extern const struct page_window {
	const char *name;	/* "24h" */
	int64_t ms;
} page_windows[PAGE_UPTIME_WINDOWS];

/* "d-ok", "d-minor", "d-major", "d-bad" by a day's uptime; "d-none". */
const char *page_day_class(const struct history_day *d);
/*
 * "99.95": a percentage of uptime, cut rather than rounded, so only a
 * clean day reads 100.
 */
void page_pct(double pct, char *buf, size_t len);

/*
 * The 90 day bars of a probe, oldest left: days (n of them, oldest first,
 * as history_days gives them) fill the right end; days before them are
 * drawn empty. Each bar's title has the day's numbers.
 */
void page_days_svg(struct sbuf *b, const struct history_day *days, size_t n,
    int64_t now, const char *probe);

/* The incidents (newest first), in an <ol>; now for the open ones. */
void page_incidents(struct sbuf *b, const struct history_incident *x,
    size_t n, int64_t now);

/*
 * The sections: each probe's uptime, day bars and last 24 h of response
 * time (the probes that are down first, at most max of them); then the
 * incidents of the history kept. Nothing without a history.
 */
void page_history_section(struct sbuf *b, const struct monitor *m,
    int64_t now, size_t max);
void page_incidents_section(struct sbuf *b, const struct monitor *m,
    int64_t now);

#endif
