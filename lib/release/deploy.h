/*
 * deploy: the release gate's deploy windows. vigild owns the window and
 * judges it -- it has the samples and survives a restart -- so any
 * pipeline gets the verdict from GET /deploys/{id} with curl alone, and
 * vigilctl only asks and renders.
 *
 * begin records the deploy, the copy of the configuration it is judged
 * with (a reload never changes or frees it) and the baseline: the
 * same-length window before it, as per-poll samples and counts. During
 * the warm-up, samples are recorded but not judged. After it, every poll
 * of every release check is measured on the check's rule, with the
 * rule's window clipped so it never reaches back before the judging
 * started, and handed to the pure verdict module (release/verdict.h),
 * which records it and judges the statistics once per interval. step
 * marks rollout stages; end closes the window.
 */
#ifndef VIGIL_DEPLOY_H
#define VIGIL_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct monitor;
struct deploys;

#define DEPLOY_SCHEMA "vigil.deploy/1"

struct deploys *deploys_new(struct monitor *m);
void deploys_free(struct deploys *d);

/*
 * Opens a window now. warmup_ms < 0: the configured one. Returns the id,
 * or 0 with why (a window is already open; out of memory).
 */
uint64_t deploys_begin(struct deploys *d, const char *version,
    int64_t warmup_ms, char *why, size_t len);
/* The open window's free line for the announcement (at most this long). */
#define DEPLOY_ANNOUNCE_MAX	400
void deploys_announce(struct deploys *d, const char *text);
/* The open window's planned stages (weights, for the announcement). */
#define DEPLOY_PLANNED_MAX	16
void deploys_plan(struct deploys *d, const int *weights, size_t n);
/* Marks a rollout stage (weight 1..100) in the open window. 0 or -1. */
int deploys_step(struct deploys *d, int weight, char *why, size_t len);
/* Closes the open window. 0 or -1 (none open). */
int deploys_end(struct deploys *d, char *why, size_t len);

/*
 * fn hears every terminal verdict once: decided early (a fail, an error
 * limit) or final (the window ended). The notifiers listen here.
 */
void deploys_set_listener(struct deploys *d,
    void (*fn)(uint64_t id, const char *version, const char *verdict,
    const char *reason, bool final, void *arg), void *arg);

/* A probe's run ended: judge the checks it feeds (monitor's listener). */
void deploys_on_run(struct deploys *d, size_t probe);
/*
 * Closes the judging intervals that ended by now (deploys_on_run does it
 * too): readers call it before they render, so a window whose probes
 * stalled is still judged on time.
 */
void deploys_tick(struct deploys *d);
/* Whether a window is open (d may be NULL). */
bool deploys_open(const struct deploys *d);
/*
 * The open window's version and when it began (Unix ms); false when none
 * is open (d may be NULL).
 */
bool deploys_window(const struct deploys *d, const char **version,
    int64_t *begun);
/* How many runs have fed an open window (d may be NULL): it changed. */
uint64_t deploys_polls(const struct deploys *d);

/* The config changed: checks follow by name; new ones start empty. */
void deploys_reload(struct deploys *d);

/*
 * The document for one deploy (id 0: the open one, else the latest), or
 * NULL if there is none. final: judge as if the window ended now.
 */
cJSON *deploys_json(const struct deploys *d, uint64_t id);
/*
 * Every deploy kept (the last 8) that began at or after from (wall ms; 0:
 * all), newest first, in brief: verdict and traffic.
 */
cJSON *deploys_list_json(const struct deploys *d, int64_t from);

/* The state file's part. */
cJSON *deploys_save(const struct deploys *d);
void deploys_restore(struct deploys *d, const cJSON *saved);

#endif
