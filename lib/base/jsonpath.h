/*
 * jsonpath: RFC 9535 JSONPath queries over cJSON trees.
 *
 * Lets an http probe pick a value out of an array by its content, where a
 * JSON Pointer can only name a fixed position: Spring Boot Actuator's
 * "$.measurements[?@.statistic=='MAX'].value".
 *
 * Supported: the root "$"; name selectors ".name" and ['name'] with every
 * string escape; index selectors, negative ones too; the wildcard "*" and
 * "[*]"; slices [start:end:step]; the descendant segment ".."; unions
 * [a,b]; filter selectors [?...] with "@" and "$" queries, comparisons
 * == != < <= > >= over numbers, strings, true, false, null (and arrays and
 * objects for == and !=) with RFC 9535's rules for a side that selects
 * nothing, existence tests [?@.x], && || ! and parentheses; the function
 * extensions length() and count(), type-checked as the RFC says.
 *
 * Not supported: the functions match(), search() and value() (a syntax
 * error that names them). Numbers compare as doubles.
 *
 * A query is parsed once (jsonpath_parse) and evaluated on many documents
 * (jsonpath_eval). Hostile input is bounded: the query's length
 * (JSONPATH_MAX_LEN), its nesting of filters, parentheses and function
 * arguments (JSONPATH_MAX_NEST), every node list (JSONPATH_MAX_NODES) and
 * an evaluation's total work (JSONPATH_MAX_STEPS); a bound reached is an
 * error, never a cut-short answer.
 */
#ifndef VIGIL_JSONPATH_H
#define VIGIL_JSONPATH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define JSONPATH_MAX_LEN	4096
#define JSONPATH_MAX_NEST	32
#define JSONPATH_MAX_NODES	65536
#define JSONPATH_MAX_STEPS	4000000

struct jsonpath;

/* A node list: borrowed pointers into the document, in RFC 9535 order. */
struct jsonpath_nodes {
	const cJSON **node;
	size_t n;
	size_t cap;
};

/* Whether text is meant as JSONPath (it starts with '$'), not a Pointer. */
bool jsonpath_is_query(const char *text);

/*
 * Parses a query. On a syntax error returns NULL, *err_at (may be NULL) is
 * the byte offset in text where it was found and *why (may be NULL) says
 * what is wrong (static text).
 */
struct jsonpath *jsonpath_parse(const char *text, size_t *err_at,
    const char **why);

void jsonpath_free(struct jsonpath *p);

/*
 * Evaluates p on root into out (emptied first; clear it with
 * jsonpath_nodes_clear). Returns 0, or -1 with *why (static text) when a
 * bound was reached or memory ran out; out is then empty.
 */
int jsonpath_eval(const struct jsonpath *p, const cJSON *root,
    struct jsonpath_nodes *out, const char **why);

void jsonpath_nodes_clear(struct jsonpath_nodes *nodes);

#endif
