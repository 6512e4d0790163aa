/* The postgres probe's connection decisions (pg_conn): what a refused
 * connection's text says, the backoff, and when the next attempt comes,
 * on a fake clock of runs with jittered starts. */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "probe/pg_conn.h"
#include "suites.h"

static const struct kind_case {
	const char *msg;
	enum probe_fail want;
	const char *line;	/* the part a reason quotes */
} kinds[] = {
	{ "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  "
	    "password authentication failed for user \"vigil\"\n",
	    PROBE_FAIL_AUTH, "connection to server at \"127.0.0.1\", port "
	    "5432 failed: FATAL:  password authentication failed for user "
	    "\"vigil\"" },
	/* pg_hba.conf's "reject" method: the fail=connect. */
	{ "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  "
	    "pg_hba.conf rejects connection for host \"127.0.0.1\", user "
	    "\"vigil\", database \"portal\", no encryption\n",
	    PROBE_FAIL_AUTH, NULL },
	{ "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  "
	    "no pg_hba.conf entry for host \"127.0.0.1\", user \"vigil\", "
	    "database \"portal\", SSL encryption\n", PROBE_FAIL_AUTH, NULL },
	/* Two addresses: the refusal comes after 200 bytes of another's. */
	{ "connection to server at \"db.example\" (::1), port 5432 failed: "
	    "Connection refused\n\tIs the server running on that host and "
	    "accepting TCP/IP connections?\nconnection to server at "
	    "\"db.example\" (127.0.0.1), port 5432 failed: FATAL:  no "
	    "pg_hba.conf entry for host \"127.0.0.1\", user \"vigil\", "
	    "database \"portal\", no encryption\n", PROBE_FAIL_AUTH,
	    "connection to server at \"db.example\" (127.0.0.1), port 5432 "
	    "failed: FATAL:  no pg_hba.conf entry for host \"127.0.0.1\", "
	    "user \"vigil\", database \"portal\", no encryption" },
	{ "FATAL:  role \"ghost\" does not exist\n", PROBE_FAIL_AUTH, NULL },
	{ "FATAL:  permission denied for database \"portal\"\n",
	    PROBE_FAIL_AUTH, NULL },
	{ "FATAL:  role \"nologin\" is not permitted to log in\n",
	    PROBE_FAIL_AUTH, NULL },
	{ "FATAL:  Ident authentication failed for user \"vigil\"\n",
	    PROBE_FAIL_AUTH, NULL },
	/* The network, or a mistake that is not who we are. */
	{ "connection to server at \"127.0.0.1\", port 1 failed: Connection "
	    "refused\n\tIs the server running on that host and accepting "
	    "TCP/IP connections?\n", PROBE_FAIL_CONNECT, NULL },
	{ "FATAL:  database \"nope\" does not exist\n", PROBE_FAIL_CONNECT,
	    NULL },
	{ "FATAL:  the database system is shutting down\n",
	    PROBE_FAIL_CONNECT, NULL },
	{ "", PROBE_FAIL_CONNECT, NULL },
};

START_TEST(test_fail_kind)
{
	const struct kind_case *c = &kinds[_i];
	size_t at = 99, len = 99;
	enum probe_fail got = pg_conn_fail_kind(c->msg, &at, &len);

	ck_assert_msg(got == c->want, "case %d: %s, wanted %s", _i,
	    probe_fail_name(got), probe_fail_name(c->want));
	ck_assert_uint_le(at + len, strlen(c->msg));
	if (c->line != NULL) {
		ck_assert_uint_eq(len, strlen(c->line));
		ck_assert(memcmp(c->msg + at, c->line, len) == 0);
	} else if (got == PROBE_FAIL_CONNECT) {
		ck_assert_uint_eq(at, 0);
		ck_assert_uint_eq(len, strlen(c->msg));
	}
}
END_TEST

START_TEST(test_backoff)
{
	static const struct { unsigned failures; int64_t max, want; } t[] = {
		{ 0, 30000, 0 }, { 1, 30000, 250 }, { 2, 30000, 500 },
		{ 5, 30000, 4000 }, { 7, 30000, 16000 }, { 8, 30000, 30000 },
		{ 40, 30000, 30000 }, { 3, 600, 600 }, { 6, 10000, 8000 },
		{ 7, 10000, 10000 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_int_eq(pg_backoff_ms(t[i].failures, t[i].max),
		    t[i].want);
}
END_TEST

#define MAXRUNS 16

/*
 * A server down for good, and runs every interval, each starting late by
 * lateness[k % 4]: which runs connect. Every other run must name the run
 * that will (its wait), at least one interval ahead.
 */
static const struct retry_case {
	int64_t interval_ms, max_ms;
	int64_t lateness_us[4];
	int nruns;
	int attempts[MAXRUNS];	/* run numbers, then -1 */
} retries[] = {
	/* The issue: 5 s runs, reconnect_max 10 s, a run starting 3 ms
	 * less late than the failed one. Attempts 10 s apart, not 15. */
	{ 5000, 10000, { 3000, 0, 3000, 0 }, 14,
	    { 0, 1, 2, 3, 4, 5, 7, 9, 11, 13, -1 } },
	/* Backoff equal to the interval: every run. */
	{ 10000, 10000, { 5000, 0, 2000, 100 }, 10,
	    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1 } },
	/* Runs slower than any backoff: every run. */
	{ 60000, 30000, { 0, 40000, 0, 40000 }, 6,
	    { 0, 1, 2, 3, 4, 5, -1 } },
	/* Fast runs: the attempt is the first run at or after the backoff
	 * (250, 500, then 1 s: four runs of 300 ms). */
	{ 300, 1000, { 10000, 0, 25000, 5000 }, 16,
	    { 0, 1, 3, 7, 11, 15, -1 } },
	/* 8 s of backoff with 5 s runs is the second run, not the first. */
	{ 5000, 8000, { 0, 0, 0, 0 }, 12,
	    { 0, 1, 2, 3, 4, 5, 7, 9, 11, -1 } },
};

START_TEST(test_retry_schedule)
{
	const struct retry_case *c = &retries[_i];
	int64_t last = 0, iv = c->interval_ms * 1000;
	unsigned failures = 0;
	int got[MAXRUNS], ngot = 0, promised = -1;

	for (int k = 0; k < c->nruns; k++) {
		int64_t now = k * iv + c->lateness_us[k % 4];
		int64_t wait = pg_retry_wait_us(failures, last, now, iv,
		    c->max_ms);

		if (wait == 0) {
			ck_assert_msg(promised < 0 || promised == k, "case %d: "
			    "run %d connects, run %d was promised", _i, k,
			    promised);
			got[ngot++] = k;
			last = now;
			failures++;	/* refused again */
			promised = -1;
			continue;
		}
		ck_assert_msg(wait >= iv && wait % iv == 0, "case %d run %d: "
		    "wait %lld us", _i, k, (long long)wait);
		if (promised < 0)
			promised = k + (int)(wait / iv);
		ck_assert_int_eq(k + (int)(wait / iv), promised);
	}
	for (int i = 0; i < MAXRUNS && (i < ngot || c->attempts[i] >= 0);
	    i++)
		ck_assert_msg(i < ngot && c->attempts[i] == got[i], "case %d: "
		    "attempt %d at run %d, wanted run %d", _i, i,
		    i < ngot ? got[i] : -1, c->attempts[i]);
}
END_TEST

Suite *
pg_conn_suite(void)
{
	Suite *s = suite_create("pg_conn");
	TCase *tc = tcase_create("pg_conn");

	tcase_add_loop_test(tc, test_fail_kind, 0,
	    (int)(sizeof(kinds) / sizeof(kinds[0])));
	tcase_add_test(tc, test_backoff);
	tcase_add_loop_test(tc, test_retry_schedule, 0,
	    (int)(sizeof(retries) / sizeof(retries[0])));
	suite_add_tcase(s, tc);
	return s;
}
