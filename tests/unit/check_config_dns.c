/* config_dns: a dns probe's section read into struct dns_cfg, and its
 * mistakes reported. */
#include <string.h>
#include <check.h>

#include "base/dnsmsg.h"
#include "config/config.h"
#include "suites.h"

#define HDR "{\"probes\": [{\"name\": \"d\", \"type\": \"dns\", "

static struct config *
parse(const char *text, struct config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return config_parse("t.json", text, strlen(text), errs);
}

/* text fails, and some error says want. */
static void
expect_error(const char *text, const char *want)
{
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	bool found = false;

	ck_assert_ptr_null(cfg);
	for (size_t i = 0; i < errs.n; i++)
		if (strstr(errs.v[i].msg, want) != NULL)
			found = true;
	ck_assert_msg(found, "no error says \"%s\" (first: %s)", want,
	    errs.n > 0 ? errs.v[0].msg : "none");
	config_errors_clear(&errs);
}

START_TEST(test_dns_valid)
{
	struct config_errors errs;
	struct config *cfg = parse(HDR "\"query\": \"portal.example.com.\", "
	    "\"record\": \"MX\", \"server\": \"127.0.0.1:5353\", \"expect\": "
	    "{\"contains\": \"10 mx.example.com\", \"equals\": [\"a\", \"b\"]}}],"
	    "\"rules\": [{\"name\": \"slow\", \"metric\": \"d.resolve_ms\", "
	    "\"aggregate\": \"avg\", \"window\": \"1m\", \"op\": \">\", "
	    "\"warn\": 100}]}",
	    &errs);
	const struct dns_cfg *d;

	ck_assert_msg(cfg != NULL, "%s", errs.n > 0 ? errs.v[0].msg : "");
	d = &cfg->probes[0].dns;
	ck_assert_int_eq(cfg->probes[0].type, PROBE_DNS);
	ck_assert_str_eq(d->query, "portal.example.com");
	ck_assert_int_eq(d->record, DNS_T_MX);
	ck_assert_str_eq(d->server, "127.0.0.1:5353");
	ck_assert_str_eq(d->contains, "10 mx.example.com");
	ck_assert(d->has_equals);
	ck_assert_uint_eq(d->nequals, 2);
	ck_assert_str_eq(d->equals[1], "b");
	ck_assert_str_eq(cfg->probes[0].target,
	    "portal.example.com MX @127.0.0.1:5353");
	config_free(cfg);

	cfg = parse(HDR "\"query\": \"x.test\"}]}", &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->probes[0].dns.record, DNS_T_A);
	ck_assert_ptr_null(cfg->probes[0].dns.server);
	ck_assert(!cfg->probes[0].dns.has_equals);
	config_free(cfg);
}
END_TEST

START_TEST(test_dns_errors)
{
	expect_error(HDR "\"record\": \"A\"}]}", "dns probe needs \"query\"");
	expect_error(HDR "\"query\": \"a..b\"}]}", "is not a DNS name");
	expect_error(HDR "\"query\": \"x\", \"record\": \"SRV\"}]}",
	    "\"record\" must be");
	expect_error(HDR "\"query\": \"x\", \"server\": \"ns.example:53\"}]}",
	    "must be numeric");
	expect_error(HDR "\"query\": \"x\", \"server\": \"127.0.0.1:0\"}]}",
	    "from 1 to 65535");
	expect_error(HDR "\"query\": \"x\", \"expect\": {\"equal\": []}}]}",
	    "equal");
	expect_error(HDR "\"query\": \"x\", \"expect\": {\"equals\": [1]}}]}",
	    "answers as strings");
	expect_error(HDR "\"query\": \"x\", \"url\": \"http://h/\"}]}", "url");
	expect_error(HDR "\"query\": \"x\"}], \"rules\": [{\"name\": \"r\", "
	    "\"metric\": \"d.dns_ms\", \"op\": \">\", \"warn\": 1}]}",
	    "a dns probe records");
}
END_TEST

Suite *
config_dns_suite(void)
{
	Suite *s = suite_create("config_dns");
	TCase *tc = tcase_create("config_dns");

	tcase_add_test(tc, test_dns_valid);
	tcase_add_test(tc, test_dns_errors);
	suite_add_tcase(s, tc);
	return s;
}
