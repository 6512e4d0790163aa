/* config_net: the tcp and tls probes' sections, their defaults, and each
 * mistake at its column (the text is one line; at names where). */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "config/config.h"
#include "suites.h"

static struct config *
parse(const char *text, struct config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return config_parse("t.json", text, strlen(text), errs);
}

/* text fails with an error at the column where at starts, saying want. */
static void
expect_error(const char *text, const char *at, const char *want)
{
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	int col = (int)(strstr(text, at) - text) + 1;
	char buf[512];
	bool found = false;

	ck_assert_ptr_null(cfg);
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].line == 1 && errs.v[i].col == col &&
		    strstr(errs.v[i].msg, want) != NULL)
			found = true;
	if (!found) {
		buf[0] = '\0';
		if (errs.n > 0)
			config_error_format(&errs, 0, "t.json", buf,
			    sizeof(buf));
		ck_abort_msg("wanted 1:%d \"%s\", first error: %s (of %zu)",
		    col, want, buf, errs.n);
	}
	config_errors_clear(&errs);
}

START_TEST(test_defaults)
{
	struct config_errors errs;
	struct config *cfg = parse("{\"probes\": ["
	    "{\"name\": \"r\", \"type\": \"tcp\", \"host\": \"cache\", "
	    "\"port\": 6379, \"send\": \"PING\", \"expect\": \"PONG\"},"
	    "{\"name\": \"c\", \"type\": \"tls\", \"host\": \"portal\"}],"
	    "\"rules\": [{\"name\": \"x\", \"metric\": \"c.cert_expiry_days\", "
	    "\"op\": \"<\", \"warn\": 14}]}", &errs);
	const struct net_cfg *t, *c;

	ck_assert_msg(cfg != NULL, "errors: %zu first %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	t = &cfg->probes[0].net;
	c = &cfg->probes[1].net;
	ck_assert_int_eq(cfg->probes[0].type, PROBE_TCP);
	ck_assert_str_eq(t->host, "cache");
	ck_assert_int_eq(t->port, 6379);
	ck_assert_str_eq(t->send, "PING");
	ck_assert_str_eq(t->expect, "PONG");
	ck_assert_int_eq(t->max_reply, 4096);
	ck_assert(!t->tls);
	ck_assert_str_eq(cfg->probes[0].target, "tcp://cache:6379");
	ck_assert_int_eq(cfg->probes[1].type, PROBE_TLS);
	ck_assert_int_eq(c->port, 443);
	ck_assert(c->tls);
	ck_assert_ptr_null(c->sni);
	ck_assert_str_eq(cfg->probes[1].target, "tls://portal:443");
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

#define TCP "{\"probes\": [{\"name\": \"r\", \"type\": \"tcp\", "

START_TEST(test_errors)
{
	expect_error(TCP "\"host\": \"h\"}]}", "{\"name\": \"r\"",
	    "a tcp probe needs a \"port\"");
	expect_error(TCP "\"port\": 1}]}", "{\"name\": \"r\"",
	    "a tcp probe needs a \"host\"");
	expect_error(TCP "\"host\": \"h:1\", \"port\": 1}]}", "\"h:1\"",
	    "without a port");
	expect_error(TCP "\"host\": \"h\", \"port\": 70000}]}", "70000",
	    "port");
	expect_error(TCP "\"host\": \"h\", \"port\": 1, \"send\": \"a\\nb\"}]}",
	    "\"a\\nb\"", "one line");
	expect_error(TCP "\"host\": \"h\", \"port\": 1, \"expect\": \"\"}]}",
	    "\"\"}", "must not be empty");
	expect_error(TCP "\"host\": \"h\", \"port\": 1, \"insecure\": true}]}",
	    "{\"name\": \"r\"", "need \"tls\": true");
	expect_error(TCP "\"host\": \"h\", \"port\": 1, \"expct\": \"x\"}]}",
	    "\"expct\"", "expect");
	/* send is tcp's alone; tls probes only shake hands. */
	expect_error("{\"probes\": [{\"name\": \"c\", \"type\": \"tls\", "
	    "\"host\": \"h\", \"send\": \"x\"}]}", "\"send\"", "send");
	/* A tcp probe without TLS has no certificate to judge. */
	expect_error(TCP "\"host\": \"h\", \"port\": 1}], \"rules\": "
	    "[{\"name\": \"x\", \"metric\": \"r.cert_expiry_days\", \"op\": "
	    "\"<\", \"warn\": 14}]}", "\"r.cert_expiry_days\"",
	    "has no metric \"cert_expiry_days\"");
}
END_TEST

Suite *
config_net_suite(void)
{
	Suite *s = suite_create("config_net");
	TCase *tc = tcase_create("config_net");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
