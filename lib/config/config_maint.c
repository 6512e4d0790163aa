/*
 * The "maintenance" section: planned windows during which the rules they
 * cover are silenced (config/maint_def.h says what a window is; the
 * engine's maint decides when one is active). Each window's time zone is
 * read here, at load: a zone that is not there is a configuration error
 * now, not a window that silently never opens.
 */
#include "config/cfgread_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/tzfile.h"
#include "config/maint_def.h"

#define MAX_WINDOWS 256

void
cfg_parse_maint(struct cfgread *v, const cJSON *arr, struct config *cfg)
{
	const cJSON *e;
	int n;

	if (arr == NULL)
		return;
	if (!cJSON_IsArray(arr)) {
		cfg_err(v, arr, "\"maintenance\" must be an array of windows");
		return;
	}
	if ((n = cJSON_GetArraySize(arr)) == 0)
		return;
	if (n > MAX_WINDOWS) {
		cfg_err(v, arr, "too many maintenance windows (at most %d)",
		    MAX_WINDOWS);
		return;
	}
	cfg->maint = calloc((size_t)n, sizeof(*cfg->maint));
	cfg->maint_tz = calloc((size_t)n, sizeof(*cfg->maint_tz));
	if (cfg->maint == NULL || cfg->maint_tz == NULL) {
		cfg_err(v, arr, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, arr) {
		struct maint_window *w = &cfg->maint[cfg->nmaint];
		struct tz **tz = &cfg->maint_tz[cfg->nmaint];
		const cJSON *bad = e, *a;
		char why[300];
		size_t i;

		if (maint_window_read(e, NULL, w, tz, &bad, why,
		    sizeof(why)) != 0) {
			cfg_err(v, bad, "maintenance window: %s", why);
			tz_free(*tz);
			*tz = NULL;
			continue;
		}
		cfg->nmaint++;
		if (!cfg_valid_name(w->name))
			cfg_err(v, cfg_member(e, "name"), "maintenance window "
			    "name \"%s\": lower case letters, digits and _, "
			    "starting with a letter", w->name);
		for (i = 0; i + 1 < cfg->nmaint; i++)
			if (strcmp(cfg->maint[i].name, w->name) == 0)
				cfg_err(v, cfg_member(e, "name"), "duplicate "
				    "maintenance window name \"%s\"", w->name);
		a = cfg_member(e, "rules");
		for (i = 0; i < w->nrules; i++)
			if (config_rule(cfg, w->rules[i]) == NULL)
				cfg_err(v, cJSON_GetArrayItem(a, (int)i),
				    "maintenance window \"%s\": no rule named "
				    "\"%s\"", w->name, w->rules[i]);
	}
}

void
cfg_clear_maint(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nmaint; i++)
		tz_free(cfg->maint_tz[i]);
	free(cfg->maint_tz);
	free(cfg->maint);
	cfg->maint = NULL;
	cfg->maint_tz = NULL;
	cfg->nmaint = 0;
}
