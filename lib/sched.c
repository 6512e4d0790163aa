#include "sched.h"

#include "clock.h"

#include <stdlib.h>

#include <event2/event.h>

struct sched_job {
	struct event *ev;
	int64_t interval;
	int64_t due;		/* the slot the timer is armed for */
	uint64_t missed;
	uint64_t skipped;
	bool busy;
	sched_fn fn;
	void *arg;
};

int64_t
sched_now(void)
{
	return clock_mono_us();
}

int64_t
sched_next_due(int64_t due, int64_t interval, int64_t now, uint64_t *missed)
{
	int64_t next = due + interval;

	if (next <= now) {
		int64_t k = (now - due) / interval;

		/* Slots due+interval .. due+k*interval all passed unseen. */
		*missed += (uint64_t)k;
		next = due + (k + 1) * interval;
	}
	return next;
}

static void
sched_arm(struct sched_job *job, int64_t now)
{
	int64_t wait = job->due - now;
	struct timeval tv;

	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	evtimer_add(job->ev, &tv);
}

static void
sched_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sched_job *job = arg;
	int64_t now = sched_now(), due = job->due;

	(void)fd;
	(void)what;
	/*
	 * libevent may wake a little before the slot (its clock is cached
	 * per loop iteration); waiting for the rest keeps "due" honest.
	 */
	if (now < due) {
		sched_arm(job, now);
		return;
	}
	/* Re-arm before the callback, which may free or retime the job. */
	job->due = sched_next_due(due, job->interval, now, &job->missed);
	sched_arm(job, now);
	if (job->busy) {
		job->skipped++;
		return;
	}
	job->fn(job, due, now, job->arg);
}

struct sched_job *
sched_job_new(struct event_base *base, int64_t interval, int64_t first_due,
    sched_fn fn, void *arg)
{
	struct sched_job *job;

	if (interval <= 0)
		return NULL;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return NULL;
	job->ev = evtimer_new(base, sched_fire, job);
	if (job->ev == NULL) {
		free(job);
		return NULL;
	}
	job->interval = interval;
	job->due = first_due;
	job->fn = fn;
	job->arg = arg;
	sched_arm(job, sched_now());
	return job;
}

void
sched_job_set_interval(struct sched_job *job, int64_t interval)
{
	int64_t now = sched_now();

	if (interval <= 0 || interval == job->interval)
		return;
	/* job->due is the next slot; the last one was due - interval. */
	job->due = job->due - job->interval + interval;
	job->interval = interval;
	if (job->due < now)
		job->due = now;
	sched_arm(job, now);
}

void
sched_job_set_busy(struct sched_job *job, bool busy)
{
	job->busy = busy;
}

uint64_t
sched_job_skipped(const struct sched_job *job)
{
	return job->skipped;
}

int64_t
sched_job_interval(const struct sched_job *job)
{
	return job->interval;
}

int64_t
sched_job_next_due(const struct sched_job *job)
{
	return job->due;
}

uint64_t
sched_job_missed(const struct sched_job *job)
{
	return job->missed;
}

void
sched_job_free(struct sched_job *job)
{
	if (job == NULL)
		return;
	event_free(job->ev);
	free(job);
}
