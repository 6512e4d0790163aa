/*
 * TZif files as tz_parse meets them (a zoneinfo directory anyone could
 * have filled): the bytes parse or fail, never read outside the buffer;
 * a zone that parses answers offsets within +-26 h at any time, and local
 * times convert both ways without overflow. The same bytes, as text, are
 * a cron field list for maint_cron_parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/tzfile.h"
#include "config/maint_def.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t times[] = {
		INT32_MIN, -2524521600LL, 0, 1774746000LL, 1792890000LL,
		4118083200LL, 253402300799LL,
	};
	uint8_t *buf = malloc(size > 0 ? size : 1);
	char *text = malloc(size + 1);
	struct maint_cron c;
	struct tz *tz = NULL;
	const char *why;
	char err[128];
	size_t at;

	if (buf == NULL || text == NULL) {
		free(buf);
		free(text);
		return 0;
	}
	/* A copy of exactly size bytes, so ASan sees any read past it. */
	memcpy(buf, data, size);
	if (tz_parse(buf, size, &tz, err, sizeof(err)) == TZ_OK) {
		for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			int32_t off = tz_offset(tz, times[i]);

			if (off <= -26 * 3600 || off >= 26 * 3600)
				abort();
			(void)tz_utc_of_local(tz, times[i]);
		}
		tz_free(tz);
	} else if (tz != NULL) {
		abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (maint_cron_parse(text, &c, &why, &at) == 0 &&
	    (c.minute >> 60 != 0 || c.hour >> 24 != 0 || (c.dom & 1) != 0 ||
	    (c.month & 0xe001) != 0 || c.dow >> 7 != 0))
		abort();
	else if (at > size)
		abort();
	free(buf);
	free(text);
	return 0;
}
