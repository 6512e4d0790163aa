/* token: see token.h. */
#include "http/token.h"

bool
token_equal(const char *given, size_t glen, const char *want, size_t wlen)
{
	unsigned diff = glen != wlen || wlen == 0;

	/*
	 * Every presented byte meets a secret byte (cycling when the
	 * lengths differ, the answer being no anyway); the index depends on
	 * the lengths, never on the contents.
	 */
	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)given[i] ^
		    (unsigned char)want[wlen > 0 ? i % wlen : 0];
	return diff == 0;
}
