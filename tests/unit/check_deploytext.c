/*
 * deploytext: the words #incidents gets, from a fixed deploy document
 * (tests/unit/fixtures/deploytext/doc.json, captured from the end-to-end
 * canary that fails), against golden files for the generic and the Slack
 * bodies of every kind. VIGIL_UPDATE_GOLDEN=1 rewrites the golden files
 * instead: review the diff before committing it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "base/file.h"
#include "notify/deploytext.h"
#include "suites.h"

#define DIR	"tests/unit/fixtures/deploytext/"
#define T	1764403200000LL		/* 2025-11-29T08:00:00Z */

static const struct sender snd = { "ops-1", "http://vigil:9464/" };

static cJSON *
load(const char *path)
{
	char *text = NULL, err[256];
	size_t len = 0;
	cJSON *o;

	ck_assert_msg(file_read(path, 1 << 20, &text, &len, err,
	    sizeof(err)) == 0, "%s: %s", path, err);
	o = cJSON_ParseWithLength(text, len);
	free(text);
	ck_assert_msg(o != NULL, "%s: not JSON", path);
	return o;
}

/* The document as an update of this kind sees it. */
static cJSON *
doc_for(enum talk_kind k)
{
	cJSON *doc = load(DIR "doc.json");

	/* Every kind but the end speaks of a window still open. */
	if (k != TALK_END)
		cJSON_ReplaceItemInObjectCaseSensitive(doc, "open",
		    cJSON_CreateTrue());
	return doc;
}

static struct deploy_update
update(enum talk_kind k, const cJSON *doc)
{
	struct deploy_update u;

	memset(&u, 0, sizeof(u));
	u.seq = 42;
	u.ev.kind = k;
	u.t = T;
	u.doc = doc;
	if (k == TALK_VERDICT)
		snprintf(u.ev.was, sizeof(u.ev.was), "warn");
	return u;
}

static void
golden(const char *name, const char *body)
{
	char path[256];
	cJSON *got = cJSON_Parse(body), *want;

	ck_assert_msg(got != NULL, "%s: the body is not JSON", name);
	snprintf(path, sizeof(path), DIR "%s.json", name);
	if (getenv("VIGIL_UPDATE_GOLDEN") != NULL) {
		char *pretty = cJSON_Print(got);
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fprintf(f, "%s\n", pretty);
		fclose(f);
		cJSON_free(pretty);
	}
	want = load(path);
	if (!cJSON_Compare(want, got, true)) {
		char *g = cJSON_Print(got);

		ck_abort_msg("%s differs from %s; got:\n%.3000s", name, path, g);
	}
	cJSON_Delete(want);
	cJSON_Delete(got);
}

START_TEST(test_golden)
{
	static const enum talk_kind kinds[] = { TALK_BEGIN, TALK_STEP,
	    TALK_VERDICT, TALK_PROGRESS, TALK_END };
	enum talk_kind k = kinds[_i];
	cJSON *doc = doc_for(k);
	struct deploy_update u = update(k, doc);
	char name[64], *g = deploytext_generic(&u, &snd);
	char *s = deploytext_slack(&u, &snd);

	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(s);
	snprintf(name, sizeof(name), "%s.generic",
	    talk_kind_name(k) + strlen("deploy_"));
	golden(name, g);
	snprintf(name, sizeof(name), "%s.slack",
	    talk_kind_name(k) + strlen("deploy_"));
	golden(name, s);
	free(g);
	free(s);
	cJSON_Delete(doc);
}
END_TEST

static char *
text_of(enum talk_kind k, const cJSON *doc)
{
	static char buf[8192];
	struct deploy_update u = update(k, doc);

	deploytext_text(&u, &snd, buf, sizeof(buf));
	return buf;
}

/* The status line's shape, and a mark for each verdict. */
START_TEST(test_status_line)
{
	cJSON *doc = doc_for(TALK_PROGRESS);
	cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	static const char *const v[] = { "pass", "warn", "fail",
	    "inconclusive" };
	static const char *const mark[] = { "🟢", "🟡", "🔴", "⚪" };

	for (int i = 0; i < 4; i++) {
		char want[64];

		cJSON_ReplaceItemInObjectCaseSensitive(gate, "now",
		    cJSON_CreateString(v[i]));
		snprintf(want, sizeof(want), "[08:00 UTC] %s error rate 0.31 %%, "
		    "api p95 ", mark[i]);
		ck_assert_msg(strncmp(text_of(TALK_PROGRESS, doc), want,
		    strlen(want)) == 0, "%s", text_of(TALK_PROGRESS, doc));
	}
	ck_assert_str_eq(deploytext_mark("nonsense"), "⚪");
	cJSON_Delete(doc);
}
END_TEST

/* A number the document lacks is "not measured", never 0. */
START_TEST(test_not_measured_never_invented)
{
	cJSON *doc = doc_for(TALK_END), *tr;
	const char *t;

	t = text_of(TALK_END, doc);
	ck_assert_ptr_nonnull(strstr(t, "- Requests processed: 9600\n"));
	ck_assert_ptr_nonnull(strstr(t, "- Errors: 29 (0.3 %)\n"));
	ck_assert_ptr_nonnull(strstr(t, "- Cache hits: not measured\n"));
	ck_assert_ptr_nonnull(strstr(t, "- Failed requests: not measured\n"));
	ck_assert_ptr_nonnull(strstr(t, "- Sentry: not measured\n"));
	/* Measured, it is said, with its share. */
	tr = cJSON_GetObjectItemCaseSensitive(doc, "traffic");
	cJSON_ReplaceItemInObjectCaseSensitive(tr, "cache_hits",
	    cJSON_CreateNumber(117000));
	cJSON_AddNumberToObject(tr, "cache_hit_rate_pct", 78);
	t = text_of(TALK_END, doc);
	ck_assert_ptr_nonnull(strstr(t, "- Cache hits: 117000 (78 %)\n"));
	/* No requests counted: not "0 requests". */
	cJSON_ReplaceItemInObjectCaseSensitive(tr, "requests",
	    cJSON_CreateNumber(0));
	t = text_of(TALK_END, doc);
	ck_assert_ptr_nonnull(strstr(t, "- Requests processed: not measured"));
	ck_assert_ptr_nonnull(strstr(t, "- Errors: not measured"));
	cJSON_Delete(doc);
}
END_TEST

/* The operator's line and a check's reason reach Slack inert. */
START_TEST(test_slack_escapes_outside_text)
{
	cJSON *doc = doc_for(TALK_BEGIN), *o, *b;
	struct deploy_update u;
	char *s;

	cJSON_ReplaceItemInObjectCaseSensitive(doc, "announce",
	    cJSON_CreateString("<!channel> <https://evil.example/|ACK> & co"));
	u = update(TALK_BEGIN, doc);
	s = deploytext_slack(&u, &snd);
	o = cJSON_Parse(s);
	b = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "blocks"),
	    0);
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(b, "text"), "text")->valuestring,
	    "🔍 What: &lt;!channel&gt; &lt;https://evil.example/|ACK&gt; "
	    "&amp; co\n"));
	ck_assert_ptr_null(strstr(s, "<!channel>"));
	cJSON_Delete(o);
	free(s);
	cJSON_Delete(doc);
}
END_TEST

/* The stages planned, when vigilctl was told them, else said not to be. */
START_TEST(test_planned_stages)
{
	cJSON *doc = doc_for(TALK_BEGIN);
	static const int w[] = { 10, 25, 50, 100 };

	ck_assert_ptr_nonnull(strstr(text_of(TALK_BEGIN, doc),
	    "\n🪜 Stages: not planned ahead; told as each begins\n"));
	cJSON_AddItemToObject(doc, "planned_stages",
	    cJSON_CreateIntArray(w, 4));
	ck_assert_ptr_nonnull(strstr(text_of(TALK_BEGIN, doc),
	    "\n🪜 Stages planned: 10 %, 25 %, 50 %, 100 %\n"));
	cJSON_Delete(doc);
}
END_TEST

Suite *
deploytext_suite(void)
{
	Suite *s = suite_create("deploytext");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_golden, 0, 5);
	tcase_add_test(tc, test_status_line);
	tcase_add_test(tc, test_not_measured_never_invented);
	tcase_add_test(tc, test_slack_escapes_outside_text);
	tcase_add_test(tc, test_planned_stages);
	suite_add_tcase(s, tc);
	return s;
}
