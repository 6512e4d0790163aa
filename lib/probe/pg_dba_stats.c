#include "probe/pg_dba_stats.h"

#include <stdio.h>
#include <string.h>

enum pg_delta
pg_ctr_rate(struct pg_ctr *prev, double at_s, double v, double *per_s)
{
	struct pg_ctr old = *prev;
	double dt = at_s - old.at_s;

	prev->valid = true;
	prev->at_s = at_s;
	prev->v = v;
	if (!old.valid)
		return PG_DELTA_FIRST;
	if (v < old.v)
		return PG_DELTA_RESET;
	if (dt <= 0)
		return PG_DELTA_NO_TIME;
	*per_s = (v - old.v) / dt;
	return PG_DELTA_OK;
}

enum pg_delta
pg_ckpt_delta(struct pg_ckpt_snap *prev, const struct pg_ckpt_snap *cur,
    struct pg_ckpt_delta *out)
{
	struct pg_ckpt_snap old = *prev;

	*prev = *cur;
	prev->valid = true;
	if (!old.valid)
		return PG_DELTA_FIRST;
	if (cur->timed < old.timed || cur->req < old.req)
		return PG_DELTA_RESET;
	out->timed = cur->timed - old.timed;
	out->req = cur->req - old.req;
	return PG_DELTA_OK;
}

static struct pg_slot_seen *
slot_find(struct pg_slot_track *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

void
pg_slot_track_update(struct pg_slot_track *t, const struct pg_slot_row *rows,
    size_t n, double now_s, struct pg_slot_age *out)
{
	struct pg_slot_track next;

	memset(out, 0, sizeof(*out));
	out->worst = -1;
	/* Rebuilt from this run's rows: gone and active slots drop out. */
	next.n = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pg_slot_row *r = &rows[i];
		struct pg_slot_seen *seen;
		double since, age;

		if (r->active)
			continue;
		seen = slot_find(t, r->name);
		if (r->inactive_since_s >= 0)
			since = r->inactive_since_s;
		else if (seen != NULL)
			since = seen->since_s;
		else
			since = now_s;
		if (r->inactive_since_s < 0 && seen == NULL &&
		    next.n >= PG_SLOT_TRACK) {
			out->untracked++;
			continue;
		}
		if (next.n < PG_SLOT_TRACK) {
			snprintf(next.v[next.n].name, PG_SLOT_NAME, "%s",
			    r->name);
			next.v[next.n].since_s = since;
			next.n++;
		}
		age = now_s - since;
		if (age < 0)
			age = 0;	/* the clocks of two reads disagree */
		if (out->worst < 0 || age > out->longest_s) {
			out->longest_s = age;
			out->worst = (int)i;
		}
	}
	*t = next;
}

double
pg_hold_update(struct pg_hold *h, const char *key, int64_t xmin,
    double server_since_s, double now_s)
{
	double held;

	if (!h->valid || h->xmin != xmin || strcmp(h->key, key) != 0) {
		h->valid = true;
		snprintf(h->key, sizeof(h->key), "%s", key);
		h->xmin = xmin;
		h->since_s = now_s;
	}
	held = now_s - (server_since_s >= 0 ? server_since_s : h->since_s);
	return held > 0 ? held : 0;
}

void
pg_hold_clear(struct pg_hold *h)
{
	memset(h, 0, sizeof(*h));
}

enum pg_delta
pg_size_growth(struct pg_ctr *prev, double at_s, double bytes,
    double *per_hour)
{
	struct pg_ctr old = *prev;

	prev->valid = true;
	prev->at_s = at_s;
	prev->v = bytes;
	if (!old.valid)
		return PG_DELTA_FIRST;
	if (at_s - old.at_s < 1) {
		*prev = old;	/* too close: keep the older read */
		return PG_DELTA_NO_TIME;
	}
	*per_hour = (bytes - old.v) / (at_s - old.at_s) * 3600.0;
	return PG_DELTA_OK;
}
