/*
 * Derived metrics' expressions (config/expr.h): the input is the text.
 * Whatever it is, parsing must not crash, leak or recurse away; an error
 * always points inside the text (so the configuration's column is in the
 * string); a parsed expression evaluates, over variables with values and
 * without, to a finite number or a reason, never inf or nan.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "config/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Variable i is i - 2 (so 0 and negatives come up), or unknown. */
static bool
lookup(void *arg, size_t i, double *out)
{
	unsigned mask = *(const unsigned *)arg;

	if (mask & (1u << i))
		return false;
	*out = (double)i - 2;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expr_error err;
	struct expr *e;
	char *s = malloc(size + 1);
	size_t len;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	e = expr_parse(s, &err);
	if (e == NULL) {
		/* Inside the text, or at 0 for an empty one. */
		if (!(err.off < len || (len == 0 && err.off == 0)) &&
		    !(len > EXPR_MAX_LEN && err.off == EXPR_MAX_LEN))
			abort();
		if (err.msg[0] == '\0')
			abort();
	} else {
		for (unsigned mask = 0; mask < 4; mask++) {
			double v = 0;
			enum expr_status st = expr_eval(e, lookup, &mask, &v,
			    NULL);

			if (st == EXPR_OK && !isfinite(v))
				abort();
		}
		for (size_t k = 0; k < expr_nvars(e); k++)
			if (expr_var_off(e, k) >= len ||
			    strncmp(s + expr_var_off(e, k), expr_var(e, k),
			    strlen(expr_var(e, k))) != 0)
				abort();
		expr_free(e);
	}
	free(s);
	return 0;
}
