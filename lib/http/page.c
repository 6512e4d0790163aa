#include "http/page.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alerts.h"
#include "engine/maint.h"
#include "base/humanize.h"
#include "base/clock.h"
#include "config/config.h"
#include "base/duration.h"
#include "http/health.h"
#include "http/page_chart.h"
#include "http/page_history.h"
#include "engine/monitor.h"
#include "probe/probe.h"
#include "engine/ruleset.h"
#include "base/sbuf.h"
#include "engine/silence.h"
#include "engine/store.h"

/* A page larger than this is refused rather than cut short. */
#define PAGE_MAX (2 * 1024 * 1024)
/* Sparklines shown at most; alerting rules come first. */
#define PAGE_MAX_CARDS 24
#define HOUR_MS (3600LL * 1000)

void
page_escape(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		size_t n = strcspn(s, "&<>\"'");

		sbuf_add(b, s, n);
		s += n;
		switch (*s) {
		case '&':
			sbuf_puts(b, "&amp;");
			break;
		case '<':
			sbuf_puts(b, "&lt;");
			break;
		case '>':
			sbuf_puts(b, "&gt;");
			break;
		case '"':
			sbuf_puts(b, "&quot;");
			break;
		case '\'':
			sbuf_puts(b, "&#39;");
			break;
		default:
			return;
		}
	}
}

/* "3m12s" */
static void
ago(int64_t ms, char *buf, size_t len)
{
	duration_format(ms > 0 ? ms / 1000 * 1000 : 0, buf, len);
}

void
page_clock_text(int64_t t, int64_t now, char *buf, size_t len)
{
	char iso[40], today[40];

	clock_iso(t, iso, sizeof(iso));
	clock_iso(now, today, sizeof(today));
	if (strncmp(iso, today, 10) == 0)
		snprintf(buf, len, "%.8s UTC", iso + 11);
	else
		snprintf(buf, len, "%.10s %.8s UTC", iso, iso + 11);
}

static const char *
state_class(const struct rule_status *st)
{
	if (st->suppressed)
		return "suppressed";
	switch (st->state) {
	case RULE_FIRING:
		return st->sev == SEV_CRITICAL ? "critical" : "warning";
	case RULE_PENDING:
		return "pending";
	case RULE_UNKNOWN:
		return "unknown";
	default:
		return "ok";
	}
}

static void
value_text(const struct rule_status *st, const struct rule_cfg *rc,
    char *buf, size_t len)
{
	if (!st->known) {
		snprintf(buf, len, "unknown");
		return;
	}
	/* "5.53 GB/h", "1.2 s": the unit read along, never an exponent. */
	human_value(st->value, rc->unit, buf, len);
}

static const char page_css[] =
    "body{margin:0;font:15px/1.4 system-ui,-apple-system,'Segoe UI',"
    "sans-serif;color:#1d232b;background:#f4f5f7}"
    "header{padding:18px 24px;color:#fff}"
    "header.pass{background:#1e7f45}header.warn{background:#b7791f}"
    "header.fail{background:#c0392b}"
    ".verdict{font-size:34px;font-weight:700;letter-spacing:1px}"
    ".why{font-size:17px;margin-top:2px}"
    ".meta{font-size:13px;opacity:.85;margin-top:6px}"
    "main{padding:8px 24px 24px;max-width:1200px}"
    "h2{font-size:17px;margin:22px 0 8px}"
    "ul.alerts{list-style:none;padding:0;margin:0}"
    ".alert{background:#fff;border-left:6px solid #999;padding:8px 12px;"
    "margin:6px 0;border-radius:4px}"
    ".alert.critical{border-color:#c0392b}.alert.warning{border-color:"
    "#d69e2e}.alert.pending{border-color:#5a67d8}.alert.unknown{"
    "border-color:#718096}.alert.suppressed{opacity:.65}"
    ".badge{display:inline-block;font-size:12px;font-weight:700;"
    "padding:1px 7px;border-radius:3px;color:#fff;background:#718096;"
    "margin-right:6px}"
    ".critical .badge{background:#c0392b}.warning .badge{background:"
    "#d69e2e}.pending .badge{background:#5a67d8}"
    ".since{color:#555;font-size:13px;margin-left:6px}"
    ".summary{margin-top:2px}.explain{color:#555;font-size:13px}"
    ".silenced{margin-top:4px;font-size:13px;color:#6b46c1}"
    ".maint{padding:10px 24px;background:#e9d8fd;color:#44337a;"
    "font-size:15px}.maint p{margin:2px 0}.maint .next{font-size:13px}"
    ".none{color:#555}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}"
    "figure.card{margin:0;background:#fff;border-radius:4px;padding:8px "
    "10px;width:260px;border-top:4px solid #2f855a}"
    "figure.card.critical{border-color:#c0392b}figure.card.warning{"
    "border-color:#d69e2e}figure.card.pending{border-color:#5a67d8}"
    "figure.card.unknown,figure.card.suppressed{border-color:#718096}"
    "figcaption{display:flex;justify-content:space-between;gap:6px}"
    ".name{font-weight:600;overflow:hidden;text-overflow:ellipsis}"
    ".val{font-weight:700}"
    ".range{font-size:12px;color:#666}"
    "svg.spark{display:block;margin:4px 0;background:#fafbfc}"
    "svg.spark path{fill:none;stroke:#2f855a;stroke-width:1.6}"
    "svg.spark.critical path{stroke:#c0392b}svg.spark.warning path{"
    "stroke:#d69e2e}svg.spark.pending path{stroke:#5a67d8}"
    "svg.spark.unknown path,svg.spark.suppressed path{stroke:#718096}"
    "svg.spark circle{fill:#2f855a}svg.spark.critical circle{fill:#c0392b}"
    "svg.spark.warning circle{fill:#d69e2e}svg.spark.pending circle{"
    "fill:#5a67d8}svg.spark.unknown circle,svg.spark.suppressed circle{"
    "fill:#718096}"
    "line.t-warn{stroke:#d69e2e;stroke-dasharray:4 3;stroke-width:1}"
    "line.t-crit{stroke:#c0392b;stroke-dasharray:4 3;stroke-width:1}"
    "table{border-collapse:collapse;background:#fff;width:100%}"
    "th,td{text-align:left;padding:6px 10px;border-bottom:1px solid "
    "#e2e5e9;vertical-align:top;font-size:14px}"
    "td.up{color:#1e7f45;font-weight:700}td.down{color:#c0392b;"
    "font-weight:700}td.pending{color:#718096}"
    ".reason{color:#c0392b}.target{color:#666;font-size:12px}"
    "footer{padding:0 24px 24px;font-size:13px;color:#666}"
    "footer a{color:#2b6cb0}"
    ".alert,td,.summary{overflow-wrap:anywhere}"
    "details.folded{margin-top:6px;font-size:14px}"
    "details.folded summary{cursor:pointer;color:#555}"
    "details.folded ul.alerts{margin-left:8px}"
    ".hist{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(min(100%,540px),1fr));gap:10px}"
    "article.ph{background:#fff;border-radius:4px;padding:8px 10px;"
    "min-width:0}"
    ".ph-head{display:flex;flex-wrap:wrap;justify-content:space-between;"
    "gap:4px 12px;align-items:baseline}"
    ".ph-head .up{color:#1e7f45;font-weight:700}.ph-head .down{color:"
    "#c0392b;font-weight:700}.ph-head .pending{color:#718096}"
    ".uptimes{font-size:13px;color:#555}.uptimes b{color:#1d232b}"
    ".uptimes span{white-space:nowrap}"
    "svg.days,svg.chart{display:block;width:100%;margin-top:6px}"
    "svg.days{height:34px}svg.chart{height:64px;background:#fafbfc}"
    ".d-ok{fill:#2f9e5a}.d-minor{fill:#9bc53d}.d-major{fill:#e09f3e}"
    ".d-bad{fill:#c0392b}.d-none{fill:#d5d9de}"
    "svg.chart rect.gap{fill:#cfd4da;opacity:.7}"
    "svg.chart rect.down{fill:#c0392b;opacity:.35}"
    "svg.chart path{fill:none;stroke-width:1.4;"
    "vector-effect:non-scaling-stroke}"
    "svg.chart path.avg{stroke:#2b6cb0}svg.chart path.worst{stroke:"
    "#90cdf4}"
    ".axis{display:flex;justify-content:space-between;gap:8px;"
    "font-size:12px;color:#666}"
    "ol.incidents{list-style:none;padding:0;margin:0}"
    ".incident{background:#fff;border-left:6px solid #d69e2e;padding:6px "
    "12px;margin:6px 0;border-radius:4px;font-size:14px}"
    ".incident.critical{border-color:#c0392b}"
    ".incident.critical .badge{background:#c0392b}.incident.warning "
    ".badge{background:#d69e2e}"
    /* A phone: cards fill the width, the table's rows become cards. */
    "@media(max-width:640px){header{padding:14px 14px}"
    ".verdict{font-size:28px}main{padding:4px 12px 16px}"
    "footer{padding:0 12px 16px}"
    "figure.card{width:auto;flex:1 1 100%}svg.spark{width:100%}"
    "#probes table,#probes tbody,#probes tr,#probes td{display:block;"
    "width:auto}#probes thead{display:none}"
    "#probes tr{margin:6px 0;border-radius:4px;background:#fff;"
    "padding:4px 0}#probes td{border:0;padding:2px 10px}"
    "#probes td[data-label]::before{content:attr(data-label) ': ';"
    "color:#666}}"
    /* Dark mode, as the reader's system asks. */
    "@media(prefers-color-scheme:dark){body{color:#d9dee5;background:"
    "#14181d}.alert,figure.card,table,article.ph,.incident,#probes tr{"
    "background:#1e242b}th,td{border-color:#2e353e}"
    ".since,.explain,.none,.range,.target,.axis,.uptimes,footer,"
    "details.folded summary{color:#9ba5b0}.uptimes b{color:#e6eaef}"
    "svg.spark,svg.chart{background:#181d23}.d-none{fill:#39414b}"
    "svg.chart rect.gap{fill:#4a525c}.silenced{color:#b794f4}"
    ".maint{background:#322659;color:#e9d8fd}"
    "svg.chart path.avg{stroke:#63b3ed}svg.chart path.worst{stroke:"
    "#2c5282}"
    "footer a{color:#90cdf4}td.up,.ph-head .up{color:#48bb78}"
    "td.down,.ph-head .down,.reason{color:#fc8181}}";

/* Firing in a maintenance window: /health passes it, so does the verdict. */
static bool
planned_alert(const struct alert *x)
{
	return x->maint != NULL && x->silence == NULL && x->rank <= 1;
}

static void
banner(struct sbuf *b, const struct monitor *m, const struct alert *a,
    size_t n, int64_t now)
{
	unsigned crit = 0, warn = 0, other = 0, held = 0, planned = 0;
	struct health h;
	char t[48];

	health_eval(m, &h);
	for (size_t i = 0; i < n; i++) {
		if (planned_alert(&a[i]))
			planned++;
		else if (a[i].v.st->suppressed)
			held++;
		else if (a[i].rank == 0)
			crit++;
		else if (a[i].rank == 1)
			warn++;
		else
			other++;
	}
	sbuf_printf(b, "<header class=\"%s\" id=\"verdict\"><div "
	    "class=\"verdict\">%s</div><div class=\"why\">", h.status,
	    strcmp(h.status, "fail") == 0 ? "FAIL" :
	    strcmp(h.status, "warn") == 0 ? "WARN" : "PASS");
	if (crit + warn > 0) {
		if (crit > 0)
			sbuf_printf(b, "%u critical", crit);
		if (warn > 0)
			sbuf_printf(b, "%s%u warning", crit > 0 ? " and " : "",
			    warn);
		sbuf_printf(b, " alert%s firing", crit + warn == 1 ? "" : "s");
		if (crit + warn <= 3) {
			sbuf_puts(b, ": ");
			for (size_t i = 0, k = 0; i < n; i++) {
				if (a[i].rank > 1 || planned_alert(&a[i]))
					continue;
				sbuf_puts(b, k++ > 0 ? ", " : "");
				page_escape(b, a[i].v.cfg->name);
			}
		}
	} else if (planned > 0) {
		sbuf_printf(b, "%u alert%s firing in maintenance, its "
		    "notifications held", planned, planned == 1 ? "" : "s");
	} else if (h.output[0] != '\0') {
		page_escape(b, h.output);
	} else {
		sbuf_puts(b, "Every rule is within its thresholds.");
	}
	if (other > 0 && crit + warn > 0)
		sbuf_printf(b, " (and %u pending or unknown)", other);
	if (planned > 0 && crit + warn > 0)
		sbuf_printf(b, "; %u more in maintenance", planned);
	if (held > 0 && crit + warn > 0)
		sbuf_printf(b, "; %u more suppressed behind %s", held,
		    crit + warn == 1 ? "it" : "them");
	page_clock_text(now, now, t, sizeof(t));
	sbuf_printf(b, "</div><div class=\"meta\">vigild %s &middot; as of "
	    "%s &middot; this page refreshes every %d s</div></header>",
	    VIGIL_VERSION, t, PAGE_REFRESH_S);
}

/* A window's occurrence: its name, when, until when, and its comment. */
static void
maint_line(struct sbuf *b, const struct maint_view *v, bool next,
    int64_t now)
{
	char at[48], left[32];

	sbuf_puts(b, next ? "<p class=\"next\">Next maintenance: <b>" :
	    "<p class=\"active\">In maintenance: <b>");
	page_escape(b, v->w->name);
	sbuf_puts(b, "</b>");
	if (v->w->kind != MAINT_ONCE) {
		sbuf_puts(b, " (");
		page_escape(b, v->w->spec);
		sbuf_puts(b, " ");
		page_escape(b, v->w->tzname);
		sbuf_puts(b, ")");
	}
	if (next) {
		page_clock_text(v->start, now, at, sizeof(at));
		ago(v->start - now, left, sizeof(left));
		sbuf_printf(b, " at %s (in %s)", at, left);
	} else {
		page_clock_text(v->end, now, at, sizeof(at));
		ago(v->end - now, left, sizeof(left));
		sbuf_printf(b, " until %s (%s left); ", at, left);
		sbuf_puts(b, v->w->all ? "every rule's" :
		    "the rules it covers have their");
		sbuf_puts(b, " notifications held, and /health stays pass");
	}
	if (v->w->comment[0] != '\0') {
		sbuf_puts(b, ": ");
		page_escape(b, v->w->comment);
	}
	sbuf_puts(b, "</p>");
}

/*
 * Under the verdict, before anything else: the maintenance windows in
 * force (why a failing rule pages no one), else the next one if it starts
 * within a day. Nothing when there is neither.
 */
#define PAGE_MAINT_SHOWN 4
static void
maint_strip(struct sbuf *b, const struct monitor *m, int64_t now)
{
	struct maint_view v[PAGE_MAINT_SHOWN];
	size_t n = maint_active(monitor_maint(m), now, v, PAGE_MAINT_SHOWN);
	size_t shown = n < PAGE_MAINT_SHOWN ? n : PAGE_MAINT_SHOWN;

	if (n == 0) {
		if (maint_next(monitor_maint(m), now, v, 1) == 0 ||
		    v[0].start - now > 86400LL * 1000)
			return;
		sbuf_puts(b, "<section class=\"maint\" id=\"maintenance\">");
		maint_line(b, &v[0], true, now);
		sbuf_puts(b, "</section>");
		return;
	}
	sbuf_puts(b, "<section class=\"maint\" id=\"maintenance\">");
	for (size_t i = 0; i < shown; i++)
		maint_line(b, &v[i], false, now);
	if (n > shown)
		sbuf_printf(b, "<p>and %zu more windows (see /status)</p>",
		    n - shown);
	sbuf_puts(b, "</section>");
}

static void
silence_line(struct sbuf *b, const struct silence *x, int64_t now)
{
	char until[48], left[32];

	page_clock_text(x->expires, now, until, sizeof(until));
	ago(x->expires - now, left, sizeof(left));
	sbuf_printf(b, "Silenced (#%llu) by ", (unsigned long long)x->id);
	page_escape(b, x->author);
	sbuf_printf(b, " until %s (%s left): ", until, left);
	page_escape(b, x->comment);
}

/* One alert's line; folded: listed under its cause, which says why. */
static void
alert_item(struct sbuf *b, const struct alert *x, int64_t now, bool folded)
{
	const struct rule_status *st = x->v.st;
	char since[48], held[32], val[48];

	sbuf_printf(b, "<li class=\"alert %s\" data-rule=\"", state_class(st));
	page_escape(b, x->v.cfg->name);
	sbuf_printf(b, "\" data-state=\"%s\"><span class=\"badge\">",
	    rule_state_name(st->state));
	if (st->state == RULE_FIRING)
		sbuf_puts(b, st->sev == SEV_CRITICAL ? "CRITICAL" : "WARNING");
	else
		sbuf_puts(b, st->state == RULE_PENDING ? "PENDING" : "UNKNOWN");
	sbuf_puts(b, "</span><b>");
	page_escape(b, x->v.cfg->name);
	value_text(st, x->v.cfg, val, sizeof(val));
	sbuf_puts(b, "</b> ");
	page_escape(b, val);
	if (st->evaluated != 0) {
		page_clock_text(st->since, now, since, sizeof(since));
		ago(now - st->since, held, sizeof(held));
		sbuf_printf(b, "<span class=\"since\">%s for %s, since "
		    "%s</span>", rule_state_name(st->state), held, since);
	}
	sbuf_puts(b, "<div class=\"summary\">");
	page_escape(b, st->state == RULE_UNKNOWN ? x->v.explain :
	    x->v.summary);
	sbuf_puts(b, "</div>");
	if (st->suppressed && !folded) {
		sbuf_puts(b, "<div class=\"explain\">Suppressed by ");
		page_escape(b, st->suppressed_by);
		sbuf_puts(b, ": its dependency is failing.</div>");
	}
	if (x->silence != NULL) {
		sbuf_puts(b, "<div class=\"silenced\">");
		silence_line(b, x->silence, now);
		sbuf_puts(b, "</div>");
	} else if (x->maint != NULL) {
		page_clock_text(x->maint_end, now, since, sizeof(since));
		sbuf_puts(b, "<div class=\"silenced\">In maintenance (");
		page_escape(b, x->maint->name);
		sbuf_printf(b, ") until %s: notifications held.</div>", since);
	}
}

static bool
held_by(const struct alert *x, const char *cause)
{
	return x->v.st->suppressed && strcmp(x->v.st->suppressed_by, cause) ==
	    0;
}

/*
 * The alerts suppressed by cause, folded in a <details> (open without
 * script, closed by default): during an outage they would otherwise fill
 * the first screen, each repeating what the cause already says.
 */
static void
fold(struct sbuf *b, const struct alert *a, size_t n, const char *cause,
    bool more, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += held_by(&a[i], cause);
	if (k == 0)
		return;
	sbuf_printf(b, "<details class=\"folded\" data-cause=\"");
	page_escape(b, cause);
	sbuf_printf(b, "\" data-count=\"%zu\"><summary>%zu %ssuppressed by ",
	    k, k, more ? "more " : "");
	page_escape(b, cause);
	sbuf_puts(b, "</summary><ul class=\"alerts\">");
	for (size_t i = 0; i < n; i++) {
		if (!held_by(&a[i], cause))
			continue;
		alert_item(b, &a[i], now, true);
		sbuf_puts(b, "</li>");
	}
	sbuf_puts(b, "</ul></details>");
}

static void
alerts_section(struct sbuf *b, const struct alert *a, size_t n,
    int64_t now)
{
	sbuf_printf(b, "<section id=\"alerts\"><h2>Alerts (%zu)</h2>", n);
	if (n == 0) {
		sbuf_puts(b, "<p class=\"none\">No alerts: nothing is firing, "
		    "pending or unknown.</p></section>");
		return;
	}
	sbuf_puts(b, "<ul class=\"alerts\">");
	for (size_t i = 0; i < n; i++) {
		if (a[i].v.st->suppressed)
			continue;
		alert_item(b, &a[i], now, false);
		fold(b, a, n, a[i].v.cfg->name, true, now);
		sbuf_puts(b, "</li>");
	}
	/* Held by a cause not listed itself (it recovered, the hold stays). */
	for (size_t i = 0; i < n; i++) {
		const char *cause = a[i].v.st->suppressed_by;
		bool seen = !a[i].v.st->suppressed;

		for (size_t j = 0; j < n && !seen; j++)
			seen = (j < i && held_by(&a[j], cause)) ||
			    (!a[j].v.st->suppressed &&
			    strcmp(a[j].v.cfg->name, cause) == 0);
		if (seen)
			continue;
		sbuf_puts(b, "<li class=\"alert suppressed\">");
		fold(b, a, n, cause, false, now);
		sbuf_puts(b, "</li>");
	}
	sbuf_puts(b, "</ul></section>");
}

static void
silences_section(struct sbuf *b, const struct monitor *m, int64_t now)
{
	const struct silences *sl = monitor_silences(m);
	const struct silence *x;
	size_t shown = 0;

	sbuf_puts(b, "<section id=\"silences\"><h2>Silences</h2>");
	for (size_t i = 0; (x = silences_at(sl, i)) != NULL; i++) {
		if (x->expires <= now)
			continue;
		sbuf_puts(b, shown++ == 0 ? "<ul class=\"alerts\">" : "");
		sbuf_puts(b, "<li class=\"alert\"><b>");
		if (x->rule[0] != '\0') {
			sbuf_puts(b, "rule ");
			page_escape(b, x->rule);
		}
		for (size_t k = 0; k < x->nmatchers; k++) {
			sbuf_puts(b, k > 0 || x->rule[0] != '\0' ? ", " : "");
			page_escape(b, x->matchers[k].key);
			sbuf_puts(b, "=");
			page_escape(b, x->matchers[k].value);
		}
		sbuf_puts(b, "</b><div class=\"silenced\">");
		silence_line(b, x, now);
		sbuf_puts(b, "</div></li>");
	}
	sbuf_puts(b, shown > 0 ? "</ul></section>" :
	    "<p class=\"none\">None.</p></section>");
}

static bool
same_series(const struct rule_cfg *x, const struct rule_cfg *y)
{
	if (x->metric != NULL || y->metric != NULL)
		return x->metric != NULL && y->metric != NULL &&
		    strcmp(x->metric, y->metric) == 0 && x->agg == y->agg;
	return strcmp(x->numerator, y->numerator) == 0 &&
	    strcmp(x->denominator, y->denominator) == 0;
}

static void
card(struct sbuf *b, const struct monitor *m, const struct rule_view *v,
    int64_t now)
{
	const struct store *store = monitor_store(m);
	const struct rule_cfg *rc = v->cfg;
	struct spark sp;
	bool thresholds;
	double warn = NAN, crit = NAN;
	char val[48], lo[32], hi[32], label[400], span[32];
	const char *cls = state_class(v->st);
	int64_t from = spark_rule_start(store, rc, now - HOUR_MS);

	spark_init(&sp, from, now, spark_gap_ms(monitor_config(m), rc),
	    rc->def.op == RULE_GT ||
	    rc->def.op == RULE_GE);
	if (now - from >= HOUR_MS - 1000)
		snprintf(span, sizeof(span), "last hour");
	else {
		memcpy(span, "last ", 5);
		ago(now - from, span + 5, sizeof(span) - 5);
	}
	thresholds = spark_rule(store, rc, &sp);
	if (thresholds && rc->def.warn.set)
		warn = rc->def.warn.threshold;
	if (thresholds && rc->def.crit.set)
		crit = rc->def.crit.threshold;
	value_text(v->st, rc, val, sizeof(val));
	sbuf_printf(b, "<figure class=\"card %s\" data-rule=\"", cls);
	page_escape(b, rc->name);
	sbuf_puts(b, "\"><figcaption><span class=\"name\">");
	page_escape(b, rc->name);
	sbuf_puts(b, "</span><span class=\"val\">");
	page_escape(b, val);
	sbuf_puts(b, "</span></figcaption>");
	ruleset_fmt_num(sp.lo, lo, sizeof(lo));
	ruleset_fmt_num(sp.hi, hi, sizeof(hi));
	snprintf(label, sizeof(label), "%s over the %s: %s", rc->name, span,
	    sp.any ? "" : "no data");
	if (sp.any)
		snprintf(label + strlen(label), sizeof(label) - strlen(label),
		    "from %s to %s", lo, hi);
	spark_svg(b, &sp, 240, 48, warn, crit, cls, label);
	sbuf_puts(b, "<div class=\"range\">");
	if (sp.any)
		sbuf_printf(b, "%s: %s&ndash;%s", span, lo, hi);
	else
		sbuf_puts(b, "no samples in the last hour");
	if (isfinite(warn)) {
		ruleset_fmt_num(warn, lo, sizeof(lo));
		sbuf_printf(b, " &middot; warn %s", lo);
	}
	if (isfinite(crit)) {
		ruleset_fmt_num(crit, hi, sizeof(hi));
		sbuf_printf(b, " &middot; crit %s", hi);
	}
	if (rc->metric != NULL && rc->agg == AGG_SLOPE)
		sbuf_puts(b, " &middot; the metric itself; the rule judges "
		    "its trend");
	sbuf_puts(b, "</div></figure>");
}

/*
 * The key numbers: one sparkline per series the rules judge, alerting
 * rules first, then the others in the configuration's order. Implicit
 * <probe>_down rules are left to the probe table.
 */
static void
cards_section(struct sbuf *b, const struct monitor *m,
    const struct alert *a, size_t na, int64_t now)
{
	const struct ruleset *rs = monitor_rules(m);
	size_t nr = ruleset_count(rs), shown = 0, k = 0;
	const struct rule_cfg **done = calloc(nr + 1, sizeof(*done));
	struct rule_view v;

	sbuf_puts(b, "<section id=\"metrics\"><h2>The last hour</h2>"
	    "<div class=\"cards\">");
	if (done == NULL) {
		b->failed = true;
		return;
	}
	for (size_t pass = 0; pass < 2; pass++) {
		size_t count = pass == 0 ? na : nr;

		for (size_t i = 0; i < count && shown < PAGE_MAX_CARDS; i++) {
			bool dup = false;

			if (pass == 0)
				v = a[i].v;
			else if (!ruleset_view(rs, i, now, &v))
				break;
			if (v.cfg->implicit)
				continue;
			for (size_t j = 0; j < k && !dup; j++)
				dup = done[j] == v.cfg ||
				    same_series(done[j], v.cfg);
			if (dup)
				continue;
			done[k++] = v.cfg;
			card(b, m, &v, now);
			shown++;
		}
	}
	if (shown == 0)
		sbuf_puts(b, "<p class=\"none\">No rules are configured: add "
		    "some to see their numbers here.</p>");
	sbuf_puts(b, "</div></section>");
	free(done);
}

static void
probes_section(struct sbuf *b, const struct monitor *m, int64_t now)
{
	struct probe_view v;
	char t[48], held[32], dur[32];

	sbuf_puts(b, "<section id=\"probes\"><h2>Probes</h2><table><thead><tr>"
	    "<th>probe</th><th>state</th><th>last run</th><th>took</th>"
	    "<th>result</th></tr></thead><tbody>");
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++) {
		const struct probe_result *r = v.last;
		const char *state = probe_state_name(v.state);

		sbuf_puts(b, "<tr data-probe=\"");
		page_escape(b, v.name);
		sbuf_puts(b, "\"><td><b>");
		page_escape(b, v.name);
		sbuf_puts(b, "</b> <span class=\"target\">");
		page_escape(b, v.type);
		sbuf_puts(b, " ");
		page_escape(b, v.target != NULL ? v.target : "");
		sbuf_printf(b, "</span></td><td class=\"%s\" data-label=\"state\">"
		    "%s", state, state);
		if (v.state != PROBE_STATE_PENDING) {
			ago(now - v.state_since, held, sizeof(held));
			sbuf_printf(b, " <span class=\"since\">for %s</span>",
			    held);
		}
		sbuf_puts(b, "</td>");
		if (r == NULL) {
			sbuf_puts(b, "<td data-label=\"last run\">not yet</td>"
			    "<td></td><td></td></tr>");
			continue;
		}
		page_clock_text(r->started, now, t, sizeof(t));
		ago(now - r->started, held, sizeof(held));
		human_value(r->duration_ms, "ms", dur, sizeof(dur));
		sbuf_printf(b, "<td data-label=\"last run\">%s (%s ago)</td>"
		    "<td data-label=\"took\">%s</td><td data-label=\"result\">",
		    t, held, dur);
		if (r->up) {
			sbuf_puts(b, "ok");
		} else {
			sbuf_puts(b, "<span class=\"reason\">");
			page_escape(b, r->reason);
			sbuf_puts(b, "</span>");
		}
		sbuf_puts(b, "</td></tr>");
	}
	sbuf_puts(b, "</tbody></table></section>");
}

/* One line on the release in progress (or the last one). */
static void
release_section(struct sbuf *b, const struct page_release *r)
{
	sbuf_puts(b, "<section id=\"release\"><h2>Release</h2><p>Deploy ");
	page_escape(b, r->version);
	if (r->open && r->warming_up)
		sbuf_puts(b, " (open, warming up)");
	else if (r->open && r->stage_weight > 0)
		sbuf_printf(b, " (open, stage %d %%)", r->stage_weight);
	else
		sbuf_puts(b, r->open ? " (open)" : " (ended)");
	sbuf_puts(b, ": <b>");
	page_escape(b, r->verdict);
	sbuf_puts(b, "</b> &middot; ");
	page_escape(b, r->reason);
	sbuf_puts(b, "</p></section>");
}

char *
page_html(const struct monitor *m, const struct page_release *rel)
{
	int64_t now = clock_wall_ms();
	struct alert *a;
	struct health h;
	struct sbuf b;
	size_t n;

	if (alerts_collect(m, now, NULL, &a, &n) != 0)
		return NULL;
	health_eval(m, &h);
	sbuf_init(&b, PAGE_MAX);
	sbuf_printf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"%d\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><meta name=\"color-scheme\" "
	    "content=\"light dark\"><title>%s &middot; vigil</title><style>%s"
	    "</style></head><body>", PAGE_REFRESH_S,
	    strcmp(h.status, "fail") == 0 ? "FAIL" :
	    strcmp(h.status, "warn") == 0 ? "WARN" : "PASS", page_css);
	banner(&b, m, a, n, now);
	maint_strip(&b, m, now);
	sbuf_puts(&b, "<main>");
	if (rel != NULL)
		release_section(&b, rel);
	alerts_section(&b, a, n, now);
	silences_section(&b, m, now);
	page_history_section(&b, m, now, PAGE_MAX_CARDS);
	page_incidents_section(&b, m, now);
	cards_section(&b, m, a, n, now);
	probes_section(&b, m, now);
	sbuf_puts(&b, "</main><footer>The same, for machines: <a "
	    "href=\"/status\">/status</a> &middot; <a href=\"/alerts\">"
	    "/alerts</a> &middot; <a href=\"/metrics\">/metrics</a> &middot; "
	    "<a href=\"/health\">/health</a></footer></body></html>\n");
	free(a);
	return sbuf_take(&b);
}
