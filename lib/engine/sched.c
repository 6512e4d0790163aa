#include "engine/sched.h"

#include "base/assert.h"
#include "base/clock.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

/*
 * The jobs wait in a binary min-heap of their own, 16 bytes an entry and
 * contiguous, under one libevent timer armed for the earliest. With a
 * libevent timer per job, a thousand probes a second spent a tenth of
 * vigild's CPU in libevent's timer heap, a cache miss per level (its
 * entries point at event structs scattered over the heap). For the same
 * reason a job does not know its place in the heap: keeping that up to
 * date meant a write into every job moved. Retiming and freeing a job,
 * which are rare, look for it instead.
 */
struct slot {
	int64_t at;		/* when the job starts: its slot, or later
				   after a stall (sched_held_start) */
	struct sched_job *job;
};

struct sched {
	struct event *timer;
	struct slot *heap;
	size_t n, cap;
	int64_t expected;	/* when the timer should fire */
};

struct sched_job {
	struct sched *s;
	int64_t interval;
	int64_t due;		/* the slot the job waits for */
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

int64_t
sched_grid_us(double runs_per_s)
{
	double g;

	/*
	 * A few runs a second get the widest grid: each still has its own
	 * slot. Many get the narrowest: a batch's last run starts after
	 * the others' starts (some 20 µs each), and at 10,000 a second a
	 * 20 ms grid would make that 4 ms.
	 */
	if (!(runs_per_s > 0))
		return SCHED_GRID_MAX_US;
	g = SCHED_GRID_BATCH * 1e6 / runs_per_s;
	if (g < SCHED_GRID_MIN_US)
		return SCHED_GRID_MIN_US;
	if (g > SCHED_GRID_MAX_US)
		return SCHED_GRID_MAX_US;
	return (int64_t)g;
}

int64_t
sched_held_start(int64_t at, int64_t expected, int64_t now)
{
	int64_t d = at - expected;

	if (now - expected <= SCHED_STALL_US || at > now || d <= 0)
		return at;
	/* A slot is at most an interval after the job's last run, which
	 * came before the stall; only long intervals need the modulo. */
	return now + d % SCHED_SPREAD_MAX_US;
}

static void
sift_up(struct sched *s, size_t i)
{
	VIGIL_ASSERT(i < s->n);
	struct slot e = s->heap[i];

	while (i > 0 && s->heap[(i - 1) / 2].at > e.at) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static void
sift_down(struct sched *s, size_t i)
{
	VIGIL_ASSERT(i < s->n);
	struct slot e = s->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n)
			break;
		if (c + 1 < s->n && s->heap[c + 1].at < s->heap[c].at)
			c++;
		if (s->heap[c].at >= e.at)
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = e;
}

/* Where job waits (s->n if it does not). */
static size_t
find(const struct sched *s, const struct sched_job *job)
{
	size_t i = 0;

	while (i < s->n && s->heap[i].job != job)
		i++;
	return i;
}

/* The entry at i changed its due: back to its place. */
static void
fix(struct sched *s, size_t i)
{
	sift_up(s, i);
	sift_down(s, i);
}

/*
 * The timer for the earliest job (none: disarmed). since: from when the
 * loop was free to start it; a pass starts jobs that fall due while it
 * runs in the next one, so after a pass that is when the pass began.
 */
static void
arm(struct sched *s, int64_t now, int64_t since)
{
	int64_t wait;
	struct timeval tv;

	if (s->n == 0) {
		evtimer_del(s->timer);
		return;
	}
	s->expected = s->heap[0].at > since ? s->heap[0].at : since;
	wait = s->heap[0].at - now;
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	evtimer_add(s->timer, &tv);
}

/*
 * The loop was held up (by a long callback, a large rendering, a stopped
 * process): every job whose start passed meanwhile starts as late as the
 * stall was long, as spread as its slot was. At 10,000 probes a second a
 * one-second rendering left 10,000 runs due, started in one pass; they
 * needed as many connections at once, the runs took longer than the
 * interval, and the schedule never recovered.
 */
static void
spread(struct sched *s, int64_t now)
{
	for (size_t i = 0; i < s->n; i++)
		s->heap[i].at = sched_held_start(s->heap[i].at, s->expected,
		    now);
	/* Starts moved by different amounts: the heap is built anew. */
	for (size_t i = s->n / 2; i-- > 0;)
		sift_down(s, i);
}

static void
sched_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;
	int64_t now = sched_now(), until = now;

	(void)fd;
	(void)what;
	/*
	 * Every job due by the time we woke, earliest first; a job that
	 * falls due while its elders run waits for the next pass, so the
	 * loop ends and I/O is served between passes even when callbacks
	 * are slow. Each job gets its next slot (after now) before its
	 * callback, which may free or retime jobs. libevent may wake a
	 * little before the slot (its clock is cached per loop iteration):
	 * then nothing is due yet, and the timer is armed for the rest,
	 * which keeps "due" honest.
	 */
	if (now - s->expected > SCHED_STALL_US)
		spread(s, now);
	while (s->n > 0 && s->heap[0].at <= until) {
		struct sched_job *job = s->heap[0].job;
		int64_t due = job->due;

		/* A job never starts before its slot. */
		VIGIL_ASSERT(job->s == s && s->heap[0].at >= due);

		job->due = sched_next_due(due, job->interval, now,
		    &job->missed);
		s->heap[0].at = job->due;
		sift_down(s, 0);
		if (job->busy) {
			job->skipped++;
			continue;
		}
		job->fn(job, due, now, job->arg);
		now = sched_now();
	}
	arm(s, now, until);
}

struct sched *
sched_new(struct event_base *base)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->timer = evtimer_new(base, sched_fire, s);
	if (s->timer == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	/* Jobs still here belong to their owners; they just stop firing. */
	for (size_t i = 0; i < s->n; i++)
		s->heap[i].job->s = NULL;
	event_free(s->timer);
	free(s->heap);
	free(s);
}

struct sched_job *
sched_job_new(struct sched *s, int64_t interval, int64_t first_due,
    sched_fn fn, void *arg)
{
	struct sched_job *job;

	if (interval <= 0)
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;
		struct slot *h = realloc(s->heap, cap * sizeof(*h));

		if (h == NULL)
			return NULL;
		s->heap = h;
		s->cap = cap;
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return NULL;
	job->s = s;
	job->interval = interval;
	job->due = first_due;
	job->fn = fn;
	job->arg = arg;
	s->heap[s->n] = (struct slot){ first_due, job };
	sift_up(s, s->n++);
	arm(s, sched_now(), sched_now());
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
	if (job->s != NULL) {
		size_t i = find(job->s, job);

		job->s->heap[i].at = job->due;
		fix(job->s, i);
		arm(job->s, now, now);
	}
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
	struct sched *s;

	if (job == NULL)
		return;
	if ((s = job->s) != NULL) {
		size_t i = find(s, job);

		/* The last entry fills the hole, then finds its place. */
		if (i != --s->n) {
			s->heap[i] = s->heap[s->n];
			fix(s, i);
		}
		/* The earliest may have changed; the timer stays right. */
		arm(s, sched_now(), sched_now());
	}
	free(job);
}
