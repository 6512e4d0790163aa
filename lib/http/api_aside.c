/*
 * api_aside: a rendering made aside, in a forked child. fork() gives the
 * child a copy-on-write snapshot of vigild at one moment, so it renders
 * exactly what the loop would have, while the loop goes on answering
 * /health and polling: the loop pays for the fork (about a millisecond at
 * 1,000 probes), not for the rendering (30 ms for /metrics there, 0.34 s
 * at 10,000). Renewals behind readers go aside, and so do the renderings
 * a reader must get anew, while it waits (api_cache.c).
 *
 * The child writes the body into a memfd made before the fork (api_body
 * captures it there), and its headers and the body's length into a pipe;
 * the loop reads the pipe, and at its end makes the response from the
 * memfd, sent with sendfile() like any large answer. The child touches
 * nothing shared (no socket, no log line of its own, no question to MHD:
 * its sockets are closed here, see httpd_connections) and leaves with
 * _exit(); it dies with vigild (PR_SET_PDEATHSIG), so it cannot outlive
 * a restart holding the listening socket.
 */
#include "http/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"

/* The child's report: body length, then header name and value pairs. */
#define ASIDE_MSG_MAX 16384

struct aside {
	struct event_base *base;
	struct event *ev;	/* the pipe's read end */
	pid_t pid;		/* 0: none in flight */
	int rd, memfd;
	char msg[ASIDE_MSG_MAX];
	size_t len;
	int64_t started;	/* monotonic µs at the fork */
	int64_t deadline;	/* how long a child may take (µs) */
	api_aside_fn *done;
	void *arg;
};

struct hdr_out {
	char *buf;
	size_t len, cap;
	bool full;
};

static enum MHD_Result
put_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_out *o = cls;
	size_t kl = strlen(key) + 1, vl = strlen(value) + 1;

	(void)kind;
	if (o->len + kl + vl > o->cap) {
		o->full = true;
		return MHD_NO;
	}
	memcpy(o->buf + o->len, key, kl);
	memcpy(o->buf + o->len + kl, value, vl);
	o->len += kl + vl;
	return MHD_YES;
}

/*
 * Closes every descriptor but stdio and the two the child writes to: a
 * socket vigild closes must close now, not when the child is done with a
 * copy of it (a client waiting for the end of its answer, a peer for its
 * FIN, the listening socket across a restart).
 */
static void
keep_only(int a, int b)
{
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);

	if (lo > 3)
		(void)close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		(void)close_range(lo + 1, hi - 1, 0);
	(void)close_range(hi + 1, ~0U, 0);
}

/* In the child: render, report, leave. */
_Noreturn static void
child(int wr, int memfd, api_render_fn *render, struct api *a,
    const char *variant)
{
	char msg[ASIDE_MSG_MAX];
	struct hdr_out o = { msg + 8, 0, sizeof(msg) - 8, false };
	struct MHD_Response *r;
	uint64_t len;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	keep_only(wr, memfd);
	api_body_capture(memfd);
	if ((r = render(a, variant)) == NULL)
		_exit(1);
	len = api_body_captured();
	MHD_get_response_headers(r, put_header, &o);
	if (o.full)
		_exit(2);
	memcpy(msg, &len, 8);
	_exit(file_write_all(wr, msg, 8 + o.len) == 0 ? 0 : 3);
}

/* The report as a response, or NULL; takes x->memfd either way. */
static struct MHD_Response *
response(struct aside *x)
{
	struct MHD_Response *r;
	uint64_t len;
	size_t off = 8;

	if (x->len < 8) {
		close(x->memfd);
		return NULL;
	}
	memcpy(&len, x->msg, 8);
	if ((r = MHD_create_response_from_fd((size_t)len, x->memfd)) ==
	    NULL) {
		close(x->memfd);
		return NULL;
	}
	while (off < x->len) {
		const char *k = x->msg + off;
		size_t kl = strnlen(k, x->len - off);
		const char *v = k + kl + 1;
		size_t vl;

		if (off + kl + 1 >= x->len)
			break;
		vl = strnlen(v, x->len - off - kl - 1);
		if (off + kl + 1 + vl >= x->len)
			break;
		MHD_add_response_header(r, k, v);
		off += kl + 1 + vl + 1;
	}
	return r;
}

static void
finish(struct aside *x, struct MHD_Response *r, int64_t cost)
{
	event_del(x->ev);
	event_free(x->ev);
	x->ev = NULL;
	close(x->rd);
	x->pid = 0;
	x->done(x->arg, r, x->started, cost);
}

static void
on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct aside *x = arg;
	struct MHD_Response *r = NULL;
	struct rusage ru;
	ssize_t n;
	int st = 0;

	if (what & EV_TIMEOUT) {
		log_warn("event=render_aside_failed reason=deadline "
		    "after_ms=%lld", (long long)((clock_mono_us() -
		    x->started) / 1000));
		n = -1;
	} else {
		n = read(fd, x->msg + x->len, sizeof(x->msg) - x->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n > 0 && x->len + (size_t)n < sizeof(x->msg)) {
			x->len += (size_t)n;
			return;
		}
	}
	/* The end, a report too long to be one of ours, an error, or the
	 * deadline. */
	if (n != 0)
		kill(x->pid, SIGKILL);
	memset(&ru, 0, sizeof(ru));
	while (wait4(x->pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	if (n == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		r = response(x);
	else {
		close(x->memfd);
		if (!(what & EV_TIMEOUT))
			log_warn("event=render_aside_failed %s=%d",
			    WIFSIGNALED(st) ? "signal" : "status",
			    WIFSIGNALED(st) ? WTERMSIG(st) :
			    WEXITSTATUS(st));
	}
	/*
	 * What it cost is the child's CPU time: on a busy machine its wall
	 * time is mostly waiting for a CPU, and the loop waited for nothing.
	 */
	finish(x, r, (int64_t)ru.ru_utime.tv_sec * 1000000 +
	    ru.ru_utime.tv_usec + (int64_t)ru.ru_stime.tv_sec * 1000000 +
	    ru.ru_stime.tv_usec);
}

struct aside *
aside_new(struct event_base *base, int64_t deadline_us)
{
	struct aside *x = calloc(1, sizeof(*x));

	if (x != NULL) {
		x->base = base;
		x->deadline = deadline_us;
	}
	return x;
}

bool
aside_busy(const struct aside *x)
{
	return x != NULL && x->pid != 0;
}

bool
aside_start(struct aside *x, api_render_fn *render, struct api *a,
    const char *variant, api_aside_fn *done, void *arg)
{
	int p[2];
	struct timeval tv;

	if (x == NULL || x->pid != 0)
		return false;
	/* The child writes its report at its end: the pipe is silent until
	 * then, and a persistent event's timeout counts from the last read. */
	tv.tv_sec = (time_t)(x->deadline / 1000000);
	tv.tv_usec = (suseconds_t)(x->deadline % 1000000);
	if ((x->memfd = memfd_create("vigil-answer", MFD_CLOEXEC)) < 0)
		return false;
	if (pipe2(p, O_CLOEXEC) != 0) {
		close(x->memfd);
		return false;
	}
	x->ev = event_new(x->base, p[0], EV_READ | EV_PERSIST, on_pipe, x);
	if (x->ev == NULL || event_add(x->ev, &tv) != 0) {
		if (x->ev != NULL)
			event_free(x->ev);
		x->ev = NULL;
		close(p[0]);
		close(p[1]);
		close(x->memfd);
		return false;
	}
	x->started = clock_mono_us();
	if ((x->pid = fork()) == 0) {
		close(p[0]);
		child(p[1], x->memfd, render, a, variant);
	}
	close(p[1]);
	if (x->pid < 0) {
		x->pid = 0;
		event_free(x->ev);
		x->ev = NULL;
		close(p[0]);
		close(x->memfd);
		return false;
	}
	x->rd = p[0];
	x->len = 0;
	x->done = done;
	x->arg = arg;
	return true;
}

void
aside_free(struct aside *x)
{
	if (x == NULL)
		return;
	if (x->pid != 0) {
		kill(x->pid, SIGKILL);
		while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
			;
		event_free(x->ev);
		close(x->rd);
		close(x->memfd);
	}
	free(x);
}
