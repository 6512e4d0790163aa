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
/* "2026-11-29T03:41:45.801Z"; len >= 32. */
void clock_iso(int64_t ms, char *buf, size_t len);

#endif
