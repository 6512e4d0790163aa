/*
 * ctl: what vigilctl's command files share. vigilctl.c parses the command
 * line, finds vigild (daemon/client.c) and dispatches through its command
 * table; each group of commands lives in its own file (ctl_oncall.c:
 * status, alerts, silences) and renders what vigild answers.
 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "client.h"

/* Exit codes, the same for every command (see --help and vigilctl(1)). */
enum {
	CTL_OK = 0,		/* done; or healthy, nothing firing */
	CTL_WARN = 1,		/* status warn; a warning firing */
	CTL_FAIL = 2,		/* status fail; a critical firing */
	CTL_UNREACHABLE = 3,	/* vigild did not answer, or not usably */
	CTL_REFUSED = 4,	/* vigild refused: bad input, token, no such */
	CTL_USAGE = 64,		/* the command line is wrong */
};

/* The options a command may take (globals are always allowed). */
enum {
	OPT_JSON = 1 << 0,
	OPT_RULE = 1 << 1,
	OPT_MATCH = 1 << 2,
	OPT_FOR = 1 << 3,
	OPT_UNTIL = 1 << 4,
	OPT_COMMENT = 1 << 5,
	OPT_AUTHOR = 1 << 6,
	OPT_SEVERITY = 1 << 7,
	OPT_STATE = 1 << 8,
	OPT_VERSION = 1 << 9,
	OPT_WARMUP = 1 << 10,
	OPT_WEIGHT = 1 << 11,
	OPT_FAIL_ON = 1 << 12,
	OPT_DRY_RUN = 1 << 13,
	OPT_INTERVAL = 1 << 14,
	OPT_DEPLOY = 1 << 15,
	OPT_MARKDOWN = 1 << 16,
	OPT_SINCE = 1 << 17,
	OPT_RETRY_FOR = 1 << 18,
	OPT_ANNOUNCE = 1 << 19,
	OPT_STAGES = 1 << 20,
	OPT_BEAT = 1 << 21,	/* --fail, --msg, --duration */
	/* maintenance add: --name, --all, --days, --at, --cron, --timezone, --start */
	OPT_MAINT = 1 << 22,
};

#define CTL_MAX_MATCH 8

struct ctl {
	struct client cli;
	bool color;		/* ANSI colours on stdout */
	bool json;
	const char *rule, *dur, *until, *comment, *author;
	const char *severity, *state;
	/* The release commands' (ctl_release.c). */
	const char *version, *warmup, *fail_on, *interval, *deploy, *since;
	const char *retry_for;
	const char *announce;	/* deploy begin: a line for #incidents */
	const char *stages;	/* deploy begin: "10,25,50,100" planned */
	/* beat: a failed run, its message, how long it took (seconds). */
	bool beat_fail;
	const char *beat_msg, *beat_duration;
	/* maintenance add (ctl_maint.c). */
	const char *mname, *days, *at, *cron, *tzname, *start;
	bool all;
	int weight;
	bool dry_run, markdown;
	const char *match[CTL_MAX_MATCH];
	size_t nmatch;
	char **args;		/* operands after the command's words */
	/*
	 * Several URLs (an HA pair): a read takes the first answer usable
	 * says is one (NULL: any 2xx); answered is the index it came from.
	 */
	bool (*usable)(const cJSON *doc);
	size_t answered;
	/* Retrying: ctl_call keeps "cannot reach" to itself, in unreachable. */
	bool hush_unreachable;
	char unreachable[1024];
	int nargs;
};

enum ctl_color { C_RED, C_YELLOW, C_GREEN, C_BLUE, C_DIM, C_BOLD, C_OFF };

/* 0 when the command got want operands, else says so: CTL_USAGE. */
int ctl_operands(const struct ctl *x, int want, const char *cmd);

/* The escape sequence for c, or "" without colours. */
const char *ctl_c(const struct ctl *x, enum ctl_color c);

/*
 * One request; on success (0) the answer is in *a and, for a JSON body,
 * parsed into *doc (NULL otherwise; the caller deletes it). Otherwise
 * prints why on stderr and returns the exit code: CTL_UNREACHABLE, or
 * CTL_REFUSED for a 4xx (with vigild's reason and, for 401/403, where a
 * token comes from).
 *
 * With several URLs, a GET goes to each in turn until one answers usably
 * (the first that answered at all otherwise); anything else (a write) goes
 * to every one, each result on stderr, and succeeds when one accepted:
 * the first acceptance is the answer.
 */
int ctl_call(struct ctl *x, const char *method, const char *path,
    const char *body, struct client_answer *a, cJSON **doc);

/*
 * Writes vigild's JSON answer (--json) to stdout as it came, but for DEL
 * and C1 controls, written as \u00XX escapes (valid JSON, inert on a
 * terminal).
 */
void ctl_write_json(const char *s, size_t n);

/* vigilctl beat (ctl_beat.c). */
int ctl_beat(struct ctl *x);

/* The commands of ctl_oncall.c. */
int ctl_status(struct ctl *x);
int ctl_alerts(struct ctl *x);
int ctl_silence_add(struct ctl *x);
int ctl_silence_list(struct ctl *x);
int ctl_silence_expire(struct ctl *x);

/*
 * Who is acting: under sudo, the engineer who typed it (SUDO_USER); else
 * the login name. NULL when nothing says.
 */
const char *ctl_default_author(void);
/*
 * The --match LABEL=VALUE options into o's object name (a silence's
 * "matchers", a window's "labels"); false, said on stderr, for one
 * that is not LABEL=VALUE.
 */
bool ctl_add_matchers(cJSON *o, const char *name, const struct ctl *x);

/* vigilctl maintenance (ctl_maint.c). */
int ctl_maint_list(struct ctl *x);
int ctl_maint_add(struct ctl *x);
int ctl_maint_end(struct ctl *x);

/* The release gate's commands (ctl_release.c). */
int ctl_deploy_begin(struct ctl *x);
int ctl_deploy_step(struct ctl *x);
int ctl_deploy_end(struct ctl *x);
int ctl_wait(struct ctl *x);
int ctl_report(struct ctl *x);
int ctl_baseline(struct ctl *x);

#endif
