/*
 * JSONPath queries from a config, on a fixed document holding every kind
 * of value: the input is the query. Whatever it is, parsing and
 * evaluation must not crash, leak or run away, and every node a query
 * returns must be a node of the document (no copies, no dangling
 * pointers, nothing of the query's own literals).
 */
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc_text[] =
    "{\"store\": {\"book\": ["
    "{\"category\": \"reference\", \"author\": \"Nigel Rees\", "
    "\"title\": \"Sayings of the Century\", \"price\": 8.95},"
    "{\"category\": \"fiction\", \"author\": \"Herman Melville\", "
    "\"title\": \"Moby Dick\", \"isbn\": \"0-553-21311-3\", \"price\": 8.99}],"
    "\"bicycle\": {\"color\": \"red\", \"price\": 399}},"
    "\"a\": [3, 5, 1, 2, 4, 6, {\"b\": \"j\"}, {\"b\": \"k\"}, {\"b\": {}},"
    "{\"b\": \"kilo\"}, null, true, false, [], [[1, [2]]], -0.5, 1e300],"
    "\"o\": {\"p\": 1, \"q\": 2, \"r\": 3, \"s\": 5, \"t\": {\"u\": 6}},"
    "\"measurements\": [{\"statistic\": \"VALUE\", \"value\": 1.5e8},"
    "{\"statistic\": \"MAX\", \"value\": 2e8}],"
    "\"\\u00e9\\ud834\\udd1e\": \"\\u0000x\", \"\": \"\", \"e\": \"f\"}";

static cJSON *doc;
static const cJSON **all;
static size_t nall;

static void
collect(const cJSON *n)
{
	const cJSON *c;

	all[nall++] = n;
	for (c = n->child; c != NULL; c = c->next)
		collect(c);
}

static size_t
count(const cJSON *n)
{
	size_t k = 1;

	for (const cJSON *c = n->child; c != NULL; c = c->next)
		k += count(c);
	return k;
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const cJSON *const *)a;
	uintptr_t y = (uintptr_t)*(const cJSON *const *)b;

	return x < y ? -1 : x > y;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonpath_nodes l = { 0 };
	struct jsonpath *p;
	const char *why;
	size_t at;
	char *q;

	if (doc == NULL) {
		doc = cJSON_Parse(doc_text);
		if (doc == NULL)
			abort();
		all = malloc(count(doc) * sizeof(*all));
		if (all == NULL)
			abort();
		collect(doc);
		qsort(all, nall, sizeof(*all), cmp_ptr);
	}
	q = malloc(size + 1);
	if (q == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	p = jsonpath_parse(q, &at, &why);
	if (p == NULL) {
		/* an error is placed inside the query, and says something */
		if (why == NULL || at > strlen(q))
			abort();
	} else if (jsonpath_eval(p, doc, &l, &why) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (bsearch(&l.node[i], all, nall, sizeof(*all),
			    cmp_ptr) == NULL)
				abort();
	} else if (why == NULL || l.n != 0) {
		abort();
	}
	jsonpath_nodes_clear(&l);
	jsonpath_free(p);
	free(q);
	return 0;
}
