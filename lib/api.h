/*
 * api: vigild's HTTP endpoints. It only reads the monitor's state; every
 * answer is built from what is already known, never by waiting on a probe,
 * so /health answers in microseconds whatever the targets do.
 *
 *   GET|HEAD /health    application/health+json, 200 pass/warn, 503 fail
 *   GET      /status    JSON: daemon, probes, rules, and why
 *   POST     /baseline  saves rules' current values as baselines
 *                       (bearer token from api.token_file)
 *
 * Unknown paths get 404, other methods 405 (with Allow), request bodies
 * over API_MAX_BODY 413.
 */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include <stddef.h>

struct event_base;
struct monitor;
struct api;

#define API_MAX_BODY (64 * 1024)

/* Serves m's state on listen; NULL with a reason in err. */
struct api *api_new(struct event_base *base, struct monitor *m,
    const char *listen, char *err, size_t errlen);
void api_free(struct api *a);
unsigned api_port(const struct api *a);

#endif
