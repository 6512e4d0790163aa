/*
 * vigilctl's release commands: deploy begin|step|end, wait, report and
 * baseline. vigild owns the deploy window and judges it; these only ask
 * and render, so a pipeline that has only curl gets the same verdict
 * from GET /deploys/current.
 *
 * wait's exit codes: 0 pass (also warn, unless --fail-on warning), 1 warn
 * under --fail-on warning, 2 fail, 3 inconclusive (measurement errors,
 * too few samples, vigild unreachable), 64 usage. --dry-run prints the
 * code it would have returned and exits 0.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "base/duration.h"

static const char *
str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(x) ? x->valuestring : dflt;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* 312, 0.05, 1.5e+09: the way people read numbers. */
static void
fmt(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-3))
		snprintf(buf, len, "%.3g", v);
	else
		snprintf(buf, len, "%.4g", v);
}

static int
post_action(struct ctl *x, const char *body, const char *what)
{
	struct client_answer a = { 0 };
	cJSON *doc = NULL;
	int rc = ctl_call(x, "POST", "/deploys", body, &a, &doc);

	if (rc != 0) {
		client_answer_clear(&a);
		return rc;
	}
	if (x->json) {
		ctl_write_json(a.body, a.len);
		fputc('\n', stdout);
	} else {
		printf("deploy %.0f (%s) %s", num(doc, "id"),
		    str(doc, "version", "?"), what);
		if (strcmp(what, "begun") == 0)
			printf(": judging from %s (warm-up %.0f s), baseline "
			    "from %s", str(doc, "judging_from", "?"),
			    num(doc, "warmup_s"), str(cJSON_GetObjectItem(doc,
			    "baseline"), "from", "?"));
		printf("\n");
	}
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return CTL_OK;
}

int
ctl_deploy_begin(struct ctl *x)
{
	cJSON *o;
	char *body;
	int rc;

	if (ctl_operands(x, 0, "deploy begin") != 0)
		return CTL_USAGE;
	if (x->version == NULL) {
		fprintf(stderr, "vigilctl: deploy begin needs --version\n");
		return CTL_USAGE;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "action", "begin");
	cJSON_AddStringToObject(o, "version", x->version);
	if (x->warmup != NULL)
		cJSON_AddStringToObject(o, "warmup", x->warmup);
	if (x->announce != NULL)
		cJSON_AddStringToObject(o, "announce", x->announce);
	if (x->stages != NULL) {
		cJSON *a = cJSON_AddArrayToObject(o, "stages");
		const char *p = x->stages;
		char *end;

		/* "10,25,50,100": vigild checks the range and the order. */
		while (*p != '\0') {
			long w = strtol(p, &end, 10);

			if (end == p || (*end != ',' && *end != '\0')) {
				fprintf(stderr, "vigilctl: --stages takes weights "
				    "separated by commas: 10,25,50,100\n");
				cJSON_Delete(o);
				return CTL_USAGE;
			}
			cJSON_AddItemToArray(a, cJSON_CreateNumber((double)w));
			p = *end == ',' ? end + 1 : end;
		}
	}
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	rc = body != NULL ? post_action(x, body, "begun") : CTL_UNREACHABLE;
	cJSON_free(body);
	return rc;
}

int
ctl_deploy_step(struct ctl *x)
{
	char body[64];

	if (ctl_operands(x, 0, "deploy step") != 0)
		return CTL_USAGE;
	if (x->weight < 1 || x->weight > 100) {
		fprintf(stderr, "vigilctl: deploy step needs --weight 1..100\n");
		return CTL_USAGE;
	}
	snprintf(body, sizeof(body), "{\"action\":\"step\",\"weight\":%d}",
	    x->weight);
	return post_action(x, body, "stepped");
}

int
ctl_deploy_end(struct ctl *x)
{
	if (ctl_operands(x, 0, "deploy end") != 0)
		return CTL_USAGE;
	return post_action(x, "{\"action\":\"end\"}", "ended");
}

static enum { V_PASS, V_WARN, V_INCONCLUSIVE, V_FAIL }
verdict_of(const char *s)
{
	if (strcmp(s, "fail") == 0)
		return V_FAIL;
	if (strcmp(s, "inconclusive") == 0)
		return V_INCONCLUSIVE;
	if (strcmp(s, "warn") == 0)
		return V_WARN;
	return V_PASS;
}

static int
exit_code(const char *verdict, bool fail_on_warning)
{
	switch (verdict_of(verdict)) {
	case V_FAIL:
		return 2;
	case V_INCONCLUSIVE:
		return 3;
	case V_WARN:
		return fail_on_warning ? 1 : 0;
	case V_PASS:
		break;
	}
	return 0;
}

/*
 * The verdict wait decides on: vigild's "gate" (the stage's in a staged
 * rollout, else the window's), as vigild rendered it.
 */
static const cJSON *
gate_of(const cJSON *doc)
{
	return cJSON_GetObjectItem(doc, "gate");
}

/* One line a poll: the gate's verdict so far and each check's counts. */
static void
progress(struct ctl *x, const cJSON *doc, double elapsed)
{
	const cJSON *c;

	fprintf(stderr, "%s[+%4.0fs]%s %s%-12s%s", ctl_c(x, C_DIM), elapsed,
	    ctl_c(x, C_OFF), ctl_c(x, C_BOLD),
	    cJSON_IsTrue(cJSON_GetObjectItem(doc, "warming_up")) ?
	    "warming up" : str(gate_of(doc), "now", "?"), ctl_c(x, C_OFF));
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "checks")) {
		char v[32];

		fmt(num(cJSON_GetObjectItem(c, "measured"), "value"), v,
		    sizeof(v));
		fprintf(stderr, "  %s=%s%s (%.0f ok %.0f warn %.0f crit %.0f "
		    "err)", str(c, "name", "?"), v, str(cJSON_GetObjectItem(c,
		    "target"), "unit", ""), num(c, "ok"), num(c, "warn"),
		    num(c, "crit"), num(c, "errors"));
	}
	fprintf(stderr, "\n");
}

/* Each check's verdict in the gate's scope, and why. */
static void
reasons(struct ctl *x, const cJSON *doc)
{
	bool stage = strcmp(str(gate_of(doc), "scope", ""), "stage") == 0;
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "checks")) {
		const cJSON *sc = stage ? cJSON_GetObjectItem(c, "stage") : c;
		const char *v = str(sc, "verdict", "?");
		enum ctl_color col = verdict_of(v) == V_FAIL ? C_RED :
		    verdict_of(v) == V_PASS ? C_GREEN : C_YELLOW;

		printf("  %-22s %s%-12s%s %s\n", str(c, "name", "?"),
		    ctl_c(x, col), v, ctl_c(x, C_OFF), str(sc, "reason", ""));
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "dry_run"))
		printf("  %-22s %-12s %s (advisory: never gates)\n",
		    str(c, "name", "?"), str(c, "verdict", "?"),
		    str(c, "reason", ""));
}

static double
since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * The open window's document, retrying an unreachable vigild (a restart,
 * a blip) for up to retry_ms. 0 with *doc, or the exit code.
 */
static int
fetch(struct ctl *x, int64_t retry_ms, int64_t poll_ms, cJSON **doc)
{
	struct timespec t0;
	bool told = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct client_answer a = { 0 };
		int rc = ctl_call(x, "GET", "/deploys/current", NULL, &a, doc);

		client_answer_clear(&a);
		/* Said once when it began; once more if it does not end. */
		x->hush_unreachable = false;
		if (rc != CTL_UNREACHABLE) {
			if (told)
				fprintf(stderr, "vigilctl: vigild answered "
				    "again after %.0f s\n", since(&t0));
			return rc;
		}
		if (since(&t0) * 1000 >= (double)retry_ms) {
			if (told)
				fprintf(stderr, "vigilctl: gave up after %.0f s: "
				    "%s\n", since(&t0), x->unreachable);
			return rc;
		}
		if (!told)
			fprintf(stderr, "vigilctl: retrying for up to %.0f s\n",
			    (double)retry_ms / 1e3);
		told = true;
		x->hush_unreachable = true;
		usleep((useconds_t)((poll_ms < 1000 ? poll_ms : 1000) * 1000));
	}
}

/* For an HA pair: the vigild to wait on is one with the window open. */
static bool
window_open(const cJSON *doc)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(doc, "open"));
}

int
ctl_wait(struct ctl *x)
{
	size_t on = SIZE_MAX;
	int64_t for_ms = 0, poll_ms = 5000, retry_ms = 30000;
	struct timespec t0;
	const char *verdict = "inconclusive", *reason = "";
	const cJSON *g;
	cJSON *doc = NULL;
	double id = NAN;
	int code;

	if (x->nargs > 0) {
		fprintf(stderr, "vigilctl: wait takes no operands (\"%s\"): "
		    "did you mean --for %s?\n", x->args[0], x->args[0]);
		return CTL_USAGE;
	}
	if (x->dur == NULL) {
		fprintf(stderr, "vigilctl: wait needs --for DURATION: how long "
		    "to judge the stage (10m); it returns at once only on a "
		    "fail or the measurement error limit\n");
		return CTL_USAGE;
	}
	if (duration_parse(x->dur, &for_ms) != 0 || for_ms <= 0) {
		fprintf(stderr, "vigilctl: --for \"%s\" is not a duration\n",
		    x->dur);
		return CTL_USAGE;
	}
	if (x->interval != NULL && (duration_parse(x->interval, &poll_ms) !=
	    0 || poll_ms < 100)) {
		fprintf(stderr, "vigilctl: --interval must be a duration of at "
		    "least 100ms\n");
		return CTL_USAGE;
	}
	if (x->retry_for != NULL && duration_parse(x->retry_for,
	    &retry_ms) != 0) {
		fprintf(stderr, "vigilctl: --retry-for \"%s\" is not a "
		    "duration\n", x->retry_for);
		return CTL_USAGE;
	}
	x->usable = window_open;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double elapsed;
		int rc;

		cJSON_Delete(doc);
		doc = NULL;
		rc = fetch(x, retry_ms, poll_ms, &doc);
		/*
		 * A pair's vigilds number their deploys each its own way:
		 * a move to the other one (the first stopped answering) is
		 * its window, not a new one.
		 */
		if (rc == 0 && x->cli.nurls > 1 && x->answered != on) {
			fprintf(stderr, "vigilctl: %s %s\n", on == SIZE_MAX ?
			    "waiting on" : "now waiting on",
			    x->cli.urls[x->answered]);
			on = x->answered;
			id = NAN;
		}
		if (rc != 0) {
			/* Cannot judge without vigild: never a silent pass. */
			fprintf(stderr, "vigilctl: inconclusive: %s\n",
			    rc == CTL_UNREACHABLE ? "vigild unreachable" :
			    "no deploy window (vigilctl deploy begin first)");
			cJSON_Delete(doc);
			return x->dry_run ? 0 : 3;
		}
		g = gate_of(doc);
		if (!cJSON_IsTrue(cJSON_GetObjectItem(doc, "open")) ||
		    (!isnan(id) && num(doc, "id") != id) || g == NULL) {
			/* A window that is not open is no window to judge. */
			if (g == NULL)
				fprintf(stderr, "vigilctl: inconclusive: this "
				    "vigild gives no gate verdict (too old?)\n");
			else
				fprintf(stderr, "vigilctl: inconclusive: no "
				    "deploy window is open%s; the latest, deploy "
				    "%.0f (%s), %s %s with verdict %s\n",
				    isnan(id) ? "" : " (the one waited on "
				    "ended)", num(doc, "id"),
				    str(doc, "version", "?"),
				    cJSON_IsTrue(cJSON_GetObjectItem(doc, "open")) ?
				    "began" : "ended", cJSON_IsTrue(
				    cJSON_GetObjectItem(doc, "open")) ?
				    str(doc, "begun", "?") : str(doc, "ended", "?"),
				    str(cJSON_GetObjectItem(doc, "verdict"),
				    "final", "?"));
			cJSON_Delete(doc);
			return x->dry_run ? 0 : 3;
		}
		id = num(doc, "id");
		elapsed = since(&t0);
		if (!x->json)
			progress(x, doc, elapsed);
		/* A fail, or the error limit, decides at once. */
		if (cJSON_IsTrue(cJSON_GetObjectItem(g, "decided"))) {
			verdict = str(g, "now", "inconclusive");
			reason = str(g, "now_reason", "");
			break;
		}
		if (elapsed * 1000 >= (double)for_ms) {
			verdict = str(g, "final", "inconclusive");
			reason = str(g, "final_reason", "");
			break;
		}
		usleep((useconds_t)(poll_ms * 1000));
	}
	code = exit_code(verdict, x->fail_on != NULL &&
	    strcmp(x->fail_on, "warning") == 0);
	if (x->json) {
		char *s = cJSON_Print(doc);

		if (s != NULL)
			printf("%s\n", s);
		cJSON_free(s);
	} else {
		printf("%sverdict: %s%s (exit %d): %s\n", ctl_c(x, C_BOLD),
		    verdict, ctl_c(x, C_OFF), code, reason);
		reasons(x, doc);
	}
	cJSON_Delete(doc);
	if (x->dry_run) {
		/* stderr: with --json, stdout holds the document alone. */
		fprintf(stderr, "dry run: would have exited %d\n", code);
		return 0;
	}
	return code;
}

/*
 * A relative check that could not run (too thin a baseline) is said up
 * front: the verdict did not compare against the baseline.
 */
static void
skipped(const cJSON *doc, bool md)
{
	const cJSON *c;
	int n = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "checks")) {
		const cJSON *rel = cJSON_GetObjectItem(c, "relative");
		const char *why = str(rel, "reason", ""), *p;

		if (strcmp(str(rel, "verdict", ""), "skipped") != 0)
			continue;
		/* "relative check skipped: 3 samples before, ..." */
		if ((p = strchr(why, ':')) != NULL && p[1] == ' ')
			why = p + 2;
		printf("%s%s (%s)", n++ == 0 ? (md ? "- Relative checks "
		    "skipped: " : "Relative checks skipped: ") : "; ",
		    str(c, "name", "?"), why);
	}
	if (n > 0)
		printf("\n");
}

/*
 * The release's own error events against the rest's, per stage: what
 * the whole-application numbers above cannot say of a canary.
 */
static void
by_release(const cJSON *br, bool md)
{
	const cJSON *st;
	int i = 0;

	if (br == NULL)
		return;
	printf(md ? "\n- Errors by release (%s, %s%s): " :
	    "Errors by release (%s, %s%s): ", str(br, "source", "?"),
	    str(br, "test", "?"), cJSON_IsTrue(cJSON_GetObjectItem(br,
	    "advisory")) ? ", advisory" : "");
	if (isnan(num(br, "errors")))
		printf("not measured yet");
	else
		printf("%.0f of %.0f error events from %s since judging began",
		    num(br, "release_errors"), num(br, "errors"),
		    str(br, "version", "?"));
	printf(md ? "; **%s**: %s\n" : "; %s: %s\n", str(br, "verdict", "?"),
	    str(br, "reason", ""));
	cJSON_ArrayForEach(st, cJSON_GetObjectItem(br, "stages"))
		printf(md ? "  - stage %d (%.0f %%): %s: %s\n" :
		    "  stage %d (%.0f %%): %s: %s\n", ++i, num(st, "weight"),
		    str(st, "verdict", "?"), str(st, "reason", ""));
	if (!md)
		printf("\n");
}

/* The team's post-deployment summary, in text or Markdown. */
static void
render_report(struct ctl *x, const cJSON *doc, bool md)
{
	const cJSON *v = cJSON_GetObjectItem(doc, "verdict");
	const cJSON *t = cJSON_GetObjectItem(doc, "traffic");
	const cJSON *c, *st;
	const char *final = str(v, "final", "?");
	bool open = cJSON_IsTrue(cJSON_GetObjectItem(doc, "open"));
	char a[32], b[32];

	(void)x;
	printf(md ? "## Deploy %s: %s\n\n" : "Deploy %s: %s\n",
	    str(doc, "version", "?"), verdict_of(final) == V_PASS ? "PASS" :
	    verdict_of(final) == V_WARN ? "WARN" : verdict_of(final) ==
	    V_FAIL ? "FAIL" : "INCONCLUSIVE");
	printf(md ? "- Verdict: **%s** (exit %d): %s\n" :
	    "Verdict: %s (exit %d): %s\n", final, exit_code(final, false),
	    str(v, "final_reason", ""));
	/* The last stage as wait judged it, when it differs in scope. */
	if (cJSON_GetObjectItem(doc, "stage") != NULL) {
		const cJSON *sg = cJSON_GetObjectItem(doc, "stage");
		const cJSON *sv = cJSON_GetObjectItem(sg, "verdict");

		printf(md ? "- Last stage (%.0f %%): **%s**: %s\n" :
		    "Last stage (%.0f %%): %s: %s\n", num(sg, "weight"),
		    str(sv, "final", "?"), str(sv, "final_reason", ""));
	}
	printf(md ? "- Judged every %.0f s (%.0f intervals); relative checks "
	    "compare %s\n" : "Judged every %.0f s (%.0f intervals); relative "
	    "checks compare %s\n", num(doc, "interval_s"),
	    num(doc, "intervals_judged"), str(doc, "relative_compare",
	    "the deploy window against the window before it"));
	printf(md ? "- Begun: %s, warm-up %.0f s, %s\n" :
	    "Begun: %s, warm-up %.0f s, %s\n", str(doc, "begun", "?"),
	    num(doc, "warmup_s"), open ? "window still open" : "ended");
	printf(md ? "- Compared: %s\n" : "Compared: %s\n",
	    str(doc, "compared", "whole-application metrics"));
	printf(md ? "- Stages:" : "Stages:");
	cJSON_ArrayForEach(st, cJSON_GetObjectItem(doc, "stages"))
		printf(" %.0f%%", num(st, "weight"));
	printf("\n");
	/* Counts in full: they are compared with the application's. */
	printf(md ? "- Traffic: %.0f requests, %.0f errors" :
	    "Traffic: %.0f requests, %.0f errors", num(t, "requests"),
	    num(t, "errors"));
	if (!isnan(num(t, "error_rate_pct"))) {
		fmt(num(t, "error_rate_pct"), a, sizeof(a));
		printf(" (%s %%)", a);
	}
	/* Not configured, or no sample yet, is not 0 hits. */
	if (isnan(num(t, "cache_hits"))) {
		printf(", cache hits: not measured");
	} else {
		printf(", %.0f cache hits", num(t, "cache_hits"));
		if (!isnan(num(t, "cache_hit_rate_pct"))) {
			fmt(num(t, "cache_hit_rate_pct"), b, sizeof(b));
			printf(" (%s %%)", b);
		}
	}
	printf("\n");
	skipped(doc, md);
	printf("\n");
	if (md)
		printf("| check | target | measured | baseline | verdict | "
		    "reason |\n|---|---|---|---|---|---|\n");
	else
		printf("Checks:\n");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "checks")) {
		const cJSON *tg = cJSON_GetObjectItem(c, "target");
		const cJSON *m = cJSON_GetObjectItem(c, "measured");
		const cJSON *rel = cJSON_GetObjectItem(c, "relative");
		char w[32], cr[32], val[32], base[48], target[96];

		fmt(num(tg, "warn"), w, sizeof(w));
		fmt(num(tg, "crit"), cr, sizeof(cr));
		snprintf(target, sizeof(target), "%s warn %s crit %s%s%s",
		    str(tg, "op", "?"), w, cr, *str(tg, "unit", "") ? " " : "",
		    str(tg, "unit", ""));
		fmt(num(m, "value"), val, sizeof(val));
		fmt(num(c, "baseline"), base, sizeof(base));
		if (!isnan(num(c, "delta_pct"))) {
			size_t n = strlen(base);

			snprintf(base + n, sizeof(base) - n, " (%+.1f %%)",
			    num(c, "delta_pct"));
		}
		if (md)
			printf("| %s | %s | %s (%s) | %s | %s | %s |\n",
			    str(c, "name", "?"), target, val, str(m, "how", ""),
			    base, str(c, "verdict", "?"), str(c, "reason", ""));
		else
			printf("  %-20s %-8s %s\n      target %s; measured %s "
			    "(%s); baseline %s; %.0f polls, %.0f errors, "
			    "longest crit run %.0f\n", str(c, "name", "?"),
			    str(c, "verdict", "?"), str(c, "reason", ""),
			    target, val, str(m, "how", ""), base,
			    num(c, "polls"), num(c, "errors"),
			    num(c, "longest_crit_run"));
		if (rel != NULL)
			printf(md ? "|  | relative | %s |  | %s | %s |\n" :
			    "      relative (%s): %s: %s\n",
			    str(rel, "test", "?"), str(rel, "verdict", "?"),
			    str(rel, "reason", ""));
	}
	by_release(cJSON_GetObjectItem(doc, "by_release"), md);
	printf(md ? "\n- Alerts fired:" : "Alerts fired:");
	st = cJSON_GetObjectItem(doc, "alerts");
	if (cJSON_GetArraySize(st) == 0)
		printf(" none");
	cJSON_ArrayForEach(c, st)
		printf(" %s (%s, %s)", str(c, "rule", "?"),
		    str(c, "severity", "?"), str(c, "time", "?"));
	printf("\n");
	if (cJSON_GetArraySize(cJSON_GetObjectItem(doc, "dry_run")) > 0) {
		printf(md ? "- Dry run (advisory):" : "Dry run (advisory):");
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "dry_run"))
			printf(" %s %s;", str(c, "name", "?"),
			    str(c, "verdict", "?"));
		printf("\n");
	}
}

/* One deploy's report; --json prints vigild's document as it is. */
static int
report_one(struct ctl *x, const char *id, bool first)
{
	struct client_answer a = { 0 };
	cJSON *doc = NULL;
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/deploys/%s", id);
	rc = ctl_call(x, "GET", path, NULL, &a, &doc);
	if (rc != 0) {
		client_answer_clear(&a);
		return rc;
	}
	if (x->json) {
		printf("%s", first ? "" : ",\n");
		ctl_write_json(a.body, a.len);
	} else {
		if (!first)
			printf("\n");
		render_report(x, doc, x->markdown);
	}
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return CTL_OK;
}

/*
 * --since 2h: every deploy that began in the last two hours, oldest
 * first, one report each (--json: an array). vigild picks them by its
 * own clock, the one that stamped them. None is an error that names the
 * latest, so a pipeline never files an empty report.
 */
static int
report_since(struct ctl *x)
{
	struct client_answer a = { 0 };
	cJSON *doc = NULL;
	const cJSON *list, *latest;
	char path[96], id[32];
	int64_t ms;
	int rc, n;

	if (duration_parse(x->since, &ms) != 0 || ms <= 0) {
		fprintf(stderr, "vigilctl: --since \"%s\" is not a duration "
		    "(2h, 30m, 1h30m)\n", x->since);
		return CTL_USAGE;
	}
	snprintf(path, sizeof(path), "/deploys?since=%s", x->since);
	rc = ctl_call(x, "GET", path, NULL, &a, &doc);
	client_answer_clear(&a);
	if (rc != 0)
		return rc;
	list = cJSON_GetObjectItem(doc, "deploys");
	n = cJSON_GetArraySize(list);
	if (n == 0) {
		cJSON_Delete(doc);
		rc = ctl_call(x, "GET", "/deploys", NULL, &a, &doc);
		client_answer_clear(&a);
		if (rc != 0)
			return rc;
		latest = cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
		    "deploys"), 0);
		if (latest == NULL)
			fprintf(stderr, "vigilctl: no deploy began in the last "
			    "%s: there is none yet\n", x->since);
		else
			fprintf(stderr, "vigilctl: no deploy began in the last "
			    "%s; the latest, %s (deploy %.0f), began %s\n",
			    x->since, str(latest, "version", "?"),
			    num(latest, "id"), str(latest, "begun", "?"));
		cJSON_Delete(doc);
		return CTL_REFUSED;
	}
	if (x->json)
		printf("[");
	/* The list is newest first; a report reads oldest first. */
	for (int i = n - 1; i >= 0 && rc == 0; i--) {
		snprintf(id, sizeof(id), "%.0f", num(cJSON_GetArrayItem(list,
		    i), "id"));
		rc = report_one(x, id, i == n - 1);
	}
	if (x->json)
		printf("]\n");
	cJSON_Delete(doc);
	return rc;
}

int
ctl_report(struct ctl *x)
{
	int rc;

	if (ctl_operands(x, 0, "report") != 0)
		return CTL_USAGE;
	if (x->deploy != NULL && x->since != NULL) {
		fprintf(stderr, "vigilctl: report takes --deploy or --since, "
		    "not both\n");
		return CTL_USAGE;
	}
	if (x->since != NULL)
		return report_since(x);
	rc = report_one(x, x->deploy != NULL ? x->deploy : "latest", true);
	if (rc == CTL_OK && x->json)
		printf("\n");
	return rc;
}

int
ctl_baseline(struct ctl *x)
{
	struct client_answer a = { 0 };
	cJSON *doc = NULL, *o = cJSON_CreateObject();
	char *body;
	int rc;

	if (ctl_operands(x, 0, "baseline") != 0) {
		cJSON_Delete(o);
		return CTL_USAGE;
	}
	if (x->rule != NULL)
		cJSON_AddStringToObject(o, "rule", x->rule);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (body == NULL)
		return CTL_UNREACHABLE;
	rc = ctl_call(x, "POST", "/baseline", body, &a, &doc);
	cJSON_free(body);
	if (rc != 0) {
		client_answer_clear(&a);
		return rc;
	}
	printf("baselines saved: %.0f (skipped, no value: %.0f)\n",
	    num(doc, "saved"), num(doc, "skipped_unknown"));
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return CTL_OK;
}
