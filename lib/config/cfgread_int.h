/*
 * cfgread: reading typed values out of the configuration document, each
 * mistake reported at its line and column. Internal to the config module:
 * config.c reads the root and the probe list, and each section of the
 * file has its own reader (config_http.c for http probes, ...), all built
 * on these helpers so every error reads the same way.
 */
#ifndef VIGIL_CFGREAD_INT_H
#define VIGIL_CFGREAD_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/jsonc.h"
#include "config/config.h"

struct jsonc_doc;

/* What a reader needs while it walks one document. */
struct cfgread {
	const struct jsonc_doc *doc;
	struct config_errors *errs;
	/* The raw text, to place errors inside a string (cfg_err_in). */
	const char *text;
	size_t len;
};

#define CFG_MAX_NAME 63

void cfg_errs_addv(struct config_errors *errs, int line, int col,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
void cfg_errs_add(struct config_errors *errs, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An error at a node's value, or at an object member's key. */
void cfg_err(struct cfgread *v, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_err_key(struct cfgread *v, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * An error at byte off of string node's decoded value: the column is the
 * one of that character in the file, escapes counted as written.
 */
void cfg_err_in(struct cfgread *v, const cJSON *node, size_t off,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Reports every member of obj not in allowed (NULL-terminated), with the
 * nearest allowed key as a suggestion; where names obj in messages.
 */
void cfg_check_keys(struct cfgread *v, const cJSON *obj,
    const char *const *allowed, const char *where);
/* Case-sensitive member lookup (cJSON's default is not). */
const cJSON *cfg_member(const cJSON *obj, const char *key);

/*
 * Typed members. Each returns 1 with *out set, 0 when the key is absent
 * (*out untouched: the caller's default stands), -1 after reporting a
 * wrong type or value.
 */
const cJSON *cfg_object(struct cfgread *v, const cJSON *obj, const char *key);
int cfg_string(struct cfgread *v, const cJSON *obj, const char *key,
    const char **out);
int cfg_bool(struct cfgread *v, const cJSON *obj, const char *key, bool *out);
/* A duration string within [lo, hi] ms. */
int cfg_duration(struct cfgread *v, const cJSON *obj, const char *key,
    int64_t lo, int64_t hi, int64_t *out);
/* Bytes: a whole number, or "512KiB", "1MiB", "1GiB". */
int cfg_size(struct cfgread *v, const cJSON *obj, const char *key,
    int64_t lo, int64_t hi, int64_t *out);

/* A number within [lo, hi]; integer: whole numbers only. */
int cfg_number(struct cfgread *v, const cJSON *obj, const char *key,
    double lo, double hi, bool integer, double *out);

/*
 * Reads a secret (a token, a password) from a file with file_read_secret:
 * at most 4 KiB, one line, one trailing newline stripped. A bare name is a
 * systemd credential. Errors name the file, never the content. Returns a
 * malloc'd string (wipe before freeing) or NULL (reported).
 */
char *cfg_secret_file(struct cfgread *v, const cJSON *node, const char *path);

/* strdup that reports failure as an error at node. */
char *cfg_strdup(struct cfgread *v, const cJSON *node, const char *s);
/* [a-z][a-z0-9_]*, at most CFG_MAX_NAME: probe, metric and rule names. */
bool cfg_valid_name(const char *s);

/*
 * Probe sections, one pair per type (see probe_types in config.c): parse
 * fills pc's type-specific part and pc->target; clear frees them.
 */
void cfg_parse_http(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
void cfg_clear_http(struct probe_cfg *pc);
void cfg_parse_pg(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
void cfg_clear_pg(struct probe_cfg *pc);
void cfg_parse_sentry(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
void cfg_clear_sentry(struct probe_cfg *pc);
void cfg_parse_dns(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
void cfg_clear_dns(struct probe_cfg *pc);
void cfg_parse_tcp(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
void cfg_parse_tls(struct cfgread *v, const cJSON *p, struct probe_cfg *pc);
void cfg_clear_net(struct probe_cfg *pc);
void cfg_parse_heartbeat(struct cfgread *v, const cJSON *p,
    struct probe_cfg *pc);
void cfg_clear_heartbeat(struct probe_cfg *pc);
/* Reports url at node unless it is an http(s) URL with a host. */
void cfg_check_url(struct cfgread *v, const cJSON *node, const char *url);
/* Whether an http probe records this metric (builtin or extracted). */
bool cfg_http_has_metric(const struct probe_cfg *pc, const char *metric);
bool cfg_http_metric_counter(const struct probe_cfg *pc, const char *metric);

/*
 * Keys every probe type accepts, checked together with the type's own
 * (NULL-terminated) list.
 */
void cfg_check_probe_keys(struct cfgread *v, const cJSON *p,
    const char *const *own, const char *where);

/*
 * "<probe>.<metric>": finds the probe, and for types that know their
 * metrics, the metric. Reports at node; returns the probe index or -1.
 */
long cfg_resolve_metric(struct cfgread *v, const cJSON *node,
    const char *name, const struct config *cfg);
/* The same, the mistake into why instead of reported. */
long cfg_metric_probe(const char *name, const struct config *cfg,
    char *why, size_t len);

/* "derived": after the probes, before the rules that may name them. */
void cfg_parse_derived(struct cfgread *v, const cJSON *root, const cJSON *o,
    struct config *cfg);
void cfg_clear_derived(struct config *cfg);

/* "api.tls": reads the certificate and key files named there. */
void cfg_parse_api_tls(struct cfgread *v, const cJSON *api,
    struct config *cfg);
void cfg_clear_api_tls(struct config *cfg);

/* The "rules" section, then one implicit <probe>_down rule per probe. */
void cfg_parse_rules(struct cfgread *v, const cJSON *root, const cJSON *arr,
    struct config *cfg);
void cfg_clear_rules(struct config *cfg);

/* The "notifiers" section (after the rules, which it may name). */
void cfg_parse_notifiers(struct cfgread *v, const cJSON *arr,
    struct config *cfg);
void cfg_clear_notifiers(struct config *cfg);
/* config_email.c: an "email" notifier's own keys. */
void cfg_parse_email(struct cfgread *v, const cJSON *n,
    struct notifier_cfg *nc);
void cfg_clear_email(struct notifier_cfg *nc);
/* Reports the keys of the other kind (email or HTTP) as mistakes. */
void cfg_check_email_keys(struct cfgread *v, const cJSON *n, bool email);
/* A plain address, local@domain: safe in a header and an SMTP command. */
bool cfg_valid_address(const char *s);

/* The "maintenance" section (after the rules, which it may name). */
void cfg_parse_maint(struct cfgread *v, const cJSON *arr, struct config *cfg);
void cfg_clear_maint(struct config *cfg);

/*
 * The "release" section: the release gate's checks. Without one, every
 * rule is a check (implicit <probe>_down rules as key checks).
 */
void cfg_parse_release(struct cfgread *v, const cJSON *o, struct config *cfg);
void cfg_clear_release(struct config *cfg);

#endif
