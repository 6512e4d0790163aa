#include "engine/history_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/file.h"
#include "base/log.h"

static const char MAGIC[8] = { 'V', 'I', 'G', 'I', 'L', 'H', 'S', 'T' };

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
putf(uint8_t *p, float f)
{
	uint32_t v;

	memcpy(&v, &f, sizeof(v));
	put32(p, v);
}

static float
getf(const uint8_t *p)
{
	uint32_t v = get32(p);
	float f;

	memcpy(&f, &v, sizeof(f));
	return f;
}

static uint32_t
crc(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

bool
hfile_min_empty(const struct hfile_min *r)
{
	return r->ok == 0 && r->failed == 0 && r->unknown == 0 &&
	    r->worst < 0 && !r->has_value;
}

/*
 * Header: magic, version, kind (0 probe, 1 rule, 2 incidents), blocks,
 * block bytes, name (64, NUL padded), then zeros; its CRC in the last 4.
 */
void
hfile_header(uint8_t out[HFILE_HEADER_BYTES], enum history_kind kind,
    const char *name)
{
	memset(out, 0, HFILE_HEADER_BYTES);
	memcpy(out, MAGIC, sizeof(MAGIC));
	put32(out + 8, HFILE_VERSION);
	put32(out + 12, name == NULL ? 2 : (uint32_t)kind);
	put32(out + 16, name == NULL ? HISTORY_INCIDENTS : HFILE_BLOCKS);
	put32(out + 20, name == NULL ? HFILE_INC_BYTES : HFILE_BLOCK_BYTES);
	if (name != NULL)
		memcpy(out + 24, name, strnlen(name, 63));
	put32(out + HFILE_HEADER_BYTES - 4, crc(out, HFILE_HEADER_BYTES - 4));
}

enum hfile_check
hfile_header_check(const uint8_t *buf, size_t len, enum history_kind kind,
    const char *name, uint32_t *version)
{
	uint8_t want[HFILE_HEADER_BYTES];

	*version = 0;
	if (len < 12 || memcmp(buf, MAGIC, sizeof(MAGIC)) != 0)
		return HFILE_FOREIGN;
	*version = get32(buf + 8);
	if (*version != HFILE_VERSION)
		return HFILE_OTHER_VERSION;
	if (len < HFILE_HEADER_BYTES)
		return HFILE_FOREIGN;
	hfile_header(want, kind, name);
	return memcmp(buf, want, HFILE_HEADER_BYTES) == 0 ? HFILE_OURS :
	    HFILE_FOREIGN;
}

int64_t
hfile_block_offset(int32_t hour)
{
	int64_t slot = hour % HFILE_BLOCKS;

	if (slot < 0)
		slot += HFILE_BLOCKS;
	return HFILE_HEADER_BYTES + slot * HFILE_BLOCK_BYTES;
}

/*
 * Block: CRC-32 of the rest, hour (since the epoch), then per minute:
 * ok, failed, unknown (u16), worst + 1 (u8, 0: none), flags (u8, 1: has
 * a value), min, avg, max (f32).
 */
void
hfile_block_encode(uint8_t out[HFILE_BLOCK_BYTES], int32_t hour,
    const struct hfile_min recs[HFILE_BLOCK_MINUTES])
{
	put32(out + 4, (uint32_t)hour);
	for (int i = 0; i < HFILE_BLOCK_MINUTES; i++) {
		uint8_t *p = out + 8 + i * HFILE_REC_BYTES;
		const struct hfile_min *r = &recs[i];

		put16(p, r->ok);
		put16(p + 2, r->failed);
		put16(p + 4, r->unknown);
		p[6] = (uint8_t)(r->worst < 0 ? 0 : r->worst + 1);
		p[7] = r->has_value ? 1 : 0;
		putf(p + 8, r->has_value ? r->min : 0);
		putf(p + 12, r->has_value ? r->avg : 0);
		putf(p + 16, r->has_value ? r->max : 0);
	}
	put32(out, crc(out + 4, HFILE_BLOCK_BYTES - 4));
}

enum hfile_block
hfile_block_decode(const uint8_t in[HFILE_BLOCK_BYTES], int32_t *hour,
    struct hfile_min recs[HFILE_BLOCK_MINUTES])
{
	uint32_t sum = get32(in);

	*hour = (int32_t)get32(in + 4);
	if (sum == 0 && *hour == 0)
		return HFILE_BLOCK_EMPTY;
	if (sum != crc(in + 4, HFILE_BLOCK_BYTES - 4))
		return HFILE_BLOCK_TORN;
	for (int i = 0; i < HFILE_BLOCK_MINUTES; i++) {
		const uint8_t *p = in + 8 + i * HFILE_REC_BYTES;
		struct hfile_min *r = &recs[i];

		r->ok = get16(p);
		r->failed = get16(p + 2);
		r->unknown = get16(p + 4);
		r->worst = (int8_t)(p[6] == 0 ? -1 : p[6] - 1);
		r->has_value = (p[7] & 1) != 0;
		r->min = getf(p + 8);
		r->avg = getf(p + 12);
		r->max = getf(p + 16);
		/* A value that is not a number is no value. */
		if (r->has_value && (isnan(r->min) || isnan(r->avg) ||
		    isnan(r->max)))
			r->has_value = false;
	}
	return HFILE_BLOCK_OK;
}

/*
 * Incident: CRC-32 of the rest, flags (1: used, 2: peak known), start,
 * end (i64), peak (f64 bits), rule (64), severity (16).
 */
void
hfile_incident_encode(uint8_t out[HFILE_INC_BYTES],
    const struct history_incident *in)
{
	uint64_t bits;

	memset(out, 0, HFILE_INC_BYTES);
	put32(out + 4, 1u | (in->peak_known ? 2u : 0u));
	put64(out + 8, (uint64_t)in->start);
	put64(out + 16, (uint64_t)in->end);
	memcpy(&bits, &in->peak, sizeof(bits));
	put64(out + 24, bits);
	memcpy(out + 32, in->rule, strnlen(in->rule, sizeof(in->rule) - 1));
	memcpy(out + 96, in->severity, strnlen(in->severity,
	    sizeof(in->severity) - 1));
	put32(out, crc(out + 4, HFILE_INC_BYTES - 4));
}

bool
hfile_incident_decode(const uint8_t in[HFILE_INC_BYTES],
    struct history_incident *out)
{
	uint32_t flags = get32(in + 4);
	uint64_t bits;

	if (get32(in) != crc(in + 4, HFILE_INC_BYTES - 4) || !(flags & 1))
		return false;
	memset(out, 0, sizeof(*out));
	out->peak_known = (flags & 2) != 0;
	out->start = (int64_t)get64(in + 8);
	out->end = (int64_t)get64(in + 16);
	bits = get64(in + 24);
	memcpy(&out->peak, &bits, sizeof(out->peak));
	memcpy(out->rule, in + 32, sizeof(out->rule) - 1);
	memcpy(out->severity, in + 96, sizeof(out->severity) - 1);
	if (out->rule[0] == '\0' || out->start <= 0)
		return false;
	if (!out->peak_known)
		out->peak = NAN;
	return true;
}

bool
hfile_path(char *buf, size_t len, const char *dir, enum history_kind kind,
    const char *name)
{
	int n = snprintf(buf, len, "%s/%s-%s.hist", dir,
	    kind == HISTORY_PROBE ? "probe" : "rule", name);

	return n > 0 && (size_t)n < len;
}

/* A file we cannot use goes aside, where an operator can look at it. */
static void
move_aside(const char *path, const char *what, int64_t now,
    const char *why)
{
	char aside[PATH_MAX + 40];

	snprintf(aside, sizeof(aside), "%s.%s-%lld", path, what,
	    (long long)(now / 1000));
	if (rename(path, aside) == 0)
		log_err("event=history_file_unusable path=%s reason=\"%s\" "
		    "moved_to=%s note=\"this history starts fresh\"", path,
		    LOG_Q(why), aside);
	else
		log_err("event=history_file_unusable path=%s reason=\"%s\" "
		    "note=\"could not move it aside (%s); it will be "
		    "overwritten\"", path, LOG_Q(why), strerror(errno));
}

static int
read_at(int fd, uint8_t *buf, size_t len, int64_t off, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = pread(fd, buf + *got, len - *got,
		    (off_t)(off + (int64_t)*got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* Blocks read at once at load: a day. */
#define LOAD_BLOCKS 24

/* One block read back, at byte at of the blocks, to fn when intact. */
static void
load_block(const uint8_t *blk, size_t at, void (*fn)(int32_t hour,
    const struct hfile_min recs[HFILE_BLOCK_MINUTES], void *arg), void *arg,
    uint64_t *torn)
{
	struct hfile_min recs[HFILE_BLOCK_MINUTES];
	int32_t hour;

	switch (hfile_block_decode(blk, &hour, recs)) {
	case HFILE_BLOCK_OK:
		/* In the wrong place it cannot be trusted either. */
		if (hfile_block_offset(hour) - HFILE_HEADER_BYTES ==
		    (int64_t)at)
			fn(hour, recs, arg);
		else
			(*torn)++;
		break;
	case HFILE_BLOCK_TORN:
		(*torn)++;
		break;
	case HFILE_BLOCK_EMPTY:
		break;
	}
}

int
hfile_load(const char *path, enum history_kind kind, const char *name,
    int64_t now, void (*fn)(int32_t hour,
    const struct hfile_min recs[HFILE_BLOCK_MINUTES], void *arg), void *arg,
    uint64_t *torn)
{
	uint8_t head[HFILE_HEADER_BYTES];
	uint8_t buf[LOAD_BLOCKS * HFILE_BLOCK_BYTES];
	struct stat st;
	uint32_t version;
	size_t got;
	char why[96];
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		log_err("event=history_file_unreadable path=%s error=\"%s\" "
		    "note=\"this history starts fresh in memory\"", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		log_err("event=history_file_unreadable path=%s error=\"not a "
		    "regular file\"", path);
		return -1;
	}
	if ((err = read_at(fd, head, sizeof(head), 0, &got)) != 0) {
		close(fd);
		log_err("event=history_file_unreadable path=%s error=\"%s\"",
		    path, strerror(err));
		return -1;
	}
	switch (hfile_header_check(head, got, kind, name, &version)) {
	case HFILE_OURS:
		break;
	case HFILE_OTHER_VERSION:
		close(fd);
		snprintf(why, sizeof(why), "format version %u, this vigild "
		    "reads %d", version, HFILE_VERSION);
		move_aside(path, version < HFILE_VERSION ? "old" : "newer",
		    now, why);
		return 0;
	case HFILE_FOREIGN:
		close(fd);
		move_aside(path, "corrupt", now, got == 0 ? "empty" :
		    "not a history file of this series");
		return 0;
	}
	/*
	 * A day of hours per read, on the stack: a buffer on the heap per
	 * file, freed between files whose series were allocated meanwhile,
	 * left holes that stayed resident (27 KiB a file, 55 MB at 2,000).
	 */
	for (size_t first = 0; first < HFILE_BLOCKS; first += LOAD_BLOCKS) {
		err = read_at(fd, buf, LOAD_BLOCKS * HFILE_BLOCK_BYTES,
		    HFILE_HEADER_BYTES + (int64_t)first * HFILE_BLOCK_BYTES,
		    &got);
		if (err != 0) {
			close(fd);
			log_err("event=history_file_unreadable path=%s "
			    "error=\"%s\"", path, strerror(err));
			return -1;
		}
		for (size_t i = 0; i + HFILE_BLOCK_BYTES <= got;
		    i += HFILE_BLOCK_BYTES)
			load_block(buf + i, first * HFILE_BLOCK_BYTES + i, fn,
			    arg, torn);
		if (got < LOAD_BLOCKS * HFILE_BLOCK_BYTES)
			break;
	}
	close(fd);
	return 0;
}

static int
write_at(int fd, const uint8_t *buf, size_t len, int64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done,
		    (off_t)(off + (int64_t)done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		done += (size_t)n;
	}
	return 0;
}

int
hfile_write(const char *path, enum history_kind kind, const char *name,
    const int32_t *hours, const uint8_t *blocks, size_t n, char *step,
    size_t steplen)
{
	struct stat st;
	int fd, err = 0;

	/* Never through a link (vigild may be root), as the state file. */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(step, steplen, "open");
		return errno;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		snprintf(step, steplen, "stat");
		goto out;
	}
	if (st.st_size < HFILE_BYTES) {
		uint8_t head[HFILE_HEADER_BYTES];

		/* New (or cut short): the header, then holes to full size. */
		hfile_header(head, kind, name);
		if ((err = write_at(fd, head, sizeof(head), 0)) != 0) {
			snprintf(step, steplen, "write header");
			goto out;
		}
		if (ftruncate(fd, (off_t)HFILE_BYTES) != 0) {
			err = errno;
			snprintf(step, steplen, "truncate");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		err = write_at(fd, blocks + i * HFILE_BLOCK_BYTES,
		    HFILE_BLOCK_BYTES, hfile_block_offset(hours[i]));
		if (err != 0) {
			snprintf(step, steplen, "write");
			goto out;
		}
	}
	if (fdatasync(fd) != 0) {
		err = errno;
		snprintf(step, steplen, "fdatasync");
	}
out:
	close(fd);
	return err;
}

size_t
hfile_incidents_load(const char *dir, int64_t now,
    struct history_incident *out, size_t cap)
{
	char path[PATH_MAX];
	uint8_t *buf;
	uint32_t version;
	size_t got, n = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, HFILE_INCIDENTS_NAME);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_err("event=history_file_unreadable path=%s "
			    "error=\"%s\"", path, strerror(errno));
		return 0;
	}
	buf = malloc(HFILE_INC_FILE_BYTES);
	if (buf == NULL) {
		close(fd);
		return 0;
	}
	err = read_at(fd, buf, HFILE_INC_FILE_BYTES, 0, &got);
	close(fd);
	if (err != 0) {
		log_err("event=history_file_unreadable path=%s error=\"%s\"",
		    path, strerror(err));
		free(buf);
		return 0;
	}
	switch (hfile_header_check(buf, got, HISTORY_PROBE, NULL, &version)) {
	case HFILE_OURS:
		for (size_t i = HFILE_HEADER_BYTES; i + HFILE_INC_BYTES <= got &&
		    n < cap; i += HFILE_INC_BYTES)
			if (hfile_incident_decode(buf + i, &out[n]))
				n++;
		break;
	case HFILE_OTHER_VERSION:
		move_aside(path, version < HFILE_VERSION ? "old" : "newer",
		    now, "another format version");
		break;
	case HFILE_FOREIGN:
		move_aside(path, "corrupt", now, "not an incidents file");
		break;
	}
	free(buf);
	return n;
}

int
hfile_incidents_write(const char *dir, const uint8_t *buf, size_t len,
    char *step, size_t steplen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, HFILE_INCIDENTS_NAME);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		snprintf(step, steplen, "create");
		return errno;
	}
	if ((err = file_write_all(fd, buf, len)) != 0 || fsync(fd) != 0) {
		if (err == 0)
			err = errno;
		snprintf(step, steplen, "write");
		close(fd);
		unlink(tmp);
		return err;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		err = errno;
		snprintf(step, steplen, "rename");
		unlink(tmp);
		return err;
	}
	return 0;
}
