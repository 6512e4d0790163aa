/* hash: see hash.h. */
#include "base/hash.h"

#include <string.h>

#define FNV64_PRIME 0x100000001b3ULL

uint64_t
hash64_seeded(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = seed;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV64_PRIME;
	}
	return h;
}

uint64_t
hash64(const void *p, size_t n)
{
	return hash64_seeded(HASH64_BASIS, p, n);
}

uint64_t
hash64_str(const char *s)
{
	return s == NULL ? HASH64_BASIS : hash64(s, strlen(s));
}
