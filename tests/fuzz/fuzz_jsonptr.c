/* JSON Pointers over response bodies: the first line is the pointer, the
 * rest the body, as an HTTP probe meets them. */
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/jsonptr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t plen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	char *ptr = malloc(plen + 1);
	const cJSON *out;
	cJSON *doc;
	double v;

	if (ptr == NULL)
		return 0;
	memcpy(ptr, data, plen);
	ptr[plen] = '\0';
	jsonptr_valid(ptr);
	doc = nl != NULL ? cJSON_ParseWithLength(nl + 1, size - plen - 1) :
	    NULL;
	if (doc != NULL) {
		jsonptr_get(doc, ptr, &out);
		jsonptr_number(doc, ptr, &v);
	}
	cJSON_Delete(doc);
	free(ptr);
	return 0;
}
