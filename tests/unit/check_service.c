/* service: the STATUS= line, and what is sent when on a real event loop:
 * READY with the first status, watchdog pings from the loop, a status
 * only when it changed, RELOADING/READY around a reload (rejected or
 * not), STOPPING; and nothing at all without NOTIFY_SOCKET. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <check.h>

#include <event2/event.h>

#include "sys/sdnotify.h"
#include "sys/service.h"
#include "suites.h"

static const char *
fmt(const struct service_summary *s)
{
	static char buf[SERVICE_STATUS_MAX];

	service_status_format(s, buf, sizeof(buf));
	return buf;
}

START_TEST(test_status_lines)
{
	struct service_summary s = { .probes = 3, .up = 3 };

	ck_assert_str_eq(fmt(&s), "3 probes, 3 up");
	s = (struct service_summary){ .probes = 1, .up = 1 };
	ck_assert_str_eq(fmt(&s), "1 probe, 1 up");
	s = (struct service_summary){ .probes = 3, .up = 2, .down = 1,
	    .down_name = "app_health" };
	ck_assert_str_eq(fmt(&s), "3 probes, 2 up, 1 down (app_health)");
	s = (struct service_summary){ .probes = 5, .up = 1, .down = 3,
	    .down_name = "db" };
	ck_assert_str_eq(fmt(&s), "5 probes, 1 up, 3 down (db and 2 more), "
	    "1 not run yet");
	s = (struct service_summary){ .probes = 3 };
	ck_assert_str_eq(fmt(&s), "3 probes, 0 up, 3 not run yet");
	s = (struct service_summary){ 0 };
	ck_assert_str_eq(fmt(&s), "no probes configured");
	s = (struct service_summary){ .probes = 2, .up = 2,
	    .reload_rejected = true };
	ck_assert_str_eq(fmt(&s), "reload rejected, previous configuration "
	    "running; 2 probes, 2 up");
	s = (struct service_summary){ .probes = 3, .up = 3, .critical = 1,
	    .alert_name = "api_p95", .alert_sev = "critical" };
	ck_assert_str_eq(fmt(&s), "3 probes, 3 up, 1 alert firing (api_p95 "
	    "critical)");
	s = (struct service_summary){ .probes = 3, .up = 3, .critical = 1,
	    .warning = 2, .alert_name = "error_rate",
	    .alert_sev = "critical" };
	ck_assert_str_eq(fmt(&s), "3 probes, 3 up, 3 alerts firing "
	    "(error_rate critical and 2 more)");
}
END_TEST

START_TEST(test_status_cut_to_fit)
{
	struct service_summary s = { .probes = 3, .up = 2, .down = 1,
	    .down_name = "app_health" };
	char small[12];

	ck_assert_uint_eq(service_status_format(&s, small, sizeof(small)),
	    sizeof(small) - 1);
	ck_assert_str_eq(small, "3 probes, 2");
	ck_assert_uint_eq(service_status_format(&s, small, 0), 0);
}
END_TEST

/* The loop tests: a fake daemon whose counts the test changes. */
struct fake {
	struct service_summary sum;
};

static void
fake_summarize(void *arg, struct service_summary *out)
{
	*out = ((struct fake *)arg)->sum;
}

static int
receiver(char *name, size_t len)
{
	static int seq;
	struct sockaddr_un sa;
	socklen_t salen;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(name, len, "@vigil-service-test-%ld-%d", (long)getpid(),
	    seq++);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sdnotify_parse_addr(name, &sa, &salen), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, salen), 0);
	return fd;
}

/* The next datagram, or "" when none is waiting. */
static const char *
next_msg(int fd)
{
	static char buf[SDNOTIFY_MAX_MSG + 1];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Next datagram that is not a watchdog ping. */
static const char *
next_non_ping(int fd)
{
	const char *m;

	do {
		m = next_msg(fd);
	} while (strcmp(m, "WATCHDOG=1") == 0);
	return m;
}

static void
run_for(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

START_TEST(test_lifecycle_messages)
{
	struct event_base *base = event_base_new();
	struct fake f = { .sum = { .probes = 2 } };
	struct service *s;
	char name[80];
	int fd = receiver(name, sizeof(name));
	const char *m;

	s = service_new(base, name, NULL, NULL, fake_summarize, &f);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(service_watchdog_usec(s), 0);
	ck_assert_str_eq(next_msg(fd), "");
	service_ready(s);
	ck_assert_str_eq(next_msg(fd),
	    "READY=1\nSTATUS=2 probes, 0 up, 2 not run yet");

	/* Nothing changed: the 1 s check sends nothing. */
	run_for(base, SERVICE_STATUS_CHECK_MS + 200);
	ck_assert_str_eq(next_msg(fd), "");
	/* A change is sent at the next check. */
	f.sum.up = 1;
	f.sum.down = 1;
	f.sum.down_name = "api";
	run_for(base, SERVICE_STATUS_CHECK_MS + 100);
	ck_assert_str_eq(next_msg(fd), "STATUS=2 probes, 1 up, 1 down (api)");
	ck_assert_str_eq(next_msg(fd), "");

	service_reloading(s);
	m = next_msg(fd);
	ck_assert_msg(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "got %s", m);
	ck_assert_ptr_nonnull(strstr(m, "\nSTATUS=reloading"));
	service_reloaded(s, false);
	ck_assert_str_eq(next_msg(fd), "READY=1\nSTATUS=reload rejected, "
	    "previous configuration running; 2 probes, 1 up, 1 down (api)");
	/* The rejection stays in the status until a reload succeeds. */
	f.sum.up = 2;
	f.sum.down = 0;
	run_for(base, SERVICE_STATUS_CHECK_MS + 100);
	ck_assert_str_eq(next_msg(fd), "STATUS=reload rejected, previous "
	    "configuration running; 2 probes, 2 up");
	service_reloading(s);
	(void)next_msg(fd);
	service_reloaded(s, true);
	ck_assert_str_eq(next_msg(fd), "READY=1\nSTATUS=2 probes, 2 up");

	service_stopping(s);
	ck_assert_str_eq(next_msg(fd), "STOPPING=1\nSTATUS=stopping");
	/* No status after STOPPING, even when something changes. */
	f.sum.up = 0;
	run_for(base, SERVICE_STATUS_CHECK_MS + 100);
	ck_assert_str_eq(next_msg(fd), "");
	service_free(s);
	event_base_free(base);
	close(fd);
}
END_TEST

START_TEST(test_watchdog_pings_from_loop)
{
	struct event_base *base = event_base_new();
	struct fake f = { .sum = { .probes = 1, .up = 1 } };
	struct service *s;
	char name[80];
	int fd = receiver(name, sizeof(name)), pings = 0;
	const char *m;

	/* 100 ms watchdog: a ping every 50 ms while the loop runs. */
	s = service_new(base, name, "100000", NULL, fake_summarize, &f);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(service_watchdog_usec(s), 100000);
	/* Not running the loop is not pinging. */
	usleep(200000);
	ck_assert_str_eq(next_msg(fd), "");
	run_for(base, 320);
	while (*(m = next_msg(fd)) != '\0') {
		ck_assert_str_eq(m, "WATCHDOG=1");
		pings++;
	}
	ck_assert_int_ge(pings, 5);
	ck_assert_int_le(pings, 7);
	service_ready(s);
	ck_assert_str_eq(next_non_ping(fd), "READY=1\nSTATUS=1 probe, 1 up");
	service_free(s);
	event_base_free(base);
	close(fd);
}
END_TEST

START_TEST(test_watchdog_for_another_pid)
{
	struct event_base *base = event_base_new();
	struct service *s;
	char name[80], pid[32];
	int fd = receiver(name, sizeof(name));

	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	s = service_new(base, name, "100000", pid, NULL, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(service_watchdog_usec(s), 0);
	run_for(base, 200);
	ck_assert_str_eq(next_msg(fd), "");
	service_free(s);
	/* Malformed: no watchdog either, and the daemon still starts. */
	s = service_new(base, name, "soon", NULL, NULL, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(service_watchdog_usec(s), 0);
	service_free(s);
	event_base_free(base);
	close(fd);
}
END_TEST

START_TEST(test_without_manager)
{
	struct event_base *base = event_base_new();
	struct fake f = { .sum = { .probes = 1 } };
	struct service *s;

	/* The watchdog variables alone, or a bad socket: nothing to do. */
	s = service_new(base, NULL, "100000", NULL, fake_summarize, &f);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(service_watchdog_usec(s), 0);
	service_ready(s);
	service_reloading(s);
	service_reloaded(s, false);
	service_stopping(s);
	run_for(base, 50);
	service_free(s);
	s = service_new(base, "not-absolute", NULL, NULL, fake_summarize, &f);
	ck_assert_ptr_nonnull(s);
	service_ready(s);
	service_stopping(s);
	service_free(s);
	service_free(NULL);
	event_base_free(base);
}
END_TEST

Suite *
service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *line = tcase_create("status line");
	TCase *loop = tcase_create("loop");

	tcase_add_test(line, test_status_lines);
	tcase_add_test(line, test_status_cut_to_fit);
	tcase_add_test(loop, test_lifecycle_messages);
	tcase_add_test(loop, test_watchdog_pings_from_loop);
	tcase_add_test(loop, test_watchdog_for_another_pid);
	tcase_add_test(loop, test_without_manager);
	suite_add_tcase(s, line);
	suite_add_tcase(s, loop);
	return s;
}
