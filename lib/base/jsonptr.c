/*
 * jsonptr: RFC 6901 JSON Pointers over cJSON trees.
 *
 * Reference tokens are never copied: a token is compared to a member name
 * while its "~0"/"~1" escapes are decoded on the fly, so tokens of any
 * length work without allocation and without truncation.
 */
#include "base/jsonptr.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* Checks the escapes of the token tok[0..n); 0 or JSONPTR_ESYNTAX. */
static int
token_valid(const char *tok, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		if (tok[k] != '~')
			continue;
		if (k + 1 >= n || (tok[k + 1] != '0' && tok[k + 1] != '1'))
			return JSONPTR_ESYNTAX;
		k++;
	}
	return JSONPTR_OK;
}

int
jsonptr_valid(const char *ptr)
{
	const char *tok, *end;

	if (ptr == NULL)
		return JSONPTR_ESYNTAX;
	if (*ptr == '\0')
		return JSONPTR_OK;
	if (*ptr != '/')
		return JSONPTR_ESYNTAX;
	while (*ptr == '/') {
		tok = ptr + 1;
		end = strchr(tok, '/');
		if (end == NULL)
			end = tok + strlen(tok);
		if (token_valid(tok, (size_t)(end - tok)) != JSONPTR_OK)
			return JSONPTR_ESYNTAX;
		ptr = end;
	}
	return JSONPTR_OK;
}

/*
 * Whether the escaped token tok[0..n) decodes to name. Decoding left to
 * right gives RFC 6901's order ("~01" is "~1", not "/").
 */
static int
token_eq(const char *tok, size_t n, const char *name)
{
	size_t k;

	for (k = 0; k < n; k++, name++) {
		char c = tok[k];

		if (c == '~') {
			c = tok[k + 1] == '1' ? '/' : '~';
			k++;
		}
		if (*name != c)
			return 0;
	}
	return *name == '\0';
}

/*
 * Parses an array index token: "0" or a digit string without a leading
 * zero. Returns 1 and sets *idx (saturated at past-the-end values), or 0.
 */
static int
token_index(const char *tok, size_t n, size_t *idx)
{
	size_t k, v = 0;
	int big = 0;

	if (n == 0 || (n > 1 && tok[0] == '0'))
		return 0;
	for (k = 0; k < n; k++) {
		if (tok[k] < '0' || tok[k] > '9')
			return 0;
		if (v > ((size_t)-1 - 9) / 10)
			big = 1;
		else
			v = v * 10 + (size_t)(tok[k] - '0');
	}
	*idx = big ? (size_t)-1 : v;
	return 1;
}

int
jsonptr_get(const cJSON *root, const char *ptr, const cJSON **out)
{
	const cJSON *cur = root, *child;
	const char *tok, *end;
	size_t n, idx, k;

	if (jsonptr_valid(ptr) != JSONPTR_OK)
		return JSONPTR_ESYNTAX;
	if (cur == NULL)
		return JSONPTR_ENOTFOUND;
	while (*ptr == '/') {
		tok = ptr + 1;
		end = strchr(tok, '/');
		if (end == NULL)
			end = tok + strlen(tok);
		n = (size_t)(end - tok);
		if (cJSON_IsObject(cur)) {
			for (child = cur->child; child != NULL;
			    child = child->next)
				if (child->string != NULL &&
				    token_eq(tok, n, child->string))
					break;
			if (child == NULL)
				return JSONPTR_ENOTFOUND;
		} else if (cJSON_IsArray(cur)) {
			if (n == 1 && tok[0] == '-')
				return JSONPTR_ENOTFOUND;
			if (!token_index(tok, n, &idx))
				return JSONPTR_ETYPE;
			child = cur->child;
			for (k = 0; child != NULL && k < idx; k++)
				child = child->next;
			if (child == NULL)
				return JSONPTR_ENOTFOUND;
		} else
			return JSONPTR_ETYPE;
		cur = child;
		ptr = end;
	}
	if (out != NULL)
		*out = cur;
	return JSONPTR_OK;
}

int
jsonptr_number(const cJSON *root, const char *ptr, double *out)
{
	const cJSON *node;
	double v;
	int rc = jsonptr_get(root, ptr, &node);

	if (rc != JSONPTR_OK)
		return rc;
	if (cJSON_IsNumber(node)) {
		v = node->valuedouble;
		if (!isfinite(v))
			return JSONPTR_ENOTNUM;
	} else if (cJSON_IsTrue(node))
		v = 1;
	else if (cJSON_IsFalse(node))
		v = 0;
	else
		return JSONPTR_ENOTNUM;
	if (out != NULL)
		*out = v;
	return JSONPTR_OK;
}

const char *
jsonptr_strerror(int err)
{
	switch (err) {
	case JSONPTR_OK:
		return "success";
	case JSONPTR_ESYNTAX:
		return "invalid JSON pointer (must be empty or start with "
		    "'/'; '~' only as ~0 or ~1)";
	case JSONPTR_ENOTFOUND:
		return "no such member or index";
	case JSONPTR_ETYPE:
		return "cannot step into a scalar, or array index is not a "
		    "number";
	case JSONPTR_ENOTNUM:
		return "value is not a finite number or boolean";
	default:
		return "unknown JSON pointer error";
	}
}
