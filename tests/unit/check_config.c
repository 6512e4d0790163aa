/* config: valid files parse into the right values; every kind of mistake
 * is reported at its line and column with a message saying what was
 * expected. */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "config/config.h"
#include "suites.h"

static struct config *
parse(const char *text, struct config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return config_parse("t.json", text, strlen(text), errs);
}

/* Asserts text fails with an error at line:col whose text contains want. */
static void
expect_error(const char *text, int line, int col, const char *want)
{
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	char buf[512];
	bool found = false;

	ck_assert_ptr_null(cfg);
	ck_assert_uint_gt(errs.n, 0);
	for (size_t i = 0; i < errs.n; i++) {
		config_error_format(&errs, i, "t.json", buf, sizeof(buf));
		if (errs.v[i].line == line && errs.v[i].col == col &&
		    strstr(errs.v[i].msg, want) != NULL)
			found = true;
	}
	if (!found) {
		config_error_format(&errs, 0, "t.json", buf, sizeof(buf));
		ck_abort_msg("wanted %d:%d \"%s\", first error: %s (of %zu)",
		    line, col, want, buf, errs.n);
	}
	config_errors_clear(&errs);
}

#define PROBE_HDR "{\"probes\": [{\"name\": \"a\", \"type\": \"http\", "

START_TEST(test_valid_full)
{
	const char *text =
	    "// shipped-style config\n"
	    "{\n"
	    "  \"api\": { \"listen\": \"[::1]:9000\" },\n"
	    "  \"defaults\": { \"interval\": \"15s\", \"timeout\": \"3s\" },\n"
	    "  \"store\": { \"retention\": \"2h\" },\n"
	    "  /* two probes */\n"
	    "  \"probes\": [\n"
	    "    { \"name\": \"app\", \"type\": \"http\",\n"
	    "      \"url\": \"https://u:secret@example.test/api/health\",\n"
	    "      \"expect\": { \"status\": [200, \"3xx\"], \"keyword\": \"ok\",\n"
	    "        \"json\": { \"/status\": [\"ok\", \"up\"], \"/n\": 3 } },\n"
	    "      \"metrics\": { \"p95_ms\": \"/metrics/p95\" },\n"
	    "      \"max_body\": \"2MiB\", \"tls\": { \"verify\": false } },\n"
	    "    { \"name\": \"b\", \"type\": \"http\", \"interval\": \"1m\",\n"
	    "      \"url\": \"http://127.0.0.1:1/\", \"method\": \"HEAD\",\n"
	    "      \"headers\": { \"X-Token\": \"t\" } }\n"
	    "  ]\n"
	    "}\n";
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	const struct probe_cfg *a, *b;
	char red[256];

	ck_assert_msg(cfg != NULL, "errors: %zu first %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	ck_assert_str_eq(cfg->listen, "[::1]:9000");
	ck_assert_int_eq(cfg->retention_ms, 7200000);
	ck_assert_uint_eq(cfg->nprobes, 2);
	a = config_probe(cfg, "app");
	b = config_probe(cfg, "b");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(a->interval_ms, 15000);
	ck_assert_int_eq(a->timeout_ms, 3000);
	ck_assert_int_eq(b->interval_ms, 60000);
	ck_assert_uint_eq(a->http.nstatus, 2);
	ck_assert_int_eq(a->http.status[1].lo, 300);
	ck_assert_int_eq(a->http.status[1].hi, 399);
	ck_assert_str_eq(a->http.keyword, "ok");
	ck_assert_uint_eq(a->http.nexpect_json, 2);
	ck_assert_int_eq(cJSON_GetArraySize(a->http.expect_json[0].any_of), 2);
	ck_assert_str_eq(a->http.metrics[0].name, "p95_ms");
	ck_assert_str_eq(a->http.metrics[0].ptr, "/metrics/p95");
	ck_assert_int_eq(a->http.max_body, 2 * 1024 * 1024);
	ck_assert(!a->http.tls_verify);
	ck_assert(b->http.tls_verify);
	ck_assert_str_eq(b->http.method, "HEAD");
	ck_assert_str_eq(b->http.headers[0], "X-Token: t");
	/* Default accepted status: any 2xx. */
	ck_assert_int_eq(b->http.status[0].lo, 200);
	ck_assert_int_eq(b->http.status[0].hi, 299);
	config_redact_url(a->http.url, red, sizeof(red));
	ck_assert_str_eq(red, "https://u:***@example.test/api/health");
	ck_assert_ptr_null(strstr(red, "secret"));
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_defaults)
{
	struct config_errors errs;
	struct config *cfg = parse("{\"probes\": []}", &errs);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->listen, "127.0.0.1:9464");
	ck_assert_int_eq(cfg->default_interval_ms, 30000);
	ck_assert_int_eq(cfg->default_timeout_ms, 10000);
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_syntax_errors)
{
	expect_error("{\n  \"probes\": [\n  ]\n  \"api\": {}\n}", 4, 3,
	    "expected ',' or '}'");
	expect_error("{\"probes\": [],}", 1, 14, "trailing comma");
	expect_error("", 1, 1, "empty");
	expect_error("{ /* unterminated\n", 1, 3, "unterminated comment");
}
END_TEST

START_TEST(test_unknown_keys)
{
	expect_error("{\n\"probes\": [],\n  \"deafults\": {}\n}", 3, 3,
	    "unknown key \"deafults\" in the configuration (did you mean "
	    "\"defaults\"?)");
	expect_error(PROBE_HDR "\"url\": \"http://h/\",\n  \"intervall\": "
	    "\"1s\"}]}", 2, 3, "did you mean \"interval\"");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"stauts\": [200]}}]}", 1, 74, "did you mean \"status\"");
	expect_error("{\"probes\": [], \"zzzzzzzz\": 1}", 1, 16,
	    "unknown key \"zzzzzzzz\" in the configuration");
}
END_TEST

START_TEST(test_wrong_types)
{
	expect_error("{\"probes\": {}}", 1, 12, "\"probes\" must be an array");
	expect_error("{\"probes\": [], \"api\": []}", 1, 23,
	    "\"api\" must be an object");
	expect_error(PROBE_HDR "\"url\": 5}]}", 1, 50,
	    "\"url\" must be a string, not a number");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"tls\": {\"verify\": "
	    "\"no\"}}]}", 1, 81, "\"verify\" must be true or false");
	expect_error("[1]", 1, 1, "must be a JSON object");
	expect_error("{\"probes\": [7]}", 1, 13, "a probe must be an object");
}
END_TEST

START_TEST(test_bad_durations)
{
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"interval\": \"30\"}]}",
	    1, 75, "\"30\" is not a duration");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"interval\": \"5x\"}]}",
	    1, 75, "not a duration");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"interval\": 30}]}",
	    1, 75, "must be a duration string");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"timeout\": \"1ms\"}]}",
	    1, 74, "must be between 10ms and 10m");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"interval\": \"10ms\"}]}",
	    1, 75, "must be between 100ms and 1d");
}
END_TEST

START_TEST(test_duplicates_and_names)
{
	expect_error("{\"probes\": [\n"
	    " {\"name\": \"a\", \"type\": \"http\", \"url\": \"http://h/\"},\n"
	    " {\"name\": \"a\", \"type\": \"http\", \"url\": \"http://h/\"}]}",
	    3, 11, "duplicate probe name \"a\"");
	expect_error("{\"probes\": [{\"name\": \"Bad-Name\", \"type\": \"http\", "
	    "\"url\": \"http://h/\"}]}", 1, 22, "must be lower case");
	/* A duplicate key in one object is a syntax error (jsonc). */
	expect_error("{\"probes\": [], \"probes\": []}", 1, 16,
	    "duplicate key");
	expect_error("{\"probes\": [{\"type\": \"http\", \"url\": \"http://h/\"}]}",
	    1, 13, "needs a \"name\"");
	expect_error("{\"probes\": [{\"name\": \"a\", \"type\": \"ftp\"}]}", 1, 35,
	    "unknown probe type \"ftp\"");
}
END_TEST

/* ha.peers: an HA pair's webhooks and Slack warn; Alertmanager does not. */
START_TEST(test_ha_pair)
{
	struct config_errors errs;
	struct config *cfg = parse(PROBE_HDR "\"url\": \"http://h/\"}],"
	    "\"ha\": {\"peers\": [\"http://ops-2:9464\"]},"
	    "\"notifiers\": ["
	    "{\"name\": \"am\", \"type\": \"alertmanager\","
	    " \"urls\": [\"http://am:9093\"]},"
	    "{\"name\": \"chat\", \"type\": \"webhook\", \"format\": \"slack\","
	    " \"url\": \"https://hooks.example/x\"}]}", &errs);
	char w[400];

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nha_peers, 1);
	ck_assert_str_eq(cfg->ha_peers[0], "http://ops-2:9464");
	ck_assert_ptr_null(config_pair_warning(cfg, 0, w, sizeof(w)));
	ck_assert_ptr_nonnull(config_pair_warning(cfg, 1, w, sizeof(w)));
	ck_assert_ptr_nonnull(strstr(w, "\"chat\" (Slack)"));
	ck_assert_ptr_nonnull(strstr(w, "Alertmanager"));
	config_free(cfg);
	config_errors_clear(&errs);
	/* Without ha, a webhook is no warning. */
	cfg = parse(PROBE_HDR "\"url\": \"http://h/\"}], \"notifiers\": ["
	    "{\"name\": \"w\", \"type\": \"webhook\", "
	    "\"url\": \"https://hooks.example/x\"}]}", &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(config_pair_warning(cfg, 0, w, sizeof(w)));
	config_free(cfg);
	config_errors_clear(&errs);
	expect_error(PROBE_HDR "\"url\": \"http://h/\"}], \"ha\": {}}", 1, 71,
	    "needs \"peers\"");
	expect_error(PROBE_HDR "\"url\": \"http://h/\"}], \"ha\": "
	    "{\"peers\": [\"nope\"]}}", 1, 82, "not a valid URL");
}
END_TEST

START_TEST(test_bad_urls)
{
	expect_error(PROBE_HDR "\"url\": \"ftp://h/\"}]}", 1, 50,
	    "must start with http:// or https://");
	expect_error(PROBE_HDR "\"url\": \"http://\"}]}", 1, 50,
	    "not a valid URL");
	expect_error(PROBE_HDR "\"url\": \"not a url\"}]}", 1, 50,
	    "not a valid URL");
	expect_error(PROBE_HDR "\"method\": \"GET\"}]}", 1, 13, "needs \"url\"");
}
END_TEST

START_TEST(test_bad_expectations)
{
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"status\": [700]}}]}", 1, 85, "status must be a code");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"status\": []}}]}", 1, 84, "non-empty array");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"json\": {\"status\": \"ok\"}}}]}", 1, 83,
	    "\"status\" is neither a JSON Pointer");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"json\": {\"/a\": {\"b\": 1}}}}]}", 1, 89,
	    "must be a string, number, boolean or null");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"metrics\": "
	    "{\"up\": \"/up\"}}]}", 1, 75, "taken by a metric");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"metrics\": "
	    "{\"p95\": \"metrics/p95\"}}]}", 1, 82,
	    "\"metrics/p95\" is neither a JSON Pointer");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"metrics\": "
	    "{\"p95\": 3}}]}", 1, 82, "must be a JSON Pointer");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"method\": \"HEAD\", "
	    "\"expect\": {\"keyword\": \"ok\"}}]}", 1, 73,
	    "a HEAD probe has no body");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"max_body\": "
	    "\"1TB\"}]}", 1, 75, "not a size");
}
END_TEST

/* JSONPath beside JSON Pointer: a syntax error at load, with its byte. */
START_TEST(test_jsonpath_selectors)
{
	const char *text = PROBE_HDR "\"url\": \"http://h/\", "
	    "\"expect\": {\"json\": {\"$.status\": \"UP\", \"/n\": 1}}, "
	    "\"metrics\": {\"max\": "
	    "\"$.measurements[?@.statistic=='MAX'].value\", "
	    "\"p95\": \"/p95\"}}]}";
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	const struct probe_cfg *a;

	ck_assert_msg(cfg != NULL, "errors: %zu first %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	a = config_probe(cfg, "a");
	ck_assert_ptr_nonnull(a->http.expect_json[0].path);
	ck_assert_str_eq(a->http.expect_json[0].ptr, "$.status");
	ck_assert_ptr_null(a->http.expect_json[1].path);
	ck_assert_ptr_nonnull(a->http.metrics[0].path);
	ck_assert_str_eq(a->http.metrics[0].ptr,
	    "$.measurements[?@.statistic=='MAX'].value");
	ck_assert_ptr_null(a->http.metrics[1].path);
	config_free(cfg);
	config_errors_clear(&errs);

	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"metrics\": "
	    "{\"max\": \"$.m[?@.s=='MAX'.value\"}}]}", 1, 82,
	    "metric \"max\": \"$.m[?@.s=='MAX'.value\" is not valid "
	    "JSONPath: expected , or ] after a selector (at byte 15 of "
	    "the path)");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"metrics\": "
	    "{\"max\": \"$..\"}}]}", 1, 82, "(at byte 3 of the path)");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"metrics\": "
	    "{\"n\": \"$[?match(@.a, 'x')]\"}}]}", 1, 80,
	    "function not supported here (only length() and count()) "
	    "(at byte 3 of the path)");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"json\": {\"$[?@.a == ]\": 1}}}]}", 1, 83,
	    "the path \"$[?@.a == ]\" is not valid JSONPath");
	/* a bad expectation value does not leak the parsed path */
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"expect\": "
	    "{\"json\": {\"$.a\": {\"b\": 1}, \"$.b\": []}}}]}", 1, 90,
	    "must be a string, number, boolean or null");
}
END_TEST

START_TEST(test_bad_listen)
{
	expect_error("{\"probes\": [], \"api\": {\"listen\": \"localhost:80\"}}",
	    1, 34, "must be numeric");
	expect_error("{\"probes\": [], \"api\": {\"listen\": \"1.2.3.4\"}}",
	    1, 34, "expected \"address:port\"");
	expect_error("{\"probes\": [], \"api\": {\"listen\": \"1.2.3.4:99999\"}}",
	    1, 34, "port must be a number");
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct config_errors errs;
	struct config *cfg = parse("{\"probes\": [\n"
	    "{\"name\": \"a\", \"type\": \"http\", \"url\": 1},\n"
	    "{\"name\": \"b\", \"type\": \"http\", \"url\": \"http://h/\", "
	    "\"timeout\": \"x\"}],\n"
	    "\"bogus\": 1}", &errs);

	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 3);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load("/nonexistent/vigil.json", &errs);

	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg, "cannot open"));
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_shipped_config)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load("etc/vigil.json", &errs);

	ck_assert_msg(cfg != NULL, "etc/vigil.json: %s",
	    errs.n ? errs.v[0].msg : "?");
	ck_assert_ptr_nonnull(config_probe(cfg, "app_health"));
	ck_assert_ptr_nonnull(config_probe(cfg, "app_advanced"));
	ck_assert_ptr_nonnull(config_probe(cfg, "app_cache"));
	ck_assert_ptr_nonnull(config_probe(cfg, "db"));
	ck_assert_ptr_nonnull(config_rule(cfg, "error_rate"));
	ck_assert_ptr_nonnull(config_rule(cfg, "db_pool"));
	ck_assert_ptr_nonnull(config_rule(cfg, "db_down"));
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_canon_equal_and_differs)
{
	const char *t1 = PROBE_HDR "\"url\": \"http://h/\"}]}";
	const char *t2 = PROBE_HDR "\"url\": \"http://h/\", \"timeout\": \"2s\"}]}";
	struct config_errors errs;
	struct config *a = parse(t1, &errs), *b, *c;

	config_errors_clear(&errs);
	b = parse(t1, &errs);
	config_errors_clear(&errs);
	c = parse(t2, &errs);
	config_errors_clear(&errs);
	ck_assert_str_eq(a->probes[0].canon, b->probes[0].canon);
	ck_assert_str_ne(a->probes[0].canon, c->probes[0].canon);
	config_free(a);
	config_free(b);
	config_free(c);
}
END_TEST


/* A probe app with metric p95_ms, then rules given as text. */
#define RULES_HDR "{\"probes\": [{\"name\": \"app\", \"type\": \"http\", " \
	"\"url\": \"http://h/\", \"metrics\": {\"p95_ms\": \"/p95\", " \
	"\"req\": \"/r\", \"err\": \"/e\"}}],\n\"rules\": [\n"

START_TEST(test_rules_valid)
{
	const char *text = RULES_HDR
	    "{\"name\": \"p95\", \"metric\": \"app.p95_ms\", "
	    "\"aggregate\": \"p95\", \"window\": \"5m\", \"op\": \">\", "
	    "\"warn\": 500, \"crit\": 1000, \"clear_warn\": 450, "
	    "\"for\": \"2m\", \"keep_firing_for\": \"1m\", "
	    "\"depends_on\": \"app_down\", \"labels\": {\"team\": \"web\"}, "
	    "\"unit\": \"ms\", \"summary\": \"p95 {value}\", "
	    "\"baseline\": {\"warn\": 1.2}},\n"
	    "{\"name\": \"errors\", \"ratio\": {\"numerator\": \"app.err\", "
	    "\"denominator\": \"app.req\", \"scale\": 100, "
	    "\"min_denominator\": 1000}, \"aggregate\": \"delta\", "
	    "\"window\": \"5m\", \"op\": \">\", \"crit\": 1}\n]}";
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	const struct rule_cfg *p95, *errors, *down;

	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	/* Two explicit rules and the implicit app_down. */
	ck_assert_uint_eq(cfg->nrules, 3);
	p95 = config_rule(cfg, "p95");
	errors = config_rule(cfg, "errors");
	down = config_rule(cfg, "app_down");
	ck_assert_ptr_nonnull(p95);
	ck_assert_ptr_nonnull(errors);
	ck_assert_ptr_nonnull(down);
	ck_assert_int_eq(p95->agg, AGG_P95);
	ck_assert_int_eq(p95->window_ms, 300000);
	ck_assert_int_eq(p95->def.op, RULE_GT);
	ck_assert(p95->def.warn.set && p95->def.warn.threshold == 500);
	ck_assert(p95->def.warn.has_clear && p95->def.warn.clear == 450);
	ck_assert(p95->def.crit.threshold == 1000);
	ck_assert_int_eq(p95->def.for_ms, 120000);
	ck_assert_int_eq(p95->def.keep_firing_ms, 60000);
	ck_assert(p95->def.warn.base_factor == 1.2);
	ck_assert_str_eq(p95->labels[0].key, "team");
	ck_assert_str_eq(p95->depends_on, "app_down");
	ck_assert_ptr_eq(&cfg->rules[p95->dep], down);
	ck_assert_str_eq(errors->numerator, "app.err");
	ck_assert(errors->scale == 100 && errors->min_denominator == 1000);
	ck_assert(down->implicit);
	ck_assert_str_eq(down->metric, "app.down");
	ck_assert(down->def.crit.set && down->def.crit.threshold == 1);
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_rules_errors)
{
	/* Line 3 is the first rule's line in every case. */
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p59_ms\", "
	    "\"op\": \">\", \"warn\": 1}]}", 3, 25,
	    "probe \"app\" has no metric \"p59_ms\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"web.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1}]}", 3, 25, "no probe named \"web\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"p95_ms\", "
	    "\"op\": \">\", \"warn\": 1}]}", 3, 25,
	    "must be \"<probe>.<metric>\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \"=>\", \"warn\": 1}]}", 3, 45, "\"op\" must be one of");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"aggregate\": \"median\", \"op\": \">\", \"warn\": 1}]}", 3, 52,
	    "unknown aggregate \"median\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"aggregate\": \"p95\", \"op\": \">\", \"warn\": 1}]}", 3, 52,
	    "needs a \"window\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\"}]}", 3, 1, "a rule needs a threshold");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 10, \"crit\": 5}]}", 3, 70,
	    "\"crit\" 5 is less severe than \"warn\" 10");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \"<\", \"warn\": 10, \"clear_warn\": 5}]}", 3, 76,
	    "\"clear_warn\" must be on the good side");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1, \"depends_on\": \"nope\"}]}", 3, 75,
	    "no rule named \"nope\"");
	expect_error(RULES_HDR "{\"name\": \"app_down\", \"metric\": "
	    "\"app.p95_ms\", \"op\": \">\", \"warn\": 1}]}", 3, 10,
	    "duplicate rule name \"app_down\" (every probe has an implicit");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"ratio\": {}, \"op\": \">\", \"warn\": 1}]}", 3, 25,
	    "either \"metric\" or \"ratio\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1, \"windwo\": \"5m\"}]}", 3, 61,
	    "did you mean \"window\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": \"500\"}]}", 3, 58,
	    "\"warn\" must be a number, not a string");
}
END_TEST

START_TEST(test_rules_cycle)
{
	expect_error(RULES_HDR
	    "{\"name\": \"a\", \"metric\": \"app.p95_ms\", \"op\": \">\", "
	    "\"warn\": 1, \"depends_on\": \"b\"},\n"
	    "{\"name\": \"b\", \"metric\": \"app.p95_ms\", \"op\": \">\", "
	    "\"warn\": 1, \"depends_on\": \"a\"}]}", 3, 75,
	    "depends on itself");
}
END_TEST

START_TEST(test_probe_debounce_keys)
{
	struct config_errors errs;
	struct config *cfg = parse("{\"probes\": [{\"name\": \"a\", "
	    "\"type\": \"http\", \"url\": \"http://h/\", \"fail_after\": 3, "
	    "\"recover_after\": 2, \"retry_interval\": \"5s\", "
	    "\"down_severity\": \"warning\"}]}", &errs);
	const struct rule_cfg *down;

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->probes[0].fail_after, 3);
	ck_assert_uint_eq(cfg->probes[0].recover_after, 2);
	ck_assert_int_eq(cfg->probes[0].retry_interval_ms, 5000);
	down = config_rule(cfg, "a_down");
	ck_assert(down->def.warn.set && !down->def.crit.set);
	config_free(cfg);
	config_errors_clear(&errs);
	cfg = parse("{\"probes\": [{\"name\": \"a\", \"type\": \"http\", "
	    "\"url\": \"http://h/\", \"down_severity\": \"none\"}]}", &errs);
	ck_assert_uint_eq(cfg->nrules, 0);
	config_free(cfg);
	config_errors_clear(&errs);
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"fail_after\": 0}]}",
	    1, 77, "\"fail_after\" must be a whole number from 1 to 100");
	expect_error(PROBE_HDR "\"url\": \"http://h/\", \"down_severity\": "
	    "\"page\"}]}", 1, 80, "\"down_severity\" must be");
}
END_TEST

START_TEST(test_token_file)
{
	char path[] = "/tmp/vigil-token-XXXXXX", text[256];
	struct config_errors errs;
	struct config *cfg;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	/* One trailing newline is the editor's; nothing else is trimmed. */
	ck_assert_int_eq(write(fd, "tok-123\r\n", 9), 9);
	close(fd);
	snprintf(text, sizeof(text), "{\"api\": {\"token_file\": \"%s\"}, "
	    "\"probes\": []}", path);
	cfg = parse(text, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->api_token, "tok-123");
	config_free(cfg);
	config_errors_clear(&errs);
	unlink(path);
	/* A missing file: an error naming the file, never its content. */
	cfg = parse(text, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg, "cannot read secret file"));
	config_errors_clear(&errs);
}
END_TEST

/*
 * A bare name is a systemd credential, read from $CREDENTIALS_DIRECTORY
 * (the unit's LoadCredential=vigil.api-token).
 */
START_TEST(test_token_credential)
{
	char dir[] = "/tmp/vigil-creds-XXXXXX", path[512];
	const char *text = "{\"api\": {\"token_file\": \"vigil.api-token\"}, "
	    "\"probes\": []}";
	struct config_errors errs;
	struct config *cfg;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vigil.api-token", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("cred-tok-9\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);	/* as systemd's are */
	/* Without the variable: an error that says what a bare name means. */
	unsetenv("CREDENTIALS_DIRECTORY");
	cfg = parse(text, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg,
	    "$CREDENTIALS_DIRECTORY is not set"));
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg,
	    "LoadCredential=vigil.api-token"));
	config_errors_clear(&errs);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cfg = parse(text, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->api_token, "cred-tok-9");
	config_free(cfg);
	config_errors_clear(&errs);
	/* Loaded but missing: the file's error, with its full path. */
	unlink(path);
	cfg = parse(text, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg, path));
	config_errors_clear(&errs);
	unsetenv("CREDENTIALS_DIRECTORY");
	rmdir(dir);
	/* Not a name: "." and "" are refused rather than read as directories. */
	cfg = parse("{\"api\": {\"token_file\": \"..\"}, \"probes\": []}",
	    &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg, "neither a file's path"));
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_notifiers)
{
	char text[1024], path[] = "/tmp/vigil-hook-XXXXXX";
	struct config_errors errs;
	struct config *cfg;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "https://hooks.example/T1/B2/sekrit\n", 35),
	    35);
	close(fd);
	snprintf(text, sizeof(text), RULES_HDR
	    "{\"name\": \"r\", \"metric\": \"app.p95_ms\", \"op\": \">\", "
	    "\"warn\": 1}],\n\"notifiers\": [{\"name\": \"slack\", "
	    "\"type\": \"webhook\", \"url_file\": \"%s\", \"format\": "
	    "\"slack\", \"severities\": [\"critical\"], \"rules\": [\"r\"], "
	    "\"deploys\": true, \"progress_interval\": \"2s\"},\n"
	    "{\"name\": \"am\", \"type\": \"alertmanager\", \"urls\": "
	    "[\"http://127.0.0.1:9093\", \"http://127.0.0.1:9094\"]}],\n"
	    "\"state_dir\": \"/var/lib/vigil\", \"instance\": \"ops-1\"}",
	    path);
	cfg = parse(text, &errs);
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	ck_assert_uint_eq(cfg->nnotifiers, 2);
	ck_assert_str_eq(cfg->notifiers[0].urls[0],
	    "https://hooks.example/T1/B2/sekrit");
	/* Only scheme and host are ever shown. */
	ck_assert_str_eq(cfg->notifiers[0].shown, "https://hooks.example/...");
	ck_assert(cfg->notifiers[0].sev_critical && !cfg->notifiers[0].sev_warning);
	ck_assert_int_eq(cfg->notifiers[0].format, WEBHOOK_SLACK);
	ck_assert_uint_eq(cfg->notifiers[1].nurls, 2);
	ck_assert_int_eq(cfg->notifiers[1].repeat_ms, 60000);
	/* Release day talk: opted in, and the checklist's 5 minutes else. */
	ck_assert(cfg->notifiers[0].deploys && !cfg->notifiers[1].deploys);
	ck_assert_int_eq(cfg->notifiers[0].progress_ms, 2000);
	ck_assert_int_eq(cfg->notifiers[1].progress_ms, 300000);
	ck_assert_str_eq(cfg->state_dir, "/var/lib/vigil");
	ck_assert_str_eq(cfg->instance, "ops-1");
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_notifier_errors)
{
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1}],\n\"notifiers\": [{\"name\": "
	    "\"x\", \"type\": \"pager\", \"url\": \"http://h/\"}]}", 4, 37,
	    "unknown notifier type \"pager\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1}],\n\"notifiers\": [{\"name\": "
	    "\"x\", \"type\": \"webhook\"}]}", 4, 15, "exactly one of \"url\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1}],\n\"notifiers\": [{\"name\": "
	    "\"x\", \"type\": \"webhook\", \"url\": \"http://h/\", "
	    "\"rules\": [\"nope\"]}]}", 4, 78, "no rule named \"nope\"");
	expect_error(RULES_HDR "{\"name\": \"r\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 1}],\n\"notifiers\": [{\"name\": "
	    "\"x\", \"type\": \"webhook\", \"url_env\": "
	    "\"VIGIL_UNSET_HOOK_VAR\"}]}", 4, 59,
	    "environment variable VIGIL_UNSET_HOOK_VAR must hold");
	expect_error("{\"probes\": [], \"state_dir\": \"var/lib\"}", 1, 29,
	    "must be an absolute path");
	expect_error("{\"probes\": [],\n\"notifiers\": [{\"name\": \"x\", "
	    "\"type\": \"webhook\", \"url\": \"http://h/\", "
	    "\"deploys\": true, \"progress_interval\": \"500ms\"}]}", 2, 106,
	    "progress_interval");
	expect_error("{\"probes\": [],\n\"notifiers\": [{\"name\": \"am\", "
	    "\"type\": \"alertmanager\", \"url\": \"http://h/\", "
	    "\"deploys\": true}]}", 2, 85, "\"deploys\" is for webhooks");
	expect_error("{\"probes\": [],\n\"notifiers\": [{\"name\": \"x\", "
	    "\"type\": \"webhook\", \"url\": \"http://h/\", "
	    "\"deploys\": \"yes\"}]}", 2, 79, "deploys");
}
END_TEST

/* Found by the config fuzzer: a rule without a name, looked up by name
 * from a later section while parsing, crashed in strcmp. */
START_TEST(test_unnamed_rule_looked_up)
{
	expect_error(RULES_HDR "{\"metric\": \"app.p95_ms\", \"op\": \">\", "
	    "\"warn\": 1}],\n\"notifiers\": [{\"name\": \"n\", \"type\": "
	    "\"webhook\", \"url\": \"http://h/\", \"rules\": [\"x\"]}],\n"
	    "\"release\": {\"checks\": [{\"rule\": \"y\"}]}}", 4, 78,
	    "no rule named \"x\"");
}
END_TEST

/* The report's cache counters name probe metrics, as rules do. */
START_TEST(test_release_cache_counters)
{
	struct config_errors errs;
	struct config *cfg = parse(RULES_HDR "],\n\"release\": "
	    "{\"cache_hits\": \"app.req\", \"cache_misses\": \"app.err\"}}",
	    &errs);

	ck_assert_msg(cfg != NULL, "errors: %zu first %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	ck_assert_str_eq(cfg->release.cache_hits, "app.req");
	ck_assert_str_eq(cfg->release.cache_misses, "app.err");
	ck_assert_uint_eq(cfg->release.cache_hits_probe, 0);
	config_free(cfg);
	cfg = parse(RULES_HDR "],\n\"release\": {}}", &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(cfg->release.cache_hits);
	config_free(cfg);
	expect_error(RULES_HDR "],\n\"release\": {\"cache_hits\": "
	    "\"db.hits\"}}", 4, 27, "no probe named \"db\"");
	expect_error(RULES_HDR "],\n\"release\": {\"cache_misses\": "
	    "\"app.err\"}}", 4, 29, "set that too");
}
END_TEST

/* "compare": the canary's probe and the stable pods', metric for metric. */
#define CMP_HDR "{\"probes\": [" \
	"{\"name\": \"app\", \"type\": \"http\", \"url\": \"http://h/\", " \
	"\"metrics\": {\"req\": \"/r\", \"err\": \"/e\"}},\n" \
	"{\"name\": \"canary\", \"type\": \"http\", \"url\": \"http://c/\", " \
	"\"metrics\": {\"req\": \"/r\", \"err\": \"/e\"}},\n" \
	"{\"name\": \"stable\", \"type\": \"http\", \"url\": \"http://s/\", " \
	"\"metrics\": {\"req\": \"/r\"}}],\n" \
	"\"rules\": [{\"name\": \"errors\", \"ratio\": {\"numerator\": " \
	"\"app.err\", \"denominator\": \"app.req\"}, \"op\": \">\", " \
	"\"warn\": 1}],\n\"release\": {\"checks\": [{\"rule\": \"errors\", " \
	"\"relative\": {\"max_increase_pct\": 10}}],\n"

START_TEST(test_release_compare)
{
	struct config_errors errs;
	struct config *cfg = parse(CMP_HDR "\"compare\": {\"canary\": "
	    "\"canary\", \"baseline\": \"canary\"}}}", &errs);

	ck_assert_ptr_null(cfg);
	config_errors_clear(&errs);
	/* The stable pods' probe must read the check's "err" too. */
	expect_error(CMP_HDR "\"compare\": {\"canary\": \"canary\", "
	    "\"baseline\": \"stable\"}}}", 6, 45, "no metric \"err\"");
	expect_error(CMP_HDR "\"compare\": {\"canary\": \"canary\"}}}", 6,
	    12, "needs \"baseline\"");
	expect_error(CMP_HDR "\"compare\": {\"canary\": \"nope\", "
	    "\"baseline\": \"app\"}}}", 6, 23, "no probe named \"nope\"");
	cfg = parse(CMP_HDR "\"compare\": {\"canary\": \"canary\", "
	    "\"baseline\": \"app\"}}}", &errs);
	ck_assert_msg(cfg != NULL, "errors: %zu first %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	ck_assert(cfg->release.compare);
	ck_assert_uint_eq(cfg->release.canary_probe, 1);
	ck_assert_uint_eq(cfg->release.stable_probe, 0);
	config_free(cfg);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_valid_full);
	tcase_add_test(tc, test_release_compare);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_bad_durations);
	tcase_add_test(tc, test_duplicates_and_names);
	tcase_add_test(tc, test_bad_urls);
	tcase_add_test(tc, test_ha_pair);
	tcase_add_test(tc, test_bad_expectations);
	tcase_add_test(tc, test_jsonpath_selectors);
	tcase_add_test(tc, test_bad_listen);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_shipped_config);
	tcase_add_test(tc, test_canon_equal_and_differs);
	tcase_add_test(tc, test_rules_valid);
	tcase_add_test(tc, test_rules_errors);
	tcase_add_test(tc, test_rules_cycle);
	tcase_add_test(tc, test_probe_debounce_keys);
	tcase_add_test(tc, test_token_file);
	tcase_add_test(tc, test_token_credential);
	tcase_add_test(tc, test_notifiers);
	tcase_add_test(tc, test_notifier_errors);
	tcase_add_test(tc, test_unnamed_rule_looked_up);
	tcase_add_test(tc, test_release_cache_counters);
	suite_add_tcase(s, tc);
	return s;
}
