/*
 * service: vigild as a systemd service (Type=notify).
 *
 * It tells the manager READY=1 once the daemon serves, RELOADING=1 and
 * READY=1 around a reload, STOPPING=1 at the end, and keeps a one-line
 * STATUS= current for `systemctl status`. With a watchdog armed
 * (WATCHDOG_USEC) it sends WATCHDOG=1 from a timer on the event loop itself
 * at half the period: a loop that is stuck stops pinging, and systemd kills
 * and restarts the daemon. Without NOTIFY_SOCKET it sends nothing and
 * costs nothing.
 *
 * The status line is built from counts that a summarize callback fills in,
 * so it knows nothing of how the daemon keeps them.
 */
#ifndef VIGIL_SERVICE_H
#define VIGIL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct monitor;
struct service;

/* How often the status line is recomputed (sent only when it changed)... */
#define SERVICE_STATUS_CHECK_MS		1000
/* ...and re-sent anyway, in case the manager missed one. */
#define SERVICE_STATUS_REFRESH_MS	5000
#define SERVICE_STATUS_MAX		256

/*
 * What the status line says. New facts (alerts firing, ...) get a field
 * here and a clause in service_status_format().
 */
struct service_summary {
	size_t probes;		/* configured */
	size_t up, down;	/* by their last run; the rest have none yet */
	const char *down_name;	/* one probe that is down, or NULL */
	bool reload_rejected;	/* the file on disk was rejected at reload */
	unsigned critical, warning;	/* rules firing */
	const char *alert_name;	/* one firing rule, a critical one first */
	const char *alert_sev;	/* its severity */
};

/*
 * Formats the one-line summary ("3 probes, 2 up, 1 down (app_health)")
 * into buf, cut to fit. Never writes a newline. Returns strlen(buf).
 */
size_t service_status_format(const struct service_summary *s, char *buf,
    size_t len);

/* Fills out from the running probes; arg is a struct monitor. */
void service_summarize_monitor(void *arg, struct service_summary *out);

typedef void (*service_summarize_fn)(void *arg, struct service_summary *out);

/*
 * Reads the protocol's environment (the values of NOTIFY_SOCKET,
 * WATCHDOG_USEC and WATCHDOG_PID, any of them NULL when unset) and arms
 * the watchdog timer on base. A malformed value is logged and that part
 * disabled: the daemon runs on, unsupervised. Returns NULL only when out
 * of memory.
 */
struct service *service_new(struct event_base *base,
    const char *notify_socket, const char *watchdog_usec,
    const char *watchdog_pid, service_summarize_fn summarize, void *arg);
void service_free(struct service *s);

/* The watchdog period in µs, or 0 when none is armed. */
uint64_t service_watchdog_usec(const struct service *s);

/* Configuration loaded, listener bound: READY=1 with the first status. */
void service_ready(struct service *s);
/* SIGHUP received: RELOADING=1 (and MONOTONIC_USEC, for systemd >= 253). */
void service_reloading(struct service *s);
/* Reload done: READY=1, and a status saying so when ok is false. */
void service_reloaded(struct service *s, bool ok);
/* SIGTERM: STOPPING=1; no status is sent after it. */
void service_stopping(struct service *s);

#endif
