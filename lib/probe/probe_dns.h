/*
 * probe_dns: the "dns" probe type. One question (A, AAAA, CNAME, MX or
 * TXT) over UDP to a named server or resolv.conf's first nameserver, on
 * the loop: a non-blocking socket and a libevent event, the query resent
 * once halfway through the timeout. The codec is base/dnsmsg.
 */
#ifndef VIGIL_PROBE_DNS_H
#define VIGIL_PROBE_DNS_H

#include "probe/probe.h"

extern const struct probe_ops probe_dns_ops;

#endif
