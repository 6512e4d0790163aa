/*
 * notifier: tells people and Alertmanager about alerts, and makes sure
 * they hear it.
 *
 * Delivery is level-triggered. Once a second (and right after any rule
 * transition) each notifier compares, for every rule, what it should
 * have told -- firing at a severity, unless the rule is silenced,
 * suppressed by a dependency, flapping or filtered out -- with what it
 * has told, and sends the difference: firing, escalation, resolution,
 * and repeats while firing. Because what was told is part of the state
 * file, a restart neither re-pages a rule that still fires nor forgets to
 * resolve one that ended while vigild was down. A rule that is unknown
 * (cannot be measured) is never resolved on that account.
 *
 * Each receiver URL has a FIFO outbox: only its head is in flight, so
 * notices arrive in order; failures are retried with exponential backoff
 * and jitter; the queue is bounded (oldest dropped, counted). Delivery is
 * at least once: a notice whose answer was lost may come twice, and its
 * "id" says so.
 */
#ifndef VIGIL_NOTIFIER_H
#define VIGIL_NOTIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct event_base;
struct monitor;
struct notifier;

/* Reads the notifiers of the monitor's config. NULL when out of memory. */
struct notifier *notifier_new(struct event_base *base, struct monitor *m);
/* Cancels deliveries in flight (their notices stay queued) and frees. */
void notifier_free(struct notifier *nt);

/*
 * After the monitor's config changed: notifiers keep their state (what
 * was told, the queue, counters) when their name stays. 0, or -1 (the old
 * set stays).
 */
int notifier_reload(struct notifier *nt);

/* Something changed: reconcile on the next loop pass. */
void notifier_kick(struct notifier *nt);

/*
 * A release gate's verdict, decided or final: told to every notifier
 * (Alertmanager only when it is not a pass). No filter applies: a
 * release verdict is not an alert of some rule.
 */
void notifier_deploy(struct notifier *nt, uint64_t id, const char *version,
    const char *verdict, const char *reason, bool final);

/*
 * Where the deploy updates' facts come from: the open deploy's document,
 * else the latest one's (GET /deploys/{id}), or NULL; the caller frees it.
 * vigild points it at the release gate, which notify may not include.
 * Notifiers with "deploys" then tell #incidents about a rollout as it
 * goes (notify/deploytalk.h decides when, notify/deploytext.h says it).
 */
typedef cJSON *(*notifier_deploy_doc_fn)(void *arg);
void notifier_set_deploy_source(struct notifier *nt, notifier_deploy_doc_fn fn,
    void *arg);

struct notifier_view {
	const char *name;
	const char *type;		/* "webhook", "alertmanager", "email" */
	const char *target;		/* scheme://host/... only */
	uint64_t sent, failed, dropped;
	size_t queued;
	const char *last_error;		/* "" if none */
	int64_t next_retry_ms;		/* from now; 0 if none pending */
};

size_t notifier_count(const struct notifier *nt);
bool notifier_view(const struct notifier *nt, size_t i,
    struct notifier_view *v);

/* The state file's part: what was told, queues, sequence numbers. */
cJSON *notifier_save(const struct notifier *nt);
void notifier_restore(struct notifier *nt, const cJSON *saved);
/*
 * fn(arg) is called whenever what notifier_save() would write changes: a
 * notice queued or delivered, what was told. vigild saves the state file
 * soon after, so that a delivered notice leaves the saved outbox within
 * moments, not at the next state_interval: after a kill -9 in between,
 * the restart would send it again.
 */
typedef void (*notifier_change_fn)(void *arg);
void notifier_set_listener(struct notifier *nt, notifier_change_fn fn,
    void *arg);

#endif
