/*
 * pagerduty: the Events API v2 bodies field by field, the dedup key one
 * per rule and instance, the routing key only in what is sent, which
 * answers are retried; and its configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "notify/pagerduty.h"
#include "notice_sample.h"
#include "suites.h"

static struct notice
sample(void)
{
	struct notice n = notice_sample("API p95 \"1.2 s\"\nslow");

	n.kind = NOTICE_FIRING;
	snprintf(n.labels[1].key, sizeof(n.labels[1].key), "component");
	snprintf(n.labels[1].value, sizeof(n.labels[1].value), "api");
	n.nlabels = 2;
	return n;
}


static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(x) ? x->valuestring : "(absent)";
}

START_TEST(test_trigger)
{
	struct notice n = sample();
	char *s = pagerduty_event(&n, &notice_sender);
	cJSON *o = cJSON_Parse(s), *p, *d;

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str(o, "event_action"), "trigger");
	ck_assert_str_eq(str(o, "dedup_key"), "vigil/ops-1/api_p95");
	/* Queued and saved without the secret. */
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "routing_key"));
	p = cJSON_GetObjectItem(o, "payload");
	ck_assert_str_eq(str(p, "summary"), "API p95 \"1.2 s\"\nslow");
	ck_assert_str_eq(str(p, "source"), "ops-1");
	ck_assert_str_eq(str(p, "severity"), "critical");
	ck_assert_str_eq(str(p, "timestamp"), "2025-11-29T03:41:00.000Z");
	ck_assert_str_eq(str(p, "component"), "api");
	ck_assert_str_eq(str(p, "group"), "web");
	ck_assert_str_eq(str(p, "class"), "api_p95");
	d = cJSON_GetObjectItem(p, "custom_details");
	ck_assert_str_eq(str(d, "value"), "1234.5");
	ck_assert_str_eq(str(d, "threshold"), "1000");
	ck_assert_str_eq(str(d, "unit"), "ms");
	ck_assert_str_eq(str(d, "kind"), "firing");
	ck_assert_str_eq(str(cJSON_GetObjectItem(d, "labels"), "team"), "web");
	ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(o,
	    "links"), 0), "href"), "http://vigil:9464/");
	cJSON_Delete(o);
	free(s);

	n.sev = SEV_WARNING;
	n.known = false;
	n.kind = NOTICE_DEESCALATED;
	s = pagerduty_event(&n, &notice_sender);
	o = cJSON_Parse(s);
	p = cJSON_GetObjectItem(o, "payload");
	ck_assert_str_eq(str(o, "event_action"), "trigger");
	ck_assert_str_eq(str(o, "dedup_key"), "vigil/ops-1/api_p95");
	ck_assert_str_eq(str(p, "severity"), "warning");
	ck_assert_str_eq(str(cJSON_GetObjectItem(p, "custom_details"),
	    "value"), "unknown");
	cJSON_Delete(o);
	free(s);
}
END_TEST

START_TEST(test_resolve)
{
	struct notice n = sample();
	char *s;
	cJSON *o;

	n.firing = false;
	n.kind = NOTICE_RESOLVED;
	s = pagerduty_event(&n, &notice_sender);
	o = cJSON_Parse(s);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str(o, "event_action"), "resolve");
	ck_assert_str_eq(str(o, "dedup_key"), "vigil/ops-1/api_p95");
	ck_assert_int_eq(cJSON_GetArraySize(o), 2);
	cJSON_Delete(o);
	free(s);
}
END_TEST

START_TEST(test_summary_and_key_bounds)
{
	struct notice n = sample();
	char inst[300], key[PAGERDUTY_DEDUP_MAX + 1], *s;
	struct sender big = { inst, "http://v/" };
	cJSON *o;

	memset(inst, 'h', sizeof(inst) - 1);
	inst[sizeof(inst) - 1] = '\0';
	memset(n.summary, 's', sizeof(n.summary) - 1);
	n.summary[sizeof(n.summary) - 1] = '\0';
	s = pagerduty_event(&n, &big);
	o = cJSON_Parse(s);
	ck_assert_uint_le(strlen(str(o, "dedup_key")), PAGERDUTY_DEDUP_MAX);
	ck_assert_uint_le(strlen(str(cJSON_GetObjectItem(o, "payload"),
	    "summary")), PAGERDUTY_SUMMARY_MAX);
	cJSON_Delete(o);
	free(s);
	ck_assert_str_eq(pagerduty_dedup_key("a", "b", key, sizeof(key)),
	    "vigil/a/b");
}
END_TEST

START_TEST(test_deploy)
{
	struct deploy_notice d = {
		.seq = 3, .id = 42, .version = "v1.2.3", .verdict = "fail",
		.reason = "api_p95 critical", .final = true,
		.t = 1764387600000LL,
	};
	char *s = pagerduty_deploy_event(&d, &notice_sender);
	cJSON *o = cJSON_Parse(s);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str(o, "event_action"), "trigger");
	ck_assert_str_eq(str(o, "dedup_key"), "vigil/ops-1/deploy/42");
	ck_assert_str_eq(str(cJSON_GetObjectItem(o, "payload"), "severity"),
	    "error");
	cJSON_Delete(o);
	free(s);
	d.verdict = "warn";
	ck_assert_ptr_null(pagerduty_deploy_event(&d, &notice_sender));
	d.verdict = "pass";
	ck_assert_ptr_null(pagerduty_deploy_event(&d, &notice_sender));
}
END_TEST

START_TEST(test_body_and_status)
{
	char *s = pagerduty_body("{\"event_action\":\"resolve\"}", "R0uting_k-1");
	cJSON *o = cJSON_Parse(s);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str(o, "routing_key"), "R0uting_k-1");
	ck_assert_str_eq(str(o, "event_action"), "resolve");
	cJSON_Delete(o);
	free(s);
	ck_assert_ptr_null(pagerduty_body("{}", "k"));
	ck_assert(pagerduty_permanent(400));
	ck_assert(pagerduty_permanent(404));
	ck_assert(pagerduty_permanent(413));
	ck_assert(!pagerduty_permanent(429));
	ck_assert(!pagerduty_permanent(408));
	ck_assert(!pagerduty_permanent(500));
	ck_assert(!pagerduty_permanent(503));
	ck_assert(!pagerduty_permanent(202));
}
END_TEST

/*
 * A notifier section with the key file (and ha.peers if ha); returns the
 * config or NULL with the first error in first.
 */
static struct config *
parse_pd(const char *members, const char *key, bool ha, char *first,
    size_t len)
{
	char path[] = "/tmp/vigil-pd-XXXXXX", text[1024];
	struct config_errors errs;
	struct config *cfg;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, key, strlen(key)), (int)strlen(key));
	close(fd);
	snprintf(text, sizeof(text), "{\"probes\": [], %s\n\"notifiers\": "
	    "[{\"name\": \"pd\", \"type\": \"pagerduty\", "
	    "\"routing_key_file\": \"%s\"%s}]}", ha ? "\"ha\": {\"peers\": "
	    "[\"http://peer:9464\"]}," : "", path, members);
	memset(&errs, 0, sizeof(errs));
	cfg = config_parse("t.json", text, strlen(text), &errs);
	first[0] = '\0';
	if (errs.n > 0)
		config_error_format(&errs, 0, "t.json", first, len);
	config_errors_clear(&errs);
	unlink(path);
	return cfg;
}

START_TEST(test_config)
{
	char err[512];
	struct config *cfg = parse_pd("", "0123456789abcdef0123456789abcdef\n",
	    false, err, sizeof(err));
	const struct notifier_cfg *n;

	ck_assert_msg(cfg != NULL, "%s", err);
	n = &cfg->notifiers[0];
	ck_assert_int_eq(n->type, NOTIFIER_PAGERDUTY);
	ck_assert_str_eq(n->routing_key, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(n->urls[0], "https://events.pagerduty.com/v2/enqueue");
	ck_assert_str_eq(n->shown, "https://events.pagerduty.com/...");
	ck_assert_int_eq(n->repeat_ms, 0);
	config_free(cfg);

	cfg = parse_pd(", \"url\": \"https://events.eu.pagerduty.com/v2/"
	    "enqueue\"", "k", false, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->notifiers[0].urls[0],
	    "https://events.eu.pagerduty.com/v2/enqueue");
	config_free(cfg);

	ck_assert_ptr_null(parse_pd("", "has\"quote", false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "must be letters, digits") != NULL &&
	    strstr(err, "has\"quote") == NULL, "%s", err);
	ck_assert_ptr_null(parse_pd(", \"format\": \"slack\"", "k", false, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "PagerDuty has its own") != NULL, "%s", err);
	ck_assert_ptr_null(parse_pd(", \"deploys\": true", "k", false, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "\"deploys\" is for webhooks") != NULL, "%s",
	    err);
	ck_assert_ptr_null(parse_pd(", \"template\": \"{}\"", "k", false, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "is for webhooks") != NULL, "%s", err);

	/* An HA pair would open two incidents: the check says so. */
	cfg = parse_pd("", "k", true, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_nonnull(config_pair_warning(cfg, 0, err, sizeof(err)));
	ck_assert_msg(strstr(err, "triggers its own incident") != NULL, "%s",
	    err);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_needs_key)
{
	const char *text = "{\"probes\": [],\n\"notifiers\": [{\"name\": "
	    "\"pd\", \"type\": \"pagerduty\"}]}";
	struct config_errors errs;
	char buf[512];

	memset(&errs, 0, sizeof(errs));
	ck_assert_ptr_null(config_parse("t.json", text, strlen(text), &errs));
	config_error_format(&errs, 0, "t.json", buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "t.json:2:15: ") != NULL &&
	    strstr(buf, "needs \"routing_key_file\"") != NULL, "%s", buf);
	config_errors_clear(&errs);
}
END_TEST

Suite *
pagerduty_suite(void)
{
	Suite *s = suite_create("pagerduty");
	TCase *tc = tcase_create("events");

	tcase_add_test(tc, test_trigger);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_summary_and_key_bounds);
	tcase_add_test(tc, test_deploy);
	tcase_add_test(tc, test_body_and_status);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_config_needs_key);
	suite_add_tcase(s, tc);
	return s;
}
