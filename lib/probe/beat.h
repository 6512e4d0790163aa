/*
 * beat: the heartbeats jobs send (POST /heartbeat/NAME), kept by name
 * until their probe judges them, and that judgement: a pure function of
 * the last beat, the period, the grace, when vigild started and now.
 * The API records, the heartbeat probe reads; neither knows the other.
 */
#ifndef VIGIL_BEAT_H
#define VIGIL_BEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BEAT_MSG_MAX 200	/* bytes of a job's message kept */

struct beat {
	int64_t at;		/* Unix ms it arrived */
	bool failed;		/* the job said ?status=fail */
	double duration_s;	/* how long the job took; < 0: not given */
	char msg[BEAT_MSG_MAX + 1];	/* UTF-8, maybe empty */
};

/* The last beat of each heartbeat, by name. */
struct beatboard;

/* started: Unix ms vigild started (what "no heartbeat since" counts). */
struct beatboard *beatboard_new(int64_t started);
void beatboard_free(struct beatboard *b);
int64_t beatboard_started(const struct beatboard *b);
/* Keeps b as name's last beat; 0, or -1 out of memory. */
int beatboard_record(struct beatboard *b, const char *name,
    const struct beat *beat);
/* name's last beat, or NULL before any. */
const struct beat *beatboard_last(const struct beatboard *b,
    const char *name);

/*
 * The board for the state file: {"name": {"at", "failed", "msg",
 * "duration_s"}}, and back. Restoring skips what is malformed, keeps at
 * most BEAT_RESTORE_MAX entries and returns how many it kept.
 */
#define BEAT_RESTORE_MAX 1024
struct cJSON;
struct cJSON *beatboard_save(const struct beatboard *b);
size_t beatboard_restore(struct beatboard *b, const struct cJSON *o);

/*
 * Whether the job is up at now, and if not why in reason (len bytes):
 * - no beat yet: up until period + grace after started, then down
 *   ("no heartbeat since vigild started 1h10m ago");
 * - a beat older than period + grace: down ("last heartbeat 2h3m ago
 *   (expected every 1h)");
 * - a failed beat: down ("job reported failure: \"msg\"");
 * - else up. reason is "" when up.
 */
bool beat_judge(const struct beat *last, int64_t period_ms, int64_t grace_ms,
    int64_t started, int64_t now, char *reason, size_t len);

#endif
