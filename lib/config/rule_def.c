#include "config/rule_def.h"

#include <string.h>

const char *
rule_op_text(enum rule_op op)
{
	switch (op) {
	case RULE_GT:
		return ">";
	case RULE_GE:
		return ">=";
	case RULE_LT:
		return "<";
	case RULE_LE:
		return "<=";
	}
	return "?";
}

const char *
rule_sev_name(enum rule_sev s)
{
	switch (s) {
	case SEV_NONE:
		return "none";
	case SEV_WARNING:
		return "warning";
	case SEV_CRITICAL:
		return "critical";
	}
	return "?";
}

static const char *const agg_names[] = {
	[AGG_LAST] = "last", [AGG_AVG] = "avg", [AGG_MIN] = "min",
	[AGG_MAX] = "max", [AGG_SUM] = "sum", [AGG_COUNT] = "count",
	[AGG_P50] = "p50", [AGG_P90] = "p90", [AGG_P95] = "p95",
	[AGG_P99] = "p99", [AGG_RATE] = "rate", [AGG_DELTA] = "delta",
	[AGG_SLOPE] = "slope",
};
#define NAGG (sizeof(agg_names) / sizeof(agg_names[0]))

int
agg_parse(const char *s, enum agg *out)
{
	for (size_t i = 0; i < NAGG; i++) {
		if (strcmp(s, agg_names[i]) == 0) {
			*out = (enum agg)i;
			return 0;
		}
	}
	return -1;
}

const char *
agg_name(enum agg a)
{
	return (size_t)a < NAGG ? agg_names[a] : "?";
}
