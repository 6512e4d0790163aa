#include "engine/maint.h"

#include <stdlib.h>
#include <string.h>

#include "base/tzfile.h"
#include "base/utf8.h"
#include "config/config.h"

#define DAY_S 86400
/* How far ahead a cron window's next day is looked for: 29 February. */
#define NEXT_DAYS (8 * 366)

struct owned {
	struct maint_window w;
	struct tz *tz;
};

/*
 * Whether each window is active, for one now: every rule asks (the
 * notifiers once per rule each pass), the answer is the same for all of
 * them, and a cron window's is a search.
 */
struct cache {
	int64_t now;
	bool valid;
	size_t n;
	bool *active;
	int64_t *start, *end;
};

struct maint {
	const struct maint_window *cfg;
	size_t ncfg;
	struct owned *api;
	size_t napi, alloc;
	uint64_t next_id;
	struct cache *cache;	/* filled by the const readers */
};

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The local day (days since 1970-01-01, local) at Unix ms t. */
static int64_t
local_day(const struct tz *tz, int64_t t)
{
	int64_t s = floor_div(t, 1000);

	return floor_div(s + tz_offset(tz, s), DAY_S);
}

/* Unix ms of local minute (day, hour, minute). */
static int64_t
at(const struct tz *tz, int64_t day, unsigned h, unsigned m)
{
	return tz_utc_of_local(tz, day * DAY_S + h * 3600 + m * 60) * 1000;
}

bool
maint_window_active(const struct maint_window *w, int64_t now,
    int64_t *start, int64_t *end)
{
	int64_t first, last;

	if (w->kind == MAINT_ONCE) {
		*start = w->start;
		*end = w->end;
		return w->start <= now && now < w->end;
	}
	/*
	 * The latest start at or before now, walking local minutes back
	 * from tomorrow to the day before now - duration: the occurrence
	 * that covers now, if any does, is that one (all last as long).
	 */
	last = local_day(w->tz, now) + 1;
	first = local_day(w->tz, now - w->duration_ms) - 1;
	for (int64_t d = last; d >= first; d--) {
		if (!maint_cron_day(&w->cron, d))
			continue;
		for (int h = 23; h >= 0; h--) {
			if (!(w->cron.hour & 1U << h))
				continue;
			for (int m = 59; m >= 0; m--) {
				int64_t s;

				if (!(w->cron.minute & 1ULL << m))
					continue;
				if ((s = at(w->tz, d, (unsigned)h,
				    (unsigned)m)) > now)
					continue;
				*start = s;
				*end = s + w->duration_ms;
				return now < *end;
			}
		}
	}
	return false;
}

bool
maint_window_next(const struct maint_window *w, int64_t now, int64_t *start,
    int64_t *end)
{
	int64_t d0;

	if (w->kind == MAINT_ONCE) {
		*start = w->start;
		*end = w->end;
		return w->start > now;
	}
	d0 = local_day(w->tz, now) - 1;
	for (int64_t d = d0; d < d0 + NEXT_DAYS; d++) {
		if (!maint_cron_day(&w->cron, d))
			continue;
		for (unsigned h = 0; h < 24; h++) {
			if (!(w->cron.hour & 1U << h))
				continue;
			for (unsigned m = 0; m < 60; m++) {
				int64_t s;

				if (!(w->cron.minute & 1ULL << m) ||
				    (s = at(w->tz, d, h, m)) <= now)
					continue;
				*start = s;
				*end = s + w->duration_ms;
				return true;
			}
		}
	}
	return false;
}

bool
maint_window_covers(const struct maint_window *w, const struct rule_cfg *rc)
{
	bool named = false;

	if (w->all)
		return true;
	for (size_t i = 0; i < w->nrules && !named; i++)
		named = strcmp(w->rules[i], rc->name) == 0;
	if (named)
		return true;
	if (w->nmatchers == 0)
		return false;
	for (size_t m = 0; m < w->nmatchers; m++) {
		bool found = false;

		for (size_t l = 0; l < rc->nlabels && !found; l++)
			found = strcmp(rc->labels[l].key,
			    w->matchers[m].key) == 0 &&
			    strcmp(rc->labels[l].value,
			    w->matchers[m].value) == 0;
		if (!found)
			return false;
	}
	return true;
}

struct maint *
maint_new(void)
{
	struct maint *mt = calloc(1, sizeof(*mt));

	if (mt == NULL)
		return NULL;
	if ((mt->cache = calloc(1, sizeof(*mt->cache))) == NULL) {
		free(mt);
		return NULL;
	}
	mt->next_id = 1;
	return mt;
}

static void
cache_clear(struct cache *c)
{
	free(c->active);
	free(c->start);
	free(c->end);
	memset(c, 0, sizeof(*c));
}

void
maint_free(struct maint *mt)
{
	if (mt == NULL)
		return;
	for (size_t i = 0; i < mt->napi; i++)
		tz_free(mt->api[i].tz);
	free(mt->api);
	cache_clear(mt->cache);
	free(mt->cache);
	free(mt);
}

void
maint_set_config(struct maint *mt, const struct maint_window *v, size_t n)
{
	mt->cfg = v;
	mt->ncfg = n;
	mt->cache->valid = false;
}

size_t
maint_count(const struct maint *mt)
{
	return mt->ncfg + mt->napi;
}

const struct maint_window *
maint_at(const struct maint *mt, size_t i)
{
	if (i < mt->ncfg)
		return &mt->cfg[i];
	return i - mt->ncfg < mt->napi ? &mt->api[i - mt->ncfg].w : NULL;
}

const struct maint_window *
maint_find(const struct maint *mt, uint64_t id)
{
	for (size_t i = 0; i < mt->napi; i++)
		if (mt->api[i].w.id == id)
			return &mt->api[i].w;
	return NULL;
}

/* What an API window must be, new or read back from the state file. */
static int
check(const struct maint *mt, const struct maint_window *w, int64_t now,
    const char **why)
{
	if (w->author[0] == '\0' || w->comment[0] == '\0') {
		*why = "a maintenance window needs an author and a comment: "
		    "whoever finds it later must know who and why";
		return -1;
	}
	if (utf8_check_line(w->name, sizeof(w->name) - 1) != UTF8_LINE_OK ||
	    utf8_check_line(w->author, sizeof(w->author) - 1) !=
	    UTF8_LINE_OK || utf8_check_line(w->comment,
	    sizeof(w->comment) - 1) != UTF8_LINE_OK || w->name[0] == '\0') {
		*why = "a text field is empty or not one line of UTF-8";
		return -1;
	}
	/* It is a path segment too: DELETE /maintenance/NAME. */
	if (strspn(w->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	    "VWXYZ0123456789_-.") != strlen(w->name) || w->name[0] == '.') {
		*why = "a window's name is letters, digits, \"_\", \"-\" and "
		    "\".\" (\"db-upgrade\")";
		return -1;
	}
	for (size_t i = 0; i < mt->napi; i++) {
		if (strcmp(mt->api[i].w.name, w->name) == 0) {
			*why = "a maintenance window of that name exists";
			return -1;
		}
	}
	if (!w->all && w->nrules == 0 && w->nmatchers == 0) {
		*why = "a maintenance window needs rules, labels or all";
		return -1;
	}
	if (w->kind == MAINT_ONCE && w->end <= now) {
		*why = "the window's end must be in the future";
		return -1;
	}
	if (w->kind == MAINT_ONCE && w->end - w->start > MAINT_MAX_ONCE_MS) {
		*why = "a one-off window made through the API may last at "
		    "most 30 days (declare longer ones in the configuration)";
		return -1;
	}
	if (w->kind != MAINT_ONCE && (w->duration_ms < 60000 ||
	    w->duration_ms > MAINT_MAX_DURATION_MS)) {
		*why = "a recurring window lasts from 1 minute to under 7 days";
		return -1;
	}
	for (size_t i = 0; i < mt->ncfg; i++) {
		if (strcmp(mt->cfg[i].name, w->name) == 0) {
			*why = "the configuration has a window of that name";
			return -1;
		}
	}
	if (mt->napi >= MAINT_MAX_API) {
		*why = "too many maintenance windows (at most 1000)";
		return -1;
	}
	return 0;
}

static int
push(struct maint *mt, const struct maint_window *in, struct tz *tz)
{
	if (mt->napi == mt->alloc) {
		size_t n = mt->alloc == 0 ? 4 : mt->alloc * 2;
		struct owned *v = realloc(mt->api, n * sizeof(*v));

		if (v == NULL)
			return -1;
		mt->api = v;
		mt->alloc = n;
	}
	mt->api[mt->napi].w = *in;
	mt->api[mt->napi].w.tz = tz;
	mt->api[mt->napi++].tz = tz;
	mt->cache->valid = false;
	return 0;
}

int
maint_add(struct maint *mt, const struct maint_window *in, struct tz *tz,
    int64_t now, uint64_t *id, const char **why)
{
	struct maint_window w = *in;

	maint_prune(mt, now);
	if (check(mt, &w, now, why) != 0) {
		tz_free(tz);
		return -1;
	}
	w.id = mt->next_id;
	w.created = now;
	if (push(mt, &w, tz) != 0) {
		tz_free(tz);
		*why = "out of memory";
		return -1;
	}
	*id = mt->next_id++;
	return 0;
}

int
maint_restore(struct maint *mt, const struct maint_window *in, struct tz *tz,
    int64_t now, const char **why)
{
	if (in->id == 0 || maint_find(mt, in->id) != NULL)
		*why = "no id, or an id already restored";
	else if (check(mt, in, now, why) == 0)
		*why = NULL;
	if (*why != NULL) {
		tz_free(tz);
		return -1;
	}
	if (push(mt, in, tz) != 0) {
		tz_free(tz);
		*why = "out of memory";
		return -1;
	}
	if (in->id >= mt->next_id)
		mt->next_id = in->id + 1;
	return 0;
}

static void
drop(struct maint *mt, size_t i)
{
	tz_free(mt->api[i].tz);
	memmove(&mt->api[i], &mt->api[i + 1],
	    (mt->napi - i - 1) * sizeof(*mt->api));
	mt->napi--;
	mt->cache->valid = false;
}

bool
maint_end(struct maint *mt, uint64_t id)
{
	for (size_t i = 0; i < mt->napi; i++) {
		if (mt->api[i].w.id == id) {
			drop(mt, i);
			return true;
		}
	}
	return false;
}

size_t
maint_prune(struct maint *mt, int64_t now)
{
	size_t n = 0;

	for (size_t i = mt->napi; i-- > 0;) {
		if (mt->api[i].w.kind == MAINT_ONCE && mt->api[i].w.end <= now) {
			drop(mt, i);
			n++;
		}
	}
	return n;
}

/* The cache made right for now; false when out of memory. */
static bool
refresh(const struct maint *mt, int64_t now)
{
	struct cache *c = mt->cache;
	size_t n = maint_count(mt);

	if (c->valid && c->now == now && c->n == n)
		return true;
	if (c->n != n || c->active == NULL) {
		cache_clear(c);
		c->active = calloc(n + 1, sizeof(*c->active));
		c->start = calloc(n + 1, sizeof(*c->start));
		c->end = calloc(n + 1, sizeof(*c->end));
		if (c->active == NULL || c->start == NULL || c->end == NULL) {
			cache_clear(c);
			return false;
		}
		c->n = n;
	}
	for (size_t i = 0; i < n; i++)
		c->active[i] = maint_window_active(maint_at(mt, i), now,
		    &c->start[i], &c->end[i]);
	c->now = now;
	c->valid = true;
	return true;
}

size_t
maint_active(const struct maint *mt, int64_t now, struct maint_view *out,
    size_t cap)
{
	size_t k = 0;
	int64_t s, e;

	for (size_t i = 0; i < maint_count(mt); i++) {
		const struct maint_window *w = maint_at(mt, i);
		bool on = refresh(mt, now) ? mt->cache->active[i] :
		    maint_window_active(w, now, &s, &e);

		if (!on)
			continue;
		if (k < cap) {
			out[k].w = w;
			out[k].start = mt->cache->valid ? mt->cache->start[i] : s;
			out[k].end = mt->cache->valid ? mt->cache->end[i] : e;
		}
		k++;
	}
	return k;
}

static int
view_cmp(const void *a, const void *b)
{
	const struct maint_view *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->w->name, y->w->name);
}

size_t
maint_next(const struct maint *mt, int64_t now, struct maint_view *out,
    size_t cap)
{
	size_t n = maint_count(mt), k = 0;
	struct maint_view *all;

	if (cap == 0 || n == 0 || (all = calloc(n, sizeof(*all))) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		all[k].w = maint_at(mt, i);
		if (maint_window_next(all[k].w, now, &all[k].start,
		    &all[k].end))
			k++;
	}
	qsort(all, k, sizeof(*all), view_cmp);
	if (k > cap)
		k = cap;
	memcpy(out, all, k * sizeof(*out));
	free(all);
	return k;
}

const struct maint_window *
maint_match(const struct maint *mt, const struct rule_cfg *rc, int64_t now,
    int64_t *end)
{
	int64_t s, e;

	for (size_t i = 0; i < maint_count(mt); i++) {
		const struct maint_window *w = maint_at(mt, i);

		if (!maint_window_covers(w, rc))
			continue;
		if (refresh(mt, now)) {
			if (!mt->cache->active[i])
				continue;
			e = mt->cache->end[i];
		} else if (!maint_window_active(w, now, &s, &e)) {
			continue;
		}
		if (end != NULL)
			*end = e;
		return w;
	}
	return NULL;
}
