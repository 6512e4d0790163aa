#include "notify/notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "base/clock.h"
#include "config/config.h"
#include "base/evcurl.h"
#include "base/jsonc.h"
#include "base/log.h"
#include "engine/monitor.h"
#include "notify/decide.h"
#include "notify/deploytalk.h"
#include "notify/deploytext.h"
#include "notify/payload.h"
#include "engine/ruleset.h"
#include "engine/sched.h"
#include "engine/silence.h"

#define RECONCILE_MS	1000
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	(5 * 60 * 1000)
#define MAX_RESPONSE	(64 * 1024)

struct item {
	struct item *next;
	uint64_t seq;
	char *body;
	unsigned attempts;
	bool deploy;		/* a deploy update: goes ahead of alerts */
};

/* One receiver URL of a notifier: a FIFO, its head possibly in flight. */
struct outbox {
	struct notif *n;
	size_t url;
	struct item *head, *tail;
	size_t len;
	bool in_flight;
	struct evcurl_xfer xfer;
	struct curl_slist *hdrs;
	/* A reload's headers, waiting for the transfer in flight to end. */
	struct curl_slist *next_hdrs;
	struct event *retry;
	int64_t retry_at;	/* monotonic µs; 0: none */
	size_t resp;		/* bytes of the answer seen (discarded) */
	char errbuf[CURL_ERROR_SIZE];
	char last_error[CURL_ERROR_SIZE + 16];
};

/* What this notifier has told about one rule. */
struct told {
	char rule[64];
	struct notify_told n;
};

struct notif {
	struct notifier *nt;
	const struct notifier_cfg *cfg;
	/* Copies: a reload frees the old config before rebinding. */
	char name[64];
	enum notifier_type type;
	struct outbox *boxes;
	size_t nboxes;
	struct told *told;
	size_t ntold, atold;
	uint64_t seq;
	uint64_t sent, failed, dropped;
	struct talk_told talk;	/* what it told about deploys */
};

struct notifier {
	struct event_base *base;
	struct monitor *m;
	struct evcurl *ec;
	struct notif **ns;
	size_t n;
	struct event *tick;
	struct event *kick;
	char instance[256];
	char url[512];
	struct sender sender;
	unsigned seed;
	notifier_change_fn on_change;
	void *on_change_arg;
	notifier_deploy_doc_fn deploy_doc;
	void *deploy_doc_arg;
};

static void outbox_pump(struct outbox *b);

/* What the state file holds of this notifier changed: say so now. */
static void
changed(struct notifier *nt)
{
	if (nt->on_change != NULL)
		nt->on_change(nt->on_change_arg);
}

static const char *
notifier_type_name(enum notifier_type t)
{
	return t == NOTIFIER_ALERTMANAGER ? "alertmanager" : "webhook";
}

/* Sender identity: the configured instance and page, or what we know. */
static void
set_sender(struct notifier *nt)
{
	const struct config *cfg = monitor_config(nt->m);

	if (cfg->instance != NULL)
		snprintf(nt->instance, sizeof(nt->instance), "%s",
		    cfg->instance);
	else if (gethostname(nt->instance, sizeof(nt->instance)) != 0)
		snprintf(nt->instance, sizeof(nt->instance), "vigild");
	nt->instance[sizeof(nt->instance) - 1] = '\0';
	if (cfg->public_url != NULL)
		snprintf(nt->url, sizeof(nt->url), "%s", cfg->public_url);
	else
		snprintf(nt->url, sizeof(nt->url), "http://%s/", cfg->listen);
	nt->sender.instance = nt->instance;
	nt->sender.url = nt->url;
}

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	free(it->body);
	free(it);
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

static void
outbox_done(struct evcurl_xfer *x, CURLcode res)
{
	struct outbox *b = (struct outbox *)((char *)x -
	    offsetof(struct outbox, xfer));
	struct notif *n = b->n;
	struct item *it = b->head;
	long code = 0;

	b->in_flight = false;
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
		changed(n->nt);
		outbox_pump(b);
		return;
	}
	n->failed++;
	it->attempts++;
	if (res != CURLE_OK)
		snprintf(b->last_error, sizeof(b->last_error), "%s",
		    b->errbuf[0] != '\0' ? b->errbuf :
		    curl_easy_strerror(res));
	else
		snprintf(b->last_error, sizeof(b->last_error), "HTTP %ld",
		    code);
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
static void
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
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, b->hdrs);
	}
	b->resp = 0;
	b->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, c->urls[b->url]);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->head->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(b->head->body));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	if (evcurl_add(b->n->nt->ec, &b->xfer) != 0) {
		snprintf(b->last_error, sizeof(b->last_error),
		    "cannot start a transfer");
		return;
	}
	b->in_flight = true;
}

static int
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
	if (b->retry == NULL || e == NULL)
		return -1;
	l = curl_slist_append(NULL, "Content-Type: application/json");
	for (size_t i = 0; l != NULL && i < c->nheaders; i++) {
		struct curl_slist *m = curl_slist_append(l, c->headers[i]);

		if (m == NULL) {
			curl_slist_free_all(l);
			l = NULL;
		} else {
			l = m;
		}
	}
	if (l == NULL)
		return -1;
	b->hdrs = l;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, b->hdrs);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, b->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	return 0;
}

static void
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
static void
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
	changed(n->nt);
}

static void
notif_free(struct notif *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nboxes; i++)
		outbox_clear(&n->boxes[i]);
	free(n->boxes);
	free(n->told);
	free(n);
}

static struct notif *
notif_new(struct notifier *nt, const struct notifier_cfg *c)
{
	struct notif *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->nt = nt;
	n->cfg = c;
	snprintf(n->name, sizeof(n->name), "%s", c->name);
	n->type = c->type;
	n->boxes = calloc(c->nurls + 1, sizeof(*n->boxes));
	if (n->boxes == NULL) {
		free(n);
		return NULL;
	}
	n->nboxes = c->nurls;
	for (size_t i = 0; i < c->nurls; i++) {
		if (outbox_init(&n->boxes[i], n, i) != 0) {
			notif_free(n);
			return NULL;
		}
	}
	return n;
}

static struct told *
told_find(struct notif *n, const char *rule, bool create)
{
	for (size_t i = 0; i < n->ntold; i++)
		if (strcmp(n->told[i].rule, rule) == 0)
			return &n->told[i];
	if (!create)
		return NULL;
	if (n->ntold == n->atold) {
		size_t a = n->atold == 0 ? 16 : n->atold * 2;
		struct told *t = realloc(n->told, a * sizeof(*t));

		if (t == NULL)
			return NULL;
		n->told = t;
		n->atold = a;
	}
	memset(&n->told[n->ntold], 0, sizeof(n->told[0]));
	snprintf(n->told[n->ntold].rule, sizeof(n->told[0].rule), "%s",
	    rule);
	return &n->told[n->ntold++];
}

/* Whether this notifier takes alerts of rule rc at all. */
static bool
passes_filter(const struct notifier_cfg *c, const struct rule_cfg *rc)
{
	bool ok = c->nrules == 0;

	for (size_t i = 0; i < c->nrules && !ok; i++)
		ok = strcmp(c->rules[i], rc->name) == 0;
	if (!ok)
		return false;
	for (size_t i = 0; i < c->nlabels; i++) {
		bool found = false;

		for (size_t j = 0; j < rc->nlabels && !found; j++)
			found = strcmp(rc->labels[j].key, c->labels[i].key) ==
			    0 && strcmp(rc->labels[j].value,
			    c->labels[i].value) == 0;
		if (!found)
			return false;
	}
	return true;
}

static void
fill_notice(struct notice *x, const struct ruleset *rs, size_t i,
    int64_t now)
{
	struct rule_view v;

	memset(x, 0, sizeof(*x));
	ruleset_view(rs, i, now, &v);
	snprintf(x->rule, sizeof(x->rule), "%s", v.cfg->name);
	x->known = v.st->known;
	x->value = v.st->value;
	x->threshold = v.st->threshold;
	snprintf(x->unit, sizeof(x->unit), "%s",
	    v.cfg->unit != NULL ? v.cfg->unit : "");
	snprintf(x->summary, sizeof(x->summary), "%s", v.summary);
	x->t = now;
	for (size_t l = 0; l < v.cfg->nlabels && l < NOTICE_MAX_LABELS; l++) {
		snprintf(x->labels[l].key, sizeof(x->labels[l].key), "%s",
		    v.cfg->labels[l].key);
		snprintf(x->labels[l].value, sizeof(x->labels[l].value), "%s",
		    v.cfg->labels[l].value);
		x->nlabels++;
	}
}

/* Sends one webhook notice, or collects it for Alertmanager's batch. */
static void
emit(struct notif *n, struct notice *x, struct notice **batch,
    size_t *nbatch)
{
	char *body;

	x->seq = ++n->seq;
	log_notice("event=notification notifier=%s rule=%s kind=%s "
	    "severity=%s seq=%llu", n->name, x->rule,
	    notice_kind_name(x->kind), x->firing ? rule_sev_name(x->sev) :
	    "none", (unsigned long long)x->seq);
	if (n->cfg->type == NOTIFIER_ALERTMANAGER) {
		batch[(*nbatch)++] = x;
		return;
	}
	body = n->cfg->format == WEBHOOK_SLACK ?
	    payload_slack(x, &n->nt->sender) :
	    payload_generic(x, &n->nt->sender);
	if (body == NULL) {
		n->dropped++;
		return;
	}
	outbox_push(&n->boxes[0], x->seq, body, 0, false);
	free(body);
}

/*
 * What should have been told about rule i, against what was
 * (notify/decide.c decides). Fills x and returns true when there is a
 * notice to send.
 */
static bool
decide(struct notif *n, const struct ruleset *rs, const struct silences *sl,
    size_t i, int64_t now, struct notice *x)
{
	const struct rule_cfg *rc = ruleset_cfg(rs, i);
	const struct rule_status *st = ruleset_status(rs, i);
	const struct notifier_cfg *c = n->cfg;
	struct told *t = told_find(n, rc->name, false);
	struct notify_told before, after;
	struct notify_decision d;
	struct notify_policy p = {
		.warning = c->sev_warning, .critical = c->sev_critical,
		.repeat_ms = c->repeat_ms,
		.flap_bound_ms = notify_flap_bound_ms(rc->def.flap_window_ms,
		    rc->def.flap_max),
	};
	struct notify_rule r = {
		.state = st->state, .sev = st->sev, .since = st->since,
		.suppressed = st->suppressed, .flapping = st->flapping,
		.silenced = silences_match(sl, rc, now) != NULL,
	};
	bool tell;

	if (!passes_filter(c, rc))
		return false;
	memset(&before, 0, sizeof(before));
	if (t != NULL)
		before = t->n;
	after = before;
	tell = notify_decide(&p, &r, &after, now, &d);
	if (!tell && before.sev == after.sev && before.since == after.since &&
	    before.last_sent == after.last_sent &&
	    before.flapping == after.flapping &&
	    before.owed_since == after.owed_since)
		return false;
	if (t == NULL && (t = told_find(n, rc->name, true)) == NULL)
		return false;
	t->n = after;
	changed(n->nt);
	if (!tell)
		return false;
	fill_notice(x, rs, i, now);
	x->kind = d.kind;
	x->firing = d.firing;
	x->sev = d.sev;
	x->since = d.since;
	return true;
}

/*
 * The deploy updates each notifier with "deploys" owes now
 * (notify/deploytalk.c decides), rendered from the deploy's document.
 */
static void
talk(struct notifier *nt, int64_t now)
{
	struct talk_deploy td;
	cJSON *doc = NULL;
	bool any = false;

	for (size_t k = 0; k < nt->n; k++)
		any |= nt->ns[k]->cfg->deploys;
	if (!any || nt->deploy_doc == NULL)
		return;
	doc = nt->deploy_doc(nt->deploy_doc_arg);
	if (!deploytalk_read(doc, &td)) {
		cJSON_Delete(doc);
		return;
	}
	for (size_t k = 0; k < nt->n; k++) {
		struct notif *n = nt->ns[k];
		struct talk_event ev[TALK_MAX_EVENTS];
		struct talk_told before = n->talk;
		size_t nev;

		if (!n->cfg->deploys)
			continue;
		nev = deploytalk_decide(n->cfg->progress_ms, &td, &n->talk, now,
		    ev, TALK_MAX_EVENTS);
		if (memcmp(&before, &n->talk, sizeof(before)) != 0)
			changed(nt);
		for (size_t i = 0; i < nev; i++) {
			struct deploy_update u = {
				.seq = ++n->seq, .ev = ev[i], .t = now,
				.doc = doc,
			};
			char *body = n->cfg->format == WEBHOOK_SLACK ?
			    deploytext_slack(&u, &nt->sender) :
			    deploytext_generic(&u, &nt->sender);

			if (body == NULL) {
				n->dropped++;
				continue;
			}
			log_notice("event=notification notifier=%s kind=%s "
			    "deploy=%llu seq=%llu", n->name,
			    talk_kind_name(ev[i].kind),
			    (unsigned long long)td.id,
			    (unsigned long long)u.seq);
			for (size_t b = 0; b < n->nboxes; b++)
				outbox_push(&n->boxes[b], u.seq, body, 0, true);
			free(body);
		}
		for (size_t b = 0; b < n->nboxes; b++)
			outbox_pump(&n->boxes[b]);
	}
	cJSON_Delete(doc);
}

void
notifier_set_deploy_source(struct notifier *nt, notifier_deploy_doc_fn fn,
    void *arg)
{
	nt->deploy_doc = fn;
	nt->deploy_doc_arg = arg;
	notifier_kick(nt);
}

static void
reconcile(struct notifier *nt)
{
	const struct ruleset *rs = monitor_rules(nt->m);
	const struct silences *sl = monitor_silences(nt->m);
	size_t nrules = ruleset_count(rs);
	int64_t now = clock_wall_ms();
	struct notice *xs;
	struct notice **batch;

	talk(nt, now);
	if (nt->n == 0 || nrules == 0)
		return;
	xs = calloc(nrules, sizeof(*xs));
	batch = calloc(nrules, sizeof(*batch));
	if (xs == NULL || batch == NULL) {
		free(xs);
		free(batch);
		log_err("event=notify_reconcile_failed reason=\"out of "
		    "memory\"");
		return;
	}
	for (size_t k = 0; k < nt->n; k++) {
		struct notif *n = nt->ns[k];
		size_t nbatch = 0;

		for (size_t i = 0; i < nrules; i++)
			if (decide(n, rs, sl, i, now, &xs[i]))
				emit(n, &xs[i], batch, &nbatch);
		if (nbatch > 0) {
			char *body = payload_alertmanager(
			    (const struct notice *const *)batch, nbatch,
			    &nt->sender);

			/* An Alertmanager cluster: every member hears it. */
			for (size_t b = 0; body != NULL && b < n->nboxes; b++)
				outbox_push(&n->boxes[b], n->seq, body, 0,
				    false);
			if (body == NULL)
				n->dropped += nbatch;
			free(body);
		}
		for (size_t b = 0; b < n->nboxes; b++)
			outbox_pump(&n->boxes[b]);
	}
	free(xs);
	free(batch);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reconcile(arg);
}

void
notifier_kick(struct notifier *nt)
{
	if (nt != NULL && !event_pending(nt->kick, EV_TIMEOUT, NULL))
		event_active(nt->kick, EV_TIMEOUT, 0);
}

static struct notif **
build(struct notifier *nt, const struct config *cfg, struct notif **old,
    size_t nold, bool *kept)
{
	struct notif **ns = calloc(cfg->nnotifiers + 1, sizeof(*ns));

	if (ns == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nnotifiers; i++) {
		const struct notifier_cfg *c = &cfg->notifiers[i];

		for (size_t j = 0; j < nold && ns[i] == NULL; j++) {
			if (kept[j] || strcmp(old[j]->name, c->name) != 0 ||
			    old[j]->type != c->type ||
			    old[j]->nboxes != c->nurls)
				continue;
			kept[j] = true;
			ns[i] = old[j];
		}
		if (ns[i] == NULL && (ns[i] = notif_new(nt, c)) == NULL) {
			for (size_t k = 0; k < i; k++) {
				bool reused = false;

				for (size_t j = 0; j < nold; j++)
					reused |= old[j] == ns[k];
				if (!reused)
					notif_free(ns[k]);
			}
			free(ns);
			return NULL;
		}
	}
	return ns;
}

/* Points a kept notifier at its new config (URLs, headers, timeouts). */
static void
rebind(struct notif *n, const struct notifier_cfg *c)
{
	n->cfg = c;
	for (size_t b = 0; b < n->nboxes; b++) {
		struct outbox *box = &n->boxes[b];
		struct curl_slist *l = curl_slist_append(NULL,
		    "Content-Type: application/json");

		for (size_t i = 0; l != NULL && i < c->nheaders; i++) {
			struct curl_slist *m = curl_slist_append(l,
			    c->headers[i]);

			if (m == NULL)
				curl_slist_free_all(l);
			l = m;
		}
		if (l == NULL)
			continue;
		/*
		 * The transfer in flight keeps the headers it started with
		 * (curl reads them until it ends); the next one takes these.
		 */
		curl_slist_free_all(box->next_hdrs);
		box->next_hdrs = NULL;
		if (box->in_flight) {
			box->next_hdrs = l;
			continue;
		}
		curl_slist_free_all(box->hdrs);
		box->hdrs = l;
		curl_easy_setopt(box->xfer.easy, CURLOPT_HTTPHEADER, l);
	}
}

struct notifier *
notifier_new(struct event_base *base, struct monitor *m)
{
	struct notifier *nt = calloc(1, sizeof(*nt));
	const struct config *cfg = monitor_config(m);
	struct timeval tv = { RECONCILE_MS / 1000, 0 };

	if (nt == NULL)
		return NULL;
	nt->base = base;
	nt->m = m;
	nt->seed = (unsigned)getpid() ^ (unsigned)clock_wall_ms();
	set_sender(nt);
	nt->ec = evcurl_new(base);
	nt->tick = event_new(base, -1, EV_PERSIST, on_tick, nt);
	nt->kick = event_new(base, -1, 0, on_tick, nt);
	if (nt->ec == NULL || nt->tick == NULL || nt->kick == NULL ||
	    (nt->ns = build(nt, cfg, NULL, 0, NULL)) == NULL) {
		notifier_free(nt);
		return NULL;
	}
	nt->n = cfg->nnotifiers;
	evtimer_add(nt->tick, &tv);
	return nt;
}

int
notifier_reload(struct notifier *nt)
{
	const struct config *cfg = monitor_config(nt->m);
	bool *kept = calloc(nt->n + 1, sizeof(*kept));
	struct notif **ns;

	ns = kept != NULL ? build(nt, cfg, nt->ns, nt->n, kept) : NULL;
	if (ns == NULL) {
		/*
		 * The old notifiers point into the config that was just
		 * replaced: they cannot stay. Say loudly that alerts are not
		 * delivered until the next reload.
		 */
		for (size_t j = 0; j < nt->n; j++)
			notif_free(nt->ns[j]);
		nt->n = 0;
		free(kept);
		log_err("event=notifiers_lost reason=\"out of memory at "
		    "reload\" note=\"no alerts are delivered until the next "
		    "reload\"");
		return -1;
	}
	for (size_t j = 0; j < nt->n; j++) {
		if (!kept[j]) {
			log_notice("event=notifier_removed notifier=%s "
			    "queued_dropped=%zu", nt->ns[j]->name,
			    nt->ns[j]->nboxes > 0 ? nt->ns[j]->boxes[0].len :
			    0);
			notif_free(nt->ns[j]);
		}
	}
	for (size_t i = 0; i < cfg->nnotifiers; i++)
		rebind(ns[i], &cfg->notifiers[i]);
	free(kept);
	free(nt->ns);
	nt->ns = ns;
	nt->n = cfg->nnotifiers;
	set_sender(nt);
	changed(nt);
	notifier_kick(nt);
	return 0;
}

void
notifier_free(struct notifier *nt)
{
	if (nt == NULL)
		return;
	for (size_t i = 0; nt->ns != NULL && i < nt->n; i++)
		notif_free(nt->ns[i]);
	free(nt->ns);
	if (nt->tick != NULL)
		event_free(nt->tick);
	if (nt->kick != NULL)
		event_free(nt->kick);
	evcurl_free(nt->ec);
	free(nt);
}

size_t
notifier_count(const struct notifier *nt)
{
	return nt != NULL ? nt->n : 0;
}

bool
notifier_view(const struct notifier *nt, size_t i, struct notifier_view *v)
{
	const struct notif *n;
	int64_t now = sched_now();

	if (nt == NULL || i >= nt->n)
		return false;
	n = nt->ns[i];
	memset(v, 0, sizeof(*v));
	v->name = n->name;
	v->type = notifier_type_name(n->cfg->type);
	v->target = n->cfg->shown != NULL ? n->cfg->shown : "";
	v->sent = n->sent;
	v->failed = n->failed;
	v->dropped = n->dropped;
	v->last_error = "";
	for (size_t b = 0; b < n->nboxes; b++) {
		const struct outbox *box = &n->boxes[b];

		v->queued += box->len;
		if (box->last_error[0] != '\0')
			v->last_error = box->last_error;
		if (box->retry_at != 0 && (v->next_retry_ms == 0 ||
		    (box->retry_at - now) / 1000 < v->next_retry_ms))
			v->next_retry_ms = (box->retry_at - now) / 1000;
	}
	return true;
}

void
notifier_set_listener(struct notifier *nt, notifier_change_fn fn, void *arg)
{
	nt->on_change = fn;
	nt->on_change_arg = arg;
}

cJSON *
notifier_save(const struct notifier *nt)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t k = 0; nt != NULL && k < nt->n; k++) {
		const struct notif *n = nt->ns[k];
		cJSON *e = cJSON_AddObjectToObject(o, n->name), *t, *q;

		cJSON_AddNumberToObject(e, "seq", (double)n->seq);
		cJSON_AddNumberToObject(e, "sent", (double)n->sent);
		cJSON_AddNumberToObject(e, "failed", (double)n->failed);
		cJSON_AddNumberToObject(e, "dropped", (double)n->dropped);
		if (n->talk.id != 0)
			cJSON_AddItemToObject(e, "deploy_told",
			    deploytalk_save(&n->talk));
		t = cJSON_AddObjectToObject(e, "told");
		for (size_t i = 0; i < n->ntold; i++) {
			const struct told *x = &n->told[i];
			cJSON *r;

			if (x->n.sev == SEV_NONE && !x->n.flapping)
				continue;
			r = cJSON_AddObjectToObject(t, x->rule);
			cJSON_AddStringToObject(r, "sev",
			    rule_sev_name(x->n.sev));
			cJSON_AddNumberToObject(r, "since", (double)x->n.since);
			cJSON_AddNumberToObject(r, "last_sent",
			    (double)x->n.last_sent);
			cJSON_AddBoolToObject(r, "flapping", x->n.flapping);
			cJSON_AddNumberToObject(r, "owed_since",
			    (double)x->n.owed_since);
		}
		/* Undelivered notices, per URL, in order. */
		q = cJSON_AddArrayToObject(e, "outbox");
		for (size_t b = 0; b < n->nboxes; b++) {
			cJSON *box = cJSON_CreateArray();

			for (const struct item *it = n->boxes[b].head;
			    it != NULL; it = it->next) {
				cJSON *i = cJSON_CreateObject();

				cJSON_AddNumberToObject(i, "seq",
				    (double)it->seq);
				cJSON_AddNumberToObject(i, "attempts",
				    it->attempts);
				if (it->deploy)
					cJSON_AddBoolToObject(i, "deploy", true);
				cJSON_AddStringToObject(i, "body", it->body);
				cJSON_AddItemToArray(box, i);
			}
			cJSON_AddItemToArray(q, box);
		}
	}
	return o;
}

void
notifier_restore(struct notifier *nt, const cJSON *saved)
{
	for (size_t k = 0; nt != NULL && k < nt->n; k++) {
		struct notif *n = nt->ns[k];
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(saved,
		    n->name), *r, *q, *box, *it;
		size_t b = 0;

		if (!cJSON_IsObject(e))
			continue;
		n->seq = (uint64_t)jsonc_number(e, "seq", 0);
		n->sent = (uint64_t)jsonc_number(e, "sent", 0);
		n->failed = (uint64_t)jsonc_number(e, "failed", 0);
		n->dropped = (uint64_t)jsonc_number(e, "dropped", 0);
		deploytalk_restore(&n->talk, cJSON_GetObjectItemCaseSensitive(e,
		    "deploy_told"));
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(e,
		    "told")) {
			struct told *x;
			enum rule_sev sev;

			/* By name, or as 0.1.0 saved it, a number. */
			if (!cJSON_IsObject(r) || !ruleset_load_sev(
			    cJSON_GetObjectItemCaseSensitive(r, "sev"), &sev) ||
			    (x = told_find(n, r->string, true)) == NULL)
				continue;
			x->n.sev = sev;
			x->n.since = (int64_t)jsonc_number(r, "since", 0);
			x->n.last_sent = (int64_t)jsonc_number(r, "last_sent",
			    0);
			x->n.flapping = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(r, "flapping"));
			x->n.owed_since = (int64_t)jsonc_number(r,
			    "owed_since", 0);
		}
		q = cJSON_GetObjectItemCaseSensitive(e, "outbox");
		cJSON_ArrayForEach(box, q) {
			if (b >= n->nboxes)
				break;
			cJSON_ArrayForEach(it, box) {
				const cJSON *body =
				    cJSON_GetObjectItemCaseSensitive(it,
				    "body");

				if (cJSON_IsString(body))
					outbox_push(&n->boxes[b],
					    (uint64_t)jsonc_number(it, "seq", 0),
					    body->valuestring,
					    (unsigned)jsonc_number(it, "attempts",
					    0), cJSON_IsTrue(
					    cJSON_GetObjectItemCaseSensitive(it,
					    "deploy")));
			}
			b++;
		}
	}
	notifier_kick(nt);
}

void
notifier_deploy(struct notifier *nt, uint64_t id, const char *version,
    const char *verdict, const char *reason, bool final)
{
	for (size_t k = 0; nt != NULL && k < nt->n; k++) {
		struct notif *n = nt->ns[k];
		struct deploy_notice d = {
			.seq = ++n->seq, .id = id, .version = version,
			.verdict = verdict, .reason = reason, .final = final,
			.t = clock_wall_ms(),
		};
		char *body;

		if (n->type == NOTIFIER_ALERTMANAGER &&
		    strcmp(verdict, "pass") == 0)
			continue;
		/* Its deploy updates say this and more (deploy_verdict, _end). */
		if (n->cfg->deploys)
			continue;
		body = n->type == NOTIFIER_ALERTMANAGER ?
		    payload_deploy_alertmanager(&d, &nt->sender) :
		    n->cfg->format == WEBHOOK_SLACK ?
		    payload_deploy_slack(&d, &nt->sender) :
		    payload_deploy_generic(&d, &nt->sender);
		if (body == NULL) {
			n->dropped++;
			continue;
		}
		log_notice("event=notification notifier=%s kind=deploy_verdict "
		    "deploy=%llu verdict=%s seq=%llu", n->name,
		    (unsigned long long)id, verdict,
		    (unsigned long long)d.seq);
		for (size_t b = 0; b < n->nboxes; b++) {
			outbox_push(&n->boxes[b], d.seq, body, 0, false);
			outbox_pump(&n->boxes[b]);
		}
		free(body);
	}
}
