/*
 * jsonc_int: the parser's state, shared by jsonc.c (the tree, positions,
 * duplicate keys) and jsonc_lex.c (tokens: whitespace and comments,
 * strings, numbers, words). Private to lib/base.
 */
#ifndef VIGIL_JSONC_INT_H
#define VIGIL_JSONC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/jsonc.h"

struct node_pos {
	const cJSON *node;	/* NULL: empty slot */
	struct jsonc_pos val;
	struct jsonc_pos key;
	int has_key;
};

struct jsonc_doc {
	cJSON *root;
	struct node_pos *tab;	/* open addressing, linear probing */
	size_t cap;		/* power of two */
	size_t count;
};

/* Members seen so far, for duplicate-key detection: (object, key) -> item. */
struct key_ent {
	const cJSON *parent;	/* NULL: empty slot */
	const cJSON *item;	/* item->string is the key */
	uint64_t hash;
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t i;
	int line;
	size_t line_start;
	struct jsonc_doc *doc;
	struct key_ent *keys;
	size_t kcap, kcount;
	/* Scratch stack for decoded strings and number slices. */
	char *buf;
	size_t bcap, blen;
	struct jsonc_error *err;
	int failed;
};

/* jsonc.c: errors and the scratch stack. */
void jsonc_oom(struct parser *p);
__attribute__((format(printf, 3, 4)))
void jsonc_fail_at(struct parser *p, size_t off, const char *fmt, ...);
int jsonc_buf_put(struct parser *p, const void *data, size_t n);

/* jsonc_lex.c: the tokens. */
void jsonc_describe(const struct parser *p, size_t off, char *out,
    size_t outlen);
int jsonc_skip_ws(struct parser *p);
int jsonc_parse_string(struct parser *p, size_t *off);
cJSON *jsonc_parse_number(struct parser *p);
int jsonc_is_word_char(unsigned char c);
cJSON *jsonc_parse_word(struct parser *p);
void jsonc_quote_key(const char *key, char *out, size_t outlen);

#endif
