/*
 * probe_http: the "http" probe type. Plain http:// to a numeric address
 * goes on vigil's own client (http1.h), which keeps connections alive per
 * origin; the rest on one curl easy handle per probe, reused across runs,
 * on the shared multi handle. A run checks the status, a keyword and JSON
 * values, and extracts metrics from the JSON body by JSON Pointer or
 * JSONPath; it measures its own timings.
 */
#ifndef VIGIL_PROBE_HTTP_H
#define VIGIL_PROBE_HTTP_H

#include "probe/probe.h"

extern const struct probe_ops probe_http_ops;

#endif
