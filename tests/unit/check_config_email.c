/* config_email: an "email" notifier's keys read into struct email_cfg,
 * and its mistakes (a password in the URL, plain text to a remote relay,
 * an address that would be header syntax) reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "config/config.h"
#include "suites.h"

#define HDR "{\"probes\": [], \"notifiers\": [{\"name\": \"mail\", " \
	"\"type\": \"email\", "

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

START_TEST(test_email_valid)
{
	char text[1024], path[] = "/tmp/vigil-smtp-pw-XXXXXX";
	struct config_errors errs;
	struct config *cfg;
	const struct email_cfg *e;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "s3cret-pw\n", 10), 10);
	close(fd);
	snprintf(text, sizeof(text), HDR "\"url\": "
	    "\"smtp://mail.example.com:587\", \"from\": \"vigil@example.com\", "
	    "\"to\": [\"oncall@example.com\", \"b@example.org\"], "
	    "\"username\": \"vigil\", \"password_file\": \"%s\", "
	    "\"ca_file\": \"/etc/ssl/private-ca.pem\", "
	    "\"severities\": [\"critical\"]}]}", path);
	cfg = parse(text, &errs);
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	ck_assert_int_eq(cfg->notifiers[0].type, NOTIFIER_EMAIL);
	ck_assert_uint_eq(cfg->notifiers[0].nurls, 1);
	ck_assert_str_eq(cfg->notifiers[0].urls[0],
	    "smtp://mail.example.com:587");
	ck_assert_str_eq(cfg->notifiers[0].shown,
	    "smtp://mail.example.com:587/...");
	ck_assert(!cfg->notifiers[0].sev_warning);
	e = cfg->notifiers[0].email;
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->from, "vigil@example.com");
	ck_assert_uint_eq(e->nto, 2);
	ck_assert_str_eq(e->to[1], "b@example.org");
	ck_assert_str_eq(e->username, "vigil");
	ck_assert_str_eq(e->password, "s3cret-pw");
	ck_assert_str_eq(e->ca_file, "/etc/ssl/private-ca.pem");
	/* STARTTLS is required unless said otherwise. */
	ck_assert(e->starttls);
	config_free(cfg);
	config_errors_clear(&errs);

	/* smtps://, and plain text to a relay on this host. */
	cfg = parse(HDR "\"url\": \"smtps://mail.example.com\", \"from\": "
	    "\"a@b.c\", \"to\": [\"d@e.f\"]}, {\"name\": \"local\", \"type\": "
	    "\"email\", \"url\": \"smtp://localhost:25\", \"from\": \"a@b.c\", "
	    "\"to\": [\"d@e.f\"], \"starttls\": \"off\"}, {\"name\": \"lo\", "
	    "\"type\": \"email\", \"url\": \"smtp://127.0.0.1:2525\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], "
	    "\"starttls\": \"off\"}]}", &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	ck_assert(cfg->notifiers[0].email->starttls);
	ck_assert_ptr_null(cfg->notifiers[0].email->username);
	ck_assert(!cfg->notifiers[1].email->starttls);
	ck_assert(!cfg->notifiers[2].email->starttls);
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_email_errors)
{
	expect_error(HDR "\"url\": \"http://mail.example.com\", \"from\": "
	    "\"a@b.c\", \"to\": [\"d@e.f\"]}]}", "smtp://host[:port]");
	expect_error(HDR "\"url\": \"smtp://u:pw@mail.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}]}", "must not carry a "
	    "login");
	expect_error(HDR "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}]}",
	    "needs \"url\"");
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"to\": [\"d@e.f\"]}]}", "needs \"from\"");
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": []}]}", "needs \"to\"");
	/* An address that would add a header or an SMTP command. */
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\\r\\nBcc: x@y.z\", \"to\": [\"d@e.f\"]}]}",
	    "not a plain address");
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f>\\r\\nRCPT TO:<x@y.z\"]}]}",
	    "a recipient must be a plain address");
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"Vigil <a@b.c>\", \"to\": [\"d@e.f\"]}]}",
	    "not a plain address");
	/* Plain text leaves this host never; smtps has no STARTTLS. */
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], "
	    "\"starttls\": \"off\"}]}",
	    "only to a relay on this host");
	expect_error(HDR "\"url\": \"smtps://localhost\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], "
	    "\"starttls\": \"off\"}]}",
	    "TLS from the start");
	expect_error(HDR "\"url\": \"smtp://localhost\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], "
	    "\"starttls\": \"maybe\"}]}",
	    "\"required\" or \"off\"");
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], \"username\": \"u\"}]}",
	    "go together");
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], \"password_file\": "
	    "\"/nonexistent/vigil-pw\"}]}", "cannot read secret file");
	/* The keys of the other kind of notifier. */
	expect_error(HDR "\"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"], \"headers\": "
	    "{\"X-A\": \"b\"}}]}", "\"headers\" is for webhooks, not email");
	expect_error("{\"probes\": [], \"notifiers\": [{\"name\": \"w\", "
	    "\"type\": \"webhook\", \"url\": \"http://h/\", \"to\": "
	    "[\"d@e.f\"]}]}", "\"to\" is for \"type\": \"email\"");
}
END_TEST

/* ha.peers: each vigild of a pair would send the mail. */
START_TEST(test_email_ha_pair)
{
	struct config_errors errs;
	struct config *cfg = parse("{\"probes\": [], \"ha\": {\"peers\": "
	    "[\"http://ops-2:9464\"]}, \"notifiers\": [{\"name\": \"mail\", "
	    "\"type\": \"email\", \"url\": \"smtp://m.example.com\", "
	    "\"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}]}", &errs);
	char w[400];

	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	ck_assert_ptr_nonnull(config_pair_warning(cfg, 0, w, sizeof(w)));
	ck_assert_ptr_nonnull(strstr(w, "\"mail\" (email)"));
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

Suite *
config_email_suite(void)
{
	Suite *s = suite_create("config_email");
	TCase *tc = tcase_create("config_email");

	tcase_add_test(tc, test_email_valid);
	tcase_add_test(tc, test_email_errors);
	tcase_add_test(tc, test_email_ha_pair);
	suite_add_tcase(s, tc);
	return s;
}
