/*
 * tmplbody: a notice and a deploy verdict through a webhook's template;
 * and the template as the configuration checks it, each mistake at its
 * line and column.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "notify/tmplbody.h"
#include "notice_sample.h"
#include "suites.h"

static struct notice
sample(void)
{
	return notice_sample("p95 \"1.2 s\"\n\\ <b>");
}


START_TEST(test_every_field)
{
	struct notice n = sample();
	struct deploy_notice d = {
		.seq = 3, .id = 42, .version = "v1", .verdict = "fail",
		.reason = "r", .final = true, .t = 1764387600000LL,
	};
	char t[64], *s;

	/* Whatever the configuration accepts, a body has. */
	for (size_t i = 0; config_template_fields[i] != NULL; i++) {
		snprintf(t, sizeof(t), "{{%s}}", config_template_fields[i]);
		ck_assert(config_template_field(config_template_fields[i],
		    strlen(config_template_fields[i])));
		s = tmplbody_notice(t, "text/plain", &n, &notice_sender);
		ck_assert_msg(s != NULL, "%s", t);
		free(s);
		s = tmplbody_deploy(t, "text/plain", &d, &notice_sender);
		ck_assert_msg(s != NULL, "%s", t);
		free(s);
	}
	ck_assert(!config_template_field("nope", 4));
	ck_assert(config_template_field("labels.x", 8));
	ck_assert(!config_template_field("labels.", 7));
}
END_TEST

START_TEST(test_plain)
{
	struct notice n = sample();
	char *s = tmplbody_notice("{{title}} {{state}} {{severity}} {{value}}"
	    "/{{threshold}} {{unit}} {{id}} {{since}} {{labels.team}}"
	    "{{labels.none}} {{instance}} {{url}} {{kind}}\n{{summary}}",
	    "text/plain", &n, &notice_sender);

	ck_assert_str_eq(s, "[CRITICAL] api_p95 firing critical 1234.5/1000 "
	    "ms ops-1-7 2025-11-29T03:40:00.000Z web ops-1 http://vigil:9464/ "
	    "escalated\np95 \"1.2 s\"\n\\ <b>");
	free(s);
	n.firing = false;
	n.known = false;
	s = tmplbody_notice("{{title}} {{state}} {{severity}} {{value}}",
	    "text/plain", &n, &notice_sender);
	ck_assert_str_eq(s, "[RESOLVED] api_p95 resolved none unknown");
	free(s);
}
END_TEST

/* Discord's and Teams' shapes stay JSON whatever the summary holds. */
START_TEST(test_json_shapes)
{
	struct notice n = sample();
	char *s = tmplbody_notice("{\"content\": \"**{{title}}**\\n{{summary}}"
	    "\", \"allowed_mentions\": {\"parse\": []}}", "application/json",
	    &n, &notice_sender);
	cJSON *o = cJSON_Parse(s), *c;

	ck_assert_msg(o != NULL, "%s", s);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "content")->valuestring,
	    "**[CRITICAL] api_p95**\np95 \"1.2 s\"\n\\ <b>");
	cJSON_Delete(o);
	free(s);
	s = tmplbody_notice("{\"type\": \"message\", \"attachments\": [{"
	    "\"contentType\": \"application/vnd.microsoft.card.adaptive\", "
	    "\"content\": {\"type\": \"AdaptiveCard\", \"version\": \"1.4\", "
	    "\"body\": [{\"type\": \"TextBlock\", \"text\": \"{{title}}\"}, "
	    "{\"type\": \"TextBlock\", \"wrap\": true, \"text\": "
	    "\"{{summary}}\"}]}}]}", NULL, &n, &notice_sender);
	o = cJSON_Parse(s);
	ck_assert_msg(o != NULL, "%s", s);
	c = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o,
	    "attachments"), 0), "content");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(c, "body"), 1), "text")->valuestring,
	    "p95 \"1.2 s\"\n\\ <b>");
	cJSON_Delete(o);
	free(s);
}
END_TEST

START_TEST(test_deploy)
{
	struct deploy_notice d = {
		.seq = 3, .id = 42, .version = "v1.2", .verdict = "warn",
		.reason = "p95 \"up\"", .final = true, .t = 1764387600000LL,
	};
	char *s = tmplbody_deploy("{\"t\": \"{{title}}: {{summary}} "
	    "({{state}}, {{severity}}, {{kind}})\"}", NULL, &d, &notice_sender);
	cJSON *o = cJSON_Parse(s);

	ck_assert_msg(o != NULL, "%s", s);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "t")->valuestring,
	    "[DEPLOY WARN] v1.2: p95 \"up\" (warn, warning, deploy_verdict)");
	cJSON_Delete(o);
	free(s);
}
END_TEST

/* The first error of a config with one webhook of these members. */
static void
expect_config(const char *members, const char *want)
{
	char text[2048], buf[512];
	struct config_errors errs;
	struct config *cfg;

	snprintf(text, sizeof(text), "{\"probes\": [],\n\"notifiers\": [{"
	    "\"name\": \"t\", \"type\": \"webhook\", \"url\": \"http://h/\",\n"
	    "%s}]}", members);
	memset(&errs, 0, sizeof(errs));
	cfg = config_parse("t.json", text, strlen(text), &errs);
	if (want == NULL) {
		if (errs.n > 0)
			config_error_format(&errs, 0, "t.json", buf,
			    sizeof(buf));
		ck_assert_msg(cfg != NULL, "%s", buf);
		config_free(cfg);
		return;
	}
	ck_assert_msg(cfg == NULL, "%s parsed", members);
	config_error_format(&errs, 0, "t.json", buf, sizeof(buf));
	ck_assert_msg(strstr(buf, want) != NULL, "wanted \"%s\", got %s",
	    want, buf);
	config_errors_clear(&errs);
}

START_TEST(test_config_inline)
{
	expect_config("\"template\": \"{\\\"text\\\": \\\"{{summary}}\\\"}\"",
	    NULL);
	expect_config("\"template\": \"{{title}}\", \"content_type\": "
	    "\"text/plain\"", NULL);
	/* Column of the "n" of nope, the escapes counted as written. */
	expect_config("\"template\": \"{\\\"text\\\": \\\"{{ nope }}\\\"}\"",
	    "t.json:3:30: unknown field \"nope\"");
	expect_config("\"template\": \"x {{summary\"",
	    "t.json:3:16: \"{{\" is never closed");
	expect_config("\"template\": \"{\\\"text\\\": {{summary}}}\"",
	    "not JSON once filled in");
	expect_config("\"template\": \"x\", \"format\": \"slack\"",
	    "instead of a \"format\"");
	expect_config("\"template\": \"x\", \"template_file\": \"/x\"",
	    "not both");
	expect_config("\"content_type\": \"text/plain\"",
	    "is for a webhook's \"template\"");
	expect_config("\"template\": \"{}\", \"deploys\": true",
	    "a templated webhook hears deploy verdicts only");
	expect_config("\"template\": \"{}\", \"content_type\": \"a\\nb\"",
	    "must be a media type");
}
END_TEST

START_TEST(test_config_file)
{
	char path[] = "/tmp/vigil-tmpl-XXXXXX", members[256];
	const char *body = "{\n  \"chat_id\": \"-100\",\n  \"text\": "
	    "\"{{summary}} {{sumary}}\"\n}\n";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, body, strlen(body)), (int)strlen(body));
	close(fd);
	snprintf(members, sizeof(members), "\"template_file\": \"%s\"", path);
	/* The template file's own line and column, in the message. */
	{
		char want[128];

		snprintf(want, sizeof(want), "%s:3:26: unknown field "
		    "\"sumary\"", path);
		expect_config(members, want);
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "{}\0x", 4), 4);
	close(fd);
	expect_config(members, "holds a NUL byte");
	unlink(path);
	expect_config(members, "cannot read template file");
}
END_TEST

Suite *
tmplbody_suite(void)
{
	Suite *s = suite_create("tmplbody");
	TCase *tc = tcase_create("bodies");

	tcase_add_test(tc, test_every_field);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_json_shapes);
	tcase_add_test(tc, test_deploy);
	tcase_add_test(tc, test_config_inline);
	tcase_add_test(tc, test_config_file);
	suite_add_tcase(s, tc);
	return s;
}
