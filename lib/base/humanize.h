/*
 * humanize: numbers the way an engineer reads them, with their units:
 * "5.53 GB/h" rather than "5.527e+09 bytes/h", "1.2 s" rather than
 * "1234.5 ms", "5.02 %" rather than "5.0167 %". Three significant digits,
 * never an exponent. Pure; for texts only (JSON keeps the raw numbers).
 */
#ifndef VIGIL_HUMANIZE_H
#define VIGIL_HUMANIZE_H

#include <stddef.h>

/* The number alone: "312", "0.05", "5.02", "1234", "5.53 M". */
void human_num(double v, char *buf, size_t len);

/*
 * The number and its unit, scaled when the unit allows: ms -> s, s ->
 * min -> h, bytes -> kB, MB, GB (also per time: "bytes/h"); other units
 * are appended as they are ("5.02 %"). unit NULL or "": human_num.
 */
void human_value(double v, const char *unit, char *buf, size_t len);

#endif
