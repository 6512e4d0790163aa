/*
 * probe_heartbeat: the "heartbeat" probe type (a dead man's switch). A
 * run does no I/O: it judges the last beat the API recorded on the
 * environment's beat board (beat.h) against the period and grace.
 */
#ifndef VIGIL_PROBE_HEARTBEAT_H
#define VIGIL_PROBE_HEARTBEAT_H

#include "probe/probe.h"

extern const struct probe_ops probe_heartbeat_ops;

#endif
