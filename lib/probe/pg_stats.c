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

int64_t
pg_scan_own_read(struct pg_scan_own *s, int64_t raw, int64_t canary_scans)
{
	int64_t app;

	if (!s->based || raw < s->last) {
		s->based = true;
		s->raw0 = raw;
		s->own = 0;
		s->app0 = s->app;
		s->last = raw;
		return s->app;
	}
	s->own += canary_scans;
	s->last = raw;
	app = s->app0 + (raw - s->raw0) - s->own;
	if (app > s->app)
		s->app = app;
	return s->app;
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
