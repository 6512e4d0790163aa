/*
 * Unit tests for lib/http/api_host.c: the Host names vigild answers, with
 * and without api.allowed_hosts, on loopback and beyond.
 */
#include <string.h>

#include "config/config.h"
#include "http/api_host.h"
#include "suites.h"

static const struct {
	bool loopback;
	const char *host;
	bool allowed;
} defaults[] = {
	{ true, NULL, true },			/* HTTP/1.0: no Host */
	{ true, "127.0.0.1:9464", true },
	{ true, "127.0.0.1", true },
	{ true, "[::1]:9464", true },
	{ true, "localhost:9464", true },
	{ true, "LOCALHOST", true },
	{ true, "localhost.", true },
	{ true, "grafana.localhost:3000", true },
	{ true, "10.0.0.5:9464", true },	/* a literal: no rebinding */
	{ true, "evil.example:9464", false },
	{ true, "evil.example", false },
	{ true, "localhost.evil.example", false },
	{ true, "notlocalhost", false },
	{ true, "::1", false },			/* unbracketed: not a Host */
	{ true, "[::1", false },
	{ true, "", false },
	{ false, "evil.example", true },	/* wide: the token guards it */
	{ false, "vigil.example.com:9464", true },
};

START_TEST(test_defaults)
{
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_msg(api_host_allowed(&cfg, defaults[_i].loopback,
	    defaults[_i].host) == defaults[_i].allowed, "%s on %s",
	    defaults[_i].host != NULL ? defaults[_i].host : "(none)",
	    defaults[_i].loopback ? "loopback" : "a wide listener");
}
END_TEST

START_TEST(test_configured)
{
	char n1[] = "vigil.example.com", n2[] = "[::1]";
	char *names[] = { n1, n2 };
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.allowed_hosts = names;
	cfg.nallowed_hosts = 2;
	cfg.allowed_hosts_set = true;
	for (int lo = 0; lo < 2; lo++) {
		ck_assert(api_host_allowed(&cfg, lo, "vigil.example.com:9464"));
		ck_assert(api_host_allowed(&cfg, lo, "VIGIL.example.com"));
		ck_assert(api_host_allowed(&cfg, lo, "[::1]:80"));
		/* The list is the whole list: no literal or localhost else. */
		ck_assert(!api_host_allowed(&cfg, lo, "127.0.0.1:9464"));
		ck_assert(!api_host_allowed(&cfg, lo, "localhost"));
		ck_assert(!api_host_allowed(&cfg, lo, "evil.example"));
		ck_assert(api_host_allowed(&cfg, lo, NULL));
	}
	/* An empty list answers only requests without a Host. */
	cfg.nallowed_hosts = 0;
	ck_assert(!api_host_allowed(&cfg, true, "127.0.0.1"));
}
END_TEST

Suite *
api_host_suite(void)
{
	Suite *s = suite_create("api_host");
	TCase *tc = tcase_create("api_host");

	tcase_add_loop_test(tc, test_defaults, 0,
	    (int)(sizeof(defaults) / sizeof(defaults[0])));
	tcase_add_test(tc, test_configured);
	suite_add_tcase(s, tc);
	return s;
}
