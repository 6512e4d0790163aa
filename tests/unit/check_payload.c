/* payload: the bodies receivers get, field by field. */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "notify/payload.h"
#include "notice_sample.h"
#include "suites.h"

static struct notice
sample(void)
{
	return notice_sample("API p95 1234.5 ms");
}


static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(x) ? x->valuestring : "(absent)";
}

START_TEST(test_generic)
{
	struct notice n = sample();
	char *s = payload_generic(&n, &notice_sender);
	cJSON *o = cJSON_Parse(s);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str(o, "id"), "ops-1-7");
	ck_assert_str_eq(str(o, "kind"), "escalated");
	ck_assert_str_eq(str(o, "state"), "firing");
	ck_assert_str_eq(str(o, "severity"), "critical");
	ck_assert_str_eq(str(o, "since"), "2025-11-29T03:40:00.000Z");
	ck_assert_str_eq(str(o, "instance"), "ops-1");
	ck_assert(cJSON_GetObjectItem(o, "value")->valuedouble == 1234.5);
	ck_assert_str_eq(str(cJSON_GetObjectItem(o, "labels"), "team"), "web");
	cJSON_Delete(o);
	cJSON_free(s);
	/* Resolved: no severity; an unknown value is null, not a number. */
	n.firing = false;
	n.kind = NOTICE_RESOLVED;
	n.known = false;
	s = payload_generic(&n, &notice_sender);
	o = cJSON_Parse(s);
	ck_assert_str_eq(str(o, "state"), "resolved");
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "severity"));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "value")));
	cJSON_Delete(o);
	cJSON_free(s);
}
END_TEST

START_TEST(test_slack)
{
	struct notice n = sample();
	char *s = payload_slack(&n, &notice_sender);
	cJSON *o = cJSON_Parse(s), *b;

	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(strstr(str(o, "text"), "CRITICAL api_p95: "
	    "API p95 1234.5 ms"));
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "blocks"), 0);
	ck_assert_str_eq(str(b, "type"), "section");
	ck_assert_str_eq(str(cJSON_GetObjectItem(b, "text"), "type"),
	    "mrkdwn");
	ck_assert_ptr_nonnull(strstr(str(cJSON_GetObjectItem(b, "text"),
	    "text"), "<http://vigil:9464/|status>"));
	cJSON_Delete(o);
	cJSON_free(s);
}
END_TEST

/* Text from outside mentions nobody and links nowhere in Slack. */
START_TEST(test_slack_escapes_data)
{
	struct notice n = sample();
	struct deploy_notice d = { 3, 12, "1.2<!here>", "fail",
	    "errors <https://evil.example/|ACK HERE> & more", true, 0 };
	const struct sender evil = { "ops<!channel>", "http://vigil:9464/" };
	char *s;
	cJSON *o, *b;
	const char *block;

	snprintf(n.summary, sizeof(n.summary), "status is \"<!channel> "
	    "<https://evil.example/|ACK HERE>\" & co");
	s = payload_slack(&n, &evil);
	o = cJSON_Parse(s);
	ck_assert_ptr_nonnull(o);
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "blocks"), 0);
	block = str(cJSON_GetObjectItem(b, "text"), "text");
	ck_assert_ptr_nonnull(strstr(str(o, "text"), "status is \"&lt;!channel&gt; "
	    "&lt;https://evil.example/|ACK HERE&gt;\" &amp; co"));
	ck_assert_ptr_nonnull(strstr(block, "&lt;!channel&gt;"));
	ck_assert_ptr_null(strstr(str(o, "text"), "<!"));
	ck_assert_ptr_null(strstr(block, "<!"));
	ck_assert_ptr_null(strstr(block, "<https://evil"));
	/* vigil's own link stays a link. */
	ck_assert_ptr_nonnull(strstr(block, "<http://vigil:9464/|status>"));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "unfurl_links")));
	cJSON_Delete(o);
	cJSON_free(s);

	s = payload_deploy_slack(&d, &evil);
	o = cJSON_Parse(s);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_null(strchr(str(o, "text"), '<'));
	ck_assert_ptr_nonnull(strstr(str(o, "text"), "Deploy 1.2&lt;!here&gt;: "
	    "fail: errors &lt;https://evil.example/|ACK HERE&gt; &amp; more "
	    "(ops&lt;!channel&gt;)"));
	cJSON_Delete(o);
	cJSON_free(s);
}
END_TEST

START_TEST(test_alertmanager)
{
	struct notice a = sample(), b = sample();
	const struct notice *v[2] = { &a, &b };
	char *s;
	cJSON *o, *x, *l;

	/* A rule label cannot take over the alert's identity. */
	snprintf(a.labels[1].key, sizeof(a.labels[1].key), "alertname");
	snprintf(a.labels[1].value, sizeof(a.labels[1].value), "spoof");
	a.nlabels = 2;
	b.firing = false;
	b.kind = NOTICE_RESOLVED;
	s = payload_alertmanager(v, 2, &notice_sender);
	o = cJSON_Parse(s);
	ck_assert_int_eq(cJSON_GetArraySize(o), 2);
	x = cJSON_GetArrayItem(o, 0);
	l = cJSON_GetObjectItem(x, "labels");
	ck_assert_str_eq(str(l, "alertname"), "api_p95");
	ck_assert_str_eq(str(l, "severity"), "critical");
	/* No host in the labels: an HA pair's two alerts are one. */
	ck_assert_ptr_null(cJSON_GetObjectItem(l, "instance"));
	ck_assert_str_eq(str(cJSON_GetObjectItem(x, "annotations"),
	    "vigil_instance"), "ops-1");
	ck_assert_str_eq(str(l, "team"), "web");
	ck_assert_str_eq(str(x, "startsAt"), "2025-11-29T03:40:00.000Z");
	ck_assert_ptr_null(cJSON_GetObjectItem(x, "endsAt"));
	ck_assert_str_eq(str(cJSON_GetObjectItem(x, "annotations"), "value"),
	    "1234.5");
	ck_assert_str_eq(str(x, "generatorURL"), "http://vigil:9464/");
	x = cJSON_GetArrayItem(o, 1);
	ck_assert_str_eq(str(x, "endsAt"), "2025-11-29T03:41:00.000Z");
	cJSON_Delete(o);
	cJSON_free(s);
}
END_TEST

/* Two vigilds on one configuration push alerts with equal label sets. */
START_TEST(test_alertmanager_pair_same_labels)
{
	struct notice a = sample();
	const struct notice *v[1] = { &a };
	struct sender other = { "ops-2", "http://vigil-2:9464/" };
	struct deploy_notice d = { .seq = 1, .id = 3, .version = "1.2.3",
	    .verdict = "fail", .reason = "errors up", .t = 1000 };
	char *s1 = payload_alertmanager(v, 1, &notice_sender);
	char *s2 = payload_alertmanager(v, 1, &other);
	cJSON *o1 = cJSON_Parse(s1), *o2 = cJSON_Parse(s2);

	ck_assert(cJSON_Compare(cJSON_GetObjectItem(cJSON_GetArrayItem(o1, 0),
	    "labels"), cJSON_GetObjectItem(cJSON_GetArrayItem(o2, 0),
	    "labels"), true));
	cJSON_Delete(o1);
	cJSON_Delete(o2);
	cJSON_free(s1);
	cJSON_free(s2);
	s1 = payload_deploy_alertmanager(&d, &notice_sender);
	s2 = payload_deploy_alertmanager(&d, &other);
	o1 = cJSON_Parse(s1);
	o2 = cJSON_Parse(s2);
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(cJSON_GetArrayItem(o1, 0),
	    "labels"), cJSON_GetObjectItem(cJSON_GetArrayItem(o2, 0),
	    "labels"), true));
	ck_assert_str_eq(str(cJSON_GetObjectItem(cJSON_GetArrayItem(o2, 0),
	    "annotations"), "vigil_instance"), "ops-2");
	cJSON_Delete(o1);
	cJSON_Delete(o2);
	cJSON_free(s1);
	cJSON_free(s2);
}
END_TEST

Suite *
payload_suite(void)
{
	Suite *s = suite_create("payload");
	TCase *tc = tcase_create("bodies");

	tcase_add_test(tc, test_generic);
	tcase_add_test(tc, test_slack);
	tcase_add_test(tc, test_slack_escapes_data);
	tcase_add_test(tc, test_alertmanager);
	tcase_add_test(tc, test_alertmanager_pair_same_labels);
	suite_add_tcase(s, tc);
	return s;
}
