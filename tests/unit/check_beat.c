/*
 * Unit tests for lib/probe/beat.c (whether a job's last heartbeat is on
 * time, on a fake clock: every instant is a number in the table) and the
 * heartbeat probe's configuration (lib/config/config_heartbeat.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "config/config.h"
#include "probe/beat.h"
#include "suites.h"

#define S 1000LL
#define M (60 * S)
#define H (60 * M)
#define T0 1800000000000LL	/* vigild started */

struct judge_case {
	const char *what;
	bool beat;		/* a beat was recorded */
	int64_t at;		/* when, after T0 */
	bool failed;
	const char *msg;
	int64_t period, grace;
	int64_t now;		/* after T0 */
	bool up;
	const char *reason;
};

static const struct judge_case judge_cases[] = {
	{ "no beat, within period + grace of start", false, 0, false, "",
	    H, 10 * M, H + 10 * M, true, "" },
	{ "no beat, just past period + grace", false, 0, false, "",
	    H, 10 * M, H + 10 * M + 1, false,
	    "no heartbeat since vigild started 1h10m ago" },
	{ "no beat, whole seconds only", false, 0, false, "",
	    H, 10 * M, H + 10 * M + 1500, false,
	    "no heartbeat since vigild started 1h10m1s ago" },
	{ "on time", true, 5 * M, false, "", H, 10 * M, 30 * M, true, "" },
	{ "at the edge of grace", true, 0, false, "", H, 10 * M,
	    H + 10 * M, true, "" },
	{ "late", true, 0, false, "", H, 10 * M, 2 * H + 3 * M, false,
	    "last heartbeat 2h3m ago (expected every 1h)" },
	{ "late by a millisecond, no grace", true, 0, false, "", H, 0,
	    H + 1, false, "last heartbeat 1h ago (expected every 1h)" },
	{ "failed, on time", true, 5 * M, true, "disk full", H, 10 * M,
	    10 * M, false, "job reported failure: \"disk full\"" },
	{ "failed without a message", true, 0, true, "", H, 0, S, false,
	    "job reported failure: \"\"" },
	{ "failed message quoted", true, 0, true, "say \"hi\"", H, 0, S,
	    false, "job reported failure: \"say \\\"hi\\\"\"" },
	{ "failed and late: late says more", true, 0, true, "x", H, 0,
	    2 * H, false, "last heartbeat 2h ago (expected every 1h)" },
	{ "ok after an earlier start", true, 3 * H, false, "", H, 0,
	    3 * H + 30 * M, true, "" },
	{ "a clock that went back: not late", true, 10 * M, false, "",
	    H, 0, 5 * M, true, "" },
};

START_TEST(test_judge)
{
	const struct judge_case *c = &judge_cases[_i];
	struct beat b = { .at = T0 + c->at, .failed = c->failed,
	    .duration_s = -1 };
	char reason[256];
	bool up;

	snprintf(b.msg, sizeof(b.msg), "%s", c->msg);
	up = beat_judge(c->beat ? &b : NULL, c->period, c->grace, T0,
	    T0 + c->now, reason, sizeof(reason));
	ck_assert_msg(up == c->up, "%s: up %d", c->what, up);
	ck_assert_msg(strcmp(reason, c->reason) == 0, "%s: \"%s\"", c->what,
	    reason);
}
END_TEST

START_TEST(test_board)
{
	struct beatboard *b = beatboard_new(T0);
	struct beat x = { .at = T0 + 1, .duration_s = 2.5 };

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(beatboard_started(b), T0);
	ck_assert_ptr_null(beatboard_last(b, "backup"));
	ck_assert_int_eq(beatboard_record(b, "backup", &x), 0);
	x.at = T0 + 2;
	x.failed = true;
	ck_assert_int_eq(beatboard_record(b, "warmer", &x), 0);
	x.at = T0 + 3;
	ck_assert_int_eq(beatboard_record(b, "backup", &x), 0);
	ck_assert_int_eq(beatboard_last(b, "backup")->at, T0 + 3);
	ck_assert(beatboard_last(b, "backup")->failed);
	ck_assert_int_eq(beatboard_last(b, "warmer")->at, T0 + 2);
	ck_assert_ptr_null(beatboard_last(b, "other"));
	ck_assert_ptr_null(beatboard_last(NULL, "backup"));
	beatboard_free(b);
	beatboard_free(NULL);
}
END_TEST

START_TEST(test_save_restore)
{
	struct beatboard *a = beatboard_new(T0), *b = beatboard_new(T0 + H);
	struct beat x = { .at = T0 + 5, .failed = true, .duration_s = 1.5 };
	const struct beat *y;
	cJSON *o, *bad;

	snprintf(x.msg, sizeof(x.msg), "disk full");
	ck_assert_int_eq(beatboard_record(a, "backup", &x), 0);
	x.failed = false;
	x.duration_s = -1;
	x.msg[0] = '\0';
	ck_assert_int_eq(beatboard_record(a, "warmer", &x), 0);
	o = beatboard_save(a);
	/* Malformed entries are skipped, not fatal. */
	bad = cJSON_AddObjectToObject(o, "cut");
	cJSON_AddStringToObject(bad, "at", "yesterday");
	cJSON_AddNumberToObject(o, "scalar", 1);
	ck_assert_uint_eq(beatboard_restore(b, o), 2);
	y = beatboard_last(b, "backup");
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(y->at, T0 + 5);
	ck_assert(y->failed);
	ck_assert_str_eq(y->msg, "disk full");
	ck_assert(y->duration_s == 1.5);
	y = beatboard_last(b, "warmer");
	ck_assert_ptr_nonnull(y);
	ck_assert(!y->failed);
	ck_assert(y->duration_s < 0);
	ck_assert_ptr_null(beatboard_last(b, "cut"));
	ck_assert_uint_eq(beatboard_restore(b, NULL), 0);
	cJSON_Delete(o);
	beatboard_free(a);
	beatboard_free(b);
}
END_TEST

static struct config *
parse(const char *probe, struct config_errors *errs, char *path)
{
	char text[1024];
	int fd;

	strcpy(path, "/tmp/vigil-beat-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "s3cret\n", 7), 7);
	close(fd);
	snprintf(text, sizeof(text), "{\"probes\": [{\"name\": \"backup\", "
	    "\"type\": \"heartbeat\", \"token_file\": \"%s\"%s}]}", path,
	    probe);
	memset(errs, 0, sizeof(*errs));
	return config_parse("t.json", text, strlen(text), errs);
}

START_TEST(test_config)
{
	struct config_errors errs;
	struct config *cfg;
	char path[64];

	cfg = parse(", \"period\": \"1h\", \"grace\": \"10m\"", &errs, path);
	ck_assert_msg(cfg != NULL, "%s", errs.n > 0 ? errs.v[0].msg : "");
	ck_assert_int_eq(cfg->probes[0].type, PROBE_HEARTBEAT);
	ck_assert_int_eq(cfg->probes[0].heartbeat.period_ms, H);
	ck_assert_int_eq(cfg->probes[0].heartbeat.grace_ms, 10 * M);
	ck_assert_str_eq(cfg->probes[0].heartbeat.token, "s3cret");
	/* A tenth of the period, at most a minute. */
	ck_assert_int_eq(cfg->probes[0].interval_ms, M);
	ck_assert_str_eq(cfg->probes[0].target, "POST /heartbeat/backup");
	config_free(cfg);
	config_errors_clear(&errs);
	unlink(path);

	cfg = parse(", \"period\": \"5m\"", &errs, path);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->probes[0].interval_ms, 30 * S);
	ck_assert_int_eq(cfg->probes[0].heartbeat.grace_ms, 30 * S);
	config_free(cfg);
	config_errors_clear(&errs);
	unlink(path);

	cfg = parse(", \"period\": \"5s\", \"interval\": \"2s\"", &errs, path);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->probes[0].interval_ms, 2 * S);
	config_free(cfg);
	config_errors_clear(&errs);
	unlink(path);

	cfg = parse("", &errs, path);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errs.v[0].msg, "needs a \"period\""));
	config_errors_clear(&errs);
	unlink(path);

	cfg = parse(", \"period\": \"1h\", \"perido\": 1", &errs, path);
	ck_assert_ptr_null(cfg);
	config_errors_clear(&errs);
	unlink(path);
}
END_TEST

Suite *
beat_suite(void)
{
	Suite *s = suite_create("beat");
	TCase *tc = tcase_create("beat");

	tcase_add_loop_test(tc, test_judge, 0,
	    (int)(sizeof(judge_cases) / sizeof(judge_cases[0])));
	tcase_add_test(tc, test_board);
	tcase_add_test(tc, test_save_restore);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}
