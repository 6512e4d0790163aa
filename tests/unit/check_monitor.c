/*
 * monitor: how probe runs are scheduled and what follows each one, with
 * real HTTP probes against a libevent server on an ephemeral 127.0.0.1
 * port in the test's own loop. The schedule runs on the real monotonic
 * clock with small intervals (100 ms); the wall clock is fake
 * (clock_fake), one second further at every run, so samples, rule
 * transitions and the start-failure window are on a clock the test owns.
 *
 * Machines running this are shared and noisy: every assertion is on
 * counts and order -- which runs happened, in what order, with what
 * result -- never on how long anything took.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "base/clock.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/monitor.h"
#include "engine/rules.h"
#include "engine/ruleset.h"
#include "probe/probe.h"
#include "suites.h"

#define S	1000
#define T0	1700000000000LL

#define NPROBES		4
#define MAX_SCRIPT	16
#define MAX_HELD	8

/* The probes' target: /p<i> answers probe i. */
struct target {
	struct evhttp *http;
	unsigned port;
	int script[NPROBES][MAX_SCRIPT];	/* answers in turn; 0: 200 */
	bool hold[NPROBES];	/* keep probe i's requests unanswered */
	size_t n[NPROBES];	/* requests per probe */
	char order[64];		/* probe indexes in arrival order */
	struct evhttp_request *held[MAX_HELD];
	size_t nheld, max_held;
};

struct mworld {
	struct event_base *base;
	struct target tg;
	struct monitor *m;
	int64_t wall;
	bool wall_stands;	/* runs do not move the wall clock */
	char runs[512];		/* what the run listener saw, in order */
	char events[512];	/* run and alert listeners, interleaved */
};

static void
append(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf);

	ck_assert_uint_lt(used + strlen(s) + 2, len);
	snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "", s);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct target *tg = arg;
	const char *uri = evhttp_request_get_uri(req);
	unsigned i = uri[0] == '/' && uri[1] == 'p' ? (unsigned)(uri[2] - '0') :
	    NPROBES;
	size_t k;
	int status;

	ck_assert_uint_lt(i, NPROBES);
	k = tg->n[i]++;
	if (strlen(tg->order) + 1 < sizeof(tg->order))
		tg->order[strlen(tg->order)] = (char)('0' + i);
	if (tg->hold[i]) {
		ck_assert_uint_lt(tg->nheld, MAX_HELD);
		tg->held[tg->nheld++] = req;
		if (tg->nheld > tg->max_held)
			tg->max_held = tg->nheld;
		return;
	}
	status = k < MAX_SCRIPT && tg->script[i][k] != 0 ? tg->script[i][k] :
	    200;
	evhttp_send_reply(req, status, status < 300 ? "OK" : "Unavailable",
	    NULL);
}

/* Answers every held request. */
static void
release_all(struct target *tg, int status)
{
	for (size_t i = 0; i < tg->nheld; i++)
		evhttp_send_reply(tg->held[i], status, "OK", NULL);
	tg->nheld = 0;
}

static void
target_start(struct target *tg, struct event_base *base)
{
	struct evhttp_bound_socket *h;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);

	memset(tg, 0, sizeof(*tg));
	tg->http = evhttp_new(base);
	ck_assert_ptr_nonnull(tg->http);
	evhttp_set_gencb(tg->http, on_request, tg);
	h = evhttp_bind_socket_with_handle(tg->http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(h),
	    (struct sockaddr *)&sa, &salen), 0);
	tg->port = ntohs(sa.sin_port);
}

/* Real time, for the safety deadline only. */
static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct probe_view
pview(const struct mworld *w, size_t i)
{
	struct probe_view v;

	ck_assert(monitor_probe_view(w->m, i, &v));
	return v;
}

typedef bool (*pred_fn)(struct mworld *w);

/* Runs the loop until pred holds; the deadline only catches a hang. */
static void
run_until(struct mworld *w, pred_fn pred, const char *what)
{
	int64_t deadline = real_ms() + 20 * S;

	while (!pred(w)) {
		ck_assert_msg(real_ms() < deadline, "gave up waiting for %s",
		    what);
		event_base_loop(w->base, EVLOOP_ONCE);
	}
}

/*
 * Runs the loop for ms of real time: long enough for several of the
 * probes' 100 ms slots, so that something that should not happen would
 * have had its chances. What is asserted after it holds however slow the
 * machine is.
 */
static void
run_for(struct mworld *w, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000 * 1000) };

	event_base_loopexit(w->base, &tv);
	event_base_dispatch(w->base);
}

/* After each run, its rules evaluated: what the state and rule say. */
static void
on_run(size_t probe, void *arg)
{
	struct mworld *w = arg;
	struct probe_view v = pview(w, probe);
	const struct ruleset *rs = monitor_rules(w->m);
	char buf[96];

	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule_cfg *rc = ruleset_cfg(rs, i);

		if (rc->implicit && rc->probe == probe)
			snprintf(buf, sizeof(buf), "%s/%s",
			    probe_state_name(v.state),
			    rule_state_name(ruleset_status(rs, i)->state));
	}
	append(w->runs, sizeof(w->runs), buf);
	snprintf(buf, sizeof(buf), "run:%zu", probe);
	append(w->events, sizeof(w->events), buf);
	/* The next run starts a second later on the wall clock. */
	if (!w->wall_stands)
		w->wall += S;
}

static void
on_alert(const struct alert_event *e, void *arg)
{
	struct mworld *w = arg;
	char buf[96];

	/* Pages and resolutions: whether a rule's first evaluation (unknown
	 * to ok) comes from a run or the monitor's tick is a race. */
	if (e->ev.kind != RULE_EV_TRANSITION || (e->ev.to != RULE_FIRING &&
	    e->ev.to != RULE_RESOLVED))
		return;
	snprintf(buf, sizeof(buf), "%s:%s", e->rule->name,
	    rule_state_name(e->ev.to));
	append(w->events, sizeof(w->events), buf);
}

/* tmpl with @PORT@ filled in (a format string would go unchecked). */
static struct config *
parse(const char *tmpl, unsigned port)
{
	char text[4096], piece[16];
	struct config_errors errs = { 0 };
	struct config *cfg;
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; ) {
		const char *add = piece;
		size_t n;

		if (strncmp(p, "@PORT@", 6) == 0) {
			snprintf(piece, sizeof(piece), "%u", port);
			p += 6;
		} else {
			piece[0] = *p++;
			piece[1] = '\0';
		}
		n = strlen(add);
		ck_assert_uint_lt(o + n, sizeof(text));
		memcpy(text + o, add, n + 1);
		o += n;
	}
	cfg = config_parse("monitor.json", text, o, &errs);
	ck_assert_msg(cfg != NULL, "config: %s", errs.n > 0 ? errs.v[0].msg :
	    "?");
	config_errors_clear(&errs);
	return cfg;
}

static void
world_start(struct mworld *w)
{
	memset(w, 0, sizeof(*w));
	w->wall = T0;
	clock_fake(&w->wall, NULL);
	w->base = event_base_new();
	ck_assert_ptr_nonnull(w->base);
	target_start(&w->tg, w->base);
}

static void
world_monitor(struct mworld *w, struct config *cfg)
{
	char err[256];

	w->m = monitor_new(w->base, cfg, err, sizeof(err));
	ck_assert_msg(w->m != NULL, "monitor: %s", err);
	monitor_set_run_listener(w->m, on_run, w);
	monitor_set_alert_listener(w->m, on_alert, w);
}

static void
world_init(struct mworld *w, const char *tmpl)
{
	world_start(w);
	world_monitor(w, parse(tmpl, w->tg.port));
}

static void
world_free(struct mworld *w)
{
	monitor_free(w->m);
	/* Held requests belong to their connections: evhttp frees them. */
	evhttp_free(w->tg.http);
	event_base_free(w->base);
	clock_fake(NULL, NULL);
}

static uint64_t
total_runs(const struct mworld *w)
{
	struct monitor_info mi;

	monitor_info(w->m, &mi);
	return mi.runs;
}

static size_t want_runs;

static bool
enough_runs(struct mworld *w)
{
	return total_runs(w) >= want_runs;
}

static bool
three_runs(struct mworld *w)
{
	return total_runs(w) >= 3;
}

/*
 * First runs are spread over the first interval in config order: the
 * target hears the probes in that order.
 */
START_TEST(test_first_runs_in_config_order)
{
	static const char cfg[] =
	    "{ \"probes\": ["
	    "  { \"name\": \"a\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"1s\" },"
	    "  { \"name\": \"b\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p1\", \"interval\": \"1s\" },"
	    "  { \"name\": \"c\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p2\", \"interval\": \"1s\" }"
	    "] }";
	struct mworld w;

	world_init(&w, cfg);
	run_until(&w, three_runs, "three runs");
	ck_assert_int_eq(strncmp(w.tg.order, "012", 3), 0);
	ck_assert_str_eq(w.events, "run:0 run:1 run:2");
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(pview(&w, i).runs, 1);
	world_free(&w);
}
END_TEST

static const char one_probe[] =
    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"100ms\","
    "  \"timeout\": \"10s\" } ] }";

static bool
three_skipped(struct mworld *w)
{
	return pview(w, 0).skipped >= 3;
}

static bool
one_held(struct mworld *w)
{
	return w->tg.nheld == 1;
}

/*
 * A run still in flight when its next slots come: the slots are skipped
 * and counted, never a second run at once; once it ends, the probe runs
 * on its interval again, one run at a time.
 */
START_TEST(test_never_two_runs_at_once)
{
	struct mworld w;
	struct probe_view v;

	world_start(&w);
	w.tg.hold[0] = true;
	world_monitor(&w, parse(one_probe, w.tg.port));
	run_until(&w, three_skipped, "three slots to find the run in flight");
	v = pview(&w, 0);
	ck_assert_uint_eq(w.tg.n[0], 1);
	ck_assert(v.running);
	ck_assert_uint_eq(v.runs, 0);
	ck_assert_ptr_null(v.last);
	/* Slow but answering: each run is held until the test lets it go. */
	for (want_runs = 1; want_runs <= 3; want_runs++) {
		run_until(&w, one_held, "the next run");
		release_all(&w.tg, 200);
		run_until(&w, enough_runs, "the run's end");
	}
	ck_assert_uint_eq(w.tg.max_held, 1);
	ck_assert_uint_le(w.tg.n[0], 4);
	ck_assert_uint_ge(pview(&w, 0).skipped, 3);
	ck_assert_uint_eq(pview(&w, 0).failures, 0);
	world_free(&w);
}
END_TEST

/* The debounce: what the target answers, run by run, and after each run
 * the probe's state and its <probe>_down rule's (evaluated by then). */
struct debounce_case {
	const char *name;
	unsigned fail_after, recover_after;
	int answers[MAX_SCRIPT];	/* 0 ends */
	const char *want;
};

static const struct debounce_case debounce_cases[] = {
	{ "plain", 1, 1, { 503, 200, 503, 200 },
	  "down/firing up/resolved down/firing up/resolved" },
	{ "a first good run decides at once", 2, 2,
	  { 200, 503, 503, 200, 200 },
	  "up/ok up/ok down/firing down/firing up/resolved" },
	{ "a first failure waits for fail_after", 2, 2,
	  { 503, 503, 200, 200 },
	  "pending/unknown down/firing down/firing up/resolved" },
	{ "failures must be in a row", 3, 1,
	  { 503, 503, 200, 503, 503, 200, 503, 503, 503 },
	  "pending/unknown pending/unknown up/ok up/ok up/ok up/ok up/ok "
	  "up/ok down/firing" },
	{ "successes must be in a row", 1, 3,
	  { 503, 200, 200, 503, 200, 200, 200 },
	  "down/firing down/firing down/firing down/firing down/firing "
	  "down/firing up/resolved" },
};

START_TEST(test_debounce)
{
	const struct debounce_case *c = &debounce_cases[_i];
	char cfg[512];
	struct mworld w;
	size_t n = 0;

	snprintf(cfg, sizeof(cfg), "{ \"probes\": [ { \"name\": \"p\", "
	    "\"type\": \"http\", \"url\": \"http://127.0.0.1:@PORT@/p0\", "
	    "\"interval\": \"100ms\", \"timeout\": \"10s\", "
	    "\"fail_after\": %u, \"recover_after\": %u } ] }", c->fail_after,
	    c->recover_after);
	world_start(&w);
	while (n < MAX_SCRIPT && c->answers[n] != 0) {
		w.tg.script[0][n] = c->answers[n];
		n++;
	}
	world_monitor(&w, parse(cfg, w.tg.port));
	want_runs = n;
	run_until(&w, enough_runs, "the scripted runs");
	/* The listener may have seen one more run than the script. */
	ck_assert_msg(strncmp(w.runs, c->want, strlen(c->want)) == 0,
	    "%s: got \"%s\", want \"%s\"", c->name, w.runs, c->want);
	world_free(&w);
}
END_TEST

/*
 * A target that never answers: each run ends at its timeout, as a
 * failure, and the schedule goes on.
 */
START_TEST(test_hung_run_ends_at_its_timeout)
{
	static const char cfg[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"200ms\","
	    "  \"timeout\": \"50ms\" } ] }";
	struct mworld w;
	struct probe_view v;

	world_start(&w);
	w.tg.hold[0] = true;
	world_monitor(&w, parse(cfg, w.tg.port));
	want_runs = 2;
	run_until(&w, enough_runs, "two runs to time out");
	v = pview(&w, 0);
	ck_assert_uint_ge(v.runs, 2);
	ck_assert_uint_eq(v.failures, v.runs);
	ck_assert_ptr_nonnull(v.last);
	ck_assert_int_eq(v.last->fail, PROBE_FAIL_TIMEOUT);
	ck_assert_int_eq(v.state, PROBE_STATE_DOWN);
	ck_assert_uint_ge(w.tg.n[0], v.runs);
	ck_assert_int_eq(strncmp(w.runs, "down/firing down/firing", 23), 0);
	/* Curl gave up on them; evhttp frees them with their connections. */
	w.tg.nheld = 0;
	world_free(&w);
}
END_TEST

/*
 * The rules fed by a run are evaluated before the run listener hears of
 * it (the release gate judges there): the alert comes first.
 */
START_TEST(test_rules_before_run_listener)
{
	static const char cfg[] =
	    "{ \"probes\": ["
	    "  { \"name\": \"a\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"1h\","
	    "    \"retry_interval\": \"100ms\", \"fail_after\": 1 },"
	    "  { \"name\": \"b\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p1\", \"interval\": \"1h\" }"
	    "] }";
	struct mworld w;

	world_start(&w);
	w.tg.script[0][0] = 503;
	world_monitor(&w, parse(cfg, w.tg.port));
	/* a fails, is retried after 100 ms and is fine; b runs once. */
	want_runs = 3;
	run_until(&w, enough_runs, "three runs");
	ck_assert_str_eq(w.events, "a_down:firing run:0 a_down:resolved run:0 "
	    "run:1");
	world_free(&w);
}
END_TEST

/*
 * While failing, a probe runs at its retry_interval; once good, at its
 * interval again (an hour here: no further run).
 */
START_TEST(test_retry_interval_while_failing)
{
	static const char cfg[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"1h\","
	    "  \"retry_interval\": \"100ms\", \"fail_after\": 2 } ] }";
	struct mworld w;
	struct probe_view v;

	world_start(&w);
	w.tg.script[0][0] = 503;
	w.tg.script[0][1] = 503;
	world_monitor(&w, parse(cfg, w.tg.port));
	want_runs = 3;
	run_until(&w, enough_runs, "two retries");
	ck_assert_str_eq(w.runs, "pending/unknown down/firing up/resolved");
	run_for(&w, 600);
	v = pview(&w, 0);
	ck_assert_uint_eq(v.runs, 3);
	ck_assert_uint_eq(w.tg.n[0], 3);
	ck_assert_uint_eq(v.failures, 2);
	ck_assert_uint_eq(v.consecutive_successes, 1);
	ck_assert_int_eq(v.state, PROBE_STATE_UP);
	world_free(&w);
}
END_TEST

static bool
p0_held_and_p1_ran(struct mworld *w)
{
	return w->tg.nheld == 1 && pview(w, 1).runs >= 1;
}

static bool
both_ran(struct mworld *w)
{
	return pview(w, 0).runs >= 1 && pview(w, 1).runs >= 2;
}

/*
 * A reload keeps an unchanged probe's runtime, its run in flight
 * included (it ends and is counted), starts an added one, and restarts a
 * changed one from scratch.
 */
START_TEST(test_reload_keeps_unchanged_probes)
{
	static const char before[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"100ms\","
	    "  \"timeout\": \"10s\" } ] }";
	static const char added[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"100ms\","
	    "  \"timeout\": \"10s\" },"
	    "  { \"name\": \"q\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p1\", \"interval\": \"100ms\" }"
	    "] }";
	static const char changed[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"100ms\","
	    "  \"timeout\": \"9s\" },"
	    "  { \"name\": \"q\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p1\", \"interval\": \"100ms\" }"
	    "] }";
	struct mworld w;
	struct monitor_info mi;
	uint64_t skipped, q_runs;

	world_start(&w);
	w.tg.hold[0] = true;
	world_monitor(&w, parse(before, w.tg.port));
	run_until(&w, three_skipped, "the run in flight to block slots");
	skipped = pview(&w, 0).skipped;
	ck_assert_int_eq(monitor_reload(w.m, parse(added, w.tg.port)), 0);
	ck_assert_uint_eq(monitor_nprobes(w.m), 2);
	ck_assert(pview(&w, 0).running);
	ck_assert_uint_ge(pview(&w, 0).skipped, skipped);
	run_until(&w, p0_held_and_p1_ran, "the added probe's run");
	/* Still the one run of before the reload. */
	ck_assert_uint_eq(w.tg.n[0], 1);
	w.tg.hold[0] = false;
	release_all(&w.tg, 200);
	run_until(&w, both_ran, "the kept run's end");
	ck_assert_uint_eq(pview(&w, 0).failures, 0);
	q_runs = pview(&w, 1).runs;
	ck_assert_int_eq(monitor_reload(w.m, parse(changed, w.tg.port)), 0);
	ck_assert_uint_eq(pview(&w, 0).runs, 0);
	ck_assert_ptr_null(pview(&w, 0).last);
	ck_assert_uint_ge(pview(&w, 1).runs, q_runs);
	monitor_info(w.m, &mi);
	ck_assert_uint_eq(mi.reloads, 2);
	world_free(&w);
}
END_TEST

/*
 * Every run ends in history, and the implicit rule's firing and resolve
 * in its incident log; a probe removed by a reload leaves it.
 */
START_TEST(test_history_records_runs_and_incidents)
{
	static const char cfg[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"1h\","
	    "  \"retry_interval\": \"100ms\", \"fail_after\": 2 },"
	    "  { \"name\": \"q\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p1\", \"interval\": \"1h\" }"
	    "] }";
	static const char less[] =
	    "{ \"probes\": [ { \"name\": \"p\", \"type\": \"http\","
	    "  \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"1h\","
	    "  \"retry_interval\": \"100ms\", \"fail_after\": 2 } ] }";
	struct mworld w;
	struct history_incident in[2];
	struct history_point pt[1];
	struct history_stats hs;
	const struct history *h;
	double pct;

	world_start(&w);
	w.tg.script[0][0] = 503;
	w.tg.script[0][1] = 503;
	world_monitor(&w, parse(cfg, w.tg.port));
	want_runs = 4;
	run_until(&w, enough_runs, "p's two retries and q's run");
	h = monitor_history(w.m);
	ck_assert(history_uptime(h, "p", w.wall, HISTORY_DAY_MS, &pct));
	ck_assert_double_eq_tol(pct, 100.0 / 3, 1e-9);
	ck_assert(history_uptime(h, "q", w.wall, HISTORY_DAY_MS, &pct));
	ck_assert_double_eq_tol(pct, 100, 1e-9);
	ck_assert_uint_eq(history_range(h, HISTORY_PROBE, "p", w.wall -
	    HISTORY_MINUTE_MS, w.wall + 1, HISTORY_MINUTE_MS * 2, pt, 1), 1);
	ck_assert_uint_eq(pt[0].ok + pt[0].failed, pview(&w, 0).runs);
	ck_assert_uint_eq(history_incidents(h, 0, in, 2), 1);
	ck_assert_str_eq(in[0].rule, "p_down");
	ck_assert_str_eq(in[0].severity, "critical");
	ck_assert_int_ne(in[0].end, 0);
	history_stats(h, &hs);
	ck_assert_uint_eq(hs.probes, 2);
	ck_assert_uint_eq(hs.rules, 2);
	ck_assert(!hs.persistent);
	ck_assert_int_eq(monitor_reload(w.m, parse(less, w.tg.port)), 0);
	history_stats(monitor_history(w.m), &hs);
	ck_assert_uint_eq(hs.probes, 1);
	ck_assert_uint_eq(hs.rules, 1);
	ck_assert(!history_uptime(monitor_history(w.m), "q", w.wall,
	    HISTORY_DAY_MS, &pct));
	world_free(&w);
}
END_TEST

static bool
c_held_twice(struct mworld *w)
{
	return pview(w, 2).start_failures >= 2;
}

static uint64_t c_runs;

static bool
all_ran_after_release(struct mworld *w)
{
	return pview(w, 0).runs == 1 && pview(w, 1).runs == 1 &&
	    pview(w, 2).runs >= c_runs + 2;
}

/*
 * At the descriptor bound (RLIMIT_NOFILE, read when the monitor starts)
 * a slot that would exceed the runs allowed at once is held: counted as
 * a start failure, tried again at the probe's next slot, and vigild says
 * it is degraded for a minute after the last one (on the wall clock).
 */
START_TEST(test_runs_held_at_the_descriptor_bound)
{
	static const char cfg[] =
	    "{ \"probes\": ["
	    "  { \"name\": \"a\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p0\", \"interval\": \"1h\","
	    "    \"timeout\": \"10s\" },"
	    "  { \"name\": \"b\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p1\", \"interval\": \"1h\","
	    "    \"timeout\": \"10s\" },"
	    "  { \"name\": \"c\", \"type\": \"http\","
	    "    \"url\": \"http://127.0.0.1:@PORT@/p2\", \"interval\": \"100ms\" }"
	    "] }";
	struct mworld w;
	struct config *c;
	struct rlimit old, low;
	char err[256], why[256];
	uint64_t held;
	int rc;

	world_start(&w);
	w.wall_stands = true;
	w.tg.hold[0] = w.tg.hold[1] = true;
	c = parse(cfg, w.tg.port);
	/*
	 * 20 descriptors: half kept back for vigild itself, a quarter of
	 * the rest for idle connections, 3 per run: 2 runs at once. Only
	 * while the monitor starts (it reads the limit then), so the rest
	 * of the test, and of the suite, has its usual room.
	 */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 20;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	w.m = monitor_new(w.base, c, err, sizeof(err));
	rc = setrlimit(RLIMIT_NOFILE, &old);
	ck_assert_msg(w.m != NULL, "monitor: %s", err);
	ck_assert_int_eq(rc, 0);
	monitor_set_run_listener(w.m, on_run, &w);
	ck_assert(!monitor_degraded(w.m, why, sizeof(why)));
	/* a and b hang; c, every 100 ms, finds no room, slot after slot. */
	run_until(&w, c_held_twice, "c's runs to be held");
	ck_assert(pview(&w, 0).running);
	ck_assert(pview(&w, 1).running);
	ck_assert(!pview(&w, 2).running);
	ck_assert(monitor_degraded(w.m, why, sizeof(why)));
	ck_assert_msg(strstr(why, "held back") != NULL &&
	    strstr(why, "allows 2 runs at once") != NULL, "why: %s", why);
	/* The hanging runs end: c runs again, and is held no more. */
	c_runs = pview(&w, 2).runs;
	w.tg.hold[0] = w.tg.hold[1] = false;
	release_all(&w.tg, 200);
	run_until(&w, all_ran_after_release, "c's runs to resume");
	held = pview(&w, 2).start_failures;
	run_for(&w, 300);
	ck_assert_uint_eq(pview(&w, 2).start_failures, held);
	ck_assert_uint_eq(pview(&w, 0).start_failures, 0);
	ck_assert_uint_eq(pview(&w, 1).start_failures, 0);
	/* Degraded for a minute after the last held start, then not. */
	w.wall = T0 + 59 * S;
	ck_assert(monitor_degraded(w.m, why, sizeof(why)));
	w.wall = T0 + 60 * S;
	ck_assert_msg(!monitor_degraded(w.m, why, sizeof(why)), "why: %s",
	    why);
	world_free(&w);
}
END_TEST

Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("scheduling");

	tcase_add_test(tc, test_first_runs_in_config_order);
	tcase_add_test(tc, test_never_two_runs_at_once);
	tcase_add_loop_test(tc, test_debounce, 0,
	    (int)(sizeof(debounce_cases) / sizeof(debounce_cases[0])));
	tcase_add_test(tc, test_hung_run_ends_at_its_timeout);
	tcase_add_test(tc, test_rules_before_run_listener);
	tcase_add_test(tc, test_retry_interval_while_failing);
	tcase_add_test(tc, test_reload_keeps_unchanged_probes);
	tcase_add_test(tc, test_history_records_runs_and_incidents);
	tcase_add_test(tc, test_runs_held_at_the_descriptor_bound);
	suite_add_tcase(s, tc);
	return s;
}
