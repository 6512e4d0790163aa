/*
 * deploy_int: the deploy window as the release gate's own files see it
 * (deploy.c keeps it, deploy_state.c saves it, report.c renders it).
 * Private to lib/release/.
 */
#ifndef VIGIL_DEPLOY_INT_H
#define VIGIL_DEPLOY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "release/deploy.h"
#include "release/verdict.h"
#include "engine/ruleset.h"

#define KEPT_DEPLOYS	8

/*
 * A counter summed over the window poll by poll, from the first sample
 * after judging began: how the report counts cache hits and misses.
 */
struct tally {
	char metric[128];	/* "" : not configured, not measured */
	double total, last;
	bool have_last;
};

/* Where the live configuration measures a check, and how it last did. */
struct dlink {
	size_t rule;		/* index of its rule in the live config */
	struct rule_measure m;	/* the latest poll: what it is over */
	char why[160];		/* why it could not be measured */
};

struct deploy {
	uint64_t id;
	int64_t baseline_from;
	struct vdeploy vd;	/* what the verdict is judged on */
	struct dlink *links;	/* one a check */
	char br_probe[64];	/* errors by release: the sentry probe */
	struct tally hits, misses;	/* release.cache_hits, cache_misses */
	bool announced;		/* its verdict was told */
	char announce[DEPLOY_ANNOUNCE_MAX + 1];	/* vigilctl --announce */
	int planned[DEPLOY_PLANNED_MAX];	/* vigilctl --stages */
	size_t nplanned;
};

struct deploys {
	struct monitor *m;
	struct deploy *kept[KEPT_DEPLOYS];	/* newest first */
	size_t nkept;
	bool open;				/* kept[0] is open */
	uint64_t next_id;
	void (*listener)(uint64_t id, const char *version, const char *verdict,
	    const char *reason, bool final, void *arg);
	void *listener_arg;
	uint64_t polls;		/* polls that fed the open window */
};

struct deploy *deploy_new(size_t nchecks, int64_t begun, int64_t judge_from,
    int64_t interval_ms);
void deploy_free(struct deploy *dp);

/* The report: the deploy's document, rendered from its verdict. */
cJSON *report_json(const struct deploys *d, const struct deploy *dp,
    int64_t now);

/* The state file's part of one deploy (deploy_state.c). */
cJSON *deploy_save_one(const struct deploy *dp);
/* NULL when o is not a deploy; cfg fills checks an old file lacks. */
struct deploy *deploy_restore_one(const cJSON *o, const struct config *cfg);
/* Fills a check's config copy from the live config. */
void deploy_snapshot(struct vcheck_cfg *s, const struct release_check_cfg *rc,
    const struct rule_cfg *rule);

#endif
