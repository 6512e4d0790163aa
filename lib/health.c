#include "health.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "monitor.h"
#include "ruleset.h"
#include "silence.h"

/*
 * " [silenced by ana until 14:00:00Z]": the verdict stays the truth, but
 * whoever reads it learns that someone already knows.
 */
static void
silenced_note(const struct silences *sl, const struct rule_cfg *rc,
    int64_t now, char *buf, size_t len)
{
	const struct silence *x = silences_match(sl, rc, now);
	char t[40];

	buf[0] = '\0';
	if (x == NULL)
		return;
	clock_iso(x->expires, t, sizeof(t));
	snprintf(buf, len, " [silenced by %s until %.19sZ]", x->author, t);
}

/* Appends "; text" to the output, as much as fits. */
static void
add_output(struct health *h, const char *text)
{
	size_t n = strlen(h->output);

	snprintf(h->output + n, sizeof(h->output) - n, "%s%s",
	    n > 0 ? "; " : "", text);
}

void
health_eval(const struct monitor *m, struct health *h)
{
	const struct ruleset *rs = monitor_rules(m);
	int64_t now = clock_wall_ms();
	bool fail = false, warn = false;
	const struct silences *sl = monitor_silences(m);
	struct rule_view v;
	char why[256], note[SILENCE_MAX_TEXT + 64];

	h->output[0] = '\0';
	h->notes[0] = '\0';
	if (monitor_degraded(m, why, sizeof(why))) {
		fail = true;
		add_output(h, why);
	}
	/*
	 * Criticals first in the output: they are what the reader needs.
	 * The verdict comes from the bare statuses; a rule's text is
	 * rendered only when it goes into the output, so /health costs
	 * little with thousands of quiet rules (bench/PROFILE.md).
	 */
	for (int pass = 0, more = 1; pass < 2 && more; pass++) {
		more = 0;
		for (size_t i = 0; i < ruleset_count(rs); i++) {
			const struct rule_status *st = ruleset_status(rs, i);
			bool crit = st->state == RULE_FIRING &&
			    st->sev == SEV_CRITICAL;
			char line[400 + sizeof(note)];

			/* Criticals in pass 0, the rest in pass 1: each once. */
			if (st->state != RULE_FIRING &&
			    (st->state != RULE_UNKNOWN || st->suppressed))
				continue;
			if (crit != (pass == 0)) {
				more = 1;	/* pass 1 has work */
				continue;
			}
			ruleset_view(rs, i, now, &v);
			if (st->state == RULE_FIRING) {
				if (crit)
					fail = true;
				else if (st->sev == SEV_WARNING)
					warn = true;
				else
					continue;
				silenced_note(sl, v.cfg, now, note,
				    sizeof(note));
				snprintf(line, sizeof(line), "%s: %s: %s%s",
				    crit ? "critical" : "warning", v.cfg->name,
				    v.summary, note);
				add_output(h, line);
			} else if (st->quiet) {
				size_t n = strlen(h->notes);

				snprintf(h->notes + n, sizeof(h->notes) - n,
				    "%s%s: %s", n > 0 ? "; " : "",
				    v.cfg->name, st->why);
			} else {
				warn = true;
				snprintf(line, sizeof(line), "unknown: %s: %s",
				    v.cfg->name, st->why);
				add_output(h, line);
			}
		}
	}
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

		cJSON_AddItemToArray(n, cJSON_CreateString(h.notes));
	}
	checks = cJSON_AddObjectToObject(o, "checks");
	/*
	 * A check per rule that is not ok, "<probe>:<rule>" as the draft
	 * wants; rules that are fine are left out, so the answer stays
	 * small and cheap whatever the number of rules (the whole picture is
	 * /status). A check's status is optional in the draft and never
	 * "pass" here, so "pass" appears only at the top level.
	 */
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule_status *st;
		const char *metric, *dot;
		char key[160], t[40];
		cJSON *arr, *e;

		if (ruleset_status(rs, i)->state == RULE_OK)
			continue;
		ruleset_view(rs, i, now, &v);
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
		if (st->state == RULE_FIRING)
			cJSON_AddStringToObject(e, "status",
			    st->sev == SEV_CRITICAL ? "fail" : "warn");
		else if (st->state == RULE_UNKNOWN)
			cJSON_AddStringToObject(e, "status", "warn");
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
