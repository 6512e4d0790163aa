/*
 * jsonpath's evaluation: node lists passed segment by segment, as RFC
 * 9535 describes it, every step counted against one budget. The query
 * comes from jsonpath.c's parser, already well-typed.
 */
#include "base/jsonpath.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonpath_int.h"

struct eval {
	const cJSON *root;
	size_t steps;
	const char *why;
};

/* A comparable's value: nothing, a node's value or a function's number. */
struct val {
	bool nothing;
	bool is_num;
	double num;
	const cJSON *node;
};

static int eval_query(struct eval *ev, const struct query *q,
    const cJSON *cur, struct jsonpath_nodes *out);

static int
work(struct eval *ev, size_t n)
{
	ev->steps += n;
	if (ev->steps > JSONPATH_MAX_STEPS) {
		if (ev->why == NULL)
			ev->why = "query takes too much work on this document";
		return -1;
	}
	return 0;
}

static int
nodes_add(struct eval *ev, struct jsonpath_nodes *l, const cJSON *node)
{
	if (work(ev, 1) != 0)
		return -1;
	if (l->n == l->cap) {
		size_t ncap = l->cap == 0 ? 8 : l->cap * 2;
		const cJSON **nn;

		if (l->n >= JSONPATH_MAX_NODES) {
			ev->why = "query selects too many nodes";
			return -1;
		}
		if (ncap > JSONPATH_MAX_NODES)
			ncap = JSONPATH_MAX_NODES;
		nn = realloc(l->node, ncap * sizeof(*nn));
		if (nn == NULL) {
			ev->why = "out of memory";
			return -1;
		}
		l->node = nn;
		l->cap = ncap;
	}
	l->node[l->n++] = node;
	return 0;
}

void
jsonpath_nodes_clear(struct jsonpath_nodes *l)
{
	if (l == NULL)
		return;
	free(l->node);
	l->node = NULL;
	l->n = l->cap = 0;
}

static bool
is_number(const struct val *v)
{
	return v->is_num || cJSON_IsNumber(v->node);
}

static double
num_of(const struct val *v)
{
	return v->is_num ? v->num : v->node->valuedouble;
}

/* Deep equality of two JSON values, numbers exactly. */
static bool
json_equal(struct eval *ev, const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	/* Out of budget reads as unequal; jsonpath_eval reports it. */
	if (work(ev, 1) != 0 || (a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a)) {
		for (x = a->child, y = b->child; x != NULL && y != NULL;
		    x = x->next, y = y->next)
			if (!json_equal(ev, x, y))
				return false;
		return x == NULL && y == NULL;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return false;
		cJSON_ArrayForEach(x, a) {
			for (y = b->child; y != NULL; y = y->next)
				if (work(ev, 1) != 0 || (x->string != NULL &&
				    y->string != NULL &&
				    strcmp(x->string, y->string) == 0))
					break;
			if (y == NULL || !json_equal(ev, x, y))
				return false;
		}
		return true;
	}
	return true;		/* true, false, null: the type says it */
}

static bool
val_eq(struct eval *ev, const struct val *a, const struct val *b)
{
	if (a->nothing || b->nothing)
		return a->nothing && b->nothing;
	if (is_number(a) || is_number(b))
		return is_number(a) && is_number(b) && num_of(a) == num_of(b);
	return json_equal(ev, a->node, b->node);
}

/* RFC 9535 2.3.5.2.2: only numbers and strings are ordered. */
static bool
val_lt(const struct val *a, const struct val *b)
{
	if (a->nothing || b->nothing)
		return false;
	if (is_number(a) && is_number(b))
		return num_of(a) < num_of(b);
	if (!a->is_num && !b->is_num && cJSON_IsString(a->node) &&
	    cJSON_IsString(b->node))
		/* UTF-8's byte order is the code points' order. */
		return strcmp(a->node->valuestring, b->node->valuestring) < 0;
	return false;
}

static size_t
utf8_count(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
eval_value(struct eval *ev, const struct expr *e, const cJSON *cur,
    struct val *out)
{
	struct jsonpath_nodes l = { 0 };
	struct val arg;

	memset(out, 0, sizeof(*out));
	switch (e->kind) {
	case EX_LIT:
		out->node = e->lit;
		return 0;
	case EX_QUERY:
		if (eval_query(ev, e->q, cur, &l) != 0)
			return -1;
		if (l.n == 1)
			out->node = l.node[0];
		else
			out->nothing = true;
		jsonpath_nodes_clear(&l);
		return 0;
	case EX_COUNT:
		if (eval_query(ev, e->a->q, cur, &l) != 0)
			return -1;
		out->is_num = true;
		out->num = (double)l.n;
		jsonpath_nodes_clear(&l);
		return 0;
	case EX_LENGTH:
		if (eval_value(ev, e->a, cur, &arg) != 0)
			return -1;
		out->nothing = true;
		if (arg.nothing || arg.is_num)
			return 0;
		if (cJSON_IsString(arg.node))
			out->num = (double)utf8_count(arg.node->valuestring);
		else if (cJSON_IsArray(arg.node) || cJSON_IsObject(arg.node))
			out->num = cJSON_GetArraySize(arg.node);
		else
			return 0;
		out->nothing = false;
		out->is_num = true;
		return 0;
	default:
		break;
	}
	ev->why = "internal error: not a value";
	return -1;
}

/* 1 true, 0 false, -1 a bound reached. */
static int
eval_logical(struct eval *ev, const struct expr *e, const cJSON *cur)
{
	struct jsonpath_nodes l = { 0 };
	struct val a, b;
	int r;

	if (work(ev, 1) != 0)
		return -1;
	switch (e->kind) {
	case EX_OR:
		r = eval_logical(ev, e->a, cur);
		return r != 0 ? r : eval_logical(ev, e->b, cur);
	case EX_AND:
		r = eval_logical(ev, e->a, cur);
		return r != 1 ? r : eval_logical(ev, e->b, cur);
	case EX_NOT:
		r = eval_logical(ev, e->a, cur);
		return r < 0 ? r : !r;
	case EX_EXISTS:
		if (eval_query(ev, e->a->q, cur, &l) != 0)
			return -1;
		r = l.n > 0;
		jsonpath_nodes_clear(&l);
		return r;
	case EX_CMP:
		if (eval_value(ev, e->a, cur, &a) != 0 ||
		    eval_value(ev, e->b, cur, &b) != 0)
			return -1;
		r = 0;
		switch (e->op) {
		case OP_EQ: return val_eq(ev, &a, &b);
		case OP_NE: return !val_eq(ev, &a, &b);
		case OP_LT: return val_lt(&a, &b);
		case OP_LE: return val_lt(&a, &b) || val_eq(ev, &a, &b);
		case OP_GT: return val_lt(&b, &a);
		case OP_GE: return val_lt(&b, &a) || val_eq(ev, &a, &b);
		}
		break;
	default:
		break;
	}
	ev->why = "internal error: not a test";
	return -1;
}

/*
 * Slices walk the array once (cJSON_GetArrayItem is linear, so indexing
 * each selected element would make a long array quadratic); a negative
 * step collects the elements in document order and adds them reversed.
 */
static int
select_slice(struct eval *ev, const struct sel *s, const cJSON *node,
    struct jsonpath_nodes *out)
{
	int64_t len = cJSON_GetArraySize(node), lo, hi, i, n_start, n_end;
	struct jsonpath_nodes rev = { 0 };
	const cJSON *c;

	if (s->step == 0 || work(ev, (size_t)len) != 0)
		return s->step == 0 ? 0 : -1;
	if (s->step > 0) {
		n_start = !s->has_start ? 0 :
		    s->start >= 0 ? s->start : len + s->start;
		n_end = !s->has_end ? len : s->end >= 0 ? s->end : len + s->end;
		lo = n_start < 0 ? 0 : n_start > len ? len : n_start;
		hi = n_end < 0 ? 0 : n_end > len ? len : n_end;
		for (i = 0, c = node->child; c != NULL && i < hi;
		    i++, c = c->next)
			if (i >= lo && (i - lo) % s->step == 0 &&
			    nodes_add(ev, out, c) != 0)
				return -1;
		return 0;
	}
	n_start = !s->has_start ? len - 1 :
	    s->start >= 0 ? s->start : len + s->start;
	n_end = !s->has_end ? -len - 1 :
	    s->end >= 0 ? s->end : len + s->end;
	hi = n_start < -1 ? -1 : n_start > len - 1 ? len - 1 : n_start;
	lo = n_end < -1 ? -1 : n_end > len - 1 ? len - 1 : n_end;
	for (i = 0, c = node->child; c != NULL && i <= hi; i++, c = c->next)
		if (i > lo && (hi - i) % -s->step == 0 &&
		    nodes_add(ev, &rev, c) != 0)
			goto fail;
	while (rev.n > 0)
		if (nodes_add(ev, out, rev.node[--rev.n]) != 0)
			goto fail;
	jsonpath_nodes_clear(&rev);
	return 0;
fail:
	jsonpath_nodes_clear(&rev);
	return -1;
}

static int
select_one(struct eval *ev, const struct sel *s, const cJSON *node,
    struct jsonpath_nodes *out)
{
	const cJSON *c;
	int64_t len, i;
	int r;

	switch (s->kind) {
	case SEL_NAME:
		if (!cJSON_IsObject(node))
			return 0;
		/* Walks are work too: a filter may repeat one per node. */
		for (c = node->child; c != NULL; c = c->next) {
			if (work(ev, 1) != 0)
				return -1;
			if (c->string != NULL &&
			    strlen(c->string) == s->name_len &&
			    memcmp(c->string, s->name, s->name_len) == 0)
				return nodes_add(ev, out, c);
		}
		return 0;
	case SEL_INDEX:
		if (!cJSON_IsArray(node))
			return 0;
		len = cJSON_GetArraySize(node);
		i = s->index >= 0 ? s->index : len + s->index;
		if (work(ev, (size_t)len) != 0)
			return -1;
		if (i < 0 || i >= len)
			return 0;
		return nodes_add(ev, out, cJSON_GetArrayItem(node, (int)i));
	case SEL_WILD:
		if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
			return 0;
		for (c = node->child; c != NULL; c = c->next)
			if (nodes_add(ev, out, c) != 0)
				return -1;
		return 0;
	case SEL_SLICE:
		return cJSON_IsArray(node) ? select_slice(ev, s, node, out) :
		    0;
	case SEL_FILTER:
		if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
			return 0;
		for (c = node->child; c != NULL; c = c->next) {
			r = eval_logical(ev, s->filter, c);
			if (r < 0 || (r == 1 && nodes_add(ev, out, c) != 0))
				return -1;
		}
		return 0;
	}
	return 0;
}

static int
select_all(struct eval *ev, const struct seg *g, const cJSON *node,
    struct jsonpath_nodes *out)
{
	for (size_t k = 0; k < g->nsel; k++)
		if (select_one(ev, &g->sel[k], node, out) != 0)
			return -1;
	return 0;
}

/*
 * The descendant segment: the node, then its descendants in document
 * order, each before its own. The depth is cJSON's parse limit at most.
 */
static int
select_descendants(struct eval *ev, const struct seg *g, const cJSON *node,
    struct jsonpath_nodes *out)
{
	const cJSON *c;

	if (work(ev, 1) != 0 || select_all(ev, g, node, out) != 0)
		return -1;
	if (cJSON_IsArray(node) || cJSON_IsObject(node))
		for (c = node->child; c != NULL; c = c->next)
			if (select_descendants(ev, g, c, out) != 0)
				return -1;
	return 0;
}

static int
eval_query(struct eval *ev, const struct query *q, const cJSON *cur,
    struct jsonpath_nodes *out)
{
	struct jsonpath_nodes in = { 0 }, next = { 0 }, tmp;

	out->n = 0;
	if (nodes_add(ev, &in, q->absolute ? ev->root : cur) != 0)
		goto fail;
	for (size_t i = 0; i < q->nseg && in.n > 0; i++) {
		const struct seg *g = &q->seg[i];

		next.n = 0;
		for (size_t k = 0; k < in.n; k++)
			if ((g->descendant ? select_descendants(ev, g,
			    in.node[k], &next) : select_all(ev, g, in.node[k],
			    &next)) != 0)
				goto fail;
		tmp = in;
		in = next;
		next = tmp;
	}
	jsonpath_nodes_clear(&next);
	jsonpath_nodes_clear(out);
	*out = in;
	return 0;
fail:
	jsonpath_nodes_clear(&in);
	jsonpath_nodes_clear(&next);
	return -1;
}

int
jsonpath_eval(const struct jsonpath *jp, const cJSON *root,
    struct jsonpath_nodes *out, const char **why)
{
	struct eval ev = { .root = root };

	jsonpath_nodes_clear(out);
	if (jp == NULL || root == NULL) {
		if (why != NULL)
			*why = "no query or no document";
		return -1;
	}
	/*
	 * A bound reached deep inside a comparison reads as "unequal" there
	 * and may be the last work done, so ev.why is checked too.
	 */
	if (eval_query(&ev, jp->q, root, out) != 0 || ev.why != NULL) {
		jsonpath_nodes_clear(out);
		if (why != NULL)
			*why = ev.why;
		return -1;
	}
	return 0;
}
