/*
 * pg_plan: what the canary query touches, read from its plan
 * (EXPLAIN (FORMAT JSON, VERBOSE)), pure. Two truths depend on it: the
 * canary's own index scans must not make an index look used by the
 * application, and when the canary waits on a lock, the holder is looked
 * for among the sessions locking the tables it reads.
 */
#ifndef VIGIL_PG_PLAN_H
#define VIGIL_PG_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#define PG_PLAN_MAX 16		/* relations, and indexes, kept */
#define PG_PLAN_NAME 132	/* "schema.name", each at most 63 bytes */

struct pg_plan_index {
	char schema[64], name[64];
	int scans;		/* scan nodes on it in the plan */
	/* Some node scans it once per outer row: how often, the plan
	 * cannot say. */
	bool looped;
};

struct pg_plan {
	/* Tables the plan reads, as "schema"."name" for to_regclass(). */
	char rels[PG_PLAN_MAX][PG_PLAN_NAME];
	size_t nrels;
	struct pg_plan_index idx[PG_PLAN_MAX];
	size_t nidx;
};

enum pg_plan_err {
	PG_PLAN_OK = 0,
	PG_PLAN_EPARSE = -1,	/* not EXPLAIN's JSON */
};

/* Reads EXPLAIN's JSON (len bytes, need not be NUL-terminated). */
int pg_plan_read(const char *json, size_t len, struct pg_plan *out);

/*
 * How many scans one run of the plan makes of schema.name; 0: none,
 * -1: an unknown number (it is scanned inside a loop).
 */
int pg_plan_index_scans(const struct pg_plan *p, const char *schema,
    const char *name);

#endif
