/*
 * probe: what every probe type shares: the result of one run, and the
 * operations a type implements. Probes know nothing of rules, the store or
 * the HTTP API; they report one result per run through a callback.
 */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evcurl;
struct h1;
struct sbuf;
struct evdns_base;
struct probe_cfg;
struct beatboard;

/* Why a run failed; text comes from the result's reason at the edge. */
enum probe_fail {
	PROBE_FAIL_NONE = 0,
	PROBE_FAIL_CONNECT,	/* refused, DNS, TLS handshake */
	PROBE_FAIL_TIMEOUT,
	PROBE_FAIL_STATUS,	/* unexpected HTTP status */
	PROBE_FAIL_BODY,	/* keyword missing, body too large */
	PROBE_FAIL_JSON,	/* malformed JSON or unexpected value */
	PROBE_FAIL_INTERNAL,	/* out of memory, setup failure */
	PROBE_FAIL_AUTH,	/* credentials or role refused */
	PROBE_FAIL_QUERY,	/* the database answered with an error */
	/*
	 * The source refused to answer for now (HTTP 429, a spent rate-limit
	 * budget): vigil cannot measure, which says nothing of the target.
	 */
	PROBE_FAIL_RATE_LIMITED,
	/*
	 * Up, but stuck behind another session's lock (the postgres
	 * canary): the application's queries there wait too.
	 */
	PROBE_FAIL_BLOCKED,
};

const char *probe_fail_name(enum probe_fail f);

struct probe_metric {
	char *name;	/* the part after "<probe>." */
	size_t name_cap;	/* bytes name's block holds */
	double value;
};

struct probe_result {
	int64_t started;	/* Unix ms */
	bool up;
	enum probe_fail fail;
	char reason[256];	/* empty when up */
	double duration_ms;
	/*
	 * Timings and extracted values. The first nmetrics are this run's;
	 * the slots after them keep their name blocks for the next run
	 * (probe_result_reset), which adds the same names in the same order.
	 */
	struct probe_metric *metrics;
	size_t nmetrics, named, alloc;
	/*
	 * Problems that did not fail the run (a metric's path missing), and
	 * what a person needs beside the numbers (who blocks whom): NULL, or
	 * notes joined by "; ", at most PROBE_NOTES_MAX bytes, in notes_buf.
	 * That is allocated by the first note ever, since most runs have
	 * none, and kept: a probe with a note tends to have it every run.
	 */
	char *notes;
	char *notes_buf;
};

#define PROBE_NOTES_MAX 2048

void probe_result_init(struct probe_result *r);
/* Frees what r holds; r is then as probe_result_init left it. */
void probe_result_clear(struct probe_result *r);
/*
 * Empties r for the next run but keeps its blocks (the metrics' slots and
 * names, the notes' buffer), so that a run in the steady state allocates
 * nothing for its result.
 */
void probe_result_reset(struct probe_result *r);
/* Adds or replaces a metric; non-finite values are dropped. 0 or -1. */
int probe_result_add(struct probe_result *r, const char *name, double v);
bool probe_result_get(const struct probe_result *r, const char *name,
    double *v);
/*
 * Copies src into dst (dst reset first, its blocks reused); 0 or -1 on
 * allocation failure.
 */
int probe_result_copy(struct probe_result *dst, const struct probe_result *src);
/*
 * Marks the run failed with a reason. Reasons quote what targets sent, so
 * bytes that are not UTF-8 become '?' (utf8.h).
 */
void probe_result_failf(struct probe_result *r, enum probe_fail f,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void probe_result_vfailf(struct probe_result *r, enum probe_fail f,
    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/*
 * Ends a run's result: up unless it failed, its duration since start_us
 * (clock_mono_us) unless the type measured it (curl's total time), both
 * also as the "up" and "duration_ms" metrics.
 */
void probe_result_close(struct probe_result *r, int64_t start_us);
/*
 * Every occurrence of secret in buf, in any case and also with its
 * whitespace removed, becomes "***"; buf never grows (NULL: nothing).
 */
void probe_scrub_secret(const char *secret, char *buf);
/*
 * Appends a note. One that no longer fits is dropped, and the notes end
 * with "; ..." so the reader knows some are missing.
 */
void probe_result_notef(struct probe_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * A stranger's text (a database's error, an API's message) as it goes
 * into a reason or a note: in double quotes, with " and \ escaped and
 * runs of white space as one space, cut at a whole character with "..."
 * inside the quotes. So where it starts and ends is never in doubt, and
 * it cannot pass for vigild's own words. out holds at least 8 bytes.
 */
void probe_quote(const char *in, char *out, size_t len);

/* Where probes run: the loop and the shared curl multi handle. */
/*
 * The release a deploy window is judging, for a source that can count a
 * release's own errors (Sentry events filtered by release). A probe's
 * input, like its configuration: owned by the monitor, set through
 * monitor_set_focus() (engine/monitor.h) by whoever judges releases, read
 * by probes at each run. The probe layer knows nothing of the gate.
 */
struct release_focus {
	bool open;		/* a deploy is open */
	char version[64];
	int64_t from;		/* Unix ms: count from when judging began */
};

struct probe_env {
	struct event_base *base;
	struct evcurl *curl;
	struct h1 *h1;		/* the own HTTP/1.1 client (http1.h), or NULL */
	struct evdns_base *dns;	/* for probes that resolve names */
	const struct release_focus *focus;
	struct beatboard *beats;	/* heartbeats the API received (beat.h) */
};

struct probe;
typedef void (*probe_done_fn)(struct probe *p, const struct probe_result *r,
    void *arg);

/*
 * Creates the runtime of one configured probe. cfg must outlive it (a
 * reload that replaces cfg replaces the probe too).
 */
struct probe *probe_new(const struct probe_cfg *cfg,
    const struct probe_env *env);
/*
 * Starts a run; done is called exactly once, later, from the loop (never
 * from inside probe_start). Returns 0, or -1 if a run is in flight.
 */
int probe_start(struct probe *p, probe_done_fn done, void *arg);
bool probe_running(const struct probe *p);
/* After a reload kept this probe: cfg is the new, equal, copy. */
void probe_rebind(struct probe *p, const struct probe_cfg *cfg);
/* Cancels a run in flight without calling done. */
void probe_cancel(struct probe *p);
void probe_free(struct probe *p);

/* The operations behind the generic calls, one table per type. */
struct probe_ops {
	void *(*create)(const struct probe_cfg *cfg,
	    const struct probe_env *env);
	/*
	 * Starts a run (r->started is set) that ends with probe_end(p) or
	 * probe_abort(p, ...).
	 */
	int (*start)(void *impl, struct probe *p, struct probe_result *r);
	/* Replaces cfg by an equal copy (a reload that kept the probe). */
	void (*rebind)(void *impl, const struct probe_cfg *cfg);
	/* Stops the run; probe_ending() still tells whether it had ended. */
	void (*cancel)(void *impl);
	void (*destroy)(void *impl);
	/*
	 * Optional: the type's last words on an ended run, just before done
	 * and after the result is closed: metrics of its own, its secret
	 * scrubbed from the result's texts, what it held for the run freed.
	 */
	void (*end)(void *impl, struct probe_result *r);
};

/*
 * For implementations: the run that probe_start began is over. However
 * often this is called, done is called once, later, from the loop (never
 * inside probe_start), after probe_result_close and the type's end.
 */
void probe_end(struct probe *p);
/* Fails the run (the first failure's reason stands) and ends it. */
void probe_abort(struct probe *p, enum probe_fail kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Whether probe_end was called and done is on its way: events the run
 * left behind (a timeout, a socket) are then to be ignored.
 */
bool probe_ending(const struct probe *p);

#endif
