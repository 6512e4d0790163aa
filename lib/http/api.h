/*
 * api: vigild's HTTP endpoints. It only reads the monitor's state; every
 * answer is built from what is already known, never by waiting on a probe,
 * so /health answers in microseconds whatever the targets do.
 *
 *   GET|HEAD /health          application/health+json, 200 pass/warn,
 *                             503 fail; never any auth
 *   GET|HEAD /livez           vigild's own loop: 200 on schedule, 503
 *                             degraded; never any auth
 *   GET      /status          JSON: daemon, probes, rules, and why
 *   GET      /alerts          JSON: active alerts (?severity=, ?state=)
 *                             and silences
 *   GET      /metrics         Prometheus text exposition 0.0.4
 *   GET      /                the HTML status page
 *   GET      /silences        the active silences
 *   POST     /silences        adds one (201, its id)
 *   GET|DELETE /silences/{id} shows or expires one (204; 404 unknown)
 *   POST     /baseline        saves rules' current values as baselines
 *
 * POST and DELETE always need the bearer token from api.token_file (401
 * without, 403 wrong, 403 when none is configured). The GET endpoints
 * other than /health and /livez need it too when vigild listens beyond
 * loopback and a token is configured. Unknown paths get 404, other
 * methods 405 (with Allow), request bodies over API_MAX_BODY 413.
 */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include <stdbool.h>
#include <stdint.h>

#include <stdbool.h>
#include <stddef.h>

struct config;
struct event_base;
struct monitor;
struct api;

#define API_MAX_BODY (64 * 1024)
/*
 * Limits on clients. One address gets at most API_MAX_CONNS_PER_IP
 * connections, so one misbehaving client cannot crowd out UptimeRobot or
 * Prometheus; every request must be answered within
 * API_REQUEST_DEADLINE_S of its connection opening (or of the previous
 * answer on it), so slow clients cannot hold their slots.
 */
#define API_MAX_CONNS 2048
#define API_MAX_CONNS_PER_IP 32
#define API_IDLE_TIMEOUT_S 10
#define API_REQUEST_DEADLINE_S 15
#define API_CONN_MEMORY (32 * 1024)	/* bounds request line + headers */
/* /status: its ceiling in bytes. */
#define API_STATUS_MAX_BYTES ((size_t)1 << 30)

/*
 * Serves m's state on cfg's api.listen, over HTTPS when cfg has api.tls
 * (cfg: the configuration in force, or the one a reload is about to put
 * in force); NULL with a reason in err.
 */
struct api *api_new(struct event_base *base, struct monitor *m,
    const struct config *cfg, char *err, size_t errlen);
void api_free(struct api *a);
unsigned api_port(const struct api *a);

/*
 * changed(arg) runs after a request changed state worth saving (a silence
 * added or expired, a baseline saved): the state file listens here.
 */
void api_set_listener(struct api *a, void (*changed)(void *arg), void *arg);

struct deploys;
/* Serves the release gate's /deploys from d (NULL: none). */
void api_set_deploys(struct api *a, struct deploys *d);

struct notifier;
/*
 * What /status and /metrics show of the state file. The daemon supplies
 * it through a function: the state file is sys's, and http may not
 * depend on sys (DESIGN.md, Layout).
 */
struct api_state_view {
	const char *path;
	int64_t last_saved;	/* Unix ms, 0: never */
	const char *last_error;	/* "" when the last write worked */
	uint64_t writes, failures;
};
/* Fills *out; false when there is no state file. */
typedef bool api_state_view_fn(const void *ctx, struct api_state_view *out);
/* /status and /metrics show their counters (nt or view may be NULL). */
void api_set_delivery(struct api *a, struct notifier *nt,
    api_state_view_fn *view, const void *ctx);

/* Whether a listen address ("127.0.0.1:9464", "[::1]:0") is loopback. */
bool api_listen_is_loopback(const char *listen);

#endif
