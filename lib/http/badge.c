#include "http/badge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/sbuf.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "http/api_int.h"
#include "http/page.h"
#include "http/page_history.h"

#define BADGE_MAX (16 * 1024)
/* A name longer than this is cut: a badge is a line in a README. */
#define BADGE_TEXT_MAX 64

const char *
badge_color(const char *state)
{
	static const struct {
		const char *state, *color;
	} colors[] = {
		{ "up", "#4c1" }, { "ok", "#4c1" },
		{ "down", "#e05d44" }, { "critical", "#e05d44" },
		{ "warning", "#dfb317" }, { "degraded", "#dfb317" },
		{ "pending", "#9f9f9f" }, { "unknown", "#9f9f9f" },
	};

	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
		if (strcmp(state, colors[i].state) == 0)
			return colors[i].color;
	return "#9f9f9f";
}

/*
 * Verdana at 11 px, in tenths of a pixel, roughly: shields.io measures
 * each glyph; this is close enough that the text never spills.
 */
static int
text_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (strchr("iIl.,:;|!' ", c) != NULL)
			w += 40;
		else if (strchr("fjrt()[]-", c) != NULL)
			w += 52;
		else if (strchr("mwMW%@", c) != NULL)
			w += 105;
		else if (c >= 'A' && c <= 'Z')
			w += 78;
		else if ((c & 0xc0) == 0x80)
			continue;	/* a UTF-8 continuation byte */
		else
			w += 70;
	}
	return (w + 9) / 10;
}

/* The text with its shadow, as shields.io draws it. */
static void
badge_text(struct sbuf *b, double x, const char *s)
{
	sbuf_printf(b, "<text x=\"%.1f\" y=\"15\" fill=\"#010101\" "
	    "fill-opacity=\".3\">", x);
	page_escape(b, s);
	sbuf_printf(b, "</text><text x=\"%.1f\" y=\"14\">", x);
	page_escape(b, s);
	sbuf_puts(b, "</text>");
}

char *
badge_svg(const char *label, const char *message, const char *color)
{
	char l[BADGE_TEXT_MAX + 4];
	int lw, mw;
	struct sbuf b;

	snprintf(l, sizeof(l), "%s", label);
	if (strlen(label) > BADGE_TEXT_MAX)
		memcpy(l + BADGE_TEXT_MAX - 3, "...", 4);
	lw = text_width(l) + 10;
	mw = text_width(message) + 10;
	sbuf_init(&b, BADGE_MAX);
	sbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"20\" role=\"img\" aria-label=\"", lw + mw);
	page_escape(&b, l);
	sbuf_puts(&b, ": ");
	page_escape(&b, message);
	sbuf_puts(&b, "\"><title>");
	page_escape(&b, l);
	sbuf_puts(&b, ": ");
	page_escape(&b, message);
	sbuf_printf(&b, "</title><linearGradient id=\"s\" x2=\"0\" "
	    "y2=\"100%%\"><stop offset=\"0\" stop-color=\"#bbb\" "
	    "stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/>"
	    "</linearGradient><clipPath id=\"r\"><rect width=\"%d\" "
	    "height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath><g "
	    "clip-path=\"url(#r)\"><rect width=\"%d\" height=\"20\" "
	    "fill=\"#555\"/><rect class=\"state\" x=\"%d\" width=\"%d\" "
	    "height=\"20\" fill=\"", lw + mw, lw, lw, mw);
	page_escape(&b, color);
	sbuf_printf(&b, "\"/><rect width=\"%d\" height=\"20\" "
	    "fill=\"url(#s)\"/></g><g fill=\"#fff\" text-anchor=\"middle\" "
	    "font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" "
	    "font-size=\"11\">", lw + mw);
	badge_text(&b, lw / 2.0, l);
	badge_text(&b, lw + mw / 2.0, message);
	sbuf_puts(&b, "</g></svg>\n");
	return sbuf_take(&b);
}

/* A probe's state ("up"), or NULL when there is no such probe. */
static const char *
probe_state(const struct monitor *m, const char *name)
{
	struct probe_view v;

	for (size_t i = 0; monitor_probe_view(m, i, &v); i++)
		if (strcmp(v.name, name) == 0)
			return probe_state_name(v.state);
	return NULL;
}

/* A rule's state ("ok", "warning", "critical"), NULL: no such rule. */
static const char *
rule_state(const struct monitor *m, const char *name)
{
	const struct ruleset *rs = monitor_rules(m);
	const struct rule_cfg *rc;
	const struct rule_status *st;

	for (size_t i = 0; (rc = ruleset_cfg(rs, i)) != NULL; i++) {
		if (strcmp(rc->name, name) != 0)
			continue;
		st = ruleset_status(rs, i);
		if (st->state == RULE_FIRING)
			return st->sev == SEV_CRITICAL ? "critical" : "warning";
		return rule_state_name(st->state);
	}
	return NULL;
}

/* The window ?window= names, 24h when none; NULL when it names none. */
static const struct page_window *
badge_window(const char *q)
{
	if (q == NULL)
		return &page_windows[0];
	for (size_t i = 0; i < PAGE_UPTIME_WINDOWS; i++)
		if (strcmp(q, page_windows[i].name) == 0)
			return &page_windows[i];
	return NULL;
}

static enum MHD_Result
badge_send(struct MHD_Connection *c, unsigned code, char *svg)
{
	/* An SVG opened on its own is a document: it may run nothing. */
	static const char *const hdrs[] = {
		"Content-Security-Policy", "default-src 'none'; style-src "
		    "'unsafe-inline'",
		NULL,
	};
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (svg == NULL)
		return api_send(c, code, "image/svg+xml", NULL, NULL);
	r = api_response("image/svg+xml", svg, hdrs);
	if (r == NULL)
		return MHD_NO;
	/* README hosts proxy badges: a minute old is fresh enough. */
	MHD_del_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    code == MHD_HTTP_OK ? "max-age=60" : "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
api_badge_get(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg)
{
	const struct page_window *w = badge_window(
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "window"));
	size_t n = strlen(arg);
	const char *state;
	char name[256], msg[64];

	(void)rq;
	if (w == NULL)
		return api_error(c, MHD_HTTP_BAD_REQUEST, "window: one of 24h, "
		    "7d, 30d, 90d");
	if (n < 5 || n - 4 >= sizeof(name) || strcmp(arg + n - 4, ".svg") != 0)
		return badge_send(c, MHD_HTTP_NOT_FOUND, badge_svg("badge",
		    "not found", badge_color("unknown")));
	memcpy(name, arg, n - 4);
	name[n - 4] = '\0';
	state = probe_state(a->m, name);
	if (state != NULL) {
		double pct;
		char p[16];

		/* "up 99.95%": the state, and the uptime when there is one. */
		if (history_uptime(monitor_history(a->m), name,
		    clock_wall_ms(), w->ms, &pct)) {
			page_pct(pct, p, sizeof(p));
			snprintf(msg, sizeof(msg), "%s %s%%", state, p);
		} else {
			snprintf(msg, sizeof(msg), "%s", state);
		}
	} else if ((state = rule_state(a->m, name)) != NULL) {
		snprintf(msg, sizeof(msg), "%s", state);
	} else {
		return badge_send(c, MHD_HTTP_NOT_FOUND, badge_svg(name,
		    "not found", badge_color("unknown")));
	}
	return badge_send(c, MHD_HTTP_OK, badge_svg(name, msg,
	    badge_color(state)));
}
