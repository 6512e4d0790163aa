#include "notify/mail.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/sbuf.h"
#include "base/utf8.h"
#include "engine/ruleset.h"

#define MAIL_MAX	(64 * 1024)
/* Of a summary in the Subject: the body has it whole. */
#define SUBJECT_SUMMARY	150
/* Raw bytes per RFC 2047 word: 52 of base64, so "Subject: " and the
 * word fit a 78-character line. */
#define WORD_BYTES	39

/* A copy of in fit for a header: control characters become spaces. */
const char *
mail_header_clean(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < len; in++)
		out[o++] = (unsigned char)*in < ' ' || *in == 0x7f ? ' ' : *in;
	/* Cut short: no half of a character stays. */
	while (*in != '\0' && o > 0 &&
	    ((unsigned char)out[o - 1] & 0xc0) == 0x80)
		o--;
	if (*in != '\0' && o > 0 && (unsigned char)out[o - 1] >= 0xc0)
		o--;
	out[o] = '\0';
	/* What was not UTF-8 to begin with is marked, never sent raw. */
	utf8_scrub(out);
	return out;
}

void
mail_date(int64_t t, char *out, size_t len)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	time_t s = (time_t)(t / 1000);
	struct tm tm;

	/* Spelled out: strftime's %a and %b follow the locale. */
	if (gmtime_r(&s, &tm) == NULL) {
		snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool
ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void
base64(struct sbuf *b, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		sbuf_add(b, q, 4);
	}
}

/*
 * "Subject: ...\r\n". Clean ASCII goes as is; anything else as RFC 2047
 * words of whole characters, one per folded line.
 */
static void
put_subject(struct sbuf *b, const char *subject)
{
	char s[512];
	const char *p;

	mail_header_clean(subject, s, sizeof(s));
	if (ascii(s)) {
		sbuf_printf(b, "Subject: %s\r\n", s);
		return;
	}
	sbuf_puts(b, "Subject:");
	for (p = s; *p != '\0';) {
		size_t n = 0;

		while (p[n] != '\0') {
			size_t c = utf8_seq_len(p + n, strlen(p + n));

			if (c == 0)
				c = 1;
			if (n + c > WORD_BYTES && n > 0)
				break;
			n += c;
		}
		sbuf_puts(b, p == s ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
		base64(b, (const unsigned char *)p, n);
		sbuf_puts(b, "?=");
		p += n;
	}
	sbuf_puts(b, "\r\n");
}

/* The instance as a Message-ID's domain: letters, digits, '.' and '-'. */
static void
id_domain(const char *instance, char *out, size_t len)
{
	size_t o = 0;

	for (; *instance != '\0' && o + 1 < len; instance++) {
		char c = *instance;

		out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ? c : '-';
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, len, "vigil");
}

char *
mail_message(const struct mail_env *e, const struct sender *s,
    uint64_t seq, int64_t t, const char *subject, const char *text,
    const char *extra)
{
	struct sbuf b;
	char date[48], dom[256], name[64], inst[256];

	sbuf_init(&b, MAIL_MAX);
	mail_date(t, date, sizeof(date));
	id_domain(s->instance, dom, sizeof(dom));
	id_domain(e->notifier, name, sizeof(name));
	sbuf_printf(&b, "Date: %s\r\n", date);
	/* The addresses were checked plain (config/config_email.c). */
	sbuf_printf(&b, "From: vigil <%s>\r\n", e->from);
	sbuf_puts(&b, "To: ");
	for (size_t i = 0; i < e->nto; i++)
		sbuf_printf(&b, "%s%s", i > 0 ? ",\r\n " : "", e->to[i]);
	sbuf_puts(&b, "\r\n");
	put_subject(&b, subject);
	sbuf_printf(&b, "Message-ID: <vigil.%s.%llu.%lld@%s>\r\n", name,
	    (unsigned long long)seq, (long long)t, dom);
	sbuf_printf(&b, "X-Vigil-Id: %s-%llu\r\n",
	    mail_header_clean(s->instance, inst, sizeof(inst)),
	    (unsigned long long)seq);
	if (extra != NULL)
		sbuf_puts(&b, extra);
	/* RFC 3834: no vacation auto-replies to an alert. */
	sbuf_puts(&b, "Auto-Submitted: auto-generated\r\n");
	sbuf_puts(&b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n");
	sbuf_printf(&b, "Content-Transfer-Encoding: %s\r\n\r\n",
	    ascii(text) ? "7bit" : "8bit");
	/* Lines end in CRLF on the wire, whatever text used. */
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			sbuf_puts(&b, "\r\n");
		else if (*p != '\r')
			sbuf_add(&b, p, 1);
	}
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		sbuf_puts(&b, "\r\n");
	return sbuf_take(&b);
}

/* "FIRING critical (escalated)", "RESOLVED". */
static void
state_words(const struct notice *x, char *out, size_t len)
{
	const char *how = "";

	switch (x->kind) {
	case NOTICE_ESCALATED:
		how = " (escalated)";
		break;
	case NOTICE_DEESCALATED:
		how = " (de-escalated)";
		break;
	case NOTICE_REPEAT:
		how = " (still firing)";
		break;
	case NOTICE_FLAP_ENDED:
		how = " (flapping ended)";
		break;
	case NOTICE_FIRING:
	case NOTICE_RESOLVED:
		break;
	}
	if (x->firing)
		snprintf(out, len, "FIRING %s%s", rule_sev_name(x->sev), how);
	else
		snprintf(out, len, "RESOLVED%s", how);
}

/* A value with its unit, or "unknown". */
static void
num_unit(bool known, double v, const char *unit, char *out, size_t len)
{
	char n[32];

	if (!known) {
		snprintf(out, len, "unknown");
		return;
	}
	ruleset_fmt_num(v, n, sizeof(n));
	snprintf(out, len, "%s%s%s", n, unit[0] != '\0' ? " " : "", unit);
}

char *
mail_notice(const struct notice *x, const struct sender *s,
    const struct mail_env *e)
{
	char state[64], rule[sizeof(x->rule)], inst[256];
	char sum[sizeof(x->summary)];
	char unit[sizeof(x->unit)], short_sum[SUBJECT_SUMMARY + 1];
	char subject[640], val[64], thr[64], since[40], when[40], url[512];
	char extra[512], k[64], v[128], *text, *msg;
	struct sbuf b;

	state_words(x, state, sizeof(state));
	mail_header_clean(x->rule, rule, sizeof(rule));
	mail_header_clean(s->instance, inst, sizeof(inst));
	mail_header_clean(x->summary, sum, sizeof(sum));
	mail_header_clean(x->unit, unit, sizeof(unit));
	mail_header_clean(s->url, url, sizeof(url));
	mail_header_clean(sum, short_sum, SUBJECT_SUMMARY + 1);
	snprintf(subject, sizeof(subject), "[vigil] %s: %s on %s%s%s%s",
	    state, rule, inst, sum[0] != '\0' ? " - " : "", short_sum,
	    strlen(sum) > SUBJECT_SUMMARY ? "..." : "");
	num_unit(x->known, x->value, unit, val, sizeof(val));
	num_unit(true, x->threshold, unit, thr, sizeof(thr));
	clock_iso(x->since, since, sizeof(since));
	clock_iso(x->t, when, sizeof(when));

	sbuf_init(&b, MAIL_MAX);
	sbuf_printf(&b, "%s: %s on %s\n\n", state, rule, inst);
	if (sum[0] != '\0')
		sbuf_printf(&b, "%s\n\n", sum);
	sbuf_printf(&b, "Rule:      %s\n", rule);
	sbuf_printf(&b, "State:     %s\n", x->firing ? "firing" : "resolved");
	sbuf_printf(&b, "Kind:      %s\n", notice_kind_name(x->kind));
	if (x->firing)
		sbuf_printf(&b, "Severity:  %s\n", rule_sev_name(x->sev));
	sbuf_printf(&b, "Value:     %s\n", val);
	sbuf_printf(&b, "Threshold: %s\n", thr);
	sbuf_printf(&b, "Since:     %s\n", since);
	sbuf_printf(&b, "Time:      %s\n", when);
	for (size_t i = 0; i < x->nlabels; i++)
		sbuf_printf(&b, "%s %s=%s\n", i == 0 ? "Labels:   " :
		    "          ", mail_header_clean(x->labels[i].key, k,
		    sizeof(k)), mail_header_clean(x->labels[i].value, v,
		    sizeof(v)));
	sbuf_printf(&b, "Instance:  %s\n", inst);
	sbuf_printf(&b, "Status:    %s\n", url);
	sbuf_printf(&b, "Id:        %s-%llu\n", inst,
	    (unsigned long long)x->seq);
	sbuf_puts(&b, "\n-- \nSent by vigil. Delivery is at least once: a "
	    "message with the same\nMessage-ID is the same notice again.\n");
	if ((text = sbuf_take(&b)) == NULL)
		return NULL;
	snprintf(extra, sizeof(extra), "X-Vigil-Rule: %s\r\n"
	    "X-Vigil-State: %s\r\n%s%s%s", rule, x->firing ? "firing" :
	    "resolved", x->firing ? "X-Vigil-Severity: " : "",
	    x->firing ? rule_sev_name(x->sev) : "", x->firing ? "\r\n" : "");
	msg = mail_message(e, s, x->seq, x->t, subject, text, extra);
	free(text);
	return msg;
}

char *
mail_deploy(const struct deploy_notice *d, const struct sender *s,
    const struct mail_env *e)
{
	char ver[128], verdict[32], why[1024], inst[256], url[512];
	char subject[640], when[40], *text, *msg;
	struct sbuf b;

	mail_header_clean(d->version, ver, sizeof(ver));
	mail_header_clean(d->verdict, verdict, sizeof(verdict));
	mail_header_clean(d->reason, why, sizeof(why));
	mail_header_clean(s->instance, inst, sizeof(inst));
	mail_header_clean(s->url, url, sizeof(url));
	clock_iso(d->t, when, sizeof(when));
	snprintf(subject, sizeof(subject), "[vigil] Deploy %s: %s%s on %s",
	    ver, verdict, d->final ? "" : " (decided early)", inst);
	sbuf_init(&b, MAIL_MAX);
	sbuf_printf(&b, "Deploy %s: %s%s\n\n%s\n\n", ver, verdict,
	    d->final ? "" : " (decided early)", why);
	sbuf_printf(&b, "Deploy:    %llu\n", (unsigned long long)d->id);
	sbuf_printf(&b, "Version:   %s\n", ver);
	sbuf_printf(&b, "Verdict:   %s\n", verdict);
	sbuf_printf(&b, "Final:     %s\n", d->final ? "yes" : "no");
	sbuf_printf(&b, "Time:      %s\n", when);
	sbuf_printf(&b, "Instance:  %s\n", inst);
	sbuf_printf(&b, "Status:    %s\n", url);
	sbuf_printf(&b, "Id:        %s-%llu\n", inst,
	    (unsigned long long)d->seq);
	if ((text = sbuf_take(&b)) == NULL)
		return NULL;
	msg = mail_message(e, s, d->seq, d->t, subject, text,
	    "X-Vigil-Kind: deploy_verdict\r\n");
	free(text);
	return msg;
}

char *
mail_deploy_update(const struct deploy_update *u, const struct sender *s,
    const struct mail_env *e)
{
	char subject[320], extra[96], *text = malloc(MAIL_MAX / 4), *msg;
	size_t first;

	if (text == NULL)
		return NULL;
	deploytext_text(u, s, text, MAIL_MAX / 4);
	/* The text's first line says it all; the Subject has it. */
	first = strcspn(text, "\n");
	if (first > 200)
		first = 200;
	snprintf(subject, sizeof(subject), "[vigil] %.*s", (int)first, text);
	snprintf(extra, sizeof(extra), "X-Vigil-Kind: %s\r\n",
	    talk_kind_name(u->ev.kind));
	msg = mail_message(e, s, u->seq, u->t, subject, text, extra);
	free(text);
	return msg;
}

bool
mail_permanent(long reply)
{
	return reply >= 500 && reply < 600 && reply != 530 && reply != 534 &&
	    reply != 535 && reply != 538;
}
