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
 * a fresh start; an unreadable, truncated or garbage one is moved aside
 * with a clear log line and vigild starts fresh -- it never refuses to
 * start over its own state. Failures to write are logged (once per kind)
 * and retried; polling goes on.
 *
 * Nothing secret is written: no tokens, passwords or webhook URLs.
 */
#ifndef VIGIL_STATEFILE_H
#define VIGIL_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct monitor;
struct notifier;
struct deploys;
struct statefile;

#define STATEFILE_NAME "state.json"
#define STATEFILE_MAX_BYTES (256L * 1024 * 1024)

/*
 * Reads dir/state.json into m and nt (nt may be NULL), then saves every
 * interval_ms while anything changed. Returns NULL only when out of
 * memory; a bad file is not an error (moved aside, logged).
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
