/*
 * status: the /status document, for the engineer who curls vigild and for
 * vigilctl. It explains rather than lists: every probe's last run and
 * reason, and every rule's state, value, threshold, since-when, pending
 * progress, data age, suppression and why it is -- or is not -- firing.
 */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

struct monitor;

/* The JSON document (malloc'd), or NULL when out of memory. */
char *status_json(const struct monitor *m);
/* The same as a tree, for callers that add what the monitor does not own. */
struct cJSON *status_doc(const struct monitor *m);

#endif
