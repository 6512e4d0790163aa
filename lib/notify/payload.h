/*
 * payload: what a notification says, rendered for each receiver. Pure:
 * a notice in, a JSON body out.
 *
 *   generic webhook  one object: rule, state, severity, value, threshold,
 *                    summary, since, labels, the vigild instance, an id
 *   Slack            {"text", "blocks"} for an incoming webhook
 *   Alertmanager     the v2 API's array of alerts: labels (alertname,
 *                    severity, instance, the rule's), annotations,
 *                    startsAt, endsAt (resolved: the time it ended),
 *                    generatorURL
 */
#ifndef VIGIL_PAYLOAD_H
#define VIGIL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine/rules.h"

enum notice_kind {
	NOTICE_FIRING,		/* started firing */
	NOTICE_ESCALATED,	/* warning -> critical */
	NOTICE_DEESCALATED,	/* critical -> warning */
	NOTICE_REPEAT,		/* still firing, repeat interval passed */
	NOTICE_RESOLVED,
	NOTICE_FLAP_ENDED,	/* flapping over: this is the state now */
};

const char *notice_kind_name(enum notice_kind k);

#define NOTICE_MAX_LABELS 8

struct notice {
	uint64_t seq;		/* per notifier; with instance, the id */
	enum notice_kind kind;
	char rule[64];
	bool firing;		/* firing now, or resolved */
	enum rule_sev sev;	/* when firing */
	bool known;
	double value, threshold;
	char unit[16];
	char summary[320];
	int64_t since;		/* Unix ms: when it started firing */
	int64_t t;		/* Unix ms: when this notice was made */
	struct {
		char key[64], value[128];
	} labels[NOTICE_MAX_LABELS];
	size_t nlabels;
};

/* Everything about the sender the payloads mention. */
struct sender {
	const char *instance;	/* e.g. the host name */
	const char *url;	/* vigild's page */
};

/* A release gate's verdict, told when it is decided or the window ends. */
struct deploy_notice {
	uint64_t seq;
	uint64_t id;		/* the deploy's */
	const char *version;
	const char *verdict;	/* "pass", "warn", "inconclusive", "fail" */
	const char *reason;
	bool final;		/* the window ended; else decided early */
	int64_t t;
};

/* Bodies are malloc'd; NULL when out of memory. */
char *payload_generic(const struct notice *n, const struct sender *s);
char *payload_slack(const struct notice *n, const struct sender *s);
char *payload_alertmanager(const struct notice *const *ns, size_t n,
    const struct sender *s);

/* The same three shapes for a deploy verdict. */
char *payload_deploy_generic(const struct deploy_notice *d,
    const struct sender *s);
char *payload_deploy_slack(const struct deploy_notice *d,
    const struct sender *s);
/* An alert "vigil_deploy_verdict" that ends by itself after an hour. */
char *payload_deploy_alertmanager(const struct deploy_notice *d,
    const struct sender *s);

/*
 * Outside text made inert for Slack (&, <, > as entities), cut at a whole
 * character to fit len; returns out. Shared with notify/deploytext.c.
 */
const char *payload_slack_escape(const char *in, char *out, size_t len);
/* No link or media previews in a Slack message. */
void payload_slack_quiet(cJSON *o);

#endif
