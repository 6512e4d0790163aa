/*
 * The notice the receivers' unit tests render (payload, mail, PagerDuty,
 * templates): api_p95 escalated to critical at 1234.5 ms over 1000 ms,
 * labelled team=web, at 2025-11-29T03:41:00Z; each test sets its own
 * summary and changes what it is about.
 */
#ifndef VIGIL_NOTICE_SAMPLE_H
#define VIGIL_NOTICE_SAMPLE_H

#include "notify/payload.h"

struct notice notice_sample(const char *summary);

/* instance "ops-1", page "http://vigil:9464/" */
extern const struct sender notice_sender;

#endif
