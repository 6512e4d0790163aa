#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
fail(int code, char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return code;
}

/* Frees buf[0..len), wiped first when it may hold a secret. */
static void
drop(char *buf, size_t len, bool wipe)
{
	if (buf != NULL && wipe)
		explicit_bzero(buf, len);
	free(buf);
}

/*
 * Reads until EOF or one byte past max, whatever stat said: a file can
 * grow while read, and /proc-like files claim a size of 0. A secret's
 * buffer is wiped before it is given back, so no copy outlives the read.
 */
enum {
	RD_WIPE = 1,		/* a secret: wipe what it passed through */
	RD_NOFOLLOW = 2,	/* vigild's own file: no symbolic link */
	RD_PRIVATE = 4,		/* a secret: its owner's eyes only */
};

static int
read_all(const char *path, size_t max, int how, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	bool wipe = (how & RD_WIPE) != 0;
	struct stat st;
	char *buf, *nbuf;
	size_t cap, got = 0;
	ssize_t n;
	int fd, e;

	*out = NULL;
	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    ((how & RD_NOFOLLOW) != 0 ? O_NOFOLLOW : 0));
	if (fd < 0 && (how & RD_NOFOLLOW) != 0 && errno == ENOENT)
		return fail(FILE_ERR_ABSENT, err, errlen, strerror(errno));
	if (fd < 0 && (how & RD_NOFOLLOW) != 0 && errno == ELOOP)
		return fail(FILE_ERR_OPEN, err, errlen, "a symbolic link, "
		    "refused: vigild writes this file itself");
	if (fd < 0)
		return fail(FILE_ERR_OPEN, err, errlen, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(FILE_ERR_NOT_REGULAR, err, errlen,
		    "not a regular file");
	}
	/*
	 * A secret others may read is one others may have read: refused,
	 * as sshd refuses such keys, naming the mode and the fix.
	 */
	if ((how & RD_PRIVATE) != 0 && (st.st_mode & (S_IRGRP | S_IROTH)) !=
	    0) {
		char why[96];

		close(fd);
		snprintf(why, sizeof(why), "readable by its group or others "
		    "(mode %04o): chmod 600 it", (unsigned)(st.st_mode & 07777));
		return fail(FILE_ERR_MODE, err, errlen, why);
	}
	/* Room for one byte past max (to see it) and the NUL. */
	cap = (st.st_size > 0 && (size_t)st.st_size < max ?
	    (size_t)st.st_size : max) + 2;
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return fail(FILE_ERR_NOMEM, err, errlen, "out of memory");
	}
	for (;;) {
		if (got == cap - 1) {
			if (got > max)
				break;
			nbuf = malloc(cap * 2 < max + 2 ? cap * 2 : max + 2);
			if (nbuf == NULL) {
				close(fd);
				drop(buf, got, wipe);
				return fail(FILE_ERR_NOMEM, err, errlen,
				    "out of memory");
			}
			memcpy(nbuf, buf, got);
			drop(buf, got, wipe);
			buf = nbuf;
			cap = cap * 2 < max + 2 ? cap * 2 : max + 2;
		}
		n = read(fd, buf + got, cap - 1 - got);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			drop(buf, got, wipe);
			return fail(FILE_ERR_READ, err, errlen, strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	if (got > max) {
		char why[64];

		drop(buf, got, wipe);
		snprintf(why, sizeof(why), "larger than %zu bytes", max);
		return fail(FILE_ERR_TOO_BIG, err, errlen, why);
	}
	buf[got] = '\0';
	*out = buf;
	if (outlen != NULL)
		*outlen = got;
	return FILE_OK;
}

int
file_read(const char *path, size_t max, char **out, size_t *len, char *err,
    size_t errlen)
{
	return read_all(path, max, 0, out, len, err, errlen);
}

int
file_read_own(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen)
{
	return read_all(path, max, RD_NOFOLLOW, out, len, err, errlen);
}

int
file_read_secret(const char *path, size_t max, char **out, char *err,
    size_t errlen)
{
	size_t len;
	char *s;
	int rc = read_all(path, max, RD_WIPE | RD_PRIVATE, &s, &len, err,
	    errlen);

	*out = NULL;
	if (rc != FILE_OK)
		return rc;
	/* The editor's newline is not the secret's; anything else is. */
	if (len > 0 && s[len - 1] == '\n') {
		s[--len] = '\0';
		if (len > 0 && s[len - 1] == '\r')
			s[--len] = '\0';
	}
	if (len == 0) {
		file_secret_free(s);
		return fail(FILE_ERR_EMPTY, err, errlen, "empty");
	}
	if (memchr(s, '\n', len) != NULL || memchr(s, '\r', len) != NULL ||
	    strlen(s) != len) {
		/* A NUL would cut the secret short where C strings read it. */
		bool nul = strlen(s) != len;

		explicit_bzero(s, len);
		free(s);
		return fail(FILE_ERR_LINES, err, errlen, nul ? "a NUL byte" :
		    "more than one line");
	}
	*out = s;
	return FILE_OK;
}

void
file_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
file_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
