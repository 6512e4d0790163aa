/*
 * numfmt: the exact decimal text of the numbers vigild prints most, fast.
 *
 * Whole numbers (counts, codes, bytes) and values that are exactly the
 * double nearest some k/1000 or k/1000000 (milliseconds, and seconds to
 * the microsecond, from 0.0001 on) have one
 * shortest exact text, the one %.15g would print (whole numbers past 15
 * digits, which %.15g would round, are printed whole; -0 as 0); it is
 * written here by hand, without printf's floating-point path or a strtod
 * to check it.
 * /status and /metrics print tens of thousands of numbers a rendering.
 */
#ifndef VIGIL_NUMFMT_H
#define VIGIL_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_MAX 32

/*
 * v's text into out (NUL-terminated); returns its length, or 0 when v is
 * not finite or not of those two kinds (the caller prints it its way).
 */
size_t numfmt_exact(double v, char out[NUMFMT_MAX]);
/* v in decimal into out (NUL-terminated); returns its length. */
size_t numfmt_int(int64_t v, char out[NUMFMT_MAX]);
/*
 * Drops the zeros that say nothing from a printed decimal: 312.5000 ->
 * 312.5, 1.00 -> 1. Text without a point, or with an exponent, stays.
 */
void numfmt_trim(char *s);

#endif
