/*
 * vigilctl: the on-call engineer's client of vigild. Arguments, the
 * command table, help and exit codes; the commands themselves are in
 * ctl_*.c, the HTTP plumbing in daemon/client.c.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/utf8.h"
#include "client.h"
#include "ctl.h"

/*
 * Every command: its words, what runs it, the options it takes, and its
 * help. The release gate's commands (deploy, wait, baseline, report) are
 * more lines here and a ctl_release.c.
 */
static const struct ctl_cmd {
	const char *name, *sub;
	int (*run)(struct ctl *x);
	unsigned opts;
	const char *synopsis;
	const char *help;
} cmds[] = {
	{ "status", NULL, ctl_status, OPT_JSON,
	    "status [--json]",
	    "The whole picture on one screen: the verdict, firing alerts\n"
	    "first (with since-when and who silenced them), each probe's\n"
	    "last run, the key numbers, the silences and the maintenance\n"
	    "windows. Coloured when\n"
	    "standard output is a terminal. --json prints vigild's /status\n"
	    "document as it is.\n"
	    "Exit: 0 pass, 1 warn, 2 fail, 3 vigild unreachable.\n" },
	{ "alerts", NULL, ctl_alerts, OPT_JSON | OPT_SEVERITY | OPT_STATE,
	    "alerts [--severity critical|warning] [--state firing|pending|"
	    "unknown] [--json]",
	    "Active alerts, most urgent first: firing (critical, then\n"
	    "warning), pending, unknown; silenced ones are marked with the\n"
	    "silence. Several values are comma-separated\n"
	    "(--state firing,pending).\n"
	    "Exit: 0 nothing firing, 1 a warning firing, 2 a critical\n"
	    "firing, 3 vigild unreachable, 4 a bad filter.\n" },
	{ "silence", "add", ctl_silence_add,
	    OPT_JSON | OPT_RULE | OPT_MATCH | OPT_FOR | OPT_UNTIL |
	    OPT_COMMENT | OPT_AUTHOR,
	    "silence add (--rule RULE | --match LABEL=VALUE ...) "
	    "(--for DURATION | --until TIME) --comment TEXT [--author NAME]",
	    "Holds the notifications of the matching alerts until the\n"
	    "silence expires; they still show, marked silenced. Match a\n"
	    "rule by name, or rules by label (every --match must hold).\n"
	    "--for takes a duration (30m, 2h, 1h30m; at most 30d); --until\n"
	    "an ISO-8601 time with a zone (2026-03-02T18:00:00Z) or Unix\n"
	    "seconds. --author defaults to $USER. Needs the token.\n"
	    "Exit: 0 added (its id is printed), 3 vigild unreachable,\n"
	    "4 refused (the reason is printed).\n" },
	{ "silence", "list", ctl_silence_list, OPT_JSON,
	    "silence list [--json]",
	    "The silences in force, with what each matches now and when it\n"
	    "ends.\n"
	    "Exit: 0, or 3 vigild unreachable.\n" },
	{ "silence", "expire", ctl_silence_expire, 0,
	    "silence expire ID",
	    "Ends silence ID now. Needs the token.\n"
	    "Exit: 0 expired, 3 vigild unreachable, 4 no such silence or\n"
	    "refused.\n" },
	{ "maintenance", "list", ctl_maint_list, OPT_JSON,
	    "maintenance list [--json]",
	    "Every maintenance window, the configuration's and those made\n"
	    "here: what it covers, when, whether it is active now (until\n"
	    "when) and when it next begins.\n"
	    "Exit: 0, or 3 vigild unreachable.\n" },
	{ "maintenance", "add", ctl_maint_add,
	    OPT_JSON | OPT_RULE | OPT_MATCH | OPT_FOR | OPT_UNTIL |
	    OPT_COMMENT | OPT_AUTHOR | OPT_MAINT,
	    "maintenance add --name NAME (--rule RULE | --match LABEL=VALUE "
	    "... | --all) (--for DURATION | [--start TIME] --until TIME | "
	    "--days DAYS --at HH:MM --for DURATION | --cron EXPR --for "
	    "DURATION) [--timezone ZONE] --comment TEXT [--author NAME]",
	    "A maintenance window: while it is active the rules it covers\n"
	    "are silenced (they still show; notifications wait for its end)\n"
	    "and /health stays pass for them. One-off: --for from now, or\n"
	    "--until a time (from --start, default now); ISO-8601 with a\n"
	    "zone, or without one in --timezone. Weekly: --days sat,sun\n"
	    "(or \"*\") --at 03:30 --for 90m. Cron: --cron \"0 2 * * *\" --for\n"
	    "30m. Local times are in --timezone (default UTC). --author\n"
	    "defaults to $USER. Needs the token.\n"
	    "Exit: 0 added, 3 vigild unreachable, 4 refused (the reason is\n"
	    "printed).\n" },
	{ "maintenance", "end", ctl_maint_end, 0,
	    "maintenance end NAME|ID",
	    "Ends a window made with maintenance add (the configuration's\n"
	    "end with the file). Needs the token.\n"
	    "Exit: 0 ended, 3 vigild unreachable, 4 no such window or\n"
	    "refused.\n" },
	{ "deploy", "begin", ctl_deploy_begin,
	    OPT_JSON | OPT_VERSION | OPT_WARMUP | OPT_ANNOUNCE | OPT_STAGES,
	    "deploy begin --version VERSION [--warmup DURATION] "
	    "[--announce TEXT] [--stages 10,25,50,100] [--json]",
	    "Opens a deploy window in vigild: the baseline (the window\n"
	    "before now, release.baseline long) is saved, and after the\n"
	    "warm-up (default release.warmup) every poll of every release\n"
	    "check is judged. --announce adds a line (what, the expected\n"
	    "improvements) to the announcement the notifiers with\n"
	    "\"deploys\" send; --stages the weights planned, for the same\n"
	    "announcement. Needs the token. With several --url (an HA\n"
	    "pair), every vigild is asked; begun when one accepted.\n"
	    "Exit: 0 begun, 3 vigild unreachable, 4 refused (a window is\n"
	    "already open).\n" },
	{ "deploy", "step", ctl_deploy_step, OPT_JSON | OPT_WEIGHT,
	    "deploy step --weight PERCENT [--json]",
	    "Marks a rollout stage (25, 50, 75, 100) in the open window.\n"
	    "Needs the token.\n"
	    "Exit: 0, 3 vigild unreachable, 4 no window open.\n" },
	{ "deploy", "end", ctl_deploy_end, OPT_JSON,
	    "deploy end [--json]",
	    "Closes the open window. Needs the token.\n"
	    "Exit: 0, 3 vigild unreachable, 4 no window open.\n" },
	{ "wait", NULL, ctl_wait,
	    OPT_JSON | OPT_FOR | OPT_FAIL_ON | OPT_DRY_RUN | OPT_INTERVAL |
	    OPT_RETRY_FOR,
	    "wait --for DURATION [--fail-on warning|critical] [--dry-run] "
	    "[--interval DURATION] [--retry-for DURATION] [--json]",
	    "Judges the open window's stage (since the last deploy step;\n"
	    "the whole window before any step) for --for, a progress line\n"
	    "on stderr per --interval (default 5s). A fail or the\n"
	    "measurement error limit ends it at once; otherwise, when --for\n"
	    "is up, the stage is judged as if it ended then. The verdict is\n"
	    "vigild's (GET /deploys/current, \"gate\"), printed with one\n"
	    "line per check saying why; --json prints vigild's document\n"
	    "alone. An unreachable vigild is retried for --retry-for\n"
	    "(default 30s). --dry-run prints the code it would return on\n"
	    "stderr and exits 0. With several --url (an HA pair), it\n"
	    "follows the first vigild with the window open, and the next\n"
	    "one if that one stops answering.\n"
	    "Exit: 0 pass (and warn, unless --fail-on warning), 1 warn with\n"
	    "--fail-on warning, 2 fail, 3 inconclusive (measurement errors,\n"
	    "no data, too few samples or requests, no window open, vigild\n"
	    "unreachable), 64 usage (no --for, an operand).\n" },
	{ "report", NULL, ctl_report,
	    OPT_JSON | OPT_DEPLOY | OPT_SINCE | OPT_MARKDOWN,
	    "report [--deploy ID | --since DURATION] [--markdown | --json]",
	    "The post-deployment summary of a deploy (default the latest):\n"
	    "verdict and reason, traffic (requests, errors, error rate,\n"
	    "cache hits), and per check its target, the measured value and\n"
	    "what it is over, the baseline and delta, the test and its\n"
	    "p-value, polls and errors; alerts fired. --since 2h reports\n"
	    "every deploy that began in the last two hours (by vigild's\n"
	    "clock; it keeps the last 8), oldest first, one report each.\n"
	    "--markdown is ready to paste; --json is GET /deploys/ID,\n"
	    "schema vigil.deploy/1 (with --since, an array of them).\n"
	    "Exit: 0, 3 vigild unreachable, 4 no such deploy (with\n"
	    "--since: none began in that time), 64 usage.\n" },
	{ "beat", NULL, ctl_beat, OPT_BEAT,
	    "beat NAME [--fail] [--msg TEXT] [--duration SECONDS]",
	    "Sends heartbeat probe NAME's beat (POST /heartbeat/NAME), as a\n"
	    "cron job's last line: --fail says the job failed (the probe\n"
	    "goes down with --msg, at most 200 bytes kept), --duration how\n"
	    "long it took. The token is the heartbeat's own, from\n"
	    "--token-file or $VIGIL_TOKEN_FILE.\n"
	    "Exit: 0 recorded, 3 vigild unreachable, 4 refused (wrong\n"
	    "token, no such heartbeat), 64 usage.\n" },
	{ "baseline", NULL, ctl_baseline, OPT_RULE,
	    "baseline [--rule RULE]",
	    "Saves the current values of the rules with baseline factors\n"
	    "(or of RULE) as their baselines. Needs the token.\n"
	    "Exit: 0, 3 vigild unreachable, 4 refused.\n" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
usage(FILE *f)
{
	fprintf(f, "usage: vigilctl [options] COMMAND [command options]\n\n"
	    "commands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  vigilctl %s\n", cmds[i].synopsis);
	fprintf(f,
	    "  vigilctl help [COMMAND]\n"
	    "\n"
	    "options:\n"
	    "  -u, --url URL[,URL...] vigild's address (default: $VIGIL_URL,\n"
	    "                         else api.listen of the configuration,\n"
	    "                         else %s); several for an\n"
	    "                         HA pair: reads ask the first that\n"
	    "                         answers, writes (deploy, silence add,\n"
	    "                         baseline) go to every one and succeed\n"
	    "                         when one accepts, wait follows one with\n"
	    "                         the window open (docs/ha.md)\n"
	    "  -c, --config FILE      the configuration to read api.listen,\n"
	    "                         ha.peers, api.token_file and api.tls\n"
	    "                         from\n"
	    "                         (default %s, when readable)\n"
	    "      --token-file FILE  the bearer token (default:\n"
	    "                         $VIGIL_TOKEN_FILE, else api.token_file)\n"
	    "      --cacert FILE      CA certificate for https (default: the\n"
	    "                         configuration's api.tls.cert_file, else\n"
	    "                         the system's)\n"
	    "      --timeout SECONDS  give up on vigild after this (default 10)\n"
	    "      --color, --no-color  force colours on or off (default: on\n"
	    "                         when standard output is a terminal and\n"
	    "                         $NO_COLOR is unset)\n"
	    "  -h, --help             this text; COMMAND --help for a command\n"
	    "  -V, --version          print the version\n"
	    "\n"
	    "exit status:\n"
	    "  0   done; status pass; nothing firing\n"
	    "  1   status warn; a warning firing\n"
	    "  2   status fail; a critical alert firing\n"
	    "  3   vigild could not be reached, or its answer not used\n"
	    "  4   vigild refused the request (bad input, token, not found)\n"
	    "  64  usage error\n",
	    CLIENT_DEFAULT_URL, CLIENT_DEFAULT_CONFIG);
}

static void
command_help(FILE *f, const struct ctl_cmd *c)
{
	fprintf(f, "usage: vigilctl %s\n\n%s", c->synopsis, c->help);
}

/* The command named by the first words of args, or NULL. */
static const struct ctl_cmd *
find_cmd(char **args, int nargs, int *used)
{
	for (size_t i = 0; i < NCMDS; i++) {
		if (nargs < 1 || strcmp(args[0], cmds[i].name) != 0)
			continue;
		if (cmds[i].sub == NULL) {
			*used = 1;
			return &cmds[i];
		}
		if (nargs >= 2 && strcmp(args[1], cmds[i].sub) == 0) {
			*used = 2;
			return &cmds[i];
		}
	}
	return NULL;
}

/* Help for "help silence", "help silence add", "silence --help". */
static int
help_for(char **args, int nargs)
{
	int used, shown = 0;
	const struct ctl_cmd *c = find_cmd(args, nargs, &used);

	if (nargs == 0) {
		usage(stdout);
		return CTL_OK;
	}
	if (c != NULL && (c->sub == NULL || used == 2)) {
		command_help(stdout, c);
		return CTL_OK;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(args[0], cmds[i].name) != 0)
			continue;
		fprintf(stdout, "%s", shown++ > 0 ? "\n" : "");
		command_help(stdout, &cmds[i]);
	}
	if (shown > 0)
		return CTL_OK;
	fprintf(stderr, "vigilctl: no command \"%s\"\n", args[0]);
	usage(stderr);
	return CTL_USAGE;
}

const char *
ctl_c(const struct ctl *x, enum ctl_color c)
{
	static const char *const seq[] = { "\033[31m", "\033[33m",
	    "\033[32m", "\033[34m", "\033[2m", "\033[1m", "\033[0m" };

	return x->color ? seq[c] : "";
}

/* *s with its controls escaped (base/utf8.h), in cJSON's memory; -1: OOM. */
static int
escape_one(char **s)
{
	size_t n = strlen(*s), cap;
	char *buf, *copy;

	if (n > (SIZE_MAX - 1) / 4)
		return -1;
	cap = 4 * n + 1;
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
	utf8_escape_controls(*s, n, buf, cap);
	if (strcmp(buf, *s) != 0) {
		copy = cJSON_malloc(strlen(buf) + 1);
		if (copy == NULL) {
			free(buf);
			return -1;
		}
		memcpy(copy, buf, strlen(buf) + 1);
		cJSON_free(*s);
		*s = copy;
	}
	free(buf);
	return 0;
}

/*
 * Every key and string of an answer with its control characters shown as
 * escapes. vigild's answers quote strangers (a target's status text, a
 * database's error, a client's deploy version); everything vigilctl shows
 * is rendered from the parsed answer, so one pass here keeps an escape
 * sequence from ever reaching the terminal, colour or not.
 */
static int
escape_strings(cJSON *n)
{
	for (; n != NULL; n = n->next) {
		if (n->string != NULL && !(n->type & cJSON_StringIsConst) &&
		    escape_one(&n->string) != 0)
			return -1;
		if (cJSON_IsString(n) && n->valuestring != NULL &&
		    escape_one(&n->valuestring) != 0)
			return -1;
		if (escape_strings(n->child) != 0)
			return -1;
	}
	return 0;
}

void
ctl_write_json(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	/*
	 * JSON from vigild never holds a raw C0 control (cJSON escapes
	 * them), but DEL and C1 controls pass as they are; inside a string,
	 * where alone they can be, \u00XX says the same and steers nothing.
	 */
	for (size_t i = 0; i < n; i++) {
		if (p[i] == 0x7f) {
			fputs("\\u007f", stdout);
		} else if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f) {
			printf("\\u00%02x", p[i + 1]);
			i++;
		} else {
			putchar(p[i]);
		}
	}
}

/*
 * One request to the i-th URL. 0 with *doc; else the exit code with why
 * in msg (the caller says it: one URL or several are told differently).
 */
static int
call_one(struct ctl *x, size_t i, const char *method, const char *path,
    const char *body, struct client_answer *a, cJSON **doc, char *msg,
    size_t msglen)
{
	char err[700];
	const cJSON *e;
	int rc;

	*doc = NULL;
	msg[0] = '\0';
	if (client_request_at(&x->cli, i, method, path, body, a, err,
	    sizeof(err)) != 0) {
		snprintf(msg, msglen, "%s", err);
		return CTL_UNREACHABLE;
	}
	if (a->len > 0)
		*doc = cJSON_ParseWithLength(a->body, a->len);
	if (*doc != NULL && escape_strings(*doc) != 0) {
		snprintf(msg, msglen, "out of memory");
		cJSON_Delete(*doc);
		*doc = NULL;
		return CTL_UNREACHABLE;
	}
	if (a->status >= 200 && a->status < 300)
		return CTL_OK;
	e = cJSON_GetObjectItemCaseSensitive(*doc, "error");
	if (a->status >= 400 && a->status < 500) {
		snprintf(msg, msglen, "vigild refused %s %s (HTTP %ld): %s",
		    method, path, a->status, cJSON_IsString(e) ?
		    e->valuestring : "no reason given");
		if ((a->status == 401 || a->status == 403) &&
		    x->cli.token == NULL)
			snprintf(msg + strlen(msg), msglen - strlen(msg),
			    "\nvigilctl: no token was sent: give "
			    "--token-file FILE or $VIGIL_TOKEN_FILE%s%s",
			    x->cli.token_note[0] != '\0' ? "; " : "",
			    x->cli.token_note);
		rc = CTL_REFUSED;
	} else {
		snprintf(msg, msglen, "vigild answered %s %s with HTTP %ld%s%s",
		    method, path, a->status, cJSON_IsString(e) ? ": " : "",
		    cJSON_IsString(e) ? e->valuestring : "");
		rc = CTL_UNREACHABLE;
	}
	cJSON_Delete(*doc);
	*doc = NULL;
	return rc;
}

/* Appends "; s" (or s) to x->unreachable, as much as fits. */
static void
note_unreachable(struct ctl *x, const char *s)
{
	size_t n = strlen(x->unreachable);

	snprintf(x->unreachable + n, sizeof(x->unreachable) - n, "%s%s",
	    n > 0 ? "; " : "", s);
}

/* A read from an HA pair: the first usable answer, else the first one. */
static int
call_read(struct ctl *x, const char *method, const char *path,
    struct client_answer *a, cJSON **doc)
{
	struct client_answer fa = { 0 };
	cJSON *fdoc = NULL;
	char msg[1400], fmsg[1400] = "";
	int frc = -1;
	size_t fi = 0;

	x->unreachable[0] = '\0';
	for (size_t i = 0; i < x->cli.nurls; i++) {
		int rc = call_one(x, i, method, path, NULL, a, doc, msg,
		    sizeof(msg));

		if (rc == CTL_OK && (x->usable == NULL || x->usable(*doc))) {
			x->answered = i;
			client_answer_clear(&fa);
			cJSON_Delete(fdoc);
			/* Half a pair down is worth a line (wait says its own). */
			if (x->unreachable[0] != '\0' && x->usable == NULL &&
			    !x->hush_unreachable)
				fprintf(stderr, "vigilctl: %s; answered by %s\n",
				    x->unreachable, x->cli.urls[i]);
			return CTL_OK;
		}
		if (rc == CTL_UNREACHABLE && a->status == 0) {
			note_unreachable(x, msg);
		} else if (frc < 0) {
			/* Answered, but not usably: kept in case none does. */
			frc = rc;
			fa = *a;
			memset(a, 0, sizeof(*a));
			fdoc = *doc;
			*doc = NULL;
			fi = i;
			snprintf(fmsg, sizeof(fmsg), "%s", msg);
			continue;
		}
		client_answer_clear(a);
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	if (frc < 0) {
		char all[sizeof(x->unreachable)];

		snprintf(all, sizeof(all), "none of the %zu vigilds answered "
		    "(the addresses are from %.60s): %.800s", x->cli.nurls,
		    x->cli.url_from, x->unreachable);
		memcpy(x->unreachable, all, sizeof(all));
		if (!x->hush_unreachable)
			fprintf(stderr, "vigilctl: %s\n", x->unreachable);
		return CTL_UNREACHABLE;
	}
	*a = fa;
	*doc = fdoc;
	x->answered = fi;
	if (x->unreachable[0] != '\0' && !x->hush_unreachable)
		fprintf(stderr, "vigilctl: %s\n", x->unreachable);
	if (frc != CTL_OK)
		fprintf(stderr, "vigilctl: %s: %s\n", x->cli.urls[fi], fmsg);
	return frc;
}

/*
 * A write to an HA pair: to every vigild, each result said, accepted when
 * one accepted (the first acceptance is the answer); otherwise refused if
 * one refused, else unreachable.
 */
static int
call_write(struct ctl *x, const char *method, const char *path,
    const char *body, struct client_answer *a, cJSON **doc)
{
	struct client_answer one;
	cJSON *odoc;
	char msg[1400], missed[1024] = "";
	bool ok = false, refused = false;

	for (size_t i = 0; i < x->cli.nurls; i++) {
		int rc = call_one(x, i, method, path, body, &one, &odoc, msg,
		    sizeof(msg));

		if (rc == CTL_OK) {
			fprintf(stderr, "vigilctl: %s: accepted %s %s\n",
			    x->cli.urls[i], method, path);
			if (!ok) {
				*a = one;
				*doc = odoc;
				x->answered = i;
				ok = true;
				continue;
			}
		} else {
			size_t n = strlen(missed);

			fprintf(stderr, "vigilctl: %s: %s\n", x->cli.urls[i],
			    msg);
			refused |= rc == CTL_REFUSED;
			snprintf(missed + n, sizeof(missed) - n, "%s%s (%s)",
			    n > 0 ? ", " : "", x->cli.urls[i],
			    rc == CTL_REFUSED ? "refused" : "unreachable");
		}
		client_answer_clear(&one);
		cJSON_Delete(odoc);
	}
	if (ok && missed[0] != '\0')
		fprintf(stderr, "vigilctl: not accepted by %s; accepted by the "
		    "rest\n", missed);
	if (ok)
		return CTL_OK;
	fprintf(stderr, "vigilctl: no vigild accepted %s %s: %s\n", method,
	    path, missed);
	snprintf(x->unreachable, sizeof(x->unreachable), "no vigild accepted "
	    "%s %.64s: %.900s", method, path, missed);
	return refused ? CTL_REFUSED : CTL_UNREACHABLE;
}

int
ctl_call(struct ctl *x, const char *method, const char *path,
    const char *body, struct client_answer *a, cJSON **doc)
{
	char msg[1400];
	int rc;

	*doc = NULL;
	memset(a, 0, sizeof(*a));
	if (x->cli.nurls > 1)
		return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") ==
		    0 ? call_read(x, method, path, a, doc) :
		    call_write(x, method, path, body, a, doc);
	x->answered = 0;
	rc = call_one(x, 0, method, path, body, a, doc, msg, sizeof(msg));
	if (rc == CTL_UNREACHABLE && a->status == 0) {
		snprintf(x->unreachable, sizeof(x->unreachable), "%.800s (the "
		    "address is from %.60s; --url or $VIGIL_URL to change it)",
		    msg, x->cli.url_from);
		if (!x->hush_unreachable)
			fprintf(stderr, "vigilctl: %s\n", x->unreachable);
	} else if (rc != CTL_OK) {
		fprintf(stderr, "vigilctl: %s\n", msg);
	}
	return rc;
}

int
ctl_operands(const struct ctl *x, int want, const char *cmd)
{
	if (x->nargs == want)
		return 0;
	fprintf(stderr, "vigilctl: %s takes %s\n", cmd, want == 0 ?
	    "no operands" : "one operand");
	return CTL_USAGE;
}

enum {
	O_TOKEN_FILE = 256, O_CACERT, O_TIMEOUT, O_COLOR, O_NO_COLOR,
	O_JSON, O_RULE, O_MATCH, O_FOR, O_UNTIL, O_COMMENT, O_AUTHOR,
	O_SEVERITY, O_STATE, O_VERSION, O_WARMUP, O_WEIGHT, O_FAIL_ON,
	O_DRY_RUN, O_INTERVAL, O_DEPLOY, O_MARKDOWN, O_SINCE, O_RETRY_FOR,
	O_ANNOUNCE, O_STAGES, O_FAIL, O_MSG, O_DURATION,
	O_NAME, O_ALL, O_DAYS, O_AT, O_CRON, O_TIMEZONE, O_START,
};

/* Which command option each getopt value stands for. */
static unsigned
opt_bit(int o)
{
	switch (o) {
	case O_JSON:
		return OPT_JSON;
	case O_RULE:
		return OPT_RULE;
	case O_MATCH:
		return OPT_MATCH;
	case O_FOR:
		return OPT_FOR;
	case O_UNTIL:
		return OPT_UNTIL;
	case O_COMMENT:
		return OPT_COMMENT;
	case O_AUTHOR:
		return OPT_AUTHOR;
	case O_SEVERITY:
		return OPT_SEVERITY;
	case O_STATE:
		return OPT_STATE;
	case O_VERSION:
		return OPT_VERSION;
	case O_WARMUP:
		return OPT_WARMUP;
	case O_ANNOUNCE:
		return OPT_ANNOUNCE;
	case O_STAGES:
		return OPT_STAGES;
	case O_WEIGHT:
		return OPT_WEIGHT;
	case O_FAIL_ON:
		return OPT_FAIL_ON;
	case O_DRY_RUN:
		return OPT_DRY_RUN;
	case O_INTERVAL:
		return OPT_INTERVAL;
	case O_DEPLOY:
		return OPT_DEPLOY;
	case O_MARKDOWN:
		return OPT_MARKDOWN;
	case O_SINCE:
		return OPT_SINCE;
	case O_RETRY_FOR:
		return OPT_RETRY_FOR;
	case O_FAIL:
	case O_MSG:
	case O_DURATION:
		return OPT_BEAT;
	case O_NAME:
	case O_ALL:
	case O_DAYS:
	case O_AT:
	case O_CRON:
	case O_TIMEZONE:
	case O_START:
		return OPT_MAINT;
	}
	return 0;
}

/*
 * The options every command shares, but --version: that one is vigilctl's
 * own ("vigilctl --version") except for deploy, where it names the
 * release ("vigilctl deploy begin --version 1.2.3"), as pipelines expect.
 */
static const struct option common_opts[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "config", required_argument, NULL, 'c' },
	{ "token-file", required_argument, NULL, O_TOKEN_FILE },
	{ "cacert", required_argument, NULL, O_CACERT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "color", no_argument, NULL, O_COLOR },
	{ "no-color", no_argument, NULL, O_NO_COLOR },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, O_JSON },
	{ "rule", required_argument, NULL, O_RULE },
	{ "match", required_argument, NULL, O_MATCH },
	{ "for", required_argument, NULL, O_FOR },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "comment", required_argument, NULL, O_COMMENT },
	{ "author", required_argument, NULL, O_AUTHOR },
	{ "severity", required_argument, NULL, O_SEVERITY },
	{ "state", required_argument, NULL, O_STATE },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "announce", required_argument, NULL, O_ANNOUNCE },
	{ "stages", required_argument, NULL, O_STAGES },
	{ "weight", required_argument, NULL, O_WEIGHT },
	{ "fail-on", required_argument, NULL, O_FAIL_ON },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "deploy", required_argument, NULL, O_DEPLOY },
	{ "markdown", no_argument, NULL, O_MARKDOWN },
	{ "since", required_argument, NULL, O_SINCE },
	{ "retry-for", required_argument, NULL, O_RETRY_FOR },
	{ "fail", no_argument, NULL, O_FAIL },
	{ "msg", required_argument, NULL, O_MSG },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "name", required_argument, NULL, O_NAME },
	{ "all", no_argument, NULL, O_ALL },
	{ "days", required_argument, NULL, O_DAYS },
	{ "at", required_argument, NULL, O_AT },
	{ "cron", required_argument, NULL, O_CRON },
	{ "timezone", required_argument, NULL, O_TIMEZONE },
	{ "start", required_argument, NULL, O_START },
};
#define NCOMMON (sizeof(common_opts) / sizeof(common_opts[0]))

/* Whether a long option (its name as typed, maybe abbreviated) takes a value. */
static bool
takes_value(const char *typed)
{
	size_t n = strcspn(typed, "=");

	if (typed[n] == '=')
		return false;	/* the value is in the same word */
	for (size_t i = 0; i < NCOMMON; i++)
		if (strncmp(common_opts[i].name, typed, n) == 0 &&
		    common_opts[i].has_arg == required_argument)
			return true;
	return false;
}

/*
 * The command word: the first argument that is neither an option nor an
 * option's value ("vigilctl --url U deploy begin" -> "deploy"), or NULL.
 */
static const char *
command_word(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' || a[1] == '\0')
			return a;
		if (a[1] == '-') {
			if (takes_value(a + 2))
				i++;
		} else if (strchr("uc", a[1]) != NULL && a[2] == '\0') {
			i++;	/* -u URL, -c FILE */
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct option opts[NCOMMON + 2];
	struct client_opts co = { 0 };
	struct ctl x;
	const struct ctl_cmd *cmd;
	unsigned seen = 0;
	int o, used, rc, color = -1;
	long secs;
	bool help = false;
	char err[700], *end;
	const char *cw;

	memset(&x, 0, sizeof(x));
	/* The table for this command: common_opts, --version, the end. */
	memcpy(opts, common_opts, sizeof(common_opts));
	cw = command_word(argc, argv);
	if (cw != NULL && strcmp(cw, "deploy") == 0)
		opts[NCOMMON] = (struct option){ "version",
		    required_argument, NULL, O_VERSION };
	else
		opts[NCOMMON] = (struct option){ "version", no_argument,
		    NULL, 'V' };
	opts[NCOMMON + 1] = (struct option){ NULL, 0, NULL, 0 };
	while ((o = getopt_long(argc, argv, "u:c:hV", opts, NULL)) != -1) {
		seen |= opt_bit(o);
		switch (o) {
		case 'u':
			co.url = optarg;
			break;
		case 'c':
			co.config = optarg;
			break;
		case O_TOKEN_FILE:
			co.token_file = optarg;
			break;
		case O_CACERT:
			co.cacert = optarg;
			break;
		case O_TIMEOUT:
			secs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || secs < 1 ||
			    secs > 3600) {
				fprintf(stderr, "vigilctl: --timeout takes "
				    "seconds, 1 to 3600\n");
				return CTL_USAGE;
			}
			co.timeout_ms = secs * 1000;
			break;
		case O_COLOR:
			color = 1;
			break;
		case O_NO_COLOR:
			color = 0;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			printf("vigilctl %s\n", VIGIL_VERSION);
			return CTL_OK;
		case O_JSON:
			x.json = true;
			break;
		case O_RULE:
			x.rule = optarg;
			break;
		case O_MATCH:
			if (x.nmatch == CTL_MAX_MATCH) {
				fprintf(stderr, "vigilctl: at most %d "
				    "--match\n", CTL_MAX_MATCH);
				return CTL_USAGE;
			}
			x.match[x.nmatch++] = optarg;
			break;
		case O_FOR:
			x.dur = optarg;
			break;
		case O_UNTIL:
			x.until = optarg;
			break;
		case O_COMMENT:
			x.comment = optarg;
			break;
		case O_AUTHOR:
			x.author = optarg;
			break;
		case O_NAME:
			x.mname = optarg;
			break;
		case O_ALL:
			x.all = true;
			break;
		case O_DAYS:
			x.days = optarg;
			break;
		case O_AT:
			x.at = optarg;
			break;
		case O_CRON:
			x.cron = optarg;
			break;
		case O_TIMEZONE:
			x.tzname = optarg;
			break;
		case O_START:
			x.start = optarg;
			break;
		case O_SEVERITY:
			x.severity = optarg;
			break;
		case O_STATE:
			x.state = optarg;
			break;
		case O_VERSION:
			x.version = optarg;
			break;
		case O_WARMUP:
			x.warmup = optarg;
			break;
		case O_ANNOUNCE:
			x.announce = optarg;
			break;
		case O_STAGES:
			x.stages = optarg;
			break;
		case O_WEIGHT:
			secs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || secs < 1 ||
			    secs > 100) {
				fprintf(stderr, "vigilctl: --weight takes a "
				    "percentage, 1 to 100\n");
				return CTL_USAGE;
			}
			x.weight = (int)secs;
			break;
		case O_FAIL_ON:
			if (strcmp(optarg, "warning") != 0 &&
			    strcmp(optarg, "critical") != 0) {
				fprintf(stderr, "vigilctl: --fail-on takes "
				    "warning or critical\n");
				return CTL_USAGE;
			}
			x.fail_on = optarg;
			break;
		case O_DRY_RUN:
			x.dry_run = true;
			break;
		case O_INTERVAL:
			x.interval = optarg;
			break;
		case O_DEPLOY:
			x.deploy = optarg;
			break;
		case O_MARKDOWN:
			x.markdown = true;
			break;
		case O_SINCE:
			x.since = optarg;
			break;
		case O_RETRY_FOR:
			x.retry_for = optarg;
			break;
		case O_FAIL:
			x.beat_fail = true;
			break;
		case O_MSG:
			x.beat_msg = optarg;
			break;
		case O_DURATION:
			x.beat_duration = optarg;
			break;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc > 0 && strcmp(argv[0], "help") == 0)
		return help_for(argv + 1, argc - 1);
	if (help)
		return help_for(argv, argc);
	if (argc == 0) {
		usage(stderr);
		return CTL_USAGE;
	}
	cmd = find_cmd(argv, argc, &used);
	if (cmd == NULL) {
		fprintf(stderr, "vigilctl: unknown command \"%s%s%s\"\n",
		    argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		usage(stderr);
		return CTL_USAGE;
	}
	if ((seen & ~cmd->opts) != 0) {
		fprintf(stderr, "vigilctl: an option given is not one of "
		    "\"%s%s%s\"'s\n", cmd->name, cmd->sub != NULL ? " " : "",
		    cmd->sub != NULL ? cmd->sub : "");
		command_help(stderr, cmd);
		return CTL_USAGE;
	}
	x.args = argv + used;
	x.nargs = argc - used;
	if (color < 0)
		color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
		    (getenv("TERM") == NULL || strcmp(getenv("TERM"),
		    "dumb") != 0);
	x.color = color == 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "vigilctl: curl_global_init failed\n");
		return CTL_UNREACHABLE;
	}
	if (client_init(&x.cli, &co, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigilctl: %s\n", err);
		curl_global_cleanup();
		return CTL_USAGE;
	}
	rc = cmd->run(&x);
	client_clear(&x.cli);
	curl_global_cleanup();
	return rc;
}
