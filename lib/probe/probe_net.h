/*
 * probe_net: the "tcp" and "tls" probes. A libevent bufferevent connects
 * without blocking (names through the shared evdns base), then for TLS an
 * OpenSSL filter does the handshake on the same loop. tcp then sends a
 * line and reads a bounded reply for a substring; tls stops after the
 * handshake and reports the leaf certificate (days left, chain trusted).
 */
#ifndef VIGIL_PROBE_NET_H
#define VIGIL_PROBE_NET_H

#include "probe/probe.h"

extern const struct probe_ops probe_tcp_ops;
extern const struct probe_ops probe_tls_ops;

#endif
