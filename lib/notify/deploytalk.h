/*
 * deploytalk: when a notifier tells #incidents about a deploy, and what.
 * Pure: the deploy as its document says it is now, what this notifier
 * told so far and a clock in; the updates owed now out, and what was told
 * updated as if they were sent. No I/O, no clock reads: tests drive it on
 * a fake clock.
 *
 *   deploy_begin     once, when a window is seen open
 *   deploy_step      once per stage (vigilctl deploy step), in order
 *   deploy_verdict   each time the verdict so far (the gate's) changes
 *   deploy_progress  at begun + k * interval while the window is open;
 *                    a missed slot is skipped, never sent in a burst
 *   deploy_end       once, when the window is seen ended: the summary
 *
 * Nothing is owed after the end. A notifier that never told anything
 * and first sees a deploy already ended stays quiet: it would announce
 * an old release as news.
 */
#ifndef VIGIL_DEPLOYTALK_H
#define VIGIL_DEPLOYTALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum talk_kind {
	TALK_BEGIN, TALK_STEP, TALK_VERDICT, TALK_PROGRESS, TALK_END,
};

/* "deploy_begin", "deploy_step", ... : the generic payload's kind. */
const char *talk_kind_name(enum talk_kind k);

#define TALK_VERDICT_LEN 16

/* What one notifier has told about deploys. */
struct talk_told {
	uint64_t id;		/* the deploy told about; 0: none yet */
	bool begun, ended;
	unsigned steps;		/* stages told */
	int64_t next_progress;	/* Unix ms: the next progress update */
	char verdict[TALK_VERDICT_LEN];	/* the verdict told so far */
};

/* What the decision reads of the deploy now. */
struct talk_deploy {
	uint64_t id;		/* 0: there is no deploy */
	bool open;
	int64_t begun;		/* Unix ms */
	unsigned nstages;
	char verdict[TALK_VERDICT_LEN];	/* open: the gate's so far; else final */
};

struct talk_event {
	enum talk_kind kind;
	unsigned stage;		/* deploy_step: the stage's index */
	char was[TALK_VERDICT_LEN];	/* deploy_verdict: the one told before */
};

#define TALK_MAX_EVENTS 8

/*
 * The updates owed now into out (at most max; the rest next time), in
 * the order they are to be sent. t is updated as if they were.
 */
size_t deploytalk_decide(int64_t interval_ms, const struct talk_deploy *d,
    struct talk_told *t, int64_t now, struct talk_event *out, size_t max);

/* Reads a deploy document (GET /deploys/{id}) into d. false: not one. */
bool deploytalk_read(const cJSON *doc, struct talk_deploy *d);

/* The state file's part. */
cJSON *deploytalk_save(const struct talk_told *t);
void deploytalk_restore(struct talk_told *t, const cJSON *o);

#endif
