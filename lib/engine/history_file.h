/*
 * history_file: the history's bytes on disk. One file per probe and per
 * rule (probe-NAME.hist, rule-NAME.hist), of a fixed size: a header, then
 * one block per hour for 90 days, the hour's place fixed by its number
 * (hour % blocks), so a file never grows and an hour is rewritten in
 * place. Each block carries its hour and a CRC-32: a torn write, or an
 * hour from 90 days ago still in its place, reads as no data, never as
 * garbage. The incidents go in one small file (incidents.hist) rewritten
 * whole, each record with its own CRC. Integers are little-endian, values
 * IEEE 754 single precision: a file moves between machines.
 *
 * Encoding and decoding are pure; hfile_load and hfile_write do the I/O
 * (the latter from the history's writer thread).
 */
#ifndef VIGIL_HISTORY_FILE_H
#define VIGIL_HISTORY_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/history.h"

/*
 * 2: hour blocks with a CRC each. 1 was a draft of the same layout
 * without checksums; such a file (or any other version) is moved aside.
 */
#define HFILE_VERSION		2
#define HFILE_HEADER_BYTES	128
#define HFILE_BLOCK_MINUTES	60
#define HFILE_BLOCKS		(HISTORY_DAYS * 24)
#define HFILE_REC_BYTES		20
#define HFILE_BLOCK_BYTES	(8 + HFILE_BLOCK_MINUTES * HFILE_REC_BYTES)
#define HFILE_BYTES		((int64_t)HFILE_HEADER_BYTES + \
				 (int64_t)HFILE_BLOCKS * HFILE_BLOCK_BYTES)
#define HFILE_INC_BYTES		128
#define HFILE_INC_FILE_BYTES	(HFILE_HEADER_BYTES + \
				 HISTORY_INCIDENTS * HFILE_INC_BYTES)
#define HFILE_INCIDENTS_NAME	"incidents.hist"

/* One minute as saved. */
struct hfile_min {
	uint16_t ok, failed, unknown;
	int8_t worst;		/* -1: none */
	bool has_value;		/* min, avg, max mean something */
	float min, avg, max;
};

/* Nothing in a minute: no run, no evaluation. */
bool hfile_min_empty(const struct hfile_min *r);

/* The header of a series' file (kind, name) or, name NULL, of incidents. */
void hfile_header(uint8_t out[HFILE_HEADER_BYTES], enum history_kind kind,
    const char *name);

enum hfile_check {
	HFILE_OURS,		/* this version, this series */
	HFILE_OTHER_VERSION,	/* a history file of another version */
	HFILE_FOREIGN,		/* not a history file, or another series' */
};
enum hfile_check hfile_header_check(const uint8_t *buf, size_t len,
    enum history_kind kind, const char *name, uint32_t *version);

/* Where hour's block lives in the file (byte offset). */
int64_t hfile_block_offset(int32_t hour);

void hfile_block_encode(uint8_t out[HFILE_BLOCK_BYTES], int32_t hour,
    const struct hfile_min recs[HFILE_BLOCK_MINUTES]);

enum hfile_block {
	HFILE_BLOCK_OK,
	HFILE_BLOCK_EMPTY,	/* never written (a hole: zeros) */
	HFILE_BLOCK_TORN,	/* its checksum does not match */
};
enum hfile_block hfile_block_decode(const uint8_t in[HFILE_BLOCK_BYTES],
    int32_t *hour, struct hfile_min recs[HFILE_BLOCK_MINUTES]);

void hfile_incident_encode(uint8_t out[HFILE_INC_BYTES],
    const struct history_incident *in);
/* false: empty or torn. */
bool hfile_incident_decode(const uint8_t in[HFILE_INC_BYTES],
    struct history_incident *out);

/* "dir/probe-NAME.hist"; false if it does not fit. */
bool hfile_path(char *buf, size_t len, const char *dir,
    enum history_kind kind, const char *name);

/*
 * Reads the file at path back, each intact block to fn (oldest hour
 * first is not promised). A missing file is a fresh start (0). A file of
 * another version, or not ours, is moved aside with a log line and is a
 * fresh start too (0). -1: it could not be read (logged). *torn counts
 * the blocks dropped for their checksum.
 */
int hfile_load(const char *path, enum history_kind kind, const char *name,
    int64_t now, void (*fn)(int32_t hour,
    const struct hfile_min recs[HFILE_BLOCK_MINUTES], void *arg), void *arg,
    uint64_t *torn);

/*
 * Writes n blocks (blocks: n * HFILE_BLOCK_BYTES, hours[i] each one's
 * hour) into the file at path, made with its header at its full size when
 * missing; fdatasync. 0, or an errno with the step that failed in step.
 */
int hfile_write(const char *path, enum history_kind kind, const char *name,
    const int32_t *hours, const uint8_t *blocks, size_t n, char *step,
    size_t steplen);

/*
 * The incidents file: read (how many intact, into out) and written whole
 * (temporary file, fsync, rename).
 */
size_t hfile_incidents_load(const char *dir, int64_t now,
    struct history_incident *out, size_t cap);
int hfile_incidents_write(const char *dir, const uint8_t *buf, size_t len,
    char *step, size_t steplen);

#endif
