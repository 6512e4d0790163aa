/*
 * notifier: delivery to real receivers over loopback, on a fake clock.
 *
 * The receiver is a libevent HTTP server on an ephemeral 127.0.0.1 port in
 * the test's own loop; it records every POST and answers with a status the
 * test sets (or holds the request unanswered). The rules the notifier reads
 * are the monitor's real rule set, fed samples by the test at fake wall
 * times (clock_fake): firing, escalation, repeats and resolutions happen
 * when the test says, hours apart, in milliseconds. The monotonic clock is
 * frozen, so the monitor's probe runs once at the start and never again,
 * and a retry's backoff reads exactly as it was drawn.
 *
 * Retries themselves wait on libevent's real timers (1 s, then 2 s, with
 * jitter): the tests that need one wait for it by condition, never
 * asserting on how long anything took.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/clock.h"
#include "config/config.h"
#include "engine/maint.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "engine/silence.h"
#include "notify/notifier.h"
#include "suites.h"

#define S	1000
#define MIN	(60 * S)
#define H	(60 * MIN)
#define T0	1700000000000LL
#define M0	5000000000000LL	/* the frozen monotonic clock, µs */

#define MAX_REQS	64
#define MAX_HELD	8

/* What the receiver got: one POST. */
struct req {
	char path[32];
	char token[16];		/* its X-Token header, "" if none */
	char *body;
	int status;		/* answered; 0: held */
};

struct receiver {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;	/* NULL: not listening */
	unsigned port;
	int status;		/* the answer to POSTs; 0: hold them */
	const char *fail_path;	/* POSTs under it get 503, whatever status */
	size_t big_answer;	/* bytes of body sent with each answer */
	struct req reqs[MAX_REQS];
	size_t n;
	struct evhttp_request *held[MAX_HELD];
	size_t nheld, max_held;
};

struct world {
	struct event_base *base;
	struct receiver rv;
	struct monitor *m;
	struct notifier *nt;
	int64_t wall, mono;
	size_t seen;		/* receiver requests already checked */
	char text[2048];	/* the config, for reloads */
};

static void
answer(struct receiver *rv, struct evhttp_request *req, int status)
{
	struct evbuffer *out = evbuffer_new();

	ck_assert_ptr_nonnull(out);
	if (rv->big_answer > 0) {
		char chunk[1024];

		memset(chunk, 'x', sizeof(chunk));
		for (size_t i = 0; i < rv->big_answer; i += sizeof(chunk))
			evbuffer_add(out, chunk, sizeof(chunk));
	}
	evhttp_send_reply(req, status, status < 300 ? "OK" : "Unavailable",
	    out);
	evbuffer_free(out);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct receiver *rv = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *tok;
	struct req *r;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		/* The monitor's probe: the application is fine. */
		struct evbuffer *out = evbuffer_new();

		evbuffer_add_printf(out, "{\"ms\": 0}");
		evhttp_send_reply(req, 200, "OK", out);
		evbuffer_free(out);
		return;
	}
	ck_assert_uint_lt(rv->n, MAX_REQS);
	r = &rv->reqs[rv->n++];
	snprintf(r->path, sizeof(r->path), "%s", evhttp_request_get_uri(req));
	tok = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Token");
	snprintf(r->token, sizeof(r->token), "%s", tok != NULL ? tok : "");
	r->body = malloc(len + 1);
	ck_assert_ptr_nonnull(r->body);
	evbuffer_remove(in, r->body, len);
	r->body[len] = '\0';
	r->status = rv->fail_path != NULL && strncmp(r->path, rv->fail_path,
	    strlen(rv->fail_path)) == 0 ? 503 : rv->status;
	if (r->status == 0) {
		ck_assert_uint_lt(rv->nheld, MAX_HELD);
		rv->held[rv->nheld++] = req;
		if (rv->nheld > rv->max_held)
			rv->max_held = rv->nheld;
		return;
	}
	answer(rv, req, r->status);
}

/* Answers the oldest held request. */
static void
release(struct receiver *rv, int status)
{
	ck_assert_uint_gt(rv->nheld, 0);
	answer(rv, rv->held[0], status);
	memmove(rv->held, rv->held + 1, --rv->nheld * sizeof(rv->held[0]));
}

static void
receiver_start(struct receiver *rv, struct event_base *base)
{
	struct evhttp_bound_socket *h;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);

	memset(rv, 0, sizeof(*rv));
	rv->status = 200;
	rv->http = evhttp_new(base);
	ck_assert_ptr_nonnull(rv->http);
	evhttp_set_gencb(rv->http, on_request, rv);
	h = evhttp_bind_socket_with_handle(rv->http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(h),
	    (struct sockaddr *)&sa, &salen), 0);
	rv->port = ntohs(sa.sin_port);
	rv->sock = h;
}

/* The receiver's host is up but nothing listens: connection refused. */
static void
receiver_stop_listening(struct receiver *rv)
{
	evhttp_del_accept_socket(rv->http, rv->sock);
	rv->sock = NULL;
}

/* Listening again, on the same port (the notifier's URL names it). */
static void
receiver_listen_again(struct receiver *rv)
{
	rv->sock = evhttp_bind_socket_with_handle(rv->http, "127.0.0.1",
	    (ev_uint16_t)rv->port);
	ck_assert_ptr_nonnull(rv->sock);
}

static void
receiver_free(struct receiver *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		free(rv->reqs[i].body);
	/* Held requests belong to their connections: evhttp frees them. */
	if (rv->http != NULL)
		evhttp_free(rv->http);
	memset(rv, 0, sizeof(*rv));
}

/* Real time, for the safety deadline only: the fake clocks stand still. */
static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef bool (*pred_fn)(struct world *w);

/*
 * Runs the loop until pred holds. The deadline is a safety net for a
 * broken build (the test then fails saying what it waited for), far above
 * anything a healthy run needs even under valgrind.
 */
static void
run_until(struct world *w, pred_fn pred, const char *what)
{
	int64_t deadline = real_ms() + 20 * S;

	event_base_loop(w->base, EVLOOP_NONBLOCK);
	while (!pred(w)) {
		ck_assert_msg(real_ms() < deadline, "gave up waiting for %s",
		    what);
		event_base_loop(w->base, EVLOOP_ONCE);
	}
}

static struct notifier_view
view(const struct world *w, size_t i)
{
	struct notifier_view v;

	ck_assert(notifier_view(w->nt, i, &v));
	return v;
}

static size_t
queued(const struct world *w)
{
	size_t q = 0;

	for (size_t i = 0; i < notifier_count(w->nt); i++)
		q += view(w, i).queued;
	return q;
}

static bool
probe_ran(struct world *w)
{
	struct monitor_info mi;

	monitor_info(w->m, &mi);
	return mi.runs == 1;
}

/* Every queued notice delivered (none can be in flight then). */
static bool
delivered(struct world *w)
{
	return queued(w) == 0;
}

static bool
one_held(struct world *w)
{
	return w->rv.nheld == 1;
}

/*
 * One probe whose only job is to be there (it runs once, against the
 * receiver, at the start); one rule over a metric the test feeds; the
 * notifiers given. Flap damping is off: the scenarios fire and resolve
 * more often than a real rule would.
 */
static const char cfg_fmt[] =
    "{ \"instance\": \"unit\","
    "  \"probes\": [ { \"name\": \"app\", \"type\": \"http\","
    "    \"url\": \"http://127.0.0.1:%u/app\", \"interval\": \"1h\","
    "    \"timeout\": \"5s\", \"metrics\": { \"ms\": \"/ms\" } } ],"
    "  \"rules\": [ { \"name\": \"latency\", \"metric\": \"app.ms\","
    "    \"op\": \">\", \"warn\": 500, \"crit\": 1000,"
    "    \"flap\": { \"flips\": 0 } } ],"
    "  \"notifiers\": [ %s ] }";

/* The notifiers' JSON: @PORT@ is the receiver's port. */
static const char hook[] =
    "{ \"name\": \"hook\", \"type\": \"webhook\","
    "  \"url\": \"http://127.0.0.1:@PORT@/hook\", \"rules\": [\"latency\"],"
    "  \"timeout\": \"5s\" @MORE@ }";

/* tmpl with @PORT@ and @MORE@ filled in (a format would be unchecked). */
static void
expand(const char *tmpl, unsigned port, const char *more, char *out,
    size_t len)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; ) {
		char piece[16];
		const char *add;
		size_t n;

		if (strncmp(p, "@PORT@", 6) == 0) {
			snprintf(piece, sizeof(piece), "%u", port);
			add = piece;
			p += 6;
		} else if (strncmp(p, "@MORE@", 6) == 0) {
			add = more != NULL ? more : "";
			p += 6;
		} else {
			piece[0] = *p++;
			piece[1] = '\0';
			add = piece;
		}
		n = strlen(add);
		ck_assert_uint_lt(o + n, len);
		memcpy(out + o, add, n + 1);
		o += n;
	}
}

static void
world_init(struct world *w, const char *notifiers, const char *more)
{
	char nbuf[1024], err[256];
	struct config_errors errs = { 0 };
	struct config *cfg;

	memset(w, 0, sizeof(*w));
	w->wall = T0;
	w->mono = M0;
	clock_fake(&w->wall, &w->mono);
	w->base = event_base_new();
	ck_assert_ptr_nonnull(w->base);
	receiver_start(&w->rv, w->base);
	expand(notifiers, w->rv.port, more, nbuf, sizeof(nbuf));
	snprintf(w->text, sizeof(w->text), cfg_fmt, w->rv.port, nbuf);
	cfg = config_parse("notifier.json", w->text, strlen(w->text), &errs);
	ck_assert_msg(cfg != NULL, "config: %s", errs.n > 0 ? errs.v[0].msg :
	    "?");
	config_errors_clear(&errs);
	w->m = monitor_new(w->base, cfg, err, sizeof(err));
	ck_assert_msg(w->m != NULL, "monitor: %s", err);
	w->nt = notifier_new(w->base, w->m);
	ck_assert_ptr_nonnull(w->nt);
	/* The probe's one run: the rules start from a known, calm state. */
	run_until(w, probe_ran, "the probe's first run");
}

static void
world_free(struct world *w)
{
	notifier_free(w->nt);
	monitor_free(w->m);
	receiver_free(&w->rv);
	event_base_free(w->base);
	clock_fake(NULL, NULL);
}

/*
 * At +at on the fake clock the metric reads v (NAN: no new sample), the
 * rules are evaluated as the monitor's tick would, and the notifier is
 * kicked as vigild's alert listener does.
 */
static void
at(struct world *w, int64_t t, double v)
{
	ck_assert_int_ge(T0 + t, w->wall);
	w->wall = T0 + t;
	if (!isnan(v))
		ck_assert_int_eq(monitor_restore_sample(w->m, "app.ms", w->wall,
		    v), 0);
	ruleset_eval(monitor_rules_mut(w->m), monitor_store(w->m),
	    monitor_facts(w->m), RULESET_ALL, w->wall);
	notifier_kick(w->nt);
	/* The kick runs in this pass: what it decided is queued after it. */
	event_base_loop(w->base, EVLOOP_NONBLOCK);
}

static cJSON *
body_json(const struct req *r)
{
	cJSON *o = cJSON_Parse(r->body);

	ck_assert_msg(o != NULL, "not JSON: %s", r->body);
	return o;
}

/* "kind/severity" (or "kind" when resolved) of a generic webhook body. */
static void
describe(const struct req *r, char *buf, size_t len)
{
	cJSON *o = body_json(r);
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "severity");

	ck_assert(cJSON_IsString(k));
	snprintf(buf, len, "%s%s%s", k->valuestring, cJSON_IsString(s) ? "/" :
	    "", cJSON_IsString(s) ? s->valuestring : "");
	cJSON_Delete(o);
}

/* The notice's id: "<instance>-<seq>". */
static void
id_of(const struct req *r, char *buf, size_t len)
{
	cJSON *o = body_json(r);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");

	ck_assert(cJSON_IsString(id));
	snprintf(buf, len, "%s", id->valuestring);
	cJSON_Delete(o);
}

/* What arrived since the last call, "kind/sev kind/sev ..." ("" none). */
static void
news(struct world *w, char *buf, size_t len)
{
	buf[0] = '\0';
	for (; w->seen < w->rv.n; w->seen++) {
		char d[64];
		size_t used = strlen(buf);

		describe(&w->rv.reqs[w->seen], d, sizeof(d));
		snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "", d);
	}
}

/* One step of a scenario: at +t the metric reads v; told is what the
 * receiver must get for it, in order ("" nothing). */
struct step {
	int64_t t;
	double v;
	const char *told;
};

#define END	{ -1, 0, NULL }

struct scenario {
	const char *name;
	const char *more;	/* more of the notifier's JSON */
	struct step steps[12];
	/* A silence of the rule from the first step at or after this... */
	int64_t silence_from;
	int64_t silence_to;	/* ...until this (0: no silence) */
};

static const struct scenario scenarios[] = {
	{ "fire then resolve", NULL, {
		{ 1 * MIN, 1500, "firing/critical" },
		{ 2 * MIN, 1600, "" },
		{ 3 * MIN, 100, "resolved" },
		{ 4 * MIN, 100, "" },
		/* A second episode is a new page. */
		{ 5 * MIN, 1200, "firing/critical" },
		{ 6 * MIN, 10, "resolved" },
		END }, 0, 0 },
	{ "escalate and de-escalate", NULL, {
		{ 1 * MIN, 700, "firing/warning" },
		{ 2 * MIN, 1500, "escalated/critical" },
		{ 3 * MIN, 700, "deescalated/warning" },
		{ 4 * MIN, 100, "resolved" },
		END }, 0, 0 },
	{ "repeat while firing", ", \"repeat_interval\": \"1h\"", {
		{ 1 * MIN, 1500, "firing/critical" },
		{ 31 * MIN, 1500, "" },
		{ 60 * MIN + 59 * S, 1500, "" },
		{ 61 * MIN, 1500, "repeat/critical" },
		{ 90 * MIN, 1500, "" },
		{ 121 * MIN, 1500, "repeat/critical" },
		{ 122 * MIN, 100, "resolved" },
		/* Resolved: no more repeats. */
		{ 182 * MIN, 100, "" },
		END }, 0, 0 },
	{ "no repeat by default", NULL, {
		{ 1 * MIN, 1500, "firing/critical" },
		{ 2 * H, 1500, "" },
		{ 4 * H, 1500, "" },
		END }, 0, 0 },
	{ "critical only", ", \"severities\": [\"critical\"]", {
		{ 1 * MIN, 700, "" },
		{ 2 * MIN, 1500, "firing/critical" },
		/* Below this notifier's severities: resolved for it. */
		{ 3 * MIN, 700, "resolved" },
		{ 4 * MIN, 100, "" },
		END }, 0, 0 },
	{ "unknown holds the resolution", NULL, {
		{ 1 * MIN, 1500, "firing/critical" },
		/* No sample for over 3 h (3 intervals): stale, unknown. */
		{ 3 * H + 2 * MIN, NAN, "" },
		{ 5 * H, NAN, "" },
		{ 5 * H + 1 * MIN, 100, "resolved" },
		END }, 0, 0 },
	{ "unknown then still bad: nothing new", NULL, {
		{ 1 * MIN, 1500, "firing/critical" },
		{ 3 * H + 2 * MIN, NAN, "" },
		{ 3 * H + 3 * MIN, 1500, "" },
		{ 3 * H + 4 * MIN, 100, "resolved" },
		END }, 0, 0 },
	{ "silenced until the silence ends", NULL, {
		{ 1 * MIN, 1500, "" },
		{ 2 * MIN, 100, "" },
		{ 3 * MIN, 1500, "" },
		{ 59 * MIN, 1500, "" },
		{ 61 * MIN, 1500, "firing/critical" },
		{ 62 * MIN, 100, "resolved" },
		END }, 0, 1 * H },
	{ "a silenced resolution comes when the silence ends", NULL, {
		{ 1 * MIN, 1500, "firing/critical" },
		{ 2 * MIN, 100, "" },
		{ 59 * MIN, 100, "" },
		{ 61 * MIN, 100, "resolved" },
		END }, 90 * S, 1 * H },
};

/* Silences the rule "latency" from now until until. */
static void
silence(struct world *w, int64_t now, int64_t until)
{
	struct silence in;
	const char *why = NULL;
	uint64_t id;

	memset(&in, 0, sizeof(in));
	snprintf(in.rule, sizeof(in.rule), "latency");
	snprintf(in.author, sizeof(in.author), "unit");
	snprintf(in.comment, sizeof(in.comment), "maintenance");
	in.expires = until;
	ck_assert_msg(silences_add(monitor_silences_mut(w->m), &in, now, &id,
	    &why) == 0, "silence: %s", why != NULL ? why : "?");
}

/* Each scenario on a fresh world; ids must count up in arrival order. */
START_TEST(test_scenario)
{
	const struct scenario *sc = &scenarios[_i];
	struct world w;
	unsigned seq = 0;
	bool silenced = false;

	world_init(&w, hook, sc->more);
	for (const struct step *s = sc->steps; s->told != NULL; s++) {
		char got[256];

		if (sc->silence_to > 0 && !silenced &&
		    s->t >= sc->silence_from) {
			silence(&w, T0 + s->t, T0 + sc->silence_to);
			silenced = true;
		}
		at(&w, s->t, s->v);
		run_until(&w, delivered, "the notices' delivery");
		news(&w, got, sizeof(got));
		ck_assert_msg(strcmp(got, s->told) == 0, "%s, at +%llds: got "
		    "\"%s\", want \"%s\"", sc->name, (long long)s->t / S, got,
		    s->told);
	}
	for (size_t i = 0; i < w.rv.n; i++) {
		char id[64], want[64];

		id_of(&w.rv.reqs[i], id, sizeof(id));
		snprintf(want, sizeof(want), "unit-%u", ++seq);
		ck_assert_str_eq(id, want);
		ck_assert_str_eq(w.rv.reqs[i].path, "/hook");
	}
	ck_assert_uint_eq(view(&w, 0).sent, w.rv.n);
	ck_assert_uint_eq(view(&w, 0).failed, 0);
	world_free(&w);
}
END_TEST

/*
 * A maintenance window over the rule holds its notices as a silence
 * does: nothing while it lasts (a fire and a resolution inside it are
 * never told), the page once it ends with the rule still firing.
 */
START_TEST(test_maintenance_window_holds)
{
	static const struct step steps[] = {
		{ 1 * MIN, 1500, "" },
		{ 2 * MIN, 100, "" },
		{ 3 * MIN, 1500, "" },
		{ 59 * MIN, 1500, "" },
		{ 61 * MIN, 1500, "firing/critical" },
		{ 62 * MIN, 100, "resolved" },
		END,
	};
	struct maint_window in;
	struct world w;
	const char *why = NULL;
	uint64_t id;

	world_init(&w, hook, NULL);
	memset(&in, 0, sizeof(in));
	snprintf(in.name, sizeof(in.name), "upgrade");
	snprintf(in.rules[0], sizeof(in.rules[0]), "latency");
	in.nrules = 1;
	snprintf(in.author, sizeof(in.author), "unit");
	snprintf(in.comment, sizeof(in.comment), "planned");
	snprintf(in.tzname, sizeof(in.tzname), "UTC");
	in.kind = MAINT_ONCE;
	in.start = T0;
	in.end = T0 + 1 * H;
	ck_assert_msg(maint_add(monitor_maint_mut(w.m), &in, NULL, T0, &id,
	    &why) == 0, "maint: %s", why != NULL ? why : "?");
	for (const struct step *s = steps; s->told != NULL; s++) {
		char got[256];

		at(&w, s->t, s->v);
		run_until(&w, delivered, "the notices' delivery");
		news(&w, got, sizeof(got));
		ck_assert_msg(strcmp(got, s->told) == 0, "at +%llds: got "
		    "\"%s\", want \"%s\"", (long long)s->t / S, got, s->told);
	}
	world_free(&w);
}
END_TEST

static bool
failed_once(struct world *w)
{
	return view(w, 0).failed == 1;
}

static bool
failed_twice(struct world *w)
{
	return view(w, 0).failed == 2;
}

/*
 * The receiver is down (503) for two attempts, then back: the retry
 * waits 1 s, then 2 s (each +-20 %), and the same notice -- the same id,
 * the same bytes -- arrives once the receiver answers.
 */
START_TEST(test_down_then_back_with_backoff)
{
	struct world w;
	struct notifier_view v;

	world_init(&w, hook, NULL);
	w.rv.status = 503;
	at(&w, 1 * MIN, 1500);
	run_until(&w, failed_once, "the first attempt");
	v = view(&w, 0);
	ck_assert_uint_eq(v.queued, 1);
	ck_assert_uint_eq(v.sent, 0);
	ck_assert_str_eq(v.last_error, "HTTP 503");
	ck_assert_int_ge(v.next_retry_ms, 800);
	ck_assert_int_le(v.next_retry_ms, 1200);
	run_until(&w, failed_twice, "the second attempt");
	v = view(&w, 0);
	ck_assert_int_ge(v.next_retry_ms, 1600);
	ck_assert_int_le(v.next_retry_ms, 2400);
	w.rv.status = 200;
	run_until(&w, delivered, "the third attempt");
	v = view(&w, 0);
	ck_assert_uint_eq(v.sent, 1);
	ck_assert_uint_eq(v.failed, 2);
	ck_assert_str_eq(v.last_error, "");
	ck_assert_int_eq(v.next_retry_ms, 0);
	ck_assert_uint_eq(w.rv.n, 3);
	for (size_t i = 1; i < w.rv.n; i++)
		ck_assert_str_eq(w.rv.reqs[i].body, w.rv.reqs[0].body);
	ck_assert_int_eq(w.rv.reqs[2].status, 200);
	world_free(&w);
}
END_TEST

/*
 * Nothing listening at the receiver's address (connection refused) is a
 * failure like any other: retried until something listens again, and
 * the error says what curl saw, not an HTTP status.
 */
START_TEST(test_refused_then_back)
{
	struct world w;
	struct notifier_view v;
	char got[256];

	world_init(&w, hook, NULL);
	receiver_stop_listening(&w.rv);
	at(&w, 1 * MIN, 1500);
	run_until(&w, failed_once, "the refused attempt");
	v = view(&w, 0);
	ck_assert_uint_eq(v.queued, 1);
	ck_assert_str_ne(v.last_error, "");
	ck_assert_msg(strncmp(v.last_error, "HTTP", 4) != 0, "error: %s",
	    v.last_error);
	ck_assert_uint_eq(w.rv.n, 0);
	receiver_listen_again(&w.rv);
	run_until(&w, delivered, "the retry");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical");
	v = view(&w, 0);
	ck_assert_uint_eq(v.sent, 1);
	ck_assert_uint_ge(v.failed, 1);
	world_free(&w);
}
END_TEST

/*
 * Three notices made while the receiver is down wait behind the first;
 * only the head is ever in flight, and once the receiver is back they
 * arrive in the order they were made, one at a time.
 */
START_TEST(test_order_kept_while_down)
{
	struct world w;
	char got[256];

	world_init(&w, hook, NULL);
	w.rv.status = 503;
	at(&w, 1 * MIN, 1500);
	run_until(&w, failed_once, "the first attempt");
	at(&w, 2 * MIN, 700);
	at(&w, 3 * MIN, 100);
	ck_assert_uint_eq(view(&w, 0).queued, 3);
	/* Nothing overtook the head while it waits for its retry. */
	ck_assert_uint_eq(w.rv.n, 1);
	w.seen = 1;
	/* Back, but slow: each answer waits until the test releases it. */
	w.rv.status = 0;
	for (int k = 0; k < 3; k++) {
		run_until(&w, one_held, "the next notice");
		ck_assert_uint_eq(w.rv.nheld, 1);
		release(&w.rv, 200);
	}
	run_until(&w, delivered, "the last answer");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical deescalated/warning resolved");
	ck_assert_uint_eq(w.rv.max_held, 1);
	ck_assert_uint_eq(view(&w, 0).sent, 3);
	world_free(&w);
}
END_TEST

/*
 * A full queue drops its oldest waiting notice (counted), never the one
 * in flight: with the head in flight (held) the receiver gets it and the
 * newest; with the head waiting for a retry, the head goes too.
 */
START_TEST(test_queue_bounded)
{
	/* _i: 0 head in flight, 1 head waiting for its retry. */
	static const char *const want[] = {
		"firing/critical resolved",
		"escalated/critical resolved",
	};
	struct world w;
	char got[256];

	world_init(&w, hook, ", \"queue_max\": 2");
	w.rv.status = _i == 0 ? 0 : 503;
	at(&w, 1 * MIN, 1500);				/* 1 */
	if (_i == 0)
		run_until(&w, one_held, "the first notice");
	else
		run_until(&w, failed_once, "the first attempt");
	at(&w, 2 * MIN, 700);				/* 2 */
	at(&w, 3 * MIN, 1500);				/* 3 */
	at(&w, 4 * MIN, 100);				/* 4 */
	ck_assert_uint_eq(view(&w, 0).queued, 2);
	ck_assert_uint_eq(view(&w, 0).dropped, 2);
	if (_i == 0) {
		release(&w.rv, 200);
		w.rv.status = 200;
	} else {
		/* What the receiver refused does not count as told. */
		w.seen = 1;
		w.rv.status = 200;
	}
	run_until(&w, delivered, "the queue's delivery");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, want[_i]);
	ck_assert_uint_eq(view(&w, 0).sent, 2);
	world_free(&w);
}
END_TEST

/* The state file's outbox, as notifier_save wrote it for notifier 0. */
static const cJSON *
saved_outbox(const cJSON *saved, const char *name)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(saved, name);
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "outbox");

	ck_assert(cJSON_IsArray(q));
	ck_assert_int_eq(cJSON_GetArraySize(q), 1);
	return cJSON_GetArrayItem(q, 0);
}

/* vigild restarting: the notifier goes, a new one reads the state back. */
static void
restart(struct world *w, const cJSON *saved)
{
	notifier_free(w->nt);
	w->nt = notifier_new(w->base, w->m);
	ck_assert_ptr_nonnull(w->nt);
	notifier_restore(w->nt, saved);
}

/*
 * Notices the receiver has not taken survive a restart in the state
 * file, in order and with their ids; the sequence goes on after them.
 */
START_TEST(test_outbox_survives_restart)
{
	struct world w;
	const cJSON *box, *it;
	cJSON *saved;
	char got[256], id[64];

	world_init(&w, hook, NULL);
	w.rv.status = 503;
	at(&w, 1 * MIN, 1500);
	run_until(&w, failed_once, "the first attempt");
	at(&w, 2 * MIN, 100);
	saved = notifier_save(w.nt);
	ck_assert_ptr_nonnull(saved);
	box = saved_outbox(saved, "hook");
	ck_assert_int_eq(cJSON_GetArraySize(box), 2);
	it = cJSON_GetArrayItem(box, 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(it, "seq")->valueint,
	    1);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(it,
	    "attempts")->valueint, 1);
	it = cJSON_GetArrayItem(box, 1);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(it, "seq")->valueint,
	    2);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(it,
	    "attempts")->valueint, 0);
	restart(&w, saved);
	cJSON_Delete(saved);
	ck_assert_uint_eq(view(&w, 0).queued, 2);
	w.seen = 1;
	w.rv.status = 200;
	run_until(&w, delivered, "the restored notices");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical resolved");
	id_of(&w.rv.reqs[1], id, sizeof(id));
	ck_assert_str_eq(id, "unit-1");
	id_of(&w.rv.reqs[2], id, sizeof(id));
	ck_assert_str_eq(id, "unit-2");
	at(&w, 3 * MIN, 1500);
	run_until(&w, delivered, "the next page");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical");
	id_of(&w.rv.reqs[3], id, sizeof(id));
	ck_assert_str_eq(id, "unit-3");
	world_free(&w);
}
END_TEST

/* What the notifier's listener saw at its last call. */
struct changes {
	struct world *w;
	unsigned calls;
	size_t queued;
	uint64_t sent;
};

static void
on_change(void *arg)
{
	struct changes *c = arg;
	struct notifier_view v = view(c->w, 0);

	c->calls++;
	c->queued = v.queued;
	c->sent = v.sent;
}

/*
 * A notice queued and the same notice delivered are both changes the
 * state file must catch up with at once. Once only the periodic save
 * (state_interval, 10 s by default) saw a delivery: a kill -9 within
 * those seconds after a page left the delivered notice in the saved
 * outbox, and the restart paged again.
 */
START_TEST(test_queue_and_delivery_are_told)
{
	struct world w;
	struct changes c = { &w, 0, 0, 0 };

	world_init(&w, hook, NULL);
	notifier_set_listener(w.nt, on_change, &c);
	w.rv.status = 0;	/* held: the notice waits in the outbox */
	at(&w, 1 * MIN, 1500);
	run_until(&w, one_held, "the page in flight");
	ck_assert_uint_ge(c.calls, 1);
	ck_assert_uint_eq(c.queued, 1);
	ck_assert_uint_eq(c.sent, 0);
	c.calls = 0;
	release(&w.rv, 200);
	run_until(&w, delivered, "the page delivered");
	ck_assert_uint_eq(c.calls, 1);
	ck_assert_uint_eq(c.queued, 0);
	ck_assert_uint_eq(c.sent, 1);
	world_free(&w);
}
END_TEST

/*
 * What was told survives a restart: a rule still firing is not paged
 * again, and its resolution still comes.
 */
START_TEST(test_told_survives_restart)
{
	struct world w;
	cJSON *saved;
	char got[256];

	world_init(&w, hook, NULL);
	at(&w, 1 * MIN, 1500);
	run_until(&w, delivered, "the page");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical");
	saved = notifier_save(w.nt);
	restart(&w, saved);
	cJSON_Delete(saved);
	at(&w, 2 * MIN, 1500);
	run_until(&w, delivered, "nothing");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "");
	at(&w, 3 * MIN, 100);
	run_until(&w, delivered, "the resolution");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "resolved");
	world_free(&w);
}
END_TEST

/*
 * A reload that keeps a notifier (same name and type) keeps what it
 * owes: the queue waiting for a receiver that is down goes out after
 * the reload, in order, and nothing is told twice.
 */
START_TEST(test_reload_keeps_the_queue)
{
	struct config_errors errs = { 0 };
	struct config *cfg;
	struct world w;
	char got[256];

	world_init(&w, hook, NULL);
	w.rv.status = 503;
	at(&w, 1 * MIN, 1500);
	run_until(&w, failed_once, "the first attempt");
	at(&w, 2 * MIN, 100);
	ck_assert_uint_eq(view(&w, 0).queued, 2);
	cfg = config_parse("notifier.json", w.text, strlen(w.text), &errs);
	config_errors_clear(&errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(monitor_reload(w.m, cfg), 0);
	ck_assert_int_eq(notifier_reload(w.nt), 0);
	ck_assert_uint_eq(view(&w, 0).queued, 2);
	ck_assert_uint_eq(view(&w, 0).failed, 1);
	w.seen = 1;
	w.rv.status = 200;
	run_until(&w, delivered, "the queue after the reload");
	at(&w, 3 * MIN, 100);
	run_until(&w, delivered, "nothing more");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical resolved");
	world_free(&w);
}
END_TEST

/*
 * A reload that changes a kept notifier's headers (a rotated token)
 * while a notice is in flight: that transfer keeps the headers it
 * started with, and every later one has the new ones.
 */
START_TEST(test_reload_in_flight_takes_new_headers)
{
	struct config_errors errs = { 0 };
	struct config *cfg;
	struct world w;
	char *tok;

	world_init(&w, hook, ", \"headers\": { \"X-Token\": \"old\" }");
	w.rv.status = 0;
	at(&w, 1 * MIN, 1500);
	run_until(&w, one_held, "the page, in flight");
	tok = strstr(w.text, "\"old\"");
	ck_assert_ptr_nonnull(tok);
	memcpy(tok, "\"new\"", 5);
	cfg = config_parse("notifier.json", w.text, strlen(w.text), &errs);
	config_errors_clear(&errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(monitor_reload(w.m, cfg), 0);
	ck_assert_int_eq(notifier_reload(w.nt), 0);
	release(&w.rv, 200);
	w.rv.status = 200;
	run_until(&w, delivered, "the page");
	at(&w, 2 * MIN, 100);
	run_until(&w, delivered, "the resolution");
	ck_assert_uint_eq(w.rv.n, 2);
	ck_assert_str_eq(w.rv.reqs[0].token, "old");
	ck_assert_str_eq(w.rv.reqs[1].token, "new");
	world_free(&w);
}
END_TEST

static const char cluster[] =
    "{ \"name\": \"am\", \"type\": \"alertmanager\","
    "  \"urls\": [ \"http://127.0.0.1:@PORT@/am1\","
    "    \"http://127.0.0.1:@PORT@/am2\" ],"
    "  \"repeat_interval\": \"1h\", \"rules\": [\"latency\"] @MORE@ }";

static bool
am_split(struct world *w)
{
	struct notifier_view v = view(w, 0);

	return v.sent == 1 && v.failed == 1;
}

/*
 * Every member of an Alertmanager cluster hears every alert, each from
 * its own outbox: one member down neither blocks nor is skipped.
 */
START_TEST(test_alertmanager_members_are_independent)
{
	struct world w;
	const cJSON *a, *l;
	cJSON *o;
	size_t ok = 0;

	world_init(&w, cluster, NULL);
	w.rv.fail_path = "/am1";
	at(&w, 1 * MIN, 1500);
	run_until(&w, am_split, "one member's answer and the other's 503");
	ck_assert_uint_eq(view(&w, 0).queued, 1);
	ck_assert_uint_eq(w.rv.n, 2);
	for (size_t i = 0; i < w.rv.n; i++)
		ok += w.rv.reqs[i].status == 200 &&
		    strncmp(w.rv.reqs[i].path, "/am2", 4) == 0;
	ck_assert_uint_eq(ok, 1);
	ck_assert_str_eq(w.rv.reqs[0].body, w.rv.reqs[1].body);
	o = body_json(&w.rv.reqs[0]);
	ck_assert(cJSON_IsArray(o));
	ck_assert_int_eq(cJSON_GetArraySize(o), 1);
	a = cJSON_GetArrayItem(o, 0);
	l = cJSON_GetObjectItemCaseSensitive(a, "labels");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(l,
	    "alertname")->valuestring, "latency");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(l,
	    "severity")->valuestring, "critical");
	cJSON_Delete(o);
	/* The member comes back: its retry delivers the same batch. */
	w.rv.fail_path = NULL;
	run_until(&w, delivered, "the retry to the member that was down");
	ck_assert_uint_eq(w.rv.n, 3);
	ck_assert_int_eq(strncmp(w.rv.reqs[2].path, "/am1", 4), 0);
	ck_assert_str_eq(w.rv.reqs[2].body, w.rv.reqs[0].body);
	ck_assert_uint_eq(view(&w, 0).sent, 2);
	world_free(&w);
}
END_TEST

static const char hook_and_am[] =
    "{ \"name\": \"hook\", \"type\": \"webhook\","
    "  \"url\": \"http://127.0.0.1:@PORT@/hook\" @MORE@ },"
    "{ \"name\": \"am\", \"type\": \"alertmanager\","
    "  \"url\": \"http://127.0.0.1:@PORT@/am\", \"repeat_interval\": \"1h\" }";

/* A release verdict goes to everyone; Alertmanager hears no pass. */
START_TEST(test_deploy_verdicts)
{
	struct world w;
	size_t hooks = 0, ams = 0;

	world_init(&w, hook_and_am, NULL);
	notifier_deploy(w.nt, 7, "1.2.3", "pass", "all checks passed", true);
	notifier_deploy(w.nt, 8, "1.2.4", "fail", "error rate", false);
	run_until(&w, delivered, "the verdicts");
	for (size_t i = 0; i < w.rv.n; i++) {
		cJSON *o = body_json(&w.rv.reqs[i]);

		if (strcmp(w.rv.reqs[i].path, "/hook") == 0) {
			static const char *const verdicts[] = { "pass", "fail" };

			ck_assert_uint_lt(hooks, 2);
			ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o,
			    "kind")->valuestring, "deploy_verdict");
			ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o,
			    "verdict")->valuestring, verdicts[hooks]);
			hooks++;
		} else {
			ck_assert(cJSON_IsArray(o));
			ams++;
		}
		cJSON_Delete(o);
	}
	ck_assert_uint_eq(hooks, 2);
	ck_assert_uint_eq(ams, 1);
	world_free(&w);
}
END_TEST

/* The deploy the notifier reads: a document the test rewrites. */
struct fake_deploy {
	unsigned nstages;
	bool open;
};

static cJSON *
fake_deploy_doc(void *arg)
{
	const struct fake_deploy *f = arg;
	cJSON *o = cJSON_CreateObject(), *st, *g;

	cJSON_AddNumberToObject(o, "id", 1);
	cJSON_AddStringToObject(o, "version", "2.0.0");
	cJSON_AddBoolToObject(o, "open", f->open);
	cJSON_AddStringToObject(o, "begun", "2023-11-14T22:13:20.000Z");
	st = cJSON_AddArrayToObject(o, "stages");
	for (unsigned i = 0; i < f->nstages; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "time", "2023-11-14T22:15:00.000Z");
		cJSON_AddNumberToObject(e, "weight", 10.0 * (i + 1));
		cJSON_AddItemToArray(st, e);
	}
	g = cJSON_AddObjectToObject(o, "gate");
	cJSON_AddStringToObject(g, "now", "pass");
	cJSON_AddStringToObject(g, "now_reason", "every check within");
	g = cJSON_AddObjectToObject(o, "verdict");
	cJSON_AddStringToObject(g, "final", "pass");
	cJSON_AddStringToObject(g, "final_reason", "every check passed");
	cJSON_AddArrayToObject(o, "checks");
	return o;
}

static bool
four_waiting(struct world *w)
{
	return queued(w) == 5 && w->rv.nheld == 1;
}

/*
 * A deploy update is not held back by alert notices waiting for the same
 * URL: it goes behind the one in flight and the deploy updates queued
 * before it, ahead of the alerts; each kind keeps its own order.
 */
START_TEST(test_deploy_updates_overtake_waiting_alerts)
{
	struct world w;
	struct fake_deploy f = { 0, true };
	char got[512];

	world_init(&w, hook, ", \"deploys\": true, \"progress_interval\": "
	    "\"1h\"");
	w.rv.status = 0;
	at(&w, 1 * MIN, 1500);
	run_until(&w, one_held, "the first alert in flight");
	at(&w, 2 * MIN, 700);
	at(&w, 3 * MIN, 100);
	notifier_set_deploy_source(w.nt, fake_deploy_doc, &f);
	event_base_loop(w.base, EVLOOP_NONBLOCK);
	f.nstages = 1;
	at(&w, 4 * MIN, NAN);
	run_until(&w, four_waiting, "two alerts and two deploy updates queued");
	for (int k = 0; k < 5; k++) {
		run_until(&w, one_held, "the next notice");
		release(&w.rv, 200);
	}
	run_until(&w, delivered, "the last answer");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "firing/critical deploy_begin deploy_step "
	    "deescalated/warning resolved");
	/* The window ends: the summary, and nothing more after it. */
	f.open = false;
	w.rv.status = 200;
	at(&w, 5 * MIN, NAN);
	run_until(&w, delivered, "the summary");
	at(&w, 3 * H, NAN);
	run_until(&w, delivered, "nothing");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "deploy_end");
	world_free(&w);
}
END_TEST

/*
 * What was told of a deploy, and a deploy update still queued, survive a
 * restart: the begin is neither lost nor told twice, and the end comes.
 */
START_TEST(test_deploy_talk_survives_restart)
{
	struct world w;
	struct fake_deploy f = { 1, true };
	cJSON *saved;
	char got[256];

	world_init(&w, hook, ", \"deploys\": true, \"progress_interval\": "
	    "\"1h\"");
	w.rv.status = 503;
	notifier_set_deploy_source(w.nt, fake_deploy_doc, &f);
	at(&w, 1 * MIN, NAN);
	run_until(&w, failed_once, "the first attempt");
	/* begin (failed, waiting) and step (queued): both saved. */
	ck_assert_uint_eq(view(&w, 0).queued, 2);
	saved = notifier_save(w.nt);
	restart(&w, saved);
	cJSON_Delete(saved);
	w.seen = w.rv.n;
	w.rv.status = 200;
	notifier_set_deploy_source(w.nt, fake_deploy_doc, &f);
	at(&w, 2 * MIN, NAN);
	run_until(&w, delivered, "the saved updates");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "deploy_begin deploy_step");
	f.open = false;
	at(&w, 3 * MIN, NAN);
	run_until(&w, delivered, "the summary");
	news(&w, got, sizeof(got));
	ck_assert_str_eq(got, "deploy_end");
	world_free(&w);
}
END_TEST

static bool
answered(struct world *w)
{
	struct notifier_view v = view(w, 0);

	return v.sent + v.failed > 0;
}

/*
 * A receiver that takes the notice (2xx) and answers at length: vigild
 * stops reading past its cap, but the notice was delivered. Counted as a
 * failure, it would be sent again at every retry, forever, and every
 * notice queued behind it would wait forever too. A long refusal is
 * still a refusal.
 */
START_TEST(test_long_answer)
{
	/* _i: 0 the receiver takes it, 1 it refuses. */
	struct world w;
	struct notifier_view v;

	world_init(&w, hook, NULL);
	w.rv.big_answer = 256 * 1024;
	w.rv.status = _i == 0 ? 200 : 503;
	at(&w, 1 * MIN, 1500);
	run_until(&w, answered, "the answer");
	v = view(&w, 0);
	ck_assert_uint_eq(w.rv.n, 1);
	if (_i == 0) {
		ck_assert_msg(v.failed == 0, "a 2xx with a long body counted "
		    "as failed: %s", v.last_error);
		ck_assert_uint_eq(v.sent, 1);
		ck_assert_uint_eq(v.queued, 0);
	} else {
		ck_assert_uint_eq(v.failed, 1);
		ck_assert_uint_eq(v.sent, 0);
		ck_assert_uint_eq(v.queued, 1);
		ck_assert_str_eq(v.last_error, "HTTP 503");
	}
	world_free(&w);
}
END_TEST

Suite *
notifier_suite(void)
{
	Suite *s = suite_create("notifier");
	TCase *tc = tcase_create("delivery");

	tcase_add_loop_test(tc, test_scenario, 0,
	    (int)(sizeof(scenarios) / sizeof(scenarios[0])));
	tcase_add_test(tc, test_maintenance_window_holds);
	tcase_add_test(tc, test_down_then_back_with_backoff);
	tcase_add_test(tc, test_refused_then_back);
	tcase_add_test(tc, test_order_kept_while_down);
	tcase_add_loop_test(tc, test_queue_bounded, 0, 2);
	tcase_add_test(tc, test_outbox_survives_restart);
	tcase_add_test(tc, test_told_survives_restart);
	tcase_add_test(tc, test_queue_and_delivery_are_told);
	tcase_add_test(tc, test_reload_keeps_the_queue);
	tcase_add_test(tc, test_reload_in_flight_takes_new_headers);
	tcase_add_test(tc, test_alertmanager_members_are_independent);
	tcase_add_test(tc, test_deploy_verdicts);
	tcase_add_test(tc, test_deploy_updates_overtake_waiting_alerts);
	tcase_add_test(tc, test_deploy_talk_survives_restart);
	tcase_add_loop_test(tc, test_long_answer, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
