/*
 * sbuf: a growing text buffer with a ceiling, for answers built piece by
 * piece (/metrics, the HTML page). Past its ceiling, or when memory runs
 * out, it stops growing and remembers that it failed, so callers append
 * without checking each step and look once at the end: an answer is
 * either whole or refused, never silently cut short.
 */
#ifndef VIGIL_SBUF_H
#define VIGIL_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *s;		/* always NUL-terminated once anything is added */
	size_t len, cap;
	size_t max;		/* the ceiling, in bytes of text */
	bool failed;
};

void sbuf_init(struct sbuf *b, size_t max);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text (the caller frees it), or NULL if the buffer failed. */
char *sbuf_take(struct sbuf *b);

/*
 * For curl write callbacks: appends n bytes of an answer and returns n,
 * or 0 (which makes curl stop) past the ceiling, setting *too_big, or
 * out of memory, leaving it alone: the two read differently. libcurl
 * 7.88's CURLOPT_MAXFILESIZE does not stop chunked bodies, so the cap is
 * enforced here.
 */
size_t sbuf_write(struct sbuf *b, const char *data, size_t n, bool *too_big);
/*
 * Empties b for reuse with the ceiling max: its block is kept when it
 * holds at most keep bytes, so a buffer refilled often (a probe's body)
 * costs no allocation, and freed when larger, so one big answer does not
 * pin its memory.
 */
void sbuf_reuse(struct sbuf *b, size_t max, size_t keep);
/* Frees the text; b may be NULL. */
void sbuf_free(struct sbuf *b);

#endif
