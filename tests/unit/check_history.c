/*
 * history: the minute and day rollups, uptime's windows, steps, the
 * incident log, and the file format (round trip, a torn block, a file of
 * the previous version, a foreign file), all on a fake clock.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <check.h>

#include "base/clock.h"
#include "engine/history.h"
#include "engine/history_file.h"
#include "engine/rules.h"
#include "suites.h"

#define MIN 60000LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
/* 2024-10-04 00:00 UTC: a day's start, so days are easy to reason on. */
#define D0 (20000 * DAY)

static int64_t wall;

static void
setup(void)
{
	wall = D0 + 12 * HOUR;
	clock_fake(&wall, NULL);
}

static void
teardown(void)
{
	clock_fake(NULL, NULL);
}

static void
scratch(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vigil-check-history-XXXXXX");
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
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* How many files in dir start with prefix. */
static int
count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* Rollup scenarios: runs at offsets from now, and what uptime says. */
struct run {
	int64_t ago;		/* before the clock's now */
	bool ok;
	double ms;
};

static const struct {
	const char *name;
	struct run runs[8];
	size_t n;
	int64_t window;
	bool has;
	double pct;
} uptime_cases[] = {
	{ "no runs", { { 0, true, 0 } }, 0, HOUR, false, 0 },
	{ "all ok", { { 0, true, 5 }, { MIN, true, 5 } }, 2, HOUR, true, 100 },
	{ "one of four failed", { { 0, true, 5 }, { MIN, false, 5 },
	    { 2 * MIN, true, 5 }, { 3 * MIN, true, 5 } }, 4, HOUR, true, 75 },
	{ "a failure outside the window", { { 0, true, 5 },
	    { 2 * HOUR, false, 5 } }, 2, HOUR, true, 100 },
	{ "the window's first minute counts", { { 0, true, 5 },
	    { HOUR - MIN, false, 5 } }, 2, HOUR, true, 50 },
	{ "24 h by the minute", { { 0, true, 5 }, { 23 * HOUR, false, 5 },
	    { 25 * HOUR, false, 5 } }, 3, DAY, true, 50 },
	/* 12:00 today: 7 d is today and the 6 days before. */
	{ "7 d by whole days", { { 0, true, 5 }, { 6 * DAY, false, 5 },
	    { 7 * DAY, false, 5 } }, 3, 7 * DAY, true, 50 },
	{ "90 d keeps 90 days", { { 0, true, 5 }, { 89 * DAY, false, 5 },
	    { 95 * DAY, false, 5 } }, 3, 90 * DAY, true, 50 },
};

START_TEST(test_uptime_table)
{
	for (size_t i = 0; i < sizeof(uptime_cases) / sizeof(uptime_cases[0]);
	    i++) {
		struct history *h = history_new(NULL);
		double pct = -1;
		bool has;

		/* Oldest first: time only moves forward in vigild. */
		for (size_t k = uptime_cases[i].n; k-- > 0;) {
			const struct run *r = &uptime_cases[i].runs[k];

			history_probe_run(h, "api", wall - r->ago, r->ok,
			    r->ms);
		}
		has = history_uptime(h, "api", wall, uptime_cases[i].window,
		    &pct);
		ck_assert_msg(has == uptime_cases[i].has, "%s: has %d",
		    uptime_cases[i].name, has);
		if (has)
			ck_assert_msg(fabs(pct - uptime_cases[i].pct) < 1e-9,
			    "%s: %.3f", uptime_cases[i].name, pct);
		history_free(h);
	}
}
END_TEST

START_TEST(test_range_steps_and_gaps)
{
	struct history *h = history_new(NULL);
	struct history_point p[16];
	int64_t t0 = wall - 10 * MIN;
	size_t n;

	/* Minutes 0 and 1: two runs each; minute 2 empty; minute 3 failed. */
	history_probe_run(h, "api", t0 + 1000, true, 10);
	history_probe_run(h, "api", t0 + 2000, true, 30);
	history_probe_run(h, "api", t0 + MIN, true, 50);
	history_probe_run(h, "api", t0 + MIN + 1, false, 70);
	history_probe_run(h, "api", t0 + 3 * MIN, false, 100);
	n = history_range(h, HISTORY_PROBE, "api", t0, t0 + 4 * MIN, MIN, p,
	    16);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(p[0].t, t0);
	ck_assert(p[0].has_value);
	ck_assert_uint_eq(p[0].ok, 2);
	ck_assert_double_eq_tol(p[0].min, 10, 1e-6);
	ck_assert_double_eq_tol(p[0].avg, 20, 1e-6);
	ck_assert_double_eq_tol(p[0].max, 30, 1e-6);
	ck_assert_int_eq(p[0].worst, -1);
	ck_assert_uint_eq(p[1].failed, 1);
	ck_assert(!p[2].has_value);
	ck_assert(isnan(p[2].avg));
	ck_assert_uint_eq(p[3].failed, 1);
	/* A 2-minute step: aligned to it, sums and extremes across. */
	n = history_range(h, HISTORY_PROBE, "api", t0 + 30000, t0 + 4 * MIN,
	    2 * MIN, p, 16);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(p[0].t % (2 * MIN), 0);
	ck_assert_uint_eq(p[0].ok, 3);
	ck_assert_uint_eq(p[0].failed, 1);
	ck_assert_double_eq_tol(p[0].avg, 40, 1e-6);
	ck_assert_double_eq_tol(p[0].max, 70, 1e-6);
	ck_assert_uint_eq(p[1].failed, 1);
	/* The cap holds; the wrong kind, a bad step, nothing. */
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api", t0,
	    t0 + 4 * MIN, MIN, p, 2), 2);
	ck_assert_uint_eq(history_range(h, HISTORY_RULE, "api", t0,
	    t0 + 4 * MIN, MIN, p, 16), 0);
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api", t0,
	    t0 + 4 * MIN, 1000, p, 16), 0);
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "nope", t0,
	    t0 + 4 * MIN, MIN, p, 16), 0);
	history_free(h);
}
END_TEST

START_TEST(test_days)
{
	struct history *h = history_new(NULL);
	struct history_day d[HISTORY_DAYS];
	size_t n;

	/* Yesterday: 3 ok, 1 failed in two minutes; today: one ok. */
	history_probe_run(h, "api", wall - DAY, true, 10);
	history_probe_run(h, "api", wall - DAY + 1, true, 20);
	history_probe_run(h, "api", wall - DAY + 2, false, 90);
	history_probe_run(h, "api", wall - DAY + MIN, true, 40);
	history_probe_run(h, "api", wall, true, 5);
	n = history_days(h, "api", wall, d, HISTORY_DAYS);
	ck_assert_uint_eq(n, HISTORY_DAYS);
	ck_assert_int_eq(d[n - 1].t, D0);
	ck_assert(d[n - 1].has_data);
	ck_assert_double_eq_tol(d[n - 1].uptime_pct, 100, 1e-9);
	ck_assert_int_eq(d[n - 2].t, D0 - DAY);
	ck_assert(d[n - 2].has_data);
	ck_assert_double_eq_tol(d[n - 2].uptime_pct, 75, 1e-9);
	ck_assert_uint_eq(d[n - 2].minutes_data, 2);
	ck_assert_uint_eq(d[n - 2].minutes_down, 1);
	ck_assert_double_eq_tol(d[n - 2].avg_ms, 40, 1e-6);
	ck_assert_double_eq_tol(d[n - 2].max_ms, 90, 1e-6);
	ck_assert(!d[0].has_data);
	ck_assert_int_eq(d[0].t, D0 - 89 * DAY);
	/* A short cap: the newest days. */
	ck_assert_uint_eq(history_days(h, "api", wall, d, 2), 2);
	ck_assert_int_eq(d[1].t, D0);
	history_free(h);
}
END_TEST

START_TEST(test_rules_and_incidents)
{
	struct history *h = history_new(NULL);
	struct history_incident in[4];
	struct history_point p[2];
	int64_t t0 = wall - 5 * MIN;

	history_track(h, HISTORY_RULE, "cache_low", true);
	ck_assert(!history_rule_firing(h, "cache_low"));
	history_rule_eval(h, "cache_low", t0, RULE_OK, true, 80);
	history_rule_eval(h, "cache_low", t0 + 1000, RULE_PENDING, true, 60);
	history_rule_fired(h, "cache_low", "warning", t0 + 2000, true, 60);
	history_rule_eval(h, "cache_low", t0 + 2000, RULE_FIRING, true, 60);
	history_rule_eval(h, "cache_low", t0 + 3000, RULE_FIRING, true, 40);
	history_rule_fired(h, "cache_low", "critical", t0 + 3000, true, 40);
	history_rule_eval(h, "cache_low", t0 + 4000, RULE_FIRING, true, 45);
	history_rule_eval(h, "cache_low", t0 + 5000, RULE_UNKNOWN, false, 0);
	ck_assert_uint_eq(history_incidents(h, 0, in, 4), 1);
	ck_assert(history_rule_firing(h, "cache_low"));
	ck_assert_str_eq(in[0].rule, "cache_low");
	ck_assert_str_eq(in[0].severity, "critical");
	ck_assert_int_eq(in[0].start, t0 + 2000);
	ck_assert_int_eq(in[0].end, 0);
	/* Lower is worse for this rule: its peak is its lowest value. */
	ck_assert(in[0].peak_known);
	ck_assert_double_eq_tol(in[0].peak, 40, 1e-9);
	history_rule_resolved(h, "cache_low", t0 + MIN);
	ck_assert(!history_rule_firing(h, "cache_low"));
	ck_assert_uint_eq(history_incidents(h, 0, in, 4), 1);
	ck_assert_int_eq(in[0].end, t0 + MIN);
	/* One that ended before from is left out; newest first. */
	history_rule_fired(h, "cache_low", "warning", t0 + 2 * MIN, false, 0);
	ck_assert_uint_eq(history_incidents(h, t0 + 2 * MIN, in, 4), 1);
	ck_assert(!in[0].peak_known);
	ck_assert_uint_eq(history_incidents(h, 0, in, 4), 2);
	ck_assert_int_eq(in[0].start, t0 + 2 * MIN);
	/* Ok again with no resolve seen (a restart between): it ends. */
	history_rule_eval(h, "cache_low", t0 + 3 * MIN, RULE_OK, true, 90);
	ck_assert_uint_eq(history_incidents(h, 0, in, 4), 2);
	ck_assert_int_eq(in[0].end, t0 + 3 * MIN);
	/* The minute's counts and its worst state. */
	ck_assert_uint_eq(history_range(h, HISTORY_RULE, "cache_low", t0,
	    t0 + MIN, MIN, p, 2), 1);
	ck_assert_uint_eq(p[0].ok, 2);
	ck_assert_uint_eq(p[0].failed, 3);
	ck_assert_uint_eq(p[0].unknown, 1);
	ck_assert_int_eq(p[0].worst, RULE_FIRING);
	ck_assert_double_eq_tol(p[0].min, 40, 1e-6);
	ck_assert_double_eq_tol(p[0].max, 80, 1e-6);
	history_free(h);
}
END_TEST

START_TEST(test_incident_ring_bounded)
{
	struct history *h = history_new(NULL);
	struct history_incident *in = calloc(HISTORY_INCIDENTS + 8,
	    sizeof(*in));

	for (int i = 0; i < HISTORY_INCIDENTS + 10; i++) {
		history_rule_fired(h, "r", "warning", wall + i * 2, true, i);
		history_rule_resolved(h, "r", wall + i * 2 + 1);
	}
	ck_assert_uint_eq(history_incidents(h, 0, in, HISTORY_INCIDENTS + 8),
	    HISTORY_INCIDENTS);
	ck_assert_int_eq(in[0].start, wall + (HISTORY_INCIDENTS + 9) * 2);
	free(in);
	history_free(h);
}
END_TEST

START_TEST(test_block_codec)
{
	struct hfile_min recs[HFILE_BLOCK_MINUTES], back[HFILE_BLOCK_MINUTES];
	uint8_t b[HFILE_BLOCK_BYTES];
	int32_t hour;

	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < HFILE_BLOCK_MINUTES; i++)
		recs[i].worst = -1;
	recs[7].ok = 5;
	recs[7].failed = 1;
	recs[7].has_value = true;
	recs[7].min = 1.5f;
	recs[7].avg = 2.5f;
	recs[7].max = 9.25f;
	recs[8].unknown = 3;
	recs[8].worst = RULE_FIRING;
	hfile_block_encode(b, 480123, recs);
	ck_assert_int_eq(hfile_block_decode(b, &hour, back), HFILE_BLOCK_OK);
	ck_assert_int_eq(hour, 480123);
	ck_assert_uint_eq(back[7].ok, 5);
	ck_assert_uint_eq(back[7].failed, 1);
	ck_assert(back[7].has_value);
	ck_assert(back[7].max == 9.25f);
	ck_assert_int_eq(back[8].worst, RULE_FIRING);
	ck_assert(hfile_min_empty(&back[0]));
	/* One flipped bit anywhere: torn, never garbage. */
	b[8 + 7 * HFILE_REC_BYTES] ^= 0x10;
	ck_assert_int_eq(hfile_block_decode(b, &hour, back), HFILE_BLOCK_TORN);
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(hfile_block_decode(b, &hour, back),
	    HFILE_BLOCK_EMPTY);
}
END_TEST

START_TEST(test_file_round_trip)
{
	char dir[64], path[128];
	struct history *h;
	struct history_point p[4];
	struct history_incident in[2];
	struct history_stats st;
	struct stat sb;
	double pct;

	scratch(dir, sizeof(dir));
	h = history_new(dir);
	history_sync_begin(h);
	history_track(h, HISTORY_PROBE, "api", false);
	history_track(h, HISTORY_RULE, "api_down", false);
	history_sync_end(h);
	for (int i = 0; i < 30; i++)
		history_probe_run(h, "api", wall - 30 * MIN + i * MIN, i % 10 != 0,
		    10 + i);
	history_rule_fired(h, "api_down", "critical", wall - 20 * MIN, true, 1);
	history_rule_eval(h, "api_down", wall - 20 * MIN, RULE_FIRING, true, 1);
	history_save(h, wall, 1000, true);
	history_stats(h, &st);
	ck_assert(st.persistent);
	ck_assert_uint_eq(st.writes, 1);
	ck_assert_int_eq(st.last_saved, wall);
	ck_assert_str_eq(st.last_error, "");
	/* Not dirty: no second write. */
	history_save(h, wall + 5000, 1000, true);
	history_stats(h, &st);
	ck_assert_uint_eq(st.writes, 1);
	history_free(h);

	ck_assert(hfile_path(path, sizeof(path), dir, HISTORY_PROBE, "api"));
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, HFILE_BYTES);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	/* Another process, a minute on: everything back. */
	wall += MIN;
	h = history_new(dir);
	history_sync_begin(h);
	history_track(h, HISTORY_PROBE, "api", false);
	history_track(h, HISTORY_RULE, "api_down", false);
	history_sync_end(h);
	ck_assert(history_uptime(h, "api", wall, DAY, &pct));
	ck_assert_double_eq_tol(pct, 90, 1e-9);
	ck_assert(history_uptime(h, "api", wall, 90 * DAY, &pct));
	ck_assert_double_eq_tol(pct, 90, 1e-9);
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api",
	    wall - 31 * MIN, wall - 29 * MIN, MIN, p, 4), 2);
	ck_assert(p[0].has_value);
	ck_assert_uint_eq(p[0].failed, 1);
	ck_assert_double_eq_tol(p[0].avg, 10, 1e-4);
	ck_assert_uint_eq(p[1].ok, 1);
	/* The open incident is the rule's again: resolving ends it. */
	history_rule_resolved(h, "api_down", wall);
	ck_assert_uint_eq(history_incidents(h, 0, in, 2), 1);
	ck_assert_str_eq(in[0].severity, "critical");
	ck_assert_int_eq(in[0].end, wall);
	history_free(h);
	scratch_rm(dir);
}
END_TEST

START_TEST(test_file_older_than_memory)
{
	char dir[64];
	struct history *h;
	struct history_point p[3];
	struct history_day d[HISTORY_DAYS];
	int64_t then = wall;

	scratch(dir, sizeof(dir));
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	history_probe_run(h, "api", then, false, 250);
	history_save(h, wall, 0, true);
	history_free(h);
	/* Three days on: that minute is on disk only. */
	wall += 3 * DAY;
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api", then - MIN,
	    then + 2 * MIN, MIN, p, 3), 3);
	ck_assert(!p[0].has_value);
	ck_assert(p[1].has_value);
	ck_assert_uint_eq(p[1].failed, 1);
	ck_assert_double_eq_tol(p[1].max, 250, 1e-4);
	ck_assert(!p[2].has_value);
	ck_assert_uint_eq(history_days(h, "api", wall, d, HISTORY_DAYS),
	    HISTORY_DAYS);
	ck_assert(d[HISTORY_DAYS - 4].has_data);
	ck_assert_double_eq_tol(d[HISTORY_DAYS - 4].uptime_pct, 0, 1e-9);
	history_free(h);
	scratch_rm(dir);
}
END_TEST

/*
 * Flips bits (mask) of the byte at off in probe name's hour block on
 * disk: a torn or damaged block, as a crash or a bad disk leaves it.
 */
static void
damage_block(const char *dir, const char *name, int32_t hour, int64_t off,
    uint8_t mask)
{
	char path[128];
	uint8_t byte;
	int fd;

	ck_assert(hfile_path(path, sizeof(path), dir, HISTORY_PROBE, name));
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, hfile_block_offset(hour) + off),
	    1);
	byte ^= mask;
	ck_assert_int_eq(pwrite(fd, &byte, 1, hfile_block_offset(hour) + off),
	    1);
	close(fd);
}

/*
 * What three hours recorded a minute at a time (saved every 10 minutes,
 * as vigild does) read back at a 1-minute step, once the first hours
 * left memory: runs of minute i.
 */
static void
three_hours(int i, bool *ok2, double *ms1, double *ms2)
{
	*ok2 = i % 7 != 0;
	*ms1 = 10 + i % 13;
	*ms2 = 20 + i;
}

START_TEST(test_file_minutes_read_back)
{
	char dir[64];
	struct history *h;
	struct history_point *p = calloc(200, sizeof(*p));
	int64_t t0 = wall - 3 * HOUR;
	uint64_t ok = 0, all = 0;
	double pct, before;
	size_t n;

	scratch(dir, sizeof(dir));
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	for (int i = 0; i < 180; i++) {
		bool ok2;
		double ms1, ms2;

		three_hours(i, &ok2, &ms1, &ms2);
		wall = t0 + i * MIN + 5000;
		history_probe_run(h, "api", wall, true, ms1);
		history_probe_run(h, "api", wall + 1000, ok2, ms2);
		ok += 1 + ok2;
		all += 2;
		if (i % 10 == 9)
			history_save(h, wall, 0, true);
	}
	wall = t0 + 3 * HOUR;
	/* The first hour is the file's alone now; all of it reads back. */
	n = history_range(h, HISTORY_PROBE, "api", t0, wall, MIN, p, 200);
	ck_assert_uint_eq(n, 180);
	for (int i = 0; i < 180; i++) {
		bool ok2;
		double ms1, ms2;

		three_hours(i, &ok2, &ms1, &ms2);
		ck_assert_int_eq(p[i].t, t0 + i * MIN);
		ck_assert_msg(p[i].has_value, "minute %d", i);
		ck_assert_uint_eq(p[i].ok, 1 + ok2);
		ck_assert_uint_eq(p[i].failed, !ok2);
		ck_assert_double_eq_tol(p[i].min, ms1, 1e-4);
		ck_assert_double_eq_tol(p[i].max, ms2, 1e-4);
		ck_assert_double_eq_tol(p[i].avg, (ms1 + ms2) / 2, 1e-4);
	}
	/* A step of an hour: one file hour, one ring hour, summed alike. */
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api", t0, wall,
	    HOUR, p, 200), 3);
	ck_assert_uint_eq(p[0].ok + p[0].failed, 120);
	ck_assert_uint_eq(p[2].ok + p[2].failed, 120);
	ck_assert(history_uptime(h, "api", wall, DAY, &pct));
	ck_assert_double_eq_tol(pct, 100.0 * ok / all, 1e-9);
	before = pct;
	/* The ring rolls over (a run two hours on): the 24 h uptime keeps
	 * the hours that left it, in their sums. */
	wall += 2 * HOUR;
	history_probe_run(h, "api", wall, true, 1);
	ck_assert(history_uptime(h, "api", wall, DAY, &pct));
	ck_assert_double_eq_tol(pct, 100.0 * (ok + 1) / (all + 1), 1e-9);
	ck_assert(pct > before);
	/* The last hour, by the minute: the one run. */
	ck_assert(history_uptime(h, "api", wall, HOUR, &pct));
	ck_assert_double_eq_tol(pct, 100, 1e-9);
	history_save(h, wall, 0, true);
	history_free(h);
	/* Read back at start: the same 24 h uptime from the hourly sums. */
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	ck_assert(history_uptime(h, "api", wall, DAY, &pct));
	ck_assert_double_eq_tol(pct, 100.0 * (ok + 1) / (all + 1), 1e-9);
	/* A torn block on disk under a running vigild: that hour, gaps. */
	damage_block(dir, "api", (int32_t)(t0 / HOUR), 300, 0x40);
	n = history_range(h, HISTORY_PROBE, "api", t0, t0 + 3 * HOUR, MIN, p,
	    200);
	ck_assert_uint_eq(n, 180);
	for (int i = 0; i < 180; i++)
		ck_assert_msg(p[i].has_value == (i >= 60), "minute %d", i);
	history_free(h);
	free(p);
	scratch_rm(dir);
}
END_TEST

/* What memory a series holds after 90 days: the files are the store. */
START_TEST(test_memory_per_series)
{
	char dir[64];
	struct history *h;
	struct history_stats st, mem;
	int64_t now = wall;

	scratch(dir, sizeof(dir));
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	history_track(h, HISTORY_RULE, "api_down", false);
	/* A run and an evaluation every 10 minutes for 90 days. */
	for (wall = now - 90 * DAY + MIN; wall <= now; wall += 10 * MIN) {
		history_probe_run(h, "api", wall, true, 5);
		history_rule_eval(h, "api_down", wall, RULE_OK, true, 0);
		/* Saved as vigild saves (every state_interval). */
		history_save(h, wall, 0, true);
	}
	history_stats(h, &st);
	history_free(h);
	/* Without a folder: a day of minutes. */
	h = history_new(NULL);
	for (wall = now - DAY + MIN; wall <= now; wall += 10 * MIN) {
		history_probe_run(h, "api", wall, true, 5);
		history_rule_eval(h, "api_down", wall, RULE_OK, true, 0);
	}
	history_stats(h, &mem);
	history_free(h);
	fprintf(stderr, "history bytes per series: folder %zu, memory %zu\n",
	    st.bytes / 2, mem.bytes / 2);
	ck_assert_uint_eq(st.probes + st.rules, 2);
	/* A probe and its rule: under 3 KiB each (they were 51 KiB). */
	ck_assert_uint_le(st.bytes, 2 * 3072);
	ck_assert_uint_gt(mem.bytes, st.bytes);
	scratch_rm(dir);
}
END_TEST

START_TEST(test_file_torn_block)
{
	char dir[64];
	struct history *h;
	struct history_point p[2];
	struct history_stats st;
	int64_t a = wall - 2 * HOUR, b = wall - 10 * MIN;

	scratch(dir, sizeof(dir));
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	history_probe_run(h, "api", a, true, 10);
	history_probe_run(h, "api", b, true, 10);
	history_save(h, wall, 0, true);
	history_free(h);
	/* A write cut short inside b's hour block. */
	damage_block(dir, "api", (int32_t)(b / HOUR), 100, 0xff);

	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	history_stats(h, &st);
	ck_assert_uint_eq(st.torn, 1);
	/* a's hour is intact; b's reads as no data, not a crash. */
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api", a, a + MIN,
	    MIN, p, 2), 1);
	ck_assert(p[0].has_value);
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "api", b, b + MIN,
	    MIN, p, 2), 1);
	ck_assert(!p[0].has_value);
	history_free(h);
	scratch_rm(dir);
}
END_TEST

START_TEST(test_file_previous_version)
{
	char dir[64], path[128];
	uint8_t head[HFILE_HEADER_BYTES];
	struct history *h;
	double pct;
	FILE *f;

	scratch(dir, sizeof(dir));
	ck_assert(hfile_path(path, sizeof(path), dir, HISTORY_PROBE, "api"));
	/* Version 1: the same magic, no checksums. */
	hfile_header(head, HISTORY_PROBE, "api");
	head[8] = 1;
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(head, 1, sizeof(head), f), sizeof(head));
	ck_assert_int_eq(fputs("records of the old layout", f) >= 0, 1);
	fclose(f);
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	ck_assert(!history_uptime(h, "api", wall, DAY, &pct));
	ck_assert_int_eq(count_files(dir, "probe-api.hist.old-"), 1);
	/* A fresh file in its place at the next save. */
	history_probe_run(h, "api", wall, true, 1);
	history_save(h, wall, 0, true);
	history_free(h);
	h = history_new(dir);
	history_track(h, HISTORY_PROBE, "api", false);
	ck_assert(history_uptime(h, "api", wall, DAY, &pct));
	history_free(h);

	/* Not a history file at all: aside as corrupt. */
	ck_assert(hfile_path(path, sizeof(path), dir, HISTORY_RULE, "r"));
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs("{\"not\": \"history\"}", f);
	fclose(f);
	h = history_new(dir);
	history_track(h, HISTORY_RULE, "r", false);
	ck_assert_int_eq(count_files(dir, "rule-r.hist.corrupt-"), 1);
	history_free(h);
	scratch_rm(dir);
}
END_TEST

START_TEST(test_sync_drops_and_keeps_files)
{
	char dir[64], path[128];
	struct history *h;
	struct history_point p[1];
	struct history_stats st;
	double pct;

	scratch(dir, sizeof(dir));
	h = history_new(dir);
	history_sync_begin(h);
	history_track(h, HISTORY_PROBE, "a", false);
	history_track(h, HISTORY_PROBE, "b", false);
	history_sync_end(h);
	history_probe_run(h, "a", wall, true, 1);
	history_probe_run(h, "b", wall, false, 1);
	/* b leaves the configuration: out of memory, its minutes on disk. */
	history_sync_begin(h);
	history_track(h, HISTORY_PROBE, "a", false);
	history_sync_end(h);
	history_stats(h, &st);
	ck_assert_uint_eq(st.probes, 1);
	ck_assert(!history_uptime(h, "b", wall, DAY, &pct));
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "b", wall,
	    wall + MIN, MIN, p, 1), 0);
	ck_assert(hfile_path(path, sizeof(path), dir, HISTORY_PROBE, "b"));
	ck_assert_int_eq(access(path, F_OK), 0);
	/* Back in the configuration: its past with it. */
	history_sync_begin(h);
	history_track(h, HISTORY_PROBE, "a", false);
	history_track(h, HISTORY_PROBE, "b", false);
	history_sync_end(h);
	ck_assert(history_uptime(h, "b", wall, DAY, &pct));
	ck_assert_double_eq_tol(pct, 0, 1e-9);
	ck_assert(history_uptime(h, "a", wall, DAY, &pct));
	ck_assert_double_eq_tol(pct, 100, 1e-9);
	history_free(h);
	scratch_rm(dir);
}
END_TEST

START_TEST(test_memory_only_and_null)
{
	struct history *h = history_new(NULL);
	struct history_stats st;

	history_probe_run(h, "a", wall, true, 1);
	history_save(h, wall, 0, true);
	history_stats(h, &st);
	ck_assert(!st.persistent);
	ck_assert_uint_eq(st.writes, 0);
	history_free(h);
	history_free(NULL);
	history_probe_run(NULL, "a", wall, true, 1);
	ck_assert_uint_eq(history_incidents(NULL, 0, NULL, 0), 0);
}
END_TEST

START_TEST(test_unsafe_dir_memory_only)
{
	char dir[64], sub[96];
	struct history *h;
	struct history_stats st;

	scratch(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/history", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	h = history_new(sub);
	history_stats(h, &st);
	ck_assert(!st.persistent);
	history_probe_run(h, "a", wall, true, 1);
	history_free(h);
	ck_assert_int_eq(count_files(sub, "probe-"), 0);
	rmdir(sub);
	/* Made when missing, 0700. */
	h = history_new(sub);
	history_stats(h, &st);
	ck_assert(st.persistent);
	history_free(h);
	rmdir(sub);
	scratch_rm(dir);
}
END_TEST

Suite *
history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_uptime_table);
	tcase_add_test(tc, test_range_steps_and_gaps);
	tcase_add_test(tc, test_days);
	tcase_add_test(tc, test_rules_and_incidents);
	tcase_add_test(tc, test_incident_ring_bounded);
	tcase_add_test(tc, test_block_codec);
	tcase_add_test(tc, test_file_round_trip);
	tcase_add_test(tc, test_file_older_than_memory);
	tcase_add_test(tc, test_file_torn_block);
	tcase_add_test(tc, test_file_minutes_read_back);
	tcase_add_test(tc, test_memory_per_series);
	tcase_add_test(tc, test_file_previous_version);
	tcase_add_test(tc, test_sync_drops_and_keeps_files);
	tcase_add_test(tc, test_memory_only_and_null);
	tcase_add_test(tc, test_unsafe_dir_memory_only);
	suite_add_tcase(s, tc);
	return s;
}
