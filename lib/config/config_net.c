/*
 * The "tcp" and "tls" probes' sections of the configuration: host and
 * port, what a tcp probe sends and expects, how a TLS peer is trusted.
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_net.h"

#define DEFAULT_MAX_REPLY	4096
#define MAX_MAX_REPLY		(1024 * 1024)

static const char *const tcp_keys[] = {
	"host", "port", "send", "expect", "max_reply", "tls", "insecure",
	"sni", "ca_file", NULL,
};
static const char *const tls_keys[] = {
	"host", "port", "sni", "ca_file", NULL,
};

bool
cfg_net_has_metric(const struct probe_cfg *pc, const char *metric)
{
	static const char *const common[] = {
		"up", "duration_ms", "connect_ms", "down", NULL,
	};
	static const char *const tls_only[] = {
		"tls_ms", "cert_expiry_days", "chain_ok", NULL,
	};

	for (const char *const *m = common; *m != NULL; m++)
		if (strcmp(*m, metric) == 0)
			return true;
	if (pc->type == PROBE_TLS) {
		for (const char *const *m = tls_only; *m != NULL; m++)
			if (strcmp(*m, metric) == 0)
				return true;
	} else if (pc->net.tls && strcmp(metric, "tls_ms") == 0) {
		return true;
	}
	return false;
}

static void
parse_net(struct cfgread *v, const cJSON *p, struct probe_cfg *pc, bool tls)
{
	struct net_cfg *n = &pc->net;
	const char *s;
	double x;
	char target[400];

	cfg_check_probe_keys(v, p, tls ? tls_keys : tcp_keys,
	    tls ? "a tls probe" : "a tcp probe");
	n->port = tls ? 443 : 0;
	n->max_reply = DEFAULT_MAX_REPLY;
	n->tls = tls;
	if (cfg_string(v, p, "host", &s) == 1) {
		if (s[0] == '\0' || strlen(s) > 253 || strpbrk(s, " /:") != NULL)
			cfg_err(v, cfg_member(p, "host"), "\"host\" must be a "
			    "name or an IPv4 address, without a port");
		n->host = cfg_strdup(v, p, s);
	} else if (cfg_member(p, "host") == NULL) {
		cfg_err(v, p, "a %s probe needs a \"host\"", tls ? "tls" :
		    "tcp");
	}
	if (cfg_number(v, p, "port", 1, 65535, true, &x) == 1)
		n->port = (int)x;
	else if (n->port == 0 && cfg_member(p, "port") == NULL)
		cfg_err(v, p, "a tcp probe needs a \"port\"");
	if (cfg_string(v, p, "sni", &s) == 1)
		n->sni = cfg_strdup(v, p, s);
	if (cfg_string(v, p, "ca_file", &s) == 1)
		n->ca_file = cfg_strdup(v, p, s);
	if (!tls) {
		if (cfg_string(v, p, "send", &s) == 1) {
			if (strpbrk(s, "\r\n") != NULL)
				cfg_err(v, cfg_member(p, "send"), "\"send\" is "
				    "one line: vigild adds the \\r\\n");
			n->send = cfg_strdup(v, p, s);
		}
		if (cfg_string(v, p, "expect", &s) == 1) {
			if (s[0] == '\0')
				cfg_err(v, cfg_member(p, "expect"),
				    "\"expect\" must not be empty");
			n->expect = cfg_strdup(v, p, s);
		}
		cfg_size(v, p, "max_reply", 1, MAX_MAX_REPLY, &n->max_reply);
		cfg_bool(v, p, "tls", &n->tls);
		cfg_bool(v, p, "insecure", &n->insecure);
		if (!n->tls && (cfg_member(p, "insecure") != NULL ||
		    cfg_member(p, "sni") != NULL ||
		    cfg_member(p, "ca_file") != NULL))
			cfg_err(v, p, "\"insecure\", \"sni\" and \"ca_file\" "
			    "need \"tls\": true");
	}
	snprintf(target, sizeof(target), "%s://%s:%d", tls ? "tls" :
	    n->tls ? "tcp+tls" : "tcp", n->host != NULL ? n->host : "?",
	    n->port);
	pc->target = cfg_strdup(v, p, target);
}

void
cfg_parse_tcp(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	parse_net(v, p, pc, false);
}

void
cfg_parse_tls(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	parse_net(v, p, pc, true);
}

void
cfg_clear_net(struct probe_cfg *pc)
{
	struct net_cfg *n = &pc->net;

	free(n->host);
	free(n->send);
	free(n->expect);
	free(n->sni);
	free(n->ca_file);
	memset(n, 0, sizeof(*n));
}
