#include "notify/payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/jsonw.h"
#include "engine/ruleset.h"

const char *
notice_kind_name(enum notice_kind k)
{
	switch (k) {
	case NOTICE_FIRING:
		return "firing";
	case NOTICE_ESCALATED:
		return "escalated";
	case NOTICE_DEESCALATED:
		return "deescalated";
	case NOTICE_REPEAT:
		return "repeat";
	case NOTICE_RESOLVED:
		return "resolved";
	case NOTICE_FLAP_ENDED:
		return "flapping_ended";
	}
	return "?";
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];

	clock_iso(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

char *
payload_generic(const struct notice *n, const struct sender *s)
{
	cJSON *o = cJSON_CreateObject(), *l;
	char id[96];

	snprintf(id, sizeof(id), "%s-%llu", s->instance,
	    (unsigned long long)n->seq);
	cJSON_AddStringToObject(o, "version", "1");
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "kind", notice_kind_name(n->kind));
	cJSON_AddStringToObject(o, "rule", n->rule);
	cJSON_AddStringToObject(o, "state", n->firing ? "firing" : "resolved");
	if (n->firing)
		cJSON_AddStringToObject(o, "severity", rule_sev_name(n->sev));
	if (n->known)
		cJSON_AddNumberToObject(o, "value", n->value);
	else
		cJSON_AddNullToObject(o, "value");
	cJSON_AddNumberToObject(o, "threshold", n->threshold);
	if (n->unit[0] != '\0')
		cJSON_AddStringToObject(o, "unit", n->unit);
	cJSON_AddStringToObject(o, "summary", n->summary);
	add_time(o, "since", n->since);
	add_time(o, "time", n->t);
	l = cJSON_AddObjectToObject(o, "labels");
	for (size_t i = 0; i < n->nlabels; i++)
		cJSON_AddStringToObject(l, n->labels[i].key,
		    n->labels[i].value);
	cJSON_AddStringToObject(o, "instance", s->instance);
	cJSON_AddStringToObject(o, "url", s->url);
	return jsonw_take(o);
}

/*
 * Text for Slack, from anywhere but vigil's own markup: &, < and > as
 * entities (Slack's rule for message text), so a summary quoting a target
 * ("<!channel> <https://evil.example/|ACK HERE>") mentions nobody and
 * links nowhere. Truncates at a whole character or entity.
 */
const char *
payload_slack_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		const char *e = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" :
		    *in == '>' ? "&gt;" : NULL;
		size_t n = e != NULL ? strlen(e) : 1;

		if (o + n >= len)
			break;
		if (e != NULL)
			memcpy(out + o, e, n);
		else
			out[o] = *in;
		o += n;
	}
	/* A cut multibyte character would be invalid UTF-8: drop its start. */
	while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80 &&
	    *in != '\0')
		o--;
	if (o > 0 && (unsigned char)out[o - 1] >= 0xc0 && *in != '\0')
		o--;
	out[o] = '\0';
	return out;
}

/* Neither links nor media in a message are unfurled into previews. */
void
payload_slack_quiet(cJSON *o)
{
	cJSON_AddBoolToObject(o, "unfurl_links", false);
	cJSON_AddBoolToObject(o, "unfurl_media", false);
}

char *
payload_slack(const struct notice *n, const struct sender *s)
{
	cJSON *o = cJSON_CreateObject(), *blocks, *b, *t;
	/* Room for the escaped parts whole (a section's text takes 3,000). */
	char text[2560], since[40], head[96];
	char rule[5 * sizeof(n->rule)], sum[5 * sizeof(n->summary)];
	char inst[256];

	clock_iso(n->since, since, sizeof(since));
	if (!n->firing)
		snprintf(head, sizeof(head), ":white_check_mark: RESOLVED");
	else if (n->sev == SEV_CRITICAL)
		snprintf(head, sizeof(head), ":red_circle: CRITICAL%s",
		    n->kind == NOTICE_REPEAT ? " (still firing)" : "");
	else
		snprintf(head, sizeof(head), ":large_yellow_circle: WARNING%s",
		    n->kind == NOTICE_REPEAT ? " (still firing)" : "");
	payload_slack_escape(n->rule, rule, sizeof(rule));
	payload_slack_escape(n->summary, sum, sizeof(sum));
	payload_slack_escape(s->instance, inst, sizeof(inst));
	snprintf(text, sizeof(text), "%s %s: %s (since %s, %s)%s", head,
	    rule, sum, since, inst,
	    n->kind == NOTICE_FLAP_ENDED ? " [flapping ended]" : "");
	/* text is the fallback and the notification preview. */
	cJSON_AddStringToObject(o, "text", text);
	blocks = cJSON_AddArrayToObject(o, "blocks");
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "type", "section");
	t = cJSON_AddObjectToObject(b, "text");
	cJSON_AddStringToObject(t, "type", "mrkdwn");
	snprintf(text, sizeof(text), "*%s* `%s`\n%s\nsince %s on %s <%s|status>",
	    head, rule, sum, since, inst, s->url);
	cJSON_AddStringToObject(t, "text", text);
	cJSON_AddItemToArray(blocks, b);
	payload_slack_quiet(o);
	return jsonw_take(o);
}

char *
payload_alertmanager(const struct notice *const *ns, size_t n,
    const struct sender *s)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		const struct notice *x = ns[i];
		cJSON *a = cJSON_CreateObject(), *l, *an;
		char v[32], t[32];

		l = cJSON_AddObjectToObject(a, "labels");
		/* The rule's labels first: ours win a clash, so the alert's
		 * identity stays what vigild says it is. */
		for (size_t j = 0; j < x->nlabels; j++)
			cJSON_AddStringToObject(l, x->labels[j].key,
			    x->labels[j].value);
		cJSON_DeleteItemFromObjectCaseSensitive(l, "alertname");
		cJSON_DeleteItemFromObjectCaseSensitive(l, "severity");
		cJSON_AddStringToObject(l, "alertname", x->rule);
		/* Severity is part of the identity in Alertmanager; a
		 * resolved alert keeps the one it fired with. */
		cJSON_AddStringToObject(l, "severity", rule_sev_name(x->sev));
		cJSON_AddStringToObject(l, "source", "vigil");
		an = cJSON_AddObjectToObject(a, "annotations");
		cJSON_AddStringToObject(an, "summary", x->summary);
		/* Which vigild said it: an annotation, not a label, so the
		 * two of an HA pair push one alert that Alertmanager
		 * deduplicates (labels are its identity). */
		cJSON_AddStringToObject(an, "vigil_instance", s->instance);
		if (x->known) {
			ruleset_fmt_num(x->value, v, sizeof(v));
			cJSON_AddStringToObject(an, "value", v);
		}
		ruleset_fmt_num(x->threshold, t, sizeof(t));
		cJSON_AddStringToObject(an, "threshold", t);
		add_time(a, "startsAt", x->since);
		if (!x->firing)
			add_time(a, "endsAt", x->t);
		cJSON_AddStringToObject(a, "generatorURL", s->url);
		cJSON_AddItemToArray(arr, a);
	}
	return jsonw_take(arr);
}

char *
payload_deploy_generic(const struct deploy_notice *d, const struct sender *s)
{
	cJSON *o = cJSON_CreateObject(), *dp;
	char id[96];

	snprintf(id, sizeof(id), "%s-%llu", s->instance,
	    (unsigned long long)d->seq);
	cJSON_AddStringToObject(o, "version", "1");
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "kind", "deploy_verdict");
	dp = cJSON_AddObjectToObject(o, "deploy");
	cJSON_AddNumberToObject(dp, "id", (double)d->id);
	cJSON_AddStringToObject(dp, "version", d->version);
	cJSON_AddStringToObject(o, "verdict", d->verdict);
	cJSON_AddStringToObject(o, "reason", d->reason);
	cJSON_AddBoolToObject(o, "final", d->final);
	add_time(o, "time", d->t);
	cJSON_AddStringToObject(o, "instance", s->instance);
	cJSON_AddStringToObject(o, "url", s->url);
	return jsonw_take(o);
}

char *
payload_deploy_slack(const struct deploy_notice *d, const struct sender *s)
{
	cJSON *o = cJSON_CreateObject();
	char text[2048], ver[320], why[1280], inst[256];
	bool good = strcmp(d->verdict, "pass") == 0;

	snprintf(text, sizeof(text), "%s Deploy %s: %s%s: %s (%s)",
	    good ? ":white_check_mark:" : strcmp(d->verdict, "fail") == 0 ?
	    ":rotating_light:" : ":warning:",
	    payload_slack_escape(d->version, ver, sizeof(ver)), d->verdict,
	    d->final ? "" : " (decided early)",
	    payload_slack_escape(d->reason, why, sizeof(why)),
	    payload_slack_escape(s->instance, inst, sizeof(inst)));
	cJSON_AddStringToObject(o, "text", text);
	payload_slack_quiet(o);
	return jsonw_take(o);
}

char *
payload_deploy_alertmanager(const struct deploy_notice *d,
    const struct sender *s)
{
	cJSON *arr = cJSON_CreateArray(), *a = cJSON_CreateObject(), *l, *an;
	char ver[96];

	l = cJSON_AddObjectToObject(a, "labels");
	cJSON_AddStringToObject(l, "alertname", "vigil_deploy_verdict");
	cJSON_AddStringToObject(l, "severity",
	    strcmp(d->verdict, "fail") == 0 ? "critical" : "warning");
	cJSON_AddStringToObject(l, "verdict", d->verdict);
	snprintf(ver, sizeof(ver), "%s", d->version);
	cJSON_AddStringToObject(l, "release", ver);
	cJSON_AddStringToObject(l, "source", "vigil");
	an = cJSON_AddObjectToObject(a, "annotations");
	cJSON_AddStringToObject(an, "summary", d->reason);
	/* Not a label: an HA pair's two verdicts are one alert. */
	cJSON_AddStringToObject(an, "vigil_instance", s->instance);
	add_time(a, "startsAt", d->t);
	/* A verdict is an event, not a state: it ends by itself. */
	add_time(a, "endsAt", d->t + 3600 * 1000);
	cJSON_AddStringToObject(a, "generatorURL", s->url);
	cJSON_AddItemToArray(arr, a);
	return jsonw_take(arr);
}
