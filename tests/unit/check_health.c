/*
 * health: what each rule is to /health (health_role), on plain data: the
 * verdict from firing and unknown rules; notes, never the verdict, for
 * rules held by a dependency, silenced, with too little data, or warming
 * up after a start for at most their window.
 */
#include <check.h>

#include "http/health.h"
#include "engine/rules.h"
#include "suites.h"

static struct rule_status
status(enum rule_state state, enum rule_sev sev)
{
	struct rule_status st;

	rule_status_init(&st);
	st.state = state;
	st.sev = sev;
	st.evaluated = 1;
	return st;
}

static const struct health_facts plain = {
	.up_ms = 3600000, .warm_ms = 300000,
};

START_TEST(test_verdict)
{
	struct rule_status st = status(RULE_FIRING, SEV_CRITICAL);

	ck_assert_int_eq(health_role(&st, &plain), HEALTH_FAIL);
	st.sev = SEV_WARNING;
	ck_assert_int_eq(health_role(&st, &plain), HEALTH_WARN);
	st = status(RULE_UNKNOWN, SEV_NONE);
	ck_assert_int_eq(health_role(&st, &plain), HEALTH_UNKNOWN);
	/* Fine, pending or resolved: not mentioned, whatever the facts. */
	st = status(RULE_OK, SEV_NONE);
	ck_assert_int_eq(health_role(&st, NULL), HEALTH_NONE);
	st = status(RULE_PENDING, SEV_CRITICAL);
	ck_assert_int_eq(health_role(&st, NULL), HEALTH_NONE);
	st = status(RULE_RESOLVED, SEV_NONE);
	ck_assert_int_eq(health_role(&st, NULL), HEALTH_NONE);
	/* Anything else needs the facts. */
	st = status(RULE_FIRING, SEV_CRITICAL);
	ck_assert_int_ne(health_role(&st, NULL), HEALTH_NONE);
}
END_TEST

START_TEST(test_notes_not_verdict)
{
	struct rule_status st = status(RULE_FIRING, SEV_CRITICAL);
	struct health_facts f = plain;

	st.suppressed = true;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_HELD);
	st.suppressed = false;
	f.silenced = true;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_SILENCED);
	st = status(RULE_UNKNOWN, SEV_NONE);
	ck_assert_int_eq(health_role(&st, &f), HEALTH_SILENCED);
	f.silenced = false;
	st.quiet = true;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_QUIET);
	/* An unknown held by its dependency is not mentioned at all. */
	st.quiet = false;
	st.suppressed = true;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_NONE);
}
END_TEST

START_TEST(test_warming_up_for_at_most_its_window)
{
	struct rule_status st = status(RULE_UNKNOWN, SEV_NONE);
	struct health_facts f = { .up_ms = 0, .warm_ms = 300000 };

	ck_assert_int_eq(health_role(&st, &f), HEALTH_WARMING);
	f.up_ms = 299999;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_WARMING);
	f.up_ms = 300000;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_UNKNOWN);
	/* Its probe failed already: that is news, not warming up. */
	f.up_ms = 1000;
	f.probe_failed = true;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_UNKNOWN);
	/* A firing rule is never "warming up". */
	st = status(RULE_FIRING, SEV_CRITICAL);
	f.probe_failed = false;
	ck_assert_int_eq(health_role(&st, &f), HEALTH_FAIL);
}
END_TEST

Suite *
health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("role");

	tcase_add_test(tc, test_verdict);
	tcase_add_test(tc, test_notes_not_verdict);
	tcase_add_test(tc, test_warming_up_for_at_most_its_window);
	suite_add_tcase(s, tc);
	return s;
}
