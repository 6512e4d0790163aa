/*
 * The lexer follows PostgreSQL's own (src/backend/parser/scan.l) where it
 * decides where a literal ends: string continuation across a newline,
 * E'' and (standard_conforming_strings off) '' with backslash escapes,
 * U&'' and B''/X'' without, dollar quotes, numbers. Where the setting is
 * not known two lexers run side by side and a byte is shown only if
 * neither reads it as part of a literal: masking "until the later of the
 * two ends" would not do, since after a wrong end the rest is misread.
 */
#include "probe/pg_norm.h"

#include <stdbool.h>
#include <string.h>

enum tok {
	TK_CODE,	/* keywords, identifiers, operators, parameters */
	TK_SPACE,
	TK_COMMENT,
	TK_LITERAL,
};

struct lexer {
	const char *s;
	size_t len;
	size_t end;		/* of the current token */
	enum tok kind;
	bool backslash;		/* plain '' strings take backslash escapes */
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (unsigned char)c >= 0x80;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident_cont(char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * After a closing quote: whitespace holding a newline (and "--" comments,
 * scan.l's whitespace_with_newline) then a quote continues the same literal ('a'\n'b' is 'ab'), in the same
 * escaping mode. Returns the position of that quote, or 0.
 */
static size_t
continuation(const struct lexer *lx, size_t p)
{
	const char *s = lx->s;
	bool nl = false;

	/* scan.l's horiz_whitespace: blanks and "--" comments. */
	for (;;) {
		if (p < lx->len && (s[p] == ' ' || s[p] == '\t' ||
		    s[p] == '\f'))
			p++;
		else if (p + 1 < lx->len && s[p] == '-' && s[p + 1] == '-')
			while (p < lx->len && s[p] != '\n' && s[p] != '\r')
				p++;
		else
			break;
	}
	if (p < lx->len && (s[p] == '\n' || s[p] == '\r'))
		nl = true;
	if (!nl)
		return 0;
	while (p < lx->len) {
		if (is_space(s[p])) {
			p++;
		} else if (s[p] == '-' && p + 1 < lx->len && s[p + 1] == '-') {
			while (p < lx->len && s[p] != '\n' && s[p] != '\r')
				p++;
			if (p == lx->len)
				return 0;	/* a comment must end in a newline */
		} else {
			break;
		}
	}
	return p < lx->len && s[p] == '\'' ? p : 0;
}

/*
 * A quoted string from its opening quote at p: backslash escapes the
 * next byte if bs; '' is a quote if doubling (not in B''/X''). Returns
 * the end, past the closing quote and any continuation; an unterminated
 * string (a text cut short) runs to the end.
 */
static size_t
scan_string(const struct lexer *lx, size_t p, bool bs, bool doubling)
{
	const char *s = lx->s;

	for (;;) {
		size_t q;

		p++;
		while (p < lx->len) {
			if (bs && s[p] == '\\') {
				p += p + 1 < lx->len ? 2 : 1;
				continue;
			}
			if (s[p] == '\'') {
				if (doubling && p + 1 < lx->len &&
				    s[p + 1] == '\'') {
					p += 2;
					continue;
				}
				break;
			}
			p++;
		}
		if (p >= lx->len)
			return lx->len;
		p++;		/* the closing quote */
		q = continuation(lx, p);
		if (q == 0)
			return p;
		p = q;
	}
}

/* A dollar-quote tag at p ("$$", "$tag$"): its length, or 0 if none. */
static size_t
dollar_tag(const struct lexer *lx, size_t p)
{
	const char *s = lx->s;
	size_t n = 1;

	if (p + 1 < lx->len && is_ident_start(s[p + 1])) {
		n++;
		while (p + n < lx->len && (is_ident_start(s[p + n]) ||
		    is_digit(s[p + n])))
			n++;
	}
	return p + n < lx->len && s[p + n] == '$' ? n + 1 : 0;
}

/* 42, 1.5e-3, .5, 0x1F, 1_000 from p (a digit, or "." and a digit). */
static size_t
scan_number(const struct lexer *lx, size_t p)
{
	const char *s = lx->s;
	size_t len = lx->len;

	if (s[p] == '0' && p + 2 < len && strchr("xXoObB", s[p + 1]) != NULL &&
	    (is_hex(s[p + 2]) || s[p + 2] == '_')) {
		p += 2;
		while (p < len && (is_hex(s[p]) || s[p] == '_'))
			p++;
		return p;
	}
	while (p < len && (is_digit(s[p]) || s[p] == '_'))
		p++;
	if (p < len && s[p] == '.' && !(p + 1 < len && s[p + 1] == '.')) {
		p++;
		while (p < len && (is_digit(s[p]) || s[p] == '_'))
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		size_t q = p + 1;

		if (q < len && (s[q] == '+' || s[q] == '-'))
			q++;
		if (q < len && is_digit(s[q])) {
			while (q < len && is_digit(s[q]))
				q++;
			p = q;
		}
	}
	return p;
}

/* The token starting at p; sets lx->end and lx->kind. */
static void
lex_at(struct lexer *lx, size_t p)
{
	const char *s = lx->s;
	size_t len = lx->len;
	char c = s[p];
	size_t tag;

	lx->kind = TK_CODE;
	if (is_space(c)) {
		while (p < len && is_space(s[p]))
			p++;
		lx->kind = TK_SPACE;
	} else if (c == '-' && p + 1 < len && s[p + 1] == '-') {
		while (p < len && s[p] != '\n' && s[p] != '\r')
			p++;
		lx->kind = TK_COMMENT;
	} else if (c == '/' && p + 1 < len && s[p + 1] == '*') {
		int depth = 0;

		/* PostgreSQL's block comments nest. */
		while (p < len) {
			if (s[p] == '/' && p + 1 < len && s[p + 1] == '*') {
				depth++;
				p += 2;
			} else if (s[p] == '*' && p + 1 < len &&
			    s[p + 1] == '/') {
				p += 2;
				if (--depth == 0)
					break;
			} else {
				p++;
			}
		}
		lx->kind = TK_COMMENT;
	} else if (is_ident_start(c)) {
		bool one = p + 1 < len && s[p + 1] == '\'';

		/* The prefixes of E'', N'', B'', X'' and U&'' strings. */
		lx->kind = TK_LITERAL;
		if (one && (c == 'e' || c == 'E')) {
			p = scan_string(lx, p + 1, true, true);
		} else if (one && (c == 'n' || c == 'N')) {
			p = scan_string(lx, p + 1, lx->backslash, true);
		} else if (one && strchr("bBxX", c) != NULL) {
			p = scan_string(lx, p + 1, false, false);
		} else if ((c == 'u' || c == 'U') && p + 2 < len &&
		    s[p + 1] == '&' && s[p + 2] == '\'') {
			/* No backslash escape of a quote (and an error when
			 * standard_conforming_strings is off). */
			p = scan_string(lx, p + 2, false, true);
		} else {
			while (p < len && is_ident_cont(s[p]))
				p++;
			lx->kind = TK_CODE;
		}
	} else if (c == '\'') {
		p = scan_string(lx, p, lx->backslash, true);
		lx->kind = TK_LITERAL;
	} else if (c == '"') {
		/* A quoted identifier is code; "" is a quote inside it. */
		for (p++; p < len; p++)
			if (s[p] == '"') {
				if (p + 1 < len && s[p + 1] == '"')
					p++;
				else
					break;
			}
		p = p < len ? p + 1 : len;
	} else if (c == '$' && p + 1 < len && is_digit(s[p + 1])) {
		for (p++; p < len && is_digit(s[p]); p++)
			;
	} else if (c == '$' && (tag = dollar_tag(lx, p)) > 0) {
		const char *close = NULL;

		for (size_t t = p + tag; t + tag <= len; t++)
			if (memcmp(s + t, s + p, tag) == 0) {
				close = s + t;
				break;
			}
		p = close != NULL ? (size_t)(close - s) + tag : len;
		lx->kind = TK_LITERAL;
	} else if (is_digit(c) || (c == '.' && p + 1 < len &&
	    is_digit(s[p + 1]))) {
		p = scan_number(lx, p);
		lx->kind = TK_LITERAL;
	} else {
		p++;
	}
	lx->end = p;
}

struct qbuf {
	char *out;
	size_t n, cap;		/* cap: bytes of text allowed */
	bool full;
};

static void
qput(struct qbuf *b, char c)
{
	if (b->n >= b->cap) {
		b->full = true;
		return;
	}
	b->out[b->n++] = c;
}

/* A byte is code only if both readings say so; a literal wins over all. */
static enum tok
combine(enum tok a, enum tok b)
{
	if (a == TK_LITERAL || b == TK_LITERAL)
		return TK_LITERAL;
	if (a == TK_COMMENT || b == TK_COMMENT)
		return TK_COMMENT;
	if (a == TK_SPACE || b == TK_SPACE)
		return TK_SPACE;
	return TK_CODE;
}

void
pg_normalize_query(const char *in, enum pg_scs scs, size_t maxlen, char *out,
    size_t outlen)
{
	struct qbuf b = { out, 0, 0, false };
	struct lexer a = { in, strlen(in), 0, TK_CODE, scs == PG_SCS_OFF };
	struct lexer z = { in, a.len, 0, TK_CODE, scs != PG_SCS_ON };
	enum tok prev = TK_SPACE;
	bool space = false;
	size_t p = 0;

	if (outlen < 4) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	/* Room for "..." is kept, so a cut text can always say so. */
	b.cap = outlen - 4 < maxlen ? outlen - 4 : maxlen;
	if (a.len > 0) {
		lex_at(&a, 0);
		lex_at(&z, 0);
	}
	while (p < a.len && !b.full) {
		size_t e = a.end < z.end ? a.end : z.end;
		enum tok k = combine(a.kind, z.kind);

		if (k == TK_SPACE || k == TK_COMMENT) {
			space = true;
		} else if (k == TK_LITERAL && prev == TK_LITERAL) {
			/* The same literal, cut where the other reading's
			 * tokens end. */
		} else {
			if (space && b.n > 0)
				qput(&b, ' ');
			space = false;
			if (k == TK_LITERAL)
				qput(&b, '?');
			else
				for (size_t i = p; i < e; i++)
					qput(&b, in[i]);
		}
		prev = k;
		p = e;
		if (a.end == p && p < a.len)
			lex_at(&a, p);
		if (z.end == p && p < z.len)
			lex_at(&z, p);
	}
	if (b.full) {
		/* Cut on a UTF-8 boundary, then say it was cut. */
		while (b.n > 0 && ((unsigned char)out[b.n - 1] & 0xC0) == 0x80)
			b.n--;
		if (b.n > 0 && (unsigned char)out[b.n - 1] >= 0xC0)
			b.n--;
		memcpy(out + b.n, "...", 3);
		b.n += 3;
	}
	out[b.n] = '\0';
}
