/*
 * vigilctl beat: a job's heartbeat (POST /heartbeat/NAME) from a shell
 * script, with the heartbeat's own token (--token-file, $VIGIL_TOKEN_FILE).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

/* What vigild keeps of a message; more would only be cut there. */
#define BEAT_MSG_SENT 200

int
ctl_beat(struct ctl *x)
{
	struct client_answer a = { 0 };
	cJSON *doc = NULL;
	char path[1024], msg[BEAT_MSG_SENT + 1], *esc = NULL;
	const char *name;
	double d = 0;
	char *end;
	int rc = ctl_operands(x, 1, "beat");

	if (rc != 0)
		return rc;
	name = x->args[0];
	if (name[0] < 'a' || name[0] > 'z' || strlen(name) > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    strlen(name)) {
		fprintf(stderr, "vigilctl: \"%s\" is not a probe name (lower "
		    "case letters, digits and _)\n", name);
		return CTL_USAGE;
	}
	if (x->beat_duration != NULL) {
		d = strtod(x->beat_duration, &end);
		if (x->beat_duration[0] == '\0' || *end != '\0' ||
		    !isfinite(d) || d < 0) {
			fprintf(stderr, "vigilctl: --duration takes seconds "
			    "(e.g. 12.5), not \"%s\"\n", x->beat_duration);
			return CTL_USAGE;
		}
	}
	snprintf(path, sizeof(path), "/heartbeat/%s?status=%s", name,
	    x->beat_fail ? "fail" : "ok");
	if (x->beat_duration != NULL)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&duration=%.3f", d);
	if (x->beat_msg != NULL) {
		snprintf(msg, sizeof(msg), "%s", x->beat_msg);
		esc = curl_easy_escape(NULL, msg, 0);
		if (esc == NULL) {
			fprintf(stderr, "vigilctl: out of memory\n");
			return CTL_UNREACHABLE;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&msg=%s", esc);
		curl_free(esc);
	}
	rc = ctl_call(x, "POST", path, NULL, &a, &doc);
	if (rc == CTL_OK)
		printf("heartbeat %s recorded%s\n", name,
		    x->beat_fail ? " (failed)" : "");
	cJSON_Delete(doc);
	client_answer_clear(&a);
	return rc;
}
