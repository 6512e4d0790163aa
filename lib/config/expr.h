/*
 * expr: the arithmetic of a derived metric, pure. "100 * a.hits /
 * (a.hits + a.misses)": + - * /, parentheses, numeric constants, unary
 * minus, min(...) and max(...), over variables named "<probe>.<metric>".
 * Parsed once (the configuration needs the parser and its errors),
 * evaluated over a callback that gives each variable's value or says it
 * has none, so expr knows nothing of stores or probes.
 *
 * Every bound is an error, never a crash or a deep recursion: the text's
 * length, the nesting depth, the number of variables and of operations.
 * Evaluation walks a postfix program with a fixed stack, no recursion.
 */
#ifndef VIGIL_EXPR_H
#define VIGIL_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#define EXPR_MAX_LEN	1024	/* bytes of text */
#define EXPR_MAX_DEPTH	32	/* nested parentheses, calls, unary minus */
#define EXPR_MAX_VARS	16	/* distinct variables */
#define EXPR_MAX_OPS	256	/* postfix program length */

struct expr;

/* A parse error: off is the byte in the text it is about (< len, or 0). */
struct expr_error {
	size_t off;
	char msg[120];
};

/* Parses s; NULL with err filled on a mistake (or out of memory). */
struct expr *expr_parse(const char *s, struct expr_error *err);
void expr_free(struct expr *e);

/* The distinct variables, in order of first appearance. */
size_t expr_nvars(const struct expr *e);
const char *expr_var(const struct expr *e, size_t i);
/* Where variable i first appears in the text, for errors about it. */
size_t expr_var_off(const struct expr *e, size_t i);

/* Variable i's value into *out, or false: it has none (unknown). */
typedef bool (*expr_lookup)(void *arg, size_t i, double *out);

enum expr_status {
	EXPR_OK,
	EXPR_UNKNOWN,		/* a variable had no value: *var says which */
	EXPR_DIV_ZERO,
	EXPR_NOT_FINITE,	/* overflow to inf, or nan */
};

/*
 * Evaluates e. Anything but EXPR_OK leaves *out untouched: a derived
 * value that cannot be computed is unknown, never 0 or inf.
 */
enum expr_status expr_eval(const struct expr *e, expr_lookup fn, void *arg,
    double *out, size_t *var);
const char *expr_status_text(enum expr_status s);

#endif
