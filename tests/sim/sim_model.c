/*
 * Traffic model of the portal simulator: see sim_model.h.
 */
#include "sim_model.h"

#include <math.h>
#include <string.h>

/* Share of requests that look something up in the cache. */
#define CACHE_LOOKUPS_PER_REQUEST 0.6
/* Memory figures of the pretend Node.js process. */
#define HEAP_TOTAL_MB 512.0
#define RSS_EXTRA_MB 96.0
#define MEM_BASELINE_PCT 45.0
#define MEM_CAP_PCT 99.0
#define MEM_DEGRADED_PCT 80.0

/*
 * Steady-state figures of each scenario. Scenarios whose effect is on the
 * transport (down, hang, malformed, huge) keep the healthy figures, so that
 * switching back shows a healthy application straight away.
 */
struct profile {
	double traffic;         /* share of rps served */
	double err_rate;
	double hit_rate;
	double p50, p95, p99;   /* ms; slow adds slow_ms on top */
	double keys;
	int degraded;
};

static const struct profile healthy_profile = {
	1.0, 0.0005, 0.82, 120.0, 300.0, 450.0, 1200.0, 0
};

static const char *const scenario_names[SIM_SCENARIO_COUNT] = {
	[SIM_HEALTHY] = "healthy",
	[SIM_ERROR_SPIKE] = "error_spike",
	[SIM_SLOW] = "slow",
	[SIM_MEMORY_LEAK] = "memory_leak",
	[SIM_COLD_CACHE] = "cold_cache",
	[SIM_DOWN] = "down",
	[SIM_HANG] = "hang",
	[SIM_MALFORMED] = "malformed",
	[SIM_HUGE] = "huge",
	[SIM_NO_TRAFFIC] = "no_traffic",
};

const char *sim_scenario_name(enum sim_scenario sc)
{
	if ((unsigned)sc >= SIM_SCENARIO_COUNT)
		return "unknown";
	return scenario_names[sc];
}

int sim_scenario_parse(const char *name, enum sim_scenario *out)
{
	for (unsigned i = 0; i < SIM_SCENARIO_COUNT; i++) {
		if (strcmp(name, scenario_names[i]) == 0) {
			*out = (enum sim_scenario)i;
			return 0;
		}
	}
	return -1;
}

static struct profile scenario_profile(enum sim_scenario sc,
                                       const struct sim_params *params)
{
	struct profile p = healthy_profile;

	switch (sc) {
	case SIM_ERROR_SPIKE:
		p.err_rate = params->error_pct / 100.0;
		p.p50 = 160.0;
		p.p95 = 600.0;
		p.p99 = 900.0;
		p.degraded = 1;
		break;
	case SIM_SLOW:
		p.degraded = 1;
		break;
	case SIM_COLD_CACHE:
		p.hit_rate = 0.20;
		p.keys = 150.0;
		p.degraded = 1;
		break;
	case SIM_NO_TRAFFIC:
		/* Healthy, just idle: rates stay so the window can fall back. */
		p.traffic = 0.0;
		break;
	default:
		break;
	}
	return p;
}

/* splitmix64: tiny, seedable, and good enough for jitter. */
static uint64_t rng_next(struct sim_model *m)
{
	uint64_t z = (m->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static double rng_sym(struct sim_model *m)
{
	return (double)(rng_next(m) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static double jitter(struct sim_model *m, double value, double frac)
{
	return value * (1.0 + frac * rng_sym(m));
}

/*
 * Cumulative counters at time t, from the segment containing t. Errors and
 * lookups follow the requests served, so no_traffic freezes them all.
 */
static void cumulative(const struct sim_model *m, double t, double *requests,
                       double *errors, double *hits, double *misses)
{
	const struct sim_segment *s = &m->seg[0];
	double dt, reqs, lookups;

	for (size_t i = 1; i < m->nseg && m->seg[i].t0 <= t; i++)
		s = &m->seg[i];
	dt = t > s->t0 ? t - s->t0 : 0.0;
	reqs = m->rps * s->traffic * dt;
	lookups = reqs * CACHE_LOOKUPS_PER_REQUEST;
	*requests = s->requests0 + reqs;
	*errors = s->errors0 + reqs * s->err_rate;
	*hits = s->hits0 + lookups * s->hit_rate;
	*misses = s->misses0 + lookups * (1.0 - s->hit_rate);
}

/* Clocks read by different threads may arrive out of order: never go back. */
static double clamp_time(struct sim_model *m, double t)
{
	if (!(t >= m->last_t))
		t = m->last_t;
	m->last_t = t;
	return t;
}

static double memory_pct(const struct sim_model *m, double t)
{
	double pct;

	if (m->scenario != SIM_MEMORY_LEAK)
		return MEM_BASELINE_PCT;
	pct = m->mem_base + m->params.leak_rate * (t - m->since);
	return pct > MEM_CAP_PCT ? MEM_CAP_PCT : pct;
}

static void push_segment(struct sim_model *m, double t, enum sim_scenario sc,
                         const struct sim_params *params)
{
	struct profile p = scenario_profile(sc, params);
	struct sim_segment s;
	double keep = m->window_s > SIM_HISTORY_S ? m->window_s : SIM_HISTORY_S;
	double keep_from = t - keep;

	cumulative(m, t, &s.requests0, &s.errors0, &s.hits0, &s.misses0);
	s.t0 = t;
	s.traffic = p.traffic;
	s.err_rate = p.err_rate;
	s.hit_rate = p.hit_rate;

	/*
	 * Drop segments that ended before the window and the Sentry history;
	 * if switches come faster than the array can hold, drop the oldest
	 * anyway and let the window shrink to what is left.
	 */
	while (m->nseg > 1 && (m->seg[1].t0 <= keep_from ||
	                       m->nseg == SIM_MAX_SEGMENTS)) {
		memmove(&m->seg[0], &m->seg[1],
		        (m->nseg - 1) * sizeof(m->seg[0]));
		m->nseg--;
	}
	m->seg[m->nseg++] = s;
}

void sim_model_init(struct sim_model *m, double rps, double window_s,
                    uint64_t seed, enum sim_scenario sc,
                    const struct sim_params *params, double now_wall)
{
	struct profile p = scenario_profile(sc, params);

	memset(m, 0, sizeof(*m));
	m->rps = rps;
	m->window_s = window_s;
	m->rng = seed;
	m->scenario = sc;
	m->params = *params;
	m->since_wall = now_wall;
	m->mem_base = MEM_BASELINE_PCT;
	m->nseg = 1;
	m->seg[0].traffic = p.traffic;
	m->seg[0].err_rate = p.err_rate;
	m->seg[0].hit_rate = p.hit_rate;
}

void sim_model_switch(struct sim_model *m, enum sim_scenario sc,
                      const struct sim_params *params, double t,
                      double now_wall)
{
	t = clamp_time(m, t);
	/* A leak continues from wherever memory is now (even mid-leak). */
	m->mem_base = memory_pct(m, t);
	push_segment(m, t, sc, params);
	m->scenario = sc;
	m->params = *params;
	m->since = t;
	m->since_wall = now_wall;
	m->generation++;
}

double sim_model_errors_at(const struct sim_model *m, double t)
{
	double requests, errors, hits, misses;

	cumulative(m, t, &requests, &errors, &hits, &misses);
	return errors;
}

void sim_model_sample(struct sim_model *m, double t, struct sim_snapshot *out)
{
	struct profile p = scenario_profile(m->scenario, &m->params);
	const struct sim_segment *cur;
	double r_now, e_now, h_now, mi_now, r_ws, e_ws, h_ws, mi_ws;
	double ws, dur, extra = 0.0, reqs, lookups, mem;
	int mem_degraded;

	t = clamp_time(m, t);
	cur = &m->seg[m->nseg - 1];
	memset(out, 0, sizeof(*out));
	out->uptime = t;
	out->per_second = m->rps * cur->traffic;

	cumulative(m, t, &r_now, &e_now, &h_now, &mi_now);
	out->requests_total = (uint64_t)floor(r_now);
	out->errors_total = (uint64_t)floor(e_now);
	out->cache_hits = (uint64_t)floor(h_now);
	out->cache_misses = (uint64_t)floor(mi_now);

	/* Rates over the window, clipped to what the history still covers. */
	ws = t - m->window_s;
	if (ws < m->seg[0].t0)
		ws = m->seg[0].t0;
	dur = t - ws;
	cumulative(m, ws, &r_ws, &e_ws, &h_ws, &mi_ws);
	/*
	 * Divide by the requests served, as the window may span no_traffic;
	 * under a millionth of a request is rounding noise, not traffic.
	 */
	reqs = r_now - r_ws;
	lookups = (h_now - h_ws) + (mi_now - mi_ws);
	if (dur > 1e-6 && reqs > 1e-6 && lookups > 0.0) {
		out->error_rate_pct = (e_now - e_ws) / reqs * 100.0;
		out->cache_hit_rate_pct = (h_now - h_ws) / lookups * 100.0;
	} else {
		/* No time has passed (or no traffic): report current rates. */
		out->error_rate_pct = cur->err_rate * 100.0;
		out->cache_hit_rate_pct = cur->hit_rate * 100.0;
	}

	/* Jitter only the base latency so the percentiles stay ordered. */
	if (m->scenario == SIM_SLOW)
		extra = (double)m->params.slow_ms;
	out->p50 = extra + jitter(m, p.p50, 0.04);
	out->p95 = extra + jitter(m, p.p95, 0.04);
	out->p99 = extra + jitter(m, p.p99, 0.04);
	out->db_response_ms = jitter(m, 3.5, 0.3);

	mem = memory_pct(m, t);
	if (m->scenario != SIM_MEMORY_LEAK)
		mem = jitter(m, mem, 0.01);
	mem_degraded = mem > MEM_DEGRADED_PCT;
	out->heap_total_mb = HEAP_TOTAL_MB;
	out->heap_used_mb = HEAP_TOTAL_MB * mem / 100.0;
	out->mem_pct = out->heap_used_mb / out->heap_total_mb * 100.0;
	out->rss_mb = HEAP_TOTAL_MB + RSS_EXTRA_MB;
	out->mem_status = mem_degraded ? "degraded" : "healthy";

	out->cache_keys = (uint64_t)llround(jitter(m, p.keys, 0.02));
	out->cache_memory_mb = 1.5 + (double)out->cache_keys * 0.0125;
	out->cache_status = m->scenario == SIM_COLD_CACHE ? "degraded"
	                                                  : "healthy";

	out->status = (p.degraded || mem_degraded) ? "degraded" : "healthy";
}
