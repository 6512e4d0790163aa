/*
 * silence_json: silences as the HTTP API reads and writes them, and as
 * the state file keeps them (silences_save/silences_load).
 *
 * A request to add one:
 *
 *   {"rule": "api_p95"}  or  {"matchers": {"team": "web"}}  (or both)
 *   "author": "ana", "comment": "deploy 4.2, INC-1234",
 *   "duration": "2h"  or  "expires_at": "2026-03-02T12:00:00Z" | 1772452800
 *
 * Unknown keys are refused, as in the configuration: a misspelt
 * "coment" must not become a silence without a reason. What silences_add
 * then checks (an expiry in the future, at most 30 days) it reports itself.
 */
#ifndef VIGIL_SILENCE_JSON_H
#define VIGIL_SILENCE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct silence;
struct silences;

/*
 * Reads a request body into *out (zeroed first; id and created are left
 * for silences_add). Returns 0, or -1 with the reason in why.
 */
int silence_parse(const char *body, size_t len, int64_t now,
    struct silence *out, char *why, size_t whylen);

/*
 * The silence as a JSON object: id, rule, matchers, author, comment,
 * created, expires_at (ISO-8601) and expires_in_s as of now.
 */
cJSON *silence_json(const struct silence *x, int64_t now);

/*
 * The state file's part: every silence, times as Unix ms. Loading keeps
 * ids and drops what expired by now or matches nothing; returns how
 * many were restored.
 */
cJSON *silences_save(const struct silences *sl);
size_t silences_load(struct silences *sl, const cJSON *saved, int64_t now);

#endif
