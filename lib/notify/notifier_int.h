/*
 * The notifier's private parts, shared by notifier.c (what to tell whom,
 * and when: decisions, deploy talk, reloads, the state file) and
 * outbox.c (delivering it: one FIFO per receiver URL, retries with
 * backoff, a bounded queue). Private to lib/notify.
 */
#ifndef VIGIL_NOTIFIER_INT_H
#define VIGIL_NOTIFIER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "base/evcurl.h"
#include "config/config.h"
#include "notify/decide.h"
#include "notify/deploytalk.h"
#include "notify/notifier.h"
#include "notify/payload.h"

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
	size_t up_off, up_len;	/* email: the message's bytes read, all */
	char *ca_default;	/* email: curl's own CA bundle, for a reload */
	char *sending;		/* the head as sent, if not its body */
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

/* What the state file holds of this notifier changed: say so now. */
void notifier_changed(struct notifier *nt);

/* outbox.c */
/* Makes the URL's outbox (curl handle, headers, retry timer); 0 or -1. */
int outbox_init(struct outbox *b, struct notif *n, size_t url);
/* Frees it all, the transfer in flight and the queue included. */
void outbox_clear(struct outbox *b);
/*
 * Queues a body; the oldest waiting notice makes room when full. A deploy
 * update goes behind the transfer in flight and the deploy updates
 * already waiting, but ahead of waiting alert notices: #incidents hears
 * a rollout as it happens, however many alerts are queued for the same
 * URL. Each kind stays in its own order.
 */
void outbox_push(struct outbox *b, uint64_t seq, const char *body,
    unsigned attempts, bool deploy);
/* Starts the head's delivery unless one is in flight or waiting. */
void outbox_pump(struct outbox *b);
/*
 * The list curl reads through a transfer: the HTTP headers, or an email
 * notifier's recipients. NULL when out of memory. outbox_use_list hands
 * it to the outbox's handle (which owns it from then on).
 */
struct curl_slist *outbox_list(const struct notifier_cfg *c);
void outbox_use_list(struct outbox *b, struct curl_slist *l);
/* "Content-Type: ..." for c's bodies, into buf. */
const char *outbox_content_header(const struct notifier_cfg *c, char *buf,
    size_t len);

#endif
