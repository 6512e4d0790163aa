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

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

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

/* ------------------------------------------------------------------ */
/* Errors */

static void
oom(struct parser *p)
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

__attribute__((format(printf, 3, 4)))
static void
fail_at(struct parser *p, size_t off, const char *fmt, ...)
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

static int
buf_put(struct parser *p, const void *data, size_t n)
{
	if (n > p->bcap - p->blen) {
		size_t ncap = p->bcap ? p->bcap : 256;
		char *nb;

		while (ncap - p->blen < n) {
			if (ncap > SIZE_MAX / 2) {
				oom(p);
				return -1;
			}
			ncap *= 2;
		}
		nb = grow(p->buf, p->blen, ncap);
		if (nb == NULL) {
			oom(p);
			return -1;
		}
		p->buf = nb;
		p->bcap = ncap;
	}
	memcpy(p->buf + p->blen, data, n);
	p->blen += n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lexing helpers */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, k;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* past U+10FFFF */
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xBF)
			return 0;
	return len;
}

static unsigned long
utf8_decode(const unsigned char *s, size_t len)
{
	unsigned long cp;
	size_t k;

	if (len == 1)
		return s[0];
	cp = s[0] & (0xFF >> (len + 1));
	for (k = 1; k < len; k++)
		cp = (cp << 6) | (s[k] & 0x3F);
	return cp;
}

/* Describes the byte at off for an error message ("'x'", "end of input"). */
static void
describe(const struct parser *p, size_t off, char *out, size_t outlen)
{
	unsigned char c;
	size_t n;

	if (off >= p->len) {
		snprintf(out, outlen, "end of input");
		return;
	}
	c = p->s[off];
	if (c >= 0x20 && c < 0x7F)
		snprintf(out, outlen, "character '%c'", c);
	else if (c < 0x80)
		snprintf(out, outlen, "control character 0x%02X", c);
	else if ((n = utf8_len(p->s + off, p->len - off)) != 0)
		snprintf(out, outlen, "character U+%04lX",
		    utf8_decode(p->s + off, n));
	else
		snprintf(out, outlen, "invalid UTF-8 byte 0x%02X", c);
}

/* Skips whitespace and comments, keeping line tracking current. */
static int
skip_ws(struct parser *p)
{
	const unsigned char *s = p->s;
	size_t n;

	while (p->i < p->len) {
		switch (s[p->i]) {
		case ' ':
		case '\t':
		case '\r':
			p->i++;
			break;
		case '\n':
			p->i++;
			p->line++;
			p->line_start = p->i;
			break;
		case '/':
			if (p->i + 1 < p->len && s[p->i + 1] == '/') {
				p->i += 2;
				while (p->i < p->len && s[p->i] != '\n') {
					n = utf8_len(s + p->i, p->len - p->i);
					if (n == 0) {
						fail_at(p, p->i,
						    "invalid UTF-8 byte 0x%02X",
						    s[p->i]);
						return -1;
					}
					p->i += n;
				}
			} else if (p->i + 1 < p->len && s[p->i + 1] == '*') {
				size_t start = p->i;

				p->i += 2;
				for (;;) {
					if (p->i >= p->len) {
						fail_at(p, start,
						    "unterminated comment");
						return -1;
					}
					if (s[p->i] == '*' &&
					    p->i + 1 < p->len &&
					    s[p->i + 1] == '/') {
						p->i += 2;
						break;
					}
					if (s[p->i] == '\n') {
						p->i++;
						p->line++;
						p->line_start = p->i;
						continue;
					}
					n = utf8_len(s + p->i, p->len - p->i);
					if (n == 0) {
						fail_at(p, p->i,
						    "invalid UTF-8 byte 0x%02X",
						    s[p->i]);
						return -1;
					}
					p->i += n;
				}
			} else {
				fail_at(p, p->i, "unexpected character '/' "
				    "(comments start with // or /*)");
				return -1;
			}
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static int
hex4(const unsigned char *s, unsigned long *out)
{
	unsigned long v = 0;
	int k;

	for (k = 0; k < 4; k++) {
		unsigned char c = s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
put_utf8(struct parser *p, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_put(p, u, n);
}

/*
 * Decodes the string at p->i (a '"') onto the scratch stack, NUL-terminated;
 * *off receives its offset in p->buf.
 */
static int
parse_string(struct parser *p, size_t *off)
{
	const unsigned char *s = p->s;
	size_t start = p->i, run;
	unsigned long cp, lo;

	*off = p->blen;
	p->i++;
	for (;;) {
		unsigned char c;

		/* Copy plain ASCII runs in one go. */
		run = p->i;
		while (p->i < p->len && s[p->i] >= 0x20 && s[p->i] < 0x80 &&
		    s[p->i] != '"' && s[p->i] != '\\')
			p->i++;
		if (p->i > run && buf_put(p, s + run, p->i - run) != 0)
			return -1;
		if (p->i >= p->len) {
			fail_at(p, start, "unterminated string");
			return -1;
		}
		c = s[p->i];
		if (c == '"') {
			p->i++;
			return buf_put(p, "", 1);
		}
		if (c == '\n' || c == '\r') {
			/* A raw line break: almost always a missing '"'. */
			fail_at(p, start, "unterminated string");
			return -1;
		}
		if (c < 0x20) {
			fail_at(p, p->i, "control character 0x%02X in string "
			    "(must be escaped)", c);
			return -1;
		}
		if (c >= 0x80) {
			size_t n = utf8_len(s + p->i, p->len - p->i);

			if (n == 0) {
				fail_at(p, p->i, "invalid UTF-8 byte 0x%02X",
				    c);
				return -1;
			}
			if (buf_put(p, s + p->i, n) != 0)
				return -1;
			p->i += n;
			continue;
		}
		/* Backslash. */
		if (p->i + 1 >= p->len) {
			fail_at(p, start, "unterminated string");
			return -1;
		}
		c = s[p->i + 1];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (p->len - p->i < 6 || hex4(s + p->i + 2, &cp) != 0) {
				fail_at(p, p->i, "invalid \\u escape "
				    "(expected 4 hex digits)");
				return -1;
			}
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				fail_at(p, p->i, "lone surrogate \\u%04lX "
				    "(low surrogate without a high one)", cp);
				return -1;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p->len - p->i < 12 || s[p->i + 6] != '\\' ||
				    s[p->i + 7] != 'u' ||
				    hex4(s + p->i + 8, &lo) != 0 ||
				    lo < 0xDC00 || lo > 0xDFFF) {
					fail_at(p, p->i, "lone surrogate "
					    "\\u%04lX (high surrogate not "
					    "followed by a low one)", cp);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
				p->i += 6;
			} else if (cp == 0) {
				fail_at(p, p->i, "\\u0000 is not allowed in "
				    "strings");
				return -1;
			}
			if (put_utf8(p, cp) != 0)
				return -1;
			p->i += 6;
			continue;
		default:
			if (c > 0x20 && c < 0x7F)
				fail_at(p, p->i, "invalid escape '\\%c'", c);
			else
				fail_at(p, p->i, "invalid escape: byte 0x%02X "
				    "after '\\'", c);
			return -1;
		}
		if (buf_put(p, &c, 1) != 0)
			return -1;
		p->i += 2;
	}
}

static int
is_digit(const struct parser *p, size_t off)
{
	return off < p->len && p->s[off] >= '0' && p->s[off] <= '9';
}

static cJSON *
parse_number(struct parser *p)
{
	size_t start = p->i, mark;
	char *end;
	double d;
	cJSON *item;

	if (p->s[p->i] == '-')
		p->i++;
	if (!is_digit(p, p->i)) {
		if (p->i < p->len && p->s[p->i] == 'I')
			fail_at(p, start, "NaN and Infinity are not valid "
			    "JSON numbers");
		else
			fail_at(p, p->i, "expected digit after '-'");
		return NULL;
	}
	if (p->s[p->i] == '0') {
		p->i++;
		if (is_digit(p, p->i)) {
			fail_at(p, start, "leading zeros are not allowed in "
			    "numbers");
			return NULL;
		}
	} else {
		while (is_digit(p, p->i))
			p->i++;
	}
	if (p->i < p->len && p->s[p->i] == '.') {
		p->i++;
		if (!is_digit(p, p->i)) {
			fail_at(p, p->i, "expected digit after '.' in number");
			return NULL;
		}
		while (is_digit(p, p->i))
			p->i++;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!is_digit(p, p->i)) {
			fail_at(p, p->i, "expected digit in exponent");
			return NULL;
		}
		while (is_digit(p, p->i))
			p->i++;
	}
	/* strtod needs a NUL-terminated copy; the text need not be. */
	mark = p->blen;
	if (buf_put(p, p->s + start, p->i - start) != 0 ||
	    buf_put(p, "", 1) != 0)
		return NULL;
	errno = 0;
	d = strtod(p->buf + mark, &end);
	if (end != p->buf + p->blen - 1) {
		p->blen = mark;
		fail_at(p, start, "invalid number");
		return NULL;
	}
	p->blen = mark;
	if (isinf(d)) {
		fail_at(p, start, "number out of range");
		return NULL;
	}
	item = cJSON_CreateNumber(d);
	if (item == NULL)
		oom(p);
	return item;
}

static int
is_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static cJSON *
parse_word(struct parser *p)
{
	size_t start = p->i, n;
	const char *w = (const char *)p->s + start;
	cJSON *item;

	while (p->i < p->len && is_word_char(p->s[p->i]))
		p->i++;
	n = p->i - start;
	if (n == 4 && memcmp(w, "true", 4) == 0)
		item = cJSON_CreateTrue();
	else if (n == 5 && memcmp(w, "false", 5) == 0)
		item = cJSON_CreateFalse();
	else if (n == 4 && memcmp(w, "null", 4) == 0)
		item = cJSON_CreateNull();
	else {
		if ((n == 3 && memcmp(w, "NaN", 3) == 0) ||
		    (n == 8 && memcmp(w, "Infinity", 8) == 0))
			fail_at(p, start, "NaN and Infinity are not valid "
			    "JSON numbers");
		else
			fail_at(p, start, "invalid literal '%.*s' (expected "
			    "true, false, null, a number or a \"string\")",
			    n > 32 ? 32 : (int)n, w);
		return NULL;
	}
	if (item == NULL)
		oom(p);
	return item;
}

/* Quotes a decoded key for a message: bounded, control bytes as '?'. */
static void
quote_key(const char *key, char *out, size_t outlen)
{
	size_t k = 0, max = outlen - 4, n;

	while (*key != '\0' && k < max) {
		unsigned char c = (unsigned char)*key;

		n = utf8_len((const unsigned char *)key, 4);
		if (c >= 0x80 && n > 1) {
			/* Decoded keys are valid UTF-8; keep whole chars. */
			if (k + n > max)
				break;
			memcpy(out + k, key, n);
			k += n;
			key += n;
			continue;
		}
		out[k++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
		key++;
	}
	if (*key != '\0') {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
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
	if (skip_ws(p) != 0)
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

	if (skip_ws(p) != 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		return 1;
	}
	if (p->i >= p->len || p->s[p->i] != ',') {
		fail_at(p, p->i, "expected ',' or '%c' after %s", close,
		    element);
		return -1;
	}
	comma = p->i++;
	if (skip_ws(p) != 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == close) {
		fail_at(p, comma, "trailing comma before '%c'", close);
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
		oom(p);
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
			oom(p);
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
		oom(p);
		return NULL;
	}
	if ((r = open_container(p, '}')) != 0)
		goto done;
	do {
		if (p->i >= p->len || p->s[p->i] != '"') {
			if (p->i < p->len && p->s[p->i] == '\'')
				fail_at(p, p->i, "single quotes are not "
				    "allowed; object keys need '\"'");
			else if (p->i < p->len && is_word_char(p->s[p->i]))
				fail_at(p, p->i, "object key must be a "
				    "double-quoted string");
			else {
				describe(p, p->i, what, sizeof(what));
				fail_at(p, p->i, "expected '\"' to begin "
				    "object key, got %s", what);
			}
			goto fail;
		}
		kstart = p->i;
		kpos = cur_pos(p);
		if (parse_string(p, &koff) != 0)
			goto fail;
		key = p->buf + koff;
		h = hash_key(obj, key);
		if (keys_find(p, obj, key, h) != NULL) {
			quote_key(key, qk, sizeof(qk));
			fail_at(p, kstart, "duplicate key \"%s\"", qk);
			goto fail;
		}
		if (skip_ws(p) != 0)
			goto fail;
		if (p->i >= p->len || p->s[p->i] != ':') {
			fail_at(p, p->i, "expected ':' after object key");
			goto fail;
		}
		p->i++;
		if (skip_ws(p) != 0)
			goto fail;
		vpos = cur_pos(p);
		item = parse_value(p, depth + 1);
		if (item == NULL)
			goto fail;
		/* The scratch buffer may have moved: recompute the key. */
		key = p->buf + koff;
		if (!cJSON_AddItemToObject(obj, key, item)) {
			cJSON_Delete(item);
			oom(p);
			goto fail;
		}
		p->blen = koff;
		if (tab_put(p->doc, item, vpos, &kpos) != 0 ||
		    keys_add(p, obj, item, h) != 0) {
			oom(p);
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
		fail_at(p, p->i, "unexpected end of input, expected a value");
		return NULL;
	}
	c = p->s[p->i];
	switch (c) {
	case '{':
	case '[':
		if (depth >= JSONC_MAX_DEPTH) {
			fail_at(p, p->i, "nesting deeper than %d levels",
			    JSONC_MAX_DEPTH);
			return NULL;
		}
		return c == '{' ? parse_object(p, depth) :
		    parse_array(p, depth);
	case '"':
		if (parse_string(p, &off) != 0)
			return NULL;
		item = cJSON_CreateString(p->buf + off);
		p->blen = off;
		if (item == NULL)
			oom(p);
		return item;
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(p);
	case '\'':
		fail_at(p, p->i, "single quotes are not allowed; strings "
		    "need '\"'");
		return NULL;
	case '+':
		fail_at(p, p->i, "unexpected character '+' (a number has no "
		    "'+' sign)");
		return NULL;
	case '.':
		fail_at(p, p->i, "unexpected character '.' (a number must "
		    "start with a digit)");
		return NULL;
	default:
		if (is_word_char(c))
			return parse_word(p);
		describe(p, p->i, what, sizeof(what));
		if (c >= 0x80 && utf8_len(p->s + p->i, p->len - p->i) == 0)
			fail_at(p, p->i, "%s", what);
		else
			fail_at(p, p->i, "unexpected %s, expected a value",
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
		oom(&p);
		return NULL;
	}
	memset(doc, 0, sizeof(*doc));
	p.doc = doc;

	if (skip_ws(&p) != 0)
		goto fail;
	if (p.i >= p.len) {
		fail_at(&p, p.i, "empty document");
		goto fail;
	}
	rpos = cur_pos(&p);
	doc->root = parse_value(&p, 0);
	if (doc->root == NULL)
		goto fail;
	if (tab_put(doc, doc->root, rpos, NULL) != 0) {
		oom(&p);
		goto fail;
	}
	if (skip_ws(&p) != 0)
		goto fail;
	if (p.i < p.len) {
		describe(&p, p.i, what, sizeof(what));
		fail_at(&p, p.i, "unexpected %s after the root value "
		    "(expected end of input)", what);
		goto fail;
	}
	cJSON_free(p.keys);
	cJSON_free(p.buf);
	return doc;
fail:
	if (!p.failed)
		oom(&p);
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
