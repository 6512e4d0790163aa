/*
 * maint: when windows are active, on a fake clock, in tables: weekly and
 * cron windows across midnight, across the week's end and across both
 * changes of offset in Berlin (a 02:30 start that does not exist in
 * spring, one that happens twice in autumn); one-offs; what a window
 * covers; the API's windows; and the configuration's mistakes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/tzfile.h"
#include "config/config.h"
#include "engine/maint.h"
#include "suites.h"

static int64_t
iso(const char *s)
{
	int64_t ms;

	ck_assert_msg(clock_parse_iso(s, &ms) == 0, "bad time %s", s);
	return ms;
}

/* A window from its JSON; *tz to free. */
static struct maint_window
mk(const char *json, struct tz **tz)
{
	struct maint_window w;
	cJSON *o = cJSON_Parse(json);
	const cJSON *bad = NULL;
	char why[300];

	ck_assert_ptr_nonnull(o);
	ck_assert_msg(maint_window_read(o, NULL, &w, tz, &bad, why,
	    sizeof(why)) == 0, "%s: %s", json, why);
	cJSON_Delete(o);
	return w;
}

static const char *const windows[] = {
	/* 0 */ "{\"name\":\"w\",\"all\":true,\"days\":[\"sun\"],\"at\":\"02:00\","
	    "\"duration\":\"2h\"}",
	/* 1: Berlin, Sunday 02:30 local, for 1 h: across both changes */
	"{\"name\":\"w\",\"all\":true,\"days\":[\"sun\"],\"at\":\"02:30\","
	    "\"duration\":\"1h\",\"timezone\":\"Europe/Berlin\"}",
	/* 2: every night across midnight */
	"{\"name\":\"w\",\"all\":true,\"days\":[\"*\"],\"at\":\"23:00\","
	    "\"duration\":\"2h\"}",
	/* 3: Sunday night into Monday, Berlin */
	"{\"name\":\"w\",\"all\":true,\"days\":[\"sunday\"],\"at\":\"22:00\","
	    "\"duration\":\"4h\",\"timezone\":\"Europe/Berlin\"}",
	/* 4: weekdays at 02:00 UTC */
	"{\"name\":\"w\",\"all\":true,\"cron\":\"0 2 * * 1-5\","
	    "\"duration\":\"30m\"}",
	/* 5: every quarter hour in Berlin's working hours */
	"{\"name\":\"w\",\"all\":true,\"cron\":\"*/15 9-17 * * *\","
	    "\"duration\":\"10m\",\"timezone\":\"Europe/Berlin\"}",
	/* 6: the 13th or a Friday (cron: both restricted, either day) */
	"{\"name\":\"w\",\"all\":true,\"cron\":\"0 0 13 * fri\","
	    "\"duration\":\"1h\"}",
	/* 7: one-off */
	"{\"name\":\"w\",\"all\":true,\"start\":\"2026-12-24T22:00:00Z\","
	    "\"end\":\"2026-12-25T01:00:00Z\"}",
	/* 8: one-off in local time (seconds optional) */
	"{\"name\":\"w\",\"all\":true,\"start\":\"2026-12-31T23:00:00\","
	    "\"end\":\"2027-01-01T01:00\",\"timezone\":\"Europe/Berlin\"}",
	/* 9: Berlin, daily 02:30 for 2 h: the autumn night's repeated hour */
	"{\"name\":\"w\",\"all\":true,\"days\":[\"*\"],\"at\":\"02:30\","
	    "\"duration\":\"2h\",\"timezone\":\"Europe/Berlin\"}",
};

START_TEST(test_scenarios)
{
	/* next: the next occurrence to start after now ("" none). */
	static const struct {
		int w;
		const char *now;
		bool active;
		const char *start, *end, *next;
	} cases[] = {
		{ 0, "2026-03-29T01:59:59Z", false, "", "",
		    "2026-03-29T02:00:00Z" },
		{ 0, "2026-03-29T02:00:00Z", true, "2026-03-29T02:00:00Z",
		    "2026-03-29T04:00:00Z", "2026-04-05T02:00:00Z" },
		{ 0, "2026-03-29T03:59:59.999Z", true, "2026-03-29T02:00:00Z",
		    "2026-03-29T04:00:00Z", "2026-04-05T02:00:00Z" },
		{ 0, "2026-03-29T04:00:00Z", false, "", "",
		    "2026-04-05T02:00:00Z" },
		/* Berlin, a winter Sunday: 02:30 CET is 01:30Z. */
		{ 1, "2026-03-22T01:30:00Z", true, "2026-03-22T01:30:00Z",
		    "2026-03-22T02:30:00Z", "2026-03-29T01:30:00Z" },
		/*
		 * Spring forward, 2026-03-29: 02:30 does not exist; the window
		 * starts at 03:30 CEST (01:30Z), the instant 02:30 CET would
		 * have been, and lasts its hour.
		 */
		{ 1, "2026-03-29T01:29:59Z", false, "", "",
		    "2026-03-29T01:30:00Z" },
		{ 1, "2026-03-29T01:30:00Z", true, "2026-03-29T01:30:00Z",
		    "2026-03-29T02:30:00Z", "2026-04-05T00:30:00Z" },
		{ 1, "2026-03-29T02:30:00Z", false, "", "",
		    "2026-04-05T00:30:00Z" },
		/* Summer: 02:30 CEST is 00:30Z. */
		{ 1, "2026-04-05T00:30:00Z", true, "2026-04-05T00:30:00Z",
		    "2026-04-05T01:30:00Z", "2026-04-12T00:30:00Z" },
		/*
		 * Fall back, 2026-10-25: 02:30 happens twice; the window is
		 * the first (00:30Z, CEST) for its hour, not again at the
		 * second 02:30 (01:30Z, CET).
		 */
		{ 1, "2026-10-25T00:29:59Z", false, "", "",
		    "2026-10-25T00:30:00Z" },
		{ 1, "2026-10-25T01:00:00Z", true, "2026-10-25T00:30:00Z",
		    "2026-10-25T01:30:00Z", "2026-11-01T01:30:00Z" },
		{ 1, "2026-10-25T01:45:00Z", false, "", "",
		    "2026-11-01T01:30:00Z" },
		{ 1, "2026-11-01T01:30:00Z", true, "2026-11-01T01:30:00Z",
		    "2026-11-01T02:30:00Z", "2026-11-08T01:30:00Z" },
		/* Across midnight. */
		{ 2, "2026-12-03T22:59:00Z", false, "", "",
		    "2026-12-03T23:00:00Z" },
		{ 2, "2026-12-03T23:30:00Z", true, "2026-12-03T23:00:00Z",
		    "2026-12-04T01:00:00Z", "2026-12-04T23:00:00Z" },
		{ 2, "2026-12-04T00:30:00Z", true, "2026-12-03T23:00:00Z",
		    "2026-12-04T01:00:00Z", "2026-12-04T23:00:00Z" },
		{ 2, "2026-12-04T01:00:00Z", false, "", "",
		    "2026-12-04T23:00:00Z" },
		/* Sunday night 22:00-02:00 Berlin spills into Monday. */
		{ 3, "2026-12-06T20:59:00Z", false, "", "",
		    "2026-12-06T21:00:00Z" },
		{ 3, "2026-12-07T00:30:00Z", true, "2026-12-06T21:00:00Z",
		    "2026-12-07T01:00:00Z", "2026-12-13T21:00:00Z" },
		{ 3, "2026-12-07T01:00:00Z", false, "", "",
		    "2026-12-13T21:00:00Z" },
		/* The last Sunday of the year into the new one. */
		{ 3, "2027-01-01T00:00:00Z", false, "", "",
		    "2027-01-03T21:00:00Z" },
		/* Weekdays by cron. */
		{ 4, "2026-12-04T02:10:00Z", true, "2026-12-04T02:00:00Z",
		    "2026-12-04T02:30:00Z", "2026-12-07T02:00:00Z" },
		{ 4, "2026-12-05T02:10:00Z", false, "", "",
		    "2026-12-07T02:00:00Z" },
		/* Quarter hours, Berlin (CET in December). */
		{ 5, "2026-12-03T08:05:00Z", true, "2026-12-03T08:00:00Z",
		    "2026-12-03T08:10:00Z", "2026-12-03T08:15:00Z" },
		{ 5, "2026-12-03T08:12:00Z", false, "", "",
		    "2026-12-03T08:15:00Z" },
		{ 5, "2026-12-03T16:50:00Z", true, "2026-12-03T16:45:00Z",
		    "2026-12-03T16:55:00Z", "2026-12-04T08:00:00Z" },
		{ 5, "2026-12-03T16:56:00Z", false, "", "",
		    "2026-12-04T08:00:00Z" },
		/* The 13th or a Friday. */
		{ 6, "2026-12-03T12:00:00Z", false, "", "",
		    "2026-12-04T00:00:00Z" },
		{ 6, "2026-12-12T12:00:00Z", false, "", "",
		    "2026-12-13T00:00:00Z" },
		{ 6, "2026-12-13T00:30:00Z", true, "2026-12-13T00:00:00Z",
		    "2026-12-13T01:00:00Z", "2026-12-18T00:00:00Z" },
		/* One-offs: start included, end not; none after. */
		{ 7, "2026-12-24T21:59:59Z", false, "", "",
		    "2026-12-24T22:00:00Z" },
		{ 7, "2026-12-25T00:00:00Z", true, "2026-12-24T22:00:00Z",
		    "2026-12-25T01:00:00Z", "" },
		{ 7, "2026-12-25T01:00:00Z", false, "", "", "" },
		{ 8, "2026-12-31T23:00:00Z", true, "2026-12-31T22:00:00Z",
		    "2027-01-01T00:00:00Z", "" },
		/*
		 * Daily 02:30 for 2 h on the autumn night: from the first
		 * 02:30 (00:30Z), two hours of elapsed time, to 02:30Z
		 * (03:30 CET), through the second 02:30.
		 */
		{ 9, "2026-10-25T01:45:00Z", true, "2026-10-25T00:30:00Z",
		    "2026-10-25T02:30:00Z", "2026-10-26T01:30:00Z" },
		{ 9, "2026-10-25T02:30:00Z", false, "", "",
		    "2026-10-26T01:30:00Z" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tz *tz;
		struct maint_window w = mk(windows[cases[i].w], &tz);
		int64_t now = iso(cases[i].now), s = 0, e = 0;
		bool on = maint_window_active(&w, now, &s, &e);

		ck_assert_msg(on == cases[i].active, "case %zu (%s): active %d",
		    i, cases[i].now, on);
		if (on) {
			ck_assert_msg(s == iso(cases[i].start) &&
			    e == iso(cases[i].end), "case %zu: %lld-%lld", i,
			    (long long)s, (long long)e);
		}
		if (cases[i].next[0] == '\0') {
			ck_assert_msg(!maint_window_next(&w, now, &s, &e),
			    "case %zu: a next one", i);
		} else {
			ck_assert_msg(maint_window_next(&w, now, &s, &e),
			    "case %zu: no next one", i);
			ck_assert_msg(s == iso(cases[i].next), "case %zu: next "
			    "%lld, not %lld", i, (long long)s,
			    (long long)iso(cases[i].next));
		}
		tz_free(tz);
	}
}
END_TEST

/* Every minute of a week in Berlin across the spring change, checked
 * against a plain scan: active exactly when some start <= t < end. */
START_TEST(test_active_agrees_with_next)
{
	struct tz *tz;
	struct maint_window w = mk("{\"name\":\"w\",\"all\":true,\"cron\":"
	    "\"30 1-3 * * 0,1\",\"duration\":\"45m\",\"timezone\":"
	    "\"Europe/Berlin\"}", &tz);
	int64_t t0 = iso("2026-03-27T00:00:00Z"), s, e, ns, ne;
	int64_t starts[64];
	size_t n = 0;

	/* The starts, from next(): each after the one before. */
	for (int64_t t = t0 - 86400000; maint_window_next(&w, t, &s, &e) &&
	    s < t0 + 5 * 86400000LL; t = s)
		starts[n++] = s;
	/* 6 starts, but spring's 02:30 is 03:30: 5. */
	ck_assert_uint_eq(n, 5);
	for (int64_t t = t0; t < t0 + 4 * 86400000LL; t += 60000) {
		bool want = false;

		for (size_t i = 0; i < n; i++)
			want |= starts[i] <= t && t < starts[i] + 45 * 60000;
		ck_assert_msg(maint_window_active(&w, t, &ns, &ne) == want,
		    "at %lld", (long long)t);
	}
	tz_free(tz);
}
END_TEST

START_TEST(test_covers)
{
	struct rule_label labels[] = { { (char *)"team", (char *)"web" },
	    { (char *)"tier", (char *)"1" } };
	struct rule_cfg rc;
	struct tz *tz;
	struct maint_window w;

	memset(&rc, 0, sizeof(rc));
	rc.name = (char *)"api_p95";
	rc.labels = labels;
	rc.nlabels = 2;
	w = mk("{\"name\":\"w\",\"rules\":[\"app_down\",\"api_p95\"],"
	    "\"days\":[\"sun\"],\"at\":\"02:00\",\"duration\":\"1h\"}", &tz);
	ck_assert(maint_window_covers(&w, &rc));
	rc.name = (char *)"db_conn";
	ck_assert(!maint_window_covers(&w, &rc));
	w = mk("{\"name\":\"w\",\"labels\":{\"team\":\"web\",\"tier\":\"1\"},"
	    "\"days\":[\"sun\"],\"at\":\"02:00\",\"duration\":\"1h\"}", &tz);
	ck_assert(maint_window_covers(&w, &rc));
	labels[1].value = (char *)"2";
	ck_assert(!maint_window_covers(&w, &rc));
	w = mk("{\"name\":\"w\",\"all\":true,"
	    "\"days\":[\"sun\"],\"at\":\"02:00\",\"duration\":\"1h\"}", &tz);
	ck_assert(maint_window_covers(&w, &rc));
}
END_TEST

START_TEST(test_set_active_next_match)
{
	struct maint *mt = maint_new();
	struct maint_window v[3];
	struct tz *tz[3];
	struct maint_view out[4];
	struct rule_cfg rc;
	int64_t now = iso("2026-12-06T02:30:00Z"), end = 0;
	const struct maint_window *x;

	v[0] = mk("{\"name\":\"nightly\",\"rules\":[\"db_conn\"],\"days\":"
	    "[\"*\"],\"at\":\"02:00\",\"duration\":\"1h\"}", &tz[0]);
	v[1] = mk("{\"name\":\"offpeak\",\"all\":true,\"days\":[\"sun\"],"
	    "\"at\":\"02:00\",\"duration\":\"2h\"}", &tz[1]);
	v[2] = mk("{\"name\":\"xmas\",\"all\":true,\"start\":"
	    "\"2026-12-24T22:00:00Z\",\"end\":\"2026-12-25T01:00:00Z\"}",
	    &tz[2]);
	maint_set_config(mt, v, 3);
	ck_assert_uint_eq(maint_count(mt), 3);
	/* Sunday 02:30Z: both recurring ones. */
	ck_assert_uint_eq(maint_active(mt, now, out, 4), 2);
	ck_assert_str_eq(out[0].w->name, "nightly");
	ck_assert_int_eq(out[0].end, iso("2026-12-06T03:00:00Z"));
	ck_assert_str_eq(out[1].w->name, "offpeak");
	ck_assert_int_eq(out[1].end, iso("2026-12-06T04:00:00Z"));
	/* A cap of 1 still counts both. */
	ck_assert_uint_eq(maint_active(mt, now, out, 1), 2);
	/* Next ones, soonest first. */
	ck_assert_uint_eq(maint_next(mt, now, out, 4), 3);
	ck_assert_str_eq(out[0].w->name, "nightly");
	ck_assert_int_eq(out[0].start, iso("2026-12-07T02:00:00Z"));
	ck_assert_str_eq(out[1].w->name, "offpeak");
	ck_assert_int_eq(out[1].start, iso("2026-12-13T02:00:00Z"));
	ck_assert_str_eq(out[2].w->name, "xmas");
	ck_assert_uint_eq(maint_next(mt, now, out, 1), 1);
	/* Matching: the first covering active window. */
	memset(&rc, 0, sizeof(rc));
	rc.name = (char *)"db_conn";
	x = maint_match(mt, &rc, now, &end);
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->name, "nightly");
	ck_assert_int_eq(end, iso("2026-12-06T03:00:00Z"));
	rc.name = (char *)"api_p95";
	ck_assert_str_eq(maint_match(mt, &rc, now, NULL)->name, "offpeak");
	/* Monday: nothing. */
	ck_assert_ptr_null(maint_match(mt, &rc, iso("2026-12-07T02:30:00Z"),
	    NULL));
	rc.name = (char *)"db_conn";
	ck_assert_ptr_nonnull(maint_match(mt, &rc,
	    iso("2026-12-07T02:30:00Z"), NULL));
	/* A reload drops them. */
	maint_set_config(mt, NULL, 0);
	ck_assert_uint_eq(maint_active(mt, now, out, 4), 0);
	ck_assert_ptr_null(maint_match(mt, &rc, now, NULL));
	maint_free(mt);
	maint_free(NULL);
}
END_TEST

START_TEST(test_api_windows)
{
	struct maint *mt = maint_new();
	struct maint_window cfgw, w;
	struct tz *tz, *ctz;
	struct maint_view out[4];
	int64_t now = iso("2026-12-03T10:00:00Z");
	const char *why = NULL;
	uint64_t id, id2;

	cfgw = mk("{\"name\":\"offpeak\",\"all\":true,\"days\":[\"sun\"],"
	    "\"at\":\"02:00\",\"duration\":\"2h\"}", &ctz);
	maint_set_config(mt, &cfgw, 1);
	w = mk("{\"name\":\"db-upgrade\",\"rules\":[\"db_conn\"],\"start\":"
	    "\"2026-12-03T09:00:00Z\",\"end\":\"2026-12-03T11:00:00Z\"}", &tz);
	/* No author or comment. */
	ck_assert_int_eq(maint_add(mt, &w, tz, now, &id, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "author and a comment"));
	snprintf(w.author, sizeof(w.author), "ana");
	snprintf(w.comment, sizeof(w.comment), "CHG-42");
	/* Ended already. */
	w.end = now;
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id, &why), -1);
	ck_assert_str_eq(why, "the window's end must be in the future");
	/* Too long. */
	w.end = now + 31 * 86400000LL;
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id, &why), -1);
	/* The configuration's name. */
	w.end = iso("2026-12-03T11:00:00Z");
	snprintf(w.name, sizeof(w.name), "offpeak");
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "configuration"));
	snprintf(w.name, sizeof(w.name), "db-upgrade");
	snprintf(w.name, sizeof(w.name), "db/upgrade");
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "letters, digits"));
	snprintf(w.name, sizeof(w.name), "db-upgrade");
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id, &why), 0);
	ck_assert_uint_eq(id, 1);
	/* The same name twice. */
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id2, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "of that name exists"));
	ck_assert_uint_eq(maint_count(mt), 2);
	ck_assert_ptr_nonnull(maint_find(mt, 1));
	ck_assert_int_eq(maint_find(mt, 1)->created, now);
	ck_assert_uint_eq(maint_active(mt, now, out, 4), 1);
	ck_assert_str_eq(out[0].w->name, "db-upgrade");
	/* A recurring one, then restored ids go on from the highest. */
	w = mk("{\"name\":\"weekly\",\"all\":true,\"author\":\"bo\","
	    "\"comment\":\"backups\",\"days\":[\"sat\"],\"at\":\"03:00\","
	    "\"duration\":\"1h\",\"timezone\":\"Europe/Berlin\"}", &tz);
	w.id = 7;
	ck_assert_int_eq(maint_restore(mt, &w, tz, now, &why), 0);
	ck_assert_int_eq(maint_restore(mt, &w, NULL, now, &why), -1);
	w.id = 0;
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id2, &why), -1);
	snprintf(w.name, sizeof(w.name), "weekly.2");
	ck_assert_int_eq(maint_add(mt, &w, NULL, now, &id2, &why), 0);
	ck_assert_uint_eq(id2, 8);
	ck_assert_uint_eq(maint_count(mt), 4);
	/* The one-off ends; pruning drops it, not the recurring ones. */
	ck_assert_uint_eq(maint_prune(mt, iso("2026-12-03T11:00:00Z")), 1);
	ck_assert_ptr_null(maint_find(mt, 1));
	ck_assert(maint_end(mt, 7));
	ck_assert(!maint_end(mt, 7));
	ck_assert_uint_eq(maint_count(mt), 2);
	maint_free(mt);
	tz_free(ctz);
}
END_TEST

static void
config_error(const char *maint, const char *want, int line, int col)
{
	char text[2048];
	struct config_errors errs;
	struct config *cfg;
	bool found = false;

	snprintf(text, sizeof(text), "{\"probes\": [{\"name\": \"app\", "
	    "\"type\": \"http\",\n\"url\": \"http://127.0.0.1:1/\"}],\n"
	    "\"maintenance\": [\n%s]}", maint);
	memset(&errs, 0, sizeof(errs));
	cfg = config_parse("t.json", text, strlen(text), &errs);
	ck_assert_ptr_null(cfg);
	for (size_t i = 0; i < errs.n; i++)
		found |= strstr(errs.v[i].msg, want) != NULL &&
		    errs.v[i].line == line && errs.v[i].col == col;
	ck_assert_msg(found, "wanted %d:%d %s; got %d:%d %s", line, col, want,
	    errs.n ? errs.v[0].line : 0, errs.n ? errs.v[0].col : 0,
	    errs.n ? errs.v[0].msg : "(none)");
	config_errors_clear(&errs);
}

START_TEST(test_config)
{
	const char *ok = "{\"probes\": [{\"name\": \"app\", \"type\": "
	    "\"http\", \"url\": \"http://127.0.0.1:1/\"}],\n"
	    "\"maintenance\": [{\"name\": \"offpeak\", \"all\": true, "
	    "\"days\": [\"sun\", \"wed\"], \"at\": \"02:00\", \"duration\": "
	    "\"1h\"}, {\"name\": \"patch\", \"rules\": [\"app_down\"], "
	    "\"cron\": \"0 3 1 * *\", \"duration\": \"2h\", \"timezone\": "
	    "\"America/New_York\"}]}";
	struct config_errors errs;
	struct config *cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_parse("t.json", ok, strlen(ok), &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	ck_assert_uint_eq(cfg->nmaint, 2);
	ck_assert_int_eq(cfg->maint[0].kind, MAINT_WEEKLY);
	ck_assert_str_eq(cfg->maint[0].spec, "02:00 Wed Sun");
	ck_assert_int_eq(cfg->maint[1].kind, MAINT_CRON);
	ck_assert_str_eq(tz_name(cfg->maint[1].tz), "America/New_York");
	config_free(cfg);

	config_error("{\"name\": \"x\", \"all\": true, \"cron\": "
	    "\"0 25 * * *\", \"duration\": \"1h\"}", "a value out of range at "
	    "column 3", 4, 36);
	/* A name past "sat" (the fuzzer's find: 7 has no name). */
	config_error("{\"name\": \"x\", \"all\": true, \"cron\": "
	    "\"0 0 * * xyz\", \"duration\": \"1h\"}", "out of range at column 9",
	    4, 36);
	config_error("{\"name\": \"x\", \"all\": true, \"cron\": \"0 2 * *\", "
	    "\"duration\": \"1h\"}", "5 fields", 4, 36);
	config_error("{\"name\": \"x\", \"all\": true, \"cron\": "
	    "\"0 0 31 2 *\", \"duration\": \"1h\"}", "never occurs", 4, 36);
	config_error("{\"name\": \"x\", \"all\": true, \"days\": [\"sun\"], "
	    "\"at\": \"02:00\", \"duration\": \"1h\", \"timezone\": "
	    "\"Europe/Atlantis\"}", "unknown time zone", 4, 90);
	config_error("{\"name\": \"x\", \"all\": true, \"days\": [\"sun\"], "
	    "\"at\": \"02:00\", \"duration\": \"1h\", \"timezone\": "
	    "\"../../etc/passwd\"}", "not a time zone name", 4, 90);
	config_error("{\"name\": \"x\", \"all\": true, \"start\": "
	    "\"2026-12-24T22:00:00Z\", \"end\": \"2026-12-24T21:00:00Z\"}",
	    "\"end\" must be after \"start\"", 4, 68);
	config_error("{\"name\": \"x\", \"all\": true, \"start\": "
	    "\"2026-12-24T22:00:61\", \"end\": \"2026-12-24T23:00:00\"}",
	    "\"start\" must be a time", 4, 37);
	config_error("{\"name\": \"x\", \"all\": true, \"days\": [\"sun\"], "
	    "\"at\": \"2:00\", \"duration\": \"1h\"}", "\"HH:MM\"", 4, 51);
	config_error("{\"name\": \"x\", \"all\": true, \"days\": [\"sunny\"], "
	    "\"at\": \"02:00\", \"duration\": \"1h\"}", "not a day", 4, 37);
	config_error("{\"name\": \"x\", \"all\": true, \"days\": [\"sun\"], "
	    "\"at\": \"02:00\", \"duration\": \"7d\"}", "\"duration\" must be",
	    4, 72);
	config_error("{\"name\": \"x\", \"days\": [\"sun\"], "
	    "\"at\": \"02:00\", \"duration\": \"1h\"}", "needs \"rules\"", 4,
	    1);
	config_error("{\"name\": \"x\", \"rules\": [\"nope\"], \"days\": "
	    "[\"sun\"], \"at\": \"02:00\", \"duration\": \"1h\"}",
	    "no rule named \"nope\"", 4, 25);
	config_error("{\"name\": \"x\", \"all\": true, \"cron\": \"0 2 * * *\", "
	    "\"days\": [\"sun\"], \"duration\": \"1h\"}", "is one of", 4, 1);
	config_error("{\"name\": \"x\", \"all\": true, \"crontab\": \"0 2 * * *\"}",
	    "unknown key \"crontab\"", 4, 39);
}
END_TEST

Suite *
maint_suite(void)
{
	Suite *s = suite_create("maint");
	TCase *tc = tcase_create("maint");

	tcase_add_test(tc, test_scenarios);
	tcase_add_test(tc, test_active_agrees_with_next);
	tcase_add_test(tc, test_covers);
	tcase_add_test(tc, test_set_active_next_match);
	tcase_add_test(tc, test_api_windows);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}
