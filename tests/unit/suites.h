/* The Check suites of the unit test runner; one per lib/ module. */
#ifndef VIGIL_TEST_SUITES_H
#define VIGIL_TEST_SUITES_H

#include <check.h>

/* X-macro: every suite, in run order. Add a line to add a suite. */
#define VIGIL_SUITES(X) \
	X(assert) \
	X(loglimit) \
	X(log) \
	X(duration) \
	X(hash) \
	X(jsonc) \
	X(jsonptr) \
	X(jsonpath) \
	X(jsonw) \
	X(numfmt) \
	X(gzip) \
	X(file) \
	X(tzfile) \
	X(procstat) \
	X(config) \
	X(expr) \
	X(pg) \
	X(pg_norm) \
	X(dnsmsg) \
	X(http1) \
	X(config_dns) \
	X(pg_conn) \
	X(net_check) \
	X(config_net) \
	X(pg_dba) \
	X(sentry) \
	X(beat) \
	X(sdnotify) \
	X(service) \
	X(sched) \
	X(monitor) \
	X(run_allocs) \
	X(store) \
	X(probe) \
	X(window) \
	X(rules) \
	X(ruleset) \
	X(outage) \
	X(decide) \
	X(notifier) \
	X(health) \
	X(api_host) \
	X(refresh) \
	X(aside) \
	X(silence) \
	X(silence_json) \
	X(maint) \
	X(metrics) \
	X(page) \
	X(badge) \
	X(client) \
	X(payload) \
	X(mail) \
	X(config_email) \
	X(template) \
	X(tmplbody) \
	X(pagerduty) \
	X(deploytalk) \
	X(deploytext) \
	X(stats) \
	X(judge) \
	X(utf8) \
	X(humanize) \
	X(token) \
	X(split) \
	X(verdict) \
	X(history) \
	X(statefile) \
	X(deploy_state)

#define VIGIL_DECLARE_SUITE(name) Suite *name##_suite(void);
VIGIL_SUITES(VIGIL_DECLARE_SUITE)

#endif
