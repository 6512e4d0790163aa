#include "base/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

void
sbuf_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Room for n more bytes and the NUL; false (and failed) past the ceiling. */
static bool
reserve(struct sbuf *b, size_t n)
{
	size_t want, cap;
	char *s;

	if (b->failed)
		return false;
	if (n > b->max - b->len) {
		b->failed = true;
		return false;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap == 0 ? 1024 : b->cap;
	while (cap < want)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->failed = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	VIGIL_ASSERT(b->len + n < b->cap && b->len + n <= b->max);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
sbuf_take(struct sbuf *b)
{
	char *s;

	if (b->failed || !reserve(b, 0)) {
		sbuf_free(b);
		return NULL;
	}
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
sbuf_reuse(struct sbuf *b, size_t max, size_t keep)
{
	if (b->cap > keep)
		sbuf_free(b);
	b->len = 0;
	b->max = max;
	b->failed = false;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
sbuf_free(struct sbuf *b)
{
	if (b == NULL)
		return;
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

size_t
sbuf_write(struct sbuf *b, const char *data, size_t n, bool *too_big)
{
	sbuf_add(b, data, n);
	if (!b->failed)
		return n;
	/* A failed sbuf keeps its length: was it the ceiling or memory? */
	if (n > b->max - b->len)
		*too_big = true;
	return 0;
}
