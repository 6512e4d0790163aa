/*
 * template: placeholders filled in and escaped per content type; every
 * mistake an error at its byte; a value never becomes template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "base/template.h"
#include "suites.h"

/* a = "x", q = a summary with everything JSON must escape, t = "{{a}}". */
static const char *
fields(void *arg, const char *name, size_t len)
{
	static const struct {
		const char *name, *value;
	} tab[] = {
		{ "a", "x" },
		{ "q", "say \"hi\"\\ \n\r\t\x01 \x7f end" },
		{ "t", "{{a}}" },
		{ "labels.team", "web" },
		{ "u", "caf\xc3\xa9 & a=b/c" },
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == len &&
		    strncmp(tab[i].name, name, len) == 0)
			return tab[i].value;
	return NULL;
}

static void
expect(const char *t, enum tmpl_escape esc, const char *want)
{
	struct tmpl_error err;
	char *out = tmpl_render(t, esc, fields, NULL, &err);

	ck_assert_msg(out != NULL, "%s: %s at %zu", t, err.msg, err.off);
	ck_assert_str_eq(out, want);
	free(out);
}

static void
expect_err(const char *t, size_t off, const char *want)
{
	struct tmpl_error err;
	char *out = tmpl_render(t, TMPL_JSON, fields, NULL, &err);

	ck_assert_msg(out == NULL, "%s rendered: %s", t, out);
	ck_assert_uint_eq(err.off, off);
	ck_assert_msg(strstr(err.msg, want) != NULL, "%s: %s", t, err.msg);
}

START_TEST(test_fields)
{
	expect("", TMPL_RAW, "");
	expect("no fields }} at all {", TMPL_RAW, "no fields }} at all {");
	expect("{{a}}", TMPL_RAW, "x");
	expect("[{{ a }}|{{a}}{{a}}]", TMPL_RAW, "[x|xx]");
	expect("team={{labels.team}}", TMPL_RAW, "team=web");
	/* A value is never read again: "{{a}}" in it stays text. */
	expect("{{t}}", TMPL_RAW, "{{a}}");
	expect("{{t}}", TMPL_JSON, "{{a}}");
}
END_TEST

START_TEST(test_escape_json)
{
	struct tmpl_error err;
	char *out;
	cJSON *o;

	expect("{{q}}", TMPL_JSON,
	    "say \\\"hi\\\"\\\\ \\n\\r\\t\\u0001 \\u007f end");
	expect("{{q}}", TMPL_RAW, "say \"hi\"\\ \n\r\t\x01 \x7f end");
	/* Injection: the value cannot close the string or add a member. */
	out = tmpl_render("{\"text\": \"{{q}}\", \"x\": \"{{t}}\"}", TMPL_JSON,
	    fields, NULL, &err);
	ck_assert_ptr_nonnull(out);
	o = cJSON_Parse(out);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cJSON_GetArraySize(o), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "text")->valuestring,
	    "say \"hi\"\\ \n\r\t\x01 \x7f end");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "x")->valuestring, "{{a}}");
	cJSON_Delete(o);
	free(out);
}
END_TEST

START_TEST(test_escape_form)
{
	expect("text={{u}}", TMPL_FORM, "text=caf%C3%A9%20%26%20a%3Db%2Fc");
	expect("{{a}}-_.~", TMPL_FORM, "x-_.~");
}
END_TEST

START_TEST(test_escape_for)
{
	ck_assert_int_eq(tmpl_escape_for(NULL), TMPL_JSON);
	ck_assert_int_eq(tmpl_escape_for("application/json"), TMPL_JSON);
	ck_assert_int_eq(tmpl_escape_for("Application/JSON; charset=utf-8"),
	    TMPL_JSON);
	ck_assert_int_eq(tmpl_escape_for("application/vnd.api+json"),
	    TMPL_JSON);
	ck_assert_int_eq(tmpl_escape_for("text/plain"), TMPL_RAW);
	ck_assert_int_eq(tmpl_escape_for("application/jsonx"), TMPL_RAW);
	ck_assert_int_eq(tmpl_escape_for(
	    "application/x-www-form-urlencoded"), TMPL_FORM);
}
END_TEST

START_TEST(test_errors)
{
	char longname[TMPL_MAX_NAME + 8];

	expect_err("ab {{nope}}", 5, "unknown field \"nope\"");
	expect_err("{{ a }} {{ nope }}", 11, "unknown field \"nope\"");
	expect_err("{{labels.none}}", 2, "unknown field");
	expect_err("x {{a", 2, "never closed");
	expect_err("{{a}} {{", 6, "never closed");
	expect_err("{{}}", 0, "empty");
	expect_err("{{   }}", 0, "empty");
	expect_err("{{A}}", 2, "lower case");
	expect_err("{{1a}}", 2, "lower case");
	expect_err("{{a b}}", 3, "lower case");
	/* "{{ {{a}} }}": the name runs to the first "}}". */
	expect_err("{{ {{a}} }}", 3, "lower case");
	expect_err("{{a\"}}", 3, "lower case");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		char t[sizeof(longname) + 8];

		snprintf(t, sizeof(t), "{{%s}}", longname);
		expect_err(t, 2, "too long");
	}
}
END_TEST

START_TEST(test_too_big)
{
	struct tmpl_error err;
	size_t n = TMPL_MAX_OUT / 5 + 10;
	char *t = malloc(n * 5 + 1), *out;

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++)
		memcpy(t + i * 5, "{{a}}", 5);
	t[n * 5] = '\0';
	out = tmpl_render(t, TMPL_RAW, fields, NULL, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), n);
	free(out);
	/* The same bytes escaped six-fold pass the ceiling: refused whole. */
	for (size_t i = 0; i < n; i++)
		memcpy(t + i * 5, "{{q}}", 5);
	out = tmpl_render(t, TMPL_JSON, fields, NULL, &err);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err.msg, "");
	free(t);
}
END_TEST

Suite *
template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_escape_json);
	tcase_add_test(tc, test_escape_form);
	tcase_add_test(tc, test_escape_for);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_too_big);
	suite_add_tcase(s, tc);
	return s;
}
