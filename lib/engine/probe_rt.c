/*
 * probe_rt: one probe's runtime on the monitor. A slot of its schedule
 * starts a run (unless the descriptor bound holds it); the run's end
 * records its samples in the store through a cache of its series,
 * debounces up and down, feeds history, derived metrics and the rules.
 */
#include "engine/monitor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "config/config.h"
#include "engine/derived.h"
#include "engine/history.h"
#include "engine/ruleset.h"
#include "engine/sched.h"
#include "engine/store.h"

/* Samples a series keeps: enough for the retention at this interval. */
size_t
monitor_series_cap(const struct config *cfg, const struct probe_cfg *pc)
{
	int64_t n = cfg->retention_ms / pc->interval_ms + 1;

	if (n < 2)
		n = 2;
	if (n > MAX_SERIES_CAP)
		n = MAX_SERIES_CAP;
	return (size_t)n;
}

size_t
monitor_cap_of(const struct config *cfg, size_t probe)
{
	return monitor_series_cap(cfg, &cfg->probes[probe]);
}

/* Whether s is "<probe>.<metric>". */
static bool
series_is(const struct series *s, const char *probe, size_t pn,
    const char *metric)
{
	const char *n = series_name(s);

	return strncmp(n, probe, pn) == 0 && n[pn] == '.' &&
	    strcmp(n + pn + 1, metric) == 0;
}

/* "<probe>.<metric>"'s series, made if new; NULL: out of memory. */
static struct series *
series_of(struct store *st, const char *probe, size_t pn, const char *metric,
    size_t cap)
{
	size_t mn = strlen(metric);
	char name[160];

	/* Without printf: the first run of each metric only, but many. */
	if (pn + 1 + mn < sizeof(name)) {
		memcpy(name, probe, pn);
		name[pn] = '.';
		memcpy(name + pn + 1, metric, mn + 1);
	} else {
		snprintf(name, sizeof(name), "%s.%s", probe, metric);
	}
	return store_series(st, name, cap);
}

/* The cached series are dropped when the store removed any series. */
static void
rt_series_check(struct probe_rt *rt)
{
	uint64_t gen = store_gen(rt->m->store);

	if (gen == rt->series_gen)
		return;
	for (size_t i = 0; i < rt->nseries; i++)
		rt->series[i] = NULL;
	rt->down = NULL;
	rt->series_gen = gen;
}

static void
rt_record(struct probe_rt *rt, const struct probe_result *r)
{
	size_t cap = monitor_series_cap(rt->m->cfg, rt->cfg);
	const char *probe = rt->cfg->name;
	size_t pn = strlen(probe);

	rt_series_check(rt);
	if (rt->nseries < r->nmetrics) {
		struct series **a = realloc(rt->series,
		    r->nmetrics * sizeof(*a));

		if (a != NULL) {
			for (size_t i = rt->nseries; i < r->nmetrics; i++)
				a[i] = NULL;
			rt->series = a;
			rt->nseries = r->nmetrics;
		}
	}
	for (size_t i = 0; i < r->nmetrics; i++) {
		const char *metric = r->metrics[i].name;
		struct series *s = i < rt->nseries ? rt->series[i] : NULL;

		if (s == NULL || !series_is(s, probe, pn, metric)) {
			s = series_of(rt->m->store, probe, pn, metric, cap);
			if (i < rt->nseries)
				rt->series[i] = s;
		}
		if (s == NULL || series_add(s, r->started, r->metrics[i].value,
		    cap) != 0)
			log_warn("event=store_add_failed metric=%s.%s", probe,
			    metric);
	}
}

const char *
probe_state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_STATE_PENDING:
		return "pending";
	case PROBE_STATE_UP:
		return "up";
	case PROBE_STATE_DOWN:
		return "down";
	}
	return "?";
}

void
probe_rt_fact(struct probe_rt *rt)
{
	struct probe_fact *f = &rt->m->facts[rt->idx];

	f->has_run = rt->has_last;
	f->last_up = rt->has_last && rt->last.up;
	f->last_started = rt->last.started;
	f->last_finished = rt->last_finished;
	f->reason = rt->last.reason;
	f->notes = rt->last.notes;
	f->interval_ms = rt->cfg->interval_ms;
	f->timeout_ms = rt->cfg->timeout_ms;
}

/*
 * The debounced state: down after fail_after failed runs in a row, up
 * again after recover_after good ones. The first result decides at once
 * when it is good; a first failure still waits for fail_after.
 */
static void
rt_debounce(struct probe_rt *rt, const struct probe_result *r)
{
	enum probe_state to = rt->state;

	if (r->up) {
		if (rt->state == PROBE_STATE_PENDING ||
		    rt->consecutive_successes >= rt->cfg->recover_after)
			to = PROBE_STATE_UP;
	} else if (rt->consecutive_failures >= rt->cfg->fail_after) {
		to = PROBE_STATE_DOWN;
	}
	if (to == rt->state) {
		if (!r->up)
			log_info("event=probe_run_failed probe=%s state=%s "
			    "consecutive=%llu fail=%s reason=\"%s\"",
			    rt->cfg->name, probe_state_name(rt->state),
			    (unsigned long long)rt->consecutive_failures,
			    probe_fail_name(r->fail), LOG_Q(r->reason));
		return;
	}
	rt->state = to;
	rt->state_since = r->started;
	if (to == PROBE_STATE_UP)
		log_notice("event=probe_up probe=%s duration_ms=%.1f",
		    rt->cfg->name, r->duration_ms);
	else
		log_warn("event=probe_down probe=%s fail=%s reason=\"%s\"",
		    rt->cfg->name, probe_fail_name(r->fail), LOG_Q(r->reason));
}

static void
rt_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct probe_rt *rt = arg;
	struct monitor *m = rt->m;
	/* One reading of the clock for all that follows: a run's "now". */
	int64_t now = clock_wall_ms();
	int64_t want;

	(void)p;
	sched_job_set_busy(rt->job, false);
	if (rt->inflight) {
		rt->inflight = false;
		m->inflight--;
	}
	rt->runs++;
	rt->m->runs++;
	if (!r->up)
		rt->failures++;
	/*
	 * Rate limited: the target told us to wait, which says nothing of
	 * whether it is up. The debounce holds; the rules over its metrics
	 * still go unknown (no fresh samples), which is the truth.
	 */
	/* A rate-limited run says nothing of up or down: not in history. */
	if (r->up || r->fail != PROBE_FAIL_RATE_LIMITED)
		history_probe_run(m->history, rt->cfg->name, now, r->up,
		    r->duration_ms);
	if (!r->up && r->fail == PROBE_FAIL_RATE_LIMITED) {
		log_info("event=probe_rate_limited probe=%s reason=\"%s\"",
		    rt->cfg->name, LOG_Q(r->reason));
	} else if (!r->up) {
		rt->consecutive_failures++;
		rt->consecutive_successes = 0;
		rt_debounce(rt, r);
	} else {
		rt->consecutive_failures = 0;
		rt->consecutive_successes++;
		rt_debounce(rt, r);
	}
	log_debug("event=probe_run probe=%s up=%d duration_ms=%.1f",
	    rt->cfg->name, r->up, r->duration_ms);
	if (probe_result_copy(&rt->last, r) != 0)
		log_warn("event=out_of_memory where=probe_result probe=%s",
		    rt->cfg->name);
	rt->has_last = true;
	rt->last_finished = now;
	rt_record(rt, r);
	if (rt->state != PROBE_STATE_PENDING) {
		if (rt->down == NULL)
			rt->down = series_of(m->store, rt->cfg->name,
			    strlen(rt->cfg->name), "down",
			    monitor_series_cap(m->cfg, rt->cfg));
		if (rt->down != NULL)
			series_add(rt->down, r->started,
			    rt->state == PROBE_STATE_DOWN ? 1 : 0,
			    monitor_series_cap(m->cfg, rt->cfg));
	}
	/* While failing, look again sooner (retry_interval). */
	want = !r->up && rt->cfg->retry_interval_ms > 0 ?
	    rt->cfg->retry_interval_ms : rt->cfg->interval_ms;
	sched_job_set_interval(rt->job, want * 1000);
	probe_rt_fact(rt);
	derived_update(m->cfg, m->store, m->facts, rt->idx, now, m->derived,
	    monitor_cap_of);
	ruleset_eval(m->rules, m->store, m->facts, rt->idx, now);
	if (m->run_listener != NULL)
		m->run_listener(rt->idx, m->run_listener_arg);
}

static void
rt_slot(struct sched_job *job, int64_t due, int64_t now, void *arg)
{
	struct probe_rt *rt = arg;
	struct monitor *m = rt->m;

	rt->last_lateness_us = now - due;
	if (rt->last_lateness_us > rt->max_lateness_us)
		rt->max_lateness_us = rt->last_lateness_us;
	if (m->inflight >= m->max_inflight) {
		/* Said once a minute, not once a slot. */
		if (clock_wall_ms() - m->last_start_failure >=
		    START_FAIL_WINDOW_MS || !m->start_held)
			log_warn("event=probe_runs_held probe=%s in_flight=%u "
			    "reason=\"the descriptor limit (RLIMIT_NOFILE %llu) "
			    "allows %u runs at once\"", rt->cfg->name,
			    m->inflight, m->nofile, m->max_inflight);
		rt->start_failures++;
		m->last_start_failure = clock_wall_ms();
		m->start_held = true;
		return;
	}
	if (probe_start(rt->probe, rt_done, rt) != 0) {
		rt->start_failures++;
		m->last_start_failure = clock_wall_ms();
		m->start_held = false;
		log_err("event=probe_start_failed probe=%s", rt->cfg->name);
		return;
	}
	/* Until rt_done, the scheduler skips (and counts) this job's slots. */
	sched_job_set_busy(job, true);
	/* probe_start may have finished the run already (rt_done ran). */
	if (probe_running(rt->probe)) {
		rt->inflight = true;
		m->inflight++;
	}
}

void
probe_rt_free(struct probe_rt *rt)
{
	if (rt == NULL)
		return;
	if (rt->inflight)
		rt->m->inflight--;
	sched_job_free(rt->job);
	probe_free(rt->probe);
	probe_result_clear(&rt->last);
	free(rt->series);
	free(rt);
}

/* Builds a runtime whose first run is at first_due. */
struct probe_rt *
probe_rt_new(struct monitor *m, const struct probe_cfg *pc, int64_t first_due)
{
	struct probe_rt *rt = calloc(1, sizeof(*rt));

	if (rt == NULL)
		return NULL;
	rt->m = m;
	rt->cfg = pc;
	rt->state = PROBE_STATE_PENDING;
	probe_result_init(&rt->last);
	rt->probe = probe_new(pc, &m->env);
	rt->job = sched_job_new(m->sched, pc->interval_ms * 1000, first_due,
	    rt_slot, rt);
	if (rt->probe == NULL || rt->job == NULL) {
		probe_rt_free(rt);
		return NULL;
	}
	return rt;
}
