/*
 * jsonpath: RFC 9535 JSONPath over cJSON trees.
 *
 * A recursive-descent parser builds a small tree (query -> segments ->
 * selectors, filters as expression trees) checked for RFC 9535's
 * well-typedness at parse time, so evaluation never meets a malformed
 * query (jsonpath_eval.c walks it).
 */
#include "base/jsonpath.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonpath_int.h"

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	int nest;
	const char *why;	/* first error wins */
	size_t err_at;
};

static void query_free(struct query *q);
static void expr_free(struct expr *e);
static struct query *parse_query(struct parser *p, bool absolute);
static struct expr *parse_or(struct parser *p);

static void *
fail(struct parser *p, size_t at, const char *why)
{
	if (p->why == NULL) {
		p->why = why;
		p->err_at = at;
	}
	return NULL;
}

static int
peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static void
skip_blank(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Decodes one UTF-8 scalar value at s[0..n); its length, or 0 if the
 * bytes are not one (overlong forms and surrogates included).
 */
static size_t
utf8_one(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, k;
	uint32_t c;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[k] & 0x3F);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* Grows a decoded string by the bytes b[0..n); false when out of memory. */
static bool
str_add(char **buf, size_t *len, size_t *cap, const char *b, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*cap == 0 ? 16 : *cap * 2) + n;
		char *nb = realloc(*buf, ncap);

		if (nb == NULL)
			return false;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, b, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

static size_t
utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int
hex4(const struct parser *p, size_t at, uint32_t *v)
{
	*v = 0;
	if (at + 4 > p->len)
		return -1;
	for (size_t k = at; k < at + 4; k++) {
		char c = p->s[k];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* A string literal at p->pos ('...' or "..."), decoded into *out. */
static int
parse_string(struct parser *p, char **out, size_t *out_len)
{
	char quote = p->s[p->pos];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	size_t start = p->pos;

	if (!str_add(&buf, &len, &cap, "", 0))
		return fail(p, p->pos, "out of memory"), -1;
	p->pos++;
	for (;;) {
		const unsigned char *u = (const unsigned char *)p->s + p->pos;
		char enc[4];
		uint32_t cp;
		size_t n;

		if (p->pos >= p->len) {
			free(buf);
			return fail(p, start, "string not closed"), -1;
		}
		if (*u == (unsigned char)quote) {
			p->pos++;
			break;
		}
		if (*u < 0x20) {
			free(buf);
			return fail(p, p->pos, "control character in a string "
			    "(escape it)"), -1;
		}
		if (*u != '\\') {
			n = utf8_one(u, p->len - p->pos, &cp);
			if (n == 0) {
				free(buf);
				return fail(p, p->pos, "not UTF-8"), -1;
			}
			if (!str_add(&buf, &len, &cap, (const char *)u, n))
				goto oom;
			p->pos += n;
			continue;
		}
		switch (p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0') {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case '/': cp = '/'; break;
		case '\\': cp = '\\'; break;
		case '\'':
		case '"':
			/* Only the enclosing quote may be escaped. */
			if (p->s[p->pos + 1] != quote)
				goto bad_escape;
			cp = (uint32_t)quote;
			break;
		case 'u':
			if (hex4(p, p->pos + 2, &cp) != 0)
				goto bad_escape;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				goto bad_escape;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;

				if (p->pos + 7 >= p->len ||
				    p->s[p->pos + 6] != '\\' ||
				    p->s[p->pos + 7] != 'u' ||
				    hex4(p, p->pos + 8, &lo) != 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					goto bad_escape;
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
				p->pos += 6;
			}
			p->pos += 4;
			break;
		default:
			goto bad_escape;
		}
		p->pos += 2;
		n = utf8_put(cp, enc);
		if (!str_add(&buf, &len, &cap, enc, n))
			goto oom;
	}
	*out = buf;
	*out_len = len;
	return 0;
bad_escape:
	free(buf);
	return fail(p, p->pos, "bad escape in a string"), -1;
oom:
	free(buf);
	return fail(p, p->pos, "out of memory"), -1;
}

/* An int as RFC 9535 writes it: "0" or -?[1-9][0-9]*, within I-JSON. */
static int
parse_int(struct parser *p, int64_t *out)
{
	size_t start = p->pos;
	bool neg = false;
	int64_t v = 0;

	if (peek(p) == '-') {
		neg = true;
		p->pos++;
	}
	if (!is_digit(peek(p)))
		return fail(p, p->pos, "expected an integer"), -1;
	if (peek(p) == '0') {
		p->pos++;
		if (neg)
			return fail(p, start, "-0 is not an index"), -1;
		if (is_digit(peek(p)))
			return fail(p, start, "leading zero in an integer"),
			    -1;
		*out = 0;
		return 0;
	}
	while (is_digit(peek(p))) {
		if (v > IJSON_MAX / 10 + 1)
			v = IJSON_MAX + 1;	/* saturates, reported below */
		else
			v = v * 10 + (peek(p) - '0');
		p->pos++;
	}
	if (v > IJSON_MAX)
		return fail(p, start, "integer out of range (at most "
		    "2^53-1 either way)"), -1;
	*out = neg ? -v : v;
	return 0;
}

static bool
at_int(const struct parser *p)
{
	return is_digit(peek(p)) || peek(p) == '-';
}

/* [start:end:step], p->pos after start (if any), at the first ':'. */
static int
parse_slice(struct parser *p, struct sel *s)
{
	s->kind = SEL_SLICE;
	s->step = 1;
	p->pos++;		/* ':' */
	skip_blank(p);
	if (at_int(p)) {
		if (parse_int(p, &s->end) != 0)
			return -1;
		s->has_end = true;
		skip_blank(p);
	}
	if (peek(p) == ':') {
		p->pos++;
		skip_blank(p);
		if (at_int(p) && parse_int(p, &s->step) != 0)
			return -1;
	}
	return 0;
}

static int
parse_selector(struct parser *p, struct sel *s)
{
	int c = peek(p);

	if (c == '\'' || c == '"') {
		s->kind = SEL_NAME;
		return parse_string(p, &s->name, &s->name_len);
	}
	if (c == '*') {
		s->kind = SEL_WILD;
		p->pos++;
		return 0;
	}
	if (c == '?') {
		size_t at = p->pos;

		if (++p->nest > JSONPATH_MAX_NEST)
			return fail(p, at, "filters nested too deeply"), -1;
		p->pos++;
		s->kind = SEL_FILTER;
		s->filter = parse_or(p);
		p->nest--;
		return s->filter != NULL ? 0 : -1;
	}
	if (c == ':')
		return parse_slice(p, s);
	if (at_int(p)) {
		size_t save;

		if (parse_int(p, &s->index) != 0)
			return -1;
		save = p->pos;
		skip_blank(p);
		if (peek(p) == ':') {
			s->start = s->index;
			s->has_start = true;
			return parse_slice(p, s);
		}
		p->pos = save;
		s->kind = SEL_INDEX;
		return 0;
	}
	return fail(p, p->pos, "expected a selector: a name in quotes, an "
	    "index, a slice, * or a ?filter"), -1;
}

static void
sel_clear(struct sel *s)
{
	free(s->name);
	expr_free(s->filter);
}

/* "[" S selector *(S "," S selector) S "]", p->pos at '['. */
static int
parse_bracketed(struct parser *p, struct seg *g)
{
	p->pos++;
	for (;;) {
		struct sel *ns;

		skip_blank(p);
		ns = realloc(g->sel, (g->nsel + 1) * sizeof(*ns));
		if (ns == NULL)
			return fail(p, p->pos, "out of memory"), -1;
		g->sel = ns;
		memset(&g->sel[g->nsel], 0, sizeof(*ns));
		g->nsel++;
		if (parse_selector(p, &g->sel[g->nsel - 1]) != 0)
			return -1;
		skip_blank(p);
		if (peek(p) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p) != ',')
			return fail(p, p->pos, "expected , or ] after a "
			    "selector"), -1;
		p->pos++;
	}
}

/* member-name-shorthand: (ALPHA / "_" / non-ASCII) *(... / DIGIT). */
static int
parse_shorthand(struct parser *p, struct seg *g)
{
	size_t start = p->pos;
	struct sel *s;

	for (;;) {
		int c = peek(p);
		uint32_t cp;
		size_t n;

		if (c == '_' || is_alpha(c) || (is_digit(c) &&
		    p->pos > start)) {
			p->pos++;
			continue;
		}
		if (c < 0x80)
			break;
		n = utf8_one((const unsigned char *)p->s + p->pos,
		    p->len - p->pos, &cp);
		if (n == 0)
			return fail(p, p->pos, "not UTF-8"), -1;
		p->pos += n;
	}
	if (p->pos == start)
		return fail(p, start, "expected a member name or * after ."),
		    -1;
	g->sel = calloc(1, sizeof(*g->sel));
	if (g->sel == NULL)
		return fail(p, start, "out of memory"), -1;
	g->nsel = 1;
	s = &g->sel[0];
	s->kind = SEL_NAME;
	s->name_len = p->pos - start;
	s->name = strndup(p->s + start, s->name_len);
	if (s->name == NULL)
		return fail(p, start, "out of memory"), -1;
	return 0;
}

/* One segment at p->pos ('.' or '['). */
static int
parse_segment(struct parser *p, struct seg *g)
{
	if (peek(p) == '[')
		return parse_bracketed(p, g);
	p->pos++;		/* '.' */
	if (peek(p) == '.') {
		p->pos++;
		g->descendant = true;
		if (peek(p) == '[')
			return parse_bracketed(p, g);
	}
	if (peek(p) == '*') {
		p->pos++;
		g->sel = calloc(1, sizeof(*g->sel));
		if (g->sel == NULL)
			return fail(p, p->pos, "out of memory"), -1;
		g->nsel = 1;
		g->sel[0].kind = SEL_WILD;
		return 0;
	}
	return parse_shorthand(p, g);
}

static bool
seg_singular(const struct seg *g)
{
	return !g->descendant && g->nsel == 1 &&
	    (g->sel[0].kind == SEL_NAME || g->sel[0].kind == SEL_INDEX);
}

/* The segments after "$" or "@" (already read). */
static struct query *
parse_query(struct parser *p, bool absolute)
{
	struct query *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return fail(p, p->pos, "out of memory");
	q->absolute = absolute;
	q->singular = true;
	for (;;) {
		size_t save = p->pos;
		struct seg *ng;

		/* Blanks belong to the query only when a segment follows. */
		skip_blank(p);
		if (peek(p) != '.' && peek(p) != '[') {
			p->pos = save;
			return q;
		}
		ng = realloc(q->seg, (q->nseg + 1) * sizeof(*ng));
		if (ng == NULL) {
			query_free(q);
			return fail(p, p->pos, "out of memory");
		}
		q->seg = ng;
		memset(&q->seg[q->nseg], 0, sizeof(*ng));
		q->nseg++;
		if (parse_segment(p, &q->seg[q->nseg - 1]) != 0) {
			query_free(q);
			return NULL;
		}
		if (!seg_singular(&q->seg[q->nseg - 1]))
			q->singular = false;
	}
}

static struct expr *
expr_new(struct parser *p, enum expr_kind kind)
{
	struct expr *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return fail(p, p->pos, "out of memory");
	e->kind = kind;
	return e;
}

/* number = (int / "-0") [ frac ] [ exp ], as a literal. */
static struct expr *
parse_number(struct parser *p)
{
	size_t start = p->pos;
	char buf[64];
	struct expr *e;
	double v;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
		if (is_digit(peek(p)))
			return fail(p, start, "leading zero in a number");
	} else if (is_digit(peek(p))) {
		while (is_digit(peek(p)))
			p->pos++;
	} else {
		return fail(p, p->pos, "expected a digit");
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, p->pos, "expected a digit after .");
		while (is_digit(peek(p)))
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, p->pos, "expected a digit in the "
			    "exponent");
		while (is_digit(peek(p)))
			p->pos++;
	}
	if (p->pos - start >= sizeof(buf))
		return fail(p, start, "number too long");
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = '\0';
	v = strtod(buf, NULL);
	if (!isfinite(v))
		return fail(p, start, "number out of range");
	e = expr_new(p, EX_LIT);
	if (e == NULL)
		return NULL;
	e->lit = cJSON_CreateNumber(v);
	if (e->lit == NULL) {
		free(e);
		return fail(p, start, "out of memory");
	}
	return e;
}

static bool
is_comparable(const struct expr *e)
{
	return e->kind == EX_LIT || e->kind == EX_LENGTH ||
	    e->kind == EX_COUNT || (e->kind == EX_QUERY && e->q->singular);
}

static struct expr *parse_operand(struct parser *p);

/* name "(" S args S ")", p->pos at '(' and the name in s[start..pos). */
static struct expr *
parse_function(struct parser *p, size_t start)
{
	size_t n = p->pos - start, argat;
	enum expr_kind kind;
	struct expr *e, *arg;

	if (n == 6 && memcmp(p->s + start, "length", 6) == 0)
		kind = EX_LENGTH;
	else if (n == 5 && memcmp(p->s + start, "count", 5) == 0)
		kind = EX_COUNT;
	else if ((n == 5 && (memcmp(p->s + start, "match", 5) == 0 ||
	    memcmp(p->s + start, "value", 5) == 0)) ||
	    (n == 6 && memcmp(p->s + start, "search", 6) == 0))
		return fail(p, start, "function not supported here "
		    "(only length() and count())");
	else
		return fail(p, start, "unknown function (there are "
		    "length() and count())");
	if (++p->nest > JSONPATH_MAX_NEST)
		return fail(p, start, "functions nested too deeply");
	p->pos++;
	skip_blank(p);
	argat = p->pos;
	arg = parse_operand(p);
	p->nest--;
	if (arg == NULL)
		return NULL;
	if (kind == EX_LENGTH && !is_comparable(arg)) {
		expr_free(arg);
		return fail(p, argat, "length() takes one value: a literal, "
		    "a singular query or a function's value");
	}
	if (kind == EX_COUNT && arg->kind != EX_QUERY) {
		expr_free(arg);
		return fail(p, argat, "count() takes a query");
	}
	skip_blank(p);
	if (peek(p) != ')') {
		expr_free(arg);
		return fail(p, p->pos, peek(p) == ',' ? "too many arguments" :
		    "expected ) after the function's argument");
	}
	p->pos++;
	e = expr_new(p, kind);
	if (e == NULL) {
		expr_free(arg);
		return NULL;
	}
	e->a = arg;
	return e;
}

/* A literal, a query or a function call. */
static struct expr *
parse_operand(struct parser *p)
{
	int c = peek(p);
	size_t start = p->pos;
	struct expr *e;

	if (c == '@' || c == '$') {
		p->pos++;
		e = expr_new(p, EX_QUERY);
		if (e == NULL)
			return NULL;
		e->q = parse_query(p, c == '$');
		if (e->q == NULL) {
			free(e);
			return NULL;
		}
		return e;
	}
	if (c == '\'' || c == '"') {
		char *str;
		size_t len;

		if (parse_string(p, &str, &len) != 0)
			return NULL;
		e = expr_new(p, EX_LIT);
		if (e != NULL)
			e->lit = cJSON_CreateString(str);
		free(str);
		if (e != NULL && e->lit == NULL) {
			free(e);
			return fail(p, start, "out of memory");
		}
		return e;
	}
	if (c == '-' || is_digit(c))
		return parse_number(p);
	while ((peek(p) >= 'a' && peek(p) <= 'z') || peek(p) == '_' ||
	    (p->pos > start && is_digit(peek(p))))
		p->pos++;
	if (p->pos > start && peek(p) == '(')
		return parse_function(p, start);
	if (p->pos > start && !is_alpha(peek(p)) && !is_digit(peek(p))) {
		size_t n = p->pos - start;
		cJSON *lit = NULL;

		if (n == 4 && memcmp(p->s + start, "true", 4) == 0)
			lit = cJSON_CreateTrue();
		else if (n == 5 && memcmp(p->s + start, "false", 5) == 0)
			lit = cJSON_CreateFalse();
		else if (n == 4 && memcmp(p->s + start, "null", 4) == 0)
			lit = cJSON_CreateNull();
		else
			return fail(p, start, "expected @, $, a literal or a "
			    "function");
		if (lit == NULL)
			return fail(p, start, "out of memory");
		e = expr_new(p, EX_LIT);
		if (e == NULL) {
			cJSON_Delete(lit);
			return NULL;
		}
		e->lit = lit;
		return e;
	}
	return fail(p, start, "expected @, $, a literal or a function");
}

static int
parse_cmp_op(struct parser *p, enum cmp_op *op)
{
	const char *s = p->s + p->pos;
	size_t left = p->len - p->pos;

	if (left >= 2 && s[1] == '=') {
		switch (s[0]) {
		case '=': *op = OP_EQ; break;
		case '!': *op = OP_NE; break;
		case '<': *op = OP_LE; break;
		case '>': *op = OP_GE; break;
		default: return -1;
		}
		p->pos += 2;
		return 0;
	}
	if (left >= 1 && (s[0] == '<' || s[0] == '>')) {
		*op = s[0] == '<' ? OP_LT : OP_GT;
		p->pos++;
		return 0;
	}
	return -1;
}

static struct expr *
make_not(struct parser *p, struct expr *a)
{
	struct expr *e = expr_new(p, EX_NOT);

	if (e == NULL) {
		expr_free(a);
		return NULL;
	}
	e->a = a;
	return e;
}

/* An operand used as a test: a query (existence), never a value. */
static struct expr *
as_test(struct parser *p, struct expr *e, size_t at)
{
	struct expr *t;

	if (e->kind == EX_LIT) {
		expr_free(e);
		return fail(p, at, "a literal alone is not a test (compare "
		    "it)");
	}
	if (e->kind != EX_QUERY) {
		expr_free(e);
		return fail(p, at, "a function's value alone is not a test "
		    "(compare it)");
	}
	t = expr_new(p, EX_EXISTS);
	if (t == NULL) {
		expr_free(e);
		return NULL;
	}
	t->a = e;
	return t;
}

static struct expr *
parse_paren(struct parser *p)
{
	size_t at = p->pos;
	struct expr *e;

	if (++p->nest > JSONPATH_MAX_NEST)
		return fail(p, at, "parentheses nested too deeply");
	p->pos++;
	e = parse_or(p);
	p->nest--;
	if (e == NULL)
		return NULL;
	skip_blank(p);
	if (peek(p) != ')') {
		expr_free(e);
		return fail(p, p->pos, "expected )");
	}
	p->pos++;
	return e;
}

/* paren-expr / comparison-expr / test-expr */
static struct expr *
parse_basic(struct parser *p)
{
	struct expr *a, *b, *e;
	size_t at, save;
	enum cmp_op op;

	skip_blank(p);
	at = p->pos;
	if (peek(p) == '!') {
		p->pos++;
		skip_blank(p);
		if (peek(p) == '(') {
			a = parse_paren(p);
		} else {
			at = p->pos;
			a = parse_operand(p);
			if (a != NULL)
				a = as_test(p, a, at);
		}
		return a != NULL ? make_not(p, a) : NULL;
	}
	if (peek(p) == '(')
		return parse_paren(p);
	a = parse_operand(p);
	if (a == NULL)
		return NULL;
	save = p->pos;
	skip_blank(p);
	if (parse_cmp_op(p, &op) != 0) {
		p->pos = save;
		return as_test(p, a, at);
	}
	if (!is_comparable(a)) {
		expr_free(a);
		return fail(p, at, "only a singular query (names and "
		    "indexes, no .., * or filters) can be compared");
	}
	skip_blank(p);
	save = p->pos;
	b = parse_operand(p);
	if (b == NULL) {
		expr_free(a);
		return NULL;
	}
	if (!is_comparable(b)) {
		expr_free(a);
		expr_free(b);
		return fail(p, save, "only a singular query (names and "
		    "indexes, no .., * or filters) can be compared");
	}
	e = expr_new(p, EX_CMP);
	if (e == NULL) {
		expr_free(a);
		expr_free(b);
		return NULL;
	}
	e->op = op;
	e->a = a;
	e->b = b;
	return e;
}

/*
 * A left-associative run of one two-character operator ("&&", "||"),
 * each operand read by next.
 */
static struct expr *
parse_chain(struct parser *p, char c, enum expr_kind op,
    struct expr *(*next)(struct parser *))
{
	struct expr *a = next(p);

	while (a != NULL) {
		size_t save = p->pos;
		struct expr *e, *b;

		skip_blank(p);
		if (p->pos + 1 >= p->len || p->s[p->pos] != c ||
		    p->s[p->pos + 1] != c) {
			p->pos = save;
			break;
		}
		p->pos += 2;
		b = next(p);
		if (b == NULL || (e = expr_new(p, op)) == NULL) {
			expr_free(a);
			expr_free(b);
			return NULL;
		}
		e->a = a;
		e->b = b;
		a = e;
	}
	return a;
}

static struct expr *
parse_and(struct parser *p)
{
	return parse_chain(p, '&', EX_AND, parse_basic);
}

static struct expr *
parse_or(struct parser *p)
{
	return parse_chain(p, '|', EX_OR, parse_and);
}

static void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	expr_free(e->a);
	expr_free(e->b);
	cJSON_Delete(e->lit);
	query_free(e->q);
	free(e);
}

static void
query_free(struct query *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->nseg; i++) {
		for (size_t k = 0; k < q->seg[i].nsel; k++)
			sel_clear(&q->seg[i].sel[k]);
		free(q->seg[i].sel);
	}
	free(q->seg);
	free(q);
}

bool
jsonpath_is_query(const char *text)
{
	return text != NULL && text[0] == '$';
}

struct jsonpath *
jsonpath_parse(const char *text, size_t *err_at, const char **why)
{
	struct parser p = { .s = text };
	struct jsonpath *jp;
	struct query *q;

	if (text == NULL) {
		fail(&p, 0, "no query");
		goto out;
	}
	p.len = strnlen(text, JSONPATH_MAX_LEN + 1);
	if (p.len > JSONPATH_MAX_LEN) {
		fail(&p, JSONPATH_MAX_LEN, "query too long");
		goto out;
	}
	if (p.len == 0 || text[0] != '$') {
		fail(&p, 0, "a JSONPath query starts with $");
		goto out;
	}
	p.pos = 1;
	q = parse_query(&p, true);
	if (q == NULL)
		goto out;
	if (p.pos != p.len) {
		query_free(q);
		fail(&p, p.pos, "unexpected character (a segment starts "
		    "with . or [)");
		goto out;
	}
	jp = calloc(1, sizeof(*jp));
	if (jp == NULL) {
		query_free(q);
		fail(&p, 0, "out of memory");
		goto out;
	}
	jp->q = q;
	return jp;
out:
	if (err_at != NULL)
		*err_at = p.err_at;
	if (why != NULL)
		*why = p.why;
	return NULL;
}

void
jsonpath_free(struct jsonpath *jp)
{
	if (jp == NULL)
		return;
	query_free(jp->q);
	free(jp);
}
