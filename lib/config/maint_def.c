#include "config/maint_def.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/tzfile.h"
#include "base/utf8.h"

static const char *const months[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec",
};
static const char *const days[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};
static const char *const day_names[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday",
};

const char *
maint_kind_name(enum maint_kind k)
{
	return k == MAINT_ONCE ? "once" : k == MAINT_WEEKLY ? "weekly" :
	    "cron";
}

/* One value of a field: a number, or a name from names (3 letters). */
static const char *
cron_value(const char *p, unsigned lo, unsigned hi, const char *const *names,
    unsigned base, unsigned *out)
{
	unsigned v = 0;

	if (names != NULL && ((*p | 32) >= 'a' && (*p | 32) <= 'z')) {
		/* Day names stop at "sat": 7 (Sunday again) has none. */
		for (unsigned i = 0; i <= hi - lo && i < (base == 1 ? 12U : 7U);
		    i++) {
			if (strncasecmp(p, names[i], 3) == 0 &&
			    !(((p[3] | 32) >= 'a' && (p[3] | 32) <= 'z'))) {
				*out = i + base;
				return p + 3;
			}
		}
		return NULL;
	}
	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (unsigned)(*p - '0')) > hi)
			return NULL;
	if (v < lo)
		return NULL;
	*out = v;
	return p;
}

/*
 * One field, "*", "a", "a-b", each optionally "/step", comma-separated,
 * into bits; *star when it begins with "*".
 */
static const char *
cron_field(const char *p, unsigned lo, unsigned hi, const char *const *names,
    unsigned base, uint64_t *bits, bool *star, const char **why)
{
	*bits = 0;
	*star = *p == '*';
	for (;;) {
		unsigned a = lo, b = hi, step = 1;

		if (*p == '*') {
			p++;
		} else {
			if ((p = cron_value(p, lo, hi, names, base, &a)) ==
			    NULL) {
				*why = "a value out of range";
				return NULL;
			}
			b = a;
			if (*p == '-') {
				if ((p = cron_value(p + 1, lo, hi, names, base,
				    &b)) == NULL) {
					*why = "a value out of range";
					return NULL;
				}
				if (b < a) {
					*why = "a range that ends before it "
					    "starts";
					return NULL;
				}
			} else if (*p == '/') {
				b = hi;	/* "5/15": from 5 on, as Vixie cron */
			}
		}
		if (*p == '/') {
			if ((p = cron_value(p + 1, 1, hi, NULL, 0, &step)) ==
			    NULL) {
				*why = "a step that is not 1 or more";
				return NULL;
			}
		}
		for (unsigned v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		if (*p != ',')
			break;
		p++;
	}
	if (*p != ' ' && *p != '\t' && *p != '\0') {
		*why = "not a cron field (a number, a name, *, a-b, /n, lists)";
		return NULL;
	}
	return p;
}

int
maint_cron_parse(const char *s, struct maint_cron *c, const char **why,
    size_t *at)
{
	const char *p = s;
	uint64_t bits[5];
	bool star[5];
	static const unsigned lo[5] = { 0, 0, 1, 1, 0 }, hi[5] = {
		59, 23, 31, 12, 7,
	};

	memset(c, 0, sizeof(*c));
	for (int f = 0; f < 5; f++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0') {
			*why = "a cron expression has 5 fields: minute hour "
			    "day-of-month month day-of-week";
			*at = (size_t)(p - s);
			return -1;
		}
		*at = (size_t)(p - s);
		if ((p = cron_field(p, lo[f], hi[f], f == 3 ? months :
		    f == 4 ? days : NULL, f == 3 ? 1 : 0, &bits[f], &star[f],
		    why)) == NULL)
			return -1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0') {
		*why = "a cron expression has 5 fields: minute hour "
		    "day-of-month month day-of-week";
		*at = (size_t)(p - s);
		return -1;
	}
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	/* 7 is Sunday too. */
	c->dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);
	c->dom_any = star[2];
	c->dow_any = star[4];
	return 0;
}

bool
maint_cron_day(const struct maint_cron *c, int64_t day)
{
	int64_t y;
	unsigned m, d;
	bool dom, dow;

	tz_civil_from_days(day, &y, &m, &d);
	if (!(c->month & 1U << m))
		return false;
	dom = (c->dom & 1U << d) != 0;
	dow = (c->dow & 1U << tz_weekday(day)) != 0;
	return c->dom_any || c->dow_any ? dom && dow : dom || dow;
}

static const cJSON *
member(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int
err(const cJSON *node, const cJSON **bad, char *why, size_t len,
    const char *msg)
{
	*bad = node;
	snprintf(why, len, "%s", msg);
	return -1;
}

/* A string member into buf; 1 read, 0 absent, -1 wrong. */
static int
text(const cJSON *o, const char *key, char *buf, size_t size,
    const cJSON **bad, char *why, size_t len)
{
	const cJSON *m = member(o, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m) || utf8_check_line(m->valuestring, size - 1) !=
	    UTF8_LINE_OK) {
		*bad = m;
		snprintf(why, len, "\"%s\" must be one line of text, at most "
		    "%zu bytes", key, size - 1);
		return -1;
	}
	snprintf(buf, size, "%s", m->valuestring);
	return 1;
}

/* An instant: ISO-8601 with a zone, or local "YYYY-MM-DDTHH:MM[:SS]". */
static int
instant(const char *s, const struct tz *tz, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0, n = 0;

	if (clock_parse_iso(s, ms) == 0)
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &n) != 5 || n == 0)
		return -1;
	if (s[n] == ':') {
		int n2 = 0;

		if (sscanf(s + n, ":%2d%n", &sec, &n2) != 1 || n2 == 0)
			return -1;
		n += n2;
	}
	if (s[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59)
		return -1;
	*ms = tz_utc_of_local(tz, tz_days_from_civil(y, (unsigned)mo,
	    (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) * 1000;
	return 0;
}

static int
read_cover(const cJSON *o, struct maint_window *w, const cJSON **bad,
    char *why, size_t len)
{
	const cJSON *a, *e;

	if ((a = member(o, "all")) != NULL) {
		if (!cJSON_IsBool(a))
			return err(a, bad, why, len, "\"all\" must be true or "
			    "false");
		w->all = cJSON_IsTrue(a);
	}
	if ((a = member(o, "rules")) != NULL) {
		if (!cJSON_IsArray(a))
			return err(a, bad, why, len, "\"rules\" must be an "
			    "array of rule names");
		cJSON_ArrayForEach(e, a) {
			if (!cJSON_IsString(e) || strlen(e->valuestring) >=
			    sizeof(w->rules[0]))
				return err(e, bad, why, len, "a rule name must "
				    "be a string of at most 63 bytes");
			if (w->nrules == MAINT_MAX_RULES)
				return err(e, bad, why, len, "too many rules "
				    "(at most 32; labels cover more)");
			snprintf(w->rules[w->nrules++], sizeof(w->rules[0]),
			    "%s", e->valuestring);
		}
	}
	if ((a = member(o, "labels")) != NULL) {
		if (!cJSON_IsObject(a))
			return err(a, bad, why, len, "\"labels\" must be an "
			    "object of label: value");
		cJSON_ArrayForEach(e, a) {
			struct maint_matcher *m = &w->matchers[w->nmatchers];

			if (w->nmatchers == MAINT_MAX_MATCHERS)
				return err(e, bad, why, len, "too many label "
				    "matchers (at most 8)");
			if (!cJSON_IsString(e) || strlen(e->string) >=
			    sizeof(m->key) || strlen(e->valuestring) >=
			    sizeof(m->value))
				return err(e, bad, why, len, "a label's value "
				    "must be a string (keys at most 63 bytes, "
				    "values 127)");
			snprintf(m->key, sizeof(m->key), "%s", e->string);
			snprintf(m->value, sizeof(m->value), "%s",
			    e->valuestring);
			w->nmatchers++;
		}
	}
	if (!w->all && w->nrules == 0 && w->nmatchers == 0)
		return err(o, bad, why, len, "a maintenance window needs "
		    "\"rules\", \"labels\" or \"all\": true");
	if (w->all && (w->nrules > 0 || w->nmatchers > 0))
		return err(member(o, "all"), bad, why, len, "\"all\": true "
		    "covers every rule; drop \"rules\" and \"labels\"");
	return 0;
}

/* "days" + "at" into the cron fields they amount to. */
static int
read_weekly(const cJSON *o, struct maint_window *w, const cJSON **bad,
    char *why, size_t len)
{
	const cJSON *a = member(o, "days"), *at = member(o, "at"), *e;
	unsigned h, mi;
	int n = 0;
	size_t off;

	if (at == NULL)
		return err(o, bad, why, len, "a weekly window needs \"at\": "
		    "its local start time, \"HH:MM\"");
	if (!cJSON_IsString(at) || sscanf(at->valuestring, "%2u:%2u%n", &h,
	    &mi, &n) != 2 || at->valuestring[n] != '\0' || n != 5 || h > 23 ||
	    mi > 59)
		return err(at, bad, why, len, "\"at\" must be a local time "
		    "\"HH:MM\" (00:00 to 23:59)");
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
		return err(a, bad, why, len, "\"days\" must be a non-empty "
		    "array of days (\"mon\" ... \"sun\", or \"*\")");
	w->cron.minute = 1ULL << mi;
	w->cron.hour = 1U << h;
	w->cron.dom = 0xfffffffe;
	w->cron.month = 0x1ffe;
	w->cron.dom_any = true;
	cJSON_ArrayForEach(e, a) {
		bool found = false;

		for (unsigned d = 0; cJSON_IsString(e) && d < 7; d++) {
			if (strcasecmp(e->valuestring, days[d]) == 0 ||
			    strcasecmp(e->valuestring, day_names[d]) == 0 ||
			    strcmp(e->valuestring, "*") == 0) {
				w->cron.dow |= (uint8_t)(1U << d);
				found = true;
			}
		}
		if (!found)
			return err(e, bad, why, len, "not a day (\"mon\" ... "
			    "\"sun\", \"monday\" ..., or \"*\" for every day)");
	}
	off = (size_t)snprintf(w->spec, sizeof(w->spec), "%02u:%02u", h, mi);
	for (unsigned d = 0; d < 7; d++) {
		unsigned dd = (d + 1) % 7;	/* Monday first, as people do */

		if (w->cron.dow == 0x7f) {
			snprintf(w->spec + off, sizeof(w->spec) - off, " daily");
			break;
		}
		if (w->cron.dow & 1U << dd)
			off += (size_t)snprintf(w->spec + off,
			    sizeof(w->spec) - off, " %c%s",
			    days[dd][0] - 32, days[dd] + 1);
	}
	return 0;
}

int
maint_window_read(const cJSON *o, const char *const *extra,
    struct maint_window *w, struct tz **tz, const cJSON **bad, char *why,
    size_t whylen)
{
	static const char *const keys[] = {
		"name", "rules", "labels", "all", "start", "end", "days", "at",
		"cron", "duration", "timezone", "comment", "author", NULL,
	};
	const cJSON *e, *d;
	char zerr[200];
	int forms;

	memset(w, 0, sizeof(*w));
	*tz = NULL;
	if (!cJSON_IsObject(o))
		return err(o, bad, why, whylen, "a maintenance window must be "
		    "an object");
	cJSON_ArrayForEach(e, o) {
		bool known = false;

		for (size_t i = 0; keys[i] != NULL && !known; i++)
			known = strcmp(e->string, keys[i]) == 0;
		for (size_t i = 0; extra != NULL && extra[i] != NULL && !known;
		    i++)
			known = strcmp(e->string, extra[i]) == 0;
		if (!known) {
			*bad = e;
			snprintf(why, whylen, "unknown key \"%.64s\" in a "
			    "maintenance window", e->string);
			return -1;
		}
	}
	if (text(o, "name", w->name, sizeof(w->name), bad, why, whylen) <= 0)
		return member(o, "name") == NULL ? err(o, bad, why, whylen,
		    "a maintenance window needs a \"name\"") : -1;
	if (text(o, "comment", w->comment, sizeof(w->comment), bad, why,
	    whylen) < 0 || text(o, "author", w->author, sizeof(w->author), bad,
	    why, whylen) < 0 || read_cover(o, w, bad, why, whylen) != 0)
		return -1;
	snprintf(w->tzname, sizeof(w->tzname), "UTC");
	if (text(o, "timezone", w->tzname, sizeof(w->tzname), bad, why,
	    whylen) < 0)
		return -1;
	if (tz_load(w->tzname, tz, zerr, sizeof(zerr)) != TZ_OK) {
		*bad = member(o, "timezone");
		snprintf(why, whylen, "\"%s\": %s", w->tzname, zerr);
		return -1;
	}
	w->tz = *tz;
	forms = (member(o, "start") != NULL || member(o, "end") != NULL) +
	    (member(o, "days") != NULL || member(o, "at") != NULL) +
	    (member(o, "cron") != NULL);
	if (forms != 1)
		return err(o, bad, why, whylen, "a maintenance window is one of "
		    "\"start\" + \"end\" (once), \"days\" + \"at\" + "
		    "\"duration\" (weekly) or \"cron\" + \"duration\"");
	if (member(o, "start") != NULL) {
		const cJSON *s = member(o, "start"), *en = member(o, "end");

		w->kind = MAINT_ONCE;
		if (s == NULL || en == NULL)
			return err(o, bad, why, whylen, "a one-off window needs "
			    "both \"start\" and \"end\"");
		if (!cJSON_IsString(s) || instant(s->valuestring, w->tz,
		    &w->start) != 0)
			return err(s, bad, why, whylen, "\"start\" must be a "
			    "time: \"2026-12-24T22:00:00Z\", or local in "
			    "\"timezone\": \"2026-12-24T22:00\"");
		if (!cJSON_IsString(en) || instant(en->valuestring, w->tz,
		    &w->end) != 0)
			return err(en, bad, why, whylen, "\"end\" must be a "
			    "time: \"2026-12-24T23:00:00Z\", or local in "
			    "\"timezone\": \"2026-12-24T23:00\"");
		if (w->end <= w->start)
			return err(en, bad, why, whylen, "\"end\" must be after "
			    "\"start\"");
		if (member(o, "duration") != NULL)
			return err(member(o, "duration"), bad, why, whylen,
			    "a one-off window has \"start\" and \"end\", no "
			    "\"duration\"");
		snprintf(w->spec, sizeof(w->spec), "once");
		return 0;
	}
	if ((e = member(o, "cron")) != NULL) {
		const char *cwhy;
		size_t at;

		w->kind = MAINT_CRON;
		if (!cJSON_IsString(e) || strlen(e->valuestring) >=
		    sizeof(w->spec))
			return err(e, bad, why, whylen, "\"cron\" must be a "
			    "5-field cron expression: \"0 2 * * sun\"");
		if (maint_cron_parse(e->valuestring, &w->cron, &cwhy, &at) !=
		    0) {
			*bad = e;
			snprintf(why, whylen, "\"cron\": %s at column %zu of "
			    "\"%s\"", cwhy, at + 1, e->valuestring);
			return -1;
		}
		snprintf(w->spec, sizeof(w->spec), "%s", e->valuestring);
		/* 28 years from 2001: every weekday on every date. */
		for (at = 0; at < 28 * 366; at++)
			if (maint_cron_day(&w->cron, tz_days_from_civil(2001, 1,
			    1) + (int64_t)at))
				break;
		if (at == 28 * 366)
			return err(e, bad, why, whylen, "\"cron\": this "
			    "expression never occurs (no such date)");
	} else {
		w->kind = MAINT_WEEKLY;
		if (read_weekly(o, w, bad, why, whylen) != 0)
			return -1;
	}
	if ((d = member(o, "duration")) == NULL)
		return err(o, bad, why, whylen, "a recurring window needs a "
		    "\"duration\" (\"2h\")");
	if (!cJSON_IsString(d) || duration_parse(d->valuestring,
	    &w->duration_ms) != 0 || w->duration_ms < 60000 ||
	    w->duration_ms > MAINT_MAX_DURATION_MS)
		return err(d, bad, why, whylen, "\"duration\" must be a "
		    "duration from \"1m\" to \"6d23h59m\" (\"2h\")");
	return 0;
}
