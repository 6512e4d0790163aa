/*
 * vigilctl's on-call commands: status, alerts, silence add|list|expire.
 * They ask vigild and render its answer for a person at a terminal; with
 * --json they pass vigild's document through untouched.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/humanize.h"
#include "base/clock.h"
#include "ctl.h"
#include "base/duration.h"
#include "engine/ruleset.h"

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static const char *
str_or(const cJSON *o, const char *key, const char *dflt)
{
	const char *s = str(o, key);

	return s != NULL ? s : dflt;
}

static bool
num(const cJSON *o, const char *key, double *v)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(m))
		return false;
	*v = m->valuedouble;
	return true;
}

/* "3m12s" since an ISO time, or "" when there is none. */
static void
since_text(const char *iso, char *buf, size_t len)
{
	int64_t t;

	buf[0] = '\0';
	if (iso != NULL && clock_parse_iso(iso, &t) == 0)
		duration_format((clock_wall_ms() - t) / 1000 * 1000, buf, len);
}

/* "612 ms", "5.2 %", "unknown" */
static void
value_text(const cJSON *r, char *buf, size_t len)
{
	double x;

	if (!num(r, "value", &x)) {
		snprintf(buf, len, "unknown");
		return;
	}
	human_value(x, str(r, "unit"), buf, len);
}

/* "firing critical" and its colour, for a rule or an alert. */
static enum ctl_color
state_color(const char *state, const char *sev)
{
	if (state == NULL)
		return C_DIM;
	if (strcmp(state, "firing") == 0)
		return sev != NULL && strcmp(sev, "critical") == 0 ? C_RED :
		    C_YELLOW;
	if (strcmp(state, "pending") == 0)
		return C_BLUE;
	if (strcmp(state, "ok") == 0 || strcmp(state, "resolved") == 0)
		return C_GREEN;
	return C_DIM;
}

/*
 * Rank as vigild orders alerts: critical, warning, pending, unknown; the
 * same behind a failing dependency; last, /status's "suppressed" (which
 * hides the state behind it). -1: not an alert.
 */
static int
rank(const cJSON *r)
{
	const char *st = str(r, "state"), *sev = str(r, "severity");
	int k;

	if (st == NULL)
		return -1;
	if (strcmp(st, "suppressed") == 0)
		return 8;
	if (strcmp(st, "firing") == 0)
		k = sev != NULL && strcmp(sev, "critical") == 0 ? 0 : 1;
	else if (strcmp(st, "pending") == 0)
		k = 2;
	else if (strcmp(st, "unknown") == 0)
		k = 3;
	else
		return -1;
	return cJSON_GetObjectItemCaseSensitive(r, "suppressed_by") != NULL ?
	    k + 4 : k;
}

static void
silence_note(const struct ctl *x, const cJSON *s, const char *indent)
{
	char left[32];
	double in;

	left[0] = '\0';
	if (num(s, "expires_in_s", &in))
		duration_format((int64_t)in * 1000, left, sizeof(left));
	printf("%s%ssilenced (#%.0f) by %s until %s (%s left): %s%s\n",
	    indent, ctl_c(x, C_BLUE),
	    cJSON_GetObjectItemCaseSensitive(s, "id") != NULL ?
	    cJSON_GetObjectItemCaseSensitive(s, "id")->valuedouble : 0,
	    str_or(s, "author", "?"), str_or(s, "expires_at", "?"), left,
	    str_or(s, "comment", ""), ctl_c(x, C_OFF));
}

/*
 * One alert line. r is a rule of /status or an alert of /alerts; their
 * keys agree ("rule" or "name", "state", "severity", "since", "value").
 */
static void
alert_line(const struct ctl *x, const cJSON *r, int width)
{
	const char *name = str(r, "rule") != NULL ? str(r, "rule") :
	    str_or(r, "name", "?");
	const char *st = str(r, "state"), *sev = str(r, "severity");
	const char *sup = str(r, "suppressed_by");
	const cJSON *sil = cJSON_GetObjectItemCaseSensitive(r, "silenced_by");
	char label[16], val[48], held[32], forr[40] = "-";
	const char *text;

	snprintf(label, sizeof(label), "%s", st == NULL ? "?" :
	    strcmp(st, "firing") == 0 ? (sev != NULL &&
	    strcmp(sev, "critical") == 0 ? "CRITICAL" : "WARNING") :
	    strcmp(st, "pending") == 0 ? "PENDING" :
	    strcmp(st, "suppressed") == 0 ? "SUPPRESSED" : "UNKNOWN");
	value_text(r, val, sizeof(val));
	since_text(str(r, "since"), held, sizeof(held));
	if (held[0] != '\0')
		snprintf(forr, sizeof(forr), "for %s", held);
	text = st != NULL && strcmp(st, "unknown") == 0 ?
	    str_or(r, "explain", "") : str_or(r, "summary", "");
	printf("  %s%-10s%s  %s%-*s%s  %-12s  %-11s  %s\n",
	    ctl_c(x, state_color(st, sev)), label, ctl_c(x, C_OFF),
	    ctl_c(x, C_BOLD), width, name, ctl_c(x, C_OFF), val, forr, text);
	if (sup != NULL)
		printf("              %ssuppressed by %s: %s%s\n",
		    ctl_c(x, C_DIM), sup, str_or(r, "suppressed_why",
		    "its dependency is failing"), ctl_c(x, C_OFF));
	if (cJSON_IsObject(sil))
		silence_note(x, sil, "              ");
	sil = cJSON_GetObjectItemCaseSensitive(r, "silenced_by_maintenance");
	if (cJSON_IsObject(sil))
		printf("              %sin maintenance %s until %s%s\n",
		    ctl_c(x, C_BLUE), str_or(sil, "name", "?"),
		    str_or(sil, "ends_at", "?"), ctl_c(x, C_OFF));
}

/* The maintenance windows active now, and the next to begin. */
static void
print_maintenance(const struct ctl *x, const cJSON *m)
{
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(m, "active");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(m, "next"), *w;

	if (cJSON_GetArraySize(act) == 0 && cJSON_GetArraySize(next) == 0)
		return;
	printf("\n%sMaintenance%s\n", ctl_c(x, C_BOLD), ctl_c(x, C_OFF));
	cJSON_ArrayForEach(w, act)
		printf("  %sACTIVE%s  %s until %s%s%s\n", ctl_c(x, C_BLUE),
		    ctl_c(x, C_OFF), str_or(w, "name", "?"),
		    str_or(w, "ends_at", "?"), str(w, "comment") != NULL ?
		    ": " : "", str_or(w, "comment", ""));
	cJSON_ArrayForEach(w, next)
		printf("  next    %s from %s to %s\n", str_or(w, "name", "?"),
		    str_or(w, "start", "?"), str_or(w, "end", "?"));
}

static int
name_width(const cJSON *arr, const char *key, int min)
{
	const cJSON *e;
	int w = min;

	cJSON_ArrayForEach(e, arr) {
		const char *n = str(e, key);

		if (n != NULL && (int)strlen(n) > w)
			w = (int)strlen(n);
	}
	return w > 40 ? 40 : w;
}

/* Alerts in vigild's order, from /status rules or /alerts alerts. */
static size_t
print_alerts(const struct ctl *x, const cJSON *arr, const char *namekey,
    bool from_status)
{
	int width = name_width(arr, namekey, 10);
	size_t n = 0;

	for (int k = 0; k <= 8; k++) {
		const cJSON *r;

		cJSON_ArrayForEach(r, arr) {
			int rk = rank(r);

			/* Every alert of /alerts is shown, whatever its state. */
			if (rk != k && !(!from_status && k == 0 && rk < 0))
				continue;
			alert_line(x, r, width);
			n++;
		}
	}
	return n;
}

static void
print_probes(const struct ctl *x, const cJSON *probes)
{
	int width = name_width(probes, "name", 10);
	const cJSON *p;

	printf("\n%sProbes%s\n", ctl_c(x, C_BOLD), ctl_c(x, C_OFF));
	cJSON_ArrayForEach(p, probes) {
		const char *state = str_or(p, "state", "?");
		const cJSON *lr = cJSON_GetObjectItemCaseSensitive(p,
		    "last_run");
		char took[40] = "-", ago[32] = "", dur[32];
		double ms;
		enum ctl_color c = strcmp(state, "up") == 0 ? C_GREEN :
		    strcmp(state, "down") == 0 ? C_RED : C_DIM;

		if (cJSON_IsObject(lr) && num(lr, "duration_ms", &ms)) {
			human_value(ms, "ms", dur, sizeof(dur));
			snprintf(took, sizeof(took), "%s", dur);
		}
		since_text(cJSON_IsObject(lr) ? str(lr, "time") : NULL, ago,
		    sizeof(ago));
		printf("  %-*s  %s%-7s%s  %-10s  %-8s  %s\n", width,
		    str_or(p, "name", "?"), ctl_c(x, c), state,
		    ctl_c(x, C_OFF), took, ago[0] != '\0' ? ago : "-",
		    cJSON_IsObject(lr) && str(lr, "reason") != NULL ?
		    str(lr, "reason") : cJSON_IsObject(lr) ? "ok" :
		    "no run yet");
	}
}

/* The key numbers: every explicit rule's value and thresholds. */
static void
print_metrics(const struct ctl *x, const cJSON *rules)
{
	int width = name_width(rules, "name", 10);
	const cJSON *r;
	bool any = false;

	cJSON_ArrayForEach(r, rules) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(r,
		    "thresholds");
		const char *st = str(r, "state"), *sev = str(r, "severity");
		const char *op = str_or(t, "op", "");
		char val[48], w[32] = "", c[32] = "", th[96] = "";
		size_t n;
		double v;

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r,
		    "implicit")))
			continue;
		if (!any)
			printf("\n%sMetrics%s\n", ctl_c(x, C_BOLD),
			    ctl_c(x, C_OFF));
		any = true;
		value_text(r, val, sizeof(val));
		if (num(t, "warn", &v))
			human_value(v, str(r, "unit"), w, sizeof(w));
		if (num(t, "crit", &v))
			human_value(v, str(r, "unit"), c, sizeof(c));
		if (w[0] != '\0')
			snprintf(th, sizeof(th), "warn %s %s", op, w);
		n = strlen(th);
		if (c[0] != '\0')
			snprintf(th + n, sizeof(th) - n, "%scrit %s %s",
			    n > 0 ? ", " : "", op, c);
		printf("  %-*s  %-12s  %s%-16s%s  %s\n", width,
		    str_or(r, "name", "?"), val,
		    ctl_c(x, state_color(st, sev)), st != NULL &&
		    strcmp(st, "firing") == 0 && sev != NULL ?
		    (strcmp(sev, "critical") == 0 ? "firing critical" :
		    "firing warning") : st != NULL ? st : "?",
		    ctl_c(x, C_OFF), th);
	}
}

/* The silences; heading: under a "Silences" title (none: nothing). */
static void
print_silences(const struct ctl *x, const cJSON *arr, bool heading)
{
	const cJSON *s;

	if (cJSON_GetArraySize(arr) == 0) {
		if (!heading)
			printf("no silences\n");
		return;
	}
	if (heading)
		printf("\n%sSilences%s\n", ctl_c(x, C_BOLD), ctl_c(x, C_OFF));
	cJSON_ArrayForEach(s, arr) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(s,
		    "matchers"), *e;
		const cJSON *ma = cJSON_GetObjectItemCaseSensitive(s,
		    "matches");
		bool first = true;

		printf("  #%-4.0f ", cJSON_GetObjectItemCaseSensitive(s,
		    "id") != NULL ? cJSON_GetObjectItemCaseSensitive(s,
		    "id")->valuedouble : 0);
		if (str(s, "rule") != NULL) {
			printf("rule %s", str(s, "rule"));
			first = false;
		}
		cJSON_ArrayForEach(e, m) {
			printf("%s%s=%s", first ? "" : ", ", e->string,
			    cJSON_IsString(e) ? e->valuestring : "?");
			first = false;
		}
		printf("\n");
		silence_note(x, s, "         ");
		if (cJSON_IsArray(ma)) {
			printf("         matches now:");
			if (cJSON_GetArraySize(ma) == 0)
				printf(" no rule");
			cJSON_ArrayForEach(e, ma)
				printf(" %s", cJSON_IsString(e) ?
				    e->valuestring : "?");
			printf("\n");
		}
	}
}

static int
exit_for_status(const char *status)
{
	if (status == NULL)
		return CTL_UNREACHABLE;
	if (strcmp(status, "fail") == 0)
		return CTL_FAIL;
	return strcmp(status, "warn") == 0 ? CTL_WARN : CTL_OK;
}

int
ctl_status(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	const cJSON *d, *rules;
	const char *status, *out;
	char up[32] = "";
	double s;
	int rc = ctl_operands(x, 0, "status");

	if (rc != 0)
		return rc;
	rc = ctl_call(x, "GET", "/status", NULL, &a, &doc);
	if (rc != CTL_OK) {
		client_answer_clear(&a);
		return rc;
	}
	status = str(doc, "status");
	if (x->json) {
		ctl_write_json(a.body, a.len);
		printf("\n");
		goto out;
	}
	if (status == NULL) {
		fprintf(stderr, "vigilctl: vigild's /status is not what was "
		    "expected\n");
		goto out;
	}
	d = cJSON_GetObjectItemCaseSensitive(doc, "vigild");
	if (num(d, "uptime_s", &s))
		duration_format((int64_t)s * 1000, up, sizeof(up));
	printf("%s%s%s  vigild %s at %s, up %s\n",
	    ctl_c(x, strcmp(status, "fail") == 0 ? C_RED :
	    strcmp(status, "warn") == 0 ? C_YELLOW : C_GREEN),
	    strcmp(status, "fail") == 0 ? "FAIL" : strcmp(status, "warn") ==
	    0 ? "WARN" : "PASS", ctl_c(x, C_OFF), str_or(d, "version", "?"),
	    x->cli.url, up);
	if ((out = str(doc, "output")) != NULL)
		printf("  %s\n", out);
	rules = cJSON_GetObjectItemCaseSensitive(doc, "rules");
	printf("\n%sAlerts%s\n", ctl_c(x, C_BOLD), ctl_c(x, C_OFF));
	if (print_alerts(x, rules, "name", true) == 0)
		printf("  none: nothing is firing, pending or unknown\n");
	print_probes(x, cJSON_GetObjectItemCaseSensitive(doc, "probes"));
	print_metrics(x, rules);
	print_silences(x, cJSON_GetObjectItemCaseSensitive(doc, "silences"),
	    true);
	print_maintenance(x, cJSON_GetObjectItemCaseSensitive(doc,
	    "maintenance"));
out:
	rc = exit_for_status(status);
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}

/* Appends "k=v" to a query string, encoding what a URL cannot hold. */
static void
add_query(char *q, size_t len, const char *k, const char *v)
{
	size_t n = strlen(q);

	n += (size_t)snprintf(q + n, len - n, "%s%s=", n == 0 ? "?" : "&", k);
	for (; *v != '\0' && n + 4 < len; v++) {
		unsigned char ch = (unsigned char)*v;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == ',' || ch == '_')
			q[n++] = (char)ch;
		else
			n += (size_t)snprintf(q + n, len - n, "%%%02X", ch);
	}
	q[n] = '\0';
}

int
ctl_alerts(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	const cJSON *c;
	char path[300] = "/alerts", q[256] = "";
	double crit = 0, warn = 0;
	int rc = ctl_operands(x, 0, "alerts");

	if (rc != 0)
		return rc;
	if (x->severity != NULL)
		add_query(q, sizeof(q), "severity", x->severity);
	if (x->state != NULL)
		add_query(q, sizeof(q), "state", x->state);
	snprintf(path, sizeof(path), "/alerts%s", q);
	rc = ctl_call(x, "GET", path, NULL, &a, &doc);
	if (rc != CTL_OK) {
		client_answer_clear(&a);
		return rc;
	}
	c = cJSON_GetObjectItemCaseSensitive(doc, "counts");
	if (!num(c, "critical", &crit) || !num(c, "warning", &warn)) {
		fprintf(stderr, "vigilctl: vigild's /alerts is not what was "
		    "expected\n");
		rc = CTL_UNREACHABLE;
		goto out;
	}
	if (x->json) {
		ctl_write_json(a.body, a.len);
		printf("\n");
	} else if (print_alerts(x, cJSON_GetObjectItemCaseSensitive(doc,
	    "alerts"), "rule", false) == 0) {
		printf("no alerts%s\n", q[0] != '\0' ? " matching the filter" :
		    ": nothing is firing, pending or unknown");
	}
	rc = crit > 0 ? CTL_FAIL : warn > 0 ? CTL_WARN : CTL_OK;
out:
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}

/*
 * Who is silencing: under sudo, the engineer who typed it (SUDO_USER), not
 * "root"; else the login name ($USER, $LOGNAME, the session's login, the
 * account).
 */
bool
ctl_add_matchers(cJSON *o, const char *name, const struct ctl *x)
{
	cJSON *m = cJSON_AddObjectToObject(o, name);

	for (size_t i = 0; m != NULL && i < x->nmatch; i++) {
		const char *eq = strchr(x->match[i], '=');
		char key[128];

		if (eq == NULL || eq == x->match[i] ||
		    (size_t)(eq - x->match[i]) >= sizeof(key)) {
			fprintf(stderr, "vigilctl: --match takes LABEL=VALUE, "
			    "not \"%s\"\n", x->match[i]);
			return false;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - x->match[i]),
		    x->match[i]);
		cJSON_AddStringToObject(m, key, eq + 1);
	}
	return m != NULL;
}

const char *
ctl_default_author(void)
{
	static const char *const vars[] = { "SUDO_USER", "USER", "LOGNAME" };
	struct passwd *pw;
	const char *u;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		u = getenv(vars[i]);
		/* sudo from root's own shell says SUDO_USER=root: fine. */
		if (u != NULL && *u != '\0')
			return u;
	}
	if ((u = getlogin()) != NULL && *u != '\0')
		return u;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : NULL;
}

/* The request body of silence add, or NULL after a usage message. */
static char *
silence_body(const struct ctl *x)
{
	const char *author = x->author != NULL ? x->author : ctl_default_author();
	cJSON *o;
	char *s;

	if ((x->rule == NULL && x->nmatch == 0) ||
	    (x->dur == NULL) == (x->until == NULL) || x->comment == NULL ||
	    author == NULL) {
		fprintf(stderr, "vigilctl: silence add needs --rule or "
		    "--match, one of --for and --until, and --comment%s\n",
		    author == NULL ? " (and --author: $USER is not set)" : "");
		return NULL;
	}
	o = cJSON_CreateObject();
	if (x->rule != NULL)
		cJSON_AddStringToObject(o, "rule", x->rule);
	if (x->nmatch > 0 && !ctl_add_matchers(o, "matchers", x)) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "author", author);
	cJSON_AddStringToObject(o, "comment", x->comment);
	if (x->dur != NULL) {
		cJSON_AddStringToObject(o, "duration", x->dur);
	} else {
		char *end;
		double secs = strtod(x->until, &end);

		/* Unix seconds as a number; anything else as ISO-8601. */
		if (*x->until != '\0' && *end == '\0')
			cJSON_AddNumberToObject(o, "expires_at", secs);
		else
			cJSON_AddStringToObject(o, "expires_at", x->until);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

int
ctl_silence_add(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	const cJSON *s, *id;
	char *body;
	int rc = ctl_operands(x, 0, "silence add");

	if (rc != 0)
		return rc;
	if ((body = silence_body(x)) == NULL)
		return CTL_USAGE;
	rc = ctl_call(x, "POST", "/silences", body, &a, &doc);
	cJSON_free(body);
	if (rc != CTL_OK) {
		client_answer_clear(&a);
		return rc;
	}
	s = cJSON_GetObjectItemCaseSensitive(doc, "silence");
	id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	if (x->json) {
		ctl_write_json(a.body, a.len);
		printf("\n");
	} else if (cJSON_IsNumber(id) && cJSON_IsObject(s)) {
		cJSON *one = cJSON_CreateArray();

		printf("silence #%.0f added\n", id->valuedouble);
		cJSON_AddItemReferenceToArray(one, (cJSON *)s);
		print_silences(x, one, false);
		cJSON_Delete(one);
		if (str(doc, "warning") != NULL)
			fprintf(stderr, "vigilctl: note: %s\n",
			    str(doc, "warning"));
	} else {
		fprintf(stderr, "vigilctl: vigild's answer is not what was "
		    "expected\n");
		rc = CTL_UNREACHABLE;
	}
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}

int
ctl_silence_list(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	int rc = ctl_operands(x, 0, "silence list");

	if (rc != 0)
		return rc;
	rc = ctl_call(x, "GET", "/silences", NULL, &a, &doc);
	if (rc == CTL_OK && x->json) {
		ctl_write_json(a.body, a.len);
		printf("\n");
	} else if (rc == CTL_OK) {
		print_silences(x, cJSON_GetObjectItemCaseSensitive(doc,
		    "silences"), false);
	}
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}

int
ctl_silence_expire(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	char path[64];
	int rc = ctl_operands(x, 1, "silence expire");

	if (rc != 0)
		return rc;
	if (strspn(x->args[0], "0123456789") != strlen(x->args[0]) ||
	    strlen(x->args[0]) > 19 || x->args[0][0] == '\0') {
		fprintf(stderr, "vigilctl: a silence id is a number (vigilctl "
		    "silence list shows them), not \"%s\"\n", x->args[0]);
		return CTL_USAGE;
	}
	/*
	 * Each vigild numbers its silences itself: on a pair, #3 may be two
	 * different silences, and expiring both would end one nobody meant.
	 */
	if (x->cli.nurls > 1) {
		fprintf(stderr, "vigilctl: silence expire takes one --url: "
		    "silence ids are each vigild's own (vigilctl --url URL "
		    "silence list on each)\n");
		return CTL_USAGE;
	}
	snprintf(path, sizeof(path), "/silences/%s", x->args[0]);
	rc = ctl_call(x, "DELETE", path, NULL, &a, &doc);
	if (rc == CTL_OK)
		printf("silence #%s expired\n", x->args[0]);
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}
