#include "engine/history.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hash.h"
#include "engine/history_file.h"
#include "engine/history_int.h"
#include "engine/rules.h"

int32_t
hist_minute(int64_t t)
{
	return (int32_t)(t / HISTORY_MINUTE_MS);
}

int32_t
hist_day(int64_t t)
{
	return (int32_t)(t / HISTORY_DAY_MS);
}

/* FIRING > PENDING > UNKNOWN > OK (resolved is ok). */
static int
state_rank(int s)
{
	switch (s) {
	case RULE_FIRING:
		return 3;
	case RULE_PENDING:
		return 2;
	case RULE_UNKNOWN:
		return 1;
	case RULE_OK:
	case RULE_RESOLVED:
		return 0;
	default:
		return -1;
	}
}

int
hist_worse_state(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return state_rank(b) > state_rank(a) ? b : a;
}

/* Probe: a run failed in it. Rule: it fired in it. */
bool
hist_min_down(const struct series *s, const struct hmin *m)
{
	if (s->kind == HISTORY_PROBE)
		return m->failed > 0;
	return m->worst == RULE_FIRING;
}

bool
hist_min_has_data(const struct hmin *m)
{
	return m->ok > 0 || m->failed > 0 || m->unknown > 0 || m->worst >= 0;
}

/* Table */

size_t
hist_slot_of(const struct history *h, const char *name)
{
	size_t i = (size_t)(hash64_str(name) & (h->cap - 1));

	while (h->tab[i] != NULL && strcmp(h->tab[i]->name, name) != 0)
		i = (i + 1) & (h->cap - 1);
	return i;
}

struct series *
hist_find(const struct history *h, const char *name)
{
	if (h == NULL || name == NULL || h->cap == 0)
		return NULL;
	return h->tab[hist_slot_of(h, name)];
}

static int
grow(struct history *h)
{
	size_t ncap = h->cap == 0 ? 16 : h->cap * 2;
	struct series **nt = calloc(ncap, sizeof(*nt));
	struct series **old = h->tab;
	size_t ocap = h->cap;

	if (nt == NULL)
		return -1;
	h->tab = nt;
	h->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i] != NULL)
			h->tab[hist_slot_of(h, old[i]->name)] = old[i];
	free(old);
	return 0;
}

void
hist_series_free(struct series *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->blocks != NULL && i < s->nblocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	free(s->hours);
	free(s->days);
	free(s);
}

/* Its arrays at the size its kind and the history's folder need. */
static struct series *
series_new(const struct history *h, enum history_kind kind, const char *name)
{
	struct series *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->kind = kind;
	s->nblocks = h->dir != NULL ? HIST_RING_DISK : HIST_RING_MEM;
	if ((s->blocks = calloc(s->nblocks, sizeof(*s->blocks))) == NULL ||
	    (kind == HISTORY_PROBE && (s->days = calloc(HISTORY_DAYS,
	    sizeof(*s->days))) == NULL) ||
	    (kind == HISTORY_PROBE && h->dir != NULL && (s->hours =
	    calloc(HIST_HOURS, sizeof(*s->hours))) == NULL)) {
		hist_series_free(s);
		return NULL;
	}
	return s;
}

/* The series of name, made when new (NULL: out of memory, or too many). */
struct series *
hist_get(struct history *h, enum history_kind kind, const char *name)
{
	struct series *s = hist_find(h, name);

	if (s != NULL)
		return s->kind == kind ? s : NULL;
	if (strlen(name) >= sizeof(s->name) || h->n >= MAX_SERIES)
		return NULL;
	if ((h->n + 1) * 2 > h->cap && grow(h) != 0)
		return NULL;
	if ((s = series_new(h, kind, name)) == NULL)
		return NULL;
	h->tab[hist_slot_of(h, name)] = s;
	h->n++;
	return s;
}

/* Removal in linear probing: the ones after move up to stay findable. */
void
hist_drop(struct history *h, size_t i)
{
	size_t j = i;

	hist_series_free(h->tab[i]);
	h->tab[i] = NULL;
	h->n--;
	for (;;) {
		struct series *s;
		size_t k;

		j = (j + 1) & (h->cap - 1);
		if ((s = h->tab[j]) == NULL)
			return;
		h->tab[j] = NULL;
		k = hist_slot_of(h, s->name);
		h->tab[k] = s;
	}
}

/* Recording */

struct hday *
hist_day_slot(struct series *s, int32_t day)
{
	struct hday *d;

	if (s->days == NULL)
		return NULL;
	d = &s->days[day % HISTORY_DAYS];
	if (d->day != day) {
		if (d->day > day)
			return NULL;	/* older than what is kept */
		memset(d, 0, sizeof(*d));
		d->day = day;
	}
	return d;
}

struct hhour *
hist_hour_slot(struct series *s, int32_t hour)
{
	struct hhour *hh;

	if (s->hours == NULL)
		return NULL;
	hh = &s->hours[hour % HIST_HOURS];
	if (hh->hour != hour) {
		if (hh->hour > hour)
			return NULL;
		memset(hh, 0, sizeof(*hh));
		hh->hour = hour;
	}
	return hh;
}

const struct hblock *
hist_block(const struct series *s, int32_t hour)
{
	const struct hblock *b;

	if (hour <= 0)
		return NULL;
	b = s->blocks[hour % s->nblocks];
	return b != NULL && b->hour == hour ? b : NULL;
}

/*
 * With a folder: the blocks older than the newest that hold nothing
 * unsaved leave memory (after a write went well).
 */
void
hist_ring_trim(struct series *s)
{
	int32_t newest = 0;

	for (size_t i = 0; i < s->nblocks; i++)
		if (s->blocks[i] != NULL && s->blocks[i]->hour > newest)
			newest = s->blocks[i]->hour;
	for (size_t i = 0; i < s->nblocks; i++) {
		struct hblock *b = s->blocks[i];

		if (b == NULL || b->hour >= newest || s->saving_from != 0 ||
		    (s->dirty_from != 0 &&
		    s->dirty_from / HFILE_BLOCK_MINUTES <= b->hour))
			continue;
		free(b);
		s->blocks[i] = NULL;
		if (newest > s->saved_below)
			s->saved_below = newest;
	}
}

/*
 * The minute's slot, its hour's block emptied when it held an older
 * hour; NULL for a minute older than the ring keeps (a clock stepped
 * back). An older hour leaves memory saved, or (writes failing as long
 * as the ring lasts) lost.
 */
struct hmin *
hist_min_slot(struct series *s, int32_t min)
{
	int32_t hour = min / HFILE_BLOCK_MINUTES;
	struct hblock *b;

	if (min <= 0)
		return NULL;
	b = s->blocks[hour % s->nblocks];
	if (b == NULL) {
		/* A late minute of an hour saved and gone: the file's. */
		if (hour < s->saved_below ||
		    (b = malloc(sizeof(*b))) == NULL)
			return NULL;
		b->hour = 0;
		s->blocks[hour % s->nblocks] = b;
	}
	if (b->hour != hour) {
		if (b->hour > hour)
			return NULL;
		b->hour = hour;
		for (size_t i = 0; i < HFILE_BLOCK_MINUTES; i++) {
			memset(&b->m[i], 0, sizeof(b->m[i]));
			b->m[i].worst = -1;
		}
	}
	return &b->m[min % HFILE_BLOCK_MINUTES];
}

/* What a change to minute m does to its day: counted once each. */
static void
account(struct series *s, struct hmin *m, bool had, bool was_down,
    int64_t t)
{
	struct hday *d = hist_day_slot(s, hist_day(t));
	int32_t min = hist_minute(t);

	if (d != NULL) {
		if (!had && hist_min_has_data(m))
			d->minutes_data++;
		if (!was_down && hist_min_down(s, m))
			d->minutes_down++;
	}
	if (s->dirty_from == 0 || min < s->dirty_from)
		s->dirty_from = min;
}

static void
add_value(struct hmin *m, struct hday *d, double v)
{
	float f = (float)v;

	if (!isfinite(v))
		return;
	if (m->nval == 0 || f < m->vmin)
		m->vmin = f;
	if (m->nval == 0 || f > m->vmax)
		m->vmax = f;
	if (m->nval < UINT8_MAX) {
		m->nval++;
		m->vsum += f;
	}
	if (d != NULL) {
		if (d->nval == 0 || f > d->vmax)
			d->vmax = f;
		d->nval++;
		d->vsum += f;
	}
}

void
history_probe_run(struct history *h, const char *probe, int64_t t,
    bool ok, double duration_ms)
{
	struct series *s;
	struct hmin *m;
	struct hday *d;
	struct hhour *hh;
	bool had, was_down;

	if (h == NULL || (s = hist_get(h, HISTORY_PROBE, probe)) == NULL ||
	    (m = hist_min_slot(s, hist_minute(t))) == NULL)
		return;
	had = hist_min_has_data(m);
	was_down = hist_min_down(s, m);
	if (ok && m->ok < UINT16_MAX)
		m->ok++;
	else if (!ok && m->failed < UINT16_MAX)
		m->failed++;
	d = hist_day_slot(s, hist_day(t));
	if (d != NULL)
		(*(ok ? &d->ok : &d->failed))++;
	if ((hh = hist_hour_slot(s, hist_minute(t) / HFILE_BLOCK_MINUTES)) !=
	    NULL)
		(*(ok ? &hh->ok : &hh->failed))++;
	add_value(m, d, duration_ms);
	account(s, m, had, was_down, t);
}

static struct history_incident *
open_incident(struct history *h, const struct series *s)
{
	size_t i;

	if (s->incident == 0)
		return NULL;
	i = (size_t)(s->incident % HISTORY_INCIDENTS);
	return h->inc_seq[i] == s->incident ? &h->inc[i] : NULL;
}

void
hist_close_incident(struct history *h, struct series *s, int64_t t)
{
	struct history_incident *in = open_incident(h, s);

	if (in != NULL && in->end == 0) {
		in->end = t > in->start ? t : in->start;
		h->inc_dirty = true;
	}
	s->incident = 0;
}

void
history_rule_eval(struct history *h, const char *rule, int64_t t, int state,
    bool known, double value)
{
	struct series *s;
	struct hmin *m;
	struct hday *d;
	struct history_incident *in;
	bool had, was_down;

	if (h == NULL || (s = hist_get(h, HISTORY_RULE, rule)) == NULL ||
	    (m = hist_min_slot(s, hist_minute(t))) == NULL)
		return;
	had = hist_min_has_data(m);
	was_down = hist_min_down(s, m);
	/* Pending is not firing yet: it counts as ok. */
	if (state == RULE_FIRING) {
		if (m->failed < UINT16_MAX)
			m->failed++;
	} else if (state == RULE_UNKNOWN) {
		if (m->unknown < UINT16_MAX)
			m->unknown++;
	} else if (m->ok < UINT16_MAX) {
		m->ok++;
	}
	m->worst = (int8_t)hist_worse_state(m->worst, state);
	d = hist_day_slot(s, hist_day(t));
	if (d != NULL) {
		if (state == RULE_FIRING)
			d->failed++;
		else if (state != RULE_UNKNOWN)
			d->ok++;
	}
	if (known)
		add_value(m, d, value);
	account(s, m, had, was_down, t);
	in = open_incident(h, s);
	if (in != NULL && state == RULE_FIRING && known && isfinite(value) &&
	    (!in->peak_known || (s->lower_worse ? value < in->peak :
	    value > in->peak))) {
		in->peak = value;
		in->peak_known = true;
		h->inc_dirty = true;
	}
	/* Ok again without a resolve seen (a restart in between): ended. */
	if (in != NULL && (state == RULE_OK || state == RULE_RESOLVED))
		hist_close_incident(h, s, t);
}

static bool
sev_worse(const char *a, const char *b)
{
	return strcmp(a, "critical") != 0 && strcmp(b, "critical") == 0;
}

void
history_rule_fired(struct history *h, const char *rule, const char *severity,
    int64_t t, bool known, double value)
{
	struct series *s;
	struct history_incident *in;
	size_t i;

	if (h == NULL || (s = hist_get(h, HISTORY_RULE, rule)) == NULL)
		return;
	if (severity == NULL)
		severity = "";
	if ((in = open_incident(h, s)) != NULL && in->end == 0) {
		/* Warning to critical while firing: the same incident. */
		if (sev_worse(in->severity, severity))
			snprintf(in->severity, sizeof(in->severity), "%s",
			    severity);
		h->inc_dirty = true;
		return;
	}
	s->incident = ++h->next_seq;
	i = (size_t)(s->incident % HISTORY_INCIDENTS);
	in = &h->inc[i];
	h->inc_seq[i] = s->incident;
	memset(in, 0, sizeof(*in));
	snprintf(in->rule, sizeof(in->rule), "%s", rule);
	snprintf(in->severity, sizeof(in->severity), "%s", severity);
	in->start = t;
	in->peak = known && isfinite(value) ? value : NAN;
	in->peak_known = known && isfinite(value);
	h->inc_dirty = true;
}

bool
history_rule_firing(const struct history *h, const char *rule)
{
	const struct series *s = hist_find(h, rule);
	size_t i;

	if (s == NULL || s->incident == 0)
		return false;
	i = (size_t)(s->incident % HISTORY_INCIDENTS);
	return h->inc_seq[i] == s->incident && h->inc[i].end == 0;
}

void
history_rule_resolved(struct history *h, const char *rule, int64_t t)
{
	struct series *s = hist_find(h, rule);

	if (s != NULL && s->kind == HISTORY_RULE)
		hist_close_incident(h, s, t);
}

/* Reading */

/* Minute min of s, from the ring or (older, with a folder) the file. */
struct reader {
	const struct history *h;
	const struct series *s;
	int32_t hour;		/* in recs; INT32_MIN: none */
	bool hour_ok;
	bool opened;		/* fd tried */
	struct hfile_min recs[HFILE_BLOCK_MINUTES];
	int fd;
};

static bool
read_block(struct reader *r, int32_t hour)
{
	uint8_t buf[HFILE_BLOCK_BYTES];
	char path[PATH_MAX];
	int32_t got;

	if (!r->opened) {
		r->opened = true;
		if (r->h->dir != NULL && hfile_path(path, sizeof(path),
		    r->h->dir, r->s->kind, r->s->name))
			r->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	/* A torn or stale block is no data, as at load. */
	return r->fd >= 0 && pread(r->fd, buf, sizeof(buf),
	    (off_t)hfile_block_offset(hour)) == (ssize_t)sizeof(buf) &&
	    hfile_block_decode(buf, &got, r->recs) == HFILE_BLOCK_OK &&
	    got == hour;
}

static bool
read_minute(struct reader *r, int32_t min, struct hmin *out)
{
	const struct hblock *b;
	const struct hfile_min *f;
	int32_t hour = min / HFILE_BLOCK_MINUTES;
	uint32_t w;

	if ((b = hist_block(r->s, hour)) != NULL) {
		*out = b->m[min % HFILE_BLOCK_MINUTES];
		return hist_min_has_data(out);
	}
	if (hour != r->hour) {
		r->hour = hour;
		r->hour_ok = read_block(r, hour);
	}
	if (!r->hour_ok)
		return false;
	f = &r->recs[min % HFILE_BLOCK_MINUTES];
	if (hfile_min_empty(f))
		return false;
	memset(out, 0, sizeof(*out));
	out->ok = f->ok;
	out->failed = f->failed;
	out->unknown = f->unknown;
	out->worst = f->worst;
	if (f->has_value) {
		/* Saved as an average: weighed by the minute's runs. */
		w = (uint32_t)f->ok + f->failed;
		out->nval = (uint8_t)(w == 0 ? 1 : w > UINT8_MAX ?
		    UINT8_MAX : w);
		out->vmin = f->min;
		out->vmax = f->max;
		out->vsum = f->avg * out->nval;
	}
	return true;
}

size_t
history_range(const struct history *h, enum history_kind kind,
    const char *name, int64_t from, int64_t to, int64_t step,
    struct history_point *out, size_t cap)
{
	const struct series *s = hist_find(h, name);
	struct reader r;
	int64_t smin, t;
	size_t n = 0;

	if (s == NULL || s->kind != kind || step < HISTORY_MINUTE_MS ||
	    from >= to || cap == 0)
		return 0;
	smin = step / HISTORY_MINUTE_MS;
	step = smin * HISTORY_MINUTE_MS;
	memset(&r, 0, sizeof(r));
	r.h = h;
	r.s = s;
	r.hour = INT32_MIN;
	r.fd = -1;
	for (t = from - from % step; t < to && n < cap; t += step) {
		struct history_point *p = &out[n++];
		double vsum = 0;
		uint64_t nval = 0;

		memset(p, 0, sizeof(*p));
		p->t = t;
		p->worst = -1;
		for (int64_t k = 0; k < smin; k++) {
			struct hmin m;

			if (!read_minute(&r, hist_minute(t) + (int32_t)k, &m))
				continue;
			p->has_value = true;
			p->ok += m.ok;
			p->failed += m.failed;
			p->unknown += m.unknown;
			p->worst = hist_worse_state(p->worst, m.worst);
			if (m.nval == 0)
				continue;
			if (nval == 0 || m.vmin < p->min)
				p->min = m.vmin;
			if (nval == 0 || m.vmax > p->max)
				p->max = m.vmax;
			nval += m.nval;
			vsum += (double)m.vsum;
		}
		if (nval > 0)
			p->avg = vsum / (double)nval;
		else
			p->min = p->avg = p->max = NAN;
		if (kind == HISTORY_PROBE)
			p->worst = -1;
	}
	if (r.fd >= 0)
		close(r.fd);
	return n;
}

bool
history_uptime(const struct history *h, const char *probe, int64_t now,
    int64_t window_ms, double *pct)
{
	const struct series *s = hist_find(h, probe);
	uint64_t ok = 0, all = 0;

	if (s == NULL || s->kind != HISTORY_PROBE || window_ms <= 0)
		return false;
	if (window_ms <= HISTORY_DAY_MS) {
		int32_t last = hist_minute(now);
		int32_t first = hist_minute(now - window_ms + HISTORY_MINUTE_MS -
		    1);

		/*
		 * The ring's minutes exactly; hours older than the ring (with
		 * a folder) from their sums, the window's first one whole.
		 */
		for (int32_t hr = first / HFILE_BLOCK_MINUTES;
		    hr <= last / HFILE_BLOCK_MINUTES; hr++) {
			const struct hblock *b = hist_block(s, hr);
			const struct hhour *hh;

			if (b == NULL && s->hours != NULL &&
			    (hh = &s->hours[hr % HIST_HOURS])->hour == hr) {
				ok += hh->ok;
				all += (uint64_t)hh->ok + hh->failed;
			}
			for (int i = 0; b != NULL && i < HFILE_BLOCK_MINUTES;
			    i++) {
				int32_t min = hr * HFILE_BLOCK_MINUTES + i;

				if (min >= first && min <= last) {
					ok += b->m[i].ok;
					all += (uint64_t)b->m[i].ok +
					    b->m[i].failed;
				}
			}
		}
	} else {
		int32_t last = hist_day(now);
		int64_t ndays = window_ms / HISTORY_DAY_MS;

		for (size_t i = 0; i < HISTORY_DAYS; i++) {
			const struct hday *d = &s->days[i];

			if (d->day > last - ndays && d->day <= last) {
				ok += d->ok;
				all += d->ok + d->failed;
			}
		}
	}
	if (all == 0)
		return false;
	*pct = 100.0 * (double)ok / (double)all;
	return true;
}

size_t
history_days(const struct history *h, const char *probe, int64_t now,
    struct history_day *out, size_t cap)
{
	const struct series *s = hist_find(h, probe);
	int32_t today = hist_day(now);
	size_t n = 0, want = cap < HISTORY_DAYS ? cap : HISTORY_DAYS;

	if (s == NULL || s->kind != HISTORY_PROBE || s->days == NULL)
		return 0;
	for (int32_t day = today - (int32_t)want + 1; day <= today; day++) {
		const struct hday *d = &s->days[day % HISTORY_DAYS];
		struct history_day *o = &out[n++];

		memset(o, 0, sizeof(*o));
		o->t = (int64_t)day * HISTORY_DAY_MS;
		if (d->day != day || d->ok + d->failed == 0)
			continue;
		o->has_data = true;
		o->uptime_pct = 100.0 * (double)d->ok /
		    (double)(d->ok + d->failed);
		o->minutes_data = d->minutes_data;
		o->minutes_down = d->minutes_down;
		o->avg_ms = d->nval > 0 ? (double)d->vsum / (double)d->nval :
		    NAN;
		o->max_ms = d->nval > 0 ? d->vmax : NAN;
	}
	return n;
}

size_t
history_incidents(const struct history *h, int64_t from,
    struct history_incident *out, size_t cap)
{
	size_t n = 0;

	if (h == NULL)
		return 0;
	/* Newest first: by sequence number, descending. */
	for (uint64_t seq = h->next_seq; seq > 0 && n < cap &&
	    seq + HISTORY_INCIDENTS > h->next_seq; seq--) {
		size_t i = (size_t)(seq % HISTORY_INCIDENTS);
		const struct history_incident *in = &h->inc[i];

		if (h->inc_seq[i] != seq)
			continue;
		if (in->end != 0 && in->end < from)
			continue;
		out[n++] = *in;
	}
	return n;
}

