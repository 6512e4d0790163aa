/*
 * vigilctl maintenance: list, add and end maintenance windows
 * (GET/POST /maintenance, DELETE /maintenance/NAME). vigild reads and
 * checks every window; this file only builds the request and renders the
 * answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* What the window covers: "all rules", "rules a, b", "team=db". */
static void
print_cover(const cJSON *w)
{
	const cJSON *e;
	bool first = true;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "all"))) {
		printf("all rules");
		return;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(w, "rules")) {
		printf("%s%s", first ? "rules " : ", ", cJSON_IsString(e) ?
		    e->valuestring : "?");
		first = false;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(w, "labels")) {
		printf("%s%s=%s", first ? "" : ", ", e->string,
		    cJSON_IsString(e) ? e->valuestring : "?");
		first = false;
	}
}

/* When: "once 2026-12-24T22:00:00.000Z - ...", "sun 02:00 for 2h UTC". */
static void
print_when(const cJSON *w)
{
	const cJSON *e;

	if (str(w, "cron") != NULL) {
		printf("cron \"%s\" for %s", str(w, "cron"),
		    str(w, "duration") != NULL ? str(w, "duration") : "?");
	} else if (str(w, "at") != NULL) {
		bool first = true;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(w,
		    "days")) {
			printf("%s%s", first ? "" : ",", cJSON_IsString(e) ?
			    e->valuestring : "?");
			first = false;
		}
		printf(" %s for %s", str(w, "at"), str(w, "duration") !=
		    NULL ? str(w, "duration") : "?");
	} else {
		printf("once %s to %s", str(w, "start") != NULL ?
		    str(w, "start") : "?", str(w, "end") != NULL ?
		    str(w, "end") : "?");
	}
	if (str(w, "timezone") != NULL)
		printf(" (%s)", str(w, "timezone"));
}

static void
print_windows(const struct ctl *x, const cJSON *arr)
{
	const cJSON *w, *m;

	if (cJSON_GetArraySize(arr) == 0) {
		printf("no maintenance windows\n");
		return;
	}
	cJSON_ArrayForEach(w, arr) {
		bool on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w,
		    "active"));
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(w, "id");

		printf("%s%s%s", ctl_c(x, C_BOLD), str(w, "name") != NULL ?
		    str(w, "name") : "?", ctl_c(x, C_OFF));
		if (cJSON_IsNumber(id))
			printf(" #%.0f", id->valuedouble);
		printf("  %s%s%s\n", on ? ctl_c(x, C_BLUE) : "", on ?
		    "ACTIVE" : "", on ? ctl_c(x, C_OFF) : "");
		printf("  ");
		print_when(w);
		printf("\n  covers ");
		print_cover(w);
		printf("\n");
		if (on && str(w, "ends_at") != NULL)
			printf("  active since %s, until %s\n",
			    str(w, "started_at"), str(w, "ends_at"));
		if (str(w, "next_start") != NULL)
			printf("  next %s to %s\n", str(w, "next_start"),
			    str(w, "next_end"));
		if (str(w, "comment") != NULL || str(w, "author") != NULL)
			printf("  %s%s%s%s\n", str(w, "author") != NULL ?
			    str(w, "author") : "", str(w, "author") != NULL &&
			    str(w, "comment") != NULL ? ": " : "",
			    str(w, "comment") != NULL ? str(w, "comment") : "",
			    str(w, "source") != NULL && strcmp(str(w,
			    "source"), "configuration") == 0 ?
			    " (configuration)" : "");
		if ((m = cJSON_GetObjectItemCaseSensitive(w, "matches")) !=
		    NULL) {
			const cJSON *e;

			printf("  covers now:");
			if (cJSON_GetArraySize(m) == 0)
				printf(" no rule");
			cJSON_ArrayForEach(e, m)
				printf(" %s", cJSON_IsString(e) ?
				    e->valuestring : "?");
			printf("\n");
		}
	}
}

int
ctl_maint_list(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	int rc = ctl_operands(x, 0, "maintenance list");

	if (rc != 0)
		return rc;
	rc = ctl_call(x, "GET", "/maintenance", NULL, &a, &doc);
	if (rc == CTL_OK && x->json) {
		ctl_write_json(a.body, a.len);
		printf("\n");
	} else if (rc == CTL_OK) {
		print_windows(x, cJSON_GetObjectItemCaseSensitive(doc,
		    "maintenance"));
	}
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}

/* The request body of maintenance add, or NULL after a usage message. */
static cJSON *
add_body(const struct ctl *x)
{
	const char *author = x->author != NULL ? x->author :
	    ctl_default_author();
	int forms = (x->cron != NULL) + (x->days != NULL || x->at != NULL) +
	    (x->until != NULL || x->start != NULL);
	cJSON *o;

	if (x->mname == NULL || (x->rule == NULL && x->nmatch == 0 &&
	    !x->all) || x->comment == NULL || author == NULL || forms > 1 ||
	    (forms == 0 && x->dur == NULL) || (x->until != NULL &&
	    x->dur != NULL) || (x->start != NULL && x->until == NULL)) {
		fprintf(stderr, "vigilctl: maintenance add needs --name, "
		    "--rule, --match or --all, --comment%s, and one of: --for; "
		    "[--start] --until; --days --at --for; --cron --for\n",
		    author == NULL ? ", --author ($USER is not set)" : "");
		return NULL;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", x->mname);
	if (x->all)
		cJSON_AddTrueToObject(o, "all");
	if (x->rule != NULL)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "rules"),
		    cJSON_CreateString(x->rule));
	if (x->nmatch > 0 && !ctl_add_matchers(o, "labels", x)) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "author", author);
	cJSON_AddStringToObject(o, "comment", x->comment);
	if (x->tzname != NULL)
		cJSON_AddStringToObject(o, "timezone", x->tzname);
	if (x->cron != NULL)
		cJSON_AddStringToObject(o, "cron", x->cron);
	if (x->days != NULL || x->at != NULL) {
		cJSON *d = cJSON_AddArrayToObject(o, "days");
		const char *p = x->days != NULL ? x->days : "";

		while (*p != '\0') {
			size_t n = strcspn(p, ",");
			char day[32];

			snprintf(day, sizeof(day), "%.*s", (int)n, p);
			cJSON_AddItemToArray(d, cJSON_CreateString(day));
			p += n + (p[n] == ',');
		}
		if (x->at != NULL)
			cJSON_AddStringToObject(o, "at", x->at);
	}
	if (x->until != NULL) {
		char now[32];
		time_t t = time(NULL);
		struct tm tm;

		/* Without --start: from now, in vigild's terms (UTC). */
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
		cJSON_AddStringToObject(o, "start", x->start != NULL ?
		    x->start : now);
		cJSON_AddStringToObject(o, "end", x->until);
	}
	if (x->dur != NULL)
		cJSON_AddStringToObject(o, "duration", x->dur);
	return o;
}

int
ctl_maint_add(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc, *one, *body;
	const cJSON *w;
	char *s;
	int rc = ctl_operands(x, 0, "maintenance add");

	if (rc != 0)
		return rc;
	if ((body = add_body(x)) == NULL)
		return CTL_USAGE;
	s = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (s == NULL)
		return CTL_USAGE;
	rc = ctl_call(x, "POST", "/maintenance", s, &a, &doc);
	cJSON_free(s);
	if (rc != CTL_OK) {
		client_answer_clear(&a);
		return rc;
	}
	w = cJSON_GetObjectItemCaseSensitive(doc, "maintenance");
	if (x->json) {
		ctl_write_json(a.body, a.len);
		printf("\n");
	} else if (cJSON_IsObject(w)) {
		printf("maintenance window %s added\n", str(w, "name"));
		one = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(one, (cJSON *)w);
		print_windows(x, one);
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
ctl_maint_end(struct ctl *x)
{
	struct client_answer a;
	cJSON *doc;
	char path[160];
	int rc = ctl_operands(x, 1, "maintenance end");

	if (rc != 0)
		return rc;
	if (x->args[0][0] == '\0' || strlen(x->args[0]) > 63 ||
	    strspn(x->args[0], "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(x->args[0])) {
		fprintf(stderr, "vigilctl: maintenance end takes a window's "
		    "name or id (vigilctl maintenance list shows them)\n");
		return CTL_USAGE;
	}
	snprintf(path, sizeof(path), "/maintenance/%s", x->args[0]);
	rc = ctl_call(x, "DELETE", path, NULL, &a, &doc);
	if (rc == CTL_OK)
		printf("maintenance window %s ended\n", x->args[0]);
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}
