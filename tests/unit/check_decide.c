/*
 * decide: the notifier's decisions (notify/decide.c) and the dependency
 * holds (engine/suppress.c), each on a fake clock: pages, repeats,
 * escalation, resolutions held while unknown or suppressed, silences,
 * flap damping and its bound; the hold timeline.
 */
#include <string.h>

#include <check.h>

#include "engine/suppress.h"
#include "notify/decide.h"
#include "suites.h"

#define S	1000
#define T0	1700000000000LL

static const struct notify_policy all = {
	.warning = true, .critical = true, .repeat_ms = 60 * S,
	.flap_bound_ms = 100 * S,
};

static struct notify_rule
rule(enum rule_state state, enum rule_sev sev, int64_t since)
{
	struct notify_rule r = { .state = state, .sev = sev, .since = since };

	return r;
}

/* Decides at now; returns the kind, or -1 when nothing is told. */
static int
tell(const struct notify_policy *p, const struct notify_rule *r,
    struct notify_told *t, int64_t now, struct notify_decision *d)
{
	struct notify_decision x;

	if (d == NULL)
		d = &x;
	return notify_decide(p, r, t, now, d) ? (int)d->kind : -1;
}

START_TEST(test_fire_repeat_escalate_resolve)
{
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_WARNING, T0);
	struct notify_decision d;

	ck_assert_int_eq(tell(&all, &r, &t, T0, &d), NOTICE_FIRING);
	ck_assert_int_eq(d.sev, SEV_WARNING);
	ck_assert(d.firing);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + S, NULL), -1);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 59 * S, NULL), -1);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 60 * S, NULL), NOTICE_REPEAT);
	r.sev = SEV_CRITICAL;
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 61 * S, &d),
	    NOTICE_ESCALATED);
	ck_assert_int_eq(d.since, T0);	/* one episode */
	r = rule(RULE_RESOLVED, SEV_NONE, T0 + 70 * S);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 70 * S, &d),
	    NOTICE_RESOLVED);
	ck_assert_int_eq(d.sev, SEV_CRITICAL);	/* what recovered */
	ck_assert(!d.firing);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 71 * S, NULL), -1);
}
END_TEST

START_TEST(test_unknown_and_suppressed_hold_the_resolution)
{
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_CRITICAL, T0);

	ck_assert_int_eq(tell(&all, &r, &t, T0, NULL), NOTICE_FIRING);
	r = rule(RULE_UNKNOWN, SEV_NONE, T0 + S);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + S, NULL), -1);
	r = rule(RULE_FIRING, SEV_CRITICAL, T0 + 2 * S);
	r.suppressed = true;
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 2 * S, NULL), -1);
	r.suppressed = false;
	/* Still firing as told: nothing new. */
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 3 * S, NULL), -1);
	r = rule(RULE_OK, SEV_NONE, T0 + 4 * S);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 4 * S, NULL),
	    NOTICE_RESOLVED);
}
END_TEST

START_TEST(test_suppressed_never_pages)
{
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_CRITICAL, T0);

	r.suppressed = true;
	for (int64_t s = 0; s < 600; s++)
		ck_assert_int_eq(tell(&all, &r, &t, T0 + s * S, NULL), -1);
	r = rule(RULE_RESOLVED, SEV_NONE, T0 + 600 * S);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 600 * S, NULL), -1);
}
END_TEST

START_TEST(test_silenced_tells_nothing)
{
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_CRITICAL, T0);

	r.silenced = true;
	ck_assert_int_eq(tell(&all, &r, &t, T0, NULL), -1);
	r.silenced = false;
	ck_assert_int_eq(tell(&all, &r, &t, T0 + S, NULL), NOTICE_FIRING);
	r = rule(RULE_RESOLVED, SEV_NONE, T0 + 2 * S);
	r.silenced = true;
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 2 * S, NULL), -1);
}
END_TEST

START_TEST(test_severity_filter)
{
	struct notify_policy crit = all;
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_WARNING, T0);

	crit.warning = false;
	ck_assert_int_eq(tell(&crit, &r, &t, T0, NULL), -1);
	r.sev = SEV_CRITICAL;
	ck_assert_int_eq(tell(&crit, &r, &t, T0 + S, NULL), NOTICE_FIRING);
	/* Back to warning: below this notifier, so resolved for it. */
	r.sev = SEV_WARNING;
	ck_assert_int_eq(tell(&crit, &r, &t, T0 + 2 * S, NULL),
	    NOTICE_RESOLVED);
}
END_TEST

/*
 * Told firing, then the rule flaps: nothing while it flips; once it has
 * been out of firing for the bound, the resolution goes out although the
 * flapping has not ended; at its end nothing more (it was told).
 */
START_TEST(test_flap_bound_on_resolution)
{
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_CRITICAL, T0);
	int64_t now = T0;

	ck_assert_int_eq(tell(&all, &r, &t, now, NULL), NOTICE_FIRING);
	for (int i = 0; i < 6; i++) {
		r = rule(i % 2 ? RULE_FIRING : RULE_RESOLVED,
		    i % 2 ? SEV_CRITICAL : SEV_NONE, now);
		r.flapping = true;
		ck_assert_int_eq(tell(&all, &r, &t, now, NULL), -1);
		now += 30 * S;	/* under the bound each time */
	}
	/* Settled resolved, still flapping: the clock runs from here. */
	r = rule(RULE_RESOLVED, SEV_NONE, now);
	r.flapping = true;
	ck_assert_int_eq(tell(&all, &r, &t, now, NULL), -1);
	ck_assert_int_eq(tell(&all, &r, &t, now + 99 * S, NULL), -1);
	ck_assert_int_eq(tell(&all, &r, &t, now + 100 * S, NULL),
	    NOTICE_RESOLVED);
	ck_assert_int_eq(tell(&all, &r, &t, now + 101 * S, NULL), -1);
	r.flapping = false;
	ck_assert_int_eq(tell(&all, &r, &t, now + 300 * S, NULL), -1);
	ck_assert(!t.flapping);
}
END_TEST

/* Told nothing; it flaps; it settles firing: the flap end is the page. */
START_TEST(test_flap_end_announces_a_change)
{
	struct notify_told t = { 0 };
	struct notify_rule r = rule(RULE_FIRING, SEV_WARNING, T0);
	struct notify_decision d;

	r.flapping = true;
	ck_assert_int_eq(tell(&all, &r, &t, T0, NULL), -1);
	ck_assert(t.flapping);
	r.flapping = false;
	ck_assert_int_eq(tell(&all, &r, &t, T0 + S, &d), NOTICE_FLAP_ENDED);
	ck_assert(d.firing);
	ck_assert_int_eq(d.sev, SEV_WARNING);
	ck_assert_int_eq(tell(&all, &r, &t, T0 + 2 * S, NULL), -1);
}
END_TEST

START_TEST(test_flap_bound_of_config)
{
	ck_assert_int_eq(notify_flap_bound_ms(600 * S, 6), 100 * S);
	ck_assert_int_eq(notify_flap_bound_ms(6 * S, 4), 1500);
	ck_assert_int_eq(notify_flap_bound_ms(2 * S, 10), S);
}
END_TEST

/* The hold timeline of engine/suppress.h, step by step. */
START_TEST(test_hold_timeline)
{
	struct hold_input h = {
		.dep_state = RULE_FIRING, .dep_run = T0, .dep_cycle_ms = 35 * S,
		.bad = true, .bad_since = T0 - 60 * S, .run = T0 - 30 * S,
		.cycle_ms = 40 * S,
	};
	int64_t good = 0;

	ck_assert_int_eq(suppress_decide(&h, &good, T0), HOLD_DEP_FAILING);
	h.dep_state = RULE_UNKNOWN;
	ck_assert_int_eq(suppress_decide(&h, &good, T0), HOLD_DEP_UNKNOWN);
	h.dep_state = RULE_PENDING;
	ck_assert_int_eq(suppress_decide(&h, &good, T0), HOLD_DEP_FAILING);
	h.dep_state = RULE_OK;
	h.dep_probe_failed = true;
	ck_assert_int_eq(suppress_decide(&h, &good, T0), HOLD_DEP_PROBE);
	ck_assert_int_eq(good, 0);
	/* Recovered on the run that started at T0 + 10 s. */
	h.dep_probe_failed = false;
	h.dep_state = RULE_RESOLVED;
	h.dep_run = T0 + 10 * S;
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 11 * S),
	    HOLD_DEP_RECOVERING);
	ck_assert_int_eq(good, T0 + 10 * S);
	/* Our run from before the recovery ends, still failing: held. */
	h.run = T0 + 5 * S;
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 15 * S),
	    HOLD_DEP_RECOVERING);
	/* A run that started after it: judged on its own. */
	h.run = T0 + 35 * S;
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 36 * S), HOLD_NONE);
	/* Fine rules are never held for a recovery. */
	good = 0;
	h.run = T0;
	h.bad = false;
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 11 * S), HOLD_NONE);
}
END_TEST

START_TEST(test_hold_until_the_dependency_looks)
{
	struct hold_input h = {
		.dep_state = RULE_OK, .dep_run = T0, .dep_cycle_ms = 35 * S,
		.bad = true, .bad_since = T0 + 4 * S, .run = T0 + 4 * S,
		.cycle_ms = 40 * S,
	};
	int64_t good = T0 - 600 * S;

	/* We failed on a run after the dependency's last: wait for it. */
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 5 * S),
	    HOLD_DEP_UNCONFIRMED);
	/* Its next run, fine: our failure is our own. */
	h.dep_run = T0 + 30 * S;
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 31 * S), HOLD_NONE);
	/* Bounded: a dependency that never runs again holds only so long. */
	h.dep_run = T0;
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 4 * S + 69 * S),
	    HOLD_DEP_UNCONFIRMED);
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 4 * S + 70 * S),
	    HOLD_NONE);
}
END_TEST

START_TEST(test_hold_recovery_bounded)
{
	struct hold_input h = {
		.dep_state = RULE_OK, .dep_run = T0, .dep_cycle_ms = 35 * S,
		.bad = true, .bad_since = T0 - 100 * S, .run = T0 - S,
		.cycle_ms = 40 * S,
	};
	int64_t good = 0;

	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 79 * S),
	    HOLD_DEP_RECOVERING);
	ck_assert_int_eq(suppress_decide(&h, &good, T0 + 80 * S), HOLD_NONE);
}
END_TEST

Suite *
decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("notify");
	TCase *th = tcase_create("suppress");

	tcase_add_test(tc, test_fire_repeat_escalate_resolve);
	tcase_add_test(tc, test_unknown_and_suppressed_hold_the_resolution);
	tcase_add_test(tc, test_suppressed_never_pages);
	tcase_add_test(tc, test_silenced_tells_nothing);
	tcase_add_test(tc, test_severity_filter);
	tcase_add_test(tc, test_flap_bound_on_resolution);
	tcase_add_test(tc, test_flap_end_announces_a_change);
	tcase_add_test(tc, test_flap_bound_of_config);
	tcase_add_test(th, test_hold_timeline);
	tcase_add_test(th, test_hold_until_the_dependency_looks);
	tcase_add_test(th, test_hold_recovery_bounded);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, th);
	return s;
}
