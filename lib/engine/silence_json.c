#include "engine/silence_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/duration.h"
#include "engine/silence.h"
#include "base/utf8.h"
#include "base/log.h"

static int
fail(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Copies a one-line text field into dst; -1 when it does not fit, is not
 * UTF-8 (every JSON answer would carry it for up to 30 days) or holds
 * control characters (they would break a log line or a terminal).
 */
static int
copy_text(char *dst, size_t dstlen, const char *src, const char *what,
    char *why, size_t whylen)
{
	switch (utf8_check_line(src, dstlen - 1)) {
	case UTF8_LINE_OK:
		break;
	case UTF8_LINE_LONG:
		return fail(why, whylen, "\"%s\" is longer than %zu bytes",
		    what, dstlen - 1);
	case UTF8_LINE_INVALID:
		return fail(why, whylen, "\"%s\" is not valid UTF-8", what);
	case UTF8_LINE_CONTROL:
		return fail(why, whylen, "\"%s\" must be one line of "
		    "text, without control characters", what);
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int
parse_matchers(const cJSON *m, struct silence *out, char *why, size_t len)
{
	const cJSON *e;

	if (!cJSON_IsObject(m))
		return fail(why, len, "\"matchers\" must be an object of "
		    "label: value strings");
	cJSON_ArrayForEach(e, m) {
		struct silence_matcher *sm;

		if (out->nmatchers == SILENCE_MAX_MATCHERS)
			return fail(why, len, "too many matchers (at most %d)",
			    SILENCE_MAX_MATCHERS);
		if (!cJSON_IsString(e))
			return fail(why, len, "matcher \"%.64s\" must be a "
			    "string", e->string);
		sm = &out->matchers[out->nmatchers++];
		if (e->string[0] == '\0')
			return fail(why, len, "a matcher needs a label name");
		if (copy_text(sm->key, sizeof(sm->key), e->string,
		    "matchers", why, len) != 0 ||
		    copy_text(sm->value, sizeof(sm->value), e->valuestring,
		    "matchers", why, len) != 0)
			return -1;
	}
	if (out->nmatchers == 0)
		return fail(why, len, "\"matchers\" is empty: it would "
		    "silence every rule");
	return 0;
}

static int
parse_expiry(const cJSON *at, const cJSON *dur, int64_t now,
    struct silence *out, char *why, size_t len)
{
	int64_t ms;

	if ((at == NULL) == (dur == NULL))
		return fail(why, len, "give exactly one of \"duration\" "
		    "(\"2h\") and \"expires_at\" (ISO-8601 or Unix seconds): "
		    "every silence ends");
	if (dur != NULL) {
		if (!cJSON_IsString(dur) ||
		    duration_parse(dur->valuestring, &ms) != 0 || ms <= 0)
			return fail(why, len, "\"duration\" must be a duration "
			    "such as \"30m\" or \"2h\"");
		out->expires = now + ms;
		return 0;
	}
	if (cJSON_IsNumber(at)) {
		if (!isfinite(at->valuedouble) || at->valuedouble < 0 ||
		    at->valuedouble > 253402300799.0)
			return fail(why, len, "\"expires_at\" is not a Unix "
			    "time in seconds");
		out->expires = (int64_t)(at->valuedouble * 1000.0);
		return 0;
	}
	if (!cJSON_IsString(at) || clock_parse_iso(at->valuestring, &ms) != 0)
		return fail(why, len, "\"expires_at\" must be an ISO-8601 "
		    "time with a zone (\"2026-03-02T12:00:00Z\") or Unix "
		    "seconds");
	out->expires = ms;
	return 0;
}

int
silence_parse(const char *body, size_t len, int64_t now,
    struct silence *out, char *why, size_t whylen)
{
	static const char *const keys[] = { "rule", "matchers", "author",
	    "comment", "duration", "expires_at", NULL };
	cJSON *doc;
	const cJSON *e, *at = NULL, *dur = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return fail(why, whylen, "expected a JSON object: {\"rule\": "
		    "..., \"author\": ..., \"comment\": ..., \"duration\": "
		    "\"2h\"}");
	}
	cJSON_ArrayForEach(e, doc) {
		size_t k;

		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], e->string) == 0)
				break;
		if (keys[k] == NULL) {
			rc = fail(why, whylen, "unknown key \"%.64s\" (expected "
			    "rule, matchers, author, comment, duration or "
			    "expires_at)", e->string);
			goto out;
		}
		if (strcmp(e->string, "rule") == 0) {
			if (!cJSON_IsString(e) || e->valuestring[0] == '\0') {
				rc = fail(why, whylen, "\"rule\" must be a rule "
				    "name");
				goto out;
			}
			rc = copy_text(out->rule, sizeof(out->rule),
			    e->valuestring, "rule", why, whylen);
		} else if (strcmp(e->string, "matchers") == 0) {
			rc = parse_matchers(e, out, why, whylen);
		} else if (strcmp(e->string, "author") == 0 ||
		    strcmp(e->string, "comment") == 0) {
			bool author = e->string[0] == 'a';

			if (!cJSON_IsString(e)) {
				rc = fail(why, whylen, "\"%s\" must be a string",
				    e->string);
				goto out;
			}
			rc = copy_text(author ? out->author : out->comment,
			    SILENCE_MAX_TEXT, e->valuestring, e->string, why,
			    whylen);
		} else if (strcmp(e->string, "duration") == 0) {
			dur = e;
		} else {
			at = e;
		}
		if (rc != 0)
			goto out;
	}
	rc = parse_expiry(at, dur, now, out, why, whylen);
out:
	cJSON_Delete(doc);
	return rc;
}

cJSON *
silence_json(const struct silence *x, int64_t now)
{
	cJSON *o = cJSON_CreateObject(), *m;
	char t[40];

	cJSON_AddNumberToObject(o, "id", (double)x->id);
	if (x->rule[0] != '\0')
		cJSON_AddStringToObject(o, "rule", x->rule);
	if (x->nmatchers > 0) {
		m = cJSON_AddObjectToObject(o, "matchers");
		for (size_t i = 0; i < x->nmatchers; i++)
			cJSON_AddStringToObject(m, x->matchers[i].key,
			    x->matchers[i].value);
	}
	cJSON_AddStringToObject(o, "author", x->author);
	cJSON_AddStringToObject(o, "comment", x->comment);
	clock_iso(x->created, t, sizeof(t));
	cJSON_AddStringToObject(o, "created", t);
	clock_iso(x->expires, t, sizeof(t));
	cJSON_AddStringToObject(o, "expires_at", t);
	cJSON_AddNumberToObject(o, "expires_in_s",
	    x->expires > now ? (double)((x->expires - now) / 1000) : 0);
	return o;
}

cJSON *
silences_save(const struct silences *sl)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < silences_count(sl); i++) {
		const struct silence *x = silences_at(sl, i);
		cJSON *o = cJSON_CreateObject(), *m;

		cJSON_AddNumberToObject(o, "id", (double)x->id);
		cJSON_AddStringToObject(o, "rule", x->rule);
		m = cJSON_AddObjectToObject(o, "matchers");
		for (size_t k = 0; k < x->nmatchers; k++)
			cJSON_AddStringToObject(m, x->matchers[k].key,
			    x->matchers[k].value);
		cJSON_AddStringToObject(o, "author", x->author);
		cJSON_AddStringToObject(o, "comment", x->comment);
		cJSON_AddNumberToObject(o, "created", (double)x->created);
		cJSON_AddNumberToObject(o, "expires", (double)x->expires);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static void
load_text(char *dst, size_t len, const cJSON *o, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(f))
		snprintf(dst, len, "%s", f->valuestring);
}

static int64_t
load_ms(const cJSON *o, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(f) ? (int64_t)f->valuedouble : 0;
}

size_t
silences_load(struct silences *sl, const cJSON *saved, int64_t now)
{
	const cJSON *o;
	const char *why;
	size_t n = 0;

	cJSON_ArrayForEach(o, saved) {
		struct silence x;
		const cJSON *f;

		memset(&x, 0, sizeof(x));
		f = cJSON_GetObjectItemCaseSensitive(o, "id");
		x.id = cJSON_IsNumber(f) && f->valuedouble >= 1 ?
		    (uint64_t)f->valuedouble : 0;
		x.expires = load_ms(o, "expires");
		x.created = load_ms(o, "created");
		if (x.id == 0 || x.expires <= now)
			continue;	/* expired while vigild was down */
		load_text(x.rule, sizeof(x.rule), o, "rule");
		load_text(x.author, sizeof(x.author), o, "author");
		load_text(x.comment, sizeof(x.comment), o, "comment");
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o,
		    "matchers")) {
			if (!cJSON_IsString(f) ||
			    x.nmatchers >= SILENCE_MAX_MATCHERS)
				continue;
			snprintf(x.matchers[x.nmatchers].key,
			    sizeof(x.matchers[0].key), "%s", f->string);
			snprintf(x.matchers[x.nmatchers].value,
			    sizeof(x.matchers[0].value), "%s", f->valuestring);
			x.nmatchers++;
		}
		if (silences_restore(sl, &x, now, &why) == 0)
			n++;
		else
			log_warn("event=silence_dropped id=%llu reason=\"%s\" "
			    "note=\"the saved silence is not one vigild "
			    "would make\"", (unsigned long long)x.id, LOG_Q(why));
	}
	return n;
}
