/*
 * sched: runs a job on a fixed interval on the event loop, without drift.
 *
 * The next start is the previous *scheduled* start plus the interval, not
 * "now plus the interval", so a slow callback or a busy loop never shifts
 * the schedule. When the loop falls behind by more than one interval (a
 * stall, a suspended host), the missed slots are counted and skipped rather
 * than run in a burst; the runs a stall held up start as spread as their
 * slots were (sched_held_start). Times are CLOCK_MONOTONIC microseconds.
 */
#ifndef VIGIL_SCHED_H
#define VIGIL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct sched;
struct sched_job;

/*
 * Called at each slot. due is the slot's scheduled time and now the time
 * the callback runs, so now - due is the start lateness.
 */
typedef void (*sched_fn)(struct sched_job *job, int64_t due, int64_t now,
    void *arg);

/* Monotonic clock in microseconds (clock_mono_us): the schedule's time. */
int64_t sched_now(void);

/*
 * Pure arithmetic of the schedule: given the slot that just fired (due),
 * the interval and the current time, returns the next slot strictly after
 * now, and adds to *missed the number of whole slots that were skipped.
 */
int64_t sched_next_due(int64_t due, int64_t interval, int64_t now,
    uint64_t *missed);

/*
 * The grid first runs are spread on (µs), given how many runs a second
 * the whole configuration starts: coarse enough that about
 * SCHED_GRID_BATCH runs share a due time and start in one wake-up of the
 * loop, between SCHED_GRID_MIN_US and SCHED_GRID_MAX_US. A wake-up (an
 * epoll round, cold caches after a sleep) cost more than the run itself:
 * at 1,000 runs a second, five a wake-up took 90 µs of CPU a run and
 * twenty took 65.
 */
#define SCHED_GRID_BATCH	25
#define SCHED_GRID_MIN_US	5000
#define SCHED_GRID_MAX_US	20000
int64_t sched_grid_us(double runs_per_s);

/*
 * Where a job waiting to start at at (µs) starts when the pass that was
 * expected at expected begins at now. A pass later than SCHED_STALL_US
 * found the loop held up: each job that fell due during the stall starts
 * as much later as the stall was long, so the held-up runs keep the
 * spacing their slots had instead of starting in one burst, and none
 * waits more than SCHED_SPREAD_MAX_US beyond the end of the stall (a
 * slot of a long interval, late in a long stall). The job's slot is not
 * moved: its lateness counts from there and its next slot keeps the
 * phase.
 */
#define SCHED_STALL_US		SCHED_GRID_MAX_US
#define SCHED_SPREAD_MAX_US	1000000
int64_t sched_held_start(int64_t at, int64_t expected, int64_t now);

/*
 * The jobs of one event loop, under one timer. Freeing it stops its jobs
 * (they are still the owners' to free).
 */
struct sched *sched_new(struct event_base *base);
void sched_free(struct sched *s);

/*
 * Creates a job whose first slot is at first_due (monotonic µs; a time in
 * the past fires at once). Returns NULL on allocation failure. Jobs due
 * at the same time fire in one wake-up of the loop.
 */
struct sched_job *sched_job_new(struct sched *s, int64_t interval,
    int64_t first_due, sched_fn fn, void *arg);

/*
 * Changes the interval from the next slot on: the next slot becomes the
 * last one plus the new interval (or now, if that is already past).
 */
void sched_job_set_interval(struct sched_job *job, int64_t interval);

/*
 * A busy job's slots are skipped and counted instead of calling fn: the
 * owner marks the job busy while its run is in flight, so a slow target
 * never gets two runs at once.
 */
void sched_job_set_busy(struct sched_job *job, bool busy);
/* Slots skipped because the job was busy. */
uint64_t sched_job_skipped(const struct sched_job *job);

int64_t sched_job_interval(const struct sched_job *job);
int64_t sched_job_next_due(const struct sched_job *job);
/* Slots skipped because the loop was late by more than an interval. */
uint64_t sched_job_missed(const struct sched_job *job);

void sched_job_free(struct sched_job *job);

#endif
