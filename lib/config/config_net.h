/*
 * config_net: the settings of the "tcp" and "tls" probes (struct net_cfg,
 * a member of struct probe_cfg). One struct for both: a tls probe is a
 * TCP connection that stops after the handshake.
 */
#ifndef VIGIL_CONFIG_NET_H
#define VIGIL_CONFIG_NET_H

#include <stdbool.h>
#include <stdint.h>

struct net_cfg {
	char *host;
	int port;
	char *send;		/* tcp: a line sent after connecting, or NULL */
	char *expect;		/* tcp: the reply must contain it, or NULL */
	int64_t max_reply;	/* tcp: bytes read while looking for expect */
	bool tls;		/* tcp: TLS first; always set for tls probes */
	bool insecure;		/* tcp: skip verification of the chain */
	char *sni;		/* tls: server name sent and checked */
	char *ca_file;		/* trust these instead of the system store */
};

struct probe_cfg;
/* Whether a tcp or tls probe records this metric. */
bool cfg_net_has_metric(const struct probe_cfg *pc, const char *metric);

#endif
