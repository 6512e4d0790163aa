/*
 * What jsonpath's parser (jsonpath.c) builds and its evaluator
 * (jsonpath_eval.c) walks: a query's segments and selectors, and filter
 * expressions as trees. Private to lib/base.
 */
#ifndef VIGIL_JSONPATH_INT_H
#define VIGIL_JSONPATH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/jsonpath.h"

/* I-JSON's exact integer range, which RFC 9535 requires of indexes. */
#define IJSON_MAX	9007199254740991LL

enum sel_kind { SEL_NAME, SEL_INDEX, SEL_WILD, SEL_SLICE, SEL_FILTER };

struct expr;

struct sel {
	enum sel_kind kind;
	char *name;		/* SEL_NAME, decoded */
	size_t name_len;	/* may hold a NUL from \u0000 */
	int64_t index;		/* SEL_INDEX */
	int64_t start, end, step;	/* SEL_SLICE */
	bool has_start, has_end;
	struct expr *filter;	/* SEL_FILTER */
};

struct seg {
	bool descendant;
	struct sel *sel;
	size_t nsel;
};

struct query {
	bool absolute;		/* "$", else "@" */
	bool singular;		/* one name or index per segment, no ".." */
	struct seg *seg;
	size_t nseg;
};

enum expr_kind {
	EX_OR, EX_AND, EX_NOT,
	EX_CMP,			/* a op b over comparables */
	EX_EXISTS,		/* a query as a test: does it select anything */
	EX_LIT,			/* comparable: a literal */
	EX_QUERY,		/* comparable if singular; count()'s argument */
	EX_LENGTH, EX_COUNT,	/* the function extensions, ValueType */
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct expr {
	enum expr_kind kind;
	enum cmp_op op;
	struct expr *a, *b;
	cJSON *lit;
	struct query *q;
};

struct jsonpath {
	struct query *q;
};

/* Parsing. */

#endif
