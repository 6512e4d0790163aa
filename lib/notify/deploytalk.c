#include "notify/deploytalk.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonc.h"

const char *
talk_kind_name(enum talk_kind k)
{
	switch (k) {
	case TALK_BEGIN:
		return "deploy_begin";
	case TALK_STEP:
		return "deploy_step";
	case TALK_VERDICT:
		return "deploy_verdict";
	case TALK_PROGRESS:
		return "deploy_progress";
	case TALK_END:
		return "deploy_end";
	}
	return "?";
}

static bool
push(struct talk_event *out, size_t *n, size_t max, enum talk_kind k)
{
	if (*n >= max)
		return false;
	memset(&out[*n], 0, sizeof(out[*n]));
	out[(*n)++].kind = k;
	return true;
}

size_t
deploytalk_decide(int64_t interval_ms, const struct talk_deploy *d,
    struct talk_told *t, int64_t now, struct talk_event *out, size_t max)
{
	size_t n = 0;

	if (d->id == 0 || d->id < t->id)
		return 0;
	if (d->id != t->id) {
		bool fresh = t->id == 0;

		memset(t, 0, sizeof(*t));
		t->id = d->id;
		if (fresh && !d->open) {
			/* Old news to this notifier: adopt it silently. */
			t->begun = t->ended = true;
			t->steps = d->nstages;
			snprintf(t->verdict, sizeof(t->verdict), "%s",
			    d->verdict);
			return 0;
		}
	}
	if (t->ended)
		return 0;
	if (!t->begun) {
		if (!push(out, &n, max, TALK_BEGIN))
			return n;
		t->begun = true;
		/* The begin says the verdict so far: no change to tell. */
		snprintf(t->verdict, sizeof(t->verdict), "%s", d->verdict);
		/* On begun + k * interval; the begin stands for the slot due. */
		t->next_progress = d->begun + interval_ms;
		if (interval_ms > 0 && now >= t->next_progress)
			t->next_progress += ((now - t->next_progress) /
			    interval_ms + 1) * interval_ms;
	}
	while (t->steps < d->nstages) {
		if (!push(out, &n, max, TALK_STEP))
			return n;
		out[n - 1].stage = t->steps++;
	}
	/* An ended window's final verdict is the summary's to say. */
	if (d->open && strcmp(t->verdict, d->verdict) != 0) {
		if (!push(out, &n, max, TALK_VERDICT))
			return n;
		snprintf(out[n - 1].was, sizeof(out[n - 1].was), "%s",
		    t->verdict);
		snprintf(t->verdict, sizeof(t->verdict), "%s", d->verdict);
	}
	if (d->open && interval_ms > 0 && now >= t->next_progress) {
		if (!push(out, &n, max, TALK_PROGRESS))
			return n;
		/* The next slot after now: late slots are not made up. */
		t->next_progress += ((now - t->next_progress) / interval_ms +
		    1) * interval_ms;
	}
	if (!d->open) {
		if (!push(out, &n, max, TALK_END))
			return n;
		t->ended = true;
		snprintf(t->verdict, sizeof(t->verdict), "%s", d->verdict);
	}
	return n;
}

static int64_t
iso_ms(const cJSON *o, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
	int64_t ms = 0;

	if (cJSON_IsString(s) && clock_parse_iso(s->valuestring, &ms) == 0)
		return ms;
	return 0;
}

bool
deploytalk_read(const cJSON *doc, struct talk_deploy *d)
{
	const cJSON *st, *v;

	memset(d, 0, sizeof(*d));
	if (!cJSON_IsObject(doc))
		return false;
	d->id = (uint64_t)jsonc_number(doc, "id", 0);
	d->open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "open"));
	d->begun = iso_ms(doc, "begun");
	st = cJSON_GetObjectItemCaseSensitive(doc, "stages");
	d->nstages = cJSON_IsArray(st) ? (unsigned)cJSON_GetArraySize(st) : 0;
	/* Open: what vigilctl wait decides on now; ended: the deploy's. */
	v = d->open ? cJSON_GetObjectItemCaseSensitive(doc, "gate") :
	    cJSON_GetObjectItemCaseSensitive(doc, "verdict");
	snprintf(d->verdict, sizeof(d->verdict), "%s",
	    jsonc_string(v, d->open ? "now" : "final", "?"));
	return d->id != 0;
}

cJSON *
deploytalk_save(const struct talk_told *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)t->id);
	cJSON_AddBoolToObject(o, "begun", t->begun);
	cJSON_AddBoolToObject(o, "ended", t->ended);
	cJSON_AddNumberToObject(o, "steps", t->steps);
	cJSON_AddNumberToObject(o, "next_progress", (double)t->next_progress);
	cJSON_AddStringToObject(o, "verdict", t->verdict);
	return o;
}

void
deploytalk_restore(struct talk_told *t, const cJSON *o)
{
	memset(t, 0, sizeof(*t));
	if (!cJSON_IsObject(o))
		return;
	t->id = (uint64_t)jsonc_number(o, "id", 0);
	t->begun = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "begun"));
	t->ended = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ended"));
	t->steps = (unsigned)jsonc_number(o, "steps", 0);
	t->next_progress = (int64_t)jsonc_number(o, "next_progress", 0);
	snprintf(t->verdict, sizeof(t->verdict), "%s",
	    jsonc_string(o, "verdict", ""));
}
