/*
 * refresh: when a shared rendering is served, renewed behind its readers
 * or made again at once (refresh_decide), case by case, then over a
 * timeline of readers, probe runs and rule events on a fake clock.
 */
#include <check.h>

#include "http/refresh.h"
#include "suites.h"

#define MS 1000

static const struct {
	const char *what;
	struct refresh_look l;
	enum refresh_act want;
} cases[] = {
	{ "nothing held", { false, true, false, 0, 0, false, false, 0 },
	    REFRESH_NOW },
	{ "nothing held, dear: made aside", { false, true, true, 5 * MS,
	    30 * MS, false, false, 0 }, REFRESH_ASIDE },
	{ "a rule changed state, dear: aside", { true, false, false, 1,
	    30 * MS, false, false, 0 }, REFRESH_ASIDE },
	{ "a rule changed, dear and young: aside", { true, false, true,
	    10 * MS, 30 * MS, false, false, 0 }, REFRESH_ASIDE },
	{ "nothing moved, young", { true, true, false, 100 * MS, 100,
	    false, false, 0 }, REFRESH_SERVE },
	{ "nothing moved, at the ceiling, cheap", { true, true, false,
	    250 * MS, 100, false, false, 0 }, REFRESH_NOW },
	{ "nothing moved, at the ceiling, dear", { true, true, false,
	    250 * MS, 5 * MS, false, false, 0 }, REFRESH_BEHIND },
	{ "moved, younger than ten costs", { true, true, true, 299 * MS,
	    30 * MS, false, false, 0 }, REFRESH_SERVE },
	{ "moved, ten costs old, dear", { true, true, true, 300 * MS,
	    30 * MS, false, false, 0 }, REFRESH_BEHIND },
	{ "moved, ten costs old, cheap", { true, true, true, 1 * MS, 100,
	    false, false, 0 }, REFRESH_NOW },
	{ "moved, just under the cheap line", { true, true, true, 50 * MS,
	    REFRESH_BEHIND_US - 1, false, false, 0 }, REFRESH_NOW },
	{ "moved, at the cheap line", { true, true, true, 50 * MS,
	    REFRESH_BEHIND_US, false, false, 0 },
	    REFRESH_BEHIND },
	{ "moved, dear, found after a quiet spell: aside", { true, true,
	    true, 2000 * MS, 30 * MS, false, false, 0 }, REFRESH_ASIDE },
	{ "moved, dear, just inside the bound", { true, true, true,
	    1999 * MS, 30 * MS, false, false, 0 }, REFRESH_BEHIND },
	{ "ten costs is past the ceiling", { true, true, false, 400 * MS,
	    40 * MS, false, false, 0 }, REFRESH_BEHIND },
	{ "ten costs past the ceiling, not yet", { true, true, false,
	    399 * MS, 40 * MS, false, false, 0 }, REFRESH_SERVE },
	/* Made again before the reader is answered: where, and when. */
	{ "never made: its cost unknown, here", { false, true, false, 0, 0,
	    false, false, 0 }, REFRESH_NOW },
	{ "never made, a child busy: still here", { false, true, false, 0,
	    0, true, false, 0 }, REFRESH_NOW },
	{ "not held, dear, a child busy: wait", { false, true, true, 5 * MS,
	    30 * MS, true, false, 0 }, REFRESH_WAIT },
	{ "key changed, cheap, child free: here", { true, false, true, 1,
	    REFRESH_BEHIND_US - 1, false, false, 0 }, REFRESH_NOW },
	{ "key changed, cheap, child busy: here", { true, false, true, 1,
	    REFRESH_BEHIND_US - 1, true, false, 0 }, REFRESH_NOW },
	{ "key changed, dear, child free: aside", { true, false, true, 1,
	    REFRESH_BEHIND_US, false, false, 0 }, REFRESH_ASIDE },
	{ "key changed, dear, child busy: wait", { true, false, true, 1,
	    REFRESH_BEHIND_US, true, false, 0 }, REFRESH_WAIT },
	{ "key changed, dear, a child just failed: here", { true, false,
	    true, 1, 30 * MS, false, true, 0 }, REFRESH_NOW },
	{ "key changed, dear, busy, a child just failed: here", { true,
	    false, true, 1, 30 * MS, true, true, 1 * MS }, REFRESH_NOW },
	{ "key changed, dear, failed just under the retry: here", { true,
	    false, true, 1, 30 * MS, false, true,
	    REFRESH_ASIDE_RETRY_US - 1 }, REFRESH_NOW },
	{ "key changed, dear, failed a retry ago: aside again", { true,
	    false, true, 1, 30 * MS, false, true, REFRESH_ASIDE_RETRY_US },
	    REFRESH_ASIDE },
	{ "key changed, dear, failed long ago, busy: wait", { true, false,
	    true, 1, 30 * MS, true, true, 10 * REFRESH_ASIDE_RETRY_US },
	    REFRESH_WAIT },
	{ "stale (a scrape every 15 s), dear: aside", { true, true, true,
	    15000 * MS, 340 * MS, false, false, 0 }, REFRESH_ASIDE },
	{ "stale, dear, child busy: wait", { true, true, true, 15000 * MS,
	    340 * MS, true, false, 0 }, REFRESH_WAIT },
	{ "stale, dear, fork failed a moment ago: here", { true, true, true,
	    15000 * MS, 340 * MS, false, true, 0 }, REFRESH_NOW },
	{ "stale, cheap, child busy: here", { true, true, true, 15000 * MS,
	    100, true, false, 0 }, REFRESH_NOW },
	/* A child busy or failed changes nothing for what is served. */
	{ "young, child busy: served", { true, true, true, 100 * MS,
	    30 * MS, true, false, 0 }, REFRESH_SERVE },
	{ "young, child failed: served", { true, true, true, 100 * MS,
	    30 * MS, false, true, 0 }, REFRESH_SERVE },
	{ "due, dear, child busy: behind", { true, true, true, 300 * MS,
	    30 * MS, true, false, 0 }, REFRESH_BEHIND },
	{ "due, dear, child failed: behind", { true, true, true, 300 * MS,
	    30 * MS, false, true, 0 }, REFRESH_BEHIND },
};

/*
 * Whether the rendering a child brings back answers a waiting reader: a
 * reader waits from `since` (100 ms here); the child's snapshot was
 * taken at `made`, showing the key the reader found or not.
 */
static const struct {
	const char *what;
	bool same_key;
	int64_t made;
	bool want;
} satisfies[] = {
	{ "started after the reader came, key since changed", false,
	    101 * MS, true },
	{ "started as the reader came", false, 100 * MS, true },
	{ "started before the reader's change: not for it", false, 99 * MS,
	    false },
	{ "started long before, showing the reader's key", true, 1 * MS,
	    true },
	{ "started after, same key", true, 200 * MS, true },
};

START_TEST(test_satisfies)
{
	ck_assert_msg(refresh_satisfies(satisfies[_i].same_key,
	    satisfies[_i].made, 100 * MS) == satisfies[_i].want, "%s",
	    satisfies[_i].what);
}
END_TEST

START_TEST(test_cases)
{
	ck_assert_msg(refresh_decide(&cases[_i].l) == cases[_i].want,
	    "%s: got %d, want %d", cases[_i].what,
	    refresh_decide(&cases[_i].l), cases[_i].want);
}
END_TEST

/*
 * Endpoints' slots on a fake clock, as api_cache.c keeps them: readers of
 * every endpoint come every `every` µs, a probe run moves the data before
 * each, a rule event may come at `event_at`; a rendering costs its slot's
 * `cost` µs of loop, made in the reader's request (NOW) or in a loop pass
 * of its own (BEHIND), the most overdue first, then refresh_pause(); or
 * none, made in a child while its reader waits (ASIDE). A slot never
 * rendered has no cost yet, only its guess (0: unknown).
 */
#define SLOTS 5

struct slot {
	int64_t at, cost;
	int64_t guess;		/* cost_us before it was ever made */
	bool held, behind;
	unsigned key_seen;
};

struct sim {
	struct slot s[SLOTS];
	size_t n;
	int64_t now, refresh_after, busy;	/* busy: µs spent rendering */
	unsigned key;
	unsigned readers, in_request, in_pass, aside;
	int64_t oldest_served;	/* the oldest rendering a reader got */
};

static void
render(struct sim *m, struct slot *s)
{
	s->at = m->now;
	m->now += s->cost;
	m->busy += s->cost;
	s->held = true;
	s->behind = false;
	s->key_seen = m->key;
}

static void
reader(struct sim *m, struct slot *s)
{
	struct refresh_look l = {
		.held = s->held, .same_key = s->key_seen == m->key,
		.moved = true, .age_us = m->now - s->at,
		.cost_us = s->held ? s->cost : s->guess,
	};

	m->readers++;
	switch (refresh_decide(&l)) {
	case REFRESH_SERVE:
		break;
	case REFRESH_BEHIND:
		s->behind = true;
		break;
	case REFRESH_NOW:
		render(m, s);
		m->in_request++;
		break;
	case REFRESH_ASIDE:
	case REFRESH_WAIT:
		/* The snapshot now; the reader waits, the loop does not. */
		s->at = m->now;
		s->held = true;
		s->behind = false;
		s->key_seen = m->key;
		m->aside++;
		break;
	}
	if (m->now - s->at > m->oldest_served)
		m->oldest_served = m->now - s->at;
}

/* The loop pass after the readers: one rendering behind, if its time. */
static void
pass(struct sim *m)
{
	struct slot *best = NULL;

	if (m->now < m->refresh_after)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->s[i].behind && (best == NULL || m->s[i].at < best->at))
			best = &m->s[i];
	if (best == NULL)
		return;
	render(m, best);
	m->in_pass++;
	m->refresh_after = m->now + refresh_pause(best->cost);
}

static void
run(struct sim *m, int64_t until, int64_t every, int64_t event_at)
{
	bool evented = false;

	while (m->now < until) {
		if (!evented && m->now >= event_at) {
			m->key++;
			evented = true;
		}
		for (size_t i = 0; i < m->n; i++)
			reader(m, &m->s[i]);
		pass(m);
		m->now += every;
	}
}

START_TEST(test_flood_of_readers)
{
	/* One 30 ms rendering, a reader every millisecond for 10 s. */
	struct sim m = { .n = 1, .s = { { .cost = 30 * MS } } };

	run(&m, 10000 * MS, 1 * MS, INT64_MAX);
	/* The first reader waited; after that, none did. */
	ck_assert_uint_eq(m.in_request, 1);
	/* Renewed behind, about once per ten times its cost. */
	ck_assert_uint_ge(m.in_pass, 10000 / 340 - 1);
	ck_assert_uint_le(m.in_pass, 10000 / 300 + 1);
	/* No reader got one older than ten costs and a pass after it. */
	ck_assert_int_le(m.oldest_served, 300 * MS + 30 * MS + 2 * MS);
}
END_TEST

START_TEST(test_five_endpoints_share_a_fifth_of_the_loop)
{
	/* /status, /metrics, /alerts, /silences, the page at 1,000 probes. */
	struct sim m = { .n = 5, .s = { { .cost = 13 * MS },
	    { .cost = 29 * MS }, { .cost = 10 * MS }, { .cost = 9 * MS },
	    { .cost = 8 * MS } } };
	int64_t busy0;

	run(&m, 1 * MS, 1 * MS, INT64_MAX);
	ck_assert_uint_eq(m.in_request, 5);
	busy0 = m.busy;
	run(&m, 20000 * MS, 1 * MS, INT64_MAX);
	/* Renewed behind only, taking a fifth of the loop at most. */
	ck_assert_uint_eq(m.in_request, 5);
	ck_assert_uint_gt(m.in_pass, 100);
	ck_assert_int_le((m.busy - busy0) * 100,
	    (int64_t)REFRESH_SHARE_PCT * 20000 * MS + 29 * MS * 100);
	/* And still never older than REFRESH_STALE_US. */
	ck_assert_int_lt(m.oldest_served, REFRESH_STALE_US);
}
END_TEST

START_TEST(test_rule_event_is_seen_by_the_next_reader)
{
	struct sim m = { .n = 1, .s = { { .cost = 30 * MS } } };

	run(&m, 5000 * MS, 1 * MS, 2000 * MS);
	ck_assert_uint_eq(m.s[0].key_seen, 1);
	/* The start here; the reader right after the event, aside. */
	ck_assert_uint_eq(m.in_request, 1);
	ck_assert_uint_eq(m.aside, 1);
}
END_TEST

START_TEST(test_reader_after_a_quiet_spell)
{
	struct sim m = { .n = 1, .s = { { .cost = 30 * MS } } };

	run(&m, 1 * MS, 1 * MS, INT64_MAX);
	ck_assert_uint_eq(m.in_request, 1);
	/* Five seconds without a reader: the next one gets a new one. */
	m.now += 5000 * MS;
	reader(&m, &m.s[0]);
	ck_assert_uint_eq(m.in_request, 1);
	ck_assert_uint_eq(m.aside, 1);
	ck_assert_int_eq(m.now - m.s[0].at, 0);
}
END_TEST

START_TEST(test_scrapes_at_10000_probes)
{
	/*
	 * /metrics at 10,000 probes (0.34 s), scraped every 15 s for an
	 * hour: only the first scrape, before any cost is known, is made on
	 * the loop.
	 */
	struct sim m = { .n = 1, .s = { { .cost = 340 * MS } } };

	run(&m, 3600 * 1000 * (int64_t)MS, 15000 * MS,
	    1800 * 1000 * (int64_t)MS);
	ck_assert_uint_eq(m.readers, 240);
	ck_assert_uint_eq(m.in_request, 1);
	ck_assert_uint_eq(m.in_pass, 0);
	ck_assert_uint_eq(m.aside, 239);
	ck_assert_uint_eq(m.s[0].key_seen, 1);
}
END_TEST

START_TEST(test_first_scrape_at_10000_probes_goes_aside)
{
	/* The same hour with the guess api.c makes from the probe count:
	 * not even the first scrape holds the loop. */
	struct sim m = { .n = 1, .s = { { .cost = 340 * MS,
	    .guess = refresh_guess(0, 10000) } } };

	run(&m, 3600 * 1000 * (int64_t)MS, 15000 * MS,
	    1800 * 1000 * (int64_t)MS);
	ck_assert_uint_eq(m.readers, 240);
	ck_assert_uint_eq(m.in_request, 0);
	ck_assert_uint_eq(m.in_pass, 0);
	ck_assert_uint_eq(m.aside, 240);
}
END_TEST

START_TEST(test_guess)
{
	static const struct {
		const char *what;
		int64_t sibling;
		size_t probes;
		enum refresh_act first;	/* a first reader, no child busy */
	} t[] = {
		{ "no probes", 0, 0, REFRESH_NOW },
		{ "a few probes", 0, 10, REFRESH_NOW },
		{ "just under the line", 0,
		  REFRESH_BEHIND_US / REFRESH_GUESS_PROBE_US - 1, REFRESH_NOW },
		{ "at the line", 0, REFRESH_BEHIND_US / REFRESH_GUESS_PROBE_US,
		  REFRESH_ASIDE },
		{ "10,000 probes", 0, 10000, REFRESH_ASIDE },
		{ "first gzip, its plain one was cheap", 300, 10000,
		  REFRESH_NOW },
		{ "first gzip, its plain one was dear", 40 * MS, 3,
		  REFRESH_ASIDE },
		{ "absurd count: no overflow", 0, SIZE_MAX, REFRESH_ASIDE },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct refresh_look l = { .same_key = true, .cost_us =
		    refresh_guess(t[i].sibling, t[i].probes) };

		ck_assert_msg(l.cost_us >= 0, "%s: negative", t[i].what);
		ck_assert_msg(refresh_decide(&l) == t[i].first,
		    "%s: %d, want %d", t[i].what, refresh_decide(&l),
		    t[i].first);
	}
}
END_TEST

START_TEST(test_cheap_renderings_stay_at_once)
{
	/*
	 * 200 µs: a few probes; readers see every run as before. The same
	 * under ASan (2-3 times slower): end-to-end tests read what they
	 * just caused.
	 */
	struct sim m = { .n = 1, .s = { { .cost = 200 } } };

	run(&m, 1000 * MS, 10 * MS, INT64_MAX);
	ck_assert_uint_eq(m.in_pass, 0);
	ck_assert_uint_gt(m.readers, 90);
	ck_assert_uint_eq(m.in_request, m.readers);
}
END_TEST

START_TEST(test_pause)
{
	ck_assert_int_eq(refresh_pause(0), 0);
	ck_assert_int_eq(refresh_pause(10 * MS) * REFRESH_SHARE_PCT,
	    10 * MS * (100 - REFRESH_SHARE_PCT));
}
END_TEST

Suite *
refresh_suite(void)
{
	Suite *s = suite_create("refresh");
	TCase *tc = tcase_create("decide");

	tcase_add_loop_test(tc, test_cases, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_flood_of_readers);
	tcase_add_test(tc, test_five_endpoints_share_a_fifth_of_the_loop);
	tcase_add_test(tc, test_pause);
	tcase_add_test(tc, test_rule_event_is_seen_by_the_next_reader);
	tcase_add_test(tc, test_reader_after_a_quiet_spell);
	tcase_add_test(tc, test_cheap_renderings_stay_at_once);
	tcase_add_test(tc, test_scrapes_at_10000_probes);
	tcase_add_test(tc, test_first_scrape_at_10000_probes_goes_aside);
	tcase_add_test(tc, test_guess);
	tcase_add_loop_test(tc, test_satisfies, 0,
	    (int)(sizeof(satisfies) / sizeof(satisfies[0])));
	suite_add_tcase(s, tc);
	return s;
}
