/*
 * statefile: what vigild must not forget across a restart, in one JSON
 * file in state_dir (systemd's StateDirectory=): every rule's status and
 * baseline, the silences, what each notifier has told and its undelivered
 * notices, the release gate's deploy windows (so a restart mid-window
 * resumes it), and enough recent samples for the rules' windows.
 *
 * Written atomically (temp file, fsync, rename, fsync of the directory)
 * when something changed, at most every state_interval, and on shutdown.
 * The document is built on the loop; the disk work runs in a short-lived
 * thread, so a slow or full disk never stalls polling. A missing file is
 * a fresh start; a truncated or garbage one (or not a regular file) is
 * moved aside with a clear log line, and one that cannot be read (its
 * permissions, a symbolic link in its place) is left where it is; either
 * way vigild starts fresh -- it never refuses to start over its own
 * state. Neither file is ever opened through a symbolic link. Failures to
 * write are logged (once per kind) and retried; polling goes on.
 *
 * Nothing secret is written: no tokens, passwords or webhook URLs.
 */
#ifndef VIGIL_STATEFILE_H
#define VIGIL_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct monitor;
struct notifier;
struct deploys;
struct statefile;

#define STATEFILE_NAME "state.json"
#define STATEFILE_MAX_BYTES (256L * 1024 * 1024)

/*
 * The document and its reading, apart from the loop and the timers (the
 * unit tests drive these). States and severities are saved by name; a
 * file of 0.1.0, which saved them as numbers, still loads.
 */

/* What the state file saves; nt and dp may be NULL. */
struct statefile_parts {
	struct monitor *m;
	struct notifier *nt;
	struct deploys *dp;
};

/* What a load put back. */
struct statefile_restored {
	int version;		/* the file's format version */
	size_t rules;		/* rules whose status came back */
	size_t silences;	/* silences still active at now */
	size_t samples;
};

/*
 * The document as of now (Unix ms): malloc'd, *len bytes; NULL: no memory,
 * or past STATEFILE_MAX_BYTES (a file no load would read).
 */
char *statefile_encode(const struct statefile_parts *p, int64_t now,
    size_t *len);

/*
 * Puts buf's state back into p's parts, as of now (silences that ended by
 * then are dropped). Returns 0, or -1 with the reason in why when the
 * document is unusable as a whole (empty, not JSON, no or an unknown
 * format version): then nothing was changed. Within a usable document,
 * keys this version does not know are ignored, and a damaged entry (a
 * rule, a silence, a deploy) starts fresh alone: the rest still loads.
 */
int statefile_decode(const struct statefile_parts *p, const char *buf,
    size_t len, int64_t now, struct statefile_restored *out, char *why,
    size_t whylen);

enum statefile_outcome {
	STATEFILE_RESTORED,
	STATEFILE_ABSENT,	/* no file: a fresh start */
	STATEFILE_UNREADABLE,	/* open or read failed: a fresh start */
	STATEFILE_UNUSABLE,	/* moved aside to path.corrupt-<s>: fresh */
};

/*
 * Reads path and decodes it, logging the outcome. vigild never refuses
 * to start over its own state: every outcome but the first is a fresh
 * start.
 */
enum statefile_outcome statefile_load(const struct statefile_parts *p,
    const char *path, int64_t now, struct statefile_restored *out);

/*
 * Whether dir is a directory that only vigild (its effective user) or
 * root can write, as sshd's StrictModes asks of ~/.ssh: anyone else able
 * to write there could plant or swap the state file, restoring silences
 * or told notices of their choosing. 0, or -1 with a sentence in why.
 */
int statefile_dir_check(const char *dir, char *why, size_t whylen);

/*
 * Reads dir/state.json into m and nt (nt may be NULL), then saves every
 * interval_ms while anything changed. Returns NULL only when out of
 * memory; a bad file is not an error (moved aside, logged). A dir that
 * fails statefile_dir_check is neither read nor written until a restart
 * finds it fixed (logged, and in /status); polling goes on.
 */
struct statefile *statefile_open(struct event_base *base, const char *dir,
    int64_t interval_ms, struct monitor *m, struct notifier *nt,
    struct deploys *dp);
/* Writes once more, synchronously, then frees. NULL is a no-op. */
void statefile_close(struct statefile *sf);

/* Something changed that must be saved soon (a silence, a baseline). */
void statefile_touch(struct statefile *sf);

/* For /status: the last write's outcome. */
struct statefile_view {
	const char *path;
	int64_t last_saved;	/* Unix ms, 0: never */
	const char *last_error;	/* "" when the last write worked */
	uint64_t writes, failures;
};
void statefile_view(const struct statefile *sf, struct statefile_view *v);

#endif
