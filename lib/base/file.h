/*
 * file: the one way vigild and vigilctl read a whole file (the
 * configuration, PEM files, secrets), so both programs accept and refuse
 * the same files with the same words. Errors are values: a FILE_ code,
 * and in err a short reason without the path, which the caller puts in
 * its own sentence ("cannot read secret file %s: %s").
 */
#ifndef VIGIL_FILE_H
#define VIGIL_FILE_H

#include <stddef.h>

/* Secrets (tokens, passwords, webhook URLs) are one line of at most this. */
#define FILE_SECRET_MAX 4096

enum file_status {
	FILE_OK = 0,
	FILE_ERR_OPEN = -1,		/* open(2) failed (errno's text) */
	FILE_ERR_NOT_REGULAR = -2,	/* a directory, a FIFO, a device */
	FILE_ERR_TOO_BIG = -3,		/* more than max bytes */
	FILE_ERR_READ = -4,		/* read(2) failed (errno's text) */
	FILE_ERR_NOMEM = -5,
	FILE_ERR_EMPTY = -6,		/* a secret with nothing in it */
	FILE_ERR_LINES = -7,		/* a secret of two lines, or a NUL */
	FILE_ERR_ABSENT = -8,		/* file_read_own: no such file */
	FILE_ERR_MODE = -9,		/* a secret its group or others may read */
};

/*
 * Writes all n bytes of p to fd, through short writes and EINTR. Returns
 * 0, or an errno value (EIO for a write that wrote nothing).
 */
int file_write_all(int fd, const void *p, size_t n);

/*
 * Reads the regular file path, at most max bytes (exactly max passes, one
 * more fails), into *out: malloc'd, NUL-terminated, *len bytes (len may be
 * NULL). Returns FILE_OK, or a FILE_ERR_ code with the reason in err.
 */
int file_read(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen);

/*
 * A file vigild writes itself (the state file): as file_read, but a
 * symbolic link in its place is refused (O_NOFOLLOW), so nobody who can
 * write the directory makes vigild read another file as its own; and its
 * absence is FILE_ERR_ABSENT, a first start rather than a failure.
 */
int file_read_own(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen);

/*
 * A secret: file_read with max (FILE_SECRET_MAX for most callers), refused
 * if its group or others may read it (FILE_ERR_MODE), then
 * one trailing "\n" or "\r\n" (the editor's) stripped and nothing else,
 * so a password keeps its spaces. What remains must be one non-empty
 * line without NUL bytes. The buffers the content passed through are
 * wiped; the caller wipes *out (file_secret_free) when done.
 */
int file_read_secret(const char *path, size_t max, char **out, char *err,
    size_t errlen);

/* Wipes and frees a secret from file_read_secret; s may be NULL. */
void file_secret_free(char *s);

#endif
