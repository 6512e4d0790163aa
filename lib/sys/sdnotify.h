/*
 * sdnotify: systemd's service notification protocol (sd_notify(3)), spoken
 * directly instead of through libsystemd: one datagram of "KEY=VALUE"
 * lines to the AF_UNIX socket named by $NOTIFY_SOCKET.
 *
 * Without a manager to notify (NOTIFY_SOCKET unset or empty) there is no
 * handle at all: sdnotify_open() gives NULL, and sending to NULL is a
 * successful no-op, so callers never branch on "are we under systemd".
 *
 * Sends never block: a manager whose queue is full must not stall the
 * event loop, so such a message is dropped and reported as -EAGAIN.
 */
#ifndef VIGIL_SDNOTIFY_H
#define VIGIL_SDNOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* systemd reads at most this many bytes of one notification. */
#define SDNOTIFY_MAX_MSG 4096

struct sdnotify;

/*
 * Turns a NOTIFY_SOCKET value into an address: "/path" (a socket in the
 * file system) or "@name" (Linux abstract namespace, '@' standing for the
 * leading NUL). Returns 0, -EINVAL for an empty or relative value,
 * -ENAMETOOLONG when it does not fit sun_path, or -EAFNOSUPPORT for
 * another scheme (vsock:, which systemd 252 never hands out).
 */
int sdnotify_parse_addr(const char *value, struct sockaddr_un *sa,
    socklen_t *salen);

/*
 * Opens a notifier for the NOTIFY_SOCKET value. Returns 0 with *out NULL
 * when value is NULL or empty (nothing to notify), 0 with a handle, or a
 * negative errno (bad address, no socket) with *out NULL.
 */
int sdnotify_open(const char *value, struct sdnotify **out);
void sdnotify_free(struct sdnotify *n);

/*
 * Sends msg, one or more "KEY=VALUE" lines separated by '\n', as one
 * datagram. 0 on success or when n is NULL; -EMSGSIZE past
 * SDNOTIFY_MAX_MSG; -EAGAIN when the manager's queue is full; another
 * negative errno when the manager is gone.
 */
int sdnotify_send(const struct sdnotify *n, const char *msg);
int sdnotify_sendf(const struct sdnotify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Reads WATCHDOG_USEC and WATCHDOG_PID the way sd_watchdog_enabled(3)
 * does: 1 with the period in *usec when a watchdog is armed for process
 * self, 0 when there is none or it is meant for another process (a
 * WATCHDOG_PID that is not self), -EINVAL when either value is malformed.
 * Either argument may be NULL (unset).
 */
int sdnotify_watchdog(const char *watchdog_usec, const char *watchdog_pid,
    long self, uint64_t *usec);

#endif
