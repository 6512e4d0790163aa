/*
 * portal-sim: a stand-in for the web application vigil monitors.
 *
 * It serves the application's health endpoints from a time-driven traffic
 * model (sim_model.c) and can be switched at run time into failure
 * scenarios (errors, slowness, leaks, outages, hangs, broken or huge
 * bodies) through control endpoints under /_sim/. See README.md.
 *
 * It also stands in for Sentry's web API under /api/0/ (sim_sentry.c),
 * with an event rate that follows the application's errors.
 *
 * libmicrohttpd runs one thread per connection, so a slow or hanging answer
 * only ever occupies its own thread. Delays sleep in short steps and poll a
 * stop flag so that SIGTERM ends every connection promptly.
 */
#include "sim_http.h"
#include "sim_model.h"
#include "sim_sentry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define SIM_VERSION "0.1.0"
#define DEFAULT_SLOW_MS 1500L
#define DEFAULT_LEAK_RATE 0.5                 /* 1 point every 2 s */
#define DEFAULT_HUGE_SIZE (20ULL * 1024 * 1024)
#define DEFAULT_ERROR_PCT 5.0                 /* error_spike's error rate */
#define MAX_HUGE_SIZE (64ULL * 1024 * 1024 * 1024)
#define MAX_SLOW_MS 3600000L
#define POLL_STEP_MS 50
#define CONNECTION_TIMEOUT_S 120u

enum endpoint { EP_HEALTH, EP_ADVANCED, EP_CACHE, EP_COUNT, EP_NONE };

static const char *const endpoint_paths[EP_COUNT] = {
	[EP_HEALTH] = "/api/health",
	[EP_ADVANCED] = "/api/health/advanced",
	[EP_CACHE] = "/api/cache/stats",
};

/*
 * The lock is a C11 mtx_t rather than a pthread mutex because <pthread.h>
 * includes <sched.h>, which the build's -Ilib resolves to vigil's own
 * lib/engine/sched.h. <threads.h> does not include it.
 */
struct server {
	mtx_t lock;                    /* guards model, hits and sentry */
	struct sim_model model;
	struct sim_sentry sentry;      /* the Sentry API stand-in */
	unsigned long hits[EP_COUNT];  /* requests received per endpoint */
	struct sim_params defaults;    /* from the command line; read-only */
	struct timespec start;         /* CLOCK_MONOTONIC at start */
	atomic_int stopping;           /* set once on SIGTERM/SIGINT */
	int verbose;
};

static double elapsed_s(const struct server *srv)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - srv->start.tv_sec) +
	       (double)(now.tv_nsec - srv->start.tv_nsec) / 1e9;
}

static double wall_s(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void iso_timestamp(char *out, size_t size)
{
	struct timespec now;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03ldZ", date, now.tv_nsec / 1000000L);
}

static int is_stopping(struct server *srv)
{
	return atomic_load(&srv->stopping) != 0;
}

/* Sleep ms milliseconds in short steps; returns -1 if shutdown began. */
static int sleep_polling(struct server *srv, long ms)
{
	while (ms > 0) {
		long step = ms < POLL_STEP_MS ? ms : POLL_STEP_MS;
		struct timespec ts = { 0, step * 1000000L };

		if (is_stopping(srv))
			return -1;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return is_stopping(srv) ? -1 : 0;
}

/* ---- application endpoints ---- */

static void format_health(struct body *b, const struct sim_snapshot *s,
                          const char *ts)
{
	body_printf(b, "{\"status\":\"ok\",\"timestamp\":\"%s\","
	            "\"uptime\":%.3f,\"version\":\"" SIM_VERSION "\"}",
	            ts, s->uptime);
}

static void format_advanced(struct body *b, const struct sim_snapshot *s,
                            const char *ts)
{
	body_printf(b, "{\"status\":\"%s\",\"timestamp\":\"%s\","
	            "\"version\":\"" SIM_VERSION "\",\"uptime\":%.3f,",
	            s->status, ts, s->uptime);
	body_printf(b, "\"checks\":{"
	            "\"database\":{\"status\":\"healthy\",\"responseTime\":%.2f},"
	            "\"cache\":{\"status\":\"%s\",\"hitRate\":%.2f},"
	            "\"memory\":{\"status\":\"%s\",\"percentage\":%.2f}},",
	            s->db_response_ms, s->cache_status, s->cache_hit_rate_pct,
	            s->mem_status, s->mem_pct);
	body_printf(b, "\"metrics\":{"
	            "\"requests\":{\"total\":%" PRIu64 ",\"errors\":%" PRIu64 ","
	            "\"errorRate\":%.4f,\"perSecond\":%.2f},"
	            "\"responseTime\":{\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f},",
	            s->requests_total, s->errors_total, s->error_rate_pct,
	            s->per_second, s->p50, s->p95, s->p99);
	body_printf(b, "\"memory\":{\"heapUsedMB\":%.2f,\"heapTotalMB\":%.2f,"
	            "\"rssMB\":%.2f,\"percentage\":%.2f},"
	            "\"cache\":{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ","
	            "\"hitRate\":%.2f}}}",
	            s->heap_used_mb, s->heap_total_mb, s->rss_mb, s->mem_pct,
	            s->cache_hits, s->cache_misses, s->cache_hit_rate_pct);
}

static void format_cache(struct body *b, const struct sim_snapshot *s)
{
	body_printf(b, "{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ","
	            "\"keys\":%" PRIu64 ",\"hitRate\":%.2f,\"memoryMB\":%.2f}",
	            s->cache_hits, s->cache_misses, s->cache_keys,
	            s->cache_hit_rate_pct, s->cache_memory_mb);
}

static enum MHD_Result answer_normally(struct server *srv,
                                       struct MHD_Connection *c,
                                       enum endpoint ep)
{
	struct sim_snapshot snap;
	struct body b = { .len = 0 };
	char ts[48];

	mtx_lock(&srv->lock);
	sim_model_sample(&srv->model, elapsed_s(srv), &snap);
	mtx_unlock(&srv->lock);
	iso_timestamp(ts, sizeof(ts));

	switch (ep) {
	case EP_HEALTH:
		format_health(&b, &snap, ts);
		break;
	case EP_ADVANCED:
		format_advanced(&b, &snap, ts);
		break;
	default:
		format_cache(&b, &snap);
		break;
	}
	return send_body(c, MHD_HTTP_OK, &b, NULL);
}

static enum MHD_Result handle_app(struct server *srv, struct MHD_Connection *c,
                                  enum endpoint ep)
{
	enum sim_scenario sc;
	struct sim_params params;
	uint64_t gen;

	mtx_lock(&srv->lock);
	srv->hits[ep]++;
	sc = srv->model.scenario;
	params = srv->model.params;
	gen = srv->model.generation;
	mtx_unlock(&srv->lock);

	if (srv->verbose)
		fprintf(stderr, "portal-sim: %s (%s)\n", endpoint_paths[ep],
		        sim_scenario_name(sc));

	switch (sc) {
	case SIM_DOWN:
		return send_literal(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "{\"status\":\"error\","
		                    "\"error\":\"service unavailable\"}", NULL);
	case SIM_HANG:
		/* Hold the request until shutdown or another switch. */
		for (;;) {
			uint64_t now_gen;

			if (sleep_polling(srv, POLL_STEP_MS) < 0)
				return MHD_NO;   /* shutdown: just close */
			mtx_lock(&srv->lock);
			now_gen = srv->model.generation;
			mtx_unlock(&srv->lock);
			if (now_gen != gen)
				break;
		}
		return send_literal(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "{\"status\":\"error\","
		                    "\"error\":\"hang ended by scenario change\"}",
		                    NULL);
	case SIM_MALFORMED:
		return send_literal(c, MHD_HTTP_OK,
		                    "{\"status\":\"ok\",\"metrics\":{\"requests\":"
		                    "{\"total\":12", NULL);
	case SIM_HUGE:
		return send_huge(c, params.huge_size, &srv->stopping);
	case SIM_SLOW:
		if (sleep_polling(srv, params.slow_ms) < 0)
			return MHD_NO;
		return answer_normally(srv, c, ep);
	default:
		return answer_normally(srv, c, ep);
	}
}

/* ---- control endpoints ---- */

/* Fills *p from the switch's query string; returns the bad name or NULL. */
static const char *switch_params(const struct server *srv,
                                 struct MHD_Connection *c,
                                 struct sim_params *p)
{
	const char *v;

	*p = srv->defaults;
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "slow_ms");
	if (v != NULL && parse_long(v, 0, MAX_SLOW_MS, &p->slow_ms) < 0)
		return "slow_ms";
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "rate");
	if (v != NULL && parse_double(v, 0.0, 100.0, &p->leak_rate) < 0)
		return "rate";
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "size");
	if (v != NULL && parse_u64(v, MAX_HUGE_SIZE, &p->huge_size) < 0)
		return "size";
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "error_pct");
	if (v != NULL && parse_double(v, 0.0, 100.0, &p->error_pct) < 0)
		return "error_pct";
	return NULL;
}

static enum MHD_Result control_switch(struct server *srv,
                                      struct MHD_Connection *c,
                                      const char *name)
{
	enum sim_scenario sc, old;
	struct sim_params p;
	const char *bad;
	struct body b = { .len = 0 };

	if (sim_scenario_parse(name, &sc) < 0) {
		body_printf(&b, "{\"error\":\"unknown scenario\",\"scenario\":");
		body_json_string(&b, name, 64);
		body_printf(&b, ",\"known\":[");
		for (unsigned i = 0; i < SIM_SCENARIO_COUNT; i++)
			body_printf(&b, "%s\"%s\"", i ? "," : "",
			            sim_scenario_name((enum sim_scenario)i));
		body_printf(&b, "]}");
		return send_body(c, MHD_HTTP_BAD_REQUEST, &b, NULL);
	}
	bad = switch_params(srv, c, &p);
	if (bad != NULL) {
		body_printf(&b, "{\"error\":\"invalid parameter\","
		            "\"param\":\"%s\"}", bad);
		return send_body(c, MHD_HTTP_BAD_REQUEST, &b, NULL);
	}

	mtx_lock(&srv->lock);
	old = srv->model.scenario;
	sim_model_switch(&srv->model, sc, &p, elapsed_s(srv), wall_s());
	sim_sentry_on_switch(&srv->sentry, sc, wall_s());
	mtx_unlock(&srv->lock);

	fprintf(stderr, "portal-sim: scenario %s -> %s (slow_ms=%ld rate=%g "
	        "size=%" PRIu64 " error_pct=%g)\n", sim_scenario_name(old),
	        sim_scenario_name(sc), p.slow_ms, p.leak_rate, p.huge_size,
	        p.error_pct);
	body_printf(&b, "{\"scenario\":\"%s\"}", sim_scenario_name(sc));
	return send_body(c, MHD_HTTP_OK, &b, NULL);
}

static enum MHD_Result control_scenario(struct server *srv,
                                        struct MHD_Connection *c)
{
	struct body b = { .len = 0 };
	enum sim_scenario sc;
	struct sim_params p;
	double since;
	uint64_t gen;

	mtx_lock(&srv->lock);
	sc = srv->model.scenario;
	p = srv->model.params;
	since = srv->model.since_wall;
	gen = srv->model.generation;
	mtx_unlock(&srv->lock);

	body_printf(&b, "{\"scenario\":\"%s\",\"since\":%.3f,"
	            "\"generation\":%" PRIu64 ",\"slow_ms\":%ld,\"rate\":%g,"
	            "\"size\":%" PRIu64 ",\"error_pct\":%g}",
	            sim_scenario_name(sc), since, gen, p.slow_ms, p.leak_rate,
	            p.huge_size, p.error_pct);
	return send_body(c, MHD_HTTP_OK, &b, NULL);
}

static enum MHD_Result control_stats(struct server *srv,
                                     struct MHD_Connection *c, int reset)
{
	struct body b = { .len = 0 };
	unsigned long h[EP_COUNT], total = 0;

	mtx_lock(&srv->lock);
	if (reset)
		memset(srv->hits, 0, sizeof(srv->hits));
	memcpy(h, srv->hits, sizeof(h));
	for (unsigned i = 0; i < EP_COUNT; i++)
		total += h[i];

	body_printf(&b, "{\"requests\":{");
	for (unsigned i = 0; i < EP_COUNT; i++)
		body_printf(&b, "%s\"%s\":%lu", i ? "," : "", endpoint_paths[i],
		            h[i]);
	body_printf(&b, "},\"total\":%lu", total);
	sim_sentry_stats(&srv->sentry, &b, reset);
	mtx_unlock(&srv->lock);
	body_printf(&b, "}");
	return send_body(c, MHD_HTTP_OK, &b, NULL);
}

static int is_method(const char *method, const char *want)
{
	return strcmp(method, want) == 0;
}

static enum MHD_Result handle_control(struct server *srv,
                                      struct MHD_Connection *c,
                                      const char *url, const char *method)
{
	static const char scenario_prefix[] = "/_sim/scenario/";
	const size_t plen = sizeof(scenario_prefix) - 1;
	int get = is_method(method, "GET") || is_method(method, "HEAD");
	int set = is_method(method, "POST") || is_method(method, "PUT");

	if (strcmp(url, "/_sim/scenario") == 0)
		return get ? control_scenario(srv, c) : send_bad_method(c, "GET, HEAD");
	if (strncmp(url, scenario_prefix, plen) == 0 && url[plen] != '\0')
		return set ? control_switch(srv, c, url + plen)
		           : send_bad_method(c, "POST, PUT");
	if (strcmp(url, "/_sim/stats") == 0)
		return get ? control_stats(srv, c, 0) : send_bad_method(c, "GET, HEAD");
	if (strcmp(url, "/_sim/stats/reset") == 0)
		return set ? control_stats(srv, c, 1) : send_bad_method(c, "POST, PUT");
	if (strcmp(url, "/_sim/sentry") == 0) {
		if (!get && !set)
			return send_bad_method(c, "GET, HEAD, POST, PUT");
		return sim_sentry_control(&srv->sentry, &srv->lock, &srv->model,
		                          elapsed_s(srv), wall_s(), c, set);
	}
	return send_not_found(c, url);
}

static enum endpoint app_endpoint(const char *url)
{
	for (unsigned i = 0; i < EP_COUNT; i++)
		if (strcmp(url, endpoint_paths[i]) == 0)
			return (enum endpoint)i;
	return EP_NONE;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *c,
                                      const char *url, const char *method,
                                      const char *version,
                                      const char *upload_data,
                                      size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	enum endpoint ep;

	(void)version;
	(void)upload_data;
	/* First call: headers only. Answer once any request body is in. */
	if (*con_cls == NULL) {
		*con_cls = srv;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;   /* bodies are ignored */
		return MHD_YES;
	}

	if (strncmp(url, "/_sim/", 6) == 0)
		return handle_control(srv, c, url, method);
	if (strncmp(url, "/api/0/", 7) == 0)
		return sim_sentry_handle(&srv->sentry, &srv->lock, &srv->model,
		                         elapsed_s(srv), wall_s(), c, url,
		                         method);
	ep = app_endpoint(url);
	if (ep == EP_NONE)
		return send_not_found(c, url);
	if (!is_method(method, "GET") && !is_method(method, "HEAD"))
		return send_bad_method(c, "GET, HEAD");
	return handle_app(srv, c, ep);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* MHD's own messages; silent during shutdown, when closing hung
 * connections produces expected complaints. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct server *srv = cls;

	if (is_stopping(srv))
		return;
	fputs("portal-sim: mhd: ", stderr);
	vfprintf(stderr, fmt, ap);
}
#pragma GCC diagnostic pop

/* ---- start-up ---- */

struct options {
	const char *listen;
	long port;
	const char *port_file;
	enum sim_scenario scenario;
	long slow_ms;
	uint64_t seed;
	double rps;
	double window_s;
	int verbose;
	const char *sentry_token;
	const char *sentry_token_file;
	const char *sentry_org;
	const char *sentry_project;
	long sentry_limit;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: portal-sim [--listen ADDR] [--port N] [--port-file PATH]\n"
	        "                  [--scenario NAME] [--slow-ms N] [--seed N]\n"
	        "                  [--rps N] [--window SECONDS] [--verbose] [--help]\n"
	        "                  [--sentry-token T | --sentry-token-file PATH]\n"
	        "                  [--sentry-org SLUG] [--sentry-project SLUG]\n"
	        "                  [--sentry-limit N]\n"
	        "\n"
	        "Simulates the monitored web application. Defaults: listen\n"
	        "127.0.0.1, port 0 (ephemeral), scenario healthy, slow-ms 1500,\n"
	        "seed 1, rps 50, window 60. Switch scenarios with\n"
	        "POST /_sim/scenario/NAME. The Sentry API stand-in under /api/0/\n"
	        "(org acme, project portal, 40 requests/s per endpoint) accepts\n"
	        "only the --sentry-token bearer token. See tests/sim/README.md.\n"
	        "Scenarios:");
	for (unsigned i = 0; i < SIM_SCENARIO_COUNT; i++)
		fprintf(out, " %s", sim_scenario_name((enum sim_scenario)i));
	fputc('\n', out);
}

/* Sentry slugs go into paths: letters, digits, ".", "_", "-". */
static int sentry_slug(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Returns 0 to run, 1 after --help, -1 on a bad command line. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "scenario", required_argument, NULL, 's' },
		{ "slow-ms", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 'S' },
		{ "rps", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'W' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "sentry-token", required_argument, NULL, 'T' },
		{ "sentry-token-file", required_argument, NULL, 'F' },
		{ "sentry-org", required_argument, NULL, 'O' },
		{ "sentry-project", required_argument, NULL, 'P' },
		{ "sentry-limit", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, idx = 0;

	*o = (struct options){ "127.0.0.1", 0, NULL, SIM_HEALTHY,
	                       DEFAULT_SLOW_MS, 1, 50.0, 60.0, 0, NULL, NULL,
	                       "acme", "portal", 40 };
	while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		int bad = 0;

		switch (ch) {
		case 'l': o->listen = optarg; break;
		case 'p': bad = parse_long(optarg, 0, 65535, &o->port); break;
		case 'f': o->port_file = optarg; break;
		case 's': bad = sim_scenario_parse(optarg, &o->scenario); break;
		case 'w': bad = parse_long(optarg, 0, MAX_SLOW_MS, &o->slow_ms); break;
		case 'S': bad = parse_u64(optarg, UINT64_MAX, &o->seed); break;
		case 'r': bad = parse_double(optarg, 0.0, 1e9, &o->rps); break;
		case 'W': bad = parse_double(optarg, 0.001, 1e9, &o->window_s); break;
		case 'v': o->verbose = 1; break;
		case 'T': o->sentry_token = optarg; break;
		case 'F': o->sentry_token_file = optarg; break;
		case 'O': o->sentry_org = optarg; bad = !sentry_slug(optarg); break;
		case 'P': o->sentry_project = optarg; bad = !sentry_slug(optarg); break;
		case 'L': bad = parse_long(optarg, 1, 1000000, &o->sentry_limit); break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, "portal-sim: bad value for --%s: %s\n",
			        longopts[idx].name, optarg);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portal-sim: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (o->sentry_token != NULL && o->sentry_token_file != NULL) {
		fprintf(stderr, "portal-sim: --sentry-token or "
		        "--sentry-token-file, not both\n");
		return -1;
	}
	return 0;
}

/* The token from its file: the first line, white space trimmed. */
static int read_token_file(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL || fgets(out, (int)len, f) == NULL) {
		fprintf(stderr, "portal-sim: cannot read %s: %s\n", path,
		        f == NULL ? strerror(errno) : "empty");
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
	                 out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
	return 0;
}

/* Write "PORT\n" to a temporary file, then rename: readers never see half. */
static int write_port_file(const char *path, unsigned int port)
{
	char tmp[4096];
	FILE *f;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "portal-sim: port file path too long\n");
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "portal-sim: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (fprintf(f, "%u\n", port) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		fprintf(stderr, "portal-sim: %s: %s\n", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "portal-sim: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static struct MHD_Daemon *start_daemon(struct server *srv,
                                       const struct options *o,
                                       char *host, size_t host_size)
{
	struct addrinfo hints, *ai = NULL;
	struct MHD_Daemon *d;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
	                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
	                     MHD_USE_ERROR_LOG;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(o->listen, NULL, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		fprintf(stderr, "portal-sim: cannot resolve %s: %s\n", o->listen,
		        gai_strerror(rc));
		return NULL;
	}
	if (ai->ai_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ai->ai_addr;

		a6->sin6_port = htons((uint16_t)o->port);
		inet_ntop(AF_INET6, &a6->sin6_addr, host, (socklen_t)host_size);
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ai->ai_addr;

		a4->sin_port = htons((uint16_t)o->port);
		inet_ntop(AF_INET, &a4->sin_addr, host, (socklen_t)host_size);
	}
	/* The logger goes first so MHD routes even option errors through it. */
	d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL,
	                     handle_request, srv,
	                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
	                     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                     MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
	                     MHD_OPTION_END);
	if (d == NULL)
		fprintf(stderr, "portal-sim: cannot listen on %s port %ld\n",
		        o->listen, o->port);
	freeaddrinfo(ai);
	return d;
}

int main(int argc, char **argv)
{
	struct options o;
	struct server srv;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t stop_signals;
	char host[INET6_ADDRSTRLEN];
	unsigned int port;
	int rc, sig;

	rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	/*
	 * Block the stop signals before any thread exists, so every MHD thread
	 * inherits the mask and main alone receives them with sigwait: no
	 * handler, no async-signal-safety concerns.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);   /* a client vanishing is not fatal */

	memset(&srv, 0, sizeof(srv));
	if (mtx_init(&srv.lock, mtx_plain) != thrd_success) {
		fprintf(stderr, "portal-sim: mutex init failed\n");
		return 1;
	}
	atomic_init(&srv.stopping, 0);
	srv.verbose = o.verbose;
	srv.defaults.slow_ms = o.slow_ms;
	srv.defaults.leak_rate = DEFAULT_LEAK_RATE;
	srv.defaults.huge_size = DEFAULT_HUGE_SIZE;
	srv.defaults.error_pct = DEFAULT_ERROR_PCT;
	clock_gettime(CLOCK_MONOTONIC, &srv.start);
	sim_model_init(&srv.model, o.rps, o.window_s, o.seed, o.scenario,
	               &srv.defaults, wall_s());
	{
		char token[512] = "";

		if (o.sentry_token_file != NULL &&
		    read_token_file(o.sentry_token_file, token,
		                    sizeof(token)) < 0) {
			mtx_destroy(&srv.lock);
			return 2;
		}
		if (o.sentry_token != NULL)
			snprintf(token, sizeof(token), "%s", o.sentry_token);
		sim_sentry_init(&srv.sentry, token, o.sentry_org,
		                o.sentry_project, o.sentry_limit, wall_s());
		explicit_bzero(token, sizeof(token));
	}

	d = start_daemon(&srv, &o, host, sizeof(host));
	if (d == NULL) {
		mtx_destroy(&srv.lock);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	port = info != NULL ? info->port : (unsigned int)o.port;
	{
		/* Sentry's url-prefix: this server, until a knob says else. */
		char url[SIM_SENTRY_URL_MAX];

		snprintf(url, sizeof(url), strchr(host, ':') != NULL ?
		         "http://[%s]:%u/api/0/" : "http://%s:%u/api/0/", host,
		         port);
		mtx_lock(&srv.lock);
		sim_sentry_set_public_url(&srv.sentry, url);
		mtx_unlock(&srv.lock);
	}

	if (o.port_file != NULL && write_port_file(o.port_file, port) < 0) {
		atomic_store(&srv.stopping, 1);
		MHD_stop_daemon(d);
		mtx_destroy(&srv.lock);
		return 1;
	}
	if (strchr(host, ':') != NULL)
		printf("portal-sim listening on [%s]:%u\n", host, port);
	else
		printf("portal-sim listening on %s:%u\n", host, port);
	fflush(stdout);

	do
		rc = sigwait(&stop_signals, &sig);
	while (rc != 0);

	/* Hanging and sleeping handlers see this within POLL_STEP_MS. */
	atomic_store(&srv.stopping, 1);
	MHD_stop_daemon(d);
	mtx_destroy(&srv.lock);
	fprintf(stderr, "portal-sim: stopped by signal %d\n", sig);
	return 0;
}
