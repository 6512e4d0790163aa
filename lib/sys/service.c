#include "sys/service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/clock.h"
#include "config/config.h"
#include "engine/monitor.h"
#include "engine/ruleset.h"
#include "probe/probe.h"
#include "sys/sdnotify.h"

struct service {
	struct sdnotify *notify;	/* NULL: nobody to tell */
	uint64_t watchdog_usec;		/* 0: no watchdog */
	struct event *watchdog_ev;
	struct event *status_ev;
	service_summarize_fn summarize;
	void *arg;
	bool reload_rejected;
	bool stopping;
	bool failing;			/* the last send failed */
	char status[SERVICE_STATUS_MAX];	/* the line last sent */
	int64_t status_sent_ms;		/* monotonic, when it was sent */
};

/* Appends to buf at *off, keeping it NUL-terminated and in bounds. */
static void __attribute__((format(printf, 4, 5)))
append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off += (size_t)n;
	if (*off >= len)
		*off = len - 1;
}

size_t
service_status_format(const struct service_summary *s, char *buf,
    size_t len)
{
	size_t off = 0, waiting;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	/* First, because it is what an operator must act on. */
	if (s->reload_rejected)
		append(buf, len, &off, "reload rejected, previous "
		    "configuration running; ");
	if (s->probes == 0) {
		append(buf, len, &off, "no probes configured");
		return off;
	}
	append(buf, len, &off, "%zu probe%s, %zu up", s->probes,
	    s->probes == 1 ? "" : "s", s->up);
	if (s->down > 0) {
		append(buf, len, &off, ", %zu down", s->down);
		if (s->down_name != NULL && s->down == 1)
			append(buf, len, &off, " (%s)", s->down_name);
		else if (s->down_name != NULL)
			append(buf, len, &off, " (%s and %zu more)",
			    s->down_name, s->down - 1);
	}
	waiting = s->probes > s->up + s->down ? s->probes - s->up - s->down :
	    0;
	if (waiting > 0)
		append(buf, len, &off, ", %zu not run yet", waiting);
	if (s->critical + s->warning > 0) {
		unsigned n = s->critical + s->warning;

		append(buf, len, &off, ", %u alert%s firing", n,
		    n == 1 ? "" : "s");
		if (s->alert_name != NULL)
			append(buf, len, &off, n == 1 ? " (%s %s)" :
			    " (%s %s and %u more)", s->alert_name,
			    s->alert_sev, n - 1);
	}
	/* Probe names cannot hold one, but STATUS= must stay one line. */
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return off;
}

void
service_summarize_monitor(void *arg, struct service_summary *out)
{
	const struct monitor *m = arg;
	struct probe_view v;

	const struct ruleset *rs = monitor_rules(m);
	struct rule_view rv;
	int64_t now = clock_wall_ms();

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; ruleset_view(rs, i, now, &rv); i++) {
		if (rv.st->state != RULE_FIRING)
			continue;
		if (rv.st->sev == SEV_CRITICAL)
			out->critical++;
		else
			out->warning++;
		if (out->alert_name == NULL || (rv.st->sev == SEV_CRITICAL &&
		    strcmp(out->alert_sev, "critical") != 0)) {
			out->alert_name = rv.cfg->name;
			out->alert_sev = rule_sev_name(rv.st->sev);
		}
	}
	for (size_t i = 0; monitor_probe_view(m, i, &v); i++) {
		out->probes++;
		if (v.last == NULL)
			continue;
		if (v.last->up) {
			out->up++;
		} else {
			out->down++;
			if (out->down_name == NULL)
				out->down_name = v.name;
		}
	}
}

/*
 * Sends one message. A failure is logged when it starts and when it ends,
 * not at every watchdog ping: a manager that went away must not flood the
 * journal it feeds.
 */
static void
notify(struct service *s, const char *what, const char *msg)
{
	int rc = sdnotify_send(s->notify, msg);

	if (rc != 0 && !s->failing)
		log_warn("event=notify_failed message=%s error=\"%s\"", what,
		    strerror(-rc));
	else if (rc == 0 && s->failing)
		log_notice("event=notify_recovered message=%s", what);
	s->failing = rc != 0;
}

static void
current_status(struct service *s, char *buf, size_t len)
{
	struct service_summary sum;

	memset(&sum, 0, sizeof(sum));
	if (s->summarize != NULL)
		s->summarize(s->arg, &sum);
	sum.reload_rejected = s->reload_rejected;
	service_status_format(&sum, buf, len);
}

/* Sends READY=1 (when ready) with the current status line. */
static void
send_status(struct service *s, bool ready)
{
	char line[SERVICE_STATUS_MAX], msg[SERVICE_STATUS_MAX + 32];

	current_status(s, line, sizeof(line));
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", ready ? "READY=1\n" : "",
	    line);
	notify(s, ready ? "READY" : "STATUS", msg);
	memcpy(s->status, line, sizeof(s->status));
	s->status_sent_ms = clock_mono_us() / 1000;
}

/*
 * The status line is recomputed every second but sent only when it
 * changed (or every few seconds anyway): a probe run that changes nothing
 * costs the manager nothing.
 */
static void
on_status_tick(evutil_socket_t fd, short what, void *arg)
{
	struct service *s = arg;
	char line[SERVICE_STATUS_MAX];

	(void)fd;
	(void)what;
	if (s->stopping)
		return;
	current_status(s, line, sizeof(line));
	if (strcmp(line, s->status) != 0 ||
	    clock_mono_us() / 1000 - s->status_sent_ms >= SERVICE_STATUS_REFRESH_MS)
		send_status(s, false);
}

/*
 * Runs on the event loop like everything else, so it fires only while the
 * loop turns: a callback that never returns stops the pings, which is the
 * point.
 */
static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct service *s = arg;

	(void)fd;
	(void)what;
	notify(s, "WATCHDOG", "WATCHDOG=1");
}

static struct timeval
tv_usec(uint64_t usec)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	return tv;
}

struct service *
service_new(struct event_base *base, const char *notify_socket,
    const char *watchdog_usec, const char *watchdog_pid,
    service_summarize_fn summarize, void *arg)
{
	struct service *s = calloc(1, sizeof(*s));
	struct timeval tv;
	int rc;

	if (s == NULL)
		return NULL;
	s->summarize = summarize;
	s->arg = arg;
	rc = sdnotify_open(notify_socket, &s->notify);
	if (rc == -ENOMEM) {
		service_free(s);
		return NULL;
	}
	if (rc != 0) {
		/* Under Type=notify the start will time out, and say why. */
		log_err("event=notify_disabled notify_socket=\"%s\" "
		    "error=\"%s\"", LOG_Q(notify_socket), strerror(-rc));
		return s;
	}
	if (s->notify == NULL)
		return s;
	rc = sdnotify_watchdog(watchdog_usec, watchdog_pid, (long)getpid(),
	    &s->watchdog_usec);
	if (rc < 0) {
		log_err("event=watchdog_disabled watchdog_usec=\"%s\" "
		    "watchdog_pid=\"%s\" reason=\"malformed value\"",
		    LOG_Q(watchdog_usec), LOG_Q(watchdog_pid));
		s->watchdog_usec = 0;
	}
	s->status_ev = event_new(base, -1, EV_PERSIST, on_status_tick, s);
	if (s->status_ev == NULL) {
		service_free(s);
		return NULL;
	}
	if (s->watchdog_usec > 0) {
		s->watchdog_ev = event_new(base, -1, EV_PERSIST, on_watchdog,
		    s);
		tv = tv_usec(s->watchdog_usec / 2);
		if (s->watchdog_ev == NULL ||
		    event_add(s->watchdog_ev, &tv) != 0) {
			service_free(s);
			return NULL;
		}
	}
	log_info("event=notify_enabled notify_socket=\"%s\" watchdog_ms=%llu",
	    LOG_Q(notify_socket), (unsigned long long)(s->watchdog_usec / 1000));
	return s;
}

void
service_free(struct service *s)
{
	if (s == NULL)
		return;
	if (s->watchdog_ev != NULL)
		event_free(s->watchdog_ev);
	if (s->status_ev != NULL)
		event_free(s->status_ev);
	sdnotify_free(s->notify);
	free(s);
}

uint64_t
service_watchdog_usec(const struct service *s)
{
	return s->watchdog_usec;
}

void
service_ready(struct service *s)
{
	struct timeval tv = tv_usec(SERVICE_STATUS_CHECK_MS * 1000);

	if (s->notify == NULL)
		return;
	send_status(s, true);
	if (event_add(s->status_ev, &tv) != 0)
		log_warn("event=notify_status_timer_failed");
}

void
service_reloading(struct service *s)
{
	char msg[128];

	if (s->notify == NULL)
		return;
	/*
	 * systemd 253's Type=notify-reload wants the time of the request, to
	 * tell this reload from an older one; 252 ignores the field.
	 */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the configuration",
	    (unsigned long long)clock_mono_us());
	notify(s, "RELOADING", msg);
}

void
service_reloaded(struct service *s, bool ok)
{
	s->reload_rejected = !ok;
	if (s->notify == NULL)
		return;
	/* READY=1 either way: the daemon serves, old or new config. */
	send_status(s, true);
}

void
service_stopping(struct service *s)
{
	s->stopping = true;
	notify(s, "STOPPING", "STOPPING=1\nSTATUS=stopping");
}
