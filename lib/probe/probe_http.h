/*
 * probe_http: the "http" probe type. One curl easy handle per probe,
 * reused across runs so connections are kept alive, on the shared multi
 * handle. A run checks the status, a keyword and JSON values, and extracts
 * metrics from the JSON body by JSON Pointer or JSONPath; it measures its
 * own timings.
 */
#ifndef VIGIL_PROBE_HTTP_H
#define VIGIL_PROBE_HTTP_H

#include "probe/probe.h"

extern const struct probe_ops probe_http_ops;

#endif
