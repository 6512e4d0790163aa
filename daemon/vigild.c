/*
 * vigild: the vigil daemon. Arguments, signals and wiring; everything else
 * lives in lib/.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "http/api.h"
#include "config/config.h"
#include "base/log.h"
#include "release/deploy.h"
#include "engine/monitor.h"
#include "notify/notifier.h"
#include "engine/ruleset.h"
#include "sys/statefile.h"
#include "sys/service.h"

#define DEFAULT_CONFIG "/etc/vigil/vigil.json"

struct vigild {
	struct event_base *base;
	const char *config_path;
	struct monitor *monitor;
	struct api *api;
	struct service *svc;	/* systemd notifications */
	struct notifier *notifier;
	struct deploys *deploys;	/* the release gate's windows */
	struct statefile *state;
	char *listen;		/* the address the api is bound to */
	int exit_code;
};

/* The state file as the API shows it (http may not include sys). */
static bool
state_view(const void *ctx, struct api_state_view *out)
{
	const struct vigild *d = ctx;
	struct statefile_view v;

	if (d->state == NULL)
		return false;
	statefile_view(d->state, &v);
	out->path = v.path;
	out->last_saved = v.last_saved;
	out->last_error = v.last_error;
	out->writes = v.writes;
	out->failures = v.failures;
	return true;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vigild [-c FILE] [--log-level LEVEL]\n"
	    "       vigild --check-config FILE\n"
	    "       vigild --help | --version\n"
	    "\n"
	    "vigild polls a web application's health endpoints on intervals,\n"
	    "keeps their metrics and serves its view over HTTP:\n"
	    "  GET|HEAD /health  application/health+json, 200 pass/warn, 503 fail\n"
	    "  GET|HEAD /livez   vigild itself: 200 on schedule, 503 degraded\n"
	    "  GET      /status  JSON: every probe's last run, every rule, why\n"
	    "  GET      /alerts, /metrics (Prometheus), / (the status page)\n"
	    "  GET, POST /silences, DELETE /silences/ID (with the token)\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE        configuration (default %s)\n"
	    "  -t, --check-config FILE  validate FILE, print every error as\n"
	    "                           file:line:column, exit 0 (valid) or 1\n"
	    "  -l, --log-level LEVEL    err, warning, notice, info (default),\n"
	    "                           debug\n"
	    "  -h, --help               this text\n"
	    "  -V, --version            print the version\n"
	    "\n"
	    "signals: SIGHUP reloads the configuration (an invalid one is\n"
	    "rejected and the running one kept); SIGTERM/SIGINT stop cleanly.\n"
	    "Logs go to stderr, with syslog priorities under journald.\n"
	    "Under systemd (Type=notify) it reports READY, RELOADING,\n"
	    "STOPPING, a STATUS line and watchdog pings on $NOTIFY_SOCKET.\n",
	    DEFAULT_CONFIG);
}

/* Prints every error of a failed load; to stderr or the log. */
static void
report_errors(const struct config_errors *errs, const char *path, bool log)
{
	char line[512];

	for (size_t i = 0; i < errs->n; i++) {
		config_error_format(errs, i, path, line, sizeof(line));
		if (log)
			log_err("%s", line);
		else
			fprintf(stderr, "%s\n", line);
	}
	if (errs->dropped > 0) {
		if (log)
			log_err("%s: %zu more errors not shown", path,
			    errs->dropped);
		else
			fprintf(stderr, "%s: %zu more errors not shown\n",
			    path, errs->dropped);
	}
}

static int
check_config(const char *path)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load(path, &errs);

	if (cfg == NULL) {
		report_errors(&errs, path, false);
		config_errors_clear(&errs);
		return EXIT_FAILURE;
	}
	/* Warnings, not errors: a pair may want both copies. */
	for (size_t i = 0; i < cfg->nnotifiers; i++) {
		char w[400];

		if (config_pair_warning(cfg, i, w, sizeof(w)) != NULL)
			fprintf(stderr, "%s: warning: %s\n", path, w);
	}
	printf("%s: configuration OK (%zu probe%s)\n", path, cfg->nprobes,
	    cfg->nprobes == 1 ? "" : "s");
	/* Where alerts would go: what /status shows, never a secret. */
	for (size_t i = 0; i < cfg->nnotifiers; i++) {
		const struct notifier_cfg *n = &cfg->notifiers[i];

		printf("%s: notifier %s: %s", path, n->name, n->shown != NULL ?
		    n->shown : "");
		if (n->email != NULL)
			printf(" (email to %zu recipient%s, %s)", n->email->nto,
			    n->email->nto == 1 ? "" : "s",
			    strncmp(n->urls[0], "smtps:", 6) == 0 ? "TLS" :
			    n->email->starttls ? "STARTTLS required" :
			    "in clear, this host only");
		printf("\n");
	}
	config_free(cfg);
	config_errors_clear(&errs);
	return EXIT_SUCCESS;
}

/*
 * A silence or a baseline changed over the API, or a notice was queued or
 * delivered: save the state soon.
 */
static void
on_state_change(void *arg)
{
	struct vigild *d = arg;

	statefile_touch(d->state);
}

/* What follows a reload that took effect; takes old_state_dir. */
static void
reloaded(struct vigild *d, char *old_state_dir)
{
	const char *now = monitor_config(d->monitor)->state_dir;

	/* The notifiers point into the config: they move along now. */
	notifier_reload(d->notifier);
	deploys_reload(d->deploys);
	if ((now == NULL) != (old_state_dir == NULL) ||
	    (now != NULL && strcmp(now, old_state_dir) != 0))
		log_warn("event=state_dir_changed note=\"takes effect at the "
		    "next start; state is still saved where it was\"");
	free(old_state_dir);
	statefile_touch(d->state);
}

/* The first errors of a rejected configuration, for /status: "; "-joined. */
static void
first_errors(const struct config_errors *errs, const char *path, char *buf,
    size_t len)
{
	char line[512];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < errs->n && i < 3; i++) {
		config_error_format(errs, i, path, line, sizeof(line));
		/* Whole errors only: one that does not fit is left out. */
		if (n + strlen(line) + 3 >= len)
			break;
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
		    n > 0 ? "; " : "", line);
	}
}

/* false, with why, when the reload was rejected (the old config runs on). */
static bool
reload(struct vigild *d, char *why, size_t whylen)
{
	struct config_errors errs = { 0 };
	struct config *cfg;
	struct api *napi = NULL;
	char err[256], *old_state_dir = NULL, *listen = NULL;
	const char *old_dir;

	log_notice("event=reload_begin path=%s", d->config_path);
	cfg = config_load(d->config_path, &errs);
	if (cfg == NULL) {
		report_errors(&errs, d->config_path, true);
		first_errors(&errs, d->config_path, why, whylen);
		config_errors_clear(&errs);
		log_err("event=reload_rejected path=%s reason=\"invalid "
		    "configuration, the running one is kept\"",
		    d->config_path);
		return false;
	}
	config_errors_clear(&errs);
	old_dir = monitor_config(d->monitor)->state_dir;
	if (old_dir != NULL && (old_state_dir = strdup(old_dir)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto reject;
	}
	if (strcmp(cfg->listen, d->listen) != 0) {
		/* Bind the new address before letting go of the old one. */
		napi = api_new(d->base, d->monitor, cfg, err, sizeof(err));
		if (napi == NULL)
			goto reject;
		if ((listen = strdup(cfg->listen)) == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto reject;
		}
		api_set_listener(napi, on_state_change, d);
		api_set_deploys(napi, d->deploys);
		api_set_delivery(napi, d->notifier, state_view, d);
	}
	if (monitor_reload(d->monitor, cfg) != 0) {
		snprintf(err, sizeof(err), "cannot create the probes");
		goto reject;
	}
	/* cfg is the monitor's now; nothing below can fail. */
	if (napi != NULL) {
		api_free(d->api);
		d->api = napi;
		free(d->listen);
		d->listen = listen;
		log_notice("event=listening address=%s port=%u", d->listen,
		    api_port(d->api));
	}
	reloaded(d, old_state_dir);
	return true;

reject:
	/* The one way out of a rejected reload: the old config runs on. */
	log_err("event=reload_rejected path=%s reason=\"%s; the running "
	    "configuration is kept\"", d->config_path, LOG_Q(err));
	snprintf(why, whylen, "%s", err);
	free(listen);
	api_free(napi);
	config_free(cfg);
	free(old_state_dir);
	return false;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct vigild *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		char why[512] = "";
		bool ok;

		service_reloading(d->svc);
		ok = reload(d, why, sizeof(why));
		monitor_note_reload(d->monitor, ok, why);
		service_reloaded(d->svc, ok);
		return;
	}
	log_notice("event=stopping signal=%s",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	service_stopping(d->svc);
	event_base_loopbreak(d->base);
}

/* A rule changed state: tell the notifiers now, save the state soon. */
static void
on_alert(const struct alert_event *e, void *arg)
{
	struct vigild *d = arg;

	(void)e;
	notifier_kick(d->notifier);
	statefile_touch(d->state);
}

/* A release verdict was decided, or its window ended: tell everyone. */
static void
on_verdict(uint64_t id, const char *version, const char *verdict,
    const char *reason, bool final, void *arg)
{
	struct vigild *d = arg;

	notifier_deploy(d->notifier, id, version, verdict, reason, final);
	statefile_touch(d->state);
}

/* The deploy the notifiers talk about: the open one, else the latest. */
static cJSON *
deploy_doc(void *arg)
{
	struct vigild *d = arg;

	deploys_tick(d->deploys);
	return deploys_json(d->deploys, 0);
}

/* A probe's run was judged by its rules: now the release gate's turn. */
static void
on_run(size_t probe, void *arg)
{
	struct vigild *d = arg;

	deploys_on_run(d->deploys, probe);
}

static int
run(const char *path)
{
	struct vigild d = { .config_path = path };
	struct config_errors errs = { 0 };
	struct event *sigs[3] = { NULL, NULL, NULL };
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	struct event_config *ec;
	struct config *cfg;
	char err[256];
	int rc = EXIT_FAILURE;

	cfg = config_load(path, &errs);
	if (cfg == NULL) {
		report_errors(&errs, path, true);
		config_errors_clear(&errs);
		log_err("event=start_failed reason=\"invalid configuration\"");
		return EXIT_FAILURE;
	}
	config_errors_clear(&errs);
	/* What --check-config warns of, in the log too: it is a mistake
	 * nobody sees until the first incident pages twice. */
	for (size_t i = 0; i < cfg->nnotifiers; i++) {
		char w[400];

		if (config_pair_warning(cfg, i, w, sizeof(w)) != NULL)
			log_warn("event=ha_notifier_twice note=\"%s\"", LOG_Q(w));
	}
	ec = event_config_new();
	if (ec != NULL)
		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	d.base = ec != NULL ? event_base_new_with_config(ec) : NULL;
	event_config_free(ec);
	d.listen = strdup(cfg->listen);
	if (d.base == NULL || d.listen == NULL) {
		log_err("event=start_failed reason=\"out of memory\"");
		config_free(cfg);
		goto out;
	}
	d.monitor = monitor_new(d.base, cfg, err, sizeof(err));
	if (d.monitor == NULL) {
		log_err("event=start_failed reason=\"%s\"", LOG_Q(err));
		config_free(cfg);
		goto out;
	}
	d.notifier = notifier_new(d.base, d.monitor);
	if (d.notifier == NULL) {
		log_err("event=start_failed reason=\"cannot set up the "
		    "notifiers (out of memory)\"");
		goto out;
	}
	monitor_set_alert_listener(d.monitor, on_alert, &d);
	d.deploys = deploys_new(d.monitor);
	if (d.deploys == NULL) {
		log_err("event=start_failed reason=\"out of memory\"");
		goto out;
	}
	monitor_set_run_listener(d.monitor, on_run, &d);
	deploys_set_listener(d.deploys, on_verdict, &d);
	notifier_set_deploy_source(d.notifier, deploy_doc, &d);
	if (monitor_config(d.monitor)->state_dir != NULL) {
		/* Before the first run: restored state meets fresh samples. */
		d.state = statefile_open(d.base,
		    monitor_config(d.monitor)->state_dir,
		    monitor_config(d.monitor)->state_interval_ms, d.monitor,
		    d.notifier, d.deploys);
		if (d.state == NULL) {
			log_err("event=start_failed reason=\"out of memory\"");
			goto out;
		}
	}
	notifier_set_listener(d.notifier, on_state_change, &d);
	d.api = api_new(d.base, d.monitor, monitor_config(d.monitor), err,
	    sizeof(err));
	if (d.api == NULL) {
		log_err("event=start_failed reason=\"%s\"", LOG_Q(err));
		goto out;
	}
	api_set_listener(d.api, on_state_change, &d);
	api_set_deploys(d.api, d.deploys);
	api_set_delivery(d.api, d.notifier, state_view, &d);
	d.svc = service_new(d.base, getenv("NOTIFY_SOCKET"),
	    getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"),
	    service_summarize_monitor, d.monitor);
	if (d.svc == NULL) {
		log_err("event=start_failed reason=\"out of memory\"");
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0) {
			log_err("event=start_failed reason=\"cannot install "
			    "signal handlers\"");
			goto out;
		}
	}
	log_notice("event=started version=%s config=%s probes=%zu "
	    "listen=%s port=%u", VIGIL_VERSION, path,
	    monitor_nprobes(d.monitor), d.listen, api_port(d.api));
	/* Serving from here on: systemd may order dependents after us. */
	service_ready(d.svc);
	if (event_base_dispatch(d.base) != 0)
		log_err("event=loop_failed");
	else
		rc = EXIT_SUCCESS;
	log_flush();
	log_notice("event=stopped");
out:
	for (int i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	service_free(d.svc);
	api_free(d.api);
	/* Saved last, with what was told and what is still queued. */
	statefile_close(d.state);
	deploys_free(d.deploys);
	notifier_free(d.notifier);
	monitor_free(d.monitor);
	free(d.listen);
	if (d.base != NULL)
		event_base_free(d.base);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *check = NULL;
	int level = LOG_LVL_INFO, c, rc;

	while ((c = getopt_long(argc, argv, "c:t:l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = optarg;
			break;
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "vigild: unknown log level "
				    "\"%s\" (err, warning, notice, info, "
				    "debug)\n", optarg);
				return 64;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("vigild %s\n", VIGIL_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigild: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 64;
	}
	if (check != NULL)
		return check_config(check);
	log_init((enum log_level)level);
	/*
	 * Large blocks always mapped, and unmapped when freed. By default
	 * glibc raises its mmap threshold to the size of the largest mapped
	 * block freed (up to 32 MiB) and keeps twice that free in the heap:
	 * after the first multi-megabyte state file or answer, each one
	 * grew in the heap and left about its size resident (+11 MiB at
	 * 1,000 probes with a state_dir; bench/PROFILE.md).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* A peer closing early must be an error code, not a dead daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("event=start_failed reason=\"curl_global_init\"");
		return EXIT_FAILURE;
	}
	rc = run(path);
	curl_global_cleanup();
	return rc;
}
