/*
 * The slow-statement normaliser (pg_norm): no byte of a literal may reach
 * its output. The input drives a generator of statements that are lexed
 * the intended way under one standard_conforming_strings setting: names,
 * operators, comments, parameters, quoted identifiers, and literals of
 * every form whose contents (the fuzzer's bytes, quotes and backslashes
 * included) carry a marker. The marker must be absent from the output
 * under that setting and under PG_SCS_EITHER. The raw input is also
 * normalised as it is, in every mode, for the sanitizers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/pg_norm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARK	"Sekrit"	/* in every string literal */
#define NMARK	"31415926"	/* in every number */
#define QMAX	8192

struct gen {
	const uint8_t *d;
	size_t n, i;
	char q[QMAX];
	size_t len;
	bool full;		/* once a piece did not fit, none goes in */
	bool off;		/* standard_conforming_strings = off */
};

static unsigned
take(struct gen *g)
{
	return g->i < g->n ? g->d[g->i++] : 0;
}

static void
put(struct gen *g, const char *s)
{
	size_t l = strlen(s);

	/* So the statement is always a prefix of the intended one. */
	if (g->full || g->len + l >= QMAX - 1) {
		g->full = true;
		return;
	}
	memcpy(g->q + g->len, s, l);
	g->len += l;
	g->q[g->len] = '\0';
}

static void
put_char(struct gen *g, char c)
{
	char s[2] = { c, '\0' };

	put(g, s);
}

/*
 * A string body from the input with the marker in it, escaped for a
 * literal read with (bs) or without backslash escapes; '' always doubles.
 */
static void
body(struct gen *g, bool bs)
{
	unsigned n = take(g) % 24, at = n / 2;

	for (unsigned k = 0; k <= n; k++) {
		char c;

		if (k == at)
			put(g, MARK);
		if (k == n)
			break;
		c = (char)take(g);
		if (c == '\0')
			c = ' ';
		if (c == '\'')
			put(g, bs && (take(g) & 1) ? "\\'" : "''");
		else if (c == '\\' && bs)
			put(g, (take(g) & 1) ? "\\\\" : "\\n");
		else
			put_char(g, c);
	}
}

static void
bits(struct gen *g, bool hex)
{
	unsigned n = 1 + take(g) % 12;

	for (unsigned k = 0; k < n; k++)
		put_char(g, hex ? "0123456789abcdefABCDEF"[take(g) % 22] :
		    (char)('0' + (take(g) & 1)));
}

/* $tag$ body $tag$, the body changed until the tag first closes at its end. */
static void
dollar(struct gen *g)
{
	static const char *const tags[] = { "$$", "$a$", "$fn$", "$\xc3\xa9$",
	    "$_1$" };
	const char *tag = tags[take(g) % 5];
	size_t tl = strlen(tag), start = g->len;
	char *found;

	put(g, tag);
	body(g, false);
	put(g, tag);
	if (g->full)
		return;
	while ((found = strstr(g->q + start + tl, tag)) != NULL &&
	    (size_t)(found - g->q) != g->len - tl)
		*found = 'x';
}

/* A string literal of some form, maybe continued on the next line. */
static void
literal(struct gen *g)
{
	unsigned f = take(g) % 7;
	bool bs = false, dbl = true;

	switch (f) {
	case 0:
		put(g, "'");
		bs = g->off;
		break;
	case 1:
		put(g, (take(g) & 1) ? "E'" : "e'");
		bs = true;
		break;
	case 2:
		put(g, "N'");
		bs = g->off;
		break;
	case 3:
		if (g->off) {	/* U&'' is an error with the setting off */
			put(g, "'\\\\");
			bs = true;
		} else {
			put(g, (take(g) & 1) ? "U&'" : "u&'");
		}
		break;
	case 4:
		put(g, "B'");
		dbl = false;
		break;
	case 5:
		put(g, "X'");
		dbl = false;
		break;
	default:
		dollar(g);
		return;
	}
	for (unsigned part = 0; part < 3; part++) {
		if (part > 0) {
			if (!(take(g) & 1))
				break;
			put(g, (take(g) & 1) ? "\n'" : " -- more\n\t'");
		}
		if (dbl)
			body(g, bs);
		else
			bits(g, f == 5);
		put(g, "'");
	}
}

static void
number(struct gen *g)
{
	static const char *const forms[] = { NMARK, NMARK ".25", NMARK "e+7",
	    "0x" NMARK, "." NMARK, NMARK "_1" };

	put(g, forms[take(g) % 6]);
}

static void
token(struct gen *g)
{
	static const char *const code[] = { "SELECT", "CALL", "FROM", "WHERE",
	    "AS", "t1", "col_2", "a$b", "date", "e", "E", "x", "U", "N", "b",
	    "$1", "$12", "(", ")", "=", "::text", ";", "*", "\"it's\"",
	    "\"a\"\"b'c\"", "U&\"d\\0061t\"", "/* a /* 'b */ c' */",
	    "-- it's\nnext", "\"Weird\\\"" };
	unsigned t = take(g) % 8;

	if (t < 4)
		put(g, code[take(g) % (sizeof(code) / sizeof(code[0]))]);
	else if (t < 7)
		literal(g);
	else
		number(g);
	put(g, (take(g) & 1) ? " " : ", ");
}

static void
check(const char *q, enum pg_scs scs)
{
	static char out[QMAX + 8];

	pg_normalize_query(q, scs, QMAX, out, sizeof(out));
	if (strstr(out, MARK) != NULL || strstr(out, NMARK) != NULL) {
		fprintf(stderr, "literal leaked (mode %d):\n%s\n->\n%s\n",
		    (int)scs, q, out);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen *g = calloc(1, sizeof(*g));
	char *raw, small[16];

	if (g == NULL)
		return 0;
	g->d = data;
	g->n = size;
	g->off = take(g) & 1;
	while (g->i < g->n && !g->full)
		token(g);
	check(g->q, g->off ? PG_SCS_OFF : PG_SCS_ON);
	check(g->q, PG_SCS_EITHER);
	free(g);

	/* Whatever the bytes, the output stays in its buffer. */
	raw = malloc(size + 1);
	if (raw == NULL)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';
	for (int m = PG_SCS_ON; m <= PG_SCS_EITHER; m++) {
		char *big = malloc(size + 8);

		if (big != NULL)
			pg_normalize_query(raw, (enum pg_scs)m, size + 4, big,
			    size + 8);
		free(big);
		pg_normalize_query(raw, (enum pg_scs)m, 120, small,
		    sizeof(small));
	}
	free(raw);
	return 0;
}
