/*
 * jsonptr: RFC 6901 JSON Pointers over cJSON trees.
 *
 * Used to check expected values in probe responses and to extract metrics
 * from them ("/metrics/responseTime/p95"). Object member names compare
 * case-sensitively (cJSON_GetObjectItem does not).
 *
 * On an array, a token must be "0" or a decimal number without sign or
 * leading zero: "-" (past the end) and too large an index are
 * JSONPTR_ENOTFOUND, anything else ("01", "x", "") is JSONPTR_ETYPE.
 * The whole pointer's syntax is checked before the document is walked, so
 * a bad escape is JSONPTR_ESYNTAX even where the path would not exist.
 */
#ifndef VIGIL_JSONPTR_H
#define VIGIL_JSONPTR_H

#include <cjson/cJSON.h>

enum jsonptr_err {
	JSONPTR_OK = 0,
	JSONPTR_ESYNTAX = -1,	/* not "" and not starting with '/', bad ~ escape */
	JSONPTR_ENOTFOUND = -2,	/* a member or index does not exist */
	JSONPTR_ETYPE = -3,	/* stepped into a scalar, or a non-number index */
	JSONPTR_ENOTNUM = -4,	/* jsonptr_number: the value is not a number */
};

/* Checks a pointer's syntax without a document; 0 or JSONPTR_ESYNTAX. */
int jsonptr_valid(const char *ptr);

/*
 * Resolves ptr in root; on success *out is the node (borrowed; out may be
 * NULL). A NULL root is JSONPTR_ENOTFOUND, a NULL ptr JSONPTR_ESYNTAX.
 */
int jsonptr_get(const cJSON *root, const char *ptr, const cJSON **out);

/*
 * Resolves ptr to a finite number. true/false read as 1/0, since health
 * bodies often say "ok": true. Strings are not converted. A NaN or infinite
 * value is JSONPTR_ENOTNUM. *out is written only on success.
 */
int jsonptr_number(const cJSON *root, const char *ptr, double *out);

const char *jsonptr_strerror(int err);

#endif
