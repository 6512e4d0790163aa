/*
 * config_heartbeat: the settings of a "heartbeat" probe (struct
 * heartbeat_cfg, a member of struct probe_cfg): a job that must POST
 * /heartbeat/NAME at least every period + grace. Parsing lives in
 * config_heartbeat.c.
 */
#ifndef VIGIL_CONFIG_HEARTBEAT_H
#define VIGIL_CONFIG_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

struct heartbeat_cfg {
	int64_t period_ms;	/* the job beats at least this often */
	int64_t grace_ms;	/* and may be this much late */
	char *token_file;
	/*
	 * The beat's bearer token, read from token_file when the
	 * configuration is loaded (start, reload), as api.token_file is:
	 * the API compares against it on every beat. Wiped when cleared.
	 */
	char *token;
};

struct probe_cfg;
/* Whether a heartbeat probe records this metric (after "<probe>."). */
bool cfg_heartbeat_has_metric(const struct probe_cfg *pc, const char *metric);

#endif
