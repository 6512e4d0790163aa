/*
 * pg_conn: the postgres probe's decisions about its connection, pure:
 * what a refused connection's text says (who-you-are, or the network),
 * and when, after failed attempts, the next one is due.
 */
#ifndef VIGIL_PG_CONN_H
#define VIGIL_PG_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/probe.h"

/*
 * libpq's whole message for a failed connection (one line per address
 * tried, with indented hints) as a failure class: PROBE_FAIL_AUTH when
 * any attempt reached a server that refused who we are (password,
 * pg_hba.conf, role, database permission), else PROBE_FAIL_CONNECT.
 * libpq has no SQLSTATE for a refused start-up: the server's words are
 * all there is. For AUTH, *at and *len give the line that says so, so a
 * reason can quote it rather than an unrelated first attempt.
 */
enum probe_fail pg_conn_fail_kind(const char *msg, size_t *at, size_t *len);

/* Backoff before connect attempt number failures + 1, in ms. */
int64_t pg_backoff_ms(unsigned failures, int64_t max_ms);

/*
 * Whether a run starting at now_us (monotonic) connects, after failures
 * consecutive failed attempts, the last started at last_us, with runs
 * every interval_us and the backoff capped at max_ms. The backoff counts
 * from the last attempt's start and a run may be a little early (the
 * schedule's jitter), so the attempt is the first run at or after the
 * backoff, not one interval later. Returns 0 to connect now, else the
 * time until the run that will: at least one interval, never "0.0 s"
 * without trying.
 */
int64_t pg_retry_wait_us(unsigned failures, int64_t last_us, int64_t now_us,
    int64_t interval_us, int64_t max_ms);

#endif
