#include "base/evcurl.h"

#include <stdlib.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "base/log.h"

/*
 * Per-socket state that curl hands back through curl_multi_assign. Kept
 * on a free list when curl is done with its socket, with the event in
 * it: curl asks for a socket's events at every transfer, even on a kept
 * connection, and a block a run was the last allocation of vigild's own
 * in a probe run (tests/unit/check_run_allocs.c).
 */
struct evcurl_sock {
	struct event ev;	/* set (event_assign) while in use */
	struct evcurl *ec;
	struct evcurl_sock *next_free;
	curl_socket_t fd;
	int what;
};

struct evcurl {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct evcurl_sock *free_socks;
	int running;
};

static void
evcurl_drain(struct evcurl *ec)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(ec->multi, &left)) != NULL) {
		struct evcurl_xfer *x = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode res = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(ec->multi, easy);
		if (x != NULL && x->done != NULL)
			x->done(x, res);
	}
}

static void
evcurl_action(struct evcurl *ec, curl_socket_t fd, int mask)
{
	CURLMcode rc = curl_multi_socket_action(ec->multi, fd, mask,
	    &ec->running);

	if (rc != CURLM_OK)
		log_err("event=curl_multi_error error=\"%s\"",
		    curl_multi_strerror(rc));
	evcurl_drain(ec);
}

static void
evcurl_on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct evcurl_sock *s = arg;
	int mask = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	evcurl_action(s->ec, fd, mask);
}

static void
evcurl_on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evcurl_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int
evcurl_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
	struct evcurl *ec = userp;
	struct evcurl_sock *s = sockp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_del(&s->ev);
			s->next_free = ec->free_socks;
			ec->free_socks = s;
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (s == NULL) {
		if ((s = ec->free_socks) != NULL)
			ec->free_socks = s->next_free;
		else if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;	/* curl fails the transfer */
		s->ec = ec;
		s->fd = fd;
		curl_multi_assign(ec->multi, fd, s);
	} else {
		if (s->what == what)
			return 0;
		event_del(&s->ev);
	}
	s->what = what;
	if (event_assign(&s->ev, ec->base, fd, kind, evcurl_on_socket, s) !=
	    0 || event_add(&s->ev, NULL) != 0)
		return -1;
	return 0;
}

static int
evcurl_timer_cb(CURLM *multi, long ms, void *userp)
{
	struct evcurl *ec = userp;

	(void)multi;
	if (ms < 0) {
		evtimer_del(ec->timer);
	} else {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

		/* 0 means "soon": the next loop pass, not from here. */
		evtimer_add(ec->timer, &tv);
	}
	return 0;
}

struct evcurl *
evcurl_new(struct event_base *base)
{
	struct evcurl *ec = calloc(1, sizeof(*ec));

	if (ec == NULL)
		return NULL;
	ec->base = base;
	ec->multi = curl_multi_init();
	ec->timer = evtimer_new(base, evcurl_on_timer, ec);
	if (ec->multi == NULL || ec->timer == NULL) {
		evcurl_free(ec);
		return NULL;
	}
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETFUNCTION, evcurl_sock_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_SOCKETDATA, ec);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERFUNCTION, evcurl_timer_cb);
	curl_multi_setopt(ec->multi, CURLMOPT_TIMERDATA, ec);
	return ec;
}

void
evcurl_free(struct evcurl *ec)
{
	if (ec == NULL)
		return;
	if (ec->multi != NULL)
		curl_multi_cleanup(ec->multi);
	if (ec->timer != NULL)
		event_free(ec->timer);
	while (ec->free_socks != NULL) {
		struct evcurl_sock *s = ec->free_socks;

		ec->free_socks = s->next_free;
		free(s);
	}
	free(ec);
}

int
evcurl_add(struct evcurl *ec, struct evcurl_xfer *x)
{
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(ec->multi, x->easy) != CURLM_OK)
		return -1;
	return 0;
}

void
evcurl_remove(struct evcurl *ec, struct evcurl_xfer *x)
{
	curl_multi_remove_handle(ec->multi, x->easy);
}

void
evcurl_set_max_idle(struct evcurl *ec, long n)
{
	curl_multi_setopt(ec->multi, CURLMOPT_MAXCONNECTS, n);
}

int
evcurl_running(const struct evcurl *ec)
{
	return ec->running;
}
