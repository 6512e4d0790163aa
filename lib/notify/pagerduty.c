#include "notify/pagerduty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/jsonw.h"
#include "engine/ruleset.h"

const char *
pagerduty_dedup_key(const char *instance, const char *rule, char *out,
    size_t len)
{
	char buf[PAGERDUTY_DEDUP_MAX + 1];

	snprintf(buf, sizeof(buf), "vigil/%s/%s", instance, rule);
	snprintf(out, len, "%s", buf);
	return out;
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];

	clock_iso(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

static const char *
label(const struct notice *n, const char *key)
{
	for (size_t i = 0; i < n->nlabels; i++)
		if (strcmp(n->labels[i].key, key) == 0)
			return n->labels[i].value;
	return NULL;
}

/* Where a person goes from the incident: vigil's page. */
static void
add_links(cJSON *o, const struct sender *s)
{
	cJSON *links = cJSON_AddArrayToObject(o, "links");
	cJSON *l = cJSON_CreateObject();

	cJSON_AddStringToObject(l, "href", s->url);
	cJSON_AddStringToObject(l, "text", "vigil status page");
	cJSON_AddItemToArray(links, l);
	cJSON_AddStringToObject(o, "client", "vigil");
	cJSON_AddStringToObject(o, "client_url", s->url);
}

char *
pagerduty_event(const struct notice *n, const struct sender *s)
{
	cJSON *o = cJSON_CreateObject(), *p, *d, *l;
	char key[PAGERDUTY_DEDUP_MAX + 1], sum[PAGERDUTY_SUMMARY_MAX + 1];
	char id[96], num[32];
	const char *c;

	pagerduty_dedup_key(s->instance, n->rule, key, sizeof(key));
	cJSON_AddStringToObject(o, "event_action", n->firing ? "trigger" :
	    "resolve");
	cJSON_AddStringToObject(o, "dedup_key", key);
	/* A resolve needs its key only; PagerDuty keeps what triggered. */
	if (!n->firing)
		return jsonw_take(o);
	/* n->summary is shorter than PagerDuty's limit, but say so. */
	snprintf(sum, sizeof(sum), "%s", n->summary[0] != '\0' ? n->summary :
	    n->rule);
	p = cJSON_AddObjectToObject(o, "payload");
	cJSON_AddStringToObject(p, "summary", sum);
	cJSON_AddStringToObject(p, "source", s->instance);
	/* vigil's two severities are two of PagerDuty's four. */
	cJSON_AddStringToObject(p, "severity", n->sev == SEV_CRITICAL ?
	    "critical" : "warning");
	add_time(p, "timestamp", n->t);
	if ((c = label(n, "component")) != NULL)
		cJSON_AddStringToObject(p, "component", c);
	if ((c = label(n, "group")) != NULL || (c = label(n, "team")) != NULL)
		cJSON_AddStringToObject(p, "group", c);
	cJSON_AddStringToObject(p, "class", n->rule);
	d = cJSON_AddObjectToObject(p, "custom_details");
	snprintf(id, sizeof(id), "%s-%llu", s->instance,
	    (unsigned long long)n->seq);
	cJSON_AddStringToObject(d, "id", id);
	cJSON_AddStringToObject(d, "kind", notice_kind_name(n->kind));
	cJSON_AddStringToObject(d, "rule", n->rule);
	if (n->known) {
		ruleset_fmt_num(n->value, num, sizeof(num));
		cJSON_AddStringToObject(d, "value", num);
	} else {
		cJSON_AddStringToObject(d, "value", "unknown");
	}
	ruleset_fmt_num(n->threshold, num, sizeof(num));
	cJSON_AddStringToObject(d, "threshold", num);
	if (n->unit[0] != '\0')
		cJSON_AddStringToObject(d, "unit", n->unit);
	add_time(d, "since", n->since);
	l = cJSON_AddObjectToObject(d, "labels");
	for (size_t i = 0; i < n->nlabels; i++)
		cJSON_AddStringToObject(l, n->labels[i].key,
		    n->labels[i].value);
	add_links(o, s);
	return jsonw_take(o);
}

char *
pagerduty_deploy_event(const struct deploy_notice *d, const struct sender *s)
{
	cJSON *o, *p, *det;
	char key[PAGERDUTY_DEDUP_MAX + 1], rule[64], sum[PAGERDUTY_SUMMARY_MAX + 1];

	if (strcmp(d->verdict, "fail") != 0)
		return NULL;
	o = cJSON_CreateObject();
	snprintf(rule, sizeof(rule), "deploy/%llu", (unsigned long long)d->id);
	pagerduty_dedup_key(s->instance, rule, key, sizeof(key));
	cJSON_AddStringToObject(o, "event_action", "trigger");
	cJSON_AddStringToObject(o, "dedup_key", key);
	p = cJSON_AddObjectToObject(o, "payload");
	snprintf(sum, sizeof(sum), "Deploy %s failed its release gate: %s",
	    d->version, d->reason);
	cJSON_AddStringToObject(p, "summary", sum);
	cJSON_AddStringToObject(p, "source", s->instance);
	cJSON_AddStringToObject(p, "severity", "error");
	add_time(p, "timestamp", d->t);
	cJSON_AddStringToObject(p, "class", "deploy_verdict");
	det = cJSON_AddObjectToObject(p, "custom_details");
	cJSON_AddNumberToObject(det, "deploy", (double)d->id);
	cJSON_AddStringToObject(det, "version", d->version);
	cJSON_AddStringToObject(det, "verdict", d->verdict);
	cJSON_AddStringToObject(det, "reason", d->reason);
	cJSON_AddBoolToObject(det, "final", d->final);
	add_links(o, s);
	return jsonw_take(o);
}

char *
pagerduty_body(const char *event, const char *routing_key)
{
	size_t len;
	char *out;

	/* event is an object from above: "{" and at least one member. */
	if (event[0] != '{' || event[1] == '}')
		return NULL;
	len = strlen(event) + strlen(routing_key) + 20;
	if ((out = malloc(len)) == NULL)
		return NULL;
	snprintf(out, len, "{\"routing_key\":\"%s\",%s", routing_key,
	    event + 1);
	return out;
}

bool
pagerduty_permanent(long status)
{
	return status >= 400 && status < 500 && status != 408 &&
	    status != 429;
}
