/*
 * run_allocs: what one probe run costs the heap in vigil's own code. A
 * monitor polls an HTTP probe (expect.status, expect.keyword, as the
 * benchmark's) against a libevent server on an ephemeral 127.0.0.1 port
 * in the test's own loop, and every block vigil's code allocates between
 * one run's end and the next is counted (alloc_count.h: the linker wraps
 * malloc and its kin in the unit build; libcurl's and libevent's own
 * allocations are theirs and not counted).
 *
 * A window is the loop's work from one run's end (the run listener) to
 * the next: the scheduler's wake-up, the start, the transfer, the end,
 * the samples stored, the rules judged, and the monitor's once-a-second
 * tick when it falls in. Rings in the store grow to their cap by
 * doubling, a few times in a series' life: a window in which the store
 * grew is skipped, as that block is not the run's.
 *
 * No timing is asserted: counts only.
 */
#include <stdbool.h>
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

#include "alloc_count.h"
#include "base/clock.h"
#include "config/config.h"
#include "engine/history.h"
#include "engine/monitor.h"
#include "engine/store.h"
#include "probe/probe.h"
#include "suites.h"

#define S	1000
#define T0	1700000000000LL
#define WARMUP	6
#define RUNS	40
/* Windows that must be counted, however the rings' growth falls. */
#define MIN_COUNTED	20
/*
 * Most blocks vigil's code may allocate in one steady run: none. Before
 * this test there were 16: the result's metric array and a name per
 * metric (twice: the probe's result, then the monitor's copy), the body's
 * buffer, and evcurl's state for the run's socket (made when curl starts
 * watching it and freed when it stops, at every transfer). The result
 * and its copy now keep their blocks, a small body buffer is kept, and
 * evcurl keeps its socket states on a free list.
 */
#define RUN_ALLOCS_MAX	0

struct aworld {
	struct event_base *base;
	struct evhttp *http;
	unsigned port;
	const char *body;	/* what the target answers */
	struct monitor *m;
	int64_t wall;
	size_t runs;
	size_t bytes;		/* the store's and the history's at the last run */
	size_t counted, worst;	/* windows counted, most blocks in one */
	size_t total;
	bool server_failed;
};

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct aworld *w = arg;
	struct evbuffer *b = evbuffer_new();

	/* No ck_assert while counting: Check's own blocks would count. */
	if (b == NULL) {
		w->server_failed = true;
		evhttp_send_reply(req, 500, "Out of memory", NULL);
		return;
	}
	evbuffer_add(b, w->body, strlen(w->body));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* At the end of every run: the window that ends here is closed. */
static void
on_run(size_t probe, void *arg)
{
	struct aworld *w = arg;
	size_t n = alloc_count_end();
	struct history_stats hs;
	size_t bytes;

	/*
	 * A window in which the store's rings or the history's blocks grew
	 * (a new minute's or hour's) is not a steady run: not counted.
	 */
	history_stats(monitor_history(w->m), &hs);
	bytes = store_bytes(monitor_store(w->m)) + hs.bytes;

	(void)probe;
	w->runs++;
	if (w->runs > WARMUP && bytes == w->bytes) {
		w->counted++;
		w->total += n;
		if (n > w->worst)
			w->worst = n;
	}
	w->bytes = bytes;
	w->wall += S;
	alloc_count_begin();
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls url's probe (cfg_tail: its expect and metrics) RUNS times. */
static void
poll_runs(struct aworld *w, const char *body, const char *cfg_tail)
{
	struct evhttp_bound_socket *h;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct config_errors errs = { 0 };
	struct config *cfg;
	char text[1024], err[256];
	int64_t deadline;
	int n;

	memset(w, 0, sizeof(*w));
	w->body = body;
	w->wall = T0;
	clock_fake(&w->wall, NULL);
	w->base = event_base_new();
	ck_assert_ptr_nonnull(w->base);
	w->http = evhttp_new(w->base);
	ck_assert_ptr_nonnull(w->http);
	evhttp_set_gencb(w->http, on_request, w);
	h = evhttp_bind_socket_with_handle(w->http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(h),
	    (struct sockaddr *)&sa, &salen), 0);
	w->port = ntohs(sa.sin_port);
	n = snprintf(text, sizeof(text), "{ \"probes\": [ { \"name\": "
	    "\"api\", \"type\": \"http\", \"url\": \"http://127.0.0.1:%u/"
	    "health\", \"interval\": \"100ms\", %s } ] }", w->port, cfg_tail);
	ck_assert_int_lt(n, (int)sizeof(text));
	cfg = config_parse("run_allocs.json", text, (size_t)n, &errs);
	ck_assert_msg(cfg != NULL, "config: %s", errs.n > 0 ? errs.v[0].msg :
	    "?");
	config_errors_clear(&errs);
	w->m = monitor_new(w->base, cfg, err, sizeof(err));
	ck_assert_msg(w->m != NULL, "monitor: %s", err);
	monitor_set_run_listener(w->m, on_run, w);
	/* The deadline only catches a hang. */
	deadline = real_ms() + 60 * S;
	while (w->runs < RUNS && real_ms() < deadline)
		event_base_loop(w->base, EVLOOP_ONCE);
	alloc_count_end();
	ck_assert_msg(w->runs >= RUNS, "gave up after %zu runs", w->runs);
	ck_assert(!w->server_failed);
	ck_assert_uint_ge(w->counted, MIN_COUNTED);
}

static void
world_free(struct aworld *w)
{
	monitor_free(w->m);
	evhttp_free(w->http);
	event_base_free(w->base);
	clock_fake(NULL, NULL);
}

/*
 * The benchmark's probe: status and keyword. Every run ends up, so the
 * result, its samples and the body all took the steady path.
 */
START_TEST(test_keyword_run)
{
	struct aworld w;
	struct probe_view v;

	poll_runs(&w, "{\"status\":\"ok\"}", "\"expect\": { \"status\": "
	    "[200], \"keyword\": \"\\\"status\\\":\\\"ok\\\"\" }");
	ck_assert(monitor_probe_view(w.m, 0, &v));
	ck_assert_uint_eq(v.failures, 0);
	fprintf(stderr, "run_allocs: keyword: %zu windows, worst %zu, "
	    "total %zu\n", w.counted, w.worst, w.total);
	ck_assert_uint_le(w.worst, RUN_ALLOCS_MAX);
	world_free(&w);
}
END_TEST

/*
 * A JSON body with an expectation and a metric: cJSON builds the whole
 * tree of the body at every run, blocks for its nodes, keys and strings,
 * and that is the only per-run cost beyond the keyword run's: nine
 * blocks for this body of four values (counted with cJSON 1.7.15).
 */
#define JSON_BODY_BLOCKS	9

START_TEST(test_json_run)
{
	struct aworld w;
	struct probe_view v;
	double depth = 0;

	alloc_count_cjson(true);
	poll_runs(&w, "{\"status\":\"ok\",\"queue\":{\"depth\":3}}",
	    "\"expect\": { \"status\": [200], \"json\": { \"/status\": "
	    "\"ok\" } }, \"metrics\": { \"depth\": \"/queue/depth\" }");
	alloc_count_cjson(false);
	ck_assert(monitor_probe_view(w.m, 0, &v));
	ck_assert_uint_eq(v.failures, 0);
	ck_assert(probe_result_get(v.last, "depth", &depth));
	ck_assert(depth == 3);
	fprintf(stderr, "run_allocs: json: %zu windows, worst %zu, "
	    "total %zu\n", w.counted, w.worst, w.total);
	ck_assert_uint_le(w.worst, RUN_ALLOCS_MAX + JSON_BODY_BLOCKS);
	world_free(&w);
}
END_TEST

Suite *
run_allocs_suite(void)
{
	Suite *s = suite_create("run_allocs");
	TCase *tc = tcase_create("steady");

	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, test_keyword_run);
	tcase_add_test(tc, test_json_run);
	suite_add_tcase(s, tc);
	return s;
}
