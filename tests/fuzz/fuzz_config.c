/* The configuration parser, whole: JSON with comments, positions, every
 * section's validation. Any input must end in a config or errors, never a
 * crash, a hang or a leak. */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_parse("fuzz.json", (const char *)data, size,
	    &errs);

	config_free(cfg);
	config_errors_clear(&errs);
	return 0;
}
