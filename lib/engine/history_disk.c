#include "engine/history.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "engine/history_file.h"
#include "engine/history_int.h"

/* Loading */

struct loading {
	struct series *s;
	int32_t oldest_ring, oldest_hour, oldest_day;	/* kept from these */
};

static void
load_hour(int32_t hour, const struct hfile_min recs[HFILE_BLOCK_MINUTES],
    void *arg)
{
	struct loading *l = arg;
	struct series *s = l->s;

	for (int i = 0; i < HFILE_BLOCK_MINUTES; i++) {
		const struct hfile_min *f = &recs[i];
		int32_t min = hour * HFILE_BLOCK_MINUTES + i;
		int64_t t = (int64_t)min * HISTORY_MINUTE_MS;
		uint32_t w = (uint32_t)f->ok + f->failed > 0 ?
		    (uint32_t)f->ok + f->failed : 1;
		struct hmin one, *m = &one;
		struct hday *d;

		struct hhour *hh;

		if (hfile_min_empty(f) || hist_day(t) < l->oldest_day)
			continue;
		if (hour >= l->oldest_ring && (m = hist_min_slot(s, min)) ==
		    NULL)
			m = &one;
		memset(m, 0, sizeof(*m));
		m->ok = f->ok;
		m->failed = f->failed;
		m->unknown = f->unknown;
		m->worst = f->worst;
		if (f->has_value) {
			m->nval = (uint8_t)(w > UINT8_MAX ? UINT8_MAX : w);
			m->vmin = f->min;
			m->vmax = f->max;
			m->vsum = f->avg * m->nval;
		}
		if (hour >= l->oldest_hour &&
		    (hh = hist_hour_slot(s, hour)) != NULL) {
			hh->ok += f->ok;
			hh->failed += f->failed;
		}
		if ((d = hist_day_slot(s, hist_day(t))) == NULL)
			continue;
		if (hist_min_has_data(m))
			d->minutes_data++;
		if (hist_min_down(s, m))
			d->minutes_down++;
		d->ok += m->ok;
		d->failed += m->failed;
		if (f->has_value) {
			if (d->nval == 0 || f->max > d->vmax)
				d->vmax = f->max;
			d->nval += w;
			d->vsum += f->avg * (float)w;
		}
	}
}

static void
load_series(struct history *h, struct series *s)
{
	char path[PATH_MAX];
	int64_t now = clock_wall_ms();
	int32_t hour = hist_minute(now) / HFILE_BLOCK_MINUTES;
	struct loading l = { s, hour - s->nblocks + 1, hour - HIST_HOURS + 1,
	    hist_day(now) - HISTORY_DAYS + 1 };
	uint64_t torn = 0;

	if (!hfile_path(path, sizeof(path), h->dir, s->kind, s->name))
		return;
	if (hfile_load(path, s->kind, s->name, now, load_hour, &l, &torn) == 0 &&
	    torn > 0)
		log_warn("event=history_torn path=%s hours=%llu note=\"those "
		    "hours read as no data (a write cut short)\"", path,
		    (unsigned long long)torn);
	h->torn += torn;
	/* Its open incident, if one was saved, is its again. */
	for (uint64_t seq = h->next_seq; seq > 0 &&
	    seq + HISTORY_INCIDENTS > h->next_seq; seq--) {
		size_t i = (size_t)(seq % HISTORY_INCIDENTS);

		if (h->inc_seq[i] == seq && h->inc[i].end == 0 &&
		    strcmp(h->inc[i].rule, s->name) == 0) {
			s->incident = seq;
			break;
		}
	}
}

static int
cmp_start(const void *a, const void *b)
{
	const struct history_incident *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

struct history *
history_new(const char *dir)
{
	struct history *h = calloc(1, sizeof(*h));
	struct history_incident *in;
	struct stat st;
	size_t n;

	if (h == NULL)
		return NULL;
	atomic_init(&h->busy, 0);
	h->harvested = true;	/* no write yet to hear from */
	if (dir == NULL)
		return h;
	if ((h->dir = strdup(dir)) == NULL) {
		free(h);
		return NULL;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_err("event=history_dir_unusable path=%s error=\"%s\" "
		    "note=\"history is kept in memory only\"", dir,
		    strerror(errno));
		free(h->dir);
		h->dir = NULL;
		return h;
	}
	/*
	 * As the state file's directory: ours (or root's), writable by no
	 * one else, not a link; another user could otherwise plant files
	 * vigild, often root, reads back or writes through.
	 */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_err("event=history_dir_unusable path=%s error=\"not a "
		    "directory of vigild's user or root, writable by it "
		    "alone\" note=\"history is kept in memory only\"", dir);
		free(h->dir);
		h->dir = NULL;
		return h;
	}
	if ((in = calloc(HISTORY_INCIDENTS, sizeof(*in))) == NULL)
		return h;
	n = hfile_incidents_load(dir, clock_wall_ms(), in, HISTORY_INCIDENTS);
	qsort(in, n, sizeof(*in), cmp_start);
	for (size_t i = 0; i < n; i++) {
		uint64_t seq = ++h->next_seq;

		h->inc[seq % HISTORY_INCIDENTS] = in[i];
		h->inc_seq[seq % HISTORY_INCIDENTS] = seq;
	}
	free(in);
	return h;
}

void
history_sync_begin(struct history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->cap; i++)
		if (h->tab[i] != NULL)
			h->tab[i]->marked = false;
}

void
history_track(struct history *h, enum history_kind kind, const char *name,
    bool lower_worse)
{
	struct series *s;
	bool fresh;

	if (h == NULL)
		return;
	fresh = hist_find(h, name) == NULL;
	if ((s = hist_get(h, kind, name)) == NULL)
		return;
	if (fresh && h->dir != NULL)
		load_series(h, s);
	s->marked = true;
	s->lower_worse = lower_worse;
}

void
history_sync_end(struct history *h)
{
	char (*gone)[64];
	size_t n = 0;
	bool dirty = false;

	if (h == NULL || h->n == 0)
		return;
	if ((gone = calloc(h->n, sizeof(*gone))) == NULL)
		return;
	for (size_t i = 0; i < h->cap; i++) {
		struct series *s = h->tab[i];

		if (s == NULL || s->marked)
			continue;
		memcpy(gone[n++], s->name, sizeof(gone[0]));
		if (s->dirty_from != 0 || s->saving_from != 0)
			dirty = true;
		hist_close_incident(h, s, clock_wall_ms());
	}
	/* Their last minutes on disk before they leave memory. */
	if (dirty || (n > 0 && h->inc_dirty))
		history_save(h, clock_wall_ms(), 0, true);
	for (size_t j = 0; j < n; j++) {
		size_t i = hist_slot_of(h, gone[j]);

		if (h->tab[i] != NULL)
			hist_drop(h, i);
	}
	free(gone);
}

/* Saving */

static void
job_free(struct wjob *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->nfiles; i++) {
		free(j->files[i].hours);
		free(j->files[i].blocks);
	}
	free(j->files);
	free(j->inc);
	free(j);
}

static void
run_job(struct wjob *j)
{
	struct history *h = j->h;
	char step[32] = "";
	int err = 0;

	h->res_err = 0;
	for (size_t i = 0; i < j->nfiles; i++) {
		struct wfile *f = &j->files[i];
		char path[PATH_MAX];

		if (f->n == 0)
			continue;
		if (!hfile_path(path, sizeof(path), j->dir, f->kind,
		    f->name)) {
			snprintf(step, sizeof(step), "path");
			err = ENAMETOOLONG;
		} else {
			err = hfile_write(path, f->kind, f->name, f->hours,
			    f->blocks, f->n, step, sizeof(step));
		}
		if (err != 0 && h->res_err == 0) {
			h->res_err = err;
			snprintf(h->res_step, sizeof(h->res_step), "%s", step);
			snprintf(h->res_file, sizeof(h->res_file),
			    "%s-%s.hist", f->kind == HISTORY_PROBE ? "probe" :
			    "rule", f->name);
		}
	}
	if (j->inc != NULL) {
		err = hfile_incidents_write(j->dir, j->inc, j->inclen, step,
		    sizeof(step));
		if (err != 0 && h->res_err == 0) {
			h->res_err = err;
			snprintf(h->res_step, sizeof(h->res_step), "%s", step);
			snprintf(h->res_file, sizeof(h->res_file), "%s",
			    HFILE_INCIDENTS_NAME);
		}
	}
	job_free(j);
	atomic_store_explicit(&h->busy, 0, memory_order_release);
}

static void *
writer(void *arg)
{
	run_job(arg);
	return NULL;
}

/* What the last write said, once it is done; the loop's side. */
static void
harvest(struct history *h)
{
	if (!h->harvested &&
	    atomic_load_explicit(&h->busy, memory_order_acquire) == 0) {
		h->harvested = true;
		for (size_t i = 0; i < h->cap; i++) {
			struct series *s = h->tab[i];

			if (s == NULL || s->saving_from == 0)
				continue;
			if (h->res_err != 0 && (s->dirty_from == 0 ||
			    s->saving_from < s->dirty_from))
				s->dirty_from = s->saving_from;
			s->saving_from = 0;
			if (h->res_err == 0)
				hist_ring_trim(s);
		}
		if (h->res_err != 0) {
			if (h->inc_saving)
				h->inc_dirty = true;
			h->failures++;
			snprintf(h->last_error, sizeof(h->last_error),
			    "%s %s: %s", h->res_step, h->res_file,
			    strerror(h->res_err));
			if (!h->warned)
				log_err("event=history_write_failed step=%s "
				    "dir=%s file=%s error=\"%s\" note=\"retried; "
				    "polling goes on\"", h->res_step, h->dir,
				    h->res_file, strerror(h->res_err));
			h->warned = true;
		} else {
			h->writes++;
			h->last_saved = h->job_started;
			h->last_error[0] = '\0';
			if (h->warned)
				log_notice("event=history_write_ok path=%s",
				    h->dir);
			h->warned = false;
		}
		h->inc_saving = false;
	}
}

static void
encode_hour(const struct hblock *b, uint8_t *out)
{
	struct hfile_min recs[HFILE_BLOCK_MINUTES];

	for (int i = 0; i < HFILE_BLOCK_MINUTES; i++) {
		const struct hmin *m = &b->m[i];
		struct hfile_min *r = &recs[i];

		memset(r, 0, sizeof(*r));
		r->ok = m->ok;
		r->failed = m->failed;
		r->unknown = m->unknown;
		r->worst = m->worst;
		if (m->nval > 0) {
			r->has_value = true;
			r->min = m->vmin;
			r->avg = m->vsum / m->nval;
			r->max = m->vmax;
		}
	}
	hfile_block_encode(out, b->hour, recs);
}

/*
 * The changed hours of s still in the ring, into f; each block holds
 * its hour whole (from its first minute, or read back at load).
 */
static int
take_series(struct series *s, struct wfile *f)
{
	int32_t first = s->dirty_from / HFILE_BLOCK_MINUTES;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < s->nblocks; i++)
		if (s->blocks[i] != NULL && s->blocks[i]->hour != 0 &&
		    s->blocks[i]->hour >= first)
			n++;
	if (n == 0)
		return 0;
	f->kind = s->kind;
	memcpy(f->name, s->name, sizeof(f->name));
	f->hours = calloc(n, sizeof(*f->hours));
	f->blocks = malloc(n * HFILE_BLOCK_BYTES);
	if (f->hours == NULL || f->blocks == NULL)
		return -1;
	for (size_t i = 0; i < s->nblocks; i++) {
		const struct hblock *b = s->blocks[i];

		if (b == NULL || b->hour == 0 || b->hour < first)
			continue;
		f->hours[f->n] = b->hour;
		encode_hour(b, f->blocks + f->n * HFILE_BLOCK_BYTES);
		f->n++;
	}
	return 0;
}

static uint8_t *
take_incidents(const struct history *h, size_t *len)
{
	uint8_t *buf = calloc(1, HFILE_INC_FILE_BYTES);
	size_t n = 0;

	if (buf == NULL)
		return NULL;
	hfile_header(buf, HISTORY_PROBE, NULL);
	for (uint64_t seq = h->next_seq; seq > 0 &&
	    seq + HISTORY_INCIDENTS > h->next_seq; seq--) {
		size_t i = (size_t)(seq % HISTORY_INCIDENTS);

		if (h->inc_seq[i] == seq)
			hfile_incident_encode(buf + HFILE_HEADER_BYTES +
			    n++ * HFILE_INC_BYTES, &h->inc[i]);
	}
	*len = HFILE_INC_FILE_BYTES;
	return buf;
}

void
history_save(struct history *h, int64_t now, int64_t interval_ms, bool wait)
{
	struct wjob *j;
	pthread_t tid;
	pthread_attr_t attr;
	size_t want = 0;

	if (h == NULL || h->dir == NULL)
		return;
	if (wait) {
		while (atomic_load_explicit(&h->busy, memory_order_acquire))
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	harvest(h);
	if (atomic_load_explicit(&h->busy, memory_order_acquire) ||
	    (!wait && now - h->last_try < interval_ms))
		return;
	for (size_t i = 0; i < h->cap; i++)
		if (h->tab[i] != NULL && h->tab[i]->dirty_from != 0)
			want++;
	if (want == 0 && !h->inc_dirty)
		return;
	h->last_try = now;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (want > 0 && (j->files = calloc(want, sizeof(*j->files))) ==
	    NULL)) {
		free(j);
		return;
	}
	j->h = h;
	snprintf(j->dir, sizeof(j->dir), "%s", h->dir);
	for (size_t i = 0; i < h->cap; i++) {
		struct series *s = h->tab[i];

		if (s == NULL || s->dirty_from == 0)
			continue;
		if (take_series(s, &j->files[j->nfiles++]) != 0) {
			job_free(j);
			return;
		}
	}
	if (h->inc_dirty && (j->inc = take_incidents(h, &j->inclen)) == NULL) {
		job_free(j);
		return;
	}
	/* Committed: what was dirty is the job's now. */
	for (size_t i = 0; i < h->cap; i++) {
		struct series *s = h->tab[i];

		if (s != NULL && s->dirty_from != 0) {
			s->saving_from = s->dirty_from;
			s->dirty_from = 0;
		}
	}
	h->inc_saving = j->inc != NULL;
	h->inc_dirty = false;
	h->job_started = now;
	h->harvested = false;
	atomic_store_explicit(&h->busy, 1, memory_order_release);
	if (wait) {
		run_job(j);
		harvest(h);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, writer, j) != 0) {
		/* No thread: this one, now, rather than not at all. */
		run_job(j);
		harvest(h);
	}
	pthread_attr_destroy(&attr);
}

void
history_stats(const struct history *h, struct history_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (h == NULL)
		return;
	out->persistent = h->dir != NULL;
	for (size_t i = 0; i < h->cap; i++) {
		const struct series *s = h->tab[i];

		if (s == NULL)
			continue;
		(*(s->kind == HISTORY_PROBE ? &out->probes : &out->rules))++;
		out->bytes += sizeof(*s) + s->nblocks * sizeof(*s->blocks);
		for (size_t k = 0; k < s->nblocks; k++)
			if (s->blocks[k] != NULL)
				out->bytes += sizeof(*s->blocks[k]);
		out->bytes +=
		    (s->hours != NULL ? HIST_HOURS * sizeof(*s->hours) : 0) +
		    (s->days != NULL ? HISTORY_DAYS * sizeof(*s->days) : 0);
	}
	out->writes = h->writes;
	out->failures = h->failures;
	out->last_saved = h->last_saved;
	out->torn = h->torn;
	snprintf(out->last_error, sizeof(out->last_error), "%s",
	    h->last_error);
}

void
history_free(struct history *h)
{
	if (h == NULL)
		return;
	history_save(h, clock_wall_ms(), 0, true);
	for (size_t i = 0; i < h->cap; i++)
		hist_series_free(h->tab[i]);
	free(h->tab);
	free(h->dir);
	free(h);
}
