/* sched: the schedule never drifts, late loops skip (and count) slots,
 * and a busy job is never run twice at once. */
#include <stdlib.h>
#include <time.h>
#include <check.h>

#include <event2/event.h>

#include "engine/sched.h"
#include "suites.h"

START_TEST(test_next_due_on_time)
{
	uint64_t missed = 0;

	/* Fired on time or a little late: the next slot is due + interval. */
	ck_assert_int_eq(sched_next_due(1000, 500, 1000, &missed), 1500);
	ck_assert_int_eq(sched_next_due(1000, 500, 1499, &missed), 1500);
	ck_assert_int_eq(missed, 0);
}
END_TEST

/* The start grid: about SCHED_GRID_BATCH runs a step, within bounds. */
START_TEST(test_grid_batches)
{
	static const struct {
		double rate;
		int64_t grid;
	} t[] = {
		{ 0, SCHED_GRID_MAX_US },	/* no probes */
		{ -1, SCHED_GRID_MAX_US },
		{ 0.5, SCHED_GRID_MAX_US },	/* one probe every 2 s */
		{ 100, SCHED_GRID_MAX_US },	/* 2 a step */
		{ 1000, SCHED_GRID_MAX_US },	/* 20 a step */
		{ 1250, 20000 },		/* exactly 25 a step */
		{ 2500, 10000 },
		{ 5000, SCHED_GRID_MIN_US },
		{ 10000, SCHED_GRID_MIN_US },	/* 50 a step */
		{ 1e9, SCHED_GRID_MIN_US },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(sched_grid_us(t[i].rate) == t[i].grid,
		    "rate %g: grid %lld, expected %lld", t[i].rate,
		    (long long)sched_grid_us(t[i].rate),
		    (long long)t[i].grid);
}
END_TEST

START_TEST(test_next_due_late_skips)
{
	uint64_t missed = 0;

	/* Exactly one interval late: slot 1500 is missed, next is 2000. */
	ck_assert_int_eq(sched_next_due(1000, 500, 1500, &missed), 2000);
	ck_assert_int_eq(missed, 1);
	/* 3.2 intervals late: 1500, 2000, 2500 missed; next 3000 > 2600. */
	missed = 0;
	ck_assert_int_eq(sched_next_due(1000, 500, 2600, &missed), 3000);
	ck_assert_int_eq(missed, 3);
}
END_TEST

START_TEST(test_next_due_no_drift)
{
	uint64_t missed = 0;
	int64_t due = 0;

	/* However late each firing (under an interval), slots stay k*i. */
	for (int k = 1; k <= 1000; k++) {
		due = sched_next_due(due, 30, due + (k % 29), &missed);
		ck_assert_int_eq(due, (int64_t)k * 30);
	}
	ck_assert_int_eq(missed, 0);
}
END_TEST

struct run_log {
	struct event_base *base;
	int64_t dues[16];
	int n;
	int want;
	int64_t sleep_us;	/* work done in each callback */
	int busy_after;		/* mark busy from this call on (0: never) */
};

static void
on_slot(struct sched_job *job, int64_t due, int64_t now, void *arg)
{
	struct run_log *rl = arg;

	ck_assert_int_ge(now, due);
	rl->dues[rl->n++] = due;
	if (rl->sleep_us > 0) {
		struct timespec ts = { 0, (long)rl->sleep_us * 1000 };

		nanosleep(&ts, NULL);
	}
	if (rl->busy_after > 0 && rl->n >= rl->busy_after)
		sched_job_set_busy(job, true);
	if (rl->n == rl->want)
		event_base_loopbreak(rl->base);
}

START_TEST(test_loop_slots_do_not_drift)
{
	struct run_log rl = { .want = 8, .sleep_us = 12000 };
	struct sched_job *job;
	struct sched *sc;
	int64_t first;

	rl.base = event_base_new();
	sc = sched_new(rl.base);
	first = sched_now() + 5000;
	/* A 12 ms callback on a 20 ms interval: slots stay first + k*20ms. */
	job = sched_job_new(sc, 20000, first, on_slot, &rl);
	ck_assert_ptr_nonnull(job);
	event_base_dispatch(rl.base);
	ck_assert_int_eq(rl.n, 8);
	for (int k = 0; k < rl.n; k++)
		ck_assert_int_eq(rl.dues[k], first + (int64_t)k * 20000);
	sched_job_free(job);
	sched_free(sc);
	event_base_free(rl.base);
}
END_TEST

static void
stop_loop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

START_TEST(test_loop_busy_skips)
{
	struct run_log rl = { .want = 100, .busy_after = 2 };
	struct timeval tv = { 0, 130000 };
	struct sched_job *job;
	struct event *stop;
	struct sched *sc;

	rl.base = event_base_new();
	sc = sched_new(rl.base);
	stop = evtimer_new(rl.base, stop_loop, rl.base);
	evtimer_add(stop, &tv);
	/* Runs twice, then stays busy: the remaining slots are skipped. */
	job = sched_job_new(sc, 20000, sched_now(), on_slot, &rl);
	event_base_dispatch(rl.base);
	ck_assert_int_eq(rl.n, 2);
	/* ~130 ms at 20 ms: slots 0..6; 0 and 1 ran, 2..6 were skipped. */
	ck_assert_uint_ge(sched_job_skipped(job), 3);
	ck_assert_uint_le(sched_job_skipped(job), 6);
	/* Not busy any more: the next slot runs. */
	sched_job_set_busy(job, false);
	rl.want = 3;
	event_base_dispatch(rl.base);
	ck_assert_int_eq(rl.n, 3);
	ck_assert_int_eq((rl.dues[2] - rl.dues[0]) % 20000, 0);
	sched_job_free(job);
	sched_free(sc);
	event_free(stop);
	event_base_free(rl.base);
}
END_TEST

START_TEST(test_set_interval)
{
	struct event_base *base = event_base_new();
	struct sched *sc = sched_new(base);
	struct run_log rl = { .base = base };
	int64_t now = sched_now();
	struct sched_job *job = sched_job_new(sc, 1000000, now + 1000000,
	    on_slot, &rl);

	ck_assert_int_eq(sched_job_next_due(job), now + 1000000);
	/* Next slot = last slot (now) + new interval. */
	sched_job_set_interval(job, 250000);
	ck_assert_int_eq(sched_job_next_due(job), now + 250000);
	ck_assert_int_eq(sched_job_interval(job), 250000);
	sched_job_free(job);
	sched_job_free(NULL);
	sched_free(sc);
	sched_free(NULL);
	event_base_free(base);
}
END_TEST

/* Many jobs: each fires on its own slots, earliest first, and a callback
 * may free other jobs or itself. */
#define NJOBS 200

struct many {
	struct event_base *base;
	struct sched_job *jobs[NJOBS];
	int64_t first[NJOBS];
	int fired[NJOBS];
	int64_t last_due;
	int total, order_errors, due_errors;
};

static void
on_many(struct sched_job *job, int64_t due, int64_t now, void *arg)
{
	struct many *mm = arg;
	int i = 0;

	(void)now;
	while (mm->jobs[i] != job)
		i++;
	if (due < mm->last_due)
		mm->order_errors++;
	mm->last_due = due;
	if ((due - mm->first[i]) % 10000 != 0)
		mm->due_errors++;
	mm->fired[i]++;
	mm->total++;
	/* Job 7 frees job 8 and itself; job 9 retimes itself. */
	if (i == 7 && mm->jobs[8] != NULL) {
		sched_job_free(mm->jobs[8]);
		mm->jobs[8] = NULL;
	}
	if (i == 9)
		sched_job_set_interval(job, 20000);
	if (mm->total >= 1200)
		event_base_loopbreak(mm->base);
}

START_TEST(test_many_jobs_in_order)
{
	struct many mm = { 0 };
	struct sched *sc;
	int64_t now = sched_now();

	mm.base = event_base_new();
	sc = sched_new(mm.base);
	/* First slots on a 1 ms grid in scrambled order, 10 ms apart. */
	for (int i = 0; i < NJOBS; i++) {
		mm.first[i] = now + 2000 + (int64_t)((i * 37) % NJOBS) * 50;
		mm.jobs[i] = sched_job_new(sc, 10000, mm.first[i], on_many,
		    &mm);
		ck_assert_ptr_nonnull(mm.jobs[i]);
	}
	event_base_dispatch(mm.base);
	ck_assert_int_eq(mm.order_errors, 0);
	ck_assert_int_eq(mm.due_errors, 0);
	/* Job 8 ran until job 7 first fired, never after. */
	ck_assert_int_le(mm.fired[8], 1);
	for (int i = 0; i < NJOBS; i++) {
		if (i == 8 || i == 9)
			continue;
		ck_assert_int_ge(mm.fired[i], 4);
	}
	/* Job 9 at 20 ms fired about half as often as the others. */
	ck_assert_int_lt(mm.fired[9], mm.fired[10]);
	for (int i = 0; i < NJOBS; i++)
		sched_job_free(mm.jobs[i]);
	sched_free(sc);
	event_base_free(mm.base);
}
END_TEST

/* After a stall: who starts when (all µs; a pass expected at 1,000,000). */
START_TEST(test_held_start_table)
{
	static const struct {
		const char *what;
		int64_t at, now, start;
	} t[] = {
		{ "on time: as it was", 1000000, 1000000, 1000000 },
		{ "a little late: as it was", 1010000, 1015000, 1010000 },
		{ "late by exactly SCHED_STALL_US: as it was",
		  1010000, 1000000 + SCHED_STALL_US, 1010000 },
		{ "the first of a stall starts at once",
		  1000000, 1300000, 1000000 },
		{ "due 100 ms into a 300 ms stall: 100 ms after it",
		  1100000, 1300000, 1400000 },
		{ "due at the stall's end: a stall later",
		  1300000, 1300000, 1600000 },
		{ "not due yet: untouched", 1300001, 1300000, 1300001 },
		{ "waiting since before the pass was expected (a new job "
		  "due in the past): at once", 500000, 1300000, 500000 },
		{ "stall longer than the 1 s interval: within a second",
		  1900000, 4300000, 5200000 },
		{ "an hourly slot 59 min into a 1 h stall: within a second",
		  1000000 + 3540000000LL, 1000000 + 3600000000LL,
		  1000000 + 3600000000LL + 0 },
		{ "an hourly slot 90.5 s into a stall: 0.5 s after it",
		  1000000 + 90500000LL, 1000000 + 3600000000LL,
		  1000000 + 3600000000LL + 500000 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t got = sched_held_start(t[i].at, 1000000, t[i].now);

		ck_assert_msg(got == t[i].start, "%s: start %lld, expected "
		    "%lld", t[i].what, (long long)got, (long long)t[i].start);
	}
}
END_TEST

/*
 * A stall in the loop: a callback holds it 300 ms while 40 jobs fall due
 * 5 ms apart. They start after it in their order and as far apart as their
 * slots were, not in one burst, and each is told its own slot, so its
 * lateness counts the stall. (Starts are only ever late, so the gaps
 * asserted are lower bounds: a slow machine cannot fail them.)
 */
#define NHELD 40

struct stall {
	struct event_base *base;
	struct sched *sc;
	struct sched_job *jobs[NHELD], *staller;
	int64_t slot[NHELD], due[NHELD], start[NHELD];
	int64_t stall_end;	/* when the staller let the loop go */
	int started;
};

static void on_held(struct sched_job *job, int64_t due, int64_t now,
    void *arg);

/*
 * Makes the held jobs' slots from its own start, so that however late a
 * slow machine (valgrind) runs it, they all fall in the stall, none in
 * the pass it runs in.
 */
static void
on_staller(struct sched_job *job, int64_t due, int64_t now, void *arg)
{
	struct stall *st = arg;
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	(void)job;
	(void)due;
	if (st->jobs[0] != NULL)
		return;
	for (int i = 0; i < NHELD; i++) {
		st->slot[i] = now + 80000 + i * 5000;
		st->jobs[i] = sched_job_new(st->sc, 1000000, st->slot[i],
		    on_held, st);
	}
	nanosleep(&ts, NULL);
	st->stall_end = sched_now();
}

static void
on_held(struct sched_job *job, int64_t due, int64_t now, void *arg)
{
	struct stall *st = arg;
	int i = 0;

	while (st->jobs[i] != job)
		i++;
	if (st->start[i] == 0) {
		st->due[i] = due;
		st->start[i] = now;
		st->started++;
	}
	if (st->started == NHELD)
		event_base_loopbreak(st->base);
}

START_TEST(test_stall_spreads_held_runs)
{
	struct stall st = { 0 };

	st.base = event_base_new();
	st.sc = sched_new(st.base);
	st.staller = sched_job_new(st.sc, 10 * 1000000, sched_now() + 20000,
	    on_staller, &st);
	event_base_dispatch(st.base);
	ck_assert_int_eq(st.started, NHELD);
	for (int i = 0; i < NHELD; i++) {
		ck_assert_int_eq(st.due[i], st.slot[i]);
		/* Held up by the stall: all of them started after it. */
		ck_assert_int_ge(st.start[i], st.stall_end);
		if (i > 0)
			ck_assert_msg(st.start[i] - st.start[0] >=
			    st.slot[i] - st.slot[0], "job %d started %lld µs "
			    "after the first, its slot is %lld after", i,
			    (long long)(st.start[i] - st.start[0]),
			    (long long)(st.slot[i] - st.slot[0]));
	}
	for (int i = 0; i < NHELD; i++)
		sched_job_free(st.jobs[i]);
	sched_job_free(st.staller);
	sched_free(st.sc);
	event_base_free(st.base);
}
END_TEST

Suite *
sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *pure = tcase_create("arithmetic");
	TCase *loop = tcase_create("loop");

	tcase_add_test(pure, test_next_due_on_time);
	tcase_add_test(pure, test_next_due_late_skips);
	tcase_add_test(pure, test_grid_batches);
	tcase_add_test(pure, test_next_due_no_drift);
	tcase_add_test(pure, test_held_start_table);
	tcase_add_test(loop, test_loop_slots_do_not_drift);
	tcase_add_test(loop, test_loop_busy_skips);
	tcase_add_test(loop, test_set_interval);
	tcase_add_test(loop, test_many_jobs_in_order);
	tcase_add_test(loop, test_stall_spreads_held_runs);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, loop);
	return s;
}
