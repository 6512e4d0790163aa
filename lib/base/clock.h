/*
 * clock: wall-clock time as vigild records and shows it. Samples and
 * "since" times are Unix milliseconds (they mean something across
 * restarts); schedules use the monotonic clock (sched_now).
 */
#ifndef VIGIL_CLOCK_H
#define VIGIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_wall_ms(void);
/* The monotonic clock in microseconds: for durations, never shown. */
int64_t clock_mono_us(void);
/*
 * For tests only (vigild never calls it): while set, clock_wall_ms reads
 * *wall_ms and clock_mono_us reads *mono_us; NULL keeps that clock real.
 * One seam for the process, so the probes stamping results, the rules,
 * the monitor and the notifiers all see the same fake time.
 */
void clock_fake(const int64_t *wall_ms, const int64_t *mono_us);
/* "2026-11-29T03:41:45.801Z"; len >= 32. */
void clock_iso(int64_t ms, char *buf, size_t len);
/*
 * Parses an ISO-8601 instant with a zone: "2026-03-02T10:15:00Z",
 * "2026-03-02T10:15:00.250+01:00" (a space may stand for the T). A time
 * without a zone is refused: whose local time would it be? Returns 0 and
 * the Unix ms, or -1.
 */
int clock_parse_iso(const char *s, int64_t *ms);

#endif
