#include "engine/maint_json.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/log.h"
#include "base/tzfile.h"
#include "config/maint_def.h"
#include "engine/maint.h"

/* What the state file adds to a definition. */
static const char *const saved_keys[] = { "id", "created", NULL };

static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

static int
lowest_bit(uint64_t v)
{
	for (int i = 0; i < 64; i++)
		if (v & 1ULL << i)
			return i;
	return 0;
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[40];

	clock_iso(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}

int
maint_parse(const char *body, size_t len, int64_t now, struct maint_window *w,
    struct tz **tz, char *why, size_t whylen)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	const cJSON *bad = NULL, *d;
	int64_t ms;
	int rc;

	*tz = NULL;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(why, whylen, "the body must be a JSON object (see "
		    "vigilctl maintenance add --help)");
		return -1;
	}
	/* "duration" alone: from now, the way a silence is made. */
	d = cJSON_GetObjectItemCaseSensitive(o, "duration");
	if (d != NULL && cJSON_GetObjectItemCaseSensitive(o, "start") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(o, "end") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(o, "days") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(o, "at") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(o, "cron") == NULL) {
		if (!cJSON_IsString(d) || duration_parse(d->valuestring,
		    &ms) != 0 || ms <= 0) {
			cJSON_Delete(o);
			snprintf(why, whylen, "\"duration\" must be a duration "
			    "(\"2h\")");
			return -1;
		}
		add_time(o, "start", now);
		add_time(o, "end", now + ms);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "duration");
	}
	rc = maint_window_read(o, NULL, w, tz, &bad, why, whylen);
	cJSON_Delete(o);
	return rc;
}

cJSON *
maint_window_json(const struct maint_window *w)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char buf[40];

	if (w->id != 0)
		cJSON_AddNumberToObject(o, "id", (double)w->id);
	cJSON_AddStringToObject(o, "name", w->name);
	if (w->all)
		cJSON_AddTrueToObject(o, "all");
	if (w->nrules > 0) {
		a = cJSON_AddArrayToObject(o, "rules");
		for (size_t i = 0; i < w->nrules; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(w->rules[i]));
	}
	if (w->nmatchers > 0) {
		a = cJSON_AddObjectToObject(o, "labels");
		for (size_t i = 0; i < w->nmatchers; i++)
			cJSON_AddStringToObject(a, w->matchers[i].key,
			    w->matchers[i].value);
	}
	switch (w->kind) {
	case MAINT_ONCE:
		add_time(o, "start", w->start);
		add_time(o, "end", w->end);
		break;
	case MAINT_WEEKLY:
		a = cJSON_AddArrayToObject(o, "days");
		for (unsigned d = 0; d < 7; d++)
			if (w->cron.dow & 1U << d)
				cJSON_AddItemToArray(a,
				    cJSON_CreateString(day_names[d]));
		snprintf(buf, sizeof(buf), "%02d:%02d",
		    lowest_bit(w->cron.hour), lowest_bit(w->cron.minute));
		cJSON_AddStringToObject(o, "at", buf);
		break;
	case MAINT_CRON:
		cJSON_AddStringToObject(o, "cron", w->spec);
		break;
	}
	if (w->kind != MAINT_ONCE) {
		duration_format(w->duration_ms, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "duration", buf);
	}
	cJSON_AddStringToObject(o, "timezone", w->tzname);
	if (w->author[0] != '\0')
		cJSON_AddStringToObject(o, "author", w->author);
	if (w->comment[0] != '\0')
		cJSON_AddStringToObject(o, "comment", w->comment);
	if (w->id != 0)
		add_time(o, "created", w->created);
	return o;
}

cJSON *
maint_status_json(const struct maint_window *w, int64_t now)
{
	cJSON *o = maint_window_json(w);
	int64_t s, e;
	bool on = maint_window_active(w, now, &s, &e);

	cJSON_AddStringToObject(o, "source", w->id != 0 ? "api" :
	    "configuration");
	cJSON_AddStringToObject(o, "kind", maint_kind_name(w->kind));
	cJSON_AddBoolToObject(o, "active", on);
	if (on) {
		add_time(o, "started_at", s);
		add_time(o, "ends_at", e);
	}
	if (maint_window_next(w, now, &s, &e)) {
		add_time(o, "next_start", s);
		add_time(o, "next_end", e);
	}
	return o;
}

cJSON *
maint_list_json(const struct maint *mt, int64_t now)
{
	cJSON *a = cJSON_CreateArray();
	const struct maint_window *w;

	for (size_t i = 0; (w = maint_at(mt, i)) != NULL; i++)
		cJSON_AddItemToArray(a, maint_status_json(w, now));
	return a;
}

cJSON *
maint_save(const struct maint *mt)
{
	cJSON *a = cJSON_CreateArray();
	const struct maint_window *w;

	for (size_t i = 0; (w = maint_at(mt, i)) != NULL; i++)
		if (w->id != 0)
			cJSON_AddItemToArray(a, maint_window_json(w));
	return a;
}

size_t
maint_load(struct maint *mt, const cJSON *saved, int64_t now)
{
	const cJSON *o;
	size_t n = 0;

	cJSON_ArrayForEach(o, saved) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
		const cJSON *cr = cJSON_GetObjectItemCaseSensitive(o, "created");
		const cJSON *bad;
		struct maint_window w;
		struct tz *tz;
		char why[300];
		const char *cwhy;

		if (maint_window_read(o, saved_keys, &w, &tz, &bad, why,
		    sizeof(why)) != 0) {
			log_warn("event=maintenance_dropped reason=\"%s\" "
			    "note=\"the saved window does not read\"",
			    LOG_Q(why));
			continue;
		}
		w.id = cJSON_IsNumber(id) && id->valuedouble >= 1 ?
		    (uint64_t)id->valuedouble : 0;
		if (!cJSON_IsString(cr) || clock_parse_iso(cr->valuestring,
		    &w.created) != 0)
			w.created = now;
		if (w.kind == MAINT_ONCE && w.end <= now) {
			tz_free(tz);
			continue;	/* ended while vigild was down */
		}
		if (maint_restore(mt, &w, tz, now, &cwhy) == 0)
			n++;
		else
			log_warn("event=maintenance_dropped id=%llu reason=\"%s\" "
			    "note=\"the saved window is not one vigild would "
			    "make\"", (unsigned long long)w.id, LOG_Q(cwhy));
	}
	return n;
}
