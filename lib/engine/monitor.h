/*
 * monitor: the running system. It owns the configuration in force, one
 * runtime per configured probe (the probe, its schedule, its counters and
 * last result) and the metric store that results flow into.
 *
 * A reload hands it a new, already validated config: probes whose settings
 * did not change keep their runtime (schedule, counters, a run in flight)
 * and history; changed ones restart; removed ones take their history with
 * them.
 */
#ifndef VIGIL_MONITOR_H
#define VIGIL_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct ruleset;
struct silences;
struct maint;
struct alert_event;
struct probe_cfg;
struct probe_fact;
struct probe_result;
struct release_focus;
struct store;
struct beatboard;
struct history;

struct monitor;

/*
 * Takes ownership of cfg on success. Returns NULL on failure (cfg is then
 * still the caller's), with a reason in err.
 */
struct monitor *monitor_new(struct event_base *base, struct config *cfg,
    char *err, size_t errlen);
/* Cancels every run in flight and frees everything. */
void monitor_free(struct monitor *m);

/*
 * Replaces the config. Takes ownership of cfg on success (0); on failure
 * (-1: out of memory creating the new probes) the old config stays in
 * force and cfg is still the caller's.
 */
int monitor_reload(struct monitor *m, struct config *cfg);

const struct config *monitor_config(const struct monitor *m);
/*
 * Each probe's and rule's past, minute by minute, and the incidents
 * (engine/history.h); in state_dir/history when there is a state_dir.
 */
const struct history *monitor_history(const struct monitor *m);
const struct store *monitor_store(const struct monitor *m);
/* Where the API records heartbeats for the heartbeat probes (beat.h). */
struct beatboard *monitor_beats(struct monitor *m);
/*
 * Tells the probes that can split errors by release (struct release_focus
 * in probe/probe.h) which release the gate judges, counted from `from`
 * (Unix ms); version NULL: none.
 */
void monitor_set_focus(struct monitor *m, const char *version, int64_t from);

/* What the API shows of the daemon itself. */
struct monitor_info {
	int64_t started;	/* Unix ms */
	int64_t loaded;		/* Unix ms of the config now in force */
	uint64_t reloads;
	uint64_t runs;		/* probe runs ended since start */
};
void monitor_info(const struct monitor *m, struct monitor_info *out);

/*
 * The last reload asked for (SIGHUP), whether it took effect or was
 * rejected, and why: a rejected reload must show where an operator looks
 * (/status, /metrics, systemctl status), not only in the log.
 */
struct monitor_reload {
	bool attempted;		/* a reload was asked for since start */
	uint64_t attempts;	/* how many, rejected ones included */
	bool ok;
	int64_t at;		/* Unix ms */
	char errors[512];	/* the first errors, "; "-separated; "" if ok */
};
void monitor_note_reload(struct monitor *m, bool ok, const char *errors);
const struct monitor_reload *monitor_last_reload(const struct monitor *m);

/*
 * A probe's debounced state: pending until its first result, down after
 * fail_after failed runs in a row, up after recover_after good ones.
 */
enum probe_state {
	PROBE_STATE_PENDING,
	PROBE_STATE_UP,
	PROBE_STATE_DOWN,
};
const char *probe_state_name(enum probe_state s);

/* A read-only view of one probe's runtime. */
struct probe_view {
	const char *name;
	const struct probe_cfg *cfg;	/* its configuration in force */
	const char *type;
	const char *target;		/* URL with any password redacted */
	int64_t interval_ms, timeout_ms;
	uint64_t runs, failures;
	uint64_t skipped;		/* slots that found a run in flight */
	uint64_t missed;		/* slots the loop was too late for */
	uint64_t start_failures;	/* runs that could not start */
	bool running;
	int64_t last_lateness_us;	/* start lateness of the last run */
	int64_t max_lateness_us;	/* the worst since the probe began */
	const struct probe_result *last;	/* NULL before the first run */
	uint64_t consecutive_failures, consecutive_successes;
	enum probe_state state;
	int64_t state_since;		/* Unix ms of the last state change */
};

size_t monitor_nprobes(const struct monitor *m);
/* Fills v for probe i (config order); false when i is out of range. */
bool monitor_probe_view(const struct monitor *m, size_t i,
    struct probe_view *v);

/* The rules in force, to read; to change (baselines, a restore): _mut. */
const struct ruleset *monitor_rules(const struct monitor *m);
struct ruleset *monitor_rules_mut(struct monitor *m);

/*
 * Puts back a sample saved before a restart: only for a metric of a
 * configured probe, into its bounded ring. 0, or -1 (no such probe, or
 * the store refused it).
 */
int monitor_restore_sample(struct monitor *m, const char *metric, int64_t t,
    double v);

/* The silences; they outlive reloads (and, with the state file, restarts). */
const struct silences *monitor_silences(const struct monitor *m);
struct silences *monitor_silences_mut(struct monitor *m);
/*
 * The maintenance windows (engine/maint.h): the configuration's in force,
 * and those made through the API, which outlive reloads like silences.
 */
const struct maint *monitor_maint(const struct monitor *m);
struct maint *monitor_maint_mut(struct monitor *m);

/*
 * Every alert event (rule transitions, flapping start and end) goes to fn,
 * across reloads: the notifiers listen here.
 */
void monitor_set_alert_listener(struct monitor *m,
    void (*fn)(const struct alert_event *e, void *arg), void *arg);

/*
 * After every probe run, once its rules are evaluated, fn is called with
 * the probe's index (config order): the release gate judges there.
 */
void monitor_set_run_listener(struct monitor *m,
    void (*fn)(size_t probe, void *arg), void *arg);
/* What the rules know of each probe, for judging outside the monitor. */
const struct probe_fact *monitor_facts(const struct monitor *m);

/*
 * Whether vigild itself cannot be trusted right now (its loop lagged, a
 * probe could not be started); why says how.
 */
bool monitor_degraded(const struct monitor *m, char *why, size_t len);
/* The last tick's lateness. */
int64_t monitor_loop_lag_ms(const struct monitor *m);

#endif
