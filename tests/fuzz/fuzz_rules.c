/* The rule engine's inputs: any sequence of samples through every
 * aggregation, and any sequence of values, unknowns and clock steps
 * through the state machine with thresholds from the input. */
#include <math.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/rules.h"
#include "engine/store.h"
#include "engine/window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 256

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sample s[MAXN];
	double scratch[MAXN], out, v;
	struct rule_def d;
	struct rule_status st;
	struct rule_event ev[RULE_MAX_EVENTS];
	const char *why;
	size_t n = 0, i = 0;
	int64_t t = 0;

	/* Samples: 4 bytes of time step, 8 of value (NaN and Inf included). */
	while (i + 12 <= size && n < MAXN) {
		uint32_t dt;

		memcpy(&dt, data + i, 4);
		memcpy(&v, data + i + 4, 8);
		t += dt % 100000;
		s[n].t = t;
		s[n++].v = v;
		i += 12;
	}
	for (int a = AGG_LAST; a <= AGG_SLOPE; a++)
		window_eval((enum agg)a, s, n, scratch, &out, &why);
	memset(&d, 0, sizeof(d));
	d.op = (enum rule_op)(size % 4);
	d.warn.set = true;
	d.warn.threshold = n > 0 && isfinite(s[0].v) ? s[0].v : 1;
	d.crit.set = size % 3 != 0;
	d.crit.threshold = n > 1 && isfinite(s[1].v) ? s[1].v : 2;
	d.warn.has_clear = size % 5 == 0;
	d.warn.clear = d.warn.threshold;
	d.for_ms = (int64_t)(size % 7) * 1000;
	d.keep_firing_ms = (int64_t)(size % 11) * 500;
	d.resolved_ms = 60000;
	d.flap_window_ms = 60000;
	d.flap_max = (unsigned)(size % 8);
	rule_status_init(&st);
	for (size_t k = 0; k < n; k++) {
		struct rule_input in = {
			.known = isfinite(s[k].v) && (k % 9) != 4,
			.value = s[k].v, .why = "fuzz",
			.has_baseline = k % 2 == 0, .baseline = 10,
			.suppressed_by = k % 13 == 0 ? "dep" : NULL,
			.quiet = k % 17 == 0,
		};

		rules_eval(&d, &st, &in, s[k].t + 1, ev);
	}
	return 0;
}
