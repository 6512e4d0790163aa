/*
 * The "heartbeat" probe's section of the configuration. Unlike the sentry
 * token, the heartbeat token is read here, at load: the API needs it to
 * answer a beat, which may come before any run, and a reload re-reads it.
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_heartbeat.h"

#define MIN_PERIOD_MS	1000LL
#define MAX_PERIOD_MS	(366LL * 86400000)
/* vigild judges at a tenth of the period, at most every minute. */
#define MAX_DEFAULT_INTERVAL_MS	60000LL
#define MIN_DEFAULT_INTERVAL_MS	1000LL

static const char *const metrics[] = {
	"up", "duration_ms", "last_beat_age_s", "job_duration_s", NULL,
};

bool
cfg_heartbeat_has_metric(const struct probe_cfg *pc, const char *metric)
{
	(void)pc;
	for (size_t i = 0; metrics[i] != NULL; i++)
		if (strcmp(metrics[i], metric) == 0)
			return true;
	return false;
}

void
cfg_parse_heartbeat(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	static const char *const keys[] = {
		"period", "grace", "token_file", NULL,
	};
	struct heartbeat_cfg *h = &pc->heartbeat;
	const char *s;
	char target[96];

	cfg_check_probe_keys(v, p, keys, "a heartbeat probe");
	if (cfg_member(p, "period") == NULL)
		cfg_err(v, p, "a heartbeat probe needs a \"period\" (how often "
		    "the job beats, e.g. \"1h\")");
	h->period_ms = 3600000;
	cfg_duration(v, p, "period", MIN_PERIOD_MS, MAX_PERIOD_MS,
	    &h->period_ms);
	/* Jobs drift: a tenth of the period unless told. */
	h->grace_ms = h->period_ms / 10;
	cfg_duration(v, p, "grace", 0, MAX_PERIOD_MS, &h->grace_ms);
	if (cfg_string(v, p, "token_file", &s) == 1) {
		h->token_file = cfg_strdup(v, p, s);
		h->token = cfg_secret_file(v, cfg_member(p, "token_file"), s);
	} else if (cfg_member(p, "token_file") == NULL) {
		cfg_err(v, p, "a heartbeat probe needs \"token_file\" (a file "
		    "holding the token its job sends as a bearer token)");
	}
	if (cfg_member(p, "interval") == NULL) {
		int64_t iv = h->period_ms / 10;

		if (iv > MAX_DEFAULT_INTERVAL_MS)
			iv = MAX_DEFAULT_INTERVAL_MS;
		if (iv < MIN_DEFAULT_INTERVAL_MS)
			iv = MIN_DEFAULT_INTERVAL_MS;
		pc->interval_ms = iv;
	}
	snprintf(target, sizeof(target), "POST /heartbeat/%s",
	    pc->name != NULL ? pc->name : "?");
	pc->target = cfg_strdup(v, p, target);
}

void
cfg_clear_heartbeat(struct probe_cfg *pc)
{
	struct heartbeat_cfg *h = &pc->heartbeat;

	free(h->token_file);
	if (h->token != NULL) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	memset(h, 0, sizeof(*h));
}
