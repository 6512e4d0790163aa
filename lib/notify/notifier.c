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
#include "notify/mail.h"
#include "notify/notifier_int.h"
#include "notify/pagerduty.h"
#include "notify/payload.h"
#include "notify/tmplbody.h"
#include "engine/ruleset.h"
#include "engine/sched.h"
#include "engine/maint.h"
#include "engine/silence.h"

#define RECONCILE_MS	1000


/* What the state file holds of this notifier changed: say so now. */
void
notifier_changed(struct notifier *nt)
{
	if (nt->on_change != NULL)
		nt->on_change(nt->on_change_arg);
}

static const char *
notifier_type_name(enum notifier_type t)
{
	switch (t) {
	case NOTIFIER_ALERTMANAGER:
		return "alertmanager";
	case NOTIFIER_EMAIL:
		return "email";
	case NOTIFIER_PAGERDUTY:
		return "pagerduty";
	case NOTIFIER_WEBHOOK:
		break;
	}
	return "webhook";
}

/* An email notifier's envelope, for notify/mail.c; returns e. */
static const struct mail_env *
mail_env(const struct notif *n, struct mail_env *e)
{
	e->from = n->cfg->email->from;
	e->to = (const char *const *)n->cfg->email->to;
	e->nto = n->cfg->email->nto;
	e->notifier = n->name;
	return e;
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
	struct mail_env env;
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
	body = n->cfg->type == NOTIFIER_EMAIL ?
	    mail_notice(x, &n->nt->sender, mail_env(n, &env)) :
	    n->cfg->type == NOTIFIER_PAGERDUTY ?
	    pagerduty_event(x, &n->nt->sender) :
	    n->cfg->template != NULL ? tmplbody_notice(n->cfg->template,
	    n->cfg->content_type, x, &n->nt->sender) :
	    n->cfg->format == WEBHOOK_SLACK ?
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
		.silenced = silences_match(sl, rc, now) != NULL ||
		    maint_match(monitor_maint(n->nt->m), rc, now, NULL) != NULL,
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
	notifier_changed(n->nt);
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
			notifier_changed(nt);
		for (size_t i = 0; i < nev; i++) {
			struct deploy_update u = {
				.seq = ++n->seq, .ev = ev[i], .t = now,
				.doc = doc,
			};
			struct mail_env env;
			char *body = n->cfg->type == NOTIFIER_EMAIL ?
			    mail_deploy_update(&u, &nt->sender,
			    mail_env(n, &env)) :
			    n->cfg->format == WEBHOOK_SLACK ?
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
		struct curl_slist *l = outbox_list(c);

		if (l != NULL)
			outbox_use_list(&n->boxes[b], l);
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
	notifier_changed(nt);
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
		struct mail_env env;
		char *body;

		if (n->type == NOTIFIER_ALERTMANAGER &&
		    strcmp(verdict, "pass") == 0)
			continue;
		/* PagerDuty pages for a failed gate only (notify/pagerduty.h). */
		if (n->type == NOTIFIER_PAGERDUTY &&
		    strcmp(verdict, "fail") != 0)
			continue;
		/* Its deploy updates say this and more (deploy_verdict, _end). */
		if (n->cfg->deploys)
			continue;
		body = n->type == NOTIFIER_ALERTMANAGER ?
		    payload_deploy_alertmanager(&d, &nt->sender) :
		    n->type == NOTIFIER_EMAIL ?
		    mail_deploy(&d, &nt->sender, mail_env(n, &env)) :
		    n->type == NOTIFIER_PAGERDUTY ?
		    pagerduty_deploy_event(&d, &nt->sender) :
		    n->cfg->template != NULL ? tmplbody_deploy(n->cfg->template,
		    n->cfg->content_type, &d, &nt->sender) :
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
