/*
 * client and the API's address rules: where vigilctl finds vigild, and
 * which listen addresses count as loopback (read endpoints open) for api.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "engine/alerts.h"
#include "http/api.h"
#include "client.h"
#include "suites.h"

START_TEST(test_url_for_listen)
{
	char u[128];

	ck_assert_int_eq(client_url_for_listen("127.0.0.1:9464", false, u,
	    sizeof(u)), 0);
	ck_assert_str_eq(u, "http://127.0.0.1:9464");
	ck_assert_int_eq(client_url_for_listen("0.0.0.0:9464", true, u,
	    sizeof(u)), 0);
	ck_assert_str_eq(u, "https://127.0.0.1:9464");
	ck_assert_int_eq(client_url_for_listen("[::]:1", false, u,
	    sizeof(u)), 0);
	ck_assert_str_eq(u, "http://[::1]:1");
	ck_assert_int_eq(client_url_for_listen("[fe80::1]:80", false, u,
	    sizeof(u)), 0);
	ck_assert_str_eq(u, "http://[fe80::1]:80");
	ck_assert_int_eq(client_url_for_listen("localhost:9464", false, u,
	    sizeof(u)), -1);
	ck_assert_int_eq(client_url_for_listen("127.0.0.1", false, u,
	    sizeof(u)), -1);
}
END_TEST

START_TEST(test_loopback)
{
	ck_assert(api_listen_is_loopback("127.0.0.1:9464"));
	ck_assert(api_listen_is_loopback("127.1.2.3:0"));
	ck_assert(api_listen_is_loopback("[::1]:9464"));
	ck_assert(api_listen_is_loopback("[::ffff:127.0.0.1]:9464"));
	ck_assert(!api_listen_is_loopback("0.0.0.0:9464"));
	ck_assert(!api_listen_is_loopback("[::]:9464"));
	ck_assert(!api_listen_is_loopback("10.0.0.5:9464"));
	ck_assert(!api_listen_is_loopback("garbage"));
}
END_TEST

START_TEST(test_alert_filters)
{
	struct alerts_filter f;
	const char *why = NULL;

	ck_assert_int_eq(alerts_filter_parse(NULL, NULL, &f, &why), 0);
	ck_assert_uint_eq(f.sev | f.state, 0);
	ck_assert_int_eq(alerts_filter_parse("critical", "firing,pending", &f,
	    &why), 0);
	ck_assert_uint_eq(f.sev, 1u << SEV_CRITICAL);
	ck_assert_uint_eq(f.state, 1u << RULE_FIRING | 1u << RULE_PENDING);
	ck_assert_int_eq(alerts_filter_parse("fatal", NULL, &f, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "critical or warning"));
	ck_assert_int_eq(alerts_filter_parse(NULL, "ok", &f, &why), -1);
	ck_assert_int_eq(alerts_filter_parse(NULL, "firing,", &f, &why), 0);
	ck_assert_int_eq(alerts_filter_parse(NULL, "fir", &f, &why), -1);
}
END_TEST

START_TEST(test_init_order)
{
	struct client_opts o = { 0 };
	struct client c;
	char err[256];

	unsetenv("VIGIL_URL");
	unsetenv("VIGIL_TOKEN_FILE");
	o.config = "/nonexistent/vigil.json";
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/vigil.json"));
	o.config = NULL;
	o.url = "http://127.0.0.1:1/";
	o.token_file = "/nonexistent/token";
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "token file"));
	o.token_file = NULL;
	setenv("VIGIL_URL", "http://127.0.0.2:2", 1);
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), 0);
	/* The flag beats the environment; a trailing slash is dropped. */
	ck_assert_str_eq(c.url, "http://127.0.0.1:1");
	client_clear(&c);
	o.url = NULL;
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(c.url, "http://127.0.0.2:2");
	ck_assert_str_eq(c.url_from, "$VIGIL_URL");
	client_clear(&c);
	/* An HA pair: several, comma-separated, each without its slash. */
	setenv("VIGIL_URL", "http://127.0.0.2:2/, http://127.0.0.3:3", 1);
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.nurls, 2);
	ck_assert_str_eq(c.urls[0], "http://127.0.0.2:2");
	ck_assert_str_eq(c.urls[1], "http://127.0.0.3:3");
	ck_assert_str_eq(c.url, "http://127.0.0.2:2");
	client_clear(&c);
	o.url = "http://127.0.0.1:1,,http://127.0.0.1:2";
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty URL"));
	o.url = NULL;
	unsetenv("VIGIL_URL");
}
END_TEST

/* A configuration with ha.peers: this vigild first, then the rest. */
START_TEST(test_pair_from_config)
{
	char path[] = "/tmp/vigil-check-client-XXXXXX";
	const char *text = "{\"api\": {\"listen\": \"0.0.0.0:9464\"},"
	    " \"ha\": {\"peers\": [\"http://ops-2:9464/\"]}}";
	struct client_opts o = { 0 };
	struct client c;
	char err[256];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	unsetenv("VIGIL_URL");
	unsetenv("VIGIL_TOKEN_FILE");
	o.config = path;
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.nurls, 2);
	ck_assert_str_eq(c.urls[0], "http://127.0.0.1:9464");
	ck_assert_str_eq(c.urls[1], "http://ops-2:9464");
	ck_assert_ptr_nonnull(strstr(c.url_from, "ha.peers"));
	client_clear(&c);
	/* --url wins, peers and all. */
	o.url = "http://127.0.0.1:1";
	ck_assert_int_eq(client_init(&c, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.nurls, 1);
	client_clear(&c);
	unlink(path);
}
END_TEST

Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("client");

	tcase_add_test(tc, test_url_for_listen);
	tcase_add_test(tc, test_pair_from_config);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_alert_filters);
	tcase_add_test(tc, test_init_order);
	suite_add_tcase(s, tc);
	return s;
}
