/*
 * statefile: the state file's document (encode, decode) and its recovery
 * (statefile_load). The parts are real (a monitor, notifiers, the release
 * gate, from tests/unit/fixtures/state_v1.config.json) on an event base
 * that never runs: nothing here polls or delivers.
 *
 * tests/unit/fixtures/state_v1.json was written by vigild 0.1.0, which
 * saved enums as numbers and hashed canons from a mistyped basis: this
 * release must read all of it (make_state_v1.py there says how it was
 * made).
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "alloc_count.h"
#include "base/hash.h"
#include "config/config.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "engine/silence.h"
#include "notify/notifier.h"
#include "release/deploy.h"
#include "sys/statefile.h"
#include "suites.h"

#define FIXTURE "tests/unit/fixtures/state_v1.json"
#define FIXTURE_CONFIG "tests/unit/fixtures/state_v1.config.json"
/* The fixture's "saved": decoding "then" keeps its silences active. */
#define FIXTURE_SAVED 1796238067605LL

struct parts {
	struct event_base *base;
	struct statefile_parts p;
};

static void
parts_init(struct parts *x)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load(FIXTURE_CONFIG, &errs);
	char err[256];

	ck_assert_msg(cfg != NULL, "%s: %s", FIXTURE_CONFIG,
	    errs.n ? errs.v[0].msg : "?");
	config_errors_clear(&errs);
	x->base = event_base_new();
	ck_assert_ptr_nonnull(x->base);
	x->p.m = monitor_new(x->base, cfg, err, sizeof(err));
	ck_assert_msg(x->p.m != NULL, "monitor_new: %s", err);
	x->p.nt = notifier_new(x->base, x->p.m);
	ck_assert_ptr_nonnull(x->p.nt);
	x->p.dp = deploys_new(x->p.m);
	ck_assert_ptr_nonnull(x->p.dp);
}

static void
parts_free(struct parts *x)
{
	deploys_free(x->p.dp);
	notifier_free(x->p.nt);
	monitor_free(x->p.m);
	event_base_free(x->base);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: cannot open", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
spew(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
encode(const struct parts *x, size_t *len)
{
	char *s = statefile_encode(&x->p, FIXTURE_SAVED, len);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* The document as a fresh (never restored) set of parts writes it. */
static char *
fresh_document(size_t *len)
{
	struct parts x;
	char *s;

	parts_init(&x);
	s = encode(&x, len);
	parts_free(&x);
	return s;
}

static size_t
rule_index(const struct statefile_parts *p, const char *name)
{
	const struct ruleset *rs = monitor_rules(p->m);

	for (size_t i = 0; i < ruleset_count(rs); i++)
		if (strcmp(ruleset_cfg(rs, i)->name, name) == 0)
			return i;
	ck_abort_msg("no rule %s", name);
	return 0;
}

static const struct rule_status *
status_of(const struct statefile_parts *p, const char *name)
{
	return ruleset_status(monitor_rules(p->m), rule_index(p, name));
}

static size_t
fixture_samples(const cJSON *doc)
{
	const cJSON *s;
	size_t n = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "store"))
		n += (size_t)cJSON_GetArraySize(s);
	return n;
}

/* o's key, a 0.1.0 number, replaced by the name this release writes. */
static void
to_name(cJSON *o, const char *key, bool state)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
	int n;

	ck_assert_msg(cJSON_IsNumber(item), "%s is not a number in 0.1.0",
	    key);
	n = item->valueint;
	cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(
	    state ? rule_state_name((enum rule_state)n) :
	    rule_sev_name((enum rule_sev)n)));
}

/*
 * The fixture as this release would have written it: names for numbers,
 * canons hashed with the real FNV-1a basis, version 2.
 */
static void
as_v2(cJSON *doc, const struct statefile_parts *p)
{
	cJSON *r, *n;

	cJSON_ReplaceItemInObjectCaseSensitive(doc, "version",
	    cJSON_CreateNumber(2));
	/* 0.1.0 had no heartbeat probes: their beats come back empty. */
	if (!cJSON_HasObjectItem(doc, "heartbeats"))
		cJSON_AddObjectToObject(doc, "heartbeats");
	/* Nor maintenance windows: none come back. */
	if (!cJSON_HasObjectItem(doc, "maintenance"))
		cJSON_AddArrayToObject(doc, "maintenance");
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "rules")) {
		const struct rule_cfg *rc = ruleset_cfg(monitor_rules(p->m),
		    rule_index(p, r->string));
		cJSON *h, *t;
		char hex[24];

		snprintf(hex, sizeof(hex), "%016llx",
		    (unsigned long long)hash64_str(rc->canon));
		cJSON_ReplaceItemInObjectCaseSensitive(r, "canon",
		    cJSON_CreateString(hex));
		to_name(r, "state", true);
		to_name(r, "sev", false);
		to_name(r, "fired_sev", false);
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(r,
		    "history")) {
			for (int k = 1; k <= 3; k++) {
				t = cJSON_GetArrayItem(h, k);
				ck_assert(cJSON_IsNumber(t));
				cJSON_ReplaceItemInArray(h, k,
				    cJSON_CreateString(k < 3 ?
				    rule_state_name((enum rule_state)
				    t->valueint) : rule_sev_name(
				    (enum rule_sev)t->valueint)));
			}
		}
	}
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(doc,
	    "notifiers"))
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(n,
		    "told"))
			to_name(r, "sev", false);
}

static void
assert_same(const cJSON *want, const cJSON *got, const char *what)
{
	char *w, *g;

	if (cJSON_Compare(want, got, true))
		return;
	w = cJSON_PrintUnformatted(want);
	g = cJSON_PrintUnformatted(got);
	ck_abort_msg("%s differs:\nwant %.1500s\ngot  %.1500s", what, w, g);
	free(w);
	free(g);
}

START_TEST(test_reads_the_0_1_0_file_completely)
{
	struct statefile_restored out;
	struct notifier_view nv;
	struct rule_view rv;
	const struct rule_status *st;
	struct parts x;
	size_t len, elen;
	char *buf = slurp(FIXTURE, &len), *enc, why[128] = "";
	cJSON *want, *got, *d;

	parts_init(&x);
	ck_assert_int_eq(statefile_decode(&x.p, buf, len, FIXTURE_SAVED, &out,
	    why, sizeof(why)), 0);
	want = cJSON_ParseWithLength(buf, len);
	ck_assert_ptr_nonnull(want);
	ck_assert_int_eq(out.version, 1);
	/* Every rule: the old canon hash still names them. */
	ck_assert_uint_eq(out.rules, 5);
	ck_assert_uint_eq(out.silences, 2);
	ck_assert_uint_eq(out.samples, fixture_samples(want));

	st = status_of(&x.p, "api_p95");
	ck_assert_int_eq(st->state, RULE_FIRING);
	ck_assert_int_eq(st->sev, SEV_CRITICAL);
	ck_assert_int_eq(st->since, 1796238065583LL);
	ck_assert_uint_eq(st->nhist, 2);
	ck_assert_int_eq(st->hist[1].from, RULE_OK);
	ck_assert_int_eq(st->hist[1].to, RULE_FIRING);
	ck_assert_int_eq(st->hist[1].sev, SEV_CRITICAL);
	ck_assert_int_eq(st->hist[0].from, RULE_UNKNOWN);
	ck_assert_int_eq(status_of(&x.p, "error_rate")->state, RULE_OK);
	ck_assert(ruleset_view(monitor_rules(x.p.m), rule_index(&x.p,
	    "p95_vs_baseline"), FIXTURE_SAVED, &rv));
	ck_assert(rv.has_baseline);
	ck_assert_double_eq(rv.baseline, 300.6);
	ck_assert_int_eq(rv.st->state, RULE_FIRING);

	ck_assert_uint_eq(silences_count(monitor_silences(x.p.m)), 2);
	ck_assert_str_eq(silences_at(monitor_silences(x.p.m), 0)->comment,
	    "INC-42 db failover");
	ck_assert_str_eq(silences_at(monitor_silences(x.p.m), 1)
	    ->matchers[0].value, "db");

	ck_assert(notifier_view(x.p.nt, 0, &nv));
	ck_assert_uint_eq(nv.queued, 2);
	ck_assert_uint_eq(nv.failed, 2);

	ck_assert(deploys_open(x.p.dp));
	d = deploys_json(x.p.dp, 0);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "version")
	    ->valuestring, "2.0.0");
	cJSON_Delete(d);

	/*
	 * Completely: written back as of the same moment, the document is
	 * the fixture, but for names for numbers and the fixed hash.
	 */
	enc = encode(&x, &elen);
	got = cJSON_ParseWithLength(enc, elen);
	ck_assert_ptr_nonnull(got);
	as_v2(want, &x.p);
	assert_same(want, got, "the whole document");
	cJSON_Delete(want);
	cJSON_Delete(got);
	free(enc);
	free(buf);
	parts_free(&x);
}
END_TEST

START_TEST(test_round_trip)
{
	struct statefile_restored out;
	struct parts a, b;
	size_t len, l1, l2;
	char *buf = slurp(FIXTURE, &len), *one, *two, why[128];

	parts_init(&a);
	ck_assert_int_eq(statefile_decode(&a.p, buf, len, FIXTURE_SAVED, &out,
	    why, sizeof(why)), 0);
	one = encode(&a, &l1);
	/* Names, not numbers. */
	ck_assert_ptr_nonnull(strstr(one, "\"state\":\"firing\""));
	ck_assert_ptr_nonnull(strstr(one, "\"sev\":\"critical\""));
	ck_assert_ptr_nonnull(strstr(one, "[1796238065583,\"ok\",\"firing\","
	    "\"critical\"]"));
	ck_assert_ptr_null(strstr(one, "\"state\":2"));

	parts_init(&b);
	ck_assert_int_eq(statefile_decode(&b.p, one, l1, FIXTURE_SAVED, &out,
	    why, sizeof(why)), 0);
	ck_assert_int_eq(out.version, 2);
	ck_assert_uint_eq(out.rules, 5);
	ck_assert_uint_eq(out.silences, 2);
	two = encode(&b, &l2);
	ck_assert_str_eq(one, two);
	free(one);
	free(two);
	free(buf);
	parts_free(&a);
	parts_free(&b);
}
END_TEST

/* Decoding bad must fail with why and leave the parts as they were. */
static void
assert_refused(const char *bad, size_t len, const char *reason)
{
	struct statefile_restored out;
	struct parts x;
	size_t l0, l1;
	char *before = fresh_document(&l0), *after, why[128] = "";

	parts_init(&x);
	ck_assert_int_eq(statefile_decode(&x.p, bad, len, FIXTURE_SAVED, &out,
	    why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, reason) != NULL, "why \"%s\", want \"%s\"",
	    why, reason);
	after = encode(&x, &l1);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	parts_free(&x);
}

START_TEST(test_bad_documents_change_nothing)
{
	size_t len;
	char *buf = slurp(FIXTURE, &len);
	static const char garbage[] = "\x00\x01binary garbage\xff";

	/* Cut mid-way, as by a full disk on a release without the rename. */
	assert_refused(buf, len / 2, "not valid JSON (truncated or damaged)");
	assert_refused(buf, 1, "not valid JSON");
	assert_refused(garbage, sizeof(garbage) - 1, "not valid JSON");
	assert_refused("", 0, "empty");
	assert_refused("[1,2]", 5, "not valid JSON");
	assert_refused("{}", 2, "no format version");
	assert_refused("{\"version\":\"2\"}", 15, "no format version");
	assert_refused("{\"version\":3,\"rules\":{}}", 24,
	    "unknown format version 3");
	free(buf);
}
END_TEST

/* Keys a later release may add are skipped; the rest loads. */
START_TEST(test_unknown_future_fields_are_ignored)
{
	struct statefile_restored out;
	struct parts x;
	size_t len;
	char *buf = slurp(FIXTURE, &len), *text, why[128];
	cJSON *doc = cJSON_ParseWithLength(buf, len), *r;

	ck_assert_ptr_nonnull(doc);
	cJSON_AddItemToObject(doc, "probes_v9", cJSON_CreateString("x"));
	r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    doc, "rules"), "api_p95");
	cJSON_AddNumberToObject(r, "acked_at", 1);
	cJSON_AddItemToObject(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(doc, "silences"), 0), "labels",
	    cJSON_CreateObject());
	text = cJSON_PrintUnformatted(doc);
	parts_init(&x);
	ck_assert_int_eq(statefile_decode(&x.p, text, strlen(text),
	    FIXTURE_SAVED, &out, why, sizeof(why)), 0);
	ck_assert_uint_eq(out.rules, 5);
	ck_assert_uint_eq(out.silences, 2);
	ck_assert_uint_eq(out.samples, fixture_samples(doc));
	ck_assert_int_eq(status_of(&x.p, "api_p95")->state, RULE_FIRING);
	ck_assert(deploys_open(x.p.dp));
	parts_free(&x);
	cJSON_free(text);
	cJSON_Delete(doc);
	free(buf);
}
END_TEST

/* One damaged entry starts fresh alone; nothing else is lost. */
START_TEST(test_damaged_entry_loses_nothing_else)
{
	struct statefile_restored out;
	struct notifier_view nv;
	struct parts x;
	size_t len;
	char *buf = slurp(FIXTURE, &len), *text, why[128];
	cJSON *doc = cJSON_ParseWithLength(buf, len), *rules;

	ck_assert_ptr_nonnull(doc);
	rules = cJSON_GetObjectItemCaseSensitive(doc, "rules");
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    rules, "api_p95"), "state", cJSON_CreateString("exploded"));
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    rules, "error_rate"), "sev", cJSON_CreateNumber(7));
	/* A silence without an id, and the store's samples not pairs. */
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(doc, "silences"), 0), "id");
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    doc, "store"), "app_advanced.p95_ms", cJSON_CreateString("?"));
	text = cJSON_PrintUnformatted(doc);
	parts_init(&x);
	ck_assert_int_eq(statefile_decode(&x.p, text, strlen(text),
	    FIXTURE_SAVED, &out, why, sizeof(why)), 0);
	ck_assert_uint_eq(out.rules, 3);
	ck_assert_int_eq(status_of(&x.p, "api_p95")->state, RULE_UNKNOWN);
	ck_assert_int_eq(status_of(&x.p, "p95_vs_baseline")->state,
	    RULE_FIRING);
	ck_assert_uint_eq(out.silences, 1);
	ck_assert_uint_eq(out.samples, fixture_samples(doc));
	ck_assert(notifier_view(x.p.nt, 0, &nv));
	ck_assert_uint_eq(nv.queued, 2);
	ck_assert(deploys_open(x.p.dp));
	parts_free(&x);
	cJSON_free(text);
	cJSON_Delete(doc);
	free(buf);
}
END_TEST

/* Silences that ended while vigild was down are not brought back. */
START_TEST(test_expired_silences_stay_gone)
{
	struct statefile_restored out;
	struct parts x;
	size_t len;
	char *buf = slurp(FIXTURE, &len), why[128];

	parts_init(&x);
	/* 710 h on: the 700 h one has ended, the 720 h one not. */
	ck_assert_int_eq(statefile_decode(&x.p, buf, len, FIXTURE_SAVED +
	    710LL * 3600 * 1000, &out, why, sizeof(why)), 0);
	ck_assert_uint_eq(out.silences, 1);
	ck_assert_str_eq(silences_at(monitor_silences(x.p.m), 0)->author,
	    "ana");
	ck_assert_uint_eq(out.rules, 5);
	parts_free(&x);
	free(buf);
}
END_TEST

/* A scratch directory; removed with everything in it. */
static void
scratch(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vigil-check-statefile-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
scratch_rm(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* The name of the one file in dir starting with prefix, or "". */
static void
find_aside(const char *dir, const char *prefix, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	out[0] = '\0';
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(out, len, "%s/%s", dir, e->d_name);
	closedir(d);
}

/*
 * The directory's check, as a table: its mode and owner, and whether
 * vigild may keep its state there. Owner changes need root (the suite's
 * usual user here); without it those rows are left out, and say so.
 */
static const struct {
	mode_t mode;
	int owner;		/* -1: the test's own user; else a uid */
	const char *refused;	/* NULL: accepted; else a word of why */
} dir_cases[] = {
	{ 0700, -1, NULL },
	{ 0755, -1, NULL },
	{ 01777, -1, "others" },
	{ 0777, -1, "others" },
	{ 0775, -1, "its group" },
	{ 0757, -1, "others" },
	{ 0700, 65534, "uid 65534" },
	{ 0755, 0, NULL },
};

START_TEST(test_dir_check)
{
	char dir[64], why[256], file[128];

	scratch(dir, sizeof(dir));
	if (dir_cases[_i].owner >= 0) {
		if (geteuid() != 0) {
			fprintf(stderr, "test_dir_check: row %d needs root "
			    "(chown); left out\n", _i);
			scratch_rm(dir);
			return;
		}
		ck_assert_int_eq(chown(dir, (uid_t)dir_cases[_i].owner,
		    (gid_t)-1), 0);
	}
	ck_assert_int_eq(chmod(dir, dir_cases[_i].mode), 0);
	why[0] = '\0';
	if (dir_cases[_i].refused == NULL) {
		ck_assert_msg(statefile_dir_check(dir, why, sizeof(why)) == 0,
		    "%04o refused: %s", (unsigned)dir_cases[_i].mode, why);
	} else {
		ck_assert_int_eq(statefile_dir_check(dir, why, sizeof(why)), -1);
		ck_assert_msg(strstr(why, dir_cases[_i].refused) != NULL &&
		    strstr(why, dir) != NULL, "why: %s", why);
	}
	chmod(dir, 0700);
	/* Not a directory, and not there at all. */
	snprintf(file, sizeof(file), "%s/f", dir);
	close(open(file, O_WRONLY | O_CREAT, 0600));
	ck_assert_int_eq(statefile_dir_check(file, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "not a directory"));
	scratch_rm(dir);
	ck_assert_int_eq(statefile_dir_check(dir, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "No such file"));
}
END_TEST

START_TEST(test_load_missing_file_is_a_fresh_start)
{
	struct statefile_restored out;
	struct parts x;
	char dir[64], path[128];
	size_t l0, l1;
	char *before = fresh_document(&l0), *after;

	scratch(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, STATEFILE_NAME);
	parts_init(&x);
	ck_assert_int_eq(statefile_load(&x.p, path, FIXTURE_SAVED, &out),
	    STATEFILE_ABSENT);
	after = encode(&x, &l1);
	ck_assert_str_eq(before, after);
	parts_free(&x);
	free(before);
	free(after);
	scratch_rm(dir);
}
END_TEST

/* A bad file is kept, byte for byte, beside the fresh start. */
START_TEST(test_load_bad_file_is_moved_aside_intact)
{
	struct statefile_restored out;
	struct parts x;
	char dir[64], path[128], aside[512];
	size_t len, alen;
	char *buf = slurp(FIXTURE, &len), *kept;

	scratch(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, STATEFILE_NAME);
	spew(path, buf, len - 100);
	parts_init(&x);
	ck_assert_int_eq(statefile_load(&x.p, path, FIXTURE_SAVED, &out),
	    STATEFILE_UNUSABLE);
	ck_assert_int_eq(access(path, F_OK), -1);
	find_aside(dir, STATEFILE_NAME ".corrupt-", aside, sizeof(aside));
	ck_assert_msg(aside[0] != '\0', "nothing moved aside in %s", dir);
	kept = slurp(aside, &alen);
	ck_assert_uint_eq(alen, len - 100);
	ck_assert_int_eq(memcmp(kept, buf, alen), 0);
	ck_assert_uint_eq(out.rules, 0);
	ck_assert_int_eq(status_of(&x.p, "api_p95")->state, RULE_UNKNOWN);
	parts_free(&x);
	free(kept);
	free(buf);
	scratch_rm(dir);
}
END_TEST

START_TEST(test_load_good_file)
{
	struct statefile_restored out;
	struct parts x;
	char dir[64], path[128];
	size_t len;
	char *buf = slurp(FIXTURE, &len);

	scratch(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, STATEFILE_NAME);
	spew(path, buf, len);
	parts_init(&x);
	ck_assert_int_eq(statefile_load(&x.p, path, FIXTURE_SAVED, &out),
	    STATEFILE_RESTORED);
	ck_assert_uint_eq(out.rules, 5);
	/* Read, not consumed: the file stays until the next save. */
	ck_assert_int_eq(access(path, F_OK), 0);
	parts_free(&x);
	free(buf);
	scratch_rm(dir);
}
END_TEST

/* Blocks one encode asks for, with n samples of one series to save. */
static size_t
encode_blocks(size_t n)
{
	struct statefile_restored out;
	struct parts x, y;
	size_t len, blocks;
	char *s, why[128];

	parts_init(&x);
	/* 100 ms apart, up to the save: all within the 5 min kept. */
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(monitor_restore_sample(x.p.m,
		    "app_health.ttfb_ms", FIXTURE_SAVED - (int64_t)(n - i) * 100,
		    (double)i / 8), 0);
	alloc_count_cjson(true);
	alloc_count_begin();
	s = statefile_encode(&x.p, FIXTURE_SAVED, &len);
	blocks = alloc_count_end();
	alloc_count_cjson(false);
	ck_assert_ptr_nonnull(s);
	/* All of them written, and read back. */
	parts_init(&y);
	ck_assert_int_eq(statefile_decode(&y.p, s, len, FIXTURE_SAVED, &out,
	    why, sizeof(why)), 0);
	ck_assert_uint_eq(out.samples, n);
	free(s);
	parts_free(&y);
	parts_free(&x);
	return blocks;
}

/*
 * The samples are nearly all of a large state file (8.7 of 9 MB at 1,000
 * probes), and a cJSON tree of them took three blocks a sample, some 90
 * MiB of heap at each write; streamed, they cost no block of their own,
 * only the buffer's doublings.
 */
START_TEST(test_encode_blocks_do_not_grow_with_samples)
{
	size_t few = encode_blocks(10), many = encode_blocks(2000);

	fprintf(stderr, "statefile: encode blocks, 10 samples %zu, 2000 "
	    "samples %zu\n", few, many);
	ck_assert_uint_le(many, few + 8);
}
END_TEST

/* The enum readers: names, 0.1.0's numbers, nothing else. */
START_TEST(test_enum_names_and_old_numbers)
{
	enum rule_state s = RULE_OK;
	enum rule_sev v = SEV_NONE;
	cJSON *x;

	x = cJSON_CreateString("resolved");
	ck_assert(ruleset_load_state(x, &s));
	ck_assert_int_eq(s, RULE_RESOLVED);
	cJSON_Delete(x);
	x = cJSON_CreateNumber(4);
	ck_assert(ruleset_load_state(x, &s));
	ck_assert_int_eq(s, RULE_UNKNOWN);
	cJSON_Delete(x);
	x = cJSON_CreateNumber(5);
	ck_assert(!ruleset_load_state(x, &s));
	cJSON_Delete(x);
	x = cJSON_CreateNumber(1.5);
	ck_assert(!ruleset_load_state(x, &s));
	cJSON_Delete(x);
	x = cJSON_CreateString("Firing");
	ck_assert(!ruleset_load_state(x, &s));
	cJSON_Delete(x);
	ck_assert(!ruleset_load_state(NULL, &s));
	ck_assert_int_eq(s, RULE_UNKNOWN);

	x = cJSON_CreateString("warning");
	ck_assert(ruleset_load_sev(x, &v));
	ck_assert_int_eq(v, SEV_WARNING);
	cJSON_Delete(x);
	x = cJSON_CreateNumber(2);
	ck_assert(ruleset_load_sev(x, &v));
	ck_assert_int_eq(v, SEV_CRITICAL);
	cJSON_Delete(x);
	x = cJSON_CreateNumber(-1);
	ck_assert(!ruleset_load_sev(x, &v));
	cJSON_Delete(x);
	x = cJSON_CreateTrue();
	ck_assert(!ruleset_load_sev(x, &v));
	cJSON_Delete(x);
}
END_TEST

Suite *
statefile_suite(void)
{
	Suite *s = suite_create("statefile");
	TCase *tc = tcase_create("statefile");

	tcase_add_test(tc, test_reads_the_0_1_0_file_completely);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_bad_documents_change_nothing);
	tcase_add_test(tc, test_unknown_future_fields_are_ignored);
	tcase_add_test(tc, test_damaged_entry_loses_nothing_else);
	tcase_add_test(tc, test_expired_silences_stay_gone);
	tcase_add_loop_test(tc, test_dir_check, 0,
	    (int)(sizeof(dir_cases) / sizeof(dir_cases[0])));
	tcase_add_test(tc, test_load_missing_file_is_a_fresh_start);
	tcase_add_test(tc, test_load_bad_file_is_moved_aside_intact);
	tcase_add_test(tc, test_load_good_file);
	tcase_add_test(tc, test_enum_names_and_old_numbers);
	tcase_add_test(tc, test_encode_blocks_do_not_grow_with_samples);
	suite_add_tcase(s, tc);
	return s;
}
