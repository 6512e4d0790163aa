/*
 * What the monitor's files share (monitor.c, probe_rt.c); private to
 * lib/engine.
 */
#ifndef VIGIL_MONITOR_INT_H
#define VIGIL_MONITOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/monitor.h"
#include "probe/probe.h"

#define MAX_SERIES_CAP	100000
#define LAG_SLOTS	10
#define START_FAIL_WINDOW_MS	60000

struct probe_rt {
	struct monitor *m;
	const struct probe_cfg *cfg;
	struct probe *probe;
	struct sched_job *job;
	size_t idx;		/* in cfg->probes, rts and facts */
	uint64_t runs, failures, start_failures;
	uint64_t consecutive_failures, consecutive_successes;
	int64_t last_lateness_us, max_lateness_us;
	enum probe_state state;	/* debounced by fail_after/recover_after */
	int64_t state_since;
	bool has_last;
	bool inflight;		/* a run started and not done */
	struct probe_result last;
	int64_t last_finished;	/* Unix ms */
	/*
	 * The store's series of the last run's metrics, in their order, and
	 * of "<probe>.down": a run adds its samples without looking each up
	 * by name. Valid while the store's generation is series_gen (a
	 * series removed moves it); each is checked against its metric's
	 * name before use, so a run with other metrics finds theirs.
	 */
	struct series **series;
	size_t nseries;
	struct series *down;
	uint64_t series_gen;
};

struct monitor {
	struct event_base *base;
	struct sched *sched;		/* the probes' schedules */
	uint64_t runs;			/* runs ended, all probes */
	struct probe_env env;
	struct release_focus focus;	/* env.focus points here */
	struct config *cfg;
	struct store *store;
	struct probe_rt **rts;	/* parallel to cfg->probes */
	size_t nrts;
	struct ruleset *rules;
	struct silences *silences;
	struct history *history;	/* outlives reloads */
	struct maint *maint;
	void (*listener)(const struct alert_event *e, void *arg);
	void *listener_arg;
	void (*run_listener)(size_t probe, void *arg);
	void *run_listener_arg;
	struct probe_fact *facts;	/* parallel to rts */
	/* Derived metrics' last outcomes, parallel to cfg->derived. */
	struct derived_result *derived;
	struct event *tick;
	int64_t tick_due;		/* monotonic µs of the next tick */
	int64_t lag_ms[LAG_SLOTS];	/* the last ticks' lateness */
	unsigned lag_head;
	int64_t last_start_failure;	/* Unix ms, 0: never */
	bool start_held;		/* that was the descriptor bound */
	unsigned inflight, max_inflight;	/* probe runs */
	long max_idle;			/* idle connections kept for reuse */
	unsigned long long nofile;	/* RLIMIT_NOFILE, 0: unlimited */
	int64_t started, loaded;
	uint64_t reloads;
	struct monitor_reload last_reload;
};

/* Samples a probe's series keep: enough for the retention at its interval. */
size_t monitor_series_cap(const struct config *cfg,
    const struct probe_cfg *pc);
/* The same for cfg->probes[probe] (derived.c's callback). */
size_t monitor_cap_of(const struct config *cfg, size_t probe);

/*
 * A probe's runtime (probe_rt.c): its probe, its schedule, its debounced
 * state and what its last run recorded. The first run is at first_due
 * (monotonic µs). NULL: out of memory.
 */
struct probe_rt *probe_rt_new(struct monitor *m, const struct probe_cfg *pc,
    int64_t first_due);
void probe_rt_free(struct probe_rt *rt);
/* Its facts (m->facts[rt->idx]) as of its last run. */
void probe_rt_fact(struct probe_rt *rt);

#endif
