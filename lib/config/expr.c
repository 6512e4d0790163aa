#include "config/expr.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_NUM, OP_VAR, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MIN,
    OP_MAX };

struct insn {
	enum op op;
	double num;	/* OP_NUM */
	size_t arg;	/* OP_VAR: variable; OP_MIN/OP_MAX: argument count */
};

struct expr {
	struct insn prog[EXPR_MAX_OPS];
	size_t nprog;
	char *vars[EXPR_MAX_VARS];
	size_t var_off[EXPR_MAX_VARS];
	size_t nvars;
};

struct parser {
	const char *s;
	size_t len, i;
	struct expr *e;
	struct expr_error *err;
	bool failed;
};

static void
fail(struct parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	/*
	 * At the end of the text there is no character to point at: the
	 * last one stands for it, so the column is always in the string.
	 */
	if (off >= p->len)
		off = p->len > 0 ? p->len - 1 : 0;
	p->err->off = off;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static void
skip_space(struct parser *p)
{
	while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int
peek(struct parser *p)
{
	skip_space(p);
	return p->i < p->len ? (unsigned char)p->s[p->i] : -1;
}

static void
emit(struct parser *p, size_t at, enum op op, double num, size_t arg)
{
	if (p->failed)
		return;
	if (p->e->nprog == EXPR_MAX_OPS) {
		fail(p, at, "expression too long: more than %d operations",
		    EXPR_MAX_OPS);
		return;
	}
	p->e->prog[p->e->nprog++] = (struct insn){ op, num, arg };
}

static bool
name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static void parse_sum(struct parser *p, unsigned depth);

/* Digits, an optional fraction, an optional exponent: no hex, inf, nan. */
static void
parse_number(struct parser *p)
{
	size_t start = p->i, n;
	char buf[64], *end;
	double x;

	while (p->i < p->len && isdigit((unsigned char)p->s[p->i]))
		p->i++;
	if (p->i < p->len && p->s[p->i] == '.') {
		p->i++;
		while (p->i < p->len && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	}
	if (p->i - start == 1 && p->s[start] == '.') {
		fail(p, start, "expected a digit around '.'");
		return;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		size_t e = p->i++;

		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->len || !isdigit((unsigned char)p->s[p->i])) {
			fail(p, e, "expected digits after the exponent's 'e'");
			return;
		}
		while (p->i < p->len && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	}
	n = p->i - start;
	if (n >= sizeof(buf)) {
		fail(p, start, "number too long");
		return;
	}
	memcpy(buf, p->s + start, n);
	buf[n] = '\0';
	x = strtod(buf, &end);
	if (*end != '\0' || !isfinite(x)) {
		fail(p, start, "number out of range");
		return;
	}
	if (p->i < p->len && name_char((unsigned char)p->s[p->i])) {
		fail(p, p->i, "unexpected '%c' after a number", p->s[p->i]);
		return;
	}
	emit(p, start, OP_NUM, x, 0);
}

static size_t
add_var(struct parser *p, const char *name, size_t n, size_t at)
{
	struct expr *e = p->e;

	for (size_t k = 0; k < e->nvars; k++)
		if (strlen(e->vars[k]) == n && memcmp(e->vars[k], name, n) == 0)
			return k;
	if (e->nvars == EXPR_MAX_VARS) {
		fail(p, at, "more than %d distinct metrics", EXPR_MAX_VARS);
		return 0;
	}
	if ((e->vars[e->nvars] = malloc(n + 1)) == NULL) {
		fail(p, at, "out of memory");
		return 0;
	}
	memcpy(e->vars[e->nvars], name, n);
	e->vars[e->nvars][n] = '\0';
	e->var_off[e->nvars] = at;
	return e->nvars++;
}

/* min(a, b, ...) / max(...), p->i just past the '('. */
static void
parse_call(struct parser *p, enum op op, size_t at, unsigned depth)
{
	size_t nargs = 0;

	for (;;) {
		parse_sum(p, depth + 1);
		if (p->failed)
			return;
		nargs++;
		if (peek(p) == ',') {
			p->i++;
			continue;
		}
		if (peek(p) == ')') {
			p->i++;
			break;
		}
		if (p->i >= p->len)
			fail(p, at, "unclosed '(' of %s(...)",
			    op == OP_MIN ? "min" : "max");
		else
			fail(p, p->i, "expected ',' or ')', not '%c'",
			    p->s[p->i]);
		return;
	}
	emit(p, at, op, 0, nargs);
}

static void
parse_name(struct parser *p, unsigned depth)
{
	size_t start = p->i, dot = 0, n;

	while (p->i < p->len && (name_char((unsigned char)p->s[p->i]) ||
	    p->s[p->i] == '.')) {
		if (p->s[p->i] == '.') {
			if (dot != 0) {
				fail(p, p->i, "a metric name has one '.': "
				    "\"<probe>.<metric>\"");
				return;
			}
			dot = p->i;
		}
		p->i++;
	}
	n = p->i - start;
	if (dot == 0) {
		bool is_min = n == 3 && memcmp(p->s + start, "min", 3) == 0;
		bool is_max = n == 3 && memcmp(p->s + start, "max", 3) == 0;

		if ((is_min || is_max) && peek(p) == '(') {
			p->i++;
			parse_call(p, is_min ? OP_MIN : OP_MAX, start, depth);
			return;
		}
		fail(p, start, "\"%.*s\" is neither a metric "
		    "(\"<probe>.<metric>\") nor min(...) or max(...)",
		    (int)(n > 40 ? 40 : n), p->s + start);
		return;
	}
	if (dot + 1 == p->i || !name_start((unsigned char)p->s[dot + 1])) {
		fail(p, dot + 1 < p->len ? dot + 1 : dot, "expected a metric "
		    "name after '.'");
		return;
	}
	emit(p, start, OP_VAR, 0, add_var(p, p->s + start, n, start));
}

/* A number, a metric, a call, a parenthesised sum, or a negation. */
static void
parse_unary(struct parser *p, unsigned depth)
{
	int c = peek(p);
	size_t at = p->i;

	if (depth >= EXPR_MAX_DEPTH) {
		fail(p, at, "nested deeper than %d", EXPR_MAX_DEPTH);
		return;
	}
	if (c == -1) {
		fail(p, p->len, "expected a value at the end");
	} else if (c == '-') {
		p->i++;
		parse_unary(p, depth + 1);
		emit(p, at, OP_NEG, 0, 0);
	} else if (c == '(') {
		p->i++;
		parse_sum(p, depth + 1);
		if (p->failed)
			return;
		if (peek(p) == ')')
			p->i++;
		else if (p->i >= p->len)
			fail(p, at, "unclosed '('");
		else
			fail(p, p->i, "expected ')', not '%c'", p->s[p->i]);
	} else if (isdigit(c) || c == '.') {
		parse_number(p);
	} else if (name_start(c)) {
		parse_name(p, depth);
	} else if (c >= 0x20 && c < 0x7f) {
		fail(p, at, "expected a value, not '%c'", c);
	} else {
		fail(p, at, "expected a value, not byte 0x%02x", (unsigned)c);
	}
}

static void
parse_product(struct parser *p, unsigned depth)
{
	int c;

	parse_unary(p, depth);
	while (!p->failed && ((c = peek(p)) == '*' || c == '/')) {
		size_t at = p->i++;

		parse_unary(p, depth);
		emit(p, at, c == '*' ? OP_MUL : OP_DIV, 0, 0);
	}
}

static void
parse_sum(struct parser *p, unsigned depth)
{
	int c;

	if (depth >= EXPR_MAX_DEPTH) {
		fail(p, p->i, "nested deeper than %d", EXPR_MAX_DEPTH);
		return;
	}
	parse_product(p, depth);
	while (!p->failed && ((c = peek(p)) == '+' || c == '-')) {
		size_t at = p->i++;

		parse_product(p, depth);
		emit(p, at, c == '+' ? OP_ADD : OP_SUB, 0, 0);
	}
}

struct expr *
expr_parse(const char *s, struct expr_error *err)
{
	struct parser p = { .s = s, .err = err };

	memset(err, 0, sizeof(*err));
	p.len = strnlen(s, EXPR_MAX_LEN + 1);
	if (p.len > EXPR_MAX_LEN) {
		err->off = EXPR_MAX_LEN;
		snprintf(err->msg, sizeof(err->msg), "expression longer than "
		    "%d bytes", EXPR_MAX_LEN);
		return NULL;
	}
	if ((p.e = calloc(1, sizeof(*p.e))) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	if (peek(&p) == -1)
		fail(&p, 0, "empty expression");
	parse_sum(&p, 0);
	if (!p.failed && peek(&p) != -1)
		fail(&p, p.i, "unexpected '%c'%s", p.s[p.i], p.s[p.i] == ')' ?
		    " without its '('" : ": expected an operator");
	if (!p.failed && p.e->nvars == 0)
		fail(&p, 0, "a derived metric needs at least one metric "
		    "(\"<probe>.<metric>\")");
	if (p.failed) {
		expr_free(p.e);
		return NULL;
	}
	return p.e;
}

void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	for (size_t k = 0; k < e->nvars; k++)
		free(e->vars[k]);
	free(e);
}

size_t
expr_nvars(const struct expr *e)
{
	return e->nvars;
}

const char *
expr_var(const struct expr *e, size_t i)
{
	return i < e->nvars ? e->vars[i] : NULL;
}

size_t
expr_var_off(const struct expr *e, size_t i)
{
	return i < e->nvars ? e->var_off[i] : 0;
}

enum expr_status
expr_eval(const struct expr *e, expr_lookup fn, void *arg, double *out,
    size_t *var)
{
	double st[EXPR_MAX_OPS], x;
	size_t sp = 0;

	for (size_t k = 0; k < e->nprog; k++) {
		const struct insn *in = &e->prog[k];

		/* The parser only builds well-formed programs. */
		switch (in->op) {
		case OP_NUM:
			st[sp++] = in->num;
			break;
		case OP_VAR:
			if (!fn(arg, in->arg, &x)) {
				if (var != NULL)
					*var = in->arg;
				return EXPR_UNKNOWN;
			}
			st[sp++] = x;
			break;
		case OP_NEG:
			st[sp - 1] = -st[sp - 1];
			break;
		case OP_ADD:
			sp--;
			st[sp - 1] += st[sp];
			break;
		case OP_SUB:
			sp--;
			st[sp - 1] -= st[sp];
			break;
		case OP_MUL:
			sp--;
			st[sp - 1] *= st[sp];
			break;
		case OP_DIV:
			sp--;
			if (st[sp] == 0)
				return EXPR_DIV_ZERO;
			st[sp - 1] /= st[sp];
			break;
		case OP_MIN:
		case OP_MAX:
			x = st[sp - in->arg];
			for (size_t a = sp - in->arg + 1; a < sp; a++)
				if (in->op == OP_MIN ? st[a] < x : st[a] > x)
					x = st[a];
			sp -= in->arg;
			st[sp++] = x;
			break;
		}
		if (!isfinite(st[sp - 1]))
			return EXPR_NOT_FINITE;
	}
	*out = st[0];
	return EXPR_OK;
}

const char *
expr_status_text(enum expr_status s)
{
	switch (s) {
	case EXPR_OK:
		return "ok";
	case EXPR_UNKNOWN:
		return "an input has no value";
	case EXPR_DIV_ZERO:
		return "division by zero";
	case EXPR_NOT_FINITE:
		return "not a finite number";
	}
	return "?";
}
