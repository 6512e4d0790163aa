/* The tcp and tls probes' pure parts (net_check): days to a certificate's
 * notAfter on a fixed clock, the reply's substring, and its quoting. */
#include <string.h>
#include <time.h>
#include <check.h>

#include "probe/net_check.h"
#include "suites.h"

/* 2026-12-03T00:00:00Z */
#define NOW ((time_t)1796256000)

static double
days_to(const char *asn1, time_t now)
{
	ASN1_TIME *t = ASN1_TIME_new();
	double d = 12345;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(ASN1_TIME_set_string(t, asn1), 1);
	ck_assert_int_eq(net_cert_days(t, now, &d), 0);
	ASN1_TIME_free(t);
	return d;
}

START_TEST(test_days)
{
	/* UTCTime and GeneralizedTime, ahead and behind, with fractions. */
	ck_assert_double_eq_tol(days_to("261217000000Z", NOW), 14, 1e-9);
	ck_assert_double_eq_tol(days_to("20261206120000Z", NOW), 3.5, 1e-9);
	ck_assert_double_eq_tol(days_to("261203000000Z", NOW), 0, 1e-9);
	ck_assert_double_eq_tol(days_to("261202000000Z", NOW), -1, 1e-9);
	ck_assert_double_eq_tol(days_to("20200201000000Z", NOW), -2497, 1e-9);
}
END_TEST

START_TEST(test_iso)
{
	ASN1_TIME *t = ASN1_TIME_new();
	char buf[32];

	ck_assert_int_eq(ASN1_TIME_set_string(t, "270102000000Z"), 1);
	net_time_iso(t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2027-01-02T00:00:00Z");
	ASN1_TIME_free(t);
	net_time_iso(NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "?");
}
END_TEST

START_TEST(test_reply)
{
	static const char r[] = "+PONG\r\n\0tail";

	ck_assert(net_reply_has(r, sizeof(r) - 1, "PONG"));
	/* Past a NUL too: replies are bytes, not strings. */
	ck_assert(net_reply_has(r, sizeof(r) - 1, "tail"));
	ck_assert(!net_reply_has(r, 3, "PONG"));
	ck_assert(!net_reply_has(NULL, 0, "PONG"));
}
END_TEST

START_TEST(test_quote)
{
	char q[64];

	net_reply_quote("-ERR \"x\"\r\n", 10, q, sizeof(q));
	ck_assert_str_eq(q, "\"-ERR \\\"x\\\"\"");
	net_reply_quote("", 0, q, sizeof(q));
	ck_assert_str_eq(q, "(nothing)");
	net_reply_quote("a\0b", 3, q, sizeof(q));
	ck_assert_str_eq(q, "\"a b\"");
}
END_TEST

Suite *
net_check_suite(void)
{
	Suite *s = suite_create("net_check");
	TCase *tc = tcase_create("net_check");

	tcase_add_test(tc, test_days);
	tcase_add_test(tc, test_iso);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_quote);
	suite_add_tcase(s, tc);
	return s;
}
