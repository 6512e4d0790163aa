/* The postgres probe's connection decisions (pg_conn): what a refused
 * connection's text says, and the backoff. */
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

Suite *
pg_conn_suite(void)
{
	Suite *s = suite_create("pg_conn");
	TCase *tc = tcase_create("pg_conn");

	tcase_add_loop_test(tc, test_fail_kind, 0,
	    (int)(sizeof(kinds) / sizeof(kinds[0])));
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);
	return s;
}
