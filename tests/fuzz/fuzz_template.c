/*
 * Webhook body templates (base/template.h): the input is the template.
 * Whatever it is, rendering must not crash or leak; an error points
 * inside the text with a reason. And the property the JSON escaping is
 * for: when the template, every field filled with a plain word, is a JSON
 * document, it stays one with every field full of quotes, backslashes,
 * line breaks, controls and placeholders.
 */
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
field(void *arg, const char *name, size_t len)
{
	if ((len == 1 && name[0] == 'a') || (len == 3 &&
	    memcmp(name, "b.c", 3) == 0) || (len > 7 &&
	    memcmp(name, "labels.", 7) == 0))
		return arg;
	return NULL;
}

static bool
is_json(const char *s)
{
	cJSON *o = cJSON_ParseWithOpts(s, NULL, true);

	cJSON_Delete(o);
	return o != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char plain[] = "x";
	static char nasty[] = "\"}]\\\n\r\t\x01\x1f\x7f{{a}} \xc3\xa9\"";
	struct tmpl_error err;
	char *t = malloc(size + 1), *out, *bad;
	size_t len;

	if (t == NULL)
		return 0;
	memcpy(t, data, size);
	t[size] = '\0';
	len = strlen(t);
	out = tmpl_render(t, TMPL_JSON, field, plain, &err);
	if (out == NULL) {
		if (err.msg[0] != '\0' && err.off >= len + (len == 0))
			abort();
		/* The same mistake whatever the values. */
		if (err.msg[0] != '\0' &&
		    tmpl_render(t, TMPL_RAW, field, nasty, &err) != NULL)
			abort();
	} else if (is_json(out)) {
		bad = tmpl_render(t, TMPL_JSON, field, nasty, &err);
		if (bad != NULL && !is_json(bad))
			abort();
		free(bad);
	}
	free(out);
	out = tmpl_render(t, TMPL_FORM, field, nasty, &err);
	free(out);
	free(t);
	return 0;
}
