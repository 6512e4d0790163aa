/*
 * Traffic model of the portal simulator.
 *
 * The simulated application serves a steady load of `rps` requests per
 * second, or none at all in no_traffic. Everything the health endpoints
 * report is derived from elapsed time and the history of scenario
 * switches, so counters are monotonic and consistent however often (or
 * rarely) they are read. The model is pure: it takes times as arguments
 * and does no locking, no I/O and no clock reads; the server serialises
 * calls with its mutex.
 */
#ifndef PORTAL_SIM_MODEL_H
#define PORTAL_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum sim_scenario {
	SIM_HEALTHY,
	SIM_ERROR_SPIKE,
	SIM_SLOW,
	SIM_MEMORY_LEAK,
	SIM_COLD_CACHE,
	SIM_DOWN,
	SIM_HANG,
	SIM_MALFORMED,
	SIM_HUGE,
	SIM_NO_TRAFFIC,
	SIM_SCENARIO_COUNT
};

/* Knobs a scenario switch may set (query parameters of the switch). */
struct sim_params {
	long slow_ms;        /* slow: delay of every application response */
	double leak_rate;    /* memory_leak: percentage points per second */
	uint64_t huge_size;  /* huge: body size in bytes */
	double error_pct;    /* error_spike: error rate in percent (0-100) */
};

/*
 * One stretch of time with constant rates. The cumulative counters at t0
 * make the counters continuous across switches: the value at any time is
 * the value at the start of its segment plus rate * time into it, where
 * every rate is scaled by the requests actually served (rps * traffic).
 */
struct sim_segment {
	double t0;         /* elapsed seconds at which the segment starts */
	double traffic;    /* share of rps served: 1, or 0 in no_traffic */
	double err_rate;   /* fraction of requests that fail */
	double hit_rate;   /* fraction of cache lookups that hit */
	double requests0;  /* cumulative requests at t0 */
	double errors0;    /* cumulative errors at t0 */
	double hits0;      /* cumulative cache hits at t0 */
	double misses0;    /* cumulative cache misses at t0 */
};

/* Enough for many switches inside one window; beyond it the window shrinks. */
#define SIM_MAX_SEGMENTS 256
/*
 * Segments are kept this long after they end (or until SIM_MAX_SEGMENTS),
 * so the Sentry stand-in can count errors in buckets of the past hour.
 */
#define SIM_HISTORY_S 3600.0

struct sim_model {
	double rps;              /* simulated requests per second */
	double window_s;         /* window of errorRate and hitRate */
	uint64_t rng;            /* splitmix64 state: deterministic jitter */
	enum sim_scenario scenario;
	struct sim_params params;
	double since;            /* elapsed seconds at the last switch */
	double since_wall;       /* unix time of the last switch */
	uint64_t generation;     /* bumped by every switch; ends hangs */
	double mem_base;         /* memory percentage when the leak started */
	double last_t;           /* latest time seen; keeps time monotonic */
	size_t nseg;
	struct sim_segment seg[SIM_MAX_SEGMENTS];
};

/* What the application reports at one instant. */
struct sim_snapshot {
	const char *status;          /* "healthy" or "degraded" */
	double uptime;               /* seconds */
	uint64_t requests_total;
	uint64_t errors_total;
	double error_rate_pct;       /* over the window, 0-100 */
	double per_second;           /* rps, or 0 in no_traffic */
	double p50, p95, p99;        /* ms */
	double db_response_ms;
	double heap_used_mb, heap_total_mb, rss_mb;
	double mem_pct;              /* heap_used / heap_total * 100 */
	const char *mem_status;
	const char *cache_status;
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t cache_keys;
	double cache_hit_rate_pct;   /* over the window, 0-100 */
	double cache_memory_mb;
};

const char *sim_scenario_name(enum sim_scenario sc);
/* Returns 0 and sets *out when name is a known scenario, -1 otherwise. */
int sim_scenario_parse(const char *name, enum sim_scenario *out);

void sim_model_init(struct sim_model *m, double rps, double window_s,
                    uint64_t seed, enum sim_scenario sc,
                    const struct sim_params *params, double now_wall);
/* Switch scenario at elapsed time t (seconds since start). */
void sim_model_switch(struct sim_model *m, enum sim_scenario sc,
                      const struct sim_params *params, double t,
                      double now_wall);
/* Fill *out for elapsed time t; advances the jitter generator. */
void sim_model_sample(struct sim_model *m, double t, struct sim_snapshot *out);
/*
 * Cumulative application errors at elapsed time t (fractional: the
 * integral of the error rate), for t up to the latest time seen. Before
 * the oldest kept segment it is that segment's start value. Pure: no
 * jitter, no clock, t is not clamped.
 */
double sim_model_errors_at(const struct sim_model *m, double t);

#endif
