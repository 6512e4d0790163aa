/*
 * silence: "do not tell anyone about these alerts until then". A silence
 * matches rules by name or by labels (every matcher must equal one of the
 * rule's labels; "rule" and "severity"-free), has an author, a comment and
 * a mandatory expiry: a forgotten silence must not hide an incident
 * forever. A silenced alert still shows, marked silenced; only its
 * notifications are held.
 *
 * Pure data: the API adds and expires silences, the notifiers and /status
 * ask which silence (if any) covers a rule; the state file saves them.
 */
#ifndef VIGIL_SILENCE_H
#define VIGIL_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rule_cfg;

#define SILENCE_MAX_MATCHERS 8
#define SILENCE_MAX_TEXT 256
/* A silence longer than this is a decision, not a silence. */
#define SILENCE_MAX_MS (30LL * 86400 * 1000)
#define SILENCE_MAX_COUNT 1000

struct silence_matcher {
	char key[64];
	char value[128];
};

struct silence {
	uint64_t id;
	char rule[64];		/* a rule name, or "" to match by labels */
	struct silence_matcher matchers[SILENCE_MAX_MATCHERS];
	size_t nmatchers;
	char author[SILENCE_MAX_TEXT];
	char comment[SILENCE_MAX_TEXT];
	int64_t created, expires;	/* Unix ms */
	/* Set by silences (hash64_str of rule), compared before it: with
	 * a thousand rules and silences, matching is a million checks. */
	uint64_t rule_hash;
};

struct silences;

struct silences *silences_new(void);
void silences_free(struct silences *s);

/*
 * Adds a silence (its id, created are set here; the rest is the
 * caller's). Returns 0 and the id, or -1 with *why: no rule and no
 * matchers, no author or comment, expiry not in the future or more than
 * 30 days away, too many silences.
 */
int silences_add(struct silences *s, const struct silence *in, int64_t now,
    uint64_t *id, const char **why);
/* Ends silence id now. false if there is no such active silence. */
bool silences_expire(struct silences *s, uint64_t id);
/* Drops the expired ones; returns how many. */
size_t silences_prune(struct silences *s, int64_t now);

/* The active silence covering rule rc at now, or NULL. */
const struct silence *silences_match(const struct silences *s,
    const struct rule_cfg *rc, int64_t now);

size_t silences_count(const struct silences *s);
const struct silence *silences_at(const struct silences *s, size_t i);
/*
 * Restores a saved silence as it was (id kept), for the state file, if it
 * passes what silences_add asks of a new one at now (the file may have
 * been edited); -1 with why otherwise.
 */
int silences_restore(struct silences *s, const struct silence *in,
    int64_t now, const char **why);

#endif
