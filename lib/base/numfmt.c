#include "base/numfmt.h"

#include <math.h>
#include <string.h>

/* Decimal digits of v (any sign) into the end of buf; returns the start. */
static char *
digits(char *end, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--end = '-';
	return end;
}

/* The text between s and end moved to the start of out, terminated. */
static size_t
place(char out[NUMFMT_MAX], const char *s, const char *end)
{
	size_t n = (size_t)(end - s);

	memmove(out, s, n);
	out[n] = '\0';
	return n;
}

size_t
numfmt_int(int64_t v, char out[NUMFMT_MAX])
{
	char *end = out + NUMFMT_MAX - 1;

	return place(out, digits(end, v), end);
}

/*
 * v as whole.frac with places decimals (trailing zeros dropped), when v
 * is exactly the double nearest some k / 10^places; else 0.
 */
static size_t
scaled(double v, int places, double scale, char out[NUMFMT_MAX])
{
	char *s, *end = out + NUMFMT_MAX - 1;
	double r = nearbyint(v * scale);
	int64_t k, whole, frac, unit = (int64_t)scale;

	if (!(fabs(v) < 1e9 && r / scale == v))
		return 0;
	k = (int64_t)r;
	whole = k / unit;
	frac = k % unit;
	if (frac < 0)
		frac = -frac;
	for (int i = 0; i < places; i++, frac /= 10)
		*--end = (char)('0' + frac % 10);
	*--end = '.';
	s = digits(end, whole < 0 ? -whole : whole);
	if (k < 0)
		*--s = '-';
	end = out + NUMFMT_MAX - 1;
	while (end[-1] == '0')
		end--;
	return place(out, s, end);
}

size_t
numfmt_exact(double v, char out[NUMFMT_MAX])
{
	size_t n;

	if (!isfinite(v))
		return 0;
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v)
		return numfmt_int((int64_t)v, out);
	if ((n = scaled(v, 3, 1e3, out)) > 0)
		return n;
	/* Microseconds (durations in seconds); below 1e-4 %.15g would
	 * switch to an exponent. */
	if (fabs(v) >= 1e-4)
		return scaled(v, 6, 1e6, out);
	return 0;
}

void
numfmt_trim(char *s)
{
	size_t n;

	if (strchr(s, '.') == NULL || strpbrk(s, "eE") != NULL)
		return;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '0')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
}
