/*
 * ruleset: the store and probe facts turned into rule inputs, on a fake
 * clock: staleness noticed by the clock alone (no new sample), and a
 * rule held by a failing dependency instead of firing on its own.
 */
#include <string.h>

#include <check.h>

#include "config/config.h"
#include "engine/rules.h"
#include "engine/ruleset.h"
#include "engine/store.h"
#include "suites.h"

#define S	1000		/* one second of the fake clock, in ms */
#define T0	1700000000000LL	/* Unix ms: the first run */

static const char cfg_text[] =
    "{ \"probes\": [ { \"name\": \"app\", \"type\": \"http\","
    "  \"url\": \"http://127.0.0.1:1/\", \"interval\": \"1s\","
    "  \"timeout\": \"500ms\", \"metrics\": { \"p95_ms\": \"/p95\" } } ],"
    "  \"rules\": [ { \"name\": \"p95\", \"metric\": \"app.p95_ms\","
    "  \"op\": \">\", \"warn\": 500, \"crit\": 1000, \"unit\": \"ms\","
    "  \"summary\": \"API p95 {value} ms, threshold {threshold} ms\","
    "  \"depends_on\": \"app_down\" } ] }";

struct fx {
	struct config *cfg;
	struct config_errors errs;
	struct ruleset *rs;
	struct store *st;
	struct probe_fact fact;
};

static void
fx_init_text(struct fx *f, const char *text)
{
	memset(f, 0, sizeof(*f));
	f->cfg = config_parse("test.json", text, strlen(text), &f->errs);
	ck_assert_ptr_nonnull(f->cfg);
	f->rs = ruleset_new(f->cfg, NULL);
	ck_assert_ptr_nonnull(f->rs);
	f->st = store_new();
	ck_assert_ptr_nonnull(f->st);
	f->fact.interval_ms = 1 * S;
	f->fact.timeout_ms = S / 2;
}

static void
fx_init(struct fx *f)
{
	fx_init_text(f, cfg_text);
}

static void
fx_free(struct fx *f)
{
	ruleset_free(f->rs);
	store_free(f->st);
	config_free(f->cfg);
	config_errors_clear(&f->errs);
}

/* One run of the probe at t: its p95 and its debounced down state. */
static void
run(struct fx *f, int64_t t, double p95, bool down)
{
	ck_assert_int_eq(store_add(f->st, "app.p95_ms", t, p95, 100), 0);
	ck_assert_int_eq(store_add(f->st, "app.down", t, down ? 1 : 0, 100),
	    0);
	f->fact.has_run = true;
	f->fact.last_up = !down;
	f->fact.last_started = t;
	f->fact.last_finished = t + 10;
	f->fact.reason = down ? "status 500, expected 2xx" : "";
}

static const struct rule_status *
rule(const struct fx *f, const char *name)
{
	for (size_t i = 0; i < ruleset_count(f->rs); i++)
		if (strcmp(ruleset_cfg(f->rs, i)->name, name) == 0)
			return ruleset_status(f->rs, i);
	ck_abort_msg("no rule %s", name);
	return NULL;
}

START_TEST(test_stale_on_the_clock_alone)
{
	struct fx f;
	const struct rule_status *st;

	fx_init(&f);
	run(&f, T0, 120, false);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 20);
	ck_assert_int_eq(rule(&f, "p95")->state, RULE_OK);
	/* Within three intervals the last sample still counts. */
	ruleset_eval(f.rs, f.st, &f.fact, RULESET_ALL, T0 + 2 * S);
	ck_assert_int_eq(rule(&f, "p95")->state, RULE_OK);
	/* Past them, with no new sample and no new run: unknown, and why. */
	ruleset_eval(f.rs, f.st, &f.fact, RULESET_ALL, T0 + 4 * S);
	st = rule(&f, "p95");
	ck_assert_int_eq(st->state, RULE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(st->why, "stale: last sample of "
	    "app.p95_ms"));
	ck_assert_ptr_nonnull(strstr(st->why, "(stale after 3s)"));
	/* A fresh sample brings it back. */
	run(&f, T0 + 5 * S, 130, false);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 5 * S + 20);
	ck_assert_int_ne(rule(&f, "p95")->state, RULE_UNKNOWN);
	fx_free(&f);
}
END_TEST

START_TEST(test_failing_dependency_holds_the_rule)
{
	struct fx f;
	const struct rule_status *st;

	fx_init(&f);
	/* Down, with a p95 past critical: the health rule fires, p95 is held. */
	run(&f, T0, 2000, true);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 20);
	ck_assert_int_eq(rule(&f, "app_down")->state, RULE_FIRING);
	ck_assert_int_eq(rule(&f, "app_down")->sev, SEV_CRITICAL);
	st = rule(&f, "p95");
	ck_assert(st->suppressed);
	ck_assert_str_eq(st->suppressed_by, "app_down");
	ck_assert_int_ne(st->state, RULE_OK);
	/* Up again with the same p95: now p95 speaks for itself. */
	run(&f, T0 + S, 2000, false);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + S + 20);
	ck_assert_int_ne(rule(&f, "app_down")->state, RULE_FIRING);
	st = rule(&f, "p95");
	ck_assert(!st->suppressed);
	ck_assert_int_eq(st->state, RULE_FIRING);
	ck_assert_int_eq(st->sev, SEV_CRITICAL);
	fx_free(&f);
}
END_TEST

/*
 * A deploy window's view (ruleset_value_since): nothing sampled since it
 * opened is "thin", not a measurement error; a failing probe is an error.
 */
START_TEST(test_value_since)
{
	struct fx f;
	struct rule_measure m;
	char why[160];
	size_t p95 = 0;

	fx_init(&f);
	while (strcmp(ruleset_cfg(f.rs, p95)->name, "p95") != 0)
		p95++;
	run(&f, T0, 120, false);
	ck_assert(ruleset_value_since(f.rs, p95, f.st, &f.fact, T0 - S,
	    T0 + 100, &m, why, sizeof(why)));
	ck_assert_double_eq(m.value, 120);
	ck_assert(!m.thin);
	/* The window opened after the last sample: too soon, not an error. */
	ck_assert(!ruleset_value_since(f.rs, p95, f.st, &f.fact, T0 + S / 2,
	    T0 + S / 2 + 100, &m, why, sizeof(why)));
	ck_assert(m.thin);
	ck_assert_str_eq(why, "no sample of app.p95_ms since the window opened");
	/* A failing probe is the observer's error, thin or not. */
	run(&f, T0 + S, 130, true);
	f.fact.last_started = T0 + 2 * S;
	ck_assert(!ruleset_value_since(f.rs, p95, f.st, &f.fact, T0 + S / 2,
	    T0 + 2 * S + 100, &m, why, sizeof(why)));
	ck_assert(!m.thin);
	ck_assert_ptr_nonnull(strstr(why, "probe failing"));
	fx_free(&f);
}
END_TEST

/*
 * min_denominator counts requests over the window whatever the
 * aggregate: with "rate", 2,000 requests in 5 minutes are 6.7 a second,
 * yet they are 2,000 requests, well over a minimum of 1,000.
 */
START_TEST(test_min_denominator_counts_requests)
{
	static const char text[] =
	    "{ \"probes\": [ { \"name\": \"app\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:1/\", \"interval\": \"10s\","
	    "  \"metrics\": { \"e\": \"/e\", \"n\": \"/n\" } } ],"
	    "  \"rules\": [ { \"name\": \"error_rate\", \"ratio\": {"
	    "  \"numerator\": \"app.e\", \"denominator\": \"app.n\","
	    "  \"scale\": 100, \"min_denominator\": 1000 },"
	    "  \"aggregate\": \"rate\", \"window\": \"5m\","
	    "  \"op\": \">\", \"crit\": 1 } ] }";
	struct config_errors errs = { 0 };
	struct config *cfg = config_parse("t.json", text, strlen(text), &errs);
	struct ruleset *rs;
	struct store *st = store_new();
	struct probe_fact fact = { .interval_ms = 10 * S, .timeout_ms = S };
	const struct rule_status *rst;
	int64_t t = T0;

	ck_assert_ptr_nonnull(cfg);
	rs = ruleset_new(cfg, NULL);
	ck_assert_ptr_nonnull(rs);
	/* 30 runs 10 s apart: 2,000 requests and 10 errors in all. */
	for (int i = 0; i <= 30; i++, t += 10 * S) {
		store_add(st, "app.e", t, i / 3, 100);
		store_add(st, "app.n", t, i * 2000.0 / 30, 100);
		fact.has_run = fact.last_up = true;
		fact.last_started = t;
		fact.last_finished = t + 10;
		ruleset_eval(rs, st, &fact, 0, t + 20);
	}
	rst = ruleset_status(rs, 0);
	ck_assert_msg(rst->known, "unknown: %s", rst->why);
	ck_assert_double_eq_tol(rst->value, 0.5, 0.05);
	ck_assert_int_eq(rst->state, RULE_OK);
	ruleset_free(rs);
	store_free(st);

	/*
	 * A quiet night: 500 requests a run-span of 5 minutes (the window
	 * holds 29 of the 30 intervals). The reason counts them as such.
	 */
	st = store_new();
	rs = ruleset_new(cfg, NULL);
	for (int i = 0; i <= 30; i++, t += 10 * S) {
		store_add(st, "app.e", t, 0, 100);
		store_add(st, "app.n", t, i * 500.0 / 30, 100);
		fact.last_started = t;
		fact.last_finished = t + 10;
		ruleset_eval(rs, st, &fact, 0, t + 20);
	}
	rst = ruleset_status(rs, 0);
	ck_assert(!rst->known);
	ck_assert(rst->quiet);
	ck_assert_str_eq(rst->why, "too little data: 483 requests (app.n) "
	    "over 5m, under min_denominator 1000");
	ruleset_free(rs);
	store_free(st);
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

/* The view of rule name, as of now. */
static const char *
summary(const struct fx *f, const char *name, int64_t now)
{
	static struct rule_view v;

	for (size_t i = 0; i < ruleset_count(f->rs); i++)
		if (strcmp(ruleset_cfg(f->rs, i)->name, name) == 0 &&
		    ruleset_view(f->rs, i, now, &v))
			return v.summary;
	ck_abort_msg("no rule %s", name);
	return NULL;
}

/*
 * Texts say what is true: a probe's down rule that recovered says the
 * probe is up (not "is down: none"); a rule that cannot be judged says
 * why (not "threshold 0"); numbers come with their units, humanized.
 */
START_TEST(test_summaries_say_what_is_true)
{
	struct fx f;

	fx_init(&f);
	ck_assert_str_eq(summary(&f, "app_down", T0),
	    "cannot judge app_down: not evaluated yet");
	ck_assert_str_eq(summary(&f, "p95", T0),
	    "cannot judge p95: not evaluated yet");
	run(&f, T0, 1234.5, false);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 20);
	ck_assert_str_eq(summary(&f, "app_down", T0 + 20), "probe app is up");
	ck_assert_str_eq(summary(&f, "p95", T0 + 20),
	    "API p95 1.23 s, threshold 1 s");
	run(&f, T0 + S, 0, true);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + S + 20);
	ck_assert_str_eq(summary(&f, "app_down", T0 + S + 20),
	    "probe app is down: status 500, expected 2xx");
	run(&f, T0 + 2 * S, 312, false);
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 2 * S + 20);
	ck_assert_int_eq(rule(&f, "app_down")->state, RULE_RESOLVED);
	ck_assert_str_eq(summary(&f, "app_down", T0 + 2 * S + 20),
	    "probe app is up again");
	ck_assert_str_eq(summary(&f, "p95", T0 + 2 * S + 20),
	    "API p95 312 ms, threshold 500 ms");
	fx_free(&f);
}
END_TEST

/*
 * {note:TEXT} brings the probe's note that names the culprit into the
 * summary; the note is copied at evaluation, so the next run's notes
 * (or none) change it only when the rule is evaluated again.
 */
START_TEST(test_summary_quotes_the_probes_note)
{
	static const char text[] =
	    "{ \"probes\": [ { \"name\": \"app\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:1/\", \"interval\": \"1s\","
	    "  \"metrics\": { \"p95_ms\": \"/p95\" } } ],"
	    "  \"rules\": [ { \"name\": \"blk\", \"metric\": \"app.p95_ms\","
	    "  \"op\": \">\", \"warn\": 0,"
	    "  \"summary\": \"{value} blocked: {note:blocked by}\" } ] }";
	char notes[] = "first sample; 2 sessions blocked by pid 42 (idle in "
	    "transaction for 5s): \"LOCK TABLE orders\"; slow: x";
	struct fx f;

	fx_init_text(&f, text);
	run(&f, T0, 2, false);
	f.fact.notes = notes;
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 20);
	/* The run's notes are gone before anyone reads the summary. */
	memset(notes, 'x', sizeof(notes) - 1);
	ck_assert_str_eq(summary(&f, "blk", T0 + 20), "2 blocked: 2 sessions "
	    "blocked by pid 42 (idle in transaction for 5s): "
	    "\"LOCK TABLE orders\"");
	run(&f, T0 + S, 1, false);
	f.fact.notes = NULL;
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + S + 20);
	ck_assert_str_eq(summary(&f, "blk", T0 + S + 20), "1 blocked: none");
	run(&f, T0 + 2 * S, 1, false);
	f.fact.notes = "1 session blocked by pid 7 (active for 2s): \"x\"";
	ruleset_eval(f.rs, f.st, &f.fact, 0, T0 + 2 * S + 20);
	ck_assert_str_eq(summary(&f, "blk", T0 + 2 * S + 20), "1 blocked: "
	    "1 session blocked by pid 7 (active for 2s): \"x\"");
	fx_free(&f);
}
END_TEST

Suite *
ruleset_suite(void)
{
	Suite *s = suite_create("ruleset");
	TCase *tc = tcase_create("ruleset");

	tcase_add_test(tc, test_stale_on_the_clock_alone);
	tcase_add_test(tc, test_failing_dependency_holds_the_rule);
	tcase_add_test(tc, test_value_since);
	tcase_add_test(tc, test_min_denominator_counts_requests);
	tcase_add_test(tc, test_summaries_say_what_is_true);
	tcase_add_test(tc, test_summary_quotes_the_probes_note);
	suite_add_tcase(s, tc);
	return s;
}
