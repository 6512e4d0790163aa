/*
 * jsonc_lex: the tokens of JSON with comments -- whitespace and comments
 * (keeping line tracking current), strings with their escapes and UTF-8
 * checks, numbers, the words true/false/null -- for jsonc.c's parser.
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

/* ------------------------------------------------------------------ */
/* Lexing helpers */

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
void
jsonc_describe(const struct parser *p, size_t off, char *out, size_t outlen)
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
	else if ((n = utf8_seq_len((const char *)(p->s + off),
	    p->len - off)) != 0)
		snprintf(out, outlen, "character U+%04lX",
		    utf8_decode(p->s + off, n));
	else
		snprintf(out, outlen, "invalid UTF-8 byte 0x%02X", c);
}

/* Skips whitespace and comments, keeping line tracking current. */
int
jsonc_skip_ws(struct parser *p)
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
					n = utf8_seq_len((const char *)(s +
					    p->i), p->len - p->i);
					if (n == 0) {
						jsonc_fail_at(p, p->i,
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
						jsonc_fail_at(p, start,
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
					n = utf8_seq_len((const char *)(s +
					    p->i), p->len - p->i);
					if (n == 0) {
						jsonc_fail_at(p, p->i,
						    "invalid UTF-8 byte 0x%02X",
						    s[p->i]);
						return -1;
					}
					p->i += n;
				}
			} else {
				jsonc_fail_at(p, p->i, "unexpected character '/' "
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
	return jsonc_buf_put(p, u, n);
}

/*
 * Decodes the string at p->i (a '"') onto the scratch stack, NUL-terminated;
 * *off receives its offset in p->buf.
 */
int
jsonc_parse_string(struct parser *p, size_t *off)
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
		if (p->i > run && jsonc_buf_put(p, s + run, p->i - run) != 0)
			return -1;
		if (p->i >= p->len) {
			jsonc_fail_at(p, start, "unterminated string");
			return -1;
		}
		c = s[p->i];
		if (c == '"') {
			p->i++;
			return jsonc_buf_put(p, "", 1);
		}
		if (c == '\n' || c == '\r') {
			/* A raw line break: almost always a missing '"'. */
			jsonc_fail_at(p, start, "unterminated string");
			return -1;
		}
		if (c < 0x20) {
			jsonc_fail_at(p, p->i, "control character 0x%02X in string "
			    "(must be escaped)", c);
			return -1;
		}
		if (c >= 0x80) {
			size_t n = utf8_seq_len((const char *)(s + p->i),
			    p->len - p->i);

			if (n == 0) {
				jsonc_fail_at(p, p->i, "invalid UTF-8 byte 0x%02X",
				    c);
				return -1;
			}
			if (jsonc_buf_put(p, s + p->i, n) != 0)
				return -1;
			p->i += n;
			continue;
		}
		/* Backslash. */
		if (p->i + 1 >= p->len) {
			jsonc_fail_at(p, start, "unterminated string");
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
				jsonc_fail_at(p, p->i, "invalid \\u escape "
				    "(expected 4 hex digits)");
				return -1;
			}
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				jsonc_fail_at(p, p->i, "lone surrogate \\u%04lX "
				    "(low surrogate without a high one)", cp);
				return -1;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p->len - p->i < 12 || s[p->i + 6] != '\\' ||
				    s[p->i + 7] != 'u' ||
				    hex4(s + p->i + 8, &lo) != 0 ||
				    lo < 0xDC00 || lo > 0xDFFF) {
					jsonc_fail_at(p, p->i, "lone surrogate "
					    "\\u%04lX (high surrogate not "
					    "followed by a low one)", cp);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
				p->i += 6;
			} else if (cp == 0) {
				jsonc_fail_at(p, p->i, "\\u0000 is not allowed in "
				    "strings");
				return -1;
			}
			if (put_utf8(p, cp) != 0)
				return -1;
			p->i += 6;
			continue;
		default:
			if (c > 0x20 && c < 0x7F)
				jsonc_fail_at(p, p->i, "invalid escape '\\%c'", c);
			else
				jsonc_fail_at(p, p->i, "invalid escape: byte 0x%02X "
				    "after '\\'", c);
			return -1;
		}
		if (jsonc_buf_put(p, &c, 1) != 0)
			return -1;
		p->i += 2;
	}
}

static int
is_digit(const struct parser *p, size_t off)
{
	return off < p->len && p->s[off] >= '0' && p->s[off] <= '9';
}

cJSON *
jsonc_parse_number(struct parser *p)
{
	size_t start = p->i, mark;
	char *end;
	double d;
	cJSON *item;

	if (p->s[p->i] == '-')
		p->i++;
	if (!is_digit(p, p->i)) {
		if (p->i < p->len && p->s[p->i] == 'I')
			jsonc_fail_at(p, start, "NaN and Infinity are not valid "
			    "JSON numbers");
		else
			jsonc_fail_at(p, p->i, "expected digit after '-'");
		return NULL;
	}
	if (p->s[p->i] == '0') {
		p->i++;
		if (is_digit(p, p->i)) {
			jsonc_fail_at(p, start, "leading zeros are not allowed in "
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
			jsonc_fail_at(p, p->i, "expected digit after '.' in number");
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
			jsonc_fail_at(p, p->i, "expected digit in exponent");
			return NULL;
		}
		while (is_digit(p, p->i))
			p->i++;
	}
	/* strtod needs a NUL-terminated copy; the text need not be. */
	mark = p->blen;
	if (jsonc_buf_put(p, p->s + start, p->i - start) != 0 ||
	    jsonc_buf_put(p, "", 1) != 0)
		return NULL;
	errno = 0;
	d = strtod(p->buf + mark, &end);
	if (end != p->buf + p->blen - 1) {
		p->blen = mark;
		jsonc_fail_at(p, start, "invalid number");
		return NULL;
	}
	p->blen = mark;
	if (isinf(d)) {
		jsonc_fail_at(p, start, "number out of range");
		return NULL;
	}
	item = cJSON_CreateNumber(d);
	if (item == NULL)
		jsonc_oom(p);
	return item;
}

int
jsonc_is_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$';
}

cJSON *
jsonc_parse_word(struct parser *p)
{
	size_t start = p->i, n;
	const char *w = (const char *)p->s + start;
	cJSON *item;

	while (p->i < p->len && jsonc_is_word_char(p->s[p->i]))
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
			jsonc_fail_at(p, start, "NaN and Infinity are not valid "
			    "JSON numbers");
		else
			jsonc_fail_at(p, start, "invalid literal '%.*s' (expected "
			    "true, false, null, a number or a \"string\")",
			    n > 32 ? 32 : (int)n, w);
		return NULL;
	}
	if (item == NULL)
		jsonc_oom(p);
	return item;
}

/* Quotes a decoded key for a message: bounded, control bytes as '?'. */
void
jsonc_quote_key(const char *key, char *out, size_t outlen)
{
	size_t k = 0, max = outlen - 4, n;

	while (*key != '\0' && k < max) {
		unsigned char c = (unsigned char)*key;

		n = utf8_seq_len(key, 4);
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
