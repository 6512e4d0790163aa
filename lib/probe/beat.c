/*
 * beat: the last heartbeat of each job, and whether it is on time.
 */
#include "probe/beat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/duration.h"
#include "probe/probe.h"

struct beat_entry {
	char *name;
	struct beat beat;
};

struct beatboard {
	int64_t started;
	struct beat_entry *e;
	size_t n;
};

struct beatboard *
beatboard_new(int64_t started)
{
	struct beatboard *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->started = started;
	return b;
}

void
beatboard_free(struct beatboard *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->e[i].name);
	free(b->e);
	free(b);
}

int64_t
beatboard_started(const struct beatboard *b)
{
	return b->started;
}

static struct beat_entry *
find(const struct beatboard *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->e[i].name, name) == 0)
			return &b->e[i];
	return NULL;
}

/*
 * Only configured heartbeats reach here (the API answers 404 for the
 * rest), so the board grows with the configuration, never with requests.
 */
int
beatboard_record(struct beatboard *b, const char *name,
    const struct beat *beat)
{
	struct beat_entry *e = find(b, name), *ne;

	if (e == NULL) {
		ne = realloc(b->e, (b->n + 1) * sizeof(*ne));
		if (ne == NULL)
			return -1;
		b->e = ne;
		e = &b->e[b->n];
		if ((e->name = strdup(name)) == NULL)
			return -1;
		b->n++;
	}
	e->beat = *beat;
	return 0;
}

const struct beat *
beatboard_last(const struct beatboard *b, const char *name)
{
	const struct beat_entry *e = b != NULL ? find(b, name) : NULL;

	return e != NULL ? &e->beat : NULL;
}

cJSON *
beatboard_save(const struct beatboard *b)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o != NULL && b != NULL && i < b->n; i++) {
		const struct beat *x = &b->e[i].beat;
		cJSON *e = cJSON_AddObjectToObject(o, b->e[i].name);

		if (e == NULL)
			break;
		cJSON_AddNumberToObject(e, "at", (double)x->at);
		cJSON_AddBoolToObject(e, "failed", x->failed);
		cJSON_AddStringToObject(e, "msg", x->msg);
		if (x->duration_s >= 0)
			cJSON_AddNumberToObject(e, "duration_s", x->duration_s);
	}
	return o;
}

size_t
beatboard_restore(struct beatboard *b, const cJSON *o)
{
	const cJSON *e;
	size_t n = 0;

	cJSON_ArrayForEach(e, o) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "at");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "failed");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(e,
		    "duration_s");
		struct beat x = { .duration_s = -1 };

		if (n >= BEAT_RESTORE_MAX)
			break;
		/* vigild's own file, but a cut or edited one must not crash. */
		if (e->string == NULL || strlen(e->string) > 64 ||
		    !cJSON_IsNumber(at) || !cJSON_IsBool(f) ||
		    !cJSON_IsString(msg))
			continue;
		x.at = (int64_t)at->valuedouble;
		x.failed = cJSON_IsTrue(f);
		snprintf(x.msg, sizeof(x.msg), "%s", msg->valuestring);
		if (cJSON_IsNumber(d) && d->valuedouble >= 0)
			x.duration_s = d->valuedouble;
		if (beatboard_record(b, e->string, &x) == 0)
			n++;
	}
	return n;
}

bool
beat_judge(const struct beat *last, int64_t period_ms, int64_t grace_ms,
    int64_t started, int64_t now, char *reason, size_t len)
{
	char ago[32], every[32];

	reason[0] = '\0';
	if (last == NULL) {
		/* A fresh vigild gives the job a whole period to show up. */
		if (now - started <= period_ms + grace_ms)
			return true;
		duration_format((now - started) / 1000 * 1000, ago,
		    sizeof(ago));
		snprintf(reason, len, "no heartbeat since vigild started %s "
		    "ago", ago);
		return false;
	}
	if (now - last->at > period_ms + grace_ms) {
		/* Whole seconds: "2h3m", not "2h3m0s417ms". */
		duration_format((now - last->at) / 1000 * 1000, ago,
		    sizeof(ago));
		duration_format(period_ms, every, sizeof(every));
		snprintf(reason, len, "last heartbeat %s ago (expected every "
		    "%s)", ago, every);
		return false;
	}
	if (last->failed) {
		char q[BEAT_MSG_MAX + 16];

		probe_quote(last->msg, q, sizeof(q));
		snprintf(reason, len, "job reported failure: %s", q);
		return false;
	}
	return true;
}
