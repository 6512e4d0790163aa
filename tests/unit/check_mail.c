/* mail: the messages an email notifier sends, header by header; data
 * that tries to become a header stays text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <cjson/cJSON.h>

#include "base/file.h"
#include "notify/mail.h"
#include "notice_sample.h"
#include "suites.h"

static const char *const rcpts[] = { "oncall@example.com", "b@example.org" };
static const struct mail_env env = { "vigil@example.com", rcpts, 2, "mail" };

static struct notice
sample(void)
{
	return notice_sample("API p95 1.2 s, threshold 1 s");
}

/* The header block (up to the empty line), malloc'd. */
static char *
head_of(const char *m)
{
	const char *end = strstr(m, "\r\n\r\n");

	ck_assert_ptr_nonnull(end);
	return strndup(m, (size_t)(end - m) + 2);
}

/* Every line ends in CRLF; no CR or LF alone anywhere. */
static void
assert_crlf(const char *m)
{
	for (const char *p = m; *p != '\0'; p++) {
		if (*p == '\r')
			ck_assert_msg(p[1] == '\n', "bare CR at %td", p - m);
		if (*p == '\n')
			ck_assert_msg(p > m && p[-1] == '\r', "bare LF at %td",
			    p - m);
	}
	ck_assert(strlen(m) >= 2 && strcmp(m + strlen(m) - 2, "\r\n") == 0);
}

/*
 * The names of the header fields, in order, one per line of out
 * (continuation lines belong to the field above).
 */
static void
header_names(const char *head, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (const char *l = head; *l != '\0'; l = strstr(l, "\r\n") + 2) {
		size_t n = strcspn(l, ":\r");

		if (*l == ' ' || *l == '\t')
			continue;
		o += (size_t)snprintf(out + o, len - o, "%.*s\n", (int)n, l);
		ck_assert_uint_lt(o, len);
	}
}

START_TEST(test_notice_firing)
{
	struct notice n = sample();
	char *m = mail_notice(&n, &notice_sender, &env), *h, names[512];

	ck_assert_ptr_nonnull(m);
	assert_crlf(m);
	h = head_of(m);
	header_names(h, names, sizeof(names));
	ck_assert_str_eq(names, "Date\nFrom\nTo\nSubject\nMessage-ID\n"
	    "X-Vigil-Id\nX-Vigil-Rule\nX-Vigil-State\nX-Vigil-Severity\n"
	    "Auto-Submitted\nMIME-Version\nContent-Type\n"
	    "Content-Transfer-Encoding\n");
	ck_assert_ptr_nonnull(strstr(h, "Date: Sat, 29 Nov 2025 03:41:00 "
	    "+0000\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "From: vigil <vigil@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "To: oncall@example.com,\r\n "
	    "b@example.org\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Subject: [vigil] FIRING critical "
	    "(escalated): api_p95 on ops-1 - API p95 1.2 s, threshold 1 s"
	    "\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Message-ID: "
	    "<vigil.mail.7.1764387660000@ops-1>\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "X-Vigil-Id: ops-1-7\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "X-Vigil-Severity: critical\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Content-Type: text/plain; "
	    "charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Content-Transfer-Encoding: 7bit\r\n"));
	/* The body: what the generic webhook says, one fact a line. */
	ck_assert_ptr_nonnull(strstr(m, "\r\n\r\nFIRING critical (escalated): "
	    "api_p95 on ops-1\r\n\r\nAPI p95 1.2 s, threshold 1 s\r\n\r\n"
	    "Rule:      api_p95\r\nState:     firing\r\n"
	    "Kind:      escalated\r\nSeverity:  critical\r\n"
	    "Value:     1234.5 ms\r\nThreshold: 1000 ms\r\n"
	    "Since:     2025-11-29T03:40:00.000Z\r\n"
	    "Time:      2025-11-29T03:41:00.000Z\r\n"
	    "Labels:    team=web\r\nInstance:  ops-1\r\n"
	    "Status:    http://vigil:9464/\r\nId:        ops-1-7\r\n"));
	free(h);
	free(m);
}
END_TEST

START_TEST(test_notice_resolved)
{
	struct notice n = sample();
	char *m, *h;

	n.kind = NOTICE_RESOLVED;
	n.firing = false;
	n.known = false;
	n.seq = 8;
	m = mail_notice(&n, &notice_sender, &env);
	assert_crlf(m);
	h = head_of(m);
	ck_assert_ptr_nonnull(strstr(h, "Subject: [vigil] RESOLVED: api_p95 on "
	    "ops-1 - API p95"));
	ck_assert_ptr_nonnull(strstr(h, "X-Vigil-State: resolved\r\n"));
	ck_assert_ptr_null(strstr(h, "Severity"));
	ck_assert_ptr_nonnull(strstr(m, "\r\nState:     resolved\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "\r\nValue:     unknown\r\n"));
	ck_assert_ptr_null(strstr(m, "Severity:"));
	free(h);
	free(m);
}
END_TEST

/* Each notice its own Message-ID; the same notice again, the same one. */
START_TEST(test_message_id_per_notice)
{
	struct notice n = sample();
	char *a = mail_notice(&n, &notice_sender, &env), *b, *c;

	n.seq = 8;
	b = mail_notice(&n, &notice_sender, &env);
	n.seq = 7;
	c = mail_notice(&n, &notice_sender, &env);
	ck_assert_ptr_nonnull(strstr(b, "Message-ID: "
	    "<vigil.mail.8.1764387660000@ops-1>\r\n"));
	ck_assert_str_eq(a, c);
	free(a);
	free(b);
	free(c);
}
END_TEST

/*
 * A summary, a label or the instance that carries CR/LF stays in its
 * line: no Bcc is added, the body does not start early, and the header
 * fields are exactly vigil's.
 */
START_TEST(test_header_injection)
{
	static const char *const evil[] = {
		"x\r\nBcc: victim@example.net",
		"x\nBcc: victim@example.net",
		"x\rBcc: victim@example.net",
		"x\r\n\r\nfake body",
		"x\r\n Bcc: folded@example.net",
	};
	char names[512], want[512];
	struct notice n = sample();
	struct sender s2 = notice_sender;
	char inst[128], *m, *h, *p;

	/* What a clean notice's header fields are. */
	m = mail_notice(&n, &notice_sender, &env);
	h = head_of(m);
	header_names(h, want, sizeof(want));
	free(h);
	free(m);
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		n = sample();
		snprintf(n.summary, sizeof(n.summary), "%s", evil[i]);
		snprintf(n.labels[0].value, sizeof(n.labels[0].value), "%s",
		    evil[i]);
		snprintf(n.unit, sizeof(n.unit), "ms\r\nX: 1");
		snprintf(inst, sizeof(inst), "ops-1%s", evil[i]);
		s2.instance = inst;
		m = mail_notice(&n, &s2, &env);
		ck_assert_ptr_nonnull(m);
		assert_crlf(m);
		h = head_of(m);
		header_names(h, names, sizeof(names));
		ck_assert_str_eq(names, want);
		ck_assert_ptr_null(strstr(h, "\r\nBcc"));
		/* Only To: is ever folded (one address a line). */
		ck_assert_ptr_null(strstr(h, "\r\n Bcc"));
		/* The Message-ID's domain: the instance made a dot-atom. */
		p = strstr(h, "Message-ID: <vigil.mail.7.1764387660000@ops-1x");
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(strcspn(p + 12, " \t>"),
		    strcspn(p + 12, ">"));
		/* In the body, too, each value stays on its own line. */
		ck_assert_ptr_null(strstr(m, "\r\nBcc"));
		ck_assert_ptr_null(strstr(m, "\r\nfake body"));
		ck_assert_ptr_null(strstr(m, "\r\nX: 1"));
		free(h);
		free(m);
	}
}
END_TEST

/* A Subject beyond ASCII: RFC 2047 words, each whole and short. */
START_TEST(test_subject_encoded)
{
	struct notice n = sample();
	char *m, *h, *subj, *p;
	size_t words = 0;

	snprintf(n.summary, sizeof(n.summary), "Latenz über der Schwelle: "
	    "5 µs — ein sehr langer Satz, der in mehrere Wörter muss");
	m = mail_notice(&n, &notice_sender, &env);
	assert_crlf(m);
	h = head_of(m);
	subj = strstr(h, "\r\nSubject: =?UTF-8?B?");
	ck_assert_ptr_nonnull(subj);
	subj += 2;
	/* The field ends where a line starts with something but a space. */
	for (p = subj; ; ) {
		const char *eol = strstr(p, "\r\n");
		const char *w = strstr(p, "=?UTF-8?B?");
		const char *we;

		ck_assert_ptr_nonnull(w);
		we = strstr(w, "?=");
		ck_assert_ptr_nonnull(we);
		ck_assert_uint_le((size_t)(we + 2 - w), 75);
		ck_assert_uint_le((size_t)(eol - p), 78);
		words++;
		p = (char *)eol + 2;
		if (*p != ' ')
			break;
	}
	ck_assert_uint_ge(words, 2);
	ck_assert_ptr_nonnull(strstr(h, "Content-Transfer-Encoding: 8bit\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "5 µs — ein"));
	free(h);
	free(m);
}
END_TEST

START_TEST(test_date)
{
	static const struct {
		long long t;
		const char *want;
	} cases[] = {
		{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
		{ 1709208000000LL, "Thu, 29 Feb 2024 12:00:00 +0000" },
		{ 1767225599999LL, "Wed, 31 Dec 2025 23:59:59 +0000" },
		{ 1796299323000LL, "Thu, 03 Dec 2026 12:02:03 +0000" },
	};
	char buf[48];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mail_date(cases[i].t, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].want);
	}
}
END_TEST

START_TEST(test_deploy_verdict)
{
	struct deploy_notice d = {
		.seq = 12, .id = 3, .version = "v2.4.1\r\nBcc: x@y",
		.verdict = "fail", .reason = "error rate 2 % > 1 %",
		.final = false, .t = 1764387660000LL,
	};
	char *m = mail_deploy(&d, &notice_sender, &env), *h;

	ck_assert_ptr_nonnull(m);
	assert_crlf(m);
	h = head_of(m);
	ck_assert_ptr_nonnull(strstr(h, "Subject: [vigil] Deploy v2.4.1  Bcc: "
	    "x@y: fail (decided early) on ops-1\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "X-Vigil-Kind: deploy_verdict\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "Message-ID: "
	    "<vigil.mail.12.1764387660000@ops-1>\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "\r\nVerdict:   fail\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "\r\n\r\nDeploy v2.4.1  Bcc: x@y: fail "
	    "(decided early)\r\n\r\nerror rate 2 % > 1 %\r\n"));
	free(h);
	free(m);
}
END_TEST

/*
 * A deploy update by mail: deploytext's words as the body, its first line
 * the Subject, for each kind (the fixture is deploytext's).
 */
START_TEST(test_deploy_update)
{
	static const enum talk_kind kinds[] = { TALK_BEGIN, TALK_STEP,
	    TALK_VERDICT, TALK_PROGRESS, TALK_END };
	char *json = NULL, err[256], kind[64], *text = malloc(16384), *m, *h;
	char *crlf = malloc(32768);
	struct deploy_update u;
	size_t len = 0, o = 0;
	cJSON *doc;

	ck_assert_msg(file_read("tests/unit/fixtures/deploytext/doc.json",
	    1 << 20, &json, &len, err, sizeof(err)) == 0, "%s", err);
	doc = cJSON_ParseWithLength(json, len);
	free(json);
	ck_assert_ptr_nonnull(doc);
	memset(&u, 0, sizeof(u));
	u.seq = 42;
	u.ev.kind = kinds[_i];
	u.t = 1764403200000LL;
	u.doc = doc;
	m = mail_deploy_update(&u, &notice_sender, &env);
	ck_assert_ptr_nonnull(m);
	assert_crlf(m);
	h = head_of(m);
	snprintf(kind, sizeof(kind), "\r\nX-Vigil-Kind: %s\r\n",
	    talk_kind_name(kinds[_i]));
	ck_assert_ptr_nonnull(strstr(h, kind));
	ck_assert_ptr_nonnull(strstr(h, "Message-ID: "
	    "<vigil.mail.42.1764403200000@ops-1>\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "\r\nSubject: "));
	/* The body is the text, line for line. */
	deploytext_text(&u, &notice_sender, text, 16384);
	ck_assert_uint_gt(strlen(text), 10);
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			crlf[o++] = '\r';
		crlf[o++] = *p;
	}
	crlf[o] = '\0';
	ck_assert_ptr_nonnull(strstr(m, crlf));
	free(text);
	free(crlf);
	free(h);
	free(m);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(test_header_clean)
{
	char out[16];

	ck_assert_str_eq(mail_header_clean("a\r\nb\tc\x7f" "d", out,
	    sizeof(out)), "a  b c d");
	/* Cut to fit, never in the middle of a character. */
	ck_assert_str_eq(mail_header_clean("abcdefghijklmn\xc3\xa9", out,
	    sizeof(out)), "abcdefghijklmn");
}
END_TEST

Suite *
mail_suite(void)
{
	Suite *s = suite_create("mail");
	TCase *tc = tcase_create("messages");

	tcase_add_test(tc, test_notice_firing);
	tcase_add_test(tc, test_notice_resolved);
	tcase_add_test(tc, test_message_id_per_notice);
	tcase_add_test(tc, test_header_injection);
	tcase_add_test(tc, test_subject_encoded);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_deploy_verdict);
	tcase_add_loop_test(tc, test_deploy_update, 0, 5);
	tcase_add_test(tc, test_header_clean);
	suite_add_tcase(s, tc);
	return s;
}
