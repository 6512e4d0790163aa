#include "notify/tmplbody.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/template.h"
#include "engine/ruleset.h"

/* Every field's text, made before rendering: the lookup only picks. */
struct fields {
	const char *kind, *rule, *state, *severity, *summary, *unit;
	const char *instance, *url;
	char id[96], value[32], threshold[32], since[40], time[40];
	char title[128];
	const struct notice *n;	/* labels; NULL for a deploy */
};

static const char *
lookup(void *arg, const char *name, size_t len)
{
	const struct fields *f = arg;
	static const struct {
		const char *name;
		size_t off;
		bool array;
	} tab[] = {
		{ "kind", offsetof(struct fields, kind), false },
		{ "rule", offsetof(struct fields, rule), false },
		{ "state", offsetof(struct fields, state), false },
		{ "severity", offsetof(struct fields, severity), false },
		{ "summary", offsetof(struct fields, summary), false },
		{ "unit", offsetof(struct fields, unit), false },
		{ "instance", offsetof(struct fields, instance), false },
		{ "url", offsetof(struct fields, url), false },
		{ "id", offsetof(struct fields, id), true },
		{ "value", offsetof(struct fields, value), true },
		{ "threshold", offsetof(struct fields, threshold), true },
		{ "since", offsetof(struct fields, since), true },
		{ "time", offsetof(struct fields, time), true },
		{ "title", offsetof(struct fields, title), true },
	};

	if (len > 7 && strncmp(name, "labels.", 7) == 0) {
		for (size_t i = 0; f->n != NULL && i < f->n->nlabels; i++)
			if (strlen(f->n->labels[i].key) == len - 7 &&
			    strncmp(f->n->labels[i].key, name + 7, len - 7) ==
			    0)
				return f->n->labels[i].value;
		return "";
	}
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const char *p = (const char *)f + tab[i].off;

		if (strlen(tab[i].name) != len ||
		    strncmp(tab[i].name, name, len) != 0)
			continue;
		return tab[i].array ? p : *(const char *const *)(const void *)p;
	}
	return NULL;
}

static char *
render(const char *tmpl, const char *content_type, struct fields *f)
{
	struct tmpl_error err;

	return tmpl_render(tmpl, tmpl_escape_for(content_type), lookup, f,
	    &err);
}

char *
tmplbody_notice(const char *tmpl, const char *content_type,
    const struct notice *n, const struct sender *s)
{
	struct fields f;

	memset(&f, 0, sizeof(f));
	f.n = n;
	f.kind = notice_kind_name(n->kind);
	f.rule = n->rule;
	f.state = n->firing ? "firing" : "resolved";
	f.severity = n->firing ? rule_sev_name(n->sev) : "none";
	f.summary = n->summary;
	f.unit = n->unit;
	f.instance = s->instance;
	f.url = s->url;
	snprintf(f.id, sizeof(f.id), "%s-%llu", s->instance,
	    (unsigned long long)n->seq);
	if (n->known)
		ruleset_fmt_num(n->value, f.value, sizeof(f.value));
	else
		snprintf(f.value, sizeof(f.value), "unknown");
	ruleset_fmt_num(n->threshold, f.threshold, sizeof(f.threshold));
	clock_iso(n->since, f.since, sizeof(f.since));
	clock_iso(n->t, f.time, sizeof(f.time));
	snprintf(f.title, sizeof(f.title), "[%s] %s", !n->firing ? "RESOLVED" :
	    n->sev == SEV_CRITICAL ? "CRITICAL" : "WARNING", n->rule);
	return render(tmpl, content_type, &f);
}

char *
tmplbody_deploy(const char *tmpl, const char *content_type,
    const struct deploy_notice *d, const struct sender *s)
{
	struct fields f;
	bool fail = strcmp(d->verdict, "fail") == 0;
	bool pass = strcmp(d->verdict, "pass") == 0;

	memset(&f, 0, sizeof(f));
	f.kind = "deploy_verdict";
	f.rule = "deploy";
	f.state = d->verdict;
	f.severity = fail ? "critical" : pass ? "none" : "warning";
	f.summary = d->reason;
	f.unit = "";
	f.instance = s->instance;
	f.url = s->url;
	snprintf(f.id, sizeof(f.id), "%s-%llu", s->instance,
	    (unsigned long long)d->seq);
	snprintf(f.value, sizeof(f.value), "%s", d->verdict);
	snprintf(f.threshold, sizeof(f.threshold), "pass");
	clock_iso(d->t, f.since, sizeof(f.since));
	clock_iso(d->t, f.time, sizeof(f.time));
	snprintf(f.title, sizeof(f.title), "[DEPLOY %s] %.80s",
	    fail ? "FAIL" : pass ? "PASS" : strcmp(d->verdict, "warn") == 0 ?
	    "WARN" : "INCONCLUSIVE", d->version);
	return render(tmpl, content_type, &f);
}
