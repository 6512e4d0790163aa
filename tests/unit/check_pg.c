/* The postgres probe without a server: its configuration section, the
 * arithmetic that turns counters into rates and windowed means, and a
 * name lookup that never answers (the evdns path must time out, cancel
 * and free everything). The query text shown to people: check_pg_norm.c. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <check.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "config/config.h"
#include "probe/pg_plan.h"
#include "probe/pg_stats.h"
#include "probe/probe.h"
#include "suites.h"

static struct config *
parse(const char *text, struct config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return config_parse("t.json", text, strlen(text), errs);
}

/* Asserts text fails with an error at line:col containing want, and that
 * no error message contains never (a password). */
static void
expect_error(const char *text, int line, int col, const char *want,
    const char *never)
{
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	bool found = false;

	ck_assert_ptr_null(cfg);
	for (size_t i = 0; i < errs.n; i++) {
		if (errs.v[i].line == line && errs.v[i].col == col &&
		    strstr(errs.v[i].msg, want) != NULL)
			found = true;
		if (never != NULL)
			ck_assert_ptr_null(strstr(errs.v[i].msg, never));
	}
	if (!found)
		ck_abort_msg("wanted %d:%d \"%s\", first error: %d:%d %s (of "
		    "%zu)", line, col, want, errs.n ? errs.v[0].line : 0,
		    errs.n ? errs.v[0].col : 0, errs.n ? errs.v[0].msg : "",
		    errs.n);
	config_errors_clear(&errs);
}

#define PG_HDR "{\"probes\": [{\"name\": \"db\", \"type\": \"postgres\", "

START_TEST(test_config_valid_full)
{
	const char *text =
	    "{\"probes\": [{\"name\": \"db\", \"type\": \"postgres\",\n"
	    "  \"timeout\": \"3s\",\n"
	    "  \"conninfo\": \"postgresql://vigil:S3cret-pw@db.internal:5433/portal\",\n"
	    "  \"canary\": \"SELECT 1 FROM orders LIMIT 1\",\n"
	    "  \"slow_statement\": \"100ms\", \"statements\": false,\n"
	    "  \"reconnect_max\": \"10s\",\n"
	    "  \"required_indexes\": [\"orders_customer_idx\",\n"
	    "    {\"table\": \"orders\", \"columns\": [\"customer_id\", \"created_at\"]},\n"
	    "    {\"index\": \"Orders_Idx\", \"schema\": \"app\", \"name\": \"orders_idx\"}],\n"
	    "  \"custom_queries\": {\"queue\": \"  select count(*) AS jobs FROM q\",\n"
	    "    \"ages\": \"WITH x AS (SELECT 1) SELECT * FROM x\"}}]}\n";
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	const struct probe_cfg *pc;
	const struct pg_cfg *g;

	ck_assert_msg(cfg != NULL, "errors: %zu first %s", errs.n,
	    errs.n ? errs.v[0].msg : "");
	pc = config_probe(cfg, "db");
	ck_assert_int_eq(pc->type, PROBE_POSTGRES);
	ck_assert_str_eq(probe_type_name(pc->type), "postgres");
	ck_assert_str_eq(pc->target, "db.internal:5433/portal user=vigil");
	ck_assert_ptr_null(strstr(pc->target, "S3cret"));
	g = &pc->pg;
	ck_assert_int_eq(g->statement_timeout_ms, 3000);	/* the timeout */
	ck_assert_str_eq(g->canary, "SELECT 1 FROM orders LIMIT 1");
	ck_assert_int_eq(g->slow_ms, 100);
	ck_assert(!g->statements);
	ck_assert_int_eq(g->reconnect_max_ms, 10000);
	ck_assert_uint_eq(g->nindexes, 3);
	ck_assert_str_eq(g->indexes[0].name, "orders_customer_idx");
	ck_assert_str_eq(g->indexes[0].index, "orders_customer_idx");
	ck_assert_ptr_null(g->indexes[0].table);
	ck_assert_str_eq(g->indexes[1].name, "orders_customer_id_created_at");
	ck_assert_str_eq(g->indexes[1].columns, "customer_id,created_at");
	ck_assert_str_eq(g->indexes[2].name, "orders_idx");
	ck_assert_str_eq(g->indexes[2].schema, "app");
	ck_assert_uint_eq(g->ncustom, 2);
	ck_assert_str_eq(g->custom[0].name, "queue");
	ck_assert(cfg_pg_has_metric(pc, "pool_used_pct"));
	ck_assert(cfg_pg_has_metric(pc, "index_orders_idx_ok"));
	ck_assert(cfg_pg_has_metric(pc, "index_orders_customer_idx_scans_total"));
	ck_assert(cfg_pg_has_metric(pc, "custom_queue_jobs"));
	ck_assert(!cfg_pg_has_metric(pc, "custom_queue_"));
	ck_assert(!cfg_pg_has_metric(pc, "custom_nope_jobs"));
	ck_assert(!cfg_pg_has_metric(pc, "index_nope_ok"));
	ck_assert(!cfg_pg_has_metric(pc, "p95_ms"));
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_config_defaults)
{
	struct config_errors errs;
	struct config *cfg = parse(PG_HDR "\"conninfo\": \"host=/run/pg "
	    "dbname=app user=mon\"}]}", &errs);
	const struct pg_cfg *g;

	ck_assert_ptr_nonnull(cfg);
	g = &cfg->probes[0].pg;
	ck_assert_str_eq(cfg->probes[0].target, "/run/pg:5432/app user=mon");
	ck_assert_int_eq(g->statement_timeout_ms, 10000);
	ck_assert_str_eq(g->canary, "SELECT 1");
	ck_assert_int_eq(g->slow_ms, 250);
	ck_assert(g->statements);
	ck_assert_int_eq(g->reconnect_max_ms, 30000);
	ck_assert_ptr_null(g->password_file);
	config_free(cfg);
	config_errors_clear(&errs);
	/* No conninfo at all: libpq's environment decides. */
	cfg = parse(PG_HDR "\"password_file\": \"/run/credentials/pg\"}]}",
	    &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(cfg->probes[0].pg.conninfo);
	ck_assert_ptr_nonnull(cfg->probes[0].target);
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

START_TEST(test_config_errors)
{
	expect_error(PG_HDR "\"conninf\": \"host=x\"}]}", 1, 48,
	    "unknown key \"conninf\" in a postgres probe (did you mean "
	    "\"conninfo\"?)", NULL);
	/* libpq's URL errors quote the URL: never repeated. */
	expect_error(PG_HDR "\"conninfo\": \"postgresql://u:Pw-X1@[::1/db\"}]}",
	    1, 60, "is not a valid libpq connection string", "Pw-X1");
	expect_error(PG_HDR "\"conninfo\": \"host=x password Pw-X2\"}]}", 1,
	    60, "is not a valid libpq connection string", "Pw-X2");
	expect_error(PG_HDR "\"conninfo\": \"hots=x\"}]}", 1, 60,
	    "invalid connection option \"hots\"", NULL);
	expect_error(PG_HDR "\"conninfo\": \"service=prod\"}]}", 1, 60,
	    "\"service\" is not supported", NULL);
	expect_error(PG_HDR "\"conninfo\": \"host=a,b\"}]}", 1, 60,
	    "a host list needs a matching numeric \"hostaddr\"", NULL);
	expect_error(PG_HDR "\"password_file\": \"/p\", "
	    "\"conninfo\": \"host=a password=Pw-X3\"}]}", 1, 83,
	    "has a password and there is a \"password_file\"", "Pw-X3");
	expect_error(PG_HDR "\"password_file\": \"pw.txt\"}]}", 1, 65,
	    "\"password_file\" must be an absolute path", NULL);
	expect_error(PG_HDR "\"slow_statement\": 5}]}", 1, 66,
	    "\"slow_statement\" must be a duration string", NULL);
	expect_error(PG_HDR "\"statements\": \"yes\"}]}", 1, 62,
	    "\"statements\" must be true or false", NULL);
}
END_TEST

START_TEST(test_config_index_and_custom_errors)
{
	expect_error(PG_HDR "\"required_indexes\": \"x\"}]}", 1, 68,
	    "\"required_indexes\" must be an array", NULL);
	expect_error(PG_HDR "\"required_indexes\": [\"bad name\"]}]}", 1, 69,
	    "must be a plain SQL index name", NULL);
	expect_error(PG_HDR "\"required_indexes\": [{\"columns\": [\"a\"]}]}]}",
	    1, 69, "\"columns\" needs \"table\"", NULL);
	expect_error(PG_HDR "\"required_indexes\": [{\"table\": \"t\"}]}]}",
	    1, 69, "needs \"index\" (its name) or \"table\" and \"columns\"",
	    NULL);
	expect_error(PG_HDR "\"required_indexes\": [{\"index\": \"Mixed_Case\"}]}]}",
	    1, 69, "give this index a \"name\"", NULL);
	expect_error(PG_HDR "\"required_indexes\": [\"a_idx\", \"a_idx\"]}]}",
	    1, 78, "duplicate required index name \"a_idx\"", NULL);
	expect_error(PG_HDR "\"required_indexes\": [{\"index\": \"a\", "
	    "\"tabel\": \"t\"}]}]}", 1, 84,
	    "unknown key \"tabel\" in a required index (did you mean "
	    "\"table\"?)", NULL);
	expect_error(PG_HDR "\"custom_queries\": {\"q\": \"DELETE FROM jobs\"}}]}",
	    1, 72, "must be one SELECT", NULL);
	expect_error(PG_HDR "\"custom_queries\": {\"Bad\": \"SELECT 1\"}}]}",
	    1, 67, "custom query name \"Bad\" must be lower case", NULL);
	expect_error(PG_HDR "\"custom_queries\": {\"q\": 1}}]}", 1, 72,
	    "custom query \"q\" must be an SQL string", NULL);
}
END_TEST

START_TEST(test_describe_conninfo)
{
	char buf[256];

	ck_assert_int_eq(pg_describe_conninfo("postgres://mon:pw@10.0.0.5/app",
	    buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.5:5432/app user=mon");
	ck_assert_int_eq(pg_describe_conninfo("hostaddr=10.0.0.6 port=6432 "
	    "user=u password=secret", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.6:6432/u user=u");
	ck_assert_int_eq(pg_describe_conninfo("host=", buf, sizeof(buf)), 0);
	ck_assert_int_eq(pg_describe_conninfo("nonsense", buf, sizeof(buf)),
	    -1);
}
END_TEST

static struct pg_db_snap
db_snap(double at, double reset, int64_t commits, int64_t hit, int64_t rd)
{
	struct pg_db_snap s = { .valid = true, .at_s = at, .reset_s = reset,
	    .commits = commits, .rollbacks = 1, .blks_hit = hit,
	    .blks_read = rd, .deadlocks = 2, .temp_bytes = 100 };

	return s;
}

START_TEST(test_db_delta)
{
	struct pg_db_snap none = { 0 };
	struct pg_db_snap a = db_snap(100, 50, 1000, 9000, 1000);
	struct pg_db_snap b = db_snap(110, 50, 1500, 9990, 1010);
	struct pg_db_rates r;

	ck_assert_int_eq(pg_db_delta(&none, &a, &r), PG_DELTA_FIRST);
	ck_assert_int_eq(pg_db_delta(&a, &b, &r), PG_DELTA_OK);
	ck_assert_double_eq_tol(r.commits_per_s, 50, 1e-9);
	ck_assert_double_eq_tol(r.rollbacks_per_s, 0, 1e-9);
	/* The interval's ratio (990 of 1000), not the cumulative 90 %. */
	ck_assert(r.has_hit_ratio);
	ck_assert_double_eq_tol(r.cache_hit_ratio_pct, 99.0, 1e-9);
	ck_assert_double_eq_tol(r.deadlocks, 0, 1e-9);
	b.deadlocks = 5;
	b.temp_bytes = 4196;
	ck_assert_int_eq(pg_db_delta(&a, &b, &r), PG_DELTA_OK);
	ck_assert_double_eq_tol(r.deadlocks, 3, 1e-9);
	ck_assert_double_eq_tol(r.temp_bytes, 4096, 1e-9);
	/* No block touched: no ratio at all. */
	b = db_snap(110, 50, 1500, 9000, 1000);
	ck_assert_int_eq(pg_db_delta(&a, &b, &r), PG_DELTA_OK);
	ck_assert(!r.has_hit_ratio);
	/* A reset: stats_reset moved, or a counter went down. */
	b = db_snap(110, 60, 1500, 9990, 1010);
	ck_assert_int_eq(pg_db_delta(&a, &b, &r), PG_DELTA_RESET);
	b = db_snap(110, 50, 10, 9990, 1010);
	ck_assert_int_eq(pg_db_delta(&a, &b, &r), PG_DELTA_RESET);
	b = db_snap(100, 50, 1500, 9990, 1010);
	ck_assert_int_eq(pg_db_delta(&a, &b, &r), PG_DELTA_NO_TIME);
}
END_TEST

static void
stmt(struct pg_stmt_snap *s, int64_t id, uint32_t user, int64_t calls,
    double total)
{
	struct pg_stmt e = { id, user, true, calls, total };

	ck_assert_int_eq(pg_stmt_snap_add(s, &e), 0);
}

START_TEST(test_stmt_window)
{
	struct pg_stmt_snap prev = { 0 }, cur = { 0 };
	struct pg_stmt_window w;

	stmt(&cur, 7, 10, 100, 1000);
	cur.valid = cur.complete = true;
	cur.at_s = 100;
	pg_stmt_snap_sort(&cur);
	ck_assert_int_eq(pg_stmt_window(&prev, &cur, 250, &w), PG_DELTA_FIRST);
	pg_stmt_snap_swap(&prev, &cur);
	ck_assert_uint_eq(cur.n, 0);
	ck_assert(prev.valid);

	/* 10 s later: id 7 ran 10 more times at 30 ms (mean 10 ms before:
	 * the windowed mean is 30, the cumulative would be ~11.8). */
	stmt(&cur, 7, 10, 110, 1300);
	/* id 9 is new since a complete snapshot: all of it is in the window. */
	stmt(&cur, 9, 10, 2, 1200);
	/* id 3: same counts, did not run. */
	stmt(&cur, 3, 10, 5, 5);
	stmt(&prev, 3, 10, 5, 5);
	pg_stmt_snap_sort(&prev);
	cur.valid = cur.complete = true;
	cur.at_s = 110;
	pg_stmt_snap_sort(&cur);
	ck_assert_int_eq(pg_stmt_window(&prev, &cur, 250, &w), PG_DELTA_OK);
	ck_assert_int_eq(w.calls, 12);
	ck_assert_double_eq_tol(w.calls_per_s, 1.2, 1e-9);
	ck_assert_double_eq_tol(w.worst_mean_ms, 600, 1e-9);
	ck_assert_uint_eq(w.nslow, 1);
	ck_assert_uint_eq(w.ntop, 1);
	ck_assert_int_eq(w.top[0].queryid, 9);
	ck_assert_int_eq(w.top[0].calls, 2);
	pg_stmt_snap_swap(&prev, &cur);

	/* id 7 evicted and re-created (calls went down): counted whole;
	 * id 9 unchanged; the previous snapshot was cut off, so id 11, not
	 * in it, may be old: not counted. */
	stmt(&cur, 7, 10, 3, 900);
	stmt(&cur, 9, 10, 2, 1200);
	stmt(&cur, 11, 10, 1000, 1e6);
	prev.complete = false;
	cur.valid = true;
	cur.at_s = 120;
	pg_stmt_snap_sort(&cur);
	ck_assert_int_eq(pg_stmt_window(&prev, &cur, 250, &w), PG_DELTA_OK);
	ck_assert_int_eq(w.calls, 3);
	ck_assert_double_eq_tol(w.worst_mean_ms, 300, 1e-9);
	ck_assert_uint_eq(w.nslow, 1);
	ck_assert_int_eq(w.top[0].queryid, 7);
	pg_stmt_snap_clear(&prev);
	pg_stmt_snap_clear(&cur);
}
END_TEST

START_TEST(test_stmt_window_top_order)
{
	struct pg_stmt_snap prev = { .valid = true, .complete = true,
	    .at_s = 0 }, cur = { .valid = true, .at_s = 1 };
	struct pg_stmt_window w;

	for (int i = 1; i <= 8; i++)
		stmt(&cur, i, 1, 1, 100.0 * i);
	pg_stmt_snap_sort(&cur);
	ck_assert_int_eq(pg_stmt_window(&prev, &cur, 250, &w), PG_DELTA_OK);
	ck_assert_uint_eq(w.nslow, 6);	/* 300 .. 800 */
	ck_assert_uint_eq(w.ntop, PG_STMT_TOP);
	for (size_t i = 0; i < w.ntop; i++)
		ck_assert_int_eq(w.top[i].queryid, 8 - (int)i);
	pg_stmt_snap_clear(&cur);
}
END_TEST

START_TEST(test_metric_part)
{
	char out[64];

	pg_metric_part("Max Id", 40, out, sizeof(out));
	ck_assert_str_eq(out, "max_id");
	pg_metric_part("count(*)", 40, out, sizeof(out));
	ck_assert_str_eq(out, "count");
	pg_metric_part("?column?", 40, out, sizeof(out));
	ck_assert_str_eq(out, "column");
	pg_metric_part("--", 40, out, sizeof(out));
	ck_assert_str_eq(out, "col");
	pg_metric_part("a_very_long_column_name", 6, out, sizeof(out));
	ck_assert_str_eq(out, "a_very");
}
END_TEST

struct lookup_run {
	struct event_base *base;
	int done;
	struct probe_result r;
};

static void
lookup_done(struct probe *p, const struct probe_result *r, void *arg)
{
	struct lookup_run *lr = arg;

	(void)p;
	lr->done++;
	ck_assert_int_eq(probe_result_copy(&lr->r, r), 0);
	event_base_loopbreak(lr->base);
}

/*
 * A name whose lookup never answers (the nameserver is a silent UDP
 * socket): the run times out while resolving, and the lookup is cancelled
 * and freed (LeakSanitizer checks the "freed" part).
 */
START_TEST(test_lookup_times_out)
{
	const char *text = PG_HDR "\"timeout\": \"200ms\", \"interval\": \"1s\", "
	    "\"conninfo\": \"host=db.vigil-test.invalid dbname=x user=y\"}]}";
	struct lookup_run lr = { 0 };
	struct config_errors errs;
	struct config *cfg = parse(text, &errs);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct probe_env env = { 0 };
	struct probe *p;
	char ns[64];
	double up = -1;
	int udp;

	ck_assert_ptr_nonnull(cfg);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(udp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(udp, (struct sockaddr *)&sin, &slen), 0);
	snprintf(ns, sizeof(ns), "127.0.0.1:%u", ntohs(sin.sin_port));
	lr.base = env.base = event_base_new();
	env.dns = evdns_base_new(env.base, 0);
	ck_assert_int_eq(evdns_base_nameserver_ip_add(env.dns, ns), 0);
	p = probe_new(&cfg->probes[0], &env);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(probe_start(p, lookup_done, &lr), 0);
	ck_assert_int_eq(lr.done, 0);	/* never from inside start */
	event_base_dispatch(env.base);
	ck_assert_int_eq(lr.done, 1);
	ck_assert(!lr.r.up);
	ck_assert_int_eq(lr.r.fail, PROBE_FAIL_TIMEOUT);
	ck_assert_str_eq(lr.r.reason, "timed out after 200 ms resolving "
	    "\"db.vigil-test.invalid\"");
	ck_assert(probe_result_get(&lr.r, "up", &up));
	ck_assert_double_eq(up, 0);
	/*
	 * 250 ms after the first attempt began, the second is due (a run a
	 * little early is the run the backoff meant); 500 ms after the
	 * second began, the third, so a run 200 ms after says when it comes.
	 */
	ck_assert_int_eq(probe_start(p, lookup_done, &lr), 0);
	event_base_dispatch(env.base);
	ck_assert_int_eq(lr.done, 2);
	ck_assert_int_eq(lr.r.fail, PROBE_FAIL_TIMEOUT);
	ck_assert_ptr_null(strstr(lr.r.reason, "next connection attempt"));
	ck_assert_int_eq(probe_start(p, lookup_done, &lr), 0);
	event_base_dispatch(env.base);
	ck_assert_int_eq(lr.done, 3);
	ck_assert_msg(strstr(lr.r.reason, "(next connection attempt in 1.0 s)")
	    != NULL, "%s", lr.r.reason);
	/* A run in flight, cancelled by probe_free. */
	usleep(300 * 1000);
	ck_assert_int_eq(probe_start(p, lookup_done, &lr), 0);
	probe_free(p);
	/* As monitor_free: the cancelled lookup's callback, then the base. */
	event_base_loop(env.base, EVLOOP_NONBLOCK);
	evdns_base_free(env.dns, 0);
	event_base_free(env.base);
	probe_result_clear(&lr.r);
	close(udp);
	config_free(cfg);
	config_errors_clear(&errs);
}
END_TEST

/* A password echoed by a server is scrubbed, however it was echoed. */
START_TEST(test_secret_scrub)
{
	static const struct {
		const char *secret, *in, *out;
	} cases[] = {
		{ "s3cret-Pass", "auth failed for s3cret-Pass",
		    "auth failed for ***" },
		{ "s3cret-Pass", "AUTH FAILED FOR S3CRET-PASS!",
		    "AUTH FAILED FOR ***!" },
		{ "s3cret-Pass", "x s3cret-pass y s3cret-Pass",
		    "x *** y ***" },
		{ "correct horse", "bad: correcthorse", "bad: ***" },
		{ "correct horse", "bad: CORRECT HORSE", "bad: ***" },
		{ "ab", "xaby", "x**y" },
		{ "", "unchanged", "unchanged" },
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		probe_scrub_secret(cases[i].secret, buf);
		ck_assert_str_eq(buf, cases[i].out);
	}
}
END_TEST

/*
 * A stranger's text quoted (probe_quote): delimited, its quotes and
 * backslashes escaped, white space folded, cut inside the quotes at a
 * whole character.
 */
START_TEST(test_quote)
{
	static const struct {
		size_t len;
		const char *in, *out;
	} cases[] = {
		{ 64, "FATAL:  password authentication failed\n",
		    "\"FATAL: password authentication failed\"" },
		{ 64, "role \"x\" does not exist", "\"role \\\"x\\\" does not exist\"" },
		{ 64, "a\\b", "\"a\\\\b\"" },
		{ 64, "", "\"\"" },
		{ 64, "  \n\t ", "\"\"" },
		{ 12, "abcdefghijkl", "\"abcdef...\"" },
		/* "é" is two bytes: never half of it. */
		{ 12, "abcde\xc3\xa9" "fgh", "\"abcde...\"" },
		{ 13, "abcde\xc3\xa9" "fgh", "\"abcde\xc3\xa9...\"" },
		{ 12, "ab\" done\"", "\"ab\\\" d...\"" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		probe_quote(cases[i].in, buf, cases[i].len);
		ck_assert_msg(strcmp(buf, cases[i].out) == 0, "%zu: [%s]", i,
		    buf);
		ck_assert_uint_lt(strlen(buf), cases[i].len);
	}
}
END_TEST

/* What the canary's plan touches, from EXPLAIN's JSON. */
static const struct {
	const char *json;
	int rc;
	size_t nrels;
	const char *rel0;
	int scans;		/* of public.orders_customer_idx */
} plan_cases[] = {
	/* SELECT 1: no table. */
	{ "[{\"Plan\": {\"Node Type\": \"Result\"}}]", PG_PLAN_OK, 0,
	  NULL, 0 },
	/* An index scan under a Limit. */
	{ "[{\"Plan\": {\"Node Type\": \"Limit\", \"Plans\": [{\"Node "
	  "Type\": \"Index Scan\", \"Parent Relationship\": \"Outer\", "
	  "\"Index Name\": \"orders_customer_idx\", \"Relation Name\": "
	  "\"orders\", \"Schema\": \"public\"}]}}]", PG_PLAN_OK, 1,
	  "\"public\".\"orders\"", 1 },
	/* Twice in one run (a UNION): two scans; the table once. */
	{ "[{\"Plan\": {\"Node Type\": \"Append\", \"Plans\": ["
	  "{\"Node Type\": \"Bitmap Index Scan\", \"Index Name\": "
	  "\"orders_customer_idx\", \"Schema\": \"public\"},"
	  "{\"Node Type\": \"Index Only Scan\", \"Index Name\": "
	  "\"orders_customer_idx\", \"Relation Name\": \"orders\", "
	  "\"Schema\": \"public\"}]}}]", PG_PLAN_OK, 1,
	  "\"public\".\"orders\"", 2 },
	/* The inner side of a nested loop: once per outer row. */
	{ "[{\"Plan\": {\"Node Type\": \"Nested Loop\", \"Plans\": ["
	  "{\"Node Type\": \"Seq Scan\", \"Relation Name\": \"cust\", "
	  "\"Schema\": \"s\\\"q\"},"
	  "{\"Node Type\": \"Index Scan\", \"Index Name\": "
	  "\"orders_customer_idx\", \"Relation Name\": \"orders\", "
	  "\"Schema\": \"public\"}]}}]", PG_PLAN_OK, 2,
	  "\"s\"\"q\".\"cust\"", -1 },
	/* Another schema's namesake is another index. */
	{ "[{\"Plan\": {\"Node Type\": \"Index Scan\", \"Index Name\": "
	  "\"orders_customer_idx\", \"Relation Name\": \"orders\", "
	  "\"Schema\": \"staging\"}}]", PG_PLAN_OK, 1,
	  "\"staging\".\"orders\"", 0 },
	{ "QUERY PLAN", PG_PLAN_EPARSE, 0, NULL, 0 },
	{ "[{\"Plan\": 3}]", PG_PLAN_EPARSE, 0, NULL, 0 },
	{ "{}", PG_PLAN_EPARSE, 0, NULL, 0 },
};

START_TEST(test_plan_read)
{
	struct pg_plan p;
	const char *j = plan_cases[_i].json;

	ck_assert_int_eq(pg_plan_read(j, strlen(j), &p), plan_cases[_i].rc);
	ck_assert_uint_eq(p.nrels, plan_cases[_i].nrels);
	if (plan_cases[_i].rel0 != NULL)
		ck_assert_str_eq(p.rels[0], plan_cases[_i].rel0);
	ck_assert_int_eq(pg_plan_index_scans(&p, "public",
	    "orders_customer_idx"), plan_cases[_i].scans);
}
END_TEST

/* A hostile depth is cut, not followed to the end of the stack. */
START_TEST(test_plan_deep)
{
	char *j = malloc(200000);
	size_t n = 0;
	struct pg_plan p;

	ck_assert_ptr_nonnull(j);
	n += (size_t)sprintf(j + n, "[{\"Plan\": ");
	for (int i = 0; i < 900; i++)
		n += (size_t)sprintf(j + n, "{\"Index Name\": \"i\", "
		    "\"Schema\": \"s\", \"Plans\": [");
	n += (size_t)sprintf(j + n, "{}");
	for (int i = 0; i < 900; i++)
		n += (size_t)sprintf(j + n, "]}");
	n += (size_t)sprintf(j + n, "}]");
	/* cJSON refuses nesting past its own limit; either way, no crash. */
	if (pg_plan_read(j, n, &p) == PG_PLAN_OK)
		ck_assert_int_le(pg_plan_index_scans(&p, "s", "i"), 65);
	free(j);
}
END_TEST

/*
 * An index's scans by the application, on a table of readings: the
 * canary's (k per run) never count, a late statistics flush only delays,
 * a reset goes on from where the counter was.
 */
START_TEST(test_scan_own)
{
	static const struct {
		int64_t raw, k, want;
	} steps[] = {
		{ 100, 1, 0 },	/* baseline: this run's canary is in it */
		{ 101, 1, 0 },	/* the canary's scan */
		{ 101, 1, 0 },	/* its flush late: not negative */
		{ 103, 1, 0 },	/* both now flushed */
		{ 107, 1, 3 },	/* 3 by the application */
		{ 108, 0, 4 },	/* the canary failed: the one is theirs */
		{ 5, 1, 4 },	/* a reset: a new baseline, the same count */
		{ 11, 1, 9 },
		{ 11, 1, 9 },	/* never backwards */
	};
	struct pg_scan_own s = { 0 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		ck_assert_msg(pg_scan_own_read(&s, steps[i].raw, steps[i].k) ==
		    steps[i].want, "step %zu", i);
}
END_TEST

Suite *
pg_suite(void)
{
	Suite *s = suite_create("pg");
	TCase *tc = tcase_create("pg");

	tcase_add_test(tc, test_config_valid_full);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_config_index_and_custom_errors);
	tcase_add_test(tc, test_describe_conninfo);
	tcase_add_test(tc, test_db_delta);
	tcase_add_test(tc, test_stmt_window);
	tcase_add_test(tc, test_stmt_window_top_order);
	tcase_add_test(tc, test_metric_part);
	tcase_add_test(tc, test_lookup_times_out);
	tcase_add_test(tc, test_secret_scrub);
	tcase_add_test(tc, test_quote);
	tcase_add_loop_test(tc, test_plan_read, 0,
	    sizeof(plan_cases) / sizeof(plan_cases[0]));
	tcase_add_test(tc, test_plan_deep);
	tcase_add_test(tc, test_scan_own);
	suite_add_tcase(s, tc);
	return s;
}
