#include "probe/probe.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/sbuf.h"
#include "config/config.h"
#include "probe/probe_heartbeat.h"
#include "probe/probe_http.h"
#include "probe/probe_pg.h"
#include "probe/probe_dns.h"
#include "probe/probe_sentry.h"
#include "probe/probe_net.h"
#include "base/utf8.h"

struct probe {
	const struct probe_ops *ops;
	void *impl;
	const struct probe_cfg *cfg;
	bool running;		/* from probe_start until done */
	bool ending;		/* probe_end called; done on its way */
	int64_t start_us;	/* clock_mono_us at probe_start */
	struct event *defer;	/* calls done from the loop */
	probe_done_fn done;
	void *arg;
	struct probe_result result;
};

static const char *const fail_names[] = {
	[PROBE_FAIL_NONE] = "none",
	[PROBE_FAIL_CONNECT] = "connect",
	[PROBE_FAIL_TIMEOUT] = "timeout",
	[PROBE_FAIL_STATUS] = "status",
	[PROBE_FAIL_BODY] = "body",
	[PROBE_FAIL_JSON] = "json",
	[PROBE_FAIL_INTERNAL] = "internal",
	[PROBE_FAIL_AUTH] = "auth",
	[PROBE_FAIL_QUERY] = "query",
	[PROBE_FAIL_RATE_LIMITED] = "rate_limited",
	[PROBE_FAIL_BLOCKED] = "blocked",
};

const char *
probe_fail_name(enum probe_fail f)
{
	if ((size_t)f >= sizeof(fail_names) / sizeof(fail_names[0]))
		return "unknown";
	return fail_names[f];
}

void
probe_result_init(struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
probe_result_clear(struct probe_result *r)
{
	for (size_t i = 0; i < r->named; i++)
		free(r->metrics[i].name);
	free(r->metrics);
	free(r->notes_buf);
	probe_result_init(r);
}

void
probe_result_reset(struct probe_result *r)
{
	struct probe_metric *m = r->metrics;
	size_t named = r->named, alloc = r->alloc;
	char *nb = r->notes_buf;

	probe_result_init(r);
	r->metrics = m;
	r->named = named;
	r->alloc = alloc;
	r->notes_buf = nb;
}

/*
 * Appends a metric, in the next slot's kept name block when it is large
 * enough: runs add the same names in the same order, so in the steady
 * state this copies a few bytes and allocates nothing.
 */
static int
metric_put(struct probe_result *r, const char *name, double v)
{
	size_t n = strlen(name) + 1;
	struct probe_metric *m;

	if (r->nmetrics == r->alloc) {
		size_t a = r->alloc == 0 ? 8 : r->alloc * 2;

		if ((m = realloc(r->metrics, a * sizeof(*m))) == NULL)
			return -1;
		r->metrics = m;
		r->alloc = a;
	}
	m = &r->metrics[r->nmetrics];
	if (r->nmetrics == r->named) {
		if ((m->name = malloc(n)) == NULL)
			return -1;
		m->name_cap = n;
		r->named++;
	} else if (m->name_cap < n) {
		char *s = realloc(m->name, n);

		if (s == NULL)
			return -1;
		m->name = s;
		m->name_cap = n;
	}
	memcpy(m->name, name, n);
	m->value = v;
	r->nmetrics++;
	return 0;
}

int
probe_result_add(struct probe_result *r, const char *name, double v)
{
	if (!isfinite(v))
		return 0;
	for (size_t i = 0; i < r->nmetrics; i++) {
		if (strcmp(r->metrics[i].name, name) == 0) {
			r->metrics[i].value = v;
			return 0;
		}
	}
	return metric_put(r, name, v);
}

bool
probe_result_get(const struct probe_result *r, const char *name, double *v)
{
	for (size_t i = 0; i < r->nmetrics; i++) {
		if (strcmp(r->metrics[i].name, name) == 0) {
			*v = r->metrics[i].value;
			return true;
		}
	}
	return false;
}

/* The notes' buffer, emptied for this run's first note; NULL: no memory. */
static char *
notes_open(struct probe_result *r)
{
	if (r->notes != NULL)
		return r->notes;
	if (r->notes_buf == NULL &&
	    (r->notes_buf = malloc(PROBE_NOTES_MAX)) == NULL)
		return NULL;
	r->notes = r->notes_buf;
	r->notes[0] = '\0';
	return r->notes;
}

int
probe_result_copy(struct probe_result *dst, const struct probe_result *src)
{
	probe_result_reset(dst);
	dst->started = src->started;
	dst->up = src->up;
	dst->fail = src->fail;
	memcpy(dst->reason, src->reason, sizeof(dst->reason));
	dst->duration_ms = src->duration_ms;
	if (src->notes != NULL) {
		if (notes_open(dst) == NULL)
			return -1;
		snprintf(dst->notes, PROBE_NOTES_MAX, "%s", src->notes);
	}
	/* src has each name once: no search. */
	for (size_t i = 0; i < src->nmetrics; i++)
		if (metric_put(dst, src->metrics[i].name,
		    src->metrics[i].value) != 0)
			return -1;
	return 0;
}

void
probe_result_failf(struct probe_result *r, enum probe_fail f,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	probe_result_vfailf(r, f, fmt, ap);
	va_end(ap);
}

void
probe_result_vfailf(struct probe_result *r, enum probe_fail f,
    const char *fmt, va_list ap)
{
	r->up = false;
	r->fail = f;
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	/* Reasons quote targets; they must stay valid in JSON answers. */
	utf8_scrub(r->reason);
}

void
probe_quote(const char *in, char *out, size_t len)
{
	size_t o = 0;
	bool space = false;

	VIGIL_ASSERT(len >= 8);
	out[o++] = '"';
	/* Room kept for ...", and the NUL: 5 bytes. */
	for (; *in != '\0'; ) {
		unsigned char c = (unsigned char)*in;
		size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		size_t need;

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			space = o > 1;
			in++;
			continue;
		}
		if (n > 1 && strnlen(in, n) < n)
			n = 1;
		need = (space ? 1 : 0) + (c == '"' || c == '\\' ? 2 : n);
		if (o + need + 5 > len)
			break;
		if (space)
			out[o++] = ' ';
		space = false;
		if (c == '"' || c == '\\')
			out[o++] = '\\';
		memcpy(out + o, in, n);
		o += n;
		in += n;
	}
	if (*in != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

void
probe_result_notef(struct probe_result *r, const char *fmt, ...)
{
	static const char more[] = "; ...";
	size_t n;
	char *s;
	va_list ap;
	int w;

	if ((s = notes_open(r)) == NULL)
		return;
	n = strlen(s);
	/* Already full: the marker is there. */
	if (n >= sizeof(more) - 1 &&
	    strcmp(s + n - (sizeof(more) - 1), more) == 0)
		return;
	if (n > 0) {
		memcpy(s + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	w = vsnprintf(s + n, PROBE_NOTES_MAX - n, fmt, ap);
	va_end(ap);
	/* Room is kept for the marker: a cut note would read as whole. */
	if (w < 0 || (size_t)w >= PROBE_NOTES_MAX - n ||
	    n + (size_t)w + sizeof(more) > PROBE_NOTES_MAX) {
		const char *m = n > 0 ? more : more + 2;
		size_t at = n > 0 ? n - 2 : 0;

		memcpy(s + at, m, strlen(m) + 1);
		return;
	}
	utf8_scrub(s + n);
}

void
probe_result_close(struct probe_result *r, int64_t start_us)
{
	r->up = r->fail == PROBE_FAIL_NONE;
	if (r->duration_ms <= 0)
		r->duration_ms = (double)(clock_mono_us() - start_us) / 1000.0;
	probe_result_add(r, "up", r->up ? 1 : 0);
	probe_result_add(r, "duration_ms", r->duration_ms);
}

/* Every occurrence of needle (any case) in buf becomes "***". */
static void
scrub(const char *needle, char *buf)
{
	size_t sl = strlen(needle);
	char *at = buf;

	if (sl == 0)
		return;
	while ((at = strcasestr(at, needle)) != NULL) {
		if (sl >= 3) {
			memcpy(at, "***", 3);
			memmove(at + 3, at + sl, strlen(at + sl) + 1);
			at += 3;
		} else {
			memset(at, '*', sl);
			at += sl;
		}
	}
}

/*
 * A server that echoes a password may change its case (an error message
 * upper-casing its input) or drop its spaces: each of those is scrubbed
 * too, not only the exact echo.
 */
void
probe_scrub_secret(const char *secret, char *buf)
{
	char squeezed[512];
	size_t n = 0;

	if (secret == NULL || secret[0] == '\0' || buf == NULL)
		return;
	scrub(secret, buf);
	for (const char *c = secret; *c != '\0' && n + 1 < sizeof(squeezed);
	    c++)
		if (!isspace((unsigned char)*c))
			squeezed[n++] = *c;
	squeezed[n] = '\0';
	if (n > 0 && n < strlen(secret))
		scrub(squeezed, buf);
	explicit_bzero(squeezed, sizeof(squeezed));
}

static const struct probe_ops *
probe_ops_for(enum probe_type t)
{
	switch (t) {
	case PROBE_HTTP:
		return &probe_http_ops;
	case PROBE_POSTGRES:
		return &probe_pg_ops;
	case PROBE_SENTRY:
		return &probe_sentry_ops;
	case PROBE_DNS:
		return &probe_dns_ops;
	case PROBE_TCP:
		return &probe_tcp_ops;
	case PROBE_TLS:
		return &probe_tls_ops;
	case PROBE_HEARTBEAT:
		return &probe_heartbeat_ops;
	}
	return NULL;
}

/* The end of every run, whatever its type: one place, from the loop. */
static void
probe_on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	if (!p->running || !p->ending)
		return;
	probe_result_close(&p->result, p->start_us);
	if (p->ops->end != NULL)
		p->ops->end(p->impl, &p->result);
	p->running = false;
	p->ending = false;
	p->done(p, &p->result, p->arg);
}

struct probe *
probe_new(const struct probe_cfg *cfg, const struct probe_env *env)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->ops = probe_ops_for(cfg->type);
	p->cfg = cfg;
	p->defer = event_new(env->base, -1, 0, probe_on_defer, p);
	if (p->ops == NULL || p->defer == NULL ||
	    (p->impl = p->ops->create(cfg, env)) == NULL) {
		if (p->defer != NULL)
			event_free(p->defer);
		free(p);
		return NULL;
	}
	return p;
}

int
probe_start(struct probe *p, probe_done_fn done, void *arg)
{
	if (p->running)
		return -1;
	probe_result_reset(&p->result);
	p->done = done;
	p->arg = arg;
	p->running = true;
	p->ending = false;
	p->result.started = clock_wall_ms();
	p->start_us = clock_mono_us();
	if (p->ops->start(p->impl, p, &p->result) != 0) {
		p->running = false;
		p->ending = false;
		event_del(p->defer);
		return -1;
	}
	return 0;
}

bool
probe_running(const struct probe *p)
{
	return p->running;
}

void
probe_end(struct probe *p)
{
	if (!p->running || p->ending)
		return;
	p->ending = true;
	/* done must never run inside probe_start: always from the loop. */
	event_active(p->defer, 0, 0);
}

void
probe_abort(struct probe *p, enum probe_fail kind, const char *fmt, ...)
{
	va_list ap;

	if (p->result.fail == PROBE_FAIL_NONE) {
		va_start(ap, fmt);
		probe_result_vfailf(&p->result, kind, fmt, ap);
		va_end(ap);
	}
	probe_end(p);
}

bool
probe_ending(const struct probe *p)
{
	return p->ending;
}

void
probe_rebind(struct probe *p, const struct probe_cfg *cfg)
{
	p->cfg = cfg;
	p->ops->rebind(p->impl, cfg);
}

void
probe_cancel(struct probe *p)
{
	if (p == NULL || !p->running)
		return;
	p->ops->cancel(p->impl);
	event_del(p->defer);
	p->running = false;
	p->ending = false;
}

void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	probe_cancel(p);
	p->ops->destroy(p->impl);
	event_free(p->defer);
	probe_result_clear(&p->result);
	free(p);
}
