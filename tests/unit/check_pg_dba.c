/* The postgres probe's DBA arithmetic (pg_dba_stats.c) on a fake clock:
 * counter rates with first samples and resets, checkpoints in an
 * interval, slot inactivity tracked across runs, the xmin holder's hold,
 * the database's growth per hour. */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "config/config.h"
#include "probe/pg_dba_stats.h"
#include "suites.h"

START_TEST(test_ctr_rate)
{
	struct pg_ctr c;
	double r = -1;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(pg_ctr_rate(&c, 100, 1000, &r), PG_DELTA_FIRST);
	ck_assert(r == -1);
	ck_assert_int_eq(pg_ctr_rate(&c, 110, 6000, &r), PG_DELTA_OK);
	ck_assert(r == 500);
	/* No time passed: nothing to divide by. */
	ck_assert_int_eq(pg_ctr_rate(&c, 110, 7000, &r), PG_DELTA_NO_TIME);
	/* Went down (a reset, a crash): no negative rate, and it restarts. */
	ck_assert_int_eq(pg_ctr_rate(&c, 120, 10, &r), PG_DELTA_RESET);
	ck_assert_int_eq(pg_ctr_rate(&c, 130, 110, &r), PG_DELTA_OK);
	ck_assert(r == 10);
}
END_TEST

START_TEST(test_ckpt_delta)
{
	struct pg_ckpt_snap prev, cur;
	struct pg_ckpt_delta d;

	memset(&prev, 0, sizeof(prev));
	cur.valid = true;
	cur.timed = 10;
	cur.req = 2;
	ck_assert_int_eq(pg_ckpt_delta(&prev, &cur, &d), PG_DELTA_FIRST);
	cur.timed = 10;
	cur.req = 5;
	ck_assert_int_eq(pg_ckpt_delta(&prev, &cur, &d), PG_DELTA_OK);
	ck_assert(d.timed == 0 && d.req == 3);
	/* pg_stat_reset_shared('bgwriter'): both start again. */
	cur.timed = 0;
	cur.req = 1;
	ck_assert_int_eq(pg_ckpt_delta(&prev, &cur, &d), PG_DELTA_RESET);
	cur.timed = 1;
	cur.req = 1;
	ck_assert_int_eq(pg_ckpt_delta(&prev, &cur, &d), PG_DELTA_OK);
	ck_assert(d.timed == 1 && d.req == 0);
}
END_TEST

START_TEST(test_slot_track)
{
	struct pg_slot_track t;
	struct pg_slot_age a;
	struct pg_slot_row rows[3] = {
		{ "a", true, -1 }, { "b", false, -1 }, { "c", false, -1 },
	};

	memset(&t, 0, sizeof(t));
	/* First seen inactive at 1000: no time yet. */
	pg_slot_track_update(&t, rows, 3, 1000, &a);
	ck_assert(a.longest_s == 0);
	ck_assert_int_eq((int)t.n, 2);
	/* b becomes active; c stays inactive: c is the longest. */
	rows[1].active = true;
	pg_slot_track_update(&t, rows, 3, 1060, &a);
	ck_assert(a.longest_s == 60);
	ck_assert_int_eq(a.worst, 2);
	/* b inactive again: counted from now, not from 1000. */
	rows[1].active = false;
	pg_slot_track_update(&t, rows, 3, 1100, &a);
	ck_assert(a.longest_s == 100);
	ck_assert_int_eq(a.worst, 2);
	/* c dropped: b alone, since 1100. */
	pg_slot_track_update(&t, rows, 2, 1200, &a);
	ck_assert(a.longest_s == 100);
	ck_assert_int_eq(a.worst, 1);
	/* Nothing inactive: nothing kept. */
	rows[1].active = true;
	pg_slot_track_update(&t, rows, 2, 1300, &a);
	ck_assert(a.longest_s == 0);
	ck_assert_int_eq(a.worst, -1);
	ck_assert_int_eq((int)t.n, 0);
}
END_TEST

START_TEST(test_slot_track_server_time_and_bounds)
{
	static struct pg_slot_track t;
	static struct pg_slot_row rows[PG_SLOT_TRACK + 2];
	static char names[PG_SLOT_TRACK + 2][16];
	struct pg_slot_age a;

	memset(&t, 0, sizeof(t));
	/* PostgreSQL 17's inactive_since wins over vigild's first sight. */
	rows[0].name = "s";
	rows[0].active = false;
	rows[0].inactive_since_s = 500;
	pg_slot_track_update(&t, rows, 1, 4100, &a);
	ck_assert(a.longest_s == 3600);
	/* A clock behind the server's: never a negative age. */
	pg_slot_track_update(&t, rows, 1, 400, &a);
	ck_assert(a.longest_s == 0);
	/* More inactive slots than the table holds: counted, not timed. */
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < PG_SLOT_TRACK + 2; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		rows[i].name = names[i];
		rows[i].active = false;
		rows[i].inactive_since_s = -1;
	}
	pg_slot_track_update(&t, rows, PG_SLOT_TRACK + 2, 10, &a);
	ck_assert_int_eq((int)a.untracked, 2);
	ck_assert_int_eq((int)t.n, PG_SLOT_TRACK);
	pg_slot_track_update(&t, rows, PG_SLOT_TRACK + 2, 70, &a);
	ck_assert(a.longest_s == 60);
}
END_TEST

START_TEST(test_hold)
{
	struct pg_hold h;

	pg_hold_clear(&h);
	/* A slot: the server does not say; counted from the first sight. */
	ck_assert(pg_hold_update(&h, "slot s1", 700, -1, 1000) == 0);
	ck_assert(pg_hold_update(&h, "slot s1", 700, -1, 1030) == 30);
	/* Its xmin advanced: a new hold. */
	ck_assert(pg_hold_update(&h, "slot s1", 800, -1, 1040) == 0);
	/* Another holder with the same xmin: a new hold too. */
	ck_assert(pg_hold_update(&h, "standby a@b", 800, -1, 1050) == 0);
	/* A prepared transaction: the server's time is the truth. */
	ck_assert(pg_hold_update(&h, "prepared g", 900, 900, 1100) == 200);
	ck_assert(pg_hold_update(&h, "prepared g", 900, 1200, 1100) == 0);
}
END_TEST

START_TEST(test_size_growth)
{
	struct pg_ctr c;
	double g = 0;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(pg_size_growth(&c, 0, 1e9, &g), PG_DELTA_FIRST);
	/* Too close to the first read: keeps it, to measure from it. */
	ck_assert_int_eq(pg_size_growth(&c, 0.5, 2e9, &g), PG_DELTA_NO_TIME);
	ck_assert_int_eq(pg_size_growth(&c, 1800, 1.5e9, &g), PG_DELTA_OK);
	ck_assert_double_eq_tol(g, 1e9, 1e-3);
	/* Shrinking (VACUUM FULL, a dropped table) is negative growth. */
	ck_assert_int_eq(pg_size_growth(&c, 5400, 0.5e9, &g), PG_DELTA_OK);
	ck_assert_double_eq_tol(g, -1e9, 1e-3);
}
END_TEST

/* dba_note_after: 5 minutes unless set; a duration, 0 allowed. */
START_TEST(test_config_note_after)
{
	static const char *const texts[] = {
		"{\"probes\": [{\"name\": \"db\", \"type\": \"postgres\"}]}",
		"{\"probes\": [{\"name\": \"db\", \"type\": \"postgres\", "
		"\"dba_note_after\": \"1s\"}]}",
		"{\"probes\": [{\"name\": \"db\", \"type\": \"postgres\", "
		"\"dba_note_after\": 5}]}",
	};
	static const int64_t want[] = { 300000, 1000, -1 };
	struct config_errors errs;
	struct config *cfg;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		memset(&errs, 0, sizeof(errs));
		cfg = config_parse("t.json", texts[i], strlen(texts[i]), &errs);
		if (want[i] < 0) {
			ck_assert_ptr_null(cfg);
		} else {
			ck_assert_ptr_nonnull(cfg);
			ck_assert_int_eq(cfg->probes[0].pg.dba_note_ms, want[i]);
		}
		config_free(cfg);
		config_errors_clear(&errs);
	}
}
END_TEST

Suite *
pg_dba_suite(void)
{
	Suite *s = suite_create("pg_dba");
	TCase *tc = tcase_create("pg_dba");

	tcase_add_test(tc, test_ctr_rate);
	tcase_add_test(tc, test_ckpt_delta);
	tcase_add_test(tc, test_slot_track);
	tcase_add_test(tc, test_slot_track_server_time_and_bounds);
	tcase_add_test(tc, test_hold);
	tcase_add_test(tc, test_size_growth);
	tcase_add_test(tc, test_config_note_after);
	suite_add_tcase(s, tc);
	return s;
}
