#include "base/humanize.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/numfmt.h"

/* Three significant digits, trailing zeros dropped: 5.0167 -> 5.02. */
static void
sig3(double v, char *buf, size_t len)
{
	double a = fabs(v);
	int dec = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 :
	    a == 0 ? 0 : 2 - (int)floor(log10(a));

	if (dec > 9)
		dec = 9;
	snprintf(buf, len, "%.*f", dec, v);
	numfmt_trim(buf);
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, len, "0");
}

void
human_num(double v, char *buf, size_t len)
{
	static const char *const big[] = { "k", "M", "G", "T", "P" };
	double a = fabs(v);

	if (!isfinite(v)) {
		snprintf(buf, len, "%g", v);
		return;
	}
	/* Whole counts stay whole up to a million: 4200, not 4.2 k. */
	if (a >= 1000 && a < 1e6) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	if (a >= 1e6) {
		char n[32];
		size_t i = 0;

		v /= 1000;
		while (fabs(v) >= 1000 && i + 1 < sizeof(big) / sizeof(big[0])) {
			v /= 1000;
			i++;
		}
		sig3(v, n, sizeof(n));
		snprintf(buf, len, "%s %s", n, big[i]);
		return;
	}
	sig3(v, buf, len);
}

/* A bytes unit: "bytes", "B", optionally "/<time>" after it. */
static const char *
bytes_per(const char *unit)
{
	if (strncmp(unit, "bytes", 5) == 0 && (unit[5] == '\0' ||
	    unit[5] == '/'))
		return unit + 5;
	if (unit[0] == 'B' && (unit[1] == '\0' || unit[1] == '/'))
		return unit + 1;
	return NULL;
}

void
human_value(double v, const char *unit, char *buf, size_t len)
{
	char n[32];
	const char *per;
	double a = fabs(v);

	if (unit == NULL || unit[0] == '\0' || !isfinite(v)) {
		human_num(v, buf, len);
		return;
	}
	if (strcmp(unit, "ms") == 0 && a >= 1000) {
		v /= 1000;
		unit = "s";
		a = fabs(v);
	}
	if (strcmp(unit, "s") == 0 && a >= 120) {
		if (a >= 2 * 3600) {
			sig3(v / 3600, n, sizeof(n));
			snprintf(buf, len, "%s h", n);
		} else {
			sig3(v / 60, n, sizeof(n));
			snprintf(buf, len, "%s min", n);
		}
		return;
	}
	if ((per = bytes_per(unit)) != NULL) {
		static const char *const pre[] = { "bytes", "kB", "MB", "GB",
			"TB", "PB" };
		size_t i = 0;

		while (fabs(v) >= 1000 && i + 1 < sizeof(pre) / sizeof(pre[0])) {
			v /= 1000;
			i++;
		}
		sig3(v, n, sizeof(n));
		snprintf(buf, len, "%s %s%s", n, pre[i], per);
		return;
	}
	human_num(v, n, sizeof(n));
	snprintf(buf, len, "%s %s", n, unit);
}
