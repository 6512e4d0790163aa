/*
 * procstat: what the kernel says of this process, as Prometheus's
 * process_* metrics name it: CPU seconds, resident and virtual memory,
 * open descriptors and their limit. Linux only (/proc/self).
 */
#ifndef VIGIL_PROCSTAT_H
#define VIGIL_PROCSTAT_H

#include <stdbool.h>

struct procstat {
	bool ok;		/* false: /proc/self/stat could not be read */
	double cpu_seconds;	/* user + system */
	double resident_bytes;
	double virtual_bytes;
	double open_fds;	/* -1: unknown */
	double max_fds;		/* the soft limit; -1: unknown or none */
};

/* Reads this process's numbers; 0, or -1 (out->ok false) on failure. */
int procstat_read(struct procstat *out);

/*
 * The numbers of a /proc/<pid>/stat line, with the clock's ticks per
 * second and the page size; 0, or -1 when the line is not one. Pure.
 */
int procstat_parse_stat(const char *line, long ticks, long page,
    struct procstat *out);

#endif
