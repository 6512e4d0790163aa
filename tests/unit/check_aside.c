/*
 * Unit tests for lib/http/api_aside.c: a rendering made in a child always
 * ends, for its waiting readers, in a response or a failure; a child that
 * hangs is killed at the deadline, not waited for for ever.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <microhttpd.h>

#include "http/api_int.h"
#include "suites.h"

struct ended {
	int calls;
	bool response;
};

static void
on_done(void *arg, struct MHD_Response *r, int64_t started, int64_t cost)
{
	struct ended *e = arg;

	(void)started;
	(void)cost;
	e->calls++;
	e->response = r != NULL;
	if (r != NULL)
		MHD_destroy_response(r);
}

_Noreturn static struct MHD_Response *
render_hangs(struct api *a, const char *variant)
{
	(void)a;
	(void)variant;
	for (;;)
		pause();
}

static struct MHD_Response *
render_fails(struct api *a, const char *variant)
{
	(void)a;
	(void)variant;
	return NULL;
}

/* Runs one rendering aside to its end; returns how it ended. */
static struct ended
run_aside(api_render_fn *render, int64_t deadline_us)
{
	struct event_base *base = event_base_new();
	struct aside *x = aside_new(base, deadline_us);
	struct ended e = { 0, false };

	ck_assert_ptr_nonnull(x);
	ck_assert(aside_start(x, render, NULL, "", on_done, &e));
	ck_assert(aside_busy(x));
	/* Nothing else on the loop: it returns when the child's end came. */
	ck_assert_int_eq(event_base_dispatch(base), 1);
	ck_assert(!aside_busy(x));
	/* Reaped: no child of ours is left, running or a zombie. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	aside_free(x);
	event_base_free(base);
	return e;
}

START_TEST(test_hung_child_killed_at_deadline)
{
	struct ended e = run_aside(render_hangs, 200 * 1000);

	ck_assert_int_eq(e.calls, 1);
	ck_assert(!e.response);
}
END_TEST

START_TEST(test_failed_rendering_reported)
{
	/* The deadline far away: the failure, not the deadline, ends it. */
	struct ended e = run_aside(render_fails, API_ASIDE_DEADLINE_US);

	ck_assert_int_eq(e.calls, 1);
	ck_assert(!e.response);
}
END_TEST

START_TEST(test_busy_starts_no_second)
{
	struct event_base *base = event_base_new();
	struct aside *x = aside_new(base, 200 * 1000);
	struct ended e = { 0, false };

	ck_assert(aside_start(x, render_hangs, NULL, "", on_done, &e));
	ck_assert(!aside_start(x, render_fails, NULL, "", on_done, &e));
	/* Freed while its child renders: killed and reaped, not called. */
	aside_free(x);
	ck_assert_int_eq(e.calls, 0);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	event_base_free(base);
}
END_TEST

Suite *
aside_suite(void)
{
	Suite *s = suite_create("aside");
	TCase *tc = tcase_create("child");

	tcase_add_test(tc, test_hung_child_killed_at_deadline);
	tcase_add_test(tc, test_failed_rendering_reported);
	tcase_add_test(tc, test_busy_starts_no_second);
	suite_add_tcase(s, tc);
	return s;
}
