/*
 * floor: the least a poller can spend per HTTP probe on this machine, as a
 * yardstick for vigild's loop in bench/bench.py. One epoll loop, raw
 * non-blocking sockets, no library: N targets http://127.0.0.1:PORT/t/I,
 * each GET once a second (due times spread evenly over the second, as
 * vigild spreads its probes), the answer read whole (Content-Length) and
 * judged like vigild's probes: status 200 and a keyword in the body.
 *
 *   floor [-n] [-b MS] [-k KEYWORD] PORT N
 *
 * -n: a new connection per run (connect, send, recv, close), as Monit
 * does; otherwise one keep-alive connection per target, kept in epoll
 * across runs. -b: runs due within MS milliseconds of the first due are
 * started in the same loop pass (fewer wake-ups, runs up to MS early). Runs until SIGTERM or SIGINT, then prints one line of
 * counts on stdout. Not part of vigil; built by bench/run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ		2048		/* nginx's answer here is ~250 bytes */
#define TIMEOUT_NS	5000000000LL	/* as vigild's probes in the bench */

enum state { IDLE, CONNECTING, SENDING, READING };

struct target {
	int		 fd;		/* -1: no connection */
	enum state	 st;
	int64_t		 started;	/* ns, when the run began */
	size_t		 sent;
	size_t		 have;
	char		 buf[BUFSZ];
};

static volatile sig_atomic_t stop;
static struct sockaddr_in addr;
static int ep;
static int fresh;		/* -n */
static const char *keyword = "\"status\":\"ok\"";
static char req[256];
static size_t reqlen;
static int port;
static int64_t batch_ns;	/* -b */
static unsigned long n_ok, n_fail, n_skip, n_conn;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Target i's request, written when it is sent, as a client library
 * writes its request per transfer. */
static void
make_req(int i)
{
	reqlen = (size_t)snprintf(req, sizeof(req),
	    "GET /t/%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n\r\n",
	    i, port);
}

static void
drop(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);	/* close removes it from epoll too */
	t->fd = -1;
	t->st = IDLE;
}

static void
finish(struct target *t, int ok)
{
	if (ok)
		n_ok++;
	else
		n_fail++;
	if (fresh || !ok)
		drop(t);
	else
		t->st = IDLE;
}

/*
 * The answer so far: -1 broken, 0 incomplete, 1 whole. *ok: status 200
 * and the keyword in the body.
 */
static int
parse(const struct target *t, int *ok)
{
	const char *b = t->buf, *end, *p;
	size_t hlen, clen;

	end = memmem(b, t->have, "\r\n\r\n", 4);
	if (end == NULL)
		return t->have >= BUFSZ ? -1 : 0;
	hlen = (size_t)(end - b) + 4;
	p = memmem(b, hlen, "\r\nContent-Length:", 17);
	if (p == NULL)
		p = memmem(b, hlen, "\r\ncontent-length:", 17);
	if (p == NULL)
		return -1;	/* nginx always sends it for these answers */
	clen = strtoul(p + 17, NULL, 10);
	if (hlen + clen > BUFSZ)
		return -1;
	if (t->have < hlen + clen)
		return 0;
	*ok = t->have >= 12 && memcmp(b, "HTTP/1.", 7) == 0 &&
	    memcmp(b + 8, " 200", 4) == 0 &&
	    memmem(b + hlen, clen, keyword, strlen(keyword)) != NULL;
	return 1;
}

static void
on_readable(struct target *t)
{
	ssize_t r;
	int ok = 0, done;

	for (;;) {
		r = recv(t->fd, t->buf + t->have, BUFSZ - t->have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			/* A keep-alive connection the server closed between
			 * runs is not a failed run: reconnect at the next. */
			if (t->st == IDLE)
				drop(t);
			else
				finish(t, 0);
			return;
		}
		if (t->st != READING) {
			finish(t, 0);	/* bytes nobody asked for */
			return;
		}
		t->have += (size_t)r;
		done = parse(t, &ok);
		if (done != 0) {
			finish(t, done > 0 && ok);
			return;
		}
	}
}

static void
send_req(struct target *t)
{
	struct epoll_event ev;
	ssize_t r;

	while (t->sent < reqlen) {
		r = send(t->fd, req + t->sent, reqlen - t->sent, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			if (t->st != SENDING) {
				t->st = SENDING;
				ev.events = EPOLLIN | EPOLLOUT;
				ev.data.ptr = t;
				epoll_ctl(ep, EPOLL_CTL_MOD, t->fd, &ev);
			}
			return;
		}
		if (r < 0) {
			finish(t, 0);
			return;
		}
		t->sent += (size_t)r;
	}
	if (t->st == SENDING || t->st == CONNECTING) {
		ev.events = EPOLLIN;
		ev.data.ptr = t;
		epoll_ctl(ep, EPOLL_CTL_MOD, t->fd, &ev);
	}
	t->st = READING;
}

static void
on_writable(struct target *t)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (t->st == CONNECTING) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err != 0) {
			finish(t, 0);
			return;
		}
	}
	if (t->st == CONNECTING || t->st == SENDING)
		send_req(t);
}

static void
launch(struct target *t, int64_t now)
{
	struct epoll_event ev;
	int one = 1;

	if (t->st != IDLE) {
		if (now - t->started < TIMEOUT_NS) {
			n_skip++;	/* still in flight, as vigild skips */
			return;
		}
		finish(t, 0);
	}
	t->started = now;
	t->sent = t->have = 0;
	if (t->fd >= 0) {
		send_req(t);
		return;
	}
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		n_fail++;
		return;
	}
	n_conn++;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = t;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t->fd, &ev) < 0) {
		finish(t, 0);
		return;
	}
	t->st = CONNECTING;
	if (connect(t->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
	    errno != EINPROGRESS)
		finish(t, 0);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct target *ts;
	struct sigaction sa;
	int64_t t0, now, due;
	unsigned long long j = 0;	/* runs launched or skipped */
	int c, i, k, n, r, wait_ms;

	while ((c = getopt(argc, argv, "nb:k:")) != -1) {
		if (c == 'n')
			fresh = 1;
		else if (c == 'b')
			batch_ns = strtoll(optarg, NULL, 10) * 1000000LL;
		else if (c == 'k')
			keyword = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	port = (int)strtol(argv[optind], NULL, 10);
	n = (int)strtol(argv[optind + 1], NULL, 10);
	if (port <= 0 || port > 65535 || n <= 0)
		goto usage;
	ts = calloc((size_t)n, sizeof(*ts));
	if (ts == NULL)
		return 1;
	for (i = 0; i < n; i++)
		ts[i].fd = -1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	t0 = now_ns();
	while (!stop) {
		now = now_ns();
		/* Run j is target j % n, due at t0 + j/n s: every run due by
		 * now (or by now + the batch) is started in this pass. */
		for (;;) {
			due = t0 + (int64_t)(j * 1000000000ULL / (unsigned)n);
			if (due > now + batch_ns)
				break;
			i = (int)(j % (unsigned)n);
			make_req(i);
			launch(&ts[i], now);
			j++;
		}
		/* Wake at the next run's due time, which is past the batch. */
		wait_ms = (int)((due - now + 999999) / 1000000);
		r = epoll_wait(ep, evs, 256, wait_ms);
		for (k = 0; k < r; k++) {
			struct target *t = evs[k].data.ptr;

			if (evs[k].events & EPOLLOUT) {
				make_req((int)(t - ts));
				on_writable(t);
			}
			if (t->fd >= 0 &&
			    (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				on_readable(t);
		}
	}
	printf("runs %llu ok %lu fail %lu skipped %lu connections %lu\n",
	    j, n_ok, n_fail, n_skip, n_conn);
	for (i = 0; i < n; i++)
		drop(&ts[i]);
	free(ts);
	close(ep);
	return 0;
usage:
	fprintf(stderr, "usage: floor [-n] [-b MS] [-k KEYWORD] PORT N\n");
	return 2;
}
