/*
 * outbox: delivering a notifier's bodies to one receiver URL, in order,
 * one at a time, retried with backoff (1 s doubling to 5 min, +-20 %
 * jitter so receivers coming back are not hit in lockstep), in a bounded
 * queue that drops its oldest waiting notice when full.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "base/evcurl.h"
#include "base/log.h"
#include "config/config.h"
#include "engine/sched.h"
#include "notify/mail.h"
#include "notify/notifier_int.h"
#include "notify/pagerduty.h"

#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	(5 * 60 * 1000)
#define MAX_RESPONSE	(64 * 1024)

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	free(it->body);
	free(it);
}

/* The body as sent holds the routing key: wiped, not just freed. */
static void
sending_free(struct outbox *b)
{
	if (b->sending != NULL)
		explicit_bzero(b->sending, strlen(b->sending));
	free(b->sending);
	b->sending = NULL;
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	struct outbox *b = arg;
	size_t n = size * nmemb;

	(void)data;
	/* Nobody reads a receiver's answer; an endless one is cut off. */
	b->resp += n;
	return b->resp > MAX_RESPONSE ? 0 : n;
}

/* An email's message, fed to curl's SMTP upload (which dot-stuffs it). */
static size_t
mail_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct outbox *b = arg;
	size_t n = size * nitems;

	if (n > b->up_len - b->up_off)
		n = b->up_len - b->up_off;
	memcpy(buf, b->head->body + b->up_off, n);
	b->up_off += n;
	return n;
}

/* Hands l to the handle: HTTP headers, or an email's recipients. */
static void
set_list(struct outbox *b, struct curl_slist *l)
{
	if (b->n->cfg->type == NOTIFIER_EMAIL)
		curl_easy_setopt(b->xfer.easy, CURLOPT_MAIL_RCPT, l);
	else
		curl_easy_setopt(b->xfer.easy, CURLOPT_HTTPHEADER, l);
}

struct curl_slist *
outbox_list(const struct notifier_cfg *c)
{
	struct curl_slist *l = NULL;
	const char *const *v = (const char *const *)c->headers;
	size_t n = c->nheaders;
	char ct[256];

	if (c->type == NOTIFIER_EMAIL) {
		v = (const char *const *)c->email->to;
		n = c->email->nto;
	} else {
		l = curl_slist_append(NULL, outbox_content_header(c, ct,
		    sizeof(ct)));
		if (l == NULL)
			return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *m = curl_slist_append(l, v[i]);

		if (m == NULL) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = m;
	}
	return l;
}

void
outbox_use_list(struct outbox *b, struct curl_slist *l)
{
	/*
	 * The transfer in flight keeps the list it started with (curl
	 * reads it until it ends); the next one takes this.
	 */
	curl_slist_free_all(b->next_hdrs);
	b->next_hdrs = NULL;
	if (b->in_flight) {
		b->next_hdrs = l;
		return;
	}
	curl_slist_free_all(b->hdrs);
	b->hdrs = l;
	set_list(b, l);
}

/*
 * An email's transfer: the envelope and the login from the config as it
 * is now (curl copies strings), the message from the head. With
 * "starttls": "required" curl fails rather than go on in clear when the
 * server offers no STARTTLS.
 */
static void
mail_setup(struct outbox *b)
{
	const struct email_cfg *m = b->n->cfg->email;
	CURL *e = b->xfer.easy;

	b->up_off = 0;
	b->up_len = strlen(b->head->body);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, m->from);
	/*
	 * A recipient refused (one that left the company) must not keep the
	 * others' mail from them; the message fails only if every one is.
	 * (Bookworm's curl 7.88 spells it with three Ls; 8.2 kept that name
	 * beside the corrected one.)
	 */
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
	curl_easy_setopt(e, CURLOPT_USE_SSL, m->starttls ?
	    (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	curl_easy_setopt(e, CURLOPT_USERNAME, m->username);
	curl_easy_setopt(e, CURLOPT_PASSWORD, m->password);
	/* A reload that drops "ca_file" goes back to curl's own bundle. */
	curl_easy_setopt(e, CURLOPT_CAINFO, m->ca_file != NULL ? m->ca_file :
	    b->ca_default);
}

static int64_t
backoff_ms(struct notifier *nt, unsigned attempts)
{
	int64_t ms = BACKOFF_MIN_MS;
	int jitter;

	for (unsigned i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* +-20 %, so receivers coming back are not hit in lockstep. */
	jitter = rand_r(&nt->seed) % 41 - 20;
	return ms + ms * jitter / 100;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *b = arg;

	(void)fd;
	(void)what;
	b->retry_at = 0;
	outbox_pump(b);
}

/*
 * A refusal no retry changes: PagerDuty's 4xx for an invalid event, an
 * SMTP server's 5xx for a recipient or a message (curl fails the
 * transfer on it, the reply code says which). Retried, it would hold up
 * everything queued behind it for good.
 */
static bool
permanent(enum notifier_type t, CURLcode res, long code)
{
	if (t == NOTIFIER_PAGERDUTY)
		return res == CURLE_OK && pagerduty_permanent(code);
	if (t == NOTIFIER_EMAIL)
		return mail_permanent(code);
	return false;
}

static void
outbox_done(struct evcurl_xfer *x, CURLcode res)
{
	struct outbox *b = (struct outbox *)((char *)x -
	    offsetof(struct outbox, xfer));
	struct notif *n = b->n;
	struct item *it = b->head;
	long code = 0;

	b->in_flight = false;
	sending_free(b);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	/*
	 * An answer cut off at MAX_RESPONSE is a write error to curl, but
	 * its status had come: a 2xx took the notice. Taken for a failure,
	 * it would be sent again at every retry, and everything queued
	 * behind it would wait forever.
	 */
	if (res == CURLE_WRITE_ERROR && b->resp > MAX_RESPONSE)
		res = CURLE_OK;
	if (res == CURLE_OK && code >= 200 && code < 300) {
		b->head = it->next;
		if (b->head == NULL)
			b->tail = NULL;
		b->len--;
		n->sent++;
		b->last_error[0] = '\0';
		log_info("event=notification_sent notifier=%s seq=%llu "
		    "attempts=%u", n->name, (unsigned long long)it->seq,
		    it->attempts + 1);
		item_free(it);
		notifier_changed(n->nt);
		outbox_pump(b);
		return;
	}
	n->failed++;
	it->attempts++;
	if (permanent(n->type, res, code)) {
		/* Never taken, however often sent: the queue moves on. */
		snprintf(b->last_error, sizeof(b->last_error), "%s %ld "
		    "(refused, not retried)", n->type == NOTIFIER_EMAIL ?
		    "SMTP" : "HTTP", code);
		log_err("event=notification_rejected notifier=%s seq=%llu "
		    "status=%ld", n->name, (unsigned long long)it->seq, code);
		b->head = it->next;
		if (b->head == NULL)
			b->tail = NULL;
		b->len--;
		item_free(it);
		notifier_changed(n->nt);
		outbox_pump(b);
		return;
	}
	if (res != CURLE_OK)
		snprintf(b->last_error, sizeof(b->last_error), "%s",
		    b->errbuf[0] != '\0' ? b->errbuf :
		    curl_easy_strerror(res));
	else
		snprintf(b->last_error, sizeof(b->last_error), "%s %ld",
		    n->type == NOTIFIER_EMAIL ? "SMTP" : "HTTP", code);
	{
		int64_t wait = backoff_ms(n->nt, it->attempts);
		struct timeval tv = { (time_t)(wait / 1000),
		    (suseconds_t)((wait % 1000) * 1000) };

		b->retry_at = sched_now() + wait * 1000;
		evtimer_add(b->retry, &tv);
		log_warn("event=notification_failed notifier=%s seq=%llu "
		    "attempt=%u error=\"%s\" retry_in_ms=%lld", n->name,
		    (unsigned long long)it->seq, it->attempts, LOG_Q(b->last_error),
		    (long long)wait);
	}
}

/* Starts the head's delivery unless one is in flight or waiting. */
void
outbox_pump(struct outbox *b)
{
	const struct notifier_cfg *c = b->n->cfg;
	CURL *e = b->xfer.easy;

	if (b->in_flight || b->head == NULL || b->retry_at != 0 ||
	    b->url >= c->nurls)
		return;
	if (b->next_hdrs != NULL) {
		curl_slist_free_all(b->hdrs);
		b->hdrs = b->next_hdrs;
		b->next_hdrs = NULL;
		set_list(b, b->hdrs);
	}
	b->resp = 0;
	b->errbuf[0] = '\0';
	/* The routing key joins the event only here: it is never saved. */
	if (b->n->type == NOTIFIER_PAGERDUTY && c->routing_key != NULL &&
	    (b->sending = pagerduty_body(b->head->body, c->routing_key)) ==
	    NULL) {
		snprintf(b->last_error, sizeof(b->last_error),
		    "out of memory");
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, c->urls[b->url]);
	if (c->type == NOTIFIER_EMAIL) {
		mail_setup(b);
	} else {
		const char *body = b->sending != NULL ? b->sending :
		    b->head->body;

		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
	}
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	if (evcurl_add(b->n->nt->ec, &b->xfer) != 0) {
		sending_free(b);
		snprintf(b->last_error, sizeof(b->last_error),
		    "cannot start a transfer");
		return;
	}
	b->in_flight = true;
}

const char *
outbox_content_header(const struct notifier_cfg *c, char *buf, size_t len)
{
	snprintf(buf, len, "Content-Type: %s", c->content_type != NULL ?
	    c->content_type : "application/json");
	return buf;
}

int
outbox_init(struct outbox *b, struct notif *n, size_t url)
{
	const struct notifier_cfg *c = n->cfg;
	struct curl_slist *l;
	CURL *e;

	b->n = n;
	b->url = url;
	b->retry = evtimer_new(n->nt->base, on_retry, b);
	e = b->xfer.easy = curl_easy_init();
	b->xfer.done = outbox_done;
	if (b->retry == NULL || e == NULL || (l = outbox_list(c)) == NULL)
		return -1;
	b->hdrs = l;
	set_list(b, l);
	if (c->type == NOTIFIER_EMAIL) {
		char *ca = NULL;

		if (curl_easy_getinfo(e, CURLINFO_CAINFO, &ca) == CURLE_OK &&
		    ca != NULL && (b->ca_default = strdup(ca)) == NULL)
			return -1;
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, mail_read);
		curl_easy_setopt(e, CURLOPT_READDATA, b);
	} else {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	}
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, b->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	return 0;
}

void
outbox_clear(struct outbox *b)
{
	struct item *it, *next;

	if (b->in_flight)
		evcurl_remove(b->n->nt->ec, &b->xfer);
	b->in_flight = false;
	if (b->retry != NULL)
		event_free(b->retry);
	if (b->xfer.easy != NULL)
		curl_easy_cleanup(b->xfer.easy);
	curl_slist_free_all(b->hdrs);
	curl_slist_free_all(b->next_hdrs);
	free(b->ca_default);
	sending_free(b);
	for (it = b->head; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	memset(b, 0, sizeof(*b));
}

/*
 * Queues a body; the oldest waiting notice makes room when full. A deploy
 * update goes behind the transfer in flight and the deploy updates
 * already waiting, but ahead of waiting alert notices: #incidents hears
 * a rollout as it happens, however many alerts are queued for the same
 * URL. Each kind stays in its own order.
 */
void
outbox_push(struct outbox *b, uint64_t seq, const char *body,
    unsigned attempts, bool deploy)
{
	struct notif *n = b->n;
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL || (it->body = strdup(body)) == NULL) {
		free(it);
		n->dropped++;
		log_err("event=notification_dropped notifier=%s seq=%llu "
		    "reason=\"out of memory\"", n->name,
		    (unsigned long long)seq);
		return;
	}
	it->seq = seq;
	it->attempts = attempts;
	it->deploy = deploy;
	if (b->len >= n->cfg->queue_max) {
		/* Never the head in flight: its body is curl's right now. */
		struct item **pp = b->in_flight ? &b->head->next : &b->head;
		struct item *old = *pp;

		if (old != NULL) {
			*pp = old->next;
			if (b->tail == old)
				b->tail = b->in_flight ? b->head : *pp;
			b->len--;
			n->dropped++;
			log_err("event=notification_dropped notifier=%s "
			    "seq=%llu reason=\"queue full (%zu)\"", n->name,
			    (unsigned long long)old->seq, n->cfg->queue_max);
			item_free(old);
		}
	}
	if (deploy) {
		struct item **pp = &b->head;

		if (*pp != NULL && b->in_flight)
			pp = &(*pp)->next;
		while (*pp != NULL && (*pp)->deploy)
			pp = &(*pp)->next;
		it->next = *pp;
		*pp = it;
		if (it->next == NULL)
			b->tail = it;
	} else {
		if (b->tail != NULL)
			b->tail->next = it;
		else
			b->head = it;
		b->tail = it;
	}
	b->len++;
	notifier_changed(n->nt);
}
