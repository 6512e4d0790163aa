#include "notice_sample.h"

#include <stdio.h>
#include <string.h>

const struct sender notice_sender = { "ops-1", "http://vigil:9464/" };

struct notice
notice_sample(const char *summary)
{
	struct notice n;

	memset(&n, 0, sizeof(n));
	n.seq = 7;
	n.kind = NOTICE_ESCALATED;
	snprintf(n.rule, sizeof(n.rule), "api_p95");
	n.firing = true;
	n.sev = SEV_CRITICAL;
	n.known = true;
	n.value = 1234.5;
	n.threshold = 1000;
	snprintf(n.unit, sizeof(n.unit), "ms");
	snprintf(n.summary, sizeof(n.summary), "%s", summary);
	n.since = 1764387600000LL;	/* 2025-11-29T03:40:00Z */
	n.t = 1764387660000LL;
	snprintf(n.labels[0].key, sizeof(n.labels[0].key), "team");
	snprintf(n.labels[0].value, sizeof(n.labels[0].value), "web");
	n.nlabels = 1;
	return n;
}
