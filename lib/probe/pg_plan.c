#include "probe/pg_plan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

/* A canary's plan is shallow; a hostile one is not. */
#define MAX_DEPTH 64

/* An identifier as a quoted SQL name part: " doubled. */
static size_t
quote_ident(const char *s, char *out, size_t len)
{
	size_t n = 0;

	if (len < 3)
		return 0;
	out[n++] = '"';
	for (; *s != '\0' && n + 3 < len; s++) {
		if (*s == '"')
			out[n++] = '"';
		out[n++] = *s;
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

static const char *
str_of(const cJSON *node, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
add_rel(struct pg_plan *p, const char *schema, const char *rel)
{
	char name[PG_PLAN_NAME];
	size_t n;

	n = quote_ident(schema, name, sizeof(name));
	if (n + 1 >= sizeof(name))
		return;
	name[n++] = '.';
	quote_ident(rel, name + n, sizeof(name) - n);
	for (size_t i = 0; i < p->nrels; i++)
		if (strcmp(p->rels[i], name) == 0)
			return;
	if (p->nrels < PG_PLAN_MAX)
		memcpy(p->rels[p->nrels++], name, sizeof(name));
}

static void
add_index(struct pg_plan *p, const char *schema, const char *name,
    bool looped)
{
	struct pg_plan_index *x;

	for (size_t i = 0; i < p->nidx; i++) {
		x = &p->idx[i];
		if (strcmp(x->schema, schema) == 0 &&
		    strcmp(x->name, name) == 0) {
			x->scans++;
			x->looped |= looped;
			return;
		}
	}
	if (p->nidx >= PG_PLAN_MAX)
		return;
	x = &p->idx[p->nidx++];
	snprintf(x->schema, sizeof(x->schema), "%s", schema);
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->scans = 1;
	x->looped = looped;
}

static void
walk(const cJSON *node, int depth, bool looped, struct pg_plan *p)
{
	const char *schema, *rel, *idx, *type;
	const cJSON *kids, *kid;
	int i = 0;

	if (!cJSON_IsObject(node) || depth > MAX_DEPTH)
		return;
	schema = str_of(node, "Schema");
	rel = str_of(node, "Relation Name");
	idx = str_of(node, "Index Name");
	type = str_of(node, "Node Type");
	if (schema != NULL && rel != NULL)
		add_rel(p, schema, rel);
	if (schema != NULL && idx != NULL)
		add_index(p, schema, idx, looped);
	kids = cJSON_GetObjectItemCaseSensitive(node, "Plans");
	cJSON_ArrayForEach(kid, kids) {
		/*
		 * A nested loop starts its inner side (the second child)
		 * once per outer row, and a subplan once per call.
		 */
		const char *rel_to = str_of(kid, "Parent Relationship");
		bool inner = type != NULL && strcmp(type, "Nested Loop") == 0 &&
		    i == 1;
		bool sub = rel_to != NULL && strcmp(rel_to, "SubPlan") == 0;

		walk(kid, depth + 1, looped || inner || sub, p);
		i++;
	}
}

int
pg_plan_read(const char *json, size_t len, struct pg_plan *out)
{
	cJSON *doc;
	const cJSON *top, *plan;

	memset(out, 0, sizeof(*out));
	doc = cJSON_ParseWithLength(json, len);
	if (doc == NULL)
		return PG_PLAN_EPARSE;
	top = cJSON_IsArray(doc) ? cJSON_GetArrayItem(doc, 0) : NULL;
	plan = cJSON_GetObjectItemCaseSensitive(top, "Plan");
	if (!cJSON_IsObject(plan)) {
		cJSON_Delete(doc);
		return PG_PLAN_EPARSE;
	}
	walk(plan, 0, false, out);
	cJSON_Delete(doc);
	return PG_PLAN_OK;
}

int
pg_plan_index_scans(const struct pg_plan *p, const char *schema,
    const char *name)
{
	for (size_t i = 0; i < p->nidx; i++)
		if (strcmp(p->idx[i].schema, schema) == 0 &&
		    strcmp(p->idx[i].name, name) == 0)
			return p->idx[i].looped ? -1 : p->idx[i].scans;
	return 0;
}
