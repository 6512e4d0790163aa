#include "base/jsonw.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/numfmt.h"

void
jsonw_init(struct jsonw *w, struct sbuf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* s as a JSON string: quotes, and escapes for quote, backslash, controls. */
static void
string(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	sbuf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sbuf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		sbuf_add(b, esc, n);
	}
	sbuf_add(b, run, (size_t)(s - run));
	sbuf_add(b, "\"", 1);
}

/* The comma before an item, and its key. */
static void
item(struct jsonw *w, const char *key)
{
	if (w->more[w->depth])
		sbuf_add(w->b, ",", 1);
	w->more[w->depth] = true;
	if (key != NULL) {
		string(w->b, key);
		sbuf_add(w->b, ":", 1);
	}
}

static void
open_(struct jsonw *w, const char *key, char open, char close)
{
	item(w, key);
	if (w->depth == JSONW_DEPTH) {
		w->b->failed = true;
		return;
	}
	sbuf_add(w->b, &open, 1);
	w->depth++;
	w->more[w->depth] = false;
	w->close[w->depth] = close;
}

void
jsonw_obj(struct jsonw *w, const char *key)
{
	open_(w, key, '{', '}');
}

void
jsonw_arr(struct jsonw *w, const char *key)
{
	open_(w, key, '[', ']');
}

void
jsonw_end(struct jsonw *w)
{
	if (w->depth == 0) {
		w->b->failed = true;
		return;
	}
	sbuf_add(w->b, &w->close[w->depth], 1);
	w->depth--;
}

void
jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	item(w, key);
	string(w->b, s != NULL ? s : "");
}

void
jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	char buf[NUMFMT_MAX];
	size_t n = numfmt_int(v, buf);

	item(w, key);
	sbuf_add(w->b, buf, n);
}

void
jsonw_num(struct jsonw *w, const char *key, double v)
{
	char buf[NUMFMT_MAX];
	double r;
	size_t n;

	if (!isfinite(v)) {
		jsonw_null(w, key);
		return;
	}
	/* Whole numbers and milliseconds, the common cases: exact, fast. */
	n = numfmt_exact(v, buf);
	if (n == 0) {
		/*
		 * cJSON's rule, to the letter: 15 digits when they read back
		 * within an epsilon, else 17. Every other answer is printed
		 * by cJSON, and the same value must read the same in /status
		 * and in /deploys.
		 */
		n = (size_t)snprintf(buf, sizeof(buf), "%.15g", v);
		r = strtod(buf, NULL);
		if (fabs(r - v) > fmax(fabs(r), fabs(v)) * DBL_EPSILON)
			n = (size_t)snprintf(buf, sizeof(buf), "%.17g", v);
	}
	item(w, key);
	sbuf_add(w->b, buf, n);
}

void
jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	item(w, key);
	if (v)
		sbuf_add(w->b, "true", 4);
	else
		sbuf_add(w->b, "false", 5);
}

void
jsonw_null(struct jsonw *w, const char *key)
{
	item(w, key);
	sbuf_add(w->b, "null", 4);
}

void
jsonw_time(struct jsonw *w, const char *key, int64_t ms)
{
	char buf[40];

	clock_iso(ms, buf, sizeof(buf));
	jsonw_str(w, key, buf);
}

void
jsonw_tree(struct jsonw *w, const char *key, const struct cJSON *t)
{
	char *s = t != NULL ? cJSON_PrintUnformatted(t) : NULL;

	item(w, key);
	if (s == NULL) {
		if (t != NULL)
			w->b->failed = true;
		sbuf_add(w->b, "null", 4);
		return;
	}
	sbuf_puts(w->b, s);
	cJSON_free(s);
}

char *
jsonw_take(struct cJSON *o)
{
	char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}
