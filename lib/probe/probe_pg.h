/*
 * probe_pg: the "postgres" probe. libpq's asynchronous API on vigild's
 * one event loop: host names resolved with evdns (libpq would block in
 * getaddrinfo), PQconnectPoll driven by socket events under vigild's own
 * timer (PQconnectPoll ignores connect_timeout), then a short sequence of
 * single-statement queries in autocommit (PG15 freezes statistics inside
 * a transaction). One connection is kept between runs and re-made, with
 * exponential backoff, after a failure.
 *
 * Every run: the canary query timed (canary_ms; a failure makes the run
 * down), then pg_stat_activity, pg_stat_database, pg_stat_statements,
 * required indexes, replication and the custom queries; a view that
 * cannot be read is a note naming it, not a failed run.
 */
#ifndef VIGIL_PROBE_PG_H
#define VIGIL_PROBE_PG_H

#include "probe/probe.h"

extern const struct probe_ops probe_pg_ops;

#endif
