#include "engine/store.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

/*
 * A series carries its name's hash and the name itself: a lookup walks a
 * chain comparing hashes, and touches one more cache line only for the
 * match (every probe run looks up each of its metrics).
 */
struct series {
	struct series *next;	/* hash chain */
	uint64_t hash;
	struct sample *ring;
	size_t alloc;		/* slots allocated, <= cap */
	size_t cap;		/* most samples kept */
	size_t head;		/* index of the oldest sample */
	size_t len;
	char name[];
};

struct store {
	struct series **buckets;
	size_t nbuckets;	/* a power of two */
	size_t count;
	uint64_t gen;		/* moves when a series is freed */
};

#define STORE_MIN_BUCKETS 64
#define SERIES_FIRST_ALLOC 8

struct store *
store_new(void)
{
	struct store *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->nbuckets = STORE_MIN_BUCKETS;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	if (st->buckets == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

static void
series_free(struct series *s)
{
	if (s == NULL)
		return;
	free(s->ring);
	free(s);
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct series *s = st->buckets[i], *next;

		for (; s != NULL; s = next) {
			next = s->next;
			series_free(s);
		}
	}
	free(st->buckets);
	free(st);
}

static struct series **
store_slot(const struct store *st, const char *name)
{
	uint64_t h = hash64_str(name);
	struct series **pp = &st->buckets[h & (st->nbuckets - 1)];

	while (*pp != NULL && ((*pp)->hash != h ||
	    strcmp((*pp)->name, name) != 0))
		pp = &(*pp)->next;
	return pp;
}

/* Doubles the bucket array once the chains average more than one. */
static void
store_maybe_grow(struct store *st)
{
	size_t n = st->nbuckets * 2;
	struct series **b;

	if (st->count <= st->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (b == NULL)
		return;		/* longer chains, still correct */
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct series *s = st->buckets[i], *next;

		for (; s != NULL; s = next) {
			size_t j = s->hash & (n - 1);

			next = s->next;
			s->next = b[j];
			b[j] = s;
		}
	}
	free(st->buckets);
	st->buckets = b;
	st->nbuckets = n;
}

/* Re-lays the ring into a new allocation of n slots, oldest first. */
static int
series_relayout(struct series *s, size_t n)
{
	struct sample *r = malloc(n * sizeof(*r));
	size_t keep = s->len < n ? s->len : n;
	size_t skip = s->len - keep;

	if (r == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < keep; i++)
		r[i] = s->ring[(s->head + skip + i) % s->alloc];
	free(s->ring);
	s->ring = r;
	s->alloc = n;
	s->head = 0;
	s->len = keep;
	return 0;
}

struct series *
store_series(struct store *st, const char *name, size_t cap)
{
	struct series **pp = store_slot(st, name), *s = *pp;
	size_t n;

	if (s != NULL)
		return s;
	n = strlen(name);
	if ((s = calloc(1, sizeof(*s) + n + 1)) == NULL)
		return NULL;
	memcpy(s->name, name, n + 1);
	s->hash = hash64_str(name);
	s->cap = cap;
	*pp = s;
	st->count++;
	store_maybe_grow(st);
	return s;
}

int
series_add(struct series *s, int64_t t, double v, size_t cap)
{
	if (!isfinite(v) || cap < 2)
		return -EINVAL;
	if (cap != s->cap) {
		if (cap < s->alloc && series_relayout(s, cap) != 0)
			return -ENOMEM;
		s->cap = cap;
	}
	if (s->len == s->alloc && s->alloc < s->cap) {
		size_t n = s->alloc == 0 ? SERIES_FIRST_ALLOC : s->alloc * 2;

		if (n > s->cap)
			n = s->cap;
		if (series_relayout(s, n) != 0)
			return -ENOMEM;
	}
	/*
	 * Windows rely on time order. A wall clock stepped back (NTP) would
	 * break it, so such a sample takes its predecessor's time.
	 */
	/* Indexes wrap by a subtraction: a division per sample showed. */
	if (s->len > 0) {
		size_t li = s->head + s->len - 1;

		if (li >= s->alloc)
			li -= s->alloc;
		if (t < s->ring[li].t)
			t = s->ring[li].t;
	}
	if (s->len == s->alloc) {
		/* Full at its cap: the oldest sample makes room. */
		s->ring[s->head] = (struct sample){ t, v };
		if (++s->head == s->alloc)
			s->head = 0;
	} else {
		size_t i = s->head + s->len;

		if (i >= s->alloc)
			i -= s->alloc;
		s->ring[i] = (struct sample){ t, v };
		s->len++;
	}
	return 0;
}

int
store_add(struct store *st, const char *name, int64_t t, double v,
    size_t cap)
{
	struct series *s;

	if (!isfinite(v) || cap < 2)
		return -EINVAL;
	if ((s = store_series(st, name, cap)) == NULL)
		return -ENOMEM;
	return series_add(s, t, v, cap);
}

uint64_t
store_gen(const struct store *st)
{
	return st->gen;
}

const struct series *
store_find(const struct store *st, const char *name)
{
	return *store_slot(st, name);
}

bool
store_drop(struct store *st, const char *name)
{
	struct series **pp = store_slot(st, name), *s = *pp;

	if (s == NULL)
		return false;
	*pp = s->next;
	series_free(s);
	st->count--;
	st->gen++;
	return true;
}

size_t
store_drop_prefix(struct store *st, const char *prefix)
{
	size_t plen = strlen(prefix), dropped = 0;

	for (size_t i = 0; i < st->nbuckets; i++) {
		struct series **pp = &st->buckets[i];

		while (*pp != NULL) {
			struct series *s = *pp;

			if (strncmp(s->name, prefix, plen) == 0) {
				*pp = s->next;
				series_free(s);
				st->count--;
				st->gen++;
				dropped++;
			} else {
				pp = &s->next;
			}
		}
	}
	return dropped;
}

size_t
store_count(const struct store *st)
{
	return st->count;
}

static void
add_bytes(const struct series *s, void *arg)
{
	*(size_t *)arg += sizeof(*s) + strlen(s->name) + 1 +
	    s->alloc * sizeof(struct sample);
}

size_t
store_bytes(const struct store *st)
{
	size_t n = sizeof(*st) + st->nbuckets * sizeof(*st->buckets);

	store_foreach(st, add_bytes, &n);
	return n;
}

void
store_foreach(const struct store *st,
    void (*fn)(const struct series *s, void *arg), void *arg)
{
	for (size_t i = 0; i < st->nbuckets; i++)
		for (const struct series *s = st->buckets[i]; s != NULL;
		    s = s->next)
			fn(s, arg);
}

const char *
series_name(const struct series *s)
{
	return s->name;
}

size_t
series_len(const struct series *s)
{
	return s->len;
}

size_t
series_cap(const struct series *s)
{
	return s->cap;
}

bool
series_at(const struct series *s, size_t i, struct sample *out)
{
	if (i >= s->len)
		return false;
	*out = s->ring[(s->head + i) % s->alloc];
	return true;
}

bool
series_last(const struct series *s, struct sample *out)
{
	return s->len > 0 && series_at(s, s->len - 1, out);
}

size_t
series_since(const struct series *s, int64_t since)
{
	size_t lo = 0, hi = s->len;

	/* Samples are appended in time order, so binary search works. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ring[(s->head + mid) % s->alloc].t < since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
