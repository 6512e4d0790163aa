/* sdnotify: NOTIFY_SOCKET addresses (paths and abstract names), the
 * watchdog variables as sd_watchdog_enabled(3) reads them, and real
 * datagrams to a socket bound here. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <check.h>

#include "sys/sdnotify.h"
#include "suites.h"

START_TEST(test_addr_path)
{
	struct sockaddr_un sa;
	socklen_t len = 0;

	ck_assert_int_eq(sdnotify_parse_addr("/run/systemd/notify", &sa,
	    &len), 0);
	ck_assert_int_eq(sa.sun_family, AF_UNIX);
	ck_assert_str_eq(sa.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/systemd/notify") + 1);
}
END_TEST

START_TEST(test_addr_abstract)
{
	struct sockaddr_un sa;
	socklen_t len = 0;

	ck_assert_int_eq(sdnotify_parse_addr("@vigil/x", &sa, &len), 0);
	/* '@' becomes the leading NUL; the length, not a NUL, ends it. */
	ck_assert_int_eq(sa.sun_path[0], '\0');
	ck_assert_int_eq(memcmp(sa.sun_path + 1, "vigil/x", 7), 0);
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 8);
}
END_TEST

START_TEST(test_addr_invalid)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longpath[200];

	ck_assert_int_eq(sdnotify_parse_addr("", &sa, &len), -EINVAL);
	ck_assert_int_eq(sdnotify_parse_addr("relative/sock", &sa, &len),
	    -EINVAL);
	ck_assert_int_eq(sdnotify_parse_addr("@", &sa, &len), -EINVAL);
	ck_assert_int_eq(sdnotify_parse_addr("vsock:2:1234", &sa, &len),
	    -EAFNOSUPPORT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(sdnotify_parse_addr(longpath, &sa, &len),
	    -ENAMETOOLONG);
	longpath[0] = '@';
	ck_assert_int_eq(sdnotify_parse_addr(longpath, &sa, &len),
	    -ENAMETOOLONG);
	/* Exactly sun_path long: fits as an abstract name, not as a path. */
	longpath[sizeof(sa.sun_path)] = '\0';
	ck_assert_int_eq(sdnotify_parse_addr(longpath, &sa, &len), 0);
	longpath[0] = '/';
	ck_assert_int_eq(sdnotify_parse_addr(longpath, &sa, &len),
	    -ENAMETOOLONG);
}
END_TEST

START_TEST(test_watchdog_vars)
{
	uint64_t usec = 0;

	ck_assert_int_eq(sdnotify_watchdog(NULL, NULL, 42, &usec), 0);
	ck_assert_int_eq(sdnotify_watchdog("", NULL, 42, &usec), 0);
	ck_assert_int_eq(sdnotify_watchdog("30000000", NULL, 42, &usec), 1);
	ck_assert_uint_eq(usec, 30000000);
	ck_assert_int_eq(sdnotify_watchdog("500000", "42", 42, &usec), 1);
	ck_assert_uint_eq(usec, 500000);
	/* Meant for another process (a parent): not ours to ping. */
	ck_assert_int_eq(sdnotify_watchdog("500000", "41", 42, &usec), 0);
	ck_assert_int_eq(sdnotify_watchdog("0", NULL, 42, &usec), -EINVAL);
	ck_assert_int_eq(sdnotify_watchdog("-5", NULL, 42, &usec), -EINVAL);
	ck_assert_int_eq(sdnotify_watchdog("30s", NULL, 42, &usec), -EINVAL);
	ck_assert_int_eq(sdnotify_watchdog(" 1", NULL, 42, &usec), -EINVAL);
	ck_assert_int_eq(sdnotify_watchdog("99999999999999999999999", NULL,
	    42, &usec), -EINVAL);
	ck_assert_int_eq(sdnotify_watchdog("1000", "x", 42, &usec), -EINVAL);
	ck_assert_int_eq(sdnotify_watchdog("1000", "0", 42, &usec), -EINVAL);
}
END_TEST

START_TEST(test_unset_is_noop)
{
	struct sdnotify *n = (struct sdnotify *)1;

	ck_assert_int_eq(sdnotify_open(NULL, &n), 0);
	ck_assert_ptr_null(n);
	ck_assert_int_eq(sdnotify_open("", &n), 0);
	ck_assert_ptr_null(n);
	ck_assert_int_eq(sdnotify_send(NULL, "READY=1"), 0);
	ck_assert_int_eq(sdnotify_sendf(NULL, "STATUS=%d", 1), 0);
	sdnotify_free(NULL);
	ck_assert_int_eq(sdnotify_open("nope", &n), -EINVAL);
	ck_assert_ptr_null(n);
}
END_TEST

/* Binds a datagram socket at addr (a path, or "@name") for the test. */
static int
bind_receiver(const char *addr)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sdnotify_parse_addr(addr, &sa, &len), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[SDNOTIFY_MAX_MSG + 16];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static void
roundtrip(const char *addr)
{
	struct sdnotify *n = NULL;
	int fd = bind_receiver(addr);
	char *big;

	ck_assert_int_eq(sdnotify_open(addr, &n), 0);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(sdnotify_send(n, "READY=1\nSTATUS=ok"), 0);
	expect_datagram(fd, "READY=1\nSTATUS=ok");
	ck_assert_int_eq(sdnotify_sendf(n, "STATUS=%zu probes", (size_t)3),
	    0);
	expect_datagram(fd, "STATUS=3 probes");
	/* Too long is refused whole, never cut into another meaning. */
	big = malloc(SDNOTIFY_MAX_MSG + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', SDNOTIFY_MAX_MSG + 1);
	big[SDNOTIFY_MAX_MSG + 1] = '\0';
	ck_assert_int_eq(sdnotify_send(n, big), -EMSGSIZE);
	ck_assert_int_eq(sdnotify_sendf(n, "STATUS=%s", big), -EMSGSIZE);
	free(big);
	ck_assert_int_eq(recv(fd, &(char){ 0 }, 1, MSG_DONTWAIT), -1);
	close(fd);
	/* The manager gone: an error to report, not a crash or a hang. */
	if (addr[0] == '/')
		unlink(addr);
	ck_assert_int_lt(sdnotify_send(n, "WATCHDOG=1"), 0);
	sdnotify_free(n);
}

START_TEST(test_roundtrip_path)
{
	char dir[] = "/tmp/vigil-sdnotify-XXXXXX", path[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	roundtrip(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_roundtrip_abstract)
{
	char name[64];

	snprintf(name, sizeof(name), "@vigil-sdnotify-test-%ld",
	    (long)getpid());
	roundtrip(name);
}
END_TEST

START_TEST(test_full_queue_does_not_block)
{
	char name[64];
	struct sdnotify *n = NULL;
	int fd, rc = 0;

	snprintf(name, sizeof(name), "@vigil-sdnotify-full-%ld",
	    (long)getpid());
	fd = bind_receiver(name);
	ck_assert_int_eq(sdnotify_open(name, &n), 0);
	/*
	 * Nobody reads: the receiver's queue fills and a send must come
	 * back with -EAGAIN instead of stalling the caller's loop.
	 */
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = sdnotify_send(n, "WATCHDOG=1");
	ck_assert_int_eq(rc, -EAGAIN);
	sdnotify_free(n);
	close(fd);
}
END_TEST

Suite *
sdnotify_suite(void)
{
	Suite *s = suite_create("sdnotify");
	TCase *pure = tcase_create("parse");
	TCase *io = tcase_create("datagrams");

	tcase_add_test(pure, test_addr_path);
	tcase_add_test(pure, test_addr_abstract);
	tcase_add_test(pure, test_addr_invalid);
	tcase_add_test(pure, test_watchdog_vars);
	tcase_add_test(pure, test_unset_is_noop);
	tcase_add_test(io, test_roundtrip_path);
	tcase_add_test(io, test_roundtrip_abstract);
	tcase_add_test(io, test_full_queue_does_not_block);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, io);
	return s;
}
