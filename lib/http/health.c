#include "http/health.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "config/config.h"
#include "engine/maint.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "engine/silence.h"

/*
 * "silenced by ana until 2026-03-02 14:00Z" of the silence covering rc,
 * else "in maintenance offpeak until ..." of the window covering it, or "".
 */
static void
silence_text(const struct monitor *m, const struct rule_cfg *rc,
    int64_t now, char *buf, size_t len)
{
	const struct silence *x = silences_match(monitor_silences(m), rc, now);
	const struct maint_window *w;
	char t[40];
	int64_t end;

	buf[0] = '\0';
	if (x == NULL) {
		if ((w = maint_match(monitor_maint(m), rc, now, &end)) == NULL)
			return;
		clock_iso(end, t, sizeof(t));
		snprintf(buf, len, "in maintenance %s until %.10s %.5sZ",
		    w->name, t, t + 11);
		return;
	}
	clock_iso(x->expires, t, sizeof(t));
	snprintf(buf, len, "silenced by %s until %.10s %.5sZ", x->author, t,
	    t + 11);
}

/*
 * Appends one item ("; "-separated) to buf if it fits whole; otherwise
 * counts it in *dropped. Nothing is ever cut mid-word: the reader gets
 * whole reasons, and "and N more" says where the rest is.
 */
static void
add_item(char *buf, size_t len, unsigned *dropped, const char *sep,
    const char *text)
{
	size_t n = strlen(buf), l = strlen(text), s = n > 0 ? strlen(sep) : 0;

	/* Room is kept for the " (and 99 more: see /status)" trailer. */
	if (n + s + l + HEALTH_TRAILER >= len) {
		(*dropped)++;
		return;
	}
	snprintf(buf + n, len - n, "%s%s", n > 0 ? sep : "", text);
}

static void
add_trailer(char *buf, size_t len, unsigned dropped)
{
	size_t n = strlen(buf);

	if (dropped > 0)
		snprintf(buf + n, len - n, "%s(and %u more: see /status)",
		    n > 0 ? " " : "", dropped);
}

enum health_role
health_role(const struct rule_status *st, const struct health_facts *f)
{
	if (st->state == RULE_FIRING ? st->sev == SEV_NONE :
	    st->state != RULE_UNKNOWN || st->suppressed)
		return HEALTH_NONE;
	if (f == NULL)
		return HEALTH_UNKNOWN;	/* something to say: ask with facts */
	if (st->state == RULE_FIRING && st->suppressed)
		return HEALTH_HELD;
	if (f->silenced)
		return HEALTH_SILENCED;
	if (st->state == RULE_FIRING)
		return st->sev == SEV_CRITICAL ? HEALTH_FAIL : HEALTH_WARN;
	if (st->quiet)
		return HEALTH_QUIET;
	/* A probe that already failed is news, warming up or not. */
	if (!f->probe_failed && f->up_ms < f->warm_ms)
		return HEALTH_WARMING;
	return HEALTH_UNKNOWN;
}

/*
 * The decision for rule i (health_role); v (and sil, the silence's text)
 * are filled for every role but HEALTH_NONE. The bare status decides
 * first, so that quiet rules cost no rendering.
 */
static enum health_role
classify(const struct monitor *m, size_t i, int64_t now,
    struct rule_view *v, char *sil, size_t sillen)
{
	const struct ruleset *rs = monitor_rules(m);
	const struct rule_status *st = ruleset_status(rs, i);
	const struct probe_cfg *pc;
	struct monitor_info info;
	struct health_facts f;

	if (health_role(st, NULL) == HEALTH_NONE)
		return HEALTH_NONE;
	ruleset_view(rs, i, now, v);
	silence_text(m, v->cfg, now, sil, sillen);
	pc = &monitor_config(m)->probes[v->cfg->probe];
	monitor_info(m, &info);
	f.silenced = sil[0] != '\0';
	f.probe_failed = v->probe_error != NULL;
	f.up_ms = now - info.started;
	f.warm_ms = v->cfg->window_ms;
	if (pc->interval_ms + pc->timeout_ms > f.warm_ms)
		f.warm_ms = pc->interval_ms + pc->timeout_ms;
	return health_role(st, &f);
}

void
health_eval(const struct monitor *m, struct health *h)
{
	const struct ruleset *rs = monitor_rules(m);
	int64_t now = clock_wall_ms();
	bool fail = false, warn = false;
	struct rule_view v;
	struct maint_view mv[HEALTH_MAINT_NOTES];
	size_t nmv;
	char why[256], sil[SILENCE_MAX_TEXT + 64];
	char line[640 + sizeof(sil)];
	unsigned dropped = 0, ndropped = 0;

	h->output[0] = '\0';
	h->notes[0] = '\0';
	if (monitor_degraded(m, why, sizeof(why))) {
		fail = true;
		add_item(h->output, sizeof(h->output), &dropped, "; ", why);
	}
	/*
	 * Planned maintenance first in the notes: it is why the rules
	 * below it are quiet, and an uptime monitor must not page for it.
	 */
	nmv = maint_active(monitor_maint(m), now, mv, HEALTH_MAINT_NOTES);
	for (size_t i = 0; i < nmv && i < HEALTH_MAINT_NOTES; i++) {
		char t[40];

		clock_iso(mv[i].end, t, sizeof(t));
		snprintf(line, sizeof(line), "maintenance %s until %.10s "
		    "%.5sZ%s%s", mv[i].w->name, t, t + 11,
		    mv[i].w->comment[0] != '\0' ? ": " : "",
		    mv[i].w->comment);
		add_item(h->notes, sizeof(h->notes), &ndropped, "\n", line);
	}
	if (nmv > HEALTH_MAINT_NOTES)
		ndropped += (unsigned)(nmv - HEALTH_MAINT_NOTES);
	/*
	 * Criticals first in the output: they are what the reader needs.
	 * Not in the verdict, only in the notes: a rule held by its
	 * dependency (the dependency speaks for it), a silenced one
	 * (someone knows), one with too little data, one warming up.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ruleset_count(rs); i++) {
			const struct rule_status *st = ruleset_status(rs, i);
			bool crit = st->state == RULE_FIRING &&
			    st->sev == SEV_CRITICAL && !st->suppressed;
			enum health_role r;

			/* Criticals in pass 0, the rest in pass 1: each once. */
			if (crit != (pass == 0))
				continue;
			r = classify(m, i, now, &v, sil, sizeof(sil));
			switch (r) {
			case HEALTH_NONE:
				continue;
			case HEALTH_FAIL:
			case HEALTH_WARN:
				fail |= r == HEALTH_FAIL;
				warn |= r == HEALTH_WARN;
				snprintf(line, sizeof(line), "%s: %s: %s",
				    rule_sev_name(st->sev), v.cfg->name,
				    v.summary);
				add_item(h->output, sizeof(h->output), &dropped,
				    "; ", line);
				continue;
			case HEALTH_UNKNOWN:
				warn = true;
				snprintf(line, sizeof(line), "unknown: %s: %s",
				    v.cfg->name, st->why);
				add_item(h->output, sizeof(h->output), &dropped,
				    "; ", line);
				continue;
			case HEALTH_HELD:
				snprintf(line, sizeof(line), "%s: %s, held: "
				    "suppressed by %s", v.cfg->name,
				    rule_sev_name(st->sev), st->suppressed_by);
				break;
			case HEALTH_SILENCED:
				snprintf(line, sizeof(line), "%s: %s, %s: %s",
				    v.cfg->name, st->state == RULE_FIRING ?
				    rule_sev_name(st->sev) : "unknown", sil,
				    st->state == RULE_FIRING ? v.summary :
				    st->why);
				break;
			case HEALTH_QUIET:
				snprintf(line, sizeof(line), "%s: %s",
				    v.cfg->name, st->why);
				break;
			case HEALTH_WARMING:
				snprintf(line, sizeof(line), "%s: warming up "
				    "(vigild just started): %s", v.cfg->name,
				    st->why);
				break;
			}
			add_item(h->notes, sizeof(h->notes), &ndropped, "\n",
			    line);
		}
	}
	add_trailer(h->output, sizeof(h->output), dropped);
	add_trailer(h->notes, sizeof(h->notes), ndropped);
	h->status = fail ? "fail" : warn ? "warn" : "pass";
}

char *
health_json(const struct monitor *m, struct health *out)
{
	const struct ruleset *rs = monitor_rules(m);
	cJSON *o = cJSON_CreateObject(), *checks;
	int64_t now = clock_wall_ms();
	struct rule_view v;
	struct health h;
	char *s;

	health_eval(m, &h);
	*out = h;
	cJSON_AddStringToObject(o, "status", h.status);
	cJSON_AddStringToObject(o, "version", VIGIL_VERSION);
	cJSON_AddStringToObject(o, "serviceId", "vigild");
	cJSON_AddStringToObject(o, "description",
	    "vigil's view of the watched application");
	if (h.output[0] != '\0')
		cJSON_AddStringToObject(o, "output", h.output);
	if (h.notes[0] != '\0') {
		cJSON *n = cJSON_AddArrayToObject(o, "notes");
		char *p = h.notes, *nl;

		/* One note a line: each whole. */
		for (; p != NULL; p = nl != NULL ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			if (nl != NULL)
				*nl = '\0';
			cJSON_AddItemToArray(n, cJSON_CreateString(p));
		}
	}
	checks = cJSON_AddObjectToObject(o, "checks");
	/*
	 * A check per rule behind the verdict (firing, or unknown and not
	 * merely noted), "<probe>:<rule>" as the draft wants; the rest are
	 * left out, so the answer stays small and cheap whatever the number
	 * of rules (the whole picture is /status). A check's status is
	 * "fail" or "warn", never "pass", so "pass" appears only at the top
	 * level.
	 */
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule_status *st;
		const char *metric, *dot;
		char key[160], t[40], sil[SILENCE_MAX_TEXT + 64];
		cJSON *arr, *e;
		enum health_role r = classify(m, i, now, &v, sil, sizeof(sil));

		if (r != HEALTH_FAIL && r != HEALTH_WARN && r != HEALTH_UNKNOWN)
			continue;
		st = v.st;
		metric = v.cfg->metric != NULL ? v.cfg->metric :
		    v.cfg->numerator;
		dot = strchr(metric, '.');

		snprintf(key, sizeof(key), "%.*s:%s",
		    (int)(dot != NULL ? dot - metric : 0), metric,
		    v.cfg->name);
		arr = cJSON_AddArrayToObject(checks, key);
		e = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, e);
		cJSON_AddStringToObject(e, "componentType", "component");
		cJSON_AddStringToObject(e, "status", r == HEALTH_FAIL ? "fail" :
		    "warn");
		if (st->known)
			cJSON_AddNumberToObject(e, "observedValue", st->value);
		if (v.cfg->unit != NULL)
			cJSON_AddStringToObject(e, "observedUnit", v.cfg->unit);
		if (st->evaluated != 0) {
			clock_iso(st->evaluated, t, sizeof(t));
			cJSON_AddStringToObject(e, "time", t);
		}
		cJSON_AddStringToObject(e, "output", v.explain);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
