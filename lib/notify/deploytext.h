/*
 * deploytext: what a deploy update says to #incidents, in the shapes of
 * the deployment checklist's Communication templates, rendered for Slack
 * (text and blocks) and for the generic webhook (the same data as JSON
 * with "kind"). Pure, and it decides nothing: the update's kind comes
 * from notify/deploytalk.c, every number, verdict and reason from the
 * deploy's document (GET /deploys/{id}, release/report.c). A number the
 * document does not have is "not measured", never made up.
 *
 *   status line   [14:00 UTC] 🟢 error rate 0.05 %, api p95 450 ms, ...
 *                 🟢 pass, 🟡 warn, 🔴 fail, ⚪ inconclusive
 *   deploy_end    the Post-Deployment Summary's sections, targets next to
 *                 values; the generic body carries the document itself
 */
#ifndef VIGIL_DEPLOYTEXT_H
#define VIGIL_DEPLOYTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "notify/deploytalk.h"
#include "notify/payload.h"

struct deploy_update {
	uint64_t seq;		/* per notifier; with instance, the id */
	struct talk_event ev;
	int64_t t;		/* when it is told, Unix ms */
	const cJSON *doc;	/* the deploy's document */
};

/* The traffic light of a verdict name ("pass" -> 🟢); ⚪ if unknown. */
const char *deploytext_mark(const char *verdict);

/* The whole text, lines joined by \n, into out (cut to fit). */
void deploytext_text(const struct deploy_update *u, const struct sender *s,
    char *out, size_t len);

/* Bodies are malloc'd; NULL when out of memory. */
char *deploytext_generic(const struct deploy_update *u,
    const struct sender *s);
char *deploytext_slack(const struct deploy_update *u, const struct sender *s);

#endif
