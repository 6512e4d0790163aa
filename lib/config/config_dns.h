/*
 * config_dns: the settings of a "dns" probe (struct dns_cfg, a member of
 * struct probe_cfg). Parsing lives in config_dns.c; nothing here touches
 * the network.
 */
#ifndef VIGIL_CONFIG_DNS_H
#define VIGIL_CONFIG_DNS_H

#include <stdbool.h>
#include <stddef.h>

struct probe_cfg;

struct dns_cfg {
	char *query;		/* the name asked, without a trailing dot */
	int record;		/* DNS_T_* (base/dnsmsg.h) */
	/* "address:port" as written, or NULL: resolv.conf's first nameserver */
	char *server;
	char *contains;		/* one answer must equal this, or NULL */
	char **equals;		/* the whole answer set, any order */
	size_t nequals;
	bool has_equals;	/* "equals": [] means no answers at all */
};

bool cfg_dns_has_metric(const struct probe_cfg *pc, const char *metric);

#endif
