/*
 * mail: what an email notifier sends, as a whole RFC 5322 message
 * (headers and a plain-text body, CRLF lines) ready for SMTP. Pure: a
 * notice in, the message out; its Date and Message-ID come from the
 * notice's time and sequence number, so a retry sends the same message
 * and a receiver can drop the second copy of an at-least-once delivery.
 *
 * The body says what the generic webhook's JSON says (state, rule,
 * severity, value, threshold, summary, since, labels, instance, the
 * page's link, the id); the Subject says state, severity and rule.
 * Data never becomes header syntax: every control character (CR and LF
 * above all) in what goes into a header becomes a space, and a non-ASCII
 * Subject is an RFC 2047 encoded word.
 */
#ifndef VIGIL_MAIL_H
#define VIGIL_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "notify/deploytext.h"
#include "notify/payload.h"

/* Who sends and receives every message of one email notifier. */
struct mail_env {
	const char *from;
	const char *const *to;
	size_t nto;
	const char *notifier;	/* its name: part of every Message-ID */
};

/* Messages are malloc'd; NULL when out of memory. */
char *mail_notice(const struct notice *x, const struct sender *s,
    const struct mail_env *e);
/* A release gate's verdict (notifier_deploy). */
char *mail_deploy(const struct deploy_notice *d, const struct sender *s,
    const struct mail_env *e);
/* A deploy update (notify/deploytalk.h): deploytext's text. */
char *mail_deploy_update(const struct deploy_update *u,
    const struct sender *s, const struct mail_env *e);

/*
 * The message itself: subject and text are data (anything may be in
 * them; text's lines end in \n). seq and t (Unix ms) make the Date and
 * the Message-ID; id is the notice's (instance-seq), shown as X-Vigil-Id.
 * extra: more header lines ("Name: value\r\n", already clean), or NULL.
 */
char *mail_message(const struct mail_env *e, const struct sender *s,
    uint64_t seq, int64_t t, const char *subject, const char *text,
    const char *extra);

/* The RFC 5322 date of Unix ms t, in UTC: "Thu, 03 Dec 2026 08:22:03 +0000". */
void mail_date(int64_t t, char *out, size_t len);

/*
 * An SMTP reply no retry changes (5xx: no such recipient, a message the
 * server's policy refuses), but the login's (530, 534, 535, 538): those a
 * reload with the right password mends, and the queue waits for it.
 */
bool mail_permanent(long reply);

/* A copy of in fit for a header: control characters become spaces. */
const char *mail_header_clean(const char *in, char *out, size_t len);

#endif
