/*
 * outage: a whole application goes down and comes back, on a fake clock,
 * through the real rule set, dependency holds (engine/suppress.c) and
 * notifier decisions (notify/decide.c). Three probes as shipped: the
 * health endpoint, and two data endpoints whose down rules depend on the
 * health probe's. The matrix: {hang, 5xx, 200 with garbage, connection
 * refused} x {health probe runs first, dependents first, same tick} x
 * {short, long, flapping outage}, with the shipped debounce (fail_after
 * 2, recover_after 2) and the plain one (1, 1). Each outage must make
 * exactly one critical page and one resolution, both of the health
 * probe's rule: never a dependent's.
 *
 * What the monitor does between a run and the rules (the fail_after /
 * recover_after debounce, the retry interval, samples stamped with the
 * run's start) is reproduced here as monitor.c does it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config/config.h"
#include "notify/decide.h"
#include "engine/rules.h"
#include "engine/ruleset.h"
#include "engine/store.h"
#include "suites.h"

#define S	1000
#define MIN	(60 * S)
#define T0	1700000000000LL

enum kind { HANG, HTTP_5XX, GARBAGE, REFUSED, NKINDS };
enum order { HEALTH_FIRST, DEPS_FIRST, SAME_TICK, NORDERS };
enum shape { SHORT, LONG, FLAPPING, NSHAPES };

static const char *const kind_name[] = { "hang", "5xx", "garbage",
	"refused" };
static const char *const order_name[] = { "health first", "dependents first",
	"same tick" };
static const char *const shape_name[] = { "short", "long", "flapping" };

#define NPROBES 3

/* Shipped-like: app_health, app_advanced (p95), app_cache. */
static const char cfg_fmt[] =
    "{ \"probes\": ["
    "  { \"name\": \"app_health\", \"type\": \"http\","
    "    \"url\": \"http://127.0.0.1:1/api/health\", \"interval\": \"30s\","
    "    \"timeout\": \"5s\", \"fail_after\": %d, \"recover_after\": %d,"
    "    \"retry_interval\": \"10s\" },"
    "  { \"name\": \"app_advanced\", \"type\": \"http\","
    "    \"url\": \"http://127.0.0.1:1/api/health/advanced\","
    "    \"interval\": \"30s\", \"timeout\": \"10s\","
    "    \"depends_on\": \"app_health_down\","
    "    \"metrics\": { \"p95_ms\": \"/p95\" } },"
    "  { \"name\": \"app_cache\", \"type\": \"http\","
    "    \"url\": \"http://127.0.0.1:1/api/cache/stats\","
    "    \"interval\": \"1m\", \"timeout\": \"10s\","
    "    \"depends_on\": \"app_health_down\" } ],"
    "  \"rules\": [ { \"name\": \"api_p95\", \"metric\": "
    "  \"app_advanced.p95_ms\", \"window\": \"5m\", \"aggregate\": \"p95\","
    "  \"op\": \">\", \"warn\": 500, \"crit\": 1000,"
    "  \"depends_on\": \"app_health_down\" } ] }";

struct sim_probe {
	const char *name;
	int64_t next;		/* next start */
	int64_t started;	/* of the run in flight; 0: none */
	int64_t done_at;
	bool result_up;
	unsigned fails, oks;	/* consecutive */
	enum { P_PENDING, P_UP, P_DOWN } state;
};

struct told_log {
	int pages, resolutions, other;
	char first_page[64], first_resolution[64];
	char other_what[160];
};

struct sim {
	struct config *cfg;
	struct config_errors errs;
	struct ruleset *rs;
	struct store *st;
	struct probe_fact facts[NPROBES];
	struct sim_probe p[NPROBES];
	struct notify_told *told;
	enum kind kind;
	enum order order;
	int64_t down_from, down_to;	/* the outage, [from, to) */
	bool flapping;
	struct told_log log;
};

/* Whether the application answers at t. */
static bool
app_up(const struct sim *s, int64_t t)
{
	if (t < s->down_from || t >= s->down_to)
		return true;
	/* Flapping: down 5 s, up 2 s, over and over. */
	return s->flapping && (t - s->down_from) % (7 * S) >= 5 * S;
}

/* How long a run takes that starts at t. */
static int64_t
run_ms(const struct sim *s, size_t i, int64_t t)
{
	if (app_up(s, t))
		return 40;
	switch (s->kind) {
	case HANG:
		return s->cfg->probes[i].timeout_ms;
	case HTTP_5XX:
		return 30;
	case GARBAGE:
		return 45;
	default:
		return 1;
	}
}

static void
sim_init(struct sim *s, enum kind k, enum order o, int fail_after,
    int recover_after)
{
	char text[sizeof(cfg_fmt) + 16];
	/* First starts: whose run comes first in every interval. */
	static const int64_t phase[NORDERS][NPROBES] = {
		[HEALTH_FIRST] = { 0, 1500, 2500 },
		[DEPS_FIRST] = { 4400, 0, 0 },
		[SAME_TICK] = { 0, 0, 0 },
	};

	memset(s, 0, sizeof(*s));
	snprintf(text, sizeof(text), cfg_fmt, fail_after, recover_after);
	s->cfg = config_parse("outage.json", text, strlen(text), &s->errs);
	ck_assert_msg(s->cfg != NULL, "config: %s", s->errs.n > 0 ?
	    s->errs.v[0].msg : "?");
	s->rs = ruleset_new(s->cfg, NULL);
	s->st = store_new();
	ck_assert_ptr_nonnull(s->rs);
	ck_assert_ptr_nonnull(s->st);
	s->told = calloc(ruleset_count(s->rs), sizeof(*s->told));
	ck_assert_ptr_nonnull(s->told);
	s->kind = k;
	s->order = o;
	for (size_t i = 0; i < NPROBES; i++) {
		s->p[i].name = s->cfg->probes[i].name;
		s->p[i].next = T0 + phase[o][i];
		s->facts[i].interval_ms = s->cfg->probes[i].interval_ms;
		s->facts[i].timeout_ms = s->cfg->probes[i].timeout_ms;
	}
}

static void
sim_free(struct sim *s)
{
	free(s->told);
	ruleset_free(s->rs);
	store_free(s->st);
	config_free(s->cfg);
	config_errors_clear(&s->errs);
}

/* Every notifier decision, as a notifier taking every severity makes it. */
static void
notify(struct sim *s, int64_t now)
{
	for (size_t i = 0; i < ruleset_count(s->rs); i++) {
		const struct rule_cfg *rc = ruleset_cfg(s->rs, i);
		const struct rule_status *st = ruleset_status(s->rs, i);
		struct notify_policy p = {
			.warning = true, .critical = true,
			.repeat_ms = 4 * 60 * MIN,
			.flap_bound_ms = notify_flap_bound_ms(
			    rc->def.flap_window_ms, rc->def.flap_max),
		};
		struct notify_rule r = {
			.state = st->state, .sev = st->sev, .since = st->since,
			.suppressed = st->suppressed, .flapping = st->flapping,
		};
		struct notify_decision d;
		struct told_log *l = &s->log;

		if (!notify_decide(&p, &r, &s->told[i], now, &d))
			continue;
		if (d.kind == NOTICE_FIRING && d.sev == SEV_CRITICAL &&
		    l->pages++ == 0)
			snprintf(l->first_page, sizeof(l->first_page), "%s",
			    rc->name);
		else if (d.kind == NOTICE_RESOLVED && l->resolutions++ == 0)
			snprintf(l->first_resolution,
			    sizeof(l->first_resolution), "%s", rc->name);
		else if (d.kind != NOTICE_FIRING && d.kind != NOTICE_RESOLVED &&
		    l->other++ == 0)
			snprintf(l->other_what, sizeof(l->other_what),
			    "%s %s at +%llds", rc->name,
			    notice_kind_name(d.kind),
			    (long long)(now - T0) / 1000);
		if ((d.kind == NOTICE_FIRING && l->pages > 1) ||
		    (d.kind == NOTICE_RESOLVED && l->resolutions > 1))
			snprintf(l->other_what, sizeof(l->other_what),
			    "extra %s of %s at +%llds",
			    notice_kind_name(d.kind), rc->name,
			    (long long)(now - T0) / 1000);
	}
}

/* A run of probe i ends: what monitor.c's rt_done does. */
static void
finish(struct sim *s, size_t i)
{
	struct sim_probe *p = &s->p[i];
	const struct probe_cfg *pc = &s->cfg->probes[i];
	struct probe_fact *f = &s->facts[i];
	int64_t now = p->done_at, want;
	char name[80];

	if (p->result_up) {
		p->fails = 0;
		p->oks++;
		if (p->state == P_PENDING || p->oks >= pc->recover_after)
			p->state = P_UP;
	} else {
		p->oks = 0;
		p->fails++;
		if (p->fails >= pc->fail_after)
			p->state = P_DOWN;
	}
	snprintf(name, sizeof(name), "%s.up", p->name);
	store_add(s->st, name, p->started, p->result_up, 1000);
	if (p->result_up && i == 1)
		store_add(s->st, "app_advanced.p95_ms", p->started, 120, 1000);
	if (p->state != P_PENDING) {
		snprintf(name, sizeof(name), "%s.down", p->name);
		store_add(s->st, name, p->started, p->state == P_DOWN, 1000);
	}
	f->has_run = true;
	f->last_up = p->result_up;
	f->last_started = p->started;
	f->last_finished = now;
	f->reason = p->result_up ? "" : s->kind == HANG ?
	    "timed out waiting for the response" : "status 503";
	want = !p->result_up && pc->retry_interval_ms > 0 ?
	    pc->retry_interval_ms : pc->interval_ms;
	p->next = p->started + want;
	if (p->next < now)
		p->next = now;	/* a slot found the run in flight: skipped */
	p->started = 0;
	ruleset_eval(s->rs, s->st, s->facts, i, now);
	notify(s, now);
}

/* Runs the world from T0 to until, a millisecond at a time where needed. */
static void
sim_run(struct sim *s, int64_t until)
{
	int64_t now = T0, tick = T0 + S;

	while (now < until) {
		int64_t next = tick;
		/* Ties: the dependents' runs end first in the same tick. */
		static const size_t same_tick[NPROBES] = { 1, 2, 0 };

		for (size_t i = 0; i < NPROBES; i++) {
			const struct sim_probe *p = &s->p[i];
			int64_t t = p->started != 0 ? p->done_at : p->next;

			if (t < next)
				next = t;
		}
		now = next;
		for (size_t k = 0; k < NPROBES; k++) {
			size_t i = s->order == SAME_TICK ? same_tick[k] : k;
			struct sim_probe *p = &s->p[i];

			if (p->started == 0 && p->next == now) {
				p->started = now;
				p->result_up = app_up(s, now);
				p->done_at = now + run_ms(s, i, now);
			}
		}
		for (size_t k = 0; k < NPROBES; k++) {
			size_t i = s->order == SAME_TICK ? same_tick[k] : k;

			if (s->p[i].started != 0 && s->p[i].done_at == now)
				finish(s, i);
		}
		if (now == tick) {
			ruleset_eval(s->rs, s->st, s->facts, RULESET_ALL, now);
			notify(s, now);
			tick += S;
		}
	}
}

static void
one_outage(enum kind k, enum order o, enum shape sh, int fail_after,
    int recover_after, int64_t from)
{
	struct sim s;
	int64_t len = sh == SHORT ? 60 * S : sh == LONG ? 20 * MIN : 6 * MIN;
	char what[160];

	sim_init(&s, k, o, fail_after, recover_after);
	s.down_from = T0 + from;
	s.down_to = s.down_from + len;
	s.flapping = sh == FLAPPING;
	/* Until well after recovery: a late page would show. */
	sim_run(&s, s.down_to + 10 * MIN);
	snprintf(what, sizeof(what), "%s, %s, %s outage from +%llds, "
	    "fail_after %d recover_after %d", kind_name[k], order_name[o],
	    shape_name[sh], (long long)from / 1000, fail_after,
	    recover_after);
	ck_assert_msg(s.log.pages == 1, "%s: %d critical pages (first: %s; "
	    "%s)", what, s.log.pages, s.log.first_page, s.log.other_what);
	ck_assert_msg(strcmp(s.log.first_page, "app_health_down") == 0,
	    "%s: the page is %s's", what, s.log.first_page);
	ck_assert_msg(s.log.resolutions == 1, "%s: %d resolutions (%s)", what,
	    s.log.resolutions, s.log.other_what);
	ck_assert_msg(strcmp(s.log.first_resolution, "app_health_down") == 0,
	    "%s: the resolution is %s's", what, s.log.first_resolution);
	ck_assert_msg(s.log.other == 0, "%s: also %s", what,
	    s.log.other_what);
	/* And the rules are all at rest again. */
	for (size_t i = 0; i < ruleset_count(s.rs); i++) {
		const struct rule_status *st = ruleset_status(s.rs, i);

		ck_assert_msg(st->state == RULE_OK && !st->suppressed,
		    "%s: %s is %s%s at the end", what,
		    ruleset_cfg(s.rs, i)->name, rule_state_name(st->state),
		    st->suppressed ? " (suppressed)" : "");
	}
	sim_free(&s);
}

/* _i runs over kinds x orders; the shape is the test. */
START_TEST(test_short_outage_one_page)
{
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS), SHORT,
	    2, 2, 3 * MIN + 7 * S);
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS), SHORT,
	    1, 1, 3 * MIN + 17 * S);
}
END_TEST

START_TEST(test_long_outage_one_page)
{
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS), LONG,
	    2, 2, 3 * MIN + 11 * S);
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS), LONG,
	    1, 1, 3 * MIN + 2 * S);
}
END_TEST

/*
 * The application answers 2 s in every 7: the debounce (recover_after 2)
 * keeps it one outage; the dependents flip up and down throughout and
 * must never page.
 */
START_TEST(test_flapping_outage_one_page)
{
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS),
	    FLAPPING, 2, 2, 3 * MIN + 13 * S);
}
END_TEST

/* First runs included: the application is already down when vigild starts. */
START_TEST(test_down_at_start_one_page)
{
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS), LONG,
	    2, 2, 0);
	one_outage((enum kind)(_i % NKINDS), (enum order)(_i / NKINDS), SHORT,
	    1, 1, 0);
}
END_TEST

Suite *
outage_suite(void)
{
	Suite *s = suite_create("outage");
	TCase *tc = tcase_create("matrix");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_short_outage_one_page, 0,
	    NKINDS * NORDERS);
	tcase_add_loop_test(tc, test_long_outage_one_page, 0,
	    NKINDS * NORDERS);
	tcase_add_loop_test(tc, test_flapping_outage_one_page, 0,
	    NKINDS * NORDERS);
	tcase_add_loop_test(tc, test_down_at_start_one_page, 0,
	    NKINDS * NORDERS);
	suite_add_tcase(s, tc);
	return s;
}
