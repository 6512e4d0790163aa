/*
 * jsonc: JSON with comments, parsed into a cJSON tree that remembers where
 * every value came from.
 *
 * The configuration is JSON with comments: "//" to the end of the line
 * and C-style block comments (slash-star ... star-slash); a trailing comma
 * is tolerated nowhere: it is an error, as in JSON. cJSON does not
 * keep source positions, and an operator fixing a typo at 3 a.m. needs
 * "file:line:column", so this parser builds the cJSON tree itself and keeps
 * a side table from each node to its position. Duplicate keys in one object
 * are an error, since the second would silently win otherwise.
 *
 * Otherwise strict RFC 8259 JSON: no trailing commas, single quotes,
 * unquoted keys, leading zeros, NaN/Infinity, raw control characters in
 * strings or invalid UTF-8 anywhere (comments included); "\uXXXX" escapes
 * are decoded to UTF-8, surrogate pairs joined, lone surrogates rejected.
 * "\u0000" is rejected too, since cJSON strings are NUL-terminated and a
 * key or value cut short would be silently wrong. A number that overflows
 * a double is an error ("number out of range"); one that underflows reads
 * as 0 or a denormal. A leading UTF-8 byte order mark is skipped.
 *
 * Lines end at '\n' ("\r\n" counts once: '\r' is whitespace). Columns
 * count bytes, from 1 at the first byte after the line break (after the
 * byte order mark on line 1).
 *
 * All memory, the position table included, is allocated through cJSON's
 * hooks (cJSON_malloc/cJSON_free), so cJSON_InitHooks governs it all.
 */
#ifndef VIGIL_JSONC_H
#define VIGIL_JSONC_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct jsonc_pos {
	int line;	/* 1-based */
	int col;	/* 1-based, in bytes */
};

struct jsonc_error {
	struct jsonc_pos pos;
	char msg[160];	/* "expected ',' or '}' after object member" */
};

struct jsonc_doc;

/*
 * Parses len bytes of text (no NUL terminator needed; a NUL byte outside a
 * comment is an error like any other stray byte). Returns NULL on a syntax
 * error (err filled in, position of the offending byte) or on allocation
 * failure (err->msg "out of memory", position 0:0). Nesting deeper than
 * JSONC_MAX_DEPTH is an error (the top-level array or object is level 1).
 * The offending byte is: the opening '"' of an unterminated string or of a
 * duplicate key, the "/" of an unterminated comment, the ',' of a trailing
 * comma, the backslash of a bad escape, the first byte of an unknown word
 * ("True", "NaN") or of a number with a leading zero or out of range, and
 * otherwise the first byte that does not fit (or the end of the input).
 * err may be NULL. The result is freed with jsonc_free.
 */
#define JSONC_MAX_DEPTH 200
struct jsonc_doc *jsonc_parse(const char *text, size_t len,
    struct jsonc_error *err);

const cJSON *jsonc_root(const struct jsonc_doc *doc);

/*
 * Position of a node's value. For an object member, jsonc_key_pos gives the
 * position of its key's opening '"' (where "unknown key" errors point).
 * Returns 0, or -1 for a node not from this document (pos set to 0:0);
 * jsonc_key_pos also returns -1 (0:0) for the root and for array elements,
 * which have no key. pos may be NULL.
 */
int jsonc_pos(const struct jsonc_doc *doc, const cJSON *node,
    struct jsonc_pos *pos);
int jsonc_key_pos(const struct jsonc_doc *doc, const cJSON *node,
    struct jsonc_pos *pos);

void jsonc_free(struct jsonc_doc *doc);

/*
 * Readers of a parsed object's members: the member's number or string, or
 * dflt when o is NULL, the key is missing or the value has another type.
 */
double jsonc_number(const cJSON *o, const char *key, double dflt);
const char *jsonc_string(const cJSON *o, const char *key, const char *dflt);

/* "an object", "a string", "nothing" (NULL): for messages. */
const char *jsonc_type_name(const cJSON *n);

#endif
