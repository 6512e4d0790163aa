/*
 * rule_def: what a rule is, as the configuration states it -- a comparison,
 * its warning and critical levels, its timings, and the aggregation over a
 * window that feeds it. Definitions only: the engine (engine/rules.h,
 * engine/window.h) evaluates them, the configuration (config.h) holds
 * them, and so neither has to include the other.
 */
#ifndef VIGIL_RULE_DEF_H
#define VIGIL_RULE_DEF_H

#include <stdbool.h>
#include <stdint.h>

enum rule_op { RULE_GT, RULE_GE, RULE_LT, RULE_LE };
enum rule_sev { SEV_NONE, SEV_WARNING, SEV_CRITICAL };

const char *rule_op_text(enum rule_op op);	/* ">" */
const char *rule_sev_name(enum rule_sev s);	/* "warning" */

/* One severity level: an absolute threshold and/or a baseline factor. */
struct rule_level {
	bool set;		/* an absolute threshold is configured */
	double threshold;
	bool has_clear;		/* hysteresis: clear only past this */
	double clear;
	double base_factor;	/* > 0: crossed at factor * baseline */
};

/* The most flips a rule remembers: the ceiling of "flap.flips". */
#define RULE_FLAP_SLOTS 32

struct rule_def {
	enum rule_op op;
	struct rule_level warn, crit;
	int64_t for_ms;		/* condition must hold this long */
	int64_t keep_firing_ms;	/* stay firing this long after it clears */
	int64_t resolved_ms;	/* how long "resolved" shows before "ok" */
	int64_t flap_window_ms;	/* flips counted over this window */
	unsigned flap_max;	/* this many flips in the window: flapping */
};

enum agg {
	AGG_LAST,
	AGG_AVG,
	AGG_MIN,
	AGG_MAX,
	AGG_SUM,
	AGG_COUNT,
	AGG_P50,
	AGG_P90,
	AGG_P95,
	AGG_P99,
	AGG_RATE,	/* counter increase per second */
	AGG_DELTA,	/* counter increase over the window */
	AGG_SLOPE,	/* least-squares trend, per hour */
};

/* "p95" -> AGG_P95; 0, or -1 for an unknown name. */
int agg_parse(const char *s, enum agg *out);
const char *agg_name(enum agg a);
/* The list of names, for error messages. */
#define AGG_NAMES "last, avg, min, max, sum, count, p50, p90, p95, p99, " \
	"rate, delta, slope"

#endif
