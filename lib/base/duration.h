/*
 * duration: "30s", "5m", "1h30m", "250ms", "2d" as milliseconds.
 */
#ifndef VIGIL_DURATION_H
#define VIGIL_DURATION_H

#include <stdint.h>
#include <stddef.h>

/*
 * Parses a duration: one or more <integer><unit> groups, units ms, s, m, h,
 * d, each unit at most once and in decreasing order ("1h30m", not "30m1h").
 * No sign, no spaces, no bare number (a bare "30" is ambiguous). Integers
 * only: no decimals ("1.5h" is an error; write "1h30m"). Leading zeros are
 * accepted ("05m"); a zero group is fine ("1h0m"). Returns 0 and sets *ms,
 * or -1: empty or NULL input, syntax errors, and anything past 100 years of
 * 365 days (36500d = 3153600000000 ms, which itself is accepted).
 */
int duration_parse(const char *s, int64_t *ms);

/*
 * Formats ms the shortest way ("1h30m", "250ms", "1s500ms", "1d", "0s") into
 * buf, truncated to fit len (32 bytes always suffice). The output parses
 * back to ms for every value duration_parse accepts. A negative ms gets a
 * leading '-' (which duration_parse rejects).
 */
void duration_format(int64_t ms, char *buf, size_t len);

#endif
