/*
 * The HTTP API's request handling: any bytes a client may send, over a
 * real loopback connection into vigild's API as vigild sets it up
 * (libmicrohttpd's parser, the router, the query and body parsers of
 * /silences, /deploys and /baseline). The token is "fuzz-token", so the
 * seed corpus reaches the writing endpoints too.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "http/api.h"
#include "config/config.h"
#include "release/deploy.h"
#include "engine/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static struct api *api;
static unsigned port;

/* A file with text in it, for the configuration to name. */
static char *
temp_file(const char *text)
{
	static char path[2][64];
	static int n;
	char *p = path[n++ % 2];
	int fd;

	snprintf(p, sizeof(path[0]), "/tmp/vigil-fuzz-api-XXXXXX");
	fd = mkstemp(p);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return p;
}

static void
setup(void)
{
	char cfgtext[1024], err[256];
	struct config_errors errs;
	struct config *cfg;
	struct monitor *m;
	struct deploys *d;
	char *token = temp_file("fuzz-token\n");
	char *path;

	/* One probe that never runs in a fuzzing session (1 h), one rule. */
	snprintf(cfgtext, sizeof(cfgtext), "{\"api\": {\"listen\": "
	    "\"127.0.0.1:0\", \"token_file\": \"%s\"}, \"probes\": [{\"name\":"
	    " \"app\", \"type\": \"http\", \"url\": \"http://127.0.0.1:9/\", "
	    "\"interval\": \"1h\", \"metrics\": {\"p95_ms\": \"/p95\"}}], "
	    "\"rules\": [{\"name\": \"api_p95\", \"metric\": \"app.p95_ms\", "
	    "\"op\": \">\", \"warn\": 500, \"crit\": 1000}]}", token);
	path = temp_file(cfgtext);
	base = event_base_new();
	cfg = config_load(path, &errs);
	unlink(path);
	if (base == NULL || cfg == NULL)
		abort();
	m = monitor_new(base, cfg, err, sizeof(err));
	if (m == NULL)
		abort();
	d = deploys_new(m);
	api = api_new(base, m, monitor_config(m), err, sizeof(err));
	if (d == NULL || api == NULL) {
		fprintf(stderr, "fuzz_api: %s\n", err);
		abort();
	}
	unlink(token);
	api_set_deploys(api, d);
	port = api_port(api);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lets the loop run a little: the API answers from there. */
static void
turn(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };

	event_base_loop(base, EVLOOP_NONBLOCK);
	poll(&p, 1, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa = { 0 };
	char buf[65536];
	size_t off = 0;
	int64_t deadline;
	int fd;

	if (api == NULL)
		setup();
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS)
		abort();
	/* Send it all (the API reads as the loop turns), then say EOF. */
	deadline = now_ms() + 2000;
	while (off < size && now_ms() < deadline) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOTCONN)
			break;	/* the API closed on us: its right */
		turn(fd, POLLOUT);
	}
	shutdown(fd, SHUT_WR);
	/* Read the answer until the API closes the connection. */
	while (now_ms() < deadline) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK))
			break;
		turn(fd, POLLIN);
	}
	close(fd);
	return 0;
}
