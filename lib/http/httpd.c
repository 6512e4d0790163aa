#include "http/httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "base/clock.h"
#include "base/log.h"

/* Descriptors kept for everything but HTTP clients: probes, the log. */
#define FD_RESERVE 256
/* Connections past max_conns kept for the reserved paths (/health). */
#define CONN_RESERVE 16
/* MHD's own messages: at most this many per LOG_WINDOW_S seconds. */
/*
 * Each connection's send buffer, fixed instead of autotuned (which grows
 * to megabytes on loopback): the loop answers every ready connection in
 * one pass, and twenty readers each taking a whole 1.5 MB /metrics in one
 * send() kept /health waiting for the copying. The kernel doubles it;
 * 512 KiB in flight still fills a 50 ms WAN path at 10 MB/s.
 */
#define SEND_BUFFER (256 * 1024)
#define LOG_BURST 10
#define LOG_WINDOW_S 60
/*
 * How long a new connection has to send its first request before it can
 * be taken for idle and closed to make room (see admit).
 */
#define FIRST_REQUEST_GRACE_US 2000000

struct httpd {
	struct event_base *base;
	struct MHD_Daemon *mhd;
	struct event *io;
	struct event *timer;
	unsigned port;
	unsigned max_conns;
	unsigned per_ip;		/* 0: no per-address share */
	const char *const *reserved;	/* paths answered in the reserve */
	struct timeval deadline;	/* zero: none */
	MHD_AccessHandlerCallback handler;
	void *handler_cls;
	MHD_RequestCompletedCallback completed;
	void *completed_cls;
	/* Every connection, least recently active first (see admit). */
	struct hconn *head, *tail;
	unsigned live;			/* not being dropped */
	/*
	 * Every connection MHD holds, counted here and not asked of MHD: a
	 * rendering made in a forked child reads it, and MHD, asked, would
	 * first clean up closed connections, closing in the child sockets
	 * the child had closed, and abort (api_aside.c).
	 */
	unsigned open;
	/* Copies of the TLS material: MHD must not see it freed. */
	char *cert_pem, *key_pem;
	/* Rate limit of MHD's messages: a flood must not flood the log. */
	time_t log_window;
	unsigned log_count, log_dropped;
};

/*
 * A connection as vigild tracks it: its deadline, its client's address,
 * whether a request is in progress; MHD keeps it as the socket context.
 */
struct hconn {
	struct httpd *h;
	struct event *deadline;		/* NULL: no request deadline */
	struct event *probation;	/* over its share: the grace's end */
	int64_t accepted;		/* monotonic µs */
	int fd;
	struct hconn *prev, *next;
	int family;
	unsigned char addr[16];
	bool busy;			/* a request is being handled */
	bool dropping;			/* shut down, MHD yet to close it */
};

static void httpd_run(struct httpd *h);

/* Whether a write to a closed peer returns EPIPE rather than killing us. */
static int
sigpipe_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* MHD hands its own printf-style format: say so, for the compilers. */
static void httpd_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	time_t now = time(NULL);
	char buf[512];
	size_t n;

	if (now - h->log_window >= LOG_WINDOW_S) {
		if (h->log_dropped > 0)
			log_warn("event=http_server_notes_dropped count=%u "
			    "window_s=%d", h->log_dropped, LOG_WINDOW_S);
		h->log_window = now;
		h->log_count = h->log_dropped = 0;
	}
	if (h->log_count >= LOG_BURST) {
		h->log_dropped++;
		return;
	}
	h->log_count++;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	log_info("event=http_server_note msg=\"%s\"", LOG_Q(buf));
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

/*
 * A request overran its deadline. MHD has no call to drop a connection,
 * so its socket is shut down under it: MHD then reads end of file and
 * closes the connection itself, with its own bookkeeping intact.
 */
static void
httpd_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *hc = arg;

	(void)fd;
	(void)what;
	log_debug("event=http_deadline fd=%d", hc->fd);
	shutdown(hc->fd, SHUT_RDWR);
	httpd_run(hc->h);
}

static void
unlink_conn(struct httpd *h, struct hconn *hc)
{
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		h->head = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	else
		h->tail = hc->prev;
	hc->prev = hc->next = NULL;
}

static void
append_conn(struct httpd *h, struct hconn *hc)
{
	hc->prev = h->tail;
	hc->next = NULL;
	if (h->tail != NULL)
		h->tail->next = hc;
	else
		h->head = hc;
	h->tail = hc;
}

/* MHD has no call to drop a connection: shut its socket down under it. */
static void
drop(struct httpd *h, struct hconn *hc)
{
	if (hc->dropping)
		return;
	hc->dropping = true;
	h->live--;
	shutdown(hc->fd, SHUT_RDWR);
}

static bool
same_addr(const struct hconn *a, const struct hconn *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr,
	    sizeof(a->addr)) == 0;
}

/*
 * Whether c is doing nothing: no request in progress and none waiting
 * unread. A client that has just connected and sent its request (MHD has
 * not read it yet) is not idle: taken for idle, a /health from an address
 * whose share reconnecting idle sockets keep full could be shut down
 * between its accept and its first read (1 in 30 in test_hostile).
 */
static bool
idle(const struct hconn *c)
{
	char b;

	if (c->dropping || c->busy)
		return false;
	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

static bool
young(const struct hconn *c, int64_t now)
{
	return now - c->accepted < FIRST_REQUEST_GRACE_US;
}

/* Connections of c's address, those being dropped aside. */
static unsigned
share_of(const struct httpd *h, const struct hconn *nc)
{
	unsigned mine = 0;

	for (const struct hconn *c = h->head; c != NULL; c = c->next)
		if (!c->dropping && same_addr(c, nc))
			mine++;
	return mine;
}

/*
 * A connection let in over its address's share had its grace to ask
 * something: unless a request of its own is being answered, it goes
 * while the address is still over. A request begun and not finished
 * counts for nothing, or a client sending headers a byte a second could
 * hold the share past it until the request deadline.
 */
static void
httpd_on_probation(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *hc = arg;
	struct httpd *h = hc->h;

	(void)fd;
	(void)what;
	if (!hc->busy && !hc->dropping && share_of(h, hc) > h->per_ip) {
		drop(h, hc);
		httpd_run(h);
	}
}

/*
 * Makes room for a new connection, as idle ones give way: when its
 * address holds more than its share, or all clients together more than
 * max_conns, the least recently active connection doing nothing (idle:
 * no request in progress or waiting) is shut down -- of that address, or
 * of anyone. Idle sockets, however many and however quickly reopened,
 * cannot then keep out a client with something to ask, UptimeRobot's
 * /health from the same address among them.
 *
 * Within its address's share, a connection younger than
 * FIRST_REQUEST_GRACE_US is never the one to go: between its accept and
 * its request it looks idle, and idle sockets reconnecting as fast as
 * they are dropped made every older one younger still, so a /health from
 * their address was shut down before it could ask (one request in a
 * hundred, under AddressSanitizer). A newcomer that finds no older idle
 * connection to replace is let in on probation instead (see
 * httpd_on_probation). With none idle at all, it stays in the reserve,
 * where only the reserved paths are answered.
 */
static void
admit(struct httpd *h, struct hconn *nc)
{
	int64_t now = nc->accepted;

	if (h->per_ip > 0 && share_of(h, nc) > h->per_ip) {
		struct hconn *victim = NULL;

		for (struct hconn *c = h->head; c != NULL; c = c->next)
			if (c != nc && same_addr(c, nc) && !young(c, now) &&
			    idle(c)) {
				victim = c;
				break;
			}
		if (victim == NULL) {
			struct timeval tv = { FIRST_REQUEST_GRACE_US / 1000000,
			    FIRST_REQUEST_GRACE_US % 1000000 };

			nc->probation = evtimer_new(h->base,
			    httpd_on_probation, nc);
			if (nc->probation == NULL ||
			    evtimer_add(nc->probation, &tv) != 0)
				drop(h, nc);	/* no timer: no grace */
			return;
		}
		drop(h, victim);
	}
	if (h->live > h->max_conns)
		for (struct hconn *c = h->head; c != NULL; c = c->next)
			if (c != nc && idle(c)) {
				drop(h, c);
				break;
			}
}

static void
httpd_notify_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	struct hconn *hc = *socket_ctx;
	const union MHD_ConnectionInfo *ci, *ai;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		h->open--;
		if (hc != NULL) {
			unlink_conn(h, hc);
			if (!hc->dropping)
				h->live--;
			if (hc->deadline != NULL)
				event_free(hc->deadline);
			if (hc->probation != NULL)
				event_free(hc->probation);
			free(hc);
		}
		*socket_ctx = NULL;
		return;
	}
	h->open++;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	hc = calloc(1, sizeof(*hc));
	if (hc == NULL || ci == NULL) {
		/* Untracked, it still has MHD's idle timeout and limit. */
		free(hc);
		return;
	}
	hc->h = h;
	hc->fd = ci->connect_fd;
	hc->accepted = clock_mono_us();
	(void)setsockopt(hc->fd, SOL_SOCKET, SO_SNDBUF, &(int){ SEND_BUFFER },
	    sizeof(int));
	if (ai != NULL && ai->client_addr != NULL) {
		const struct sockaddr *sa = ai->client_addr;

		hc->family = sa->sa_family;
		if (sa->sa_family == AF_INET)
			memcpy(hc->addr, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, 4);
		else if (sa->sa_family == AF_INET6)
			memcpy(hc->addr, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, 16);
	}
	if (evutil_timerisset(&h->deadline)) {
		hc->deadline = evtimer_new(h->base, httpd_on_deadline, hc);
		if (hc->deadline != NULL &&
		    evtimer_add(hc->deadline, &h->deadline) != 0) {
			event_free(hc->deadline);
			hc->deadline = NULL;
		}
	}
	*socket_ctx = hc;
	append_conn(h, hc);
	h->live++;
	admit(h, hc);
}

static bool
reserved(const struct httpd *h, const char *url)
{
	for (size_t i = 0; h->reserved != NULL && h->reserved[i] != NULL;
	    i++)
		if (strcmp(url, h->reserved[i]) == 0)
			return true;
	return false;
}

/*
 * Every request passes here first: its connection is busy until it is
 * answered (so it does not give way), and past max_conns only the
 * reserved paths are served.
 */
static enum MHD_Result
httpd_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct httpd *h = cls;
	const union MHD_ConnectionInfo *ci;

	if (*con_cls == NULL) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci != NULL && ci->socket_context != NULL)
			((struct hconn *)ci->socket_context)->busy = true;
		if (h->live > h->max_conns && !reserved(h, url)) {
			static char busy[] = "{\"error\":\"too many "
			    "connections; /health and /livez are still "
			    "answered\"}";
			struct MHD_Response *r = MHD_create_response_from_buffer(
			    strlen(busy), busy, MHD_RESPMEM_PERSISTENT);
			enum MHD_Result ret;

			if (r == NULL)
				return MHD_NO;
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
			    "application/json");
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
			    "close");
			ret = MHD_queue_response(c,
			    MHD_HTTP_SERVICE_UNAVAILABLE, r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	return h->handler(h->handler_cls, c, url, method, version, upload,
	    upload_size, con_cls);
}

/* A request was answered: the next one on the connection starts afresh. */
static void
httpd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && ci->socket_context != NULL) {
		struct hconn *hc = ci->socket_context;

		if (hc->deadline != NULL)
			evtimer_add(hc->deadline, &h->deadline);
		/* Idle again, and the most recently active of all. */
		hc->busy = false;
		unlink_conn(h, hc);
		append_conn(h, hc);
	}
	if (h->completed != NULL)
		h->completed(h->completed_cls, c, con_cls, toe);
}

/*
 * The connection limit, lowered when the descriptor limit could not hold
 * it: a daemon out of descriptors cannot open a probe's socket either.
 */
static unsigned
fit_conns(unsigned want)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	room = rl.rlim_cur > FD_RESERVE * 2 ? rl.rlim_cur - FD_RESERVE :
	    rl.rlim_cur / 2;
	if (room >= want)
		return want;
	log_notice("event=http_connection_limit limit=%llu wanted=%u "
	    "reason=\"the descriptor limit (RLIMIT_NOFILE) is %llu\"",
	    (unsigned long long)room, want,
	    (unsigned long long)rl.rlim_cur);
	return (unsigned)room;
}

static char *
dup_secret(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct httpd *
httpd_new(struct event_base *base, const char *listen,
    const struct httpd_limits *lim, const struct httpd_tls *tls,
    MHD_AccessHandlerCallback handler,
    MHD_RequestCompletedCallback completed, void *cls, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	/* Suspend and resume: a reader waits for a rendering made aside. */
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem tls_opts[4];
	struct httpd *h;
	const char *why;
	char host[64];
	unsigned port, fitted;

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
	if (tls != NULL && MHD_is_feature_supported(MHD_FEATURE_TLS) !=
	    MHD_YES) {
		snprintf(err, errlen, "api.tls is set, but this "
		    "libmicrohttpd was built without TLS support");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->completed = completed;
	h->completed_cls = cls;
	h->deadline.tv_sec = (time_t)lim->deadline_s;
	fitted = fit_conns(lim->max_conns + CONN_RESERVE);
	h->max_conns = fitted > 2 * CONN_RESERVE ? fitted - CONN_RESERVE :
	    fitted / 2;
	h->per_ip = lim->max_conns_per_ip;
	h->reserved = lim->reserved;
	h->handler = handler;
	h->handler_cls = cls;
	/* The options MHD reads only when TLS is on; an empty list else. */
	memset(tls_opts, 0, sizeof(tls_opts));
	tls_opts[0].option = MHD_OPTION_END;
	if (tls != NULL) {
		h->cert_pem = dup_secret(tls->cert_pem);
		h->key_pem = dup_secret(tls->key_pem);
		if (h->cert_pem == NULL || h->key_pem == NULL) {
			snprintf(err, errlen, "out of memory");
			httpd_free(h);
			return NULL;
		}
		flags |= MHD_USE_TLS;
		tls_opts[0] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem };
		tls_opts[1] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem };
		/*
		 * GnuTLS's defaults, but TLS 1.2 and 1.3 only: 1.0 and 1.1
		 * are deprecated (RFC 8996) and nothing that polls vigild
		 * needs them.
		 */
		tls_opts[2] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)
		    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
		tls_opts[3] = (struct MHD_OptionItem){ MHD_OPTION_END, 0,
		    NULL };
	}
	h->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
	    httpd_access, h,
	    /* First, so that MHD routes all of its messages through it. */
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    /* The shares are admit's: MHD only caps the whole. */
	    MHD_OPTION_CONNECTION_LIMIT, fitted,
	    MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->conn_memory,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_notify_conn, h,
	    /*
	     * Where SIGPIPE is ignored (vigild ignores it), MHD may send a
	     * file's pages with sendfile(): api.c keeps large answers in a
	     * memfd, and they then reach each reader without a copy.
	     */
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, sigpipe_ignored(),
	    MHD_OPTION_ARRAY, tls_opts,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		if (tls != NULL)
			snprintf(err, errlen, "cannot listen on %s with TLS "
			    "(address in use, not an address of this host, or "
			    "a certificate and key that do not load or do not "
			    "match)", listen);
		else
			snprintf(err, errlen, "cannot listen on %s (address in "
			    "use, or not an address of this host)", listen);
		httpd_free(h);
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

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
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
	/* Closes every connection; their deadlines go with them. */
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	free_secret(h->cert_pem);
	free_secret(h->key_pem);
	free(h);
}

void
httpd_kick(struct httpd *h)
{
	httpd_run(h);
}

unsigned
httpd_port(const struct httpd *h)
{
	return h->port;
}

unsigned
httpd_connections(const struct httpd *h)
{
	return h->open;
}

unsigned
httpd_max_conns(const struct httpd *h)
{
	return h->max_conns;
}
