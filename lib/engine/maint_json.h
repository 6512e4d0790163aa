/*
 * maint_json: maintenance windows as the HTTP API reads and writes them,
 * and as the state file keeps the API's. One shape for all three: a
 * window written by maint_window_json reads back through
 * maint_window_read (config/maint_def.h) as the same window, so the state
 * file holds what a person would have posted.
 *
 * A request to add one (POST /maintenance):
 *
 *   {"name": "db-upgrade", "rules": ["db_conn"] | "labels": {...} |
 *    "all": true, "author": "ana", "comment": "CHG-42",
 *    "start": "...", "end": "..."  |  "duration": "2h" (from now) |
 *    "days": ["sun"], "at": "02:00", "duration": "2h" |
 *    "cron": "0 2 * * sun", "duration": "2h",
 *    "timezone": "Europe/Berlin"}
 */
#ifndef VIGIL_MAINT_JSON_H
#define VIGIL_MAINT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct maint;
struct maint_window;
struct tz;

/*
 * Reads a request body into *w, its zone into *tz (the caller's to pass
 * on to maint_add). "duration" without start and end is a one-off from
 * now. Returns 0, or -1 with the reason in why.
 */
int maint_parse(const char *body, size_t len, int64_t now,
    struct maint_window *w, struct tz **tz, char *why, size_t whylen);

/* The window's definition, as maint_window_read reads it. */
cJSON *maint_window_json(const struct maint_window *w);
/*
 * The definition with what it is at now: "source" (configuration or
 * api), "active", the current occurrence's "started_at"/"ends_at", the
 * next one's "next_start"/"next_end".
 */
cJSON *maint_status_json(const struct maint_window *w, int64_t now);
/* Every window, as maint_status_json: a JSON array. */
cJSON *maint_list_json(const struct maint *mt, int64_t now);

/*
 * The state file's part: the API's windows. Loading keeps ids and drops
 * what ended by now or no longer reads; returns how many were restored.
 */
cJSON *maint_save(const struct maint *mt);
size_t maint_load(struct maint *mt, const cJSON *saved, int64_t now);

#endif
