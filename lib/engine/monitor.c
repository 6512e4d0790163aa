#include "engine/monitor.h"
#include "engine/monitor_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include "base/clock.h"
#include "config/config.h"
#include "base/evcurl.h"
#include "base/log.h"
#include "probe/beat.h"
#include "probe/http1.h"
#include "probe/probe.h"
#include "engine/ruleset.h"
#include "engine/derived.h"
#include "engine/history.h"
#include "engine/sched.h"
#include "engine/maint.h"
#include "engine/silence.h"
#include "engine/store.h"

#include <event2/dns.h>
#include <event2/event.h>

#define TICK_MS		1000
/* The loop is "lagging" past this; /health then says vigild is degraded. */
#define LAG_LIMIT_MS	1000
/*
 * Descriptors a probe run may hold at once (its socket, the threaded
 * resolver's pair), and those kept back from probes for everything else:
 * the API's connections above all, so that /health answers even when
 * every target hangs.
 */
#define FDS_PER_RUN	3
#define FDS_RESERVED	512

/*
 * First runs are spread over at most a second, in config order, so a
 * large configuration does not fire every probe in the same instant; but
 * on a grid (sched_grid_us), so that the probes falling in one step share
 * a due time and start in one wake-up of the loop. A wake-up (an epoll
 * round, a timer re-armed, caches gone cold) was the largest single cost
 * of a probe at a thousand a second.
 */
static int64_t
first_due(size_t i, size_t n, const struct probe_cfg *pc, int64_t grid,
    int64_t now)
{
	int64_t span = pc->interval_ms < 1000 ? pc->interval_ms : 1000;
	int64_t off = (int64_t)i * span * 1000 / (int64_t)(n > 0 ? n : 1);

	return now + off - off % grid;
}

/* Runs a second the configuration starts: what the grid is sized for. */
static double
runs_per_s(const struct config *cfg)
{
	double r = 0;

	for (size_t i = 0; i < cfg->nprobes; i++)
		if (cfg->probes[i].interval_ms > 0)
			r += 1000.0 / (double)cfg->probes[i].interval_ms;
	return r;
}

static struct probe_rt **
build_rts(struct monitor *m, struct config *cfg, struct probe_rt **old,
    size_t nold, bool *kept)
{
	struct probe_rt **rts = calloc(cfg->nprobes + 1, sizeof(*rts));
	int64_t now = sched_now(), grid = sched_grid_us(runs_per_s(cfg));

	if (rts == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct probe_cfg *pc = &cfg->probes[i];

		for (size_t j = 0; j < nold; j++) {
			if (!kept[j] && old[j] != NULL &&
			    strcmp(old[j]->cfg->name, pc->name) == 0 &&
			    strcmp(old[j]->cfg->canon, pc->canon) == 0) {
				kept[j] = true;
				rts[i] = old[j];
				break;
			}
		}
		if (rts[i] != NULL)
			continue;
		rts[i] = probe_rt_new(m, pc, first_due(i, cfg->nprobes, pc, grid, now));
		if (rts[i] == NULL) {
			for (size_t k = 0; k < i; k++) {
				bool reused = false;

				for (size_t j = 0; j < nold; j++)
					reused |= old[j] == rts[k];
				if (!reused)
					probe_rt_free(rts[k]);
			}
			free(rts);
			return NULL;
		}
	}
	return rts;
}

/*
 * Every rule's state into history, once a second (the tick): a minute
 * then holds up to 60 evaluations, whatever triggered the others.
 */
static void
record_rules(struct monitor *m, int64_t now)
{
	size_t n = ruleset_count(m->rules);

	for (size_t i = 0; i < n; i++) {
		const struct rule_cfg *rc = ruleset_cfg(m->rules, i);
		const struct rule_status *st = ruleset_status(m->rules, i);

		if (rc == NULL || st == NULL)
			continue;
		/*
		 * Firing with no incident open: restored so after a restart
		 * that came before its incident was saved. It began then.
		 */
		if (st->state == RULE_FIRING &&
		    !history_rule_firing(m->history, rc->name))
			history_rule_fired(m->history, rc->name,
			    rule_sev_name(st->sev), st->since, st->known,
			    st->value);
		history_rule_eval(m->history, rc->name, now, (int)st->state,
		    st->known, st->value);
	}
}

/* The probes and rules in force are the ones history keeps. */
static void
track_history(struct monitor *m, const struct config *cfg)
{
	history_sync_begin(m->history);
	for (size_t i = 0; i < cfg->nprobes; i++)
		history_track(m->history, HISTORY_PROBE, cfg->probes[i].name,
		    false);
	for (size_t i = 0; i < cfg->nrules; i++)
		history_track(m->history, HISTORY_RULE, cfg->rules[i].name,
		    cfg->rules[i].def.op == RULE_LT ||
		    cfg->rules[i].def.op == RULE_LE);
	history_sync_end(m->history);
}

/*
 * Every alert event passes here first: firing opens an incident in
 * history, resolving ends it; then the listener (the notifiers) hears it.
 */
static void
on_alert_event(const struct alert_event *e, void *arg)
{
	struct monitor *m = arg;
	const char *name = e->rule->name;

	if (e->ev.to == RULE_FIRING && (e->ev.from != RULE_FIRING ||
	    e->ev.sev_to != e->ev.sev_from))
		history_rule_fired(m->history, name,
		    rule_sev_name(e->ev.sev_to), e->t, e->st->known,
		    e->st->value);
	else if (e->ev.from == RULE_FIRING && (e->ev.to == RULE_RESOLVED ||
	    e->ev.to == RULE_OK))
		history_rule_resolved(m->history, name, e->t);
	if (m->listener != NULL)
		m->listener(e, m->listener_arg);
}

/*
 * Once a second: every rule is evaluated (staleness, for-durations and
 * keep_firing_for must advance without new samples), and the loop's own
 * lateness is measured, since a monitor that lags cannot be trusted.
 */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *m = arg;
	int64_t now = sched_now(), lag = (now - m->tick_due) / 1000;
	struct timeval tv;
	int64_t wait;

	(void)fd;
	(void)what;
	m->lag_ms[m->lag_head] = lag > 0 ? lag : 0;
	m->lag_head = (m->lag_head + 1) % LAG_SLOTS;
	if (lag > LAG_LIMIT_MS)
		log_warn("event=loop_lag lag_ms=%lld", (long long)lag);
	m->tick_due = sched_next_due(m->tick_due, TICK_MS * 1000, now,
	    &(uint64_t){ 0 });
	wait = m->tick_due - now;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	evtimer_add(m->tick, &tv);
	ruleset_eval(m->rules, m->store, m->facts, RULESET_ALL, clock_wall_ms());
	record_rules(m, clock_wall_ms());
	if (m->cfg->state_dir != NULL)
		history_save(m->history, clock_wall_ms(),
		    m->cfg->state_interval_ms, false);
}

/*
 * How the descriptor limit is shared: FDS_RESERVED for vigild itself,
 * a quarter of the rest for idle connections kept for reuse, the others
 * for probe runs in flight.
 */
static void
fit_runs(struct monitor *m)
{
	struct rlimit rl;
	rlim_t room, idle;

	m->max_inflight = UINT_MAX;
	m->max_idle = 0;	/* libcurl's default */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	m->nofile = (unsigned long long)rl.rlim_cur;
	room = rl.rlim_cur > FDS_RESERVED * 2 ? rl.rlim_cur - FDS_RESERVED :
	    rl.rlim_cur / 2;
	idle = room / 4 > 0 ? room / 4 : 1;
	m->max_idle = idle < LONG_MAX ? (long)idle : LONG_MAX;
	room -= room / 4;
	m->max_inflight = room / FDS_PER_RUN > 0 ? (unsigned)(room /
	    FDS_PER_RUN) : 1;
}

/* In state_dir/history, or in memory only without a state_dir. */
static struct history *
new_history(const struct config *cfg)
{
	char dir[PATH_MAX];

	if (cfg->state_dir == NULL ||
	    snprintf(dir, sizeof(dir), "%s/history", cfg->state_dir) >=
	    (int)sizeof(dir))
		return history_new(NULL);
	return history_new(dir);
}

struct monitor *
monitor_new(struct event_base *base, struct config *cfg, char *err,
    size_t errlen)
{
	struct monitor *m = calloc(1, sizeof(*m));
	struct timeval tv = { TICK_MS / 1000, 0 };

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->base = base;
	m->started = m->loaded = clock_wall_ms();
	fit_runs(m);
	m->env.base = base;
	m->env.focus = &m->focus;
	/* Beats outlive reloads: the board is the monitor's, not a probe's. */
	m->env.beats = beatboard_new(m->started);
	m->env.curl = evcurl_new(base);
	if (m->env.curl != NULL)
		evcurl_set_max_idle(m->env.curl, m->max_idle);
	/*
	 * The own client keeps the same share: a configuration's probes
	 * are mostly on one client or the other, rarely half and half.
	 */
	m->env.h1 = h1_new(base);
	if (m->env.h1 != NULL)
		h1_set_max_idle(m->env.h1, m->max_idle);
	/*
	 * Name lookups for probes whose library would block in getaddrinfo
	 * (libpq). Without it such probes report that they cannot resolve.
	 */
	m->env.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	m->store = store_new();
	m->facts = calloc(cfg->nprobes + 1, sizeof(*m->facts));
	m->rules = ruleset_new(cfg, NULL);
	m->derived = calloc(cfg->nderived + 1, sizeof(*m->derived));
	m->silences = silences_new();
	m->history = new_history(cfg);
	m->maint = maint_new();
	m->tick = evtimer_new(base, on_tick, m);
	m->sched = sched_new(base);
	if (m->sched == NULL || m->env.curl == NULL || m->env.h1 == NULL ||
	    m->store == NULL ||
	    m->env.beats == NULL ||
	    m->facts == NULL || m->rules == NULL || m->silences == NULL ||
	    m->tick == NULL || m->derived == NULL || m->history == NULL ||
	    m->maint == NULL) {
		snprintf(err, errlen, "out of memory");
		monitor_free(m);
		return NULL;
	}
	m->cfg = cfg;
	maint_set_config(m->maint, cfg->maint, cfg->nmaint);
	m->rts = build_rts(m, cfg, NULL, 0, NULL);
	if (m->rts == NULL) {
		snprintf(err, errlen, "cannot create the probes (out of "
		    "memory or file descriptors)");
		m->cfg = NULL;
		monitor_free(m);
		return NULL;
	}
	m->nrts = cfg->nprobes;
	for (size_t i = 0; i < m->nrts; i++) {
		m->rts[i]->idx = i;
		probe_rt_fact(m->rts[i]);
	}
	ruleset_set_derived(m->rules, m->derived);
	ruleset_set_listener(m->rules, on_alert_event, m);
	/* Before the first run: what was saved meets what comes. */
	track_history(m, cfg);
	m->tick_due = sched_now() + TICK_MS * 1000;
	evtimer_add(m->tick, &tv);
	return m;
}

void
monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	/* First: freeing jobs one by one would search the heap for each. */
	sched_free(m->sched);
	for (size_t i = 0; i < m->nrts; i++)
		probe_rt_free(m->rts[i]);
	free(m->rts);
	/* Probes first: their easy handles must leave the multi handle. */
	evcurl_free(m->env.curl);
	h1_free(m->env.h1);
	beatboard_free(m->env.beats);
	if (m->tick != NULL)
		event_free(m->tick);
	if (m->env.dns != NULL) {
		/*
		 * A lookup the probes cancelled still owes its callback, which
		 * evdns runs from the loop: one pass lets it free its memory.
		 * The pass comes first: that callback reads the evdns base, so
		 * after evdns_base_free it would read freed memory (valgrind
		 * sees it; ASan cannot, libevent is not instrumented).
		 */
		event_base_loop(m->base, EVLOOP_NONBLOCK);
		evdns_base_free(m->env.dns, 0);
	}
	ruleset_free(m->rules);
	silences_free(m->silences);
	maint_free(m->maint);
	/* Last: its final save waits for a write in flight. */
	history_free(m->history);
	free(m->facts);
	free(m->derived);
	store_free(m->store);
	config_free(m->cfg);
	free(m);
}

int
monitor_reload(struct monitor *m, struct config *cfg)
{
	bool *kept = calloc(m->nrts + 1, sizeof(*kept));
	struct probe_fact *facts = calloc(cfg->nprobes + 1, sizeof(*facts));
	struct ruleset *rules = ruleset_new(cfg, m->rules);
	struct derived_result *derived = calloc(cfg->nderived + 1,
	    sizeof(*derived));
	struct probe_rt **rts = NULL;
	size_t nkept = 0, nnew = 0, ngone = 0;

	if (kept != NULL && facts != NULL && rules != NULL && derived != NULL)
		rts = build_rts(m, cfg, m->rts, m->nrts, kept);
	if (rts == NULL) {
		free(kept);
		free(facts);
		free(derived);
		ruleset_free(rules);
		return -1;
	}
	/* Committed from here on: nothing below can fail. */
	for (size_t i = 0; i < cfg->nprobes; i++) {
		if (rts[i]->cfg != &cfg->probes[i]) {
			/* Kept: same settings, now in the new config. */
			rts[i]->cfg = &cfg->probes[i];
			probe_rebind(rts[i]->probe, &cfg->probes[i]);
			nkept++;
		} else {
			nnew++;
		}
		rts[i]->idx = i;
	}
	for (size_t j = 0; j < m->nrts; j++) {
		char prefix[80];

		if (kept[j])
			continue;
		/*
		 * A probe changed in place keeps its history (same metric
		 * names, same meaning); a removed one takes it along.
		 */
		if (config_probe(cfg, m->rts[j]->cfg->name) == NULL) {
			snprintf(prefix, sizeof(prefix), "%s.",
			    m->rts[j]->cfg->name);
			store_drop_prefix(m->store, prefix);
			ngone++;
		}
		probe_rt_free(m->rts[j]);
	}
	/*
	 * A derived metric removed or given another expression: its history
	 * means something else now (a changed probe keeps its history, as
	 * its metrics keep their meaning; an expression is the meaning).
	 */
	for (size_t j = 0; j < m->cfg->nderived; j++) {
		const struct derived_cfg *od = &m->cfg->derived[j];
		const struct derived_cfg *nd = config_derived(cfg, od->metric);

		if (nd == NULL || strcmp(nd->text, od->text) != 0)
			store_drop(m->store, od->metric);
	}
	free(kept);
	free(m->rts);
	m->rts = rts;
	m->nrts = cfg->nprobes;
	free(m->facts);
	m->facts = facts;
	ruleset_free(m->rules);
	m->rules = rules;
	free(m->derived);
	m->derived = derived;
	ruleset_set_derived(m->rules, m->derived);
	ruleset_set_listener(m->rules, on_alert_event, m);
	maint_set_config(m->maint, cfg->maint, cfg->nmaint);
	config_free(m->cfg);
	m->cfg = cfg;
	track_history(m, cfg);
	for (size_t i = 0; i < m->nrts; i++)
		probe_rt_fact(m->rts[i]);
	m->loaded = clock_wall_ms();
	m->reloads++;
	log_notice("event=config_reloaded path=%s probes=%zu kept=%zu "
	    "started=%zu removed=%zu rules=%zu", cfg->path, cfg->nprobes,
	    nkept, nnew, ngone, cfg->nrules);
	ruleset_eval(m->rules, m->store, m->facts, RULESET_ALL, clock_wall_ms());
	return 0;
}

const struct history *
monitor_history(const struct monitor *m)
{
	return m->history;
}

const struct config *
monitor_config(const struct monitor *m)
{
	return m->cfg;
}

void
monitor_set_focus(struct monitor *m, const char *version, int64_t from)
{
	memset(&m->focus, 0, sizeof(m->focus));
	if (version == NULL)
		return;
	m->focus.open = true;
	snprintf(m->focus.version, sizeof(m->focus.version), "%s", version);
	m->focus.from = from;
}

struct beatboard *
monitor_beats(struct monitor *m)
{
	return m->env.beats;
}

const struct store *
monitor_store(const struct monitor *m)
{
	return m->store;
}

void
monitor_info(const struct monitor *m, struct monitor_info *out)
{
	out->started = m->started;
	out->loaded = m->loaded;
	out->reloads = m->reloads;
	out->runs = m->runs;
}

void
monitor_note_reload(struct monitor *m, bool ok, const char *errors)
{
	struct monitor_reload *r = &m->last_reload;

	r->attempted = true;
	r->attempts++;
	r->ok = ok;
	r->at = clock_wall_ms();
	snprintf(r->errors, sizeof(r->errors), "%s",
	    ok || errors == NULL ? "" : errors);
}

const struct monitor_reload *
monitor_last_reload(const struct monitor *m)
{
	return &m->last_reload;
}

size_t
monitor_nprobes(const struct monitor *m)
{
	return m->nrts;
}

bool
monitor_probe_view(const struct monitor *m, size_t i, struct probe_view *v)
{
	const struct probe_rt *rt;

	if (i >= m->nrts)
		return false;
	rt = m->rts[i];
	v->name = rt->cfg->name;
	v->cfg = rt->cfg;
	v->type = probe_type_name(rt->cfg->type);
	v->target = rt->cfg->target != NULL ? rt->cfg->target : "";
	v->interval_ms = rt->cfg->interval_ms;
	v->timeout_ms = rt->cfg->timeout_ms;
	v->runs = rt->runs;
	v->failures = rt->failures;
	v->skipped = sched_job_skipped(rt->job);
	v->start_failures = rt->start_failures;
	v->missed = sched_job_missed(rt->job);
	v->running = probe_running(rt->probe);
	v->last_lateness_us = rt->last_lateness_us;
	v->max_lateness_us = rt->max_lateness_us;
	v->last = rt->has_last ? &rt->last : NULL;
	v->consecutive_failures = rt->consecutive_failures;
	v->consecutive_successes = rt->consecutive_successes;
	v->state = rt->state;
	v->state_since = rt->state_since;
	return true;
}

const struct ruleset *
monitor_rules(const struct monitor *m)
{
	return m->rules;
}

struct ruleset *
monitor_rules_mut(struct monitor *m)
{
	return m->rules;
}

const struct silences *
monitor_silences(const struct monitor *m)
{
	return m->silences;
}

struct silences *
monitor_silences_mut(struct monitor *m)
{
	return m->silences;
}

const struct maint *
monitor_maint(const struct monitor *m)
{
	return m->maint;
}

struct maint *
monitor_maint_mut(struct monitor *m)
{
	return m->maint;
}

void
monitor_set_alert_listener(struct monitor *m,
    void (*fn)(const struct alert_event *e, void *arg), void *arg)
{
	m->listener = fn;
	m->listener_arg = arg;
}

bool
monitor_degraded(const struct monitor *m, char *why, size_t len)
{
	int64_t worst = 0;

	for (unsigned i = 0; i < LAG_SLOTS; i++)
		if (m->lag_ms[i] > worst)
			worst = m->lag_ms[i];
	if (worst > LAG_LIMIT_MS) {
		snprintf(why, len, "vigild's event loop lagged %lld ms in the "
		    "last %d s (limit %d ms)", (long long)worst,
		    LAG_SLOTS * TICK_MS / 1000, LAG_LIMIT_MS);
		return true;
	}
	if (m->last_start_failure != 0 &&
	    clock_wall_ms() - m->last_start_failure < START_FAIL_WINDOW_MS) {
		if (m->start_held)
			snprintf(why, len, "vigild held back probe runs in the "
			    "last minute: the descriptor limit (RLIMIT_NOFILE "
			    "%llu) allows %u runs at once, and that many were "
			    "in flight", m->nofile, m->max_inflight);
		else
			snprintf(why, len, "vigild could not start a probe run "
			    "in the last minute (out of memory or file "
			    "descriptors)");
		return true;
	}
	return false;
}

int64_t
monitor_loop_lag_ms(const struct monitor *m)
{
	return m->lag_ms[(m->lag_head + LAG_SLOTS - 1) % LAG_SLOTS];
}

int
monitor_restore_sample(struct monitor *m, const char *metric, int64_t t,
    double v)
{
	const char *dot = strchr(metric, '.');

	if (dot == NULL)
		return -1;
	/* A derived metric's history is kept like its home probe's. */
	if (config_derived(m->cfg, metric) != NULL)
		return store_add(m->store, metric, t, v, monitor_cap_of(m->cfg,
		    config_derived(m->cfg, metric)->home));
	for (size_t i = 0; i < m->nrts; i++) {
		const struct probe_cfg *pc = m->rts[i]->cfg;

		if (strlen(pc->name) == (size_t)(dot - metric) &&
		    strncmp(pc->name, metric, (size_t)(dot - metric)) == 0)
			return store_add(m->store, metric, t, v,
			    monitor_series_cap(m->cfg, pc));
	}
	return -1;
}

void
monitor_set_run_listener(struct monitor *m,
    void (*fn)(size_t probe, void *arg), void *arg)
{
	m->run_listener = fn;
	m->run_listener_arg = arg;
}

const struct probe_fact *
monitor_facts(const struct monitor *m)
{
	return m->facts;
}
