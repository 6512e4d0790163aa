#include "notify/deploytext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/jsonc.h"
#include "base/jsonw.h"
#include "base/numfmt.h"
#include "base/utf8.h"

#define TEXT_MAX	6144

/* Appends to a text that is cut, never overrun, when full. */
static void
add(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add(char *out, size_t len, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, len - n, fmt, ap);
	va_end(ap);
}

const char *
deploytext_mark(const char *verdict)
{
	if (strcmp(verdict, "pass") == 0)
		return "🟢";
	if (strcmp(verdict, "warn") == 0)
		return "🟡";
	if (strcmp(verdict, "fail") == 0)
		return "🔴";
	return "⚪";
}

/* A number as people read it in a chat line: 0.05, 78.4, 450. */
static void
num(double v, char *buf, size_t len)
{
	double a = fabs(v);

	if (!isfinite(v)) {
		snprintf(buf, len, "%g", v);
		return;
	}
	if (a >= 100 || v == 0)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 1)
		snprintf(buf, len, "%.*f", a >= 10 ? 1 : 2, v);
	else
		snprintf(buf, len, "%.2g", v);
	numfmt_trim(buf);
}

/* "14:00" of a Unix ms, UTC. */
static void
hhmm(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL)
		snprintf(buf, len, "??:??");
	else
		snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

static void
hhmm_iso(const cJSON *o, const char *key, char *buf, size_t len)
{
	int64_t ms;

	if (clock_parse_iso(jsonc_string(o, key, ""), &ms) != 0)
		snprintf(buf, len, "?");
	else
		hhmm(ms, buf, len);
}

static const cJSON *
member(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The verdict the update speaks of, and why. */
static void
verdict_of(const cJSON *doc, const char **v, const char **why)
{
	bool open = cJSON_IsTrue(member(doc, "open"));
	const cJSON *s = member(doc, open ? "gate" : "verdict");

	*v = jsonc_string(s, open ? "now" : "final", "inconclusive");
	*why = jsonc_string(s, open ? "now_reason" : "final_reason", "");
}

/* "error_rate" reads as "error rate". */
static void
label(const cJSON *check, char *buf, size_t len)
{
	snprintf(buf, len, "%s", jsonc_string(check, "name", "?"));
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '_')
			*p = ' ';
}

/* "0.05 %", "450 ms", or "not measured". */
static void
value_text(const cJSON *check, char *buf, size_t len)
{
	const cJSON *v = member(member(check, "measured"), "value");
	const char *unit = jsonc_string(member(check, "target"), "unit", "");
	char n[32];

	if (!cJSON_IsNumber(v)) {
		snprintf(buf, len, "not measured");
		return;
	}
	num(v->valuedouble, n, sizeof(n));
	snprintf(buf, len, "%s%s%s", n, unit[0] != '\0' ? " " : "", unit);
}

/* Every check, gating ones first, then the advisory ones. */
static size_t
checks(const cJSON *doc, const cJSON **out, size_t max)
{
	static const char *const arrays[] = { "checks", "dry_run" };
	size_t n = 0;
	const cJSON *c;

	for (size_t a = 0; a < 2; a++)
		cJSON_ArrayForEach(c, member(doc, arrays[a]))
			if (n < max)
				out[n++] = c;
	return n;
}

#define MAX_CHECKS 32

/* "error rate 0.05 %, api p95 450 ms" */
static void
numbers(const cJSON *doc, char *out, size_t len)
{
	const cJSON *cs[MAX_CHECKS];
	size_t n = checks(doc, cs, MAX_CHECKS);

	if (n == 0)
		add(out, len, "no release checks configured");
	for (size_t i = 0; i < n; i++) {
		char l[80], v[64];

		label(cs[i], l, sizeof(l));
		value_text(cs[i], v, sizeof(v));
		add(out, len, "%s%s %s", i > 0 ? ", " : "", l, v);
	}
}

/* "≤ 0.1 %": what passes, from the rule's warning threshold. */
static void
target_text(const cJSON *check, char *buf, size_t len)
{
	const cJSON *t = member(check, "target");
	const cJSON *w = member(t, "warn"), *c = member(t, "crit");
	const cJSON *lim = cJSON_IsNumber(w) ? w : c;
	const char *op = jsonc_string(t, "op", "?"), *pass;
	const char *unit = jsonc_string(t, "unit", "");
	char n[32];

	if (!cJSON_IsNumber(lim)) {
		snprintf(buf, len, "no threshold");
		return;
	}
	/* The rule fires when the value is op the limit: pass is the rest. */
	pass = strcmp(op, ">") == 0 ? "≤" : strcmp(op, ">=") == 0 ? "<" :
	    strcmp(op, "<") == 0 ? "≥" : strcmp(op, "<=") == 0 ? ">" : op;
	num(lim->valuedouble, n, sizeof(n));
	snprintf(buf, len, "%s %s%s%s", pass, n, unit[0] != '\0' ? " " : "",
	    unit);
}

static void
status_line(const cJSON *doc, const char *v, int64_t t, char *out,
    size_t len)
{
	char when[16];

	hhmm(t, when, sizeof(when));
	add(out, len, "[%s UTC] %s ", when, deploytext_mark(v));
	numbers(doc, out, len);
}

static void
begin_text(const struct deploy_update *u, const struct sender *s,
    const char *v, char *out, size_t len)
{
	const cJSON *doc = u->doc, *cs[MAX_CHECKS], *pl;
	size_t n = checks(doc, cs, MAX_CHECKS);
	const char *an = jsonc_string(doc, "announce", "");
	char d[32];
	int64_t from, to;

	add(out, len, "🚀 Deploy %s begins (deploy %.0f, vigild %s)\n",
	    jsonc_string(doc, "version", "?"), jsonc_number(doc, "id", 0),
	    s->instance);
	if (an[0] != '\0')
		add(out, len, "🔍 What: %s\n", an);
	add(out, len, "📊 Checks:");
	for (size_t i = 0; i < n; i++) {
		const cJSON *t = member(cs[i], "target");
		const char *op = jsonc_string(t, "op", "?");
		const char *unit = jsonc_string(t, "unit", "");
		char l[80], w[32], c[32];

		label(cs[i], l, sizeof(l));
		add(out, len, "%s %s", i > 0 ? ";" : "", l);
		if (cJSON_IsNumber(member(t, "warn"))) {
			num(member(t, "warn")->valuedouble, w, sizeof(w));
			add(out, len, " warn %s %s%s%s", op, w,
			    unit[0] != '\0' ? " " : "", unit);
		}
		if (cJSON_IsNumber(member(t, "crit"))) {
			num(member(t, "crit")->valuedouble, c, sizeof(c));
			add(out, len, "%s crit %s %s%s%s",
			    cJSON_IsNumber(member(t, "warn")) ? "," : "", op, c,
			    unit[0] != '\0' ? " " : "", unit);
		}
		if (cJSON_IsNumber(member(cs[i], "baseline"))) {
			num(member(cs[i], "baseline")->valuedouble, w,
			    sizeof(w));
			add(out, len, ", baseline %s%s%s", w,
			    unit[0] != '\0' ? " " : "", unit);
		}
		if (cJSON_IsTrue(member(cs[i], "advisory")))
			add(out, len, " (advisory)");
	}
	if (n == 0)
		add(out, len, " none configured");
	duration_format((int64_t)(jsonc_number(doc, "warmup_s", 0) * 1000), d,
	    sizeof(d));
	add(out, len, "\n⏱️ Warm-up %s, judged every ", d);
	duration_format((int64_t)(jsonc_number(doc, "interval_s", 0) * 1000),
	    d, sizeof(d));
	add(out, len, "%s; ", d);
	if (clock_parse_iso(jsonc_string(member(doc, "baseline"), "from", ""),
	    &from) == 0 && clock_parse_iso(jsonc_string(member(doc,
	    "baseline"), "to", ""), &to) == 0 && to > from) {
		duration_format(to - from, d, sizeof(d));
		add(out, len, "baseline: the %s before\n", d);
	} else {
		add(out, len, "baseline: none\n");
	}
	pl = member(doc, "planned_stages");
	if (cJSON_GetArraySize(pl) > 0) {
		const cJSON *w;
		int k = 0;

		add(out, len, "🪜 Stages planned:");
		cJSON_ArrayForEach(w, pl)
			add(out, len, "%s %.0f %%", k++ > 0 ? "," : "",
			    cJSON_IsNumber(w) ? w->valuedouble : 0);
		add(out, len, "\n");
	} else {
		add(out, len, "🪜 Stages: not planned ahead; told as each "
		    "begins\n");
	}
	status_line(doc, v, u->t, out, len);
}

/* The weight before stage i and at it: "10 % → 25 %". */
static void
step_text(const struct deploy_update *u, const char *v, const char *why,
    char *out, size_t len)
{
	const cJSON *st = member(u->doc, "stages");
	const cJSON *cur = cJSON_GetArrayItem(st, (int)u->ev.stage);
	const cJSON *prev = u->ev.stage > 0 ?
	    cJSON_GetArrayItem(st, (int)u->ev.stage - 1) : NULL;
	char when[16];

	hhmm(u->t, when, sizeof(when));
	add(out, len, "[%s UTC] %s Rollout %.0f %% → %.0f %%, verdict so far "
	    "%s (%s); ", when, deploytext_mark(v),
	    jsonc_number(prev, "weight", 0), jsonc_number(cur, "weight", 0),
	    v, why);
	numbers(u->doc, out, len);
}

static void
verdict_text(const struct deploy_update *u, const char *v, const char *why,
    char *out, size_t len)
{
	char when[16];

	hhmm(u->t, when, sizeof(when));
	add(out, len, "[%s UTC] %s Verdict %s (was %s): %s; ", when,
	    deploytext_mark(v), v, u->ev.was[0] != '\0' ? u->ev.was : "none",
	    why);
	numbers(u->doc, out, len);
}

static void
count_line(char *out, size_t len, const char *what, const cJSON *n,
    const cJSON *pct)
{
	char p[32];

	if (!cJSON_IsNumber(n)) {
		add(out, len, "- %s: not measured\n", what);
		return;
	}
	add(out, len, "- %s: %.0f", what, n->valuedouble);
	if (cJSON_IsNumber(pct)) {
		num(pct->valuedouble, p, sizeof(p));
		add(out, len, " (%s %%)", p);
	}
	add(out, len, "\n");
}

/* The Post-Deployment Summary, from what vigil measured only. */
static void
end_text(const struct deploy_update *u, const char *v, const char *why,
    char *out, size_t len)
{
	const cJSON *doc = u->doc, *cs[MAX_CHECKS], *tr, *a, *br, *st;
	size_t n = checks(doc, cs, MAX_CHECKS);
	char when[16];
	int fired;

	hhmm(u->t, when, sizeof(when));
	add(out, len, "%s Deploy %s %s: %s\n[%s UTC] %s\n\n",
	    strcmp(v, "pass") == 0 ? "✅" : deploytext_mark(v),
	    jsonc_string(doc, "version", "?"),
	    strcmp(v, "pass") == 0 ? "complete" : "ended", v, when, why);
	add(out, len, "Performance against targets:\n");
	for (size_t i = 0; i < n; i++) {
		char l[80], val[64], tg[64];

		label(cs[i], l, sizeof(l));
		value_text(cs[i], val, sizeof(val));
		target_text(cs[i], tg, sizeof(tg));
		add(out, len, "- %s: %s (target %s", l, val, tg);
		/* Before and after: the improvement the checklist reports. */
		if (cJSON_IsNumber(member(cs[i], "baseline"))) {
			const char *unit = jsonc_string(member(cs[i], "target"),
			    "unit", "");
			char b[32];

			num(member(cs[i], "baseline")->valuedouble, b, sizeof(b));
			add(out, len, "; before the deploy %s%s%s", b,
			    unit[0] != '\0' ? " " : "", unit);
		}
		add(out, len, ")%s\n", cJSON_IsTrue(member(cs[i], "advisory")) ?
		    " advisory" : "");
	}
	if (n == 0)
		add(out, len, "- no release checks configured\n");
	tr = member(doc, "traffic");
	add(out, len, "\nMetrics summary:\n");
	/* No requests counted is "not measured", not "0 requests". */
	if (jsonc_number(tr, "requests", 0) > 0) {
		count_line(out, len, "Requests processed",
		    member(tr, "requests"), NULL);
		count_line(out, len, "Errors", member(tr, "errors"),
		    member(tr, "error_rate_pct"));
	} else {
		add(out, len, "- Requests processed: not measured\n"
		    "- Errors: not measured\n");
	}
	count_line(out, len, "Cache hits", member(tr, "cache_hits"),
	    member(tr, "cache_hit_rate_pct"));
	add(out, len, "- Failed requests: not measured\n");
	a = member(doc, "alerts");
	fired = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
	add(out, len, "\nMonitoring:\n");
	if (fired == 0) {
		add(out, len, "- Health checks: ✅ no alert fired during the "
		    "window\n");
	} else {
		const cJSON *e;
		int k = 0;

		add(out, len, "- Health checks: 🔴 %d alert%s fired during the "
		    "window:", fired, fired == 1 ? "" : "s");
		cJSON_ArrayForEach(e, a)
			add(out, len, "%s %s (%s)", k++ > 0 ? "," : "",
			    jsonc_string(e, "rule", "?"),
			    jsonc_string(e, "severity", "?"));
		add(out, len, "\n");
	}
	br = member(doc, "by_release");
	if (cJSON_IsObject(br))
		add(out, len, "- Sentry: errors by release %s (%s)\n",
		    jsonc_string(br, "verdict", "?"),
		    jsonc_string(br, "reason", ""));
	else
		add(out, len, "- Sentry: not measured\n");
	add(out, len, "- UptimeRobot: not measured\n"
	    "- Dashboards: not measured\n");
	st = member(doc, "stages");
	if (cJSON_GetArraySize(st) > 0) {
		const cJSON *e;
		int k = 0;

		add(out, len, "\nStages:");
		cJSON_ArrayForEach(e, st) {
			char at[16];

			hhmm_iso(e, "time", at, sizeof(at));
			add(out, len, "%s %.0f %% at %s", k++ > 0 ? "," : "",
			    jsonc_number(e, "weight", 0), at);
		}
		add(out, len, " UTC\n");
	}
}

void
deploytext_text(const struct deploy_update *u, const struct sender *s,
    char *out, size_t len)
{
	const char *v, *why;

	out[0] = '\0';
	verdict_of(u->doc, &v, &why);
	switch (u->ev.kind) {
	case TALK_BEGIN:
		begin_text(u, s, v, out, len);
		break;
	case TALK_STEP:
		step_text(u, v, why, out, len);
		break;
	case TALK_VERDICT:
		verdict_text(u, v, why, out, len);
		break;
	case TALK_PROGRESS:
		status_line(u->doc, v, u->t, out, len);
		break;
	case TALK_END:
		end_text(u, v, why, out, len);
		break;
	}
	/* A cut may have split a character: no half of one goes out. */
	utf8_scrub(out);
}

static void copy(cJSON *to, const char *as, const cJSON *from,
    const char *key);

static cJSON *
check_json(const cJSON *c)
{
	const cJSON *t = member(c, "target");
	const cJSON *v = member(member(c, "measured"), "value");
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", jsonc_string(c, "name", "?"));
	if (cJSON_IsNumber(v))
		cJSON_AddNumberToObject(o, "value", v->valuedouble);
	else
		cJSON_AddNullToObject(o, "value");
	cJSON_AddStringToObject(o, "unit", jsonc_string(t, "unit", ""));
	cJSON_AddStringToObject(o, "op", jsonc_string(t, "op", "?"));
	if (cJSON_IsNumber(member(t, "warn")))
		cJSON_AddNumberToObject(o, "warn",
		    member(t, "warn")->valuedouble);
	if (cJSON_IsNumber(member(t, "crit")))
		cJSON_AddNumberToObject(o, "crit",
		    member(t, "crit")->valuedouble);
	cJSON_AddBoolToObject(o, "advisory",
	    cJSON_IsTrue(member(c, "advisory")));
	copy(o, "baseline", c, "baseline");
	return o;
}

/* A copy of the document's value at key, or null. */
static void
copy(cJSON *to, const char *as, const cJSON *from, const char *key)
{
	const cJSON *x = member(from, key);

	cJSON_AddItemToObject(to, as, x != NULL ?
	    cJSON_Duplicate(x, true) : cJSON_CreateNull());
}

char *
deploytext_generic(const struct deploy_update *u, const struct sender *s)
{
	const cJSON *doc = u->doc, *cs[MAX_CHECKS];
	size_t n = checks(doc, cs, MAX_CHECKS);
	cJSON *o = cJSON_CreateObject(), *dp, *arr;
	char id[96], when[40], *text = malloc(TEXT_MAX);
	const char *v, *why;

	if (text == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	verdict_of(doc, &v, &why);
	deploytext_text(u, s, text, TEXT_MAX);
	snprintf(id, sizeof(id), "%s-%llu", s->instance,
	    (unsigned long long)u->seq);
	cJSON_AddStringToObject(o, "version", "1");
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "kind", talk_kind_name(u->ev.kind));
	dp = cJSON_AddObjectToObject(o, "deploy");
	copy(dp, "id", doc, "id");
	copy(dp, "version", doc, "version");
	copy(dp, "open", doc, "open");
	clock_iso(u->t, when, sizeof(when));
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddStringToObject(o, "verdict", v);
	cJSON_AddStringToObject(o, "reason", why);
	cJSON_AddStringToObject(o, "mark", deploytext_mark(v));
	cJSON_AddStringToObject(o, "text", text);
	arr = cJSON_AddArrayToObject(o, "checks");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, check_json(cs[i]));
	switch (u->ev.kind) {
	case TALK_BEGIN:
		copy(o, "announce", doc, "announce");
		copy(o, "planned_stages", doc, "planned_stages");
		copy(o, "warmup_s", doc, "warmup_s");
		copy(o, "interval_s", doc, "interval_s");
		copy(o, "baseline", doc, "baseline");
		break;
	case TALK_STEP: {
		const cJSON *st = member(doc, "stages");
		cJSON *x = cJSON_AddObjectToObject(o, "stage");

		cJSON_AddNumberToObject(x, "index", u->ev.stage);
		cJSON_AddNumberToObject(x, "from", u->ev.stage > 0 ?
		    jsonc_number(cJSON_GetArrayItem(st, (int)u->ev.stage - 1),
		    "weight", 0) : 0);
		cJSON_AddNumberToObject(x, "to", jsonc_number(
		    cJSON_GetArrayItem(st, (int)u->ev.stage), "weight", 0));
		break;
	}
	case TALK_VERDICT:
		cJSON_AddStringToObject(o, "was", u->ev.was);
		break;
	case TALK_PROGRESS:
		break;
	case TALK_END: {
		const cJSON *tr = member(doc, "traffic");
		cJSON *x = cJSON_AddObjectToObject(o, "summary");

		/* The report's own numbers: no second count to disagree. */
		copy(x, "requests", tr, "requests");
		copy(x, "errors", tr, "errors");
		copy(x, "error_rate_pct", tr, "error_rate_pct");
		copy(x, "cache_hits", tr, "cache_hits");
		copy(x, "cache_hit_rate_pct", tr, "cache_hit_rate_pct");
		cJSON_AddNullToObject(x, "failed_requests");
		cJSON_AddNumberToObject(x, "alerts_fired",
		    cJSON_GetArraySize(member(doc, "alerts")));
		cJSON_AddItemToObject(o, "report", cJSON_Duplicate(doc, true));
		break;
	}
	}
	cJSON_AddStringToObject(o, "instance", s->instance);
	cJSON_AddStringToObject(o, "url", s->url);
	free(text);
	return jsonw_take(o);
}

/* A mrkdwn section block. */
static void
section(cJSON *blocks, const char *text)
{
	cJSON *b = cJSON_CreateObject(), *t;

	cJSON_AddStringToObject(b, "type", "section");
	t = cJSON_AddObjectToObject(b, "text");
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	cJSON_AddStringToObject(t, "text", text);
	cJSON_AddItemToArray(blocks, b);
}

char *
deploytext_slack(const struct deploy_update *u, const struct sender *s)
{
	cJSON *o = cJSON_CreateObject(), *blocks;
	/* Escaped, the text may grow fivefold; a section takes 3,000. */
	char *text = malloc(TEXT_MAX), *esc = malloc(TEXT_MAX * 5);
	char *p, *nl;

	if (text == NULL || esc == NULL) {
		free(text);
		free(esc);
		cJSON_Delete(o);
		return NULL;
	}
	deploytext_text(u, s, text, TEXT_MAX);
	/* Every word came from outside or from vigil's plain text. */
	payload_slack_escape(text, esc, TEXT_MAX * 5);
	nl = strchr(esc, '\n');
	/* The first line is the notification's preview. */
	if (nl != NULL)
		*nl = '\0';
	cJSON_AddStringToObject(o, "text", esc);
	if (nl != NULL)
		*nl = '\n';
	blocks = cJSON_AddArrayToObject(o, "blocks");
	/* One block a paragraph, each under Slack's 3,000 characters. */
	for (p = esc; p != NULL && *p != '\0';) {
		char *end = strstr(p, "\n\n");

		if (end != NULL)
			*end = '\0';
		if (strlen(p) > 2900) {
			p[2900] = '\0';
			utf8_scrub(p);
		}
		section(blocks, p);
		p = end != NULL ? end + 2 : NULL;
	}
	payload_slack_quiet(o);
	free(text);
	free(esc);
	return jsonw_take(o);
}
