/*
 * status: the /status document, for the engineer who curls vigild and for
 * vigilctl. It explains rather than lists: every probe's last run and
 * reason, and every rule's state, value, threshold, since-when, pending
 * progress, data age, suppression and why it is -- or is not -- firing.
 * Streamed with jsonw: at thousands of probes it is megabytes, and a cJSON
 * tree of it cost more than the polling it describes.
 */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

struct jsonw;
struct monitor;

/*
 * The document's members, written into the object w has open, so that
 * the caller can add what the monitor does not own before closing it.
 */
void status_write(const struct monitor *m, struct jsonw *w);

#endif
