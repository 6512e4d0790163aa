/* Unit tests for lib/base/jsonc.c: JSON with comments and source positions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base/jsonc.h"
#include "suites.h"

/*
 * Parses a copy of text[0..len) in a heap buffer of exactly len bytes, so
 * that AddressSanitizer catches any read past the end (the parser must not
 * rely on a NUL terminator).
 */
static struct jsonc_doc *
parse_n(const char *text, size_t len, struct jsonc_error *err)
{
	char *copy = malloc(len ? len : 1);
	struct jsonc_doc *doc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	doc = jsonc_parse(copy, len, err);
	free(copy);
	return doc;
}

static struct jsonc_doc *
parse(const char *text, struct jsonc_error *err)
{
	return parse_n(text, strlen(text), err);
}

/* Parses text that must be valid; fails the test with the error if not. */
static struct jsonc_doc *
parse_ok(const char *text)
{
	struct jsonc_error err;
	struct jsonc_doc *doc = parse(text, &err);

	ck_assert_msg(doc != NULL, "parse failed at %d:%d: %s (input: %.200s)",
	    err.pos.line, err.pos.col, err.msg, text);
	return doc;
}

/* The root of a parsed document, which must be there. */
static const cJSON *
root_of(const struct jsonc_doc *doc)
{
	const cJSON *root = jsonc_root(doc);

	ck_assert_ptr_nonnull(root);
	return root;
}

static void
assert_pos(const struct jsonc_doc *doc, const cJSON *node, int line, int col)
{
	struct jsonc_pos pos;

	ck_assert_ptr_nonnull(node);
	ck_assert_int_eq(jsonc_pos(doc, node, &pos), 0);
	ck_assert_int_eq(pos.line, line);
	ck_assert_int_eq(pos.col, col);
}

static void
assert_key_pos(const struct jsonc_doc *doc, const cJSON *node, int line,
    int col)
{
	struct jsonc_pos pos;

	ck_assert_ptr_nonnull(node);
	ck_assert_int_eq(jsonc_key_pos(doc, node, &pos), 0);
	ck_assert_int_eq(pos.line, line);
	ck_assert_int_eq(pos.col, col);
}

/* ------------------------------------------------------------------ */
/* Errors: every kind, with its exact message and position. */

struct err_case {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int line, col;
	const char *msg;
};

static const struct err_case err_cases[] = {
	/* Empty documents. */
	{ "", 0, 1, 1, "empty document" },
	{ "  \n\t ", 0, 2, 3, "empty document" },
	{ "  // only a comment\n/* and another */  ", 0, 2, 20,
	    "empty document" },
	/* Objects. */
	{ "{\"a\" 1}", 0, 1, 6, "expected ':' after object key" },
	{ "{\"a\"", 0, 1, 5, "expected ':' after object key" },
	{ "{\"a\":1 \"b\":2}", 0, 1, 8,
	    "expected ',' or '}' after object member" },
	{ "{\"a\":1]", 0, 1, 7, "expected ',' or '}' after object member" },
	{ "{\"a\":1", 0, 1, 7, "expected ',' or '}' after object member" },
	{ "{\"a\":1,}", 0, 1, 7, "trailing comma before '}'" },
	{ "{\"a\":1,\"b\":2,\n}", 0, 1, 13, "trailing comma before '}'" },
	{ "{", 0, 1, 2, "expected '\"' to begin object key, got end of input" },
	{ "{,}", 0, 1, 2,
	    "expected '\"' to begin object key, got character ','" },
	{ "{'a': 1}", 0, 1, 2,
	    "single quotes are not allowed; object keys need '\"'" },
	{ "{a: 1}", 0, 1, 2, "object key must be a double-quoted string" },
	{ "{\"a\":}", 0, 1, 6, "unexpected character '}', expected a value" },
	{ "{\"a\":", 0, 1, 6, "unexpected end of input, expected a value" },
	/* Arrays. */
	{ "[1 2]", 0, 1, 4, "expected ',' or ']' after array element" },
	{ "[1}", 0, 1, 3, "expected ',' or ']' after array element" },
	{ "[1", 0, 1, 3, "expected ',' or ']' after array element" },
	{ "[1,\n  2,\n]", 0, 2, 4, "trailing comma before ']'" },
	{ "[1,,2]", 0, 1, 4, "unexpected character ',', expected a value" },
	{ "[,1]", 0, 1, 2, "unexpected character ',', expected a value" },
	{ "[1,", 0, 1, 4, "unexpected end of input, expected a value" },
	/* Values. */
	{ "[#]", 0, 1, 2, "unexpected character '#', expected a value" },
	{ "['a']", 0, 1, 2, "single quotes are not allowed; strings need '\"'" },
	{ "[True]", 0, 1, 2, "invalid literal 'True' (expected true, false, "
	    "null, a number or a \"string\")" },
	{ "[tru", 0, 1, 2, "invalid literal 'tru' (expected true, false, "
	    "null, a number or a \"string\")" },
	{ "[nullx]", 0, 1, 2, "invalid literal 'nullx' (expected true, false, "
	    "null, a number or a \"string\")" },
	{ "[\xc3\xa9]", 0, 1, 2,
	    "unexpected character U+00E9, expected a value" },
	{ "[1]\0", 4, 1, 4, "unexpected control character 0x00 after the "
	    "root value (expected end of input)" },
	/* Numbers. */
	{ "[01]", 0, 1, 2, "leading zeros are not allowed in numbers" },
	{ "[-01]", 0, 1, 2, "leading zeros are not allowed in numbers" },
	{ "[00]", 0, 1, 2, "leading zeros are not allowed in numbers" },
	{ "[1.]", 0, 1, 4, "expected digit after '.' in number" },
	{ "[1.e5]", 0, 1, 4, "expected digit after '.' in number" },
	{ "[1e]", 0, 1, 4, "expected digit in exponent" },
	{ "[1e+]", 0, 1, 5, "expected digit in exponent" },
	{ "[-]", 0, 1, 3, "expected digit after '-'" },
	{ "[- 1]", 0, 1, 3, "expected digit after '-'" },
	{ "-", 0, 1, 2, "expected digit after '-'" },
	{ "+1", 0, 1, 1, "unexpected character '+' (a number has no '+' sign)" },
	{ ".5", 0, 1, 1,
	    "unexpected character '.' (a number must start with a digit)" },
	{ "[NaN]", 0, 1, 2, "NaN and Infinity are not valid JSON numbers" },
	{ "[Infinity]", 0, 1, 2, "NaN and Infinity are not valid JSON numbers" },
	{ "[-Infinity]", 0, 1, 2,
	    "NaN and Infinity are not valid JSON numbers" },
	{ "[1e999]", 0, 1, 2, "number out of range" },
	{ "{\"a\": -1e400}", 0, 1, 7, "number out of range" },
	{ "[0x10]", 0, 1, 3, "expected ',' or ']' after array element" },
	/* Strings. */
	{ "[\"abc", 0, 1, 2, "unterminated string" },
	{ "{\"a\": \"abc\n}", 0, 1, 7, "unterminated string" },
	{ "[\"a\\", 0, 1, 2, "unterminated string" },
	{ "[\"a\\qb\"]", 0, 1, 4, "invalid escape '\\q'" },
	{ "[\"\\x41\"]", 0, 1, 3, "invalid escape '\\x'" },
	{ "[\"\\\x01\"]", 0, 1, 3, "invalid escape: byte 0x01 after '\\'" },
	{ "[\"a\tb\"]", 0, 1, 4,
	    "control character 0x09 in string (must be escaped)" },
	{ "[\"a\0b\"]", 7, 1, 4,
	    "control character 0x00 in string (must be escaped)" },
	{ "[\"\\u12G4\"]", 0, 1, 3, "invalid \\u escape (expected 4 hex digits)" },
	{ "[\"\\u12\"]", 0, 1, 3, "invalid \\u escape (expected 4 hex digits)" },
	{ "[\"\\u12", 0, 1, 3, "invalid \\u escape (expected 4 hex digits)" },
	{ "[\"\\uD800\"]", 0, 1, 3, "lone surrogate \\uD800 (high surrogate "
	    "not followed by a low one)" },
	{ "[\"\\ud83d\\u0041\"]", 0, 1, 3, "lone surrogate \\uD83D (high "
	    "surrogate not followed by a low one)" },
	{ "[\"\\uD800\\uD800\"]", 0, 1, 3, "lone surrogate \\uD800 (high "
	    "surrogate not followed by a low one)" },
	{ "[\"\\uDC00\"]", 0, 1, 3,
	    "lone surrogate \\uDC00 (low surrogate without a high one)" },
	{ "[\"x\\uDE00\\uD83D\"]", 0, 1, 4,
	    "lone surrogate \\uDE00 (low surrogate without a high one)" },
	{ "[\"\\u0000\"]", 0, 1, 3, "\\u0000 is not allowed in strings" },
	/* Invalid UTF-8, in strings, comments and elsewhere. */
	{ "[\"a\xff\"]", 0, 1, 4, "invalid UTF-8 byte 0xFF" },
	{ "[\"\xc0\xaf\"]", 0, 1, 3, "invalid UTF-8 byte 0xC0" },	/* overlong */
	{ "[\"\xe0\x80\xaf\"]", 0, 1, 3, "invalid UTF-8 byte 0xE0" },
	{ "[\"\xed\xa0\x80\"]", 0, 1, 3, "invalid UTF-8 byte 0xED" }, /* surrogate */
	{ "[\"\xf4\x90\x80\x80\"]", 0, 1, 3, "invalid UTF-8 byte 0xF4" },
	{ "[\"\xc3(\"]", 0, 1, 3, "invalid UTF-8 byte 0xC3" },
	{ "[\"\xe2\x82", 0, 1, 3, "invalid UTF-8 byte 0xE2" },	/* truncated */
	{ "[\"\x80\"]", 0, 1, 3, "invalid UTF-8 byte 0x80" },
	{ "// caf\xc3\n[]", 0, 1, 7, "invalid UTF-8 byte 0xC3" },
	{ "[1, /* \xff */ 2]", 0, 1, 8, "invalid UTF-8 byte 0xFF" },
	{ "[\xff]", 0, 1, 2, "invalid UTF-8 byte 0xFF" },
	/* Comments. */
	{ "/* never closed\n[1]", 0, 1, 1, "unterminated comment" },
	{ "[1]\n  /* x", 0, 2, 3, "unterminated comment" },
	{ "[1, /*/ 2]", 0, 1, 5, "unterminated comment" },
	{ "/", 0, 1, 1,
	    "unexpected character '/' (comments start with // or /*)" },
	{ "[1, / 2]", 0, 1, 5,
	    "unexpected character '/' (comments start with // or /*)" },
	{ "# comment\n[]", 0, 1, 1,
	    "unexpected character '#', expected a value" },
	/* Duplicate keys. */
	{ "{\"name\": 1, \"name\": 2}", 0, 1, 13, "duplicate key \"name\"" },
	{ "{\n  \"a\": {\"x\": 1,\n        \"x\": 2}\n}", 0, 3, 9,
	    "duplicate key \"x\"" },
	{ "{\"a\":1,\"\\u0061\":2}", 0, 1, 8, "duplicate key \"a\"" },
	{ "{\"a\":1,\"b\":2,\"a\":3}", 0, 1, 14, "duplicate key \"a\"" },
	{ "{\"\":1,\"\":2}", 0, 1, 7, "duplicate key \"\"" },
	{ "{\"k\\n\":1,\"k\\n\":2}", 0, 1, 10, "duplicate key \"k?\"" },
	/* Trailing garbage. */
	{ "[1] x", 0, 1, 5, "unexpected character 'x' after the root value "
	    "(expected end of input)" },
	{ "{} {}", 0, 1, 4, "unexpected character '{' after the root value "
	    "(expected end of input)" },
	{ "1 2", 0, 1, 3, "unexpected character '2' after the root value "
	    "(expected end of input)" },
	{ "[]\n// ok\n]", 0, 3, 1, "unexpected character ']' after the root "
	    "value (expected end of input)" },
	/* Line counting: CRLF is one line break; errors after comments. */
	{ "{\r\n  \"a\": 1,\r\n  \"a\": 2\r\n}", 0, 3, 3,
	    "duplicate key \"a\"" },
	{ "[\r\n1,\r\n]", 0, 2, 2, "trailing comma before ']'" },
	{ "// comment\n/* multi\n line */ [1,\n // c\n ]", 0, 3, 12,
	    "trailing comma before ']'" },
	{ "/* a\n * b\n */ {\"k\": /* c\n */ tru}", 0, 4, 5,
	    "invalid literal 'tru' (expected true, false, null, a number or a "
	    "\"string\")" },
	/* A byte order mark is skipped; columns count after it. */
	{ "\xef\xbb\xbf[1,]", 0, 1, 3, "trailing comma before ']'" },
};

START_TEST(test_errors)
{
	const struct err_case *c = &err_cases[_i];
	size_t len = c->len ? c->len : strlen(c->in);
	struct jsonc_error err;
	struct jsonc_doc *doc;

	memset(&err, 0x5a, sizeof(err));
	doc = parse_n(c->in, len, &err);
	ck_assert_msg(doc == NULL, "case %d parsed but should fail", _i);
	ck_assert_msg(strcmp(err.msg, c->msg) == 0,
	    "case %d: message \"%s\", expected \"%s\"", _i, err.msg, c->msg);
	ck_assert_msg(err.pos.line == c->line && err.pos.col == c->col,
	    "case %d (%s): at %d:%d, expected %d:%d", _i, c->msg,
	    err.pos.line, err.pos.col, c->line, c->col);
}
END_TEST

START_TEST(test_error_null_err)
{
	ck_assert_ptr_null(jsonc_parse("[", 1, NULL));
	ck_assert_ptr_null(jsonc_parse(NULL, 0, NULL));
}
END_TEST

START_TEST(test_duplicate_key_long)
{
	char in[700], want[160];
	struct jsonc_error err;
	size_t n = 300;

	/* {"kkk...":1,"kkk...":2} with a 300-byte key: quoted, cut, "...". */
	in[0] = '{';
	in[1] = '"';
	memset(in + 2, 'k', n);
	memcpy(in + 2 + n, "\":1,", 4);
	ck_assert_ptr_null(parse_n(in, 2 + n + 4, &err));	/* truncated */
	ck_assert_str_eq(err.msg, "expected '\"' to begin object key, got "
	    "end of input");
	in[2 + n + 4] = '"';
	memset(in + 2 + n + 5, 'k', n - 200);	/* a different, shorter key */
	memcpy(in + 2 + n + 5 + 100, "\":2}", 4);
	{
		struct jsonc_doc *doc = parse_n(in, 2 + n + 5 + 100 + 4, &err);

		ck_assert_ptr_nonnull(doc);
		jsonc_free(doc);
	}
	memset(in + 2 + n + 5, 'k', n);
	memcpy(in + 2 + n + 5 + n, "\":2}", 4);
	ck_assert_ptr_null(parse_n(in, 2 + n + 5 + n + 4, &err));
	ck_assert_int_eq(err.pos.line, 1);
	ck_assert_int_eq(err.pos.col, (int)(2 + n + 4 + 1));
	memcpy(want, "duplicate key \"", 15);
	memset(want + 15, 'k', 100);
	memcpy(want + 115, "...\"", 5);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Depth */

static char *
repeat(const char *unit, size_t times, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail), k;
	char *s = malloc(ul * times + tl + 1);

	ck_assert_ptr_nonnull(s);
	for (k = 0; k < times; k++)
		memcpy(s + k * ul, unit, ul);
	memcpy(s + ul * times, tail, tl + 1);
	return s;
}

START_TEST(test_depth_limit_ok)
{
	/* Exactly JSONC_MAX_DEPTH levels parse. */
	char *open = repeat("[", JSONC_MAX_DEPTH, "");
	char *close = repeat("]", JSONC_MAX_DEPTH, "");
	char *in = malloc(2 * JSONC_MAX_DEPTH + 1);
	struct jsonc_doc *doc;
	const cJSON *n;
	int depth = 0;

	ck_assert_ptr_nonnull(in);
	memcpy(in, open, JSONC_MAX_DEPTH);
	memcpy(in + JSONC_MAX_DEPTH, close, JSONC_MAX_DEPTH + 1);
	doc = parse_ok(in);
	for (n = root_of(doc); n != NULL; n = n->child)
		depth++;
	ck_assert_int_eq(depth, JSONC_MAX_DEPTH);
	jsonc_free(doc);
	free(open);
	free(close);
	free(in);
}
END_TEST

START_TEST(test_depth_limit_exceeded)
{
	char *in = repeat("[", JSONC_MAX_DEPTH + 1, "");
	struct jsonc_error err;

	ck_assert_ptr_null(parse(in, &err));
	ck_assert_str_eq(err.msg, "nesting deeper than 200 levels");
	ck_assert_int_eq(err.pos.line, 1);
	ck_assert_int_eq(err.pos.col, JSONC_MAX_DEPTH + 1);
	free(in);
}
END_TEST

START_TEST(test_depth_10000)
{
	char *in = repeat("[", 10000, "");
	char *obj = repeat("{\"a\":", 10000, "1");
	char *mix = repeat("[{\"k\":\n", 10000, "");
	struct jsonc_error err;

	/* Fails cleanly at the 201st level, without deep recursion. */
	ck_assert_ptr_null(parse(in, &err));
	ck_assert_str_eq(err.msg, "nesting deeper than 200 levels");
	ck_assert_int_eq(err.pos.line, 1);
	ck_assert_int_eq(err.pos.col, 201);

	ck_assert_ptr_null(parse(obj, &err));
	ck_assert_str_eq(err.msg, "nesting deeper than 200 levels");
	ck_assert_int_eq(err.pos.line, 1);
	ck_assert_int_eq(err.pos.col, 200 * 5 + 1);

	/* Levels 2k+1 are arrays at line k+1 col 1; level 201 is line 101. */
	ck_assert_ptr_null(parse(mix, &err));
	ck_assert_str_eq(err.msg, "nesting deeper than 200 levels");
	ck_assert_int_eq(err.pos.line, 101);
	ck_assert_int_eq(err.pos.col, 1);
	free(in);
	free(obj);
	free(mix);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Positions */

static const char positions_doc[] =
    "{\n"						/* 1 */
    "  \"name\": \"web\",\n"				/* 2 */
    "  \"probes\": [\n"					/* 3 */
    "    {\"url\": \"http://x\", \"n\": -1.5e3},\n"	/* 4 */
    "    true, null\n"					/* 5 */
    "  ],\n"						/* 6 */
    "  // comment with \"quotes\" and { braces\n"	/* 7 */
    "  \"nested\": /* c */ {\"deep\": [false]}\n"	/* 8 */
    "}\n";						/* 9 */

START_TEST(test_positions)
{
	struct jsonc_doc *doc = parse_ok(positions_doc);
	const cJSON *root = root_of(doc), *probes, *o, *nested, *deep;
	struct jsonc_pos pos;

	assert_pos(doc, root, 1, 1);
	pos.line = pos.col = 7;
	ck_assert_int_eq(jsonc_key_pos(doc, root, &pos), -1);	/* no key */
	ck_assert_int_eq(pos.line, 0);
	ck_assert_int_eq(pos.col, 0);

	assert_key_pos(doc, cJSON_GetObjectItemCaseSensitive(root, "name"), 2,
	    3);
	assert_pos(doc, cJSON_GetObjectItemCaseSensitive(root, "name"), 2, 11);

	probes = cJSON_GetObjectItemCaseSensitive(root, "probes");
	assert_key_pos(doc, probes, 3, 3);
	assert_pos(doc, probes, 3, 13);
	ck_assert_int_eq(cJSON_GetArraySize(probes), 3);

	o = cJSON_GetArrayItem(probes, 0);
	assert_pos(doc, o, 4, 5);
	ck_assert_int_eq(jsonc_key_pos(doc, o, &pos), -1);	/* element */
	assert_key_pos(doc, cJSON_GetObjectItemCaseSensitive(o, "url"), 4, 6);
	assert_pos(doc, cJSON_GetObjectItemCaseSensitive(o, "url"), 4, 13);
	assert_key_pos(doc, cJSON_GetObjectItemCaseSensitive(o, "n"), 4, 25);
	assert_pos(doc, cJSON_GetObjectItemCaseSensitive(o, "n"), 4, 30);
	ck_assert_double_eq(
	    cJSON_GetObjectItemCaseSensitive(o, "n")->valuedouble, -1500.0);

	assert_pos(doc, cJSON_GetArrayItem(probes, 1), 5, 5);
	ck_assert(cJSON_IsTrue(cJSON_GetArrayItem(probes, 1)));
	assert_pos(doc, cJSON_GetArrayItem(probes, 2), 5, 11);
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(probes, 2)));

	nested = cJSON_GetObjectItemCaseSensitive(root, "nested");
	assert_key_pos(doc, nested, 8, 3);
	assert_pos(doc, nested, 8, 21);
	deep = cJSON_GetObjectItemCaseSensitive(nested, "deep");
	assert_key_pos(doc, deep, 8, 22);
	assert_pos(doc, deep, 8, 30);
	assert_pos(doc, deep->child, 8, 31);
	ck_assert(cJSON_IsFalse(deep->child));
	jsonc_free(doc);
}
END_TEST

START_TEST(test_positions_crlf_tabs)
{
	struct jsonc_doc *doc = parse_ok("{\r\n\t\"a\": 1,\r\n\r\n\t\"b\":\r\n"
	    "  [2]\r\n}\r\n");
	const cJSON *root = root_of(doc), *b;

	assert_key_pos(doc, cJSON_GetObjectItemCaseSensitive(root, "a"), 2, 2);
	assert_pos(doc, cJSON_GetObjectItemCaseSensitive(root, "a"), 2, 7);
	b = cJSON_GetObjectItemCaseSensitive(root, "b");
	assert_key_pos(doc, b, 4, 2);
	assert_pos(doc, b, 5, 3);
	assert_pos(doc, b->child, 5, 4);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_positions_bom)
{
	struct jsonc_doc *doc = parse_ok("\xef\xbb\xbf{\"a\": 1}");
	const cJSON *root = root_of(doc);

	assert_pos(doc, root, 1, 1);
	assert_key_pos(doc, root->child, 1, 2);
	assert_pos(doc, root->child, 1, 7);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_positions_foreign_node)
{
	struct jsonc_doc *a = parse_ok("{\"x\": 1}");
	struct jsonc_doc *b = parse_ok("{\"x\": 1}");
	cJSON *mine = cJSON_CreateNull();
	struct jsonc_pos pos;

	/* A node from another document or built elsewhere is unknown. */
	pos.line = pos.col = 9;
	ck_assert_int_eq(jsonc_pos(a, root_of(b)->child, &pos), -1);
	ck_assert_int_eq(pos.line, 0);
	ck_assert_int_eq(pos.col, 0);
	ck_assert_int_eq(jsonc_pos(a, mine, &pos), -1);
	ck_assert_int_eq(jsonc_key_pos(a, mine, &pos), -1);
	ck_assert_int_eq(jsonc_pos(a, NULL, &pos), -1);
	ck_assert_int_eq(jsonc_pos(NULL, root_of(a), &pos), -1);
	ck_assert_int_eq(jsonc_key_pos(NULL, root_of(a), &pos), -1);
	ck_assert_ptr_null(jsonc_root(NULL));
	ck_assert_int_eq(jsonc_pos(a, root_of(a)->child, NULL), 0);
	cJSON_Delete(mine);
	jsonc_free(a);
	jsonc_free(b);
	jsonc_free(NULL);
}
END_TEST

START_TEST(test_many_nodes)
{
	/* 5000 members on 5000 lines: the tables grow; nothing is confused. */
	size_t n = 5000, k, cap = n * 32 + 16, off = 0;
	char *in = malloc(cap), key[32];
	struct jsonc_doc *doc;
	const cJSON *root, *m;

	ck_assert_ptr_nonnull(in);
	in[off++] = '{';
	for (k = 0; k < n; k++)
		off += (size_t)snprintf(in + off, cap - off,
		    "%s\n\"k%zu\": [%zu]", k ? "," : "", k, k);
	in[off++] = '}';
	in[off] = '\0';
	doc = parse_n(in, off, NULL);
	ck_assert_ptr_nonnull(doc);
	root = root_of(doc);
	ck_assert_int_eq(cJSON_GetArraySize(root), (int)n);
	for (k = 0; k < n; k += 499) {
		snprintf(key, sizeof(key), "k%zu", k);
		m = cJSON_GetObjectItemCaseSensitive(root, key);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(m->child->valueint, (int)k);
		assert_key_pos(doc, m, (int)k + 2, 1);
		assert_pos(doc, m, (int)k + 2, (int)strlen(key) + 5);
		assert_pos(doc, m->child, (int)k + 2, (int)strlen(key) + 6);
	}
	/* The same text with the last key repeated as the first's. */
	off = (size_t)(strrchr(in, '"') - in);	/* closing '"' of "k4999" */
	memcpy(in + off - 6, "\"k0\"   ", 7);	/* "k4999" -> "k0"    */
	{
		struct jsonc_error err;

		ck_assert_ptr_null(parse_n(in, strlen(in), &err));
		ck_assert_str_eq(err.msg, "duplicate key \"k0\"");
		ck_assert_int_eq(err.pos.line, (int)n + 1);
		ck_assert_int_eq(err.pos.col, 1);
	}
	jsonc_free(doc);
	free(in);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Values */

START_TEST(test_scalars)
{
	struct jsonc_doc *doc = parse_ok("[0, -0, 1.5e3, 1E-2, 123456789, "
	    "-2.5, 1e-400, 1e308, true, false, null, \"\", 42]");
	const cJSON *a = root_of(doc);
	const double want[] = { 0, 0, 1500, 0.01, 123456789, -2.5, 0, 1e308 };
	size_t k;

	ck_assert_int_eq(cJSON_GetArraySize(a), 13);
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		const cJSON *n = cJSON_GetArrayItem(a, (int)k);

		ck_assert(cJSON_IsNumber(n));
		ck_assert_double_eq(n->valuedouble, want[k]);
	}
	ck_assert(cJSON_IsTrue(cJSON_GetArrayItem(a, 8)));
	ck_assert(cJSON_IsFalse(cJSON_GetArrayItem(a, 9)));
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(a, 10)));
	ck_assert_str_eq(cJSON_GetArrayItem(a, 11)->valuestring, "");
	ck_assert_int_eq(cJSON_GetArrayItem(a, 12)->valueint, 42);
	jsonc_free(doc);

	/* Scalars are documents too. */
	doc = parse_ok("  \"top\" // c\n");
	ck_assert_str_eq(root_of(doc)->valuestring, "top");
	assert_pos(doc, root_of(doc), 1, 3);
	jsonc_free(doc);
	doc = parse_ok("-7");
	ck_assert_double_eq(root_of(doc)->valuedouble, -7);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_long_number)
{
	/* A number longer than any stack buffer: 1.000...0001 with 600 zeros. */
	char *in = repeat("0", 600, "1]");
	char *full = malloc(strlen(in) + 4);
	struct jsonc_doc *doc;

	ck_assert_ptr_nonnull(full);
	memcpy(full, "[1.", 3);
	memcpy(full + 3, in, strlen(in) + 1);
	doc = parse_ok(full);
	ck_assert_double_eq(root_of(doc)->child->valuedouble, 1.0);
	jsonc_free(doc);
	free(in);
	free(full);
}
END_TEST

START_TEST(test_string_escapes)
{
	struct jsonc_doc *doc = parse_ok("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", "
	    "\"\\u00e9\", \"\\uD83D\\uDE00\", \"\\ud83d\\ude00\", \"\\u20AC\", "
	    "\"h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x82\xac\", \"\\u0041\\u007f\", "
	    "\"\\uDBFF\\uDFFF\", \"\\uD800\\uDC00\"]");
	const cJSON *a = root_of(doc);

	ck_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring,
	    "\"\\/\b\f\n\r\t");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 1)->valuestring, "\xc3\xa9");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 2)->valuestring,
	    "\xf0\x9f\x98\x80");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 3)->valuestring,
	    "\xf0\x9f\x98\x80");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 4)->valuestring,
	    "\xe2\x82\xac");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 5)->valuestring,
	    "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x82\xac");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 6)->valuestring, "A\x7f");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 7)->valuestring,
	    "\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	ck_assert_str_eq(cJSON_GetArrayItem(a, 8)->valuestring,
	    "\xf0\x90\x80\x80");	/* U+10000 */
	jsonc_free(doc);

	/* Escaped keys are decoded before use and comparison. */
	doc = parse_ok("{\"a\\u002Fb\": 1, \"\\u00e9\": 2, \"A\": 3, \"a\": 4}");
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(root_of(doc),
	    "a/b"));
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(root_of(doc),
	    "\xc3\xa9")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(root_of(doc),
	    "A")->valueint, 3);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(root_of(doc),
	    "a")->valueint, 4);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_long_strings)
{
	/* Strings and keys longer than the scratch buffer's first size. */
	char *val = repeat("v\xc3\xa9", 3000, "");
	char *key = repeat("k", 5000, "");
	size_t cap = strlen(val) + 2 * strlen(key) + 64;
	char *in = malloc(cap);
	struct jsonc_doc *doc;
	const cJSON *m;

	ck_assert_ptr_nonnull(in);
	snprintf(in, cap, "{\"%s\": \"%s\", \"x\": \"%s\"}", key, val, key);
	doc = parse_ok(in);
	m = cJSON_GetObjectItemCaseSensitive(root_of(doc), key);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->valuestring, val);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root_of(doc),
	    "x")->valuestring, key);
	assert_pos(doc, cJSON_GetObjectItemCaseSensitive(root_of(doc), "x"),
	    1, (int)(strlen(key) + strlen(val) + 15));
	jsonc_free(doc);
	free(val);
	free(key);
	free(in);
}
END_TEST

START_TEST(test_comments_everywhere)
{
	struct jsonc_doc *doc = parse_ok(
	    "/*a*/{/*b*/\"k\"/*c*/:/*d*/[/*e*/1/*f*/,/*g*/2/*h*/]/*i*/,//j\n"
	    "\"l\"//k\n://l\nnull//m\n,\"s\":\"http://x/*y*/\"/**/,"
	    "\"t\":/***/true/* ** */,\"u\":/*/ */false}//n\n/* end */");
	const cJSON *root = root_of(doc), *k;

	ck_assert_int_eq(cJSON_GetArraySize(root), 5);
	k = cJSON_GetObjectItemCaseSensitive(root, "k");
	ck_assert_int_eq(cJSON_GetArraySize(k), 2);
	ck_assert_int_eq(cJSON_GetArrayItem(k, 1)->valueint, 2);
	assert_pos(doc, cJSON_GetArrayItem(k, 1), 1, 44);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "l")));
	assert_key_pos(doc, cJSON_GetObjectItemCaseSensitive(root, "l"), 2, 1);
	assert_pos(doc, cJSON_GetObjectItemCaseSensitive(root, "l"), 4, 1);
	/* Comment markers inside strings are string content. */
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "s")->valuestring,
	    "http://x/*y*/");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "t")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "u")));
	jsonc_free(doc);

	/* A line comment may end the input without a newline. */
	doc = parse_ok("[1] // done");
	jsonc_free(doc);
	/* Comments may hold any valid UTF-8 and stray control bytes. */
	doc = parse_ok("/* caf\xc3\xa9 \xf0\x9f\x98\x80 \x01 */ {} // \xe2\x82\xac");
	jsonc_free(doc);
}
END_TEST

START_TEST(test_same_key_other_objects)
{
	struct jsonc_doc *doc = parse_ok("{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}, "
	    "\"c\": [{\"x\": 3}, {\"x\": 4}], \"x\": 5, \"X\": 6}");
	const cJSON *root = root_of(doc);

	ck_assert_int_eq(cJSON_GetArraySize(root), 5);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "b"), "x")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(root, "X")->valueint,
	    6);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_prefix_not_nul_terminated)
{
	static const char buf[] = "[1, 2] garbage{\"a\":1}xyz123456";
	struct jsonc_error err;
	struct jsonc_doc *doc;

	/* Only len bytes count: what follows the prefix is never seen. */
	doc = parse_n(buf, 6, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(cJSON_GetArraySize(root_of(doc)), 2);
	jsonc_free(doc);

	doc = parse_n(buf + 14, 7, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(root_of(doc)->child->valueint, 1);
	jsonc_free(doc);

	/* A number cut by len: strtod must not read on. */
	doc = parse_n(buf + 24, 3, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_double_eq(root_of(doc)->valuedouble, 123);
	jsonc_free(doc);

	/* A literal cut by len. */
	doc = parse_n("true", 3, &err);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(err.msg, "invalid literal 'tru' (expected true, "
	    "false, null, a number or a \"string\")");

	/* Cut inside a string, an escape, a comment. */
	ck_assert_ptr_null(parse_n("[\"abc\"]", 4, &err));
	ck_assert_str_eq(err.msg, "unterminated string");
	ck_assert_ptr_null(parse_n("[\"\\u00e9\"]", 6, &err));
	ck_assert_str_eq(err.msg, "invalid \\u escape (expected 4 hex digits)");
	ck_assert_ptr_null(parse_n("[1] /* c */", 10, &err));
	ck_assert_str_eq(err.msg, "unterminated comment");
	ck_assert_int_eq(err.pos.col, 5);
	ck_assert_ptr_null(parse_n("[1.5e3]", 3, &err));
	ck_assert_str_eq(err.msg, "expected digit after '.' in number");
	ck_assert_int_eq(err.pos.col, 4);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation failure: every allocation in turn fails; no leak. */

static long alloc_budget;	/* allocations left; -1: unlimited */
static long alloc_live;		/* outstanding allocations */

static void *
failing_malloc(size_t n)
{
	void *p;

	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	p = malloc(n);
	if (p != NULL)
		alloc_live++;
	return p;
}

static void
counting_free(void *p)
{
	if (p != NULL)
		alloc_live--;
	free(p);
}

START_TEST(test_out_of_memory)
{
	cJSON_Hooks hooks = { failing_malloc, counting_free };
	char *big = repeat("x", 700, "");
	char *in;
	size_t cap, k;
	long budget;
	struct jsonc_doc *doc = NULL;
	struct jsonc_error err;

	/* Enough keys, nodes and string bytes to make every table grow. */
	cap = 4096;
	in = malloc(cap);
	ck_assert_ptr_nonnull(in);
	k = (size_t)snprintf(in, cap, "{\"long\": \"%s\", \"arr\": [", big);
	for (budget = 0; budget < 40; budget++)
		k += (size_t)snprintf(in + k, cap - k, "%s{\"k%ld\": %ld.5}",
		    budget ? "," : "", budget, budget);
	snprintf(in + k, cap - k, "], \"t\": true, \"f\": false, \"n\": null, "
	    "\"%s\": \"\\u00e9\"}", big);

	cJSON_InitHooks(&hooks);
	for (budget = 0; budget < 100000; budget++) {
		alloc_budget = budget;
		alloc_live = 0;
		memset(&err, 0x5a, sizeof(err));
		doc = jsonc_parse(in, strlen(in), &err);
		if (doc != NULL)
			break;
		ck_assert_str_eq(err.msg, "out of memory");
		ck_assert_int_eq(err.pos.line, 0);
		ck_assert_int_eq(err.pos.col, 0);
		ck_assert_msg(alloc_live == 0, "budget %ld: %ld allocations "
		    "leaked", budget, alloc_live);
	}
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_gt(budget, 100);	/* many distinct failure points */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    root_of(doc), "arr")), 40);
	jsonc_free(doc);
	ck_assert_int_eq(alloc_live, 0);
	cJSON_InitHooks(NULL);
	free(big);
	free(in);
}
END_TEST

Suite *
jsonc_suite(void)
{
	Suite *s = suite_create("jsonc");
	TCase *tc;

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0,
	    (int)(sizeof(err_cases) / sizeof(err_cases[0])));
	tcase_add_test(tc, test_error_null_err);
	tcase_add_test(tc, test_duplicate_key_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("depth");
	tcase_add_test(tc, test_depth_limit_ok);
	tcase_add_test(tc, test_depth_limit_exceeded);
	tcase_add_test(tc, test_depth_10000);
	suite_add_tcase(s, tc);

	tc = tcase_create("positions");
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_positions_crlf_tabs);
	tcase_add_test(tc, test_positions_bom);
	tcase_add_test(tc, test_positions_foreign_node);
	tcase_add_test(tc, test_many_nodes);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_long_number);
	tcase_add_test(tc, test_string_escapes);
	tcase_add_test(tc, test_long_strings);
	tcase_add_test(tc, test_comments_everywhere);
	tcase_add_test(tc, test_same_key_other_objects);
	tcase_add_test(tc, test_prefix_not_nul_terminated);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_test(tc, test_out_of_memory);
	suite_add_tcase(s, tc);
	return s;
}
