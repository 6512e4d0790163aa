#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "evcurl.h"
#include "log.h"
#include "probe.h"
#include "sched.h"
#include "store.h"

#include <event2/dns.h>
#include <event2/event.h>

#define MAX_SERIES_CAP	100000

struct probe_rt {
	struct monitor *m;
	const struct probe_cfg *cfg;
	struct probe *probe;
	struct sched_job *job;
	uint64_t runs, failures, start_failures, consecutive_failures;
	int64_t last_lateness_us, max_lateness_us;
	int64_t state_since;
	bool has_last;
	struct probe_result last;
};

struct monitor {
	struct event_base *base;
	struct probe_env env;
	struct config *cfg;
	struct store *store;
	struct probe_rt **rts;	/* parallel to cfg->probes */
	size_t nrts;
	int64_t started, loaded;
	uint64_t reloads;
};

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Samples a series keeps: enough for the retention at this interval. */
static size_t
series_cap_for(const struct config *cfg, const struct probe_cfg *pc)
{
	int64_t n = cfg->retention_ms / pc->interval_ms + 1;

	if (n < 2)
		n = 2;
	if (n > MAX_SERIES_CAP)
		n = MAX_SERIES_CAP;
	return (size_t)n;
}

static void
rt_record(struct probe_rt *rt, const struct probe_result *r)
{
	size_t cap = series_cap_for(rt->m->cfg, rt->cfg);
	char name[160];

	for (size_t i = 0; i < r->nmetrics; i++) {
		snprintf(name, sizeof(name), "%s.%s", rt->cfg->name,
		    r->metrics[i].name);
		if (store_add(rt->m->store, name, r->started,
		    r->metrics[i].value, cap) != 0)
			log_warn("event=store_add_failed metric=%s", name);
	}
}

static void
rt_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct probe_rt *rt = arg;
	bool was_up = rt->has_last && rt->last.up;

	(void)p;
	sched_job_set_busy(rt->job, false);
	rt->runs++;
	if (!r->up) {
		rt->failures++;
		rt->consecutive_failures++;
	} else {
		rt->consecutive_failures = 0;
	}
	/* Transitions are worth a line; steady state is not. */
	if (!rt->has_last || was_up != r->up) {
		rt->state_since = r->started;
		if (r->up)
			log_notice("event=probe_up probe=%s duration_ms=%.1f",
			    rt->cfg->name, r->duration_ms);
		else
			log_warn("event=probe_down probe=%s fail=%s "
			    "reason=\"%s\"", rt->cfg->name,
			    probe_fail_name(r->fail), r->reason);
	} else if (!r->up && rt->last.fail != r->fail) {
		/* Still down, for another reason: that is news too. */
		log_warn("event=probe_still_down probe=%s fail=%s "
		    "reason=\"%s\"", rt->cfg->name,
		    probe_fail_name(r->fail), r->reason);
	}
	log_debug("event=probe_run probe=%s up=%d duration_ms=%.1f",
	    rt->cfg->name, r->up, r->duration_ms);
	if (probe_result_copy(&rt->last, r) != 0)
		log_warn("event=out_of_memory where=probe_result probe=%s",
		    rt->cfg->name);
	rt->has_last = true;
	rt_record(rt, r);
}

static void
rt_slot(struct sched_job *job, int64_t due, int64_t now, void *arg)
{
	struct probe_rt *rt = arg;

	rt->last_lateness_us = now - due;
	if (rt->last_lateness_us > rt->max_lateness_us)
		rt->max_lateness_us = rt->last_lateness_us;
	if (probe_start(rt->probe, rt_done, rt) != 0) {
		rt->start_failures++;
		log_err("event=probe_start_failed probe=%s", rt->cfg->name);
		return;
	}
	/* Until rt_done, the scheduler skips (and counts) this job's slots. */
	sched_job_set_busy(job, true);
}

static void
rt_free(struct probe_rt *rt)
{
	if (rt == NULL)
		return;
	sched_job_free(rt->job);
	probe_free(rt->probe);
	probe_result_clear(&rt->last);
	free(rt);
}

/* Builds a runtime whose first run is at first_due. */
static struct probe_rt *
rt_new(struct monitor *m, const struct probe_cfg *pc, int64_t first_due)
{
	struct probe_rt *rt = calloc(1, sizeof(*rt));

	if (rt == NULL)
		return NULL;
	rt->m = m;
	rt->cfg = pc;
	probe_result_init(&rt->last);
	rt->probe = probe_new(pc, &m->env);
	rt->job = sched_job_new(m->base, pc->interval_ms * 1000, first_due,
	    rt_slot, rt);
	if (rt->probe == NULL || rt->job == NULL) {
		rt_free(rt);
		return NULL;
	}
	return rt;
}

/*
 * First runs are spread over at most a second, in config order, so a
 * large configuration does not fire every probe in the same instant.
 */
static int64_t
first_due(size_t i, size_t n, const struct probe_cfg *pc, int64_t now)
{
	int64_t span = pc->interval_ms < 1000 ? pc->interval_ms : 1000;

	return now + (int64_t)i * span * 1000 / (int64_t)(n > 0 ? n : 1);
}

static struct probe_rt **
build_rts(struct monitor *m, struct config *cfg, struct probe_rt **old,
    size_t nold, bool *kept)
{
	struct probe_rt **rts = calloc(cfg->nprobes + 1, sizeof(*rts));
	int64_t now = sched_now();

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
		rts[i] = rt_new(m, pc, first_due(i, cfg->nprobes, pc, now));
		if (rts[i] == NULL) {
			for (size_t k = 0; k < i; k++) {
				bool reused = false;

				for (size_t j = 0; j < nold; j++)
					reused |= old[j] == rts[k];
				if (!reused)
					rt_free(rts[k]);
			}
			free(rts);
			return NULL;
		}
	}
	return rts;
}

struct monitor *
monitor_new(struct event_base *base, struct config *cfg, char *err,
    size_t errlen)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->base = base;
	m->started = m->loaded = wall_ms();
	m->env.base = base;
	m->env.curl = evcurl_new(base);
	/*
	 * Name lookups for probes whose library would block in getaddrinfo
	 * (libpq). Without it such probes report that they cannot resolve.
	 */
	m->env.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	m->store = store_new();
	if (m->env.curl == NULL || m->store == NULL) {
		snprintf(err, errlen, "out of memory");
		monitor_free(m);
		return NULL;
	}
	m->cfg = cfg;
	m->rts = build_rts(m, cfg, NULL, 0, NULL);
	if (m->rts == NULL) {
		snprintf(err, errlen, "cannot create the probes (out of "
		    "memory or file descriptors)");
		m->cfg = NULL;
		monitor_free(m);
		return NULL;
	}
	m->nrts = cfg->nprobes;
	return m;
}

void
monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrts; i++)
		rt_free(m->rts[i]);
	free(m->rts);
	/* Probes first: their easy handles must leave the multi handle. */
	evcurl_free(m->env.curl);
	if (m->env.dns != NULL) {
		evdns_base_free(m->env.dns, 0);
		/*
		 * A lookup the probes cancelled still owes its callback, which
		 * evdns runs from the loop: one pass lets it free its memory.
		 */
		event_base_loop(m->base, EVLOOP_NONBLOCK);
	}
	store_free(m->store);
	config_free(m->cfg);
	free(m);
}

int
monitor_reload(struct monitor *m, struct config *cfg)
{
	bool *kept = calloc(m->nrts + 1, sizeof(*kept));
	struct probe_rt **rts;
	size_t nkept = 0, nnew = 0, ngone = 0;

	if (kept == NULL)
		return -1;
	rts = build_rts(m, cfg, m->rts, m->nrts, kept);
	if (rts == NULL) {
		free(kept);
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
		rt_free(m->rts[j]);
	}
	free(kept);
	free(m->rts);
	m->rts = rts;
	m->nrts = cfg->nprobes;
	config_free(m->cfg);
	m->cfg = cfg;
	m->loaded = wall_ms();
	m->reloads++;
	log_notice("event=config_reloaded path=%s probes=%zu kept=%zu "
	    "started=%zu removed=%zu", cfg->path, cfg->nprobes, nkept,
	    nnew, ngone);
	return 0;
}

const struct config *
monitor_config(const struct monitor *m)
{
	return m->cfg;
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
	v->state_since = rt->state_since;
	return true;
}
