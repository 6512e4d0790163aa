/*
 * deploytalk: when #incidents hears about a deploy, on a fake clock. Each
 * scenario is a table of looks: at time t the deploy is so, and exactly
 * these updates are owed.
 */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "notify/deploytalk.h"
#include "suites.h"

#define T0	1764387600000LL		/* 2025-11-29T03:40:00Z */
#define S	1000LL

struct look {
	int64_t t;
	uint64_t id;		/* 0: no deploy */
	bool open;
	unsigned nstages;
	const char *verdict;
	const char *want;	/* the kinds owed, in order: "begin,step" */
};

struct scenario {
	const char *name;
	int64_t interval;
	size_t max;		/* 0: TALK_MAX_EVENTS */
	struct look looks[16];
};

#define END	{ 0, 0, false, 0, NULL, NULL }

static const struct scenario scenarios[] = {
	{ "progress exactly every interval while open, none after end",
	    5 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 1 * S, 1, true, 0, "pass", "" },
		{ T0 + 5 * S - 1, 1, true, 0, "pass", "" },
		{ T0 + 5 * S, 1, true, 0, "pass", "progress" },
		{ T0 + 5 * S + 1, 1, true, 0, "pass", "" },
		{ T0 + 10 * S - 1, 1, true, 0, "pass", "" },
		{ T0 + 10 * S, 1, true, 0, "pass", "progress" },
		{ T0 + 15 * S + 500, 1, true, 0, "pass", "progress" },
		{ T0 + 16 * S, 1, false, 0, "pass", "end" },
		{ T0 + 20 * S, 1, false, 0, "pass", "" },
		{ T0 + 600 * S, 1, false, 0, "pass", "" },
		END } },
	{ "a stalled loop skips the missed slots, never a burst",
	    5 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 17 * S, 1, true, 0, "pass", "progress" },
		{ T0 + 18 * S, 1, true, 0, "pass", "" },
		{ T0 + 20 * S - 1, 1, true, 0, "pass", "" },
		{ T0 + 20 * S, 1, true, 0, "pass", "progress" },
		END } },
	{ "one update per verdict change, none for the same verdict",
	    60 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 1 * S, 1, true, 0, "warn", "verdict" },
		{ T0 + 2 * S, 1, true, 0, "warn", "" },
		{ T0 + 3 * S, 1, true, 0, "fail", "verdict" },
		{ T0 + 4 * S, 1, true, 0, "fail", "" },
		{ T0 + 5 * S, 1, false, 0, "fail", "end" },
		END } },
	{ "a verdict back to pass is a change too",
	    60 * S, 0, {
		{ T0, 1, true, 0, "inconclusive", "begin" },
		{ T0 + 1 * S, 1, true, 0, "pass", "verdict" },
		{ T0 + 2 * S, 1, true, 0, "pass", "" },
		END } },
	{ "the final verdict is the summary's, not a verdict update",
	    60 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 1 * S, 1, false, 0, "inconclusive", "end" },
		{ T0 + 2 * S, 1, false, 0, "inconclusive", "" },
		END } },
	{ "each stage once, in order",
	    60 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 1 * S, 1, true, 1, "pass", "step" },
		{ T0 + 2 * S, 1, true, 3, "pass", "step,step" },
		{ T0 + 3 * S, 1, true, 3, "pass", "" },
		{ T0 + 4 * S, 1, true, 4, "warn", "step,verdict" },
		END } },
	{ "every kind due at one look, in their order",
	    5 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 5 * S, 1, true, 1, "warn", "step,verdict,progress" },
		END } },
	{ "begun late: the begin stands for the slot due",
	    5 * S, 0, {
		{ T0 + 12 * S, 1, true, 0, "pass", "begin" },
		{ T0 + 15 * S - 1, 1, true, 0, "pass", "" },
		{ T0 + 15 * S, 1, true, 0, "pass", "progress" },
		END } },
	{ "a deploy begun and ended between two looks is told whole",
	    5 * S, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 1 * S, 1, false, 0, "pass", "end" },
		{ T0 + 30 * S, 2, false, 2, "fail", "begin,step,step,end" },
		{ T0 + 31 * S, 2, false, 2, "fail", "" },
		END } },
	{ "old news to a notifier that never told anything stays quiet",
	    5 * S, 0, {
		{ T0, 0, false, 0, "pass", "" },
		{ T0 + 1 * S, 3, false, 2, "pass", "" },
		{ T0 + 6 * S, 3, false, 2, "pass", "" },
		{ T0 + 7 * S, 4, true, 0, "pass", "begin" },
		END } },
	{ "more than fit in one look wait for the next, in order",
	    60 * S, 3, {
		{ T0, 1, true, 5, "pass", "begin,step,step" },
		{ T0 + 1 * S, 1, true, 5, "pass", "step,step,step" },
		{ T0 + 2 * S, 1, false, 5, "pass", "end" },
		END } },
	{ "a zero interval never sends progress",
	    0, 0, {
		{ T0, 1, true, 0, "pass", "begin" },
		{ T0 + 3600 * S, 1, true, 0, "pass", "" },
		END } },
};

static const char *
short_kind(enum talk_kind k)
{
	return talk_kind_name(k) + strlen("deploy_");
}

START_TEST(test_scenarios)
{
	const struct scenario *sc = &scenarios[_i];
	struct talk_told told;

	memset(&told, 0, sizeof(told));
	for (size_t i = 0; sc->looks[i].verdict != NULL; i++) {
		const struct look *l = &sc->looks[i];
		struct talk_deploy d;
		struct talk_event ev[TALK_MAX_EVENTS];
		char got[256] = "";
		size_t n;

		memset(&d, 0, sizeof(d));
		d.id = l->id;
		d.open = l->open;
		d.begun = T0;
		d.nstages = l->nstages;
		snprintf(d.verdict, sizeof(d.verdict), "%s", l->verdict);
		n = deploytalk_decide(sc->interval, &d, &told, l->t, ev,
		    sc->max != 0 ? sc->max : TALK_MAX_EVENTS);
		for (size_t k = 0; k < n; k++) {
			size_t len = strlen(got);

			snprintf(got + len, sizeof(got) - len, "%s%s",
			    k > 0 ? "," : "", short_kind(ev[k].kind));
		}
		ck_assert_msg(strcmp(got, l->want) == 0,
		    "%s, look %zu (t0+%lld ms): got \"%s\", want \"%s\"",
		    sc->name, i, (long long)(l->t - T0), got, l->want);
	}
}
END_TEST

START_TEST(test_event_details)
{
	struct talk_told told;
	struct talk_deploy d = { .id = 7, .open = true, .begun = T0,
	    .nstages = 2, .verdict = "pass" };
	struct talk_event ev[TALK_MAX_EVENTS];
	size_t n;

	memset(&told, 0, sizeof(told));
	n = deploytalk_decide(5 * S, &d, &told, T0, ev, TALK_MAX_EVENTS);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ev[1].stage, 0);
	ck_assert_uint_eq(ev[2].stage, 1);
	snprintf(d.verdict, sizeof(d.verdict), "fail");
	n = deploytalk_decide(5 * S, &d, &told, T0 + 1, ev, TALK_MAX_EVENTS);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ev[0].kind, TALK_VERDICT);
	ck_assert_str_eq(ev[0].was, "pass");
	ck_assert_str_eq(told.verdict, "fail");
}
END_TEST

/* What was told survives a restart: nothing is told twice. */
START_TEST(test_save_restore)
{
	struct talk_told told, back;
	struct talk_deploy d = { .id = 2, .open = true, .begun = T0,
	    .nstages = 1, .verdict = "warn" };
	struct talk_event ev[TALK_MAX_EVENTS];
	cJSON *o;

	memset(&told, 0, sizeof(told));
	ck_assert_uint_eq(deploytalk_decide(5 * S, &d, &told, T0 + S, ev,
	    TALK_MAX_EVENTS), 2);
	o = deploytalk_save(&told);
	deploytalk_restore(&back, o);
	cJSON_Delete(o);
	ck_assert_mem_eq(&back, &told, sizeof(told));
	ck_assert_uint_eq(deploytalk_decide(5 * S, &d, &back, T0 + 2 * S, ev,
	    TALK_MAX_EVENTS), 0);
	ck_assert_uint_eq(deploytalk_decide(5 * S, &d, &back, T0 + 5 * S, ev,
	    TALK_MAX_EVENTS), 1);
	deploytalk_restore(&back, NULL);
	ck_assert_uint_eq(back.id, 0);
}
END_TEST

/* The document's words: the gate's verdict while open, the final after. */
START_TEST(test_read_doc)
{
	struct talk_deploy d;
	cJSON *doc = cJSON_Parse("{\"id\": 4, \"open\": true, "
	    "\"begun\": \"2025-11-29T03:40:00.000Z\", \"stages\": "
	    "[{\"weight\": 10}, {\"weight\": 50}], \"gate\": {\"now\": "
	    "\"warn\", \"final\": \"inconclusive\"}, \"verdict\": {\"now\": "
	    "\"pass\", \"final\": \"fail\"}}");

	ck_assert(deploytalk_read(doc, &d));
	ck_assert_uint_eq(d.id, 4);
	ck_assert(d.open);
	ck_assert_int_eq(d.begun, T0);
	ck_assert_uint_eq(d.nstages, 2);
	ck_assert_str_eq(d.verdict, "warn");
	cJSON_ReplaceItemInObject(doc, "open", cJSON_CreateFalse());
	ck_assert(deploytalk_read(doc, &d));
	ck_assert_str_eq(d.verdict, "fail");
	cJSON_Delete(doc);
	ck_assert(!deploytalk_read(NULL, &d));
	ck_assert_uint_eq(d.id, 0);
}
END_TEST

Suite *
deploytalk_suite(void)
{
	Suite *s = suite_create("deploytalk");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_scenarios, 0,
	    (int)(sizeof(scenarios) / sizeof(scenarios[0])));
	tcase_add_test(tc, test_event_details);
	tcase_add_test(tc, test_save_restore);
	tcase_add_test(tc, test_read_doc);
	suite_add_tcase(s, tc);
	return s;
}
