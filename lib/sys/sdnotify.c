#include "sys/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sdnotify {
	int fd;
	struct sockaddr_un sa;
	socklen_t salen;
};

int
sdnotify_parse_addr(const char *value, struct sockaddr_un *sa,
    socklen_t *salen)
{
	size_t len;

	if (value == NULL || (value[0] != '/' && value[0] != '@')) {
		if (value != NULL && strncmp(value, "vsock:", 6) == 0)
			return -EAFNOSUPPORT;
		return -EINVAL;
	}
	len = strlen(value);
	if (len < 2)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (value[0] == '@') {
		/*
		 * An abstract name is exactly its bytes: the length says
		 * where it ends, and no terminating NUL is counted, or the
		 * kernel would look up a different name.
		 */
		if (len > sizeof(sa->sun_path))
			return -ENAMETOOLONG;
		memcpy(sa->sun_path, value, len);
		sa->sun_path[0] = '\0';
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
		return 0;
	}
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, value, len + 1);
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

int
sdnotify_open(const char *value, struct sdnotify **out)
{
	struct sdnotify *n;
	int rc;

	*out = NULL;
	if (value == NULL || value[0] == '\0')
		return 0;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	rc = sdnotify_parse_addr(value, &n->sa, &n->salen);
	if (rc != 0) {
		free(n);
		return rc;
	}
	/*
	 * One socket for the daemon's life, unconnected: each send names the
	 * path again, so a manager that re-executes itself (and so re-creates
	 * its socket) still gets our messages.
	 */
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		rc = -errno;
		free(n);
		return rc;
	}
	*out = n;
	return 0;
}

void
sdnotify_free(struct sdnotify *n)
{
	if (n == NULL)
		return;
	close(n->fd);
	free(n);
}

int
sdnotify_send(const struct sdnotify *n, const char *msg)
{
	size_t len;
	ssize_t w;

	if (n == NULL)
		return 0;
	len = strlen(msg);
	if (len > SDNOTIFY_MAX_MSG)
		return -EMSGSIZE;
	do {
		w = sendto(n->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (const struct sockaddr *)&n->sa, n->salen);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

int
sdnotify_sendf(const struct sdnotify *n, const char *fmt, ...)
{
	char buf[SDNOTIFY_MAX_MSG + 1];
	va_list ap;
	int len;

	if (n == NULL)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -EINVAL;
	/* A cut message could change meaning ("STATUS=3 probes, 1 do"). */
	if ((size_t)len >= sizeof(buf))
		return -EMSGSIZE;
	return sdnotify_send(n, buf);
}

/* A whole decimal number, nothing around it; -1 if it is not one. */
static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = (uint64_t)x;
	return 0;
}

int
sdnotify_watchdog(const char *watchdog_usec, const char *watchdog_pid,
    long self, uint64_t *usec)
{
	uint64_t u, pid;

	if (watchdog_usec == NULL || watchdog_usec[0] == '\0')
		return 0;
	if (parse_u64(watchdog_usec, &u) != 0 || u == 0)
		return -EINVAL;
	if (watchdog_pid != NULL && watchdog_pid[0] != '\0') {
		if (parse_u64(watchdog_pid, &pid) != 0 || pid == 0)
			return -EINVAL;
		/*
		 * The watchdog watches one process; a child may inherit the
		 * variables and must not ping on its parent's behalf.
		 */
		if (pid != (uint64_t)self)
			return 0;
	}
	*usec = u;
	return 1;
}
