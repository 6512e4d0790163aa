/*
 * api_int: what the API's files share (api.c: the server, routing,
 * authentication and the read endpoints; api_silences.c: the silences).
 * Not for use outside the api module.
 */
#ifndef VIGIL_API_INT_H
#define VIGIL_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "base/procstat.h"

#include "http/api.h"

struct cJSON;
struct event;
struct event_base;
struct httpd;
struct monitor;

#define API_STATUS_KEY 4
#define API_ALERT_VARIANTS 4	/* /alerts filters kept rendered at once */


/* Renders an answer (variant: the query it answers); NULL: out of memory. */
typedef struct MHD_Response *api_render_fn(struct api *a,
    const char *variant);

/* An answer rendered once and shared by its readers (api_cache.c). */
struct api_cache {
	struct MHD_Response *r;
	int64_t at, cost;	/* made when, in how long (µs) */
	uint64_t key[API_STATUS_KEY];
	uint64_t moved;		/* probe runs it shows */
	char variant[96];	/* the query it answers ("" for none) */
	uint64_t renders;	/* renderings made in this slot */
	uint64_t aside_renders;	/* of them, made in a child */
	int64_t loop_us;	/* the loop's time rendering it and forking */
	int64_t failed_at;	/* when a child last failed it; 0: never */
	api_render_fn *render;	/* what made it */
	bool behind;		/* to be made again in a pass of its own */
};

/*
 * A reader waiting for a rendering made aside (api_cache.c), its
 * connection suspended: what it asked for, and since when.
 */
struct api_wait {
	struct api_wait *next;
	struct MHD_Connection *c;
	struct api_cache *slots;
	size_t nslots;
	api_render_fn *render;
	char variant[96];
	uint64_t key[API_STATUS_KEY];	/* what it found (cache_key) */
	int64_t since;			/* monotonic µs */
	bool on;			/* suspended, in api->waiting */
};

struct api {
	struct monitor *m;
	struct httpd *httpd;
	/*
	 * Listening on loopback only: the detailed read endpoints are open
	 * to whoever can reach them (that host's users). Beyond loopback,
	 * with api.token_file, they need the token too.
	 */
	bool loopback;
	void (*changed)(void *arg);	/* after a silence or baseline change */
	void *changed_arg;
	struct deploys *deploys;	/* the release gate, or NULL */
	struct notifier *notifier;	/* for /status and /metrics */
	api_state_view_fn *state_view;	/* NULL: no state file */
	const void *state_ctx;
	uint64_t *requests;		/* per route, then "other" */
	uint64_t writes;		/* POST and DELETE requests let in */
	/*
	 * Every read endpoint's last renderings, each shared by its readers
	 * (api_cache.c): /status and /metrics plain and gzip, /alerts per
	 * filter, /silences, the page.
	 */
	struct api_cache status[2];
	struct api_cache alerts[API_ALERT_VARIANTS];
	struct api_cache silences, metrics[2], page;
	struct event *refresh;	/* makes the renderings left behind */
	int64_t refresh_after;	/* not before then (monotonic µs) */
	struct aside *aside;	/* where renewals are rendered */
	struct api_cache *aside_slot;	/* the slot it renders for */
	char aside_variant[96];		/* the query it renders */
	api_render_fn *aside_render;	/* with what */
	uint64_t aside_key[API_STATUS_KEY], aside_moved;
	struct api_wait *waiting;	/* readers waiting, oldest first */
	uint64_t auth_failures;
	/*
	 * vigild's process_* numbers, read here on the loop (a /metrics
	 * rendered aside runs in a child, whose /proc is its own), at most
	 * once a second. proc_at: clock_mono_us of the reading; 0: never.
	 */
	struct procstat proc;
	int64_t proc_at;
};

/* Per-request state: the body so far, capped at API_MAX_BODY. */
struct api_req {
	char *body;
	size_t len;
	bool too_big;
	struct api_wait wait;
};

/*
 * Queues an answer and frees body (malloc'd; NULL means out of memory and
 * becomes a 500). hdrs: NULL, or name, value, ..., NULL.
 */
enum MHD_Result api_send(struct MHD_Connection *c, unsigned code,
    const char *type, char *body, const char *const *hdrs);
/* {"error": msg} with code. */
enum MHD_Result api_error(struct MHD_Connection *c, unsigned code,
    const char *msg);
/*
 * In a child rendering aside (api_aside.c): api_body() writes every body
 * into fd instead, and api_body_captured() says how long the last was.
 */
void api_body_capture(int fd);
uint64_t api_body_captured(void);

/* Bodies this large are sent from a memfd (api_body). */
#define API_BODY_FD_MIN (64 * 1024)
/* A response carrying body (len bytes, malloc'd, taken); NULL: no memory. */
struct MHD_Response *api_body(char *body, size_t len);
/*
 * A response for body (malloc'd, taken) with vigild's common headers and
 * hdrs (NULL, or name, value, ..., NULL); NULL when out of memory.
 */
struct MHD_Response *api_response(const char *type, char *body,
    const char *const *hdrs);

/*
 * Answers c from the rendering in slots (nslots of them, one per
 * variant) if it is fresh enough, else renders anew with render first,
 * here or in a child while c waits, suspended (rq->wait). guess_us: what
 * a first rendering may cost (refresh_guess; 0: cheap).
 */
enum MHD_Result api_cached(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, struct api_cache *slots, size_t nslots,
    const char *variant, api_render_fn *render, int64_t guess_us);
/* Answers a reader that waited, once resumed (MHD calls again). */
enum MHD_Result api_cache_resumed(struct api *a, struct MHD_Connection *c,
    struct api_req *rq);
/* Lets rq's wait go (its connection closes). */
void api_cache_unwait(struct api *a, struct api_req *rq);
/* Resumes every waiting reader: MHD cannot stop with one suspended. */
void api_cache_wake_all(struct api *a);
/*
 * A rendering made aside, in a forked child (api_aside.c): one at a time.
 * done gets the response (NULL: it failed), when the snapshot was taken
 * (monotonic µs) and the child's CPU time (µs).
 */
struct aside;
typedef void api_aside_fn(void *arg, struct MHD_Response *r,
    int64_t started, int64_t cost);
/*
 * deadline_us: a child still rendering after that long is killed and its
 * rendering counts as failed, so the readers waiting for it get theirs
 * made on the loop rather than wait for ever (a child that hung: fork()
 * copies one thread of a threaded process, and a lock another held).
 * Renderings at 10,000 probes took 0.3 to 3.3 s on a busy machine.
 */
#define API_ASIDE_DEADLINE_US (30 * 1000 * 1000)
struct aside *aside_new(struct event_base *base, int64_t deadline_us);
void aside_free(struct aside *x);
bool aside_busy(const struct aside *x);
/* Starts render(a, variant) in a child; false if it could not start. */
bool aside_start(struct aside *x, api_render_fn *render, struct api *a,
    const char *variant, api_aside_fn *done, void *arg);

/* Lets go of the renderings in every slot. */
void api_cache_clear(struct api *a);
/* The event that renews renderings behind their readers (api_cache.c). */
void api_cache_refresh(int fd, short what, void *arg);

/* Tells the owner that saved state (silences, baselines) changed. */
void api_changed(struct api *a);

/*
 * A response for s (len bytes, malloc'd, taken; NULL stays NULL) of
 * type, gzipped when gz, with the headers every answer has.
 */
struct MHD_Response *api_encoded(const char *type, char *s, size_t len,
    bool gz);
/* The routes' labels for vigil_http_requests_total, then "other". */
const char *const *api_route_labels(size_t *n);

/* GET /metrics (api_metrics.c). */
enum MHD_Result api_metrics_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

/* GET /history?probe=|rule=&from=&to=&step= (api_history.c). */
enum MHD_Result api_history_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

/* POST /heartbeat/NAME (api_heartbeat.c); authenticates by itself. */
enum MHD_Result api_heartbeat_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

/* GET /badge/NAME.svg (badge.c). */
enum MHD_Result api_badge_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

/* A decimal id in a path (/silences/7), nothing else; 0 (never an id)
 * when it is not one (api_silences.c). */
uint64_t api_parse_id(const char *s);

/* api_maint.c: /maintenance, list, add, show, end. */
enum MHD_Result api_maint_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_maint_add(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_maint_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_maint_delete(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_silences_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_silences_add(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_silence_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_silence_delete(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

enum MHD_Result api_deploys_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_deploy_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);
enum MHD_Result api_deploys_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg);

#endif
