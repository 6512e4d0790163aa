/*
 * jsonc: a strict recursive-descent parser for JSON with "//" line comments
 * and C-style block comments, building a cJSON tree and remembering where
 * each node came from.
 *
 * Positions: the parser keeps the current line and the offset of its first
 * byte while skipping whitespace (the only place a line break may occur
 * outside a comment), so the position of a value or key is known when it is
 * reached. Error positions are recomputed from the start of the text, which
 * costs one pass but happens once.
 *
 * Memory: every allocation, ours and cJSON's, goes through cJSON's hooks
 * (cJSON_malloc / cJSON_free), so one cJSON_InitHooks covers the whole parse
 * (the unit tests use that to inject allocation failures).
 *
 * Recursion is bounded by JSONC_MAX_DEPTH: a container is refused before
 * its contents are parsed.
 */
#include "base/jsonc.h"
#include "base/jsonc_int.h"
#include "base/utf8.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

/* ------------------------------------------------------------------ */
/* Errors */

void
jsonc_oom(struct parser *p)
{
	if (p->failed)
		return;
	p->failed = 1;
	p->err->pos.line = 0;
	p->err->pos.col = 0;
	snprintf(p->err->msg, sizeof(p->err->msg), "%s", "out of memory");
}

static struct jsonc_pos
pos_of(const struct parser *p, size_t off)
{
	struct jsonc_pos pos;
	size_t k, ls = 0;
	long line = 1;

	for (k = 0; k < off && k < p->len; k++) {
		if (p->s[k] == '\n') {
			line++;
			ls = k + 1;
		}
	}
	pos.line = line > INT_MAX ? INT_MAX : (int)line;
	pos.col = off - ls + 1 > INT_MAX ? INT_MAX : (int)(off - ls + 1);
	return pos;
}

/* Position of the current byte; valid because line tracking is current. */
static struct jsonc_pos
cur_pos(const struct parser *p)
{
	struct jsonc_pos pos;
	size_t col = p->i - p->line_start + 1;

	pos.line = p->line;
	pos.col = col > INT_MAX ? INT_MAX : (int)col;
	return pos;
}

void
jsonc_fail_at(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->err->pos = pos_of(p, off);
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Allocation through cJSON's hooks */

static void *
grow(void *old, size_t oldbytes, size_t newbytes)
{
	void *n = cJSON_malloc(newbytes);

	if (n == NULL)
		return NULL;
	if (old != NULL) {
		memcpy(n, old, oldbytes);
		cJSON_free(old);
	}
	return n;
}

static uint64_t
hash_ptr(const void *ptr)
{
	uint64_t x = (uint64_t)(uintptr_t)ptr;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
hash_key(const cJSON *parent, const char *key)
{
	/* The key's hash, mixed with the parent pointer. */
	return hash64_seeded(HASH64_BASIS ^ hash_ptr(parent), key,
	    strlen(key));
}

/* ------------------------------------------------------------------ */
/* Node position table */

static int
tab_put(struct jsonc_doc *doc, const cJSON *node, struct jsonc_pos val,
    const struct jsonc_pos *key)
{
	size_t mask, k;

	if ((doc->count + 1) * 2 > doc->cap) {
		size_t ncap = doc->cap ? doc->cap * 2 : 64, j;
		struct node_pos *nt;

		if (ncap > SIZE_MAX / sizeof(*nt))
			return -1;
		nt = cJSON_malloc(ncap * sizeof(*nt));
		if (nt == NULL)
			return -1;
		memset(nt, 0, ncap * sizeof(*nt));
		for (j = 0; j < doc->cap; j++) {
			if (doc->tab[j].node == NULL)
				continue;
			k = hash_ptr(doc->tab[j].node) & (ncap - 1);
			while (nt[k].node != NULL)
				k = (k + 1) & (ncap - 1);
			nt[k] = doc->tab[j];
		}
		cJSON_free(doc->tab);
		doc->tab = nt;
		doc->cap = ncap;
	}
	mask = doc->cap - 1;
	k = hash_ptr(node) & mask;
	while (doc->tab[k].node != NULL && doc->tab[k].node != node)
		k = (k + 1) & mask;
	if (doc->tab[k].node == NULL)
		doc->count++;
	doc->tab[k].node = node;
	doc->tab[k].val = val;
	if (key != NULL) {
		doc->tab[k].key = *key;
		doc->tab[k].has_key = 1;
	} else {
		doc->tab[k].key.line = 0;
		doc->tab[k].key.col = 0;
		doc->tab[k].has_key = 0;
	}
	return 0;
}

static const struct node_pos *
tab_get(const struct jsonc_doc *doc, const cJSON *node)
{
	size_t mask, k;

	if (doc == NULL || node == NULL || doc->cap == 0)
		return NULL;
	mask = doc->cap - 1;
	k = hash_ptr(node) & mask;
	while (doc->tab[k].node != NULL) {
		if (doc->tab[k].node == node)
			return &doc->tab[k];
		k = (k + 1) & mask;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Duplicate-key set, alive during the parse only */

static const cJSON *
keys_find(const struct parser *p, const cJSON *parent, const char *key,
    uint64_t h)
{
	size_t mask, k;

	if (p->kcap == 0)
		return NULL;
	mask = p->kcap - 1;
	k = h & mask;
	while (p->keys[k].parent != NULL) {
		if (p->keys[k].parent == parent && p->keys[k].hash == h &&
		    strcmp(p->keys[k].item->string, key) == 0)
			return p->keys[k].item;
		k = (k + 1) & mask;
	}
	return NULL;
}

static int
keys_add(struct parser *p, const cJSON *parent, const cJSON *item, uint64_t h)
{
	size_t k;

	if ((p->kcount + 1) * 2 > p->kcap) {
		size_t ncap = p->kcap ? p->kcap * 2 : 64, j;
		struct key_ent *nk;

		if (ncap > SIZE_MAX / sizeof(*nk))
			return -1;
		nk = cJSON_malloc(ncap * sizeof(*nk));
		if (nk == NULL)
			return -1;
		memset(nk, 0, ncap * sizeof(*nk));
		for (j = 0; j < p->kcap; j++) {
			if (p->keys[j].parent == NULL)
				continue;
			k = p->keys[j].hash & (ncap - 1);
			while (nk[k].parent != NULL)
				k = (k + 1) & (ncap - 1);
			nk[k] = p->keys[j];
		}
		cJSON_free(p->keys);
		p->keys = nk;
		p->kcap = ncap;
	}
	k = h & (p->kcap - 1);
	while (p->keys[k].parent != NULL)
		k = (k + 1) & (p->kcap - 1);
	p->keys[k].parent = parent;
	p->keys[k].item = item;
	p->keys[k].hash = h;
	p->kcount++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Scratch buffer, used as a stack: a key stays put while its value's
 * strings are decoded after it. Offsets, not pointers, survive growth. */

int
jsonc_buf_put(struct parser *p, const void *data, size_t n)
{
	if (n > p->bcap - p->blen) {
		size_t ncap = p->bcap ? p->bcap : 256;
		char *nb;

		while (ncap - p->blen < n) {
			if (ncap > SIZE_MAX / 2) {
				jsonc_oom(p);
				return -1;
			}
			ncap *= 2;
		}
		nb = grow(p->buf, p->blen, ncap);
		if (nb == NULL) {
			jsonc_oom(p);
			return -1;
		}
		p->buf = nb;
		p->bcap = ncap;
	}
	memcpy(p->buf + p->blen, data, n);
	p->blen += n;
	return 0;
}

static cJSON *parse_value(struct parser *p, int depth);

/*
 * After '[' or '{' (at p->i): steps over it and any space. Returns 1 when
 * the container closes at once (empty), 0 when an element follows, -1 on
 * error.
 */
static int
open_container(struct parser *p, char close)
{
	p->i++;
	if (jsonc_skip_ws(p) != 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		return 1;
	}
	return 0;
}

/*
 * After an element of an array or object: 1 when the container closes
 * here, 0 when a comma leads to the next element, -1 on error (a missing
 * comma, or a trailing one before the close).
 */
static int
next_element(struct parser *p, char close, const char *element)
{
	size_t comma;

	if (jsonc_skip_ws(p) != 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		return 1;
	}
	if (p->i >= p->len || p->s[p->i] != ',') {
		jsonc_fail_at(p, p->i, "expected ',' or '%c' after %s", close,
		    element);
		return -1;
	}
	comma = p->i++;
	if (jsonc_skip_ws(p) != 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == close) {
		jsonc_fail_at(p, comma, "trailing comma before '%c'", close);
		return -1;
	}
	return 0;
}

static cJSON *
parse_array(struct parser *p, int depth)
{
	cJSON *arr = cJSON_CreateArray(), *item;
	struct jsonc_pos vpos;
	int r;

	if (arr == NULL) {
		jsonc_oom(p);
		return NULL;
	}
	if ((r = open_container(p, ']')) != 0)
		goto done;
	do {
		vpos = cur_pos(p);
		item = parse_value(p, depth + 1);
		if (item == NULL)
			goto fail;
		cJSON_AddItemToArray(arr, item);
		if (tab_put(p->doc, item, vpos, NULL) != 0) {
			jsonc_oom(p);
			goto fail;
		}
	} while ((r = next_element(p, ']', "array element")) == 0);
done:
	if (r == 1)
		return arr;
fail:
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *
parse_object(struct parser *p, int depth)
{
	cJSON *obj = cJSON_CreateObject(), *item;
	struct jsonc_pos vpos, kpos;
	size_t koff, kstart;
	const char *key;
	char what[48], qk[104];
	uint64_t h;
	int r;

	if (obj == NULL) {
		jsonc_oom(p);
		return NULL;
	}
	if ((r = open_container(p, '}')) != 0)
		goto done;
	do {
		if (p->i >= p->len || p->s[p->i] != '"') {
			if (p->i < p->len && p->s[p->i] == '\'')
				jsonc_fail_at(p, p->i, "single quotes are not "
				    "allowed; object keys need '\"'");
			else if (p->i < p->len && jsonc_is_word_char(p->s[p->i]))
				jsonc_fail_at(p, p->i, "object key must be a "
				    "double-quoted string");
			else {
				jsonc_describe(p, p->i, what, sizeof(what));
				jsonc_fail_at(p, p->i, "expected '\"' to begin "
				    "object key, got %s", what);
			}
			goto fail;
		}
		kstart = p->i;
		kpos = cur_pos(p);
		if (jsonc_parse_string(p, &koff) != 0)
			goto fail;
		key = p->buf + koff;
		h = hash_key(obj, key);
		if (keys_find(p, obj, key, h) != NULL) {
			jsonc_quote_key(key, qk, sizeof(qk));
			jsonc_fail_at(p, kstart, "duplicate key \"%s\"", qk);
			goto fail;
		}
		if (jsonc_skip_ws(p) != 0)
			goto fail;
		if (p->i >= p->len || p->s[p->i] != ':') {
			jsonc_fail_at(p, p->i, "expected ':' after object key");
			goto fail;
		}
		p->i++;
		if (jsonc_skip_ws(p) != 0)
			goto fail;
		vpos = cur_pos(p);
		item = parse_value(p, depth + 1);
		if (item == NULL)
			goto fail;
		/* The scratch buffer may have moved: recompute the key. */
		key = p->buf + koff;
		if (!cJSON_AddItemToObject(obj, key, item)) {
			cJSON_Delete(item);
			jsonc_oom(p);
			goto fail;
		}
		p->blen = koff;
		if (tab_put(p->doc, item, vpos, &kpos) != 0 ||
		    keys_add(p, obj, item, h) != 0) {
			jsonc_oom(p);
			goto fail;
		}
	} while ((r = next_element(p, '}', "object member")) == 0);
done:
	if (r == 1)
		return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

/* Parses the value at p->i (whitespace already skipped). */
static cJSON *
parse_value(struct parser *p, int depth)
{
	char what[48];
	unsigned char c;
	size_t off;
	cJSON *item;

	if (p->i >= p->len) {
		jsonc_fail_at(p, p->i, "unexpected end of input, expected a value");
		return NULL;
	}
	c = p->s[p->i];
	switch (c) {
	case '{':
	case '[':
		if (depth >= JSONC_MAX_DEPTH) {
			jsonc_fail_at(p, p->i, "nesting deeper than %d levels",
			    JSONC_MAX_DEPTH);
			return NULL;
		}
		return c == '{' ? parse_object(p, depth) :
		    parse_array(p, depth);
	case '"':
		if (jsonc_parse_string(p, &off) != 0)
			return NULL;
		item = cJSON_CreateString(p->buf + off);
		p->blen = off;
		if (item == NULL)
			jsonc_oom(p);
		return item;
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return jsonc_parse_number(p);
	case '\'':
		jsonc_fail_at(p, p->i, "single quotes are not allowed; strings "
		    "need '\"'");
		return NULL;
	case '+':
		jsonc_fail_at(p, p->i, "unexpected character '+' (a number has no "
		    "'+' sign)");
		return NULL;
	case '.':
		jsonc_fail_at(p, p->i, "unexpected character '.' (a number must "
		    "start with a digit)");
		return NULL;
	default:
		if (jsonc_is_word_char(c))
			return jsonc_parse_word(p);
		jsonc_describe(p, p->i, what, sizeof(what));
		if (c >= 0x80 && utf8_seq_len((const char *)p->s + p->i,
		    p->len - p->i) == 0)
			jsonc_fail_at(p, p->i, "%s", what);
		else
			jsonc_fail_at(p, p->i, "unexpected %s, expected a value",
			    what);
		return NULL;
	}
}

struct jsonc_doc *
jsonc_parse(const char *text, size_t len, struct jsonc_error *err)
{
	struct jsonc_error dummy;
	struct parser p;
	struct jsonc_doc *doc;
	struct jsonc_pos rpos;
	char what[48];

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	memset(&p, 0, sizeof(p));
	if (text == NULL)
		len = 0;
	/* A UTF-8 byte order mark is skipped; columns count after it. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	p.s = (const unsigned char *)text;
	p.len = len;
	p.line = 1;
	p.err = err;

	doc = cJSON_malloc(sizeof(*doc));
	if (doc == NULL) {
		jsonc_oom(&p);
		return NULL;
	}
	memset(doc, 0, sizeof(*doc));
	p.doc = doc;

	if (jsonc_skip_ws(&p) != 0)
		goto fail;
	if (p.i >= p.len) {
		jsonc_fail_at(&p, p.i, "empty document");
		goto fail;
	}
	rpos = cur_pos(&p);
	doc->root = parse_value(&p, 0);
	if (doc->root == NULL)
		goto fail;
	if (tab_put(doc, doc->root, rpos, NULL) != 0) {
		jsonc_oom(&p);
		goto fail;
	}
	if (jsonc_skip_ws(&p) != 0)
		goto fail;
	if (p.i < p.len) {
		jsonc_describe(&p, p.i, what, sizeof(what));
		jsonc_fail_at(&p, p.i, "unexpected %s after the root value "
		    "(expected end of input)", what);
		goto fail;
	}
	cJSON_free(p.keys);
	cJSON_free(p.buf);
	return doc;
fail:
	if (!p.failed)
		jsonc_oom(&p);
	cJSON_free(p.keys);
	cJSON_free(p.buf);
	jsonc_free(doc);
	return NULL;
}

const cJSON *
jsonc_root(const struct jsonc_doc *doc)
{
	return doc != NULL ? doc->root : NULL;
}

int
jsonc_pos(const struct jsonc_doc *doc, const cJSON *node,
    struct jsonc_pos *pos)
{
	const struct node_pos *e = tab_get(doc, node);

	if (e == NULL) {
		if (pos != NULL)
			pos->line = pos->col = 0;
		return -1;
	}
	if (pos != NULL)
		*pos = e->val;
	return 0;
}

int
jsonc_key_pos(const struct jsonc_doc *doc, const cJSON *node,
    struct jsonc_pos *pos)
{
	const struct node_pos *e = tab_get(doc, node);

	if (e == NULL || !e->has_key) {
		if (pos != NULL)
			pos->line = pos->col = 0;
		return -1;
	}
	if (pos != NULL)
		*pos = e->key;
	return 0;
}

void
jsonc_free(struct jsonc_doc *doc)
{
	if (doc == NULL)
		return;
	cJSON_Delete(doc->root);
	cJSON_free(doc->tab);
	cJSON_free(doc);
}

double
jsonc_number(const cJSON *o, const char *key, double dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(x) ? x->valuedouble : dflt;
}

const char *
jsonc_string(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(x) ? x->valuestring : dflt;
}

const char *
jsonc_type_name(const cJSON *n)
{
	if (n == NULL)
		return "nothing";
	if (cJSON_IsObject(n))
		return "an object";
	if (cJSON_IsArray(n))
		return "an array";
	if (cJSON_IsString(n))
		return "a string";
	if (cJSON_IsNumber(n))
		return "a number";
	if (cJSON_IsBool(n))
		return "a boolean";
	if (cJSON_IsNull(n))
		return "null";
	return "an unknown value";
}
