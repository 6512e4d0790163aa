#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"

struct httpd {
	struct MHD_Daemon *mhd;
	struct event *io;
	struct event *timer;
	unsigned port;
};

static void
httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_info("event=http_server_note msg=\"%s\"", buf);
}

/* Runs MHD, then re-arms the timer for its next deadline. */
static void
httpd_run(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
		struct timeval tv;

		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
		evtimer_add(h->timer, &tv);
	} else {
		evtimer_del(h->timer);
	}
}

static void
httpd_on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	httpd_run(arg);
}

struct httpd *
httpd_new(struct event_base *base, const char *listen,
    const struct httpd_limits *lim, MHD_AccessHandlerCallback handler,
    MHD_RequestCompletedCallback completed, void *cls, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct httpd *h;
	const char *why;
	char host[64];
	unsigned port;

	if (config_split_listen(listen, host, sizeof(host), &port, &why) !=
	    0) {
		snprintf(err, errlen, "listen \"%s\": %s", listen, why);
		return NULL;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "listen \"%s\": bad address", listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler,
	    cls,
	    /* First, so that MHD routes all of its messages through it. */
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, lim->max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_conns_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->conn_memory,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s (address in use, "
		    "or not an address of this host)", listen);
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->io = event_new(base, info->epoll_fd, EV_READ | EV_PERSIST,
	    httpd_on_event, h);
	h->timer = evtimer_new(base, httpd_on_event, h);
	if (h->io == NULL || h->timer == NULL || event_add(h->io, NULL)) {
		snprintf(err, errlen, "out of memory");
		httpd_free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : port;
	httpd_run(h);
	return h;
}

void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	if (h->io != NULL)
		event_free(h->io);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	free(h);
}

unsigned
httpd_port(const struct httpd *h)
{
	return h->port;
}
