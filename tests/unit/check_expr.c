/*
 * Unit tests for lib/config/expr.c (derived metrics' expressions), the
 * "derived" configuration section (errors at their column in the file,
 * cycles) and lib/engine/derived.c with a rule over a derived metric:
 * values, division by zero and missing inputs as unknown.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config/config.h"
#include "config/expr.h"
#include "engine/derived.h"
#include "engine/ruleset.h"
#include "engine/store.h"
#include "suites.h"

#define S 1000LL
#define T0 1700000000000LL

/* Variables a.x = 2, a.y = 3, b.z = 0, b.big = 1e308; others unknown. */
static bool
vars(void *arg, size_t i, double *out)
{
	const struct expr *e = arg;
	const char *n = expr_var(e, i);

	if (strcmp(n, "a.x") == 0)
		*out = 2;
	else if (strcmp(n, "a.y") == 0)
		*out = 3;
	else if (strcmp(n, "b.z") == 0)
		*out = 0;
	else if (strcmp(n, "b.big") == 0)
		*out = 1e308;
	else
		return false;
	return true;
}

static enum expr_status
eval_text(const char *s, double *out, size_t *var)
{
	struct expr_error err;
	struct expr *e = expr_parse(s, &err);
	enum expr_status st;

	ck_assert_msg(e != NULL, "%s: %s at %zu", s, err.msg, err.off);
	st = expr_eval(e, vars, e, out, var);
	expr_free(e);
	return st;
}

START_TEST(test_values)
{
	static const struct { const char *s; double want; } t[] = {
		{ "a.x", 2 },
		{ "a.x + a.y * 4", 14 },		/* precedence */
		{ "(a.x + a.y) * 4", 20 },
		{ "a.x - a.y - 1", -2 },		/* left associative */
		{ "12 / a.x / a.y", 2 },
		{ "-a.x", -2 },
		{ "- -a.x", 2 },
		{ "a.y * -a.x", -6 },
		{ "-a.x * a.y + 1", -5 },
		{ "1e3 * a.x", 2000 },
		{ "1.5E-1 * a.x", 0.3 },
		{ ".5 + a.x", 2.5 },
		{ "2. * a.x", 4 },
		{ "min(a.x, a.y)", 2 },
		{ "max(a.x, a.y, 10)", 10 },
		{ "min(a.x)", 2 },
		{ "max(-a.x, -a.y) * 2", -4 },
		{ "100 * a.x / (a.x + a.y)", 40 },
		{ "  a.x\t+\n1 ", 3 },
		{ "((((a.x))))", 2 },
		{ "a.x + a.x", 4 },			/* one variable, twice */
		{ "min(max(a.x, 1), a.y) - a.y / a.y", 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double v = NAN;

		ck_assert_msg(eval_text(t[i].s, &v, NULL) == EXPR_OK, "%s",
		    t[i].s);
		ck_assert_msg(fabs(v - t[i].want) < 1e-9, "%s = %g, want %g",
		    t[i].s, v, t[i].want);
	}
}
END_TEST

START_TEST(test_unknowns)
{
	double v = 42;
	size_t var = 99;

	ck_assert_int_eq(eval_text("a.x / b.z", &v, NULL), EXPR_DIV_ZERO);
	ck_assert_int_eq(eval_text("a.x / (a.y - 3)", &v, NULL),
	    EXPR_DIV_ZERO);
	ck_assert_int_eq(eval_text("b.big * 10", &v, NULL), EXPR_NOT_FINITE);
	ck_assert_int_eq(eval_text("a.x + c.none * 0", &v, &var),
	    EXPR_UNKNOWN);
	ck_assert_uint_eq(var, 1);
	/* Unknown is unknown even where it would not matter. */
	ck_assert_int_eq(eval_text("min(a.x, c.none)", &v, NULL),
	    EXPR_UNKNOWN);
	ck_assert_double_eq(v, 42);
	ck_assert_str_eq(expr_status_text(EXPR_DIV_ZERO), "division by zero");
}
END_TEST

START_TEST(test_errors)
{
	static const struct { const char *s; size_t off; const char *msg; }
	    t[] = {
		{ "", 0, "empty" },
		{ "   ", 0, "empty" },
		{ "a.x +", 4, "expected a value" },
		{ "a.x + * a.y", 6, "expected a value, not '*'" },
		{ "(a.x + a.y", 0, "unclosed '('" },
		{ "a.x + a.y)", 9, "without its '('" },
		{ "a.x a.y", 4, "expected an operator" },
		{ "a.x ^ 2", 4, "unexpected '^'" },
		{ "a.b.c", 3, "one '.'" },
		{ "a. + 1", 2, "after '.'" },
		{ "foo + a.x", 0, "neither a metric" },
		{ "min a.x", 0, "neither a metric" },
		{ "min(a.x; a.y)", 7, "expected ',' or ')'" },
		{ "max(a.x", 0, "unclosed '(' of max" },
		{ "1e + a.x", 1, "exponent" },
		{ "1e999 * a.x", 0, "out of range" },
		{ "12abc", 2, "after a number" },
		{ "2 * 3", 0, "at least one metric" },
		{ "a.x + \x01", 6, "byte 0x01" },
		{ "min()", 4, "expected a value, not ')'" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct expr_error err;
		struct expr *e = expr_parse(t[i].s, &err);

		ck_assert_msg(e == NULL, "%s parsed", t[i].s);
		ck_assert_msg(err.off == t[i].off && strstr(err.msg,
		    t[i].msg) != NULL, "%s: %zu \"%s\", want %zu \"%s\"",
		    t[i].s, err.off, err.msg, t[i].off, t[i].msg);
	}
}
END_TEST

START_TEST(test_bounds)
{
	struct expr_error err;
	char *s = malloc(EXPR_MAX_LEN * 2);
	struct expr *e;
	size_t n = 0;

	/* Nesting: parentheses, calls and minus signs alike. */
	for (int k = 0; k < EXPR_MAX_DEPTH + 5; k++)
		s[n++] = '(';
	memcpy(s + n, "a.x", 4);
	ck_assert_ptr_null(expr_parse(s, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper"));
	memset(s, '-', EXPR_MAX_DEPTH + 5);
	memcpy(s + EXPR_MAX_DEPTH + 5, "a.x", 4);
	ck_assert_ptr_null(expr_parse(s, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper"));
	/* Too long. */
	memset(s, ' ', EXPR_MAX_LEN + 1);
	memcpy(s, "a.x", 3);
	s[EXPR_MAX_LEN + 1] = '\0';
	ck_assert_ptr_null(expr_parse(s, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	/* Too many variables. */
	n = 0;
	for (int k = 0; k <= EXPR_MAX_VARS; k++)
		n += (size_t)snprintf(s + n, 32, "%sa.v%d", k ? "+" : "", k);
	ck_assert_ptr_null(expr_parse(s, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "distinct metrics"));
	/* Too many operations, within the length. */
	n = 0;
	for (int k = 0; k < 300; k++)
		n += (size_t)snprintf(s + n, 8, "%s1", k ? "+" : "a.x+");
	ck_assert_ptr_null(expr_parse(s, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "operations"));
	/* Exactly at the bounds: fine. */
	n = 0;
	for (int k = 0; k < EXPR_MAX_VARS; k++)
		n += (size_t)snprintf(s + n, 32, "%sa.v%d", k ? "+" : "", k);
	e = expr_parse(s, &err);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(expr_nvars(e), EXPR_MAX_VARS);
	ck_assert_str_eq(expr_var(e, 3), "a.v3");
	ck_assert_uint_eq(expr_var_off(e, 1), 5);
	expr_free(e);
	expr_free(NULL);
	free(s);
}
END_TEST

/* Asserts text fails with an error at line:col containing want. */
static void
config_error(const char *text, int line, int col, const char *want)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_parse("t.json", text, strlen(text), &errs);
	bool found = false;

	ck_assert_ptr_null(cfg);
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].line == line && errs.v[i].col == col &&
		    strstr(errs.v[i].msg, want) != NULL)
			found = true;
	ck_assert_msg(found, "wanted %d:%d \"%s\", got %d:%d \"%s\"", line,
	    col, want, errs.n ? errs.v[0].line : 0, errs.n ? errs.v[0].col : 0,
	    errs.n ? errs.v[0].msg : "");
	config_errors_clear(&errs);
}

#define PROBES \
	"{\"probes\": [{\"name\": \"app\", \"type\": \"http\", " \
	"\"url\": \"http://127.0.0.1:1/\", \"interval\": \"10s\", " \
	"\"metrics\": {\"hits\": \"/h\", \"misses\": \"/m\"}}],\n"

START_TEST(test_config_errors)
{
	/* Line 2: `"derived": {"x": "` is 17 bytes, the string at col 18. */
	config_error(PROBES "\"derived\": {\"x\": \"app.hits + * 2\"}}", 2, 30,
	    "expected a value, not '*'");
	/* Escapes count as written: \u0020 is six bytes in the file. */
	config_error(PROBES "\"derived\": {\"x\": \"app.hits\\u0020+ ?\"}}", 2,
	    35, "not '?'");
	config_error(PROBES "\"derived\": {\"x\": \"\\\"app.hits\"}}", 2, 19,
	    "expected a value, not '\"'");
	/* Unknown metrics, at their own column. */
	config_error(PROBES "\"derived\": {\"x\": \"1 + app.nope\"}}", 2, 23,
	    "probe \"app\" has no metric \"nope\"");
	config_error(PROBES "\"derived\": {\"x\": \"app.hits / db.hits\"}}", 2,
	    30, "no probe named \"db\"");
	config_error(PROBES "\"derived\": {\"x\": \"derived.y * 2\"}}", 2, 19,
	    "no derived metric named \"y\"");
	config_error(PROBES "\"derived\": {\"x\": 5}}", 2, 18,
	    "must be an expression string");
	config_error(PROBES "\"derived\": {\"X\": \"app.hits\"}}", 2, 13,
	    "lower case");
	/* Cycles name every step. */
	config_error(PROBES "\"derived\": {\"a\": \"derived.b + app.hits\",\n"
	    "\"b\": \"derived.c\", \"c\": \"derived.a * 2\"}}", 2, 18,
	    "cycle: derived.a -> derived.b -> derived.c -> derived.a");
	config_error(PROBES "\"derived\": {\"a\": \"derived.a\"}}", 2, 18,
	    "cycle: derived.a -> derived.a");
	/* Rules and ratios name derived metrics that must exist. */
	config_error(PROBES "\"rules\": [{\"name\": \"r\", \"metric\": "
	    "\"derived.nope\", \"op\": \">\", \"warn\": 1}]}", 2, 35,
	    "no derived metric named \"nope\"");
}
END_TEST

static size_t
cap100(const struct config *cfg, size_t probe)
{
	(void)cfg;
	(void)probe;
	return 100;
}

START_TEST(test_derived_rule)
{
	static const char text[] = PROBES
	    "\"derived\": {\"pct\": \"100 * app.hits / derived.lookups\",\n"
	    "  \"lookups\": \"app.hits + app.misses\"},\n"
	    "\"rules\": [{\"name\": \"hit_pct\", \"metric\": \"derived.pct\",\n"
	    "  \"op\": \"<\", \"warn\": 70},\n"
	    " {\"name\": \"hit_ratio\", \"ratio\": {\"numerator\": \"app.hits\",\n"
	    "  \"denominator\": \"derived.lookups\", \"scale\": 100},\n"
	    "  \"aggregate\": \"delta\", \"window\": \"1m\",\n"
	    "  \"op\": \"<\", \"warn\": 70}]}";
	struct config_errors errs = { 0 };
	struct config *cfg = config_parse("t.json", text, strlen(text), &errs);
	struct derived_result res[2];
	struct probe_fact fact = { .interval_ms = 10 * S, .timeout_ms = S };
	const struct rule_status *rst;
	const struct derived_cfg *d;
	struct store *st = store_new();
	struct ruleset *rs;
	struct sample last;
	int64_t t = T0;

	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.v[0].msg : "");
	/* Inputs first, whatever the order in the file. */
	ck_assert_uint_eq(cfg->nderived, 2);
	ck_assert_str_eq(cfg->derived[cfg->derived_order[0]].name, "lookups");
	d = config_derived(cfg, "derived.pct");
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->home, 0);
	ck_assert_ptr_null(config_derived(cfg, "app.hits"));
	rs = ruleset_new(cfg, NULL);
	ruleset_set_derived(rs, res);

	/* Runs 10 s apart: 80 hits and 20 misses each. */
	for (int i = 0; i <= 6; i++, t += 10 * S) {
		store_add(st, "app.hits", t, 80.0 * i, 100);
		store_add(st, "app.misses", t, 20.0 * i, 100);
		fact.has_run = fact.last_up = true;
		fact.last_started = t;
		fact.last_finished = t + 10;
		derived_update(cfg, st, &fact, 0, t + 20, res, cap100);
		ruleset_eval(rs, st, &fact, 0, t + 20);
	}
	/* The first run: 0 / 0, unknown, nothing stored. */
	ck_assert(series_at(store_find(st, "derived.pct"), 0, &last));
	ck_assert_int_eq(last.t, T0 + 10 * S);
	ck_assert_uint_eq(series_len(store_find(st, "derived.pct")), 6);
	/* 0 + 0 is a value: only the division was unknown. */
	ck_assert_uint_eq(series_len(store_find(st, "derived.lookups")), 7);
	rst = ruleset_status(rs, 0);
	ck_assert_msg(rst->known, "%s", rst->why);
	ck_assert_double_eq_tol(rst->value, 80, 1e-9);
	rst = ruleset_status(rs, 1);
	ck_assert_msg(rst->known, "%s", rst->why);
	ck_assert_double_eq_tol(rst->value, 80, 1e-9);

	/* The counters reset to 0 / 0: a division by zero is unknown. */
	store_add(st, "app.hits", t, 0, 100);
	store_add(st, "app.misses", t, 0, 100);
	fact.last_started = t;
	fact.last_finished = t + 10;
	derived_update(cfg, st, &fact, 0, t + 20, res, cap100);
	ruleset_eval(rs, st, &fact, 0, t + 20);
	ck_assert(!res[cfg->derived_order[1]].known);
	ck_assert_str_eq(res[cfg->derived_order[1]].why, "division by zero");
	ck_assert_uint_eq(series_len(store_find(st, "derived.pct")), 6);
	rst = ruleset_status(rs, 0);
	ck_assert(!rst->known);
	ck_assert_int_eq(rst->state, RULE_UNKNOWN);
	ck_assert_str_eq(rst->why, "derived.pct unknown: division by zero");
	t += 10 * S;

	/* A failed run without the body's metrics: unknown, with why. */
	fact.last_up = false;
	fact.reason = "HTTP 503";
	fact.last_started = t;
	fact.last_finished = t + 10;
	derived_update(cfg, st, &fact, 0, t + 20, res, cap100);
	ruleset_eval(rs, st, &fact, 0, t + 20);
	ck_assert_str_eq(res[cfg->derived_order[0]].why,
	    "app.hits: probe failing: HTTP 503");
	ck_assert_str_eq(res[cfg->derived_order[1]].why,
	    "app.hits: probe failing: HTTP 503");
	rst = ruleset_status(rs, 0);
	ck_assert(!rst->known);

	/* No samples at all. */
	store_free(st);
	st = store_new();
	fact.last_up = true;
	derived_update(cfg, st, &fact, 0, t + 20, res, cap100);
	ck_assert_str_eq(res[cfg->derived_order[0]].why,
	    "no samples of app.hits");
	/* Stale inputs: older than three intervals. */
	store_add(st, "app.hits", t, 5, 100);
	store_add(st, "app.misses", t, 5, 100);
	derived_update(cfg, st, &fact, 0, t + 31 * S, res, cap100);
	ck_assert_str_eq(res[cfg->derived_order[0]].why, "app.hits: stale");
	derived_update(cfg, st, &fact, 0, t + 29 * S, res, cap100);
	ck_assert(res[cfg->derived_order[1]].known);
	ck_assert_double_eq_tol(res[cfg->derived_order[1]].value, 50, 1e-9);

	ruleset_free(rs);
	store_free(st);
	config_free(cfg);
}
END_TEST

/* Another expression is another metric: the rule starts afresh on reload. */
START_TEST(test_canon_follows_the_expression)
{
	static const char a[] = PROBES
	    "\"derived\": {\"x\": \"app.hits * 2\"},\n"
	    "\"rules\": [{\"name\": \"r\", \"metric\": \"derived.x\", "
	    "\"op\": \">\", \"warn\": 1}]}";
	static const char b[] = PROBES
	    "\"derived\": {\"x\": \"app.hits * 3\"},\n"
	    "\"rules\": [{\"name\": \"r\", \"metric\": \"derived.x\", "
	    "\"op\": \">\", \"warn\": 1}]}";
	struct config_errors errs = { 0 };
	struct config *ca = config_parse("t.json", a, strlen(a), &errs);
	struct config *cb = config_parse("t.json", b, strlen(b), &errs);

	ck_assert_ptr_nonnull(ca);
	ck_assert_ptr_nonnull(cb);
	ck_assert_str_ne(config_rule(ca, "r")->canon,
	    config_rule(cb, "r")->canon);
	ck_assert_ptr_nonnull(strstr(config_rule(ca, "r")->canon,
	    "|app.hits * 2"));
	config_free(ca);
	config_free(cb);
}
END_TEST

Suite *
expr_suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("expr");

	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_unknowns);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_derived_rule);
	tcase_add_test(tc, test_canon_follows_the_expression);
	suite_add_tcase(s, tc);
	return s;
}
