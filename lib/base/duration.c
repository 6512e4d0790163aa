/*
 * duration: "30s", "5m", "1h30m", "250ms", "2d" <-> milliseconds.
 */
#include "base/duration.h"

#include <stdio.h>
#include <string.h>

/* 100 years of 365 days: the longest duration duration_parse accepts. */
#define DURATION_MAX_MS ((int64_t)36500 * 86400000)

struct unit {
	const char *name;
	int64_t ms;
};

/* In decreasing order: a duration's groups follow this order. */
static const struct unit units[] = {
	{ "d", 86400000 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
	{ "ms", 1 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

int
duration_parse(const char *s, int64_t *ms)
{
	int64_t total = 0, n;
	size_t next = 0, u;	/* index of the largest unit still allowed */

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		n = 0;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s - '0');
			if (n > DURATION_MAX_MS)
				return -1;
			s++;
		}
		/* The unit: "ms" before "m", so "1ms" is not a minute. */
		if (s[0] == 'm' && s[1] == 's') {
			u = 4;
			s += 2;
		} else if (*s == 'd' || *s == 'h' || *s == 'm' || *s == 's') {
			for (u = 0; units[u].name[0] != *s; u++)
				;
			s++;
		} else
			return -1;	/* bare number or unknown unit */
		if (u < next)
			return -1;	/* repeated or out of order */
		next = u + 1;
		if (n > (DURATION_MAX_MS - total) / units[u].ms)
			return -1;
		total += n * units[u].ms;
	}
	if (ms != NULL)
		*ms = total;
	return 0;
}

void
duration_format(int64_t ms, char *buf, size_t len)
{
	char tmp[64];
	size_t k = 0, u;
	uint64_t v, q;

	if (buf == NULL || len == 0)
		return;
	if (ms < 0) {
		tmp[k++] = '-';
		v = (uint64_t)0 - (uint64_t)ms;
	} else
		v = (uint64_t)ms;
	if (v == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (u = 0; u < NUNITS; u++) {
		q = v / (uint64_t)units[u].ms;
		if (q == 0)
			continue;
		v -= q * (uint64_t)units[u].ms;
		k += (size_t)snprintf(tmp + k, sizeof(tmp) - k, "%llu%s",
		    (unsigned long long)q, units[u].name);
	}
	snprintf(buf, len, "%s", tmp);
}
