/* rules: the state machine on a fake clock: thresholds in both
 * directions, hysteresis, for and keep_firing_for, unknown, escalation,
 * flapping, suppression and baselines. */
#include <math.h>
#include <string.h>
#include <check.h>

#include "engine/rules.h"
#include "suites.h"

#define S 1000	/* one second of the fake clock, in ms */

struct fx {
	struct rule_def d;
	struct rule_status st;
	struct rule_event ev[RULE_MAX_EVENTS];
	int nev;
	int64_t now;
};

static void
fx_init(struct fx *f, enum rule_op op)
{
	memset(f, 0, sizeof(*f));
	f->d.op = op;
	f->d.resolved_ms = 60 * S;
	rule_status_init(&f->st);
	f->now = 1000000;
}

static void
level(struct rule_level *l, double t)
{
	l->set = true;
	l->threshold = t;
}

/* Feeds a value at now, then advances the clock by step. */
static enum rule_state
feed(struct fx *f, double v, int64_t step)
{
	struct rule_input in = { .known = true, .value = v };

	f->nev = rules_eval(&f->d, &f->st, &in, f->now, f->ev);
	f->now += step;
	return f->st.state;
}

static enum rule_state
feed_unknown(struct fx *f, const char *why, int64_t step)
{
	struct rule_input in = { .known = false, .why = why };

	f->nev = rules_eval(&f->d, &f->st, &in, f->now, f->ev);
	f->now += step;
	return f->st.state;
}

START_TEST(test_greater_than_fires_and_resolves)
{
	struct fx f;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1000);
	/* Unknown until the first evaluation, then ok (an initial event). */
	ck_assert_int_eq(f.st.state, RULE_UNKNOWN);
	ck_assert_str_eq(f.st.why, "not evaluated yet");
	ck_assert_int_eq(feed(&f, 500, S), RULE_OK);
	ck_assert_int_eq(f.nev, 1);
	ck_assert(f.ev[0].initial);
	ck_assert_int_eq(feed(&f, 1000, S), RULE_OK);	/* not > 1000 */
	ck_assert_int_eq(f.nev, 0);
	ck_assert_int_eq(feed(&f, 1000.5, S), RULE_FIRING);
	ck_assert_int_eq(f.st.sev, SEV_CRITICAL);
	ck_assert_int_eq(f.nev, 1);
	ck_assert_int_eq(f.ev[0].from, RULE_OK);
	ck_assert_int_eq(f.ev[0].to, RULE_FIRING);
	ck_assert(!f.ev[0].initial);
	ck_assert_double_eq(f.st.threshold, 1000);
	ck_assert_int_eq(feed(&f, 10, S), RULE_RESOLVED);
	/* resolved shows for resolved_ms, then ok. */
	ck_assert_int_eq(feed(&f, 10, 60 * S), RULE_RESOLVED);
	ck_assert_int_eq(feed(&f, 10, S), RULE_OK);
}
END_TEST

START_TEST(test_less_than_and_or_equal)
{
	struct fx f;

	fx_init(&f, RULE_LT);
	level(&f.d.warn, 70);
	level(&f.d.crit, 50);
	ck_assert_int_eq(feed(&f, 82, S), RULE_OK);
	ck_assert_int_eq(feed(&f, 65, S), RULE_FIRING);
	ck_assert_int_eq(f.st.sev, SEV_WARNING);
	ck_assert_int_eq(feed(&f, 40, S), RULE_FIRING);
	ck_assert_int_eq(f.st.sev, SEV_CRITICAL);
	fx_init(&f, RULE_LE);
	level(&f.d.crit, 50);
	ck_assert_int_eq(feed(&f, 50, S), RULE_FIRING);
	fx_init(&f, RULE_GE);
	level(&f.d.crit, 1);
	ck_assert_int_eq(feed(&f, 0, S), RULE_OK);
	ck_assert_int_eq(feed(&f, 1, S), RULE_FIRING);
}
END_TEST

START_TEST(test_escalation_and_back)
{
	struct fx f;

	fx_init(&f, RULE_GT);
	level(&f.d.warn, 500);
	level(&f.d.crit, 1000);
	feed(&f, 600, S);
	ck_assert_int_eq(f.st.sev, SEV_WARNING);
	feed(&f, 1200, S);
	ck_assert_int_eq(f.st.state, RULE_FIRING);
	ck_assert_int_eq(f.st.sev, SEV_CRITICAL);
	ck_assert_int_eq(f.nev, 1);
	ck_assert_int_eq(f.ev[0].sev_from, SEV_WARNING);
	ck_assert_int_eq(f.ev[0].sev_to, SEV_CRITICAL);
	ck_assert_int_eq(f.ev[0].from, RULE_FIRING);
	feed(&f, 700, S);
	ck_assert_int_eq(f.st.sev, SEV_WARNING);
	ck_assert_int_eq(f.st.state, RULE_FIRING);
	ck_assert_int_eq(feed(&f, 100, S), RULE_RESOLVED);
}
END_TEST

START_TEST(test_hysteresis)
{
	struct fx f;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 80);
	f.d.crit.has_clear = true;
	f.d.crit.clear = 75;
	ck_assert_int_eq(feed(&f, 79, S), RULE_OK);
	ck_assert_int_eq(feed(&f, 81, S), RULE_FIRING);
	/* Below the threshold but not below the clear level: still firing. */
	ck_assert_int_eq(feed(&f, 78, S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 75, S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 74.9, S), RULE_RESOLVED);
	/* Not firing: the plain threshold applies again. */
	ck_assert_int_eq(feed(&f, 78, S), RULE_RESOLVED);
	ck_assert_int_eq(feed(&f, 80.1, S), RULE_FIRING);
}
END_TEST

START_TEST(test_for_duration)
{
	struct fx f;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.d.for_ms = 5 * S;
	ck_assert_int_eq(feed(&f, 2, 2 * S), RULE_PENDING);
	ck_assert_int_eq(f.st.sev, SEV_CRITICAL);
	ck_assert_int_eq(feed(&f, 2, 2 * S), RULE_PENDING);	/* 2 s held */
	ck_assert_int_eq(feed(&f, 2, 1 * S), RULE_PENDING);	/* 4 s */
	ck_assert_int_eq(feed(&f, 2, S), RULE_FIRING);		/* 5 s */
	ck_assert_int_eq(f.ev[0].from, RULE_PENDING);
	/* A blip shorter than for never fires. */
	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.d.for_ms = 5 * S;
	ck_assert_int_eq(feed(&f, 2, 3 * S), RULE_PENDING);
	ck_assert_int_eq(feed(&f, 0, S), RULE_OK);
	ck_assert_int_eq(feed(&f, 2, 3 * S), RULE_PENDING);
	ck_assert_int_eq(feed(&f, 2, 3 * S), RULE_PENDING);
	ck_assert_int_eq(feed(&f, 2, S), RULE_FIRING);
}
END_TEST

START_TEST(test_keep_firing_for)
{
	struct fx f;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.d.keep_firing_ms = 10 * S;
	ck_assert_int_eq(feed(&f, 2, S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 0, 5 * S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 0, 4 * S), RULE_FIRING);
	/* Back over the threshold within the hold: the clock restarts. */
	ck_assert_int_eq(feed(&f, 2, S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 0, 9 * S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 0, S), RULE_FIRING);
	ck_assert_int_eq(feed(&f, 0, S), RULE_RESOLVED);
}
END_TEST

START_TEST(test_unknown_never_ok)
{
	struct fx f;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 100);
	ck_assert_int_eq(feed(&f, 1, S), RULE_OK);
	ck_assert_int_eq(feed_unknown(&f, "stale: last sample 95 s ago", S),
	    RULE_UNKNOWN);
	ck_assert_str_eq(f.st.why, "stale: last sample 95 s ago");
	ck_assert(!f.st.quiet);
	ck_assert_int_eq(f.ev[0].from, RULE_OK);
	ck_assert_int_eq(f.ev[0].to, RULE_UNKNOWN);
	ck_assert_int_eq(feed(&f, 1, S), RULE_OK);
	/* Firing, then unknown, then bad again: firing without pending. */
	f.d.for_ms = 5 * S;
	ck_assert_int_eq(feed(&f, 200, 5 * S), RULE_PENDING);
	ck_assert_int_eq(feed(&f, 200, S), RULE_FIRING);
	ck_assert_int_eq(feed_unknown(&f, "probe down", S), RULE_UNKNOWN);
	ck_assert_int_eq(feed(&f, 200, S), RULE_FIRING);
	/* Firing, unknown, then good: resolved, not ok. */
	ck_assert_int_eq(feed_unknown(&f, "probe down", S), RULE_UNKNOWN);
	ck_assert_int_eq(feed(&f, 1, S), RULE_RESOLVED);
	/* Pending, unknown, bad: the for period starts again. */
	ck_assert_int_eq(feed(&f, 200, 3 * S), RULE_PENDING);
	ck_assert_int_eq(feed_unknown(&f, "gap", S), RULE_UNKNOWN);
	ck_assert_int_eq(feed(&f, 200, 3 * S), RULE_PENDING);	/* held 0 s */
	ck_assert_int_eq(feed(&f, 200, 2 * S), RULE_PENDING);	/* 3 s */
	ck_assert_int_eq(feed(&f, 200, S), RULE_FIRING);	/* 5 s */
}
END_TEST

START_TEST(test_flapping_detected_and_end_announced)
{
	struct fx f;
	bool saw_start = false, saw_end = false;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.d.flap_window_ms = 60 * S;
	f.d.flap_max = 4;
	/* fire, resolve, fire, resolve: four flips in a minute. */
	for (int i = 0; i < 4; i++) {
		feed(&f, i % 2 == 0 ? 2 : 0, 5 * S);
		for (int e = 0; e < f.nev; e++)
			saw_start |= f.ev[e].kind == RULE_EV_FLAP_START;
	}
	ck_assert(saw_start);
	ck_assert(f.st.flapping);
	/* Transitions while flapping are marked for damping. */
	feed(&f, 2, 5 * S);
	ck_assert_int_eq(f.nev, 1);
	ck_assert(f.ev[0].flapping);
	/* Settles firing; after the window the end is announced. */
	for (int i = 0; i < 20 && !saw_end; i++) {
		feed(&f, 2, 5 * S);
		for (int e = 0; e < f.nev; e++) {
			if (f.ev[e].kind == RULE_EV_FLAP_END) {
				saw_end = true;
				ck_assert_int_eq(f.ev[e].to, RULE_FIRING);
				ck_assert(!f.ev[e].flapping);
			}
		}
	}
	ck_assert(saw_end);
	ck_assert(!f.st.flapping);
}
END_TEST

START_TEST(test_quiet_unknown)
{
	struct fx f;
	struct rule_input in = { .known = false, .quiet = true,
	    .why = "too little data" };

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.nev = rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	/* Still unknown -- never a silent ok -- but marked as quiet. */
	ck_assert_int_eq(f.st.state, RULE_UNKNOWN);
	ck_assert(f.st.quiet);
	ck_assert_int_eq(feed(&f, 0.5, S), RULE_OK);
	ck_assert(!f.st.quiet);
}
END_TEST

START_TEST(test_suppression_marks_events)
{
	struct fx f;
	struct rule_input in = { .known = true, .value = 5,
	    .suppressed_by = "app_health_down" };

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.nev = rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	ck_assert_int_eq(f.st.state, RULE_FIRING);
	ck_assert(f.st.suppressed);
	ck_assert_str_eq(f.st.suppressed_by, "app_health_down");
	ck_assert_int_eq(f.nev, 1);
	ck_assert(f.ev[0].suppressed);
	in.suppressed_by = NULL;
	f.now += S;
	f.nev = rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	ck_assert(!f.st.suppressed);
	ck_assert_str_eq(f.st.suppressed_by, "");
}
END_TEST

START_TEST(test_baseline_comparison)
{
	struct fx f;
	struct rule_input in = { .known = true, .has_baseline = true,
	    .baseline = 400 };

	fx_init(&f, RULE_GT);
	f.d.warn.base_factor = 1.2;	/* warn above 480 */
	level(&f.d.crit, 1000);
	in.value = 470;
	f.nev = rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	ck_assert_int_eq(f.st.state, RULE_OK);
	ck_assert_double_eq_tol(f.st.threshold, 480, 1e-9);
	in.value = 490;
	f.now += S;
	rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	ck_assert_int_eq(f.st.state, RULE_FIRING);
	ck_assert_int_eq(f.st.sev, SEV_WARNING);
	ck_assert_double_eq_tol(f.st.threshold, 480, 1e-9);
	/* Without a saved baseline only the absolute levels apply. */
	in.has_baseline = false;
	f.now += S;
	rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	ck_assert_int_eq(f.st.state, RULE_RESOLVED);
	in.value = 1500;
	f.now += S;
	rules_eval(&f.d, &f.st, &in, f.now, f.ev);
	ck_assert_int_eq(f.st.sev, SEV_CRITICAL);
}
END_TEST

START_TEST(test_history_bounded)
{
	struct fx f;
	struct rule_transition tr;

	fx_init(&f, RULE_GT);
	level(&f.d.crit, 1);
	f.d.resolved_ms = 0;
	for (int i = 0; i < 40; i++)
		feed(&f, i % 2 ? 0 : 2, S);
	ck_assert_uint_eq(f.st.nhist, RULE_HISTORY);
	ck_assert(rule_history(&f.st, 0, &tr));
	ck_assert_int_eq(tr.to, RULE_RESOLVED);
	ck_assert_int_eq(tr.t, f.now - S);
	ck_assert(!rule_history(&f.st, RULE_HISTORY, &tr));
}
END_TEST

Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("state machine");

	tcase_add_test(tc, test_greater_than_fires_and_resolves);
	tcase_add_test(tc, test_less_than_and_or_equal);
	tcase_add_test(tc, test_escalation_and_back);
	tcase_add_test(tc, test_hysteresis);
	tcase_add_test(tc, test_for_duration);
	tcase_add_test(tc, test_keep_firing_for);
	tcase_add_test(tc, test_unknown_never_ok);
	tcase_add_test(tc, test_flapping_detected_and_end_announced);
	tcase_add_test(tc, test_suppression_marks_events);
	tcase_add_test(tc, test_quiet_unknown);
	tcase_add_test(tc, test_baseline_comparison);
	tcase_add_test(tc, test_history_bounded);
	suite_add_tcase(s, tc);
	return s;
}
