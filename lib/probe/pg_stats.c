#include "probe/pg_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pg_delta
pg_db_delta(const struct pg_db_snap *prev, const struct pg_db_snap *cur,
    struct pg_db_rates *out)
{
	double dt, hit, rd;

	memset(out, 0, sizeof(*out));
	if (!prev->valid)
		return PG_DELTA_FIRST;
	/*
	 * pg_stat_reset() or a crash restart: the counters start again, and
	 * a difference across the reset would be nonsense (or negative).
	 */
	if (cur->reset_s != prev->reset_s || cur->commits < prev->commits ||
	    cur->rollbacks < prev->rollbacks ||
	    cur->blks_hit < prev->blks_hit ||
	    cur->blks_read < prev->blks_read ||
	    cur->deadlocks < prev->deadlocks ||
	    cur->temp_bytes < prev->temp_bytes)
		return PG_DELTA_RESET;
	dt = cur->at_s - prev->at_s;
	if (!(dt > 0))
		return PG_DELTA_NO_TIME;
	out->commits_per_s = (double)(cur->commits - prev->commits) / dt;
	out->rollbacks_per_s = (double)(cur->rollbacks - prev->rollbacks) / dt;
	out->deadlocks = (double)(cur->deadlocks - prev->deadlocks);
	out->temp_bytes = (double)(cur->temp_bytes - prev->temp_bytes);
	hit = (double)(cur->blks_hit - prev->blks_hit);
	rd = (double)(cur->blks_read - prev->blks_read);
	if (hit + rd > 0) {
		out->has_hit_ratio = true;
		out->cache_hit_ratio_pct = 100.0 * hit / (hit + rd);
	}
	return PG_DELTA_OK;
}

int
pg_stmt_snap_add(struct pg_stmt_snap *s, const struct pg_stmt *e)
{
	if (s->n == s->alloc) {
		size_t n = s->alloc == 0 ? 64 : s->alloc * 2;
		struct pg_stmt *v = realloc(s->v, n * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->alloc = n;
	}
	s->v[s->n++] = *e;
	return 0;
}

static int
stmt_key_cmp(const struct pg_stmt *a, const struct pg_stmt *b)
{
	if (a->queryid != b->queryid)
		return a->queryid < b->queryid ? -1 : 1;
	if (a->userid != b->userid)
		return a->userid < b->userid ? -1 : 1;
	return (int)a->toplevel - (int)b->toplevel;
}

static int
stmt_qsort_cmp(const void *a, const void *b)
{
	return stmt_key_cmp(a, b);
}

void
pg_stmt_snap_sort(struct pg_stmt_snap *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), stmt_qsort_cmp);
}

void
pg_stmt_snap_clear(struct pg_stmt_snap *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
pg_stmt_snap_swap(struct pg_stmt_snap *prev, struct pg_stmt_snap *cur)
{
	struct pg_stmt_snap t = *prev;

	*prev = *cur;
	*cur = t;
	cur->n = 0;
	cur->valid = false;
	cur->complete = false;
	cur->at_s = 0;
}

/* Keeps the PG_STMT_TOP slowest, worst first. */
static void
top_insert(struct pg_stmt_window *w, const struct pg_stmt *e, int64_t calls,
    double mean)
{
	size_t at = w->ntop;

	while (at > 0 && w->top[at - 1].mean_ms < mean)
		at--;
	if (at >= PG_STMT_TOP)
		return;
	if (w->ntop < PG_STMT_TOP)
		w->ntop++;
	memmove(&w->top[at + 1], &w->top[at],
	    (w->ntop - 1 - at) * sizeof(w->top[0]));
	w->top[at] = (struct pg_stmt_slow){ e->queryid, e->userid, calls,
	    mean };
}

enum pg_delta
pg_stmt_window(const struct pg_stmt_snap *prev, const struct pg_stmt_snap *cur,
    double slow_ms, struct pg_stmt_window *out)
{
	size_t j = 0;
	double dt;

	memset(out, 0, sizeof(*out));
	if (!prev->valid)
		return PG_DELTA_FIRST;
	dt = cur->at_s - prev->at_s;
	if (!(dt > 0))
		return PG_DELTA_NO_TIME;
	for (size_t i = 0; i < cur->n; i++) {
		const struct pg_stmt *e = &cur->v[i];
		const struct pg_stmt *p = NULL;
		int64_t dcalls;
		double dtotal;

		while (j < prev->n && stmt_key_cmp(&prev->v[j], e) < 0)
			j++;
		if (j < prev->n && stmt_key_cmp(&prev->v[j], e) == 0)
			p = &prev->v[j];
		if (p == NULL && !prev->complete)
			continue;	/* maybe just not read last time */
		if (p != NULL && e->calls >= p->calls &&
		    e->total_ms >= p->total_ms) {
			dcalls = e->calls - p->calls;
			dtotal = e->total_ms - p->total_ms;
		} else {
			/* New, or evicted and re-created: all in the window. */
			dcalls = e->calls;
			dtotal = e->total_ms;
		}
		if (dcalls <= 0)
			continue;
		out->calls += dcalls;
		if (dtotal / (double)dcalls > out->worst_mean_ms)
			out->worst_mean_ms = dtotal / (double)dcalls;
		if (dtotal / (double)dcalls > slow_ms) {
			out->nslow++;
			top_insert(out, e, dcalls, dtotal / (double)dcalls);
		}
	}
	out->calls_per_s = (double)out->calls / dt;
	return PG_DELTA_OK;
}

static bool
is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$' ||
	    (unsigned char)c >= 0x80;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Length of a dollar-quote tag at s ("$$", "$tag$"), or 0 if none. */
static size_t
dollar_tag(const char *s)
{
	size_t n = 1;

	if (s[0] != '$')
		return 0;
	if (s[1] >= '0' && s[1] <= '9')
		return 0;	/* $1: a parameter */
	while (s[n] != '\0' && s[n] != '$') {
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' &&
		    s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
		    s[n] == '_' || (unsigned char)s[n] >= 0x80))
			return 0;
		n++;
	}
	return s[n] == '$' ? n + 1 : 0;
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

/* Skips a quoted literal starting at s (at the quote); returns past it. */
static const char *
skip_quoted(const char *s, char q, bool backslash)
{
	s++;
	while (*s != '\0') {
		if (backslash && *s == '\\' && s[1] != '\0') {
			s += 2;
			continue;
		}
		if (*s == q) {
			if (s[1] == q) {
				s += 2;
				continue;
			}
			return s + 1;
		}
		s++;
	}
	return s;
}

void
pg_normalize_query(const char *in, size_t maxlen, char *out, size_t outlen)
{
	struct qbuf b = { out, 0, 0, false };
	const char *s = in;
	bool space = false;

	if (outlen < 4) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	/* Room for "..." is kept, so a cut text can always say so. */
	b.cap = outlen - 4 < maxlen ? outlen - 4 : maxlen;
	while (*s != '\0' && !b.full) {
		size_t tag;

		if (is_space(*s)) {
			space = true;
			s++;
			continue;
		}
		if (s[0] == '-' && s[1] == '-') {
			while (*s != '\0' && *s != '\n')
				s++;
			space = true;
			continue;
		}
		if (s[0] == '/' && s[1] == '*') {
			int depth = 0;

			/* PostgreSQL's block comments nest. */
			while (*s != '\0') {
				if (s[0] == '/' && s[1] == '*') {
					depth++;
					s += 2;
				} else if (s[0] == '*' && s[1] == '/') {
					s += 2;
					if (--depth == 0)
						break;
				} else {
					s++;
				}
			}
			space = true;
			continue;
		}
		if (space && b.n > 0)
			qput(&b, ' ');
		space = false;
		if (*s == '\'') {
			/* E'...' has backslash escapes; the E was copied. */
			bool esc = s > in && (s[-1] == 'E' || s[-1] == 'e') &&
			    (s - 1 == in || !is_ident_char(s[-2]));

			if (esc && b.n > 0)
				b.n--;
			s = skip_quoted(s, '\'', esc);
			qput(&b, '?');
		} else if (*s == '"') {
			const char *end = skip_quoted(s, '"', false);

			while (s < end)
				qput(&b, *s++);
		} else if ((tag = dollar_tag(s)) > 0) {
			const char *end = NULL;

			for (const char *t = s + tag; *t != '\0'; t++)
				if (strncmp(t, s, tag) == 0) {
					end = t + tag;
					break;
				}
			s = end != NULL ? end : s + strlen(s);
			qput(&b, '?');
		} else if (*s >= '0' && *s <= '9' && (s == in ||
		    !is_ident_char(s[-1]))) {
			/* 42, 1.5e-3, 0x1F, 1_000: up to the next delimiter. */
			s++;
			while (is_ident_char(*s) || *s == '.' ||
			    ((*s == '+' || *s == '-') && (s[-1] == 'e' ||
			    s[-1] == 'E')))
				s++;
			qput(&b, '?');
		} else if (*s == '$' && s[1] >= '0' && s[1] <= '9') {
			qput(&b, *s++);
			while (*s >= '0' && *s <= '9')
				qput(&b, *s++);
		} else {
			qput(&b, *s++);
		}
	}
	while (!b.full && is_space(*s))
		s++;
	if (b.full || *s != '\0') {
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

void
pg_metric_part(const char *col, size_t maxlen, char *out, size_t outlen)
{
	size_t n = 0;
	bool sep = false;

	if (outlen == 0)
		return;
	if (maxlen > outlen - 1)
		maxlen = outlen - 1;
	for (const char *s = col; *s != '\0' && n < maxlen; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (sep && n > 0 && n + 1 < maxlen)
				out[n++] = '_';
			sep = false;
			out[n++] = c;
		} else {
			sep = true;
		}
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, outlen, "col");
}

int64_t
pg_backoff_ms(unsigned failures, int64_t max_ms)
{
	int64_t ms = 250;

	/* The first retry is at the next run; then 250 ms doubling. */
	if (failures == 0)
		return 0;
	for (unsigned i = 1; i < failures && ms < max_ms; i++)
		ms *= 2;
	return ms < max_ms ? ms : max_ms;
}
