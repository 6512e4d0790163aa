/*
 * store: the metric store. Every metric ("api_health.duration_ms") is a
 * series: a ring of (time, value) samples with a fixed maximum length, so
 * memory per metric is bounded and known: at most cap * sizeof(struct
 * sample) = cap * 16 bytes, plus the name. Rings start small and grow to
 * their cap, so a short history costs little.
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sample {
	int64_t t;	/* Unix time, milliseconds */
	double v;
};

struct series;
struct store;

struct store *store_new(void);
void store_free(struct store *st);

/*
 * Appends a sample to the named series, creating it with room for at most
 * cap samples (cap >= 2). A later call with another cap resizes the ring,
 * keeping the newest samples. Non-finite values are rejected (-EINVAL):
 * they would poison every aggregate. Returns 0 or a negative errno.
 */
int store_add(struct store *st, const char *name, int64_t t, double v,
    size_t cap);

const struct series *store_find(const struct store *st, const char *name);

/*
 * For a caller that adds to the same series at every run (the monitor,
 * a probe's metrics): the named series, created with cap as store_add
 * would (NULL: out of memory), to add to with series_add without looking
 * it up again. The pointer stays valid while store_gen is unchanged: the
 * generation moves whenever a series is removed.
 */
struct series *store_series(struct store *st, const char *name, size_t cap);
/* store_add on a series from store_series. */
int series_add(struct series *s, int64_t t, double v, size_t cap);
uint64_t store_gen(const struct store *st);

/* Removes the named series; false if there was none. */
bool store_drop(struct store *st, const char *name);
/* Removes every series whose name starts with prefix; returns how many. */
size_t store_drop_prefix(struct store *st, const char *prefix);

/* Number of series, and bytes held by all of them (names and rings). */
size_t store_count(const struct store *st);
size_t store_bytes(const struct store *st);

/* Calls fn for each series, in no particular order. */
void store_foreach(const struct store *st,
    void (*fn)(const struct series *s, void *arg), void *arg);

const char *series_name(const struct series *s);
size_t series_len(const struct series *s);
size_t series_cap(const struct series *s);
/* The i-th sample, 0 the oldest; false when i is out of range. */
bool series_at(const struct series *s, size_t i, struct sample *out);
bool series_last(const struct series *s, struct sample *out);
/* Index of the first sample with t >= since (series_len if none). */
size_t series_since(const struct series *s, int64_t since);

#endif
