#include "base/loglimit.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"

void
loglimit_init(struct loglimit *l, int64_t interval_ms, unsigned burst)
{
	memset(l, 0, sizeof(*l));
	l->interval_ms = interval_ms;
	l->burst = burst;
}

/* The kind's slot: found, added, or (the table full) the last one shared. */
static struct loglimit_kind *
slot(struct loglimit *l, const char *kind)
{
	if (kind == NULL)
		kind = "";
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->k[i].name, kind, LOGLIMIT_NAME - 1) == 0)
			return &l->k[i];
	if (l->n == LOGLIMIT_KINDS)
		return &l->k[LOGLIMIT_KINDS - 1];
	VIGIL_ASSERT(l->n < LOGLIMIT_KINDS);
	snprintf(l->k[l->n].name, LOGLIMIT_NAME, "%s", kind);
	l->k[l->n].start = INT64_MIN;
	return &l->k[l->n++];
}

bool
loglimit_allow(struct loglimit *l, const char *kind, int64_t now)
{
	struct loglimit_kind *k = slot(l, kind);

	if (k->start == INT64_MIN || now - k->start >= l->interval_ms) {
		/*
		 * A new interval. Its held count carries over if the caller
		 * did not take the summary first: told late, never lost.
		 */
		k->start = now;
		k->shown = 0;
	}
	if (k->shown < l->burst) {
		k->shown++;
		return true;
	}
	k->held++;
	return false;
}

bool
loglimit_summary(struct loglimit *l, int64_t now, char *name, size_t len,
    unsigned long *held, int64_t *span_ms)
{
	for (size_t i = 0; i < l->n; i++) {
		struct loglimit_kind *k = &l->k[i];

		if (k->held == 0 || (now != INT64_MAX &&
		    now - k->start < l->interval_ms))
			continue;
		snprintf(name, len, "%s", k->name);
		*held = k->held;
		*span_ms = (now == INT64_MAX ? k->start + l->interval_ms : now) -
		    k->start;
		k->held = 0;
		k->start = now;
		k->shown = 0;
		return true;
	}
	return false;
}
